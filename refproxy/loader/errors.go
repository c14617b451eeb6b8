package loader

import (
	"fmt"
	"strings"
)

// Error is one problem in one document. Decode and Load return every Error
// they find, sorted by file and line, joined with errors.Join; errors.As
// reaches the first.
type Error struct {
	File    string // the name passed to Decode, or the path Load read
	Line    int    // line of the offending field, or of the document when no field is to blame
	DocLine int    // line where the document starts
	Object  string // "HTTPRoute helloworld/traffic-split" as far as it is known, else ""
	Field   string // field path such as spec.rules[0].backendRefs[1].weight, else ""
	Err     error  // what is wrong, and what was expected
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	if e.Object != "" {
		b.WriteString(e.Object)
		b.WriteString(" ")
	}
	fmt.Fprintf(&b, "(document at line %d): ", e.DocLine)
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }
