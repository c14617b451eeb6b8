package install

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the server-side apply field manager of Applier.
const FieldManager = "splitproof-install"

// Applier server-side applies manifests, as `kubectl apply --server-side`
// does, with REST mappings discovered from the cluster (and rediscovered
// once CRDs add kinds).
type Applier struct {
	mapper *restmapper.DeferredDiscoveryRESTMapper
	dyn    *dynamic.DynamicClient
	// DryRun applies with dryRun=All: validation, defaulting and
	// admission run, nothing is stored.
	DryRun bool
}

// NewApplier returns an Applier for the cluster cfg reaches.
func NewApplier(cfg *rest.Config) (*Applier, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	return &Applier{mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), dyn: dyn}, nil
}

// Apply applies o. Errors name the object.
func (a *Applier) Apply(ctx context.Context, o *unstructured.Unstructured) error {
	ri, err := a.resource(o)
	if err != nil {
		// A kind a CRD applied moments ago added: discover again once.
		a.mapper.Reset()
		if ri, err = a.resource(o); err != nil {
			return err
		}
	}
	body, err := json.Marshal(o.Object)
	if err != nil {
		return fmt.Errorf("%s %s: %w", o.GetKind(), o.GetName(), err)
	}
	po := metav1.PatchOptions{FieldManager: FieldManager, Force: new(true)}
	if a.DryRun {
		po.DryRun = []string{metav1.DryRunAll}
	}
	if _, err := ri.Patch(ctx, o.GetName(), types.ApplyPatchType, body, po); err != nil {
		return fmt.Errorf("server-side apply (dry run %v) of %s %s/%s: %w", a.DryRun, o.GetKind(), o.GetNamespace(), o.GetName(), err)
	}
	return nil
}

func (a *Applier) resource(o *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := o.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s %s: no REST mapping: %w", gvk, o.GetName(), err)
	}
	switch {
	case m.Scope.Name() == "namespace" && o.GetNamespace() == "":
		return nil, fmt.Errorf("%s %s: namespaced, but the manifest names no namespace", gvk.Kind, o.GetName())
	case m.Scope.Name() == "namespace":
		return a.dyn.Resource(m.Resource).Namespace(o.GetNamespace()), nil
	case o.GetNamespace() != "":
		return nil, fmt.Errorf("%s %s: cluster-scoped, but the manifest names namespace %s", gvk.Kind, o.GetName(), o.GetNamespace())
	}
	return a.dyn.Resource(m.Resource), nil
}

// Install applies every object of profile p in order, waiting after the
// CRDs until the API server serves them (Established), so that the objects
// of their kinds that follow can be mapped and stored.
func Install(ctx context.Context, cfg *rest.Config, p Profile) error {
	fs, err := Manifests(p)
	if err != nil {
		return err
	}
	objs, err := Objects(fs)
	if err != nil {
		return err
	}
	a, err := NewApplier(cfg)
	if err != nil {
		return err
	}
	dyn := a.dyn
	crdGVR := apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions")
	var crds []string
	for i, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" && len(crds) > 0 {
			if err := waitEstablished(ctx, dyn.Resource(crdGVR), crds); err != nil {
				return err
			}
			crds = nil
		}
		if err := a.Apply(ctx, o); err != nil {
			return fmt.Errorf("install %s (object %d): %w", p, i, err)
		}
		if o.GetKind() == "CustomResourceDefinition" {
			crds = append(crds, o.GetName())
		}
	}
	return nil
}

func waitEstablished(ctx context.Context, ri dynamic.ResourceInterface, names []string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, name := range names {
		var last error
		err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			u, err := ri.Get(ctx, name, metav1.GetOptions{})
			last = err
			return err == nil && established(u), nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s not Established within a minute (last error: %v)", name, last)
		}
	}
	return nil
}

func established(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == string(apiextensionsv1.Established) && m["status"] == "True" {
			return true
		}
	}
	return false
}
