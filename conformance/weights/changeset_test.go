package weights

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeRoute is a weightSetter that, like a gateway in a cluster, does not
// say when it applied a change: a local server picks v1 or v2 at random
// (seeded) with the weights set last, after a short propagation delay.
type fakeRoute struct {
	srv   *httptest.Server
	delay time.Duration

	mu      sync.Mutex
	weights [2]int32
	since   time.Time // when the latest weights take effect
	prev    [2]int32
	rng     *rand.Rand
}

func newFakeRoute(t *testing.T, delay time.Duration) *fakeRoute {
	f := &fakeRoute{delay: delay, weights: [2]int32{100, 0}, prev: [2]int32{100, 0}, rng: rand.New(rand.NewPCG(1, 2))}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "change.example" {
			http.NotFound(w, r)
			return
		}
		f.mu.Lock()
		ws := f.weights
		if time.Now().Before(f.since) {
			ws = f.prev
		}
		v := "v1"
		if f.rng.Int32N(ws[0]+ws[1]) >= ws[0] {
			v = "v2"
		}
		f.mu.Unlock()
		fmt.Fprintf(w, "Hello version: %s, instance: fake\n", v)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRoute) request(ctx context.Context) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/hello", nil)
	if err == nil {
		req.Host = "change.example"
	}
	return req, err
}

func (f *fakeRoute) set(_ context.Context, w []int32) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if now.Before(f.since) {
		return time.Time{}, fmt.Errorf("a change while the last one is pending")
	}
	f.prev, f.weights, f.since = f.weights, [2]int32{w[0], w[1]}, now.Add(f.delay)
	return now, nil
}

func (f *fakeRoute) appliedAfter(time.Time) (time.Time, bool) { return time.Time{}, false }
func (f *fakeRoute) seesApplied() bool                        { return false }

// TestRunChangesUnseenApply runs the cluster's cycle against a gateway that
// does not say when it applied a change: every change reaches a correct
// window no sooner than the propagation delay, the requests after the
// write are counted, and the rows carry no "table applied" figures.
func TestRunChangesUnseenApply(t *testing.T) {
	const delay = 30 * time.Millisecond
	f := newFakeRoute(t, delay)
	cs, err := runChanges(context.Background(), f, clusterCycle, ChangeOptions{Repeats: 2, Window: 100, Alpha: DefaultWindowAlpha, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * (len(clusterCycle) - 1); len(cs) != want {
		t.Fatalf("%d changes, want %d", len(cs), want)
	}
	for _, c := range cs {
		if c.Err != "" || c.Applied != 0 || c.Stale != 0 {
			t.Errorf("%s → %s: error %q, applied %s, stale %d", c.From, c.To, c.Err, c.Applied, c.Stale)
		}
		if c.Window < delay || c.RequestsAfter < 1 {
			t.Errorf("%s → %s: correct window after %s (%d requests), before the change could serve (%s)", c.From, c.To, c.Window, c.RequestsAfter, delay)
		}
	}
	rs := changeResults(cs, "fake", "fake route", "patch")
	if len(rs) != 4 {
		t.Fatalf("%d rows, want the 4 distinct changes", len(rs))
	}
	for _, r := range rs {
		notes := strings.Join(r.Notes, "\n")
		if !r.AsExpected || strings.Contains(notes, "table applied") || !strings.Contains(notes, "patch → correct window: p50") {
			t.Errorf("%s: as expected %v, notes %q", r.Case, r.AsExpected, notes)
		}
	}
}
