package install

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/gateway-api/pkg/consts"

	"github.com/splitproof/splitproof/conformance/install/internal/crdsync"
	"github.com/splitproof/splitproof/refproxy/translate"
)

// TestCRDsMatchSources fails when the Gateway API CRDs in crds/ are stale:
// run `go run ./conformance/install/gen` from the repository root. (The
// generated AgentgatewayBackend CRD there is refproxy/controller's
// TestGeneratedUpToDate's.)
func TestCRDsMatchSources(t *testing.T) {
	if err := crdsync.Diff("../..", "crds"); err != nil {
		t.Fatalf("crds/ is stale; run `go run ./conformance/install/gen`:\n%v", err)
	}
}

func MustObjects(t *testing.T, p Profile) []*unstructured.Unstructured {
	t.Helper()
	fs, err := Manifests(p)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Objects(fs)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func find(objs []*unstructured.Unstructured, kind, ns, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetNamespace() == ns && o.GetName() == name {
			return o
		}
	}
	return nil
}

func MustFind(t *testing.T, objs []*unstructured.Unstructured, kind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	o := find(objs, kind, ns, name)
	if o == nil {
		t.Fatalf("no %s %s/%s in the manifests", kind, ns, name)
	}
	return o
}

func MustString(t *testing.T, o *unstructured.Unstructured, fields ...string) string {
	t.Helper()
	s, ok, err := unstructured.NestedString(o.Object, fields...)
	if err != nil || !ok {
		t.Fatalf("%s %s: field %s: found=%v err=%v", o.GetKind(), o.GetName(), strings.Join(fields, "."), ok, err)
	}
	return s
}

func TestManifests(t *testing.T) {
	for _, tc := range []struct {
		profile      Profile
		wantGateways []string // --gateway flags of the doc's proxy
		wantPorts    []int64
	}{
		{Doc, []string{Namespace + "/http", Namespace + "/agentgateway-proxy"}, []int64{80}},
		{Conformance, []string{Namespace + "/http", Namespace + "/agentgateway-proxy"}, []int64{80}},
	} {
		t.Run(tc.profile.String(), func(t *testing.T) {
			objs := MustObjects(t, tc.profile)

			// Apply order: CRDs and the namespace before what uses them.
			firstOther := slices.IndexFunc(objs, func(o *unstructured.Unstructured) bool {
				return o.GetKind() != "CustomResourceDefinition" && o.GetKind() != "ValidatingAdmissionPolicy" && o.GetKind() != "ValidatingAdmissionPolicyBinding"
			})
			if firstOther < 0 || objs[firstOther].GetKind() != "Namespace" {
				t.Fatalf("the first object after the CRDs is %v, want the Namespace", objs[firstOther].GetKind())
			}
			for _, crd := range []string{"gateways.gateway.networking.k8s.io", "httproutes.gateway.networking.k8s.io", "agentgatewaybackends.agentgateway.dev"} {
				MustFind(t, objs[:firstOther], "CustomResourceDefinition", "", crd)
			}

			gc := MustFind(t, objs, "GatewayClass", "", GatewayClassName)
			if got := MustString(t, gc, "spec", "controllerName"); ControllerName != translate.DefaultControllerName || got != ControllerName {
				t.Errorf("controllerName %q, want %q", got, translate.DefaultControllerName)
			}
			for _, name := range []string{"http", "agentgateway-proxy"} {
				gw := MustFind(t, objs, "Gateway", Namespace, name)
				ls, _, _ := unstructured.NestedSlice(gw.Object, "spec", "listeners")
				if len(ls) != 1 {
					t.Fatalf("Gateway %s: %d listeners, want 1", name, len(ls))
				}
				l := &unstructured.Unstructured{Object: ls[0].(map[string]any)}
				port, _, _ := unstructured.NestedInt64(l.Object, "port")
				if port != 80 || MustString(t, l, "protocol") != "HTTP" || MustString(t, l, "allowedRoutes", "namespaces", "from") != "All" {
					t.Errorf("Gateway %s listener %v, want HTTP on 80 from All namespaces", name, l.Object)
				}
				if MustString(t, gw, "spec", "gatewayClassName") != GatewayClassName {
					t.Errorf("Gateway %s is not of class %s", name, GatewayClassName)
				}
			}

			dep := MustFind(t, objs, "Deployment", Namespace, ProxyDeployment)
			podLabels, _, _ := unstructured.NestedStringMap(dep.Object, "spec", "template", "metadata", "labels")
			cs, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
			if len(cs) != 1 {
				t.Fatalf("%d containers, want 1", len(cs))
			}
			c := &unstructured.Unstructured{Object: cs[0].(map[string]any)}
			if img := MustString(t, c, "image"); img != "splitproof/splitproof:dev" {
				t.Errorf("image %q", img)
			}
			if p := MustString(t, c, "imagePullPolicy"); p != "IfNotPresent" && p != "Never" {
				t.Errorf("imagePullPolicy %q pulls from a registry", p)
			}
			args, _, _ := unstructured.NestedStringSlice(c.Object, "args")
			var gateways []string
			for _, a := range args {
				if g, ok := strings.CutPrefix(a, "--gateway="); ok {
					gateways = append(gateways, g)
				}
			}
			if !slices.Equal(gateways, tc.wantGateways) {
				t.Errorf("--gateway flags %v, want %v", gateways, tc.wantGateways)
			}
			for _, want := range []string{"proxy", "--controller", "--listen-address=0.0.0.0", "--admin=0.0.0.0:9901", "--address-service=" + Namespace + "/" + ProxyService} {
				if !slices.Contains(args, want) {
					t.Errorf("args %v lack %q", args, want)
				}
			}
			if MustString(t, c, "readinessProbe", "httpGet", "path") != "/readyz" {
				t.Error("readiness probe is not /readyz")
			}

			svc := MustFind(t, objs, "Service", Namespace, ProxyService)
			if MustString(t, svc, "spec", "type") != "LoadBalancer" {
				t.Error("Service http is not of type LoadBalancer")
			}
			sel, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
			if len(sel) == 0 {
				t.Fatal("Service http has no selector")
			}
			for k, v := range sel {
				if podLabels[k] != v {
					t.Errorf("Service selector %s=%s does not select the proxy Pod (labels %v)", k, v, podLabels)
				}
			}
			ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
			var got []int64
			for _, p := range ports {
				n, _, _ := unstructured.NestedInt64(p.(map[string]any), "port")
				got = append(got, n)
			}
			if !slices.Equal(got, tc.wantPorts) {
				t.Errorf("Service ports %v, want %v", got, tc.wantPorts)
			}

			// The provisioner (Conformance only) leaves exactly the doc's
			// proxy's Gateways alone, and its proxies run as that proxy does.
			prov := find(objs, "Deployment", Namespace, ProvisionerDeployment)
			if (prov != nil) != (tc.profile == Conformance) {
				t.Fatalf("provisioner Deployment present: %v, profile %s", prov != nil, tc.profile)
			}
			if prov != nil {
				pcs, _, _ := unstructured.NestedSlice(prov.Object, "spec", "template", "spec", "containers")
				pargs, _, _ := unstructured.NestedStringSlice(pcs[0].(map[string]any), "args")
				var skipped []string
				for _, a := range pargs {
					if g, ok := strings.CutPrefix(a, "--skip-gateway="); ok {
						skipped = append(skipped, g)
					}
				}
				if !slices.Equal(skipped, gateways) {
					t.Errorf("provisioner skips %v, the doc's proxy serves %v", skipped, gateways)
				}
				for _, want := range []string{"provisioner", "--namespace=" + Namespace, "--image=" + MustString(t, c, "image"), "--service-account=" + MustString(t, dep, "spec", "template", "spec", "serviceAccountName")} {
					if !slices.Contains(pargs, want) {
						t.Errorf("provisioner args %v lack %q", pargs, want)
					}
				}
			}

			sa := MustFind(t, objs, "ServiceAccount", Namespace, MustString(t, dep, "spec", "template", "spec", "serviceAccountName"))
			crb := MustFind(t, objs, "ClusterRoleBinding", "", "splitproof-refproxy")
			subs, _, _ := unstructured.NestedSlice(crb.Object, "subjects")
			if len(subs) != 1 || subs[0].(map[string]any)["name"] != sa.GetName() || subs[0].(map[string]any)["namespace"] != Namespace {
				t.Errorf("ClusterRoleBinding subjects %v do not name ServiceAccount %s/%s", subs, Namespace, sa.GetName())
			}
		})
	}
}

func TestManifestsUnknownProfile(t *testing.T) {
	if _, err := Manifests(Profile(7)); err == nil {
		t.Fatal("no error for an unknown profile")
	}
}

func TestObjectsErrorsNameTheFile(t *testing.T) {
	_, err := Objects([]File{{Name: "x.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\n---\n: [\n")}})
	if err == nil || !strings.Contains(err.Error(), "x.yaml: document 0") {
		t.Fatalf("error %v, want one naming x.yaml document 0", err)
	}
}

// TestCRDBundleVersion: the conformance suite, run with AllowCRDsMismatch
// false, refuses a cluster whose Gateway API CRDs carry another bundle
// version or channel, or only one of the two annotations.
func TestCRDBundleVersion(t *testing.T) {
	objs, err := Objects(CRDs())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		a := o.GetAnnotations()
		v, okv := a[consts.BundleVersionAnnotation]
		c, okc := a[consts.ChannelAnnotation]
		switch {
		case !okv && !okc:
			if strings.HasSuffix(o.GetName(), ".gateway.networking.k8s.io") {
				t.Errorf("CRD %s has no bundle annotations", o.GetName())
			}
			continue
		case v != consts.BundleVersion || c != "standard":
			t.Errorf("CRD %s: bundle version %q channel %q, want %q standard", o.GetName(), v, c, consts.BundleVersion)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no Gateway API CRDs embedded")
	}
}
