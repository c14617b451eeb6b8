package sched

import (
	"strings"
	"testing"

	"github.com/splitproof/splitproof/refproxy/picker"
)

// TestEvidence: the one-line evidence names the figures that decided each
// class, as the replay report and verify print them.
func TestEvidence(t *testing.T) {
	cats := catsOf(names3, split101080)
	conns := func(n, k int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i/k + 1
		}
		return out
	}
	perConn, perConnIDs := perConnSeq(split101080, 1000, 5, 4)
	tests := []struct {
		name  string
		seq   []int
		conns []int
		class Class
		want  string
	}{
		{"smooth", pickerSeq(picker.Smooth, split101080, 500, 0, 0), nil, Deterministic, "period 10, every window holds 1/1/8 (v1/v2/v3); p ≤ "},
		{"blocks, repeated", blockSeq(split101080, 300, 0), nil, Bursty, "longest runs v1 10, v2 10, v3 80, p = "},
		{"blocks, repeated: periods", blockSeq(split101080, 300, 0), nil, Bursty, "; period 100, 3 whole"},
		{"blocks, not yet repeated", blockSeq(split101080, 150, 0), nil, Bursty, "no period repeated yet, about 100 expected"},
		{"per connection", perConn, perConnIDs, PerConnection, "200 of 200 connections carried several requests, none reached two backends; p = "},
		{"random, a connection each", pickerSeq(picker.Random, split101080, 500, 1, 0), conns(500, 1), Independent, ", 500 connections of one request each"},
		{"random, one connection", pickerSeq(picker.Random, split101080, 500, 1, 0), conns(500, 500), Independent, ", 1 of 1 multi-request connections reached several backends"},
		{"random, no connections", pickerSeq(picker.Random, split101080, 500, 1, 0), nil, Independent, "runs p = "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Classify(tt.seq, cats, Options{Conns: tt.conns})
			if err != nil {
				t.Fatal(err)
			}
			got := r.Evidence(cats)
			if r.Scheduler != tt.class || !strings.Contains(got, tt.want) || strings.Contains(got, "\n") {
				t.Fatalf("%s: %q, want %s with %q on one line", tt.name, got, tt.class, tt.want)
			}
		})
	}
}
