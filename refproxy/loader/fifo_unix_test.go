//go:build unix

package loader

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/objects"
)

// TestFIFONamedLikeAManifest puts a FIFO named routes.yaml next to a real
// manifest. Opening a FIFO for reading blocks until a writer comes, so a
// loader that reads it never returns: only regular files may be read.
func TestFIFONamedLikeAManifest(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "service.yaml"), []byte("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "routes.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	if err := os.Symlink(fifo, filepath.Join(dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	l := Loader{Logger: slog.New(slog.NewTextHandler(&logs, nil))}

	set, err := loadOrHang(t, l, dir)
	if err != nil || len(set.Services) != 1 {
		t.Errorf("loading the directory: set %v, err %v; want the one Service, the FIFO skipped", set, err)
	}
	if n := strings.Count(logs.String(), "not a regular file"); n != 2 {
		t.Errorf("logged %d skipped files, want the FIFO and the link to it:\n%s", n, logs.String())
	}
	for _, name := range []string{fifo, filepath.Join(dir, "link.yaml")} {
		if _, err := loadOrHang(t, l, name); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "a FIFO") {
			t.Errorf("loading %s by name: err = %v, want ErrNotRegular naming a FIFO", name, err)
		}
	}
	if files, errs := l.Files(dir); len(files) != 1 || len(errs) != 0 {
		t.Errorf("Files = %v, %v; want service.yaml only", files, errs)
	}
}

// TestReadRegularRefusesAFIFO covers the race where a FIFO replaces a
// listed file before it is opened: the open must not block either.
func TestReadRegularRefusesAFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "routes.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := readRegular(fifo, -1); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("err = %v, want ErrNotRegular", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading a FIFO blocked")
	}
}

// loadOrHang loads paths, failing the test instead of hanging when the
// load blocks (a guard, not a measurement: a correct load takes
// milliseconds).
func loadOrHang(t *testing.T, l Loader, paths ...string) (*objects.Set, error) {
	t.Helper()
	type result struct {
		set *objects.Set
		err error
	}
	done := make(chan result, 1)
	go func() { set, err := l.Load(paths...); done <- result{set, err} }()
	select {
	case r := <-done:
		return r.set, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("loading %v blocked", paths)
		return nil, nil
	}
}
