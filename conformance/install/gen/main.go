// Command gen copies the Gateway API CustomResourceDefinitions that
// conformance/install embeds into conformance/install/crds: the standard
// channel of the sigs.k8s.io/gateway-api version in go.mod, from the module
// cache (an embed pattern cannot reach another module). The
// AgentgatewayBackend CRD beside them is generated there by `make generate`
// and left alone. Run it from the repository root after changing the
// Gateway API version:
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
