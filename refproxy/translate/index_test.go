package translate

import (
	"strings"
	"testing"

	"github.com/splitproof/splitproof/refproxy/loader"
)

// TestDuplicateObjects: the same object twice (two files defining one
// route, say) is an error naming it, not a silent last-one-wins.
func TestDuplicateObjects(t *testing.T) {
	doc := "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\nspec: {ports: [{port: 80}]}\n"
	first, err := loader.Decode("one.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	second, err := loader.Decode("two.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	first.Merge(second)
	_, err = Translate(first, Options{})
	if err == nil || !strings.Contains(err.Error(), "duplicate Service a/s") {
		t.Fatalf("error %v, want duplicate Service a/s", err)
	}
}

func TestProviderKey(t *testing.T) {
	for in, want := range map[string]string{
		"Bearer sk-1":     "sk-1",
		"  Bearer sk-2\n": "sk-2",
		"sk-3":            "sk-3",
		"bearer sk-4":     "bearer sk-4", // agentgateway strips the exact prefix only
		"Bearer Bearer x": "Bearer x",
		"":                "",
	} {
		if got := ProviderKey([]byte(in)); got != want {
			t.Errorf("ProviderKey(%q) = %q, want %q", in, got, want)
		}
	}
}
