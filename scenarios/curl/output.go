package curl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// fail records a curl failure in out and prints curl's error line unless
// -s hides it (and -S does not bring it back).
func fail(out *Outcome, cmd *Command, stderr io.Writer, e *ExitError) *Outcome {
	out.Exit, out.Message = e.Code, e.Message()
	if !cmd.Silent || cmd.ShowError {
		fmt.Fprintln(stderr, e.Error())
	}
	return out
}

// writeResponse writes what curl prints for a final response: the head with
// -i or -I, then the body unless -I or withBody is false (a -f failure).
func (r *Runner) writeResponse(cmd *Command, dest string, stdout io.Writer, resp *http.Response, body []byte, withBody bool) error {
	w, closeOut, err := r.openOutput(dest, stdout)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if cmd.Include || cmd.Head {
		writeHeadWithTE(&buf, resp)
	}
	if !cmd.Head && withBody {
		buf.Write(body)
	}
	_, werr := w.Write(buf.Bytes())
	if cerr := closeOut(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return exitf(ExitWrite, "Failure writing output to destination: %w", werr)
	}
	return nil
}

// openOutput returns where the body goes: stdout, nowhere (/dev/null), or a
// file created under the runner's directory. A file outside that directory
// is a replay error; one that cannot be created is curl's exit 23.
func (r *Runner) openOutput(dest string, stdout io.Writer) (io.Writer, func() error, error) {
	noop := func() error { return nil }
	switch dest {
	case "", "-":
		return stdout, noop, nil
	case os.DevNull:
		return io.Discard, noop, nil
	}
	root, err := r.openRoot()
	if err != nil {
		return nil, nil, err
	}
	name := dest
	if filepath.IsAbs(name) {
		if rel, err := filepath.Rel(r.dir, name); err == nil && !strings.HasPrefix(rel, "..") {
			name = rel
		} else {
			root.Close()
			return nil, nil, fmt.Errorf("curl -o %s: the replayer writes only under %s", dest, r.dir)
		}
	}
	f, err := root.Create(name)
	if err != nil {
		root.Close()
		if errors.Is(err, os.ErrPermission) || strings.Contains(err.Error(), "escapes") {
			return nil, nil, fmt.Errorf("curl -o %s: the replayer writes only under %s: %w", dest, r.dir, err)
		}
		return nil, nil, exitf(ExitWrite, "Failed to open the file %s: %w", dest, err)
	}
	return f, func() error {
		err := f.Close()
		root.Close()
		return err
	}, nil
}

// statusLine renders the status line as curl prints it.
func statusLine(resp *http.Response) string {
	if resp.ProtoMajor == 2 {
		return fmt.Sprintf("HTTP/2 %d", resp.StatusCode)
	}
	return resp.Proto + " " + resp.Status
}

// writeHeadWithTE writes the response head, putting back the
// Transfer-Encoding header that net/http moves out of resp.Header.
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

// writeOutVars is what -w can refer to. resp is nil when no response
// arrived (curl still expands -w then, with http_code 000).
type writeOutVars struct {
	req       *http.Request // the last request sent
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
			if v.resp != nil {
				b.WriteString(strings.Join(v.resp.Header.Values(tmpl[i+len("%header{"):i+end]), ", "))
			}
			i += end
		default:
			b.WriteByte(c)
		}
	}
	io.WriteString(stdout, b.String())
}

func writeOutVar(name string, v writeOutVars) (string, bool) {
	status, proto := 0, "0"
	var header http.Header
	if v.resp != nil {
		status, header = v.resp.StatusCode, v.resp.Header
		proto = fmt.Sprintf("%d.%d", v.resp.ProtoMajor, v.resp.ProtoMinor)
		if v.resp.ProtoMajor == 2 {
			proto = "2"
		}
	}
	switch name {
	case "http_code", "response_code":
		return fmt.Sprintf("%03d", status), true
	case "time_total":
		return strconv.FormatFloat(v.elapsed.Seconds(), 'f', 6, 64), true
	case "size_download":
		return strconv.Itoa(len(v.body)), true
	case "url_effective":
		return v.req.URL.String(), true
	case "content_type":
		return header.Get("Content-Type"), true
	case "num_redirects":
		return strconv.Itoa(v.redirects), true
	case "method":
		return v.req.Method, true
	case "http_version":
		return proto, true
	case "scheme":
		// Upper case, as Debian's curl 7.88 prints it.
		return strings.ToUpper(v.req.URL.Scheme), true
	}
	return "", false
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }
