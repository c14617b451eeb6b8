// Package loader owns reading Kubernetes manifests into an objects.Set: the
// one reader of YAML and JSON that file mode and the scenario replayer share.
//
// Decoding is strict in the way the API server is strict, using the same
// upstream decoders (sigs.k8s.io/yaml's YAML 1.1 reading, sigs.k8s.io/json
// for case-sensitive JSON with unknown-field detection) on the upstream Go
// types, and then the same validation: for the fields refproxy reads, the
// OpenAPI and CEL rules of the Gateway API v1.6.3 CRDs (weights from 0 to
// 1,000,000, at most 16 backendRefs, paths that start with "/", hostnames,
// names) and the API server's own checks of core objects (object names,
// ports, EndpointSlice addresses). What this package adds is position:
// every error names the file, the line of the offending field and of its
// document, the field path and what was expected there, so a weight of -1
// is found before a test run rather than by a route silently left out.
//
// Loading is linear in the size of the input: a file is cut into documents
// first, each document is parsed on its own (its line numbers moved to the
// file's), documents are decoded concurrently and merged in file order. A
// document's values come from its YAML node tree when YAML 1.1 reads it as
// YAML 1.2 does, which is the common case, else from a second, YAML 1.1,
// parse. It is bounded: a file over Loader.MaxFileBytes (64 MiB by default)
// is refused, and only regular files are read, since a FIFO named
// routes.yaml would block the read forever. It is cancellable: LoadContext
// and DecodeContext stop between two documents when their context ends.
//
// It knows nothing of routing: indexing and lookups belong to the translator.
package loader
