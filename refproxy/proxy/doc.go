// Package proxy owns refproxy's data plane: the http.Handler that serves one
// listener port from the current routing table, the Gateway API filters it
// applies, the weighted backend pick, forwarding to Service endpoints and to
// AI providers, and the Prometheus metrics of all of that.
//
// A Proxy holds the current route.Table behind an atomic pointer. Install
// swaps in a whole new table; requests already in flight finish on the table
// they started with and new ones see the new table, so a reload never blocks
// or drops a request. Listening, file watching and signals are not this
// package's business (see package filemode); the admin endpoints live in
// package admin and read Status and Registry from here.
//
// Status.Ready is what a readiness probe should see: a table is serving and
// Drain has not been called. A refused reload (ReloadFailed) leaves the
// proxy ready, since the last good table serves every request; it shows in
// the reason, the metrics and the log instead.
//
// A failed upstream request is counted in the metrics every time but
// logged at most once per backendRef per Options.FailureLogInterval, with
// the number of failures left out since the previous line: a backend that
// is down would otherwise write a warning per request.
//
// Answers the proxy gives itself, following the Gateway API:
//
//   - no matching rule: 404;
//   - a rule with neither backendRefs nor a RequestRedirect: 500;
//   - the share of an invalid backendRef: 500;
//   - a Service with no ready endpoints: 503;
//   - every weight zero: Options.AllZeroStatus (500 by default, as agentgateway
//     answers; 503 is the other documented choice, as Kuma answers);
//   - upstream connection failure: 502; upstream timeout: 504, also when a
//     backend has the whole request and sends no response header within
//     Options.UpstreamTimeout (default 5 minutes; rules with HTTPRoute
//     timeouts use theirs instead);
//   - a client pausing its upload longer than Options.RequestBodyTimeout
//     (default 1 minute, per pause): 408.
//
// A client that goes away (upload cut, connection closed) or stalls is not
// the backend's failure: it is counted in MetricClientAborts (reason
// client_closed or client_timeout) and in MetricRequests with code 499 (or
// 408), and logged at info level, rate-limited like upstream failures,
// never in MetricUpstreamFailures.
//
// RequestMirror filters copy a rule's requests, after its filters and
// before the weighted pick, to their Services in the background; a mirror's
// answer is discarded and its failure never reaches the client. Bodies over
// MaxMirrorBody are not copied.
package proxy
