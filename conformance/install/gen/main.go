// Command gen copies the CustomResourceDefinitions that conformance/install
// embeds into conformance/install/crds: the Gateway API standard channel of
// the sigs.k8s.io/gateway-api version in go.mod (from the module cache: an
// embed pattern cannot reach another module) and the AgentgatewayBackend CRD
// generated under conformance/manifests/crds. Run it from the repository root
// after changing either:
//
//	go run ./conformance/install/gen
//
// install's TestCRDsMatchSources fails while the copies are stale.
package main

import (
	"fmt"
	"os"

	"github.com/splitproof/splitproof/conformance/install/internal/crdsync"
)

func main() {
	if err := crdsync.Sync(".", "conformance/install/crds"); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
