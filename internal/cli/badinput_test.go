package cli

import (
	"strings"
	"testing"
)

// TestBadFlagValues checks that values once accepted or silently defaulted
// are bad input (exit 2) with a message naming the flag and what
// it expects, and never a panic.
func TestBadFlagValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"sim negative n", []string{"sim", "--weights", "1,1", "--n", "-5"}, "--n -5: expected 1 to"},
		{"sim zero n", []string{"sim", "--weights", "1,1", "--n", "0"}, "--n 0: expected 1 to"},
		{"sim absurd n", []string{"sim", "--weights", "1,1", "--n", "9000000000000000000"}, "--n 9000000000000000000: expected 1 to 1000000000000"},
		{"sim zero runs", []string{"sim", "--weights", "1,1", "--runs", "0"}, "--runs 0: expected 1 to"},
		{"sim absurd runs", []string{"sim", "--weights", "1,1", "--runs", "2000000000"}, "--runs 2000000000: expected 1 to 10000000"},
		{"sim alpha 0", []string{"sim", "--weights", "1,1", "--alpha", "0"}, "--alpha 0: expected a test level strictly between 0 and 1"},
		{"sim alpha 1", []string{"sim", "--weights", "1,1", "--alpha", "1"}, "--alpha 1: expected"},
		{"sim negative workers", []string{"sim", "--weights", "1,1", "--workers", "-1"}, "--workers -1: expected"},
		{"verify alpha 0", []string{"verify", "--weights", "a=1", "--counts", "a=1", "--alpha", "0"}, "--alpha 0: expected a false-failure rate"},
		{"verify negative delta", []string{"verify", "--weights", "a=1", "--counts", "a=1", "--delta", "-0.1"}, "--delta -0.1: expected"},
		{"verify count past int64", []string{"verify", "--weights", "a=1,b=1", "--counts", "a=9223372036854775807,b=1"}, `counts["a"] is 9223372036854775807, expected at most 1000000000000`},
		{"replay negative requests", []string{"replay", "--requests", "-1", "example1-ab-testing"}, "--requests -1: expected 0 (the computed sample size) or a positive number"},
		{"replay absurd requests", []string{"replay", "--requests", "2000000000", "example1-ab-testing"}, "--requests 2000000000: expected at most"},
		{"replay alpha 0", []string{"replay", "--alpha", "0", "example1-ab-testing"}, "--alpha 0: expected a false-failure rate strictly between 0 and 1"},
		{"replay delta 0.9", []string{"replay", "--delta", "0.9", "example1-ab-testing"}, "--delta 0.9: expected"},
		{"replay power 1", []string{"replay", "--power", "1", "example1-ab-testing"}, "--power 1: expected"},
		{"replay timeout 0", []string{"replay", "--timeout", "0s", "example1-ab-testing"}, "--timeout 0s: expected a positive duration"},
		{"replay negative timeout", []string{"replay", "--timeout", "-1s", "example1-ab-testing"}, "--timeout -1s: expected a positive duration"},
		{"demo alpha 0", []string{"demo", "--alpha", "0"}, "--alpha 0: expected"},
		// List flags: the flag, the value and what an entry should be.
		{"sim weight not a number", []string{"sim", "--weights", "10,x,80"}, `invalid value "10,x,80" for flag -weights: entry 2 ("x") is not a weight: expected whole numbers separated by commas, such as 10,10,80`},
		{"sim weight out of range", []string{"sim", "--weights", "1,99999999999"}, `invalid value "1,99999999999" for flag -weights: entry 2 (99999999999) is out of range: expected 0 to`},
		{"sim weight past the picker's limit", []string{"sim", "--weights", "1,16000001"}, `invalid value "1,16000001" for flag -weights: weight out of range: backendRefs[1].weight is 16000001`},
		{"sim test-against not a number", []string{"sim", "--weights", "1,1", "--test-against", "1,"}, `invalid value "1," for flag -test-against: entry 2 ("") is not a weight`},
		{"sim without weights", []string{"sim", "--weights", ""}, "--weights is required, e.g. --weights 10,10,80"},
		{"verify weight without a name", []string{"verify", "--weights", "a=1,=2", "--counts", "a=1"}, `invalid value "a=1,=2" for flag -weights: entry 2 ("=2") is not NAME=NUMBER, such as v1=10`},
		{"verify count not a number", []string{"verify", "--weights", "a=1", "--counts", "a=many"}, `invalid value "a=many" for flag -counts: entry 1 (a): "many" is not a whole number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
				t.Fatalf("panic:\n%s", errOut)
			}
			if code != ExitBadInput || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, want %d; stderr does not contain %q:\n%s%s", code, ExitBadInput, tt.want, out, errOut)
			}
		})
	}
}
