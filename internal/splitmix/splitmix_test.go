package splitmix

import (
	"math/bits"
	"testing"
)

// TestNextReferenceSequence checks the generator against the first outputs of
// the reference implementation (Vigna's splitmix64.c) seeded with 1234567.
func TestNextReferenceSequence(t *testing.T) {
	want := []uint64{
		6457827717110365317,
		3203168211198807973,
		9817491932198370423,
		4593380528125082431,
		16408922859458223821,
	}
	state := uint64(1234567)
	for i, w := range want {
		if got := Next(&state); got != w {
			t.Fatalf("output %d = %d, want %d", i, got, w)
		}
	}
	if wantState := uint64(1234567) + uint64(len(want))*Gamma; state != wantState {
		t.Errorf("state after %d outputs = %#x, want %#x", len(want), state, wantState)
	}
}

func TestMix(t *testing.T) {
	tests := []struct {
		in, want uint64
	}{
		// Mix(0) is 0: every step multiplies or xors a shift of zero.
		{0, 0},
		{1234567 + Gamma, 6457827717110365317},
	}
	for _, tt := range tests {
		if got := Mix(tt.in); got != tt.want {
			t.Errorf("Mix(%#x) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestMixAvalanche checks the property callers rely on when they feed it
// consecutive seeds: flipping one input bit flips about half the output bits.
func TestMixAvalanche(t *testing.T) {
	const inputs = 256
	flipped := 0
	for i := range uint64(inputs) {
		x := i * Gamma
		for b := range 64 {
			flipped += bits.OnesCount64(Mix(x) ^ Mix(x^(1<<b)))
		}
	}
	mean := float64(flipped) / (inputs * 64)
	// 32 expected; 16384 trials of a Binomial(64, 1/2) give a standard
	// error of the mean near 0.03, so ±0.5 only fails for a broken mixer.
	if mean < 31.5 || mean > 32.5 {
		t.Errorf("mean flipped output bits per flipped input bit = %.3f, want about 32", mean)
	}
}
