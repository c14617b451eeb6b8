package shell

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Normalize restores a snippet whose line breaks were lost when the page was
// flattened to text: an unquoted backslash followed by a space was a line
// continuation, and a trailing `done` that no longer parses had a newline
// before it. A snippet that is already well-formed shell with no unquoted
// "\ " comes back unchanged.
func Normalize(flat string) string {
	var b strings.Builder
	var single, double bool
	for i := 0; i < len(flat); i++ {
		c := flat[i]
		switch {
		case single:
			if c == '\'' {
				single = false
			}
		case c == '\\' && i+1 < len(flat):
			if !double && flat[i+1] == ' ' {
				b.WriteString("\\\n")
				i++
				continue
			}
			b.WriteByte(c)
			b.WriteByte(flat[i+1])
			i++
			continue
		case c == '\'' && !double:
			single = true
		case c == '"':
			double = !double
		}
		b.WriteByte(c)
	}
	out := b.String()
	if _, err := parse(out); err == nil {
		return out
	}
	trimmed := strings.TrimRight(out, " \t\n")
	if head, ok := strings.CutSuffix(trimmed, " done"); ok {
		candidate := head + "\ndone"
		if _, err := parse(candidate); err == nil {
			return candidate
		}
	}
	return out
}

func parse(src string) (*syntax.File, error) {
	return syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "snippet")
}

// Loop describes the loop whose iterations a replay counts.
type Loop struct {
	Var string // the loop variable, "i" in the documentation's snippets
	// From, To and Step are the brace range {From..To..Step} as written.
	From, To, Step int
	// Line is the loop's line in the (normalized) snippet.
	Line uint
	node *syntax.ForClause
}

// Count is how many iterations the range yields.
func (l *Loop) Count() int {
	d := l.To - l.From
	if d < 0 {
		d = -d
	}
	return d/l.Step + 1
}

var braceRange = regexp.MustCompile(`^\{(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?\}$`)

// findLoop returns the outermost `for VAR in {A..B}` loop of f, nil when there
// is none, and an error when there are several (the replay could not tell
// which one counts).
func findLoop(f *syntax.File) (*Loop, error) {
	var loops []*Loop
	var bad error
	syntax.Walk(f, func(n syntax.Node) bool {
		fc, ok := n.(*syntax.ForClause)
		if !ok {
			return true
		}
		wi, ok := fc.Loop.(*syntax.WordIter)
		if !ok || len(wi.Items) != 1 || len(wi.Items[0].Parts) != 1 {
			return true
		}
		lit, ok := wi.Items[0].Parts[0].(*syntax.Lit)
		if !ok {
			return true
		}
		m := braceRange.FindStringSubmatch(lit.Value)
		if m == nil {
			return true
		}
		from, err1 := strconv.Atoi(m[1])
		to, err2 := strconv.Atoi(m[2])
		step := 1
		var err3 error
		if m[3] != "" {
			step, err3 = strconv.Atoi(m[3])
		}
		if err1 != nil || err2 != nil || err3 != nil {
			bad = fmt.Errorf("line %d: brace range %s is out of range", fc.Pos().Line(), lit.Value)
			return false
		}
		if step < 0 {
			step = -step
		}
		if step == 0 {
			step = 1 // bash treats a zero step as 1
		}
		loops = append(loops, &Loop{Var: wi.Name.Value, From: from, To: to, Step: step, Line: fc.Pos().Line(), node: fc})
		// A loop nested in the counted loop is part of its body.
		return false
	})
	if bad != nil {
		return nil, bad
	}
	switch len(loops) {
	case 0:
		return nil, nil
	case 1:
		return loops[0], nil
	default:
		return nil, fmt.Errorf("the snippet has %d loops over brace ranges (lines %d and %d); the replayer counts the iterations of exactly one",
			len(loops), loops[0].Line, loops[1].Line)
	}
}

// FindLoop parses snippet and describes its counted loop, nil when it has
// none. The scenario layer uses it to learn how many requests the page
// itself sends.
func FindLoop(snippet string) (*Loop, error) {
	f, err := parse(snippet)
	if err != nil {
		return nil, fmt.Errorf("parsing snippet: %w", err)
	}
	return findLoop(f)
}

// scale rewrites the loop's range in place so that it yields n iterations,
// keeping its start, direction and step.
func (l *Loop) scale(n int) {
	dir := 1
	if l.To < l.From {
		dir = -1
	}
	l.To = l.From + dir*(n-1)*l.Step
	lit := l.node.Loop.(*syntax.WordIter).Items[0].Parts[0].(*syntax.Lit)
	if l.Step == 1 {
		lit.Value = fmt.Sprintf("{%d..%d}", l.From, l.To)
	} else {
		lit.Value = fmt.Sprintf("{%d..%d..%d}", l.From, l.To, l.Step)
	}
}

// markerCommand is the command the replayer inserts at the start and end of
// the counted loop's body to cut output and exchanges into iterations. The
// name cannot be typed by accident in a documentation snippet.
const markerCommand = "__splitproof_iteration"

// instrument wraps the loop body between a begin marker (carrying the loop
// variable's value) and an end marker.
func (l *Loop) instrument() error {
	src := fmt.Sprintf("%s begin \"$%s\"\n%s end\n", markerCommand, l.Var, markerCommand)
	f, err := parse(src)
	if err != nil {
		return fmt.Errorf("building the iteration marker: %w", err)
	}
	body := make([]*syntax.Stmt, 0, len(l.node.Do)+2)
	body = append(body, f.Stmts[0])
	body = append(body, l.node.Do...)
	body = append(body, f.Stmts[1])
	l.node.Do = body
	return nil
}
