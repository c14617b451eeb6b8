package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/splitproof/splitproof/refproxy/proxy"
)

var updateProxyBad = flag.Bool("update-proxy-bad", false, "rewrite refproxy/filemode/testdata/bad.golden from the current messages")

// badManifests is the catalogue of manifests file mode must refuse.
const badManifests = "../../refproxy/filemode/testdata/bad"

// fieldless are the catalogue entries whose message names a line but no
// field, and why.
var fieldless = map[string]string{
	"document-not-an-object.yaml": "the whole document is wrong",
	"yaml-duplicate-key.yaml":     "YAML syntax: the line is the key's",
	"yaml-syntax-error.yaml":      "YAML syntax",
	"yaml-tab-indentation.yaml":   "YAML syntax",
	"secret-data-not-base64.yaml": "the loader's base64 decoder does not say which key; the line is the document's",
}

// messageShape is what every refusal looks like: the load error, then the
// file and line, the object when it is known and the document's line.
var messageShape = regexp.MustCompile(`^splitproof: load (\S+\.yaml): (\S+\.yaml):(\d+): ([A-Za-z]+ (\S+ )?)?\(document at line \d+\): (.+)$`)

// TestProxyBadManifestCatalogue runs `splitproof proxy --config FILE` on
// every manifest of the catalogue: each is refused at start-up with exit
// code 2 and one message naming the file, the line and (but for YAML syntax
// errors) the field, as bad.golden records it; none makes the process
// panic or start serving.
func TestProxyBadManifestCatalogue(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(badManifests, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("the catalogue has %d manifests, want at least 30", len(files))
	}
	goldenPath := badManifests + ".golden"
	var got []string
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "proxy", "--config", path, "--admin", "", "--port-map", "80=127.0.0.1:0")
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Fatalf("goroutine dump:\n%s", stderr)
			}
			if code != ExitBadInput {
				t.Fatalf("exit %d, want %d\n%s%s", code, ExitBadInput, stdout, stderr)
			}
			if strings.Contains(stderr, "routing table installed") || strings.Contains(stderr, "msg=listening") {
				t.Errorf("a refused configuration was served:\n%s", stderr)
			}
			var msg string
			for l := range strings.SplitSeq(stderr, "\n") {
				if strings.HasPrefix(l, "splitproof: ") {
					msg = l
				}
			}
			m := messageShape.FindStringSubmatch(msg)
			if m == nil || m[1] != path || m[2] != path {
				t.Fatalf("message does not name the file and line:\n%s", msg)
			}
			detail := m[6]
			if _, ok := fieldless[name]; !ok && !regexp.MustCompile(`^[a-zA-Z][\w.\[\]]*: `).MatchString(detail) {
				t.Errorf("message names no field: %s", detail)
			}
			got = append(got, name+": "+strings.ReplaceAll(strings.TrimPrefix(msg, "splitproof: load "+path+": "), path, name))
		})
	}
	if t.Failed() {
		return
	}
	slices.Sort(got)
	text := strings.Join(got, "\n") + "\n"
	if *updateProxyBad {
		if err := os.WriteFile(goldenPath, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run with -update-proxy-bad to create it)", err)
	}
	if string(want) != text {
		t.Errorf("messages differ from %s (run with -update-proxy-bad after checking them):\n%s", goldenPath, lineDiff(string(want), text))
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}

// TestProxyBadFlagValues: duration flags that were accepted (a negative
// drain, polling every nanosecond) are bad input, exit 2, with a message
// naming the flag and what it expects.
func TestProxyBadFlagValues(t *testing.T) {
	path := writeConfig(t, validConfig)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"poll 1ns", []string{"--poll-interval", "1ns"}, "--poll-interval 1ns: expected 0 (no watching) or at least 100ms"},
		{"poll negative", []string{"--poll-interval", "-1s"}, "--poll-interval -1s: expected 0 (no watching) or at least 100ms"},
		{"drain negative", []string{"--drain-timeout", "-5s"}, "--drain-timeout -5s: expected a positive duration"},
		{"drain zero", []string{"--drain-timeout", "0s"}, "--drain-timeout 0s: expected a positive duration"},
		{"upstream timeout negative", []string{"--upstream-timeout", "-1s"}, "--upstream-timeout -1s: expected a positive duration, or 0 to disable it"},
		{"upstream timeout 1ns", []string{"--upstream-timeout", "1ns"}, "--upstream-timeout 1ns: expected at least 1ms"},
		{"body timeout negative", []string{"--request-body-timeout", "-1ms"}, "--request-body-timeout -1ms: expected a positive duration, or 0 to disable it"},
		{"not a duration", []string{"--poll-interval", "soon"}, "poll-interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"proxy", "--config", path, "--admin", "", "--port-map", "80=127.0.0.1:0"}, tc.args...)
			code, _, stderr := runCLI(t, args...)
			if strings.Contains(stderr, "goroutine ") {
				t.Fatalf("goroutine dump:\n%s", stderr)
			}
			if code != ExitBadInput || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d; stderr does not contain %q:\n%s", code, ExitBadInput, tc.want, stderr)
			}
		})
	}
	// Controller mode does not take the file-mode timeouts: refusing them
	// beats ignoring them.
	code, _, stderr := runCLI(t, "proxy", "--controller", "--upstream-timeout", "1m")
	if code != ExitBadInput || !strings.Contains(stderr, "--upstream-timeout and --request-body-timeout apply in file mode") {
		t.Errorf("controller mode with --upstream-timeout: exit %d:\n%s", code, stderr)
	}
}

// TestProxyTimeoutDefaultsDocumented: the help text states the defaults
// the proxy package applies.
func TestProxyTimeoutDefaultsDocumented(t *testing.T) {
	for flagName, d := range map[string]string{
		"--upstream-timeout (default 5m)":     strings.TrimSuffix(proxy.DefaultUpstreamTimeout.String(), "0s"),
		"--request-body-timeout (default 1m)": strings.TrimSuffix(proxy.DefaultRequestBodyTimeout.String(), "0s"),
	} {
		if !strings.Contains(flagName, "(default "+d+")") || !strings.Contains(strings.Join(strings.Fields(proxySynopsis), " "), flagName) {
			t.Errorf("the synopsis does not say %q (the default is %s)", flagName, d)
		}
	}
}

// TestFakeOpenAIBadLimits: fakeopenai's size limits must be positive.
func TestFakeOpenAIBadLimits(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-body-bytes", "0"}, "--max-body-bytes 0: expected a positive number of bytes"},
		{[]string{"--max-embedding-values", "-1"}, "--max-embedding-values -1: expected a positive number"},
	} {
		code, _, stderr := runCLI(t, append([]string{"fakeopenai", "--listen", "127.0.0.1:0"}, tc.args...)...)
		if code != ExitBadInput || !strings.Contains(stderr, tc.want) {
			t.Errorf("fakeopenai %q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, ExitBadInput, tc.want)
		}
	}
}
