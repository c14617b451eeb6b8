package loader

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode checks that no input makes the decoder panic, that it returns
// either objects or errors, and that every error it returns carries a
// position inside the input.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, l := range []Loader{{}, {Namespace: "ns", IgnoreUnknownKinds: true}} {
			set, err := l.Decode("fuzz.yaml", data)
			if (set == nil) == (err == nil) {
				t.Fatalf("Decode returned set %v and error %v: want exactly one", set, err)
			}
			if err == nil {
				continue
			}
			joined, ok := err.(interface{ Unwrap() []error })
			if !ok {
				t.Fatalf("error %v is not a joined list", err)
			}
			for _, e := range joined.Unwrap() {
				var le *Error
				if !errors.As(e, &le) {
					t.Fatalf("error %v is not a *loader.Error", e)
				}
				if le.Line < 1 || le.DocLine < 1 {
					t.Fatalf("error without a position: %v", le)
				}
			}
		}
	})
}
