//go:build unix

package filemode_test

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFIFOInConfigDirectory: a FIFO named like a manifest in the watched
// directory must neither block start-up, nor reloads, nor the poller's
// fingerprint (each used to wait forever for a writer).
func TestFIFOInConfigDirectory(t *testing.T) {
	a := newBackend(t, "a")
	dir := t.TempDir()
	MustWrite(t, filepath.Join(dir, "config.yaml"), config([]int{80}, "a", a))
	if err := syscall.Mkfifo(filepath.Join(dir, "zz-routes.yaml"), 0o644); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	var r interface {
		Reload(context.Context) error
	}
	within(t, "start-up with a FIFO in the directory", func() {
		runner, _ := MustRunner(t, dir, -1)
		r = runner
		if code, body := MustGet(t, url(runner, 80)); code != 200 || body != "a" {
			t.Errorf("GET: %d %q", code, body)
		}
	})
	within(t, "a reload with a FIFO in the directory", func() {
		if err := r.Reload(context.Background()); err != nil {
			t.Errorf("reload: %v", err)
		}
	})
}
