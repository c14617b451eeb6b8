package sched

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// run is a maximal block of consecutive requests in one category.
type run struct{ cat, length int }

func runsOf(x []int) []run {
	var out []run
	for i, c := range x {
		if i > 0 && x[i-1] == c {
			out[len(out)-1].length++
			continue
		}
		out = append(out, run{cat: c, length: 1})
	}
	return out
}

// longestRunP bounds the probability that n independent draws with shares
// p give, in some category, a run at least as long as longest says. For one
// category a run of L starts either at the first draw or right after a
// draw of another category, so by the union bound over its n-L+1 possible
// starts the probability is at most p^L (1 + (n-L)(1-p)); the smallest of
// these over the categories is then multiplied by their number
// (Bonferroni), as the category is chosen after looking. Categories with
// share 0 are skipped: a response there fails the counts verdict anyway.
func longestRunP(longest []int, p []float64, n int) float64 {
	best, tested := 1.0, 0
	for c, l := range longest {
		if l == 0 || p[c] <= 0 {
			continue
		}
		tested++
		q := math.Exp(float64(l)*math.Log(p[c])) * (1 + float64(n-l)*(1-p[c]))
		best = math.Min(best, q)
	}
	return math.Min(1, best*float64(max(tested, 1)))
}

// periodic reports whether every window of P consecutive requests holds
// each category's count within 2·tol of every other window's (with tol 0:
// x[i] == x[i+P] throughout).
func periodic(x []int, k, p, tol int) bool {
	n := len(x)
	if tol == 0 {
		for i := 0; i+p < n; i++ {
			if x[i] != x[i+p] {
				return false
			}
		}
		return true
	}
	cnt := make([]int, k)
	for _, c := range x[:p] {
		cnt[c]++
	}
	lo, hi := append([]int(nil), cnt...), append([]int(nil), cnt...)
	for i := 0; i+p < n; i++ {
		out, in := x[i], x[i+p]
		if out == in {
			continue
		}
		cnt[out]--
		cnt[in]++
		lo[out] = min(lo[out], cnt[out])
		hi[in] = max(hi[in], cnt[in])
		if hi[in]-lo[in] > 2*tol || hi[out]-lo[out] > 2*tol {
			return false
		}
	}
	return true
}

// findPeriod returns the smallest period P (at most maxP, and at most half
// the requests so that it is seen twice) whose windows are regular beyond
// what independent draws give at level alpha, with that bound; 0 and the
// smallest bound met when there is none. The bound: the n/P disjoint
// windows of independent draws are independent, and each lands in a given
// box of ±tol around the first window's counts with probability at most
// q, the largest chance any box of that width holds one category's
// binomial count (the tightest category over those present); so all do
// with probability at most q^(n/P - 1), times the number of periods tried.
//
// With a tolerance, a fraction of the true period can pass too (windows of
// 5 hold 0.5/0.5/4 of 10/10/80 give or take 1), so multiples of prefer, the
// period the weights imply, are tried first.
func findPeriod(x []int, k int, shares []float64, tol, maxP, prefer int, alpha float64) (int, float64) {
	n := len(x)
	tried := min(maxP, n/2)
	best := 1.0
	var order []int
	if tol > 0 && prefer > 0 {
		for p := prefer; p <= tried; p += prefer {
			order = append(order, p)
		}
	}
	for p := 1; p <= tried; p++ {
		order = append(order, p)
	}
	for _, p := range order {
		if !periodic(x, k, p, tol) {
			continue
		}
		q := 1.0
		for _, s := range shares {
			if s > 0 {
				q = math.Min(q, maxBoxProb(p, s, tol))
			}
		}
		windows := n / p
		bound := math.Min(1, float64(tried)*math.Exp(float64(windows-1)*math.Log(q)))
		if bound < alpha {
			return p, bound
		}
		best = math.Min(best, bound)
	}
	return 0, best
}

// maxBoxProb is the largest probability that a Binomial(n, p) count falls
// in some interval of 2·tol+1 consecutive values.
func maxBoxProb(n int, p float64, tol int) float64 {
	if p >= 1 {
		return 1
	}
	pmf := make([]float64, n+1)
	lp, lq := math.Log(p), math.Log1p(-p)
	ln, _ := math.Lgamma(float64(n + 1))
	for x := 0; x <= n; x++ {
		a, _ := math.Lgamma(float64(x + 1))
		b, _ := math.Lgamma(float64(n - x + 1))
		pmf[x] = math.Exp(ln - a - b + float64(x)*lp + float64(n-x)*lq)
	}
	width := 2*tol + 1
	best, sum := 0.0, 0.0
	for x := 0; x <= n; x++ {
		sum += pmf[x]
		if x >= width {
			sum -= pmf[x-width]
		}
		best = math.Max(best, sum)
	}
	return math.Min(best, 1)
}

// burstPeriod is the smallest period of a bursty order seen at least
// twice: longer than every run (a period holding two categories cannot
// hold a longer run), so that a window inside one block is never taken for
// a period; 0 when none, or when fewer than two categories were seen.
func burstPeriod(x []int, k int, runs []run, opts Options) int {
	longest := 0
	cats := map[int]bool{}
	for _, r := range runs {
		longest = max(longest, r.length)
		cats[r.cat] = true
	}
	if len(cats) < 2 {
		return 0
	}
	for p := longest + 1; p <= min(opts.maxPeriod(), len(x)/2); p++ {
		if periodic(x, k, p, opts.Tolerance) {
			return p
		}
	}
	return 0
}

// burstLengths is, per category, the longest run cut by neither end.
func burstLengths(runs []run, k int) []int {
	out := make([]int, k)
	for i := 1; i+1 < len(runs); i++ {
		out[runs[i].cat] = max(out[runs[i].cat], runs[i].length)
	}
	return out
}

// estimatePeriod guesses the period of blocks proportional to the weights:
// a block of L requests of a category with share s belongs to a period of
// about L/s. Complete blocks are used when there are any, else the runs cut
// by an end (which can only be longer, so this is then a lower bound).
func estimatePeriod(runs []run, burst []int, shares []float64) int {
	lengths := burst
	if slicesAllZero(burst) {
		lengths = make([]int, len(shares))
		for _, r := range runs {
			lengths[r.cat] = max(lengths[r.cat], r.length)
		}
	}
	est := 0.0
	for c, l := range lengths {
		if l > 0 && shares[c] > 0 {
			est = math.Max(est, float64(l)/shares[c])
		}
	}
	return int(math.Ceil(est - 1e-9))
}

func slicesAllZero(xs []int) bool {
	for _, v := range xs {
		if v != 0 {
			return false
		}
	}
	return true
}

// dispersion tests whether the counts in disjoint windows vary as
// independent draws' do: Pearson's chi-square of homogeneity across the
// windows, with the window just long enough that every present category
// expects at least 5 per window (its chi-square approximation holds), and
// a two-sided p-value: too small a statistic is a scheduler's regularity,
// too large a one bursts. It returns the window, the statistic and the
// p-value (window 0 and p 1 when fewer than two windows or categories).
func dispersion(x []int, k int, shares []float64) (int, float64, float64) {
	minShare := 1.0
	present := 0
	for _, s := range shares {
		if s > 0 {
			present++
			minShare = math.Min(minShare, s)
		}
	}
	if present < 2 {
		return 0, 0, 1
	}
	w := int(math.Ceil(5/minShare - 1e-9))
	m := len(x) / w
	if m < 2 {
		return 0, 0, 1
	}
	used := x[:m*w]
	tot := countsOf(used, k)
	var stat float64
	for j := 0; j < m; j++ {
		win := countsOf(used[j*w:(j+1)*w], k)
		for c := 0; c < k; c++ {
			if tot[c] == 0 {
				continue
			}
			e := float64(tot[c]) / float64(m)
			d := float64(win[c]) - e
			stat += d * d / e
		}
	}
	df := float64((m - 1) * (presentCategories(tot) - 1))
	if df <= 0 {
		return w, stat, 1
	}
	chi := distuv.ChiSquared{K: df}
	p := 2 * math.Min(chi.CDF(stat), chi.Survival(stat))
	return w, stat, math.Min(p, 1)
}

// connSummary is what the connections show.
type connSummary struct {
	conns, multi, mixed int
	perConn             float64
	logConstP           float64
	// first is the first category seen on each connection, in the order
	// the connections first appear.
	first []int
}

// connStats groups the categorised requests by connection (0, unknown, is
// left out). logConstP is the log of the probability that independent draws
// with the expected shares keep every multi-request connection on one
// category: the product over those connections of sum_c share_c^k.
func connStats(seq, conns []int, shares []float64) connSummary {
	type conn struct {
		first, n int
		mixed    bool
	}
	byID := map[int]*conn{}
	var order []int
	requests := 0
	for i, c := range seq {
		id := conns[i]
		if c == None || id == 0 {
			continue
		}
		requests++
		cn, ok := byID[id]
		if !ok {
			cn = &conn{first: c}
			byID[id] = cn
			order = append(order, id)
		}
		cn.n++
		if c != cn.first {
			cn.mixed = true
		}
	}
	s := connSummary{conns: len(order)}
	if s.conns > 0 {
		s.perConn = float64(requests) / float64(s.conns)
	}
	for _, id := range order {
		cn := byID[id]
		s.first = append(s.first, cn.first)
		if cn.n < 2 {
			continue
		}
		s.multi++
		if cn.mixed {
			s.mixed++
		}
		var same float64
		for _, p := range shares {
			same += math.Pow(p, float64(cn.n))
		}
		s.logConstP += math.Log(same)
	}
	return s
}
