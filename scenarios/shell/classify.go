package shell

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/itchyny/gojq"

	"github.com/splitproof/splitproof/scenarios/curl"
)

// statusLine finds the last status line `curl -i` printed (after redirects).
var statusLine = regexp.MustCompile(`(?m)^HTTP/[0-9.]+ ([0-9]{3})\b`)

// printedStatus returns the status of the last status line in out, 0 when
// there is none: all that is known of a real curl's response.
func printedStatus(out []byte) int {
	all := statusLine.FindAllSubmatch(out, -1)
	if len(all) == 0 {
		return 0
	}
	code, _ := strconv.Atoi(string(all[len(all)-1][1]))
	return code
}

// Categories an iteration gets when its content cannot name one.
const (
	// CategoryError: no HTTP response arrived (curl failed to connect,
	// timed out, got an empty reply). The iteration's Err says why.
	CategoryError = "error"
	// CategoryUnmatched: a response arrived but the classifier found no
	// category in it. ClassifyErr says why.
	CategoryUnmatched = "unmatched"
)

// Source is what a content classifier reads.
type Source int

const (
	// SourceAuto reads the last response's body, or the iteration's stdout
	// when curl made no request.
	SourceAuto Source = iota
	// SourceBody reads the last response's body.
	SourceBody
	// SourceStdout reads what the iteration printed (after any jq).
	SourceStdout
)

// ParseSource reads "auto", "body" or "stdout".
func ParseSource(s string) (Source, error) {
	switch s {
	case "", "auto":
		return SourceAuto, nil
	case "body":
		return SourceBody, nil
	case "stdout":
		return SourceStdout, nil
	}
	return 0, fmt.Errorf("unknown classifier source %q (want auto, body or stdout)", s)
}

func (s Source) String() string {
	switch s {
	case SourceBody:
		return "body"
	case SourceStdout:
		return "stdout"
	}
	return "auto"
}

type classifierKind int

const (
	kindStatus classifierKind = iota
	kindRegexp
	kindJQ
	kindHeader
)

// Classifier names the category of one iteration. Whatever its kind, the
// same rules come first, so that a failure is always counted as one:
//
//  1. no HTTP response → [CategoryError];
//  2. HTTP status >= 400 → the status ("500", "503");
//  3. then by kind: the status ("200"), the regexp's first group (or whole
//     match), or the jq expression's single scalar result; nothing found →
//     [CategoryUnmatched].
//
// A content classifier reading [SourceAuto] reads the last response's body,
// unless that body is a server-sent event stream (Content-Type
// text/event-stream): then it reads what the snippet printed, as under
// SystemTools, since the snippet's own pipeline is what turns the events
// into one answer.
type Classifier struct {
	kind   classifierKind
	source Source
	re     *regexp.Regexp
	query  string
	code   *gojq.Code
	header string
}

// ByStatus classifies by HTTP status alone.
func ByStatus() *Classifier { return &Classifier{kind: kindStatus} }

// ByRegexp classifies by a regular expression, e.g. `Hello version: (v\d+)`.
func ByRegexp(pattern string, src Source) (*Classifier, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("classifier regexp %q: %w", pattern, err)
	}
	return &Classifier{kind: kindRegexp, source: src, re: re}, nil
}

// ByJQ classifies by a jq expression over the JSON, e.g. `.model`.
func ByJQ(query string, src Source) (*Classifier, error) {
	q, err := gojq.Parse(query)
	if err != nil {
		return nil, fmt.Errorf("classifier jq %q: %w", query, err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, fmt.Errorf("classifier jq %q: %w", query, err)
	}
	return &Classifier{kind: kindJQ, source: src, query: query, code: code}, nil
}

// ByHeader classifies by the value of a response header, e.g. the
// x-served-by a gateway adds. It needs the recorded exchanges, so not
// SystemTools.
func ByHeader(name string) (*Classifier, error) {
	if name == "" || strings.ContainsAny(name, " :\t\r\n") {
		return nil, fmt.Errorf("classifier header %q: expected a header name", name)
	}
	return &Classifier{kind: kindHeader, source: SourceBody, header: name}, nil
}

func (c *Classifier) String() string {
	switch c.kind {
	case kindHeader:
		return fmt.Sprintf("response header %q", c.header)
	case kindRegexp:
		return fmt.Sprintf("regexp %q on %s", c.re, c.source)
	case kindJQ:
		return fmt.Sprintf("jq %q on %s", c.query, c.source)
	}
	return "status"
}

// Classify returns the iteration's category; the error explains
// CategoryError and CategoryUnmatched.
func (c *Classifier) Classify(it *Iteration) (string, error) {
	last := it.LastExchange()
	if last == nil || last.Status == 0 {
		switch {
		case it.Err != nil:
			return CategoryError, it.Err
		case last != nil && last.Err != nil:
			return CategoryError, last.Err
		case c.kind != kindStatus && c.source != SourceBody:
			// The snippet made no recorded request (real curl under
			// SystemTools, or no curl at all): its output is all there is.
			// A status line printed by `curl -i` still tells an error apart.
			if m := statusLine.FindSubmatch(it.Stdout); m != nil {
				if code, _ := strconv.Atoi(string(m[1])); code >= 400 {
					return string(m[1]), nil
				}
			}
			return c.printed(it)
		}
		return CategoryError, errors.New("no HTTP response was recorded in this iteration")
	}
	if last.Status >= 400 || c.kind == kindStatus {
		return strconv.Itoa(last.Status), nil
	}
	if last.Err != nil {
		return CategoryError, fmt.Errorf("reading the response body: %w", last.Err)
	}
	if c.kind == kindHeader {
		if v := strings.TrimSpace(last.Header.Get(c.header)); v != "" {
			return v, nil
		}
		return CategoryUnmatched, fmt.Errorf("%s: not in the response (HTTP %d)", c, last.Status)
	}
	if c.source == SourceStdout {
		return c.content(it.Stdout)
	}
	if c.source == SourceAuto && isEventStream(last) {
		// A server-sent event stream is no JSON document, and a regexp
		// over it would read whichever event comes first: what the
		// snippet's own pipeline made of the events is the answer, as
		// under real curl.
		return c.printed(it)
	}
	return c.content(last.Body)
}

// printed classifies what the iteration printed. A snippet that piped
// through its own `jq -r` printed the value the jq classifier would
// extract: one line that is not JSON is taken as it is.
func (c *Classifier) printed(it *Iteration) (string, error) {
	if c.kind == kindJQ && !json.Valid(bytes.TrimSpace(it.Stdout)) {
		if v := strings.TrimSpace(string(it.Stdout)); v != "" && !strings.Contains(v, "\n") {
			return v, nil
		}
	}
	return c.content(it.Stdout)
}

// isEventStream reports whether ex's body is a server-sent event stream.
func isEventStream(ex *curl.Exchange) bool {
	ct := ex.Header.Get("Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/event-stream")
}

func (c *Classifier) content(data []byte) (string, error) {
	switch c.kind {
	case kindRegexp:
		m := c.re.FindSubmatch(data)
		if m == nil {
			return CategoryUnmatched, fmt.Errorf("%s: no match in %q", c, preview(data))
		}
		if len(m) > 1 {
			return string(m[1]), nil
		}
		return string(m[0]), nil
	case kindJQ:
		return c.jq(data)
	}
	return CategoryUnmatched, errors.New("status classifier has no content rule")
}

func (c *Classifier) jq(data []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return CategoryUnmatched, fmt.Errorf("%s: not JSON (%v): %q", c, err, preview(data))
	}
	iter := c.code.Run(v)
	var outs []any
	for {
		x, ok := iter.Next()
		if !ok {
			break
		}
		if err, isErr := x.(error); isErr {
			return CategoryUnmatched, fmt.Errorf("%s: %w", c, err)
		}
		outs = append(outs, x)
	}
	if len(outs) != 1 {
		return CategoryUnmatched, fmt.Errorf("%s: want exactly one result, got %d", c, len(outs))
	}
	switch x := outs[0].(type) {
	case nil:
		return CategoryUnmatched, fmt.Errorf("%s: result is null", c)
	case string:
		return x, nil
	case bool, json.Number, int, float64:
		b, err := gojq.Marshal(x)
		if err != nil {
			return CategoryUnmatched, fmt.Errorf("%s: %w", c, err)
		}
		return string(b), nil
	default:
		return CategoryUnmatched, fmt.Errorf("%s: result is a %s, not a scalar", c, gojq.TypeOf(x))
	}
}

func preview(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
