package peers

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/ from the templates")

func fixedConfig(weights ...int) Config {
	c := Config{Dir: "/run/peer", Listen: "127.0.0.1:18080", Host: Host}
	for i, w := range weights {
		c.Backends = append(c.Backends, Backend{
			Name:   "helloworld-v" + string(rune('1'+i)),
			Addr:   "127.0.0.1:1500" + string(rune('1'+i)),
			Weight: w,
		})
	}
	return c
}

// TestRenderGolden renders every peer's template for the doc's 10/10/80
// and compares it with testdata/golden/ (go test -update rewrites them):
// a template change shows up as a reviewed diff of the real configuration.
func TestRenderGolden(t *testing.T) {
	names := []string{misrouteTemplate}
	for _, p := range Peers() {
		names = append(names, p.Template)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			got, err := Render(name, fixedConfig(10, 10, 80))
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".tmpl"))
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", name, golden, got)
			}
		})
	}
}

func TestConfigHelpers(t *testing.T) {
	tests := []struct {
		weights  []int
		percents []string
		repeated []string
		text     string
	}{
		{[]int{10, 10, 80}, []string{"10.00%", "10.00%", "*"}, []string{"helloworld-v1", "helloworld-v2", "helloworld-v3", "helloworld-v3", "helloworld-v3", "helloworld-v3", "helloworld-v3", "helloworld-v3", "helloworld-v3", "helloworld-v3"}, "10/10/80"},
		{[]int{20, 20, 60}, []string{"20.00%", "20.00%", "*"}, []string{"helloworld-v1", "helloworld-v2", "helloworld-v3", "helloworld-v3", "helloworld-v3"}, "20/20/60"},
		// Shares that are not whole percentages are rounded down to
		// split_clients' two decimals; the last backend takes the rest.
		{[]int{1, 2, 3}, []string{"16.66%", "33.33%", "*"}, []string{"helloworld-v1", "helloworld-v2", "helloworld-v2", "helloworld-v3", "helloworld-v3", "helloworld-v3"}, "1/2/3"},
	}
	for _, tt := range tests {
		t.Run(fixedConfig(tt.weights...).Weights(), func(t *testing.T) {
			c := fixedConfig(tt.weights...)
			if got := c.Weights(); got != tt.text {
				t.Errorf("Weights() = %q, want %q", got, tt.text)
			}
			if got := c.Percents(); !slices.Equal(got, tt.percents) {
				t.Errorf("Percents() = %q, want %q", got, tt.percents)
			}
			var names []string
			for _, b := range c.Repeated() {
				names = append(names, b.Name)
			}
			if !slices.Equal(names, tt.repeated) {
				t.Errorf("Repeated() = %q, want %q", names, tt.repeated)
			}
		})
	}
}

func TestRenderRejects(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"zero weight", fixedConfig(10, 0, 90), "weight 0"},
		{"no backends", fixedConfig(), "no backends"},
		{"bad listen address", func() Config { c := fixedConfig(1); c.Listen = "nowhere"; return c }(), `listen address "nowhere"`},
		{"missing dir", func() Config { c := fixedConfig(1); c.Dir = ""; return c }(), "needs Dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render("nginx-swrr.conf.tmpl", tt.c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Render error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := Render("no-such.tmpl", fixedConfig(1)); err == nil {
		t.Fatal("Render of an unknown template succeeded")
	}
}
