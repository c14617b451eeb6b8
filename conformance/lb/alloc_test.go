package lb

import (
	"errors"
	"net/netip"
	"testing"
)

func MustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func MustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func MustAllocator(t *testing.T, pool string, reserved ...string) *Allocator {
	t.Helper()
	var rs []netip.Addr
	for _, r := range reserved {
		rs = append(rs, MustAddr(t, r))
	}
	a, err := NewAllocator(MustPrefix(t, pool), rs...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAssign(t *testing.T) {
	type step struct {
		key, prefer string // prefer "" = none
		want        string // "" = ErrExhausted
	}
	for _, tc := range []struct {
		name     string
		pool     string
		reserved []string
		steps    []step
	}{
		{"from the top, skipping broadcast", "172.18.0.0/16", nil, []step{
			{"a/x", "", "172.18.255.254"},
			{"b/y", "", "172.18.255.253"},
			{"a/x", "", "172.18.255.254"}, // stable per key
		}},
		{"reserved skipped", "10.0.0.0/29", []string{"10.0.0.6", "10.0.0.5"}, []step{
			{"a/x", "", "10.0.0.4"},
		}},
		{"prefer a free address in the pool", "172.18.0.0/16", nil, []step{
			{"a/x", "172.18.200.7", "172.18.200.7"},
			{"b/y", "172.18.200.7", "172.18.255.254"}, // taken by a/x
			{"c/z", "10.1.1.1", "172.18.255.253"},     // outside the pool
			{"d/w", "172.18.0.0", "172.18.255.252"},   // network address
			{"e/v", "172.18.255.255", "172.18.255.251"},
		}},
		{"prefer a reserved address", "172.18.0.0/16", []string{"172.18.0.2"}, []step{
			{"a/x", "172.18.0.2", "172.18.255.254"},
		}},
		{"exhausted: /30 has two hosts, one reserved", "192.168.0.0/30", []string{"192.168.0.1"}, []step{
			{"a/x", "", "192.168.0.2"},
			{"b/y", "", ""},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := MustAllocator(t, tc.pool, tc.reserved...)
			for i, s := range tc.steps {
				var prefer netip.Addr
				if s.prefer != "" {
					prefer = MustAddr(t, s.prefer)
				}
				got, err := a.Assign(s.key, prefer)
				if s.want == "" {
					if !errors.Is(err, ErrExhausted) {
						t.Fatalf("step %d: Assign(%s) = %v, %v; want ErrExhausted", i, s.key, got, err)
					}
					continue
				}
				if err != nil || got != MustAddr(t, s.want) {
					t.Fatalf("step %d: Assign(%s, %q) = %v, %v; want %s", i, s.key, s.prefer, got, err, s.want)
				}
			}
		})
	}
}

func TestReleaseFreesTheAddress(t *testing.T) {
	a := MustAllocator(t, "192.168.0.0/30")
	x, _ := a.Assign("a/x", netip.Addr{})
	if _, err := a.Assign("b/y", netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Assign("c/z", netip.Addr{}); !errors.Is(err, ErrExhausted) {
		t.Fatalf("third address from a /30: %v, want ErrExhausted", err)
	}
	if got := a.Release("a/x"); got != x {
		t.Fatalf("Release returned %v, want %v", got, x)
	}
	if got := a.Release("a/x"); got.IsValid() {
		t.Fatalf("second Release returned %v, want none", got)
	}
	if got, err := a.Assign("c/z", netip.Addr{}); err != nil || got != x {
		t.Fatalf("Assign after Release = %v, %v; want %v", got, err, x)
	}
	if _, ok := a.Lookup("a/x"); ok {
		t.Fatal("released key still has an address")
	}
}

func TestReserveLater(t *testing.T) {
	a := MustAllocator(t, "10.0.0.0/29")
	a.Reserve(MustAddr(t, "10.0.0.6"))
	if got, _ := a.Assign("a/x", netip.Addr{}); got != MustAddr(t, "10.0.0.5") {
		t.Fatalf("got %v, want 10.0.0.5", got)
	}
}

func TestNewAllocatorRejects(t *testing.T) {
	for _, p := range []string{"fc00::/64", "10.0.0.0/31", "10.0.0.1/32"} {
		t.Run(p, func(t *testing.T) {
			if _, err := NewAllocator(MustPrefix(t, p)); err == nil {
				t.Fatalf("pool %s accepted", p)
			}
		})
	}
	if _, err := NewAllocator(netip.Prefix{}); err == nil {
		t.Fatal("zero pool accepted")
	}
}

func TestParseDockerNetwork(t *testing.T) {
	n, err := InspectFile(t, "testdata/kind-network.json")
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "kind" || n.Subnet != MustPrefix(t, "172.18.0.0/16") || n.Gateway != MustAddr(t, "172.18.0.1") {
		t.Fatalf("network %+v", n)
	}
	node, err := n.Node("splitproof")
	if err != nil || node != MustAddr(t, "172.18.0.2") {
		t.Fatalf("Node = %v, %v; want 172.18.0.2", node, err)
	}
	if _, err := n.Node("other"); err == nil {
		t.Fatal("Node of a cluster that has no container: no error")
	}
	res := n.Reserved()
	if len(res) != 2 {
		t.Fatalf("Reserved %v, want gateway and node", res)
	}
	for _, bad := range []string{`[]`, `{}`, `[{"Name":"x","IPAM":{"Config":[{"Subnet":"fc00::/64"}]}}]`, `[{"Name":"x","IPAM":{"Config":[{"Subnet":"nope"}]}}]`} {
		if _, err := ParseDockerNetwork([]byte(bad)); err == nil {
			t.Errorf("ParseDockerNetwork(%s): no error", bad)
		}
	}
}
