package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/splitproof/splitproof/conformance/peers"
	"github.com/splitproof/splitproof/refproxy/loader"
	"github.com/splitproof/splitproof/refproxy/translate"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestQuantile(t *testing.T) {
	ds := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", ds(7), 0.99, 7},
		{"median of four is the second", ds(1, 2, 3, 4), 0.5, 2},
		{"p99 of 100 is the 99th", ds(hundred...), 0.99, 99},
		{"p50 of 100 is the 50th", ds(hundred...), 0.50, 50},
		{"p100 is the largest", ds(1, 2, 3), 1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := quantile(tc.sorted, tc.q); got != tc.want {
				t.Errorf("quantile(%v, %v) = %v, want %v", tc.sorted, tc.q, got, tc.want)
			}
		})
	}
}

func TestParseOptions(t *testing.T) {
	o, err := ParseOptions(nil, io.Discard)
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if o.Conns != 32 || o.Rounds != 3 || o.Duration != 3*time.Second || len(o.Weights) != 3 || len(o.Targets) != len(Targets()) {
		t.Errorf("defaults = %+v", o)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--duration", "11s"}, "--duration 11s"},
		{[]string{"--duration", "0s"}, "--duration 0s"},
		{[]string{"--connections", "0"}, "--connections 0"},
		{[]string{"--rounds", "0"}, "--rounds 0"},
		{[]string{"--warmup", "-1s"}, "--warmup -1s"},
		{[]string{"--weights", "10,x,80"}, `weight 2 ("x")`},
		{[]string{"--weights", "50,50"}, "need three"},
		{[]string{"--targets", "nginx,envoy"}, `unknown target "envoy"`},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := ParseOptions(tc.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestTargets checks that every peer the benchmark names exists in the
// conformance/peers catalogue (a renamed algorithm would drop its row).
func TestTargets(t *testing.T) {
	var names []string
	for _, tg := range Targets() {
		names = append(names, tg.Name)
		if tg.Gateway != "" && tg.Gateway != "refproxy" && tg.peer == nil {
			t.Errorf("%s has no peer template", tg.Name)
		}
	}
	want := "direct,nginx,haproxy,caddy,refproxy/random,refproxy/smooth"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("targets %s, want %s", got, want)
	}
}

func MustBackends(t *testing.T, weights ...int) *Backends {
	t.Helper()
	b, err := StartBackends(weights)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	return b
}

// TestMeasureDirect loads backend v1 for a short while: every answer is
// classified as v1 and the figures are consistent.
func TestMeasureDirect(t *testing.T) {
	b := MustBackends(t, 10, 10, 80)
	m, err := Measure(context.Background(), Load{
		Addr: b.List[0].Addr, Host: peers.Host, Path: "/hello", Conns: 4,
		Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond, Classify: b.Classify,
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.Requests == 0 || m.Errors != 0 {
		t.Fatalf("requests %d, errors %d (%s)", m.Requests, m.Errors, m.FirstError)
	}
	if m.Split["v1"] != m.Requests || len(m.Split) != 1 {
		t.Errorf("split %v of %d answers, want all v1", m.Split, m.Requests)
	}
	if m.P50Ms <= 0 || m.P50Ms > m.P99Ms {
		t.Errorf("p50 %v ms, p99 %v ms", m.P50Ms, m.P99Ms)
	}
	if want := float64(m.Requests) / 0.3; m.ReqPerS != want {
		t.Errorf("req/s %v, want %v", m.ReqPerS, want)
	}
}

// TestMeasureErrors: answers other than 200, and bodies no backend wrote,
// are told apart from the split.
func TestMeasureErrors(t *testing.T) {
	b := MustBackends(t, 1, 1, 1)
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		check   func(t *testing.T, m Measurement)
	}{
		{"404 is an error", func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) }, func(t *testing.T, m Measurement) {
			if m.Requests != 0 || m.Errors == 0 || !strings.Contains(m.FirstError, "status 404") {
				t.Errorf("requests %d, errors %d, first %q", m.Requests, m.Errors, m.FirstError)
			}
		}},
		{"unknown body is other", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hi") }, func(t *testing.T, m Measurement) {
			if m.Requests == 0 || m.Errors != 0 || m.Split["other"] != m.Requests {
				t.Errorf("requests %d, errors %d, split %v", m.Requests, m.Errors, m.Split)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			m, err := Measure(context.Background(), Load{
				Addr: strings.TrimPrefix(srv.URL, "http://"), Host: peers.Host, Path: "/hello", Conns: 2,
				Duration: 100 * time.Millisecond, Classify: b.Classify,
			})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, m)
		})
	}
}

// TestRenderRefproxy loads the rendered manifests as refproxy does and
// checks the route it serves: the host, the weights in order and each
// Service's endpoint.
func TestRenderRefproxy(t *testing.T) {
	backends := []peers.Backend{
		{Name: "helloworld-v1", Addr: "127.0.0.1:4001", Weight: 10},
		{Name: "helloworld-v2", Addr: "127.0.0.1:4002", Weight: 10},
		{Name: "helloworld-v3", Addr: "127.0.0.1:4003", Weight: 80},
	}
	yaml, err := RenderRefproxy(backends)
	if err != nil {
		t.Fatal(err)
	}
	set, err := loader.Decode("refproxy.yaml", yaml)
	if err != nil {
		t.Fatalf("load rendered manifests: %v\n%s", err, yaml)
	}
	res, err := translate.Translate(set, translate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "http://"+peers.Host+":8080/hello", nil)
	e := res.Table.Lookup(8080, req)
	if e == nil || e.Rule == nil {
		t.Fatalf("no route for %s on port 8080; warnings %v", req.Host, res.Warnings)
	}
	if len(e.Rule.Backends) != len(backends) {
		t.Fatalf("%d backends, want %d", len(e.Rule.Backends), len(backends))
	}
	for i, rb := range e.Rule.Backends {
		want := backends[i]
		if rb.Weight != int32(want.Weight) || len(rb.Endpoints) != 1 || rb.Endpoints[0] != want.Addr {
			t.Errorf("backend %d = %s weight %d endpoints %v, want weight %d at %s", i, rb.Name, rb.Weight, rb.Endpoints, want.Weight, want.Addr)
		}
	}
	if _, err := RenderRefproxy([]peers.Backend{{Name: "x", Addr: "no-port", Weight: 1}}); err == nil || !strings.Contains(err.Error(), `"no-port"`) {
		t.Errorf("bad address: error %v", err)
	}
}

// TestWriteTable compares the table and the JSON of a fixed report, with
// ratios to nginx, with their golden files.
func TestWriteTable(t *testing.T) {
	rep := Report{Connections: 32, Rounds: 1, Warmup: "1s", Duration: "5s", GatewayCPU: 0, Weights: []int{10, 10, 80}, Results: []Result{
		{Target: "direct", Algorithm: "none", Measurement: Measurement{Requests: 100000, Seconds: 5, ReqPerS: 20000, P50Ms: 0.4, P99Ms: 2, Split: map[string]int{"v1": 100000}}},
		{Target: "nginx", Gateway: "nginx", Algorithm: "smooth-wrr", Measurement: Measurement{Requests: 50000, Seconds: 5, ReqPerS: 10000, P50Ms: 1, P99Ms: 4, Split: map[string]int{"v1": 5000, "v2": 5000, "v3": 40000},
			GatewayCPUSeconds: 4, ReqPerCPUSecond: 12500, LoadCPUSeconds: 3}},
		{Target: "refproxy/random", Gateway: "refproxy", Algorithm: "random", Measurement: Measurement{Requests: 40000, Errors: 2, Seconds: 5, ReqPerS: 8000, P50Ms: 1.5, P99Ms: 6, Split: map[string]int{"v3": 32100, "v1": 3900, "v2": 4000}, FirstError: "read answer: EOF",
			GatewayCPUSeconds: 5, ReqPerCPUSecond: 8000}},
	}}
	rep.relate()
	if got, perCPU := *rep.Results[2].ReqPerSVsNginx, *rep.Results[2].ReqPerCPUSVsNginx; got != 0.8 || perCPU != 0.64 {
		t.Errorf("refproxy vs nginx: req/s %v, req/CPU-s %v, want 0.8 and 0.64", got, perCPU)
	}
	if rep.Results[0].ReqPerCPUSVsNginx != nil {
		t.Error("direct has no gateway CPU time, yet a ratio of it")
	}
	var table, js bytes.Buffer
	if err := WriteTable(&table, rep); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	MustGolden(t, "table.golden", table.Bytes())
	MustGolden(t, "report.json.golden", js.Bytes())

	// With rounds, the ratio is the median of the per-round ratios: here
	// 0.5, 1 and 0.6 (the medians' ratio would be 600/500 = 1.2).
	perRound := Report{Results: []Result{
		{Target: "nginx", Measurement: Measurement{ReqPerS: 500, P99Ms: 2}, Rounds: []Measurement{{ReqPerS: 400, P99Ms: 2}, {ReqPerS: 500, P99Ms: 2}, {ReqPerS: 1000, P99Ms: 2}}},
		{Target: "refproxy/smooth", Measurement: Measurement{ReqPerS: 600, P99Ms: 3}, Rounds: []Measurement{{ReqPerS: 200, P99Ms: 3}, {ReqPerS: 500, P99Ms: 4}, {ReqPerS: 600, P99Ms: 2}}},
	}}
	perRound.relate()
	if got, p99 := *perRound.Results[1].ReqPerSVsNginx, *perRound.Results[1].P99VsNginx; got != 0.6 || p99 != 1.5 {
		t.Errorf("per-round ratios req/s %v p99 %v, want 0.6 and 1.5", got, p99)
	}

	// Without nginx there is nothing to relate to: no ratios.
	alone := Report{Results: rep.Results[2:3:3]}
	alone.Results[0].ReqPerSVsNginx, alone.Results[0].P99VsNginx = nil, nil
	alone.relate()
	if alone.Results[0].ReqPerSVsNginx != nil {
		t.Error("ratio set without an nginx row")
	}
}

func TestParseStatCPU(t *testing.T) {
	// Field 2 may hold spaces and parentheses; utime 150 and stime 50
	// ticks make 2 s.
	const stat = "4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 500 0 0 0 150 50 0 0 20 0 3 0 100 1000000 200"
	for _, tc := range []struct {
		name, stat string
		want       time.Duration
		err        string
	}{
		{"valid", stat, 2 * time.Second, ""},
		{"no command", "4242 S 1", 0, "no ')'"},
		{"short", "4242 (x) S 1 2 3", 0, "4 fields"},
		{"not a number", strings.Replace(stat, " 150 ", " x ", 1), 0, "field 14"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU("/proc/4242/stat", tc.stat)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "/proc/4242/stat") {
					t.Fatalf("error %v, want one naming the file and containing %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("= %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	// This process has used some CPU, and the count does not go back.
	a, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
	}
	b, err := ProcessCPU(os.Getpid())
	if err != nil || b < a || b == 0 {
		t.Errorf("CPU %v then %v (%v)", a, b, err)
	}
}

// TestMeasureCPU: the gateway's CPU time is read as the window opens and
// closes, and answers per CPU-second follow from it.
func TestMeasureCPU(t *testing.T) {
	b := MustBackends(t, 1, 1, 1)
	var reads, loadReads int
	m, err := Measure(context.Background(), Load{
		Addr: b.List[0].Addr, Host: peers.Host, Path: "/hello", Conns: 2,
		Warmup: 20 * time.Millisecond, Duration: 200 * time.Millisecond, Classify: b.Classify,
		CPU: func() (time.Duration, error) {
			reads++
			return time.Duration(reads) * 100 * time.Millisecond, nil // 100 ms between the two reads
		},
		LoadCPU: func() (time.Duration, error) {
			loadReads++
			return time.Duration(loadReads) * 50 * time.Millisecond, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if reads != 2 || m.GatewayCPUSeconds != 0.1 || m.ReqPerCPUSecond != float64(m.Requests)/0.1 {
		t.Errorf("%d reads, %v CPU-s, %v req/CPU-s for %d answers", reads, m.GatewayCPUSeconds, m.ReqPerCPUSecond, m.Requests)
	}
	if loadReads != 2 || m.LoadCPUSeconds != 0.05 {
		t.Errorf("%d reads of the load side's CPU, %v s", loadReads, m.LoadCPUSeconds)
	}

	// A probe that fails fails the measurement, naming the address.
	_, err = Measure(context.Background(), Load{
		Addr: b.List[0].Addr, Host: peers.Host, Path: "/hello", Conns: 1, Duration: 50 * time.Millisecond, Classify: b.Classify,
		CPU: func() (time.Duration, error) { return 0, errors.New("no such process") },
	})
	if err == nil || !strings.Contains(err.Error(), "no such process") || !strings.Contains(err.Error(), b.List[0].Addr) {
		t.Errorf("failing probe: error %v", err)
	}
}

func TestMedian(t *testing.T) {
	rounds := []Measurement{
		{Requests: 300, Errors: 1, Seconds: 3, ReqPerS: 100, P50Ms: 1, P99Ms: 9, Split: map[string]int{"v1": 300}, FirstError: "status 502"},
		{Requests: 900, Seconds: 3, ReqPerS: 300, P50Ms: 3, P99Ms: 3, Split: map[string]int{"v1": 800, "v2": 100}},
		{Requests: 600, Seconds: 3, ReqPerS: 200, P50Ms: 2, P99Ms: 6, Split: map[string]int{"v2": 600}},
	}
	m := Median(rounds)
	if m.ReqPerS != 200 || m.P50Ms != 2 || m.P99Ms != 6 {
		t.Errorf("medians req/s %v p50 %v p99 %v, want 200, 2, 6", m.ReqPerS, m.P50Ms, m.P99Ms)
	}
	if m.Requests != 1800 || m.Errors != 1 || m.Seconds != 9 || m.Split["v1"] != 1100 || m.Split["v2"] != 700 || m.FirstError != "status 502" {
		t.Errorf("sums %+v", m)
	}
	if got := Median(rounds[1:]); got.ReqPerS != 250 {
		t.Errorf("median of two req/s = %v, want their mean 250", got.ReqPerS)
	}
	if rounds[0].ReqPerS != 100 {
		t.Error("Median reordered its input")
	}
}

func MustGolden(t *testing.T, name string, got []byte) {
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
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
