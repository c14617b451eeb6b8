package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
		return CountsFile{}, fmt.Errorf("%s: %w: %s", name, ErrCounts, describeJSONError(data, err))
	}
	if dec.More() {
		return CountsFile{}, fmt.Errorf("%s: %w: trailing data after the JSON object", name, ErrCounts)
	}
	if err := cf.Validate(); err != nil {
		return CountsFile{}, fmt.Errorf("%s: %w", name, err)
	}
	return cf, nil
}

// describeJSONError adds the line of a syntax or type error.
func describeJSONError(data []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
		if te.Field != "" {
			return fmt.Sprintf("line %d: field %q: expected %s, got JSON %s", lineOf(data, off), te.Field, te.Type, te.Value)
		}
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if off >= 0 {
		return fmt.Sprintf("line %d: %s", lineOf(data, off), msg)
	}
	return msg
}

func lineOf(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// Validate checks a counts file's values.
func (cf CountsFile) Validate() error {
	if len(cf.Categories) == 0 {
		return fmt.Errorf("%w: categories: none given", ErrCounts)
	}
	seen := map[string]bool{}
	var sum int64
	for i, c := range cf.Categories {
		switch {
		case c.Name == "":
			return fmt.Errorf("%w: categories[%d].name is empty", ErrCounts, i)
		case seen[c.Name]:
			return fmt.Errorf("%w: categories[%d].name %q appears twice", ErrCounts, i, c.Name)
		case c.Weight < 0 || c.Weight > maxCategoryWeight:
			return fmt.Errorf("%w: categories[%d] (%s).weight is %d, expected 0 to %d", ErrCounts, i, c.Name, c.Weight, int64(maxCategoryWeight))
		}
		seen[c.Name] = true
		sum += c.Weight
	}
	if sum == 0 {
		return fmt.Errorf("%w: categories: every weight is 0, no split to verify", ErrCounts)
	}
	if cf.Counts == nil {
		return fmt.Errorf("%w: counts: missing", ErrCounts)
	}
	var total int64
	for _, name := range sortedNames(cf.Counts) {
		c := cf.Counts[name]
		switch {
		case c < 0:
			return fmt.Errorf("%w: counts[%q] is negative (%d)", ErrCounts, name, c)
		case c > MaxObservations:
			return fmt.Errorf("%w: counts[%q] is %d, expected at most %d responses", ErrCounts, name, c, int64(MaxObservations))
		}
		// Both terms are at most MaxObservations, so the sum cannot overflow
		// before it is compared.
		total += c
		if total > MaxObservations {
			return fmt.Errorf("%w: counts add up to more than %d responses (at %q)", ErrCounts, int64(MaxObservations), name)
		}
	}
	if cf.Alpha != 0 && !(cf.Alpha > 0 && cf.Alpha < 1) {
		return fmt.Errorf("%w: alpha is %v, expected in (0,1)", ErrCounts, cf.Alpha)
	}
	if cf.Delta != 0 && !(cf.Delta > 0 && cf.Delta <= 0.5) {
		return fmt.Errorf("%w: delta is %v, expected in (0,0.5]", ErrCounts, cf.Delta)
	}
	return nil
}
