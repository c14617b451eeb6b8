package replay

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/splitproof/splitproof/scenarios/curl"
	"github.com/splitproof/splitproof/scenarios/sequence"
	"github.com/splitproof/splitproof/scenarios/shell"
)

// TestCountsFileGolden pins the counts file a replay writes with its
// sequence: the doc's 20 requests through a smooth 10/10/80 gateway. The
// times are the only thing that differs between runs, so they are replaced
// by a fixed clock (one request a millisecond, answered in half of one);
// order, connections, statuses and categories are the replay's own.
func TestCountsFileGolden(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	rep, err := Run(context.Background(), s, fakeGateway(t, []int32{10, 10, 80}), Options{Snippet: "port-forward", Requests: 20})
	if err != nil {
		t.Fatal(err)
	}
	fixed := sequence.New(time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC), rep.Sequence.Connections)
	for i, req := range rep.Sequence.All() {
		sent := time.Duration(i) * time.Millisecond
		fixed.Add(sent, sent+500*time.Microsecond, uint64(req.Conn), int(req.Status), rep.Sequence.Category(req))
	}
	rep.Sequence = fixed
	var got bytes.Buffer
	if err := sequence.Write(&got, rep.SequenceFile()); err != nil {
		t.Fatal(err)
	}
	const path = "testdata/counts.json"
	checkGolden(t, path, got.Bytes())
	// What was written is what verify reads back.
	back, err := sequence.DecodeFile(bytes.NewReader(got.Bytes()), path)
	if err != nil || back.Sequence.Len() != 20 || back.Counts["v3"] != 16 {
		t.Fatalf("decode %s: %v, %+v", path, err, back.CountsFile)
	}
}

// TestRecordRequest: how one iteration becomes a record, for the native
// curl (exact exchange times, the connection of the final answer after a
// redirect) and for real curl (the command's window and number).
func TestRecordRequest(t *testing.T) {
	start := time.Now()
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	native := shell.Iteration{
		CurlStart: at(1), CurlEnd: at(9), Curls: 1, Status: 200, Category: "v1",
		Exchanges: []curl.Exchange{
			{Redirect: true, Status: 302, Sent: at(2), Received: at(3), Conn: 4},
			{Status: 200, Sent: at(4), Received: at(8), Conn: 5},
		},
	}
	real := shell.Iteration{CurlStart: at(10), CurlEnd: at(20), Curls: 1, Status: 500, Category: "500"}
	failed := shell.Iteration{CurlStart: at(21), CurlEnd: at(22), Curls: 1, Category: shell.CategoryError,
		Err:       &shell.CurlError{Exit: 7, Message: "Failed to connect"},
		Exchanges: []curl.Exchange{{Sent: at(21), Received: at(22), Err: errors.New("refused")}}}
	rec := sequence.New(start, sequence.ConnsTraced)
	recordRequest(rec, start, native, 1, false)
	recordRequest(rec, start, failed, 2, false)
	recordRequest(rec, start, real, 7, true)
	want := []struct {
		sent, received int
		conn           uint32
		status         uint16
		category       string
	}{
		{2, 8, 5, 200, "v1"},
		{21, 22, 0, 0, shell.CategoryError},
		{10, 20, 7, 500, "500"},
	}
	for i, w := range want {
		got := rec.At(i)
		if got.Sent != time.Duration(w.sent)*time.Millisecond || got.Received != time.Duration(w.received)*time.Millisecond ||
			got.Conn != w.conn || got.Status != w.status || rec.Category(got) != w.category {
			t.Errorf("record %d: %+v %s, want %+v", i, got, rec.Category(got), w)
		}
	}
}
