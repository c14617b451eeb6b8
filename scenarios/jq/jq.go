package jq

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/itchyny/gojq"
)

// Exit codes jq uses.
const (
	ExitOK          = 0
	ExitFalse       = 1 // -e: the last output was false or null
	ExitUsage       = 2 // bad options or unparsable input
	ExitCompile     = 3 // the filter does not compile
	ExitNoOutput    = 4 // -e: no output at all
	ExitRuntimeFail = 5 // the filter raised an error
)

// Var is one --arg or --argjson binding.
type Var struct {
	Name  string
	Value string
	JSON  bool // --argjson: Value is JSON text
}

// Command is one parsed jq invocation.
type Command struct {
	Filter    string
	Files     []string
	Vars      []Var
	Raw       bool // -r
	Join      bool // -j (implies -r, no newline after outputs)
	Compact   bool // -c
	Exit      bool // -e
	NullInput bool // -n
	Slurp     bool // -s
	RawInput  bool // -R: each input line is a string (with -s: all input is one)
	Tab       bool // --tab
	Indent    int  // --indent n; 2 unless set
}

// UnsupportedFlagError is returned for an option the native jq does not implement.
type UnsupportedFlagError struct {
	Flag string
}

func (e *UnsupportedFlagError) Error() string {
	return fmt.Sprintf("jq option %q is not supported by the replayer's native jq (supported: -r -j -c -e -n -s -R --arg --argjson --tab --indent)", e.Flag)
}

// UsageError is a malformed jq command line.
type UsageError struct {
	Msg string
}

func (e *UsageError) Error() string { return "jq: " + e.Msg }

var shortBools = map[byte]func(c *Command){
	'r': func(c *Command) { c.Raw = true },
	'j': func(c *Command) { c.Raw, c.Join = true, true },
	'c': func(c *Command) { c.Compact = true },
	'e': func(c *Command) { c.Exit = true },
	'n': func(c *Command) { c.NullInput = true },
	's': func(c *Command) { c.Slurp = true },
	'R': func(c *Command) { c.RawInput = true },
}

var longBools = map[string]byte{
	"raw-output": 'r', "join-output": 'j', "compact-output": 'c',
	"exit-status": 'e', "null-input": 'n', "slurp": 's', "raw-input": 'R',
}

// ParseArgs parses jq's arguments (without the leading "jq"): the first
// non-option argument is the filter, the rest are input files.
func ParseArgs(args []string) (*Command, error) {
	c := &Command{Indent: 2}
	haveFilter := false
	positional := func(a string) {
		if !haveFilter {
			c.Filter, haveFilter = a, true
			return
		}
		c.Files = append(c.Files, a)
	}
	optionsDone := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case optionsDone || len(a) < 2 || a[0] != '-':
			positional(a)
		case a == "--":
			optionsDone = true
		case strings.HasPrefix(a, "--"):
			name := a[2:]
			if b, ok := longBools[name]; ok {
				shortBools[b](c)
				continue
			}
			switch name {
			case "tab":
				c.Tab = true
			case "indent":
				if i+1 >= len(args) {
					return nil, &UsageError{Msg: "--indent takes one parameter"}
				}
				i++
				n, err := strconv.Atoi(args[i])
				if err != nil || n < 0 || n > 7 {
					return nil, &UsageError{Msg: fmt.Sprintf("cannot indent more than 7 characters or by %q", args[i])}
				}
				c.Indent = n
			case "arg", "argjson":
				if i+2 >= len(args) {
					return nil, &UsageError{Msg: fmt.Sprintf("--%s takes two parameters (e.g. --%s varname value)", name, name)}
				}
				c.Vars = append(c.Vars, Var{Name: args[i+1], Value: args[i+2], JSON: name == "argjson"})
				i += 2
			default:
				return nil, &UnsupportedFlagError{Flag: a}
			}
		default:
			for j := 1; j < len(a); j++ {
				set, ok := shortBools[a[j]]
				if !ok {
					return nil, &UnsupportedFlagError{Flag: "-" + string(a[j])}
				}
				set(c)
			}
		}
	}
	if !haveFilter {
		return nil, &UsageError{Msg: "no filter given (usage: jq [OPTIONS] FILTER [FILES...])"}
	}
	return c, nil
}

// Stdio is where one invocation reads and writes. Open reads the named input
// files; nil makes naming a file an error.
type Stdio struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Open           func(name string) (io.ReadCloser, error)
}

// Runner runs jq commands, caching compiled filters. It is safe for
// concurrent use.
type Runner struct {
	mu    sync.Mutex
	codes map[string]*gojq.Code
}

// NewRunner returns an empty Runner.
func NewRunner() *Runner { return &Runner{codes: map[string]*gojq.Code{}} }

func (r *Runner) compile(c *Command) (*gojq.Code, error) {
	names := make([]string, len(c.Vars))
	for i, v := range c.Vars {
		names[i] = "$" + v.Name
	}
	key := c.Filter + "\x00" + strings.Join(names, "\x00")
	r.mu.Lock()
	code, ok := r.codes[key]
	r.mu.Unlock()
	if ok {
		return code, nil
	}
	q, err := gojq.Parse(c.Filter)
	if err != nil {
		return nil, err
	}
	code, err = gojq.Compile(q, gojq.WithVariables(names), gojq.WithEnvironLoader(func() []string { return nil }))
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.codes[key] = code
	r.mu.Unlock()
	return code, nil
}

// Run parses args and runs them, returning jq's exit code. The error is for
// problems of the replay itself (an unsupported option).
func (r *Runner) Run(ctx context.Context, args []string, stdio Stdio) (int, error) {
	c, err := ParseArgs(args)
	if err != nil {
		return 0, err
	}
	return r.RunCommand(ctx, c, stdio)
}

// RunCommand runs a parsed command and returns jq's exit code.
func (r *Runner) RunCommand(ctx context.Context, c *Command, stdio Stdio) (int, error) {
	stdout, stderr := stdio.Stdout, stdio.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	code, err := r.compile(c)
	if err != nil {
		fmt.Fprintf(stderr, "jq: error: %v\njq: 1 compile error\n", err)
		return ExitCompile, nil
	}
	vals := make([]any, len(c.Vars))
	for i, v := range c.Vars {
		if !v.JSON {
			vals[i] = v.Value
			continue
		}
		x, err := decodeOne(v.Value)
		if err != nil {
			fmt.Fprintf(stderr, "jq: Invalid JSON text passed to --argjson: %v\n", err)
			return ExitUsage, nil
		}
		vals[i] = x
	}

	inputs, name, err := r.openInputs(c, stdio)
	if err != nil {
		var open *openError
		if errors.As(err, &open) {
			fmt.Fprintf(stderr, "jq: error: Could not open %s: %v\n", open.name, open.err)
			return ExitUsage, nil
		}
		return 0, err
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	st := &state{cmd: c, out: out}

	runOne := func(v any, where string) bool {
		iter := code.RunWithContext(ctx, v, vals...)
		for {
			x, ok := iter.Next()
			if !ok {
				return true
			}
			if e, isErr := x.(error); isErr {
				var halt *gojq.HaltError
				if errors.As(e, &halt) {
					st.exit = halt.ExitCode()
					if hv := halt.Value(); hv != nil {
						if s, isStr := hv.(string); isStr {
							fmt.Fprint(stderr, s)
						} else {
							b, _ := gojq.Marshal(hv)
							fmt.Fprintf(stderr, "%s\n", b)
						}
					}
					st.halted = true
					return false
				}
				fmt.Fprintf(stderr, "jq: error (at %s): %v\n", where, e)
				st.exit = ExitRuntimeFail
				// jq goes on with the next input after a runtime error.
				return true
			}
			if err := st.emit(x); err != nil {
				fmt.Fprintf(stderr, "jq: error (at %s): %v\n", where, err)
				st.exit = ExitRuntimeFail
				return true
			}
		}
	}

	switch {
	case c.NullInput:
		runOne(nil, "<unknown>")
	case c.Slurp && c.RawInput:
		// jq -Rs: the whole input, every line end kept, is one string.
		all, err := inputs.rawAll()
		if err != nil {
			fmt.Fprintf(stderr, "jq: error (at %s): %v\n", name, err)
			return ExitUsage, nil
		}
		runOne(all, name)
	case c.Slurp:
		var all []any
		for {
			v, err := inputs.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				fmt.Fprintf(stderr, "jq: error (at %s:%d): Cannot parse input: %v\n", name, inputs.count, err)
				return ExitUsage, nil
			}
			all = append(all, v)
		}
		if all == nil {
			all = []any{}
		}
		runOne(all, fmt.Sprintf("%s:%d", name, inputs.count))
	default:
		for {
			v, err := inputs.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				out.Flush()
				fmt.Fprintf(stderr, "jq: error (at %s:%d): Cannot parse input: %v\n", name, inputs.count, err)
				return ExitUsage, nil
			}
			if !runOne(v, fmt.Sprintf("%s:%d", name, inputs.count)) {
				break
			}
		}
	}
	if err := out.Flush(); err != nil {
		return ExitUsage, nil
	}
	if st.halted || st.exit != 0 {
		return st.exit, nil
	}
	if c.Exit {
		switch {
		case !st.any:
			return ExitNoOutput, nil
		case st.last == nil || st.last == false:
			return ExitFalse, nil
		}
	}
	return ExitOK, nil
}

// state accumulates what -e needs and writes outputs.
type state struct {
	cmd    *Command
	out    *bufio.Writer
	any    bool
	last   any
	exit   int
	halted bool
}

func (s *state) emit(v any) error {
	s.any, s.last = true, v
	if str, ok := v.(string); ok && s.cmd.Raw {
		s.out.WriteString(str)
	} else {
		b, err := gojq.Marshal(v)
		if err != nil {
			return err
		}
		if !s.cmd.Compact {
			indent := strings.Repeat(" ", s.cmd.Indent)
			if s.cmd.Tab {
				indent = "\t"
			}
			if indent != "" {
				var buf bytes.Buffer
				if err := json.Indent(&buf, b, "", indent); err == nil {
					b = buf.Bytes()
				}
			}
		}
		s.out.Write(b)
	}
	if !s.cmd.Join {
		s.out.WriteByte('\n')
	}
	return nil
}

// inputStream decodes a stream of JSON values from the inputs in turn,
// or with raw set (jq -R) reads them a line at a time, each line a string.
type inputStream struct {
	readers []io.Reader
	closers []io.Closer
	dec     *json.Decoder
	count   int
	raw     bool
	lines   *bufio.Reader
}

func (in *inputStream) next() (any, error) {
	if in.raw {
		return in.nextLine()
	}
	for {
		if in.dec == nil {
			if len(in.readers) == 0 {
				for _, c := range in.closers {
					c.Close()
				}
				return nil, io.EOF
			}
			in.dec = json.NewDecoder(in.readers[0])
			in.dec.UseNumber()
			in.readers = in.readers[1:]
		}
		var v any
		err := in.dec.Decode(&v)
		if err == io.EOF {
			in.dec = nil
			continue
		}
		if err != nil {
			return nil, err
		}
		in.count++
		return v, nil
	}
}

// nextLine returns the next line of the inputs (read as one stream, as
// jq concatenates its files) without its newline; a last line without one
// is a line too.
func (in *inputStream) nextLine() (any, error) {
	if in.lines == nil {
		in.lines = bufio.NewReader(io.MultiReader(in.readers...))
	}
	line, err := in.lines.ReadString('\n')
	if err == io.EOF && line == "" {
		in.close()
		return nil, io.EOF
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	in.count++
	return strings.TrimSuffix(line, "\n"), nil
}

// rawAll returns the inputs, concatenated, as one string (jq -Rs).
func (in *inputStream) rawAll() (string, error) {
	defer in.close()
	var b strings.Builder
	for _, r := range in.readers {
		if _, err := io.Copy(&b, r); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

func (in *inputStream) close() {
	for _, c := range in.closers {
		c.Close()
	}
	in.closers = nil
}

func (r *Runner) openInputs(c *Command, stdio Stdio) (*inputStream, string, error) {
	in := &inputStream{raw: c.RawInput}
	if len(c.Files) == 0 {
		if stdio.Stdin != nil {
			in.readers = []io.Reader{stdio.Stdin}
		}
		return in, "<stdin>", nil
	}
	if stdio.Open == nil {
		return nil, "", fmt.Errorf("jq %s: the replayer gives jq no files to read (set Options.Dir)", strings.Join(c.Files, " "))
	}
	for _, f := range c.Files {
		rc, err := stdio.Open(f)
		if err != nil {
			for _, cl := range in.closers {
				cl.Close()
			}
			return nil, "", &openError{name: f, err: err}
		}
		in.readers = append(in.readers, rc)
		in.closers = append(in.closers, rc)
	}
	return in, c.Files[0], nil
}

func decodeOne(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one value")
	}
	return v, nil
}

// openError is an input file jq could not open: a jq failure (exit 2), not a
// replay failure.
type openError struct {
	name string
	err  error
}

func (e *openError) Error() string { return fmt.Sprintf("could not open %s: %v", e.name, e.err) }
func (e *openError) Unwrap() error { return e.err }
