package replay_test

import (
	"context"
	"fmt"
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
// request, and by default each opens its own connection, as real curl
// does: the n requests use n connections, numbered in order. With
// ReuseConnections the commands share one transport, so one keep-alive
// connection carries every request. Either is asserted, as it is what the
// gateway saw.
func TestSequenceEmbedded(t *testing.T) {
	const n = 300
	for _, tt := range []struct {
		scenario, snippet string
		reuse             bool
	}{
		{"example1-ab-testing", "port-forward", false},
		{"example1-ab-testing", "external-address", false},
		{"example2-llm", "port-forward", false},
		{"example1-ab-testing", "port-forward", true},
		{"example2-llm", "port-forward", true},
	} {
		t.Run(fmt.Sprintf("%s/%s/reuse=%v", tt.scenario, tt.snippet, tt.reuse), func(t *testing.T) {
			s, err := scenarios.Find(tt.scenario)
			if err != nil {
				t.Fatal(err)
			}
			tg, err := embedded.Start(context.Background(), s, embedded.Options{PickMode: picker.Random, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			defer tg.Close()
			rep, err := replay.Run(context.Background(), s, tg.Endpoint(), replay.Options{Snippet: tt.snippet, Requests: n, ReuseConnections: tt.reuse})
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
				case tt.reuse && req.Conn != 1:
					t.Fatalf("request %d on connection %d, want every request on the one keep-alive connection", i, req.Conn)
				case !tt.reuse && req.Conn != uint32(i+1):
					t.Fatalf("request %d on connection %d, want connection %d: one per curl command", i, req.Conn, i+1)
				case req.Status != 200:
					t.Fatalf("request %d: status %d (%s)", i, req.Status, seq.Category(req))
				}
				prev = req
			}
			if want := map[bool]uint32{false: n, true: 1}[tt.reuse]; seq.Conns() != want {
				t.Fatalf("%d connections, want %d", seq.Conns(), want)
			}
			if last := seq.At(n - 1); last.Received > rep.Duration {
				t.Fatalf("last answer at %v, after the replay's %v", last.Received, rep.Duration)
			}
		})
	}
}
