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
	"strings"
	"testing"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios"
)

var update = flag.Bool("update", false, "rewrite golden files")

func mustScenario(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Find(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeGateway answers like the doc's helloworld behind a gateway that splits
// with weights w across v1, v2, v3 (deterministically: smooth mode).
func fakeGateway(t *testing.T, w []int32) *Endpoint {
	t.Helper()
	p := picker.MustNew(picker.Smooth, w, 0)
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
		{"wrong split names the backends", []int32{20, 20, 60}, "port-forward", false, []string{"split differs from the weights", "v3"}},
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

// TestReportGolden pins the human, JSON and JUnit renderings of a passing, a
// failing and an inconclusive replay (a sequential test at its cap)
// (deterministic: smooth fake gateway, duration zeroed).
func TestReportGolden(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	var reports []*Report
	for _, tt := range []struct {
		w          []int32
		sequential bool
	}{{[]int32{10, 10, 80}, false}, {[]int32{20, 20, 60}, false}, {[]int32{10, 10, 80}, true}} {
		rep, err := Run(context.Background(), s, fakeGateway(t, tt.w), Options{Snippet: "port-forward", Requests: 500, Sequential: tt.sequential})
		if err != nil {
			t.Fatal(err)
		}
		rep.Duration = 0
		reports = append(reports, rep)
	}
	var text, junit, js bytes.Buffer
	for _, r := range reports {
		if err := r.WriteText(&text); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteJUnit(&junit, reports); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, reports); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"report.txt": text.Bytes(), "report.junit.xml": junit.Bytes(), "report.json": js.Bytes()} {
		path := "testdata/" + name
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -update creates it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs; run go test ./scenarios/replay -update and review\n--- got ---\n%s", path, got)
		}
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
