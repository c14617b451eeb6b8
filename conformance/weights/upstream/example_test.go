package upstream_test

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"sigs.k8s.io/gateway-api/conformance/utils/weight"

	"github.com/splitproof/splitproof/conformance/weights/upstream"
)

// localSender stands in for a gateway whose route was just changed from
// 100/0 to 70/30: its first 3,000 answers still come from the old split.
// Every answer is a seeded draw, so the example's output is fixed.
func localSender() weight.RequestSender {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(42, 0))
	n := 0
	return weight.NewFunctionBasedSender(func() (string, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n <= 3000 || rng.Float64() < 0.7 {
			return "infra-backend-v1-7d9f8b-x2x4z", nil
		}
		return "infra-backend-v2-6c4d7f-p9q8r", nil
	})
}

// An implementation's conformance test calls upstream's check as
//
//	err := weight.TestWeightedDistribution(sender, expected)
//
// and swaps it in by changing the package: same sender, same weights.
// Where upstream retries a fixed 500 requests, this one waits out the
// weight change itself and states its rates.
func ExampleTestWeightedDistribution() {
	expected := map[string]float64{"infra-backend-v1": 0.7, "infra-backend-v2": 0.3, "infra-backend-v3": 0}
	err := upstream.TestWeightedDistribution(localSender(), expected)
	fmt.Println("error:", err)
	// Output: error: <nil>
}

// Check gives the whole result: how many windows the convergence took and
// the rates the verdict holds to.
func ExampleCheck() {
	expected := map[string]float64{"infra-backend-v1": 0.7, "infra-backend-v2": 0.3, "infra-backend-v3": 0}
	res, err := upstream.Check(localSender(), expected, upstream.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Summary())
	// Output: PASS after 3 window(s) of 2466 requests (7398 in all); false-failure rate ≤ 0.001, false-pass rate ≤ 0.1 at ±0.05, failing power 0.980
}
