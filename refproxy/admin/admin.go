package admin

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
)

// DefaultAddress is where the admin listener binds unless told otherwise:
// loopback, so that the configuration dump is not exposed.
const DefaultAddress = "127.0.0.1:9901"

// Handler returns the admin mux:
//
//	/metrics        Prometheus metrics of p
//	/healthz        200 while the process serves HTTP
//	/readyz         200 when a table is loaded and the last reload succeeded;
//	                503 with the reason otherwise
//	/debug/routes   the current table, generation and reload status as JSON
func Handler(p *proxy.Proxy) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(p.Registry(), promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		ready, why := p.Status().Ready()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not ready: "+why+"\n")
			return
		}
		_, _ = io.WriteString(w, "ready: "+why+"\n")
	})
	mux.HandleFunc("GET /debug/routes", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(NewRoutesView(p.Status()))
	})
	return mux
}

// RoutesView is the JSON document of /debug/routes: the table being served
// (each entry carries its rule, backends and weights; secrets redact
// themselves), its generation and how the last reload went.
type RoutesView struct {
	Generation uint64       `json:"generation"`
	LoadedAt   time.Time    `json:"loaded_at"`
	LastReload proxy.Reload `json:"last_reload"`
	Ready      bool         `json:"ready"`
	Reason     string       `json:"reason"`
	Table      *route.Table `json:"table"`
}

// NewRoutesView renders a status snapshot.
func NewRoutesView(s *proxy.Status) RoutesView {
	ready, why := s.Ready()
	return RoutesView{
		Generation: s.Generation, LoadedAt: s.LoadedAt, LastReload: s.LastReload,
		Ready: ready, Reason: why, Table: s.Table,
	}
}
