package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	"mvdan.cc/sh/v3/syntax"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/curl"
	"github.com/splitproof/splitproof/scenarios/kube"
	"github.com/splitproof/splitproof/scenarios/replay"
	"github.com/splitproof/splitproof/sim"
)

func checkCommand() Command {
	return Command{Name: "check", Short: "verify the split behind any URL: no scenario, no snippet", Run: runCheck}
}

const checkSynopsis = `check URL (--expect NAME=WEIGHT,... | --route FILE | --route-from-cluster NS/NAME --kubeconfig PATH)
      (--classify-regexp RE | --classify-header NAME | --classify-jq EXPR) [flags]

Sends requests to URL, the way a curl loop would, classifies every answer
into a category — a regexp's first group over the body, a response header's
value, or a jq expression over a JSON body — and verifies that the
categories split as --expect says: the same verdicts, reports, files and
exit codes as replay (sequential test by default, --fixed for a fixed n). A
gateway of your own, any route, any backend naming: the categories are
whatever your backends answer. With --route or --route-from-cluster the
split is an HTTPRoute rule's, each backendRef a category named as it (so the
classifier must answer backend names, e.g. a header your backends set).

Answers that fit no category (404, a default backend, TLS errors) within the
first requests stop the run with exit 2 and a diagnosis, not a verdict.

` + exitCodesHelp

const checkExamples = `  # the doc's Example 1 on a gateway of your own (helloworld names its version)
  splitproof helloworld --versions v1,v2,v3 --listen 127.0.0.1:25001 &
  splitproof check http://127.0.0.1:8080/hello --header 'Host: traffic.split.example' \
      --classify-regexp 'Hello version: (v\d+)' --expect v1=10,v2=10,v3=80
  # an LLM split classified by the model that answered
  splitproof check http://127.0.0.1:8080/v1/chat/completions --method POST \
      --header 'Content-Type: application/json' \
      --data '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' \
      --classify-jq .model --expect gpt-4o-mini-2024-07-18=80,gpt-4o-2024-08-06=20
  # backends that say who they are in a header
  splitproof check https://gw.example/ --insecure --classify-header x-served-by --expect blue=90,green=10 --json`

func runCheck(ctx context.Context, env *Env, args []string) error {
	fs := NewFlagSet(env, "check", checkSynopsis, checkExamples)
	var expect pairList
	fs.Var(&expect, "expect", "the split to verify: comma-separated `NAME=WEIGHT` for every category an answer can have (required)")
	routeFile := fs.String("route", "", "instead of --expect: the split of this HTTPRoute `FILE` (its one route, rule --rule), each backendRef a category named as the backendRef")
	routeRef := fs.String("route-from-cluster", "", "instead of --expect: the split of HTTPRoute `NAMESPACE/NAME` read from the cluster of --kubeconfig")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig `PATH` for --route-from-cluster")
	rule := fs.Int("rule", 0, "with --route or --route-from-cluster, the rule `INDEX` whose backendRefs give the split")
	var headers stringList
	fs.Var(&headers, "header", "a request header, `'Name: value'` as curl -H takes it (repeatable)")
	method := fs.String("method", "", "request `METHOD` (default GET, or POST with --data)")
	data := fs.String("data", "", "request body, sent as is (curl --data-raw)")
	classRegexp := fs.String("classify-regexp", "", "category = the first capture group of this `RE` in the response body")
	classHeader := fs.String("classify-header", "", "category = the value of this response header `NAME`")
	classJQ := fs.String("classify-jq", "", "category = this jq `EXPR` over the JSON response body (one scalar)")
	insecure := fs.Bool("insecure", false, "accept any TLS certificate (curl -k)")
	cacert := fs.String("cacert", "", "trust only the CA certificates in this PEM `FILE` for an https:// URL (e.g. a self-signed gateway's)")
	requests := fs.Int("requests", 0, "the sequential test's cap: at most `N` requests, undecided there is INCONCLUSIVE (exit 3); with --fixed, exactly N (default 0: with --fixed the n giving --power against --delta, else four times it)")
	fixed := fs.Bool("fixed", false, "run the fixed-n test (exactly --requests requests, one decision at the end) instead of the sequential one")
	alpha := fs.Float64("alpha", sim.DefaultAlpha, "false-failure rate of the verdict, in (0,1)")
	delta := fs.Float64("delta", sim.DefaultDelta, "a PASS verifies every share within this distance of its weight, in (0,0.5]")
	power := fs.Float64("power", 0.9, "power against --delta that sets the number of requests, in (0,1); 1 - power is the false-pass rate")
	timeout := fs.Duration("timeout", replay.DefaultTimeout, "per-request timeout, from connecting to the end of the body")
	connections := fs.String("connections", curl.ConnNew.String(), "new (a connection per request, as a curl loop does) or reuse (one keep-alive connection)")
	concurrency := fs.Int("concurrency", 1, "run `N` iterations of the snippet's loop at once, each worker a client of its own (1: one request at a time, as the doc's loop). It changes the arrival order, which interleaves the workers' (the gateway's scheduler is classified give or take the requests in flight together, so a round robin may show only as more regular than random, which the counts test then decides), and with --connections reuse a gateway that picks per connection is seen per worker; it changes neither the number of requests (the plan and the cap hold) nor the verdict's statistics (the same tests, alpha and power)")
	jsonOut := fs.Bool("json", false, "print the report as JSON instead of a table")
	junit := fs.String("junit", "", "also write a JUnit XML report to `FILE`")
	plot := fs.String("plot", "", "also draw observed vs expected shares to `FILE.png`")
	countsOut := fs.String("counts", "", "also write the counts, with every request in arrival order, to `DIR` (for splitproof verify)")
	// The URL may come first, as the synopsis writes it.
	positional, err := ParseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return BadInput(fmt.Errorf("expected one URL, got %d arguments %q", len(positional), positional))
	}
	if err := validateReplayFlags(*requests, *alpha, *delta, *power, *timeout); err != nil {
		return BadInput(err)
	}
	target := positional[0]
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return BadInput(fmt.Errorf("URL %q: expected http://HOST[:PORT]/PATH or https://…", target))
	}
	if n := btoi(len(expect) > 0) + btoi(*routeFile != "") + btoi(*routeRef != ""); n > 1 {
		return BadInput(errors.New("give the split once: --expect, --route or --route-from-cluster"))
	}
	if (*routeRef != "") != (*kubeconfig != "") {
		return BadInput(errors.New("--route-from-cluster and --kubeconfig go together"))
	}
	if *routeFile != "" || *routeRef != "" {
		var r *gatewayv1.HTTPRoute
		if *routeFile != "" {
			r, err = loadRoute(*routeFile)
		} else {
			r, err = clusterRoute(ctx, *kubeconfig, *routeRef)
		}
		if err != nil {
			return BadInput(err)
		}
		if expect, err = routeSplit(r, *rule); err != nil {
			return BadInput(err)
		}
	}
	s, err := checkScenario(target, expect, headers, *method, *data, *insecure, scenarios.Classify{Regexp: *classRegexp, Header: *classHeader, JQ: *classJQ})
	if err != nil {
		return BadInput(err)
	}
	conns, err := curl.ParseConnPolicy(*connections)
	if err != nil {
		return BadInput(fmt.Errorf("--connections: %w", err))
	}
	if *concurrency < 1 || *concurrency > replay.MaxConcurrency {
		return BadInput(fmt.Errorf("--concurrency %d: expected 1 to %d", *concurrency, replay.MaxConcurrency))
	}
	ep := &replay.Endpoint{Name: target, Env: map[string]string{}, Dial: map[string]string{}}
	if *cacert != "" {
		if u.Scheme != "https" {
			return BadInput(errors.New("--cacert applies only to an https:// URL"))
		}
		pem, err := os.ReadFile(*cacert)
		if err != nil {
			return BadInput(fmt.Errorf("--cacert: %w", err))
		}
		ep.RootCAs = x509.NewCertPool()
		if !ep.RootCAs.AppendCertsFromPEM(pem) {
			return BadInput(fmt.Errorf("--cacert %s: no PEM certificate found", *cacert))
		}
	}
	cfg := replay.Config{
		Scenarios: []*scenarios.Scenario{s},
		Target:    replay.FixedTarget(ep),
		Fixed:     *fixed,
		Options: replay.Options{
			Requests: *requests, Alpha: *alpha, Delta: *delta, PowerTarget: *power,
			Timeout: *timeout, Progress: env.Stderr, Logger: env.Logger,
			ReuseConnections: conns == curl.ConnReuse, Concurrency: *concurrency,
		},
	}
	res, err := replay.RunAll(ctx, cfg)
	return reportRun(env, res, err, *jsonOut, replay.Files{JUnit: *junit, Plot: *plot, CountsDir: *countsOut})
}

// checkScenario builds the in-memory scenario check runs: one snippet, a
// curl loop over the URL with the request as given, and the split.
func checkScenario(target string, expect pairList, headers []string, method, data string, insecure bool, classify scenarios.Classify) (*scenarios.Scenario, error) {
	set := 0
	for _, c := range []string{classify.Regexp, classify.Header, classify.JQ} {
		if c != "" {
			set++
		}
	}
	if set != 1 {
		return nil, errors.New("give exactly one of --classify-regexp, --classify-header and --classify-jq: how an answer becomes a category")
	}
	if len(expect) == 0 {
		return nil, errors.New("--expect is required: the split to verify, e.g. --expect v1=10,v2=10,v3=80")
	}
	var cats []scenarios.Category
	seen := map[string]bool{}
	var total int64
	for _, p := range expect {
		if p.value < 0 || p.value > 1000000 {
			return nil, fmt.Errorf("--expect %s=%d: out of range: expected 0 to 1000000, as an HTTPRoute's weight", p.name, p.value)
		}
		if seen[p.name] {
			return nil, fmt.Errorf("--expect: %s is given twice", p.name)
		}
		seen[p.name] = true
		total += p.value
		cats = append(cats, scenarios.Category{Name: p.name, Backend: p.name, Weight: int32(p.value)})
	}
	if total == 0 {
		return nil, errors.New("--expect: every weight is zero: no split to verify")
	}
	for _, h := range headers {
		if name, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("--header %q: expected 'Name: value'", h)
		}
	}
	words := []string{"curl", "-s"}
	if insecure {
		words = append(words, "-k")
	}
	if method != "" {
		words = append(words, "-X", method)
	}
	for _, h := range headers {
		words = append(words, "-H", h)
	}
	if data != "" {
		words = append(words, "--data-raw", data)
	}
	words = append(words, target)
	for i, w := range words {
		q, err := syntax.Quote(w, syntax.LangBash)
		if err != nil {
			return nil, fmt.Errorf("cannot quote %q for the request loop: %w", w, err)
		}
		words[i] = q
	}
	return &scenarios.Scenario{
		Name:     "check",
		Title:    target,
		Classify: classify,
		Expect:   cats,
		Snippets: []scenarios.Snippet{{Name: "check", Script: "for i in {1..20}; do " + strings.Join(words, " ") + "; done\n"}},
	}, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// routeSplit is a route rule's split as --expect pairs: one category per
// backendRef, named as it, weighted as the spec says (unset is 1).
func routeSplit(r *gatewayv1.HTTPRoute, rule int) (pairList, error) {
	key := r.Namespace + "/" + r.Name
	if rule < 0 || rule >= len(r.Spec.Rules) {
		return nil, fmt.Errorf("HTTPRoute %s has no rule %d (it has %d)", key, rule, len(r.Spec.Rules))
	}
	var out pairList
	for _, b := range r.Spec.Rules[rule].BackendRefs {
		w := int64(1)
		if b.Weight != nil {
			w = int64(*b.Weight)
		}
		out = append(out, pair{name: string(b.Name), value: w})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("HTTPRoute %s rule %d has no backendRefs to split across", key, rule)
	}
	return out, nil
}

// clusterRoute reads an HTTPRoute from the cluster of a kubeconfig.
func clusterRoute(ctx context.Context, path, ref string) (*gatewayv1.HTTPRoute, error) {
	nn, err := kube.ParseGatewayRef(ref)
	if err != nil {
		return nil, fmt.Errorf("--route-from-cluster %s: expected NAMESPACE/NAME", ref)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", path, err)
	}
	c, err := kube.NewReader(cfg)
	if err != nil {
		return nil, err
	}
	var r gatewayv1.HTTPRoute
	if err := c.Get(ctx, client.ObjectKey(nn), &r); err != nil {
		return nil, fmt.Errorf("get HTTPRoute %s: %w", nn, err)
	}
	return &r, nil
}
