package sched

import (
	"math/rand/v2"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/sim"
)

// Generators of arrival orders, one per scheduler model, for the tests.

func catsOf(names []string, weights []int32) []sim.Category {
	out := make([]sim.Category, len(weights))
	for i, w := range weights {
		out[i] = sim.Category{Name: names[i], Weight: int64(w)}
	}
	return out
}

var (
	split101080 = []int32{10, 10, 80}
	split8020   = []int32{80, 20}
	names3      = []string{"v1", "v2", "v3"}
	names2      = []string{"gpt-4o-mini", "gpt-4o"}
)

// pickerSeq draws n requests from refproxy's picker; a smooth picker first
// makes skip picks so that the order starts at another phase.
func pickerSeq(mode picker.Mode, weights []int32, n int, seed uint64, skip int) []int {
	p := picker.MustNew(mode, weights, seed)
	for range skip {
		p.Pick()
	}
	out := make([]int, n)
	for i := range out {
		out[i] = p.Pick()
	}
	return out
}

// blockSeq is Caddy's weighted_round_robin: weight[i] consecutive requests
// to backend i, in backend order, starting skip requests into the cycle.
func blockSeq(weights []int32, n, skip int) []int {
	var cycle []int
	for i, w := range weights {
		for range w {
			cycle = append(cycle, i)
		}
	}
	out := make([]int, n)
	for i := range out {
		out[i] = cycle[(i+skip)%len(cycle)]
	}
	return out
}

// edfSeq is an earliest-deadline-first weighted round robin (Traefik's,
// and like HAProxy's roundrobin an interleaving other than nginx's): each
// backend's next deadline advances by 1/weight when it is picked; ties go
// to the lower index.
func edfSeq(weights []int32, n int) []int {
	deadline := make([]float64, len(weights))
	for i, w := range weights {
		deadline[i] = 1 / float64(w)
	}
	out := make([]int, n)
	for j := range out {
		best := 0
		for i := range weights {
			if deadline[i] < deadline[best]-1e-12 {
				best = i
			}
		}
		out[j] = best
		deadline[best] += 1 / float64(weights[best])
	}
	return out
}

// perConnSeq picks one backend per connection (refproxy's random picker)
// and sends k requests on it: n requests in all, connections from 1.
func perConnSeq(weights []int32, n, k int, seed uint64) (seq, conns []int) {
	p := picker.MustNew(picker.Random, weights, seed)
	seq, conns = make([]int, n), make([]int, n)
	cur := 0
	for i := range seq {
		if i%k == 0 {
			cur = p.Pick()
		}
		seq[i], conns[i] = cur, i/k+1
	}
	return seq, conns
}

// swapAdjacent swaps each adjacent pair with probability q, as requests in
// flight together can arrive in either order.
func swapAdjacent(seq []int, q float64, seed uint64) []int {
	out := append([]int(nil), seq...)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	for i := 0; i+1 < len(out); i += 2 {
		if rng.Float64() < q {
			out[i], out[i+1] = out[i+1], out[i]
		}
	}
	return out
}
