package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/debounce"
	"github.com/splitproof/splitproof/refproxy/translate"
)

// Options configure a Provisioner.
type Options struct {
	Config
	// ControllerName selects the GatewayClasses served
	// (translate.DefaultControllerName when empty, as translate.Options
	// decides).
	ControllerName string
	// Skip are Gateways served by a proxy deployed some other way (the
	// install manifests' static one): the provisioner leaves them alone.
	Skip []types.NamespacedName
	// Debounce collects events before a run; debounce.DefaultDelay when zero.
	Debounce time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
}

// Provisioner keeps a proxy Deployment and Service per served Gateway.
type Provisioner struct {
	opts   Options
	mgr    ctrl.Manager
	client client.Client
	skip   map[types.NamespacedName]bool
	logger *slog.Logger

	mu   sync.Mutex
	runs int
}

var _ reconcile.Reconciler = (*Provisioner)(nil)

var reconcileKey = reconcile.Request{NamespacedName: types.NamespacedName{Name: "gateways"}}

// New builds the manager and its watches; nothing runs until Start.
func New(cfg *rest.Config, opts Options) (*Provisioner, error) {
	if cfg == nil {
		return nil, errors.New("provisioner needs a Kubernetes client configuration")
	}
	if opts.Namespace == "" || opts.Image == "" {
		return nil, errors.New("provisioner needs a namespace and a proxy image")
	}
	if opts.Debounce <= 0 {
		opts.Debounce = debounce.DefaultDelay
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, gatewayv1.Install} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("build scheme: %w", err)
		}
	}
	owned := labels.SelectorFromSet(labels.Set{LabelManagedBy: ManagedBy})
	byNS := map[string]cache.Config{opts.Namespace: {LabelSelector: owned}}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 s,
		Logger:                 logr.FromSlogHandler(opts.Logger.Handler()),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Only the objects it owns, in its namespace, are cached: RBAC
		// grants no more, and the proxies' namespace may hold others.
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&appsv1.Deployment{}: {Namespaces: byNS},
			&corev1.Service{}:    {Namespaces: byNS},
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("create provisioner manager: %w", err)
	}
	p := &Provisioner{opts: opts, mgr: mgr, client: mgr.GetClient(), logger: opts.Logger, skip: map[types.NamespacedName]bool{}}
	for _, g := range opts.Skip {
		p.skip[g] = true
	}
	if err := p.setupWatches(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Provisioner) setupWatches() error {
	ctl, err := crcontroller.New("refproxy-provisioner", p.mgr, crcontroller.Options{
		Reconciler:         p,
		NeedLeaderElection: new(false),
		SkipNameValidation: new(true),
	})
	if err != nil {
		return fmt.Errorf("create provisioner controller: %w", err)
	}
	h := debounce.Handler(reconcileKey, p.opts.Debounce)
	cache := p.mgr.GetCache()
	for _, obj := range []client.Object{&gatewayv1.GatewayClass{}, &gatewayv1.Gateway{}, &appsv1.Deployment{}, &corev1.Service{}} {
		if err := ctl.Watch(source.Kind(cache, obj, h)); err != nil {
			return fmt.Errorf("watch %T: %w", obj, err)
		}
	}
	return ctl.Watch(source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		q.Add(reconcileKey) // converge once at start even if nothing changes
		return nil
	}))
}

// Start runs the manager until ctx ends.
func (p *Provisioner) Start(ctx context.Context) error {
	if err := p.mgr.Start(ctx); err != nil {
		return fmt.Errorf("provisioner manager: %w", err)
	}
	return nil
}

// Runs is how many reconcile runs have completed (tests wait on it).
func (p *Provisioner) Runs() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runs
}

// Reconcile converges the owned Deployments and Services to the Gateways.
func (p *Provisioner) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	err := p.converge(ctx)
	p.mu.Lock()
	p.runs++
	p.mu.Unlock()
	if err != nil {
		p.logger.Error("provisioning failed; retrying", "error", err)
	}
	return reconcile.Result{}, err
}

func (p *Provisioner) converge(ctx context.Context) error {
	var (
		classes  gatewayv1.GatewayClassList
		gateways gatewayv1.GatewayList
		deploys  appsv1.DeploymentList
		services corev1.ServiceList
	)
	inNS := []client.ListOption{client.InNamespace(p.opts.Namespace), client.MatchingLabels{LabelManagedBy: ManagedBy}}
	if err := p.client.List(ctx, &classes); err != nil {
		return fmt.Errorf("list GatewayClasses: %w", err)
	}
	if err := p.client.List(ctx, &gateways); err != nil {
		return fmt.Errorf("list Gateways: %w", err)
	}
	if err := p.client.List(ctx, &deploys, inNS...); err != nil {
		return fmt.Errorf("list Deployments in %s: %w", p.opts.Namespace, err)
	}
	if err := p.client.List(ctx, &services, inNS...); err != nil {
		return fmt.Errorf("list Services in %s: %w", p.opts.Namespace, err)
	}
	ours := translate.Options{ControllerName: p.opts.ControllerName}.OwnedClasses(classes.Items)
	wantDeploy := map[string]*appsv1.Deployment{}
	wantSvc := map[string]*corev1.Service{}
	var errs []error
	for i := range gateways.Items {
		gw := &gateways.Items[i]
		key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
		if !ours[string(gw.Spec.GatewayClassName)] || p.skip[key] || gw.DeletionTimestamp != nil {
			continue
		}
		d, s, err := p.opts.Desired(gw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		wantDeploy[d.Name], wantSvc[s.Name] = d, s
	}

	for _, want := range wantSvc {
		errs = append(errs, p.ensure(ctx, want, find(services.Items, want.Name), func(next client.Object) {
			mergeService(next.(*corev1.Service), want)
		}))
	}
	for _, want := range wantDeploy {
		errs = append(errs, p.ensure(ctx, want, find(deploys.Items, want.Name), func(next client.Object) {
			d := next.(*appsv1.Deployment)
			// The selector is immutable and derived from the name, so it is equal.
			d.Spec.Replicas, d.Spec.Template = want.Spec.Replicas, want.Spec.Template
		}))
	}
	for i := range deploys.Items {
		if d := &deploys.Items[i]; wantDeploy[d.Name] == nil {
			errs = append(errs, p.remove(ctx, d))
		}
	}
	for i := range services.Items {
		if s := &services.Items[i]; wantSvc[s.Name] == nil {
			errs = append(errs, p.remove(ctx, s))
		}
	}
	return errors.Join(errs...)
}

// find returns the item named name, or a nil interface (not a typed nil
// pointer) when there is none.
func find[T any, PT interface {
	*T
	client.Object
}](items []T, name string) client.Object {
	for i := range items {
		if o := PT(&items[i]); o.GetName() == name {
			return o
		}
	}
	return nil
}

// ensure creates want when have is nil. Otherwise, when want's spec hash
// differs from the one have carries, it updates a copy of have: merge sets
// the spec fields the provisioner owns, and labels and annotations are
// want's. Fields the API server fills in stay as they are.
func (p *Provisioner) ensure(ctx context.Context, want, have client.Object, merge func(next client.Object)) error {
	kind := strings.TrimPrefix(fmt.Sprintf("%T", want), "*v1.")
	key, gw := want.GetNamespace()+"/"+want.GetName(), want.GetAnnotations()[AnnotationGateway]
	if have == nil {
		if err := p.client.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %s %s for Gateway %s: %w", kind, key, gw, err)
		}
		p.logger.Info("created proxy "+kind, "object", key, "gateway", gw)
		return nil
	}
	if have.GetAnnotations()[AnnotationSpecHash] == want.GetAnnotations()[AnnotationSpecHash] {
		return nil
	}
	next := have.DeepCopyObject().(client.Object)
	next.SetLabels(want.GetLabels())
	next.SetAnnotations(want.GetAnnotations())
	merge(next)
	if err := p.client.Update(ctx, next); err != nil {
		return fmt.Errorf("update %s %s: %w", kind, key, err)
	}
	p.logger.Info("updated proxy "+kind, "object", key, "gateway", gw)
	return nil
}

// mergeService sets next's type, selector and ports to want's, keeping the
// node port of every port that stays (the API server allocated it).
func mergeService(next, want *corev1.Service) {
	nodePorts := map[int32]int32{}
	for _, sp := range next.Spec.Ports {
		nodePorts[sp.Port] = sp.NodePort
	}
	next.Spec.Type, next.Spec.Selector = want.Spec.Type, want.Spec.Selector
	next.Spec.Ports = append([]corev1.ServicePort(nil), want.Spec.Ports...)
	for i := range next.Spec.Ports {
		next.Spec.Ports[i].NodePort = nodePorts[next.Spec.Ports[i].Port]
	}
}

func (p *Provisioner) remove(ctx context.Context, obj client.Object) error {
	err := p.client.Delete(ctx, obj, client.PropagationPolicy("Background"))
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
	}
	p.logger.Info("removed proxy object of a Gateway that is gone", "object", fmt.Sprintf("%T %s/%s", obj, obj.GetNamespace(), obj.GetName()), "gateway", obj.GetAnnotations()[AnnotationGateway])
	return nil
}
