package filemode

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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
type CompileFunc func(paths []string) (*route.Table, error)

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
type Runner struct {
	opts   Options
	logger *slog.Logger

	// mu serialises Start, Reload and Shutdown.
	mu       sync.Mutex
	ports    *Ports
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
	return &Runner{opts: opts, logger: opts.Logger, ports: ports}, nil
}

// Start loads the configuration and starts a server per listener port. A
// configuration that does not load is an error here: there is no last good
// table to fall back on.
func (r *Runner) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("file mode already started")
	}
	r.started = true
	return r.reloadLocked()
}

// Reload rebuilds the table from the files and swaps it in. On error the
// last good table keeps serving.
func (r *Runner) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started || r.closed {
		return errors.New("file mode is not running")
	}
	return r.reloadLocked()
}

func (r *Runner) reloadLocked() error {
	// The fingerprint is taken before compiling, so an edit landing during the
	// compile shows up as a change at the next poll instead of being missed.
	fp, fpErr := fingerprint(r.opts.Paths)
	if fpErr == nil {
		r.lastSeen = fp
	}
	t, err := r.opts.Compile(r.opts.Paths)
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

// Watch polls the files every PollInterval and reloads when their content
// changes, until ctx ends. A failed reload is logged and reported by the
// proxy; watching goes on.
func (r *Runner) Watch(ctx context.Context) {
	if r.opts.PollInterval < 0 {
		<-ctx.Done()
		return
	}
	tick := time.NewTicker(r.opts.PollInterval)
	defer tick.Stop()
	var pending [sha256.Size]byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		fp, err := fingerprint(r.opts.Paths)
		if err != nil {
			r.logger.Debug("cannot read configuration files", "error", err)
			continue
		}
		r.mu.Lock()
		changed := fp != r.lastSeen && !r.closed
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
		r.mu.Lock()
		var rerr error
		if !r.closed {
			r.logger.Info("configuration files changed, reloading")
			rerr = r.reloadLocked()
		}
		r.mu.Unlock()
		if rerr != nil {
			r.logger.Debug("reload after file change failed", "error", rerr)
		}
	}
}

// Shutdown stops accepting connections on every port and waits for requests
// in flight to finish, or for ctx to end, whichever comes first; then it
// closes what is left and returns ctx's error.
func (r *Runner) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	return r.ports.Shutdown(ctx)
}

// fingerprint hashes the names and contents of every file under paths
// (directories walked, dot-names skipped as the loader skips them). Content,
// not mtime, so that coarse timestamps and same-second edits are seen.
func fingerprint(paths []string) ([sha256.Size]byte, error) {
	h := sha256.New()
	for _, p := range paths {
		var files []string
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return [sha256.Size]byte{}, err
		}
		slices.Sort(files)
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				return [sha256.Size]byte{}, err
			}
			_, _ = io.WriteString(h, f+"\x00")
			_, err = io.Copy(h, fh)
			_ = fh.Close()
			if err != nil {
				return [sha256.Size]byte{}, err
			}
		}
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out, nil
}
