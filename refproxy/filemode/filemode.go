package filemode

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/splitproof/splitproof/refproxy/loader"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
)

// Defaults of Options.
const (
	DefaultPollInterval  = time.Second
	DefaultDrainTimeout  = 10 * time.Second
	DefaultListenAddress = "0.0.0.0"
)

// CompileFunc turns manifest paths into a routing table. An error refuses
// the configuration; it should name the file, line and object at fault.
// When ctx ends it should give up soon and return ctx's error.
type CompileFunc func(ctx context.Context, paths []string) (*route.Table, error)

// ListenFunc opens the socket for a Gateway listener port.
type ListenFunc func(port int32) (net.Listener, error)

// Options configure a Runner.
type Options struct {
	// Paths are the manifest files and directories to serve and watch.
	Paths []string
	// Compile builds a table from Paths (loader then translator, in the CLI).
	Compile CompileFunc
	// Proxy serves the tables.
	Proxy *proxy.Proxy
	// Listen opens listener ports; Listener(DefaultListenAddress, nil) when nil.
	Listen ListenFunc
	// PollInterval is how often the files are checked for changes;
	// DefaultPollInterval when zero, no watching when negative.
	PollInterval time.Duration
	// DrainTimeout bounds the draining of a port removed by a reload.
	DrainTimeout time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
}

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

// Runner serves a proxy from manifest files.
//
// Reloads never hold up shutdown: a compile runs under its own lock
// (compileMu), which Shutdown never takes, and is cancelled through its
// context; one stuck in something that cannot be cancelled is left behind
// and its table, should it ever come, is refused by the closed ports.
type Runner struct {
	opts   Options
	logger *slog.Logger
	ports  *Ports
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
	ports, err := NewPorts(PortsOptions{Proxy: opts.Proxy, Listen: opts.Listen, DrainTimeout: opts.DrainTimeout, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	return &Runner{opts: opts, logger: opts.Logger, ports: ports, requests: make(chan struct{}, 1)}, nil
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
	return r.ports.Apply(t)
}

// Addr returns the address serving gateway port port, or nil.
func (r *Runner) Addr(port int32) net.Addr { return r.ports.Addr(port) }

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

// Shutdown marks the proxy as draining (so that /readyz fails), stops
// accepting connections on every port and waits for requests in flight to
// finish, or for ctx to end, whichever comes first; then it closes what is
// left and returns ctx's error. It does not wait for a reload in progress.
func (r *Runner) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
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
