package admin_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/admin"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
)

const apiKey = "sk-test-0123456789abcdef"

func aiTable() *route.Table {
	b := &route.Backend{Name: "default/openai", Kind: route.KindAI, Weight: 1, AI: &route.AIBackend{
		Provider: "openai", Model: "gpt-4o-mini", Scheme: "https", Host: "api.openai.com", Port: 443,
		SecretRef: "default/openai-secret", APIKey: route.Secret(apiKey),
	}}
	r := &route.Rule{ID: "default/llm/0", Backends: []*route.Backend{b}, Picker: picker.MustNew(picker.Random, []int32{1}, 1)}
	return &route.Table{Ports: []*route.Port{{Port: 80, Hosts: []*route.VirtualHost{{Hostname: "*", Entries: []*route.Entry{{
		Route: "default/llm", Match: route.Match{PathType: gatewayv1.PathMatchPathPrefix, PathValue: "/test"}, Rule: r,
	}}}}}}}
}

func MustGet(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

func TestAdmin(t *testing.T) {
	p, err := proxy.New(proxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(admin.Handler(p))
	t.Cleanup(srv.Close)

	if code, body := MustGet(t, srv.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := MustGet(t, srv.URL+"/readyz"); code != 503 || !strings.Contains(body, "no routing table loaded") {
		t.Errorf("/readyz before load = %d %q", code, body)
	}

	if _, err := p.Install(aiTable()); err != nil {
		t.Fatal(err)
	}
	if code, body := MustGet(t, srv.URL+"/readyz"); code != 200 || !strings.Contains(body, "generation 1") {
		t.Errorf("/readyz after load = %d %q", code, body)
	}

	// A refused reload leaves the last good table serving: still ready, the
	// refusal in the reason and in the verbose detail.
	p.ReloadFailed(errors.New("routes.yaml:3: bad weight"))
	code, body := MustGet(t, srv.URL+"/readyz")
	if code != 200 || !strings.Contains(body, "routes.yaml:3: bad weight") || !strings.Contains(body, "serving generation 1") {
		t.Errorf("/readyz after failed reload = %d %q, want 200 naming the refusal", code, body)
	}
	code, body = MustGet(t, srv.URL+"/readyz?verbose")
	for _, want := range []string{"[+]table generation 1", "[+]draining no", "[-]last-reload refused", "routes.yaml:3: bad weight"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/readyz?verbose after failed reload = %d %q, want %q", code, body, want)
		}
	}

	code, body = MustGet(t, srv.URL+"/debug/routes")
	if code != 200 {
		t.Fatalf("/debug/routes = %d", code)
	}
	var view struct {
		Generation uint64 `json:"generation"`
		Ready      bool   `json:"ready"`
		LastReload struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		} `json:"last_reload"`
		Table struct {
			Ports []struct {
				Hosts []struct {
					Entries []struct {
						Rule struct {
							Backends []struct {
								AI struct {
									Model  string `json:"model"`
									APIKey string `json:"api_key"`
								} `json:"ai"`
							} `json:"backends"`
						} `json:"rule"`
					} `json:"entries"`
				} `json:"hosts"`
			} `json:"ports"`
		} `json:"table"`
	}
	if err := json.Unmarshal([]byte(body), &view); err != nil {
		t.Fatalf("decode /debug/routes: %v\n%s", err, body)
	}
	if view.Generation != 1 || !view.Ready || view.LastReload.OK || view.LastReload.Error == "" {
		t.Errorf("status in /debug/routes wrong: %+v", view)
	}
	ai := view.Table.Ports[0].Hosts[0].Entries[0].Rule.Backends[0].AI
	if ai.Model != "gpt-4o-mini" || ai.APIKey != "[redacted]" {
		t.Errorf("AI backend rendered as %+v, want the model and a redacted key", ai)
	}

	_, metrics := MustGet(t, srv.URL+"/metrics")
	for _, out := range []string{body, metrics} {
		if strings.Contains(out, apiKey) {
			t.Errorf("API key leaked by the admin listener:\n%s", out)
		}
	}
	for _, want := range []string{
		proxy.MetricGeneration + " 1",
		proxy.MetricLastReloadOK + " 0",
		proxy.MetricReloads + `{result="failure"} 1`,
		proxy.MetricReloads + `{result="success"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestReadyzDuringDrain: shutdown has begun, so the load balancer must stop
// sending new connections even though the table is good.
func TestReadyzDuringDrain(t *testing.T) {
	p, err := proxy.New(proxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Install(aiTable()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(admin.Handler(p))
	t.Cleanup(srv.Close)
	p.Drain()
	code, body := MustGet(t, srv.URL+"/readyz?verbose")
	if code != 503 || !strings.Contains(body, "draining") || !strings.Contains(body, "[-]draining shutdown has begun") {
		t.Errorf("/readyz during the drain = %d %q, want 503 and why", code, body)
	}
	if _, metrics := MustGet(t, srv.URL+"/metrics"); !strings.Contains(metrics, proxy.MetricDraining+" 1") {
		t.Errorf("/metrics lacks %s 1", proxy.MetricDraining)
	}
	// A table installed while draining (a reload that was already running)
	// does not make the proxy ready again.
	if _, err := p.Install(aiTable()); err != nil {
		t.Fatal(err)
	}
	if code, _ := MustGet(t, srv.URL+"/readyz"); code != 503 {
		t.Errorf("/readyz after an install during the drain = %d, want 503", code)
	}
}
