// Package strictdecode owns how splitproof reads its own input files — the
// fake provider's model catalogue, scenario.yaml, counts files and sequence
// files — so that each of them refuses what it does not understand in the
// same words, and every problem reads FILE:LINE: FIELD: what was expected.
//
// YAML and JSON documents decode into a Go struct through one set of rules:
// one document per file; a top level that is not a mapping is an error
// listing the fields expected; a field the struct does not have (in JSON
// also one spelled in another case, which encoding/json would match) is an
// error naming its parent path and the fields known there; a key given
// twice is an error (encoding/json would silently keep the last one); a
// string field wants a string, not a number or a boolean that YAML would
// otherwise turn into text. YAML goes through go.yaml.in/yaml/v3 with
// KnownFields, and JSON through encoding/json, because a sequence file
// holds five values per request of a replay, which a YAML node tree would
// hold in memory many times over.
//
// Problems found after decoding (a value out of range, a missing field) are
// located through the Doc the decoder returns: Doc.Line finds a field path
// in the document, and Doc.Locate gives every *Error of a validation result
// its file and line. List collects several problems into one error.
//
// The package depends on yaml.v3 and the standard library only, and knows
// nothing of the files it reads.
package strictdecode
