package embedded

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/replay"
)

func mustStart(t *testing.T, name string, mode picker.Mode) (*scenarios.Scenario, *Target) {
	t.Helper()
	s, err := scenarios.Find(name)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := Start(context.Background(), s, Options{PickMode: mode, Seed: 7})
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() { tg.Close() })
	return s, tg
}

// TestDocExamples replays both of the doc's examples, both snippet variants,
// through refproxy on loopback and expects both verdicts to pass. Seeded
// picker and fixed request counts: the outcome is the same on every run.
func TestDocExamples(t *testing.T) {
	for _, name := range []string{"example1-ab-testing", "example2-llm"} {
		s, tg := mustStart(t, name, picker.Random)
		for _, sn := range s.Snippets {
			t.Run(name+"/"+sn.Name, func(t *testing.T) {
				rep, err := replay.Run(context.Background(), s, tg.Endpoint(), replay.Options{Snippet: sn.Name, Requests: 1000})
				if err != nil {
					t.Fatal(err)
				}
				if !rep.Pass() || rep.Requests != 1000 {
					t.Fatalf("verdict %v after %d requests: %v, counts %v", rep.Pass(), rep.Requests, rep.Verdict.Failures, rep.Counts)
				}
			})
		}
	}
}

// TestExample2ReachesProvider checks the AI path end to end: the fake saw
// both models, with the Secret's key, and the client never named a model.
func TestExample2ReachesProvider(t *testing.T) {
	s, tg := mustStart(t, "example2-llm", picker.Smooth)
	rep, err := replay.Run(context.Background(), s, tg.Endpoint(), replay.Options{Snippet: "port-forward", Requests: 50})
	if err != nil {
		t.Fatal(err)
	}
	// Smooth mode: exactly 40 / 10 in 50 picks of 80/20.
	if rep.Counts["gpt-4o-mini-2024-07-18"] != 40 || rep.Counts["gpt-4o-2024-08-06"] != 10 {
		t.Fatalf("counts %v, want 40 mini and 10 premium", rep.Counts)
	}
	reqs := tg.FakeOpenAI().Requests()
	if len(reqs) != 50 {
		t.Fatalf("fake provider saw %d requests, want 50", len(reqs))
	}
	for _, r := range reqs {
		if !r.KeyValid {
			t.Fatalf("request reached the provider without the Secret's key: %+v", r)
		}
	}
}

func TestExtraScenarios(t *testing.T) {
	tests := []struct {
		name string
		pass bool
	}{
		{"weight-zero", true},
		{"invalid-backendref", true},
		{"no-endpoints", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, tg := mustStart(t, tt.name, picker.Random)
			// The planned request count: a PASS certifies every share within
			// ±delta, which a fixed 1,000 requests cannot for 50/50.
			rep, err := replay.Run(context.Background(), s, tg.Endpoint(), replay.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Pass() != tt.pass {
				t.Fatalf("pass = %v: %v counts %v", rep.Pass(), rep.Verdict.Failures, rep.Counts)
			}
		})
	}
}

// TestCanaryRamp rewrites the route 0 → 10 → 50 → 100% canary while a
// background loop keeps sending requests; every step must verify and no
// request may fail.
func TestCanaryRamp(t *testing.T) {
	s, tg := mustStart(t, "canary-ramp", picker.Random)
	// A PASS certifies each share within ±delta. The background loop makes
	// the picks' order depend on timing, so this test is not seeded the way
	// the others are: 3,000 requests a step keep a correct 50/50 step from
	// INCONCLUSIVE to about 1 in 7,000 (the shares' 90% intervals are ±1.5
	// points there, so the observed share must stray 3.5 points: 3.8 sd).
	reps, err := replay.RunSteps(context.Background(), s, tg.Endpoint(), tg, replay.Options{Requests: 3000})
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 3 {
		t.Fatalf("%d reports, want one per step", len(reps))
	}
	for _, r := range reps {
		if !r.Pass() {
			t.Errorf("step %s: %s, want pass: %v %s counts %v", r.Step, r.Outcome(), r.Verdict.Failures, r.Verdict.Inconclusive, r.Counts)
		}
		if r.Background == 0 {
			t.Errorf("step %s: no background traffic flowed during the change", r.Step)
		}
	}
	if last := reps[2]; last.Counts["v3"] != 0 || last.Counts["v4"] != int64(last.Requests) {
		t.Fatalf("at 100%% canary counts %v, want all %d on v4", last.Counts, last.Requests)
	}
}

// TestIgnoredUpdateFails replays the canary ramp against a gateway that
// stays at 50/50 whatever is applied (one that ignores route updates): the
// 90/10 step must fail with a split mismatch.
func TestIgnoredUpdateFails(t *testing.T) {
	s, tg := mustStart(t, "canary-ramp", picker.Random)
	reps, err := replay.RunSteps(context.Background(), s, tg.Endpoint(), stuck{tg, 1}, replay.Options{Requests: 600})
	if err != nil {
		t.Fatal(err)
	}
	if reps[0].Pass() {
		t.Fatalf("a 50/50 proxy passed the 90/10 step: counts %v", reps[0].Counts)
	}
	if !strings.Contains(strings.Join(reps[0].Verdict.Failures, " "), "split differs") {
		t.Fatalf("failures %v", reps[0].Verdict.Failures)
	}
}

// stuck applies the same step whatever is asked: a gateway that ignores updates.
type stuck struct {
	t    *Target
	step int
}

func (s stuck) Apply(ctx context.Context, _ int) error { return s.t.Apply(ctx, s.step) }

// BenchmarkExample1 replays 10,000 iterations of the doc's Example 1
// snippet (port-forward variant) through refproxy and the helloworld
// servers, verdict included. Target: ≤ 5 s per op.
func BenchmarkExample1(b *testing.B) {
	s, err := scenarios.Find("example1-ab-testing")
	if err != nil {
		b.Fatal(err)
	}
	tg, err := Start(context.Background(), s, Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer tg.Close()
	for b.Loop() {
		rep, err := replay.Run(context.Background(), s, tg.Endpoint(), replay.Options{Snippet: "port-forward", Requests: 10_000})
		if err != nil || !rep.Pass() {
			b.Fatalf("%v %v", err, rep)
		}
	}
}

// BenchmarkChatCompletion measures what refproxy adds to a chat completion:
// the same request straight to the fake provider and through refproxy's
// AI backend (model override, key injection, path mapping).
func BenchmarkChatCompletion(b *testing.B) {
	s, err := scenarios.Find("example2-llm")
	if err != nil {
		b.Fatal(err)
	}
	tg, err := Start(context.Background(), s, Options{PickMode: picker.Smooth, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer tg.Close()
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"What is 2+2?"}]}`
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	send := func(b *testing.B, url string, header http.Header) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header = header.Clone()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	direct := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer sk-splitproof-local-0000"}}
	viaProxy := http.Header{"Content-Type": {"application/json"}}
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			send(b, "http://"+tg.FakeOpenAIAddr()+"/v1/chat/completions", direct)
		}
	})
	b.Run("refproxy", func(b *testing.B) {
		for b.Loop() {
			req := "http://" + tg.GatewayAddr(GatewayPort) + "/test"
			send(b, req, viaProxy)
		}
	})
}
