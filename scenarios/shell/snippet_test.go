package shell

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/splitproof/splitproof/scenarios/curl"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"doc example 1", docExample1Local,
			"for i in {1..20}; do curl -i localhost:8080/hello \\\n-H \"host: traffic.split.example\"; done"},
		{"doc example 2 restores the newline before done", docExample2Local,
			"for i in {1..10}; do curl -s \"localhost:8080/test\" \\\n-H \"Content-Type: application/json\" \\\n-d '{\"messages\": [{\"role\": \"user\", \"content\": \"What is 2+2?\"}]}' | \\\njq -r '.model'\ndone"},
		{"quoted backslash space is kept", `echo 'a\ b' "c\ d"`, `echo 'a\ b' "c\ d"`},
		{"well-formed script unchanged", "for i in {1..3}; do\n  echo $i\ndone\n", "for i in {1..3}; do\n  echo $i\ndone\n"},
		{"escaped backslash", `echo a\\ b`, `echo a\\ b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Fatalf("Normalize(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFindLoop(t *testing.T) {
	tests := []struct {
		snippet          string
		from, to, step   int
		count, scaledTo  int
		scaleBy          int
		none             bool
		wantErrSubstring string
	}{
		{snippet: Normalize(docExample1Local), from: 1, to: 20, step: 1, count: 20, scaleBy: 500, scaledTo: 500},
		{snippet: Normalize(docExample2Gateway), from: 1, to: 10, step: 1, count: 10, scaleBy: 3, scaledTo: 3},
		{snippet: "for i in {0..9..3}; do :; done", from: 0, to: 9, step: 3, count: 4, scaleBy: 5, scaledTo: 12},
		{snippet: "for i in {5..1}; do :; done", from: 5, to: 1, step: 1, count: 5, scaleBy: 10, scaledTo: -4},
		{snippet: "for i in {1..3}; do for j in {1..2}; do :; done; done", from: 1, to: 3, step: 1, count: 3, scaleBy: 2, scaledTo: 2},
		{snippet: "for i in $(seq 1 20); do :; done", none: true},
		{snippet: "for i in {1..99999999999999999999}; do :; done", wantErrSubstring: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.snippet, func(t *testing.T) {
			l, err := FindLoop(tt.snippet)
			if tt.wantErrSubstring != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrSubstring) {
					t.Fatalf("error %v, want %q", err, tt.wantErrSubstring)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.none {
				if l != nil {
					t.Fatalf("found loop %+v in a snippet without a brace range", l)
				}
				return
			}
			if l.Var != "i" || l.From != tt.from || l.To != tt.to || l.Step != tt.step || l.Count() != tt.count {
				t.Fatalf("loop %+v count %d", l, l.Count())
			}
			l.scale(tt.scaleBy)
			if l.To != tt.scaledTo || l.Count() != tt.scaleBy {
				t.Fatalf("scaled to %d (count %d), want %d (count %d)", l.To, l.Count(), tt.scaledTo, tt.scaleBy)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	ok := func(body string) curl.Exchange { return curl.Exchange{Status: 200, Body: []byte(body)} }
	hello := MustClassifier(t)(ByRegexp(`Hello version: (v\d+)`, SourceAuto))
	whole := MustClassifier(t)(ByRegexp(`gpt-\S+`, SourceStdout))
	model := MustClassifier(t)(ByJQ(".model", SourceBody))
	status := ByStatus()
	refused := &CurlError{Exit: curl.ExitConnect, Message: "Failed to connect"}
	tests := []struct {
		name      string
		c         *Classifier
		it        Iteration
		want      string
		wantErr   bool
		wantErrIs error
	}{
		{name: "regexp group", c: hello, it: Iteration{Exchanges: []curl.Exchange{ok("Hello version: v3, instance: x")}}, want: "v3"},
		{name: "regexp whole match on stdout", c: whole, it: Iteration{Stdout: []byte("gpt-4o-2024-08-06\n"), Exchanges: []curl.Exchange{ok(`{}`)}}, want: "gpt-4o-2024-08-06"},
		{name: "regexp no match", c: hello, it: Iteration{Exchanges: []curl.Exchange{ok("Goodbye")}}, want: CategoryUnmatched, wantErr: true},
		{name: "jq string", c: model, it: Iteration{Exchanges: []curl.Exchange{ok(`{"model":"gpt-4o-mini-2024-07-18"}`)}}, want: "gpt-4o-mini-2024-07-18"},
		{name: "jq number", c: model, it: Iteration{Exchanges: []curl.Exchange{ok(`{"model":4}`)}}, want: "4"},
		{name: "jq null", c: model, it: Iteration{Exchanges: []curl.Exchange{ok(`{}`)}}, want: CategoryUnmatched, wantErr: true},
		{name: "jq on non-JSON", c: model, it: Iteration{Exchanges: []curl.Exchange{ok(`<html>`)}}, want: CategoryUnmatched, wantErr: true},
		{name: "jq object", c: model, it: Iteration{Exchanges: []curl.Exchange{ok(`{"model":{}}`)}}, want: CategoryUnmatched, wantErr: true},
		{name: "error status wins over content", c: model, it: Iteration{Exchanges: []curl.Exchange{{Status: 503, Body: []byte(`{"model":"x"}`)}}}, want: "503"},
		{name: "status kind", c: status, it: Iteration{Exchanges: []curl.Exchange{ok("")}}, want: "200"},
		{name: "last exchange counts, not the redirect", c: status, it: Iteration{Exchanges: []curl.Exchange{{Status: 302, Redirect: true}, {Status: 500}}}, want: "500"},
		{name: "curl failure", c: hello, it: Iteration{Err: refused, Exchanges: []curl.Exchange{{Err: errors.New("dial")}}}, want: CategoryError, wantErrIs: refused},
		{name: "no request, stdout classifier", c: whole, it: Iteration{Stdout: []byte("gpt-4o\n")}, want: "gpt-4o"},
		{name: "no request, body classifier", c: model, it: Iteration{}, want: CategoryError, wantErr: true},
		{name: "body read failure", c: hello, it: Iteration{Exchanges: []curl.Exchange{{Status: 200, Err: http.ErrBodyReadAfterClose}}}, want: CategoryError, wantErrIs: http.ErrBodyReadAfterClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.c.Classify(&tt.it)
			if got != tt.want {
				t.Fatalf("category %q (err %v), want %q", got, err, tt.want)
			}
			if (err != nil) != (tt.wantErr || tt.wantErrIs != nil) {
				t.Fatalf("error %v, want error: %v", err, tt.wantErr || tt.wantErrIs != nil)
			}
			if tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs) {
				t.Fatalf("error %v, want %v", err, tt.wantErrIs)
			}
		})
	}
}
