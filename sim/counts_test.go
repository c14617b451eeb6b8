package sim

import (
	"errors"
	"strings"
	"testing"
)

// TestDecodeCountsPositions: every problem names the file, the line of its
// field and wraps ErrCounts.
func TestDecodeCountsPositions(t *testing.T) {
	const cats = "{\"categories\": [{\"name\": \"a\", \"weight\": 1},\n  {\"name\": \"b\", \"weight\": 1}],\n"
	tests := []struct{ name, doc, want string }{
		{"repeated count", cats + " \"counts\": {\"a\": 1,\n  \"a\": 2}}", `c.json:4: invalid counts: counts.a: field given twice (first at line 3)`},
		{"repeated field", cats + " \"counts\": {},\n \"alpha\": 0.1, \"alpha\": 0.2}", `c.json:4: invalid counts: alpha: field given twice (first at line 4)`},
		{"field in another case", cats + " \"Counts\": {}}", `c.json:3: invalid counts: unknown field "Counts" (known fields: scenario, categories, counts, alpha, delta)`},
		{"unknown field in a category", "{\"categories\": [\n {\"name\": \"a\", \"wieght\": 1}]}", `c.json:2: invalid counts: categories[0]: unknown field "wieght" (known fields: name, weight)`},
		{"not an object", "\n[]", `c.json:2: invalid counts: expected an object with the fields scenario, categories, counts, alpha, delta`},
		{"empty", "", `c.json:1: invalid counts: expected an object with the fields scenario, categories, counts, alpha, delta`},
		{"valid", cats + " \"counts\": {}}", ""},
		{"second category", strings.Replace(cats, `"b", "weight": 1`, `"b", "weight": -1`, 1) + " \"counts\": {}}", `c.json:2: invalid counts: categories[1] (b).weight is -1, expected 0 to 16000000`},
		{"missing counts", cats + " \"alpha\": 0.1}", `c.json:1: invalid counts: counts: missing`},
		{"trailing brace", cats + " \"counts\": {}}\n}", `c.json:4: invalid counts: trailing data after the JSON object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeCounts(strings.NewReader(tt.doc), "c.json")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || err.Error() != tt.want || !errors.Is(err, ErrCounts) {
				t.Fatalf("error %v, want %q wrapping ErrCounts", err, tt.want)
			}
		})
	}
}

// TestValidateWithoutFile: Validate's errors, with no file to locate them
// in, read as before: the kind and the message.
func TestValidateWithoutFile(t *testing.T) {
	err := CountsFile{}.Validate()
	if err == nil || err.Error() != "invalid counts: categories: none given" || !errors.Is(err, ErrCounts) {
		t.Fatalf("Validate() = %v", err)
	}
}
