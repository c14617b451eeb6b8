//go:build integration

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/splitproof/splitproof/conformance/peers"
)

// MustSplitproof builds the splitproof binary that runs refproxy.
func MustSplitproof(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "splitproof")
	cmd := exec.Command("go", "build", "-o", out, "github.com/splitproof/splitproof/cmd/splitproof")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build splitproof: %v\n%s", err, b)
	}
	return out
}

// TestTargetsServeTheSplit starts every target pinned to a core, loads it
// briefly and checks that it served the route: answers from all three
// backends, none failed, and CPU time read from the gateway's process.
// A missing gateway fails the test under CI=true and skips it elsewhere.
func TestTargetsServeTheSplit(t *testing.T) {
	env := Env{CPU: runtime.NumCPU() - 1, Splitproof: MustSplitproof(t), Getenv: os.Getenv}
	b := MustBackends(t, 10, 10, 80)
	for _, tg := range Targets() {
		t.Run(tg.Name, func(t *testing.T) {
			if tg.peer != nil {
				if _, err := peers.Binary(tg.Gateway, os.Getenv); err != nil {
					if os.Getenv("CI") == "true" {
						t.Fatalf("%v: CI must run this test; %s", err, peers.InstallHint(tg.Gateway))
					}
					t.Skipf("%v; %s", err, peers.InstallHint(tg.Gateway))
				}
			}
			ctx := context.Background()
			addr, pid, stop, err := tg.Start(ctx, env, b, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			l := Load{Addr: addr, Host: peers.Host, Path: "/hello", Conns: 4, Warmup: 100 * time.Millisecond, Duration: 500 * time.Millisecond, Classify: b.Classify}
			if pid != 0 {
				l.CPU = func() (time.Duration, error) { return ProcessCPU(pid) }
			}
			m, err := Measure(ctx, l)
			if err != nil {
				t.Fatal(err)
			}
			if m.Requests == 0 || m.Errors != 0 {
				t.Fatalf("%d answers, %d errors (%s)", m.Requests, m.Errors, m.FirstError)
			}
			want := []string{"v1", "v2", "v3"}
			if tg.Gateway == "" {
				want = []string{"v1"}
			}
			for _, v := range want {
				if m.Split[v] == 0 {
					t.Errorf("no answer from %s: split %v", v, m.Split)
				}
			}
			if m.Split["other"] != 0 {
				t.Errorf("%d answers from no backend", m.Split["other"])
			}
			if pid != 0 && m.GatewayCPUSeconds <= 0 {
				t.Errorf("gateway CPU time %v s over %d answers", m.GatewayCPUSeconds, m.Requests)
			}
		})
	}
}
