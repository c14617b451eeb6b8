package sim

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// FuzzDecodeCounts feeds arbitrary bytes to the counts-file decoder that
// verify and replay share: it must never panic, every error must name the
// file, and a file it accepts must be valid and, when small, verifiable.
func FuzzDecodeCounts(f *testing.F) {
	for _, name := range []string{"testdata/valid-helloworld.json", "testdata/invalid-unknown-field.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"categories":[{"name":"a","weight":1},{"name":"b","weight":0}],"counts":{"a":3,"b":0}}`))
	f.Add([]byte(`{"categories":[{"name":"a","weight":9223372036854775807}],"counts":{"a":9223372036854775807}}`))
	f.Add([]byte(`{"categories":[],"counts":{}} trailing`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cf, err := DecodeCounts(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json:") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := cf.Validate(); err != nil {
			t.Fatalf("decoded a file that does not validate: %v", err)
		}
		var n int64
		for _, c := range cf.Counts {
			n += c
		}
		if n > 500 || len(cf.Categories) > 4 {
			return // large files are the exact and Monte Carlo paths' business, not a fuzzer's
		}
		// Verify may refuse a file (say, all weights zero) but never panics.
		_, _ = Verify(cf, Options{})
	})
}
