package sim

import (
	"errors"
	"fmt"
	"io"

	"github.com/splitproof/splitproof/internal/strictdecode"
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

// DecodeCounts reads a counts file strictly: unknown or repeated fields,
// trailing data and invalid values are errors naming the file (name), the
// line and the field.
func DecodeCounts(r io.Reader, name string) (CountsFile, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return CountsFile{}, fmt.Errorf("%s: %w", name, err)
	}
	var cf CountsFile
	doc, err := strictdecode.Decoder{File: name, Kind: ErrCounts}.JSON(data, &cf)
	if err != nil {
		return CountsFile{}, err
	}
	if err := doc.Locate(cf.Validate()); err != nil {
		return CountsFile{}, err
	}
	return cf, nil
}

// invalid is a Validate error about the field at path (object keys as
// strings, array indexes as ints); its message names the field, and a
// decoder's Doc.Locate adds the file and line.
func invalid(path []any, format string, args ...any) error {
	return &strictdecode.Error{Path: path, Kind: ErrCounts, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks a counts file's values.
func (cf CountsFile) Validate() error {
	if len(cf.Categories) == 0 {
		return invalid([]any{"categories"}, "categories: none given")
	}
	seen := map[string]bool{}
	var sum int64
	for i, c := range cf.Categories {
		switch {
		case c.Name == "":
			return invalid([]any{"categories", i}, "categories[%d].name is empty", i)
		case seen[c.Name]:
			return invalid([]any{"categories", i}, "categories[%d].name %q appears twice", i, c.Name)
		case c.Weight < 0 || c.Weight > maxCategoryWeight:
			return invalid([]any{"categories", i}, "categories[%d] (%s).weight is %d, expected 0 to %d", i, c.Name, c.Weight, int64(maxCategoryWeight))
		}
		seen[c.Name] = true
		sum += c.Weight
	}
	if sum == 0 {
		return invalid([]any{"categories"}, "categories: every weight is 0, no split to verify")
	}
	if cf.Counts == nil {
		return invalid(nil, "counts: missing")
	}
	var total int64
	for _, name := range sortedNames(cf.Counts) {
		c := cf.Counts[name]
		switch {
		case c < 0:
			return invalid([]any{"counts", name}, "counts[%q] is negative (%d)", name, c)
		case c > MaxObservations:
			return invalid([]any{"counts", name}, "counts[%q] is %d, expected at most %d responses", name, c, int64(MaxObservations))
		}
		// Both terms are at most MaxObservations, so the sum cannot overflow
		// before it is compared.
		total += c
		if total > MaxObservations {
			return invalid([]any{"counts", name}, "counts add up to more than %d responses (at %q)", int64(MaxObservations), name)
		}
	}
	if cf.Alpha != 0 && !(cf.Alpha > 0 && cf.Alpha < 1) {
		return invalid([]any{"alpha"}, "alpha is %v, expected in (0,1)", cf.Alpha)
	}
	if cf.Delta != 0 && !(cf.Delta > 0 && cf.Delta <= 0.5) {
		return invalid([]any{"delta"}, "delta is %v, expected in (0,0.5]", cf.Delta)
	}
	return nil
}
