package main

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/splitproof/splitproof/conformance/peers"
	"github.com/splitproof/splitproof/helloworld"
)

//go:embed testdata/refproxy.yaml.tmpl
var refproxyTemplate embed.FS

// Target is one row of the benchmark: the route served by something on a
// loopback address.
type Target struct {
	// Name is the row's name: "direct", "nginx", "refproxy/random", …
	Name string
	// Gateway is the program run ("" for direct), Algorithm its balancer.
	Gateway, Algorithm string
	// peer is the conformance/peers entry whose template configures it.
	peer *peers.Peer
	// pick is refproxy's --pick-mode.
	pick string
}

// Targets lists every row in the order they are measured: each peer with
// its deterministic weighted round robin, refproxy with both pick modes.
func Targets() []Target {
	ts := []Target{{Name: "direct", Algorithm: "none (backend v1 alone)"}}
	for _, want := range []struct{ gateway, algorithm string }{
		{"nginx", "smooth-wrr"}, {"haproxy", "roundrobin"}, {"caddy", "weighted_round_robin"},
	} {
		for _, p := range peers.Peers() {
			if p.Gateway == want.gateway && p.Algorithm == want.algorithm {
				ts = append(ts, Target{Name: p.Gateway, Gateway: p.Gateway, Algorithm: p.Algorithm, peer: &p})
			}
		}
	}
	return append(ts,
		Target{Name: "refproxy/random", Gateway: "refproxy", Algorithm: "random", pick: "random"},
		Target{Name: "refproxy/smooth", Gateway: "refproxy", Algorithm: "smooth", pick: "smooth"},
	)
}

// Backends are the three helloworld servers of the route, in process.
type Backends struct {
	List []peers.Backend
	// bodies maps each server's exact answer to its version.
	bodies map[string]string
	stop   []func()
}

// StartBackends serves helloworld v1, v2 and v3 on loopback with weights.
func StartBackends(weights []int) (*Backends, error) {
	b := &Backends{bodies: map[string]string{}}
	for i, w := range weights {
		version := fmt.Sprintf("v%d", i+1)
		name := "helloworld-" + version
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Stop()
			return nil, fmt.Errorf("listen for %s: %w", name, err)
		}
		srv := helloworld.Serve(ln, version, name+"-bench")
		b.stop = append(b.stop, func() { _ = srv.Close() })
		b.List = append(b.List, peers.Backend{Name: name, Addr: ln.Addr().String(), Weight: w})
		b.bodies[helloworld.HelloBody(version, name+"-bench")] = version
	}
	return b, nil
}

// Classify names the version whose server wrote body, or "".
func (b *Backends) Classify(body []byte) string { return b.bodies[string(body)] }

// Stop closes the servers.
func (b *Backends) Stop() {
	for _, f := range b.stop {
		f()
	}
}

// Env is what starting a gateway needs from outside.
type Env struct {
	// CPU is the core the gateway is pinned to (taskset -c).
	CPU int
	// Splitproof is the splitproof binary that runs refproxy.
	Splitproof string
	Getenv     func(string) string
}

// Start brings t up in dir, serving the route in front of b, and returns
// the address to load, the gateway's PID and how to stop it. direct needs
// no process (PID 0): its address is backend v1's.
func (t Target) Start(ctx context.Context, env Env, b *Backends, dir string) (addr string, pid int, stop func(), err error) {
	addr, proc, err := t.start(ctx, env, b, dir)
	if err != nil || proc == nil {
		return addr, 0, func() {}, err
	}
	return addr, proc.PID(), proc.Stop, nil
}

func (t Target) start(ctx context.Context, env Env, b *Backends, dir string) (addr string, _ *peers.Process, err error) {
	if t.Gateway == "" {
		return b.List[0].Addr, nil, nil
	}
	if addr, err = peers.FreeAddr(); err != nil {
		return "", nil, err
	}
	var bin, conf string
	var args []string
	goRuntime := false
	switch {
	case t.peer != nil:
		if bin, err = peers.Binary(t.Gateway, env.Getenv); err != nil {
			return "", nil, fmt.Errorf("%s: %w; %s", t.Name, err, peers.InstallHint(t.Gateway))
		}
		c := peers.Config{Dir: dir, Listen: addr, Host: peers.Host, Backends: b.List}
		out, rerr := peers.Render(t.peer.Template, c)
		if rerr != nil {
			return "", nil, fmt.Errorf("%s: %w", t.Name, rerr)
		}
		conf = filepath.Join(dir, strings.TrimSuffix(t.peer.Template, ".tmpl"))
		if err := os.WriteFile(conf, out, 0o644); err != nil {
			return "", nil, fmt.Errorf("%s: write configuration: %w", t.Name, err)
		}
		args = t.peer.Args(dir, conf)
		goRuntime = t.Gateway == "caddy"
	default:
		bin = env.Splitproof
		if _, serr := os.Stat(bin); serr != nil {
			return "", nil, fmt.Errorf("%s: splitproof binary: %w (make build)", t.Name, serr)
		}
		out, rerr := RenderRefproxy(b.List)
		if rerr != nil {
			return "", nil, fmt.Errorf("%s: %w", t.Name, rerr)
		}
		conf = filepath.Join(dir, "refproxy.yaml")
		if err := os.WriteFile(conf, out, 0o644); err != nil {
			return "", nil, fmt.Errorf("%s: write configuration: %w", t.Name, err)
		}
		// No admin listener and no file watching: nothing but the data
		// plane runs. A fixed seed makes the random picks reproducible.
		args = []string{"proxy", "--config", conf, "--pick-mode", t.pick, "--seed", "1",
			"--admin", "", "--poll-interval", "0", "--port-map", "8080=" + addr}
		goRuntime = true
	}
	// The gateway runs in dir: a relative path would no longer name it.
	if bin, err = filepath.Abs(bin); err != nil {
		return "", nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	// taskset pins the gateway (and every thread it starts) to one core;
	// it execs the program, so the PID Start returns is the gateway's.
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		return "", nil, fmt.Errorf("%s: taskset (util-linux) is needed to pin the gateway: %w", t.Name, err)
	}
	argv := []string{"-c", strconv.Itoa(env.CPU)}
	if goRuntime {
		// One P: a Go gateway on one core, as nginx has one worker and
		// HAProxy one thread. env execs too.
		argv = append(argv, "env", "GOMAXPROCS=1")
	}
	argv = append(argv, bin)
	argv = append(argv, args...)
	proc, err := peers.Start(taskset, argv, dir)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	if err := proc.WaitListening(ctx, addr, 15*time.Second); err != nil {
		proc.Stop()
		return "", nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	return addr, proc, nil
}

// refproxyBackend is one backendRef as the refproxy template needs it.
type refproxyBackend struct {
	Name   string
	Port   string
	Weight int
}

// RenderRefproxy renders refproxy's manifests of the route over backends.
func RenderRefproxy(backends []peers.Backend) ([]byte, error) {
	data := struct {
		Host, Weights string
		Backends      []refproxyBackend
	}{Host: peers.Host}
	ws := make([]string, len(backends))
	for i, b := range backends {
		_, port, err := net.SplitHostPort(b.Addr)
		if err != nil {
			return nil, fmt.Errorf("backend %s address %q: %w", b.Name, b.Addr, err)
		}
		data.Backends = append(data.Backends, refproxyBackend{Name: b.Name, Port: port, Weight: b.Weight})
		ws[i] = strconv.Itoa(b.Weight)
	}
	data.Weights = strings.Join(ws, "/")
	t, err := template.New("").Option("missingkey=error").ParseFS(refproxyTemplate, "testdata/refproxy.yaml.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse refproxy template: %w", err)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "refproxy.yaml.tmpl", data); err != nil {
		return nil, fmt.Errorf("render refproxy template: %w", err)
	}
	return buf.Bytes(), nil
}

// ProcessCPU is the CPU time (user and system, every thread) process pid
// has used, from /proc/PID/stat, whose times are in USER_HZ ticks: 100 a
// second on Linux whatever the kernel's own HZ, hence 10 ms resolution.
func ProcessCPU(pid int) (time.Duration, error) {
	path := fmt.Sprintf("/proc/%d/stat", pid)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return parseStatCPU(path, string(data))
}

// parseStatCPU reads utime and stime, fields 14 and 15 of a stat line.
// The command name (field 2) is in parentheses and may hold spaces, so the
// fields are counted from the last ')'.
func parseStatCPU(path, stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: no ')' after the command name", path)
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: %d fields after the command name, want at least 13", path, len(f))
	}
	var total time.Duration
	for _, n := range []int{14, 15} {
		ticks, err := strconv.ParseInt(f[n-3], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: field %d: %w", path, n, err)
		}
		total += time.Duration(ticks) * (time.Second / userHZ)
	}
	return total, nil
}

// userHZ is the unit of /proc's CPU times (USER_HZ).
const userHZ = 100
