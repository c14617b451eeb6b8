// Package shell owns the replay of a documentation page's shell snippets: it
// parses a snippet as bash with mvdan.cc/sh, runs it with curl and jq
// implemented natively (packages scenarios/curl and scenarios/jq), records
// every HTTP exchange curl makes, cuts the snippet's output into the
// iterations of its `for VAR in {A..B}` loop, and classifies each iteration
// into a category (a backend version, a model name, an error status).
//
// It is the engine under the scenario layer: [Run] takes one snippet and
// [Options]; the caller decides the environment (INGRESS_GW_ADDRESS), the
// HTTP client (whose dialer picks the target), how many iterations the loop
// runs ([Options.Iterations] rewrites the loop's brace range so a verdict
// gets the sample size its statistics need) and what to do after each
// iteration ([Options.OnIteration], which may stop the replay early by
// cancelling the context).
//
// A snippet touches nothing outside the process unless asked: commands other
// than curl and jq are errors unless [Options.SystemTools] is set, file
// redirections other than /dev/null are refused, globbing is off, and curl
// reads and writes files only under [Options.Dir].
package shell
