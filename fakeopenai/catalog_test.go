package fakeopenai_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splitproof/splitproof/fakeopenai"
)

const header = "apiVersion: fakeopenai.splitproof.dev/v1alpha1\nkind: ModelCatalog\n"

func TestParseCatalogValid(t *testing.T) {
	tests := []struct {
		file       string
		name, want string
		models     int
	}{
		{"testdata/valid-catalog.yaml", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 3},
		{"testdata/valid-catalog.yaml", "gpt-4o-2024-08-06", "gpt-4o-2024-08-06", 3},
		{"testdata/valid-catalog.json", "my-model", "my-model-2025-01-01", 1},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file)+"/"+tt.name, func(t *testing.T) {
			c, err := fakeopenai.LoadCatalog(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			m, ok := c.Resolve(tt.name)
			if !ok || m.ID != tt.want {
				t.Errorf("Resolve(%q) = %q, %v; want %q", tt.name, m.ID, ok, tt.want)
			}
			if len(c.Models()) != tt.models {
				t.Errorf("%d models, want %d", len(c.Models()), tt.models)
			}
			if m.OwnedBy != "system" {
				t.Errorf("owned_by defaults to %q", m.OwnedBy)
			}
		})
	}
}

func TestParseCatalogInvalid(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // substring of the error, which starts with file:line
	}{
		{"unknown field", header + "models:\n- id: a\n  type: chat\n  colour: red\n", `cat.yaml:6: models[0]: unknown field "colour" (known fields: id, aliases, type, created, ownedBy, dimensions)`},
		{"unknown top-level field", header + "modles: []\n", `cat.yaml:3: unknown field "modles" (known fields: apiVersion, kind, models)`},
		{"wrong type", header + "models:\n- id: a\n  type: chat\n  created: yesterday\n", "cat.yaml:6: models[0].created: cannot unmarshal !!str `yesterday` into int64"},
		{"aliases not a list", header + "models:\n- id: a\n  type: chat\n  aliases: b\n", "cat.yaml:6: models[0].aliases: cannot unmarshal !!str `b` into []string"},
		{"unknown type", header + "models:\n- id: a\n  type: audio\n", `cat.yaml:4: models[0]: type: unknown model type "audio"`},
		{"missing id", header + "models:\n- type: chat\n", "cat.yaml:4: models[0].id: required field is missing"},
		{"duplicate name", header + "models:\n- id: a\n  type: chat\n- id: b\n  aliases: [a]\n  type: chat\n", `cat.yaml:6: models[1]: name "a" is already used by a`},
		{"duplicate key", header + "models:\n- id: a\n  id: b\n  type: chat\n", "cat.yaml:5: models[0].id: field given twice (first at line 4)"},
		{"embedding without dimensions", header + "models:\n- id: e\n  type: embedding\n", "cat.yaml:4: models[0]: dimensions"},
		{"no models", header + "models: []\n", "cat.yaml:3: models: the catalogue has no models"},
		{"wrong kind", "apiVersion: fakeopenai.splitproof.dev/v1alpha1\nkind: Other\nmodels: []\n", `cat.yaml:2: kind: want "ModelCatalog", got "Other"`},
		{"syntax error", header + "models: [\n", "cat.yaml:3: did not find expected node content"},
		{"empty", "", "cat.yaml:1: expected a mapping with the fields apiVersion, kind, models"},
		{"number where a name goes", header + "models:\n- id: 4\n  type: chat\n", "cat.yaml:4: models[0].id: expected a string, got int 4 (quote it to mean the text)"},
		{"no models field", header, "cat.yaml:1: models: required field is missing"},
		{"alias of a mapping", header + "m: &m {id: a, type: chat}\nmodels: [*m]\n", `cat.yaml:3: unknown field "m"`},
		{"two documents", header + "models:\n- id: a\n  type: chat\n---\nfoo: 1\n", "cat.yaml:6: expected one YAML document, found another"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fakeopenai.ParseCatalog("cat.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadCatalogInvalidFile(t *testing.T) {
	_, err := fakeopenai.LoadCatalog("testdata/invalid-unknown-field.yaml")
	if err == nil || !strings.Contains(err.Error(), `testdata/invalid-unknown-field.yaml:5: models[0]: unknown field "alias"`) {
		t.Errorf("error = %v", err)
	}
}

func TestParseKeys(t *testing.T) {
	keys, err := fakeopenai.ParseKeys("keys", []byte("# comment\nsk-one\n\nBearer sk-two\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != "sk-one" || keys[1] != "sk-two" {
		t.Errorf("keys = %q", keys)
	}
	if _, err := fakeopenai.ParseKeys("keys", []byte("sk-one\nsk two\n")); err == nil || !strings.Contains(err.Error(), "keys:2:") {
		t.Errorf("error = %v, want keys:2:", err)
	}
}

func TestParseFaultRates(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{"", "", ""},
		{"429=0.01,500=0.02", "429=0.01,500=0.02", ""},
		{"hang=0.5, cut=0.5", "hang=0.5,cut=0.5", ""},
		{"418=0.1", "", "unknown fault"},
		{"429=2", "", "must be in [0, 1]"},
		{"429=0.6,500=0.6", "", "sum to"},
		{"429", "", "want fault=probability"},
		{"429=0.1,429=0.2", "", "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := fakeopenai.ParseFaultRates(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.String() != tt.want {
				t.Errorf("String() = %q, want %q", r.String(), tt.want)
			}
		})
	}
}

func TestCountTokens(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"hello", 2},
		{"What is 2+2?", 6},
		{"  spaces   only  ", 3},
		{"abcd efgh", 2},
		{"naïve café", 3},
	}
	for _, tt := range tests {
		if got := fakeopenai.CountTokens(tt.in); got != tt.want {
			t.Errorf("CountTokens(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func FuzzParseCatalog(f *testing.F) {
	for _, file := range []string{"testdata/valid-catalog.yaml", "testdata/valid-catalog.json", "testdata/invalid-unknown-field.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := fakeopenai.ParseCatalog("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		// A catalogue that parses resolves every one of its names to itself.
		for _, m := range c.Models() {
			for _, name := range append([]string{m.ID}, m.Aliases...) {
				got, ok := c.Resolve(name)
				if !ok || got.ID != m.ID {
					t.Fatalf("Resolve(%q) = %q, %v; want %q", name, got.ID, ok, m.ID)
				}
			}
		}
	})
}
