package weights

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/splitproof/splitproof/conformance/install"
	"github.com/splitproof/splitproof/scenarios"
)

// How a case becomes objects in a cluster.
//
// A case's manifests name the doc's namespaces (helloworld for the app
// and the routes, agentgateway-system for the Gateway the embedded target
// adds from the scenario's local files). Run as written, every case would
// fight over the same Services and the Gateway http of the doc's own
// install. So each case gets a namespace of its own, PREFIX-CASE, and
// every object of the case goes into it under its own name: the Gateway
// (gatewayClassName replaced by the class under test), the Services and
// the routes, whose parentRefs and backendRefs namespaces are rewritten to
// match. Deleting the namespace removes the case.
//
// The sample app's Deployments are not applied as written: each has three
// containers (the app, curl and a TCP echo) and a readiness probe that
// waits ten seconds, and the sixteen-backends and all-zero cases have only
// Services. Every Service the embedded target serves with a helloworld
// (scenario.yaml's embedded.helloworld) gets a one-container Deployment of
// the sample app's image instead, answering with that version, selected
// by the Service's own selector and ready once GET /health answers. A
// Service the embedded target leaves without endpoints (no-endpoints'
// helloworld-v4) gets none here either.

// DefaultNamespacePrefix starts every case's namespace.
const DefaultNamespacePrefix = "splitproof-weights"

// DefaultHelloworldImage is the sample app's image as the doc's manifests
// name it (on the project's kind cluster, the local build of
// `splitproof helloworld` under that name).
const DefaultHelloworldImage = "docker.io/istio/examples-helloworld-v1:latest"

// helloworldPort is the port the sample app listens on.
const helloworldPort = 5000

// CaseLabel marks every namespace the cluster target creates, with the
// case's name, so that leftovers of an interrupted run can be found.
const CaseLabel = "splitproof.dev/weights-case"

// ClusterPlan is what the cluster target applies and waits for, for one
// case.
type ClusterPlan struct {
	// Namespace holds every object of the case; Objects are in apply
	// order, the Namespace first.
	Namespace string
	Objects   []*unstructured.Unstructured
	// Gateways are the names of the case's Gateways.
	Gateways []string
	// Route is the name of the case's HTTPRoute (the scenario's route),
	// Host its first hostname and ResolvedRefs the status its
	// ResolvedRefs condition must reach: False when a backendRef names a
	// Service the case does not create (invalid-backendref).
	Route        string
	Host         string
	ResolvedRefs bool
	// Deployments are the sample app's, one per served Service.
	Deployments []string
}

// CaseNamespace is prefix-name, made a DNS label: lower case, characters
// outside [a-z0-9-] replaced by '-', at most 63 characters.
func CaseNamespace(prefix, name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(prefix + "-" + name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	s := b.String()
	if len(s) > 63 {
		s = s[:63]
	}
	return strings.Trim(s, "-")
}

// ValidPrefix says why prefix cannot start a namespace name, or nil.
func ValidPrefix(prefix string) error {
	if prefix == "" || len(prefix) > 40 {
		return fmt.Errorf("namespace prefix %q: expected 1 to 40 characters (the case's name follows it)", prefix)
	}
	for i, r := range prefix {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || (r == '-' && i > 0)
		if !ok || (i == 0 && r >= '0' && r <= '9') {
			return fmt.Errorf("namespace prefix %q: expected lower-case letters, digits and '-', starting with a letter", prefix)
		}
	}
	return nil
}

// PlanCase turns scenario s into the objects of one case in namespace ns,
// its Gateways of GatewayClass class, its backends running image.
func PlanCase(s *scenarios.Scenario, class, ns, image string) (*ClusterPlan, error) {
	if class == "" {
		return nil, errors.New("no GatewayClass given")
	}
	_, route, ok := strings.Cut(s.Route, "/")
	if !ok || route == "" {
		return nil, fmt.Errorf("scenario %s: route %q: expected NAMESPACE/NAME", s.Name, s.Route)
	}
	p := &ClusterPlan{Namespace: ns, Route: route, ResolvedRefs: true}
	nsObj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": ns, "labels": map[string]any{CaseLabel: s.Name}},
	}}
	p.Objects = append(p.Objects, nsObj)
	read := func(ms []scenarios.Manifest, onlyGateways bool) ([]*unstructured.Unstructured, error) {
		var out []*unstructured.Unstructured
		for _, m := range ms {
			data, err := s.ReadFile(m.File)
			if err != nil {
				return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
			}
			objs, err := install.Objects([]install.File{{Name: s.Name + "/" + m.File, Data: data}})
			if err != nil {
				return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
			}
			for _, o := range objs {
				if onlyGateways && o.GetKind() != "Gateway" {
					continue
				}
				out = append(out, o)
			}
		}
		return out, nil
	}
	local, err := read(s.Local, true)
	if err != nil {
		return nil, err
	}
	objs, err := read(s.Manifests, false)
	if err != nil {
		return nil, err
	}
	services := map[string]map[string]any{} // name → spec.selector
	var routeObj *unstructured.Unstructured
	for _, o := range append(local, objs...) {
		switch o.GetKind() {
		case "Deployment":
			continue // replaced below
		case "Namespace", "GatewayClass":
			return nil, fmt.Errorf("scenario %s: %s %s: a case may not create cluster-wide objects", s.Name, o.GetKind(), o.GetName())
		case "Gateway":
			if err := unstructured.SetNestedField(o.Object, class, "spec", "gatewayClassName"); err != nil {
				return nil, fmt.Errorf("scenario %s: Gateway %s: spec.gatewayClassName: %w", s.Name, o.GetName(), err)
			}
			p.Gateways = append(p.Gateways, o.GetName())
		case "HTTPRoute":
			if err := rewriteRouteNamespaces(o, ns); err != nil {
				return nil, fmt.Errorf("scenario %s: HTTPRoute %s: %w", s.Name, o.GetName(), err)
			}
			if o.GetName() == route {
				routeObj = o
			}
		case "Service":
			sel, _, _ := unstructured.NestedMap(o.Object, "spec", "selector")
			services[o.GetName()] = sel
		}
		o.SetNamespace(ns)
		p.Objects = append(p.Objects, o)
	}
	if len(p.Gateways) == 0 {
		return nil, fmt.Errorf("scenario %s: no Gateway in its manifests or local files", s.Name)
	}
	if routeObj == nil {
		return nil, fmt.Errorf("scenario %s: its route %s is not in its manifests", s.Name, s.Route)
	}
	if hosts, _, _ := unstructured.NestedStringSlice(routeObj.Object, "spec", "hostnames"); len(hosts) > 0 {
		p.Host = hosts[0]
	}
	refs, err := backendRefNames(routeObj)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: HTTPRoute %s: %w", s.Name, route, err)
	}
	for _, name := range refs {
		if _, ok := services[name]; !ok {
			p.ResolvedRefs = false
		}
	}
	served := sortedKeys(s.Embedded.Helloworld)
	for _, key := range served {
		_, name, _ := strings.Cut(key, "/")
		sel, ok := services[name]
		if !ok {
			return nil, fmt.Errorf("scenario %s: embedded.helloworld names Service %s, which its manifests do not create", s.Name, key)
		}
		if len(sel) == 0 {
			return nil, fmt.Errorf("scenario %s: Service %s has no selector: no pod could back it", s.Name, name)
		}
		p.Objects = append(p.Objects, helloworldDeployment(ns, name, s.Embedded.Helloworld[key], image, sel))
		p.Deployments = append(p.Deployments, name)
	}
	return p, nil
}

// rewriteRouteNamespaces points every parentRef and backendRef that names
// a namespace at ns, where the case puts everything.
func rewriteRouteNamespaces(o *unstructured.Unstructured, ns string) error {
	parents, _, err := unstructured.NestedSlice(o.Object, "spec", "parentRefs")
	if err != nil {
		return fmt.Errorf("spec.parentRefs: %w", err)
	}
	for i, p := range parents {
		if m, ok := p.(map[string]any); ok && m["namespace"] != nil {
			m["namespace"] = ns
			parents[i] = m
		}
	}
	if err := unstructured.SetNestedSlice(o.Object, parents, "spec", "parentRefs"); err != nil {
		return fmt.Errorf("spec.parentRefs: %w", err)
	}
	rules, _, err := unstructured.NestedSlice(o.Object, "spec", "rules")
	if err != nil {
		return fmt.Errorf("spec.rules: %w", err)
	}
	for i, r := range rules {
		rm, ok := r.(map[string]any)
		if !ok {
			return fmt.Errorf("spec.rules[%d]: not an object", i)
		}
		refs, _ := rm["backendRefs"].([]any)
		for _, b := range refs {
			if bm, ok := b.(map[string]any); ok && bm["namespace"] != nil {
				bm["namespace"] = ns
			}
		}
	}
	if len(rules) > 0 {
		return unstructured.SetNestedSlice(o.Object, rules, "spec", "rules")
	}
	return nil
}

// backendRefNames are the names of the Service backendRefs of every rule.
func backendRefNames(o *unstructured.Unstructured) ([]string, error) {
	rules, _, err := unstructured.NestedSlice(o.Object, "spec", "rules")
	if err != nil {
		return nil, fmt.Errorf("spec.rules: %w", err)
	}
	var out []string
	for i, r := range rules {
		rm, _ := r.(map[string]any)
		refs, _ := rm["backendRefs"].([]any)
		for j, b := range refs {
			bm, _ := b.(map[string]any)
			name, _ := bm["name"].(string)
			if name == "" {
				return nil, fmt.Errorf("spec.rules[%d].backendRefs[%d].name: missing", i, j)
			}
			if kind, _ := bm["kind"].(string); kind != "" && kind != "Service" {
				continue
			}
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out, nil
}

// helloworldDeployment is one replica of the sample app answering with
// version, labelled with the Service's selector.
func helloworldDeployment(ns, name, version, image string, selector map[string]any) *unstructured.Unstructured {
	labels := map[string]any{}
	for k, v := range selector {
		labels[k] = v
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": labels},
		"spec": map[string]any{
			"replicas": int64(1),
			"selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec": map[string]any{
					// The app holds no state: a deleted case need not wait.
					"terminationGracePeriodSeconds": int64(1),
					"containers": []any{map[string]any{
						"name": "helloworld", "image": image, "imagePullPolicy": "IfNotPresent",
						"env":   []any{map[string]any{"name": "SERVICE_VERSION", "value": version}},
						"ports": []any{map[string]any{"containerPort": int64(helloworldPort)}},
						"readinessProbe": map[string]any{
							"httpGet":       map[string]any{"path": "/health", "port": int64(helloworldPort)},
							"periodSeconds": int64(1),
						},
					}},
				},
			},
		},
	}}
}
