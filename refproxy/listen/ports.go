package listen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
)

// PortsOptions configure a Ports.
type PortsOptions struct {
	// Proxy serves the tables.
	Proxy *proxy.Proxy
	// Listen opens listener ports; Listener(DefaultListenAddress, nil) when nil.
	Listen ListenFunc
	// DrainTimeout bounds the draining of a port removed by Apply.
	DrainTimeout time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
}

// Ports runs one http.Server per listener port of the tables applied to it,
// terminating TLS with the table's certificates (chosen by SNI) on HTTPS ports.
// It is the one listener layer of refproxy: whatever builds a table (file
// mode, controller mode, the embedded target), Apply serves it the same way.
type Ports struct {
	opts PortsOptions
	// mu serialises Apply and Shutdown.
	mu       sync.Mutex
	servers  map[int32]*server
	closed   bool
	draining sync.WaitGroup
	certs    certCache
}

type server struct {
	port    int32
	handler *proxy.PortHandler
	srv     *http.Server
	ln      net.Listener
	done    chan struct{}
}

// NewPorts checks opts and returns a Ports with no listener open.
func NewPorts(opts PortsOptions) (*Ports, error) {
	if opts.Proxy == nil {
		return nil, errors.New("listener ports need a proxy")
	}
	if opts.Listen == nil {
		opts.Listen = Listener(DefaultListenAddress, nil)
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = DefaultDrainTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Ports{opts: opts, servers: map[int32]*server{}}, nil
}

// Apply serves t: ports that appear in t get a listener before t is swapped
// into the proxy, ports that t no longer has are drained after the swap. If
// a port cannot be opened nothing changes: the proxy keeps the last good
// table and records the failure, which Apply returns.
func (p *Ports) Apply(t *route.Table) error {
	if t == nil {
		return errors.New("apply: nil routing table")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("listener ports are shut down")
	}
	var opened []*server
	for _, pt := range t.Ports {
		if _, ok := p.servers[pt.Port]; ok {
			continue
		}
		ln, err := p.opts.Listen(pt.Port)
		if err != nil {
			for _, s := range opened {
				_ = s.ln.Close()
			}
			p.opts.Proxy.ReloadFailed(err)
			return err
		}
		opened = append(opened, p.newServer(pt.Port, ln))
	}
	// Ports about to disappear keep the table they were opened under while
	// they drain: between the swap and the end of their drain, requests on
	// their kept-alive connections would otherwise find no such port.
	for port, s := range p.servers {
		if t.Port(port) == nil {
			s.handler.Retire()
		}
	}
	if _, err := p.opts.Proxy.Install(t); err != nil {
		for _, s := range opened {
			_ = s.ln.Close()
		}
		return err
	}
	for _, s := range opened {
		p.servers[s.port] = s
		go p.serve(s)
		p.opts.Logger.Info("listening", "gateway_port", s.port, "address", s.ln.Addr().String())
	}
	for port, s := range p.servers {
		if t.Port(port) != nil {
			continue
		}
		delete(p.servers, port)
		p.draining.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), p.opts.DrainTimeout)
			defer cancel()
			p.opts.Logger.Info("port removed from configuration, draining", "gateway_port", port)
			_ = p.stop(ctx, s)
		})
	}
	return nil
}

func (p *Ports) newServer(port int32, ln net.Listener) *server {
	h := p.opts.Proxy.NewPortHandler(port)
	return &server{port: port, handler: h, srv: NewServer(h, p.opts.Logger), ln: newProtoListener(ln, port, p.opts.Proxy, &p.certs), done: make(chan struct{})}
}

func (p *Ports) serve(s *server) {
	defer close(s.done)
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		p.opts.Logger.Error("listener stopped", "gateway_port", s.port, "error", err)
	}
}

// stop drains s until ctx ends, then closes what is left.
func (p *Ports) stop(ctx context.Context, s *server) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
		err = fmt.Errorf("drain gateway port %d: %w", s.port, err)
	}
	<-s.done
	return err
}

// Addr returns the address serving gateway port port, or nil.
func (p *Ports) Addr(port int32) net.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.servers[port]; ok {
		return s.ln.Addr()
	}
	return nil
}

// Shutdown marks the proxy as draining, so that readiness fails from now
// on, stops accepting connections on every port and waits for requests in
// flight to finish, or for ctx to end, whichever comes first; then it closes
// what is left and returns ctx's error. Apply fails afterwards.
func (p *Ports) Shutdown(ctx context.Context) error {
	p.opts.Proxy.Drain()
	p.mu.Lock()
	p.closed = true
	servers := make([]*server, 0, len(p.servers))
	for _, s := range p.servers {
		servers = append(servers, s)
	}
	clear(p.servers)
	p.mu.Unlock()
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { errs[i] = p.stop(ctx, s) })
	}
	wg.Wait()
	p.draining.Wait()
	p.opts.Proxy.CloseIdleConnections()
	return errors.Join(errs...)
}
