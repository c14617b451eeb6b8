// Command caddy is Caddy v2 with its standard modules, built from the Go
// module proxy for conformance/peers: Debian's caddy (2.6) predates the
// weighted_round_robin load-balancing policy the peer tests exercise.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// The standard module set: the HTTP app, reverse_proxy and the Caddyfile
	// adapter the peer tests' configuration is written in.
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

func main() { caddycmd.Main() }
