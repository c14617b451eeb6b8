package strictdecode

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// fieldSet is what a struct accepts in one mapping: its field names in
// declaration order (for messages) and each field's type (for descending).
type fieldSet struct {
	names []string
	types map[string]reflect.Type
}

// format is the little that differs between YAML and JSON when walking Go
// types: the struct tag, how an untagged field is named, how embedding is
// spelled and which types decode themselves.
type format struct {
	tag     string
	word    string // "a mapping" or "an object", for messages
	defName func(field string) string
	inline  func(f reflect.StructField, opts string) bool
	custom  []reflect.Type // interfaces of types that decode themselves
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	yamlFormat      = format{
		tag:  "yaml",
		word: "a mapping",
		// yaml.v3 lowercases the whole name of an untagged field.
		defName: strings.ToLower,
		inline:  func(_ reflect.StructField, opts string) bool { return hasOpt(opts, "inline") },
		custom:  []reflect.Type{reflect.TypeFor[yaml.Unmarshaler](), textUnmarshaler},
	}
	jsonFormat = format{
		tag:     "json",
		word:    "an object",
		defName: func(s string) string { return s },
		// encoding/json flattens an embedded struct that has no name of its own.
		inline: func(f reflect.StructField, _ string) bool { return f.Anonymous },
		custom: []reflect.Type{reflect.TypeFor[json.Unmarshaler](), textUnmarshaler},
	}
)

// decodesItself reports whether values of t take over their own decoding, so
// the walk must not look inside them.
func (f *format) decodesItself(t reflect.Type) bool {
	if t.Kind() == reflect.Interface {
		return true
	}
	for _, i := range f.custom {
		if t.Implements(i) || reflect.PointerTo(t).Implements(i) {
			return true
		}
	}
	// A yaml.Node field takes the subtree as it is.
	return t == reflect.TypeFor[yaml.Node]()
}

// fields lists what a struct type accepts, following embedded structs the
// format flattens.
func (f *format) fields(t reflect.Type) *fieldSet {
	s := &fieldSet{types: map[string]reflect.Type{}}
	f.collect(t, s)
	return s
}

func (f *format) collect(t reflect.Type, s *fieldSet) {
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get(f.tag), ",")
		if name == "-" && opts == "" {
			continue
		}
		ft := sf.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if name == "" && f.inline(sf, opts) && ft.Kind() == reflect.Struct {
			f.collect(ft, s)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = f.defName(sf.Name)
		}
		if _, dup := s.types[name]; !dup {
			s.names = append(s.names, name)
		}
		s.types[name] = sf.Type
	}
}

func hasOpt(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// elem strips pointers: a *T field is read as a T.
func elem(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// expectMapping is the message for a document whose top level is not the
// mapping its struct needs.
func (f *format) expectMapping(t reflect.Type) string {
	return "expected " + f.word + " with the fields " + strings.Join(f.fields(t).names, ", ")
}

func unknownField(key string, s *fieldSet) string {
	return "unknown field " + strconv.Quote(key) + " (known fields: " + strings.Join(s.names, ", ") + ")"
}
