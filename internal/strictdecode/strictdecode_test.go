package strictdecode

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type limits struct {
	Max  int `yaml:"max" json:"max"`
	Unit string
}

type common struct {
	Name string `json:"name"`
}

type config struct {
	common `yaml:",inline"`
	Tags   []string          `yaml:"tags" json:"tags"`
	Limits *limits           `yaml:"limits" json:"limits"`
	Labels map[string]string `yaml:"labels" json:"labels"`
	Items  []limits          `yaml:"items" json:"items"`
	When   time.Time         `yaml:"when" json:"when"`
	Skip   string            `yaml:"-" json:"-"`
}

var errBad = errors.New("bad config")

func TestYAML(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ok", "name: a\ntags: [x, 'y']\nlimits: {max: 3, unit: s}\nlabels: {k: v}\nitems:\n- max: 1\nwhen: 2024-01-02T03:04:05Z\n", ""},
		{"null string is unset", "name:\n", ""},
		{"empty", "", "c.yaml:1: bad config: expected a mapping with the fields name, tags, limits, labels, items, when"},
		{"a list", "- a\n", "c.yaml:1: bad config: expected a mapping with the fields name, tags, limits, labels, items, when"},
		{"syntax", "name: [a\n", "c.yaml:1: bad config: did not find expected ',' or ']'"},
		{"two documents", "name: a\n---\nname: b\n", "c.yaml:2: bad config: expected one YAML document, found another"},
		{"unknown top level", "name: a\nnmae: b\n", `c.yaml:2: bad config: unknown field "nmae" (known fields: name, tags, limits, labels, items, when)`},
		{"unknown nested", "limits:\n  max: 1\n  mx: 2\n", `c.yaml:3: bad config: limits: unknown field "mx" (known fields: max, unit)`},
		{"unknown in a list", "items:\n- max: 1\n- {max: 2, min: 0}\n", `c.yaml:3: bad config: items[1]: unknown field "min" (known fields: max, unit)`},
		{"ignored field is unknown", "skip: x\n", `c.yaml:1: bad config: unknown field "skip" (known fields: name, tags, limits, labels, items, when)`},
		{"repeated key", "name: a\nlabels:\n  k: v\n  k: w\n", "c.yaml:4: bad config: labels.k: field given twice (first at line 3)"},
		{"number for a string", "tags: [a, 10]\n", "c.yaml:1: bad config: tags[1]: expected a string, got int 10 (quote it to mean the text)"},
		{"boolean for a string", "labels: {k: yes}\nname: true\n", "c.yaml:2: bad config: name: expected a string, got bool true (quote it to mean the text)"},
		{"wrong type", "name: a\nlimits:\n  max: lots\n", "c.yaml:3: bad config: limits.max: cannot unmarshal !!str `lots` into int"},
		{"every problem, in line order", "nmae: a\nlimits: {max: 1, mx: 2}\n", "c.yaml:1: bad config: unknown field \"nmae\" (known fields: name, tags, limits, labels, items, when)\nc.yaml:2: bad config: limits: unknown field \"mx\" (known fields: max, unit)"},
		{"unknown field through an alias", "items:\n- &x {max: 1}\n- *x\nlabels: &l {k: v}\nlimits: *l\n", "c.yaml:4: bad config: unknown field \"k\""},
		{"non-scalar key", "limits:\n  ? [a]\n  : 1\n", "c.yaml:2: bad config: limits: expected a field name, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c config
			_, err := Decoder{File: "c.yaml", Kind: errBad}.YAML([]byte(tt.in), &c)
			check(t, err, tt.want)
		})
	}
}

func TestJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ok", `{"name": "a", "tags": ["x"], "limits": {"max": 3, "Unit": "s"}, "labels": {"k": "v"}, "items": [{"max": 1}], "when": "2024-01-02T03:04:05Z"}`, ""},
		{"empty", "", "c.json:1: bad config: expected an object with the fields name, tags, limits, labels, items, when"},
		{"a list", "\n [1]", "c.json:2: bad config: expected an object with the fields name, tags, limits, labels, items, when"},
		{"syntax", "{\n\"name\": \"a\" \"tags\": []}", `c.json:2: bad config: invalid character '"' after object key:value pair`},
		{"cut short", "{\"name\": ", "c.json:1: bad config: unexpected EOF"},
		{"trailing", "{\"name\": \"a\"}\n\n{}", "c.json:3: bad config: trailing data after the JSON object"},
		{"trailing brace", "{\"name\": \"a\"}}", "c.json:1: bad config: trailing data after the JSON object"},
		{"unknown top level", "{\"name\": \"a\",\n \"nmae\": \"b\"}", `c.json:2: bad config: unknown field "nmae" (known fields: name, tags, limits, labels, items, when)`},
		{"unknown nested", "{\"items\": [{},\n {\"max\": 1, \"min\": 0}]}", `c.json:2: bad config: items[1]: unknown field "min" (known fields: max, Unit)`},
		{"another case", `{"Name": "a"}`, `c.json:1: bad config: unknown field "Name" (known fields: name, tags, limits, labels, items, when)`},
		{"repeated key", "{\"labels\": {\"k\": \"v\",\n \"k\": \"w\"}}", "c.json:2: bad config: labels.k: field given twice (first at line 1)"},
		{"wrong type", "{\"limits\":\n {\"max\": \"lots\"}}", `c.json:2: bad config: field "limits.max": expected int, got JSON string`},
		{"unknown and wrong type, in line order", "{\"limits\": {\"max\": \"x\"},\n\"nmae\": 1}", "c.json:1: bad config: field \"limits.max\": expected int, got JSON string\nc.json:2: bad config: unknown field \"nmae\" (known fields: name, tags, limits, labels, items, when)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c config
			_, err := Decoder{File: "c.json", Kind: errBad}.JSON([]byte(tt.in), &c)
			check(t, err, tt.want)
		})
	}
}

func check(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if err.Error() != want {
		t.Fatalf("error\n%s\nwant\n%s", err, want)
	}
	for _, e := range Flatten(err) {
		var se *Error
		if !errors.As(e, &se) || !errors.Is(e, errBad) {
			t.Fatalf("%v is not an *Error wrapping the decoder's Kind", e)
		}
	}
}

// TestFind: the same document in both formats puts its fields on the same
// lines, and a missing field points at its nearest ancestor.
func TestFind(t *testing.T) {
	docs := map[string]string{
		"yaml": "name: a\nitems:\n- max: 1\n-\n  max: 2\n  unit: s\nlabels: {k: v}\n",
		"json": "{\"name\": \"a\",\n\"items\": [\n{\"max\": 1},\n\n {\"max\": 2,\n  \"Unit\": \"s\"}],\n\"labels\": {\"k\": \"v\"}}\n",
	}
	tests := []struct {
		path  []any
		line  int
		found bool
	}{
		{nil, 1, true},
		{[]any{"name"}, 1, true},
		{[]any{"items", 0}, 3, true},
		{[]any{"items", 1, "max"}, 5, true},
		{[]any{"labels", "k"}, 7, true},
		{[]any{"items", 2}, 2, false},
		{[]any{"items", 1, "min"}, 5, false},
		{[]any{"nothing", "below"}, 1, false},
	}
	for format, in := range docs {
		var c config
		dec := Decoder{File: "f"}
		decode := dec.YAML
		if format == "json" {
			decode = dec.JSON
		}
		doc, err := decode([]byte(in), &c)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		for _, tt := range tests {
			line, col, found := doc.Find(tt.path...)
			if line != tt.line || found != tt.found || col < 1 {
				t.Errorf("%s: Find(%v) = %d:%d %v, want line %d %v", format, tt.path, line, col, found, tt.line, tt.found)
			}
		}
	}
}

func TestFindColumn(t *testing.T) {
	var c config
	doc, err := Decoder{}.JSON([]byte("{\"items\": [{\"max\": 1},   {\"max\": 2}]}"), &c)
	if err != nil {
		t.Fatal(err)
	}
	if line, col, _ := doc.Find("items", 1); line != 1 || col != 26 {
		t.Errorf("items[1] at %d:%d, want 1:26", line, col)
	}
	ydoc, err := Decoder{}.YAML([]byte("items:\n  - max: 1\n  -   max: 2\n"), &c)
	if err != nil {
		t.Fatal(err)
	}
	if line, col, _ := ydoc.Find("items", 1, "max"); line != 3 || col != 7 {
		t.Errorf("items[1].max at %d:%d, want 3:7", line, col)
	}
}

// TestLocate: validation errors found after decoding get the file, the
// decoder's Kind and the line of their field; others keep their text.
func TestLocate(t *testing.T) {
	var c config
	doc, err := Decoder{File: "c.yaml", Kind: errBad}.YAML([]byte("name: a\nlimits:\n  max: -1\n"), &c)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Locate(nil) != nil {
		t.Fatal("Locate(nil) is not nil")
	}
	var l List
	l.Add(nil)
	l.Add(At([]any{"limits", "max"}, "is %d, expected at least 0", c.Limits.Max))
	l.Add(errors.Join(&Error{Path: []any{"name"}, Msg: `name "a" is too short`}, errors.New("no labels")))
	l.Add(doc.Linef([]any{"tags"}, "tags: none"))
	l.Add(&Error{Msg: "no position"})
	if l.Len() != 5 {
		t.Fatalf("%d errors collected, want 5", l.Len())
	}
	got := doc.Locate(l.Err())
	want := strings.Join([]string{
		"c.yaml:3: bad config: limits.max: is -1, expected at least 0",
		`c.yaml:1: bad config: name "a" is too short`,
		"c.yaml: bad config: no labels",
		"c.yaml:1: bad config: tags: none",
		"c.yaml:1: bad config: no position",
	}, "\n")
	if got.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", got, want)
	}
	if !errors.Is(got, errBad) {
		t.Error("located errors do not wrap the decoder's Kind")
	}
	if e := doc.Errorf([]any{"limits"}, "too low"); e.Line != 2 || e.Column != 1 || e.Field != "limits" {
		t.Errorf("Errorf = %+v, want line 2, column 1, field limits", e)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "f", Line: 3, Field: "a.b", Msg: "m"}, "f:3: a.b: m"},
		{Error{File: "f", Msg: "m"}, "f: m"},
		{Error{Kind: errBad, Msg: "m"}, "bad config: m"},
		{Error{File: "f", Line: 1, Kind: errBad, Field: "x[2]", Msg: "m"}, "f:1: bad config: x[2]: m"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v prints %q, want %q", tt.e, got, tt.want)
		}
	}
	if got := FieldPath([]any{"models", 0, "aliases", 1}); got != "models[0].aliases[1]" {
		t.Errorf("FieldPath = %q", got)
	}
}
