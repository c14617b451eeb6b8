package replay

import (
	"context"
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

	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/curl"
	"github.com/splitproof/splitproof/scenarios/sequence"
	"github.com/splitproof/splitproof/scenarios/shell"
	"github.com/splitproof/splitproof/sim"
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
	if u.Scheme != "http" {
		return nil, fmt.Errorf("--gateway %q: only http:// gateways are supported", raw)
	}
	// The snippets send their own paths; a path here would be dropped
	// without a word, so it is refused.
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("--gateway %q: give only scheme://host[:port]; the snippets send their own paths, and a path, query, fragment or user here would be ignored", raw)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
	}
	real := net.JoinHostPort(host, port)
	pf := real
	if portForward != "" {
		if _, _, err := net.SplitHostPort(portForward); err != nil {
			return nil, fmt.Errorf("--port-forward %q: expected host:port", portForward)
		}
		pf = portForward
	}
	return &Endpoint{
		Name: "gateway " + real,
		Env:  map[string]string{"INGRESS_GW_ADDRESS": host},
		Dial: map[string]string{net.JoinHostPort(host, "80"): real, "localhost:8080": pf},
	}, nil
}

// Client returns the HTTP client curl uses inside snippets: it connects to
// the endpoint's real addresses, never asks for compression (curl does not)
// and keeps connections alive across iterations like a fast curl loop would.
// Its connections are numbered from 1 (curl.ConnCounter), so each client
// — one per replay — gives the replay's sequence its own numbering.
func (ep *Endpoint) Client() *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: new(curl.ConnCounter).Dial(func(ctx context.Context, network, addr string) (net.Conn, error) {
			if to, ok := ep.Dial[addr]; ok {
				addr = to
			}
			return d.DialContext(ctx, network, addr)
		}),
		DisableCompression:  true,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
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
	// the computed size times four, is then the cap).
	Sequential bool
	// Alpha is the false-failure rate (0: sim.DefaultAlpha); Delta the
	// deviation the power is stated for (0: sim.DefaultDelta).
	Alpha, Delta float64
	// PowerTarget for the computed request count (0: 0.9).
	PowerTarget float64
	// Timeout bounds each HTTP request of the native curl, from dialling to
	// the end of the body (0: DefaultTimeout). A gateway that accepts and
	// never answers then costs Timeout per request, recorded as curl's
	// "Operation timed out", instead of hanging the replay. Real curl
	// (SystemTools) keeps its own flags.
	Timeout time.Duration
	// SystemTools runs real curl and jq instead of the native ones.
	SystemTools bool
	// Progress receives a progress line on long runs; nil is quiet.
	Progress io.Writer
	// Logger receives debug records; nil discards.
	Logger *slog.Logger
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
	Interrupted bool          `json:"interrupted,omitempty"`
	Duration    time.Duration `json:"duration_ns"`
	// Sequence holds every request in arrival order: times, connection,
	// status, category. It goes to the counts file (SequenceFile), not to
	// the report, whose size stays independent of the number of requests.
	Sequence *sequence.Recording `json:"-"`
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
	if err != nil {
		return nil, err
	}
	return run(ctx, s, snippet, expected, "", ep, opts)
}

func pickSnippet(s *scenarios.Scenario, name string) (*scenarios.Snippet, error) {
	if name == "" {
		return &s.Snippets[0], nil
	}
	return s.Snippet(name)
}

func run(ctx context.Context, s *scenarios.Scenario, snippet *scenarios.Snippet, expected []scenarios.Category, step string, ep *Endpoint, opts Options) (*Report, error) {
	start := time.Now()
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
	onIteration := func(it shell.Iteration) {
		n++
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
		if seq != nil {
			i, ok := index[it.Category]
			if !ok {
				i = -1
			}
			if d, err := seq.Observe(i); err == nil && d != sim.Continue {
				cancel()
			}
		}
	}
	// The shell expands a brace range to at most 16,384 words, so a long
	// replay runs the snippet in chunks; the loop variable restarts at the
	// range's start in each chunk (the doc's snippets do not use it).
	var runErr error
	for remaining := planned; remaining > 0 && runCtx.Err() == nil; {
		chunk := min(remaining, maxChunk)
		remaining -= chunk
		before := n
		_, runErr = shell.Run(runCtx, snippet.Script, shell.Options{
			Env:         ep.Env,
			Iterations:  chunk,
			Client:      client,
			SystemTools: opts.SystemTools,
			Classifier:  classifier,
			Logger:      logger,
			OnIteration: onIteration,
		})
		if runErr != nil {
			break
		}
		if n == before {
			break // the snippet ran but its loop made no iteration
		}
	}
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
	if noResponse == n {
		return nil, fmt.Errorf("%w: %s: none of %d requests got an HTTP response; first: %s", ErrUnreachable, ep.Name, n, failures[0])
	}
	rep := &Report{
		Scenario: s.Name, Title: s.Title, Snippet: snippet.Name, Step: step, Target: ep.Name,
		Planned: planned, Requests: n, Expected: expected, Counts: counts, Failures: failures,
		Sequence: seqRec,
	}
	cf := countsFile(label, expected, counts, alpha, &sim.PowerStatement{Delta: delta})
	rep.Verdict, err = sim.Verify(cf, sim.Options{Alpha: alpha, Delta: delta})
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
