package scenarios

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzLoad feeds arbitrary bytes as a scenario.yaml: Load must never panic,
// and every error must name the file.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"example1-ab-testing", "example2-llm", "canary-ramp", "weight-zero"} {
		b, err := os.ReadFile(dir + "/scenario.yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("name: x\nunknown: 1\n"))
	f.Add([]byte("manifests: [{file: ../../../etc/passwd}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		root := fstest.MapFS{"s/scenario.yaml": {Data: data}}
		s, err := Load(root, "s")
		if err != nil {
			if !strings.Contains(err.Error(), "s/scenario.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if s.Name == "" {
			t.Fatalf("accepted a scenario without a name: %q", data)
		}
	})
}
