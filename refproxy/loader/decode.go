package loader

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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

// decodeWindow is how many documents are decoded concurrently before their
// results are merged: enough to keep every core busy, few enough that the
// parse trees held at once stay small.
const decodeWindow = 512

// decodeFile decodes every document of one file. Documents are independent
// until their objects meet in the Set, so they are decoded concurrently,
// each into its own collector, and merged in file order. It stops early,
// leaving the rest undecoded, when the collector's context ends.
func (c *collector) decodeFile(name string, data []byte) {
	chunks, bad := splitDocuments(data)
	for _, l := range bad {
		c.errs = append(c.errs, &Error{File: name, Line: l, DocLine: l,
			Err: errors.New(`content after "---" on the same line is not supported: start the document on the next line`)})
	}
	workers := runtime.GOMAXPROCS(0)
	parts := make([]*collector, min(decodeWindow, len(chunks)))
	for start := 0; start < len(chunks); start += len(parts) {
		window := chunks[start:min(start+len(parts), len(chunks))]
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(workers, len(window)) {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < len(window) && !c.cancelled(); i = int(next.Add(1) - 1) {
					part := c.child()
					part.decodeChunk(name, window[i])
					parts[i] = part
				}
			})
		}
		wg.Wait()
		if c.cancelled() {
			return
		}
		for _, part := range parts[:len(window)] {
			c.merge(part)
		}
		clear(parts)
	}
}

// decodeChunk parses one document on its own and moves every line number
// the parsers report by the document's offset in the file. Parsing the
// document alone (rather than the file up to it) is what keeps loading
// linear in the size of the file.
func (c *collector) decodeChunk(file string, ch chunk) {
	offset := ch.line - 1
	d := doc{file: file, line: ch.line}
	dec := yaml.NewDecoder(bytes.NewReader(ch.data))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if !errors.Is(err, io.EOF) { // io.EOF: empty or comments only
			// go.yaml.in/yaml/v3 reports some syntax errors one line
			// early; the YAML 1.1 parser that YAMLToJSON uses gives the
			// line where the broken construct starts, so prefer its word.
			if _, err2 := sigsyaml.YAMLToJSONStrict(ch.data); err2 != nil {
				err = err2
			}
			c.yamlError(d, offset, err)
		}
		return
	}
	shiftLines(&n, offset)
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := d.line
		if err == nil && len(extra.Content) > 0 {
			line = extra.Content[0].Line + offset
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
	js, err := documentJSON(root, ch.data)
	if err != nil {
		c.yamlError(d, offset, err)
		return
	}
	var tree map[string]any
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(js, &tree); err != nil {
		c.errs = append(c.errs, &Error{File: file, Line: d.line, DocLine: d.line, Err: fmt.Errorf("convert YAML to JSON: %w", err)})
		return
	}
	c.decodeTop(d, tree, js, root, nil, true)
}

// documentJSON returns a document's values as JSON: taken from its node
// tree when YAML 1.1 (which kubectl and the API server's decoders speak)
// reads it as YAML 1.2 does, else from a YAML 1.1 parse of data, so that
// "on" and "yes" mean what they mean to kubectl.
func documentJSON(root *yaml.Node, data []byte) ([]byte, error) {
	// A tag ("!", "!!str") leaves no trace in the node tree when it is the
	// non-specific "!", and the two readings disagree about "!" alone: any
	// "!" in the document sends it to the YAML 1.1 reader.
	if bytes.IndexByte(data, '!') < 0 {
		var b bytes.Buffer
		b.Grow(len(data))
		if nodeJSON(&b, root) {
			return b.Bytes(), nil
		}
	}
	return sigsyaml.YAMLToJSONStrict(data)
}

// shiftLines adds offset to the line of n and of every node under it. An
// alias points at a node that is also somewhere in the tree, so aliases are
// not followed: each node is moved exactly once.
func shiftLines(n *yaml.Node, offset int) {
	if offset == 0 {
		return
	}
	stack := []*yaml.Node{n}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		cur.Line += offset
		stack = append(stack, cur.Content...)
	}
}

var yamlLine = regexp.MustCompile(`\bline (\d+)`)

// yamlError reports a YAML syntax error at the line the parser names. The
// parser saw the document alone, so every line number in its message is
// moved by offset to be a line of the file.
func (c *collector) yamlError(d doc, offset int, err error) {
	line, msg := d.line, err.Error()
	msg = yamlLine.ReplaceAllStringFunc(msg, func(m string) string {
		n, convErr := strconv.Atoi(strings.TrimPrefix(m, "line "))
		if convErr != nil {
			return m
		}
		return "line " + strconv.Itoa(n+offset)
	})
	for _, m := range yamlLine.FindAllStringSubmatchIndex(msg, -1) {
		if strings.HasPrefix(msg[m[1]:], ": ") {
			line, _ = strconv.Atoi(msg[m[2]:m[3]])
			msg = strings.TrimSpace(msg[m[1]+2:])
			break
		}
	}
	if line < 1 {
		line = d.line
	}
	c.errs = append(c.errs, &Error{File: d.file, Line: line, DocLine: d.line, Err: fmt.Errorf("invalid YAML: %s", msg)})
}

// decodeTop reads one object (or, when allowList, a List of them): its
// apiVersion and kind first, then the typed object. js is tree as JSON when
// the caller has it (a whole document), else nil.
func (c *collector) decodeTop(d doc, tree map[string]any, js []byte, node *yaml.Node, prefix path, allowList bool) {
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
	c.decodeObject(d, ks, desc, tree, js, node, prefix)
}

func (c *collector) decodeList(d doc, tree map[string]any, node *yaml.Node) {
	desc := describeObject(listKind, "", "")
	if _, ok := c.strict(d, reflect.TypeFor[metav1.List](), func() any { return new(metav1.List) }, desc, tree, nil, node, nil); !ok {
		return
	}
	items, _ := tree["items"].([]any)
	for i, item := range items {
		p := path{"items", i}
		switch item := item.(type) {
		case nil:
		case map[string]any:
			c.decodeTop(d, item, nil, valueNode(node, p), p, false)
		default:
			c.fieldErr(d, desc, node, nil, p, false,
				fmt.Errorf("expected an object with apiVersion and kind, got %s", describeNode(valueNode(node, p))))
		}
	}
}

func (c *collector) decodeObject(d doc, ks kindSpec, desc string, tree map[string]any, js []byte, node *yaml.Node, prefix path) {
	decoded, ok := c.strict(d, ks.goType, func() any { return ks.newObj() }, desc, tree, js, node, prefix)
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
	if errs := ks.validate(obj); len(errs) > 0 {
		for _, e := range errs {
			c.fieldErr(d, desc, node, prefix, parsePath(e.Field), false, errors.New(e.ErrorBody()))
		}
		return
	}
	// Duplicates are found when the document's results are merged in file
	// order (see merge), since documents are decoded concurrently.
	c.decoded = append(c.decoded, decodedObject{
		key:  describeObject(ks.kind, obj.GetNamespace(), obj.GetName()),
		err:  &Error{File: d.file, Line: node.Line, DocLine: d.line, Object: desc, Field: prefix.String()},
		obj:  obj,
		kind: ks,
	})
}

// strict decodes tree into a new object of goType the way the API server
// does (case-sensitive field names, unknown fields rejected) and reports
// every problem with its position. It returns false if there was any. js,
// when not nil, is tree as JSON, which spares encoding it again for the
// first (and, for a valid object, only) pass.
func (c *collector) strict(d doc, goType reflect.Type, newObj func() any, desc string, tree map[string]any, js []byte, node *yaml.Node, prefix path) (any, bool) {
	clean := true
	for range maxTypeErrors {
		if js == nil {
			var err error
			if js, err = json.Marshal(tree); err != nil {
				c.fieldErr(d, desc, node, prefix, nil, false, fmt.Errorf("re-encode as JSON: %w", err))
				return nil, false
			}
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
		js = nil // tree changed: encode it again
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
