package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// MustReadFile reads a testdata file.
func MustReadFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// MustMatchGolden compares got with testdata/name, rewriting it under -update.
func MustMatchGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestDecodeCounts(t *testing.T) {
	cf, err := DecodeCounts(bytes.NewReader(MustReadFile(t, "valid-helloworld.json")), "valid-helloworld.json")
	if err != nil {
		t.Fatal(err)
	}
	if cf.Scenario != "traffic-split 10/10/80" || len(cf.Categories) != 3 || cf.Counts["helloworld-v3"] != 802 || cf.Alpha != 0.001 {
		t.Errorf("decoded %+v", cf)
	}
	_, err = DecodeCounts(bytes.NewReader(MustReadFile(t, "invalid-unknown-field.json")), "invalid-unknown-field.json")
	if err == nil || !strings.Contains(err.Error(), `"alhpa"`) || !strings.Contains(err.Error(), "invalid-unknown-field.json") {
		t.Errorf("unknown field: err = %v, want it to name the file and the field", err)
	}
	for _, tt := range []struct{ name, doc, want string }{
		{"syntax", "{\n\"categories\": [,]}", "x.json:2:"},
		{"type", `{"categories": [{"name": "a", "weight": "ten"}], "counts": {}}`, "weight"},
		{"trailing", `{"categories": [{"name": "a", "weight": 1}], "counts": {"a": 1}} {}`, "trailing"},
		{"no categories", `{"categories": [], "counts": {}}`, "categories: none"},
		{"duplicate", `{"categories": [{"name": "a", "weight": 1}, {"name": "a", "weight": 2}], "counts": {}}`, "appears twice"},
		{"empty name", `{"categories": [{"name": "", "weight": 1}], "counts": {}}`, "name is empty"},
		{"negative weight", `{"categories": [{"name": "a", "weight": -1}], "counts": {}}`, "weight is -1"},
		{"all zero", `{"categories": [{"name": "a", "weight": 0}], "counts": {}}`, "every weight is 0"},
		{"negative count", `{"categories": [{"name": "a", "weight": 1}], "counts": {"a": -4}}`, "negative"},
		{"missing counts", `{"categories": [{"name": "a", "weight": 1}]}`, "counts: missing"},
		{"alpha", `{"categories": [{"name": "a", "weight": 1}], "counts": {}, "alpha": 2}`, "alpha is 2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeCounts(strings.NewReader(tt.doc), "x.json")
			if !errors.Is(err, ErrCounts) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "x.json") {
				t.Errorf("err = %v, want ErrCounts mentioning %q and the file", err, tt.want)
			}
		})
	}
}

// MustVerify runs Verify and fails the test on error.
func MustVerify(t *testing.T, cf CountsFile) Verdict {
	t.Helper()
	v, err := Verify(cf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerify(t *testing.T) {
	hello := []Category{{"helloworld-v1", 10}, {"helloworld-v2", 10}, {"helloworld-v3", 80}}
	tests := []struct {
		name     string
		cf       CountsFile
		outcome  Outcome
		method   Method
		failures []string
		status   map[string]string
	}{
		{"correct split", CountsFile{Categories: hello, Counts: map[string]int64{"helloworld-v1": 103, "helloworld-v2": 95, "helloworld-v3": 802}},
			OutcomePass, MethodPearson, nil, map[string]string{"helloworld-v1": StatusOK}},
		{"v1 starved", CountsFile{Categories: hello, Counts: map[string]int64{"helloworld-v1": 40, "helloworld-v2": 100, "helloworld-v3": 860}},
			OutcomeFail, MethodPearson, []string{"largest deviation helloworld-v1"}, map[string]string{"helloworld-v1": StatusOff, "helloworld-v2": StatusOK}},
		{"weight 0 hit", CountsFile{Categories: []Category{{"a", 70}, {"b", 30}, {"c", 0}}, Counts: map[string]int64{"a": 350, "b": 148, "c": 2}},
			OutcomeFail, MethodPearson, []string{"backend c has weight 0 but received 2 responses"}, map[string]string{"c": StatusWeightZero}},
		{"unexpected", CountsFile{Categories: []Category{{"a", 70}, {"b", 30}}, Counts: map[string]int64{"a": 350, "b": 148, "502": 2}},
			OutcomeFail, MethodPearson, []string{`2 responses fit no expected category ("502")`}, map[string]string{"502": StatusUnexpected}},
		{"invalid backend share answered 500", CountsFile{Categories: []Category{{"a", 50}, {"500", 50}}, Counts: map[string]int64{"a": 520, "500": 480}},
			OutcomePass, MethodPearson, nil, nil},
		// 90% intervals at n = 500: 0.52 gives [0.483, 0.557], past 0.55.
		{"no deviation but too wide to certify", CountsFile{Categories: []Category{{"a", 50}, {"500", 50}}, Counts: map[string]int64{"a": 260, "500": 240}},
			OutcomeInconclusive, MethodPearson, nil, nil},
		// A single share at 1 certifies once (beta/2)^(1/n) >= 0.95: n >= 59.
		{"single backend", CountsFile{Categories: []Category{{"only", 1}}, Counts: map[string]int64{"only": 59}},
			OutcomePass, MethodSingle, nil, nil},
		{"single backend too few", CountsFile{Categories: []Category{{"only", 1}}, Counts: map[string]int64{"only": 58}},
			OutcomeInconclusive, MethodSingle, nil, nil},
		{"small counts use exact", CountsFile{Categories: hello, Counts: map[string]int64{"helloworld-v1": 4, "helloworld-v2": 1, "helloworld-v3": 5}},
			OutcomeInconclusive, MethodExact, nil, nil},
		{"one category carrying everything", CountsFile{Categories: hello, Counts: map[string]int64{"helloworld-v3": 1000}},
			OutcomeFail, MethodPearson, []string{"largest deviation helloworld-v"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := MustVerify(t, tt.cf)
			if v.Outcome != tt.outcome || v.Pass != (tt.outcome == OutcomePass) || v.Test.Method != tt.method {
				t.Errorf("outcome = %s (%s), want %s (%s); failures %q", v.Outcome, v.Test.Method, tt.outcome, tt.method, v.Failures)
			}
			if tt.outcome == OutcomeInconclusive && (v.MoreRequests <= 0 || v.MoreRequestsBasis == "" || !strings.Contains(v.Inconclusive, "not verified within")) {
				t.Errorf("inconclusive without its reason or estimate: %q, %d more (%s)", v.Inconclusive, v.MoreRequests, v.MoreRequestsBasis)
			}
			joined := strings.Join(v.Failures, "\n")
			for _, f := range tt.failures {
				if !strings.Contains(joined, f) {
					t.Errorf("failures %q lack %q", v.Failures, f)
				}
			}
			for _, r := range v.Categories {
				if want, ok := tt.status[r.Name]; ok && r.Status != want {
					t.Errorf("%s status = %s, want %s", r.Name, r.Status, want)
				}
			}
		})
	}
	if _, err := Verify(CountsFile{Categories: hello, Counts: map[string]int64{}}, Options{}); !errors.Is(err, ErrCounts) {
		t.Errorf("zero counts: err = %v, want ErrCounts", err)
	}
	single := MustVerify(t, CountsFile{Categories: []Category{{"only", 1}}, Counts: map[string]int64{"only": 5}})
	if single.Power != nil {
		t.Errorf("single backend: power = %+v, want none", single.Power)
	}
}

func TestVerdictRendering(t *testing.T) {
	cf, err := DecodeCounts(bytes.NewReader(MustReadFile(t, "valid-helloworld.json")), "valid-helloworld.json")
	if err != nil {
		t.Fatal(err)
	}
	v := MustVerify(t, cf)
	var table, js bytes.Buffer
	if err := v.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if err := v.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	MustMatchGolden(t, "helloworld.table.golden", table.Bytes())
	MustMatchGolden(t, "helloworld.json.golden", js.Bytes())
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"pass", "alpha", "n", "test", "categories", "power", "failures", "interval_level"} {
		if _, ok := back[field]; !ok {
			t.Errorf("JSON lacks field %q", field)
		}
	}
	png := filepath.Join(t.TempDir(), "v.png")
	if err := v.Plot(png); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("plot is not a PNG (err %v)", err)
	}
}

func TestPowerTableGolden(t *testing.T) {
	rows, err := PowerTable([][]int32{{10, 10, 80}, {80, 20}}, []int64{50, 500, 590, 1000, 10000}, []float64{0.02, 0.05}, DefaultAlpha)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WritePowerTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	MustMatchGolden(t, "power-table.golden", b.Bytes())
	// The package documentation shows the same table, indented by a tab.
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		// gofmt trims the table's common indentation in doc.go.
		if !strings.Contains(string(doc), strings.TrimLeft(line, " ")+"\n") {
			t.Errorf("doc.go lacks the power table line %q", line)
		}
	}
}

// TestVerifyBeta: beta sets the certification level (a larger false-pass
// rate, narrower intervals); out of range it is an input error.
func TestVerifyBeta(t *testing.T) {
	// 83 of 100 against 80/20: p = 0.45, no rejection.
	cf := CountsFile{Categories: []Category{{"a", 80}, {"b", 20}}, Counts: map[string]int64{"a": 83, "b": 17}}
	for _, tt := range []struct {
		beta, delta float64
		want        Outcome
		level       float64
	}{
		{0, 0.1, OutcomePass, 0.9},          // [0.7560, 0.8887] within [0.70, 0.90]
		{0, 0.08, OutcomeInconclusive, 0.9}, // but not within [0.72, 0.88]
		{0.5, 0.08, OutcomePass, 0.5},       // [0.7973, 0.8579] is
	} {
		v, err := Verify(cf, Options{Beta: tt.beta, Delta: tt.delta})
		if err != nil {
			t.Fatal(err)
		}
		if v.Outcome != tt.want || v.CertifyLevel != tt.level {
			t.Errorf("beta %v delta %v: %s at level %v (p %v, a %+v), want %s at %v", tt.beta, tt.delta, v.Outcome, v.CertifyLevel, v.Test.PValue, v.Categories[0].Certify, tt.want, tt.level)
		}
	}
	if _, err := Verify(cf, Options{Beta: 1}); !errors.Is(err, ErrCounts) || !strings.Contains(err.Error(), "beta 1") {
		t.Errorf("beta 1: err %v", err)
	}
}
