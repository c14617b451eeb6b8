package strictdecode

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Error is one problem in an input file. It prints as
//
//	FILE:LINE: KIND: FIELD: MSG
//
// leaving out what is unknown or empty: a problem without a line (an
// unreadable file) prints FILE: MSG.
type Error struct {
	File   string
	Line   int // 1-based; 0 when the problem has no position
	Column int // 1-based; 0 when unknown (syntax errors only know their line)
	// Path locates the field (string keys, int indexes); nil is the whole
	// document. Doc.Locate uses it to find Line and Column.
	Path []any
	// Field is printed before Msg; it is empty when Msg names the field
	// itself (`counts["v1"] is negative`).
	Field string
	// Kind classifies the error for errors.Is (say, a package's
	// ErrInvalidCounts) and is printed before the field.
	Kind error
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Kind != nil {
		b.WriteString(e.Kind.Error() + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns Kind, so errors.Is(err, pkg.ErrSomething) holds.
func (e *Error) Unwrap() error { return e.Kind }

// At is an error about the field at path, printed with that field's name.
func At(path []any, format string, args ...any) *Error {
	return &Error{Path: path, Field: FieldPath(path), Msg: fmt.Sprintf(format, args...)}
}

// FieldPath prints a path as the documents' users write it:
// models[0].aliases[1].
func FieldPath(path []any) string {
	var b strings.Builder
	for _, e := range path {
		switch e := e.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(e) + "]")
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, e)
		}
	}
	return b.String()
}

// child extends path without sharing its backing array, so siblings built
// from one parent cannot overwrite each other.
func child(path []any, e any) []any {
	return append(path[:len(path):len(path)], e)
}

// List collects problems so that a file reports all of them at once.
type List struct {
	errs []error
}

// Add appends err (nil is ignored); an errors.Join of several is flattened.
func (l *List) Add(err error) {
	if err != nil {
		l.errs = append(l.errs, Flatten(err)...)
	}
}

// Len is the number of problems collected.
func (l *List) Len() int { return len(l.errs) }

// Err joins the problems, one a line, in the order they were added; nil
// when there are none.
func (l *List) Err() error { return errors.Join(l.errs...) }

// Flatten lists the errors errors.Join combined, recursively, or err itself.
func Flatten(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		if err == nil {
			return nil
		}
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, Flatten(e)...)
	}
	return out
}
