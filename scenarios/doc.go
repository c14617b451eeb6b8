// Package scenarios owns the documented examples as data and the layer that
// replays them. A scenario is a folder holding:
//
//   - scenario.yaml: its name, the manifests in the order the doc applies
//     them, the route whose weights define the expected split, how to classify
//     a response into a category, which category each backendRef produces, the
//     doc's shell snippets verbatim, and what the embedded target must start;
//   - manifests/: the YAML exactly as the doc gives it (the sample app is the
//     upstream file, byte for byte);
//   - local/: what a cluster would already have and the embedded target must
//     add (the Gateway, the provider Secret).
//
// The expected split is never typed in: it is read from the route's
// backendRef weights in the manifests (unset weight = 1, as the spec says).
// The folders are compiled into the binary (Builtin) and can also be read from
// disk (LoadDir), so users can write their own.
package scenarios
