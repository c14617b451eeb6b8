package weights

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"sync"
	"time"

	"github.com/splitproof/splitproof/helloworld"
	"github.com/splitproof/splitproof/internal/splitmix"
	"github.com/splitproof/splitproof/sim"
	"github.com/splitproof/splitproof/sim/sched"
)

// Per request versus per connection.
//
// The same 10/10/80 split is sent three ways: over one keep-alive
// connection, over a new connection per request, and as HTTP/2 streams
// multiplexed on one h2c connection (a few at a time). refproxy picks per
// request, so every way must PASS with sim/sched finding an independent
// order. A test double that picks once per connection (connGateway) is
// caught over one connection, where all its answers come from one draw:
// sim/sched finds a per-connection order and judges the connections, one
// draw each, which cannot verify the split (not PASS). Over new
// connections the same double makes one draw per request and PASSes,
// which is why the connection policy is part of the case.

// ConnPolicy is how requests are spread over connections.
type ConnPolicy string

const (
	KeepAlive ConnPolicy = "keep-alive"
	NewConn   ConnPolicy = "new-connection"
	H2C       ConnPolicy = "h2c-streams"
)

// h2cStreams is how many streams are in flight at once on the h2c
// connection.
const h2cStreams = 4

// connWeights is the split the connection cases send.
var connWeights = []int32{10, 10, 80}

// ConnOptions tune the connection cases.
type ConnOptions struct {
	// Seed of refproxy's and the double's picks.
	Seed uint64
	// Requests per case (0: the fixed-n test's planned size for 10/10/80,
	// ±5 pp, power 0.9).
	Requests int
}

// RunConnCases runs the connection cases: refproxy and the per-connection
// double, each over every ConnPolicy.
func RunConnCases(ctx context.Context, opts ConnOptions) []Result {
	cats := make([]sim.Category, len(connWeights))
	shares := make([]float64, len(connWeights))
	for i, w := range connWeights {
		cats[i] = sim.Category{Name: versions[i], Weight: int64(w)}
		shares[i] = float64(w) / 100
	}
	n := opts.Requests
	if n <= 0 {
		planned, err := sim.SampleSize(shares, sim.DefaultAlpha, sim.DefaultDelta, 0.9)
		if err != nil {
			return []Result{{Case: "per-connection", Observed: "error", Err: fmt.Sprintf("planned requests: %v", err)}}
		}
		n = int(planned)
	}
	type gw struct {
		name, url string
		perConn   bool
		close     func()
	}
	var gws []gw
	dir, err := os.MkdirTemp("", "splitproof-conn-")
	if err != nil {
		return []Result{{Case: "per-connection", Observed: "error", Err: fmt.Sprintf("temp dir: %v", err)}}
	}
	defer os.RemoveAll(dir)
	fg, err := startFileGateway(dir, connWeights, opts.Seed, -1)
	if err != nil {
		return []Result{{Case: "per-connection", Observed: "error", Err: err.Error()}}
	}
	gws = append(gws, gw{"refproxy", fg.url(), false, fg.close})
	dg, err := startConnGateway(opts.Seed)
	if err != nil {
		fg.close()
		return []Result{{Case: "per-connection", Observed: "error", Err: err.Error()}}
	}
	gws = append(gws, gw{"per-connection double", dg.url, true, dg.close})
	defer func() {
		for _, g := range gws {
			g.close()
		}
	}()
	var out []Result
	for _, g := range gws {
		for _, p := range []ConnPolicy{KeepAlive, NewConn, H2C} {
			if ctx.Err() != nil {
				return out
			}
			out = append(out, connCase(ctx, g.name, g.url, g.perConn, p, cats, n))
		}
	}
	return out
}

// connCase sends n requests to url under policy and judges them.
func connCase(ctx context.Context, gateway, url string, perConn bool, policy ConnPolicy, cats []sim.Category, n int) Result {
	start := time.Now()
	r := Result{Case: "split 10/10/80 (" + gateway + ")", Scenario: gateway, Mode: string(policy), Expect: ExpectPass, Observed: "error"}
	// One keep-alive connection or one h2c connection carries every
	// request, so a per-connection gateway makes one draw.
	oneConn := policy != NewConn
	if perConn && oneConn {
		r.Expect = ExpectNotPass
	}
	seq, conns, err := send(ctx, url, policy, n)
	r.Wall = time.Since(start)
	if err != nil {
		r.Err = fmt.Sprintf("%s over %s: %v", gateway, policy, err)
		return r
	}
	counts := map[string]int64{}
	for _, c := range seq {
		if c >= 0 && c < len(cats) {
			counts[cats[c].Name]++
		} else {
			counts["other"]++
		}
	}
	r.Counts, r.Requests = counts, len(seq)
	v, err := sim.Verify(sim.CountsFile{Scenario: r.Case, Categories: cats, Counts: counts}, sim.Options{})
	if err != nil {
		r.Err = fmt.Sprintf("verify: %v", err)
		return r
	}
	so := sched.Options{Conns: conns}
	if policy == H2C {
		// Concurrent streams can finish out of order across a window
		// boundary.
		so.Tolerance = 1
	}
	cls, err := sched.Classify(seq, cats, so)
	if err != nil {
		r.Err = fmt.Sprintf("classify the order: %v", err)
		return r
	}
	mv, err := sched.Judge(seq, cats, cls, so)
	if err != nil {
		r.Err = fmt.Sprintf("judge the order: %v", err)
		return r
	}
	mv.Apply(&v)
	r.Verdict = &v
	r.Observed = string(v.Outcome)
	r.Scheduler, r.Test = string(cls.Scheduler), mv.Test
	r.Failures = append(r.Failures, v.Failures...)
	if v.Outcome == sim.OutcomeInconclusive && v.Inconclusive != "" {
		r.Notes = append(r.Notes, "inconclusive: "+v.Inconclusive)
	}
	r.Notes = append(r.Notes, fmt.Sprintf("%s for %d requests", sim.CountNoun(cls.Connections, "connection"), len(seq)))
	switch {
	case r.Expect == ExpectNotPass:
		r.AsExpected = v.Outcome != sim.OutcomePass && cls.Scheduler == sched.PerConnection
		r.Notes = append(r.Notes, "a gateway that picks per connection: one connection is one draw, so its split cannot be verified over it")
	case perConn:
		r.AsExpected = v.Outcome == sim.OutcomePass
		r.Notes = append(r.Notes, "a gateway that picks per connection looks independent over new connections and passes: the connection policy is part of the case")
	default:
		r.AsExpected = v.Outcome == sim.OutcomePass && cls.Scheduler == sched.Independent
		if cls.Scheduler != sched.Independent {
			r.Failures = append(r.Failures, fmt.Sprintf("refproxy picks per request and must show an independent order; sim/sched found %q", cls.Scheduler))
		}
	}
	return r
}

// send makes n GETs under policy and returns each answer's backend (in
// the order the answers came) and its connection, numbered from 1.
func send(ctx context.Context, url string, policy ConnPolicy, n int) (seq, conns []int, err error) {
	tr := &http.Transport{DisableCompression: true}
	workers := 1
	switch policy {
	case KeepAlive:
		tr.MaxConnsPerHost = 1
	case NewConn:
		tr.DisableKeepAlives = true
	case H2C:
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetUnencryptedHTTP2(true)
		workers = h2cStreams
	default:
		return nil, nil, fmt.Errorf("unknown connection policy %q", policy)
	}
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	defer tr.CloseIdleConnections()
	var mu sync.Mutex
	ids := map[net.Conn]int{}
	var firstErr error
	next := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				if next >= n || firstErr != nil {
					mu.Unlock()
					return
				}
				next++
				mu.Unlock()
				var conn net.Conn
				trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { conn = info.Conn }}
				cat, proto, err := get(httptrace.WithClientTrace(ctx, trace), client, url)
				mu.Lock()
				if err == nil && policy == H2C && proto != 2 {
					err = fmt.Errorf("answered over HTTP/%d, not h2c", proto)
				}
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				id, ok := ids[conn]
				if !ok {
					id = len(ids) + 1
					ids[conn] = id
				}
				seq, conns = append(seq, cat), append(conns, id)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return seq, conns, firstErr
}

// get sends one GET and returns the answer's backend (-1: none) and the
// protocol's major version.
func get(ctx context.Context, client *http.Client, url string) (int, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return -1, 0, err
	}
	res, err := client.Do(req)
	if err != nil {
		return -1, 0, fmt.Errorf("GET %s: %w", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return -1, 0, fmt.Errorf("GET %s: read the answer: %w", url, err)
	}
	return category(string(body)), res.ProtoMajor, nil
}

// connGateway is a test double that picks a backend once per connection,
// weighted 10/10/80, and answers every request on that connection from
// it, over HTTP/1.1 and h2c alike.
type connGateway struct {
	url   string
	close func()
}

type connKey struct{}

// connPick is one connection's backend, drawn on its first request.
type connPick struct {
	once sync.Once
	h    http.Handler
}

func startConnGateway(seed uint64) (*connGateway, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("per-connection double: listen: %w", err)
	}
	handlers := make([]http.Handler, len(connWeights))
	for i, v := range versions {
		handlers[i] = helloworld.Handler(v, "double-"+v)
	}
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, splitmix.Mix(seed)))
	draw := func() http.Handler {
		mu.Lock()
		defer mu.Unlock()
		x := rng.IntN(100)
		for i, w := range connWeights {
			if x < int(w) {
				return handlers[i]
			}
			x -= int(w)
		}
		return handlers[len(handlers)-1]
	}
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &connPick{})
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := r.Context().Value(connKey{}).(*connPick)
			p.once.Do(func() { p.h = draw() })
			p.h.ServeHTTP(w, r)
		}),
	}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go func() { _ = srv.Serve(ln) }()
	return &connGateway{url: "http://" + ln.Addr().String() + "/hello", close: func() { _ = srv.Close() }}, nil
}
