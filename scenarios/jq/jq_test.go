package jq

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// sseModel is the streaming scenario's filter: every data event's model,
// once.
const sseModel = `[splits("\n") | select(startswith("data: {")) | ltrimstr("data: ") | fromjson | .model] | unique | .[]`

// sseChat is a chat stream with its usage chunk, as fakeopenai sends it.
const sseChat = "data: {\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"delta\":{\"content\":\"4\"}}],\"usage\":null}\n\n" +
	"data: {\"model\":\"gpt-4o-2024-08-06\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n"

func TestRun(t *testing.T) {
	const chat = `{"id":"c1","model":"gpt-4o-mini-2024-07-18","choices":[{"message":{"content":"4"}}],"usage":{"total_tokens":12}}`
	tests := []struct {
		name   string
		args   []string
		stdin  string
		stdout string
		stderr string // substring
		exit   int
	}{
		{name: "doc: raw model", args: []string{"-r", ".model"}, stdin: chat, stdout: "gpt-4o-mini-2024-07-18\n"},
		{name: "json string without -r", args: []string{".model"}, stdin: chat, stdout: "\"gpt-4o-mini-2024-07-18\"\n"},
		{name: "pretty object", args: []string{".usage"}, stdin: chat, stdout: "{\n  \"total_tokens\": 12\n}\n"},
		{name: "compact", args: []string{"-c", ".choices"}, stdin: chat, stdout: "[{\"message\":{\"content\":\"4\"}}]\n"},
		{name: "tab indent", args: []string{"--tab", "{a:1}"}, stdin: "null", stdout: "{\n\t\"a\": 1\n}\n"},
		{name: "stream of inputs", args: []string{"-r", ".model"}, stdin: `{"model":"a"} {"model":"b"}` + "\n" + `{"model":"c"}`, stdout: "a\nb\nc\n"},
		{name: "missing field is null", args: []string{"-r", ".model"}, stdin: `{}`, stdout: "null\n"},
		{name: "big numbers kept", args: []string{"-c", "."}, stdin: `[12345678901234567890, 1.5]`, stdout: "[12345678901234567890,1.5]\n"},
		{name: "arg and argjson", args: []string{"-c", "--arg", "v", "x", "--argjson", "n", "{\"k\":2}", "-n", "[$v, $n.k]"}, stdout: "[\"x\",2]\n"},
		{name: "slurp", args: []string{"-c", "-s", "map(.m)"}, stdin: `{"m":1}{"m":2}`, stdout: "[1,2]\n"},
		{name: "join output", args: []string{"-j", ".[]"}, stdin: `["a",1]`, stdout: "a1"},
		{name: "exit status true", args: []string{"-e", ".ok"}, stdin: `{"ok":true}`, stdout: "true\n"},
		{name: "exit status null", args: []string{"-e", ".ok"}, stdin: `{}`, stdout: "null\n", exit: ExitFalse},
		{name: "exit status no output", args: []string{"-e", "empty"}, stdin: `{}`, exit: ExitNoOutput},
		{name: "runtime error", args: []string{"-r", ".model"}, stdin: `[1]`, stderr: "jq: error (at <stdin>:1):", exit: ExitRuntimeFail},
		{name: "runtime error keeps going", args: []string{"-r", ".model"}, stdin: `[1] {"model":"m"}`, stdout: "m\n", stderr: "jq: error", exit: ExitRuntimeFail},
		{name: "compile error", args: []string{".model |"}, stdin: `{}`, stderr: "jq: 1 compile error", exit: ExitCompile},
		{name: "not json (an HTML error page)", args: []string{"-r", ".model"}, stdin: "<html>500</html>", stderr: "Cannot parse input", exit: ExitUsage},
		{name: "empty input", args: []string{"-r", ".model"}, stdin: "", stdout: ""},
		{name: "halt_error", args: []string{"-n", `"bye\n" | halt_error(3)`}, stderr: "bye", exit: 3},
		{name: "raw input: a string per line", args: []string{"-c", "-R", "."}, stdin: "data: {\"a\":1}\n\nlast", stdout: "\"data: {\\\"a\\\":1}\"\n\"\"\n\"last\"\n"},
		{name: "raw input keeps a carriage return", args: []string{"-c", "--raw-input", "."}, stdin: "a\r\n", stdout: "\"a\\r\"\n"},
		{name: "raw input, empty", args: []string{"-R", "."}, stdin: "", stdout: ""},
		{name: "raw slurp: all input one string", args: []string{"-c", "-Rs", "."}, stdin: "a\nb\n", stdout: "\"a\\nb\\n\"\n"},
		{name: "raw slurp of nothing is the empty string", args: []string{"-c", "-Rs", "."}, stdin: "", stdout: "\"\"\n"},
		{name: "SSE: the chunks' model once", args: []string{"-rRs", sseModel}, stdin: sseChat, stdout: "gpt-4o-2024-08-06\n"},
		{name: "SSE per line", args: []string{"-rR", `select(startswith("data: {")) | ltrimstr("data: ") | fromjson | .model`}, stdin: sseChat, stdout: "gpt-4o-2024-08-06\ngpt-4o-2024-08-06\n"},
	}
	r := NewRunner()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			exit, err := r.Run(context.Background(), tt.args, Stdio{Stdin: strings.NewReader(tt.stdin), Stdout: &stdout, Stderr: &stderr})
			if err != nil {
				t.Fatalf("jq %q: %v", tt.args, err)
			}
			if exit != tt.exit {
				t.Errorf("exit %d, want %d (stderr %q)", exit, tt.exit, stderr.String())
			}
			if stdout.String() != tt.stdout {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.stdout)
			}
			if !strings.Contains(stderr.String(), tt.stderr) || (tt.stderr == "" && stderr.Len() > 0) {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.stderr)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		unsupported string
	}{
		{name: "unknown long", args: []string{"--seq", "."}, unsupported: "--seq"},
		{name: "unknown short", args: []string{"-rC", "."}, unsupported: "-C"},
		{name: "no filter", args: []string{"-r"}},
		{name: "arg short of values", args: []string{"--arg", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseArgs(tt.args)
			var uf *UnsupportedFlagError
			var ue *UsageError
			switch {
			case err == nil:
				t.Fatalf("ParseArgs(%q) succeeded", tt.args)
			case tt.unsupported != "":
				if !errors.As(err, &uf) || uf.Flag != tt.unsupported || !strings.Contains(err.Error(), tt.unsupported) {
					t.Fatalf("error %v, want one naming %s", err, tt.unsupported)
				}
			case !errors.As(err, &ue):
				t.Fatalf("error %v, want a usage error", err)
			}
		})
	}
}

func TestFiles(t *testing.T) {
	files := map[string]string{"a.json": `{"model":"x"}`}
	open := func(name string) (io.ReadCloser, error) {
		s, ok := files[name]
		if !ok {
			return nil, errors.New("no such file")
		}
		return io.NopCloser(strings.NewReader(s)), nil
	}
	r := NewRunner()
	var out, errOut bytes.Buffer
	exit, err := r.Run(context.Background(), []string{"-r", ".model", "a.json"}, Stdio{Stdout: &out, Stderr: &errOut, Open: open})
	if err != nil || exit != 0 || out.String() != "x\n" {
		t.Fatalf("exit %d err %v out %q", exit, err, out.String())
	}
	exit, err = r.Run(context.Background(), []string{".", "missing.json"}, Stdio{Stdout: &out, Stderr: &errOut, Open: open})
	if err != nil || exit != ExitUsage || !strings.Contains(errOut.String(), "Could not open missing.json") {
		t.Fatalf("exit %d err %v stderr %q", exit, err, errOut.String())
	}
	if _, err := r.Run(context.Background(), []string{".", "a.json"}, Stdio{}); err == nil {
		t.Fatal("reading a file without an Open function succeeded")
	}
}
