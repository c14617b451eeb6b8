package curl

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Exit codes curl uses, for the failures the native curl can produce.
const (
	ExitOK             = 0
	ExitUnsupported    = 1  // unsupported protocol
	ExitUsage          = 2  // bad command line
	ExitBadURL         = 3  // malformed URL
	ExitResolve        = 6  // could not resolve host
	ExitConnect        = 7  // failed to connect
	ExitHTTPError      = 22 // -f and HTTP status >= 400
	ExitWrite          = 23 // could not write output
	ExitRead           = 26 // could not read a data file
	ExitTimeout        = 28 // -m or --connect-timeout expired
	ExitSSLConnect     = 35 // TLS handshake failed
	ExitTooManyRedirs  = 47 // more than 50 redirects with -L
	ExitEmptyReply     = 52 // the server closed without answering
	ExitRecv           = 56 // failure receiving data
	ExitPeerCertFailed = 60 // certificate verification failed
)

// maxRedirects is curl's default --max-redirs.
const maxRedirects = 50

// UserAgent is the User-Agent the native curl sends unless -A or -H sets one.
const UserAgent = "curl/8 (splitproof replayer)"

// Exchange is one HTTP request the native curl made and what came back.
type Exchange struct {
	Method string
	URL    string
	// Status is the HTTP status code, 0 when no response arrived.
	Status int
	Proto  string
	Header http.Header
	// Body is the response body as received (empty for HEAD).
	Body []byte
	// Redirect is true for a response that -L followed; its body is not kept.
	Redirect bool
	// Err is the transport failure, nil when a response arrived.
	Err      error
	Duration time.Duration
	// Sent is when the request's headers were written to the connection,
	// or when curl began the request if it never got that far (a failed
	// dial). It carries a monotonic reading, so offsets between exchanges
	// are immune to wall-clock steps.
	Sent time.Time
	// Received is when the response was read to its end (for a followed
	// redirect: when its headers arrived), or when the failure was seen.
	Received time.Time
	// Conn is the number a [ConnCounter] gave the connection that carried
	// the request; 0 when the transport's dialer numbers no connections or
	// no connection was obtained.
	Conn uint64
	// Reused is set when the connection had carried an earlier request.
	Reused bool
}

// Outcome is what one curl invocation did.
type Outcome struct {
	// Exit is curl's exit code: 0, or one of the Exit* constants.
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

// Runner runs curl commands with one HTTP client. It derives, once, the
// clients that curl's options need (redirects followed or not, TLS
// verification skipped or not), so that connections are reused across
// invocations. It is safe for concurrent use.
type Runner struct {
	base *http.Client
	dir  string

	once    sync.Once
	initErr error
	clients [2][2]*http.Client // [follow][insecure]
}

// NewRunner returns a Runner using client (nil means a client with its own
// transport, compression off as curl has it, and no proxy). dir confines -o
// and "@file" reads; empty forbids them.
func NewRunner(client *http.Client, dir string) *Runner {
	return &Runner{base: client, dir: dir}
}

// DefaultClient is the client used when none is injected: a fresh transport
// that neither asks for gzip (curl does not without --compressed) nor uses
// proxies from the process environment.
func DefaultClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true
	t.Proxy = nil
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t.DialContext = new(ConnCounter).Dial(d.DialContext)
	return &http.Client{Transport: t}
}

type redirectRecorderKey struct{}

func (r *Runner) init() {
	base := r.base
	if base == nil {
		base = DefaultClient()
	}
	insecureTransport := func() (http.RoundTripper, error) {
		var t *http.Transport
		switch bt := base.Transport.(type) {
		case nil:
			t = http.DefaultTransport.(*http.Transport).Clone()
			t.DisableCompression = true
			t.Proxy = nil
		case *http.Transport:
			t = bt.Clone()
		default:
			return nil, fmt.Errorf("curl -k needs the injected client's transport to be an *http.Transport, got %T", bt)
		}
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{}
		}
		t.TLSClientConfig.InsecureSkipVerify = true
		return t, nil
	}
	var insecure http.RoundTripper
	insecure, insecureErr := insecureTransport()
	for follow := range 2 {
		for k := range 2 {
			c := *base
			if k == 1 {
				if insecureErr != nil {
					continue
				}
				c.Transport = insecure
			}
			if follow == 1 {
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
			r.clients[follow][k] = &c
		}
	}
	r.initErr = insecureErr
}

func (r *Runner) client(follow, insecure bool) (*http.Client, error) {
	r.once.Do(r.init)
	f, k := 0, 0
	if follow {
		f = 1
	}
	if insecure {
		k = 1
		if r.initErr != nil {
			return nil, r.initErr
		}
	}
	return r.clients[f][k], nil
}

var (
	errTooManyRedirects = errors.New("too many redirects")
	errMaxTime          = errors.New("max-time expired")
	errConnectTimeout   = errors.New("connect-timeout expired")
)

// Run parses args and runs them. The error is for problems of the replay
// itself (an unsupported flag, a file outside the allowed directory, the
// caller's context ending); curl failures are an Outcome with a non-zero
// Exit, with curl's message also written to Stderr unless -s hides it.
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
	client, err := r.client(cmd.Location, cmd.Insecure)
	if err != nil {
		return nil, err
	}
	out := &Outcome{}
	body, hasBody, code, msg, err := r.requestBody(cmd, stdio.Stdin)
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return r.fail(out, cmd, stdio, code, msg), nil
	}
	for i, raw := range cmd.URLs {
		dest := ""
		if i < len(cmd.Outputs) {
			dest = cmd.Outputs[i]
		}
		code, msg, err := r.transfer(ctx, client, cmd, raw, body, hasBody, dest, stdio, out)
		if err != nil {
			return nil, err
		}
		if code != 0 {
			// curl goes on with the next URL but reports the last failure;
			// the replayed snippets give one URL, so stopping here is simpler.
			return r.fail(out, cmd, stdio, code, msg), nil
		}
	}
	return out, nil
}

func (r *Runner) fail(out *Outcome, cmd *Command, stdio Stdio, code int, msg string) *Outcome {
	out.Exit, out.Message = code, msg
	if !cmd.Silent || cmd.ShowError {
		fmt.Fprintf(stdio.Stderr, "curl: (%d) %s\n", code, msg)
	}
	return out
}

// requestBody joins the data arguments as curl does. A non-zero code is a
// curl failure (an unreadable data file).
func (r *Runner) requestBody(cmd *Command, stdin io.Reader) (body []byte, has bool, code int, msg string, err error) {
	if len(cmd.Data) == 0 {
		return nil, false, 0, "", nil
	}
	var parts []string
	for _, d := range cmd.Data {
		var part string
		switch d.Kind {
		case DataRaw:
			part = d.Value
		case DataASCII, DataBinary:
			if name, ok := strings.CutPrefix(d.Value, "@"); ok {
				b, code, msg, err := r.readInput(name, stdin)
				if err != nil || code != 0 {
					return nil, false, code, msg, err
				}
				if d.Kind == DataASCII {
					b = bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r"), nil), []byte("\n"), nil)
				}
				part = string(b)
			} else {
				part = d.Value
			}
		case DataURLEncode:
			p, code, msg, err := r.urlencode(d.Value, stdin)
			if err != nil || code != 0 {
				return nil, false, code, msg, err
			}
			part = p
		}
		parts = append(parts, part)
	}
	return []byte(strings.Join(parts, "&")), true, 0, "", nil
}

// urlencode follows curl's --data-urlencode forms.
func (r *Runner) urlencode(v string, stdin io.Reader) (string, int, string, error) {
	if i := strings.IndexAny(v, "=@"); i >= 0 {
		name, rest := v[:i], v[i+1:]
		if v[i] == '@' {
			b, code, msg, err := r.readInput(rest, stdin)
			if err != nil || code != 0 {
				return "", code, msg, err
			}
			rest = string(b)
		}
		enc := url.QueryEscape(rest)
		if name == "" {
			return enc, 0, "", nil
		}
		return name + "=" + enc, 0, "", nil
	}
	return url.QueryEscape(v), 0, "", nil
}

// readInput reads "-" from stdin or a file under the runner's directory.
func (r *Runner) readInput(name string, stdin io.Reader) ([]byte, int, string, error) {
	if name == "-" {
		if stdin == nil {
			return nil, 0, "", nil
		}
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, ExitRead, fmt.Sprintf("Failed to read stdin: %v", err), nil
		}
		return b, 0, "", nil
	}
	root, err := r.openRoot()
	if err != nil {
		return nil, 0, "", err
	}
	defer root.Close()
	b, err := root.ReadFile(name)
	if err != nil {
		return nil, ExitRead, fmt.Sprintf("Failed to open %s: %v", name, err), nil
	}
	return b, 0, "", nil
}

func (r *Runner) openRoot() (*os.Root, error) {
	if r.dir == "" {
		return nil, errNoDir
	}
	root, err := os.OpenRoot(r.dir)
	if err != nil {
		return nil, fmt.Errorf("opening the replayer directory %s: %w", r.dir, err)
	}
	return root, nil
}

// normalizeURL adds curl's default scheme to a URL written without one.
func normalizeURL(raw string) string {
	if !strings.Contains(raw, "://") {
		return "http://" + raw
	}
	return raw
}

func (r *Runner) buildRequest(ctx context.Context, cmd *Command, raw string, body []byte, hasBody bool) (*http.Request, int, string) {
	target := normalizeURL(raw)
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, ExitBadURL, fmt.Sprintf("URL rejected: Malformed input to a URL function (%q)", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, ExitUnsupported, fmt.Sprintf("Protocol %q not supported", u.Scheme)
	}
	method := "GET"
	switch {
	case cmd.Get:
		if hasBody {
			if u.RawQuery != "" {
				u.RawQuery += "&"
			}
			u.RawQuery += string(body)
			hasBody = false
		}
		if cmd.Head {
			method = "HEAD"
		}
	case cmd.Head:
		method = "HEAD"
	case hasBody:
		method = "POST"
	}
	if cmd.Method != "" {
		method = cmd.Method
	}
	var rd io.Reader
	if hasBody {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, ExitBadURL, fmt.Sprintf("URL rejected: %v", err)
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "*/*")
	if hasBody {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	// replaced records the defaults a -H has already overridden, so that a
	// second -H of the same name adds a value instead of replacing again.
	replaced := map[string]bool{}
	for _, h := range cmd.Headers {
		name, value, found := strings.Cut(h, ":")
		if !found {
			// "Name;" sends the header with an empty value; a header with
			// neither separator is ignored, as curl ignores it.
			if n, ok := strings.CutSuffix(h, ";"); ok && n != "" && !strings.ContainsAny(n, " \t") {
				req.Header.Add(n, "")
			}
			continue
		}
		name = strings.TrimSpace(name)
		value = strings.TrimLeft(value, " \t")
		canon := http.CanonicalHeaderKey(name)
		if (canon == "Content-Type" || canon == "User-Agent" || canon == "Accept") && !replaced[canon] {
			req.Header.Del(canon)
			replaced[canon] = true
		}
		if value == "" {
			// "Name:" removes the header, curl's way to drop a default.
			req.Header.Del(name)
			if canon == "Host" {
				req.Host = u.Host
			}
			continue
		}
		if canon == "Host" {
			req.Host = value
			continue
		}
		req.Header.Add(name, value)
	}
	return req, 0, ""
}

func (r *Runner) transfer(ctx context.Context, client *http.Client, cmd *Command, raw string,
	body []byte, hasBody bool, dest string, stdio Stdio, out *Outcome) (int, string, error) {
	parent := ctx
	if cmd.MaxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, seconds(cmd.MaxTime), errMaxTime)
		defer cancel()
	}
	start := time.Now()
	// hop follows each request of the transfer (one per redirect followed):
	// its connection and when its headers went out.
	hop := &hopTrace{begun: start}
	trace := &httptrace.ClientTrace{GotConn: hop.gotConn, WroteHeaders: hop.wroteHeaders}
	if cmd.ConnectTimeout > 0 {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		connected := make(chan struct{})
		var once sync.Once
		trace.GotConn = func(info httptrace.GotConnInfo) {
			hop.gotConn(info)
			once.Do(func() { close(connected) })
		}
		timer := time.AfterFunc(seconds(cmd.ConnectTimeout), func() {
			select {
			case <-connected:
			default:
				cancel(errConnectTimeout)
			}
		})
		defer timer.Stop()
	}
	// A trace already in ctx (the replayer's request counter) still runs:
	// WithClientTrace composes the hooks.
	ctx = httptrace.WithClientTrace(ctx, trace)
	ctx = context.WithValue(ctx, redirectRecorderKey{}, func(resp *http.Response) {
		now := time.Now()
		sent, conn, reused := hop.take(now)
		out.Exchanges = append(out.Exchanges, Exchange{
			Method: resp.Request.Method, URL: resp.Request.URL.String(), Status: resp.StatusCode,
			Proto: resp.Proto, Header: resp.Header.Clone(), Redirect: true,
			Sent: sent, Received: now, Conn: conn, Reused: reused,
		})
		if cmd.Include && !cmd.Fail {
			writeHeadWithTE(stdio.Stdout, resp)
		}
	})

	req, code, msg := r.buildRequest(ctx, cmd, raw, body, hasBody)
	if code != 0 {
		return code, msg, nil
	}
	if cmd.Verbose {
		writeVerboseRequest(stdio.Stderr, req)
	}
	resp, err := client.Do(req)
	if err != nil {
		if parent.Err() != nil {
			return 0, "", parent.Err()
		}
		now := time.Now()
		code, msg := classifyError(ctx, err, req, now.Sub(start))
		sent, conn, reused := hop.take(now)
		out.Exchanges = append(out.Exchanges, Exchange{Method: req.Method, URL: req.URL.String(), Err: err, Duration: now.Sub(start),
			Sent: sent, Received: now, Conn: conn, Reused: reused})
		return code, msg, nil
	}
	defer resp.Body.Close()
	respBody, readErr := io.ReadAll(resp.Body)
	received := time.Now()
	elapsed := received.Sub(start)
	sent, conn, reused := hop.take(received)
	ex := Exchange{
		Method: req.Method, URL: resp.Request.URL.String(), Status: resp.StatusCode, Proto: resp.Proto,
		Header: resp.Header.Clone(), Body: respBody, Err: readErr, Duration: elapsed,
		Sent: sent, Received: received, Conn: conn, Reused: reused,
	}
	if len(resp.TransferEncoding) > 0 {
		ex.Header["Transfer-Encoding"] = slicesClone(resp.TransferEncoding)
	}
	out.Exchanges = append(out.Exchanges, ex)
	if readErr != nil {
		if parent.Err() != nil {
			return 0, "", parent.Err()
		}
		code, msg := classifyError(ctx, readErr, req, elapsed)
		if code == ExitEmptyReply || code == ExitConnect {
			code, msg = ExitRecv, fmt.Sprintf("Failure when receiving data from the peer: %v", readErr)
		}
		return code, msg, nil
	}
	if cmd.Verbose {
		writeVerboseResponse(stdio.Stderr, resp)
	}

	failed := cmd.Fail && resp.StatusCode >= 400
	if !failed {
		w, closeOut, code, msg, err := r.openOutput(dest, stdio.Stdout)
		if err != nil || code != 0 {
			return code, msg, err
		}
		var buf bytes.Buffer
		if cmd.Include || cmd.Head {
			writeHeadWithTE(&buf, resp)
		}
		if !cmd.Head {
			buf.Write(respBody)
		}
		_, werr := w.Write(buf.Bytes())
		if cerr := closeOut(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return ExitWrite, fmt.Sprintf("Failure writing output to destination: %v", werr), nil
		}
	}
	if cmd.WriteOut != "" {
		redirects := 0
		for _, e := range out.Exchanges {
			if e.Redirect {
				redirects++
			}
		}
		writeOut(stdio.Stdout, stdio.Stderr, cmd.WriteOut, writeOutVars{
			resp: resp, body: respBody, elapsed: elapsed, redirects: redirects,
		})
	}
	if failed {
		return ExitHTTPError, fmt.Sprintf("The requested URL returned error: %d", resp.StatusCode), nil
	}
	return 0, "", nil
}

// hopTrace records, for the request of a transfer in flight, the
// connection it got and when its headers were written. The transport calls
// WroteHeaders from its writing goroutine, hence the lock.
type hopTrace struct {
	mu     sync.Mutex
	begun  time.Time // when this hop began: the transfer's start, then each redirect's arrival
	sent   time.Time
	conn   uint64
	reused bool
}

func (h *hopTrace) gotConn(info httptrace.GotConnInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conn, h.reused = ConnNumber(info.Conn), info.Reused
}

func (h *hopTrace) wroteHeaders() {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	// A retry on a fresh connection writes again: the last write is the
	// one the server answered.
	h.sent = now
}

// take returns the finished hop's send time (when it began, if no write was
// seen), its connection and whether it was reused, and starts the next hop
// at next.
func (h *hopTrace) take(next time.Time) (sent time.Time, conn uint64, reused bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	sent, conn, reused = h.sent, h.conn, h.reused
	if sent.IsZero() || sent.Before(h.begun) {
		sent = h.begun
	}
	h.begun, h.sent, h.conn, h.reused = next, time.Time{}, 0, false
	return sent, conn, reused
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// openOutput returns where the body goes: stdout, nowhere (/dev/null), or a
// file created under the runner's directory.
func (r *Runner) openOutput(dest string, stdout io.Writer) (io.Writer, func() error, int, string, error) {
	noop := func() error { return nil }
	switch dest {
	case "", "-":
		return stdout, noop, 0, "", nil
	case os.DevNull:
		return io.Discard, noop, 0, "", nil
	}
	root, err := r.openRoot()
	if err != nil {
		return nil, nil, 0, "", err
	}
	name := dest
	if filepath.IsAbs(name) {
		if rel, err := filepath.Rel(r.dir, name); err == nil && !strings.HasPrefix(rel, "..") {
			name = rel
		} else {
			root.Close()
			return nil, nil, 0, "", fmt.Errorf("curl -o %s: the replayer writes only under %s", dest, r.dir)
		}
	}
	f, err := root.Create(name)
	if err != nil {
		root.Close()
		if errors.Is(err, os.ErrPermission) || strings.Contains(err.Error(), "escapes") {
			return nil, nil, 0, "", fmt.Errorf("curl -o %s: the replayer writes only under %s: %w", dest, r.dir, err)
		}
		return nil, nil, ExitWrite, fmt.Sprintf("Failed to open the file %s: %v", dest, err), nil
	}
	return f, func() error {
		err := f.Close()
		root.Close()
		return err
	}, 0, "", nil
}

// statusLine renders the status line as curl prints it.
func statusLine(resp *http.Response) string {
	if resp.ProtoMajor == 2 {
		return fmt.Sprintf("HTTP/2 %d", resp.StatusCode)
	}
	return resp.Proto + " " + resp.Status
}

func writeHeadWithTE(w io.Writer, resp *http.Response) {
	h := resp.Header
	if len(resp.TransferEncoding) > 0 {
		h = h.Clone()
		h["Transfer-Encoding"] = slicesClone(resp.TransferEncoding)
	}
	writeHeadBlock(w, statusLine(resp), h)
}

// writeHeadBlock writes a status line, the headers sorted by name and the
// blank line, with curl's CRLF line ends.
func writeHeadBlock(w io.Writer, status string, h http.Header) {
	var b strings.Builder
	b.WriteString(status)
	b.WriteString("\r\n")
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range h[k] {
			b.WriteString(k)
			b.WriteString(": ")
			b.WriteString(v)
			b.WriteString("\r\n")
		}
	}
	b.WriteString("\r\n")
	io.WriteString(w, b.String())
}

func writeVerboseRequest(w io.Writer, req *http.Request) {
	var b strings.Builder
	fmt.Fprintf(&b, "* Request to %s\n", req.URL)
	fmt.Fprintf(&b, "> %s %s HTTP/1.1\r\n", req.Method, req.URL.RequestURI())
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	fmt.Fprintf(&b, "> Host: %s\r\n", host)
	names := make([]string, 0, len(req.Header))
	for k := range req.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range req.Header[k] {
			fmt.Fprintf(&b, "> %s: %s\r\n", k, v)
		}
	}
	b.WriteString(">\r\n")
	io.WriteString(w, b.String())
}

func writeVerboseResponse(w io.Writer, resp *http.Response) {
	var head bytes.Buffer
	writeHeadWithTE(&head, resp)
	var b strings.Builder
	for line := range strings.SplitSeq(strings.TrimSuffix(head.String(), "\r\n"), "\r\n") {
		b.WriteString("< ")
		b.WriteString(line)
		b.WriteString("\r\n")
	}
	io.WriteString(w, b.String())
}

// classifyError maps a transport error to curl's exit code and message.
func classifyError(ctx context.Context, err error, req *http.Request, elapsed time.Duration) (int, string) {
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	ms := elapsed.Milliseconds()
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errMaxTime):
		return ExitTimeout, fmt.Sprintf("Operation timed out after %d milliseconds", ms)
	case errors.Is(cause, errConnectTimeout):
		return ExitTimeout, fmt.Sprintf("Connection timed out after %d milliseconds", ms)
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recordErr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.Is(err, errTooManyRedirects):
		return ExitTooManyRedirs, fmt.Sprintf("Maximum (%d) redirects followed", maxRedirects)
	case errors.As(err, &dnsErr):
		return ExitResolve, fmt.Sprintf("Could not resolve host: %s", host)
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr):
		return ExitPeerCertFailed, fmt.Sprintf("SSL certificate problem: %v", err)
	case errors.As(err, &recordErr):
		return ExitSSLConnect, fmt.Sprintf("SSL connect error: %v", err)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		if opErr.Timeout() {
			return ExitTimeout, fmt.Sprintf("Connection timed out after %d milliseconds", ms)
		}
		return ExitConnect, fmt.Sprintf("Failed to connect to %s port %s after %d ms: Couldn't connect to server", host, port, ms)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ExitEmptyReply, "Empty reply from server"
	case errors.As(err, &netErr) && netErr.Timeout():
		return ExitTimeout, fmt.Sprintf("Operation timed out after %d milliseconds", ms)
	default:
		return ExitRecv, fmt.Sprintf("Failure when receiving data from the peer: %v", err)
	}
}

// writeOutVars is what -w can refer to.
type writeOutVars struct {
	resp      *http.Response
	body      []byte
	elapsed   time.Duration
	redirects int
}

// writeOut expands a -w template: %{name} variables, %header{name}, %% and
// the \n \r \t \\ escapes curl recognises.
func writeOut(stdout, stderr io.Writer, tmpl string, v writeOutVars) {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		switch {
		case c == '\\' && i+1 < len(tmpl) && strings.IndexByte(`nrt\`, tmpl[i+1]) >= 0:
			b.WriteByte(map[byte]byte{'n': '\n', 'r': '\r', 't': '\t', '\\': '\\'}[tmpl[i+1]])
			i++
		case c == '%' && strings.HasPrefix(tmpl[i:], "%%"):
			b.WriteByte('%')
			i++
		case c == '%' && strings.HasPrefix(tmpl[i:], "%{"):
			end := strings.IndexByte(tmpl[i:], '}')
			if end < 0 {
				b.WriteString(tmpl[i:])
				i = len(tmpl)
				continue
			}
			name := tmpl[i+2 : i+end]
			val, ok := writeOutVar(name, v)
			if !ok {
				fmt.Fprintf(stderr, "curl: unknown --write-out variable: '%s'\n", name)
			}
			b.WriteString(val)
			i += end
		case c == '%' && strings.HasPrefix(tmpl[i:], "%header{"):
			end := strings.IndexByte(tmpl[i:], '}')
			if end < 0 {
				b.WriteString(tmpl[i:])
				i = len(tmpl)
				continue
			}
			b.WriteString(strings.Join(v.resp.Header.Values(tmpl[i+len("%header{"):i+end]), ", "))
			i += end
		default:
			b.WriteByte(c)
		}
	}
	io.WriteString(stdout, b.String())
}

func writeOutVar(name string, v writeOutVars) (string, bool) {
	switch name {
	case "http_code", "response_code":
		return fmt.Sprintf("%03d", v.resp.StatusCode), true
	case "time_total":
		return strconv.FormatFloat(v.elapsed.Seconds(), 'f', 6, 64), true
	case "size_download":
		return strconv.Itoa(len(v.body)), true
	case "url_effective":
		return v.resp.Request.URL.String(), true
	case "content_type":
		return v.resp.Header.Get("Content-Type"), true
	case "num_redirects":
		return strconv.Itoa(v.redirects), true
	case "method":
		return v.resp.Request.Method, true
	case "http_version":
		if v.resp.ProtoMajor == 2 {
			return "2", true
		}
		return fmt.Sprintf("%d.%d", v.resp.ProtoMajor, v.resp.ProtoMinor), true
	case "scheme":
		return v.resp.Request.URL.Scheme, true
	}
	return "", false
}
