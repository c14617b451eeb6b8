package curl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/splitproof/splitproof/scenarios"
)

// The differential test runs each command line twice, with the native curl
// and with the real curl binary, against the same loopback servers, and
// requires the same exit code, the same bytes on stdout and the same bytes
// in every -o file. Stderr is not compared: the "Differences from curl"
// section of doc.go says why.

// gatewayHost stands in for $INGRESS_GW_ADDRESS in the scenarios' snippets.
const gatewayHost = "gateway.example"

// diffServers are the loopback servers both curls talk to: plain HTTP, and
// HTTPS with a certificate no system trusts (for -k).
type diffServers struct {
	plain, tls *httptest.Server
	// routes maps the host:port pairs the snippets name (localhost:8080,
	// gateway.example:80) to the plain server; both curls dial through it.
	routes map[string]string
}

// newDiffServers starts servers whose answers are byte-for-byte the same for
// any client. Each handler sets every header itself and drops Date, so the
// wire carries only handler headers, which net/http writes sorted by name:
// the order in which the native curl, which cannot see the wire order,
// prints them. /echo hides curl's default User-Agent, which legitimately
// differs, and shows one set with -A.
func newDiffServers(t testing.TB) *diffServers {
	t.Helper()
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, code int, contentType, body string) {
		h := w.Header()
		h["Date"] = nil
		h.Set("Content-Length", fmt.Sprint(len(body)))
		h.Set("Content-Type", contentType)
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, "text/plain; charset=utf-8",
			fmt.Sprintf("Hello version: v3, instance: helloworld-v3-55bfdf76cf-nv545 (host %s)\n", r.Host))
	})
	mux.HandleFunc("/test", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		reply(w, http.StatusOK, "application/json",
			fmt.Sprintf(`{"model":"gpt-4o-mini-2024-07-18","host":%q,"content_type":%q,"request":%q}`+"\n",
				r.Host, r.Header.Get("Content-Type"), body))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ua := r.Header.Get("User-Agent")
		if strings.HasPrefix(ua, "curl/") {
			ua = "curl's default" // the native curl's default differs from the binary's version
		}
		var names []string
		for k := range r.Header {
			names = append(names, k)
		}
		sort.Strings(names)
		reply(w, http.StatusOK, "text/plain; charset=utf-8", fmt.Sprintf(
			"method=%s host=%s uri=%s content-type=%q accept=%q x-empty=%q user-agent=%q header-names=%q body=%q\n",
			r.Method, r.Host, r.RequestURI, r.Header.Values("Content-Type"), r.Header.Values("Accept"),
			r.Header.Values("X-Empty"), ua, names, body))
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscan(r.PathValue("code"), &code)
		reply(w, code, "text/plain; charset=utf-8", fmt.Sprintf("status %d\n", code))
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/hello")
		reply(w, http.StatusFound, "text/plain; charset=utf-8", "see /hello\n")
	})
	mux.HandleFunc("/redirect-404", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/status/404")
		reply(w, http.StatusFound, "text/plain; charset=utf-8", "see /status/404\n")
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length: net/http chunks the body and adds
		// Transfer-Encoding after the handler's headers (in sorted order
		// here, as "Content-Type" < "Transfer-Encoding").
		w.Header()["Date"] = nil
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "part one\n")
		w.(http.Flusher).Flush()
		io.WriteString(w, "part two\n")
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/hangup", func(w http.ResponseWriter, r *http.Request) {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	})
	plain := httptest.NewServer(mux)
	t.Cleanup(plain.Close)
	secure := httptest.NewUnstartedServer(mux)
	// The untrusted-certificate case makes handshakes fail on purpose.
	secure.Config.ErrorLog = log.New(io.Discard, "", 0)
	secure.StartTLS()
	t.Cleanup(secure.Close)
	addr := plain.Listener.Addr().String()
	return &diffServers{plain: plain, tls: secure, routes: map[string]string{
		"localhost:8080":                    addr,
		net.JoinHostPort(gatewayHost, "80"): addr,
	}}
}

// expandTokens replaces SERVER and TLSSERVER in an argument by the servers'
// host:port.
func (s *diffServers) expandTokens(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		a = strings.ReplaceAll(a, "TLSSERVER", s.tls.Listener.Addr().String())
		out[i] = strings.ReplaceAll(a, "SERVER", s.plain.Listener.Addr().String())
	}
	return out
}

// nativeClient dials the routed names to the plain server, as real curl's
// --connect-to does, and everything else where it points.
func (s *diffServers) nativeClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	t := &http.Transport{
		DisableCompression: true,
		DialContext: new(ConnCounter).Dial(func(ctx context.Context, network, addr string) (net.Conn, error) {
			if to, ok := s.routes[addr]; ok {
				addr = to
			}
			return d.DialContext(ctx, network, addr)
		}),
	}
	return &http.Client{Transport: t}
}

// connectTo is the real curl's equivalent of nativeClient's routing.
func (s *diffServers) connectTo() []string {
	froms := make([]string, 0, len(s.routes))
	for from := range s.routes {
		froms = append(froms, from)
	}
	sort.Strings(froms)
	var out []string
	for _, from := range froms {
		host, port, _ := net.SplitHostPort(from)
		toHost, toPort, _ := net.SplitHostPort(s.routes[from])
		out = append(out, "--connect-to", host+":"+port+":"+toHost+":"+toPort)
	}
	return out
}

// curlResult is what one curl run left behind.
type curlResult struct {
	exit   int
	stdout []byte
	stderr []byte
	files  map[string][]byte // the -o files the case names
}

// diffCase is one command line for both curls.
type diffCase struct {
	name string
	args []string
	// files are created in each curl's working directory first.
	files map[string]string
	// outputs are -o files whose contents must match.
	outputs []string
	// differs names a difference doc.go lists; the case then checks that
	// stdout still differs, so the list stays true.
	differs string
}

// realCurl returns the curl binary's path. Outside CI a machine without
// curl skips the test; under CI=true it is a failure, so a CI image that
// lost curl cannot pass silently.
func realCurl(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the differential test needs the curl binary: %v", err)
		}
		t.Skipf("no curl binary on PATH (%v); CI=true makes this a failure", err)
	}
	return path
}

// MustPrepareDir creates a working directory holding the case's files.
func MustPrepareDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func collectOutputs(t *testing.T, dir string, names []string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		out[name] = b
	}
	return out
}

// MustRunReal runs the curl binary: -q first so no ~/.curlrc applies, a
// clean environment so no proxy variable does, and --connect-to for the
// names the snippets use.
func MustRunReal(t *testing.T, bin string, s *diffServers, c diffCase) curlResult {
	t.Helper()
	dir := MustPrepareDir(t, c.files)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args := append([]string{"-q"}, s.connectTo()...)
	args = append(args, s.expandTokens(c.args)...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	exit := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		exit = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s %q: %v", bin, args, err)
	}
	return curlResult{exit: exit, stdout: stdout.Bytes(), stderr: stderr.Bytes(), files: collectOutputs(t, dir, c.outputs)}
}

// MustRunNative runs the native curl with a client routed like the real one.
// A command line it refuses counts by the exit code its *ExitError carries.
func MustRunNative(t *testing.T, s *diffServers, c diffCase) curlResult {
	t.Helper()
	dir := MustPrepareDir(t, c.files)
	var stdout, stderr bytes.Buffer
	r := NewRunner(s.nativeClient(), dir, WithConnections(ConnNew))
	out, err := r.Run(context.Background(), s.expandTokens(c.args), Stdio{Stdout: &stdout, Stderr: &stderr})
	exit := 0
	switch e, ok := errors.AsType[*ExitError](err); {
	case ok:
		exit = e.Code
	case err != nil:
		t.Fatalf("native curl %q: %v", c.args, err)
	default:
		exit = out.Exit
	}
	return curlResult{exit: exit, stdout: stdout.Bytes(), stderr: stderr.Bytes(), files: collectOutputs(t, dir, c.outputs)}
}

// snippetCases returns every curl command of every built-in scenario's
// snippets, its words expanded as the shell would with
// INGRESS_GW_ADDRESS=gateway.example.
func snippetCases(t *testing.T) []diffCase {
	t.Helper()
	all, err := scenarios.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	cfg := &expand.Config{Env: expand.ListEnviron("INGRESS_GW_ADDRESS=" + gatewayHost)}
	var out []diffCase
	for _, sc := range all {
		for _, sn := range sc.Snippets {
			f, err := syntax.NewParser().Parse(strings.NewReader(sn.Script), sc.Name+"/"+sn.Name)
			if err != nil {
				t.Fatalf("scenario %s snippet %s: %v", sc.Name, sn.Name, err)
			}
			n := 0
			var expandErr error
			syntax.Walk(f, func(node syntax.Node) bool {
				call, ok := node.(*syntax.CallExpr)
				if !ok || len(call.Args) == 0 || call.Args[0].Lit() != "curl" {
					return true
				}
				words, err := expand.Fields(cfg, call.Args[1:]...)
				if err != nil {
					expandErr = fmt.Errorf("line %d: %w", call.Pos().Line(), err)
					return false
				}
				n++
				out = append(out, diffCase{name: fmt.Sprintf("%s/%s/curl-%d", sc.Name, sn.Name, n), args: words})
				return true
			})
			if expandErr != nil {
				t.Fatalf("scenario %s snippet %s: %v", sc.Name, sn.Name, expandErr)
			}
			if n == 0 {
				t.Fatalf("scenario %s snippet %s runs no curl command", sc.Name, sn.Name)
			}
		}
	}
	return out
}

// flagCases exercise every supported flag at least once.
var flagCases = []diffCase{
	{name: "plain", args: []string{"SERVER/hello"}},
	{name: "include", args: []string{"-i", "SERVER/hello"}},
	{name: "include long and negated", args: []string{"--include", "--no-include", "SERVER/hello"}},
	{name: "include chunked", args: []string{"-i", "SERVER/chunked"}},
	{name: "head", args: []string{"-I", "SERVER/hello"}},
	{name: "head long", args: []string{"--head", "SERVER/status/404"}},
	{name: "silent", args: []string{"-s", "SERVER/hello"}},
	{name: "silent show-error", args: []string{"-sS", "SERVER/status/500"}},
	{name: "no buffer", args: []string{"-sN", "SERVER/hello"}},
	{name: "no buffer long", args: []string{"--no-buffer", "--silent", "SERVER/hello"}},
	{name: "silent show-error long", args: []string{"--silent", "--show-error", "--fail", "http://127.0.0.1:1/"}},
	{name: "host header", args: []string{"-s", "SERVER/echo", "-H", "host: traffic.split.example"}},
	{name: "headers replaced and removed", args: []string{"-s", "SERVER/echo", "-H", "Accept: text/plain", "-H", "X-Empty;", "--header", "X-Two: 2"}},
	{name: "accept removed", args: []string{"-s", "SERVER/echo", "-H", "Accept:"}},
	{name: "user agent", args: []string{"-s", "-A", "probe/1", "SERVER/echo"}},
	{name: "user agent long", args: []string{"-s", "--user-agent", "probe/2", "SERVER/echo"}},
	{name: "data", args: []string{"-s", "SERVER/echo", "-d", `{"messages": []}`}},
	{name: "data twice", args: []string{"-s", "SERVER/echo", "-d", "a=1", "--data", "b=2"}},
	{name: "data-ascii", args: []string{"-s", "SERVER/echo", "--data-ascii", "a=1"}},
	{name: "data-raw keeps @", args: []string{"-s", "SERVER/echo", "--data-raw", "@body.txt"}},
	{name: "data from file strips newlines", args: []string{"-s", "SERVER/echo", "-d", "@body.txt"},
		files: map[string]string{"body.txt": "a=1\r\nb=2\n"}},
	{name: "data-binary from file", args: []string{"-s", "SERVER/echo", "--data-binary", "@body.txt"},
		files: map[string]string{"body.txt": "a=1\r\nb=2\n"}},
	{name: "data-urlencode forms", args: []string{"-s", "SERVER/echo", "--data-urlencode", "q=a b&c", "--data-urlencode", "=x y", "--data-urlencode", "z"}},
	{name: "data-urlencode from file", args: []string{"-s", "SERVER/echo", "--data-urlencode", "f@body.txt"},
		files: map[string]string{"body.txt": "a b\n"}},
	{name: "get moves data to the query", args: []string{"-s", "-G", "SERVER/echo?k=v", "-d", "a=1"}},
	{name: "get long", args: []string{"-s", "--get", "SERVER/echo", "--data-urlencode", "q=a b"}},
	{name: "data with content type", args: []string{"-s", "SERVER/echo", "-H", "Content-Type: application/json", "-d", "{}"}},
	{name: "request PUT", args: []string{"-s", "-X", "PUT", "SERVER/echo"},
		// net/http always sends Content-Length for PUT, POST and PATCH.
		differs: "Content-Length: 0 on a PUT, POST or PATCH without data"},
	{name: "request attached", args: []string{"-s", "-XDELETE", "SERVER/echo"}},
	{name: "request long with data", args: []string{"-s", "--request", "PATCH", "-d", "x=1", "SERVER/echo"}},
	{name: "output file", args: []string{"-s", "-o", "out.txt", "SERVER/hello"}, outputs: []string{"out.txt"}},
	{name: "output long with include", args: []string{"-i", "--output", "out.txt", "SERVER/hello"}, outputs: []string{"out.txt"}},
	{name: "output to stdout", args: []string{"-o", "-", "SERVER/hello"}},
	{name: "output dev null", args: []string{"-o", "/dev/null", "SERVER/hello"}},
	{name: "write-out", args: []string{"-s", "-o", "/dev/null", "-w", `%{http_code} %{response_code} %{size_download} %{url_effective} %{num_redirects} %{method} %{content_type} %{http_version} %{scheme} %header{content-type} %%\n`, "-L", "SERVER/redirect"}},
	{name: "write-out long after body", args: []string{"--write-out", `[%{http_code}]\t%header{content-length}\n`, "SERVER/hello"}},
	{name: "fail 500", args: []string{"-f", "SERVER/status/500"}},
	{name: "fail 404 with include", args: []string{"-f", "-i", "SERVER/status/404"}},
	{name: "fail include after redirect", args: []string{"-fiL", "SERVER/redirect-404"}},
	{name: "fail include redirect to 200", args: []string{"-fiL", "SERVER/redirect"}},
	{name: "fail head", args: []string{"-fI", "SERVER/status/500"}},
	{name: "fail include to file", args: []string{"-fi", "-o", "out.txt", "SERVER/status/500"}, outputs: []string{"out.txt"}},
	{name: "write-out after refused", args: []string{"-s", "-w", `%{http_code} %{response_code} %{size_download} %{url_effective} %{num_redirects} %{method} [%{content_type}] %{http_version} [%header{content-type}]\n`, "http://127.0.0.1:1/x"}},
	{name: "write-out after empty reply", args: []string{"-s", "-w", `%{http_code} %{url_effective} %{size_download}\n`, "SERVER/hangup"}},
	{name: "write-out after max-time", args: []string{"-s", "-m", "0.2", "-w", `%{http_code} %{method} %{url_effective}\n`, "-d", "x", "SERVER/slow"}},
	{name: "fail silent", args: []string{"-sf", "SERVER/status/503"}},
	{name: "fail long on 200", args: []string{"--fail", "SERVER/hello"}},
	{name: "fail with write-out", args: []string{"-sf", "-w", "%{http_code}\n", "SERVER/status/502"}},
	{name: "no fail on 404", args: []string{"SERVER/status/404"}},
	{name: "redirect not followed", args: []string{"-i", "SERVER/redirect"}},
	{name: "redirect followed", args: []string{"-iL", "SERVER/redirect"}},
	{name: "redirect followed long", args: []string{"--location", "SERVER/redirect"}},
	{name: "max-time expires", args: []string{"-m", "0.2", "SERVER/slow"}},
	{name: "max-time expires silent", args: []string{"-s", "--max-time", "0.2", "SERVER/slow"}},
	{name: "max-time not reached", args: []string{"-m", "5", "SERVER/hello"}},
	{name: "connect-timeout not reached", args: []string{"--connect-timeout", "5", "SERVER/hello"}},
	{name: "verbose", args: []string{"-v", "SERVER/hello"}},
	{name: "verbose long with include", args: []string{"--verbose", "-i", "SERVER/hello"}},
	{name: "insecure https", args: []string{"-k", "https://TLSSERVER/hello"}},
	{name: "insecure long https include", args: []string{"--insecure", "-i", "https://TLSSERVER/hello"}},
	{name: "untrusted certificate", args: []string{"https://TLSSERVER/hello"}},
	{name: "url flag", args: []string{"--url", "SERVER/hello"}},
	{name: "two URLs", args: []string{"SERVER/hello", "SERVER/status/201"}},
	{name: "double dash", args: []string{"-s", "--", "SERVER/hello"}},
	{name: "combined short flags", args: []string{"-sSiL", "SERVER/redirect"}},
	{name: "empty reply", args: []string{"SERVER/hangup"}},
	{name: "connection refused", args: []string{"http://127.0.0.1:1/"}},
	{name: "unsupported protocol", args: []string{"nosuch://SERVER/x"}},
	{name: "flag unknown to both", args: []string{"--no-such-flag", "SERVER/hello"}},
	{name: "missing parameter", args: []string{"SERVER/hello", "-H"}},
	{name: "no URL", args: []string{"-s"}},
	{name: "failure before another URL", args: []string{"-f", "SERVER/status/500", "SERVER/hello"}},
	{name: "failure after another URL", args: []string{"-f", "SERVER/hello", "SERVER/status/500"}},
	{name: "refused between two URLs", args: []string{"-s", "-w", "%{http_code}\n", "SERVER/hello", "http://127.0.0.1:1/", "SERVER/status/201"}},
	{name: "head and data", args: []string{"-I", "-d", "x", "SERVER/hello"}},
}

func TestDifferentialAgainstRealCurl(t *testing.T) {
	bin := realCurl(t)
	s := newDiffServers(t)
	cases := append(snippetCases(t), flagCases...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Most of a case is waiting (a process start, a -m expiring),
			// so cases overlap.
			t.Parallel()
			native := MustRunNative(t, s, c)
			real := MustRunReal(t, bin, s, c)
			if native.exit != real.exit {
				t.Errorf("exit: native %d, curl %d\nnative stderr: %s\ncurl stderr: %s", native.exit, real.exit, native.stderr, real.stderr)
			}
			switch same := bytes.Equal(native.stdout, real.stdout); {
			case c.differs != "" && same:
				t.Errorf("stdout is the same, but doc.go lists a difference here (%s): update it", c.differs)
			case c.differs == "" && !same:
				t.Errorf("stdout differs:\nnative %q\ncurl   %q", native.stdout, real.stdout)
			}
			for _, name := range c.outputs {
				if !bytes.Equal(native.files[name], real.files[name]) {
					t.Errorf("-o %s differs:\nnative %q\ncurl   %q", name, native.files[name], real.files[name])
				}
			}
		})
	}
}

// TestFlagCasesCoverEveryFlag keeps flagCases exercising each supported
// flag, in its short and its long spelling, as the flag table grows.
func TestFlagCasesCoverEveryFlag(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range flagCases {
		for i := 0; i < len(c.args); i++ {
			arg := c.args[i]
			if arg == "--" {
				break
			}
			if name, ok := strings.CutPrefix(arg, "--"); ok {
				name, _, _ = strings.Cut(name, "=")
				spec, ok := lookupLong(name) // --no-buffer is a flag of its own
				if !ok {
					spec, ok = lookupLong(strings.TrimPrefix(name, "no-"))
				}
				if ok {
					seen["--"+spec.long] = true
					if spec.set != nil && !strings.Contains(arg, "=") {
						i++ // its value
					}
				}
				continue
			}
			if len(arg) < 2 || arg[0] != '-' {
				continue
			}
			// A run of short flags ends at the first one taking a value.
			for j := 1; j < len(arg); j++ {
				spec, ok := lookupShort(arg[j])
				if !ok {
					break
				}
				seen["-"+string(arg[j])] = true
				if spec.set != nil {
					if j == len(arg)-1 {
						i++
					}
					break
				}
			}
		}
	}
	for _, spec := range flagTable {
		if !seen["--"+spec.long] {
			t.Errorf("no differential case uses --%s", spec.long)
		}
		if spec.short != 0 && !seen["-"+string(spec.short)] {
			t.Errorf("no differential case uses -%c", spec.short)
		}
	}
}
