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
	agwv1alpha1 "github.com/splitproof/splitproof/refproxy/apis/agentgateway/v1alpha1"
	"github.com/splitproof/splitproof/refproxy/listen"
	"github.com/splitproof/splitproof/refproxy/objects"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
	"github.com/splitproof/splitproof/refproxy/runtime"
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

// closeTimeout bounds Close's drain of refproxy and of the local servers.
const closeTimeout = 5 * time.Second

// Target is a running embedded setup for one scenario.
type Target struct {
	// servers are the helloworld and fake provider servers.
	servers []*http.Server
	// rt is refproxy as `splitproof proxy` runs it, fed the scenario's
	// tables in memory instead of from files or a cluster.
	rt   *runtime.Runtime
	fake *fakeopenai.Server
	set  *objects.Set
	opts Options
	s    *scenarios.Scenario
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
	t = &Target{opts: opts, s: s}
	// The error returns set t to nil before this runs: close what was
	// started through a copy of the pointer.
	started := t
	defer func() {
		if err != nil {
			started.Close()
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
	} else if len(s.Faults) > 0 {
		// Silently serving the faulty arm without faults would fail the
		// split for a reason the report could not name.
		return nil, fmt.Errorf("scenario %s: faults need embedded.fakeopenai: the embedded target injects them only through its fake provider", s.Name)
	}
	table, err := t.compile(-1)
	if err != nil {
		return nil, err
	}
	if table.Port(GatewayPort) == nil {
		return nil, fmt.Errorf("scenario %s: no Gateway listener on port %d, which the doc's snippets use", s.Name, GatewayPort)
	}
	t.rt, err = runtime.New(runtime.Options{
		Proxy:        proxy.Options{AllZeroStatus: opts.AllZeroStatus},
		Listen:       t.listen,
		DrainTimeout: closeTimeout,
		Logger:       opts.Logger,
	})
	if err != nil {
		return nil, err
	}
	if err := t.rt.Start(ctx, &runtime.Tables{First: table}); err != nil {
		return nil, fmt.Errorf("serve scenario %s: %w", s.Name, err)
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
	return t.rt.Apply(table)
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

// listen opens a Gateway listener port on an ephemeral loopback port: the
// Endpoint maps the doc's addresses to it. With DocPorts, port 80 also
// accepts on the very addresses the doc's snippets name, for real curl.
func (t *Target) listen(port int32) (net.Listener, error) {
	ln, err := loopback()
	if err != nil {
		return nil, fmt.Errorf("gateway port %d: %w", port, err)
	}
	if port != GatewayPort || !t.opts.DocPorts {
		return ln, nil
	}
	lns := []net.Listener{ln}
	for _, addr := range []string{net.JoinHostPort(ExternalHost, strconv.Itoa(GatewayPort)), net.JoinHostPort(ExternalHost, "8080")} {
		doc, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return nil, fmt.Errorf("serve the doc's address %s for real curl: %w (free the port, run as root for port 80, or drop --system-tools)", addr, err)
		}
		lns = append(lns, doc)
	}
	return listen.Merge(lns...), nil
}

func loopback() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	return ln, nil
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
	ln, err := loopback()
	if err != nil {
		return fmt.Errorf("embedded.helloworld %s: %w", svcKey, err)
	}
	t.servers = append(t.servers, helloworld.Serve(ln, version, name+"-embedded"))
	port := ln.Addr().(*net.TCPAddr).Port
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
	modelFaults, err := t.modelFaults(backends)
	if err != nil {
		return err
	}
	fake, err := fakeopenai.New(fakeopenai.Config{Keys: keys, Seed: t.opts.Seed, ModelFaults: modelFaults}, t.opts.Logger)
	if err != nil {
		return fmt.Errorf("start fake provider: %w", err)
	}
	t.fake = fake
	ln, err := loopback()
	if err != nil {
		return fmt.Errorf("start fake provider: %w", err)
	}
	t.servers = append(t.servers, fakeopenai.Serve(ln, fake))
	tcp := ln.Addr().(*net.TCPAddr)
	t.aiHost, t.aiPort, t.aiBackends, t.fakeAddr = tcp.IP.String(), int32(tcp.Port), backends, tcp.String()
	return nil
}

// modelFaults turns the scenario's faults into the fake provider's rates
// per model. The one fake serves every AI backend, and each backend sends
// its own model (spec.ai.provider's model replaces the request's), so the
// model tells the fake which arm a request came through: a faulty arm
// must name a model that no other arm of the fake sends.
func (t *Target) modelFaults(backends []string) (map[string]fakeopenai.FaultRates, error) {
	if len(t.s.Faults) == 0 {
		return nil, nil
	}
	refs, err := t.routeBackends()
	if err != nil {
		return nil, err
	}
	modelOf := map[string]string{} // "ns/name" of a backend of the fake → its model
	for i := range t.set.Backends {
		b := &t.set.Backends[i]
		key := b.Namespace + "/" + b.Name
		if slices.Contains(backends, key) && b.Spec.AI != nil {
			modelOf[key] = backendModel(b.Spec.AI.Provider)
		}
	}
	out := map[string]fakeopenai.FaultRates{}
	for i, f := range t.s.Faults {
		key, ok := refs[f.BackendRef]
		if !ok {
			return nil, fmt.Errorf("faults[%d]: backendRef %s is not an AgentgatewayBackend of route %s rule %d", i, f.BackendRef, t.s.Route, t.s.RuleIndex)
		}
		model, served := modelOf[key]
		if !served {
			return nil, fmt.Errorf("faults[%d]: AgentgatewayBackend %s is not served by the fake provider (embedded.fakeopenai.backends), which alone injects faults", i, key)
		}
		if model == "" {
			return nil, fmt.Errorf("faults[%d]: AgentgatewayBackend %s sets no model, so the fake provider cannot tell its requests from the other arms'", i, key)
		}
		for other, m := range modelOf {
			if other != key && m == model {
				return nil, fmt.Errorf("faults[%d]: AgentgatewayBackend %s sends model %s, as %s does, so the fake provider would fail both arms", i, key, model, other)
			}
		}
		fault, err := fakeopenai.ParseFault(f.Fault)
		if err != nil {
			return nil, fmt.Errorf("faults[%d]: %w", i, err)
		}
		out[model] = fakeopenai.FaultRates{fault: f.Rate}
	}
	return out, nil
}

// routeBackends maps each AgentgatewayBackend backendRef name of the
// scenario's rule to its "namespace/name" (a ref without a namespace is in
// the route's).
func (t *Target) routeBackends() (map[string]string, error) {
	ns, name, _ := strings.Cut(t.s.Route, "/")
	for _, r := range t.set.HTTPRoutes {
		if r.Namespace != ns || r.Name != name {
			continue
		}
		if t.s.RuleIndex < 0 || t.s.RuleIndex >= len(r.Spec.Rules) {
			return nil, fmt.Errorf("route %s has no rule %d", t.s.Route, t.s.RuleIndex)
		}
		out := map[string]string{}
		for _, ref := range r.Spec.Rules[t.s.RuleIndex].BackendRefs {
			if ref.Kind == nil || string(*ref.Kind) != "AgentgatewayBackend" {
				continue
			}
			refNS := ns
			if ref.Namespace != nil {
				refNS = string(*ref.Namespace)
			}
			out[string(ref.Name)] = refNS + "/" + string(ref.Name)
		}
		return out, nil
	}
	return nil, fmt.Errorf("route: HTTPRoute %s is not in the manifests", t.s.Route)
}

// backendModel is the model a backend's provider sends ("" when it keeps
// the request's own).
func backendModel(p agwv1alpha1.LLMProvider) string {
	switch {
	case p.OpenAI != nil:
		return p.OpenAI.Model
	case p.Anthropic != nil:
		return p.Anthropic.Model
	}
	return ""
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
	gw := t.GatewayAddr(GatewayPort)
	return &replay.Endpoint{
		Name: "embedded refproxy " + gw,
		Env:  map[string]string{"INGRESS_GW_ADDRESS": ExternalHost},
		Dial: map[string]string{
			net.JoinHostPort(ExternalHost, strconv.Itoa(GatewayPort)): gw,
			PortForwardAddr: gw,
		},
	}
}

// GatewayAddr is refproxy's loopback address for a Gateway listener port
// ("" when the table being served has no such port).
func (t *Target) GatewayAddr(port int32) string {
	if a := t.rt.Addr(port); a != nil {
		return a.String()
	}
	return ""
}

// Table is the routing table refproxy serves.
func (t *Target) Table() *route.Table { return t.rt.Proxy().Table() }

// Proxy is the running reference proxy (for its metrics and status).
func (t *Target) Proxy() *proxy.Proxy { return t.rt.Proxy() }

// FakeOpenAIAddr is the fake provider's loopback address ("" without one).
func (t *Target) FakeOpenAIAddr() string { return t.fakeAddr }

// FakeOpenAI is the fake provider, nil when the scenario has no AI backend.
func (t *Target) FakeOpenAI() *fakeopenai.Server { return t.fake }

// Close stops every server: refproxy first, drained as `splitproof proxy`
// drains at shutdown, then the backends it was forwarding to. The fake
// provider is closed before, so that its streams end rather than hold up
// the drain.
func (t *Target) Close() error {
	var errs []error
	if t.fake != nil {
		t.fake.Close()
	}
	if t.rt != nil {
		errs = append(errs, t.rt.Shutdown())
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	for _, s := range t.servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func ptr[T any](v T) *T { return &v }
