package loader

import (
	"bytes"
	"cmp"
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/splitproof/splitproof/refproxy/objects"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// goldenCase is one manifest under testdata and the loader that reads it.
type goldenCase struct {
	name    string // file or directory under testdata; also names the golden file
	src     string // what to load when it is not testdata/<name>
	loader  Loader
	wantErr bool
}

// goldenCases lists every manifest under testdata; TestGoldenCoversTestdata
// fails when a file is missing here.
var goldenCases = []goldenCase{
	{name: "valid-example1-httproute.yaml"},
	{name: "valid-example2-backends.yaml"},
	{name: "valid-example2-httproute.yaml"},
	{name: "valid-anthropic-backend.yaml"},
	{name: "valid-helloworld.yaml", loader: Loader{Namespace: "helloworld", IgnoreUnknownKinds: true}},
	{name: "valid-list.yaml"},
	{name: "valid-secret-and-more.yaml"},
	{name: "dir-valid"},
	{name: "invalid-unknown-field.yaml", wantErr: true},
	{name: "invalid-wrong-type.yaml", wantErr: true},
	{name: "invalid-unsupported-kind.yaml", wantErr: true},
	{name: "invalid-unsupported-kind.yaml", loader: Loader{IgnoreUnknownKinds: true}},
	{name: "invalid-unsupported-apiversion.yaml", loader: Loader{IgnoreUnknownKinds: true}, wantErr: true},
	{name: "invalid-no-kind.yaml", wantErr: true},
	{name: "invalid-syntax.yaml", wantErr: true},
	{name: "invalid-many-errors.yaml", wantErr: true},
	{name: "invalid-list.yaml", wantErr: true},
	{name: "invalid-schema.yaml", wantErr: true},
	{name: "invalid-helloworld-strict.yaml", src: "valid-helloworld.yaml", wantErr: true},
}

// TestGolden loads each case and compares the loaded objects (as YAML) or
// the error text with testdata/<name>[.ignore-unknown].golden.
func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		golden := tc.name
		if tc.loader.IgnoreUnknownKinds {
			golden += ".ignore-unknown"
		}
		t.Run(golden, func(t *testing.T) {
			src := filepath.Join("testdata", cmp.Or(tc.src, tc.name))
			set, err := tc.loader.Load(src)
			var got []byte
			switch {
			case tc.wantErr && err == nil:
				t.Fatalf("Load(%s) succeeded, want an error", src)
			case tc.wantErr:
				got = []byte(err.Error() + "\n")
			case err != nil:
				t.Fatalf("Load(%s): %v", src, err)
			default:
				got = MustMarshal(t, set)
			}
			MustMatchGolden(t, filepath.Join("testdata", golden+".golden"), got)
		})
	}
}

func TestGoldenCoversTestdata(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".golden") || name == "fuzz" {
			continue
		}
		if !slices.ContainsFunc(goldenCases, func(c goldenCase) bool { return c.name == name || c.src == name }) {
			t.Errorf("testdata/%s has no golden case", name)
		}
	}
}

// MustMarshal renders a Set as YAML, one key per non-empty kind.
func MustMarshal(t *testing.T, s *objects.Set) []byte {
	t.Helper()
	out, err := yaml.Marshal(s)
	if err != nil {
		t.Fatalf("marshal set: %v", err)
	}
	return out
}

// MustMatchGolden compares got with the golden file, or rewrites it under -update.
func MustMatchGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// MustDecode decodes a manifest that must be valid.
func MustDecode(t *testing.T, l Loader, data string) *objects.Set {
	t.Helper()
	s, err := l.Decode("test.yaml", []byte(data))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return s
}

// MustFail decodes a manifest that must be invalid and returns its errors.
func MustFail(t *testing.T, l Loader, data string) []*Error {
	t.Helper()
	_, err := l.Decode("test.yaml", []byte(data))
	if err == nil {
		t.Fatal("Decode succeeded, want an error")
	}
	var out []*Error
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			var le *Error
			if !errors.As(e, &le) {
				t.Fatalf("error %v is not a *loader.Error", e)
			}
			out = append(out, le)
		}
	}
	return out
}

func TestExample1Weights(t *testing.T) {
	set, err := Load("testdata/valid-example1-httproute.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.HTTPRoutes) != 1 {
		t.Fatalf("got %d routes, want 1", len(set.HTTPRoutes))
	}
	r := set.HTTPRoutes[0]
	if r.Namespace != "helloworld" || r.Name != "traffic-split" {
		t.Errorf("route is %s/%s", r.Namespace, r.Name)
	}
	want := map[string]int32{"helloworld-v1": 10, "helloworld-v2": 10, "helloworld-v3": 80}
	refs := r.Spec.Rules[0].BackendRefs
	if len(refs) != len(want) {
		t.Fatalf("got %d backendRefs, want %d", len(refs), len(want))
	}
	for _, ref := range refs {
		if ref.Weight == nil || *ref.Weight != want[string(ref.Name)] {
			t.Errorf("%s: weight %v, want %d", ref.Name, ref.Weight, want[string(ref.Name)])
		}
		if ref.Port == nil || *ref.Port != 5000 {
			t.Errorf("%s: port %v, want 5000", ref.Name, ref.Port)
		}
	}
}

func TestExample2Backends(t *testing.T) {
	set, err := Load("testdata/valid-example2-backends.yaml", "testdata/valid-example2-httproute.yaml")
	if err != nil {
		t.Fatal(err)
	}
	models := map[string]string{}
	for _, b := range set.Backends {
		if b.Namespace != "agentgateway-system" || b.Spec.Policies.Auth.SecretRef.Name != "openai-secret" {
			t.Errorf("backend %s/%s: unexpected namespace or secret", b.Namespace, b.Name)
		}
		models[b.Name] = b.Spec.AI.Provider.OpenAI.Model
	}
	if models["openai-mini-backend"] != "gpt-4o-mini" || models["openai-premium-backend"] != "gpt-4o" {
		t.Errorf("models = %v", models)
	}
	refs := set.HTTPRoutes[0].Spec.Rules[0].BackendRefs
	for _, ref := range refs {
		if ref.Group == nil || *ref.Group != "agentgateway.dev" || ref.Kind == nil || *ref.Kind != "AgentgatewayBackend" {
			t.Errorf("%s: group/kind %v/%v", ref.Name, ref.Group, ref.Kind)
		}
	}
	if *refs[0].Weight != 80 || *refs[1].Weight != 20 {
		t.Errorf("weights %d/%d, want 80/20", *refs[0].Weight, *refs[1].Weight)
	}
}

func TestHelloworldSkipsDeploymentsWhenAsked(t *testing.T) {
	data, err := os.ReadFile("testdata/valid-helloworld.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	l := Loader{Namespace: "helloworld", IgnoreUnknownKinds: true,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	set, err := l.Decode("helloworld.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 3 || len(set.Services) != 3 {
		t.Fatalf("got %d objects, want the 3 Services", set.Len())
	}
	for i, s := range set.Services {
		if want := "helloworld-v" + string(rune('1'+i)); s.Name != want || s.Namespace != "helloworld" {
			t.Errorf("service %d is %s/%s, want helloworld/%s", i, s.Namespace, s.Name, want)
		}
		if s.Spec.Ports[0].Port != 5000 {
			t.Errorf("%s: first port %d, want 5000", s.Name, s.Spec.Ports[0].Port)
		}
	}
	if n := strings.Count(logs.String(), "kind=Deployment"); n != 3 {
		t.Errorf("logged %d skipped Deployments, want 3:\n%s", n, logs.String())
	}
	if errs := MustFail(t, Loader{}, string(data)); len(errs) != 3 {
		t.Errorf("strict loading gave %d errors, want one per Deployment", len(errs))
	}
}

func TestNamespaces(t *testing.T) {
	const svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n"
	const other = svc + "  namespace: other\n"
	const ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns1\n  namespace: x\n"
	tests := []struct {
		name, doc, loaderNS, wantNS string
	}{
		{"default", svc, "", "default"},
		{"kubectl -n", svc, "helloworld", "helloworld"},
		{"explicit", other, "", "other"},
		{"explicit equal to -n", other, "other", "other"},
		{"cluster-scoped keeps none", ns, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := MustDecode(t, Loader{Namespace: tc.loaderNS}, tc.doc)
			var got string
			switch {
			case len(set.Services) == 1:
				got = set.Services[0].Namespace
			case len(set.Namespaces) == 1:
				got = set.Namespaces[0].Namespace
			default:
				t.Fatalf("unexpected set %+v", set)
			}
			if got != tc.wantNS {
				t.Errorf("namespace %q, want %q", got, tc.wantNS)
			}
		})
	}
	t.Run("mismatch with -n", func(t *testing.T) {
		_, err := DecodeInNamespace("test.yaml", []byte(other), "helloworld")
		if err == nil || !strings.Contains(err.Error(), `metadata.namespace: "other" does not match the namespace "helloworld"`) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestSecretStringDataMergedIntoData(t *testing.T) {
	set := MustDecode(t, Loader{}, `apiVersion: v1
kind: Secret
metadata: {name: s}
data: {a: YQ==, b: Yg==}
stringData: {b: new, c: see}
`)
	got := set.Secrets[0]
	want := map[string]string{"a": "a", "b": "new", "c": "see"}
	if len(got.Data) != len(want) || got.StringData != nil {
		t.Fatalf("data %v, stringData %v", got.Data, got.StringData)
	}
	for k, v := range want {
		if string(got.Data[k]) != v {
			t.Errorf("data[%s] = %q, want %q", k, got.Data[k], v)
		}
	}
}

func TestErrorPositions(t *testing.T) {
	tests := []struct {
		name      string
		doc       string
		wantLine  int
		wantDoc   int
		wantField string
		wantMsg   string
	}{
		{"unknown top-level field", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspek: {}\n", 4, 1, "spek", "known fields here: apiVersion, kind, metadata, spec, status"},
		{"case matters", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nSpec: {}\n", 4, 1, "Spec", "unknown field"},
		{"wrong type in second document", "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n---\n\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: x\n", 13, 7, "spec.ports[0].port", `expected an integer (int32), got string "x"`},
		{"object where a string belongs", "apiVersion: v1\nkind: Service\nmetadata:\n  name: {a: b}\n", 4, 1, "metadata.name", "expected a string, got an object"},
		{"missing name", "apiVersion: v1\nkind: Service\nmetadata: {namespace: x}\n", 3, 1, "metadata.name", "is required"},
		{"kind not a string", "apiVersion: v1\nkind: [Service]\n", 2, 1, "kind", "expected a string, got a list"},
		{"backend validation", "apiVersion: agentgateway.dev/v1alpha1\nkind: AgentgatewayBackend\nmetadata: {name: b}\nspec:\n  ai:\n    provider:\n      openai: {}\n      path: x\n", 8, 1, "spec.ai.provider.path", `must start with "/"`},
		{"two providers", "apiVersion: agentgateway.dev/v1alpha1\nkind: AgentgatewayBackend\nmetadata: {name: b}\nspec:\n  ai:\n    provider:\n      openai: {}\n      anthropic: {}\n", 7, 1, "spec.ai.provider", "exactly one provider may be set"},
		{"unmodelled anthropic field", "apiVersion: agentgateway.dev/v1alpha1\nkind: AgentgatewayBackend\nmetadata: {name: b}\nspec:\n  ai:\n    provider:\n      anthropic:\n        model: m\n        apiVersion: x\n", 9, 1, "spec.ai.provider.anthropic.apiVersion", "unknown field; known fields here: model"},
		{"duplicate key", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nkind: Service\n", 4, 1, "", `key "kind" already set in map`},
		{"second document without separator", "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n...\napiVersion: v1\n", 1, 1, "", "second document"},
		{"YAML 1.1 boolean", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n", 4, 1, "metadata.name", `expected a string, got string "n", which YAML 1.1 reads as a boolean: quote it`},
		{"content on separator line", "--- {a: b}\n", 1, 1, "", `content after "---"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := MustFail(t, Loader{}, tc.doc)
			e := errs[0]
			if e.Line != tc.wantLine || e.DocLine != tc.wantDoc || e.Field != tc.wantField || !strings.Contains(e.Err.Error(), tc.wantMsg) {
				t.Errorf("got line %d, document line %d, field %q, %q\nwant line %d, document line %d, field %q, containing %q",
					e.Line, e.DocLine, e.Field, e.Err, tc.wantLine, tc.wantDoc, tc.wantField, tc.wantMsg)
			}
		})
	}
}

func TestAllErrorsReportedSortedByLine(t *testing.T) {
	data, err := os.ReadFile("testdata/invalid-many-errors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	errs := MustFail(t, Loader{}, string(data))
	if len(errs) < 8 {
		t.Errorf("got %d errors, want every problem in the file (at least 8)", len(errs))
	}
	if !slices.IsSortedFunc(errs, func(a, b *Error) int { return a.Line - b.Line }) {
		t.Errorf("errors not sorted by line: %v", errs)
	}
}

func TestLoadDirectory(t *testing.T) {
	set, err := Load("testdata/dir-valid")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Namespaces) != 1 || len(set.Services) != 1 || len(set.Gateways) != 1 || len(set.HTTPRoutes) != 1 || set.Len() != 4 {
		t.Errorf("loaded %d objects, want namespace, service, gateway and nested route: %+v", set.Len(), set)
	}
	t.Run("duplicates across files", func(t *testing.T) {
		_, err := Load("testdata/dir-valid", "testdata/valid-example1-httproute.yaml")
		if err == nil || !strings.Contains(err.Error(), "defined twice: first at testdata/dir-valid/nested/route.yaml:1") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("missing path", func(t *testing.T) {
		_, err := Load("testdata/does-not-exist")
		if err == nil || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want not-exist", err)
		}
	})
	t.Run("directory without manifests", func(t *testing.T) {
		if _, err := Load(t.TempDir()); err == nil {
			t.Error("an empty directory loaded without error")
		}
	})
}

func TestOutputSorted(t *testing.T) {
	set := MustDecode(t, Loader{}, `apiVersion: v1
kind: Service
metadata: {name: b, namespace: ns2}
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: ns2}
---
apiVersion: v1
kind: Service
metadata: {name: z, namespace: ns1}
`)
	var got []string
	for _, s := range set.Services {
		got = append(got, s.Namespace+"/"+s.Name)
	}
	if want := []string{"ns1/z", "ns2/a", "ns2/b"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}
