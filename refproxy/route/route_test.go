package route

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestSecretNeverPrints covers every way a key could leak into output:
// fmt verbs, JSON, and structured logs.
func TestSecretNeverPrints(t *testing.T) {
	const key = "sk-live-do-not-print"
	s := Secret(key)
	ai := AIBackend{Host: "h", APIKey: s}
	js, err := json.Marshal(ai)
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("backend", "ai", ai, "key", s)
	outputs := map[string]string{
		"%s": fmt.Sprintf("%s", s), "%v": fmt.Sprintf("%v", s), "%q": fmt.Sprintf("%q", s), "%x": fmt.Sprintf("%x", s),
		"%#v": fmt.Sprintf("%#v", s), "%+v struct": fmt.Sprintf("%+v", ai), "json": string(js), "slog": logs.String(),
	}
	for how, out := range outputs {
		if strings.Contains(out, key) || strings.Contains(out, fmt.Sprintf("%x", key)) {
			t.Errorf("%s reveals the key: %s", how, out)
		}
	}
	if s.Reveal() != key {
		t.Fatal("Reveal must return the key")
	}
	if Secret("").String() != "" {
		t.Fatal("an empty secret prints as empty, so a missing key is visible")
	}
}

func TestHostnameMatches(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"*", "anything", true},
		{"a.example.com", "a.example.com", true},
		{"a.example.com", "b.example.com", false},
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "a.b.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "aexample.com", false},
	}
	for _, tt := range tests {
		if got := HostnameMatches(tt.pattern, tt.host); got != tt.want {
			t.Errorf("HostnameMatches(%q, %q) = %v, want %v", tt.pattern, tt.host, got, tt.want)
		}
	}
	if HostOnly("Foo.Example.com.:8080") != "foo.example.com" {
		t.Errorf("HostOnly = %q", HostOnly("Foo.Example.com.:8080"))
	}
}

func TestNextEndpointRoundRobin(t *testing.T) {
	b := &Backend{Endpoints: []string{"a", "b", "c"}}
	var got []string
	for i := 0; i < 6; i++ {
		got = append(got, b.NextEndpoint())
	}
	if strings.Join(got, "") != "abcabc" {
		t.Fatalf("round robin %v", got)
	}
	if (&Backend{}).NextEndpoint() != "" {
		t.Fatal("no endpoints must give the empty string (503)")
	}
}

func TestMisdirected(t *testing.T) {
	p := &Port{ListenerHosts: []string{"abc.wild.example", "*.wild.example", "second.example", "*"}}
	for _, tc := range []struct {
		sni, host string
		want      bool
	}{
		{"example.org", "example.org", false},   // both the catch-all
		{"example.org", "second.example", true}, // the host has its own listener
		{"second.example", "example.org", true}, // and the other way round
		{"second.example", "second.example", false},
		{"x.wild.example", "y.wild.example", false}, // one wildcard listener
		{"x.wild.example", "abc.wild.example", true},
		{"Second.Example.", "second.example", false}, // SNI case and trailing dot
		{"", "second.example", false},                // no SNI: nothing to compare
	} {
		if got := p.Misdirected(tc.sni, tc.host); got != tc.want {
			t.Errorf("Misdirected(sni %q, host %q) = %v, want %v", tc.sni, tc.host, got, tc.want)
		}
	}
	if (&Port{ListenerHosts: []string{"*"}}).Misdirected("a.example", "b.example") {
		t.Error("one listener: nothing can be misdirected")
	}
}
