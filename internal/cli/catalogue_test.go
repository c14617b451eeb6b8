package cli

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateBadInputs = flag.Bool("update-bad-inputs", false, "rewrite testdata/bad/messages.golden from the current messages")

// badInputs is the catalogue of the project's own files gone wrong: scenario
// folders (run with `replay DIR`) and counts files (`verify --file`). The
// manifests' catalogue is refproxy/filemode/testdata/bad (with
// TestProxyBadManifestCatalogue), the flags' TestBadFlagValues and
// TestProxyBadFlagValues.
const badInputs = "testdata/bad"

// locatedMessage is the shape of every refusal: the file, the line, then
// the field ("categories: …", "counts[\"v2\"] …", "unknown field …").
var locatedMessage = regexp.MustCompile(`^splitproof: \S+(/scenario\.yaml|\.json):(\d+): `)

// fieldlessInputs are the entries whose message names a line but no field,
// and why.
var fieldlessInputs = map[string]string{
	"scenarios/yaml-syntax":   "YAML syntax: the parser names the line only",
	"scenarios/not-a-mapping": "the whole document is wrong",
	"counts/syntax-error":     "JSON syntax: the line only",
	"counts/not-an-object":    "the whole document is wrong",
	"counts/trailing-data":    "data after the document",
}

// fieldName is how the message names a field after the location.
var fieldName = regexp.MustCompile(`^(invalid counts: )?((unknown field "[^"]+")|([a-z]+(\.[a-z]+|\[\d+\]|\["[^"]*"\])*( \([^)]*\))?(\.[a-z]+)?[ :])|(field "[^"]+"))`)

func TestBadInputCatalogue(t *testing.T) {
	scenarios, err := filepath.Glob(filepath.Join(badInputs, "scenarios", "*"))
	if err != nil {
		t.Fatal(err)
	}
	counts, err := filepath.Glob(filepath.Join(badInputs, "counts", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(scenarios) < 15 || len(counts) < 12 {
		t.Fatalf("the catalogue has %d scenario folders and %d counts files, want at least 15 and 12", len(scenarios), len(counts))
	}
	var got []string
	run := func(name string, args ...string) {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, args...)
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Fatalf("goroutine dump:\n%s", stderr)
			}
			if code != ExitBadInput {
				t.Fatalf("exit %d, want %d\n%s%s", code, ExitBadInput, stdout, stderr)
			}
			first, _, _ := strings.Cut(stderr, "\n")
			m := locatedMessage.FindStringIndex(first)
			if m == nil {
				t.Fatalf("message does not start with file:line: %q", first)
			}
			if _, ok := fieldlessInputs[name]; !ok && !fieldName.MatchString(first[m[1]:]) {
				t.Errorf("message names no field after the line: %q", first)
			}
			got = append(got, name+": "+strings.TrimPrefix(first, "splitproof: "))
		})
	}
	for _, dir := range scenarios {
		run("scenarios/"+filepath.Base(dir), "replay", "--requests", "10", dir)
	}
	for _, f := range counts {
		run("counts/"+strings.TrimSuffix(filepath.Base(f), ".json"), "verify", "--file", f)
	}
	golden := filepath.Join(badInputs, "messages.golden")
	text := strings.Join(got, "\n") + "\n"
	if *updateBadInputs {
		if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -run TestBadInputCatalogue -update-bad-inputs)", err)
	}
	if string(want) != text {
		t.Errorf("messages differ from %s (rerun with -update-bad-inputs and review):\n--- got ---\n%s", golden, text)
	}
}
