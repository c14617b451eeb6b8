package curl

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Outcome is what one curl invocation did.
type Outcome struct {
	// Exit is curl's exit code: 0, or one of the Exit* constants. With
	// several URLs it is the last one's, as in curl.
	Exit int
	// Message is curl's error message for a non-zero Exit ("Failed to
	// connect to ..."), whether or not -s hid it from stderr.
	Message   string
	Exchanges []Exchange
}

// Stdio is where one invocation reads and writes.
type Stdio struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// ConnPolicy says whether curl commands run by one [Runner] share
// connections.
type ConnPolicy int

const (
	// ConnReuse keeps connections alive across commands: a snippet's loop
	// runs over one keep-alive connection. It is the zero value, and the
	// default.
	ConnReuse ConnPolicy = iota
	// ConnNew gives every command connections of its own, closed when it
	// ends, as real curl (one process per command) does. A command's
	// redirects still share its connection, as they do in real curl.
	ConnNew
)

// String is the policy's name as a command-line flag would spell it.
func (p ConnPolicy) String() string {
	switch p {
	case ConnReuse:
		return "reuse"
	case ConnNew:
		return "new"
	}
	return fmt.Sprintf("ConnPolicy(%d)", int(p))
}

// ParseConnPolicy reads "reuse" or "new".
func ParseConnPolicy(s string) (ConnPolicy, error) {
	for _, p := range []ConnPolicy{ConnReuse, ConnNew} {
		if s == p.String() {
			return p, nil
		}
	}
	return 0, fmt.Errorf("connection policy %q: want %q or %q", s, ConnReuse, ConnNew)
}

// Option configures a [Runner].
type Option func(*Runner)

// WithURLRewrite has f adjust every request's URL after curl has parsed
// it and before it is sent (the replayer prefixes the path of a gateway
// mounted under one); the Host header is not touched.
func WithURLRewrite(f func(*url.URL)) Option {
	return func(r *Runner) { r.rewrite = f }
}

// WithConnections sets the connection policy (default [ConnReuse]).
func WithConnections(p ConnPolicy) Option {
	return func(r *Runner) { r.conns = p }
}

// Runner runs curl commands with one HTTP client. It derives, once, the
// clients that curl's options need (redirects followed or not, TLS
// verification skipped or not), so that under [ConnReuse] connections are
// reused across invocations. It is safe for concurrent use.
type Runner struct {
	base    *http.Client
	dir     string
	conns   ConnPolicy
	rewrite func(*url.URL)

	once     sync.Once
	resolved *http.Client // base, or DefaultClient when base is nil
	initErr  error
	clients  [2][2]*http.Client // [follow][insecure]
}

// NewRunner returns a Runner using client (nil means [DefaultClient]). dir
// confines -o and "@file" reads; empty forbids them.
func NewRunner(client *http.Client, dir string, opts ...Option) *Runner {
	r := &Runner{base: client, dir: dir}
	for _, o := range opts {
		o(r)
	}
	return r
}

// DefaultClient is the client used when none is injected: a fresh transport
// that neither asks for gzip (curl does not without --compressed) nor uses
// proxies from the process environment, dialling through a [ConnCounter].
func DefaultClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true
	t.Proxy = nil
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t.DialContext = new(ConnCounter).Dial(d.DialContext)
	return &http.Client{Transport: t}
}

type redirectRecorderKey struct{}

// ownTransport returns a transport of base's that no other client uses: a
// clone, which shares the dialer (and with it a ConnCounter's numbering)
// but not the pool of idle connections.
func ownTransport(base *http.Client, why string) (*http.Transport, error) {
	switch bt := base.Transport.(type) {
	case nil:
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DisableCompression = true
		t.Proxy = nil
		return t, nil
	case *http.Transport:
		return bt.Clone(), nil
	default:
		return nil, fmt.Errorf("%s needs the injected client's transport to be an *http.Transport, got %T", why, bt)
	}
}

func skipVerify(t *http.Transport) *http.Transport {
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.InsecureSkipVerify = true
	return t
}

// derive returns a copy of base using transport and following redirects or
// not, as -L says.
func derive(base *http.Client, transport http.RoundTripper, follow bool) *http.Client {
	c := *base
	c.Transport = transport
	if follow {
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if rec, ok := req.Context().Value(redirectRecorderKey{}).(func(*http.Response)); ok && req.Response != nil {
				rec(req.Response)
			}
			if len(via) > maxRedirects {
				return errTooManyRedirects
			}
			return nil
		}
	} else {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return &c
}

func (r *Runner) init() {
	r.resolved = r.base
	if r.resolved == nil {
		r.resolved = DefaultClient()
	}
	var insecure http.RoundTripper
	t, err := ownTransport(r.resolved, "curl -k")
	if err == nil {
		insecure = skipVerify(t)
	}
	r.initErr = err
	for follow := range 2 {
		r.clients[follow][0] = derive(r.resolved, r.resolved.Transport, follow == 1)
		if insecure != nil {
			r.clients[follow][1] = derive(r.resolved, insecure, follow == 1)
		}
	}
}

// client returns the client for one command and what to call when the
// command is done: under ConnNew, a client with a transport of its own
// whose connections the release closes.
func (r *Runner) client(follow, insecure bool) (*http.Client, func(), error) {
	r.once.Do(r.init)
	if r.conns == ConnNew {
		t, err := ownTransport(r.resolved, "the connection policy "+ConnNew.String())
		if err != nil {
			return nil, nil, err
		}
		if insecure {
			skipVerify(t)
		}
		return derive(r.resolved, t, follow), t.CloseIdleConnections, nil
	}
	f, k := 0, 0
	if follow {
		f = 1
	}
	if insecure {
		k = 1
		if r.initErr != nil {
			return nil, nil, r.initErr
		}
	}
	return r.clients[f][k], func() {}, nil
}

// Run parses args and runs them. The error is for problems of the replay
// itself (a command line the native curl cannot run, a file outside the
// allowed directory, the caller's context ending); a command-line error is
// an *ExitError carrying the code curl would exit with. Curl failures are an
// Outcome with a non-zero Exit, with curl's message also written to Stderr
// unless -s hides it.
func (r *Runner) Run(ctx context.Context, args []string, stdio Stdio) (*Outcome, error) {
	cmd, err := ParseArgs(args)
	if err != nil {
		return nil, err
	}
	return r.RunCommand(ctx, cmd, stdio)
}

// RunCommand runs an already parsed command.
func (r *Runner) RunCommand(ctx context.Context, cmd *Command, stdio Stdio) (*Outcome, error) {
	if err := cmd.validate(); err != nil {
		return nil, err
	}
	if stdio.Stdout == nil {
		stdio.Stdout = io.Discard
	}
	if stdio.Stderr == nil {
		stdio.Stderr = io.Discard
	}
	client, release, err := r.client(cmd.Location, cmd.Insecure)
	if err != nil {
		return nil, err
	}
	defer release()
	out := &Outcome{}
	body, hasBody, err := r.requestBody(cmd, stdio.Stdin)
	if exit, ok := errors.AsType[*ExitError](err); ok {
		return fail(out, cmd, stdio.Stderr, exit), nil
	}
	if err != nil {
		return nil, err
	}
	for i, raw := range cmd.URLs {
		dest := ""
		if i < len(cmd.Outputs) {
			dest = cmd.Outputs[i]
		}
		// Like curl, a failed URL does not stop the next one: its error is
		// printed when it happens, and the command exits with the result
		// of the last URL.
		err := r.transfer(ctx, client, cmd, raw, body, hasBody, dest, stdio, out)
		if exit, ok := errors.AsType[*ExitError](err); ok {
			fail(out, cmd, stdio.Stderr, exit)
			continue
		}
		if err != nil {
			return nil, err
		}
		out.Exit, out.Message = ExitOK, ""
	}
	return out, nil
}
