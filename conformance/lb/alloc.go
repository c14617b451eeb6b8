package lb

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrExhausted is returned when no address of the pool is free.
var ErrExhausted = errors.New("no free address left in the pool")

// Allocator hands out IPv4 addresses of a subnet, one per key (a Service's
// namespace/name), from the top of the subnet downwards: docker gives
// containers addresses from the bottom, so the two meet only when the
// subnet is full. It is not safe for concurrent use.
type Allocator struct {
	pool     netip.Prefix
	reserved map[netip.Addr]bool
	byKey    map[string]netip.Addr
	byAddr   map[netip.Addr]string
}

// NewAllocator allocates from pool, an IPv4 subnet, never handing out its
// network and broadcast addresses or the reserved ones.
func NewAllocator(pool netip.Prefix, reserved ...netip.Addr) (*Allocator, error) {
	if !pool.IsValid() || !pool.Addr().Is4() {
		return nil, fmt.Errorf("pool %v is not an IPv4 subnet", pool)
	}
	if pool.Bits() > 30 {
		return nil, fmt.Errorf("pool %v has no usable address besides network and broadcast", pool)
	}
	a := &Allocator{
		pool:     pool.Masked(),
		reserved: map[netip.Addr]bool{},
		byKey:    map[string]netip.Addr{},
		byAddr:   map[netip.Addr]string{},
	}
	for _, r := range reserved {
		a.reserved[r] = true
	}
	return a, nil
}

// broadcast is the last address of the pool.
func (a *Allocator) broadcast() netip.Addr {
	b := a.pool.Addr().As4()
	host := 32 - a.pool.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= 1<<host - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func (a *Allocator) free(ip netip.Addr) bool {
	return a.pool.Contains(ip) && ip != a.pool.Addr() && ip != a.broadcast() && !a.reserved[ip] && a.byAddr[ip] == ""
}

// Assign returns key's address: the one it already holds; else prefer, if
// that is free (a Service keeps the address in its status across restarts
// of the controller); else the highest free address.
func (a *Allocator) Assign(key string, prefer netip.Addr) (netip.Addr, error) {
	if ip, ok := a.byKey[key]; ok {
		return ip, nil
	}
	ip := prefer
	if !ip.IsValid() || !a.free(ip) {
		ip = netip.Addr{}
		for c := a.broadcast().Prev(); a.pool.Contains(c) && c != a.pool.Addr(); c = c.Prev() {
			if a.free(c) {
				ip = c
				break
			}
		}
		if !ip.IsValid() {
			return netip.Addr{}, fmt.Errorf("assign an address to %s from %v: %w", key, a.pool, ErrExhausted)
		}
	}
	a.byKey[key] = ip
	a.byAddr[ip] = key
	return ip, nil
}

// Lookup returns key's address, if it has one.
func (a *Allocator) Lookup(key string) (netip.Addr, bool) {
	ip, ok := a.byKey[key]
	return ip, ok
}

// Release frees key's address and returns it (the zero Addr when key held none).
func (a *Allocator) Release(key string) netip.Addr {
	ip, ok := a.byKey[key]
	if !ok {
		return netip.Addr{}
	}
	delete(a.byKey, key)
	delete(a.byAddr, ip)
	return ip
}

// Reserve marks ip never to be handed out (a container that joined the
// network later). It does not take ip from a key that holds it.
func (a *Allocator) Reserve(ip netip.Addr) {
	a.reserved[ip] = true
}
