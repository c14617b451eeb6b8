// Package splitmix owns SplitMix64 (Steele, Lea and Flood, "Fast Splittable
// Pseudorandom Number Generators", OOPSLA 2014), the one seed mixer of
// splitproof: the picker turns a seed into its starting state with it, the
// simulator derives each run's seed with it and the fake OpenAI provider
// draws its words and jitter from it.
//
// Those callers' outputs are golden-tested and reproducible from a seed, so
// the constants here must never change. The package uses the standard
// library only and imports nothing of splitproof.
package splitmix
