package replay

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/curl"
	"github.com/splitproof/splitproof/scenarios/sequence"
	"github.com/splitproof/splitproof/scenarios/shell"
	"github.com/splitproof/splitproof/sim"
	"github.com/splitproof/splitproof/sim/sched"
)

// Endpoint is a gateway as the snippets see it.
type Endpoint struct {
	// Name describes the target in reports ("embedded", "http://10.0.0.5:80").
	Name string
	// Env is the snippets' environment (INGRESS_GW_ADDRESS).
	Env map[string]string
	// Dial maps an address a snippet names ("localhost:8080") to the address
	// to connect to. Addresses not in the map are dialled as written.
	Dial map[string]string
	// PathPrefix, when set, goes before the path of every request to a
	// remapped address: a gateway mounted under a prefix (--gateway
	// http://h:p/prefix).
	PathPrefix string
	// RootCAs, when set, are the only CAs curl's own TLS (an https:// URL
	// in a snippet, or splitproof check's) trusts; nil means the system's.
	RootCAs *x509.CertPool
	// TLS, when set, wraps every connection to a remapped address (an
	// https:// gateway) in TLS with this configuration.
	TLS *tls.Config
	// Diagnose, when set, explains from the target's own state why a
	// scenario's requests get no expected answer (a cluster's route status
	// and backend endpoints); one sentence per finding.
	Diagnose func(ctx context.Context, s *scenarios.Scenario) []string
}

// AddressEndpoint makes the endpoint for a gateway given by URL: the
// snippets' INGRESS_GW_ADDRESS is its host, their port 80 is its port, and
// their localhost:8080 (the doc's port-forward) goes to portForward or the
// gateway itself.
func AddressEndpoint(raw, portForward string) (*Endpoint, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("--gateway %q: expected a URL such as http://127.0.0.1:8080", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("--gateway %q: expected an http:// or https:// URL", raw)
	}
	// The snippets send their own paths; a path here would be dropped
	// without a word, so it is refused.
	// A path is the prefix the gateway is mounted under: the snippets'
	// paths go below it. A query, fragment or user would be dropped
	// without a word, so they are refused.
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("--gateway %q: give scheme://host[:port][/prefix]; a query, fragment or user here would be ignored (the snippets send their own requests)", raw)
	}
	prefix := strings.TrimSuffix(u.Path, "/")
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	real := net.JoinHostPort(host, port)
	pf := real
	if portForward != "" {
		if _, _, err := net.SplitHostPort(portForward); err != nil {
			return nil, fmt.Errorf("--port-forward %q: expected host:port", portForward)
		}
		pf = portForward
	}
	ep := &Endpoint{
		Name:       "gateway " + real + prefix,
		Env:        map[string]string{"INGRESS_GW_ADDRESS": host},
		Dial:       map[string]string{net.JoinHostPort(host, "80"): real, "localhost:8080": pf},
		PathPrefix: prefix,
	}
	if u.Scheme == "https" {
		ep.Name = "gateway https://" + real + prefix
		// The snippets speak plain http to their own addresses; an https
		// gateway gets TLS on the connections remapped to it, verified
		// against the gateway's host name (SetCA, SetInsecure adjust it).
		ep.TLS = &tls.Config{ServerName: host, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12}
	}
	return ep, nil
}

// SetCA makes an https endpoint trust only the certificates in pem (the
// gateway's own CA, e.g. a self-signed one).
func (ep *Endpoint) SetCA(pem []byte) error {
	if ep.TLS == nil {
		return errors.New("a CA certificate applies only to an https:// gateway")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return errors.New("no PEM certificate found")
	}
	ep.TLS.RootCAs = pool
	return nil
}

// SetInsecure makes an https endpoint accept any certificate.
func (ep *Endpoint) SetInsecure() error {
	if ep.TLS == nil {
		return errors.New("--insecure applies only to an https:// gateway")
	}
	ep.TLS.InsecureSkipVerify = true
	return nil
}

// Client returns the HTTP client curl uses inside snippets: it connects to
// the endpoint's real addresses, never asks for compression (curl does not)
// and, under Options.ReuseConnections, keeps connections alive across
// iterations (by default each curl command gets a clone of its transport).
// Its connections are numbered from 1 (curl.ConnCounter), so each client
// — one per replay — gives the replay's sequence its own numbering.
func (ep *Endpoint) Client() *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: new(curl.ConnCounter).Dial(func(ctx context.Context, network, addr string) (net.Conn, error) {
			to, remapped := ep.Dial[addr]
			if remapped {
				addr = to
			}
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil || !remapped || ep.TLS == nil {
				return conn, err
			}
			tc := tls.Client(conn, ep.TLS.Clone())
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = conn.Close()
				return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
			}
			return tc, nil
		}),
		DisableCompression:  true,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
	if ep.RootCAs != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: ep.RootCAs, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{
		Transport: tr,
		// curl follows no redirect unless -L; the curl package decides.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Options tune a replay.
type Options struct {
	// Snippet names the scenario snippet to run; empty runs the first.
	Snippet string
	// Requests scales the snippet's loop. 0 means the sample size at which
	// the verdict has PowerTarget against a deviation of Delta.
	Requests int
	// Sequential stops as soon as the sequential test is sure (Requests, or
	// the computed size times four, is then the cap). Run and RunSteps run
	// the fixed-n test unless it is set; RunAll sets it unless Config.Fixed.
	Sequential bool
	// Alpha is the verdict's false-failure rate (0: sim.DefaultAlpha);
	// Delta the tolerance a PASS verifies each share within and the
	// deviation the power is stated for (0: sim.DefaultDelta).
	Alpha, Delta float64
	// PowerTarget for the computed request count (0: 0.9); 1-PowerTarget is
	// the verdict's false-pass rate (sim.Options.Beta), for the fixed-n and
	// the sequential test alike.
	PowerTarget float64
	// Timeout bounds each HTTP request of the native curl, from dialling to
	// the end of the body (0: DefaultTimeout). A gateway that accepts and
	// never answers then costs Timeout per request, recorded as curl's
	// "Operation timed out", instead of hanging the replay. Real curl
	// (SystemTools) keeps its own flags.
	Timeout time.Duration
	// SystemTools runs real curl and jq instead of the native ones.
	SystemTools bool
	// ReuseConnections keeps the native curl's keep-alive connections
	// across the snippet's curl commands (curl.ConnReuse). By default each
	// command opens connections of its own (curl.ConnNew), as real curl and
	// the doc's loop do, so a gateway that picks a backend per connection
	// is seen as the doc's reader would see it. Real curl (SystemTools)
	// always opens its own, whatever this says.
	ReuseConnections bool
	// Concurrency is how many workers run the snippet's loop iterations at
	// once (0 or 1: one at a time, as the doc's loop; at most
	// MaxConcurrency). The planned count and the sequential cap hold; the
	// arrival order interleaves the workers' (concurrency.go), and the
	// scheduler is classified within the requests in flight together
	// (scheduler.go).
	Concurrency int
	// Route, when set, is an HTTPRoute of the user's own whose rule gives
	// the split to verify instead of the scenario's manifests (not with
	// Weights, nor for a scenario with steps).
	Route *gatewayv1.HTTPRoute
	// Weights, when set, is the split to verify instead of the weights in
	// the scenario's manifests: category name → weight, every category
	// named (a gateway configured with other weights than the scenario's).
	Weights map[string]int32
	// ExpectFailover: the gateway is expected to retry a faulty arm's
	// failures on the other arms (scenarios.ApplyFaults), rather than pass
	// them through as Gateway API's weights alone imply.
	ExpectFailover bool
	// Progress receives a progress line on long runs; nil is quiet.
	Progress io.Writer
	// Logger receives debug records; nil discards.
	Logger *slog.Logger
}

// withWeights returns expected with opts.Weights applied: an error names
// a category the scenario does not have, or one left without a weight.
func withWeights(s *scenarios.Scenario, expected []scenarios.Category, weights map[string]int32) ([]scenarios.Category, error) {
	if weights == nil {
		return expected, nil
	}
	known := map[string]bool{}
	var names []string
	for _, c := range expected {
		if !known[c.Name] {
			names = append(names, c.Name)
		}
		known[c.Name] = true
	}
	for name := range weights {
		if !known[name] {
			return nil, fmt.Errorf("--weights: scenario %s has no category %q (its categories: %s)", s.Name, name, strings.Join(names, ", "))
		}
	}
	out := make([]scenarios.Category, len(expected))
	for i, c := range expected {
		w, ok := weights[c.Name]
		if !ok {
			return nil, fmt.Errorf("--weights: give every category of scenario %s a weight (%s has none; its categories: %s)", s.Name, c.Name, strings.Join(names, ", "))
		}
		c.Weight = w
		out[i] = c
	}
	return out, nil
}

// connPolicy is the native curl's connection policy the options ask for.
func (o Options) connPolicy() curl.ConnPolicy {
	if o.ReuseConnections {
		return curl.ConnReuse
	}
	return curl.ConnNew
}

// Report is the outcome of replaying one snippet.
type Report struct {
	Scenario string `json:"scenario"`
	Title    string `json:"title,omitempty"`
	Snippet  string `json:"snippet"`
	// Step names the step of a stepped scenario ("" for the base manifests).
	Step   string `json:"step,omitempty"`
	Target string `json:"target"`
	// Planned is the loop size asked for; Requests the iterations made.
	Planned  int `json:"planned"`
	Requests int `json:"requests"`
	// Concurrency is how many workers sent the requests (--concurrency):
	// above 1 the recorded order interleaves them.
	Concurrency int `json:"concurrency"`
	// Expected lists the categories and their weights from the manifests.
	Expected []scenarios.Category `json:"expected"`
	Counts   map[string]int64     `json:"counts"`
	// Failures are examples of iterations that produced no category (at most 5).
	Failures []string    `json:"failure_examples,omitempty"`
	Verdict  sim.Verdict `json:"verdict"`
	// Sequential is set for sequential runs.
	Sequential *sim.SequentialState `json:"sequential,omitempty"`
	// Background counts the requests sent during a step's change (stepped scenarios).
	Background int `json:"background_requests,omitempty"`
	// Interrupted is set when the caller's context ended the replay early:
	// the verdict is then INCONCLUSIVE, never PASS.
	Interrupted bool `json:"interrupted,omitempty"`
	// Faults give each faulty arm's error share, expected and observed.
	Faults []scenarios.FaultShare `json:"faults,omitempty"`
	// Run is the verdict's share of its run's false-failure rate (RunAll);
	// nil for a replay run on its own.
	Run      *RunShare     `json:"run,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// Sequence holds every request in arrival order: times, connection,
	// status, category. It goes to the counts file (SequenceFile), not to
	// the report, whose size stays independent of the number of requests.
	Sequence *sequence.Recording `json:"-"`
	// Scheduler is what the arrival order says about the gateway's
	// scheduler, ModelVerdict the verdict of the test that fits it, merged
	// into Verdict (scheduler.go); nil when no order was recorded.
	Scheduler    *sched.Result       `json:"scheduler,omitempty"`
	ModelVerdict *sched.ModelVerdict `json:"model_verdict,omitempty"`
	// Usage is the tokens the responses reported, per category (usage.go);
	// nil when no response carried usage.
	Usage *Usage `json:"usage,omitempty"`
}

func (r *Report) label() string {
	l := r.Scenario + "/" + r.Snippet
	if r.Step != "" {
		l += "@" + r.Step
	}
	return l
}

// Pass reports whether the split was verified.
func (r *Report) Pass() bool { return r.Verdict.Outcome == sim.OutcomePass }

// Outcome is the report's verdict: pass, fail or inconclusive.
func (r *Report) Outcome() sim.Outcome { return r.Verdict.Outcome }

// CountsFile is the report's counts in the format `splitproof verify --file` reads.
func (r *Report) CountsFile() sim.CountsFile {
	return countsFile(r.label(), r.Expected, r.Counts, r.Verdict.Alpha, r.Verdict.Power)
}

// SequenceFile is the report's counts file with the sequence its counts
// came from: what `replay --counts DIR` writes and `splitproof verify
// --file` or `--sequence` reads.
func (r *Report) SequenceFile() sequence.File {
	return sequence.File{CountsFile: r.CountsFile(), Sequence: r.Sequence}
}

func countsFile(name string, expected []scenarios.Category, counts map[string]int64, alpha float64, ps *sim.PowerStatement) sim.CountsFile {
	cf := sim.CountsFile{Scenario: name, Counts: counts, Alpha: alpha}
	if ps != nil {
		cf.Delta = ps.Delta
	}
	for _, c := range mergeCategories(expected) {
		cf.Categories = append(cf.Categories, sim.Category{Name: c.Name, Weight: int64(c.Weight)})
	}
	return cf
}

// mergeCategories adds up backendRefs that share a category, keeping order.
func mergeCategories(cs []scenarios.Category) []scenarios.Category {
	var out []scenarios.Category
	idx := map[string]int{}
	for _, c := range cs {
		if i, ok := idx[c.Name]; ok {
			out[i].Weight += c.Weight
			continue
		}
		idx[c.Name] = len(out)
		out = append(out, c)
	}
	return out
}

// DefaultTimeout is the per-request timeout of a replay: far above any
// answer of the doc's backends (the fake provider streams in well under a
// second), short enough that a hung gateway is reported within a minute.
const DefaultTimeout = 30 * time.Second

// ErrInterrupted marks a replay whose context ended before it made any
// response; a replay interrupted later returns an INCONCLUSIVE report.
var ErrInterrupted = errors.New("replay interrupted")

// maxChunk is the most loop iterations one shell run is asked for.
const maxChunk = 10_000

// ErrUnreachable marks a replay whose every request failed to get an HTTP
// response: the gateway is down or the address is wrong, not the split.
var ErrUnreachable = errors.New("gateway unreachable")

// Run replays one snippet of s against ep and verifies the split of the
// scenario's base manifests.
func Run(ctx context.Context, s *scenarios.Scenario, ep *Endpoint, opts Options) (*Report, error) {
	snippet, err := pickSnippet(s, opts.Snippet)
	if err != nil {
		return nil, err
	}
	expected, err := s.Expected()
	if opts.Route != nil {
		expected, err = s.ExpectedFrom(opts.Route)
	}
	if err != nil {
		return nil, err
	}
	if expected, err = withWeights(s, expected, opts.Weights); err != nil {
		return nil, err
	}
	base := expected
	if expected, err = s.ApplyFaults(expected, opts.ExpectFailover); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	rep, err := run(ctx, s, snippet, expected, "", ep, opts)
	if err != nil {
		return nil, err
	}
	rep.Faults = s.FaultShares(base, rep.Counts, opts.ExpectFailover)
	return rep, nil
}

func pickSnippet(s *scenarios.Scenario, name string) (*scenarios.Snippet, error) {
	if name == "" {
		return &s.Snippets[0], nil
	}
	return s.Snippet(name)
}

func run(ctx context.Context, s *scenarios.Scenario, snippet *scenarios.Snippet, expected []scenarios.Category, step string, ep *Endpoint, opts Options) (*Report, error) {
	start := time.Now()
	if err := validConcurrency(opts.Concurrency); err != nil {
		return nil, err
	}
	var err error
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	label := s.Name + "/" + snippet.Name
	if step != "" {
		label += "@" + step
	}
	cats := mergeCategories(expected)
	shares := make([]float64, len(cats))
	var total int64
	for _, c := range cats {
		total += int64(c.Weight)
	}
	if total == 0 {
		return nil, fmt.Errorf("scenario %s: every weight is zero: no split to verify", s.Name)
	}
	index := map[string]int{}
	for i, c := range cats {
		shares[i] = float64(c.Weight) / float64(total)
		index[c.Name] = i
	}
	alpha := first(opts.Alpha, sim.DefaultAlpha)
	delta := first(opts.Delta, sim.DefaultDelta)
	target := first(opts.PowerTarget, 0.9)

	planned := opts.Requests
	if planned <= 0 {
		planned, err = plannedRequests(shares, alpha, delta, target)
		if err != nil {
			return nil, err
		}
	}
	var seq *sim.Sequential
	if opts.Sequential {
		max := int64(opts.Requests)
		if opts.Requests <= 0 {
			max = 4 * int64(planned)
		}
		seq, err = sim.NewSequential(sim.SequentialConfig{Shares: shares, Alpha: alpha, Delta: delta, Beta: 1 - target, MaxN: max})
		if err != nil {
			return nil, err
		}
		planned = int(max)
	}

	classifier, err := classifierFor(s)
	if err != nil {
		return nil, err
	}
	client := ep.Client()
	client.Timeout = requestTimeout(opts)
	// Count the requests written to the gateway, answered or not, so an
	// interrupted replay can say what it did even before its first response
	// arrived. A client trace on the run's context reaches every request
	// curl makes (curl -k clones the transport, so wrapping it would not).
	sent := &requestCounter{}
	runCtx, cancel := context.WithCancel(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteHeaders: sent.add}))
	defer cancel()
	prog := newProgress(opts.Progress, label, planned)
	conns := sequence.ConnsTraced
	if opts.SystemTools {
		conns = sequence.ConnsPerCommand
	}
	seqRec := sequence.New(start, conns)
	commands := 0 // curl commands run so far: real curl's connection numbers
	counts := map[string]int64{}
	var failures []string
	noResponse := 0
	n := 0
	setup := newSetupCheck(index)
	setupStop := false
	var pending []int // sequential observations held while setup is open
	// The sequential test assumes independent draws. When it decides, the
	// order seen so far is classified (sim/sched): on a gateway that does
	// not draw independently the run goes on until the test fitting its
	// scheduler has decided too, or the cap, so that a bursty gateway is
	// never judged on part of one burst. Unexpected or weight-0 answers
	// fail under every model and stop at once.
	simCats := countsFile(label, expected, nil, alpha, nil).Categories
	seqDecided := false
	seqDecides := func(i int) {
		seqDecided = true
		if i < 0 || shares[i] == 0 || modelAllowsStop(seqRec, simCats, alpha) {
			cancel()
		}
	}
	usage := newUsageTally()
	onIteration := func(it shell.Iteration) {
		n++
		usage.add(it)
		commands += it.Curls
		recordRequest(seqRec, start, it, commands, opts.SystemTools)
		counts[it.Category]++
		if it.Category == shell.CategoryError {
			noResponse++
		}
		if (it.Category == shell.CategoryError || it.Category == shell.CategoryUnmatched) && len(failures) < 5 {
			failures = append(failures, describeFailure(it))
		}
		prog.update(n, counts)
		if setupStop {
			return
		}
		wasOpen := setup.open()
		if setup.observe(it) {
			setupStop = true
			cancel()
			return
		}
		if seq != nil && seqDecided {
			if holdCheckDue(n) && modelAllowsStop(seqRec, simCats, alpha) {
				cancel()
			}
			return
		}
		if seq != nil {
			i, ok := index[it.Category]
			if !ok {
				i = -1
			}
			// Until one answer fits, the gateway may simply not be set up
			// for the scenario: hold the observations, so that a setup
			// problem is diagnosed instead of failing the split at once.
			if setup.open() {
				pending = append(pending, i)
				return
			}
			if wasOpen {
				for _, j := range pending {
					if d, err := seq.Observe(j); err == nil && d != sim.Continue {
						seqDecides(j)
						return
					}
				}
				pending = nil
			}
			if d, err := seq.Observe(i); err == nil && d != sim.Continue {
				seqDecides(i)
			}
		}
	}
	// The loop's iterations, shared among opts.Concurrency workers and
	// run in chunks (concurrency.go); onIteration sees them one at a time.
	if opts.workers() > 1 {
		poolFor(client, opts.workers())
	}
	lp := &loop{script: snippet.Script, planned: planned, workers: opts.workers(), deliver: onIteration, opts: shell.Options{
		Env:         ep.Env,
		Client:      client,
		SystemTools: opts.SystemTools,
		Connections: opts.connPolicy(),
		RewriteURL:  ep.rewriteURL(),
		Classifier:  classifier,
		Logger:      logger,
	}}
	runErr := lp.run(ctx, runCtx)
	// On a terminal the last progress line has no newline yet.
	prog.done(n, counts)
	// The caller's context ending (SIGINT, SIGTERM) before the plan or the
	// sequential test finished leaves a partial run: its counts are shown,
	// but they decide nothing. runCtx alone ends when the sequential test
	// decides, which is no interruption.
	interrupted := ctx.Err() != nil && n < planned && (seq == nil || seq.State().Decision == sim.Continue)
	if n == 0 {
		if interrupted {
			return nil, fmt.Errorf("%w: %s/%s: interrupted before any response (%d requests sent, none answered)", ErrInterrupted, s.Name, snippet.Name, sent.count())
		}
		if k := sent.count(); k > 0 {
			return nil, fmt.Errorf("replay %s/%s: %d requests were sent but no iteration of the snippet's loop finished: %v", s.Name, snippet.Name, k, runErr)
		}
		return nil, fmt.Errorf("replay %s/%s: the snippet made no request", s.Name, snippet.Name)
	}
	if setupStop || (setup.open() && !interrupted) {
		names := make([]string, len(cats))
		for i, c := range cats {
			names[i] = c.Name
		}
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), diagnoseTimeout)
		defer dcancel()
		return nil, setup.err(s, snippet.Name, ep, names, diagnose(dctx, ep, s))
	}
	if noResponse == n {
		return nil, fmt.Errorf("%w: %s: none of %d requests got an HTTP response; first: %s", ErrUnreachable, ep.Name, n, failures[0])
	}
	rep := &Report{
		Scenario: s.Name, Title: s.Title, Snippet: snippet.Name, Step: step, Target: ep.Name,
		Planned: planned, Requests: n, Expected: expected, Counts: counts, Failures: failures,
		Sequence: seqRec, Concurrency: max(opts.Concurrency, 1),
	}
	rep.Usage = usage.report()
	cf := countsFile(label, expected, counts, alpha, &sim.PowerStatement{Delta: delta})
	rep.Verdict, err = sim.Verify(cf, sim.Options{Alpha: alpha, Delta: delta, Beta: 1 - target})
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", label, err)
	}
	if seq != nil {
		st := seq.State()
		rep.Sequential = &st
	}
	switch {
	case interrupted:
		rep.Interrupted = true
		// A weight-0 hit or an unexpected response fails whatever comes
		// next; the fit itself says nothing on a run cut short (and
		// stopping when it looks good would void alpha).
		rep.Verdict.ClearRejection()
		reason := fmt.Sprintf("interrupted after %d requests of %d planned: a partial run decides nothing", n, planned)
		if seq != nil {
			more, basis := sequentialEstimate(seq, int64(n))
			rep.Verdict.MarkInconclusive(reason, more, basis)
		} else {
			basis := fmt.Sprintf("the rest of the %d requests asked for with --requests", planned)
			if opts.Requests <= 0 {
				basis = fmt.Sprintf("the rest of the planned %d, the sample size for power %g against a deviation of %g", planned, target, delta)
			}
			rep.Verdict.MarkInconclusive(reason, int64(planned-n), basis)
		}
	case seq != nil:
		st := seq.State()
		// The sequential test's own decision is the verdict of a sequential
		// run: the fixed-n test above is reported for its table and
		// intervals, but its alpha does not hold under optional stopping.
		rep.Verdict.ClearRejection()
		switch st.Decision {
		case sim.Pass:
			rep.Verdict.MarkPass()
		case sim.Fail:
			if len(rep.Verdict.Failures) == 0 {
				rep.Verdict.Reject("sequential test: " + st.Reason)
			} else {
				// A weight-0 or unexpected response ended the test; the
				// failures above already say so.
				rep.Verdict.AddFailure("sequential test: " + st.Reason)
			}
		default:
			more, basis := sequentialEstimate(seq, int64(n))
			rep.Verdict.MarkInconclusive(fmt.Sprintf("sequential test undecided after %d requests, its cap (--requests)", n), more, basis)
		}
	}
	if err := applyScheduler(rep); err != nil {
		return nil, err
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

// recordRequest adds one iteration of the snippet's loop to the sequence.
// With the native curl the exchanges are exact: sent is when the
// iteration's first request was written, received when its answer (the
// last response, after any redirect) was read, and the connection is the
// one that carried that answer. Real curl is seen only from outside: its
// command's start and exit, the command's number as the connection (a
// process shares connections with no other), and the status it printed.
func recordRequest(seq *sequence.Recording, start time.Time, it shell.Iteration, commands int, systemTools bool) {
	sent, received := it.CurlStart, it.CurlEnd
	if sent.IsZero() {
		// The iteration ran no curl: it is recorded when it ended.
		sent = time.Now()
		received = sent
	}
	var conn uint64
	switch {
	case systemTools:
		if it.Curls > 0 {
			conn = uint64(commands)
		}
	case len(it.Exchanges) > 0:
		sent = it.Exchanges[0].Sent
		last := it.LastExchange()
		if last == nil {
			last = &it.Exchanges[len(it.Exchanges)-1]
		}
		received, conn = last.Received, last.Conn
	}
	seq.Add(sent.Sub(start), received.Sub(start), conn, it.Status, it.Category)
}

func requestTimeout(opts Options) time.Duration {
	if opts.Timeout > 0 {
		return opts.Timeout
	}
	return DefaultTimeout
}

// sequentialEstimate says how many more requests would decide seq, after n,
// and on what assumption.
func sequentialEstimate(seq *sim.Sequential, n int64) (int64, string) {
	total, d := seq.EstimateTotal()
	if d == sim.Pass {
		// The estimate scales real-valued counts; whole counts cannot pass
		// before MinPassN, which the basis names.
		total = max(total, seq.MinPassN())
	}
	if total <= n {
		return 0, ""
	}
	return total - n, fmt.Sprintf("an estimate: if the shares observed so far held, the test would %s there; no sequential pass is possible before %d requests in all", d, seq.MinPassN())
}

func first(xs ...float64) float64 {
	for _, x := range xs {
		if x != 0 {
			return x
		}
	}
	return 0
}

// plannedRequests is the n at which the fixed-n test has the target power,
// at least 100 so the intervals say something even for a single backend.
func plannedRequests(shares []float64, alpha, delta, target float64) (int, error) {
	var ps []float64
	for _, p := range shares {
		if p > 0 {
			ps = append(ps, p)
		}
	}
	if len(ps) < 2 {
		return 100, nil
	}
	n, err := sim.SampleSize(ps, alpha, delta, target)
	if err != nil {
		return 0, fmt.Errorf("sample size: %w", err)
	}
	return int(max(n, 100)), nil
}

func classifierFor(s *scenarios.Scenario) (*shell.Classifier, error) {
	if s.Classify.Header != "" {
		return shell.ByHeader(s.Classify.Header)
	}
	if s.Classify.Regexp != "" {
		return shell.ByRegexp(s.Classify.Regexp, shell.SourceAuto)
	}
	// The doc pipes through jq itself: classify what the pipeline printed
	// when it printed something, otherwise the body.
	return shell.ByJQ(s.Classify.JQ, shell.SourceAuto)
}

func describeFailure(it shell.Iteration) string {
	switch {
	case it.Err != nil:
		return fmt.Sprintf("request %d: %v", it.Index+1, it.Err)
	case it.ClassifyErr != nil:
		return fmt.Sprintf("request %d (HTTP %d): %v", it.Index+1, it.Status, it.ClassifyErr)
	default:
		return fmt.Sprintf("request %d: HTTP %d, no category", it.Index+1, it.Status)
	}
}

// sortedCounts renders counts as "a=1 b=2" in name order.
func sortedCounts(counts map[string]int64) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, counts[k])
	}
	return b.String()
}

// requestCounter counts requests whose headers were written; the transport
// calls add from its own goroutines.
type requestCounter struct{ n atomic.Int64 }

func (c *requestCounter) add()         { c.n.Add(1) }
func (c *requestCounter) count() int64 { return c.n.Load() }

// rewriteURL is the native curl's URL rewrite for ep: the path prefix on
// requests to remapped addresses, nil when there is none.
func (ep *Endpoint) rewriteURL() func(*url.URL) {
	if ep.PathPrefix == "" {
		return nil
	}
	return func(u *url.URL) {
		if _, ok := ep.Dial[dialAddr(u)]; !ok {
			return
		}
		u.Path = ep.PathPrefix + u.Path
		if u.RawPath != "" {
			u.RawPath = ep.PathPrefix + u.RawPath
		}
	}
}

// dialAddr is the host:port a request to u connects to, the scheme's
// default port filled in: the key of Endpoint.Dial.
func dialAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}
