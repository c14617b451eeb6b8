package translate

import (
	"math"
	"testing"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/route"
)

// TestMirrorDrawSeeded: a fractional mirror's draw comes from a picker
// seeded like the rule's own, so the same seed mirrors the same requests,
// another seed others, and the share is the fraction (1/10 here).
func TestMirrorDrawSeeded(t *testing.T) {
	set := mustLoad(t, "testdata/valid-mirror.yaml")
	draws := func(seed uint64) []int {
		t.Helper()
		res, err := Translate(set, Options{PickMode: picker.Random, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		var frac *route.Mirror
		for _, p := range res.Table.Ports {
			for _, h := range p.Hosts {
				for _, e := range h.Entries {
					for _, m := range e.Rule.Mirrors {
						if m.Percent < 100 {
							frac = m
						}
					}
				}
			}
		}
		if frac == nil || frac.Draw == nil || frac.Percent != 10 {
			t.Fatalf("seed %d: no fractional mirror with a draw (got %+v)", seed, frac)
		}
		out := make([]int, 20_000)
		for i := range out {
			out[i] = frac.Draw.Pick()
		}
		return out
	}
	a, b, c := draws(7), draws(7), draws(8)
	same, mirrored := true, 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 7 twice: draw %d differs", i)
		}
		if a[i] != c[i] {
			same = false
		}
		if a[i] == 0 {
			mirrored++
		}
	}
	if same {
		t.Error("seeds 7 and 8 mirror the same requests")
	}
	// Binomial(20,000, 0.1): sd 42; the seeded run cannot flake, and 6 sd
	// would catch a share other than the fraction.
	if d := math.Abs(float64(mirrored) - 2000); d > 6*math.Sqrt(20_000*0.1*0.9) {
		t.Errorf("mirrored %d of 20,000, want about 2,000", mirrored)
	}
}
