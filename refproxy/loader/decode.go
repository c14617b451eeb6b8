package loader

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"

	yaml "go.yaml.in/yaml/v3"
)

// maxTypeErrors bounds the decode passes spent on one object: each pass
// finds one wrong-typed value (encoding/json stops at the first), so a
// document full of them cannot make loading slow.
const maxTypeErrors = 20

// chunk is the text of one document between "---" separators.
type chunk struct {
	line int // line number of data's first line
	data []byte
}

// splitDocuments cuts data at separator lines ("---", optionally followed by
// a comment), as kubectl does. Content after "---" on the separator line is
// rejected like kubectl does; badLines lists where.
func splitDocuments(data []byte) (chunks []chunk, badLines []int) {
	start, startLine, line := 0, 1, 1
	for pos := 0; pos < len(data); line++ {
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data)
		if end >= 0 {
			next = pos + end + 1
		}
		text := strings.TrimRight(string(data[pos:next]), "\r\n")
		if rest, ok := strings.CutPrefix(text, "---"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			if r := strings.TrimSpace(rest); r != "" && !strings.HasPrefix(r, "#") {
				badLines = append(badLines, line)
			}
			chunks = append(chunks, chunk{line: startLine, data: data[start:pos]})
			start, startLine = next, line+1
		}
		pos = next
	}
	chunks = append(chunks, chunk{line: startLine, data: data[start:]})
	return chunks, badLines
}

// doc is the position of the document being decoded.
type doc struct {
	file string
	line int
}

func (c *collector) decodeFile(name string, data []byte) {
	chunks, bad := splitDocuments(data)
	for _, l := range bad {
		c.errs = append(c.errs, &Error{File: name, Line: l, DocLine: l,
			Err: errors.New(`content after "---" on the same line is not supported: start the document on the next line`)})
	}
	for _, ch := range chunks {
		c.decodeChunk(name, ch)
	}
}

func (c *collector) decodeChunk(file string, ch chunk) {
	// Leading newlines make every line number the parsers report a line
	// number in the file, not in the chunk.
	padded := append(bytes.Repeat([]byte("\n"), ch.line-1), ch.data...)
	d := doc{file: file, line: ch.line}
	dec := yaml.NewDecoder(bytes.NewReader(padded))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if !errors.Is(err, io.EOF) { // io.EOF: empty or comments only
			// go.yaml.in/yaml/v3 reports some syntax errors one line
			// early; the YAML 1.1 parser that YAMLToJSON uses gives the
			// line where the broken construct starts, so prefer its word.
			if _, err2 := sigsyaml.YAMLToJSONStrict(padded); err2 != nil {
				err = err2
			}
			c.yamlError(d, err)
		}
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := d.line
		if err == nil && len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		c.errs = append(c.errs, &Error{File: file, Line: line, DocLine: d.line,
			Err: errors.New(`a second document without a "---" separator line before it`)})
		return
	}
	if len(n.Content) == 0 {
		return
	}
	root := n.Content[0]
	d.line = root.Line
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return
	}
	if root.Kind != yaml.MappingNode {
		c.errs = append(c.errs, &Error{File: file, Line: d.line, DocLine: d.line,
			Err: fmt.Errorf("a document must be an object with apiVersion and kind, not %s", describeNode(root))})
		return
	}
	js, err := sigsyaml.YAMLToJSONStrict(padded)
	if err != nil {
		c.yamlError(d, err)
		return
	}
	var tree map[string]any
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(js, &tree); err != nil {
		c.errs = append(c.errs, &Error{File: file, Line: d.line, DocLine: d.line, Err: fmt.Errorf("convert YAML to JSON: %w", err)})
		return
	}
	c.decodeTop(d, tree, root, nil, true)
}

var yamlLine = regexp.MustCompile(`line (\d+): `)

// yamlError reports a YAML syntax error at the line the parser names.
func (c *collector) yamlError(d doc, err error) {
	line, msg := d.line, err.Error()
	if m := yamlLine.FindStringSubmatchIndex(msg); m != nil {
		line, _ = strconv.Atoi(msg[m[2]:m[3]])
		msg = strings.TrimSpace(msg[m[1]:])
	}
	c.errs = append(c.errs, &Error{File: d.file, Line: line, DocLine: d.line, Err: fmt.Errorf("invalid YAML: %s", msg)})
}

// decodeTop reads one object (or, when allowList, a List of them): its
// apiVersion and kind first, then the typed object.
func (c *collector) decodeTop(d doc, tree map[string]any, node *yaml.Node, prefix path, allowList bool) {
	apiVersion, avOK := tree["apiVersion"].(string)
	kind, kindOK := tree["kind"].(string)
	meta, _ := tree["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	namespace, _ := meta["namespace"].(string)
	desc := describeObject(kind, namespace, name)
	for _, f := range []struct {
		key string
		ok  bool
	}{{"apiVersion", avOK}, {"kind", kindOK}} {
		if v, present := tree[f.key]; !present || v == "" {
			c.fieldErr(d, desc, node, prefix, path{f.key}, true,
				fmt.Errorf("is required: every object needs apiVersion and kind; supported: %s", supported()))
		} else if !f.ok {
			c.fieldErr(d, desc, node, prefix, path{f.key}, false,
				fmt.Errorf("expected a string, got %s", describeNode(valueNode(node, path{f.key}))))
		}
	}
	if !avOK || !kindOK || apiVersion == "" || kind == "" {
		return
	}
	if apiVersion == listAPIVersion && kind == listKind {
		if !allowList {
			c.fieldErr(d, desc, node, prefix, path{"kind"}, false, errors.New("a List inside a List is not supported"))
			return
		}
		c.decodeList(d, tree, node)
		return
	}
	ks, ok := lookupKind(apiVersion, kind)
	if !ok {
		if c.l.IgnoreUnknownKinds && !knownKind(kind) {
			c.log.Debug("skipping a kind splitproof does not read", "file", d.file, "line", node.Line,
				"apiVersion", apiVersion, "kind", kind, "namespace", namespace, "name", name)
			return
		}
		field := "kind"
		if knownKind(kind) {
			field = "apiVersion"
		}
		c.fieldErr(d, desc, node, prefix, path{field}, false,
			fmt.Errorf("unsupported apiVersion/kind %s %s; supported: %s", apiVersion, kind, supported()))
		return
	}
	c.decodeObject(d, ks, desc, tree, node, prefix)
}

func (c *collector) decodeList(d doc, tree map[string]any, node *yaml.Node) {
	desc := describeObject(listKind, "", "")
	if _, ok := c.strict(d, reflect.TypeFor[metav1.List](), func() any { return new(metav1.List) }, desc, tree, node, nil); !ok {
		return
	}
	items, _ := tree["items"].([]any)
	for i, item := range items {
		p := path{"items", i}
		switch item := item.(type) {
		case nil:
		case map[string]any:
			c.decodeTop(d, item, valueNode(node, p), p, false)
		default:
			c.fieldErr(d, desc, node, nil, p, false,
				fmt.Errorf("expected an object with apiVersion and kind, got %s", describeNode(valueNode(node, p))))
		}
	}
}

func (c *collector) decodeObject(d doc, ks kindSpec, desc string, tree map[string]any, node *yaml.Node, prefix path) {
	decoded, ok := c.strict(d, ks.goType, func() any { return ks.newObj() }, desc, tree, node, prefix)
	if !ok {
		return
	}
	obj := decoded.(metav1.Object)
	if obj.GetName() == "" {
		c.fieldErr(d, desc, node, prefix, path{"metadata", "name"}, false, errors.New("is required"))
		return
	}
	if ks.namespaced {
		switch ns := obj.GetNamespace(); {
		case ns == "" && c.l.Namespace != "":
			obj.SetNamespace(c.l.Namespace)
		case ns == "":
			obj.SetNamespace(DefaultNamespace)
		case c.l.Namespace != "" && ns != c.l.Namespace:
			c.fieldErr(d, desc, node, prefix, path{"metadata", "namespace"}, false,
				fmt.Errorf("%q does not match the namespace %q the manifest is applied in", ns, c.l.Namespace))
			return
		}
	} else if obj.GetNamespace() != "" {
		// The API server ignores a namespace on a cluster-scoped object.
		obj.SetNamespace("")
	}
	desc = describeObject(ks.kind, obj.GetNamespace(), obj.GetName())
	if ks.finish != nil {
		if errs := ks.finish(obj); len(errs) > 0 {
			for _, e := range errs {
				c.fieldErr(d, desc, node, prefix, parsePath(e.Field), false, errors.New(e.ErrorBody()))
			}
			return
		}
	}
	here := fmt.Sprintf("%s:%d", d.file, node.Line)
	key := describeObject(ks.kind, obj.GetNamespace(), obj.GetName())
	if first, dup := c.seenAt[key]; dup {
		c.fieldErr(d, desc, node, prefix, nil, false, fmt.Errorf("defined twice: first at %s", first))
		return
	}
	c.seenAt[key] = here
	ks.add(&c.set, obj)
}

// strict decodes tree into a new object of goType the way the API server
// does (case-sensitive field names, unknown fields rejected) and reports
// every problem with its position. It returns false if there was any.
func (c *collector) strict(d doc, goType reflect.Type, newObj func() any, desc string, tree map[string]any, node *yaml.Node, prefix path) (any, bool) {
	clean := true
	for range maxTypeErrors {
		js, err := json.Marshal(tree)
		if err != nil {
			c.fieldErr(d, desc, node, prefix, nil, false, fmt.Errorf("re-encode as JSON: %w", err))
			return nil, false
		}
		obj := newObj()
		strictErrs, err := sigsjson.UnmarshalStrict(js, obj)
		if err == nil {
			for _, se := range strictErrs {
				c.strictFieldError(d, goType, desc, node, prefix, se)
			}
			return obj, clean && len(strictErrs) == 0
		}
		clean = false
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			// A custom decoder (a quantity, a timestamp) failed; it says
			// what it expected but not where.
			c.fieldErr(d, desc, node, prefix, nil, false, err)
			return nil, false
		}
		p, exact := pathAtOffset(js, te.Offset)
		if !exact || !matchesField(p, te.Field) {
			// The offset belongs to a nested decoder's own input; fall
			// back to the field names, which lack list indices.
			p, exact = parsePath(te.Field), false
		}
		got := "JSON " + te.Value
		if n, found := nodeAt(node, p, false); exact && found {
			got = describeNode(n)
			if te.Value == "bool" && n.Tag == "!!str" {
				// kubectl's YAML 1.1 reads y, n, yes, no, on and off as
				// booleans, where YAML 1.2 (and the reader) sees strings.
				got += ", which YAML 1.1 reads as a boolean: quote it"
			}
		}
		c.fieldErr(d, desc, node, prefix, p, false, fmt.Errorf("expected %s, got %s", describeType(te.Type), got))
		if !exact || !setNull(tree, p) {
			return nil, false
		}
	}
	c.fieldErr(d, desc, node, prefix, nil, false, fmt.Errorf("more than %d wrong-typed fields; stopped looking", maxTypeErrors))
	return nil, false
}

// matchesField is a sanity check that p, found from the error's offset, is
// the field encoding/json named. Its dotted name has no indices, includes
// embedded struct names and stops at a map, so the check is only that its
// last name is one of p's keys; an offset from a nested decoder's own input
// lands near the top of the document and fails it.
func matchesField(p path, field string) bool {
	last := field[strings.LastIndexByte(field, '.')+1:]
	return last == "" && len(p) == 0 || slices.Contains(p, any(last))
}

func (c *collector) strictFieldError(d doc, goType reflect.Type, desc string, node *yaml.Node, prefix path, se error) {
	fp, ok := se.(interface{ FieldPath() string })
	if !ok {
		c.fieldErr(d, desc, node, prefix, nil, false, se)
		return
	}
	p := parsePath(fp.FieldPath())
	if !strings.HasPrefix(se.Error(), "unknown field") || len(p) == 0 {
		c.fieldErr(d, desc, node, prefix, p, true, errors.New(strings.TrimSuffix(se.Error(), " "+strconv.Quote(fp.FieldPath()))))
		return
	}
	msg := "unknown field"
	if known := knownFields(goType, p[:len(p)-1]); len(known) > 0 {
		msg += "; known fields here: " + strings.Join(known, ", ")
	}
	c.fieldErr(d, desc, node, prefix, p, true, errors.New(msg))
}

// fieldErr records err at field p of the object whose YAML node is node;
// prefix is the object's own path inside its document (items[2] in a List).
func (c *collector) fieldErr(d doc, desc string, node *yaml.Node, prefix, p path, wantKey bool, err error) {
	n, _ := nodeAt(node, p, wantKey)
	line := n.Line
	if line == 0 {
		line = d.line
	}
	c.errs = append(c.errs, &Error{File: d.file, Line: line, DocLine: d.line, Object: desc,
		Field: append(prefix.child(), p...).String(), Err: err})
}

func valueNode(n *yaml.Node, p path) *yaml.Node {
	v, _ := nodeAt(n, p, false)
	return v
}

// describeNode says what a YAML value is, quoting short scalars, for
// "got …" in messages.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		switch n.Tag {
		case "!!str":
			return "string " + strconv.Quote(v)
		case "!!int":
			return "integer " + v
		case "!!float":
			return "number " + v
		case "!!bool":
			return "boolean " + v
		case "!!null":
			return "null"
		default:
			return n.Tag + " " + strconv.Quote(v)
		}
	}
	return "nothing"
}
