package listen

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/splitproof/splitproof/refproxy/proxy"
)

// Defaults of PortsOptions and Listener.
const (
	DefaultDrainTimeout  = 10 * time.Second
	DefaultListenAddress = "0.0.0.0"
)

// ListenFunc opens the socket for a Gateway listener port.
type ListenFunc func(port int32) (net.Listener, error)

// Listener returns a ListenFunc that binds every port on address, except the
// ports in overrides, which bind the "host:port" given there (tests map
// port 80 to "127.0.0.1:0").
func Listener(address string, overrides map[int32]string) ListenFunc {
	return func(port int32) (net.Listener, error) {
		addr, ok := overrides[port]
		if !ok {
			addr = net.JoinHostPort(address, strconv.Itoa(int(port)))
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listen for gateway port %d on %s: %w", port, addr, err)
		}
		return ln, nil
	}
}

// ParsePortMapping reads one "PORT=HOST:PORT" override, as in
// "80=127.0.0.1:8080".
func ParsePortMapping(s string) (int32, string, error) {
	portStr, addr, ok := strings.Cut(s, "=")
	if !ok {
		return 0, "", fmt.Errorf("port mapping %q: expected PORT=HOST:PORT, e.g. 80=127.0.0.1:8080", s)
	}
	port, err := strconv.ParseInt(portStr, 10, 32)
	if err != nil || port < 1 || port > 65535 {
		return 0, "", fmt.Errorf("port mapping %q: gateway port %q is not a number from 1 to 65535", s, portStr)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return 0, "", fmt.Errorf("port mapping %q: address %q: %w", s, addr, err)
	}
	return int32(port), addr, nil
}

// NewServer returns the http.Server refproxy runs on a gateway port: the
// proxy's listener-side timeouts (a bounded header read against slowloris,
// a bounded keep-alive, no deadline on bodies so that uploads and SSE
// streams last) and its protocols (HTTP/1.1, h2 over TLS, h2c). Server
// errors go to logger at warning level.
func NewServer(h http.Handler, logger *slog.Logger) *http.Server {
	srv := &http.Server{
		Handler:  h,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	proxy.ServerTimeouts(srv)
	proxy.ServerProtocols(srv)
	return srv
}

// Merge returns one listener that accepts on all of lns, for a gateway port
// that must answer on several addresses (the embedded target's port 80 is
// also reachable where the doc's snippets point real curl). Its Addr is the
// first listener's; Close closes them all. It needs at least one listener.
func Merge(lns ...net.Listener) net.Listener {
	if len(lns) == 1 {
		return lns[0]
	}
	m := &merged{lns: lns, conns: make(chan accepted), done: make(chan struct{})}
	for _, ln := range lns {
		go m.accept(ln)
	}
	return m
}

type merged struct {
	lns   []net.Listener
	conns chan accepted
	done  chan struct{}
	once  sync.Once
}

type accepted struct {
	c   net.Conn
	err error
}

var _ net.Listener = (*merged)(nil)

// accept forwards ln's connections until ln fails; a failure other than
// Close is handed to Accept, as http.Server expects to see it.
func (m *merged) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		select {
		case m.conns <- accepted{c, err}:
		case <-m.done:
			if c != nil {
				_ = c.Close()
			}
			return
		}
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return
			}
		}
	}
}

func (m *merged) Accept() (net.Conn, error) {
	select {
	case a := <-m.conns:
		return a.c, a.err
	case <-m.done:
		return nil, net.ErrClosed
	}
}

func (m *merged) Close() error {
	var errs []error
	m.once.Do(func() {
		close(m.done)
		for _, ln := range m.lns {
			errs = append(errs, ln.Close())
		}
	})
	return errors.Join(errs...)
}

func (m *merged) Addr() net.Addr { return m.lns[0].Addr() }
