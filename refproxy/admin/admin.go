package admin

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
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
//	/metrics          Prometheus metrics of p
//	/healthz          200 while the process serves HTTP
//	/readyz           200 while a good table is serving and shutdown has not
//	                  begun (a refused reload does not change it: the last
//	                  good table serves on); 503 with the reason otherwise
//	/readyz?verbose   the same status, then one line per check, the last
//	                  reload's outcome included
//	/debug/routes     the current table, generation, reload and drain status as JSON
func Handler(p *proxy.Proxy) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(p.Registry(), promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		st := p.Status()
		ready, why := st.Ready()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not ready: "+why+"\n")
		} else {
			_, _ = io.WriteString(w, "ready: "+why+"\n")
		}
		if r.URL.Query().Has("verbose") {
			_, _ = io.WriteString(w, readinessDetail(st))
		}
	})
	mux.HandleFunc("GET /debug/routes", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(NewRoutesView(p.Status()))
	})
	return mux
}

// readinessDetail is the body of /readyz?verbose after the status line: a
// line per check, [+] passing and [-] failing, as the Kubernetes API server
// prints its own; the last reload is listed for information and never fails
// readiness.
func readinessDetail(s *proxy.Status) string {
	var b strings.Builder
	check := func(ok bool, name, detail string) {
		mark := "[+]"
		if !ok {
			mark = "[-]"
		}
		fmt.Fprintf(&b, "%s%s %s\n", mark, name, detail)
	}
	if s.Table != nil {
		check(true, "table", fmt.Sprintf("generation %d, installed %s", s.Generation, s.LoadedAt.UTC().Format(time.RFC3339)))
	} else {
		check(false, "table", "none loaded")
	}
	if s.Draining {
		check(false, "draining", "shutdown has begun")
	} else {
		check(true, "draining", "no")
	}
	switch {
	case s.LastReload.At.IsZero():
		check(true, "last-reload", "none yet")
	case s.LastReload.OK:
		check(true, "last-reload", "succeeded "+s.LastReload.At.UTC().Format(time.RFC3339))
	default:
		check(false, "last-reload", fmt.Sprintf("refused %s (does not affect readiness; generation %d serves on): %s",
			s.LastReload.At.UTC().Format(time.RFC3339), s.Generation, s.LastReload.Error))
	}
	return b.String()
}

// RoutesView is the JSON document of /debug/routes: the table being served
// (each entry carries its rule, backends and weights; secrets redact
// themselves), its generation, how the last reload went (a refused one with
// its error) and whether shutdown has begun.
type RoutesView struct {
	Generation uint64       `json:"generation"`
	LoadedAt   time.Time    `json:"loaded_at"`
	LastReload proxy.Reload `json:"last_reload"`
	Ready      bool         `json:"ready"`
	Reason     string       `json:"reason"`
	Draining   bool         `json:"draining"`
	Table      *route.Table `json:"table"`
}

// NewRoutesView renders a status snapshot.
func NewRoutesView(s *proxy.Status) RoutesView {
	ready, why := s.Ready()
	return RoutesView{
		Generation: s.Generation, LoadedAt: s.LoadedAt, LastReload: s.LastReload,
		Ready: ready, Reason: why, Draining: s.Draining, Table: s.Table,
	}
}
