package weights

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/conformance/install"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/kube"
	"github.com/splitproof/splitproof/scenarios/replay"
)

// Cluster runs each case against a GatewayClass in a Kubernetes cluster:
// any Gateway API implementation. Open applies the case (clusterplan.go
// says how its objects are named) by server-side apply, waits for the
// Gateway to be Programmed with an address, for the route's status from
// that Gateway (Accepted, and ResolvedRefs True, or False for a case with
// an invalid backendRef) and for the sample app's pods, then reaches the
// Gateway at its status address, or through a port-forward to the Service
// behind that address with PortForward. Its release deletes the case's
// namespace. Like Gateway, a cluster has one mode, whose order is
// classified and reported, never required.
type Cluster struct {
	Config *rest.Config
	// GatewayClass every case's Gateway is given.
	GatewayClass string
	// NamespacePrefix starts each case's namespace (DefaultNamespacePrefix).
	NamespacePrefix string
	// PortForward reaches each Gateway through a port-forward to the
	// Service whose address is the Gateway's (or that carries the label
	// gateway.networking.k8s.io/gateway-name) instead of dialling the
	// address: for a cluster whose load balancer the host cannot reach.
	PortForward bool
	// HelloworldImage runs the backends (DefaultHelloworldImage).
	HelloworldImage string
	// ReadyTimeout bounds the setup of a case: applying it and every wait
	// until it answers (0: 3 minutes).
	ReadyTimeout time.Duration
	// Logger receives progress; nil discards.
	Logger *slog.Logger
}

var _ Target = Cluster{}

// Modes is the cluster's one mode, named after the GatewayClass.
func (c Cluster) Modes() []Mode { return []Mode{{Name: "gatewayclass " + c.GatewayClass}} }

// Open applies s to the cluster and returns its Gateway's endpoint once
// everything is ready; release deletes what was applied.
func (c Cluster) Open(ctx context.Context, s *scenarios.Scenario, _ Mode) (*replay.Endpoint, func() error, error) {
	cc, err := c.open(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	return cc.ep, cc.release, nil
}

func (c Cluster) withDefaults() Cluster {
	if c.NamespacePrefix == "" {
		c.NamespacePrefix = DefaultNamespacePrefix
	}
	if c.HelloworldImage == "" {
		c.HelloworldImage = DefaultHelloworldImage
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = 3 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// clusterCase is one applied case.
type clusterCase struct {
	plan    *ClusterPlan
	ep      *replay.Endpoint
	applier *install.Applier
	route   *unstructured.Unstructured
	release func() error
}

var (
	gatewayGVR = gatewayResource("gateways")
	routeGVR   = gatewayResource("httproutes")
)

func gatewayResource(name string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: gatewayv1.GroupVersion.Group, Version: gatewayv1.GroupVersion.Version, Resource: name}
}

func (c Cluster) open(ctx context.Context, s *scenarios.Scenario) (cc *clusterCase, err error) {
	c = c.withDefaults()
	if c.Config == nil {
		return nil, errors.New("cluster target: no kubeconfig")
	}
	ns := CaseNamespace(c.NamespacePrefix, s.Name)
	plan, err := PlanCase(s, c.GatewayClass, ns, c.HelloworldImage)
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client for %s: %w", c.Config.Host, err)
	}
	applier, err := install.NewApplier(c.Config)
	if err != nil {
		return nil, err
	}
	reader, err := kube.NewReader(c.Config)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, c.ReadyTimeout)
	defer cancel()
	// A namespace of an earlier run still terminating refuses new objects,
	// and an earlier case's Gateway still draining may keep answering on an
	// address or hostname this case gets (a load balancer handing a freed
	// address out again): every case's namespace must be gone first.
	if err := waitCasesGone(wctx, client); err != nil {
		return nil, err
	}
	cc = &clusterCase{plan: plan, applier: applier}
	var closers []io.Closer
	cc.release = func() error {
		for _, cl := range closers {
			_ = cl.Close()
		}
		// Background: the case is gone for the next one (it has a
		// namespace of its own); an immediate rerun waits in open.
		bg := metav1.DeletePropagationBackground
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := client.CoreV1().Namespaces().Delete(dctx, ns, metav1.DeleteOptions{PropagationPolicy: &bg})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete namespace %s: %w", ns, err)
		}
		return nil
	}
	defer func() {
		if err != nil {
			_ = cc.release()
		}
	}()
	c.Logger.Info("applying case", "case", s.Name, "namespace", ns, "objects", len(plan.Objects), "gatewayclass", c.GatewayClass)
	for _, o := range plan.Objects {
		if err := applier.Apply(wctx, o); err != nil {
			return cc, fmt.Errorf("case %s: %w", s.Name, err)
		}
		if o.GetKind() == "HTTPRoute" && o.GetName() == plan.Route {
			cc.route = o
		}
	}
	gw := types.NamespacedName{Namespace: ns, Name: plan.Gateways[0]}
	if err := c.waitReady(wctx, client, plan); err != nil {
		return cc, fmt.Errorf("case %s: %w", s.Name, err)
	}
	if c.PortForward {
		ep, closer, err := c.forward(wctx, client, reader, gw)
		if err != nil {
			return cc, fmt.Errorf("case %s: %w", s.Name, err)
		}
		closers = append(closers, closer)
		cc.ep = ep
	} else {
		addr, port, err := kube.GatewayAddress(wctx, reader, gw)
		if err != nil {
			return cc, fmt.Errorf("case %s: %w", s.Name, err)
		}
		ep, err := replay.AddressEndpoint("http://"+net.JoinHostPort(addr, strconv.Itoa(int(port))), "")
		if err != nil {
			return cc, fmt.Errorf("case %s: Gateway %s's address: %w", s.Name, gw, err)
		}
		ep.Name = fmt.Sprintf("Gateway %s (class %s) at %s", gw, c.GatewayClass, net.JoinHostPort(addr, strconv.Itoa(int(port))))
		cc.ep = ep
	}
	if err := waitAnswering(wctx, s, plan, cc.ep); err != nil {
		return cc, fmt.Errorf("case %s: %w", s.Name, err)
	}
	c.Logger.Info("case ready", "case", s.Name, "endpoint", cc.ep.Name)
	return cc, nil
}

// waitReady waits for the Gateways to be Programmed with an address, the
// route's status from the first Gateway and the sample app's rollout.
func (c Cluster) waitReady(ctx context.Context, client kubernetes.Interface, p *ClusterPlan) error {
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	for _, name := range p.Gateways {
		var last string
		err := poll(ctx, func(ctx context.Context) bool {
			u, err := dyn.Resource(gatewayGVR).Namespace(p.Namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				last = err.Error()
				return false
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			addrs, _, _ := unstructured.NestedSlice(u.Object, "status", "addresses")
			last = fmt.Sprintf("Programmed %q, %d addresses", condition(conds, "Programmed"), len(addrs))
			return condition(conds, "Programmed") == "True" && len(addrs) > 0
		})
		if err != nil {
			return fmt.Errorf("Gateway %s/%s not Programmed with an address within the case's setup time, %s (%s): is GatewayClass %s served?", p.Namespace, name, c.ReadyTimeout, last, c.GatewayClass)
		}
	}
	want := map[bool]string{true: "True", false: "False"}[p.ResolvedRefs]
	var last string
	err = poll(ctx, func(ctx context.Context) bool {
		u, err := dyn.Resource(routeGVR).Namespace(p.Namespace).Get(ctx, p.Route, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false
		}
		parents, _, _ := unstructured.NestedSlice(u.Object, "status", "parents")
		last = "no status from Gateway " + p.Gateways[0]
		for _, ps := range parents {
			m, _ := ps.(map[string]any)
			ref, _ := m["parentRef"].(map[string]any)
			if ref["name"] != p.Gateways[0] {
				continue
			}
			conds, _ := m["conditions"].([]any)
			acc, res := condition(conds, "Accepted"), condition(conds, "ResolvedRefs")
			last = fmt.Sprintf("Accepted %q, ResolvedRefs %q", acc, res)
			return acc == "True" && res == want
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("HTTPRoute %s/%s not Accepted with ResolvedRefs %s within the case's setup time, %s (%s)", p.Namespace, p.Route, want, c.ReadyTimeout, last)
	}
	for _, d := range p.Deployments {
		if err := install.WaitRolled(ctx, client, p.Namespace, d); err != nil {
			return err
		}
	}
	return nil
}

// waitAnswering sends the case's request until every category with a
// positive weight has been answered once (the gateway may learn of
// endpoints after its status says the route is accepted), or, for a rule
// with no positive weight, until any answer comes.
func waitAnswering(ctx context.Context, s *scenarios.Scenario, p *ClusterPlan, ep *replay.Endpoint) error {
	cats, err := s.Expected()
	if err != nil {
		return err
	}
	re, err := regexp.Compile(s.Classify.Regexp)
	if err != nil {
		return fmt.Errorf("classify.regexp: %w", err)
	}
	served := map[string]bool{}
	for _, v := range s.Embedded.Helloworld {
		served[v] = true
	}
	// A category named by a status ("500" for an invalid backendRef,
	// "503" for one without endpoints) is the gateway's own answer: seeing
	// it too means the whole rule is in the gateway's table.
	pending := map[string]bool{}
	for _, c := range cats {
		if _, err := strconv.Atoi(c.Name); c.Weight > 0 && (served[c.Name] || err == nil) {
			pending[c.Name] = true
		}
	}
	anyAnswer := totalWeight(cats) == 0
	client := ep.Client()
	defer client.CloseIdleConnections()
	var last string
	err = poll(ctx, func(ctx context.Context) bool {
		// A burst per poll: a 1 % backend needs a few hundred requests.
		for range 100 {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost:8080/hello", nil)
			if err != nil {
				last = err.Error()
				return false
			}
			req.Host = p.Host
			res, err := client.Do(req)
			if err != nil {
				last = err.Error()
				return false
			}
			body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
			_ = res.Body.Close()
			last = fmt.Sprintf("last answer %d", res.StatusCode)
			if anyAnswer {
				return true
			}
			if m := re.FindStringSubmatch(string(body)); m != nil {
				delete(pending, m[1])
			} else {
				delete(pending, strconv.Itoa(res.StatusCode))
			}
			if len(pending) == 0 {
				return true
			}
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("host %s: %v never answered through the Gateway (%s)", p.Host, sortedKeys(pending), last)
	}
	return nil
}

// forward opens a port-forward to the Service behind Gateway gw.
func (c Cluster) forward(ctx context.Context, client kubernetes.Interface, reader ctrlclient.Reader, gw types.NamespacedName) (*replay.Endpoint, io.Closer, error) {
	addr, port, err := kube.GatewayAddress(ctx, reader, gw)
	if err != nil {
		return nil, nil, err
	}
	svcs, err := client.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("list Services to find Gateway %s's: %w", gw, err)
	}
	svc := GatewayService(svcs.Items, gw, addr)
	if svc == nil {
		return nil, nil, fmt.Errorf("no Service behind Gateway %s: none has its address %s or the label %s=%s", gw, addr, gatewayNameLabel, gw.Name)
	}
	to := kube.ForwardTarget{Namespace: svc.Namespace, Kind: "svc", Name: svc.Name, Port: int(port)}
	// A Gateway may be Programmed before its proxy's pod is Ready.
	var ep *replay.Endpoint
	var closer io.Closer
	var last error
	err = poll(ctx, func(ctx context.Context) bool {
		ep, closer, last = kube.Connect(ctx, c.Config, kube.Options{Logger: c.Logger, GatewayRef: &gw, ForwardTo: &to})
		return last == nil || !errors.Is(last, kube.ErrNoReadyPod)
	})
	if last == nil && err != nil {
		last = err
	}
	if last != nil {
		return nil, nil, last
	}
	return ep, closer, nil
}

// gatewayNameLabel is the label GEP-1762 asks implementations to put on
// the resources they create for a Gateway.
const gatewayNameLabel = "gateway.networking.k8s.io/gateway-name"

// GatewayService picks the Service behind Gateway gw, whose status
// address is addr: one in gw's namespace labelled with its name, else one
// whose load-balancer address or cluster IP is addr. nil when none is.
func GatewayService(svcs []corev1.Service, gw types.NamespacedName, addr string) *corev1.Service {
	for i, s := range svcs {
		if s.Namespace == gw.Namespace && s.Labels[gatewayNameLabel] == gw.Name {
			return &svcs[i]
		}
	}
	for i, s := range svcs {
		for _, in := range s.Status.LoadBalancer.Ingress {
			if in.IP == addr || in.Hostname == addr {
				return &svcs[i]
			}
		}
		if s.Spec.ClusterIP == addr {
			return &svcs[i]
		}
	}
	return nil
}

// waitCasesGone waits while a namespace labelled CaseLabel (this run's
// earlier cases, or an earlier run's) is terminating.
func waitCasesGone(ctx context.Context, client kubernetes.Interface) error {
	var left []string
	err := poll(ctx, func(ctx context.Context) bool {
		list, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: CaseLabel})
		if err != nil {
			return false
		}
		left = left[:0]
		for _, n := range list.Items {
			if n.Status.Phase == corev1.NamespaceTerminating {
				left = append(left, n.Name)
			}
		}
		return len(left) == 0
	})
	if err != nil {
		return fmt.Errorf("namespaces of earlier cases still terminating (%s): %w", strings.Join(left, ", "), err)
	}
	return nil
}

// poll calls done every second until it says so or ctx ends.
func poll(ctx context.Context, done func(context.Context) bool) error {
	return wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		return done(ctx), nil
	})
}

// condition is the status of the condition of type t in conds ("" when
// absent).
func condition(conds []any, t string) string {
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == t {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}

// WeightChange is the case the controller-mode measurement patches: v1/v2
// at 100/0 to begin with. It is not a suite case.
func WeightChange() (*scenarios.Scenario, error) {
	root, err := fs.Sub(extra, "cases")
	if err != nil {
		return nil, err
	}
	return scenarios.Load(root, "weight-change")
}

// clusterCycle is the doc's progression, then back to the start so that
// every repeat begins at 100/0.
var clusterCycle = []split{{100, 0}, {90, 10}, {50, 50}, {0, 100}, {100, 0}}

// DefaultClusterChangeRepeats is how many times MeasureClusterChanges
// runs the progression.
const DefaultClusterChangeRepeats = 3

// MeasureClusterChanges applies the weight-change case to the cluster and
// patches its route's weights through clusterCycle opts.Repeats times
// (0: DefaultClusterChangeRepeats), measuring each change from the moment
// the patch (a server-side apply of the route with the new weights) was
// sent to the first correct window, as MeasureChanges
// does in file mode. A gateway in a cluster does not say when it applied
// a table, so Applied and Stale stay 0. opts.Timeout defaults to 30 s.
func MeasureClusterChanges(ctx context.Context, c Cluster, opts ChangeOptions) (changes []Change, err error) {
	if opts.Repeats <= 0 {
		opts.Repeats = DefaultClusterChangeRepeats
	}
	opts = opts.withDefaults(30 * time.Second)
	s, err := WeightChange()
	if err != nil {
		return nil, fmt.Errorf("weight-change case: %w", err)
	}
	cc, err := c.open(ctx, s)
	if err != nil {
		return nil, err
	}
	defer func() {
		if rerr := cc.release(); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if cc.route == nil {
		return nil, fmt.Errorf("weight-change case: route %s was not applied", cc.plan.Route)
	}
	return runChanges(ctx, &clusterRoute{cc: cc, http: cc.ep.Client()}, clusterCycle, opts)
}

// ClusterChangeResults is ChangeResults for MeasureClusterChanges's
// changes on GatewayClass class.
func ClusterChangeResults(cs []Change, class string) []Result {
	return changeResults(cs, "gatewayclass "+class+", route patched", "controller mode, HTTPRoute v1/v2", "patch")
}

// clusterRoute is the weight-change case's HTTPRoute in a cluster.
type clusterRoute struct {
	cc   *clusterCase
	http *http.Client
}

var _ weightSetter = (*clusterRoute)(nil)

func (r *clusterRoute) client() *http.Client { return r.http }

func (r *clusterRoute) request(ctx context.Context) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost:8080/hello", nil)
	if err != nil {
		return nil, err
	}
	req.Host = r.cc.plan.Host
	return req, nil
}

// set server-side applies the route with weights on its first rule's
// backendRefs, in order, and returns the moment the patch was sent: a
// controller may see the change before the API server's answer is back,
// so the delay counts the patch's own round trip too.
func (r *clusterRoute) set(ctx context.Context, weights []int32) (time.Time, error) {
	o := r.cc.route.DeepCopy()
	rules, _, err := unstructured.NestedSlice(o.Object, "spec", "rules")
	if err != nil || len(rules) == 0 {
		return time.Time{}, fmt.Errorf("HTTPRoute %s/%s: no spec.rules", o.GetNamespace(), o.GetName())
	}
	rule, _ := rules[0].(map[string]any)
	refs, _ := rule["backendRefs"].([]any)
	if len(refs) != len(weights) {
		return time.Time{}, fmt.Errorf("HTTPRoute %s/%s: %d backendRefs for %d weights", o.GetNamespace(), o.GetName(), len(refs), len(weights))
	}
	for i, b := range refs {
		bm, _ := b.(map[string]any)
		bm["weight"] = int64(weights[i])
	}
	if err := unstructured.SetNestedSlice(o.Object, rules, "spec", "rules"); err != nil {
		return time.Time{}, err
	}
	sent := time.Now()
	if err := r.cc.applier.Apply(ctx, o); err != nil {
		return time.Time{}, fmt.Errorf("patch the weights to %v: %w", weights, err)
	}
	return sent, nil
}

func (r *clusterRoute) appliedAfter(time.Time) (time.Time, bool) { return time.Time{}, false }

func (r *clusterRoute) seesApplied() bool { return false }

// Check reaches the cluster and returns the controllerName of the
// GatewayClass under test, so that an unreachable cluster or a missing
// class is one clear error before any case is applied.
func (c Cluster) Check(ctx context.Context) (string, error) {
	if c.Config == nil {
		return "", errors.New("cluster target: no kubeconfig")
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return "", fmt.Errorf("dynamic client: %w", err)
	}
	u, err := dyn.Resource(gatewayResource("gatewayclasses")).Get(ctx, c.GatewayClass, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("GatewayClass %s in the cluster at %s: %w", c.GatewayClass, c.Config.Host, err)
	}
	name, _, _ := unstructured.NestedString(u.Object, "spec", "controllerName")
	return name, nil
}
