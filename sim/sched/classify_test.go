package sched

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/sim"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// repeat concatenates times copies of pattern.
func repeat(pattern []int, times int) []int {
	var out []int
	for range times {
		out = append(out, pattern...)
	}
	return out
}

// connsOf numbers n requests k to a connection.
func connsOf(n, k int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i/k + 1
	}
	return out
}

// TestClassifyHandMade classifies orders whose scheduler is known, checks
// the class and period, and keeps every result and verdict in
// testdata/classify.golden so that a change in evidence or wording shows.
func TestClassifyHandMade(t *testing.T) {
	cats3 := catsOf(names3, split101080)
	cats2 := catsOf(names2, split8020)
	pcSeq, pcConns := perConnSeq(split101080, 200, 5, 42)
	smoothOneConn := pickerSeq(picker.Smooth, split101080, 200, 0, 0)
	tests := []struct {
		name   string
		seq    []int
		cats   []sim.Category
		opts   Options
		class  Class
		period int
		want   sim.Outcome
	}{
		{"nginx SWRR 10/10/80 (picker smooth)", pickerSeq(picker.Smooth, split101080, 200, 0, 0), cats3, Options{}, Deterministic, 10, sim.OutcomePass},
		{"nginx SWRR 80/20 (picker smooth)", pickerSeq(picker.Smooth, split8020, 200, 0, 0), cats2, Options{}, Deterministic, 5, sim.OutcomePass},
		{"HAProxy-like interleaving (EDF)", edfSeq(split101080, 200), cats3, Options{}, Deterministic, 10, sim.OutcomePass},
		{"literal v1 v2 v3x8", repeat([]int{0, 1, 2, 2, 2, 2, 2, 2, 2, 2}, 30), cats3, Options{}, Deterministic, 10, sim.OutcomePass},
		{"Caddy WRR blocks 10/10/80, 3 periods", blockSeq(split101080, 300, 0), cats3, Options{}, Bursty, 100, sim.OutcomePass},
		{"Caddy WRR blocks 10/10/80, 1.5 periods", blockSeq(split101080, 150, 0), cats3, Options{}, Bursty, 100, sim.OutcomeInconclusive},
		{"Caddy WRR blocks, first 25", blockSeq(split101080, 25, 0), cats3, Options{}, Undetermined, 100, sim.OutcomeInconclusive},
		{"per-connection, 5 per connection", pcSeq, cats3, Options{Conns: pcConns}, PerConnection, 0, sim.OutcomeInconclusive},
		// 16 connections of 3 requests, each on one backend: independent
		// draws keep them all constant with probability 0.514^16 = 2.3e-5.
		{"literal per-connection", slices.Repeat([]int{2, 2, 2, 0, 0, 0, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2}, 2),
			cats3, Options{Conns: connsOf(48, 3)}, PerConnection, 0, sim.OutcomeInconclusive},
		{"literal mixed connections", slices.Repeat([]int{2, 2, 0, 2, 2, 2, 1, 2, 2, 2, 2, 2}, 4),
			cats3, Options{Conns: connsOf(48, 3)}, Independent, 0, ""},
		{"SWRR on one keep-alive connection", smoothOneConn, cats3, Options{Conns: slices.Repeat([]int{1}, len(smoothOneConn))}, Deterministic, 10, sim.OutcomePass},
		{"random 10/10/80 (picker random)", pickerSeq(picker.Random, split101080, 1575, 9, 0), cats3, Options{}, Independent, 0, ""},
	}
	var golden bytes.Buffer
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, mv := mustJudge(t, tc.seq, tc.cats, tc.opts)
			if res.Scheduler != tc.class || res.Period != tc.period || mv.Outcome != tc.want {
				t.Errorf("got %s period %d outcome %q, want %s period %d outcome %q\n%s\n%s",
					res.Scheduler, res.Period, mv.Outcome, tc.class, tc.period, tc.want, res.Explanation, mv.Reason)
			}
			if mv.Test == TestConnections {
				// The connections verdict is sim.Verify's, whose own
				// tests keep its wording; here only its outcome counts,
				// and an estimate of the connections needed, when it gives
				// one, must exceed those seen.
				if mv.Connections == nil || mv.Connections.Outcome != mv.Outcome {
					t.Fatalf("connections verdict %+v does not carry outcome %s", mv.Connections, mv.Outcome)
				}
				if mv.RequestsNeeded != 0 && mv.RequestsNeeded <= len(tc.seq) {
					t.Errorf("needs %d requests, no more than the %d seen", mv.RequestsNeeded, len(tc.seq))
				}
				mv.Connections, mv.RequestsNeeded, mv.NeededBasis = nil, 0, ""
			}
			out, err := json.MarshalIndent(struct {
				Name    string       `json:"name"`
				Result  Result       `json:"result"`
				Verdict ModelVerdict `json:"verdict"`
			}{tc.name, res, mv}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&golden, "%s\n", out)
		})
	}
	path := filepath.Join("testdata", "classify.golden")
	if *update {
		if err := os.WriteFile(path, golden.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(golden.Bytes(), want) {
		t.Errorf("results differ from %s (run with -update and review the diff)", path)
	}
}

// TestResultJSONNamesScheduler: the class travels under "scheduler".
func TestResultJSONNamesScheduler(t *testing.T) {
	b, err := json.Marshal(Result{Scheduler: Bursty})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["scheduler"] != "bursty" {
		t.Fatalf("scheduler field %v in %s", m["scheduler"], b)
	}
}
