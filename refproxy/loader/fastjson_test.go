package loader

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	sigsjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"

	yaml "go.yaml.in/yaml/v3"
)

// checkNodeJSON fails when nodeJSON converts doc to a value other than the
// one sigs.k8s.io/yaml's YAML 1.1 reading gives; declining is always fine.
// It reports whether nodeJSON converted it.
func checkNodeJSON(t *testing.T, doc []byte) bool {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal(doc, &n); err != nil || len(n.Content) == 0 || bytes.IndexByte(doc, '!') >= 0 {
		return false // documentJSON never converts a document with a tag
	}
	var b bytes.Buffer
	if !nodeJSON(&b, n.Content[0]) {
		return false
	}
	want, err := sigsyaml.YAMLToJSONStrict(doc)
	if err != nil {
		t.Fatalf("node tree converted, but the YAML 1.1 reader refuses the document (%v):\n%s", err, doc)
	}
	var got, exp any
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(b.Bytes(), &got); err != nil {
		t.Fatalf("converted JSON does not parse (%v): %s", err, b.Bytes())
	}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(want, &exp); err != nil {
		return true // numbers encoding/json cannot hold; not nodeJSON's business
	}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("node tree gives %s, YAML 1.1 gives %s, for:\n%s", b.Bytes(), want, doc)
	}
	return true
}

// TestNodeJSONAgreesWithYAML11 covers the scalars where YAML 1.1 and 1.2
// differ: each must be declined or converted to the YAML 1.1 value.
func TestNodeJSONAgreesWithYAML11(t *testing.T) {
	for _, tc := range []struct {
		doc      string
		fastPath bool
	}{
		{"kind: Service\nmetadata: {name: s, labels: {a: \"1\"}}\nspec: {ports: [{port: 80}], x: null, yy: true, z: ~, w: }\n", true},
		{"a: 'single'\nb: \"double \\u00e9\"\nc: |\n  literal\n", true},
		{"a: -5\nb: 0\n", true},
		{"a: yes\n", false},
		{"a: on\n", false},
		{"a: y\n", false},
		{"a: True\n", false},
		{"a: 0777\n", false},
		{"a: 0x1F\n", false},
		{"a: 1_000\n", false},
		{"a: 1:20\n", false},
		{"a: 1.5\n", false},
		{"a: .inf\n", false},
		{"a: 2001-12-14\n", false},
		{"a: 99999999999999999999\n", false},
		{"a: &x 1\nb: *x\n", false},
		{"base: &b {x: 1}\nd:\n  <<: *b\n", false},
		{"a: !!str 5\n", false},
		{"a: 1\na: 2\n", false},
		{"80: http\n", false},
		{"? [a]\n: b\n", false},
		{"a: NULL\n", false},
		{"a: 127.0.0.1\n", false},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			if got := checkNodeJSON(t, []byte(tc.doc)); got != tc.fastPath {
				t.Errorf("converted from the node tree: %v, want %v", got, tc.fastPath)
			}
		})
	}
}

// FuzzNodeJSON checks that the node tree is never converted to a value the
// YAML 1.1 reader would read differently.
func FuzzNodeJSON(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		chunks, _ := splitDocuments(data)
		for _, ch := range chunks {
			f.Add(ch.data)
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte) { checkNodeJSON(t, doc) })
}
