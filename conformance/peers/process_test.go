package peers

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWaitListening(t *testing.T) {
	t.Run("child exits first", func(t *testing.T) {
		addr, err := FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		p, err := Start("/bin/sh", []string{"-c", "echo bad config >&2; exit 3"}, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Stop)
		err = p.WaitListening(context.Background(), addr, 10*time.Second)
		if err == nil || !strings.Contains(err.Error(), "exited before listening") || !strings.Contains(err.Error(), "bad config") {
			t.Fatalf("WaitListening = %v, want the exit and the child's output", err)
		}
	})
	t.Run("nothing listens in time", func(t *testing.T) {
		addr, err := FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		p, err := Start("/bin/sleep", []string{"30"}, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Stop)
		err = p.WaitListening(context.Background(), addr, 200*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), "did not listen") {
			t.Fatalf("WaitListening = %v, want a timeout", err)
		}
	})
	t.Run("listening", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		p, err := Start("/bin/sleep", []string{"30"}, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Stop)
		if err := p.WaitListening(context.Background(), ln.Addr().String(), 10*time.Second); err != nil {
			t.Fatal(err)
		}
	})
}

// TestStopKillsTheChild checks that Stop ends the child it started: after
// it, signal 0 to the PID finds no process.
func TestStopKillsTheChild(t *testing.T) {
	p, err := Start("/bin/sleep", []string{"30"}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pid := p.PID()
	p.Stop()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process %d after Stop: kill -0 = %v, want ESRCH", pid, err)
	}
	p.Stop() // a second Stop is harmless
}

func TestStartEnvironment(t *testing.T) {
	dir := t.TempDir()
	p, err := Start("/bin/sh", []string{"-c", `printf '%s|%s|%s|%s' "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$PWD"`}, dir)
	if err != nil {
		t.Fatal(err)
	}
	<-p.done
	want := strings.Join([]string{dir, filepath.Join(dir, "config"), filepath.Join(dir, "data"), dir}, "|")
	if got := p.Output(); got != want {
		t.Fatalf("child saw %q, want %q", got, want)
	}
}

func TestBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "caddy")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "SPLITPROOF_CADDY" {
				return v
			}
			return ""
		}
	}
	t.Run("from the environment", func(t *testing.T) {
		got, err := Binary("caddy", env(bin))
		if err != nil || got != bin {
			t.Fatalf("Binary = %q, %v; want %q", got, err, bin)
		}
	})
	t.Run("environment names a missing file", func(t *testing.T) {
		_, err := Binary("caddy", env("/nonexistent/caddy"))
		if err == nil || !strings.Contains(err.Error(), "SPLITPROOF_CADDY=/nonexistent/caddy") {
			t.Fatalf("Binary = %v, want an error naming the variable", err)
		}
	})
	t.Run("not installed", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		_, err := Binary("no-such-gateway", env(""))
		if err == nil || !strings.Contains(err.Error(), "not on PATH nor in /usr/sbin") {
			t.Fatalf("Binary = %v, want not found", err)
		}
	})
}

func TestWriteTable(t *testing.T) {
	var b strings.Builder
	err := WriteTable(&b, []Result{
		{Gateway: "nginx", Algorithm: "random", Weights: "10/10/80", Run: 2, Snippet: "port-forward", Verdict: "PASS", Requests: 1976, P: 0.4567, Alpha: 1e-4, Wall: 1234567 * time.Microsecond, Note: "v1=1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "gateway  algorithm  weights   run  snippet       verdict  requests  p      α       wall    note\n" +
		"nginx    random     10/10/80  2    port-forward  PASS     1976      0.457  0.0001  1.235s  v1=1\n"
	if b.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}
