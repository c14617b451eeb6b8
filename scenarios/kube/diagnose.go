package kube

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// NewReader returns a cluster reader that knows the core, discovery and
// Gateway API types Diagnose reads.
func NewReader(cfg *rest.Config) (client.Reader, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("scheme: %w", err)
	}
	if err := gatewayv1.Install(scheme); err != nil {
		return nil, fmt.Errorf("scheme: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("kubernetes client for %s: %w", cfg.Host, err)
	}
	return c, nil
}

// Diagnose explains, from the cluster's own state, why requests to the
// given routes fail: the live routes' status conditions that are not True
// (Accepted, ResolvedRefs: BackendNotFound, RefNotPermitted…) and every
// Service backendRef that does not exist or has no ready endpoint. routes
// are the routes as the scenario wrote them (their names and backendRefs
// are what is looked up). Each finding is one sentence; none means the
// cluster shows nothing wrong with them. Lookups that fail (RBAC, a missing
// CRD) are findings too: a diagnosis must not hide its own blind spots.
func Diagnose(ctx context.Context, c client.Reader, routes []gatewayv1.HTTPRoute) []string {
	var out []string
	seen := map[string]bool{}
	for _, want := range routes {
		key := want.Namespace + "/" + want.Name
		var live gatewayv1.HTTPRoute
		switch err := c.Get(ctx, client.ObjectKey{Namespace: want.Namespace, Name: want.Name}, &live); {
		case apierrors.IsNotFound(err):
			out = append(out, fmt.Sprintf("HTTPRoute %s does not exist in the cluster", key))
		case meta.IsNoMatchError(err):
			out = append(out, "the cluster has no HTTPRoute type (Gateway API CRDs not installed)")
		case err != nil:
			out = append(out, fmt.Sprintf("HTTPRoute %s: cannot read it: %v", key, err))
		default:
			out = append(out, routeConditions(key, &live)...)
			if len(live.Status.Parents) == 0 {
				out = append(out, fmt.Sprintf("HTTPRoute %s has no status from any gateway controller: no Gateway has accepted or even seen it", key))
			}
		}
		for _, rule := range want.Spec.Rules {
			for _, ref := range rule.BackendRefs {
				if ref.Group != nil && *ref.Group != "" || ref.Kind != nil && *ref.Kind != "Service" {
					continue
				}
				ns := want.Namespace
				if ref.Namespace != nil {
					ns = string(*ref.Namespace)
				}
				svc := ns + "/" + string(ref.Name)
				if seen[svc] {
					continue
				}
				seen[svc] = true
				if msg := serviceEndpoints(ctx, c, ns, string(ref.Name)); msg != "" {
					out = append(out, msg)
				}
			}
		}
	}
	return out
}

// routeConditions lists the route's parent conditions that are not True.
func routeConditions(key string, r *gatewayv1.HTTPRoute) []string {
	var out []string
	for _, p := range r.Status.Parents {
		parent := string(p.ParentRef.Name)
		if p.ParentRef.Namespace != nil {
			parent = string(*p.ParentRef.Namespace) + "/" + parent
		}
		for _, c := range p.Conditions {
			if c.Status == metav1.ConditionTrue {
				continue
			}
			msg := fmt.Sprintf("HTTPRoute %s (parent %s): %s is %s: %s", key, parent, c.Type, c.Status, c.Reason)
			if c.Message != "" {
				msg += ": " + c.Message
			}
			out = append(out, msg)
		}
	}
	return out
}

// serviceEndpoints returns what is wrong with a backend Service, or "".
func serviceEndpoints(ctx context.Context, c client.Reader, ns, name string) string {
	key := ns + "/" + name
	var svc corev1.Service
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &svc); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Sprintf("Service %s does not exist", key)
		}
		return fmt.Sprintf("Service %s: cannot read it: %v", key, err)
	}
	var slices discoveryv1.EndpointSliceList
	if err := c.List(ctx, &slices, client.InNamespace(ns), client.MatchingLabels{discoveryv1.LabelServiceName: name}); err != nil {
		return fmt.Sprintf("Service %s: cannot list its EndpointSlices: %v", key, err)
	}
	ready, notReady := 0, 0
	for _, s := range slices.Items {
		for _, e := range s.Endpoints {
			// The API's rule: a nil Ready means ready.
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				ready++
			} else {
				notReady++
			}
		}
	}
	if ready > 0 {
		return ""
	}
	msg := fmt.Sprintf("Service %s has no ready endpoints", key)
	switch {
	case notReady > 0:
		msg += fmt.Sprintf(" (%d not ready)", notReady)
	case len(svc.Spec.Selector) > 0:
		msg += fmt.Sprintf(" (its selector %s matches no running pod)", selectorString(svc.Spec.Selector))
	}
	return msg
}

func selectorString(sel map[string]string) string {
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ","
		}
		s += k + "=" + sel[k]
	}
	return s
}
