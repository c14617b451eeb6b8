// Package jq owns the replayer's native jq: the command line of jq (the
// options documentation snippets use: -r, -c, -e, -j, -n, -s, -R, --arg,
// --argjson, --tab, --indent) on top of github.com/itchyny/gojq, with jq's
// output format, messages and exit codes.
//
// Running jq natively keeps a replayed snippet independent of the binaries
// installed on the machine. Compiled filters are cached per [Runner], since a
// replayed loop runs the same filter thousands of times.
//
// Known differences from jq, inherited from gojq: object keys are printed
// sorted rather than in input order, and error message wording differs.
package jq
