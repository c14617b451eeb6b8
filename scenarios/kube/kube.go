package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/client-go/util/jsonpath"
	"k8s.io/streaming/pkg/httpstream"

	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/replay"
)

// The documentation's names: the namespace, the LoadBalancer Service whose
// address is INGRESS_GW_ADDRESS, the Deployment the port-forward targets,
// its container port and the local port the snippets call localhost:8080.
const (
	DefaultNamespace  = "agentgateway-system"
	DefaultService    = "http"
	DefaultDeployment = "agentgateway-proxy"
	DefaultPort       = 80
	// DocLocalPort is the local end of the doc's port-forward (8080:80).
	DocLocalPort = 8080
)

// AddressJSONPath is the doc's template for INGRESS_GW_ADDRESS.
const AddressJSONPath = `{.status.loadBalancer.ingress[0]['hostname','ip']}`

// ErrNoAddress means the Service has no load-balancer address yet: the doc's
// `kubectl get svc … -o jsonpath=…` would print nothing.
var ErrNoAddress = errors.New("no load-balancer address yet")

// ErrNoReadyPod means the Deployment has no pod a port-forward could use.
var ErrNoReadyPod = errors.New("no Ready pod")

// Options say where the gateway is; the zero value is the doc's setup.
type Options struct {
	// Namespace of the Service and the Deployment (DefaultNamespace).
	Namespace string
	// Service whose status.loadBalancer gives INGRESS_GW_ADDRESS
	// (DefaultService).
	Service string
	// Deployment whose pod the port-forward reaches (DefaultDeployment).
	Deployment string
	// Port is the pod port forwarded to (DefaultPort).
	Port int
	// GatewayRef, when set, takes INGRESS_GW_ADDRESS from this Gateway's
	// status.addresses (and the snippets' port 80 to its first HTTP
	// listener's port) instead of Service's load-balancer status.
	GatewayRef *types.NamespacedName
	// ForwardTo, when set, is where the port-forward goes instead of
	// Deployment's pod port Port.
	ForwardTo *ForwardTarget
	// LocalPort is the 127.0.0.1 port the forward listens on; 0 picks a free
	// one (the snippets' localhost:8080 is remapped to it). Real curl, which
	// cannot be remapped, needs DocLocalPort.
	LocalPort int
	// Logger receives the forward's progress; nil discards.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Service == "" {
		o.Service = DefaultService
	}
	if o.Deployment == "" {
		o.Deployment = DefaultDeployment
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Connect looks up the gateway's external address, opens the port-forward
// and returns the Endpoint the snippets run against. The Closer stops the
// forward; it is safe to call more than once. A Service without an address
// yields an error wrapping ErrNoAddress, before any forward is opened.
func Connect(ctx context.Context, cfg *rest.Config, opts Options) (*replay.Endpoint, io.Closer, error) {
	opts = opts.withDefaults()
	if opts.Port < 1 || opts.Port > 65535 || opts.LocalPort < 0 || opts.LocalPort > 65535 {
		return nil, nil, fmt.Errorf("port %d or local port %d out of range", opts.Port, opts.LocalPort)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("kubernetes client for %s: %w", cfg.Host, err)
	}
	reader, err := NewReader(cfg)
	if err != nil {
		return nil, nil, err
	}
	// Where INGRESS_GW_ADDRESS comes from, and the port the snippets' :80
	// really is.
	var addr, source string
	gwPort := int32(80)
	if opts.GatewayRef != nil {
		if addr, gwPort, err = GatewayAddress(ctx, reader, *opts.GatewayRef); err != nil {
			return nil, nil, err
		}
		source = "Gateway " + opts.GatewayRef.String()
	} else {
		source = "Service " + opts.Namespace + "/" + opts.Service
		svc, err := client.CoreV1().Services(opts.Namespace).Get(ctx, opts.Service, metav1.GetOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("get %s: %w", source, err)
		}
		if addr, err = IngressAddress(svc); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", source, err)
		}
	}
	// Where the doc's port-forward goes.
	fwd := opts
	var pod, via string
	if t := opts.ForwardTo; t != nil {
		fwd.Namespace, fwd.Port, via = t.Namespace, t.Port, t.String()
		if t.Kind == "svc" {
			pod, fwd.Port, err = servicePod(ctx, client, t.Namespace, t.Name, t.Port)
		} else {
			pod, err = deploymentPod(ctx, client, t.Namespace, t.Name)
		}
	} else {
		via = "deployment/" + opts.Deployment
		pod, err = deploymentPod(ctx, client, opts.Namespace, opts.Deployment)
	}
	if err != nil {
		return nil, nil, err
	}
	fw, err := forward(ctx, cfg, fwd, pod)
	if err != nil {
		return nil, nil, err
	}
	local := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(fw.local)))
	opts.Logger.Info("gateway in cluster", "address", addr, "from", source,
		"port-forward", fmt.Sprintf("%s → pod %s/%s:%d (%s)", local, fwd.Namespace, pod, fwd.Port, via))
	ep := &replay.Endpoint{
		Diagnose: func(ctx context.Context, s *scenarios.Scenario) []string {
			set, err := s.Objects(false)
			if err != nil {
				return []string{fmt.Sprintf("cannot read the scenario's routes: %v", err)}
			}
			return Diagnose(ctx, reader, set.HTTPRoutes)
		},
		Name: fmt.Sprintf("cluster %s (%s, port-forward %s)", cfg.Host, addr, via),
		Env:  map[string]string{"INGRESS_GW_ADDRESS": addr},
		// The external address is dialled as written: the load balancer
		// (or a host route to it) is the path under test.
		Dial: map[string]string{
			net.JoinHostPort("localhost", strconv.Itoa(DocLocalPort)): local,
			net.JoinHostPort("127.0.0.1", strconv.Itoa(DocLocalPort)): local,
		},
	}
	if gwPort != 80 {
		// A Gateway listening on another port: the snippets' :80 goes there.
		ep.Dial[net.JoinHostPort(addr, "80")] = net.JoinHostPort(addr, strconv.Itoa(int(gwPort)))
	}
	return ep, fw, nil
}

// IngressAddress evaluates the doc's JSONPath on svc exactly as `kubectl
// get -o jsonpath` does (on the object's JSON form, missing keys allowed):
// ingress[0]'s hostname, its ip, or both separated by a space. Nothing
// printed is ErrNoAddress; both printed is an error too, since the
// snippets' unquoted $INGRESS_GW_ADDRESS would then split into two words.
func IngressAddress(svc *corev1.Service) (string, error) {
	b, err := json.Marshal(svc)
	if err != nil {
		return "", err
	}
	var obj any
	if err := json.Unmarshal(b, &obj); err != nil {
		return "", err
	}
	jp := jsonpath.New("INGRESS_GW_ADDRESS").AllowMissingKeys(true)
	if err := jp.Parse(AddressJSONPath); err != nil {
		return "", fmt.Errorf("parse %s: %w", AddressJSONPath, err)
	}
	var out bytes.Buffer
	if err := jp.Execute(&out, obj); err != nil {
		// kubectl reports an out-of-range index only without
		// AllowMissingKeys; an empty ingress list is "no address".
		if strings.Contains(err.Error(), "out of bounds") {
			return "", fmt.Errorf("%w (status.loadBalancer.ingress is empty)", ErrNoAddress)
		}
		return "", fmt.Errorf("evaluate %s: %w", AddressJSONPath, err)
	}
	addr := strings.TrimSpace(out.String())
	switch fields := strings.Fields(addr); len(fields) {
	case 0:
		return "", fmt.Errorf("%w (status.loadBalancer.ingress[0] has neither hostname nor ip)", ErrNoAddress)
	case 1:
		return addr, nil
	default:
		return "", fmt.Errorf("status.loadBalancer.ingress[0] has both hostname and ip (%q): the doc's INGRESS_GW_ADDRESS would be two words", addr)
	}
}

// deploymentPod picks the pod `kubectl port-forward deployment/NAME` would
// reach, among the pods the Deployment's selector matches.
func deploymentPod(ctx context.Context, client kubernetes.Interface, ns, name string) (string, error) {
	dep, err := client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("get Deployment %s/%s: %w", ns, name, err)
	}
	sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil {
		return "", fmt.Errorf("Deployment %s/%s: selector: %w", ns, name, err)
	}
	pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return "", fmt.Errorf("list pods of Deployment %s/%s: %w", ns, name, err)
	}
	pod, err := ReadyPod(pods.Items)
	if err != nil {
		return "", fmt.Errorf("Deployment %s/%s (selector %s): %w", ns, name, sel, err)
	}
	return pod, nil
}

// ReadyPod chooses the pod to forward to: Running, Ready and not being
// deleted; of those the one Ready the longest (the least likely to be
// replaced mid-run by a rollout), ties broken by name so the choice is
// deterministic.
func ReadyPod(pods []corev1.Pod) (string, error) {
	type cand struct {
		name  string
		since time.Time
	}
	var cs []cand
	for i := range pods {
		p := &pods[i]
		if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				cs = append(cs, cand{p.Name, c.LastTransitionTime.Time})
			}
		}
	}
	if len(cs) == 0 {
		return "", fmt.Errorf("%w among %d pods", ErrNoReadyPod, len(pods))
	}
	slices.SortFunc(cs, func(a, b cand) int {
		if c := a.since.Compare(b.since); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	return cs[0].name, nil
}

// forwarder is a running port-forward.
type forwarder struct {
	stop  chan struct{}
	done  chan error
	local uint16
	once  sync.Once
	err   error
	// closeWait bounds how long Close waits for the forward to end
	// (defaultCloseWait when zero).
	closeWait time.Duration
}

var _ io.Closer = (*forwarder)(nil)

// defaultCloseWait is how long Close waits for client-go's forwarder to
// return. Stopping it closes the local listener at once, but ForwardPorts
// then closes its stream connection to the API server, and that close can
// block on connections still being handled (seen after a replay whose
// external address never answered): a replay must exit, so after this long
// the forward is abandoned, its listener already closed.
const defaultCloseWait = 3 * time.Second

// ErrCloseTimeout is returned by Close when the forward did not end in time.
var ErrCloseTimeout = errors.New("port-forward did not stop in time; abandoned")

// Close stops the forward and waits, a bounded time, for it to end.
func (f *forwarder) Close() error {
	f.once.Do(func() {
		close(f.stop)
		wait := f.closeWait
		if wait <= 0 {
			wait = defaultCloseWait
		}
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case f.err = <-f.done:
		case <-timer.C:
			f.err = fmt.Errorf("%w after %v", ErrCloseTimeout, wait)
		}
	})
	return f.err
}

// forward opens the port-forward. Like kubectl it speaks the port-forward
// protocol over WebSockets and falls back to SPDY on servers that refuse
// the upgrade.
func forward(ctx context.Context, cfg *rest.Config, opts Options, pod string) (*forwarder, error) {
	target := fmt.Sprintf("pod %s/%s port %d", opts.Namespace, pod, opts.Port)
	u, err := url.Parse(cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("port-forward to %s: api server %q: %w", target, cfg.Host, err)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + fmt.Sprintf("/api/v1/namespaces/%s/pods/%s/portforward", opts.Namespace, pod)
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("port-forward to %s: %w", target, err)
	}
	var dialer httpstream.Dialer = spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	ws, err := portforward.NewSPDYOverWebsocketDialerForStreaming(u, cfg)
	if err != nil {
		return nil, fmt.Errorf("port-forward to %s: %w", target, err)
	}
	dialer = portforward.NewFallbackDialerForStreaming(ws, dialer, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	out := &logWriter{log: opts.Logger, target: target}
	f := &forwarder{stop: make(chan struct{}), done: make(chan error, 1)}
	ready := make(chan struct{})
	pf, err := portforward.NewOnAddressesForStreaming(dialer, []string{"127.0.0.1"},
		[]string{fmt.Sprintf("%d:%d", opts.LocalPort, opts.Port)}, f.stop, ready, out, out)
	if err != nil {
		return nil, fmt.Errorf("port-forward to %s: %w", target, err)
	}
	go func() { f.done <- pf.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-f.done:
		return nil, fmt.Errorf("port-forward to %s: %w", target, err)
	case <-ctx.Done():
		// Not waiting for ForwardPorts: it may still be dialling, which the
		// stop channel does not interrupt; it returns on its own.
		close(f.stop)
		return nil, fmt.Errorf("port-forward to %s: %w", target, ctx.Err())
	}
	ports, err := pf.GetPorts()
	if err == nil && len(ports) != 1 {
		err = fmt.Errorf("%d ports forwarded, want 1", len(ports))
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("port-forward to %s: local port: %w", target, err)
	}
	f.local = ports[0].Local
	return f, nil
}

// logWriter turns the forwarder's chatter ("Forwarding from …", "Handling
// connection for …", errors of single connections) into debug records.
type logWriter struct {
	log    *slog.Logger
	target string
}

func (w *logWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		if line != "" {
			w.log.Debug("port-forward", "target", w.target, "msg", line)
		}
	}
	return len(p), nil
}
