package lb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
)

// Network is what lb needs of a docker network: its IPv4 subnet and the
// addresses already in use there.
type Network struct {
	Name string
	// Subnet is the network's IPv4 subnet.
	Subnet netip.Prefix
	// Gateway is the host's address on the network (the bridge).
	Gateway netip.Addr
	// Containers maps container names to their IPv4 addresses.
	Containers map[string]netip.Addr
}

// InspectDockerNetwork reads network name with `docker network inspect`.
func InspectDockerNetwork(ctx context.Context, name string) (Network, error) {
	cmd := exec.CommandContext(ctx, "docker", "network", "inspect", name)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Network{}, fmt.Errorf("docker network inspect %s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	return ParseDockerNetwork(out)
}

type dockerNetwork struct {
	Name string
	IPAM struct {
		Config []struct {
			Subnet  string
			Gateway string
		}
	}
	Containers map[string]struct {
		Name        string
		IPv4Address string
	}
}

// ParseDockerNetwork decodes the output of `docker network inspect` of one
// network.
func ParseDockerNetwork(b []byte) (Network, error) {
	var nets []dockerNetwork
	if err := json.Unmarshal(b, &nets); err != nil {
		return Network{}, fmt.Errorf("decode docker network inspect output: %w", err)
	}
	if len(nets) != 1 {
		return Network{}, fmt.Errorf("docker network inspect output holds %d networks, want 1", len(nets))
	}
	d := nets[0]
	n := Network{Name: d.Name, Containers: map[string]netip.Addr{}}
	for i, c := range d.IPAM.Config {
		p, err := netip.ParsePrefix(c.Subnet)
		if err != nil {
			return Network{}, fmt.Errorf("network %s: IPAM.Config[%d].Subnet: %w", d.Name, i, err)
		}
		if !p.Addr().Is4() {
			continue // kind's networks are dual-stack; the host routes IPv4
		}
		n.Subnet = p.Masked()
		if c.Gateway != "" {
			if n.Gateway, err = netip.ParseAddr(c.Gateway); err != nil {
				return Network{}, fmt.Errorf("network %s: IPAM.Config[%d].Gateway: %w", d.Name, i, err)
			}
		}
		break
	}
	if !n.Subnet.IsValid() {
		return Network{}, fmt.Errorf("network %s has no IPv4 subnet", d.Name)
	}
	for id, c := range d.Containers {
		if c.IPv4Address == "" {
			continue
		}
		p, err := netip.ParsePrefix(c.IPv4Address)
		if err != nil {
			return Network{}, fmt.Errorf("network %s: container %s (%s): IPv4Address: %w", d.Name, c.Name, id, err)
		}
		name := c.Name
		if name == "" {
			name = id
		}
		n.Containers[name] = p.Addr()
	}
	return n, nil
}

// Reserved lists the addresses of n that must never be assigned: the
// gateway and every container's address.
func (n Network) Reserved() []netip.Addr {
	out := make([]netip.Addr, 0, len(n.Containers)+1)
	if n.Gateway.IsValid() {
		out = append(out, n.Gateway)
	}
	for _, a := range n.Containers {
		out = append(out, a)
	}
	return out
}

// Node returns the address of the kind node container of cluster cluster
// that routes are sent through: its control plane (kube-proxy runs on every
// node, so any node forwards LoadBalancer traffic).
func (n Network) Node(cluster string) (netip.Addr, error) {
	name := cluster + "-control-plane"
	a, ok := n.Containers[name]
	if !ok {
		return netip.Addr{}, fmt.Errorf("network %s has no container %s (is kind cluster %q running?)", n.Name, name, cluster)
	}
	return a, nil
}
