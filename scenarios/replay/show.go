package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/shell"
)

// Show is what any gateway must be configured with to run a scenario: its
// routes as hosts, matches and weighted backends, the exact requests each
// snippet sends, and how answers become categories. It is what a user of
// another gateway needs instead of reading the scenario's files.
type Show struct {
	Scenario   string               `json:"scenario"`
	Title      string               `json:"title,omitempty"`
	Listeners  []ShowListener       `json:"listeners,omitempty"`
	Routes     []ShowRoute          `json:"routes"`
	Categories []scenarios.Category `json:"categories"`
	Classify   string               `json:"classify"`
	Snippets   []ShowSnippet        `json:"snippets"`
	// Steps names the route changes a stepped scenario applies; such a
	// scenario runs only on the embedded target.
	Steps []string `json:"steps,omitempty"`
}

// ShowListener is one listener of the scenario's own Gateway (the one the
// embedded target serves; a gateway of your own has its own).
type ShowListener struct {
	Gateway  string `json:"gateway"`
	Port     int32  `json:"port"`
	Protocol string `json:"protocol"`
	Hostname string `json:"hostname,omitempty"`
}

// ShowRoute is one HTTPRoute.
type ShowRoute struct {
	Name      string     `json:"name"`
	Hostnames []string   `json:"hostnames"`
	Rules     []ShowRule `json:"rules"`
}

// ShowRule is one rule: what it matches and where it sends requests.
type ShowRule struct {
	Matches  []string      `json:"matches"`
	Backends []ShowBackend `json:"backends"`
}

// ShowBackend is one weighted backendRef.
type ShowBackend struct {
	Ref    string `json:"ref"`
	Weight int32  `json:"weight"`
	// Category is what its answers are classified as, when it has one.
	Category string `json:"category,omitempty"`
}

// ShowSnippet is a snippet and one iteration's requests, as sent.
type ShowSnippet struct {
	Name     string        `json:"name"`
	Script   string        `json:"script"`
	Requests []ShowRequest `json:"requests"`
}

// ShowRequest is one HTTP request exactly as the native curl sends it.
type ShowRequest struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Host    string              `json:"host"`
	Headers map[string][]string `json:"headers,omitempty"`
	Body    string              `json:"body,omitempty"`
}

// ShowAddress is what INGRESS_GW_ADDRESS holds while requests are
// recorded for Describe: a name that cannot be mistaken for a real host.
const ShowAddress = "INGRESS_GW_ADDRESS"

// Describe works out s's Show. The requests are recorded by running one
// iteration of each snippet with the native curl against a recorder that
// never touches the network, so they are what a replay really sends.
func Describe(ctx context.Context, s *scenarios.Scenario) (*Show, error) {
	sh := &Show{Scenario: s.Name, Title: s.Title}
	set, err := s.Objects(true)
	if err != nil {
		return nil, err
	}
	cats, err := s.Expected()
	if err != nil {
		return nil, err
	}
	sh.Categories = cats
	byBackend := map[string]string{}
	for _, c := range cats {
		byBackend[c.Backend] = c.Name
	}
	// A faulty arm's errors are part of the split a replay verifies (the
	// provider injects them: splitproof fakeopenai --model-faults).
	if sh.Categories, err = s.ExpectedWithFaults(false); err != nil {
		return nil, err
	}
	for _, g := range set.Gateways {
		for _, l := range g.Spec.Listeners {
			sl := ShowListener{Gateway: g.Namespace + "/" + g.Name, Port: int32(l.Port), Protocol: string(l.Protocol)}
			if l.Hostname != nil {
				sl.Hostname = string(*l.Hostname)
			}
			sh.Listeners = append(sh.Listeners, sl)
		}
	}
	for _, r := range set.HTTPRoutes {
		sh.Routes = append(sh.Routes, showRoute(r, byBackend))
	}
	for _, st := range s.Steps {
		sh.Steps = append(sh.Steps, st.Name)
	}
	classifier, err := classifierFor(s)
	if err != nil {
		return nil, err
	}
	sh.Classify = classifier.String()
	for _, sn := range s.Snippets {
		reqs, err := recordRequests(ctx, sn.Script)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", s.Name, sn.Name, err)
		}
		sh.Snippets = append(sh.Snippets, ShowSnippet{Name: sn.Name, Script: strings.TrimSpace(sn.Script), Requests: reqs})
	}
	return sh, nil
}

func showRoute(r gatewayv1.HTTPRoute, byBackend map[string]string) ShowRoute {
	sr := ShowRoute{Name: r.Namespace + "/" + r.Name, Hostnames: []string{}}
	for _, h := range r.Spec.Hostnames {
		sr.Hostnames = append(sr.Hostnames, string(h))
	}
	for _, rule := range r.Spec.Rules {
		srule := ShowRule{Matches: []string{}}
		for _, m := range rule.Matches {
			srule.Matches = append(srule.Matches, describeMatch(m))
		}
		if len(rule.Matches) == 0 {
			srule.Matches = append(srule.Matches, "PathPrefix /")
		}
		for _, b := range rule.BackendRefs {
			ref := string(b.Name)
			if b.Kind != nil && *b.Kind != "Service" {
				ref = string(*b.Kind) + "/" + ref
			}
			if b.Namespace != nil {
				ref = string(*b.Namespace) + "/" + ref
			}
			if b.Port != nil {
				ref += fmt.Sprintf(":%d", *b.Port)
			}
			w := int32(1) // the spec's default
			if b.Weight != nil {
				w = *b.Weight
			}
			srule.Backends = append(srule.Backends, ShowBackend{Ref: ref, Weight: w, Category: byBackend[string(b.Name)]})
		}
		sr.Rules = append(sr.Rules, srule)
	}
	return sr
}

func describeMatch(m gatewayv1.HTTPRouteMatch) string {
	var parts []string
	if m.Path != nil {
		t, v := gatewayv1.PathMatchPathPrefix, "/"
		if m.Path.Type != nil {
			t = *m.Path.Type
		}
		if m.Path.Value != nil {
			v = *m.Path.Value
		}
		parts = append(parts, fmt.Sprintf("%s %s", t, v))
	}
	if m.Method != nil {
		parts = append(parts, "method "+string(*m.Method))
	}
	for _, h := range m.Headers {
		parts = append(parts, fmt.Sprintf("header %s = %s", h.Name, h.Value))
	}
	for _, q := range m.QueryParams {
		parts = append(parts, fmt.Sprintf("query %s = %s", q.Name, q.Value))
	}
	if len(parts) == 0 {
		return "PathPrefix /"
	}
	return strings.Join(parts, ", ")
}

// recorder answers every request with an empty 200 and keeps a copy.
type recorder struct{ reqs []ShowRequest }

func (rc *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		_ = req.Body.Close()
	}
	h := map[string][]string{}
	for k, v := range req.Header {
		h[k] = append([]string(nil), v...)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	rc.reqs = append(rc.reqs, ShowRequest{Method: req.Method, URL: req.URL.String(), Host: host, Headers: h, Body: string(body)})
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader([]byte("{}"))),
		ContentLength: 2, Request: req,
	}, nil
}

func recordRequests(ctx context.Context, script string) ([]ShowRequest, error) {
	rc := &recorder{}
	_, err := shell.Run(ctx, script, shell.Options{
		Env:        map[string]string{"INGRESS_GW_ADDRESS": ShowAddress},
		Iterations: 1,
		Client:     &http.Client{Transport: rc},
	})
	if err != nil && len(rc.reqs) == 0 {
		return nil, fmt.Errorf("record the snippet's requests: %w", err)
	}
	return rc.reqs, nil
}

// WriteText prints the Show for a person configuring a gateway.
func (sh *Show) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s — %s\n", sh.Scenario, sh.Title)
	if len(sh.Steps) > 0 {
		fmt.Fprintf(&b, "  steps (the route changes between them; embedded target only): %s\n", strings.Join(sh.Steps, ", "))
	}
	b.WriteString("\nroutes your gateway must implement:\n")
	for _, r := range sh.Routes {
		hosts := "any host"
		if len(r.Hostnames) > 0 {
			hosts = strings.Join(r.Hostnames, ", ")
		}
		fmt.Fprintf(&b, "  HTTPRoute %s\n    hostnames: %s (a Host header may carry a port: match it with and without)\n", r.Name, hosts)
		for i, rule := range r.Rules {
			fmt.Fprintf(&b, "    rule %d: %s\n", i, strings.Join(rule.Matches, "; "))
			var total int64
			for _, be := range rule.Backends {
				total += int64(be.Weight)
			}
			for _, be := range rule.Backends {
				share := 0.0
				if total > 0 {
					share = 100 * float64(be.Weight) / float64(total)
				}
				cat := ""
				if be.Category != "" {
					cat = "  → category " + be.Category
				}
				fmt.Fprintf(&b, "      %-40s weight %-7d (%5.1f%%)%s\n", be.Ref, be.Weight, share, cat)
			}
		}
	}
	if len(sh.Listeners) > 0 {
		b.WriteString("\nthe scenario's own Gateway (for reference; yours has its own):\n")
		for _, l := range sh.Listeners {
			host := ""
			if l.Hostname != "" {
				host = " hostname " + l.Hostname
			}
			fmt.Fprintf(&b, "  %s: port %d %s%s\n", l.Gateway, l.Port, l.Protocol, host)
		}
	}
	b.WriteString("\nexpected split:\n")
	for _, c := range sh.Categories {
		fmt.Fprintf(&b, "  %-28s weight %-7d from %s\n", c.Name, c.Weight, c.Backend)
	}
	fmt.Fprintf(&b, "\nresponses are classified by %s\n", sh.Classify)
	for _, sn := range sh.Snippets {
		fmt.Fprintf(&b, "\nsnippet %s:\n", sn.Name)
		for _, line := range strings.Split(sn.Script, "\n") {
			fmt.Fprintf(&b, "    %s\n", line)
		}
		b.WriteString("  each iteration sends:\n")
		for _, r := range sn.Requests {
			fmt.Fprintf(&b, "    %s %s\n      Host: %s\n", r.Method, r.URL, r.Host)
			names := make([]string, 0, len(r.Headers))
			for k := range r.Headers {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				for _, v := range r.Headers[k] {
					fmt.Fprintf(&b, "      %s: %s\n", k, v)
				}
			}
			if r.Body != "" {
				fmt.Fprintf(&b, "      body: %s\n", r.Body)
			}
		}
	}
	fmt.Fprintf(&b, "\n%s is the gateway's address (--gateway sets it; the snippets' port 80 and localhost:8080 go to the gateway).\n", ShowAddress)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the Show as indented JSON.
func (sh *Show) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sh)
}
