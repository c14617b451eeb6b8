// Package filemode owns refproxy's file mode: it compiles manifests into a
// routing table, runs one http.Server per listener port of that table,
// reloads when the files change (or when asked, on SIGHUP), and drains the
// servers at shutdown. Its listener layer, Ports, is also what controller
// mode serves its tables with.
//
// A reload builds the whole new table first and only then swaps it into the
// proxy, so requests never see half a configuration. A configuration that
// fails to load is refused with the same error it would give at start-up;
// the last good table keeps serving, and the proxy stays ready: the failure
// shows in its metrics, logs, status (/debug/routes) and readiness detail.
// Ports that appear in a new table get a server before the swap; ports that
// disappear are drained after it, and until then keep serving from the table
// they were opened under (proxy.PortHandler.Retire), answering with
// Connection: close, rather than 404 from a table without them.
//
// Compiler logs, once per load, what the translator reports but does not
// refuse: routes no served Gateway accepts, backendRefs that do not resolve
// (BackendNotFound, RefNotPermitted, a port the Service lacks: their share
// is answered 500) and listeners with unresolved references. Load errors
// about a Secret's data or stringData say what was expected and what kind
// of value was found, never the value, since they reach the log, /readyz
// and /debug/routes.
//
// Reloads run in Watch's goroutine, never in the caller's: RequestReload
// (the SIGHUP handler's call) only leaves a request, so a signal loop stays
// free to see SIGTERM. A reload is cancelled through Watch's context, and
// Shutdown never waits for one, so even a reload stuck where cancellation
// cannot reach does not hold up the drain. Shutdown marks the proxy as
// draining first, so that readiness fails while requests in flight finish.
package filemode
