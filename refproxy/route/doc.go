// Package route owns the routing table: the compiled, immutable form of the
// Gateway API objects that the proxy serves from. The translator builds a
// Table; the proxy asks it which rule a request matches (Lookup) and then picks
// a backend with the rule's picker. A Table is never mutated after it is
// built — a reload builds a new one and swaps it — except for the per-backend
// round-robin counters and the pickers' own state, which are safe for
// concurrent use.
//
// Request matching follows the Gateway API HTTPRoute precedence:
//
//  1. the listener port;
//  2. the most specific matching hostname (exact before wildcard, longer
//     before shorter; a route without hostnames inherits the listener's);
//     there is no fall-through to a less specific hostname, as in Envoy's
//     virtual hosts;
//  3. within that hostname, across every rule of every route: Exact path,
//     then RegularExpression (implementation specific: a pattern states a
//     narrower intent than a prefix, so it goes before prefixes, longer
//     patterns first), then PathPrefix by length, then method match, then
//     the number of header matches, then the number of query matches;
//  4. ties: the oldest route, then "namespace/name" alphabetically, then rule
//     order, then match order.
package route
