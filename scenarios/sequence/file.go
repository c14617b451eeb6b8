package sequence

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/splitproof/splitproof/internal/strictdecode"
	"github.com/splitproof/splitproof/sim"
)

// File is a counts file with the sequence its counts came from. Its JSON is
// a sim counts file with one more field, "sequence" (see the package
// documentation).
type File struct {
	sim.CountsFile
	// Sequence is nil for a counts file without per-request records.
	Sequence *Recording
}

// Fields are the columns of each request in the JSON, in order. A file
// with other fields was written by another version and is refused rather
// than misread.
var Fields = []string{"sent_ns", "received_ns", "conn", "status", "category"}

// ErrSequence is wrapped by every error about a sequence's content.
var ErrSequence = errors.New("invalid sequence")

// Write writes f as indented JSON, each request on a line of its own so a
// long sequence stays readable and diffable.
func Write(w io.Writer, f File) error {
	head, err := json.MarshalIndent(f.CountsFile, "", "  ")
	if err != nil {
		return fmt.Errorf("encode counts: %w", err)
	}
	bw := bufio.NewWriter(w)
	if f.Sequence == nil {
		bw.Write(head)
		bw.WriteByte('\n')
		return bw.Flush()
	}
	// The counts object ends with "\n}": the sequence goes before it.
	body, ok := bytes.CutSuffix(head, []byte("\n}"))
	if !ok {
		return fmt.Errorf("encode counts: unexpected end of %q", head)
	}
	bw.Write(body)
	rec := f.Sequence
	start, err := json.Marshal(rec.Start)
	if err != nil {
		return fmt.Errorf("encode the sequence's start: %w", err)
	}
	fields, _ := json.Marshal(Fields)
	fmt.Fprintf(bw, ",\n  \"sequence\": {\n    \"start\": %s,\n    \"connections\": %q,\n    \"fields\": %s,\n    \"requests\": [", start, rec.Connections, bytes.ReplaceAll(fields, []byte(","), []byte(", ")))
	// Names are quoted once, not once per request.
	quoted := make([][]byte, len(rec.names))
	for i, name := range rec.names {
		if quoted[i], err = json.Marshal(name); err != nil {
			return fmt.Errorf("encode category %q: %w", name, err)
		}
	}
	var line []byte
	for i, req := range rec.All() {
		line = line[:0]
		if i > 0 {
			line = append(line, ',')
		}
		line = append(line, "\n      ["...)
		line = strconv.AppendInt(line, int64(req.Sent), 10)
		line = append(line, ", "...)
		line = strconv.AppendInt(line, int64(req.Received), 10)
		line = append(line, ", "...)
		line = strconv.AppendUint(line, uint64(req.Conn), 10)
		line = append(line, ", "...)
		line = strconv.AppendUint(line, uint64(req.Status), 10)
		line = append(line, ", "...)
		line = append(line, quoted[req.category]...)
		line = append(line, ']')
		bw.Write(line)
	}
	if rec.Len() > 0 {
		bw.WriteString("\n    ")
	}
	bw.WriteString("]\n  }\n}\n")
	return bw.Flush()
}

// fileJSON is File as decoded: sim's fields, flattened, and the sequence.
type fileJSON struct {
	sim.CountsFile
	Sequence *sequenceJSON `json:"sequence"`
}

type sequenceJSON struct {
	Start       time.Time         `json:"start"`
	Connections Connections       `json:"connections"`
	Fields      []string          `json:"fields"`
	Requests    []json.RawMessage `json:"requests"`
}

// Read reads a sequence file in either form: the replayer's JSON (its first
// non-blank byte is '{') or a plain list of categories. A plain list gives
// a File without categories: the caller supplies the weights.
func Read(r io.Reader, name string) (File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", name, err)
	}
	if t := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		return DecodeFile(bytes.NewReader(data), name)
	}
	rec, err := ParseText(bytes.NewReader(data), name)
	if err != nil {
		return File{}, err
	}
	return File{CountsFile: sim.CountsFile{Counts: rec.Counts()}, Sequence: rec}, nil
}

// DecodeFile reads the replayer's JSON strictly: unknown or repeated
// fields, trailing data, invalid values and counts that differ from the
// sequence's are errors naming the file (name), the line and the field. A
// counts file without a sequence is accepted, so `verify --file` reads both.
func DecodeFile(r io.Reader, name string) (File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", name, err)
	}
	var probe struct {
		Sequence json.RawMessage `json:"sequence"`
	}
	if err := json.Unmarshal(data, &probe); err != nil || probe.Sequence == nil {
		// A counts file without a sequence, or no JSON at all: sim's own
		// reading, whose list of known fields has no "sequence".
		cf, err := sim.DecodeCounts(bytes.NewReader(data), name)
		return File{CountsFile: cf}, err
	}
	var fj fileJSON
	doc, err := strictdecode.Decoder{File: name, Kind: sim.ErrCounts}.JSON(data, &fj)
	if err != nil {
		return File{}, err
	}
	if fj.Sequence == nil {
		return File{}, doc.Locate(seqErr([]any{"sequence"}, "sequence is null"))
	}
	f := File{CountsFile: fj.CountsFile}
	if f.Sequence, err = fj.Sequence.recording(); err != nil {
		return File{}, doc.Locate(err)
	}
	implied := f.Sequence.Counts()
	if f.Counts == nil {
		f.Counts = implied
	} else if err := sameCounts(f.Counts, implied); err != nil {
		return File{}, doc.Locate(err)
	}
	if err := doc.Locate(f.Validate()); err != nil {
		return File{}, err
	}
	return f, nil
}

// seqErr is an error about the sequence field at path, whose message names
// the field; DecodeFile adds the file and line.
func seqErr(path []any, format string, args ...any) error {
	return &strictdecode.Error{Path: path, Kind: ErrSequence, Msg: fmt.Sprintf(format, args...)}
}

func (s *sequenceJSON) recording() (*Recording, error) {
	if !s.Connections.valid() {
		return nil, seqErr([]any{"sequence", "connections"}, "sequence.connections is %q, expected %q, %q or %q", s.Connections, ConnsTraced, ConnsPerCommand, ConnsNone)
	}
	if !slices.Equal(s.Fields, Fields) {
		return nil, seqErr([]any{"sequence", "fields"}, "sequence.fields is %q, expected %q (a file of another format version)", s.Fields, Fields)
	}
	rec := New(s.Start, s.Connections)
	for i, raw := range s.Requests {
		at := []any{"sequence", "requests", i}
		var cols []json.RawMessage
		if err := json.Unmarshal(raw, &cols); err != nil || len(cols) != len(Fields) {
			return nil, seqErr(at, "sequence.requests[%d] is %s, expected [sent_ns, received_ns, conn, status, \"category\"]", i, preview(raw))
		}
		var (
			sent, received int64
			conn           uint32
			status         uint16
			category       string
		)
		for j, dst := range []any{&sent, &received, &conn, &status, &category} {
			// null would decode as a silent zero.
			if err := json.Unmarshal(cols[j], dst); err != nil || string(cols[j]) == "null" {
				if err == nil {
					err = errors.New("null")
				}
				return nil, seqErr(at, "sequence.requests[%d].%s is %s: %v", i, Fields[j], preview(cols[j]), err)
			}
		}
		switch {
		case sent < 0:
			return nil, seqErr(at, "sequence.requests[%d].sent_ns is %d, expected an offset ≥ 0 from start", i, sent)
		case received < sent:
			return nil, seqErr(at, "sequence.requests[%d].received_ns is %d, before its sent_ns %d", i, received, sent)
		case status != 0 && (status < 100 || status > 999):
			return nil, seqErr(at, "sequence.requests[%d].status is %d, expected 0 (no response) or an HTTP status", i, status)
		case category == "":
			return nil, seqErr(at, "sequence.requests[%d].category is empty", i)
		}
		rec.Add(time.Duration(sent), time.Duration(received), uint64(conn), int(status), category)
	}
	return rec, nil
}

// sameCounts reports the first category whose count differs, in name order.
func sameCounts(counts, implied map[string]int64) error {
	names := slices.Sorted(maps.Keys(counts))
	for _, n := range slices.Sorted(maps.Keys(implied)) {
		if _, ok := counts[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if counts[n] != implied[n] {
			return seqErr([]any{"counts", n}, "counts[%q] is %d but the sequence has %d requests in that category", n, counts[n], implied[n])
		}
	}
	return nil
}

func preview(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}
