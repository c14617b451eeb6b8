package sequence

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseSequence: no input makes Read panic, and whatever it accepts is
// a sequence whose counts add up to its length, whose plain-list rendering
// parses back to the same order, and (when it came as JSON) whose JSON
// round-trips.
func FuzzParseSequence(f *testing.F) {
	for _, seed := range []string{
		"v1\nv2\nv3\n",
		"# comment\n\nv3  # trailing\r\nv#1\n",
		"\ufeffgpt-4o-mini-2024-07-18\n500\nerror\n",
		"v1 v2\n",
		"\xff\n",
		`{"categories":[{"name":"a","weight":1}],"counts":{"a":1},"sequence":{"connections":"traced","fields":["sent_ns","received_ns","conn","status","category"],"requests":[[0,5,1,200,"a"]]}}`,
		`{"categories":[{"name":"a","weight":1}],"counts":{"a":3}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(bytes.NewReader(data), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		rec := file.Sequence
		if rec == nil {
			return // a counts file without a sequence
		}
		var total int64
		for _, c := range rec.Counts() {
			total += c
		}
		if total != int64(rec.Len()) {
			t.Fatalf("counts add up to %d, %d requests", total, rec.Len())
		}
		var plain strings.Builder
		for _, req := range rec.All() {
			plain.WriteString(rec.Category(req))
			plain.WriteByte('\n')
		}
		back, err := ParseText(strings.NewReader(plain.String()), "plain")
		// A JSON category may hold what a line cannot (a space, a '#').
		if err == nil {
			if back.Len() != rec.Len() {
				t.Fatalf("plain list of %d requests parsed back as %d", rec.Len(), back.Len())
			}
			for i, req := range rec.All() {
				if got, want := back.Category(back.At(i)), rec.Category(req); got != want {
					t.Fatalf("request %d: %q parsed back as %q", i, want, got)
				}
			}
		} else if file.Categories == nil {
			t.Fatalf("an accepted plain list does not parse back: %v", err)
		}
		if file.Categories == nil {
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, file); err != nil {
			t.Fatal(err)
		}
		again, err := DecodeFile(&buf, "again")
		if err != nil {
			t.Fatalf("written file does not decode: %v\n%s", err, buf.Bytes())
		}
		if again.Sequence.Len() != rec.Len() {
			t.Fatalf("round trip: %d requests, want %d", again.Sequence.Len(), rec.Len())
		}
		for i, req := range rec.All() {
			g := again.Sequence.At(i)
			if g.Sent != req.Sent || g.Received != req.Received || g.Conn != req.Conn || g.Status != req.Status || again.Sequence.Category(g) != rec.Category(req) {
				t.Fatalf("round trip request %d: %+v, want %+v", i, g, req)
			}
		}
	})
}
