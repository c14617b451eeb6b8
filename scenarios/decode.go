package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// knownFields lists scenario.yaml's top-level fields for error messages.
const knownFields = "name, title, manifests, local, route, rule, classify, categories, embedded, snippets, steps"

// decodeScenario decodes data strictly into s: unknown fields and wrong
// types are errors with their line. It returns the document's node tree, from
// which validation errors take their lines too.
func decodeScenario(data []byte, s *Scenario) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("1: expected a mapping with the fields %s", knownFields)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, syntaxError(err)
		}
		errs := make([]error, 0, len(te.Errors))
		for _, e := range te.Errors {
			errs = append(errs, typeError(doc.Content[0], e))
		}
		return nil, errors.Join(errs...)
	}
	return doc.Content[0], nil
}

var (
	yamlLine     = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// syntaxError turns "yaml: line 3: mapping values are not allowed" into
// "3: mapping values are not allowed", the caller prefixing the file.
func syntaxError(err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s: %s", m[1], m[2])
	}
	return fmt.Errorf("0: %s", strings.TrimPrefix(err.Error(), "yaml: "))
}

// typeError rewrites one of yaml.v3's "line 4: field wieght not found in
// type scenarios.Scenario" as "4: unknown field \"wieght\" (known fields: …)",
// and names the field of a wrong-typed value ("7: rule: cannot unmarshal…").
func typeError(doc *yaml.Node, e string) error {
	m := yamlLine.FindStringSubmatch(e)
	if m == nil {
		return errors.New("0: " + e)
	}
	if f := unknownField.FindStringSubmatch(m[2]); f != nil {
		return fmt.Errorf("%s: unknown field %q (known fields of scenario.yaml: %s)", m[1], f[1], knownFields)
	}
	line, _ := strconv.Atoi(m[1])
	if field := fieldAt(doc, line, ""); field != "" {
		return fmt.Errorf("%s: %s: %s", m[1], field, m[2])
	}
	return fmt.Errorf("%s: %s", m[1], m[2])
}

// fieldAt is the path ("steps[0].name") of the scalar value on line in n,
// or "" when there is none.
func fieldAt(n *yaml.Node, line int, prefix string) string {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			if v.Kind == yaml.ScalarNode && v.Line == line {
				return p
			}
			if f := fieldAt(v, line, p); f != "" {
				return f
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			if c.Kind == yaml.ScalarNode && c.Line == line {
				return p
			}
			if f := fieldAt(c, line, p); f != "" {
				return f
			}
		}
	}
	return ""
}

// at finds the line of a field in the document: path elements are mapping
// keys (string) or sequence indexes (int). It returns the line of the
// deepest element found, so a missing field points at its parent, and 1 for
// the document itself.
func at(doc *yaml.Node, path ...any) int {
	line, n := 1, doc
	for _, p := range path {
		if n == nil {
			break
		}
		switch k := p.(type) {
		case string:
			var next *yaml.Node
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						line, next = n.Content[i].Line, n.Content[i+1]
						break
					}
				}
			}
			n = next
		case int:
			if n.Kind != yaml.SequenceNode || k < 0 || k >= len(n.Content) {
				return line
			}
			n = n.Content[k]
			line = n.Line
		}
	}
	return line
}

// lineErr is an error at one line of scenario.yaml.
func lineErr(line int, format string, args ...any) error {
	return fmt.Errorf("%s: %s", strconv.Itoa(line), fmt.Sprintf(format, args...))
}
