// Package curl owns the replayer's native curl: it parses a curl argument
// list the way curl does (short flags that combine, values attached or
// separate, long flags, URLs without a scheme) and performs the requests with
// an injected *http.Client, writing what curl would write and returning the
// exit code curl would return.
//
// Running curl natively, rather than executing the binary, is what lets a
// documentation snippet reach an in-process target (the client's dialer
// decides where a connection goes) and what lets the replayer record every
// HTTP exchange (status, headers, body, when it was sent and answered, and
// which connection carried it: a transport dialling through [ConnCounter]
// numbers its connections) alongside the snippet's output.
//
// Only the flags in [SupportedFlags] are understood; any other flag is an
// [*UnsupportedFlagError] naming it, so a snippet never silently runs with a
// flag ignored.
//
// Known differences from curl, all stemming from net/http:
//   - response header names are printed in canonical form (Content-Type) and
//     sorted by name, since net/http keeps neither the wire spelling nor the
//     order;
//   - URL globbing ({a,b} and [1-3] in URLs) is not performed;
//   - there is no progress meter on stderr.
package curl
