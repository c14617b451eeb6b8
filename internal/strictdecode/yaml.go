package strictdecode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Decoder decodes one input file.
type Decoder struct {
	// File names the file in every error.
	File string
	// Kind, when set, is wrapped by every error (see Error.Kind).
	Kind error
}

// YAML decodes data, one YAML document, into the struct v points to. The
// error, when there is one, joins one *Error per problem, in line order.
func (d Decoder) YAML(data []byte, v any) (*Doc, error) {
	t := elem(reflect.TypeOf(v))
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, d.yamlSyntax(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, d.yamlSyntax(err)
		}
		return nil, d.err(&Error{Line: extra.Line, Column: extra.Column, Msg: "expected one YAML document, found another"})
	}
	var root *yaml.Node
	if len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	out := &Doc{d: d, yaml: root}
	if t.Kind() == reflect.Struct && (root == nil || root.Kind != yaml.MappingNode) {
		line, col := 1, 1
		if root != nil {
			line, col = root.Line, root.Column
		}
		return nil, d.err(&Error{Line: line, Column: col, Msg: yamlFormat.expectMapping(t)})
	}
	w := yamlWalker{format: &yamlFormat}
	w.walk(root, t, nil)
	if len(w.errs) == 0 {
		strict := yaml.NewDecoder(bytes.NewReader(data))
		strict.KnownFields(true)
		if err := strict.Decode(v); err != nil {
			w.errs = append(w.errs, d.yamlDecodeErrors(root, err)...)
		}
	}
	if len(w.errs) > 0 {
		return nil, d.join(w.errs)
	}
	return out, nil
}

var (
	yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	notFound = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// yamlSyntax turns "yaml: line 3: mapping values are not allowed" into an
// Error at line 3. yaml.v3 words its syntax errors as strings only.
func (d Decoder) yamlSyntax(err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return d.err(&Error{Line: line, Msg: m[2]})
	}
	return d.err(&Error{Msg: strings.TrimPrefix(err.Error(), "yaml: ")})
}

// yamlDecodeErrors words the type errors left once the walk found nothing:
// "line 7: cannot unmarshal !!str `first` into int" names the field whose
// value sits on line 7.
func (d Decoder) yamlDecodeErrors(root *yaml.Node, err error) []*Error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []*Error{d.yamlSyntax(err).(*Error)}
	}
	out := make([]*Error, 0, len(te.Errors))
	for _, msg := range te.Errors {
		e := &Error{Msg: msg}
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
			// The walk skips aliases, so an unknown field can still reach
			// here through one; word it as the walk would, without Go types.
			// Its line is the anchor's, where the key's parent may be of
			// another type, so no path is named.
			if f := notFound.FindStringSubmatch(e.Msg); f != nil {
				e.Msg = "unknown field " + strconv.Quote(f[1])
			} else if n, path := scalarAt(root, e.Line, nil); n != nil {
				e.Path, e.Field, e.Column = path, FieldPath(path), n.Column
			}
		}
		out = append(out, d.fill(e))
	}
	return out
}

// scalarAt finds the first scalar value on line, depth first, and its path.
func scalarAt(n *yaml.Node, line int, path []any) (*yaml.Node, []any) {
	if n == nil {
		return nil, nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := child(path, n.Content[i].Value)
			if v := n.Content[i+1]; v.Kind == yaml.ScalarNode && v.Line == line {
				return v, p
			}
			if v, p := scalarAt(n.Content[i+1], line, p); v != nil {
				return v, p
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := child(path, i)
			if c.Kind == yaml.ScalarNode && c.Line == line {
				return c, p
			}
			if v, p := scalarAt(c, line, p); v != nil {
				return v, p
			}
		}
	}
	return nil, nil
}

// yamlWalker checks a node tree against the Go type it decodes into, for
// what yaml.v3 accepts or words poorly: unknown and repeated keys, and text
// where a string is wanted that YAML reads as a number, boolean or null.
type yamlWalker struct {
	*format
	errs []*Error
}

func (w *yamlWalker) add(n *yaml.Node, path []any, msg string) {
	w.errs = append(w.errs, &Error{Line: n.Line, Column: n.Column, Path: path, Field: FieldPath(path), Msg: msg})
}

func (w *yamlWalker) walk(n *yaml.Node, t reflect.Type, path []any) {
	t = elem(t)
	// Aliases are checked where their anchor is; following them here could
	// expand a small document exponentially.
	if n == nil || n.Kind == yaml.AliasNode || w.decodesItself(t) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // yaml.v3 reports the type mismatch
		}
		fs := w.fields(t)
		w.mapping(n, path, func(k, v *yaml.Node, p []any) {
			ft, ok := fs.types[k.Value]
			if !ok {
				w.add(k, path, unknownField(k.Value, fs))
				return
			}
			w.walk(v, ft, p)
		})
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		w.mapping(n, path, func(_, v *yaml.Node, p []any) { w.walk(v, t.Elem(), p) })
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			w.walk(c, t.Elem(), child(path, i))
		}
	case reflect.String:
		if n.Kind == yaml.ScalarNode && n.Tag != "!!str" && n.Tag != "!!null" {
			w.add(n, path, fmt.Sprintf("expected a string, got %s %s (quote it to mean the text)", strings.TrimPrefix(n.Tag, "!!"), n.Value))
		}
	}
}

// mapping visits each key of n once, reporting a repeated key.
func (w *yamlWalker) mapping(n *yaml.Node, path []any, visit func(k, v *yaml.Node, p []any)) {
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			w.add(k, path, "expected a field name, got a "+kindWord(k))
			continue
		}
		if k.Value == "<<" && k.Tag == "!!merge" {
			continue // a merge key: its fields are checked where they are defined
		}
		p := child(path, k.Value)
		if first, ok := seen[k.Value]; ok {
			w.add(k, p, fmt.Sprintf("field given twice (first at line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		visit(k, v, p)
	}
}

func kindWord(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "alias"
}
