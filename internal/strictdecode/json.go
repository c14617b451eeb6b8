package strictdecode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// JSON decodes data, one JSON value, into v by the rules YAML follows. The
// error, when there is one, joins one *Error per problem, in line order.
func (d Decoder) JSON(data []byte, v any) (*Doc, error) {
	t := elem(reflect.TypeOf(v))
	if t.Kind() == reflect.Struct {
		tok, start, err := token(json.NewDecoder(bytes.NewReader(data)), data)
		switch {
		case errors.Is(err, io.EOF):
			return nil, d.err(&Error{Line: 1, Column: 1, Msg: jsonFormat.expectMapping(t)})
		case err == nil && tok != json.Delim('{'):
			line, col := position(data, start)
			return nil, d.err(&Error{Line: line, Column: col, Msg: jsonFormat.expectMapping(t)})
		}
		// A syntax error is worded by the decoding below.
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	decErr := dec.Decode(v)
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case decErr == nil:
	case errors.As(decErr, &se):
		line, col := position(data, se.Offset)
		return nil, d.err(&Error{Line: line, Column: col, Msg: se.Error()})
	case errors.As(decErr, &te):
		// The value was read whole, so the walk below can still look for
		// unknown and repeated fields, which may come first.
	default:
		line, col := position(data, dec.InputOffset())
		return nil, d.err(&Error{Line: line, Column: col, Msg: strings.TrimPrefix(decErr.Error(), "json: ")})
	}
	w := jsonWalker{format: &jsonFormat, dec: json.NewDecoder(bytes.NewReader(data)), data: data}
	if err := w.value(t, nil); err != nil {
		return nil, d.err(&Error{Msg: fmt.Sprintf("reading the document again: %v", err)})
	}
	if te != nil {
		line, col := position(data, te.Offset)
		e := &Error{Line: line, Column: col, Msg: strings.TrimPrefix(te.Error(), "json: ")}
		if te.Field != "" {
			e.Msg = fmt.Sprintf("field %q: expected %s, got JSON %s", te.Field, te.Type, te.Value)
		}
		w.errs = append(w.errs, e)
	}
	if len(w.errs) > 0 {
		return nil, d.join(w.errs)
	}
	rest := dec.InputOffset()
	for rest < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n"), data[rest]) >= 0 {
		rest++
	}
	if rest < int64(len(data)) {
		what := "value"
		if t.Kind() == reflect.Struct {
			what = "object"
		}
		line, col := position(data, rest)
		return nil, d.err(&Error{Line: line, Column: col, Msg: "trailing data after the JSON " + what})
	}
	return &Doc{d: d, json: data}, nil
}

// jsonWalker checks a JSON value against the Go type it decodes into, for
// what encoding/json accepts: unknown fields (it can refuse them, but not
// say where), repeated keys (it keeps the last) and keys in another case
// than the field's (it matches them anyway).
type jsonWalker struct {
	*format
	dec  *json.Decoder
	data []byte
	errs []*Error
}

// needsWalk reports whether a value of type t can hold an object whose keys
// need checking; any other value is skipped whole, which keeps a long list
// of numbers cheap.
func (w *jsonWalker) needsWalk(t reflect.Type) bool {
	t = elem(t)
	if w.decodesItself(t) {
		return false
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return true
	case reflect.Slice, reflect.Array:
		return w.needsWalk(t.Elem())
	}
	return false
}

func (w *jsonWalker) skip() error {
	var raw json.RawMessage
	return w.dec.Decode(&raw)
}

// value reads one value of type t at path.
func (w *jsonWalker) value(t reflect.Type, path []any) error {
	t = elem(t)
	if !w.needsWalk(t) {
		return w.skip()
	}
	tok, _, err := token(w.dec, w.data)
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		var fs *fieldSet
		if t.Kind() == reflect.Struct {
			fs = w.fields(t)
		}
		seen := map[string]int{}
		for w.dec.More() {
			key, start, err := token(w.dec, w.data)
			if err != nil {
				return err
			}
			name, _ := key.(string)
			line, col := position(w.data, start)
			p := child(path, name)
			var ft reflect.Type
			switch first, dup := seen[name]; {
			case dup:
				w.errs = append(w.errs, &Error{Line: line, Column: col, Path: p, Field: FieldPath(p), Msg: fmt.Sprintf("field given twice (first at line %d)", first)})
			case fs == nil && t.Kind() == reflect.Map:
				ft = t.Elem()
			case fs != nil && fs.types[name] != nil:
				ft = fs.types[name]
			case fs != nil:
				w.errs = append(w.errs, &Error{Line: line, Column: col, Path: path, Field: FieldPath(path), Msg: unknownField(name, fs)})
			}
			seen[name] = line
			if ft == nil {
				err = w.skip()
			} else {
				err = w.value(ft, p)
			}
			if err != nil {
				return err
			}
		}
	case json.Delim('['):
		for i := 0; w.dec.More(); i++ {
			var err error
			if k := t.Kind(); k == reflect.Slice || k == reflect.Array {
				err = w.value(t.Elem(), child(path, i))
			} else {
				err = w.skip()
			}
			if err != nil {
				return err
			}
		}
	default:
		return nil // a scalar: encoding/json reports a mismatch
	}
	_, err = w.dec.Token() // the closing '}' or ']'
	return err
}
