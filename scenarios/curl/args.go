package curl

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// DataKind says how one request-body argument is interpreted, mirroring
// curl's four data flags.
type DataKind int

const (
	// DataASCII is -d/--data: "@file" reads a file (or stdin for "@-") and
	// strips carriage returns and newlines from it.
	DataASCII DataKind = iota
	// DataRaw is --data-raw: the value is sent as is, "@" included.
	DataRaw
	// DataBinary is --data-binary: like -d but file contents are kept intact.
	DataBinary
	// DataURLEncode is --data-urlencode: the value is URL-encoded following
	// curl's "name=content", "=content", "name@file" and "@file" forms.
	DataURLEncode
)

// Data is one request-body argument in the order it was given.
type Data struct {
	Kind  DataKind
	Value string
}

// Command is one parsed curl invocation. The zero value is a GET with curl's
// defaults; [ParseArgs] fills it and [Command.Args] turns it back into an
// argument list that parses to the same Command.
type Command struct {
	URLs    []string // in order, as written (a missing scheme is added when requesting)
	Method  string   // -X; empty means curl's choice (GET, POST with data, HEAD with -I)
	Headers []string // -H values in order, plus -A as "User-Agent: value"
	Data    []Data   // -d and friends in order; joined with '&' into one body
	Outputs []string // -o values; the n-th applies to the n-th URL, "-" is stdout
	// WriteOut is the -w template, printed to stdout after each transfer.
	WriteOut string

	Include   bool // -i: print the status line and headers before the body
	Head      bool // -I: HEAD request (unless -X), print headers only
	Silent    bool // -s: no error messages (no progress meter is ever shown)
	ShowError bool // -S: error messages even with -s
	Fail      bool // -f: no output and exit 22 on HTTP status >= 400
	Location  bool // -L: follow redirects
	Insecure  bool // -k: skip TLS certificate verification
	Verbose   bool // -v: print the request and response headers to stderr
	Get       bool // -G: send the data in the URL query of a GET
	// NoBuffer is -N, which streaming snippets use. The native curl writes
	// a response once it has read all of it; a pipeline that reads to the
	// end, as a snippet's jq does, cannot tell the difference.
	NoBuffer bool

	// MaxTime is -m in seconds, ConnectTimeout is --connect-timeout; 0 means none.
	MaxTime        float64
	ConnectTimeout float64
}

// flagSpec describes one supported option. Boolean options take no value;
// the others consume one.
type flagSpec struct {
	long  string
	short byte
	// set applies a value-taking option; nil for booleans.
	set func(c *Command, v string) error
	// toggle applies a boolean option (on is false for --no-<long>).
	toggle func(c *Command, on bool)
}

// flagTable is the one list of supported options; the parser, the help
// text and [Command.Args] all derive from it.
var flagTable = []flagSpec{
	{long: "include", short: 'i', toggle: func(c *Command, on bool) { c.Include = on }},
	{long: "head", short: 'I', toggle: func(c *Command, on bool) { c.Head = on }},
	{long: "silent", short: 's', toggle: func(c *Command, on bool) { c.Silent = on }},
	{long: "show-error", short: 'S', toggle: func(c *Command, on bool) { c.ShowError = on }},
	{long: "fail", short: 'f', toggle: func(c *Command, on bool) { c.Fail = on }},
	{long: "location", short: 'L', toggle: func(c *Command, on bool) { c.Location = on }},
	{long: "insecure", short: 'k', toggle: func(c *Command, on bool) { c.Insecure = on }},
	{long: "verbose", short: 'v', toggle: func(c *Command, on bool) { c.Verbose = on }},
	{long: "get", short: 'G', toggle: func(c *Command, on bool) { c.Get = on }},
	{long: "no-buffer", short: 'N', toggle: func(c *Command, on bool) { c.NoBuffer = on }},
	{long: "request", short: 'X', set: func(c *Command, v string) error { c.Method = v; return nil }},
	{long: "header", short: 'H', set: func(c *Command, v string) error {
		if strings.HasPrefix(v, "@") {
			return usage("reading headers from a file (-H %s) is not supported", v)
		}
		c.Headers = append(c.Headers, v)
		return nil
	}},
	{long: "user-agent", short: 'A', set: func(c *Command, v string) error {
		c.Headers = append(c.Headers, "User-Agent: "+v)
		return nil
	}},
	{long: "data", short: 'd', set: addData(DataASCII)},
	{long: "data-ascii", set: addData(DataASCII)},
	{long: "data-raw", set: addData(DataRaw)},
	{long: "data-binary", set: addData(DataBinary)},
	{long: "data-urlencode", set: addData(DataURLEncode)},
	{long: "output", short: 'o', set: func(c *Command, v string) error { c.Outputs = append(c.Outputs, v); return nil }},
	{long: "write-out", short: 'w', set: func(c *Command, v string) error { c.WriteOut = v; return nil }},
	{long: "max-time", short: 'm', set: func(c *Command, v string) error { return setSeconds(&c.MaxTime, "max-time", v) }},
	{long: "connect-timeout", set: func(c *Command, v string) error {
		return setSeconds(&c.ConnectTimeout, "connect-timeout", v)
	}},
	{long: "url", set: func(c *Command, v string) error { c.URLs = append(c.URLs, v); return nil }},
}

func addData(kind DataKind) func(c *Command, v string) error {
	return func(c *Command, v string) error {
		c.Data = append(c.Data, Data{Kind: kind, Value: v})
		return nil
	}
}

func setSeconds(dst *float64, name, v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return usage("option --%s: expected a non-negative number of seconds, got %q", name, v)
	}
	*dst = f
	return nil
}

// SupportedFlags lists the options the native curl understands, for error
// messages and help text.
func SupportedFlags() []string {
	out := make([]string, 0, len(flagTable))
	for _, f := range flagTable {
		if f.short != 0 {
			out = append(out, "-"+string(f.short)+"/--"+f.long)
		} else {
			out = append(out, "--"+f.long)
		}
	}
	return out
}

func lookupLong(name string) (flagSpec, bool) {
	for _, f := range flagTable {
		if f.long == name {
			return f, true
		}
	}
	return flagSpec{}, false
}

func lookupShort(b byte) (flagSpec, bool) {
	for _, f := range flagTable {
		if f.short != 0 && f.short == b {
			return f, true
		}
	}
	return flagSpec{}, false
}

// ParseArgs parses curl's arguments (without the leading "curl"). It accepts
// what curl accepts for the supported options: combined short flags (-sS),
// values attached to a short flag (-XPOST) or in the next argument, long
// flags, --no-<flag> for booleans, and "--" ending the options. It also
// accepts --flag=value, which curl itself does not. Every other argument is
// a URL. Its errors are *ExitError with code [ExitUsage], wrapping an
// [*UnsupportedFlagError] or a [*UsageError].
func ParseArgs(args []string) (*Command, error) {
	c := &Command{}
	optionsDone := false
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case optionsDone || len(arg) < 2 || arg[0] != '-':
			c.URLs = append(c.URLs, arg)
		case arg == "--":
			optionsDone = true
		case strings.HasPrefix(arg, "--"):
			name, value, hasValue := strings.Cut(arg[2:], "=")
			spec, ok := lookupLong(name)
			negated := false
			if !ok {
				if base, isNo := strings.CutPrefix(name, "no-"); isNo {
					if s, found := lookupLong(base); found && s.toggle != nil {
						spec, ok, negated = s, true, true
					}
				}
			}
			if !ok {
				return nil, unsupported("--" + name)
			}
			if spec.toggle != nil {
				if hasValue {
					return nil, usage("option --%s takes no value", name)
				}
				spec.toggle(c, !negated)
				continue
			}
			if !hasValue {
				if i+1 >= len(args) {
					return nil, usage("option --%s: requires parameter", name)
				}
				i++
				value = args[i]
			}
			if err := spec.set(c, value); err != nil {
				return nil, err
			}
		default:
			// A run of short flags: booleans apply in turn; the first flag
			// taking a value consumes the rest of the word, or the next word.
			for j := 1; j < len(arg); j++ {
				spec, ok := lookupShort(arg[j])
				if !ok {
					return nil, unsupported("-" + string(arg[j]))
				}
				if spec.toggle != nil {
					spec.toggle(c, true)
					continue
				}
				value := arg[j+1:]
				if value == "" {
					if i+1 >= len(args) {
						return nil, usage("option -%c: requires parameter", arg[j])
					}
					i++
					value = args[i]
				}
				if err := spec.set(c, value); err != nil {
					return nil, err
				}
				break
			}
		}
	}
	return c, nil
}

// Args renders c as a canonical argument list: long flags, each value in its
// own argument, URLs after "--". ParseArgs(c.Args()) equals c.
func (c *Command) Args() []string {
	var out []string
	bools := []struct {
		on   bool
		name string
	}{
		{c.Include, "include"}, {c.Head, "head"}, {c.Silent, "silent"}, {c.ShowError, "show-error"},
		{c.Fail, "fail"}, {c.Location, "location"}, {c.Insecure, "insecure"}, {c.Verbose, "verbose"},
		{c.Get, "get"}, {c.NoBuffer, "no-buffer"},
	}
	for _, b := range bools {
		if b.on {
			out = append(out, "--"+b.name)
		}
	}
	if c.Method != "" {
		out = append(out, "--request", c.Method)
	}
	for _, h := range c.Headers {
		out = append(out, "--header", h)
	}
	dataFlag := map[DataKind]string{DataASCII: "--data", DataRaw: "--data-raw", DataBinary: "--data-binary", DataURLEncode: "--data-urlencode"}
	for _, d := range c.Data {
		out = append(out, dataFlag[d.Kind], d.Value)
	}
	for _, o := range c.Outputs {
		out = append(out, "--output", o)
	}
	if c.WriteOut != "" {
		out = append(out, "--write-out", c.WriteOut)
	}
	if c.MaxTime != 0 {
		out = append(out, "--max-time", strconv.FormatFloat(c.MaxTime, 'g', -1, 64))
	}
	if c.ConnectTimeout != 0 {
		out = append(out, "--connect-timeout", strconv.FormatFloat(c.ConnectTimeout, 'g', -1, 64))
	}
	if len(c.URLs) > 0 {
		out = append(out, "--")
		out = append(out, c.URLs...)
	}
	return out
}

// Equal reports whether two commands mean the same invocation.
func (c *Command) Equal(o *Command) bool {
	return slices.Equal(c.URLs, o.URLs) && c.Method == o.Method && slices.Equal(c.Headers, o.Headers) &&
		slices.Equal(c.Data, o.Data) && slices.Equal(c.Outputs, o.Outputs) && c.WriteOut == o.WriteOut &&
		c.Include == o.Include && c.Head == o.Head && c.Silent == o.Silent && c.ShowError == o.ShowError &&
		c.Fail == o.Fail && c.Location == o.Location && c.Insecure == o.Insecure && c.Verbose == o.Verbose &&
		c.Get == o.Get && c.NoBuffer == o.NoBuffer && c.MaxTime == o.MaxTime && c.ConnectTimeout == o.ConnectTimeout
}

// validate checks the combinations curl refuses before doing anything; its
// error is an *ExitError with code [ExitUsage].
func (c *Command) validate() error {
	if len(c.URLs) == 0 {
		return usage("no URL specified")
	}
	if c.Head && len(c.Data) > 0 && !c.Get {
		return usage("you can only select one HTTP request method (-I and -d)")
	}
	return nil
}
