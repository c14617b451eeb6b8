// Package loader owns reading Kubernetes manifests into an objects.Set: the
// one reader of YAML and JSON that file mode and the scenario replayer share.
//
// Decoding is strict in the way the API server is strict, using the same
// upstream decoders (sigs.k8s.io/yaml to turn YAML into JSON,
// sigs.k8s.io/json for case-sensitive JSON with unknown-field detection) on
// the upstream Go types. What this package adds is position: every error
// names the file, the line of the offending field and of its document, the
// field path and what was expected there, so a typo in a weight is found
// before a test run rather than by a split that silently ignored it.
//
// It knows nothing of routing: indexing and lookups belong to the translator.
package loader
