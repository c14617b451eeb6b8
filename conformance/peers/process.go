package peers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// Process is a gateway running as a child process.
type Process struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error // Wait's result, set before done closes
}

// lockedBuffer collects the child's stdout and stderr, written by exec's
// copying goroutines while a failing test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start runs bin with args in dir. Its HOME and XDG directories point into
// dir, so a gateway that keeps state (Caddy's autosave and storage) writes
// nothing outside it.
func Start(bin string, args []string, dir string) (*Process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOME="+dir,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"),
	)
	p := &Process{cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PID is the child's process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Output is what the child printed so far.
func (p *Process) Output() string { return p.out.String() }

// Stop kills the child (by its PID, nothing else) and waits for it.
func (p *Process) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	// Kill signals exactly the PID Start got; if the child has exited in
	// the meantime, os.ErrProcessDone says so and there is nothing to do.
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return
	}
	<-p.done
}

// WaitListening polls addr until it accepts a TCP connection, the child
// exits, or timeout passes. It only connects: an HTTP probe would go
// through the load balancer and move a round-robin gateway's position.
func (p *Process) WaitListening(ctx context.Context, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before listening on %s (%v): %s", filepath.Base(p.cmd.Path), addr, p.err, p.Output())
		case <-ctx.Done():
			return fmt.Errorf("%s did not listen on %s within %s: %s", filepath.Base(p.cmd.Path), addr, timeout, p.Output())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// FreeAddr returns a loopback address whose port was free a moment ago.
// The gateway binds it itself, so another process could take it in
// between; the listener is closed just before, which makes that unlikely.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free loopback port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("find a free loopback port: %w", err)
	}
	return addr, nil
}
