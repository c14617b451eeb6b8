package curl

import (
	"context"
	"net"
	"sync/atomic"
)

// DialFunc is the shape of [net.Dialer.DialContext] and of
// [net/http.Transport.DialContext].
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// ConnCounter numbers the connections a transport dials: 1 for the first,
// 2 for the next, and so on. A transport whose DialContext goes through
// [ConnCounter.Dial] lets every [Exchange] say which connection carried it,
// which is what tells a gateway that picks per connection from one that
// picks per request. The zero value is ready to use and safe for concurrent
// dials.
type ConnCounter struct{ n atomic.Uint64 }

// Dial wraps dial so that every connection it returns carries the next
// number. Clones of the transport share the wrapper, and with it the count.
func (c *ConnCounter) Dial(dial DialFunc) DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &numberedConn{Conn: conn, number: c.n.Add(1)}, nil
	}
}

// Dialled returns how many connections were dialled so far.
func (c *ConnCounter) Dialled() uint64 { return c.n.Load() }

// numberedConn is a dialled connection and its number. Embedding keeps
// every method of the connection, deadlines included.
type numberedConn struct {
	net.Conn
	number uint64
}

// ConnNumber returns the number a [ConnCounter] gave conn, looking through
// TLS (a *tls.Conn wraps the dialled connection), and 0 for a connection no
// counter dialled.
func ConnNumber(conn net.Conn) uint64 {
	for range 4 { // wrappers nest at most a few deep; never loop forever
		switch c := conn.(type) {
		case *numberedConn:
			return c.number
		case interface{ NetConn() net.Conn }:
			conn = c.NetConn()
		default:
			return 0
		}
	}
	return 0
}
