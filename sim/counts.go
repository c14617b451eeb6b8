package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/splitproof/splitproof/refproxy/picker"
)

// Category is one expected outcome of a request: a backend, or a status code
// such as "500" for the share of invalid backendRefs.
type Category struct {
	Name   string `json:"name"`
	Weight int64  `json:"weight"`
}

// CountsFile is the JSON document the replayer writes and `splitproof verify
// --file` reads. See the package documentation for the format.
type CountsFile struct {
	Scenario   string           `json:"scenario,omitempty"`
	Categories []Category       `json:"categories"`
	Counts     map[string]int64 `json:"counts"`
	// Alpha is the false-failure rate; 0 means DefaultAlpha.
	Alpha float64 `json:"alpha,omitempty"`
	// Delta is the deviation the verdict's power is stated for; 0 means DefaultDelta.
	Delta float64 `json:"delta,omitempty"`
}

// MaxObservations bounds a counts file's total: 10^12 responses is more than
// any replay sends (a day at ten million requests a second), and keeping
// totals far below 2^63 lets every sum and statistic be computed without
// overflow.
const MaxObservations = 1_000_000_000_000

// ErrCounts is wrapped by every decoding and validation error of a counts file.
var ErrCounts = errors.New("invalid counts")

// maxCategoryWeight allows a status category to carry the summed weight of
// every invalid backendRef of a rule.
const maxCategoryWeight = picker.MaxWeight * picker.MaxBackends

// DecodeCounts reads a counts file strictly: unknown fields, trailing data
// and invalid values are errors naming the file (name) and the field.
func DecodeCounts(r io.Reader, name string) (CountsFile, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return CountsFile{}, fmt.Errorf("%s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cf CountsFile
	if err := dec.Decode(&cf); err != nil {
		line, msg := describeJSONError(data, err)
		if line > 0 {
			return CountsFile{}, fmt.Errorf("%s:%d: %w: %s", name, line, ErrCounts, msg)
		}
		return CountsFile{}, fmt.Errorf("%s: %w: %s", name, ErrCounts, msg)
	}
	if dec.More() {
		return CountsFile{}, fmt.Errorf("%s:%d: %w: trailing data after the JSON object", name, lineOf(data, dec.InputOffset()+1), ErrCounts)
	}
	if err := cf.Validate(); err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			if line := jsonFieldLine(data, fe.path...); line > 0 {
				return CountsFile{}, fmt.Errorf("%s:%d: %w", name, line, err)
			}
		}
		return CountsFile{}, fmt.Errorf("%s: %w", name, err)
	}
	return cf, nil
}

// fieldError is a Validate error about the field at path (object keys as
// strings, array indexes as ints), so DecodeCounts can name its line.
type fieldError struct {
	path []any
	msg  string
}

func (e *fieldError) Error() string { return ErrCounts.Error() + ": " + e.msg }
func (e *fieldError) Unwrap() error { return ErrCounts }

func fieldErr(path []any, format string, args ...any) error {
	return &fieldError{path: path, msg: fmt.Sprintf(format, args...)}
}

// jsonFieldLine is the line of the value at path in a JSON document (0 when
// it is not there): a walk over the tokens, which know their offsets.
func jsonFieldLine(data []byte, path ...any) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	line := 0
	var walk func(depth int) bool // reports whether path[depth:] was found
	walk = func(depth int) bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if depth == len(path) {
			// The offset is just past the value's first token: its line.
			line = lineOf(data, dec.InputOffset())
			return true
		}
		d, ok := tok.(json.Delim)
		if !ok || (d != '{' && d != '[') {
			return false
		}
		for i := 0; dec.More(); i++ {
			if d == '{' {
				key, err := dec.Token()
				if err != nil {
					return false
				}
				if key == path[depth] {
					return walk(depth + 1)
				}
			} else if i == path[depth] {
				return walk(depth + 1)
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return false
			}
		}
		return false
	}
	walk(0)
	return line
}

// describeJSONError finds the line of a syntax, type or unknown-field error
// (0 when it has none) and words the message.
func describeJSONError(data []byte, err error) (int, string) {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	msg := strings.TrimPrefix(err.Error(), "json: ")
	switch {
	case errors.As(err, &se):
		return lineOf(data, se.Offset), msg
	case errors.As(err, &te):
		if te.Field != "" {
			return lineOf(data, te.Offset), fmt.Sprintf("field %q: expected %s, got JSON %s", te.Field, te.Type, te.Value)
		}
		return lineOf(data, te.Offset), msg
	}
	if field, ok := strings.CutPrefix(msg, "unknown field "); ok {
		if name, err := strconv.Unquote(field); err == nil {
			return jsonFieldLine(data, name), fmt.Sprintf("unknown field %q (known fields: scenario, categories, counts, alpha, delta)", name)
		}
	}
	return 0, msg
}

func lineOf(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// Validate checks a counts file's values.
func (cf CountsFile) Validate() error {
	if len(cf.Categories) == 0 {
		return fieldErr([]any{"categories"}, "categories: none given")
	}
	seen := map[string]bool{}
	var sum int64
	for i, c := range cf.Categories {
		switch {
		case c.Name == "":
			return fieldErr([]any{"categories", i}, "categories[%d].name is empty", i)
		case seen[c.Name]:
			return fieldErr([]any{"categories", i}, "categories[%d].name %q appears twice", i, c.Name)
		case c.Weight < 0 || c.Weight > maxCategoryWeight:
			return fieldErr([]any{"categories", i}, "categories[%d] (%s).weight is %d, expected 0 to %d", i, c.Name, c.Weight, int64(maxCategoryWeight))
		}
		seen[c.Name] = true
		sum += c.Weight
	}
	if sum == 0 {
		return fieldErr([]any{"categories"}, "categories: every weight is 0, no split to verify")
	}
	if cf.Counts == nil {
		return fieldErr(nil, "counts: missing")
	}
	var total int64
	for _, name := range sortedNames(cf.Counts) {
		c := cf.Counts[name]
		switch {
		case c < 0:
			return fieldErr([]any{"counts", name}, "counts[%q] is negative (%d)", name, c)
		case c > MaxObservations:
			return fieldErr([]any{"counts", name}, "counts[%q] is %d, expected at most %d responses", name, c, int64(MaxObservations))
		}
		// Both terms are at most MaxObservations, so the sum cannot overflow
		// before it is compared.
		total += c
		if total > MaxObservations {
			return fieldErr([]any{"counts", name}, "counts add up to more than %d responses (at %q)", int64(MaxObservations), name)
		}
	}
	if cf.Alpha != 0 && !(cf.Alpha > 0 && cf.Alpha < 1) {
		return fieldErr([]any{"alpha"}, "alpha is %v, expected in (0,1)", cf.Alpha)
	}
	if cf.Delta != 0 && !(cf.Delta > 0 && cf.Delta <= 0.5) {
		return fieldErr([]any{"delta"}, "delta is %v, expected in (0,0.5]", cf.Delta)
	}
	return nil
}
