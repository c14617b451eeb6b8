package replay

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/splitproof/splitproof/sim"
)

// blocks serves helloworld answers in Caddy weighted_round_robin's order:
// w[0] requests to v1, then w[1] to v2, then w[2] to v3, over and over.
func blocks(t *testing.T, w [3]int) string {
	t.Helper()
	var mu sync.Mutex
	k := 0
	period := w[0] + w[1] + w[2]
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := k % period
		k++
		mu.Unlock()
		v := 3
		switch {
		case i < w[0]:
			v = 1
		case i < w[0]+w[1]:
			v = 2
		}
		fmt.Fprintf(rw, "Hello version: v%d, instance: x\n", v)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestSequentialHeldForBurstyGateway: the sequential test, which assumes
// independent draws, decides within the first burst of a bursty gateway;
// the run must go on until whole periods decide, so a wrong bursty split
// FAILs (not INCONCLUSIVE on a part of one burst) and a right one PASSes.
func TestSequentialHeldForBurstyGateway(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	for _, tt := range []struct {
		weights [3]int
		want    sim.Outcome
	}{
		{[3]int{10, 10, 80}, sim.OutcomePass},
		{[3]int{20, 20, 60}, sim.OutcomeFail},
	} {
		t.Run(fmt.Sprint(tt.weights), func(t *testing.T) {
			ep, err := AddressEndpoint(blocks(t, tt.weights), "")
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Run(context.Background(), s, ep, Options{Snippet: "port-forward", Sequential: true})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Outcome() != tt.want || rep.Verdict.Scheduler != "bursty" {
				t.Fatalf("%s (scheduler %q) after %d requests, want %s (bursty): %v", rep.Outcome(), rep.Verdict.Scheduler, rep.Requests, tt.want, rep.Verdict.Failures)
			}
			if rep.Requests%100 != 0 && tt.want == sim.OutcomeFail {
				// Decided on whole periods only: the check runs every
				// holdCheckEvery requests, a divisor of the period.
				t.Errorf("stopped at %d requests, not on a whole period", rep.Requests)
			}
			if tt.want == sim.OutcomeFail && !strings.Contains(strings.Join(rep.Verdict.Failures, " "), "v1") {
				t.Errorf("failures do not name v1: %v", rep.Verdict.Failures)
			}
		})
	}
}
