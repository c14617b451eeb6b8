//go:build integration

package install

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/internal/kubetest"
	"github.com/splitproof/splitproof/refproxy/controller"
	"github.com/splitproof/splitproof/refproxy/provision"
	"github.com/splitproof/splitproof/refproxy/proxy"
)

// TestAPIServer checks the manifests against a real kube-apiserver with
// the embedded CRDs installed (one server for all subtests: start-up is the
// slow part). The server authorizes with RBAC, as a cluster does.
func TestAPIServer(t *testing.T) {
	env := kubetest.MustStart(t, "crds")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	kube := kubernetes.NewForConfigOrDie(env.Config)
	// Admission refuses objects in a namespace that does not exist, so the
	// namespace is really created; everything else is only dry-run first.
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	live, err := NewApplier(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	dry, err := NewApplier(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	dry.DryRun = true
	a := &applier{live: live, dry: dry}

	// Server-side apply with dryRun=All: schema validation (CRD schemas and
	// CEL rules included), defaulting and admission run; nothing is stored.
	for _, p := range []Profile{Doc, Conformance} {
		t.Run("dry-run/"+p.String(), func(t *testing.T) {
			kinds := map[string]bool{}
			for _, o := range MustObjects(t, p) {
				kinds[o.GetKind()] = true
				if err := a.apply(ctx, o, true); err != nil {
					t.Error(err)
				}
			}
			for _, k := range []string{"CustomResourceDefinition", "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "GatewayClass", "Gateway", "Deployment", "Service"} {
				if !kinds[k] {
					t.Errorf("no %s was validated", k)
				}
			}
		})
	}

	t.Run("rbac", func(t *testing.T) { testRBAC(ctx, t, env, a) })
	t.Run("rbac-provisioner", func(t *testing.T) { testProvisionerRBAC(ctx, t, env, a) })
}

type applier struct{ live, dry *Applier }

func (a *applier) apply(ctx context.Context, o *unstructured.Unstructured, dryRun bool) error {
	if dryRun {
		return a.dry.Apply(ctx, o)
	}
	return a.live.Apply(ctx, o)
}

// request is what RBAC authorizes: verb, API group, resource, subresource.
type request struct{ verb, group, resource, sub string }

// recorder notes the request of every API call made through it.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen map[request]bool
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if rq, ok := parseRequest(req); ok {
		r.mu.Lock()
		r.seen[rq] = true
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

// parseRequest maps a resource request to its RBAC terms (as the API
// server's RequestInfo does): /api/v1/... is the core group;
// /apis/GROUP/VERSION/... the rest; an optional namespaces/NS prefix; GET
// of a collection is list (watch with ?watch=true), of one object get.
func parseRequest(req *http.Request) (request, bool) {
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	var group string
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		group, parts = parts[1], parts[3:]
	default:
		return request{}, false // discovery, /version, health
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		parts = parts[2:]
	}
	rq := request{group: group, resource: parts[0]}
	named := len(parts) >= 2
	if len(parts) >= 3 {
		rq.sub = parts[2]
	}
	switch req.Method {
	case http.MethodGet:
		switch {
		case req.URL.Query().Get("watch") == "true" || req.URL.Query().Get("watch") == "1":
			rq.verb = "watch"
		case named:
			rq.verb = "get"
		default:
			rq.verb = "list"
		}
	case http.MethodPut:
		rq.verb = "update"
	case http.MethodPatch:
		rq.verb = "patch"
	case http.MethodPost:
		rq.verb = "create"
	case http.MethodDelete:
		rq.verb = "delete"
	default:
		rq.verb = strings.ToLower(req.Method)
	}
	return rq, true
}

func allowed(rules []rbacv1.PolicyRule, rq request) bool {
	res := rq.resource
	if rq.sub != "" {
		res += "/" + rq.sub
	}
	for _, r := range rules {
		if slices.Contains(r.APIGroups, rq.group) && slices.Contains(r.Resources, res) && slices.Contains(r.Verbs, rq.verb) {
			return true
		}
	}
	return false
}

// testRBAC installs the Doc profile for real, runs the controller as the
// Deployment does (same Gateways and address Service, and the identity of
// its ServiceAccount, so the API server's RBAC decides every request)
// against the API server, waits until it has written the status of the
// GatewayClass, both Gateways and a route, and checks that every request it
// made is granted by the ClusterRole. The rule-by-rule check names the
// missing rule, where the server's refusal would only show as status that
// never comes.
func testRBAC(ctx context.Context, t *testing.T, env *envtest.Environment, a *applier) {
	cfg := env.Config
	objs := MustObjects(t, Doc)
	var rules []rbacv1.PolicyRule
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" || o.GroupVersionKind().Group == "admissionregistration.k8s.io" {
			continue // installed by envtest
		}
		if err := a.apply(ctx, o, false); err != nil {
			t.Fatal(err)
		}
		if o.GetKind() == "ClusterRole" {
			var cr rbacv1.ClusterRole
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &cr); err != nil {
				t.Fatal(err)
			}
			rules = cr.Rules
		}
	}
	if len(rules) == 0 {
		t.Fatal("no ClusterRole in the manifests")
	}
	route := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "r", "namespace": Namespace},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "http"}},
			"rules":      []any{map[string]any{"backendRefs": []any{map[string]any{"name": "missing", "port": int64(80)}}}},
		},
	}}
	if err := a.apply(ctx, route, false); err != nil {
		t.Fatal(err)
	}

	rec := &recorder{seen: map[request]bool{}}
	ccfg := MustServiceAccount(t, env, "refproxy")
	ccfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { rec.next = rt; return rec })
	p, err := proxy.New(proxy.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := controller.New(ccfg, controller.Options{
		Proxy:     p,
		Gateways:  []types.NamespacedName{{Namespace: Namespace, Name: "http"}, {Namespace: Namespace, Name: "agentgateway-proxy"}},
		Addresses: controller.ServiceAddresses(types.NamespacedName{Namespace: Namespace, Name: ProxyService}),
	})
	if err != nil {
		t.Fatal(err)
	}
	cctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- ctl.Start(cctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("controller: %v", err)
		}
	}()

	// No load balancer runs here: the test plays conformance/lb and gives
	// Service http an ingress address, which the Gateways must then carry.
	kube := kubernetes.NewForConfigOrDie(cfg)
	svc, err := kube.CoreV1().Services(Namespace).Get(ctx, ProxyService, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const lbIP = "172.18.255.200"
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: lbIP}}
	if _, err := kube.CoreV1().Services(Namespace).UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(cfg)
	gvr := func(res string) dynamic.NamespaceableResourceInterface {
		return dyn.Resource(schema.GroupVersion(gatewayv1.GroupVersion).WithResource(res))
	}
	var pending []string
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		pending = nil
		gc, err := gvr("gatewayclasses").Get(ctx, GatewayClassName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if c, _, _ := unstructured.NestedSlice(gc.Object, "status", "conditions"); !hasTrue(c, "Accepted") {
			pending = append(pending, "GatewayClass Accepted")
		}
		for _, name := range []string{"http", "agentgateway-proxy"} {
			gw, err := gvr("gateways").Namespace(Namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			addrs, _, _ := unstructured.NestedSlice(gw.Object, "status", "addresses")
			if len(addrs) != 1 || addrs[0].(map[string]any)["value"] != lbIP {
				pending = append(pending, fmt.Sprintf("Gateway %s addresses %v, want Service %s's ingress %s", name, addrs, ProxyService, lbIP))
			}
		}
		r, err := gvr("httproutes").Namespace(Namespace).Get(ctx, "r", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if parents, _, _ := unstructured.NestedSlice(r.Object, "status", "parents"); len(parents) != 1 {
			pending = append(pending, fmt.Sprintf("HTTPRoute parents %v", parents))
		}
		return len(pending) == 0, nil
	})
	if err != nil {
		// A denied request is the likely cause: say which first.
		MustBeGranted(t, rec, rules, "controller")
		t.Fatalf("controller did not write status: %v (pending: %v)", err, pending)
	}

	seen := MustBeGranted(t, rec, rules, "controller")
	for _, must := range []string{"update gateway.networking.k8s.io/gateways/status", "watch /services"} {
		if !slices.Contains(seen, must) {
			t.Errorf("no %q request recorded: the recorder is not on the controller's path", must)
		}
	}
}

// testProvisionerRBAC applies the Conformance profile, runs the provisioner
// as its Deployment would (its ServiceAccount's identity, through a request
// recorder), lets it create (and, once the Gateway is deleted, delete) the
// proxy objects of a Gateway, and checks every request against its
// ClusterRole and Role. The objects it creates pass the real API server's
// validation and RBAC on the way.
func testProvisionerRBAC(ctx context.Context, t *testing.T, env *envtest.Environment, a *applier) {
	cfg := env.Config
	var rules []rbacv1.PolicyRule
	for _, o := range MustObjects(t, Conformance) {
		if o.GetKind() == "CustomResourceDefinition" || o.GroupVersionKind().Group == "admissionregistration.k8s.io" {
			continue
		}
		if err := a.apply(ctx, o, false); err != nil {
			t.Fatal(err)
		}
		if (o.GetKind() == "ClusterRole" || o.GetKind() == "Role") && o.GetName() == "splitproof-provisioner" {
			var r rbacv1.Role // a ClusterRole's rules have the same shape
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &r); err != nil {
				t.Fatal(err)
			}
			rules = append(rules, r.Rules...)
		}
	}
	if len(rules) == 0 {
		t.Fatal("no provisioner roles in the Conformance profile")
	}
	dyn := dynamic.NewForConfigOrDie(cfg)
	gateways := dyn.Resource(schema.GroupVersion(gatewayv1.GroupVersion).WithResource("gateways")).Namespace(Namespace)
	gw := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
		"metadata": map[string]any{"name": "suite-gateway", "namespace": Namespace},
		"spec": map[string]any{
			"gatewayClassName": GatewayClassName,
			"listeners":        []any{map[string]any{"name": "http", "port": int64(8080), "protocol": "HTTP"}},
		},
	}}
	if err := a.apply(ctx, gw, false); err != nil {
		t.Fatal(err)
	}

	rec := &recorder{seen: map[request]bool{}}
	ccfg := MustServiceAccount(t, env, "refproxy-provisioner")
	ccfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { rec.next = rt; return rec })
	p, err := provision.New(ccfg, provision.Options{
		Config: provision.Config{Namespace: Namespace, Image: "splitproof/splitproof:dev", ServiceAccount: "refproxy"},
		Skip:   []types.NamespacedName{{Namespace: Namespace, Name: "http"}, {Namespace: Namespace, Name: "agentgateway-proxy"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Start(pctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("provisioner: %v", err)
		}
	}()

	kube := kubernetes.NewForConfigOrDie(cfg)
	id := provision.ObjectName(types.NamespacedName{Namespace: Namespace, Name: "suite-gateway"})
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
			return cond(), nil
		})
		if err != nil {
			MustBeGranted(t, rec, rules, "provisioner")
			t.Fatalf("provisioner: %s did not happen within a minute: %v", what, err)
		}
	}
	exists := func() (dep, svc bool) {
		_, derr := kube.AppsV1().Deployments(Namespace).Get(ctx, id, metav1.GetOptions{})
		_, serr := kube.CoreV1().Services(Namespace).Get(ctx, id, metav1.GetOptions{})
		return derr == nil, serr == nil
	}
	waitFor("Deployment and Service "+id, func() bool { d, s := exists(); return d && s })
	if d, _ := kube.AppsV1().Deployments(Namespace).List(ctx, metav1.ListOptions{LabelSelector: provision.LabelManagedBy + "=" + provision.ManagedBy}); len(d.Items) != 1 {
		t.Errorf("%d provisioned Deployments, want 1 (the doc's Gateways are skipped)", len(d.Items))
	}
	if err := gateways.Delete(ctx, "suite-gateway", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("removal of "+id, func() bool { d, s := exists(); return !d && !s })

	seen := MustBeGranted(t, rec, rules, "provisioner")
	for _, must := range []string{"create apps/deployments", "delete /services", "watch gateway.networking.k8s.io/gateways"} {
		if !slices.Contains(seen, must) {
			t.Errorf("no %q request recorded", must)
		}
	}
}

// MustServiceAccount returns a client configuration that authenticates as
// ServiceAccount name of Namespace: a user envtest provisions with the
// username and groups the API server gives the account's tokens, so that
// RBAC bindings to the ServiceAccount apply to it.
func MustServiceAccount(t *testing.T, env *envtest.Environment, name string) *rest.Config {
	t.Helper()
	u, err := env.AddUser(envtest.User{
		Name:   "system:serviceaccount:" + Namespace + ":" + name,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + Namespace},
	}, &rest.Config{QPS: env.Config.QPS, Burst: env.Config.Burst}) // the admin's rate limits, not client-go's 5 QPS
	if err != nil {
		t.Fatalf("provision ServiceAccount %s/%s as an envtest user: %v", Namespace, name, err)
	}
	// No role of the manifests grants pods: a refusal proves the server
	// really authorizes this identity instead of treating it as an admin.
	cfg := u.Config()
	_, err = kubernetes.NewForConfigOrDie(cfg).CoreV1().Pods(Namespace).List(context.Background(), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("ServiceAccount %s/%s listing pods: %v, want Forbidden", Namespace, name, err)
	}
	return cfg
}

// MustBeGranted fails the test for every request rec saw that rules do not
// grant, and returns the requests seen ("verb group/resource[/sub]"), sorted.
func MustBeGranted(t *testing.T, rec *recorder, rules []rbacv1.PolicyRule, who string) []string {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var denied, seen []string
	for rq := range rec.seen {
		s := fmt.Sprintf("%s %s/%s", rq.verb, rq.group, rq.resource)
		if rq.sub != "" {
			s += "/" + rq.sub
		}
		seen = append(seen, s)
		if !allowed(rules, rq) {
			denied = append(denied, s)
		}
	}
	slices.Sort(seen)
	t.Logf("%s requests: %v", who, seen)
	if len(denied) > 0 {
		slices.Sort(denied)
		t.Errorf("the %s's roles do not grant: %v", who, denied)
	}
	return seen
}

func hasTrue(conds []any, typ string) bool {
	for _, c := range conds {
		m := c.(map[string]any)
		if m["type"] == typ && m["status"] == "True" {
			return true
		}
	}
	return false
}
