//go:build soak

// The soak test (make soak, never make test): refproxy in file mode, run as
// its own process from the binary in SOAK_BINARY, serves a 10/10/80 split to
// loopback backends under steady load for SOAK_DURATION (default 10m) while
// its config is rewritten and reloaded (SIGHUP) every second and backend v1
// is killed for SOAK_DOWN (default 10s) every SOAK_KILL_EVERY (default 30s).
// It passes when every failed request overlaps a window in which v1 was down,
// failures inside those windows are v1's share (502s, 10 % ± 3 points), the
// reloads all took, and goroutines and resident memory at the end are back
// to what they were after the first minute.
package filemode_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/splitproof/splitproof/helloworld"
)

func soakDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 10m", name, v)
	}
	return d
}

// soakBackend is a helloworld server on a fixed loopback port that can be
// stopped and started again on the same port.
type soakBackend struct {
	version string
	addr    string
	mu      sync.Mutex
	srv     *http.Server
}

func (b *soakBackend) start(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	ln, err := net.Listen("tcp", b.addr)
	if err != nil {
		t.Fatalf("backend %s: %v", b.version, err)
	}
	b.addr = ln.Addr().String()
	b.srv = &http.Server{Handler: helloworld.Handler(b.version, "soak-"+b.version), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = b.srv.Serve(ln) }()
}

// kill closes the listener and every connection at once, as a crashed
// backend would.
func (b *soakBackend) kill() {
	b.mu.Lock()
	defer b.mu.Unlock()
	_ = b.srv.Close()
}

func (b *soakBackend) port() int {
	_, p, _ := net.SplitHostPort(b.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// soakConfig is the 10/10/80 route of the doc's Example 1 over the three
// backends; gen only changes a response header, so every reload installs a
// new table that routes the same way.
func soakConfig(listen int, gen int, backends []*soakBackend) string {
	var b strings.Builder
	fmt.Fprintf(&b, gatewayYAML, fmt.Sprintf(listenerYAML, 0, listen))
	for _, be := range backends {
		fmt.Fprintf(&b, serviceYAML, "helloworld-"+be.version, be.port())
	}
	fmt.Fprintf(&b, `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: split, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier: {set: [{name: x-soak-generation, value: "%d"}]}
    backendRefs:
    - {name: helloworld-v1, port: 5000, weight: 10}
    - {name: helloworld-v2, port: 5000, weight: 10}
    - {name: helloworld-v3, port: 5000, weight: 80}
`, gen)
	return b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// scrape reads the gauges the check needs from the admin /metrics page.
func scrape(t *testing.T, admin string) map[string]float64 {
	t.Helper()
	res, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer res.Body.Close()
	want := map[string]bool{"go_goroutines": true, "process_resident_memory_bytes": true, "refproxy_config_generation": true}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !want[name] {
			continue
		}
		if f, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = f
		}
	}
	if len(out) != len(want) {
		t.Fatalf("metrics: found %v, want %v", out, want)
	}
	return out
}

type window struct{ from, to time.Time }

type outcome struct {
	start, end time.Time
	code       int
}

func TestSoak(t *testing.T) {
	binary := os.Getenv("SOAK_BINARY")
	if binary == "" {
		t.Fatal("SOAK_BINARY must name a splitproof binary (make soak builds one)")
	}
	duration := soakDuration(t, "SOAK_DURATION", 10*time.Minute)
	killEvery := soakDuration(t, "SOAK_KILL_EVERY", 30*time.Second)
	down := soakDuration(t, "SOAK_DOWN", 10*time.Second)
	const workers = 8

	backends := []*soakBackend{{version: "v1", addr: "127.0.0.1:0"}, {version: "v2", addr: "127.0.0.1:0"}, {version: "v3", addr: "127.0.0.1:0"}}
	for _, b := range backends {
		b.start(t)
	}
	defer func() {
		for _, b := range backends {
			b.kill()
		}
	}()
	listen, adminPort := freePort(t), freePort(t)
	admin := fmt.Sprintf("127.0.0.1:%d", adminPort)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	MustWrite(t, cfg, soakConfig(listen, 0, backends))

	cmd := exec.Command(binary, "proxy", "--config", cfg, "--admin", admin, "--poll-interval", "0",
		"--port-map", fmt.Sprintf("%d=127.0.0.1:%d", listen, listen))
	logFile, err := os.Create(filepath.Join(t.TempDir(), "proxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", binary, err)
	}
	defer func() {
		// Only the process this test started, by its PID.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("proxy log (last 4 KiB):\n%s", b[max(0, len(b)-4096):])
		}
	}()
	target := fmt.Sprintf("http://127.0.0.1:%d/hello", listen)
	ready := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(target)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(ready) {
			t.Fatalf("proxy not answering 200 at %s after 30s (last: %v)", target, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	start := time.Now()
	var (
		mu       sync.Mutex
		outcomes []outcome
		windows  []window
		sent     atomic.Int64
	)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer c.CloseIdleConnections()
			var local []outcome
			for ctx.Err() == nil {
				o := outcome{start: time.Now()}
				res, err := c.Get(target)
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					o.code = res.StatusCode
				}
				o.end = time.Now()
				sent.Add(1)
				if o.code != http.StatusOK {
					local = append(local, o)
				}
			}
			mu.Lock()
			outcomes = append(outcomes, local...)
			mu.Unlock()
		})
	}

	// Reloads every second; v1 down for `down` every `killEvery`; the
	// baseline sample after the first minute (or a tenth of a short run).
	reload := time.NewTicker(time.Second)
	defer reload.Stop()
	nextKill := start.Add(killEvery)
	var restartAt time.Time
	baselineAt := start.Add(min(time.Minute, duration/10))
	var baseline map[string]float64
	gen := 0
	progress := time.NewTicker(time.Minute)
	defer progress.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-progress.C:
			t.Logf("%s: %d requests, %d reloads, %d kills", time.Since(start).Round(time.Second), sent.Load(), gen, len(windows))
		case now := <-reload.C:
			gen++
			MustWrite(t, cfg, soakConfig(listen, gen, backends))
			if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatalf("SIGHUP: %v", err)
			}
			if baseline == nil && now.After(baselineAt) {
				baseline = scrape(t, admin)
			}
			switch {
			case restartAt.IsZero() && now.After(nextKill):
				backends[0].kill()
				windows = append(windows, window{from: now})
				restartAt = now.Add(down)
			case !restartAt.IsZero() && now.After(restartAt):
				backends[0].start(t)
				windows[len(windows)-1].to = time.Now()
				restartAt = time.Time{}
				nextKill = now.Add(killEvery - down)
			}
		}
	}
	wg.Wait()
	if !restartAt.IsZero() {
		backends[0].start(t)
		windows[len(windows)-1].to = time.Now()
	}
	// The last reload's SIGHUP is handled in the background: let it land.
	time.Sleep(2 * time.Second)
	final := scrape(t, admin)
	total := sent.Load()

	// A failure may straddle a kill or a restart: it counts as inside a
	// window when its request overlaps it (plus a second's grace after the
	// restart for connections the proxy still had to the dead backend).
	inside := func(o outcome) bool {
		for _, w := range windows {
			if o.start.Before(w.to.Add(time.Second)) && o.end.After(w.from) {
				return true
			}
		}
		return false
	}
	var outsideFailures, insideFailures, insideNon5xx int
	var firstOutside outcome
	for _, o := range outcomes {
		if !inside(o) {
			if outsideFailures == 0 {
				firstOutside = o
			}
			outsideFailures++
			continue
		}
		insideFailures++
		if o.code != http.StatusBadGateway && o.code != http.StatusServiceUnavailable {
			insideNon5xx++
		}
	}
	var downTime time.Duration
	for _, w := range windows {
		downTime += w.to.Sub(w.from)
	}
	// The requests sent while v1 was down, estimated from the run's rate.
	insideRequests := float64(total) * downTime.Seconds() / time.Since(start).Seconds()
	share := float64(insideFailures) / insideRequests
	t.Logf("%d requests in %s (%d workers), %d reloads (generation %v), %d kills of v1 (%s down in all)",
		total, duration, workers, gen, final["refproxy_config_generation"], len(windows), downTime.Round(time.Second))
	t.Logf("failures: %d while v1 was down (share %.4f of the requests then, want v1's 0.10), %d outside; %d not 502/503",
		insideFailures, share, outsideFailures, insideNon5xx)
	t.Logf("goroutines %v -> %v, resident memory %.1f MB -> %.1f MB (after %s -> at the end)",
		baseline["go_goroutines"], final["go_goroutines"], baseline["process_resident_memory_bytes"]/1e6,
		final["process_resident_memory_bytes"]/1e6, baselineAt.Sub(start).Round(time.Second))

	if outsideFailures > 0 {
		t.Errorf("%d requests failed while every backend was up; first: %d after %s", outsideFailures,
			firstOutside.code, firstOutside.start.Sub(start).Round(time.Millisecond))
	}
	if insideNon5xx > 0 {
		t.Errorf("%d failures while v1 was down were not 502/503 (transport errors or other codes)", insideNon5xx)
	}
	if len(windows) > 0 && (share < 0.07 || share > 0.13) {
		t.Errorf("failures while v1 was down were %.4f of the requests, want v1's share 0.10 ± 0.03", share)
	}
	if got := final["refproxy_config_generation"]; got < float64(gen) {
		t.Errorf("generation %v after %d reloads: some reloads did not take", got, gen)
	}
	if baseline == nil {
		t.Fatal("no baseline sample")
	}
	if g0, g1 := baseline["go_goroutines"], final["go_goroutines"]; g1 > g0+50 {
		t.Errorf("goroutines grew from %v to %v", g0, g1)
	}
	if m0, m1 := baseline["process_resident_memory_bytes"], final["process_resident_memory_bytes"]; m1 > 1.5*m0+16e6 {
		t.Errorf("resident memory grew from %.1f MB to %.1f MB", m0/1e6, m1/1e6)
	}
}
