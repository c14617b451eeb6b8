package lb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Options configure Run.
type Options struct {
	// Client reaches the cluster.
	Client kubernetes.Interface
	// Pool is the subnet addresses come from and Reserved the addresses of
	// it never to hand out (Network.Subnet and Network.Reserved).
	Pool     netip.Prefix
	Reserved []netip.Addr
	// Via is the node container that routes go through (Network.Node).
	Via netip.Addr
	// Router changes the host's routes; IPRoute{} when nil.
	Router Router
	// Logger logs assignments and errors; discarded when nil.
	Logger *slog.Logger
	// Resync re-applies every assignment this often (status a user reset,
	// a route removed behind lb's back); 30s when zero.
	Resync time.Duration
}

// Controller assigns addresses; see Run.
type Controller struct {
	opts   Options
	mu     sync.Mutex
	alloc  *Allocator
	routes map[netip.Addr]bool // routes added and not yet removed
}

// New checks opts and returns a Controller.
func New(opts Options) (*Controller, error) {
	if opts.Client == nil {
		return nil, errors.New("lb: Options.Client is required")
	}
	if !opts.Via.IsValid() {
		return nil, errors.New("lb: Options.Via (the node container address) is required")
	}
	if opts.Router == nil {
		opts.Router = IPRoute{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Resync <= 0 {
		opts.Resync = 30 * time.Second
	}
	alloc, err := NewAllocator(opts.Pool, append(slices.Clone(opts.Reserved), opts.Via)...)
	if err != nil {
		return nil, err
	}
	return &Controller{opts: opts, alloc: alloc, routes: map[netip.Addr]bool{}}, nil
}

// Run watches Services until ctx ends, then removes the routes it added.
// Errors of single Services are logged and retried at the next event or
// resync; Run returns an error only when the watch cannot start or a route
// cannot be removed.
func (c *Controller) Run(ctx context.Context) (err error) {
	defer func() {
		// ctx is done: removal needs a context of its own.
		cleanup, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err = errors.Join(err, c.Cleanup(cleanup))
	}()
	factory := informers.NewSharedInformerFactory(c.opts.Client, c.opts.Resync)
	inf := factory.Core().V1().Services().Informer()
	_, err = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.handle(ctx, obj) },
		UpdateFunc: func(_, obj any) { c.handle(ctx, obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if s, ok := obj.(*corev1.Service); ok {
				c.release(ctx, s.Namespace+"/"+s.Name)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("watch Services: %w", err)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		factory.Shutdown()
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("Service cache did not sync")
	}
	<-ctx.Done()
	factory.Shutdown()
	return nil
}

// ours tells whether lb serves s: type LoadBalancer without a
// loadBalancerClass (a class names another implementation).
func ours(s *corev1.Service) bool {
	return s.Spec.Type == corev1.ServiceTypeLoadBalancer && s.Spec.LoadBalancerClass == nil
}

func (c *Controller) handle(ctx context.Context, obj any) {
	s, ok := obj.(*corev1.Service)
	if !ok {
		return
	}
	key := s.Namespace + "/" + s.Name
	if !ours(s) {
		if c.release(ctx, key) && len(s.Status.LoadBalancer.Ingress) > 0 {
			c.clearStatus(ctx, s)
		}
		return
	}
	if err := c.Sync(ctx, s); err != nil {
		c.opts.Logger.Error("assign LoadBalancer address", "service", key, "error", err)
	}
}

// Sync assigns s an address (keeping the one in its status when that is
// free), routes it and writes the status when it differs.
func (c *Controller) Sync(ctx context.Context, s *corev1.Service) error {
	key := s.Namespace + "/" + s.Name
	var prefer netip.Addr
	for _, in := range s.Status.LoadBalancer.Ingress {
		if ip, err := netip.ParseAddr(in.IP); err == nil {
			prefer = ip
			break
		}
	}
	c.mu.Lock()
	ip, err := c.alloc.Assign(key, prefer)
	if err == nil && !c.routes[ip] {
		if err = c.opts.Router.Replace(ctx, ip, c.opts.Via); err == nil {
			c.routes[ip] = true
			c.opts.Logger.Info("routed LoadBalancer address", "service", key, "ip", ip, "via", c.opts.Via)
		}
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	want := []corev1.LoadBalancerIngress{{IP: ip.String(), IPMode: new(corev1.LoadBalancerIPModeVIP)}}
	if equalIngress(s.Status.LoadBalancer.Ingress, want) {
		return nil
	}
	s = s.DeepCopy()
	s.Status.LoadBalancer.Ingress = want
	if _, err := c.opts.Client.CoreV1().Services(s.Namespace).UpdateStatus(ctx, s, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return nil // a newer version (or the deletion) is on its way as an event
		}
		return fmt.Errorf("write status.loadBalancer of Service %s: %w", key, err)
	}
	c.opts.Logger.Info("assigned LoadBalancer address", "service", key, "ip", ip)
	return nil
}

func equalIngress(a, b []corev1.LoadBalancerIngress) bool {
	return slices.EqualFunc(a, b, func(x, y corev1.LoadBalancerIngress) bool {
		return x.IP == y.IP && x.Hostname == y.Hostname && (x.IPMode == nil) == (y.IPMode == nil) && (x.IPMode == nil || *x.IPMode == *y.IPMode)
	})
}

// release frees key's address and removes its route; it reports whether
// key held an address.
func (c *Controller) release(ctx context.Context, key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ip := c.alloc.Release(key)
	if !ip.IsValid() {
		return false
	}
	c.opts.Logger.Info("released LoadBalancer address", "service", key, "ip", ip)
	if !c.routes[ip] {
		return true
	}
	if err := c.opts.Router.Delete(ctx, ip); err != nil {
		// Kept in routes: Cleanup tries again.
		c.opts.Logger.Error("remove route", "service", key, "ip", ip, "error", err)
		return true
	}
	delete(c.routes, ip)
	return true
}

// clearStatus removes the address lb wrote from a Service that is no longer
// of type LoadBalancer (or now names a loadBalancerClass).
func (c *Controller) clearStatus(ctx context.Context, s *corev1.Service) {
	s = s.DeepCopy()
	s.Status.LoadBalancer.Ingress = nil
	if _, err := c.opts.Client.CoreV1().Services(s.Namespace).UpdateStatus(ctx, s, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		c.opts.Logger.Error("clear status.loadBalancer", "service", s.Namespace+"/"+s.Name, "error", err)
	}
}

// KindOptions fills Pool, Reserved and Via of Options for kind cluster
// cluster from docker network network ("kind" unless KIND_EXPERIMENTAL_DOCKER_NETWORK
// chose another).
func KindOptions(ctx context.Context, network, cluster string) (Options, error) {
	n, err := InspectDockerNetwork(ctx, network)
	if err != nil {
		return Options{}, err
	}
	via, err := n.Node(cluster)
	if err != nil {
		return Options{}, err
	}
	return Options{Pool: n.Subnet, Reserved: n.Reserved(), Via: via}, nil
}

// Cleanup removes every route the controller added.
func (c *Controller) Cleanup(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for ip := range c.routes {
		if err := c.opts.Router.Delete(ctx, ip); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(c.routes, ip)
	}
	return errors.Join(errs...)
}

// Addresses returns the current assignments, by Service namespace/name.
func (c *Controller) Addresses() map[string]netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]netip.Addr, len(c.alloc.byKey))
	for k, v := range c.alloc.byKey {
		out[k] = v
	}
	return out
}
