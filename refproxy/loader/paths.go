package loader

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// A path is a field path: string elements are object keys, int elements are
// list indices. It prints as spec.rules[0].backendRefs[1].weight.
type path []any

func (p path) String() string {
	var b strings.Builder
	for _, e := range p {
		switch e := e.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(e) + "]")
		case string:
			if b.Len() > 0 {
				b.WriteString(".")
			}
			b.WriteString(e)
		}
	}
	return b.String()
}

// child returns a new path; it never shares p's backing array, so siblings
// built from one parent cannot overwrite each other.
func (p path) child(e ...any) path {
	return append(slices.Clip(p), e...)
}

// parsePath reads the dotted paths that sigs.k8s.io/json puts in its strict
// errors. A key that itself contains a dot is split; lookups then stop at the
// nearest ancestor, which only costs precision of the reported line.
func parsePath(s string) path {
	var p path
	for part := range strings.SplitSeq(s, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			p = append(p, key)
		}
		for rest != "" {
			num, after, _ := strings.Cut(rest, "]")
			if i, err := strconv.Atoi(num); err == nil {
				p = append(p, i)
			}
			_, rest, _ = strings.Cut(after, "[")
		}
	}
	return p
}

// nodeAt walks a YAML node along p. It returns the deepest node it reached
// and whether that is the end of p. When p ends in a key, wantKey picks the
// key node (an unknown field points at its own line) over the value node.
func nodeAt(n *yaml.Node, p path, wantKey bool) (*yaml.Node, bool) {
	cur := n
	for i, e := range p {
		for cur.Kind == yaml.AliasNode && cur.Alias != nil {
			cur = cur.Alias
		}
		next := (*yaml.Node)(nil)
		switch e := e.(type) {
		case string:
			if cur.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(cur.Content); j += 2 {
					if cur.Content[j].Value == e {
						next = cur.Content[j+1]
						if wantKey && i == len(p)-1 {
							next = cur.Content[j]
						}
						break
					}
				}
			}
		case int:
			if cur.Kind == yaml.SequenceNode && e >= 0 && e < len(cur.Content) {
				next = cur.Content[e]
			}
		}
		if next == nil {
			return cur, false
		}
		cur = next
	}
	return cur, true
}

// typeAt walks a Go type along p the way encoding/json does (pointers
// followed, embedded structs without a name inlined) and returns the type
// found there.
func typeAt(t reflect.Type, p path) (reflect.Type, bool) {
	for _, e := range p {
		t = deref(t)
		switch e := e.(type) {
		case int:
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return nil, false
			}
			t = t.Elem()
		case string:
			switch t.Kind() {
			case reflect.Map:
				t = t.Elem()
			case reflect.Struct:
				f, ok := jsonFields(t)[e]
				if !ok {
					return nil, false
				}
				t = f
			default:
				return nil, false
			}
		}
	}
	return deref(t), true
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// jsonFields maps the JSON names of a struct's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && deref(f.Type).Kind() == reflect.Struct {
			for k, v := range jsonFields(deref(f.Type)) {
				if _, ok := out[k]; !ok {
					out[k] = v
				}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// knownFields lists, sorted, the JSON field names of the struct at p.
func knownFields(t reflect.Type, p path) []string {
	at, ok := typeAt(t, p)
	if !ok || at.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for k := range jsonFields(at) {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// describeType says in JSON terms what a Go type accepts.
func describeType(t reflect.Type) string {
	t = deref(t)
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer (" + t.Kind().String() + ")"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "a list"
	case reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	default:
		return t.String()
	}
}

// pathAtOffset finds the path of the JSON value that ends at off, the byte
// offset encoding/json reports in an UnmarshalTypeError (just past a scalar,
// or just past the opening bracket of an object or list). It returns false
// when off does not fall on a value.
func pathAtOffset(js []byte, off int64) (path, bool) {
	type frame struct {
		object    bool
		key       string
		index     int
		expectKey bool
	}
	var stack []frame
	current := func() path {
		p := make(path, 0, len(stack))
		for _, f := range stack {
			if f.object {
				p = append(p, f.key)
			} else {
				p = append(p, f.index)
			}
		}
		return p
	}
	done := func() { // a value finished: move its parent to the next slot
		if len(stack) == 0 {
			return
		}
		top := &stack[len(stack)-1]
		if top.object {
			top.expectKey = true
		} else {
			top.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		end := dec.InputOffset()
		if len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].expectKey {
			if key, ok := tok.(string); ok {
				stack[len(stack)-1].key = key
				stack[len(stack)-1].expectKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if end >= off {
				return current(), true
			}
			stack = append(stack, frame{object: tok == json.Delim('{'), expectKey: true})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			done()
		default:
			if end >= off {
				return current(), true
			}
			done()
		}
	}
}

// setNull replaces the value at p in a tree decoded by encoding/json with
// null, which every Go type accepts, so that decoding can go on to find the
// next error. It reports whether p was found.
func setNull(tree any, p path) bool {
	if len(p) == 0 {
		return false
	}
	cur := tree
	for i, e := range p {
		last := i == len(p)-1
		switch e := e.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return false
			}
			if _, ok := m[e]; !ok {
				return false
			}
			if last {
				m[e] = nil
				return true
			}
			cur = m[e]
		case int:
			l, ok := cur.([]any)
			if !ok || e < 0 || e >= len(l) {
				return false
			}
			if last {
				l[e] = nil
				return true
			}
			cur = l[e]
		}
	}
	return false
}
