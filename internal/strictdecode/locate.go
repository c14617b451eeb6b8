package strictdecode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	yaml "go.yaml.in/yaml/v3"
)

// Doc is a decoded document, kept to find where its fields are.
type Doc struct {
	d    Decoder
	yaml *yaml.Node // the top-level node of a YAML document
	json []byte     // a JSON document's text
}

// Find returns the position of the field at path (string keys, int
// indexes): a key's own position, a list item's first token. When the path
// is not all there, found is false and the position is that of the deepest
// part that is, so a missing field points at its parent; the document
// itself is at 1:1.
func (doc *Doc) Find(path ...any) (line, col int, found bool) {
	if doc == nil {
		return 0, 0, false
	}
	if doc.json != nil {
		return jsonFind(doc.json, path)
	}
	return yamlFind(doc.yaml, path)
}

// Line is the line of Find.
func (doc *Doc) Line(path ...any) int {
	line, _, _ := doc.Find(path...)
	return line
}

// Has reports whether the document has the field at path.
func (doc *Doc) Has(path ...any) bool {
	_, _, ok := doc.Find(path...)
	return ok
}

// Errorf is an error about the field at path, positioned in the document.
func (doc *Doc) Errorf(path []any, format string, args ...any) *Error {
	return doc.d.fill(doc.at(At(path, format, args...)))
}

// Locate gives every *Error in err (a single one or an errors.Join) the
// document's file, Kind, and the position of its Path when it has none; an
// error of another type becomes an *Error with its text and no line, since
// nothing says where it is. It returns nil for nil.
func (doc *Doc) Locate(err error) error {
	if err == nil {
		return nil
	}
	var out []*Error
	for _, e := range Flatten(err) {
		var se *Error
		if errors.As(e, &se) {
			se = doc.at(se)
		} else {
			se = &Error{Msg: e.Error()}
		}
		out = append(out, doc.d.fill(se))
	}
	return join(out, false)
}

func (doc *Doc) at(e *Error) *Error {
	if e.Line == 0 {
		e.Line, e.Column, _ = doc.Find(e.Path...)
	}
	return e
}

// fill sets what the decoder knows: the file, and Kind unless the error
// has its own.
func (d Decoder) fill(e *Error) *Error {
	if e.File == "" {
		e.File = d.File
	}
	if e.Kind == nil {
		e.Kind = d.Kind
	}
	return e
}

func (d Decoder) err(e *Error) error { return d.fill(e) }

// join fills and joins decoding problems in line order, so a file's
// problems read top to bottom.
func (d Decoder) join(errs []*Error) error {
	for _, e := range errs {
		d.fill(e)
	}
	return join(errs, true)
}

func join(errs []*Error, sorted bool) error {
	if sorted {
		slices.SortStableFunc(errs, func(a, b *Error) int { return a.Line - b.Line })
	}
	if len(errs) == 1 {
		return errs[0]
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

func yamlFind(n *yaml.Node, path []any) (line, col int, found bool) {
	line, col = 1, 1
	if n == nil {
		return line, col, len(path) == 0
	}
	line, col = n.Line, n.Column
	for _, p := range path {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		var next *yaml.Node
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						line, col, next = n.Content[i].Line, n.Content[i].Column, n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k >= 0 && k < len(n.Content) {
				next = n.Content[k]
				line, col = next.Line, next.Column
			}
		}
		if next == nil {
			return line, col, false
		}
		n = next
	}
	return line, col, true
}

// jsonFind walks the tokens, which know their offsets, down path.
func jsonFind(data []byte, path []any) (line, col int, found bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	line, col = 1, 1
	tok, start, err := token(dec, data)
	if err != nil {
		return line, col, false
	}
	line, col = position(data, start)
	for _, p := range path {
		d, ok := tok.(json.Delim)
		if !ok || (d != '{' && d != '[') {
			return line, col, false
		}
		matched := false
		for i := 0; dec.More(); i++ {
			if d == '{' {
				key, kstart, err := token(dec, data)
				if err != nil {
					return line, col, false
				}
				matched = key == p
				if matched {
					line, col = position(data, kstart)
				}
			} else {
				matched = i == p
			}
			if matched {
				var vstart int64
				if tok, vstart, err = token(dec, data); err != nil {
					return line, col, false
				}
				if d == '[' {
					line, col = position(data, vstart)
				}
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return line, col, false
			}
		}
		if !matched {
			return line, col, false
		}
	}
	return line, col, true
}

// token reads the next token and the offset where it starts: the decoder's
// offset is where the previous one ended, before blanks, ':' and ','.
func token(dec *json.Decoder, data []byte) (json.Token, int64, error) {
	off := dec.InputOffset()
	tok, err := dec.Token()
	for off < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n:,"), data[off]) >= 0 {
		off++
	}
	return tok, off, err
}

// position is the 1-based line and column of byte offset off.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	return 1 + bytes.Count(before, []byte("\n")), int(off) - bytes.LastIndexByte(before, '\n')
}

// Linef is an error at the line of the field at path whose message names
// the field itself, often with its value: `manifests[0].file "x.yaml": …`.
func (doc *Doc) Linef(path []any, format string, args ...any) *Error {
	return doc.d.fill(doc.at(&Error{Path: path, Msg: fmt.Sprintf(format, args...)}))
}
