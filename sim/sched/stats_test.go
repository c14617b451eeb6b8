package sched

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// exactRunProb is the probability that n independent draws, each in the
// category with probability p, hold a run of at least l of it: a dynamic
// program over the length of the current run.
func exactRunProb(n, l int, p float64) float64 {
	state := make([]float64, l) // state[j]: no run of l yet, current run j
	state[0] = 1
	var hit float64 // summed directly: 1 minus the rest loses small values
	for range n {
		next := make([]float64, l)
		for j, q := range state {
			next[0] += q * (1 - p)
			if j+1 < l {
				next[j+1] += q * p
			} else {
				hit += q * p
			}
		}
		state = next
	}
	return hit
}

// TestLongestRunBound: the union bound used for the runs test is never
// below the exact probability (so its p-values are valid) and is close to
// it where the test decides (small probabilities).
func TestLongestRunBound(t *testing.T) {
	for _, tc := range []struct {
		n, l int
		p    float64
	}{
		{20, 5, 0.5}, {200, 4, 0.1}, {200, 10, 0.1}, {1575, 40, 0.8}, {1575, 80, 0.8}, {1401, 60, 0.8}, {100, 100, 0.8}, {50, 1, 0.2},
	} {
		exact := exactRunProb(tc.n, tc.l, tc.p)
		bound := longestRunP([]int{tc.l}, []float64{tc.p}, tc.n)
		if bound < exact*(1-1e-9) {
			t.Errorf("n=%d l=%d p=%g: bound %.6g below exact %.6g", tc.n, tc.l, tc.p, bound, exact)
		}
		if exact < 1e-3 && bound > 1.5*exact {
			t.Errorf("n=%d l=%d p=%g: bound %.6g loose against exact %.6g", tc.n, tc.l, tc.p, bound, exact)
		}
	}
}

// TestMaxBoxProb compares with gonum's binomial.
func TestMaxBoxProb(t *testing.T) {
	for _, tc := range []struct {
		n   int
		p   float64
		tol int
	}{{10, 0.1, 0}, {10, 0.8, 0}, {10, 0.8, 1}, {100, 0.8, 2}, {5, 0.2, 3}} {
		b := distuv.Binomial{N: float64(tc.n), P: tc.p}
		want := 0.0
		for c := 0; c <= tc.n; c++ {
			s := 0.0
			for x := c - tc.tol; x <= c+tc.tol; x++ {
				if x >= 0 && x <= tc.n {
					s += b.Prob(float64(x))
				}
			}
			want = math.Max(want, s)
		}
		if got := maxBoxProb(tc.n, tc.p, tc.tol); math.Abs(got-want) > 1e-12 {
			t.Errorf("n=%d p=%g tol=%d: %.15g, want %.15g", tc.n, tc.p, tc.tol, got, want)
		}
	}
}

func TestPeriodic(t *testing.T) {
	for _, tc := range []struct {
		name string
		x    []int
		p    int
		tol  int
		want bool
	}{
		{"exact period", []int{0, 1, 1, 0, 1, 1, 0, 1}, 3, 0, true},
		{"not a period", []int{0, 1, 1, 0, 1, 1, 0, 1}, 2, 0, false},
		{"swap breaks exactness", []int{0, 1, 1, 1, 0, 1, 0, 1, 1}, 3, 0, false},
		{"swap within tolerance", []int{0, 1, 1, 1, 0, 1, 0, 1, 1}, 3, 1, true},
		{"two off beyond tolerance", []int{0, 1, 1, 0, 0, 0, 1, 1, 1}, 3, 1, false},
	} {
		if got := periodic(tc.x, 2, tc.p, tc.tol); got != tc.want {
			t.Errorf("%s: periodic = %v, want %v", tc.name, got, tc.want)
		}
	}
}
