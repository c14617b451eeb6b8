// Command summary prints the short form of Gateway API ConformanceReport
// files (ci/kind/e2e.sh runs it after the suite); it exits 1 when a
// profile's core tests did not all pass, 2 when a file cannot be read.
package main

import (
	"fmt"
	"os"

	"github.com/splitproof/splitproof/conformance/gatewayapi"
)

func main() {
	code := 0
	for _, name := range os.Args[1:] {
		b, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("%s:\n", name)
		if err := gatewayapi.Summarize(os.Stdout, b); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			code = 1
		}
	}
	os.Exit(code)
}
