package upstream

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/splitproof/splitproof/sim"
)

// RequestSender sends one request and names the pod that answered. It has
// the method set of upstream's weight.RequestSender.
type RequestSender interface {
	SendRequest() (podName string, err error)
}

// Defaults of Options.
const (
	DefaultMaxWindows  = 5
	DefaultConcurrency = 10
	// DefaultWindowMiss is the target for q, the chance that one window of
	// a correct gateway does not certify: the window grows until q is at
	// most this.
	DefaultWindowMiss = 0.05
)

// Options tune Check. Zero values take the defaults.
type Options struct {
	// Alpha is the last window's false-failure rate (sim.DefaultAlpha).
	Alpha float64
	// Delta is the tolerance each share is certified within
	// (sim.DefaultDelta, upstream's ±0.05).
	Delta float64
	// Beta bounds the false-pass rate over all windows (sim.DefaultBeta).
	Beta float64
	// MaxWindows bounds the windows sent while waiting for convergence.
	MaxWindows int
	// Window is the requests per window; 0 sizes it from the weights (see
	// Plan).
	Window int
	// Concurrency is the number of requests in flight (upstream sends 10).
	Concurrency int
	// BackendName maps a pod name to its backend; nil drops the last two
	// dash-separated parts, as upstream does.
	BackendName func(podName string) string
}

func (o Options) withDefaults() Options {
	if o.Alpha == 0 {
		o.Alpha = sim.DefaultAlpha
	}
	if o.Delta == 0 {
		o.Delta = sim.DefaultDelta
	}
	if o.Beta == 0 {
		o.Beta = sim.DefaultBeta
	}
	if o.MaxWindows == 0 {
		o.MaxWindows = DefaultMaxWindows
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.BackendName == nil {
		o.BackendName = backendName
	}
	return o
}

// backendName drops the Deployment and pod hashes from a pod name
// ("infra-backend-v1-7d9f8b-x2x4z" → "infra-backend-v1"); a name with fewer
// than three parts is kept whole.
func backendName(pod string) string {
	parts := strings.Split(pod, "-")
	if len(parts) < 3 {
		return pod
	}
	return strings.Join(parts[:len(parts)-2], "-")
}

// Plan is the window size and the rates it gives.
type Plan struct {
	Window     int `json:"window"`
	MaxWindows int `json:"max_windows"`
	// FalseFailure bounds the chance a correct gateway is not passed:
	// Alpha + WindowMiss^MaxWindows.
	FalseFailure float64 `json:"false_failure"`
	// WindowMiss bounds the chance one window of a correct gateway does
	// not certify.
	WindowMiss float64 `json:"window_miss"`
	// FalsePass bounds the chance a split off by more than Delta is passed.
	FalsePass float64 `json:"false_pass"`
	// FailPower is the chance the last window fails a split off by Delta.
	FailPower float64 `json:"fail_power"`
	Alpha     float64 `json:"alpha"`
	Delta     float64 `json:"delta"`
}

// Result is Check's answer.
type Result struct {
	Outcome sim.Outcome `json:"outcome"`
	// Windows is the number of windows sent; Requests their requests.
	Windows  int `json:"windows"`
	Requests int `json:"requests"`
	// Verdict is the deciding window's: the passing one, else the last.
	Verdict sim.Verdict `json:"verdict"`
	Plan    Plan        `json:"plan"`
}

// Summary is one line: outcome, windows, requests and the stated rates.
func (r *Result) Summary() string {
	return fmt.Sprintf("%s after %d window(s) of %d requests (%d in all); false-failure rate ≤ %.2g, false-pass rate ≤ %.2g at ±%g, failing power %.3f",
		strings.ToUpper(string(r.Outcome)), r.Windows, r.Plan.Window, r.Requests, r.Plan.FalseFailure, r.Plan.FalsePass, r.Plan.Delta, r.Plan.FailPower)
}

// Errors TestWeightedDistribution wraps.
var (
	ErrFail         = errors.New("weighted split is wrong")
	ErrInconclusive = errors.New("weighted split not verified")
	ErrInput        = errors.New("invalid expected weights")
)

// TestWeightedDistribution is the drop-in for upstream's function of the
// same name: nil when the split is verified, an error wrapping ErrFail or
// ErrInconclusive (with the deciding window's failures) otherwise, or the
// sender's error.
func TestWeightedDistribution(sender RequestSender, expectedWeights map[string]float64) error {
	res, err := Check(sender, expectedWeights, Options{})
	if err != nil {
		return err
	}
	switch res.Outcome {
	case sim.OutcomePass:
		return nil
	case sim.OutcomeFail:
		return fmt.Errorf("%w: %s: %s", ErrFail, res.Summary(), strings.Join(res.Verdict.Failures, "; "))
	default:
		return fmt.Errorf("%w: %s: %s", ErrInconclusive, res.Summary(), res.Verdict.Inconclusive)
	}
}

// weightScale turns upstream's float weights (shares such as 0.7) into the
// integer weights sim takes, to one part in a million.
const weightScale = 1e6

// categories returns expected as sim categories in name order.
func categories(expected map[string]float64) ([]sim.Category, error) {
	if len(expected) == 0 {
		return nil, fmt.Errorf("%w: no backends", ErrInput)
	}
	var cats []sim.Category
	var total int64
	for _, name := range slices.Sorted(maps.Keys(expected)) {
		w := expected[name]
		if !(w >= 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("%w: backend %q has weight %v; want a finite weight ≥ 0", ErrInput, name, w)
		}
		iw := int64(math.Round(w * weightScale))
		if w > 0 && iw == 0 {
			return nil, fmt.Errorf("%w: backend %q has weight %v, below one part in a million", ErrInput, name, w)
		}
		cats = append(cats, sim.Category{Name: name, Weight: iw})
		total += iw
	}
	if total == 0 {
		return nil, fmt.Errorf("%w: every weight is 0", ErrInput)
	}
	return cats, nil
}

// PlanFor sizes the window for expected under opts and states its rates.
func PlanFor(expected map[string]float64, opts Options) (Plan, error) {
	opts = opts.withDefaults()
	cats, err := categories(expected)
	if err != nil {
		return Plan{}, err
	}
	return plan(cats, opts)
}

func plan(cats []sim.Category, opts Options) (Plan, error) {
	shares := positiveShares(cats)
	betaW := opts.Beta / float64(opts.MaxWindows)
	p := Plan{MaxWindows: opts.MaxWindows, FalsePass: opts.Beta, Alpha: opts.Alpha, Delta: opts.Delta}
	n := opts.Window
	if n <= 0 {
		n = 100
		if len(shares) >= 2 {
			m, err := sim.SampleSize(shares, opts.Alpha, opts.Delta, 1-betaW)
			if err != nil {
				return Plan{}, fmt.Errorf("window size: %w", err)
			}
			n = max(n, int(m))
		}
		// Grow the window until a correct gateway's window certifies with
		// probability at least 1 - DefaultWindowMiss.
		for windowMiss(shares, int64(n), opts.Delta, betaW)+opts.Alpha > DefaultWindowMiss {
			n += n / 10
		}
	}
	p.Window = n
	p.WindowMiss = min(1, windowMiss(shares, int64(n), opts.Delta, betaW)+opts.Alpha)
	p.FalseFailure = min(1, opts.Alpha+math.Pow(p.WindowMiss, float64(opts.MaxWindows)))
	if len(shares) >= 2 {
		pr, err := sim.MinPower(shares, opts.Alpha, opts.Delta, int64(n), sim.TestOptions{})
		if err != nil {
			return Plan{}, fmt.Errorf("power: %w", err)
		}
		p.FailPower = pr.Power
	}
	return p, nil
}

func positiveShares(cats []sim.Category) []float64 {
	var total float64
	for _, c := range cats {
		total += float64(c.Weight)
	}
	var out []float64
	for _, c := range cats {
		if c.Weight > 0 {
			out = append(out, float64(c.Weight)/total)
		}
	}
	return out
}

// windowMiss bounds the chance that a correct gateway's window of n does
// not certify some share: the union over the shares of the binomial mass
// outside its certification range (rejection by the fit is added by the
// caller).
func windowMiss(shares []float64, n int64, delta, beta float64) float64 {
	conf := sim.CertifyLevel(beta, len(shares))
	var miss float64
	for _, p := range shares {
		lo, hi, ok := sim.CertifyRange(n, p, delta, conf)
		if !ok {
			return 1
		}
		b := distuv.Binomial{N: float64(n), P: p}
		in := b.CDF(float64(hi))
		if lo > 0 {
			in -= b.CDF(float64(lo - 1))
		}
		miss += 1 - in
	}
	return min(miss, 1)
}

// Check sends windows of requests through sender until one certifies the
// expected split or MaxWindows were sent; see the package comment for the
// rates it states.
func Check(sender RequestSender, expected map[string]float64, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	cats, err := categories(expected)
	if err != nil {
		return nil, err
	}
	p, err := plan(cats, opts)
	if err != nil {
		return nil, err
	}
	betaW := opts.Beta / float64(opts.MaxWindows)
	res := &Result{Plan: p}
	for w := 1; w <= opts.MaxWindows; w++ {
		counts, err := sendWindow(sender, p.Window, opts)
		if err != nil {
			return nil, fmt.Errorf("window %d: %w", w, err)
		}
		res.Windows, res.Requests = w, res.Requests+p.Window
		v, err := sim.Verify(sim.CountsFile{Scenario: fmt.Sprintf("window %d", w), Categories: cats, Counts: counts},
			sim.Options{Alpha: opts.Alpha, Delta: opts.Delta, Beta: betaW})
		if err != nil {
			return nil, fmt.Errorf("window %d: %w", w, err)
		}
		res.Verdict = v
		res.Outcome = v.Outcome
		if v.Outcome == sim.OutcomePass {
			return res, nil
		}
	}
	return res, nil
}

// sendWindow sends n requests, Concurrency at a time, and counts the
// backends that answered.
func sendWindow(sender RequestSender, n int, opts Options) (map[string]int64, error) {
	counts := map[string]int64{}
	if opts.Concurrency == 1 {
		// One at a time needs no goroutines.
		for i := range n {
			pod, err := sender.SendRequest()
			if err != nil {
				return counts, fmt.Errorf("request %d: %w", i+1, err)
			}
			counts[opts.BackendName(pod)]++
		}
		return counts, nil
	}
	var mu sync.Mutex
	var firstErr error
	next := 0
	var wg sync.WaitGroup
	for range min(opts.Concurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= n || firstErr != nil {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				pod, err := sender.SendRequest()
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("request %d: %w", i+1, err)
				}
				if err == nil {
					counts[opts.BackendName(pod)]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return counts, firstErr
}
