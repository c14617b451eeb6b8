package filemode_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splitproof/splitproof/refproxy/admin"
	"github.com/splitproof/splitproof/refproxy/filemode"
	"github.com/splitproof/splitproof/refproxy/loader"
	"github.com/splitproof/splitproof/refproxy/translate"
)

// TestUnresolvedBackendRefsAreLogged: an accepted route whose backendRef
// does not resolve answers that backend's share with 500; the compiler says
// so once per load, with the translator's reason. It used to say nothing.
func TestUnresolvedBackendRefsAreLogged(t *testing.T) {
	a := newBackend(t, "a")
	valid := config([]int{80}, "a", a)
	for _, tc := range []struct {
		name, from, to string
		reason, why    string
	}{
		{"BackendNotFound", "backendRefs: [{name: a, port: 5000}]", "backendRefs: [{name: a, port: 5000}, {name: nope, port: 5000}]",
			"BackendNotFound", "nope"},
		{"RefNotPermitted", "backendRefs: [{name: a, port: 5000}]", "backendRefs: [{name: a, namespace: other, port: 5000}]",
			"RefNotPermitted", "ReferenceGrant"},
		{"port the Service lacks", "backendRefs: [{name: a, port: 5000}]", "backendRefs: [{name: a, port: 5001}]",
			"BackendNotFound", "5001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(valid, tc.from) {
				t.Fatalf("config lacks %q", tc.from)
			}
			path := filepath.Join(t.TempDir(), "config.yaml")
			MustWrite(t, path, strings.Replace(valid, tc.from, tc.to, 1))
			var logs syncBuffer
			compile := filemode.Compiler(loader.Loader{}, translate.Options{}, slog.New(slog.NewTextHandler(&logs, nil)))
			for range 2 {
				if _, err := compile(context.Background(), []string{path}); err != nil {
					t.Fatal(err)
				}
			}
			lines := grepLines(logs.String(), "do not resolve")
			if n := strings.Count(lines, "do not resolve"); n != 2 {
				t.Fatalf("two loads logged %d unresolved-reference lines, want one per load:\n%s", n, logs.String())
			}
			if !strings.Contains(lines, "reason="+tc.reason) || !strings.Contains(lines, tc.why) || !strings.Contains(lines, "route=default/r") {
				t.Errorf("the warning does not name the route, reason %q and %q:\n%s", tc.reason, tc.why, lines)
			}
		})
	}
}

// TestSecretValuesNeverPrinted: a Secret whose value has the wrong type is
// a load error naming file, line and field, but the value, a secret even
// when malformed, appears neither in the error (which is logged) nor in the
// readiness reason (/readyz?verbose).
func TestSecretValuesNeverPrinted(t *testing.T) {
	a := newBackend(t, "a")
	valid := config([]int{80}, "a", a)
	const secret = "sk-SUPERSECRET0123456789"
	for _, tc := range []struct {
		name, payload, want string
	}{
		{"stringData integer", "stringData: {Authorization: 12345678901234567890}", "stringData.Authorization: expected a string, got an integer"},
		{"stringData boolean", "stringData: {Authorization: true}", "stringData.Authorization: expected a string, got a boolean"},
		{"data integer", "data: {Authorization: 12345678901234567890}", "data.Authorization: expected a base64 string, got an integer"},
		{"data list of strings", "data: {Authorization: [" + secret + "]}", "data.Authorization[0]: expected an integer (uint8), got a string"},
		{"data a string", "data: " + secret, "data: expected an object, got a string"},
		{"stringData a string", "stringData: " + secret, "stringData: expected an object, got a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			MustWrite(t, path, valid)
			r, p := MustRunner(t, path, -1)
			MustWrite(t, path, valid+"---\napiVersion: v1\nkind: Secret\nmetadata: {name: openai, namespace: default}\n"+tc.payload+"\n")
			err := r.Reload(context.Background())
			if err == nil {
				t.Fatal("reload with a malformed Secret succeeded")
			}
			_, reason := p.Status().Ready()
			for what, s := range map[string]string{"error": err.Error(), "readiness reason": reason} {
				if strings.Contains(s, secret) || strings.Contains(s, "1234567890") || strings.Contains(s, "true") {
					t.Errorf("%s shows the Secret's value: %s", what, s)
				}
				if !strings.Contains(s, "config.yaml:") || !strings.Contains(s, tc.want) {
					t.Errorf("%s = %q, want file:line and %q", what, s, tc.want)
				}
			}
		})
	}
}

// TestDebugRoutesShowRouteStatus: a route whose backend does not resolve
// serves its share as 500s; /debug/routes says which route, which parent and
// why, as a cluster would in the route's status.
func TestDebugRoutesShowRouteStatus(t *testing.T) {
	a := newBackend(t, "a")
	path := filepath.Join(t.TempDir(), "config.yaml")
	MustWrite(t, path, config([]int{80}, "missing", a))
	r, p := MustRunner(t, path, -1)
	adm := httptest.NewServer(admin.Handler(p))
	t.Cleanup(adm.Close)

	if code, _ := MustGet(t, url(r, 80)); code != http.StatusInternalServerError {
		t.Fatalf("request to a route with an unresolved backend: %d, want 500", code)
	}
	_, body := MustGet(t, adm.URL+"/debug/routes")
	var view struct {
		Table struct {
			Routes []struct {
				Route        string                                   `json:"route"`
				Parent       string                                   `json:"parent"`
				Accepted     struct{ Status, Reason, Message string } `json:"accepted"`
				ResolvedRefs struct{ Status, Reason, Message string } `json:"resolved_refs"`
			} `json:"routes"`
		} `json:"table"`
	}
	if err := json.Unmarshal([]byte(body), &view); err != nil {
		t.Fatalf("/debug/routes: %v\n%s", err, body)
	}
	rs := view.Table.Routes
	if len(rs) != 1 {
		t.Fatalf("/debug/routes has %d route statuses, want 1:\n%s", len(rs), body)
	}
	got := rs[0]
	if got.Route != "default/r" || got.Parent != "default/gw" || got.Accepted.Status != "True" {
		t.Errorf("route status %+v, want default/r accepted by default/gw", got)
	}
	if got.ResolvedRefs.Status != "False" || got.ResolvedRefs.Reason != "BackendNotFound" || !strings.Contains(got.ResolvedRefs.Message, "missing") {
		t.Errorf("resolved_refs %+v, want False BackendNotFound naming the missing Service", got.ResolvedRefs)
	}
}
