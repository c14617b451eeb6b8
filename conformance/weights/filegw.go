package weights

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/splitproof/splitproof/helloworld"
	"github.com/splitproof/splitproof/refproxy/filemode"
	"github.com/splitproof/splitproof/refproxy/listen"
	"github.com/splitproof/splitproof/refproxy/loader"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
	"github.com/splitproof/splitproof/refproxy/translate"
)

// versions are the helloworld backends every file-mode gateway runs; a
// route names them by index (weights[i] is versions[i]'s weight).
var versions = []string{"v1", "v2", "v3"}

// versionRE finds the backend in a helloworld answer.
var versionRE = regexp.MustCompile(`Hello version: (v\d+)`)

// category is the index in versions of the backend that wrote body, or -1.
func category(body string) int {
	m := versionRE.FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	for i, v := range versions {
		if v == m[1] {
			return i
		}
	}
	return -1
}

// fileGateway is refproxy in file mode on loopback: three helloworld
// backends and one route file whose weights can be rewritten. Every
// table refproxy applies is timestamped, so that a measurement can tell
// the reload's share of a delay from the rest.
type fileGateway struct {
	path    string
	addr    string
	runner  *filemode.Runner
	servers []*http.Server
	ports   []int
	cancel  context.CancelFunc
	watched chan struct{}
	// reload asks for a reload after each write (SIGHUP's path) instead of
	// waiting for the poller.
	reload bool

	mu      sync.Mutex
	applied []time.Time
}

// startFileGateway serves weights (one per backend, a prefix of versions)
// from a route file in dir. poll > 0 watches the file every poll; poll <= 0
// disables the poller and reloads on request after each write, as SIGHUP
// does.
func startFileGateway(dir string, weights []int32, seed uint64, poll time.Duration) (g *fileGateway, err error) {
	g = &fileGateway{path: filepath.Join(dir, "gateway.yaml"), reload: poll <= 0}
	defer func() {
		if err != nil {
			g.close()
		}
	}()
	for _, v := range versions {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("listen for helloworld %s: %w", v, err)
		}
		g.ports = append(g.ports, ln.Addr().(*net.TCPAddr).Port)
		g.servers = append(g.servers, helloworld.Serve(ln, v, "file-"+v))
	}
	if err := g.write(weights); err != nil {
		return nil, err
	}
	p, err := proxy.New(proxy.Options{})
	if err != nil {
		return nil, fmt.Errorf("refproxy: %w", err)
	}
	ports, err := listen.NewPorts(listen.PortsOptions{Proxy: p, Listen: func(int32) (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }, DrainTimeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("refproxy listeners: %w", err)
	}
	if poll <= 0 {
		poll = -1
	}
	r, err := filemode.New(filemode.Options{
		Paths:   []string{g.path},
		Compile: filemode.Compiler(loader.Loader{}, translate.Options{PickMode: picker.Random, Seed: seed}, nil),
		Proxy:   p,
		Apply: func(t *route.Table) error {
			err := ports.Apply(t)
			g.mu.Lock()
			g.applied = append(g.applied, time.Now())
			g.mu.Unlock()
			return err
		},
		PollInterval: poll,
	})
	if err != nil {
		return nil, fmt.Errorf("file mode: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = func() {
		cancel()
		sctx, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		_ = ports.Shutdown(sctx)
	}
	if err := r.Start(ctx); err != nil {
		return nil, fmt.Errorf("file mode start: %w", err)
	}
	g.runner = r
	a := ports.Addr(80)
	if a == nil {
		return nil, errors.New("file mode serves no gateway port 80")
	}
	g.addr = a.String()
	g.watched = make(chan struct{})
	go func() { r.Watch(ctx); close(g.watched) }()
	return g, nil
}

// url is the gateway's /hello.
func (g *fileGateway) url() string { return "http://" + g.addr + "/hello" }

// request is a GET of the gateway's /hello.
func (g *fileGateway) request(ctx context.Context) (*http.Request, error) {
	return http.NewRequestWithContext(ctx, http.MethodGet, g.url(), nil)
}

// seesApplied: every table refproxy applies is timestamped.
func (g *fileGateway) seesApplied() bool { return true }

// set replaces the route file with weights, atomically (write then
// rename), so that neither the poller nor a reload ever reads half a
// file, and, in reload-on-request mode, asks for the reload. It returns the time of
// the rename: the moment the new weights are on disk.
func (g *fileGateway) set(_ context.Context, weights []int32) (time.Time, error) {
	if err := g.write(weights); err != nil {
		return time.Time{}, err
	}
	at := time.Now()
	if g.reload && g.runner != nil {
		g.runner.RequestReload()
	}
	return at, nil
}

// write puts weights in a temporary file and renames it over the route file.
func (g *fileGateway) write(weights []int32) error {
	tmp := g.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(manifests(g.ports, weights)), 0o644); err != nil {
		return fmt.Errorf("write route file: %w", err)
	}
	if err := os.Rename(tmp, g.path); err != nil {
		return fmt.Errorf("replace route file: %w", err)
	}
	return nil
}

// appliedAfter is the first time a table was applied at or after t.
func (g *fileGateway) appliedAfter(t time.Time) (time.Time, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, a := range g.applied {
		if !a.Before(t) {
			return a, true
		}
	}
	return time.Time{}, false
}

func (g *fileGateway) close() {
	if g.cancel != nil {
		g.cancel()
		<-g.watched
	}
	for _, s := range g.servers {
		_ = s.Close()
	}
}

// manifests is a Gateway on port 80 and an HTTPRoute splitting /hello
// across the first len(weights) helloworld Services with those weights.
func manifests(ports []int, weights []int32) string {
	var b strings.Builder
	b.WriteString(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: splitproof}
spec: {controllerName: splitproof.dev/refproxy}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: splitproof
  listeners:
  - {name: http, port: 80, protocol: HTTP}
`)
	for i, v := range versions {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Service
metadata: {name: helloworld-%[1]s, namespace: default}
spec:
  ports: [{name: http, port: 5000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: helloworld-%[1]s-1, namespace: default, labels: {kubernetes.io/service-name: helloworld-%[1]s}}
addressType: IPv4
ports: [{name: http, port: %[2]d}]
endpoints:
- addresses: [127.0.0.1]
`, v, ports[i])
	}
	b.WriteString(`---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: split, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /hello}}]
    backendRefs:
`)
	for i, w := range weights {
		fmt.Fprintf(&b, "    - {name: helloworld-%s, port: 5000, weight: %d}\n", versions[i], w)
	}
	return b.String()
}
