package lb

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
)

// Router adds and removes the host routes to assigned addresses.
type Router interface {
	// Replace routes ip/32 via gateway (a node container), replacing any
	// route to ip/32.
	Replace(ctx context.Context, ip, via netip.Addr) error
	// Delete removes the route to ip/32; a route already gone is no error.
	Delete(ctx context.Context, ip netip.Addr) error
}

// IPRoute is the Router that runs iproute2's `ip route` on the host; it
// needs CAP_NET_ADMIN (root, or `sudo` in Command).
type IPRoute struct {
	// Command is prefixed to the `ip` invocation, e.g. []string{"sudo", "-n"}.
	Command []string
}

var _ Router = IPRoute{}

func (r IPRoute) run(ctx context.Context, args ...string) (string, error) {
	argv := append(append(append([]string{}, r.Command...), "ip", "route"), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// Replace runs `ip route replace IP/32 via VIA`.
func (r IPRoute) Replace(ctx context.Context, ip, via netip.Addr) error {
	if out, err := r.run(ctx, "replace", ip.String()+"/32", "via", via.String()); err != nil {
		return fmt.Errorf("ip route replace %s/32 via %s: %w: %s", ip, via, err, out)
	}
	return nil
}

// Delete runs `ip route del IP/32`, ignoring a route that does not exist.
func (r IPRoute) Delete(ctx context.Context, ip netip.Addr) error {
	out, err := r.run(ctx, "del", ip.String()+"/32")
	if err != nil && !strings.Contains(out, "No such process") {
		return fmt.Errorf("ip route del %s/32: %w: %s", ip, err, out)
	}
	return nil
}
