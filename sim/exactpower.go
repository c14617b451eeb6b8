package sim

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"gonum.org/v1/gonum/stat/distuv"
)

// RejectionProbability returns the exact probability that Pearson's
// chi-square test of shares test at level alpha rejects n observations drawn
// from shares truth, by enumerating every outcome (at most maxEnumerate; 0
// means 10^8). With truth = test it is the test's real false-failure rate,
// which the asymptotic alpha only approximates; with a wrong truth it is the
// exact power.
func RejectionProbability(test, truth []float64, n int64, alpha, maxEnumerate float64) (float64, error) {
	if err := checkShares(make([]int64, len(test)), test); err != nil {
		return 0, err
	}
	if len(truth) != len(test) {
		return 0, fmt.Errorf("%w: %d true shares for %d tested", ErrShares, len(truth), len(test))
	}
	if maxEnumerate <= 0 {
		maxEnumerate = 1e8
	}
	if o := Outcomes(n, len(test)); o > maxEnumerate {
		return 0, fmt.Errorf("%.3g outcomes exceed the enumeration limit %.3g", o, maxEnumerate)
	}
	k := len(test)
	if k == 1 {
		return 0, nil
	}
	crit := distuv.ChiSquared{K: float64(k - 1)}.Quantile(1 - alpha)
	lf := logFactorials(n)
	logq := make([]float64, k)
	for i, q := range truth {
		logq[i] = math.Log(q)
		if q == 0 {
			logq[i] = math.Inf(-1)
		}
	}
	fn := float64(n)
	// Pearson's statistic is sum x_i^2/(n p_i) - n: accumulate the first sum.
	inv := make([]float64, k)
	for i, p := range test {
		inv[i] = 1 / (fn * p)
	}
	cut := crit + fn
	rej := 0.0
	term := func(x int64, i int) float64 {
		if x == 0 {
			return 0
		}
		return float64(x)*logq[i] - lf(x)
	}
	var rec func(i int, left int64, logp, stat float64)
	rec = func(i int, left int64, logp, stat float64) {
		if i == k-1 {
			s := stat + float64(left)*float64(left)*inv[i]
			if s >= cut {
				rej += math.Exp(logp + term(left, i))
			}
			return
		}
		for x := int64(0); x <= left; x++ {
			rec(i+1, left-x, logp+term(x, i), stat+float64(x)*float64(x)*inv[i])
		}
	}
	rec(0, n, lf(n), 0)
	return math.Min(rej, 1), nil
}

// PowerRow is one line of a power table.
type PowerRow struct {
	Split []int32
	N     int64
	Alpha float64
	Delta float64
	// Method is the test a verdict uses at N (ChooseRule).
	Method Method
	// PearsonSize is the Pearson test's exact false-failure rate at N;
	// VerdictSize that of the test the verdict uses (the exact test's,
	// enumerated, where Pearson's is more than SizeTolerance above Alpha).
	PearsonSize, VerdictSize float64
	// Power is the noncentral chi-square power at the least-favourable
	// split; ExactPower the verdict test's exact power, the minimum over
	// both signs of the shift (MinPower).
	Power, ExactPower float64
	// NeededN reaches DefaultPowerTarget exactly (SampleSize).
	NeededN int64
}

// PowerTable computes the false-failure rate and power promised for each
// split, n and delta at level alpha.
func PowerTable(splits [][]int32, ns []int64, deltas []float64, alpha float64) ([]PowerRow, error) {
	var rows []PowerRow
	for _, w := range splits {
		p := sharesOf(w)
		for _, n := range ns {
			size, rule, err := VerdictSize(p, n, alpha, TestOptions{})
			if err != nil {
				return nil, err
			}
			for _, d := range deltas {
				mp, err := MinPower(p, alpha, d, n, TestOptions{})
				if err != nil {
					return nil, err
				}
				if !mp.Exact {
					return nil, fmt.Errorf("power of %v at n = %d: %w", w, n, ErrNotComputable)
				}
				need, err := SampleSize(p, alpha, d, DefaultPowerTarget)
				if err != nil {
					return nil, err
				}
				rows = append(rows, PowerRow{Split: w, N: n, Alpha: alpha, Delta: d, Method: rule.Method,
					PearsonSize: rule.PearsonSize, VerdictSize: size,
					Power: PowerAt(len(p)-1, alpha, float64(n)*mp.Alternative.LambdaPerObs), ExactPower: mp.Power, NeededN: need})
			}
		}
	}
	return rows, nil
}

func sharesOf(w []int32) []float64 {
	var t float64
	for _, x := range w {
		t += float64(x)
	}
	p := make([]float64, len(w))
	for i, x := range w {
		p[i] = float64(x) / t
	}
	return p
}

// WritePowerTable renders rows as the table in the package documentation.
func WritePowerTable(w io.Writer, rows []PowerRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "split\tn\talpha\tPearson's exact rate\ttest used\tits exact rate\tdelta\tpower (noncentral)\tpower (exact, min)\tn for power 0.8\t")
	for _, r := range rows {
		split := ""
		for i, x := range r.Split {
			if i > 0 {
				split += "/"
			}
			split += fmt.Sprint(x)
		}
		test := "Pearson"
		if r.Method != MethodPearson {
			test = "exact"
		}
		fmt.Fprintf(tw, "%s\t%d\t%g\t%.6f\t%s\t%.6f\t%.2f\t%.4f\t%.4f\t%d\t\n", split, r.N, r.Alpha, r.PearsonSize, test, r.VerdictSize, r.Delta, r.Power, r.ExactPower, r.NeededN)
	}
	return tw.Flush()
}
