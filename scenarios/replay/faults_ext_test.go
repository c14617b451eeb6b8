package replay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/embedded"
	"github.com/splitproof/splitproof/scenarios/replay"
	"github.com/splitproof/splitproof/sim"
)

// faultVariant loads example2-llm-faults with its fault replaced, from a
// copy of its files in memory: the 429 (with Retry-After) and 503 cases
// are table rows here rather than more built-in scenarios.
func faultVariant(t *testing.T, fault string) *scenarios.Scenario {
	t.Helper()
	if fault == "429-bare" {
		s, err := scenarios.Find("example2-llm-faults")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	fsys := fstest.MapFS{}
	for _, name := range []string{"example2-llm-faults/scenario.yaml", "example2-llm/manifests/backends.yaml", "example2-llm/manifests/route.yaml", "example2-llm/local/gateway.yaml"} {
		data, err := os.ReadFile(path.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: data}
	}
	yaml := string(fsys["example2-llm-faults/scenario.yaml"].Data)
	if !strings.Contains(yaml, "fault: 429-bare") {
		t.Fatal("example2-llm-faults no longer injects 429-bare: update faultVariant")
	}
	fsys["example2-llm-faults/scenario.yaml"].Data = []byte(strings.Replace(yaml, "fault: 429-bare", fmt.Sprintf("fault: %q", fault), 1))
	s, err := scenarios.Load(fsys, "example2-llm-faults")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// failoverGateway is a deliberately wrong double of a Gateway API
// implementation: it splits 80/20 between the two models like the route,
// but when the chosen arm answers 429 or 5xx it retries once on the other
// arm, as a gateway with failover does and Gateway API does not ask for.
type failoverGateway struct {
	fake http.Handler
	mu   sync.Mutex
	rng  *rand.Rand
}

func (g *failoverGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	arms := []string{"gpt-4o-mini", "gpt-4o"}
	g.mu.Lock()
	first := 0
	if g.rng.IntN(100) >= 80 {
		first = 1
	}
	g.mu.Unlock()
	var res *httptest.ResponseRecorder
	for try := range 2 {
		req["model"] = arms[(first+try)%2]
		out, err := json.Marshal(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		up := httptest.NewRequestWithContext(r.Context(), http.MethodPost, "/v1/chat/completions", bytes.NewReader(out))
		up.Header.Set("Content-Type", "application/json")
		// The key of example2-llm's local Secret, which the fake accepts.
		up.Header.Set("Authorization", "Bearer sk-splitproof-local-0000")
		res = httptest.NewRecorder()
		g.fake.ServeHTTP(res, up)
		if res.Code != http.StatusTooManyRequests && res.Code < 500 {
			break
		}
	}
	for k, v := range res.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(res.Code)
	_, _ = w.Write(res.Body.Bytes())
}

// target is where a faults scenario runs: the embedded refproxy, or the
// failover double in front of the embedded target's own fake provider
// (configured from the scenario's faults).
func target(t *testing.T, s *scenarios.Scenario, seed uint64, failover bool) *replay.Endpoint {
	t.Helper()
	tg, err := embedded.Start(context.Background(), s, embedded.Options{PickMode: picker.Random, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	if !failover {
		return tg.Endpoint()
	}
	gw := httptest.NewServer(&failoverGateway{fake: tg.FakeOpenAI(), rng: rand.New(rand.NewPCG(seed, 0x5eed))})
	t.Cleanup(gw.Close)
	addr := strings.TrimPrefix(gw.URL, "http://")
	return &replay.Endpoint{Name: "failover double " + addr, Env: map[string]string{"INGRESS_GW_ADDRESS": "127.0.0.1"}, Dial: map[string]string{"localhost:8080": addr}}
}

type faultCase struct {
	fault          string
	gateway        string
	failoverDouble bool
	expectFailover bool
	seed           uint64
	delta          float64
	want           sim.Outcome
}

// TestFaultsInsideTheSplit: the premium arm of the doc's 80/20 split fails
// at rate 0.25. refproxy passes the errors through, so they stay inside
// the premium arm's share: PASS by default, FAIL with ExpectFailover,
// naming both arms. The failover double is the opposite: PASS with
// ExpectFailover, FAIL by default. The sequential test decides every case;
// seeded (picker, fake provider and double), each replay sends the same
// requests on every run; seed 7 is one whose passing run is short (422
// requests on refproxy, the fewest a sequential pass of this split can
// take; other seeds take up to about 2,000). The 429 (with Retry-After) and 503 rows are the
// same split with another status; a tolerance of 10 points keeps their
// passing runs short (a quarter of the requests ±5 points needs).
func TestFaultsInsideTheSplit(t *testing.T) {
	for _, tt := range []faultCase{
		{"429-bare", "refproxy", false, false, 7, 0, sim.OutcomePass},
		{"429-bare", "refproxy", false, true, 7, 0, sim.OutcomeFail},
		{"429-bare", "failover double", true, true, 7, 0, sim.OutcomePass},
		{"429-bare", "failover double", true, false, 7, 0, sim.OutcomeFail},
		{"429", "refproxy", false, false, 6, 0.1, sim.OutcomePass},
		{"429", "refproxy", false, true, 6, 0.1, sim.OutcomeFail},
		{"503", "refproxy", false, false, 7, 0.1, sim.OutcomePass},
		{"503", "refproxy", false, true, 7, 0.1, sim.OutcomeFail},
	} {
		t.Run(fmt.Sprintf("%s/%s/expect-failover=%v", tt.fault, tt.gateway, tt.expectFailover), func(t *testing.T) {
			s := faultVariant(t, tt.fault)
			status := scenarios.FaultCategory(tt.fault)
			ep := target(t, s, tt.seed, tt.failoverDouble)
			rep, err := replay.Run(context.Background(), s, ep, replay.Options{Sequential: true, Delta: tt.delta, ExpectFailover: tt.expectFailover})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s after %d requests, counts %v", rep.Outcome(), rep.Requests, rep.Counts)
			if rep.Outcome() != tt.want {
				t.Fatalf("%s, want %s: %v %s counts %v", rep.Outcome(), tt.want, rep.Verdict.Failures, rep.Verdict.Inconclusive, rep.Counts)
			}
			if len(rep.Faults) != 1 {
				t.Fatalf("%d fault lines, want 1", len(rep.Faults))
			}
			line := rep.Faults[0].String()
			if want := "openai-premium-backend answers " + tt.fault + " at rate 0.25"; !strings.Contains(line, want) {
				t.Errorf("fault line %q lacks %q", line, want)
			}
			if tt.expectFailover && !strings.Contains(line, "should be answered by openai-mini-backend") {
				t.Errorf("fault line %q does not name the arm the failures should move to", line)
			}
			errs := rep.Counts[status]
			switch {
			case tt.failoverDouble && errs != 0:
				t.Errorf("the failover double let %d %s answers through", errs, status)
			case !tt.failoverDouble && errs == 0:
				t.Errorf("refproxy passed no %s through in %d requests: the fault was not injected", status, rep.Requests)
			}
			if !tt.failoverDouble && tt.expectFailover && !strings.Contains(strings.Join(rep.Verdict.Failures, "; "), status) {
				t.Errorf("the failure does not name the %s that reached the client: %v", status, rep.Verdict.Failures)
			}
		})
	}
}
