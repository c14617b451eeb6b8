package lb

import (
	"os"
	"testing"
)

func InspectFile(t *testing.T, path string) (Network, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ParseDockerNetwork(b)
}
