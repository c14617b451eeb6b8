// Package admin owns refproxy's admin listener: Prometheus metrics, liveness,
// readiness and a JSON view of the routing table being served. It reads
// everything from a proxy.Proxy and changes nothing; it should listen on a
// loopback address, since /debug/routes shows the whole configuration
// (secrets excepted: route.Secret redacts itself).
package admin
