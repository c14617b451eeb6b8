package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/splitproof/splitproof/fakeopenai"
	"github.com/splitproof/splitproof/helloworld"
	"github.com/splitproof/splitproof/refproxy/objects"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
	"github.com/splitproof/splitproof/refproxy/translate"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/replay"
)

var _ replay.Applier = (*Target)(nil)

// Ports the doc's snippets use: the external address on port 80 and a
// port-forward from localhost:8080 to the proxy's port 80.
const (
	GatewayPort     = 80
	PortForwardAddr = "localhost:8080"
	// ExternalHost is what INGRESS_GW_ADDRESS holds in the embedded target.
	ExternalHost = "127.0.0.1"
)

// Options tune the embedded target.
type Options struct {
	PickMode picker.Mode
	Seed     uint64
	// AllZeroStatus is refproxy's answer when every weight is zero.
	AllZeroStatus int
	Logger        *slog.Logger
	// DocPorts also serves the Gateway's port 80 on the very addresses the
	// doc's snippets name, 127.0.0.1:80 and 127.0.0.1:8080, so that real
	// curl (--system-tools), which cannot be redirected in-process, reaches
	// refproxy. Binding port 80 usually needs root.
	DocPorts bool
}

// Target is a running embedded setup for one scenario.
type Target struct {
	servers []*http.Server
	proxy   *proxy.Proxy
	// gateway maps each Gateway listener port to refproxy's loopback address.
	gateway map[int32]string
	fake    *fakeopenai.Server
	set     *objects.Set
	opts    Options
	s       *scenarios.Scenario
	// slices are the EndpointSlices of the local servers; aiHost/aiPort
	// locate the fake provider for the backends in aiBackends.
	slices     []discoveryv1.EndpointSlice
	aiHost     string
	aiPort     int32
	fakeAddr   string
	aiBackends []string
}

// Start brings up everything the scenario needs.
func Start(ctx context.Context, s *scenarios.Scenario, opts Options) (t *Target, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PickMode == "" {
		opts.PickMode = picker.Random
	}
	t = &Target{gateway: map[int32]string{}, opts: opts, s: s}
	defer func() {
		if err != nil {
			t.Close()
		}
	}()
	set, err := s.Objects(true)
	if err != nil {
		return nil, err
	}
	t.set = set
	for _, svc := range slices.Sorted(maps.Keys(s.Embedded.Helloworld)) {
		if err := t.startHelloworld(svc, s.Embedded.Helloworld[svc]); err != nil {
			return nil, err
		}
	}
	if s.Embedded.FakeOpenAI != nil {
		if err := t.startFakeOpenAI(s.Embedded.FakeOpenAI.Backends); err != nil {
			return nil, err
		}
	}
	table, err := t.compile(-1)
	if err != nil {
		return nil, err
	}
	t.proxy, err = proxy.New(proxy.Options{Logger: opts.Logger, AllZeroStatus: opts.AllZeroStatus})
	if err != nil {
		return nil, err
	}
	if _, err := t.proxy.Install(table); err != nil {
		return nil, fmt.Errorf("install routing table: %w", err)
	}
	for _, p := range table.Ports {
		addr, err := t.serve(t.proxy.Handler(p.Port))
		if err != nil {
			return nil, err
		}
		t.gateway[p.Port] = addr
	}
	if _, ok := t.gateway[GatewayPort]; !ok {
		return nil, fmt.Errorf("scenario %s: no Gateway listener on port %d, which the doc's snippets use", s.Name, GatewayPort)
	}
	if opts.DocPorts {
		for _, addr := range []string{net.JoinHostPort(ExternalHost, strconv.Itoa(GatewayPort)), net.JoinHostPort(ExternalHost, "8080")} {
			if err := t.serveAt(addr, t.proxy.Handler(GatewayPort)); err != nil {
				return nil, fmt.Errorf("serve the doc's address %s for real curl: %w (free the port, run as root for port 80, or drop --system-tools)", addr, err)
			}
		}
	}
	return t, nil
}

// compile builds the routing table for the scenario after steps 0..step
// (-1: the base manifests), with the local servers' EndpointSlices and the
// AI backends pointed at the fake provider.
func (t *Target) compile(step int) (*route.Table, error) {
	set, err := t.s.ObjectsAt(step, true)
	if err != nil {
		return nil, err
	}
	set.EndpointSlices = append(set.EndpointSlices, t.slices...)
	for i := range set.Backends {
		b := &set.Backends[i]
		if b.Spec.AI != nil && slices.Contains(t.aiBackends, b.Namespace+"/"+b.Name) {
			b.Spec.AI.Provider.Host = t.aiHost
			b.Spec.AI.Provider.Port = t.aiPort
			b.Spec.AI.Provider.Path = "/v1/chat/completions"
		}
	}
	res, err := translate.Translate(set, translate.Options{PickMode: t.opts.PickMode, Seed: t.opts.Seed})
	if err != nil {
		return nil, fmt.Errorf("translate %s: %w", t.s.Name, err)
	}
	for _, w := range res.Warnings {
		t.opts.Logger.Warn("translation warning", "scenario", t.s.Name, "warning", w)
	}
	for _, rs := range res.Routes {
		if !rs.Accepted() {
			return nil, fmt.Errorf("scenario %s: HTTPRoute %s was not accepted by any Gateway: %s", t.s.Name, rs.Route, describeParents(rs))
		}
	}
	return res.Table, nil
}

// Apply switches refproxy to the scenario's manifests after steps 0..step,
// atomically, while it keeps serving.
func (t *Target) Apply(_ context.Context, step int) error {
	table, err := t.compile(step)
	if err != nil {
		return err
	}
	_, err = t.proxy.Install(table)
	return err
}

func describeParents(rs translate.RouteStatus) string {
	if len(rs.Parents) == 0 {
		return "its parentRefs name no Gateway of the scenario"
	}
	var parts []string
	for _, p := range rs.Parents {
		for _, c := range p.Conditions {
			if c.Status != metav1.ConditionTrue {
				parts = append(parts, c.Type+"="+string(c.Status)+" ("+c.Reason+": "+c.Message+")")
			}
		}
	}
	return strings.Join(parts, "; ")
}

// serve starts an HTTP server on a loopback port and returns its address.
func (t *Target) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen on loopback: %w", err)
	}
	t.serveOn(ln, h)
	return ln.Addr().String(), nil
}

// serveAt starts an HTTP server on a given address.
func (t *Target) serveAt(addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	t.serveOn(ln, h)
	return nil
}

func (t *Target) serveOn(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	t.servers = append(t.servers, srv)
	go func() { _ = srv.Serve(ln) }()
}

// startHelloworld runs a helloworld server for Service "ns/name" and writes
// the EndpointSlice a cluster would have for each of the Service's ports
// named http (the sample app's port 5000).
func (t *Target) startHelloworld(svcKey, version string) error {
	ns, name, _ := strings.Cut(svcKey, "/")
	var svc *corev1.Service
	for i := range t.set.Services {
		if t.set.Services[i].Namespace == ns && t.set.Services[i].Name == name {
			svc = &t.set.Services[i]
		}
	}
	if svc == nil {
		return fmt.Errorf("embedded.helloworld: Service %s is not in the scenario's manifests", svcKey)
	}
	instance := name + "-embedded"
	addr, err := t.serve(helloworld.Handler(version, instance))
	if err != nil {
		return err
	}
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	var ports []discoveryv1.EndpointPort
	for _, sp := range svc.Spec.Ports {
		if sp.Name == "http" || len(svc.Spec.Ports) == 1 {
			ports = append(ports, discoveryv1.EndpointPort{Name: ptr(sp.Name), Port: ptr(int32(port)), Protocol: ptr(corev1.ProtocolTCP)})
		}
	}
	if len(ports) == 0 {
		return fmt.Errorf("embedded.helloworld: Service %s has no port named http", svcKey)
	}
	t.slices = append(t.slices, discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: name + "-embedded", Namespace: ns,
			Labels: map[string]string{discoveryv1.LabelServiceName: name},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       ports,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"127.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}}},
	})
	return nil
}

// startFakeOpenAI runs the fake provider, accepting exactly the keys of the
// backends' Secrets, and points the backends at it.
func (t *Target) startFakeOpenAI(backends []string) error {
	var keys []string
	var matched int
	for i := range t.set.Backends {
		b := &t.set.Backends[i]
		if !slices.Contains(backends, b.Namespace+"/"+b.Name) {
			continue
		}
		matched++
		if b.Spec.AI == nil {
			return fmt.Errorf("embedded.fakeopenai: AgentgatewayBackend %s/%s has no spec.ai", b.Namespace, b.Name)
		}
		if pol := b.Spec.Policies; pol != nil && pol.Auth != nil && pol.Auth.SecretRef != nil {
			if k := t.secretKey(b.Namespace, pol.Auth.SecretRef.Name); k != "" && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	if matched != len(backends) {
		return fmt.Errorf("embedded.fakeopenai: %d of the backends %v are not in the scenario's manifests", len(backends)-matched, backends)
	}
	fake, err := fakeopenai.New(fakeopenai.Config{Keys: keys, Seed: t.opts.Seed}, t.opts.Logger)
	if err != nil {
		return fmt.Errorf("start fake provider: %w", err)
	}
	t.fake = fake
	addr, err := t.serve(fake)
	if err != nil {
		return err
	}
	host, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	t.aiHost, t.aiPort, t.aiBackends, t.fakeAddr = host, int32(port), backends, addr
	return nil
}

// secretKey reads the provider key from a Secret as refproxy will.
func (t *Target) secretKey(ns, name string) string {
	for _, s := range t.set.Secrets {
		if s.Namespace == ns && s.Name == name {
			return translate.ProviderKey(s.Data[translate.SecretKey])
		}
	}
	return ""
}

// Endpoint is how the doc's snippets reach this target.
func (t *Target) Endpoint() *replay.Endpoint {
	gw := t.gateway[GatewayPort]
	return &replay.Endpoint{
		Name: "embedded refproxy " + gw,
		Env:  map[string]string{"INGRESS_GW_ADDRESS": ExternalHost},
		Dial: map[string]string{
			net.JoinHostPort(ExternalHost, strconv.Itoa(GatewayPort)): gw,
			PortForwardAddr: gw,
		},
	}
}

// GatewayAddr is refproxy's loopback address for a Gateway listener port.
func (t *Target) GatewayAddr(port int32) string { return t.gateway[port] }

// Table is the routing table refproxy serves.
func (t *Target) Table() *route.Table { return t.proxy.Table() }

// Proxy is the running reference proxy (for its metrics and status).
func (t *Target) Proxy() *proxy.Proxy { return t.proxy }

// FakeOpenAIAddr is the fake provider's loopback address ("" without one).
func (t *Target) FakeOpenAIAddr() string { return t.fakeAddr }

// FakeOpenAI is the fake provider, nil when the scenario has no AI backend.
func (t *Target) FakeOpenAI() *fakeopenai.Server { return t.fake }

// Close stops every server.
func (t *Target) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	if t.fake != nil {
		t.fake.Close()
	}
	for _, s := range t.servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if t.proxy != nil {
		t.proxy.CloseIdleConnections()
	}
	return errors.Join(errs...)
}

func ptr[T any](v T) *T { return &v }
