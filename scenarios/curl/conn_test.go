package curl

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestConnectionsNumbered: every exchange names the connection that carried
// it. One Runner keeps its transport across invocations by default
// (ConnReuse), so a loop of curl commands reuses one keep-alive connection
// (unlike real curl, which opens one per process: see TestConnPolicy); with
// keep-alive off, each request gets the next number.
func TestConnectionsNumbered(t *testing.T) {
	srv := newTestServer(t)
	reusing := NewRunner(nil, "")
	fresh := DefaultClient()
	fresh.Transport.(*http.Transport).DisableKeepAlives = true
	perRequest := NewRunner(fresh, "")
	for _, tt := range []struct {
		name   string
		runner *Runner
		want   []uint64
		reused []bool
	}{
		{"keep-alive", reusing, []uint64{1, 1, 1}, []bool{false, true, true}},
		{"one connection per request", perRequest, []uint64{1, 2, 3}, []bool{false, false, false}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for i, want := range tt.want {
				got := MustRun(t, tt.runner, srv, "-s", "SERVER/hello")
				ex := got.out.Exchanges[0]
				if ex.Conn != want || ex.Reused != tt.reused[i] {
					t.Errorf("request %d: connection %d (reused %v), want %d (reused %v)", i+1, ex.Conn, ex.Reused, want, tt.reused[i])
				}
				if ex.Sent.IsZero() || ex.Received.Before(ex.Sent) {
					t.Errorf("request %d: sent %v, received %v", i+1, ex.Sent, ex.Received)
				}
			}
		})
	}
	// A followed redirect is two requests; the same connection carries both.
	got := MustRun(t, NewRunner(nil, ""), srv, "-sL", "SERVER/redirect")
	first, last := got.out.Exchanges[0], got.out.Exchanges[1]
	if first.Conn != 1 || last.Conn != 1 || !last.Reused {
		t.Errorf("redirect on connection %d, answer on %d (reused %v), want both on 1", first.Conn, last.Conn, last.Reused)
	}
	if first.Received.After(last.Sent) || last.Received.Before(last.Sent) {
		t.Errorf("redirect received %v, answer sent %v and received %v: out of order", first.Received, last.Sent, last.Received)
	}
}

// TestConnNumberUnknown: a connection no ConnCounter dialled has number 0.
func TestConnNumberUnknown(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if n := ConnNumber(a); n != 0 {
		t.Fatalf("ConnNumber of a plain connection = %d, want 0", n)
	}
	var c ConnCounter
	conn, err := c.Dial(func(context.Context, string, string) (net.Conn, error) { return a, nil })(context.Background(), "tcp", "x:1")
	if err != nil || ConnNumber(conn) != 1 || c.Dialled() != 1 {
		t.Fatalf("dialled %v: number %d, count %d, want 1 and 1", err, ConnNumber(conn), c.Dialled())
	}
}

// TestConnPolicy: under ConnNew every curl command dials its own
// connection, as one real curl process per command does, and the shared
// ConnCounter numbers them 1..N; under ConnReuse the commands share one.
// A -L redirect stays on its command's connection either way.
func TestConnPolicy(t *testing.T) {
	srv := newTestServer(t)
	const commands = 5
	for _, tt := range []struct {
		policy ConnPolicy
		conns  []uint64 // the connection of each command's exchange
		reused []bool
	}{
		{ConnNew, []uint64{1, 2, 3, 4, 5}, []bool{false, false, false, false, false}},
		{ConnReuse, []uint64{1, 1, 1, 1, 1}, []bool{false, true, true, true, true}},
	} {
		t.Run(tt.policy.String(), func(t *testing.T) {
			client := DefaultClient()
			var counter ConnCounter
			d := &net.Dialer{}
			client.Transport.(*http.Transport).DialContext = counter.Dial(d.DialContext)
			r := NewRunner(client, "", WithConnections(tt.policy))
			for i := range commands {
				got := MustRun(t, r, srv, "-s", "SERVER/hello")
				ex := got.out.Exchanges[0]
				if ex.Conn != tt.conns[i] || ex.Reused != tt.reused[i] {
					t.Errorf("command %d: connection %d (reused %v), want %d (reused %v)", i+1, ex.Conn, ex.Reused, tt.conns[i], tt.reused[i])
				}
			}
			if want := tt.conns[commands-1]; counter.Dialled() != want {
				t.Errorf("%d connections dialled, want %d", counter.Dialled(), want)
			}
			got := MustRun(t, r, srv, "-sL", "SERVER/redirect")
			first, last := got.out.Exchanges[0], got.out.Exchanges[1]
			if first.Conn != last.Conn || !last.Reused {
				t.Errorf("redirect on connection %d, answer on %d (reused %v): want one connection", first.Conn, last.Conn, last.Reused)
			}
		})
	}
}

// TestConnPolicyNeedsTransport: ConnNew clones the transport, so a client
// whose transport is not an *http.Transport is a replay error, not a silent
// fall back to shared connections.
func TestConnPolicyNeedsTransport(t *testing.T) {
	srv := newTestServer(t)
	client := &http.Client{Transport: roundTripperFunc(http.DefaultTransport.RoundTrip)}
	if _, err := NewRunner(client, "", WithConnections(ConnNew)).Run(context.Background(), []string{srv.URL + "/hello"}, Stdio{}); err == nil ||
		!strings.Contains(err.Error(), "*http.Transport") {
		t.Fatalf("error %v, want one asking for an *http.Transport", err)
	}
	out, err := NewRunner(client, "").Run(context.Background(), []string{srv.URL + "/hello"}, Stdio{})
	if err != nil || out.Exit != 0 {
		t.Fatalf("ConnReuse with any transport: %v %+v", err, out)
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestParseConnPolicy(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ConnPolicy
		err  bool
	}{
		{"new", ConnNew, false},
		{"reuse", ConnReuse, false},
		{"fresh", 0, true},
		{"", 0, true},
	} {
		got, err := ParseConnPolicy(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseConnPolicy(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("ParseConnPolicy(%q).String() = %q", tt.in, got.String())
		}
	}
	if ConnPolicy(0) != ConnReuse {
		t.Errorf("the zero ConnPolicy is %v, want reuse (the default)", ConnPolicy(0))
	}
}

// TestExchangeHost: each exchange records the Host header sent, which a
// setup diagnosis prints ("does the gateway match this host?"): the URL's
// host, or what -H "Host: …" set, also on a failed request.
func TestExchangeHost(t *testing.T) {
	srv := newTestServer(t)
	r := NewRunner(nil, "")
	got := MustRun(t, r, srv, "-s", "SERVER/hello")
	if h, want := got.out.Exchanges[0].Host, strings.TrimPrefix(srv.URL, "http://"); h != want {
		t.Errorf("Host = %q, want the URL's %q", h, want)
	}
	got = MustRun(t, r, srv, "-s", "-H", "Host: traffic.split.example:8080", "SERVER/hello")
	if h := got.out.Exchanges[0].Host; h != "traffic.split.example:8080" {
		t.Errorf("Host = %q, want the -H value", h)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	out, _ := r.Run(context.Background(), []string{"-s", "-H", "Host: traffic.split.example", "http://" + closed + "/"}, Stdio{Stdout: &strings.Builder{}, Stderr: &strings.Builder{}})
	if out == nil || len(out.Exchanges) != 1 || out.Exchanges[0].Host != "traffic.split.example" {
		t.Fatalf("failed request's exchanges = %+v, want one with Host traffic.split.example", out)
	}
}
