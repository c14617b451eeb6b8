package replay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/shell"
)

// A gateway that is not set up for the scenario (a Host rule that compares
// the port, a route attached to no listener, backends with no endpoint)
// answers every request the same wrong way. Sending the whole planned run
// to it only to print a table of −80-point rows hides the cause, so the
// first responses are watched: when none of the first SetupWindow fits any
// category the scenario expects, or none of the first UnreachableWindow got
// an HTTP response at all, the replay stops with a diagnosis instead of a
// verdict (exit 2: a setup problem, not a split).
const (
	SetupWindow       = 20
	UnreachableWindow = 5
	// UnreachableBudget also ends the watch on a gateway that does not
	// answer: requests that each wait for a timeout would otherwise take
	// UnreachableWindow timeouts to say what the first one showed.
	UnreachableBudget = 5 * time.Second
)

// ErrSetup marks a replay stopped because the gateway's first answers fit
// no expected category: the gateway is reachable but not routing the
// scenario's requests to its backends.
var ErrSetup = errors.New("gateway not set up for this scenario")

// setupCheck watches a replay's first responses. Until one of them fits an
// expected category the check is open; after that it never stops a run.
type setupCheck struct {
	expected map[string]int
	ok       bool
	seen     int
	noResp   int
	statuses map[int]int
	// examples holds the first answer (or failure) seen per status.
	examples map[int]string
	first    *shell.Iteration
	// start is when the first watched request began.
	start time.Time
}

func newSetupCheck(expected map[string]int) *setupCheck {
	return &setupCheck{expected: expected, statuses: map[int]int{}, examples: map[int]string{}}
}

// observe records one iteration and reports whether the run must stop.
func (c *setupCheck) observe(it shell.Iteration) bool {
	if c.ok {
		return false
	}
	if _, ok := c.expected[it.Category]; ok {
		c.ok = true
		return false
	}
	c.seen++
	if c.first == nil {
		cp := it
		c.first = &cp
		c.start = it.CurlStart
		if c.start.IsZero() {
			c.start = time.Now()
		}
	}
	status := it.Status
	if it.Category == shell.CategoryError && it.Status == 0 {
		c.noResp++
	}
	c.statuses[status]++
	if _, ok := c.examples[status]; !ok {
		c.examples[status] = answerExcerpt(it)
	}
	if c.noResp == c.seen && (c.seen >= UnreachableWindow || time.Since(c.start) >= UnreachableBudget) {
		return true
	}
	return c.seen >= SetupWindow
}

// open reports whether no expected answer has been seen yet: observations
// for the sequential test wait until then, so that a misrouted gateway is
// a setup problem rather than a sequential FAIL at its first response.
func (c *setupCheck) open() bool { return !c.ok }

// err describes why the run stopped. dialed maps the addresses the
// snippet named to those connected to; diagnosis is what the target could
// find out on its own (a cluster's route status and endpoints).
func (c *setupCheck) err(s *scenarios.Scenario, snippet string, ep *Endpoint, cats []string, diagnosis []string) error {
	var b strings.Builder
	unreachable := c.noResp == c.seen
	sentinel := ErrSetup
	if unreachable {
		sentinel = ErrUnreachable
		fmt.Fprintf(&b, "%s/%s: none of the first %d requests got an HTTP response from %s (%s)", s.Name, snippet, c.seen, ep.Name, time.Since(c.start).Round(time.Millisecond))
	} else {
		fmt.Fprintf(&b, "%s/%s: none of the first %d responses fits a category the scenario expects (%s); answers: %s",
			s.Name, snippet, c.seen, strings.Join(cats, ", "), c.answers())
	}
	if req := c.request(ep); req != "" {
		fmt.Fprintf(&b, "\n  request sent: %s", req)
	}
	if !unreachable {
		for _, st := range c.sortedStatuses() {
			if st != 0 {
				fmt.Fprintf(&b, "\n  first HTTP %d answer: %s", st, c.examples[st])
			}
		}
	}
	if c.noResp > 0 {
		fmt.Fprintf(&b, "\n  first failure: %s", c.examples[0])
	}
	for _, h := range c.hints(unreachable) {
		fmt.Fprintf(&b, "\n  hint: %s", h)
	}
	for _, d := range diagnosis {
		fmt.Fprintf(&b, "\n  cluster: %s", d)
	}
	return fmt.Errorf("%w: %s", sentinel, b.String())
}

func (c *setupCheck) sortedStatuses() []int {
	sts := make([]int, 0, len(c.statuses))
	for st := range c.statuses {
		sts = append(sts, st)
	}
	sort.Ints(sts)
	return sts
}

// answers renders the status counts: "20 × HTTP 404" or "12 × HTTP 503,
// 8 × no response".
func (c *setupCheck) answers() string {
	var parts []string
	for _, st := range c.sortedStatuses() {
		what := fmt.Sprintf("HTTP %d", st)
		if st == 0 {
			what = "no response"
		}
		parts = append(parts, fmt.Sprintf("%d × %s", c.statuses[st], what))
	}
	return strings.Join(parts, ", ")
}

// request describes the first request as sent: method, URL as the snippet
// wrote it, the Host header, and the address actually dialled when the
// endpoint remaps it.
func (c *setupCheck) request(ep *Endpoint) string {
	if c.first == nil {
		return ""
	}
	ex := c.first.LastExchange()
	if ex == nil {
		return "(the snippet's curl made no HTTP exchange; under --system-tools only its output is seen)"
	}
	desc := fmt.Sprintf("%s %s (Host: %s)", ex.Method, ex.URL, ex.Host)
	if u, err := url.Parse(ex.URL); err == nil {
		addr := dialAddr(u)
		if to, ok := ep.Dial[addr]; ok {
			desc += ", dialled " + to
		} else {
			desc += ", dialled " + addr
		}
	}
	return desc
}

// hints are the likely causes of the answers seen, most specific first.
func (c *setupCheck) hints(unreachable bool) []string {
	var host string
	if c.first != nil {
		if ex := c.first.LastExchange(); ex != nil {
			host = ex.Host
		}
	}
	if unreachable {
		if first := c.examples[0]; strings.Contains(first, "TLS handshake") || strings.Contains(first, "x509") || strings.Contains(first, "tls:") {
			return []string{"the TLS handshake failed: for an https:// gateway give --cacert FILE (the CA that signed its certificate) or --insecure; for a plain-HTTP gateway use http://"}
		}
		return []string{"nothing answers at the address dialled: is the gateway running and listening there (for a cluster: does its LoadBalancer address route to this machine)?"}
	}
	var out []string
	if c.statuses[404] > 0 {
		h := "404 means no route matched"
		if host != "" {
			h += fmt.Sprintf(": does the gateway match host %q", host)
			if name, _, err := net.SplitHostPort(host); err == nil {
				h += fmt.Sprintf(" (many gateways compare the port too: configure %q and %q, or match the host ignoring the port)", name, host)
			}
			h += " and the snippet's path?"
		}
		out = append(out, h)
	}
	if c.statuses[500]+c.statuses[502]+c.statuses[503]+c.statuses[504] > 0 {
		out = append(out, "5xx from the gateway usually means the route matched but its backends cannot be reached: do the backend Services exist and have ready endpoints, and do the backendRefs name the right ports?")
	}
	if c.statuses[301]+c.statuses[302]+c.statuses[307]+c.statuses[308] > 0 {
		out = append(out, "the gateway redirects: is it forcing HTTPS or a different host?")
	}
	if c.statuses[200] > 0 {
		out = append(out, "HTTP 200 that fits no category: the gateway answers from something other than the scenario's backends (a default backend?), or the classifier does not match its responses (splitproof replay --list shows the scenarios)")
	}
	return out
}

// answerExcerpt is a short, printable view of one iteration's answer.
func answerExcerpt(it shell.Iteration) string {
	if it.Err != nil {
		return it.Err.Error()
	}
	body := it.Stdout
	if ex := it.LastExchange(); ex != nil && len(ex.Body) > 0 {
		body = ex.Body
	}
	s := strings.TrimSpace(string(body))
	if !utf8.ValidString(s) {
		return fmt.Sprintf("(%d bytes, not text)", len(body))
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	if s == "" {
		return "(empty body)"
	}
	return fmt.Sprintf("%q", s)
}

// diagnose asks the endpoint, when it can, why the scenario's requests
// fail; it never blocks the exit for long.
func diagnose(ctx context.Context, ep *Endpoint, s *scenarios.Scenario) []string {
	if ep.Diagnose == nil {
		return nil
	}
	return ep.Diagnose(ctx, s)
}

// diagnoseTimeout bounds the target's own diagnosis (API reads).
const diagnoseTimeout = 10 * time.Second
