package sequence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/splitproof/splitproof/sim"
)

func TestParseText(t *testing.T) {
	in := "\ufeff# example1, port-forward\nv3\n\n  v3  \r\nv1   # the first v1\nv#2\n\t# indented comment\n500"
	rec, err := ParseText(strings.NewReader(in), "seq.txt")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, req := range rec.All() {
		got = append(got, rec.Category(req))
	}
	if want := []string{"v3", "v3", "v1", "v#2", "500"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("categories %q, want %q", got, want)
	}
	if c := rec.Counts(); c["v3"] != 2 || c["v1"] != 1 || c["500"] != 1 || len(c) != 4 {
		t.Fatalf("counts %v", c)
	}
	if rec.Connections != ConnsNone || rec.Conns() != 0 {
		t.Fatalf("a plain list knows no connections: %q, %d", rec.Connections, rec.Conns())
	}
}

func TestParseTextErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"two names on a line", "v1\nv1 v2\n", `seq.txt:2: invalid sequence: "v1 v2" is not one category`},
		{"tab inside", "v1\tv2", `seq.txt:1: invalid sequence: "v1\tv2" is not one category`},
		{"control character", "v1\nv\x002\n", `seq.txt:2: invalid sequence: control character U+0000`},
		{"escape sequence", "\x1b[31mv1\n", `seq.txt:1: invalid sequence: control character U+001B`},
		{"invalid UTF-8", "v1\n\n\xff\xfe\n", `seq.txt:3: invalid sequence: not valid UTF-8`},
		{"non-ASCII space", "v1\u00a0v2", `seq.txt:1: invalid sequence: "v1\u00a0v2" is not one category: it holds the space U+00A0`},
		{"line too long", "v1\n" + strings.Repeat("x", MaxLine+1) + "\n", fmt.Sprintf("seq.txt:2: invalid sequence: line longer than %d bytes", MaxLine)},
		{"only comments", "# nothing\n\n   \n#v1\n", "seq.txt: invalid sequence: no category in 4 lines"},
		{"empty", "", "seq.txt: invalid sequence: no category in 0 lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseText(strings.NewReader(tt.in), "seq.txt")
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || !errors.Is(err, ErrSequence) {
				t.Fatalf("error %v, want it to start %q and wrap ErrSequence", err, tt.want)
			}
		})
	}
	// A line of exactly MaxLine bytes is still one category.
	if _, err := ParseText(strings.NewReader(strings.Repeat("x", MaxLine)), "seq.txt"); err != nil {
		t.Fatalf("a line of MaxLine bytes: %v", err)
	}
}

func sampleFile() File {
	rec := New(time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC), ConnsTraced)
	rec.Add(100, 900, 1, 200, "v3")
	rec.Add(1000, 1700, 1, 200, "v1")
	rec.Add(1800, 2500, 2, 503, "503")
	rec.Add(2600, 9000, 0, 0, "error")
	return File{
		CountsFile: sim.CountsFile{
			Scenario:   "example1-ab-testing/port-forward",
			Categories: []sim.Category{{Name: "v1", Weight: 10}, {Name: "v2", Weight: 10}, {Name: "v3", Weight: 80}},
			Counts:     rec.Counts(), Alpha: 0.001, Delta: 0.05,
		},
		Sequence: rec,
	}
}

func TestWriteDecodeRoundTrip(t *testing.T) {
	f := sampleFile()
	var buf bytes.Buffer
	if err := Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	got, err := Read(bytes.NewReader(buf.Bytes()), "counts.json")
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	if got.Sequence.Len() != 4 || !got.Sequence.Start.Equal(f.Sequence.Start) || got.Sequence.Connections != ConnsTraced {
		t.Fatalf("sequence %+v", got.Sequence)
	}
	for i, req := range f.Sequence.All() {
		g := got.Sequence.At(i)
		if g.Sent != req.Sent || g.Received != req.Received || g.Conn != req.Conn || g.Status != req.Status || got.Sequence.Category(g) != f.Sequence.Category(req) {
			t.Errorf("request %d: %+v (%s), want %+v (%s)", i, g, got.Sequence.Category(g), req, f.Sequence.Category(req))
		}
	}
	if !maps.Equal(got.Counts, f.Counts) || got.Scenario != f.Scenario || len(got.Categories) != 3 {
		t.Fatalf("counts file %+v", got.CountsFile)
	}
	// Without a sequence the file is exactly what sim reads.
	buf.Reset()
	if err := Write(&buf, File{CountsFile: f.CountsFile}); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.DecodeCounts(bytes.NewReader(buf.Bytes()), "plain.json"); err != nil {
		t.Fatalf("sim cannot read a counts file without a sequence: %v", err)
	}
}

func TestDecodeFileErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sampleFile()); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	tests := []struct {
		name, old, new, want string
	}{
		{"counts disagree", `"v3": 1`, `"v3": 2`, `counts.json:21: invalid sequence: counts["v3"] is 2 but the sequence has 1 requests in that category`},
		// A category missing from counts points at counts itself.
		{"category missing from counts", `"error": 1,`, ``, `counts.json:17: invalid sequence: counts["error"] is 0 but the sequence has 1`},
		{"unknown field", `"fields"`, `"field"`, `counts.json:28: invalid counts: sequence: unknown field "field" (known fields: start, connections, fields, requests)`},
		{"repeated field", `"start"`, "\"connections\": \"none\",\n    \"start\"", `counts.json:28: invalid counts: sequence.connections: field given twice (first at line 26)`},
		{"other fields", `"category"]`, `"cat"]`, `counts.json:28: invalid sequence: sequence.fields is`},
		{"connections", `"traced"`, `"maybe"`, `counts.json:27: invalid sequence: sequence.connections is "maybe"`},
		{"short request", `[100, 900, 1, 200, "v3"]`, `[100, 900, 1, "v3"]`, `counts.json:30: invalid sequence: sequence.requests[0] is [100, 900, 1, "v3"], expected`},
		{"received before sent", `[1000, 1700,`, `[1000, 999,`, `counts.json:31: invalid sequence: sequence.requests[1].received_ns is 999, before its sent_ns 1000`},
		{"negative sent", `[100, 900,`, `[-1, 900,`, `counts.json:30: invalid sequence: sequence.requests[0].sent_ns is -1`},
		{"status", `2, 503, "503"]`, `2, 42, "503"]`, `counts.json:32: invalid sequence: sequence.requests[2].status is 42`},
		{"status too large", `2, 503, "503"]`, `2, 70000, "503"]`, `counts.json:32: invalid sequence: sequence.requests[2].status is 70000`},
		{"null", `[2600, 9000, 0, 0,`, `[2600, 9000, null, 0,`, `counts.json:33: invalid sequence: sequence.requests[3].conn is null`},
		{"float time", `[100, 900,`, `[100.5, 900,`, `counts.json:30: invalid sequence: sequence.requests[0].sent_ns is 100.5`},
		{"empty category", `0, "error"]`, `0, ""]`, `counts.json:33: invalid sequence: sequence.requests[3].category is empty`},
		{"counts invalid", `"alpha": 0.001`, `"alpha": 2`, `counts.json:23: invalid counts: alpha is 2, expected in (0,1)`},
		// sim reads what is not JSON, and names the line its own way.
		{"syntax error names the line", `"v3"],`, `"v3"]],`, `counts.json:31: invalid counts: invalid character`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(good, tt.old, tt.new, 1)
			if in == good {
				t.Fatalf("%q is not in the file:\n%s", tt.old, good)
			}
			_, err := DecodeFile(strings.NewReader(in), "counts.json")
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to start %q", err, tt.want)
			}
		})
	}
}

// TestDecodeFileNullSequence: "sequence": null is not a counts file without
// a sequence, and the error points at it.
func TestDecodeFileNullSequence(t *testing.T) {
	in := "{\"categories\": [{\"name\": \"a\", \"weight\": 1}],\n \"sequence\": null}"
	_, err := DecodeFile(strings.NewReader(in), "n.json")
	if want := "n.json:2: invalid sequence: sequence is null"; err == nil || err.Error() != want || !errors.Is(err, ErrSequence) {
		t.Fatalf("error %v, want %q wrapping ErrSequence", err, want)
	}
}

// TestDecodeFileCountsFromSequence: a hand-written file may give the
// sequence alone; its counts are implied.
func TestDecodeFileCountsFromSequence(t *testing.T) {
	in := `{"categories": [{"name": "a", "weight": 1}], "sequence": {"connections": "none", "fields": ["sent_ns", "received_ns", "conn", "status", "category"],
	  "requests": [[0, 0, 0, 0, "a"], [0, 0, 0, 0, "b"], [0, 0, 0, 0, "a"]]}}`
	f, err := Read(strings.NewReader(in), "hand.json")
	if err != nil {
		t.Fatal(err)
	}
	if f.Counts["a"] != 2 || f.Counts["b"] != 1 || f.Sequence.Len() != 3 {
		t.Fatalf("counts %v, %d requests", f.Counts, f.Sequence.Len())
	}
}

// TestRecordingBlocks: requests past a block boundary keep their order and
// values.
func TestRecordingBlocks(t *testing.T) {
	rec := New(time.Time{}, ConnsTraced)
	n := 2*blockSize + 7
	for i := range n {
		rec.Add(time.Duration(i), time.Duration(i+1), uint64(i%3+1), 200, fmt.Sprint("c", i%5))
	}
	if rec.Len() != n || rec.Conns() != 3 {
		t.Fatalf("len %d conns %d", rec.Len(), rec.Conns())
	}
	for _, i := range []int{0, blockSize - 1, blockSize, 2 * blockSize, n - 1} {
		req := rec.At(i)
		if req.Sent != time.Duration(i) || rec.Category(req) != fmt.Sprint("c", i%5) || req.Conn != uint32(i%3+1) {
			t.Errorf("request %d: %+v %s", i, req, rec.Category(req))
		}
	}
	var total int64
	for _, c := range rec.Counts() {
		total += c
	}
	if total != int64(n) {
		t.Fatalf("counts add up to %d, want %d", total, n)
	}
	// Add keeps what the file format would refuse out of the record.
	rec.Add(-5, -10, 1<<40, 70000, "x")
	if last := rec.At(n); last.Sent != 0 || last.Received != 0 || last.Conn != 0 || last.Status != 0 {
		t.Fatalf("clamped request %+v", last)
	}
}

// BenchmarkRecord measures what recording one request costs: a few
// nanoseconds and 32 bytes (one Request in a block), whatever the run's
// length.
func BenchmarkRecord(b *testing.B) {
	cats := []string{"v1", "v2", "v3", "v3", "v3", "v3", "v3", "v3", "v3", "v3"}
	rec := New(time.Now(), ConnsTraced)
	i := 0
	for b.Loop() {
		rec.Add(time.Duration(i)*time.Microsecond, time.Duration(i+1)*time.Microsecond, 1, 200, cats[i%len(cats)])
		i++
	}
	if rec.Len() != i {
		b.Fatalf("recorded %d of %d", rec.Len(), i)
	}
}

// BenchmarkDecodeFile reads a 100,000-request file: strictly, and (for
// comparison) as encoding/json alone would, to show what strictness costs.
func BenchmarkDecodeFile(b *testing.B) {
	rec := New(time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC), ConnsTraced)
	counts := map[string]int64{}
	for i := range 100_000 {
		cat := []string{"v1", "v2", "v3"}[i%3]
		rec.Add(time.Duration(i), time.Duration(i+500), uint64(i%8), 200, cat)
		counts[cat]++
	}
	var buf bytes.Buffer
	f := File{CountsFile: sim.CountsFile{Categories: []sim.Category{{Name: "v1", Weight: 1}, {Name: "v2", Weight: 1}, {Name: "v3", Weight: 1}}, Counts: counts}, Sequence: rec}
	if err := Write(&buf, f); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.Run("strict", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := DecodeFile(bytes.NewReader(data), "b.json"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var fj fileJSON
			if err := json.Unmarshal(data, &fj); err != nil {
				b.Fatal(err)
			}
			if _, err := fj.Sequence.recording(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
