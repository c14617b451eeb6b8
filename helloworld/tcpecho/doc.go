// Package tcpecho owns the TCP echo server of the sample app (istio's
// tcp-echo-server): it answers every line a client sends with a fixed prefix,
// a space and the line, so TCP traffic can be attributed to a version the
// way /hello attributes HTTP traffic.
package tcpecho
