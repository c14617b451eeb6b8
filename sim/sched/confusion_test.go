package sched

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/sim"
)

// model is a scheduler the confusion matrix draws orders from.
type model struct {
	name  string
	truth Class
	// runs is the number of orders drawn per cell: deterministic models
	// have only as many distinct orders as phases.
	runs int
	// rate is the documented bound on the rate of any other class (see
	// the package documentation).
	rate float64
	// gen returns run r's order (and connections, or nil) of n requests.
	gen func(w []int32, n, r int) (seq, conns []int)
}

var models = []model{
	{"random", Independent, 1000, 0.005, func(w []int32, n, r int) ([]int, []int) {
		return pickerSeq(picker.Random, w, n, sim.RunSeed(1, r), 0), nil
	}},
	{"random, 5/conn", Independent, 500, 0.005, func(w []int32, n, r int) ([]int, []int) {
		// Independent draws over keep-alive connections of 5 requests:
		// connections that are not constant must not look per-connection.
		seq := pickerSeq(picker.Random, w, n, sim.RunSeed(3, r), 0)
		conns := make([]int, n)
		for i := range conns {
			conns[i] = i/5 + 1
		}
		return seq, conns
	}},
	{"smooth", Deterministic, 50, 0.01, func(w []int32, n, r int) ([]int, []int) {
		return pickerSeq(picker.Smooth, w, n, 0, r), nil
	}},
	{"edf", Deterministic, 50, 0.01, func(w []int32, n, r int) ([]int, []int) {
		return edfSeq(w, n+r)[r:], nil
	}},
	{"block", Bursty, 100, 0.01, func(w []int32, n, r int) ([]int, []int) {
		return blockSeq(w, n, r), nil
	}},
	{"per-conn k=2", PerConnection, 100, 0.01, func(w []int32, n, r int) ([]int, []int) {
		return perConnSeq(w, n, 2, sim.RunSeed(2, r))
	}},
	{"per-conn k=5", PerConnection, 100, 0.01, func(w []int32, n, r int) ([]int, []int) {
		return perConnSeq(w, n, 5, sim.RunSeed(5, r))
	}},
	{"per-conn k=10", PerConnection, 100, 0.01, func(w []int32, n, r int) ([]int, []int) {
		return perConnSeq(w, n, 10, sim.RunSeed(10, r))
	}},
}

var classes = []Class{Independent, Deterministic, Bursty, PerConnection, Undetermined}

type cell struct {
	split string
	n     int
	model string
}

var confusionSplits = []struct {
	name string
	w    []int32
	ns   []int
}{
	{"10/10/80", split101080, []int{200, 500, 1575}},
	{"80/20", split8020, []int{200, 500, 1401}},
}

// confusion classifies each model's orders at each n and counts the classes.
func confusion(t *testing.T) map[cell]map[Class]int {
	t.Helper()
	out := map[cell]map[Class]int{}
	for _, s := range confusionSplits {
		names := names3
		if len(s.w) == 2 {
			names = names2
		}
		cats := catsOf(names, s.w)
		for _, n := range s.ns {
			for _, m := range models {
				c := cell{s.name, n, m.name}
				out[c] = map[Class]int{}
				for r := range m.runs {
					seq, conns := m.gen(s.w, n, r)
					res, err := Classify(seq, cats, Options{Conns: conns})
					if err != nil {
						t.Fatal(err)
					}
					out[c][res.Scheduler]++
				}
			}
		}
	}
	return out
}

// binomialQuantile is the smallest x with P(Binomial(n, p) <= x) >= q.
func binomialQuantile(n int, p, q float64) int {
	b := distuv.Binomial{N: float64(n), P: p}
	for x := 0; x < n; x++ {
		if b.CDF(float64(x)) >= q {
			return x
		}
	}
	return n
}

// TestConfusionMatrix measures how often each model's orders are taken for
// another class and checks it against the rate the package documents: the
// misclassified count must not exceed the 99.9% binomial quantile at the
// documented rate, so a classifier worse than documented fails while a
// seeded run at the documented rate passes.
func TestConfusionMatrix(t *testing.T) {
	tab := confusion(t)
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s %5s %-15s %5s", "split", "n", "model", "runs")
	for _, c := range classes {
		fmt.Fprintf(&b, " %14s", c)
	}
	b.WriteString("\n")
	for _, s := range confusionSplits {
		for _, n := range s.ns {
			for _, m := range models {
				c := cell{s.name, n, m.name}
				fmt.Fprintf(&b, "%-9s %5d %-15s %5d", c.split, c.n, c.model, m.runs)
				for _, cl := range classes {
					fmt.Fprintf(&b, " %14d", tab[c][cl])
				}
				b.WriteString("\n")
				wrong := m.runs - tab[c][m.truth]
				if limit := binomialQuantile(m.runs, m.rate, 0.999); wrong > limit {
					t.Errorf("%s n=%d %s: %d of %d runs not %s, more than %d (documented rate %g)", c.split, n, m.name, wrong, m.runs, m.truth, limit, m.rate)
				}
			}
		}
	}
	// The table is kept in testdata/confusion.golden (and in the package
	// documentation): the orders are seeded, so any change in the
	// classifier's behaviour shows as a diff.
	path := filepath.Join("testdata", "confusion.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != b.String() {
		t.Errorf("confusion matrix differs from %s (run with -update and review the diff):\n%s", path, b.String())
	}
}
