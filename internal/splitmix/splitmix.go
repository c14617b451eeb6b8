package splitmix

// Gamma is SplitMix64's increment: 2^64 divided by the golden ratio, rounded
// to odd, so the Weyl sequence state, state+Gamma, ... visits every 64-bit
// value once before repeating.
const Gamma = 0x9e3779b97f4a7c15

// Mix is SplitMix64's output function (Stafford's variant 13 of the
// MurmurHash3 finalizer): a bijection on 64-bit values in which every input
// bit affects every output bit, so nearby seeds give unrelated results.
func Mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Next advances the generator whose state is *state and returns its next
// output. The state is a plain value (not a type of this package) so a caller
// can keep it in its own copyable struct and replay a sequence from a copy.
func Next(state *uint64) uint64 {
	*state += Gamma
	return Mix(*state)
}
