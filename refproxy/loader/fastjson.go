package loader

import (
	"bytes"
	"encoding/json"
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

// The values of a document are what kubectl's YAML 1.1 reading makes of it
// (sigs.k8s.io/yaml), while positions come from the YAML 1.2 node tree. For
// the documents people write — plain keys, strings, small integers, true and
// false — the two readings agree, and the node tree can be turned into JSON
// directly, sparing a second parse of every document. nodeJSON does that,
// and declines (returns false) at the first construct where the readings may
// differ or that it does not handle exactly: anchors and aliases, merge
// keys, explicit tags, duplicate keys, non-string keys, and plain scalars
// such as yes, on, 0777, 1_000, 1:20, .5 or 2001-12-14 that YAML 1.1 reads
// otherwise. The caller then asks sigs.k8s.io/yaml, as before.

// nodeJSON appends n as JSON to b and reports whether it could.
func nodeJSON(b *bytes.Buffer, n *yaml.Node) bool {
	if n.Anchor != "" {
		return false
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return false
		}
		return nodeJSON(b, n.Content[0])
	case yaml.MappingNode:
		return mappingJSON(b, n)
	case yaml.SequenceNode:
		if n.Tag != "!!seq" {
			return false
		}
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if !nodeJSON(b, c) {
				return false
			}
		}
		b.WriteByte(']')
		return true
	case yaml.ScalarNode:
		return scalarJSON(b, n)
	}
	return false // aliases
}

func mappingJSON(b *bytes.Buffer, n *yaml.Node) bool {
	if n.Tag != "!!map" {
		return false
	}
	seen := make(map[string]struct{}, len(n.Content)/2)
	b.WriteByte('{')
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		key, ok := stringScalar(k)
		if !ok || key == "<<" {
			return false
		}
		if _, dup := seen[key]; dup {
			return false // the YAML 1.1 reader names the duplicate
		}
		seen[key] = struct{}{}
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, key)
		b.WriteByte(':')
		if !nodeJSON(b, n.Content[i+1]) {
			return false
		}
	}
	b.WriteByte('}')
	return true
}

// stringScalar returns the value of a scalar that both readings take as the
// same string.
func stringScalar(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Anchor != "" || n.Tag != "!!str" {
		return "", false
	}
	if n.Style&(yaml.TaggedStyle) != 0 {
		return "", false
	}
	if n.Style == 0 && !plainStringAgrees(n.Value) {
		return "", false
	}
	return n.Value, true
}

func scalarJSON(b *bytes.Buffer, n *yaml.Node) bool {
	if n.Style&yaml.TaggedStyle != 0 {
		return false
	}
	switch n.Tag {
	case "!!str":
		s, ok := stringScalar(n)
		if ok {
			writeJSONString(b, s)
		}
		return ok
	case "!!null":
		if n.Value != "" && n.Value != "~" && n.Value != "null" {
			return false
		}
		b.WriteString("null")
		return true
	case "!!bool":
		if n.Value != "true" && n.Value != "false" {
			return false
		}
		b.WriteString(n.Value)
		return true
	case "!!int":
		if !plainDecimal(n.Value) {
			return false
		}
		b.WriteString(n.Value)
		return true
	}
	return false // floats and everything else
}

// plainDecimal reports whether s is an integer both readings agree on: an
// optional minus and decimal digits without a leading zero, within int64.
func plainDecimal(s string) bool {
	digits := s
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if digits == "" || (digits[0] == '0' && len(digits) > 1) {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// plainStringAgrees reports whether YAML 1.1 reads the plain scalar s as the
// string s too. It is deliberately narrow: anything starting with a digit,
// a sign, a dot or a tilde, and the YAML 1.1 booleans and nulls, are left to
// the YAML 1.1 reader.
func plainStringAgrees(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '+', '-', '.', '~', '<', '=':
		return false
	}
	if s[0] >= '0' && s[0] <= '9' {
		return false
	}
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"true", "True", "TRUE", "false", "False", "FALSE",
		"on", "On", "ON", "off", "Off", "OFF",
		"null", "Null", "NULL":
		return false
	}
	return true
}

func writeJSONString(b *bytes.Buffer, s string) {
	// encoding/json escapes the way sigs.k8s.io/yaml's output does (it
	// marshals with encoding/json too).
	out, _ := json.Marshal(s)
	b.Write(out)
}
