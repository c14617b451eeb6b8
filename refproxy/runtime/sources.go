package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/splitproof/splitproof/refproxy/controller"
	"github.com/splitproof/splitproof/refproxy/filemode"
	"github.com/splitproof/splitproof/refproxy/route"
)

var (
	_ Source = (*Files)(nil)
	_ Source = (*Cluster)(nil)
	_ Source = (*Tables)(nil)
)

// StopGrace is how long, after its context ends, a file source's start-up
// or reload may take to notice before the Runtime goes on without it.
// Loading checks the context between documents, so this bound only matters
// for a read stuck where cancellation cannot reach.
const StopGrace = time.Second

// Files serves manifest files, reloaded when they change and on
// RequestReload (file mode).
type Files struct {
	// Options of the filemode.Runner. Proxy and Apply are set to the
	// Runtime's; Listen and DrainTimeout, which only matter without Apply,
	// go unused (the Runtime's own Options decide them).
	Options filemode.Options

	mu     sync.Mutex
	runner *filemode.Runner
	log    *slog.Logger
}

// Start loads the files and serves them; a configuration that does not load
// is an error, named as the loader names it. Ending ctx abandons the load.
func (f *Files) Start(ctx context.Context, rt *Runtime) error {
	opts := f.Options
	opts.Proxy, opts.Apply = rt.Proxy(), rt.Apply
	r, err := filemode.New(opts)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.runner, f.log = r, rt.opts.Logger
	f.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- r.Start(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-done:
		return err
	case <-time.After(StopGrace):
		return fmt.Errorf("start-up did not stop within %s of being cancelled: %w", StopGrace, ctx.Err())
	}
}

// Run watches the files until ctx ends. A reload still running StopGrace
// later is left behind (its table, should it come, meets closed ports).
func (f *Files) Run(ctx context.Context) error {
	f.mu.Lock()
	r, log := f.runner, f.log
	f.mu.Unlock()
	if r == nil {
		return errors.New("file source not started")
	}
	watched := make(chan struct{})
	go func() { r.Watch(ctx); close(watched) }()
	<-ctx.Done()
	select {
	case <-watched:
	case <-time.After(StopGrace):
		log.Warn("a reload is still running; shutting down without waiting for it")
	}
	// The Runner has no ports of its own: this only ends its reloads.
	return r.Shutdown(context.Background())
}

// RequestReload asks for a reload as soon as possible and returns at once
// (a SIGHUP handler's call); before Start it does nothing.
func (f *Files) RequestReload() {
	f.mu.Lock()
	r := f.runner
	f.mu.Unlock()
	if r != nil {
		r.RequestReload()
	}
}

// Cluster serves the Gateway API objects of a cluster (controller mode).
type Cluster struct {
	Config *rest.Config
	// Options of the controller; Proxy and Apply are the Runtime's.
	Options controller.Options

	ctl *controller.Controller
}

// Start connects the controller to the cluster; the first table comes once
// its cache has synced, in Run.
func (c *Cluster) Start(_ context.Context, rt *Runtime) error {
	opts := c.Options
	opts.Proxy, opts.Apply = rt.Proxy(), rt.Apply
	ctl, err := controller.New(c.Config, opts)
	if err != nil {
		return err
	}
	c.ctl = ctl
	return nil
}

// Run runs the controller until ctx ends or it fails.
func (c *Cluster) Run(ctx context.Context) error {
	if c.ctl == nil {
		return errors.New("cluster source not started")
	}
	return c.ctl.Start(ctx)
}

// Tables serves tables its holder builds: First at Start, then whatever is
// passed to Runtime.Apply (the embedded target compiles a scenario's steps).
type Tables struct {
	First *route.Table
}

// Start serves First.
func (s *Tables) Start(_ context.Context, rt *Runtime) error {
	if s.First == nil {
		return errors.New("in-memory source: no first routing table")
	}
	return rt.Apply(s.First)
}

// Run waits for ctx to end: the holder pushes tables itself.
func (s *Tables) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}
