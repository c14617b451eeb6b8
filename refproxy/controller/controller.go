package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	agwv1alpha1 "github.com/splitproof/splitproof/refproxy/apis/agentgateway/v1alpha1"
	"github.com/splitproof/splitproof/refproxy/debounce"
	"github.com/splitproof/splitproof/refproxy/objects"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
	"github.com/splitproof/splitproof/refproxy/translate"
)

// Defaults of Options.
const (
	// DefaultDebounce is how long a change waits for more changes before the
	// table is rebuilt: `kubectl apply` of a manifest creates its objects one
	// by one, and one rebuild for all of them is enough.
	DefaultDebounce = debounce.DefaultDelay
	// DefaultLeaderElectionID names the Lease used with leader election.
	DefaultLeaderElectionID = "refproxy.splitproof.dev"
)

// AddressFunc returns the addresses a served Gateway is reachable at, for its
// status.addresses (the proxy Service's LoadBalancer ingress IP or its
// ClusterIP, say). r reads from the controller's cache, in which Services
// are watched: a change of the Service rewrites the status. An empty list
// marks the Gateway not Programmed (AddressNotAssigned); an error is retried.
type AddressFunc func(ctx context.Context, r client.Reader, gateway types.NamespacedName) ([]gatewayv1.GatewayStatusAddress, error)

// ServiceAddresses returns an AddressFunc giving every Gateway the addresses
// of Service svc: its LoadBalancer ingress IPs and hostnames, or, for a
// Service not of type LoadBalancer, its ClusterIPs. A Service not found
// yet, or a LoadBalancer without ingress yet, gives no address.
func ServiceAddresses(svc types.NamespacedName) AddressFunc {
	return func(ctx context.Context, r client.Reader, _ types.NamespacedName) ([]gatewayv1.GatewayStatusAddress, error) {
		s := &corev1.Service{}
		if err := r.Get(ctx, svc, s); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("read Service %s: %w", svc, err)
		}
		var values []string
		for _, in := range s.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				values = append(values, in.IP)
			} else if in.Hostname != "" {
				values = append(values, in.Hostname)
			}
		}
		// A LoadBalancer Service's address is its ingress: until the load
		// balancer assigns one, the Gateway has none (and is not
		// Programmed), rather than a ClusterIP that clients outside the
		// cluster, the conformance suite among them, would take and fail on.
		if len(values) == 0 && s.Spec.Type != corev1.ServiceTypeLoadBalancer {
			for _, ip := range s.Spec.ClusterIPs {
				if ip != "" && ip != corev1.ClusterIPNone {
					values = append(values, ip)
				}
			}
		}
		return toAddresses(values), nil
	}
}

// StaticAddresses returns an AddressFunc giving every Gateway the same
// addresses, each an IP address or else a hostname.
func StaticAddresses(values ...string) AddressFunc {
	addrs := toAddresses(values)
	return func(context.Context, client.Reader, types.NamespacedName) ([]gatewayv1.GatewayStatusAddress, error) {
		return slices.Clone(addrs), nil
	}
}

func toAddresses(values []string) []gatewayv1.GatewayStatusAddress {
	addrs := make([]gatewayv1.GatewayStatusAddress, 0, len(values))
	for _, v := range values {
		t := gatewayv1.HostnameAddressType
		if net.ParseIP(v) != nil {
			t = gatewayv1.IPAddressType
		}
		addrs = append(addrs, gatewayv1.GatewayStatusAddress{Type: &t, Value: v})
	}
	return addrs
}

// Options configure a Controller.
type Options struct {
	// Proxy serves the tables; required.
	Proxy *proxy.Proxy
	// Apply serves a new table: it opens the listener ports the table needs
	// and installs it into Proxy (filemode.Ports.Apply). When nil the table
	// is only installed, for callers that serve Proxy.Handler themselves.
	Apply func(*route.Table) error
	// Translate carries the controller name, pick mode and seed; Now is set
	// on every run.
	Translate translate.Options
	// Gateways, when not empty, restricts this instance to these Gateways
	// (of a GatewayClass it owns), so that one Deployment per Gateway
	// isolates them. Empty serves every Gateway of its GatewayClasses.
	Gateways []types.NamespacedName
	// Addresses fills status.addresses; nil leaves them alone.
	Addresses AddressFunc
	// Debounce is how long changes are collected before a rebuild;
	// DefaultDebounce when zero.
	Debounce time.Duration
	// LeaderElection makes only the elected replica write status (every
	// replica serves traffic). LeaderElectionNamespace is where the Lease
	// lives (required with LeaderElection outside a cluster).
	LeaderElection          bool
	LeaderElectionNamespace string
	LeaderElectionID        string
	// Logger; nil discards.
	Logger *slog.Logger
}

// Controller runs the manager and rebuilds the table on change.
type Controller struct {
	opts   Options
	mgr    manager.Manager
	client client.Client
	reader client.Reader
	logger *slog.Logger
	// gateways is Options.Gateways as a set; nil serves all.
	gateways map[types.NamespacedName]bool

	mu   sync.Mutex
	runs int
}

// reconcileKey is the single work item: the table is always rebuilt whole.
var reconcileKey = reconcile.Request{NamespacedName: types.NamespacedName{Name: "routing-table"}}

var _ reconcile.Reconciler = (*Controller)(nil)

// NewScheme returns a scheme holding every type the controller reads.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, discoveryv1.AddToScheme,
		gatewayv1.Install, gatewayv1beta1.Install, agwv1alpha1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("build scheme: %w", err)
		}
	}
	return s, nil
}

// New builds the manager and its watches; nothing runs until Start.
func New(cfg *rest.Config, opts Options) (*Controller, error) {
	if cfg == nil {
		return nil, errors.New("controller mode needs a Kubernetes client configuration")
	}
	if opts.Proxy == nil {
		return nil, errors.New("controller mode needs a proxy")
	}
	// Status writes compare parents by controllerName, so the default is
	// filled in once here.
	opts.Translate.ControllerName = opts.Translate.Controller()
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.LeaderElectionID == "" {
		opts.LeaderElectionID = DefaultLeaderElectionID
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Apply == nil {
		p := opts.Proxy
		opts.Apply = func(t *route.Table) error { _, err := p.Install(t); return err }
	}
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		Logger: logr.FromSlogHandler(opts.Logger.Handler()),
		// refproxy's admin endpoint serves the metrics and probes.
		Metrics:                 metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:  "0",
		LeaderElection:          opts.LeaderElection,
		LeaderElectionID:        opts.LeaderElectionID,
		LeaderElectionNamespace: opts.LeaderElectionNamespace,
	})
	if err != nil {
		return nil, fmt.Errorf("create controller manager: %w", err)
	}
	c := &Controller{opts: opts, mgr: mgr, client: mgr.GetClient(), reader: mgr.GetAPIReader(), logger: opts.Logger}
	if len(opts.Gateways) > 0 {
		c.gateways = map[types.NamespacedName]bool{}
		for _, g := range opts.Gateways {
			c.gateways[g] = true
		}
	}
	if err := c.setupWatches(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Controller) setupWatches() error {
	ctl, err := crcontroller.New("refproxy", c.mgr, crcontroller.Options{
		Reconciler: c,
		// Every replica serves traffic, so every replica builds tables;
		// only status writes wait for the election (see Reconcile).
		NeedLeaderElection: new(false),
		// A test binary may build several controllers.
		SkipNameValidation: new(true),
	})
	if err != nil {
		return fmt.Errorf("create controller: %w", err)
	}
	h := debounce.Handler(reconcileKey, c.opts.Debounce)
	// The translator reads only the spec (and labels) of the Gateway API
	// objects and backends: updates that change neither are this
	// controller's own status writes, and rebuilding on them would loop once
	// per write.
	specChanged := predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{})
	cache := c.mgr.GetCache()
	watches := []struct {
		obj   client.Object
		preds []predicate.Predicate
	}{
		{&gatewayv1.GatewayClass{}, []predicate.Predicate{specChanged}},
		{&gatewayv1.Gateway{}, []predicate.Predicate{specChanged}},
		{&gatewayv1.HTTPRoute{}, []predicate.Predicate{specChanged}},
		{&gatewayv1beta1.ReferenceGrant{}, []predicate.Predicate{specChanged}},
		{&agwv1alpha1.AgentgatewayBackend{}, []predicate.Predicate{specChanged}},
		{&corev1.Service{}, nil},
		{&discoveryv1.EndpointSlice{}, nil},
		{&corev1.Secret{}, nil},
		{&corev1.Namespace{}, nil},
	}
	for _, w := range watches {
		if err := ctl.Watch(source.Kind(cache, w.obj, h, w.preds...)); err != nil {
			return fmt.Errorf("watch %T: %w", w.obj, err)
		}
	}
	// One run at start-up even in an empty cluster (an empty table makes
	// the proxy ready), and one more when this replica wins the election so
	// that the new leader writes status at once.
	elected := c.mgr.Elected()
	return ctl.Watch(source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		q.Add(reconcileKey)
		go func() {
			select {
			case <-elected:
				q.Add(reconcileKey)
			case <-ctx.Done():
			}
		}()
		return nil
	}))
}

// Start runs the manager until ctx ends.
func (c *Controller) Start(ctx context.Context) error {
	if err := c.mgr.Start(ctx); err != nil {
		return fmt.Errorf("controller manager: %w", err)
	}
	return nil
}

// Runs is how many rebuilds have completed, successfully or not (tests wait on it).
func (c *Controller) Runs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs
}

// Reconcile rebuilds the table from the cache, serves it and writes status.
func (c *Controller) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	err := c.rebuild(ctx)
	c.mu.Lock()
	c.runs++
	c.mu.Unlock()
	if err != nil {
		c.logger.Error("rebuild failed; retrying", "error", err)
	}
	return reconcile.Result{}, err
}

func (c *Controller) rebuild(ctx context.Context) error {
	set, err := c.snapshot(ctx)
	if err != nil {
		err = fmt.Errorf("list objects from the cache: %w", err)
		c.opts.Proxy.ReloadFailed(err)
		return err
	}
	topts := c.opts.Translate
	topts.Now = time.Now()
	res, err := translate.Translate(set, topts)
	if err != nil {
		err = fmt.Errorf("translate: %w", err)
		c.opts.Proxy.ReloadFailed(err)
		return err
	}
	for _, w := range res.Warnings {
		c.logger.Debug("translation warning", "warning", w)
	}
	applyErr := c.opts.Apply(res.Table)
	if applyErr != nil {
		applyErr = fmt.Errorf("serve routing table: %w", applyErr)
		notProgrammed(res, applyErr)
	}
	select {
	case <-c.mgr.Elected():
	default:
		return applyErr // not the leader: serve, but leave status to the leader
	}
	return errors.Join(applyErr, c.writeStatus(ctx, res))
}

// notProgrammed marks every Gateway of res not Programmed because its table
// could not be served (a listener port that cannot be bound, say): the
// proxy still serves the last good table, which is not what the Gateways ask.
func notProgrammed(res *translate.Result, err error) {
	for i := range res.Gateways {
		for j := range res.Gateways[i].Status.Conditions {
			c := &res.Gateways[i].Status.Conditions[j]
			if c.Type == string(gatewayv1.GatewayConditionProgrammed) {
				c.Status = metav1.ConditionFalse
				c.Reason = string(gatewayv1.GatewayReasonInvalid)
				c.Message = err.Error()
			}
		}
	}
}

// snapshot lists every watched kind from the cache into a Set, keeping only
// the Gateways this instance serves.
func (c *Controller) snapshot(ctx context.Context) (*objects.Set, error) {
	set := &objects.Set{}
	var (
		classes  gatewayv1.GatewayClassList
		gateways gatewayv1.GatewayList
		routes   gatewayv1.HTTPRouteList
		grants   gatewayv1beta1.ReferenceGrantList
		services corev1.ServiceList
		slicesL  discoveryv1.EndpointSliceList
		secrets  corev1.SecretList
		nss      corev1.NamespaceList
		backends agwv1alpha1.AgentgatewayBackendList
	)
	for _, l := range []client.ObjectList{&classes, &gateways, &routes, &grants, &services, &slicesL, &secrets, &nss, &backends} {
		if err := c.client.List(ctx, l); err != nil {
			return nil, fmt.Errorf("list %T: %w", l, err)
		}
	}
	set.GatewayClasses = classes.Items
	ours := c.opts.Translate.OwnedClasses(classes.Items)
	// The translator serves every Gateway when the set has no GatewayClass
	// (file mode); in a cluster only Gateways of our classes may be served.
	for _, gw := range gateways.Items {
		if ours[string(gw.Spec.GatewayClassName)] && c.owns(types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}) {
			set.Gateways = append(set.Gateways, gw)
		}
	}
	set.HTTPRoutes = routes.Items
	set.ReferenceGrants = grants.Items
	set.Services = services.Items
	set.EndpointSlices = slicesL.Items
	set.Secrets = secrets.Items
	set.Namespaces = nss.Items
	set.Backends = backends.Items
	set.Sort()
	return set, nil
}

// owns reports whether this instance is responsible for the Gateway.
func (c *Controller) owns(gw types.NamespacedName) bool {
	return c.gateways == nil || c.gateways[gw]
}

// writeStatus writes the statuses of res, only where they change.
func (c *Controller) writeStatus(ctx context.Context, res *translate.Result) error {
	var errs []error
	feats := SupportedFeatures()
	for _, want := range res.GatewayClasses {
		gc := &gatewayv1.GatewayClass{}
		err := c.updateStatus(ctx, types.NamespacedName{Name: want.Name}, gc, func() bool {
			next := gatewayClassStatus(gc.Status, want.Status, feats)
			if equality.Semantic.DeepEqual(next, gc.Status) {
				return false
			}
			gc.Status = next
			return true
		})
		errs = append(errs, err)
	}
	for _, want := range res.Gateways {
		var addrs []gatewayv1.GatewayStatusAddress
		if c.opts.Addresses != nil {
			a, err := c.opts.Addresses(ctx, c.client, want.Gateway)
			if err != nil {
				errs = append(errs, fmt.Errorf("addresses of Gateway %s: %w", want.Gateway, err))
				continue
			}
			addrs = a
			if addrs == nil {
				addrs = []gatewayv1.GatewayStatusAddress{}
			}
		}
		gw := &gatewayv1.Gateway{}
		err := c.updateStatus(ctx, want.Gateway, gw, func() bool {
			if gw.Generation != want.Generation {
				// The spec moved on since the snapshot: a newer event will
				// rebuild, and this status would describe the old spec.
				return false
			}
			next := gatewayStatus(gw.Status, want, addrs)
			if equality.Semantic.DeepEqual(next, gw.Status) {
				return false
			}
			gw.Status = next
			return true
		})
		errs = append(errs, err)
	}
	for _, want := range res.Routes {
		r := &gatewayv1.HTTPRoute{}
		err := c.updateStatus(ctx, want.Route, r, func() bool {
			if r.Generation != want.Generation {
				return false
			}
			next := routeParents(r.Status.Parents, want.Parents, r.Namespace, c.opts.Translate.ControllerName, c.owns)
			if equality.Semantic.DeepEqual(next, r.Status.Parents) || (len(next) == 0 && len(r.Status.Parents) == 0) {
				return false
			}
			r.Status.Parents = next
			return true
		})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// updateStatus reads obj from the cache, lets mutate change its status (it
// returns false when nothing changes) and writes it with Update, so that a
// concurrent writer (another controller's parent entry on a route) is never
// overwritten: on conflict obj is read again from the API server and
// mutate runs again on the fresh copy.
func (c *Controller) updateStatus(ctx context.Context, key types.NamespacedName, obj client.Object, mutate func() bool) error {
	kind := strings.TrimPrefix(fmt.Sprintf("%T", obj), "*v1.")
	fresh := false
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		var err error
		if fresh {
			err = c.reader.Get(ctx, key, obj)
		} else {
			err = c.client.Get(ctx, key, obj)
		}
		fresh = true
		if apierrors.IsNotFound(err) {
			return nil // deleted since the snapshot
		}
		if err != nil {
			return err
		}
		if !mutate() {
			return nil
		}
		return c.client.Status().Update(ctx, obj)
	})
	if err != nil {
		return fmt.Errorf("write status of %s %s: %w", kind, key, err)
	}
	return nil
}
