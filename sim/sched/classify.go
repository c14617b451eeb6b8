package sched

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/splitproof/splitproof/sim"
)

// Class is how a gateway schedules requests over the weighted backends, as
// far as the arrival order shows.
type Class string

const (
	// Independent: every request is an independent weighted draw (Envoy,
	// agentgateway, refproxy's random mode); sim.Verify's counts test holds.
	Independent Class = "independent"
	// Deterministic: a short period repeats with exact counts (nginx smooth
	// WRR, HAProxy roundrobin, Traefik's EDF, refproxy's smooth mode).
	Deterministic Class = "deterministic"
	// Bursty: runs of one backend far longer than chance, in blocks that
	// repeat (Caddy's weighted_round_robin).
	Bursty Class = "bursty"
	// PerConnection: the backend is chosen once per connection and every
	// request on that connection follows it.
	PerConnection Class = "per-connection"
	// Undetermined: the order is not that of independent draws (or too short
	// to rule a scheduler out) but fits none of the models above yet.
	Undetermined Class = "undetermined"
)

// None marks a request that fits no category (an error, an unexpected
// status): it is counted by the counts verdict and left out of the order.
const None = -1

// Defaults of Options.
const (
	// DefaultAlpha is the level of each classification test: how often a
	// correct independent gateway may be taken for another model, per test.
	DefaultAlpha = 0.001
	// DefaultMaxPeriod bounds the period search, and the blocks that can
	// excuse long runs in a short order: a bursty scheduler whose period
	// (the sum of the weights, for Caddy's) exceeds it is not recognised.
	// A period is also never more than half the requests (it must be seen
	// twice).
	DefaultMaxPeriod = 1000
	// DefaultMinPeriods is how many whole periods the bursty verdict needs
	// before it decides.
	DefaultMinPeriods = 2
)

// ErrInput is wrapped by every error about Classify's or Judge's input.
var ErrInput = errors.New("invalid scheduler input")

// Options tune Classify and Judge.
type Options struct {
	// Conns is the connection of each request (same length as the
	// sequence), numbered from 1; 0 is unknown. nil: no connections known.
	Conns []int
	// Alpha is the level of each classification test (DefaultAlpha if 0)
	// and, in Judge, of the counts test over connections (sim.DefaultAlpha
	// if 0 there).
	Alpha float64
	// Tolerance is how far a window's count of one category may stray from
	// the period's count: requests sent concurrently can arrive swapped
	// across a window boundary. 0 (the default) suits a replay that sends
	// one request at a time.
	Tolerance int
	// MaxPeriod bounds the period search and the bursty periods considered
	// (DefaultMaxPeriod if 0).
	MaxPeriod int
	// MinPeriods is the number of whole periods the bursty verdict waits
	// for (DefaultMinPeriods if 0).
	MinPeriods int
}

func (o Options) alpha() float64 {
	if o.Alpha > 0 {
		return o.Alpha
	}
	return DefaultAlpha
}

func (o Options) maxPeriod() int {
	if o.MaxPeriod > 0 {
		return o.MaxPeriod
	}
	return DefaultMaxPeriod
}

func (o Options) minPeriods() int {
	if o.MinPeriods > 0 {
		return o.MinPeriods
	}
	return DefaultMinPeriods
}

// Result is a classification and the evidence for it.
type Result struct {
	Scheduler Class `json:"scheduler"`
	// N is the number of requests in a category, the ones whose order is
	// analysed; Unclassified the ones left out (None).
	N            int     `json:"n"`
	Unclassified int     `json:"unclassified"`
	Alpha        float64 `json:"alpha"`
	Tolerance    int     `json:"tolerance"`

	// Runs is the number of runs (maximal blocks of one category);
	// LongestRun the longest per category.
	Runs       int   `json:"runs"`
	LongestRun []int `json:"longest_run"`
	// RunsP bounds the probability that independent draws with the observed
	// shares give a run as long as the longest seen (in any category);
	// RunsPExpected the same with the expected shares.
	RunsP         float64 `json:"runs_p"`
	RunsPExpected float64 `json:"runs_p_expected"`
	// DispersionWindow is the window of the dispersion test, DispersionChi2
	// its statistic (chi-square homogeneity of counts across windows) and
	// DispersionP its two-sided p-value: small when the counts vary far less
	// (a scheduler) or far more (bursts) than independent draws would.
	DispersionWindow int     `json:"dispersion_window,omitempty"`
	DispersionChi2   float64 `json:"dispersion_chi2,omitempty"`
	DispersionP      float64 `json:"dispersion_p"`

	// Period is the smallest P such that every window of P consecutive
	// requests holds the same counts (within Tolerance), PeriodCounts
	// those counts (in the first window). PeriodConfirmed: the period was
	// seen at least twice. For a bursty order not yet confirmed, Period is
	// an estimate from the burst lengths and the weights.
	Period          int     `json:"period,omitempty"`
	PeriodCounts    []int64 `json:"period_counts,omitempty"`
	PeriodConfirmed bool    `json:"period_confirmed"`
	// PeriodP bounds the probability that independent draws with the
	// observed shares hold windows this regular, over every period tried.
	PeriodP float64 `json:"period_p"`
	// BurstLength is, per category, the longest run not cut by either end
	// of the sequence (bursty orders only).
	BurstLength []int `json:"burst_length,omitempty"`

	// Connections is the number of known connections, MultiConnections
	// those that carried more than one request, MixedConnections those
	// that reached more than one category.
	Connections           int     `json:"connections,omitempty"`
	MultiConnections      int     `json:"multi_connections,omitempty"`
	MixedConnections      int     `json:"mixed_connections,omitempty"`
	RequestsPerConnection float64 `json:"requests_per_connection,omitempty"`
	// ConstantP is the probability that independent draws with the expected
	// shares keep every connection on one category (1 when none carried
	// two requests).
	ConstantP float64 `json:"constant_p,omitempty"`

	// Explanation says in one paragraph what was found and why it matters.
	Explanation string `json:"explanation"`
}

// Classify finds how the gateway that produced seq schedules requests. seq
// holds the category of each request in arrival order (an index into cats,
// or None); cats are the expected categories and their weights.
//
// The checks run in this order, each deciding when it fires:
//  1. per-connection: connections are known, some carried more than one
//     request, none reached two categories, and independent draws would
//     keep them all constant with probability below Alpha;
//  2. bursty: the longest run of some category is longer than independent
//     draws with the observed shares make with probability Alpha;
//  3. deterministic: a period repeats with the same counts in every window,
//     regular beyond what independent draws give with probability Alpha;
//  4. undetermined: runs too long for the expected shares but too few runs
//     to test dependence, or window counts dispersed (too much or too
//     little) with no period found;
//  5. independent otherwise.
func Classify(seq []int, cats []sim.Category, opts Options) (Result, error) {
	shares, err := checkInput(seq, cats, opts)
	if err != nil {
		return Result{}, err
	}
	alpha := opts.alpha()
	r := Result{Alpha: alpha, Tolerance: opts.Tolerance, RunsP: 1, RunsPExpected: 1, DispersionP: 1, PeriodP: 1}
	k := len(cats)
	x := make([]int, 0, len(seq))
	for _, c := range seq {
		if c == None {
			r.Unclassified++
			continue
		}
		x = append(x, c)
	}
	r.N = len(x)
	counts := countsOf(x, k)
	observed := make([]float64, k)
	for c := range counts {
		if r.N > 0 {
			observed[c] = float64(counts[c]) / float64(r.N)
		}
	}

	if opts.Conns != nil {
		cs := connStats(seq, opts.Conns, shares)
		r.Connections, r.MultiConnections, r.MixedConnections = cs.conns, cs.multi, cs.mixed
		r.RequestsPerConnection, r.ConstantP = cs.perConn, math.Exp(cs.logConstP)
		if cs.multi > 0 && cs.mixed == 0 && cs.logConstP < math.Log(alpha) {
			r.Scheduler = PerConnection
			r.Explanation = explain(r, cats)
			return r, nil
		}
	}

	runs := runsOf(x)
	r.Runs = len(runs)
	r.LongestRun = make([]int, k)
	for _, rn := range runs {
		r.LongestRun[rn.cat] = max(r.LongestRun[rn.cat], rn.length)
	}
	r.RunsP = longestRunP(r.LongestRun, observed, r.N)
	r.RunsPExpected = longestRunP(r.LongestRun, shares, r.N)

	r.DispersionWindow, r.DispersionChi2, r.DispersionP = dispersion(x, k, observed)
	if r.RunsP < alpha {
		r.Scheduler = Bursty
		r.BurstLength = burstLengths(runs, k)
		if p := burstPeriod(x, k, runs, opts); p > 0 {
			r.Period, r.PeriodConfirmed = p, true
			r.PeriodCounts = countsOf(x[:p], k)
		} else {
			r.Period = estimatePeriod(runs, r.BurstLength, shares)
		}
		r.Explanation = explain(r, cats)
		return r, nil
	}

	// The period search comes after the runs test: a bursty order has
	// long stretches where x[i] == x[i+P] for every short P, which makes
	// the search slow, and the runs have already decided it.
	period, pp := findPeriod(x, k, observed, opts.Tolerance, opts.maxPeriod(), reducedTotal(cats), alpha)
	r.PeriodP = pp
	switch {
	case period > 0 && pp < alpha:
		r.Scheduler = Deterministic
		r.Period, r.PeriodConfirmed = period, true
	case r.RunsPExpected < alpha && r.Runs < 2*presentCategories(counts)+1 &&
		estimatePeriod(runs, burstLengths(runs, k), shares) <= opts.maxPeriod():
		// Only blocks of a period the search would find can excuse the
		// runs: a gateway sending everything to one backend is otherwise
		// never failed.
		r.Scheduler = Undetermined
		r.BurstLength = burstLengths(runs, k)
		r.Period = estimatePeriod(runs, r.BurstLength, shares)
	case r.DispersionP < alpha:
		r.Scheduler = Undetermined
	default:
		r.Scheduler = Independent
	}
	if r.Period > 0 && r.PeriodConfirmed {
		r.PeriodCounts = countsOf(x[:r.Period], k)
	}
	r.Explanation = explain(r, cats)
	return r, nil
}

// checkInput validates the sequence against the categories and returns the
// expected shares.
func checkInput(seq []int, cats []sim.Category, opts Options) ([]float64, error) {
	if len(cats) == 0 {
		return nil, fmt.Errorf("%w: no categories", ErrInput)
	}
	var total int64
	for i, c := range cats {
		if c.Weight < 0 {
			return nil, fmt.Errorf("%w: categories[%d] (%s): weight %d is negative", ErrInput, i, c.Name, c.Weight)
		}
		total += c.Weight
	}
	if total == 0 {
		return nil, fmt.Errorf("%w: every weight is 0", ErrInput)
	}
	for i, c := range seq {
		if c != None && (c < 0 || c >= len(cats)) {
			return nil, fmt.Errorf("%w: request %d: category %d is not one of the %d categories (nor %d, none)", ErrInput, i+1, c, len(cats), None)
		}
	}
	if opts.Conns != nil && len(opts.Conns) != len(seq) {
		return nil, fmt.Errorf("%w: %d connection numbers for %d requests", ErrInput, len(opts.Conns), len(seq))
	}
	for i, c := range opts.Conns {
		if c < 0 {
			return nil, fmt.Errorf("%w: request %d: connection %d is negative", ErrInput, i+1, c)
		}
	}
	if opts.Tolerance < 0 || opts.MaxPeriod < 0 || opts.MinPeriods < 0 || !(opts.Alpha >= 0 && opts.Alpha < 1) {
		return nil, fmt.Errorf("%w: options: tolerance %d, max period %d and min periods %d must not be negative, alpha %v must lie in [0,1)",
			ErrInput, opts.Tolerance, opts.MaxPeriod, opts.MinPeriods, opts.Alpha)
	}
	shares := make([]float64, len(cats))
	for i, c := range cats {
		shares[i] = float64(c.Weight) / float64(total)
	}
	return shares, nil
}

// reducedTotal is the sum of the weights divided by their GCD: the period
// of an exact scheduler with these weights.
func reducedTotal(cats []sim.Category) int {
	var g, total int64
	for _, c := range cats {
		a, b := g, c.Weight
		for b != 0 {
			a, b = b, a%b
		}
		g = a
		total += c.Weight
	}
	if g == 0 {
		return 0
	}
	return int(total / g)
}

func countsOf(x []int, k int) []int64 {
	c := make([]int64, k)
	for _, v := range x {
		c[v]++
	}
	return c
}

func presentCategories(counts []int64) int {
	n := 0
	for _, c := range counts {
		if c > 0 {
			n++
		}
	}
	return n
}

// explain writes the one-paragraph account of a result.
func explain(r Result, cats []sim.Category) string {
	var b strings.Builder
	switch r.Scheduler {
	case PerConnection:
		fmt.Fprintf(&b, "per-connection: each of the %d connections that carried more than one request (%.3g requests per connection on average) stayed on one backend; independent draws would do that with probability %.3g. ",
			r.MultiConnections, r.RequestsPerConnection, r.ConstantP)
		b.WriteString("The gateway picks a backend per connection, so requests are not independent draws and the per-request counts test would fail a correct gateway far more often than alpha; the split is tested over connections instead.")
	case Bursty:
		fmt.Fprintf(&b, "bursty: runs of one backend far longer than chance (longest %s; p = %.3g for independent draws with the observed shares). ", runList(r.LongestRun, cats), r.RunsP)
		if r.PeriodConfirmed {
			fmt.Fprintf(&b, "The blocks repeat every %d requests (seen %d whole times). ", r.Period, r.N/r.Period)
		} else if r.Period > 0 {
			fmt.Fprintf(&b, "No period has repeated yet; blocks proportional to the weights would repeat about every %d requests. ", r.Period)
		}
		b.WriteString("A run shorter than a few whole periods shows a correct gateway far off its weights, so only whole periods are tested.")
	case Deterministic:
		fmt.Fprintf(&b, "deterministic: every window of %d consecutive requests holds %s", r.Period, countList(r.PeriodCounts, cats))
		if r.Tolerance > 0 {
			fmt.Fprintf(&b, " (give or take %d per category)", r.Tolerance)
		}
		fmt.Fprintf(&b, "; independent draws with the observed shares would be this regular with probability at most %.3g. ", r.PeriodP)
		b.WriteString("The counts are exact rather than random, so the chi-square test's p-value (near 1 for a correct split), alpha and power mean nothing; the split is tested for exactness instead.")
	case Undetermined:
		if r.BurstLength != nil { // the too-few-runs case
			fmt.Fprintf(&b, "undetermined: %d runs, the longest %s, are too long for independent draws with the expected shares (p = %.3g) but too few to tell a bursty scheduler from a wrong split. ",
				r.Runs, runList(r.LongestRun, cats), r.RunsPExpected)
		} else {
			fmt.Fprintf(&b, "undetermined: the counts over windows of %d requests vary %s than independent draws would (p = %.3g), yet no period repeats and no run is long enough to call the order bursty. ",
				r.DispersionWindow, dispersionWord(r), r.DispersionP)
		}
		b.WriteString("No model's test applies yet.")
	default:
		fmt.Fprintf(&b, "independent: no run longer than chance (p = %.3g), no period more regular than chance (p = %.3g), ", r.RunsP, r.PeriodP)
		if r.DispersionWindow > 0 {
			fmt.Fprintf(&b, "counts over windows of %d requests dispersed as independent draws' are (p = %.3g)", r.DispersionWindow, r.DispersionP)
		} else {
			b.WriteString("too few requests for the window-dispersion test")
		}
		switch {
		case r.MultiConnections > 0:
			fmt.Fprintf(&b, ", %d of %d connections with several requests reached more than one backend", r.MixedConnections, r.MultiConnections)
		case r.Connections > 0:
			fmt.Fprintf(&b, ", each of the %d connections carried one request (no per-connection choice can show)", r.Connections)
		}
		b.WriteString(". The counts test, its alpha and its power apply as stated.")
	}
	return b.String()
}

func dispersionWord(r Result) string {
	// The chi-square statistic's mean is its degrees of freedom; the
	// window count gives them back.
	m := r.N / max(r.DispersionWindow, 1)
	if r.DispersionChi2 < float64(m-1) {
		return "less"
	}
	return "more"
}

func runList(longest []int, cats []sim.Category) string {
	var parts []string
	for i, l := range longest {
		if l > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", cats[i].Name, l))
		}
	}
	return strings.Join(parts, ", ")
}

func countList(counts []int64, cats []sim.Category) string {
	nums := make([]string, len(counts))
	names := make([]string, len(counts))
	for i, c := range counts {
		nums[i] = fmt.Sprint(c)
		names[i] = cats[i].Name
	}
	return strings.Join(nums, "/") + " (" + strings.Join(names, "/") + ")"
}
