package loader

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
)

// manyDocuments renders n small Service documents (about 110 bytes each,
// so 445,000 of them make a 50 MB file).
func manyDocuments(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Service\nmetadata: {name: s%d, namespace: default}\nspec:\n  ports: [{port: 80}]\n", i)
	}
	return b.Bytes()
}

// BenchmarkDecodeManyDocuments measures one file of many small documents:
// the cost per document must not grow with the document's position in the
// file. 445,000 documents is a 50 MB file; it is skipped under
// -short.
func BenchmarkDecodeManyDocuments(b *testing.B) {
	for _, n := range []int{1_000, 16_000, 445_000} {
		b.Run("docs="+strconv.Itoa(n), func(b *testing.B) {
			if n > 100_000 && testing.Short() {
				b.Skip("the 50 MB file is skipped under -short")
			}
			data := manyDocuments(n)
			l := Loader{MaxFileBytes: -1}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				set, err := l.Decode("many.yaml", data)
				if err != nil {
					b.Fatal(err)
				}
				if len(set.Services) != n {
					b.Fatalf("decoded %d Services, want %d", len(set.Services), n)
				}
			}
		})
	}
}
