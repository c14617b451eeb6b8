package replay_test

import (
	"context"
	"maps"
	"testing"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/embedded"
	"github.com/splitproof/splitproof/scenarios/replay"
	"github.com/splitproof/splitproof/scenarios/sequence"
)

// TestSequenceEmbedded replays the doc's snippets on the embedded target
// and checks what the sequence records. The doc's loop runs one curl per
// request; real curl would open a connection each time, but the native
// curl's commands share one transport, so one keep-alive connection
// carries every request of the replay: that is asserted, as it is what the
// gateway saw.
func TestSequenceEmbedded(t *testing.T) {
	const n = 300
	for _, tt := range []struct {
		scenario, snippet string
	}{
		{"example1-ab-testing", "port-forward"},
		{"example1-ab-testing", "external-address"},
		{"example2-llm", "port-forward"},
	} {
		t.Run(tt.scenario+"/"+tt.snippet, func(t *testing.T) {
			s, err := scenarios.Find(tt.scenario)
			if err != nil {
				t.Fatal(err)
			}
			tg, err := embedded.Start(context.Background(), s, embedded.Options{PickMode: picker.Random, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			defer tg.Close()
			rep, err := replay.Run(context.Background(), s, tg.Endpoint(), replay.Options{Snippet: tt.snippet, Requests: n})
			if err != nil {
				t.Fatal(err)
			}
			seq := rep.Sequence
			if seq.Len() != n || seq.Connections != sequence.ConnsTraced {
				t.Fatalf("%d requests recorded (connections %q), want %d traced", seq.Len(), seq.Connections, n)
			}
			if !maps.Equal(seq.Counts(), rep.Counts) {
				t.Fatalf("sequence counts %v, report counts %v", seq.Counts(), rep.Counts)
			}
			var prev sequence.Request
			for i, req := range seq.All() {
				switch {
				case req.Received < req.Sent:
					t.Fatalf("request %d received at %v, before it was sent at %v", i, req.Received, req.Sent)
				case i > 0 && req.Sent < prev.Sent:
					t.Fatalf("request %d sent at %v, before request %d at %v", i, req.Sent, i-1, prev.Sent)
				case i > 0 && req.Sent < prev.Received:
					// One request at a time: the loop's next curl starts
					// after the previous answer was read.
					t.Fatalf("request %d sent at %v while request %d was in flight until %v", i, req.Sent, i-1, prev.Received)
				case req.Conn != 1:
					t.Fatalf("request %d on connection %d, want every request on the one keep-alive connection", i, req.Conn)
				case req.Status != 200:
					t.Fatalf("request %d: status %d (%s)", i, req.Status, seq.Category(req))
				}
				prev = req
			}
			if last := seq.At(n - 1); last.Received > rep.Duration {
				t.Fatalf("last answer at %v, after the replay's %v", last.Received, rep.Duration)
			}
		})
	}
}
