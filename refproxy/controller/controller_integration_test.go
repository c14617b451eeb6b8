//go:build integration

package controller_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/splitproof/splitproof/internal/kubetest"
	"github.com/splitproof/splitproof/internal/poll"
	"github.com/splitproof/splitproof/refproxy/controller"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
	"github.com/splitproof/splitproof/refproxy/translate"
)

// One API server serves every test of the package; each test works in its
// own namespaces and serves only its own Gateway (Options.Gateways), which
// is what keeps the tests apart.
var (
	restConfig *rest.Config
	kube       client.Client
	testSeq    atomic.Int32
)

const className = "splitproof"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctrllog.SetLogger(logr.Discard())
	t0 := time.Now()
	// conformance/install/crds holds the Gateway API CRDs of go.mod's
	// version and the AgentgatewayBackend CRD: what a cluster gets.
	env, err := kubetest.Environment(filepath.Join("..", "..", "conformance", "install", "crds"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	restConfig, err = env.Start()
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop etcd and kube-apiserver:", err)
		}
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start etcd and kube-apiserver:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "etcd and kube-apiserver up with CRDs in %s\n", time.Since(t0).Round(time.Millisecond))
	scheme, err := controller.NewScheme()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	kube, err = client.New(restConfig, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	gc := &gatewayv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: className},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: translate.DefaultControllerName},
	}
	if err := kube.Create(context.Background(), gc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// fixture is one test's namespaces, Gateway and controller.
type fixture struct {
	t       *testing.T
	gwNS    string // the Gateway's namespace
	appNS   string // the routes' and Services' namespace
	gateway types.NamespacedName
	ctl     *controller.Controller
	proxy   *proxy.Proxy
	url     string // the proxy's port 80 handler
}

// MustFixture creates two namespaces and a Gateway "http" with one HTTP
// listener on port 80 admitting routes from every namespace, and starts a
// controller serving only that Gateway; tweaks adjust its options.
func MustFixture(t *testing.T, mode picker.Mode, tweaks ...func(*controller.Options)) *fixture {
	t.Helper()
	n := testSeq.Add(1)
	f := &fixture{t: t, gwNS: fmt.Sprintf("gw-%d", n), appNS: fmt.Sprintf("app-%d", n)}
	f.gateway = types.NamespacedName{Namespace: f.gwNS, Name: "http"}
	for _, ns := range []string{f.gwNS, f.appNS} {
		MustCreate(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	all := gatewayv1.NamespacesFromAll
	MustCreate(t, &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.gwNS, Name: "http"},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: className,
			Listeners: []gatewayv1.Listener{{
				Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType,
				AllowedRoutes: &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: &all}},
			}},
		},
	})
	p, err := proxy.New(proxy.Options{Transport: loopbackTransport()})
	if err != nil {
		t.Fatal(err)
	}
	f.proxy = p
	opts := controller.Options{
		Proxy:     p,
		Translate: translate.Options{PickMode: mode, Seed: 7},
		Gateways:  []types.NamespacedName{f.gateway},
		Addresses: controller.StaticAddresses("127.0.0.1"),
		Debounce:  20 * time.Millisecond,
		Logger:    slog.New(slog.DiscardHandler),
	}
	for _, tw := range tweaks {
		tw(&opts)
	}
	f.ctl, err = controller.New(restConfig, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.ctl.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller: %v", err)
		}
	})
	srv := httptest.NewServer(p.Handler(80))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func MustCreate(t *testing.T, obj client.Object) {
	t.Helper()
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %T %s/%s: %v", obj, obj.GetNamespace(), obj.GetName(), err)
	}
}

// endpointIP is the address EndpointSlices give the test backends. The API
// server refuses loopback endpoint addresses, so the slices name an address
// of TEST-NET-1 (RFC 5737) and loopbackTransport dials 127.0.0.1 instead,
// keeping the port.
const endpointIP = "192.0.2.1"

func loopbackTransport() http.RoundTripper {
	tr := proxy.NewTransport()
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if host != endpointIP {
			return nil, fmt.Errorf("test transport: unexpected upstream %s", addr)
		}
		return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}
	return tr
}

// MustBackend starts a loopback server answering with name and creates its
// Service (port 5000, named http) and an EndpointSlice pointing at it
// (through endpointIP).
func (f *fixture) MustBackend(name string) {
	f.t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, name)
	}))
	f.t.Cleanup(srv.Close)
	port := int32(srv.Listener.Addr().(*net.TCPAddr).Port)
	MustCreate(f.t, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.appNS, Name: name},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 5000}}},
	})
	portName, ready := "http", true
	MustCreate(f.t, &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.appNS, Name: name + "-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{endpointIP}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
	})
}

type ref struct {
	namespace, name string
	weight          int32
}

// route returns an HTTPRoute like the doc's Example 1: host
// traffic.split.example, path prefix /, weighted refs to port 5000.
func (f *fixture) route(name string, refs ...ref) *gatewayv1.HTTPRoute {
	gwNS := gatewayv1.Namespace(f.gwNS)
	prefix := gatewayv1.PathMatchPathPrefix
	slash := "/"
	r := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.appNS, Name: name},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: "http", Namespace: &gwNS}}},
			Hostnames:       []gatewayv1.Hostname{"traffic.split.example"},
			Rules: []gatewayv1.HTTPRouteRule{{
				Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: &prefix, Value: &slash}}},
			}},
		},
	}
	setRefs(r, refs...)
	return r
}

func setRefs(r *gatewayv1.HTTPRoute, refs ...ref) {
	var brs []gatewayv1.HTTPBackendRef
	for _, x := range refs {
		port := gatewayv1.PortNumber(5000)
		br := gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
			BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(x.name), Port: &port},
			Weight:                 &x.weight,
		}}
		if x.namespace != "" {
			ns := gatewayv1.Namespace(x.namespace)
			br.Namespace = &ns
		}
		brs = append(brs, br)
	}
	r.Spec.Rules[0].BackendRefs = brs
}

// waitFor polls cond every 20ms for up to 30 seconds; cond explains itself
// when it is not yet true.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	poll.Must(t, what, 20*time.Millisecond, 30*time.Second, cond)
}

// ourParent returns the route's parent status written by this controller for
// the fixture's Gateway.
func (f *fixture) ourParent(r *gatewayv1.HTTPRoute) *gatewayv1.RouteParentStatus {
	for i := range r.Status.Parents {
		p := &r.Status.Parents[i]
		if string(p.ControllerName) == translate.DefaultControllerName && string(p.ParentRef.Name) == f.gateway.Name &&
			p.ParentRef.Namespace != nil && string(*p.ParentRef.Namespace) == f.gateway.Namespace {
			return p
		}
	}
	return nil
}

// MustRouteStatus waits until the route's parent status for the fixture's
// Gateway is for the route's current generation and has Accepted and
// ResolvedRefs as given, and returns the route.
func (f *fixture) MustRouteStatus(name string, accepted bool, resolved bool, resolvedReason string) *gatewayv1.HTTPRoute {
	f.t.Helper()
	r := &gatewayv1.HTTPRoute{}
	waitFor(f.t, "status of HTTPRoute "+name, func() (bool, string) {
		if err := kube.Get(context.Background(), types.NamespacedName{Namespace: f.appNS, Name: name}, r); err != nil {
			return false, err.Error()
		}
		p := f.ourParent(r)
		if p == nil {
			return false, fmt.Sprintf("no parent entry of ours in %+v", r.Status.Parents)
		}
		for _, c := range []struct {
			typ    string
			want   bool
			reason string
		}{
			{string(gatewayv1.RouteConditionAccepted), accepted, ""},
			{string(gatewayv1.RouteConditionResolvedRefs), resolved, resolvedReason},
		} {
			got := meta.FindStatusCondition(p.Conditions, c.typ)
			if got == nil {
				return false, "no " + c.typ
			}
			if got.ObservedGeneration != r.Generation {
				return false, fmt.Sprintf("%s observedGeneration %d, route generation %d", c.typ, got.ObservedGeneration, r.Generation)
			}
			if (got.Status == metav1.ConditionTrue) != c.want || (c.reason != "" && got.Reason != c.reason) {
				return false, fmt.Sprintf("%s is %s/%s (%s)", c.typ, got.Status, got.Reason, got.Message)
			}
		}
		return true, ""
	})
	return r
}

// count sends n requests for traffic.split.example and counts the answers
// by body (or by status code for answers the proxy gives itself).
func (f *fixture) count(n int) map[string]int {
	f.t.Helper()
	out := map[string]int{}
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	for range n {
		req, _ := http.NewRequest(http.MethodGet, f.url+"/hello", nil)
		req.Host = "traffic.split.example"
		res, err := c.Do(req)
		if err != nil {
			f.t.Fatalf("request through the proxy: %v", err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			out[string(b)]++
		} else {
			out[strconv.Itoa(res.StatusCode)]++
		}
	}
	return out
}

func equalCounts(got, want map[string]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// TestExample1 replays the doc's Example 1 through the API server: statuses
// with observedGeneration, attachedRoutes, addresses, supportedFeatures, and
// a 10/10/80 split of real requests. The smooth picker makes the split exact
// (100/100/800 of 1000), so the assertion cannot fail by chance.
func TestExample1(t *testing.T) {
	f := MustFixture(t, picker.Smooth)
	for _, v := range []string{"helloworld-v1", "helloworld-v2", "helloworld-v3"} {
		f.MustBackend(v)
	}
	MustCreate(t, f.route("traffic-split", ref{"", "helloworld-v1", 10}, ref{"", "helloworld-v2", 10}, ref{"", "helloworld-v3", 80}))
	f.MustRouteStatus("traffic-split", true, true, string(gatewayv1.RouteReasonResolvedRefs))

	gw := &gatewayv1.Gateway{}
	waitFor(t, "Gateway status", func() (bool, string) {
		if err := kube.Get(context.Background(), f.gateway, gw); err != nil {
			return false, err.Error()
		}
		for _, typ := range []string{string(gatewayv1.GatewayConditionAccepted), string(gatewayv1.GatewayConditionProgrammed)} {
			c := meta.FindStatusCondition(gw.Status.Conditions, typ)
			if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != gw.Generation {
				return false, fmt.Sprintf("%s: %+v", typ, c)
			}
		}
		if len(gw.Status.Listeners) != 1 || gw.Status.Listeners[0].AttachedRoutes != 1 {
			return false, fmt.Sprintf("listeners %+v", gw.Status.Listeners)
		}
		return true, ""
	})
	if a := gw.Status.Addresses; len(a) != 1 || a[0].Value != "127.0.0.1" || a[0].Type == nil || *a[0].Type != gatewayv1.IPAddressType {
		t.Errorf("addresses %+v, want IPAddress 127.0.0.1", a)
	}
	l := gw.Status.Listeners[0]
	if len(l.SupportedKinds) != 1 || l.SupportedKinds[0].Kind != "HTTPRoute" {
		t.Errorf("supportedKinds %+v", l.SupportedKinds)
	}
	for _, typ := range []string{"Accepted", "ResolvedRefs", "Programmed"} {
		if c := meta.FindStatusCondition(l.Conditions, typ); c == nil || c.Status != metav1.ConditionTrue {
			t.Errorf("listener %s: %+v", typ, c)
		}
	}
	gc := &gatewayv1.GatewayClass{}
	if err := kube.Get(context.Background(), types.NamespacedName{Name: className}, gc); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(gc.Status.Conditions, "Accepted"); c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != gc.Generation {
		t.Errorf("GatewayClass Accepted %+v", c)
	}
	if !equality.Semantic.DeepEqual(gc.Status.SupportedFeatures, controller.SupportedFeatures()) {
		t.Errorf("supportedFeatures %v, want %v", gc.Status.SupportedFeatures, controller.SupportedFeatures())
	}

	got := f.count(1000)
	want := map[string]int{"helloworld-v1": 100, "helloworld-v2": 100, "helloworld-v3": 800}
	if !equalCounts(got, want) {
		t.Errorf("split %v, want %v", got, want)
	}
}

// TestInvalidBackendRef: a ref to a missing Service keeps its share as 500s
// and makes ResolvedRefs False/BackendNotFound while the route stays Accepted.
func TestInvalidBackendRef(t *testing.T) {
	f := MustFixture(t, picker.Smooth)
	f.MustBackend("good")
	MustCreate(t, f.route("half-broken", ref{"", "good", 1}, ref{"", "missing", 1}))
	f.MustRouteStatus("half-broken", true, false, string(gatewayv1.RouteReasonBackendNotFound))
	if got, want := f.count(100), map[string]int{"good": 50, "500": 50}; !equalCounts(got, want) {
		t.Errorf("answers %v, want %v", got, want)
	}
}

// TestReferenceGrant: a cross-namespace backendRef is RefNotPermitted (500)
// until a ReferenceGrant in the Service's namespace allows it.
func TestReferenceGrant(t *testing.T) {
	f := MustFixture(t, picker.Smooth)
	f.MustBackend("other-ns-app")
	// The route lives in the Gateway's namespace and refers to the app namespace.
	r := f.route("cross", ref{f.appNS, "other-ns-app", 1})
	r.Namespace = f.gwNS
	MustCreate(t, r)
	name := types.NamespacedName{Namespace: f.gwNS, Name: "cross"}
	waitResolved := func(want bool, reason string) {
		t.Helper()
		waitFor(t, "ResolvedRefs "+reason, func() (bool, string) {
			got := &gatewayv1.HTTPRoute{}
			if err := kube.Get(context.Background(), name, got); err != nil {
				return false, err.Error()
			}
			p := f.ourParent(got)
			if p == nil {
				return false, "no parent entry"
			}
			c := meta.FindStatusCondition(p.Conditions, string(gatewayv1.RouteConditionResolvedRefs))
			if c == nil || (c.Status == metav1.ConditionTrue) != want || c.Reason != reason {
				return false, fmt.Sprintf("%+v", c)
			}
			return true, ""
		})
	}
	waitResolved(false, string(gatewayv1.RouteReasonRefNotPermitted))
	if got := f.count(10); !equalCounts(got, map[string]int{"500": 10}) {
		t.Errorf("without a ReferenceGrant: %v, want 10 × 500", got)
	}
	MustCreate(t, &gatewayv1beta1.ReferenceGrant{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.appNS, Name: "allow-routes"},
		Spec: gatewayv1beta1.ReferenceGrantSpec{
			From: []gatewayv1beta1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: "HTTPRoute", Namespace: gatewayv1.Namespace(f.gwNS)}},
			To:   []gatewayv1beta1.ReferenceGrantTo{{Group: "", Kind: "Service"}},
		},
	})
	waitResolved(true, string(gatewayv1.RouteReasonResolvedRefs))
	waitFor(t, "traffic to flow", func() (bool, string) {
		got := f.count(10)
		return equalCounts(got, map[string]int{"other-ns-app": 10}), fmt.Sprint(got)
	})
}

// TestRouteUpdate: changing the route's refs swaps the table, and the status
// follows the new generation; a rebuild that changes nothing rewrites no
// status.
func TestRouteUpdate(t *testing.T) {
	f := MustFixture(t, picker.Smooth)
	f.MustBackend("blue")
	f.MustBackend("green")
	MustCreate(t, f.route("canary", ref{"", "blue", 1}))
	r := f.MustRouteStatus("canary", true, true, "")
	if got := f.count(10); !equalCounts(got, map[string]int{"blue": 10}) {
		t.Fatalf("before the update: %v", got)
	}
	gen := f.proxy.Status().Generation
	setRefs(r, ref{"", "blue", 1}, ref{"", "green", 3})
	if err := kube.Update(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	r = f.MustRouteStatus("canary", true, true, "")
	if g := f.proxy.Status().Generation; g <= gen {
		t.Errorf("proxy generation %d after the update, was %d", g, gen)
	}
	if got := f.count(100); !equalCounts(got, map[string]int{"blue": 25, "green": 75}) {
		t.Errorf("after the update: %v, want blue 25 green 75", got)
	}

	// An unrelated change triggers a rebuild with the same result: the
	// statuses must not be written again.
	gw := &gatewayv1.Gateway{}
	if err := kube.Get(context.Background(), f.gateway, gw); err != nil {
		t.Fatal(err)
	}
	routeRV, gwRV, runs := r.ResourceVersion, gw.ResourceVersion, f.ctl.Runs()
	MustCreate(t, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.appNS, Name: "unrelated"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 1}}},
	})
	waitFor(t, "a rebuild", func() (bool, string) { return f.ctl.Runs() > runs, "" })
	// Let any write of that rebuild land before reading.
	time.Sleep(200 * time.Millisecond)
	if err := kube.Get(context.Background(), client.ObjectKeyFromObject(r), r); err != nil {
		t.Fatal(err)
	}
	if err := kube.Get(context.Background(), f.gateway, gw); err != nil {
		t.Fatal(err)
	}
	if r.ResourceVersion != routeRV || gw.ResourceVersion != gwRV {
		t.Errorf("an unchanged status was rewritten: route %s→%s, gateway %s→%s", routeRV, r.ResourceVersion, gwRV, gw.ResourceVersion)
	}
}

// TestOtherControllersParents: a route attached to our Gateway and to one of
// another controller keeps the other controller's parent entry exactly as
// written, and the other Gateway gets no status from us.
func TestOtherControllersParents(t *testing.T) {
	f := MustFixture(t, picker.Smooth)
	f.MustBackend("app")
	ctx := context.Background()
	const otherClass, otherController = "other-class", "example.com/other-controller"
	if err := kube.Get(ctx, types.NamespacedName{Name: otherClass}, &gatewayv1.GatewayClass{}); err != nil {
		MustCreate(t, &gatewayv1.GatewayClass{
			ObjectMeta: metav1.ObjectMeta{Name: otherClass},
			Spec:       gatewayv1.GatewayClassSpec{ControllerName: otherController},
		})
	}
	MustCreate(t, &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.gwNS, Name: "theirs"},
		Spec:       gatewayv1.GatewaySpec{GatewayClassName: otherClass, Listeners: []gatewayv1.Listener{{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType}}},
	})
	r := f.route("shared", ref{"", "app", 1})
	gwNS := gatewayv1.Namespace(f.gwNS)
	theirRef := gatewayv1.ParentReference{Name: "theirs", Namespace: &gwNS}
	r.Spec.ParentRefs = append(r.Spec.ParentRefs, theirRef)
	MustCreate(t, r)
	// The other controller writes its entry (before or after ours: Update
	// with conflict retry must keep it either way).
	theirEntry := gatewayv1.RouteParentStatus{
		ParentRef: theirRef, ControllerName: otherController,
		Conditions: []metav1.Condition{{
			Type: "Accepted", Status: metav1.ConditionFalse, Reason: "TheirReason", Message: "written by another controller",
			ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)),
		}},
	}
	// stored is their entry as the API server keeps it (with the parentRef's
	// group and kind defaulted).
	var stored gatewayv1.RouteParentStatus
	waitFor(t, "the other controller's write", func() (bool, string) {
		cur := &gatewayv1.HTTPRoute{}
		if err := kube.Get(ctx, client.ObjectKeyFromObject(r), cur); err != nil {
			return false, err.Error()
		}
		cur.Status.Parents = append(cur.Status.Parents, theirEntry)
		if err := kube.Status().Update(ctx, cur); err != nil {
			return false, err.Error()
		}
		for _, p := range cur.Status.Parents {
			if p.ControllerName == otherController {
				stored = p
			}
		}
		return true, ""
	})
	got := f.MustRouteStatus("shared", true, true, "")
	var theirs []gatewayv1.RouteParentStatus
	for _, p := range got.Status.Parents {
		if p.ControllerName == otherController {
			theirs = append(theirs, p)
		}
	}
	if len(theirs) != 1 || !equality.Semantic.DeepEqual(theirs[0], stored) {
		t.Errorf("other controller's entries %+v, want exactly %+v", theirs, stored)
	}
	if len(got.Status.Parents) != 2 {
		t.Errorf("%d parent entries, want ours and theirs: %+v", len(got.Status.Parents), got.Status.Parents)
	}
	other := &gatewayv1.Gateway{}
	if err := kube.Get(ctx, types.NamespacedName{Namespace: f.gwNS, Name: "theirs"}, other); err != nil {
		t.Fatal(err)
	}
	for _, c := range other.Status.Conditions {
		if c.Reason != "Pending" {
			t.Errorf("another controller's Gateway got condition %+v", c)
		}
	}
	if len(other.Status.Addresses) != 0 || len(other.Status.Listeners) != 0 {
		t.Errorf("another controller's Gateway got status %+v", other.Status)
	}
}

// TestGatewayFilter: a controller restricted to one Gateway neither serves
// nor writes status for the Gateway of another instance.
func TestGatewayFilter(t *testing.T) {
	a := MustFixture(t, picker.Smooth)
	b := MustFixture(t, picker.Smooth)
	a.MustBackend("only-a")
	MustCreate(t, a.route("for-a", ref{"", "only-a", 1}))
	a.MustRouteStatus("for-a", true, true, "")
	r := &gatewayv1.HTTPRoute{}
	if err := kube.Get(context.Background(), types.NamespacedName{Namespace: a.appNS, Name: "for-a"}, r); err != nil {
		t.Fatal(err)
	}
	if len(r.Status.Parents) != 1 {
		t.Errorf("parents %+v, want only a's", r.Status.Parents)
	}
	if got := b.count(3); !equalCounts(got, map[string]int{"404": 3}) {
		t.Errorf("instance b answered %v for a's route, want 404s", got)
	}
	if !strings.Contains(fmt.Sprint(a.count(1)), "only-a") {
		t.Error("instance a does not serve its route")
	}
}

// TestListenerFailure: when the table cannot be served (a port that cannot
// be bound), the Gateway is not Programmed and says why, and the proxy
// records the failure.
func TestListenerFailure(t *testing.T) {
	f := MustFixture(t, picker.Smooth, func(o *controller.Options) {
		p := o.Proxy
		o.Apply = func(tb *route.Table) error {
			if tb.Port(80) != nil {
				err := errors.New("listen for gateway port 80: permission denied")
				p.ReloadFailed(err)
				return err
			}
			_, err := p.Install(tb)
			return err
		}
	})
	waitFor(t, "Programmed False", func() (bool, string) {
		gw := &gatewayv1.Gateway{}
		if err := kube.Get(context.Background(), f.gateway, gw); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed))
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != string(gatewayv1.GatewayReasonInvalid) || !strings.Contains(c.Message, "permission denied") {
			return false, fmt.Sprintf("%+v", c)
		}
		return true, ""
	})
	if ready, why := f.proxy.Status().Ready(); ready {
		t.Errorf("proxy ready (%s) although its table could not be served", why)
	}
}
