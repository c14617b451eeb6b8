package picker

import (
	"errors"
	"math"
	"sync"
	"testing"
)

func TestValidate(t *testing.T) {
	many := make([]int32, MaxBackends+1)
	tests := []struct {
		name    string
		weights []int32
		want    error
	}{
		{"ok", []int32{10, 10, 80}, nil},
		{"zero ok", []int32{0, 0}, nil},
		{"max ok", []int32{MaxWeight}, nil},
		{"empty", nil, ErrNoBackends},
		{"too many", many, ErrTooManyBackends},
		{"negative", []int32{1, -1}, ErrWeightRange},
		{"too heavy", []int32{MaxWeight + 1}, ErrWeightRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.weights)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Validate(%v) = %v, want %v", tt.weights, err, tt.want)
			}
			for _, m := range Modes {
				if _, err2 := New(m, tt.weights, 1); (err2 == nil) != (tt.want == nil) {
					t.Fatalf("New(%s) error = %v, want %v", m, err2, tt.want)
				}
			}
		})
	}
}

func TestWeightDefault(t *testing.T) {
	if Weight(nil) != 1 {
		t.Fatalf("unset weight = %d, want 1", Weight(nil))
	}
	w := int32(0)
	if Weight(&w) != 0 {
		t.Fatal("weight 0 must stay 0")
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range Modes {
		got, err := ParseMode(string(m))
		if err != nil || got != m {
			t.Fatalf("ParseMode(%q) = %v, %v", m, got, err)
		}
	}
	if _, err := ParseMode("roundrobin"); err == nil {
		t.Fatal("ParseMode accepted an unknown mode")
	}
}

func TestPeriod(t *testing.T) {
	tests := []struct {
		weights []int32
		want    uint64
	}{
		{[]int32{10, 10, 80}, 10},
		{[]int32{80, 20}, 5},
		{[]int32{70, 30, 0}, 10},
		{[]int32{1, 1, 1}, 3},
		{[]int32{0, 0}, 0},
		{[]int32{3, 5}, 8},
		{[]int32{MaxWeight, MaxWeight - 1}, 2*MaxWeight - 1},
	}
	for _, tt := range tests {
		if got := Period(tt.weights); got != tt.want {
			t.Errorf("Period(%v) = %d, want %d", tt.weights, got, tt.want)
		}
	}
}

// TestSmoothExactInEveryWindow checks the smooth-mode promise: every window of
// one period, starting anywhere, holds each backend exactly weight/gcd times.
func TestSmoothExactInEveryWindow(t *testing.T) {
	cases := [][]int32{
		{10, 10, 80}, {80, 20}, {70, 30, 0}, {1}, {5, 1, 1}, {0, 3, 0, 7}, {2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32},
		{999983, 1}, // prime weight: period 999,984
	}
	for _, w := range cases {
		p := MustNew(Smooth, w, 0)
		period := int(Period(w))
		g := Total(w) / uint64(period)
		seq := make([]int, 3*period)
		for i := range seq {
			seq[i] = p.Pick()
		}
		want := make([]int, len(w))
		for i := range w {
			want[i] = int(uint64(w[i]) / g)
		}
		// Sliding windows over two periods cover every starting phase.
		counts := make([]int, len(w))
		for i := 0; i < period; i++ {
			counts[seq[i]]++
		}
		for start := 0; ; start++ {
			for i := range w {
				if counts[i] != want[i] {
					t.Fatalf("weights %v: window at %d has counts %v, want %v", w, start, counts, want)
				}
			}
			if start == 2*period {
				break
			}
			counts[seq[start]]--
			counts[seq[start+period]]++
		}
	}
}

// TestSmoothIsSmooth checks nginx's property that a heavy backend's picks are
// spread out: 10/10/80 never gives v1 or v2 twice in a row.
func TestSmoothIsSmooth(t *testing.T) {
	p := MustNew(Smooth, []int32{10, 10, 80}, 0)
	prev := -1
	got := ""
	for i := 0; i < 10; i++ {
		k := p.Pick()
		if k != 2 && k == prev {
			t.Fatalf("light backend %d picked twice in a row", k)
		}
		prev = k
		got += string(rune('0' + k))
	}
	// nginx's algorithm traced by hand for 1/1/8 (first maximum wins ties):
	// currents after adding [1 1 8] [2 2 6] [3 3 4] [4 4 2] [-5 5 10]
	// [-4 6 8] [-3 7 6] [-2 -2 14] [-1 -1 12] [0 0 10].
	if want := "2220221222"; got != want {
		t.Fatalf("sequence %s, want %s", got, want)
	}
}

func TestAllZero(t *testing.T) {
	for _, m := range Modes {
		p := MustNew(m, []int32{0, 0, 0}, 1)
		for i := 0; i < 100; i++ {
			if got := p.Pick(); got != None {
				t.Fatalf("%s: Pick with all weights zero = %d, want None", m, got)
			}
		}
	}
}

func TestWeightZeroNeverPicked(t *testing.T) {
	for _, m := range Modes {
		p := MustNew(m, []int32{70, 30, 0}, 42)
		for i := 0; i < 100_000; i++ {
			if p.Pick() == 2 {
				t.Fatalf("%s: weight-0 backend picked at %d", m, i)
			}
		}
	}
}

// TestRandomFrequencies checks the draw's shares with a fixed seed. With
// n = 1,000,000 the standard deviation of a share p is sqrt(p(1-p)/n) ≤
// 0.0005; the tolerance 0.0025 is five standard deviations, so a correct
// picker would fail with probability below 1e-6 for any seed, and this seed
// is fixed.
func TestRandomFrequencies(t *testing.T) {
	cases := [][]int32{{10, 10, 80}, {80, 20}, {70, 30, 0}, {1, 1, 1, 1}, {MaxWeight, 1, 0, 999}}
	const n = 1_000_000
	for _, w := range cases {
		p := MustNew(Random, w, 20261126)
		counts := make([]int, len(w))
		for i := 0; i < n; i++ {
			counts[p.Pick()]++
		}
		for i, share := range Shares(w) {
			got := float64(counts[i]) / n
			if math.Abs(got-share) > 0.0025 {
				t.Errorf("weights %v: backend %d share %.4f, want %.4f ± 0.0025", w, i, got, share)
			}
		}
	}
}

func TestRandomReproducible(t *testing.T) {
	w := []int32{10, 10, 80}
	a, b, c := MustNew(Random, w, 7), MustNew(Random, w, 7), MustNew(Random, w, 8)
	same, diff := true, false
	for i := 0; i < 1000; i++ {
		x, y, z := a.Pick(), b.Pick(), c.Pick()
		same = same && x == y
		diff = diff || x != z
	}
	if !same {
		t.Fatal("same seed gave different sequences")
	}
	if !diff {
		t.Fatal("different seeds gave the same 1000 picks")
	}
}

// TestConcurrent checks that concurrent picks lose nothing: under a counter-
// based generator the multiset of N concurrent picks equals the first N
// serial picks of the same seed. Smooth mode keeps exact counts per period.
func TestConcurrent(t *testing.T) {
	w := []int32{10, 10, 80}
	const workers, per = 8, 5000
	for _, m := range Modes {
		p := MustNew(m, w, 99)
		var mu sync.Mutex
		got := make([]int, len(w))
		var wg sync.WaitGroup
		for g := 0; g < workers; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				local := make([]int, len(w))
				for i := 0; i < per; i++ {
					local[p.Pick()]++
				}
				mu.Lock()
				for i := range local {
					got[i] += local[i]
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		serial := MustNew(m, w, 99)
		want := make([]int, len(w))
		for i := 0; i < workers*per; i++ {
			want[serial.Pick()]++
		}
		for i := range w {
			if got[i] != want[i] {
				t.Fatalf("%s: concurrent counts %v, serial counts %v", m, got, want)
			}
		}
	}
}

func TestWeightsCopied(t *testing.T) {
	w := []int32{1, 2}
	p := MustNew(Random, w, 1)
	w[0] = 100
	if got := p.Weights(); got[0] != 1 {
		t.Fatalf("picker kept a reference to the caller's slice: %v", got)
	}
}

func benchWeights(n int) []int32 {
	w := make([]int32, n)
	for i := range w {
		w[i] = int32(i%7 + 1)
	}
	if n == 3 {
		return []int32{10, 10, 80}
	}
	return w
}

func BenchmarkPick(b *testing.B) {
	for _, m := range Modes {
		for _, n := range []int{3, 16} {
			w := benchWeights(n)
			b.Run(string(m)+"/"+itoa(n)+"/serial", func(b *testing.B) {
				p := MustNew(m, w, 1)
				b.ReportAllocs()
				for b.Loop() {
					p.Pick()
				}
			})
			b.Run(string(m)+"/"+itoa(n)+"/parallel", func(b *testing.B) {
				p := MustNew(m, w, 1)
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						p.Pick()
					}
				})
			})
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
