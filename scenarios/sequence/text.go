package sequence

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxLine bounds a line of a plain list: a category is a backend, a model
// or a status, never kilobytes; a longer line is a wrong file.
const MaxLine = 4096

// ParseText reads a plain list, one category per line in arrival order
// (see the package documentation). name is used in errors as name:line.
func ParseText(r io.Reader, name string) (*Recording, error) {
	rec := New(time.Time{}, ConnsNone)
	sc := bufio.NewScanner(r)
	// The scanner needs room for the newline after a line of MaxLine bytes.
	sc.Buffer(make([]byte, 0, 512), MaxLine+2)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if line == 1 {
			text = bytes.TrimPrefix(text, []byte("\ufeff")) // a byte-order mark some editors add
		}
		category, err := parseLine(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w: %w", name, line, ErrSequence, err)
		}
		if category != "" {
			rec.Add(0, 0, 0, 0, category)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: %w: line longer than %d bytes", name, line+1, ErrSequence, MaxLine)
		}
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if rec.Len() == 0 {
		return nil, fmt.Errorf("%s: %w: no category in %d lines: every line is blank or a comment", name, ErrSequence, line)
	}
	return rec, nil
}

// parseLine returns the line's category, "" for a blank or comment line.
func parseLine(b []byte) (string, error) {
	if len(b) > MaxLine {
		return "", fmt.Errorf("line longer than %d bytes", MaxLine)
	}
	if !utf8.Valid(b) {
		return "", errors.New("not valid UTF-8")
	}
	s := string(b)
	// A comment starts with '#' at the start of the line or after white
	// space, so "v1  # first" is v1 while a name holding '#' survives.
	for i, c := range s {
		if c == '#' && (i == 0 || isSpace(s[i-1])) {
			s = s[:i]
			break
		}
	}
	s = trimSpace(s)
	for _, c := range s {
		switch {
		case isSpace(byte(c)) && c < utf8.RuneSelf:
			return "", fmt.Errorf("%q is not one category: a line holds one name, without spaces", s)
		case unicode.IsControl(c):
			return "", fmt.Errorf("control character %U in %q", c, s)
		case unicode.IsSpace(c):
			return "", fmt.Errorf("%q is not one category: it holds the space %U", s, c)
		}
	}
	return s, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
