package replay

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/sim"
)

var update = flag.Bool("update", false, "rewrite golden files")

// checkGolden compares got with the golden file at path, or rewrites the
// file (and its folder) under -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./scenarios/replay -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs; run go test ./scenarios/replay -update and review\n--- got ---\n%s", path, got)
	}
}

func mustScenario(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Find(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeGateway answers like the doc's helloworld behind a gateway that splits
// with weights w across v1, v2, v3 (deterministically: smooth mode, which
// the scheduler classification calls deterministic).
func fakeGateway(t *testing.T, w []int32) *Endpoint {
	t.Helper()
	return pickerGateway(t, picker.MustNew(picker.Smooth, w, 0))
}

// randomGateway is fakeGateway with the seeded random picker: independent
// draws, the model the counts and sequential tests assume, and the same
// draws on every run.
func randomGateway(t *testing.T, w []int32, seed uint64) *Endpoint {
	t.Helper()
	return pickerGateway(t, picker.MustNew(picker.Random, w, seed))
}

func pickerGateway(t *testing.T, p picker.Picker) *Endpoint {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Host != "traffic.split.example" && r.Host != "traffic.split.example:8080" {
			http.NotFound(rw, r)
			return
		}
		fmt.Fprintf(rw, "Hello version: v%d, instance: helloworld-v%d-abc\n", p.Pick()+1, 1)
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	return &Endpoint{
		Name: "fake gateway",
		Env:  map[string]string{"INGRESS_GW_ADDRESS": "gw.test"},
		Dial: map[string]string{"gw.test:80": addr, "localhost:8080": addr},
	}
}

func TestReplayVerdicts(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	tests := []struct {
		name     string
		weights  []int32
		snippet  string
		pass     bool
		mentions []string
	}{
		{"correct split, port-forward snippet", []int32{10, 10, 80}, "port-forward", true, nil},
		{"correct split, external snippet", []int32{10, 10, 80}, "external-address", true, nil},
		{"wrong split names the backends", []int32{20, 20, 60}, "port-forward", false, []string{"deterministic scheduler, exactness test: not exact", "(v1, v2, v3)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Run(context.Background(), s, fakeGateway(t, tt.weights), Options{Snippet: tt.snippet, Requests: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Requests != 1000 {
				t.Fatalf("made %d requests, want 1000", rep.Requests)
			}
			if rep.Pass() != tt.pass {
				t.Fatalf("pass = %v, want %v; failures %v counts %v", rep.Pass(), tt.pass, rep.Verdict.Failures, rep.Counts)
			}
			joined := strings.Join(rep.Verdict.Failures, "\n")
			for _, m := range tt.mentions {
				if !strings.Contains(joined, m) {
					t.Errorf("failures %q do not mention %q", joined, m)
				}
			}
		})
	}
}

// TestReplayDefaultRequests checks that without --requests the loop is
// scaled to the sample size sim computes, not the doc's 20.
func TestReplayDefaultRequests(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	rep, err := Run(context.Background(), s, fakeGateway(t, []int32{10, 10, 80}), Options{Snippet: "port-forward"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := plannedRequests([]float64{0.1, 0.1, 0.8}, 0.001, 0.05, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != want || want <= 20 {
		t.Fatalf("requests = %d, want the planned %d (> 20)", rep.Requests, want)
	}
	if rep.Verdict.Power == nil || rep.Verdict.Power.Power < 0.9 {
		t.Fatalf("power at the planned n = %+v, want ≥ 0.9", rep.Verdict.Power)
	}
}

func TestReplaySequentialStopsEarly(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	for _, tt := range []struct {
		weights []int32
		pass    bool
	}{{[]int32{10, 10, 80}, true}, {[]int32{40, 40, 20}, false}} {
		rep, err := Run(context.Background(), s, fakeGateway(t, tt.weights), Options{Snippet: "port-forward", Sequential: true, Requests: 20000})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Sequential == nil || rep.Pass() != tt.pass {
			t.Fatalf("weights %v: pass %v, sequential %+v, want pass %v", tt.weights, rep.Pass(), rep.Sequential, tt.pass)
		}
		if rep.Requests >= 20000 {
			t.Fatalf("weights %v: sequential run used all %d requests", tt.weights, rep.Requests)
		}
	}
}

func TestReplayUnreachable(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ep := &Endpoint{Name: "closed port", Env: map[string]string{}, Dial: map[string]string{"localhost:8080": addr}}
	_, err = Run(context.Background(), s, ep, Options{Snippet: "port-forward", Requests: 5})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("error %v, want ErrUnreachable", err)
	}
}

// TestReportGolden pins the human, JSON and JUnit renderings of one run of
// four verdicts sharing run-level alpha 0.001 as RunAll makes it, each
// planned and decided at 0.001/4: a passing and a failing fixed-n replay of
// independent draws (Holm over the two), an inconclusive sequential one
// (its cap of 400 is below the first n at which a sequential pass is
// possible; Bonferroni) and a fixed-n one of a smooth gateway, which its
// deterministic scheduler model decides (Bonferroni). Deterministic: seeded
// pickers, durations zeroed.
func TestReportGolden(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	res := &Result{Run: &RunSummary{Alpha: 0.001, Planned: 4, VerdictAlpha: sim.PlanAlpha(0.001, 4)}}
	for _, tt := range []struct {
		ep         *Endpoint
		sequential bool
		requests   int
		want       sim.Outcome
	}{
		{randomGateway(t, []int32{10, 10, 80}, 1), false, 1000, sim.OutcomePass},
		{randomGateway(t, []int32{20, 20, 60}, 1), false, 500, sim.OutcomeFail},
		{randomGateway(t, []int32{10, 10, 80}, 1), true, 400, sim.OutcomeInconclusive},
		{fakeGateway(t, []int32{10, 10, 80}), false, 500, sim.OutcomePass},
	} {
		rep, err := Run(context.Background(), s, tt.ep, Options{Snippet: "port-forward", Requests: tt.requests, Sequential: tt.sequential, Alpha: res.Run.VerdictAlpha})
		if err != nil {
			t.Fatal(err)
		}
		rep.Duration = 0
		res.Reports = append(res.Reports, rep)
	}
	if err := finish(res); err != nil {
		t.Fatal(err)
	}
	var outcomes []sim.Outcome
	for _, r := range res.Reports {
		outcomes = append(outcomes, r.Outcome())
	}
	if fmt.Sprint(outcomes) != "[pass fail inconclusive pass]" || res.Run.Holm != 2 || res.Run.Sequential != 1 || res.Run.OwnModel != 1 {
		t.Fatalf("outcomes %v, run %+v; want pass, fail, inconclusive, pass; Holm over 2, 1 sequential, 1 by its own model", outcomes, res.Run)
	}
	var text, junit, js bytes.Buffer
	for _, r := range res.Reports {
		if err := r.WriteText(&text); err != nil {
			t.Fatal(err)
		}
	}
	text.WriteString(res.Run.Line + "\n")
	if err := WriteJUnit(&junit, res); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, res); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"report.txt": text.Bytes(), "report.junit.xml": junit.Bytes(), "report.json": js.Bytes()} {
		checkGolden(t, "testdata/"+name, got)
	}
}

func TestAddressCountsFile(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	rep, err := Run(context.Background(), s, fakeGateway(t, []int32{10, 10, 80}), Options{Snippet: "port-forward", Requests: 100})
	if err != nil {
		t.Fatal(err)
	}
	cf := rep.CountsFile()
	if len(cf.Categories) != 3 || cf.Categories[2].Name != "v3" || cf.Categories[2].Weight != 80 || cf.Counts["v3"] != 80 {
		t.Fatalf("counts file %+v", cf)
	}
}
