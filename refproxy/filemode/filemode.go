package filemode

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/splitproof/splitproof/refproxy/listen"
	"github.com/splitproof/splitproof/refproxy/loader"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
)

// DefaultPollInterval is how often a Runner checks its files unless told.
const DefaultPollInterval = time.Second

// CompileFunc turns manifest paths into a routing table. An error refuses
// the configuration; it should name the file, line and object at fault.
// When ctx ends it should give up soon and return ctx's error.
type CompileFunc func(ctx context.Context, paths []string) (*route.Table, error)

// ApplyFunc serves a table: listen.Ports.Apply, or refproxy/runtime's.
type ApplyFunc func(*route.Table) error

// Options configure a Runner.
type Options struct {
	// Paths are the manifest files and directories to serve and watch.
	Paths []string
	// Compile builds a table from Paths (loader then translator, in the CLI).
	Compile CompileFunc
	// Proxy serves the tables; a refused configuration is recorded in it.
	Proxy *proxy.Proxy
	// Apply serves each table that compiles. When nil the Runner opens
	// listener ports of its own (listen.Ports with Listen and DrainTimeout),
	// and Shutdown drains them; refproxy/runtime passes its own instead, and
	// drains them itself.
	Apply ApplyFunc
	// Listen opens listener ports when Apply is nil;
	// listen.Listener(listen.DefaultListenAddress, nil) when nil too.
	Listen listen.ListenFunc
	// DrainTimeout bounds the draining of a port removed by a reload, when
	// Apply is nil.
	DrainTimeout time.Duration
	// PollInterval is how often the files are checked for changes;
	// DefaultPollInterval when zero, no watching when negative.
	PollInterval time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
}

// Runner serves a proxy from manifest files.
//
// Reloads never hold up shutdown: a compile runs under its own lock
// (compileMu), which Shutdown never takes, and is cancelled through its
// context; one stuck in something that cannot be cancelled is left behind
// and its table, should it ever come, is refused by the closed ports.
type Runner struct {
	opts   Options
	logger *slog.Logger
	apply  ApplyFunc
	// ports are the Runner's own listener ports, nil when Options.Apply
	// serves the tables.
	ports *listen.Ports
	// requests carries RequestReload's wishes to Watch; one pending
	// request stands for any number.
	requests chan struct{}

	// compileMu serialises Start and reloads, which may take long.
	compileMu sync.Mutex
	// mu guards the fields below and is never held while compiling.
	mu       sync.Mutex
	lastSeen [sha256.Size]byte
	started  bool
	closed   bool
}

// New checks opts and returns a Runner that serves nothing until Start.
func New(opts Options) (*Runner, error) {
	switch {
	case len(opts.Paths) == 0:
		return nil, errors.New("file mode needs at least one manifest path")
	case opts.Compile == nil:
		return nil, errors.New("file mode needs a compile function")
	case opts.Proxy == nil:
		return nil, errors.New("file mode needs a proxy")
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{opts: opts, logger: opts.Logger, apply: opts.Apply, requests: make(chan struct{}, 1)}
	if r.apply == nil {
		ports, err := listen.NewPorts(listen.PortsOptions{Proxy: opts.Proxy, Listen: opts.Listen, DrainTimeout: opts.DrainTimeout, Logger: opts.Logger})
		if err != nil {
			return nil, err
		}
		r.ports, r.apply = ports, ports.Apply
	}
	return r, nil
}

// Start loads the configuration and starts a server per listener port. A
// configuration that does not load is an error here: there is no last good
// table to fall back on. Ending ctx abandons the load.
func (r *Runner) Start(ctx context.Context) error {
	r.compileMu.Lock()
	defer r.compileMu.Unlock()
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return errors.New("file mode already started")
	}
	r.started = true
	r.mu.Unlock()
	return r.reload(ctx)
}

// Reload rebuilds the table from the files and swaps it in, now, in the
// caller's goroutine. On error the last good table keeps serving. Signal
// handlers should use RequestReload instead, which never blocks.
func (r *Runner) Reload(ctx context.Context) error {
	r.compileMu.Lock()
	defer r.compileMu.Unlock()
	if !r.running() {
		return errors.New("file mode is not running")
	}
	return r.reload(ctx)
}

// RequestReload asks Watch to reload as soon as it can and returns at once.
// Requests made while one is pending are merged into it.
func (r *Runner) RequestReload() {
	select {
	case r.requests <- struct{}{}:
	default:
	}
}

func (r *Runner) running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.started && !r.closed
}

// reload compiles and applies the configuration; the caller holds compileMu.
func (r *Runner) reload(ctx context.Context) error {
	// The fingerprint is taken before compiling, so an edit landing during the
	// compile shows up as a change at the next poll instead of being missed.
	fp := fingerprint(r.opts.Paths)
	r.mu.Lock()
	r.lastSeen = fp
	r.mu.Unlock()
	t, err := r.opts.Compile(ctx, r.opts.Paths)
	if ctxErr := ctx.Err(); ctxErr != nil {
		// Called off (shutdown): neither a new table nor a refused one.
		return fmt.Errorf("load %s: %w", strings.Join(r.opts.Paths, ", "), ctxErr)
	}
	if err == nil && len(t.Ports) == 0 {
		// Serving nothing is never what file mode is for; refusing it also
		// keeps a half-written file from taking every listener down.
		err = errors.New("no listener to serve: the configuration has no Gateway listener of a served GatewayClass")
	}
	if err != nil {
		err = fmt.Errorf("load %s: %w", strings.Join(r.opts.Paths, ", "), err)
		r.opts.Proxy.ReloadFailed(err)
		return err
	}
	return r.apply(t)
}

// Addr returns the address serving gateway port port on the Runner's own
// listener ports, or nil (always nil when Options.Apply serves the tables).
func (r *Runner) Addr(port int32) net.Addr {
	if r.ports == nil {
		return nil
	}
	return r.ports.Addr(port)
}

// Watch runs the reloads of a running Runner until ctx ends: those asked
// for with RequestReload and, every PollInterval (unless it is negative),
// those of files whose content changed. A failed reload is logged and
// reported by the proxy; watching goes on. Ending ctx cancels a reload in
// progress.
func (r *Runner) Watch(ctx context.Context) {
	var tick <-chan time.Time
	if r.opts.PollInterval > 0 {
		t := time.NewTicker(r.opts.PollInterval)
		defer t.Stop()
		tick = t.C
	}
	var pending [sha256.Size]byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.requests:
			r.logger.Info("reloading configuration on request")
			r.reloadInBackground(ctx, "requested reload failed")
		case <-tick:
			fp := fingerprint(r.opts.Paths)
			r.mu.Lock()
			changed := fp != r.lastSeen
			r.mu.Unlock()
			if !changed {
				continue
			}
			// Editors and scripts write files in several steps: wait until the
			// content holds still for one interval before loading it, so a
			// truncated file is not mistaken for the new configuration.
			if fp != pending {
				pending = fp
				continue
			}
			r.logger.Info("configuration files changed, reloading")
			r.reloadInBackground(ctx, "reload after file change failed")
		}
	}
}

func (r *Runner) reloadInBackground(ctx context.Context, failure string) {
	if err := r.Reload(ctx); err != nil {
		// The proxy has logged a refused configuration at error level.
		r.logger.Debug(failure, "error", err)
	}
}

// Shutdown ends reloading; with listener ports of its own, it also marks
// the proxy as draining (so that /readyz fails), stops accepting
// connections on every port and waits for requests in flight to finish, or
// for ctx to end, whichever comes first; then it closes what is left and
// returns ctx's error. It does not wait for a reload in progress.
func (r *Runner) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	if r.ports == nil {
		return nil
	}
	return r.ports.Shutdown(ctx)
}

// fingerprint hashes the names and contents of the files the loader reads
// under paths, and the errors it would report for the paths themselves, so
// that a directory emptied of manifests is a change too. Content, not
// mtime, so that coarse timestamps and same-second edits are seen. A file
// that cannot be read counts by its error.
func fingerprint(paths []string) [sha256.Size]byte {
	h := sha256.New()
	files, errs := loader.Loader{}.Files(paths...)
	for _, err := range errs {
		_, _ = io.WriteString(h, "error "+err.Error()+"\x00")
	}
	for _, f := range files {
		_, _ = io.WriteString(h, f+"\x00")
		if err := hashFile(h, f); err != nil {
			_, _ = io.WriteString(h, "error "+err.Error()+"\x00")
		}
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// hashFile writes a regular file's content to w; anything else (a FIFO that
// replaced the file) is an error rather than a read that never returns.
func hashFile(w io.Writer, name string) error {
	f, _, err := loader.OpenRegular(name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
