// Command splitproof is the single binary of the project: one subcommand per
// component (proxy, fakeopenai, helloworld, sim, verify, replay, …). All work
// lives in the component packages; see internal/cli for the subcommands.
package main

import "github.com/splitproof/splitproof/internal/cli"

func main() { cli.Main() }
