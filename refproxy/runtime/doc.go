// Package runtime owns the one way refproxy runs: a proxy, the listener
// layer serving its tables (refproxy/listen), the admin listener (health,
// readiness, metrics, /debug/routes) and their lifecycle — start, serve,
// drain, stop — written once. What differs between deployments is only
// where tables come from, a Source: manifest files (Files, refproxy/filemode),
// a cluster (Cluster, refproxy/controller) or tables the caller builds and
// pushes (Tables, as the embedded target does). `splitproof proxy` in both
// modes and the embedded target behind `make demo` all run through Runtime,
// so what the demo proves is served by the code a cluster runs.
//
// The package writes nothing to stdout and never exits; it logs to the
// Logger it is given.
package runtime
