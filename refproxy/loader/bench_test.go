package loader

import (
	"os"
	"testing"
)

// BenchmarkDecode measures decoding the documented manifests: the two
// examples and the sample app (Deployments skipped).
func BenchmarkDecode(b *testing.B) {
	for _, tc := range []struct {
		file   string
		loader Loader
	}{
		{"testdata/valid-example1-httproute.yaml", Loader{}},
		{"testdata/valid-example2-backends.yaml", Loader{}},
		{"testdata/valid-helloworld.yaml", Loader{Namespace: "helloworld", IgnoreUnknownKinds: true}},
		{"testdata/invalid-many-errors.yaml", Loader{}},
	} {
		data, err := os.ReadFile(tc.file)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.file[len("testdata/"):], func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				tc.loader.Decode(tc.file, data)
			}
		})
	}
}
