package sim

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// TestSimResultWriteText: each kind of simulation (calibration, power,
// smooth mode; each test method's false-failure statement) prints its own
// expectation, and nothing it cannot back.
func TestSimResultWriteText(t *testing.T) {
	base := SimResult{
		Weights: []int32{10, 10, 80}, TestAgainst: []int32{10, 10, 80}, Mode: "random", N: 1000, Runs: 200, Seed: 1, Alpha: 0.001,
		Methods: map[Method]int{MethodPearson: 200}, Rejections: 1, RejectionRate: 0.005,
		RateInterval: Interval{Lo: 0.00002, Hi: 0.0361}, KS: 0.05, KSNull: 0.04, KSBound99: 0.11,
		Rule: Rule{Method: MethodPearson, PearsonSize: 0.00104},
	}
	const head = "simulated 200 runs of 1000 random picks from 10/10/80, tested against 10/10/80 at alpha 0.001 (seed 1)\n" +
		"test: pearson-chi-square in 200 runs\n" +
		"rejections: 1 of 200 = 0.0050, 99% interval [0.0000, 0.0361]\n"
	const ksNull = "KS distance of p-values from their exact distribution under the split: 0.0400 (sampling alone stays below 0.1100 with 99% probability); from uniform: 0.0500, which the discrete counts explain\n"
	tests := []struct {
		name   string
		modify func(*SimResult)
		want   string
	}{
		{"calibration, Pearson", func(*SimResult) {},
			head + "expected (false-failure rate): 0.001 nominal; exact 0.00104 at this n (pearson-chi-square)\n" + ksNull},
		{"calibration, Pearson size not computed", func(r *SimResult) { r.Rule.PearsonSize = -1 },
			head + "expected (false-failure rate): 0.001 nominal; pearson-chi-square, exact rate not computed\n" + ksNull},
		{"calibration, exact test", func(r *SimResult) { r.Rule = Rule{Method: MethodExact, PearsonSize: 0.0031} },
			head + "expected (false-failure rate): 0.001 nominal; at most that (exact-multinomial; Pearson's chi-square would have 0.0031 at this n)\n" + ksNull},
		{"single category", func(r *SimResult) { r.Rule = Rule{Method: MethodSingle, PearsonSize: -1} },
			head + "expected (false-failure rate): 0.001 nominal; nothing to test (a single weighted category)\n" + ksNull},
		{"power", func(r *SimResult) {
			r.Weights = []int32{12, 10, 78}
			r.Noncentrality, r.TheoryPower, r.KSNull = 5.25, 0.4321, -1
		}, strings.Replace(head, "from 10/10/80", "from 12/10/78", 1) +
			"expected (power, noncentral chi-square, lambda 5.25): 0.4321\n" +
			"KS distance of p-values from uniform: 0.0500 (no test: p-values of discrete counts are not uniform even when nothing is wrong)\n"},
		{"smooth mode states no power", func(r *SimResult) {
			r.Mode, r.Weights, r.KSNull, r.Period, r.ExactRuns = "smooth", []int32{12, 10, 78}, -1, 50, 0
		}, strings.Replace(strings.Replace(head, "from 10/10/80", "from 12/10/78", 1), "random picks", "smooth picks", 1) +
			"expected: no power stated (smooth mode is deterministic; the multinomial power does not apply)\n" +
			"KS distance of p-values from uniform: 0.0500 (no test: p-values of discrete counts are not uniform even when nothing is wrong)\n" +
			"smooth mode: period 50; counts exactly n*w/sum in 0 of 200 runs\n"},
		{"smooth mode, exact counts", func(r *SimResult) { r.Mode, r.Period, r.ExactRuns = "smooth", 10, 200 },
			strings.Replace(head, "random picks", "smooth picks", 1) +
				"expected (false-failure rate): 0.001 nominal; exact 0.00104 at this n (pearson-chi-square)\n" + ksNull +
				"smooth mode: period 10; counts exactly n*w/sum in 200 of 200 runs (p-value 1)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			r.Methods = map[Method]int{MethodPearson: 200}
			tt.modify(&r)
			var b strings.Builder
			if err := r.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Fatalf("got:\n%s\nwant:\n%s", b.String(), tt.want)
			}
		})
	}
}

// TestSimResultWriteTextSimulated: a real simulation's report names what ran.
func TestSimResultWriteTextSimulated(t *testing.T) {
	res, err := Simulate(context.Background(), SimConfig{Weights: []int32{80, 20}, Mode: "smooth", N: 100, Runs: 3, Seed: 7, Alpha: 0.01}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := res.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"simulated 3 runs of 100 smooth picks from 80/20, tested against 80/20 at alpha 0.01 (seed 7)\n",
		"rejections: 0 of 3 = 0.0000",
		"smooth mode: period 5; counts exactly n*w/sum in 3 of 3 runs (p-value 1)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Fatalf("report lacks %q:\n%s", want, b.String())
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestSimResultWriteTextError(t *testing.T) {
	if err := (SimResult{Methods: map[Method]int{}}).WriteText(failingWriter{}); err == nil || err.Error() != "disk full" {
		t.Fatalf("error %v, want the writer's", err)
	}
}
