package picker

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/splitproof/splitproof/internal/splitmix"
)

// Spec limits from the Gateway API (BackendRef.Weight and HTTPRouteRule.BackendRefs).
const (
	// MaxWeight is the largest weight a backendRef may carry.
	MaxWeight = 1_000_000
	// MaxBackends is the largest number of backendRefs in one rule.
	MaxBackends = 16
	// DefaultWeight is the weight of a backendRef that sets none.
	DefaultWeight = 1
)

// None is what Pick returns when every weight is zero: nothing may be picked.
const None = -1

// Mode selects how picks are made.
type Mode string

const (
	// Random is an independent weighted draw per pick.
	Random Mode = "random"
	// Smooth is deterministic smooth weighted round robin.
	Smooth Mode = "smooth"
)

// Modes lists the valid modes, for flag help and validation messages.
var Modes = []Mode{Random, Smooth}

// ParseMode turns a flag value into a Mode.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown pick mode %q: expected one of %q, %q", s, Random, Smooth)
}

// ErrTooManyBackends and ErrWeightRange are returned by New for weights the
// spec forbids.
var (
	ErrTooManyBackends = errors.New("too many backendRefs")
	ErrWeightRange     = errors.New("weight out of range")
	ErrNoBackends      = errors.New("no backendRefs")
)

// Weight returns the effective weight of an optional spec weight: nil is 1.
func Weight(w *int32) int32 {
	if w == nil {
		return DefaultWeight
	}
	return *w
}

// Picker chooses an index into the weight list it was built from.
// Implementations are safe for concurrent use.
type Picker interface {
	// Pick returns the index of the chosen backend, or None when all weights are zero.
	Pick() int
	// Weights returns a copy of the weights the picker was built with.
	Weights() []int32
	// Mode reports how picks are made.
	Mode() Mode
}

// Validate checks weights against the spec limits.
func Validate(weights []int32) error {
	if len(weights) == 0 {
		return ErrNoBackends
	}
	if len(weights) > MaxBackends {
		return fmt.Errorf("%w: %d given, at most %d allowed", ErrTooManyBackends, len(weights), MaxBackends)
	}
	for i, w := range weights {
		if w < 0 || w > MaxWeight {
			return fmt.Errorf("%w: backendRefs[%d].weight is %d, expected 0 to %d", ErrWeightRange, i, w, MaxWeight)
		}
	}
	return nil
}

// New builds a picker for weights. seed only affects Random mode.
func New(mode Mode, weights []int32, seed uint64) (Picker, error) {
	if err := Validate(weights); err != nil {
		return nil, err
	}
	switch mode {
	case Random:
		return newRandom(weights, seed), nil
	case Smooth:
		return newSmooth(weights), nil
	default:
		return nil, fmt.Errorf("unknown pick mode %q: expected one of %q, %q", mode, Random, Smooth)
	}
}

// MustNew is New for weights known to be valid, as in tests and benchmarks.
func MustNew(mode Mode, weights []int32, seed uint64) Picker {
	p, err := New(mode, weights, seed)
	if err != nil {
		panic(err)
	}
	return p
}

// Total is the sum of weights.
func Total(weights []int32) uint64 {
	var t uint64
	for _, w := range weights {
		t += uint64(w)
	}
	return t
}

// Shares returns each weight's share of the total; all zero when the total is zero.
func Shares(weights []int32) []float64 {
	out := make([]float64, len(weights))
	t := Total(weights)
	if t == 0 {
		return out
	}
	for i, w := range weights {
		out[i] = float64(w) / float64(t)
	}
	return out
}

// wyrand's constants (Wang Yi's wyhash family). Its output is one 128-bit
// multiply of the Weyl state by itself xor a constant, folded: half the
// latency of SplitMix64's two dependent multiplies, and it passes BigCrush
// and PractRand as a counter-based generator.
const (
	wyIncrement = 0xa0761d6478bd642f
	wyMix       = 0xe7037ed1a0b428db
)

// wyrand is the output for Weyl state s.
func wyrand(s uint64) uint64 {
	hi, lo := bits.Mul64(s, s^wyMix)
	return hi ^ lo
}

// random draws with probability weight/total. The state is a Weyl sequence
// advanced atomically, so concurrent callers never share a lock and each pick
// consumes exactly one step: pick k of a run is a pure function of (seed, k).
//
// The draw uses Walker's alias method with integer thresholds, so a pick costs
// the same for 3 backends as for 16 and the probabilities are exactly
// weight/total (up to the 2^-39 bias of mapping 64 random bits onto a range).
type random struct {
	weights []int32
	total   uint64
	n       uint64
	// Column j keeps itself when u < prob[j] (u uniform in [0,total)),
	// otherwise it yields alias[j].
	prob  []uint64
	alias []int
	state atomic.Uint64
}

func newRandom(weights []int32, seed uint64) *random {
	n := len(weights)
	r := &random{weights: append([]int32(nil), weights...), n: uint64(n), prob: make([]uint64, n), alias: make([]int, n)}
	r.total = Total(weights)
	// SplitMix64's output function turns the seed into the starting state,
	// so nearby seeds start far apart on the Weyl sequence.
	r.state.Store(splitmix.Mix(seed))
	if r.total == 0 {
		return r
	}
	// Vose's construction on weights scaled by n, so each column holds
	// exactly total units.
	scaled := make([]uint64, n)
	var small, large []int
	for i, w := range weights {
		scaled[i] = uint64(w) * r.n
		r.alias[i] = i
		if scaled[i] < r.total {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		r.prob[s], r.alias[s] = scaled[s], l
		scaled[l] -= r.total - scaled[s]
		if scaled[l] < r.total {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range large {
		r.prob[i] = r.total
	}
	for _, i := range small { // only reachable through rounding, which integers do not have
		r.prob[i] = r.total
	}
	return r
}

func (r *random) Pick() int {
	if r.total == 0 {
		return None
	}
	x := wyrand(r.state.Add(wyIncrement))
	// Lemire's multiply-shift: the high word picks the column, the low word
	// (uniform on a grid of step n) is mapped onto [0,total) for the threshold.
	j, lo := bits.Mul64(x, r.n)
	u, _ := bits.Mul64(lo, r.total)
	if u < r.prob[j] {
		return int(j)
	}
	return r.alias[j]
}

func (r *random) Weights() []int32 { return append([]int32(nil), r.weights...) }
func (r *random) Mode() Mode       { return Random }

// smooth is nginx's smooth weighted round robin over the weights reduced by
// their GCD. Each pick adds every weight to its current value, chooses the
// largest current (first on ties) and subtracts the total from it.
type smooth struct {
	weights []int32
	reduced []int64
	total   int64
	mu      sync.Mutex
	current []int64
}

func newSmooth(weights []int32) *smooth {
	s := &smooth{weights: append([]int32(nil), weights...)}
	g := int64(0)
	for _, w := range weights {
		g = gcd(g, int64(w))
	}
	s.reduced = make([]int64, len(weights))
	s.current = make([]int64, len(weights))
	if g == 0 {
		return s
	}
	for i, w := range weights {
		s.reduced[i] = int64(w) / g
		s.total += s.reduced[i]
	}
	return s
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Period is the number of picks after which smooth mode repeats: the sum of
// the weights divided by their GCD (0 when all weights are zero).
func Period(weights []int32) uint64 {
	g := int64(0)
	for _, w := range weights {
		g = gcd(g, int64(w))
	}
	if g == 0 {
		return 0
	}
	return Total(weights) / uint64(g)
}

func (s *smooth) Pick() int {
	if s.total == 0 {
		return None
	}
	s.mu.Lock()
	best := -1
	for i, w := range s.reduced {
		if w == 0 {
			continue
		}
		s.current[i] += w
		if best < 0 || s.current[i] > s.current[best] {
			best = i
		}
	}
	s.current[best] -= s.total
	s.mu.Unlock()
	return best
}

func (s *smooth) Weights() []int32 { return append([]int32(nil), s.weights...) }
func (s *smooth) Mode() Mode       { return Smooth }
