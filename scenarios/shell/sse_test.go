package shell

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/splitproof/splitproof/scenarios"
)

// sseGateway streams chat completions as a gateway splitting 80/20 would,
// deterministically: every fifth request goes to gpt-4o. Each answer is
// chunks of the chosen model, a usage chunk, then [DONE]; mixed makes the
// second chunk name the other model, as a broken gateway switching
// backends mid-stream would.
func sseGateway(t *testing.T, mixed bool) string {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		model, other := "gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06"
		if i%5 == 0 {
			model, other = other, model
		}
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		fl := http.NewResponseController(w)
		second := model
		if mixed {
			second = other
		}
		for _, m := range []string{model, second} {
			fmt.Fprintf(w, "data: {\"model\":%q,\"choices\":[{\"delta\":{\"content\":\"4\"}}],\"usage\":null}\n\n", m)
			_ = fl.Flush()
		}
		fmt.Fprintf(w, "data: {\"model\":%q,\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n", model)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestStreamingScenario runs the built-in streaming scenario's own snippet
// with the native curl and jq and with the real ones: both classify each
// request by the model its pipeline printed once, natively also with the
// stream recorded whole (its usage chunk included) for the token counts.
func TestStreamingScenario(t *testing.T) {
	s, err := scenarios.Find("example2-llm-stream")
	if err != nil {
		t.Fatal(err)
	}
	sn, err := s.Snippet("external-address")
	if err != nil {
		t.Fatal(err)
	}
	byModel := MustClassifier(t)(ByJQ(s.Classify.JQ, SourceAuto))
	for _, system := range []bool{false, true} {
		t.Run(fmt.Sprintf("system tools %v", system), func(t *testing.T) {
			env := map[string]string{"INGRESS_GW_ADDRESS": sseGateway(t, false)}
			if system {
				needTools(t)
				env["PATH"] = os.Getenv("PATH")
			}
			res, err := Run(context.Background(), sn.Script, Options{Env: env, SystemTools: system, Classifier: byModel})
			if err != nil {
				t.Fatal(err)
			}
			if res.Counts["gpt-4o-mini-2024-07-18"] != 8 || res.Counts["gpt-4o-2024-08-06"] != 2 || len(res.Counts) != 2 {
				t.Fatalf("counts %v, want 8 gpt-4o-mini-2024-07-18 and 2 gpt-4o-2024-08-06", res.Counts)
			}
			for _, it := range res.Iterations {
				if got := strings.TrimSpace(string(it.Stdout)); got != it.Category {
					t.Fatalf("iteration %d printed %q, classified %q", it.Index, it.Stdout, it.Category)
				}
				if system {
					continue
				}
				last := it.LastExchange()
				if last == nil || !strings.Contains(string(last.Body), `"usage":{"prompt_tokens":12`) {
					t.Fatalf("iteration %d: the recorded stream lacks its usage chunk: %+v", it.Index, last)
				}
			}
		})
	}
	t.Run("a stream naming two models is unmatched", func(t *testing.T) {
		res, err := Run(context.Background(), sn.Script, Options{Env: map[string]string{"INGRESS_GW_ADDRESS": sseGateway(t, true)}, Classifier: byModel})
		if err != nil {
			t.Fatal(err)
		}
		if res.Counts[CategoryUnmatched] != 10 {
			t.Fatalf("counts %v, want all 10 unmatched", res.Counts)
		}
		if err := res.Iterations[0].ClassifyErr; err == nil || !strings.Contains(err.Error(), "not JSON") {
			t.Fatalf("classification error %v, want one saying the two printed lines are no category", err)
		}
	})
}
