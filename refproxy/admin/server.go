package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/splitproof/splitproof/refproxy/proxy"
)

// shutdownGrace bounds how long Shutdown waits for admin requests (a
// scrape, a readiness probe) in flight.
const shutdownGrace = time.Second

// Server is a running admin listener.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// Listen binds address and serves Handler(p) on it until Shutdown.
func Listen(address string, p *proxy.Proxy) (*Server, error) {
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return nil, fmt.Errorf("admin listener: %w", err)
	}
	s := &Server{
		// Probes and scrapes send small headers at once; a client that
		// dribbles them is not one of those.
		srv:  &http.Server{Handler: Handler(p), ReadHeaderTimeout: 10 * time.Second},
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Addr is the address the admin listener is bound to.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops the listener and waits up to a second for requests in
// flight; then it closes what is left.
func (s *Server) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("admin listener shutdown: %w", err), s.srv.Close())
	}
	<-s.done
	return err
}
