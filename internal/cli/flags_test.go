package cli

import (
	"flag"
	"io"
	"strings"
	"testing"
)

// parseOne parses args into v registered as -f on a quiet flag set.
func parseOne(v flag.Value, args ...string) error {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(v, "f", "")
	return fs.Parse(args)
}

// parsed is v's String() after parsing args, or the parse error.
func parsed(v flag.Value, args []string) string {
	if err := parseOne(v, args...); err != nil {
		return err.Error()
	}
	return v.String()
}

// matches compares a parsed value exactly, and an error by its start (the
// end of some is the picker's or the counts file's wording).
func matches(got, want string) bool {
	if strings.HasPrefix(want, "invalid value") {
		return strings.HasPrefix(got, want)
	}
	return got == want
}

func TestWeightList(t *testing.T) {
	tests := []struct {
		args []string
		want string // String() after parsing, or the error
	}{
		{[]string{"-f", "10,10,80"}, "10,10,80"},
		{[]string{"-f", " 80 , 20 "}, "80,20"},
		{[]string{"-f", "0,1"}, "0,1"},
		{[]string{"-f", ""}, ""},
		{[]string{"-f", "1,2", "-f", "3"}, "3"}, // the last one counts, as with other flags
		{[]string{"-f", "1,x"}, `invalid value "1,x" for flag -f: entry 2 ("x") is not a weight: expected whole numbers separated by commas, such as 10,10,80`},
		{[]string{"-f", "1,,2"}, `invalid value "1,,2" for flag -f: entry 2 ("") is not a weight`},
		{[]string{"-f", "1,99999999999"}, `invalid value "1,99999999999" for flag -f: entry 2 (99999999999) is out of range: expected 0 to `},
		{[]string{"-f", "1,-1"}, `invalid value "1,-1" for flag -f: `},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var w weightList
			if got := parsed(&w, tt.args); !matches(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPairList(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-f", "v1=10,v2=90"}, "v1=10,v2=90"},
		{[]string{"-f", "b=2, a=1"}, "b=2,a=1"}, // the order is kept
		{[]string{"-f", "a=-1"}, "a=-1"},        // ranges are the counts file's to check
		{[]string{"-f", ""}, ""},
		{[]string{"-f", "a10"}, `invalid value "a10" for flag -f: entry 1 ("a10") is not NAME=NUMBER, such as v1=10`},
		{[]string{"-f", "a=1,=2"}, `invalid value "a=1,=2" for flag -f: entry 2 ("=2") is not NAME=NUMBER`},
		{[]string{"-f", "a=1,b=x"}, `invalid value "a=1,b=x" for flag -f: entry 2 (b): "x" is not a whole number`},
		{[]string{"-f", "a=9223372036854775808"}, `invalid value "a=9223372036854775808" for flag -f: entry 1 (a): 9223372036854775808 is out of range`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var l pairList
			if got := parsed(&l, tt.args); !matches(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNamespacedNames(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-f", "agentgateway-system/http"}, "agentgateway-system/http"},
		{[]string{"-f", "a/b", "-f", "c/d,e/f"}, "a/b,c/d,e/f"}, // repeated and comma-separated
		{[]string{"-f", "http"}, `invalid value "http" for flag -f: "http": expected NAMESPACE/NAME, such as agentgateway-system/http`},
		{[]string{"-f", "a/b/c"}, `invalid value "a/b/c" for flag -f: "a/b/c": expected NAMESPACE/NAME`},
		{[]string{"-f", "/b"}, `invalid value "/b" for flag -f: "/b": expected NAMESPACE/NAME`},
		{[]string{"-f", "a/b,"}, `invalid value "a/b," for flag -f: "": expected NAMESPACE/NAME`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var n namespacedNames
			if got := parsed(&n, tt.args); !matches(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
