package runtime

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/splitproof/splitproof/refproxy/admin"
	"github.com/splitproof/splitproof/refproxy/listen"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
)

// Source is where a Runtime's routing tables come from.
type Source interface {
	// Start prepares the source and, if it has one already, serves its
	// first table through rt.Apply. An error means nothing is served: the
	// configuration or the source's settings are wrong.
	Start(ctx context.Context, rt *Runtime) error
	// Run feeds tables to the Runtime until ctx ends, then returns soon;
	// an error before that ends the Runtime too.
	Run(ctx context.Context) error
}

// Options configure a Runtime.
type Options struct {
	// Proxy configures the data plane; its Logger defaults to Logger.
	Proxy proxy.Options
	// Listen opens the gateway ports;
	// listen.Listener(listen.DefaultListenAddress, nil) when nil.
	Listen listen.ListenFunc
	// DrainTimeout bounds the drain of a port a new table drops, and of
	// all of them at shutdown; listen.DefaultDrainTimeout when zero.
	DrainTimeout time.Duration
	// AdminAddress is where the admin listener binds; "" runs none.
	AdminAddress string
	// Logger; nil discards.
	Logger *slog.Logger
}

// Runtime is a running refproxy: proxy, listener ports and admin listener.
type Runtime struct {
	opts  Options
	proxy *proxy.Proxy
	ports *listen.Ports

	// stopMu serialises shutdowns; mu guards the fields below it.
	stopMu   sync.Mutex
	mu       sync.Mutex
	src      Source
	admin    *admin.Server
	stopped  bool
	shutdown error
}

// New builds the proxy and its listener layer; nothing listens until Start.
func New(opts Options) (*Runtime, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Proxy.Logger == nil {
		opts.Proxy.Logger = opts.Logger
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = listen.DefaultDrainTimeout
	}
	p, err := proxy.New(opts.Proxy)
	if err != nil {
		return nil, err
	}
	ports, err := listen.NewPorts(listen.PortsOptions{Proxy: p, Listen: opts.Listen, DrainTimeout: opts.DrainTimeout, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	return &Runtime{opts: opts, proxy: p, ports: ports}, nil
}

// Proxy is the data plane (for its status, metrics and handlers).
func (r *Runtime) Proxy() *proxy.Proxy { return r.proxy }

// Apply serves t: ports it adds are opened before it is swapped in, ports it
// drops are drained after (listen.Ports.Apply). On error the last good
// table serves on. Sources call it; so may whoever holds a Tables source.
func (r *Runtime) Apply(t *route.Table) error { return r.ports.Apply(t) }

// Addr is the address serving gateway port port, or nil.
func (r *Runtime) Addr(port int32) net.Addr { return r.ports.Addr(port) }

// AdminAddr is the admin listener's address, nil without one.
func (r *Runtime) AdminAddr() net.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.admin == nil {
		return nil
	}
	return r.admin.Addr()
}

// Start starts src, then the admin listener, so that readiness is never
// answered for a source that failed to start. On error everything started
// is stopped again and the error is returned as src gave it, or as
// "admin listener: ...".
func (r *Runtime) Start(ctx context.Context, src Source) error {
	r.mu.Lock()
	if r.src != nil || r.stopped {
		r.mu.Unlock()
		return errors.New("refproxy runtime already started")
	}
	r.src = src
	r.mu.Unlock()
	if err := src.Start(ctx, r); err != nil {
		_ = r.stop(false)
		return err
	}
	if r.opts.AdminAddress == "" {
		return nil
	}
	a, err := admin.Listen(r.opts.AdminAddress, r.proxy)
	if err != nil {
		_ = r.stop(false)
		return err
	}
	r.mu.Lock()
	if r.stopped {
		// Shut down while starting: the drain has already passed the admin
		// listener by.
		r.mu.Unlock()
		_ = a.Shutdown()
		return errors.New("refproxy runtime shut down during start-up")
	}
	r.admin = a
	r.mu.Unlock()
	r.opts.Logger.Info("admin listening", "address", a.Addr().String())
	return nil
}

// Run serves until ctx ends or the source fails, then shuts down: readiness
// fails, the ports stop accepting and requests in flight get up to
// DrainTimeout. It returns the source's error and the drain's, if any.
func (r *Runtime) Run(ctx context.Context) error {
	r.mu.Lock()
	src, stopped := r.src, r.stopped
	r.mu.Unlock()
	switch {
	case src == nil:
		return errors.New("refproxy runtime not started")
	case stopped:
		// A failed Start stops everything: there is nothing to run.
		return errors.New("refproxy runtime already stopped")
	}
	runErr := src.Run(ctx)
	return errors.Join(runErr, r.Shutdown())
}

// Shutdown marks the proxy as draining (readiness fails from now on), stops
// accepting connections on every gateway port, waits up to DrainTimeout for
// requests in flight, then closes what is left and the admin listener.
// Calls after the first return the first one's result. Only the gateway
// ports' drain can fail it: the admin listener is closed regardless, and a
// probe cut short there is logged, since the traffic was served.
func (r *Runtime) Shutdown() error { return r.stop(true) }

// stop is Shutdown; announce logs the drain, which a start-up that failed
// before serving anything has no use for.
func (r *Runtime) stop(announce bool) error {
	// stopMu, not mu, is held through the drain, so that Addr and
	// AdminAddr answer meanwhile.
	r.stopMu.Lock()
	defer r.stopMu.Unlock()
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return r.shutdown
	}
	r.stopped = true
	a := r.admin
	r.mu.Unlock()
	if announce {
		r.opts.Logger.Info("shutting down: draining requests in flight", "drain_timeout", r.opts.DrainTimeout.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.DrainTimeout)
	defer cancel()
	err := r.ports.Shutdown(ctx)
	if a != nil {
		if aerr := a.Shutdown(); aerr != nil {
			r.opts.Logger.Warn("admin listener did not stop cleanly", "error", aerr)
		}
	}
	r.mu.Lock()
	r.shutdown = err
	r.mu.Unlock()
	return err
}
