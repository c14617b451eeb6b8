//go:build integration

package peers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/splitproof/splitproof/helloworld"
	"github.com/splitproof/splitproof/internal/cli"
	"github.com/splitproof/splitproof/scenarios/replay"
	"github.com/splitproof/splitproof/sim"
)

// randomRuns is how often a peer that draws at random is replayed: each
// run's verdict, at the default α, is a statement about that run only; a
// few runs show it is not one lucky draw. The gateways seed themselves
// (nginx, HAProxy and Caddy take no seed from the configuration), so each
// run is a fresh process and whether its draws differ from the last run's
// is the gateway's business: nginx's and Caddy's did here, HAProxy 2.6's
// random repeated the same counts in every fresh process.
const randomRuns = 3

// randomAlpha is the false-failure rate asked of each replay through a
// peer that draws at random, since these gateways cannot be seeded. At the
// default α (0.001) the 24 replays of correctly configured random peers
// would fail a correct run about 2.4 % of the time; at 1e-4 about 0.26 %
// (Pearson's exact rate at that n is 1.1e-4), for 1,976 requests a replay
// instead of 1,575, with the same power against a 5-point deviation.
// Smaller α is no better: at 1e-6 the verdict turns to a Monte Carlo
// exact test whose 100,000 draws cannot show p below 1e-5, so even
// 20/20/60 came out INCONCLUSIVE. Deterministic peers keep the default:
// their counts are the same every run.
const randomAlpha = "1e-4"

// MustBinary finds the gateway's binary; under CI=true a missing one fails
// the test, elsewhere it skips with how to get it.
func MustBinary(t *testing.T, gateway string) string {
	t.Helper()
	bin, err := Binary(gateway, os.Getenv)
	if err == nil {
		return bin
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%v: CI must run this test; %s", err, InstallHint(gateway))
	}
	t.Skipf("%v; %s", err, InstallHint(gateway))
	return ""
}

// MustStartPeer starts three helloworld servers and the peer in front of
// them with the given weights, and returns the peer's address. Everything
// stops when the test ends; the gateway by its PID.
func MustStartPeer(t *testing.T, p Peer, bin string, weights [3]int) string {
	t.Helper()
	dir := t.TempDir()
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	c := Config{Dir: dir, Listen: addr, Host: Host}
	for i, w := range weights {
		name := fmt.Sprintf("helloworld-v%d", i+1)
		srv := httptest.NewServer(helloworld.Handler(fmt.Sprintf("v%d", i+1), name+"-"+p.Gateway))
		t.Cleanup(srv.Close)
		c.Backends = append(c.Backends, Backend{Name: name, Addr: strings.TrimPrefix(srv.URL, "http://"), Weight: w})
	}
	conf, err := Render(p.Template, c)
	if err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(dir, strings.TrimSuffix(p.Template, ".tmpl"))
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	proc, err := Start(bin, p.Args(dir, confPath), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proc.Stop)
	if err := proc.WaitListening(context.Background(), addr, 15*time.Second); err != nil {
		logs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		t.Fatalf("%s: %v\n%s\nconfiguration %s:\n%s", p.Name(), err, logs, confPath, conf)
	}
	return addr
}

// MustReplay runs `splitproof replay --gateway http://ADDR --json ARGS…
// example1-ab-testing` through the CLI's own entry point and returns its
// exit code and reports.
func MustReplay(t *testing.T, addr string, args ...string) (int, []replay.Report, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	argv := append([]string{"replay", "--gateway", "http://" + addr, "--json"}, args...)
	argv = append(argv, "example1-ab-testing")
	err := cli.Run(context.Background(), env, argv)
	// The exit code cli.Main would choose: an error without a code of its
	// own is a failure.
	code := cli.ExitOK
	if err != nil {
		code = cli.ExitFail
		var ee *cli.ExitError
		if errors.As(err, &ee) {
			code = ee.Code
		}
	}
	var run struct {
		Reports []replay.Report `json:"reports"`
	}
	if jerr := json.Unmarshal(stdout.Bytes(), &run); jerr != nil {
		t.Fatalf("replay %q: exit %d (%v); stdout is not the JSON report: %v\n%s\n%s", argv, code, err, jerr, stdout.String(), stderr.String())
	}
	return code, run.Reports, stderr.String()
}

// offCategories are the categories a verdict names as off: by the counts
// test (status off) or, when a scheduler model decided, by its failures
// ("v3: 8 per window of 10, expected 6").
func offCategories(rep replay.Report) []string {
	var off []string
	for _, c := range rep.Verdict.Categories {
		named := c.Status == "off"
		if rep.ModelVerdict != nil {
			for _, f := range rep.ModelVerdict.Failures {
				named = named || strings.HasPrefix(f, c.Name+":")
			}
		}
		if named {
			off = append(off, c.Name)
		}
	}
	return off
}

func verdictWord(o sim.Outcome) string { return strings.ToUpper(string(o)) }

func countsNote(rep replay.Report) string {
	return fmt.Sprintf("v1=%d v2=%d v3=%d", rep.Counts["v1"], rep.Counts["v2"], rep.Counts["v3"])
}

// TestPeers replays both of Example 1's snippets through every peer, once
// configured as the doc's route (10/10/80: must PASS) and once with the
// wrong split 20/20/60 (must FAIL, naming v1, v2 and v3 as off). Peers
// that draw at random run randomRuns times, each a fresh gateway process.
func TestPeers(t *testing.T) {
	type split struct {
		weights [3]int
		code    int
		outcome sim.Outcome
		off     []string
		args    []string
	}
	// The right split runs the default (sequential) test; the wrong one the
	// fixed-n test at the planned count, which is enough data to name every
	// category off (a sequential FAIL stops at the first sure deviation,
	// often after ~100 requests, when only the largest is certain).
	splits := []split{
		{[3]int{10, 10, 80}, cli.ExitOK, sim.OutcomePass, nil, nil},
		{[3]int{20, 20, 60}, cli.ExitFail, sim.OutcomeFail, []string{"v1", "v2", "v3"}, []string{"--fixed"}},
	}
	var results []Result
	t.Cleanup(func() {
		var b strings.Builder
		if err := WriteTable(&b, results); err != nil {
			t.Error(err)
		}
		t.Logf("replays through third-party gateways (requests: the default for each α):\n%s", b.String())
	})
	for _, p := range Peers() {
		t.Run(p.Name(), func(t *testing.T) {
			bin := MustBinary(t, p.Gateway)
			runs := 1
			if p.Random() {
				runs = randomRuns
			}
			for _, sp := range splits {
				for run := 1; run <= runs; run++ {
					name := fmt.Sprintf("%d-%d-%d/run%d", sp.weights[0], sp.weights[1], sp.weights[2], run)
					t.Run(name, func(t *testing.T) {
						addr := MustStartPeer(t, p, bin, sp.weights)
						args := append([]string(nil), sp.args...)
						if p.Random() {
							args = append(args, "--alpha", randomAlpha)
						}
						code, reps, stderr := MustReplay(t, addr, args...)
						if len(reps) != 2 {
							t.Fatalf("%d reports, want one per snippet (2):\n%s", len(reps), stderr)
						}
						for _, rep := range reps {
							off := offCategories(rep)
							results = append(results, Result{
								Gateway: p.Gateway, Algorithm: p.Algorithm,
								Weights: fmt.Sprintf("%d/%d/%d", sp.weights[0], sp.weights[1], sp.weights[2]),
								Run:     run, Snippet: rep.Snippet, Verdict: verdictWord(rep.Outcome()), Alpha: rep.Verdict.Alpha,
								Requests: rep.Requests, P: rep.Verdict.Test.PValue, Wall: rep.Duration,
								Note: strings.TrimSpace(countsNote(rep) + " " + strings.Join(off, ",")),
							})
							if rep.Outcome() != sp.outcome {
								t.Errorf("%s: %s, want %s: counts %v, failures %v", rep.Snippet, rep.Outcome(), sp.outcome, rep.Counts, rep.Verdict.Failures)
							}
							if !slices.Equal(off, sp.off) {
								t.Errorf("%s: backends reported off = %v, want %v (counts %v)", rep.Snippet, off, sp.off, rep.Counts)
							}
							// Every request reached a helloworld backend: a
							// request the route did not match (404) or that
							// failed would leave a count short.
							if got := rep.Verdict.Valid; got != int64(rep.Requests) {
								t.Errorf("%s: %d of %d requests classified; failures: %v", rep.Snippet, got, rep.Requests, rep.Failures)
							}
						}
						if code != sp.code {
							t.Errorf("exit code %d, want %d:\n%s", code, sp.code, stderr)
						}
						// The verdict was decided under the right model:
						// exactness for the deterministic schedulers, whole
						// periods for Caddy's blocks, counts for the random
						// ones.
						for _, rep := range reps {
							if rep.Verdict.Scheduler != string(p.Class) {
								t.Errorf("%s: scheduler %q, want %q", rep.Snippet, rep.Verdict.Scheduler, p.Class)
							}
						}
					})
				}
			}
		})
	}
}

// TestCaddyWRRRequestCounts replays the doc's 10/10/80 through Caddy's
// weighted_round_robin at request counts that stop inside a block (Caddy
// sends 10 consecutive requests to v1, 10 to v2, then 80 to v3), with the
// sequential test (--requests is its cap) and the fixed-n one: a correctly
// configured bursty gateway is never FAILed, whatever the count; it is
// INCONCLUSIVE until whole periods decide, and PASSes with enough of them.
func TestCaddyWRRRequestCounts(t *testing.T) {
	var p Peer
	for _, q := range Peers() {
		if q.Gateway == "caddy" && q.Class == Bursty {
			p = q
		}
	}
	if p.Gateway == "" {
		t.Fatal("no bursty caddy peer in Peers()")
	}
	bin := MustBinary(t, p.Gateway)
	var results []Result
	// 20 is the doc's own loop; the others stop inside a block or, at
	// 1000, at the end of a cycle.
	for _, c := range []struct {
		n     int
		fixed bool
	}{{20, false}, {20, true}, {50, true}, {150, false}, {150, true}, {333, true}, {1000, false}, {1000, true}} {
		n := c.n
		t.Run(fmt.Sprintf("%d/fixed=%v", n, c.fixed), func(t *testing.T) {
			// A fresh Caddy per count, so each run starts at the same
			// place in its cycle of 100.
			addr := MustStartPeer(t, p, bin, [3]int{10, 10, 80})
			args := []string{"--requests", fmt.Sprint(n), "--snippet", "port-forward"}
			if c.fixed {
				args = append(args, "--fixed")
			}
			code, reps, stderr := MustReplay(t, addr, args...)
			if len(reps) != 1 || code == cli.ExitBadInput {
				t.Fatalf("exit %d, %d reports; want one verdict:\n%s", code, len(reps), stderr)
			}
			rep := reps[0]
			if c.fixed && rep.Requests != n || rep.Requests > n {
				t.Fatalf("%d requests sent, asked for %d (fixed %v)", rep.Requests, n, c.fixed)
			}
			note := countsNote(rep)
			switch {
			case rep.Outcome() == sim.OutcomeFail:
				t.Errorf("false FAIL of a gateway configured 10/10/80 at %d requests: %v", n, rep.Verdict.Failures)
			case n >= 1000 && rep.Outcome() != sim.OutcomePass:
				t.Errorf("%d requests (10 whole periods): %s, want pass", n, rep.Outcome())
			case n >= 1000 && rep.Verdict.Scheduler != string(Bursty):
				t.Errorf("scheduler %q, want bursty", rep.Verdict.Scheduler)
			}
			results = append(results, Result{
				Gateway: p.Gateway, Algorithm: p.Algorithm, Weights: "10/10/80", Run: 1,
				Snippet: rep.Snippet, Verdict: verdictWord(rep.Outcome()), Requests: rep.Requests,
				P: rep.Verdict.Test.PValue, Alpha: rep.Verdict.Alpha, Wall: rep.Duration, Note: note,
			})
		})
	}
	var b strings.Builder
	if err := WriteTable(&b, results); err != nil {
		t.Fatal(err)
	}
	t.Logf("Caddy weighted_round_robin 10/10/80 by --requests:\n%s", b.String())
}

// TestHAProxyHostWithPortMisroutes shows the classic HAProxy misroute the
// peers' configuration avoids: a Host rule that compares the whole header,
// port included. The external-address snippet sends
// "traffic.split.example:8080", every request gets the listener's 404, and
// the replay must say so within its setup window — exit 2, the Host sent
// and the hint — instead of a verdict on the split; the port-forward
// snippet (Host without a port) still passes.
func TestHAProxyHostWithPortMisroutes(t *testing.T) {
	p := Peer{Gateway: "haproxy", Algorithm: "roundrobin, host with port", Template: misrouteTemplate, Class: Deterministic, Args: haproxyArgs}
	bin := MustBinary(t, p.Gateway)
	addr := MustStartPeer(t, p, bin, [3]int{10, 10, 80})
	var stdout, stderr bytes.Buffer
	env := &cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	err := cli.Run(context.Background(), env, []string{"replay", "--gateway", "http://" + addr, "--snippet", "external-address", "example1-ab-testing"})
	var ee *cli.ExitError
	if !errors.As(err, &ee) || ee.Code != cli.ExitBadInput {
		t.Fatalf("external-address through a port-comparing Host rule: %v, want exit %d", err, cli.ExitBadInput)
	}
	for _, want := range []string{"20 × HTTP 404", "(Host: traffic.split.example:8080)", "404 means no route matched"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	code, reps, errs := MustReplay(t, addr, "--snippet", "port-forward")
	if code != cli.ExitOK || len(reps) != 1 || reps[0].Outcome() != sim.OutcomePass {
		t.Errorf("port-forward (Host without a port): exit %d, %d reports:\n%s", code, len(reps), errs)
	}
}
