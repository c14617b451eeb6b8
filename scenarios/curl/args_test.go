package curl

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want Command
	}{
		{
			name: "doc example 1",
			args: []string{"-i", "localhost:8080/hello", "-H", "host: traffic.split.example"},
			want: Command{Include: true, URLs: []string{"localhost:8080/hello"}, Headers: []string{"host: traffic.split.example"}},
		},
		{
			name: "doc example 2",
			args: []string{"-s", "localhost:8080/test", "-H", "Content-Type: application/json", "-d", `{"messages": []}`},
			want: Command{Silent: true, URLs: []string{"localhost:8080/test"}, Headers: []string{"Content-Type: application/json"},
				Data: []Data{{Kind: DataASCII, Value: `{"messages": []}`}}},
		},
		{
			name: "combined short flags and attached value",
			args: []string{"-sSfL", "-XPOST", "-HX-A: 1", "u"},
			want: Command{Silent: true, ShowError: true, Fail: true, Location: true, Method: "POST", Headers: []string{"X-A: 1"}, URLs: []string{"u"}},
		},
		{
			name: "short boolean then value flag in one word",
			args: []string{"-so", "out.txt", "u"},
			want: Command{Silent: true, Outputs: []string{"out.txt"}, URLs: []string{"u"}},
		},
		{
			name: "long flags with = and separate values",
			args: []string{"--request=PUT", "--header", "A: b", "--data-raw=@x", "--max-time", "1.5", "--connect-timeout=2", "u"},
			want: Command{Method: "PUT", Headers: []string{"A: b"}, Data: []Data{{Kind: DataRaw, Value: "@x"}}, MaxTime: 1.5, ConnectTimeout: 2, URLs: []string{"u"}},
		},
		{
			name: "streaming: -sN and --no-buffer",
			args: []string{"-sN", "--no-buffer", "u"},
			want: Command{Silent: true, NoBuffer: true, URLs: []string{"u"}},
		},
		{
			name: "negated boolean",
			args: []string{"-s", "--no-silent", "u"},
			want: Command{URLs: []string{"u"}},
		},
		{
			name: "double dash ends options",
			args: []string{"--", "-i", "u"},
			want: Command{URLs: []string{"-i", "u"}},
		},
		{
			name: "user agent becomes a header; lone dash is a URL",
			args: []string{"-A", "x/1", "-"},
			want: Command{Headers: []string{"User-Agent: x/1"}, URLs: []string{"-"}},
		},
		{
			name: "write-out and data kinds",
			args: []string{"-w", "%{http_code}\n", "--data-binary", "@f", "--data-urlencode", "q=a b", "-G", "u"},
			want: Command{WriteOut: "%{http_code}\n", Data: []Data{{DataBinary, "@f"}, {DataURLEncode, "q=a b"}}, Get: true, URLs: []string{"u"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustParse(t, tt.args...)
			if !reflect.DeepEqual(*got, tt.want) {
				t.Fatalf("ParseArgs(%q)\n got %+v\nwant %+v", tt.args, *got, tt.want)
			}
			again := MustParse(t, got.Args()...)
			if !again.Equal(got) {
				t.Fatalf("round trip through %q gave %+v", got.Args(), *again)
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		unsupported string // the flag an UnsupportedFlagError must name
		usage       string // a substring of a UsageError
	}{
		{name: "unknown long", args: []string{"--compressed", "u"}, unsupported: "--compressed"},
		{name: "unknown short in a run", args: []string{"-sZ", "u"}, unsupported: "-Z"},
		{name: "unknown with value", args: []string{"--retry=3", "u"}, unsupported: "--retry"},
		{name: "missing value", args: []string{"-H"}, usage: "requires parameter"},
		{name: "missing long value", args: []string{"u", "--data"}, usage: "requires parameter"},
		{name: "bad time", args: []string{"-m", "soon", "u"}, usage: "max-time"},
		{name: "negative time", args: []string{"--connect-timeout", "-1", "u"}, usage: "connect-timeout"},
		{name: "boolean with value", args: []string{"--include=yes", "u"}, usage: "takes no value"},
		{name: "header file", args: []string{"-H", "@headers.txt", "u"}, usage: "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseArgs(tt.args)
			if err == nil {
				t.Fatalf("ParseArgs(%q) succeeded", tt.args)
			}
			var uf *UnsupportedFlagError
			var ue *UsageError
			switch {
			case tt.unsupported != "":
				if !errors.As(err, &uf) || uf.Flag != tt.unsupported {
					t.Fatalf("error %v, want unsupported flag %s", err, tt.unsupported)
				}
				if !strings.Contains(err.Error(), tt.unsupported) {
					t.Fatalf("message %q does not name %s", err, tt.unsupported)
				}
			default:
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.usage) {
					t.Fatalf("error %v, want usage error mentioning %q", err, tt.usage)
				}
			}
		})
	}
}

// MustParse parses args or fails the test.
func MustParse(t testing.TB, args ...string) *Command {
	t.Helper()
	c, err := ParseArgs(args)
	if err != nil {
		t.Fatalf("ParseArgs(%q): %v", args, err)
	}
	return c
}

// FuzzParseArgs checks that parsing never panics and that every parsed
// command survives a round trip through its canonical argument list. The
// input is the argument list joined with NUL bytes.
func FuzzParseArgs(f *testing.F) {
	for _, seed := range []string{
		"-i\x00localhost:8080/hello\x00-H\x00host: traffic.split.example",
		"-s\x00localhost:8080/test\x00-H\x00Content-Type: application/json\x00-d\x00{}",
		"-sSfL\x00-XPOST\x00u",
		"--max-time=0.5\x00--no-include\x00--\x00-v",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		c, err := ParseArgs(args)
		if err != nil {
			var uf *UnsupportedFlagError
			var ue *UsageError
			if !errors.As(err, &uf) && !errors.As(err, &ue) {
				t.Fatalf("ParseArgs(%q) returned an untyped error %v", args, err)
			}
			return
		}
		again, err := ParseArgs(c.Args())
		if err != nil {
			t.Fatalf("canonical args %q of %q do not parse: %v", c.Args(), args, err)
		}
		if !again.Equal(c) {
			t.Fatalf("round trip of %q: %+v then %+v", args, *c, *again)
		}
	})
}

// TestParseErrorsCarryCurlsExitCode: every command-line error is an
// *ExitError with curl's code for a bad command line, printed as curl
// prints such errors (no "(2)").
func TestParseErrorsCarryCurlsExitCode(t *testing.T) {
	for _, args := range [][]string{{"--compressed", "u"}, {"-H"}, {"-m", "soon", "u"}} {
		_, err := ParseArgs(args)
		exit, ok := errors.AsType[*ExitError](err)
		if !ok || exit.Code != ExitUsage {
			t.Fatalf("ParseArgs(%q) error %v, want an *ExitError with code %d", args, err, ExitUsage)
		}
		if !strings.HasPrefix(err.Error(), "curl: ") || strings.HasPrefix(err.Error(), "curl: (") {
			t.Errorf("ParseArgs(%q) error %q, want curl's usage line", args, err)
		}
	}
	if err := (&Command{}).validate(); err == nil || err.Error() != "curl: no URL specified" {
		t.Errorf("validate of a command without URL: %v", err)
	}
}

func TestExitErrorMessage(t *testing.T) {
	for _, tt := range []struct {
		err       *ExitError
		text, msg string
	}{
		{exitf(ExitConnect, "Failed to connect to %s", "h"), "curl: (7) Failed to connect to h", "Failed to connect to h"},
		{usage("no URL specified"), "curl: no URL specified", "no URL specified"},
		{&ExitError{Code: ExitRecv}, "curl: (56) exit status 56", "exit status 56"},
	} {
		if tt.err.Error() != tt.text || tt.err.Message() != tt.msg {
			t.Errorf("%#v: Error %q Message %q, want %q and %q", tt.err, tt.err.Error(), tt.err.Message(), tt.text, tt.msg)
		}
	}
	inner := errors.New("disk full")
	if e := exitf(ExitWrite, "Failure writing output: %w", inner); !errors.Is(e, inner) {
		t.Errorf("%v does not wrap its cause", e)
	}
}
