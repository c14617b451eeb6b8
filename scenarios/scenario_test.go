package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestBuiltinExpected(t *testing.T) {
	all, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"example1-ab-testing": "v1=10 v2=10 v3=80",
		"example2-llm":        "gpt-4o-mini-2024-07-18=80 gpt-4o-2024-08-06=20",
		// Expected is the route's split; the faults apply on top of it.
		"example2-llm-faults": "gpt-4o-mini-2024-07-18=80 gpt-4o-2024-08-06=20",
	}
	got := map[string]string{}
	for _, s := range all {
		cats, err := s.Expected()
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		var parts []string
		for _, c := range cats {
			parts = append(parts, c.Name+"="+itoa(int(c.Weight)))
		}
		got[s.Name] = strings.Join(parts, " ")
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s expected split = %q, want %q", name, got[name], w)
		}
	}
}

// TestSampleAppVerbatim guards the promise that the sample app is the
// upstream file byte for byte.
func TestSampleAppVerbatim(t *testing.T) {
	ref := filepath.Join("..", "..", "shared", "reference", "helloworld.yaml")
	want, err := os.ReadFile(ref)
	if err != nil {
		t.Skipf("reference copy not beside the checkout: %v", err)
	}
	got, err := os.ReadFile("example1-ab-testing/manifests/helloworld.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatal("scenarios/example1-ab-testing/manifests/helloworld.yaml differs from the reference sample app")
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestLoadErrors(t *testing.T) {
	route := "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: ns}\nspec:\n  rules:\n  - backendRefs: [{name: a, port: 80, weight: 3}, {name: b, port: 80}]\n"
	base := "name: x\nmanifests: [{file: m.yaml}]\nroute: ns/r\nclassify: {regexp: 'v(\\d)'}\nsnippets: [{name: s, script: 'curl x'}]\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"ok", base + "categories: {a: A, b: B}\n", ""},
		{"unknown field", base + "categories: {a: A, b: B}\nwieght: 3\n", `unknown field "wieght"`},
		{"missing category", base + "categories: {a: A}\n", `backendRef "b"`},
		{"extra category", base + "categories: {a: A, b: B, c: C}\n", `"c" is not a backendRef`},
		{"no capture group", strings.Replace(base, "v(\\d)", "v\\d", 1) + "categories: {a: A, b: B}\n", "needs a capture group"},
		{"missing route", strings.Replace(base, "ns/r", "ns/other", 1) + "categories: {a: A, b: B}\n", "not in the manifests"},
		{"missing file", strings.Replace(base, "m.yaml", "nope.yaml", 1) + "categories: {a: A, b: B}\n", `"nope.yaml"`},
		{"unknown nested field", strings.Replace(base, "regexp:", "rgexp:", 1) + "categories: {a: A, b: B}\n", `dir/scenario.yaml:4: classify: unknown field "rgexp" (known fields: regexp, jq)`},
		{"number for a category", base + "categories: {a: A, b: 500}\n", `dir/scenario.yaml:6: categories.b: expected a string, got int 500 (quote it to mean the text)`},
		{"repeated field", base + "categories: {a: A, b: B}\nroute: ns/s\n", `dir/scenario.yaml:7: route: field given twice (first at line 3)`},
		{"two documents", base + "categories: {a: A, b: B}\n---\nname: y\n", `dir/scenario.yaml:7: expected one YAML document, found another`},
		{"every problem", "name: x\nmanifests: []\nroute: r\nclassify: {}\nsnippets: [{name: s}]\n", "dir/scenario.yaml:2: manifests: at least one manifest is required\ndir/scenario.yaml:3: route: \"r\" must be namespace/name\ndir/scenario.yaml:4: classify: set one of regexp or jq\ndir/scenario.yaml:5: snippets[0]: name and script are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"dir/scenario.yaml": {Data: []byte(tt.yaml)}, "dir/m.yaml": {Data: []byte(route)}}
			s, err := Load(fsys, "dir")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				cats, _ := s.Expected()
				if len(cats) != 2 || cats[0].Weight != 3 || cats[1].Weight != 1 {
					t.Fatalf("expected split %+v, want a=3 b=1 (unset weight is 1)", cats)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to mention %s", err, tt.want)
			}
			if !strings.Contains(err.Error(), "dir/scenario.yaml") {
				t.Fatalf("error %v does not name the file", err)
			}
		})
	}
}
