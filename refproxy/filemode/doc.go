// Package filemode owns refproxy's file mode: it compiles manifests into a
// routing table, hands each table to the listener layer (refproxy/listen,
// through refproxy/runtime in the CLI, or listener ports of the Runner's
// own), and reloads when the files change (or when asked, on SIGHUP).
// Change detection reads exactly the files the loader would
// (loader.Loader.Files: one directory walker for both).
//
// A reload builds the whole new table first and only then swaps it into the
// proxy, so requests never see half a configuration. A configuration that
// fails to load is refused with the same error it would give at start-up;
// the last good table keeps serving, and the proxy stays ready: the failure
// shows in its metrics, logs, status (/debug/routes) and readiness detail.
// The listener layer opens ports that appear in a new table before the swap
// and drains those that disappear after it (listen.Ports.Apply).
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
// cannot reach does not hold up the drain.
package filemode
