package curl

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// UserAgent is the User-Agent the native curl sends unless -A or -H sets one.
const UserAgent = "curl/8 (splitproof replayer)"

// requestBody joins the data arguments as curl does. An unreadable data file
// is an *ExitError; a file the runner may not read at all is a replay error.
func (r *Runner) requestBody(cmd *Command, stdin io.Reader) (body []byte, has bool, err error) {
	if len(cmd.Data) == 0 {
		return nil, false, nil
	}
	var parts []string
	for _, d := range cmd.Data {
		var part string
		switch d.Kind {
		case DataRaw:
			part = d.Value
		case DataASCII, DataBinary:
			if name, ok := strings.CutPrefix(d.Value, "@"); ok {
				b, err := r.readInput(name, stdin)
				if err != nil {
					return nil, false, err
				}
				if d.Kind == DataASCII {
					b = bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r"), nil), []byte("\n"), nil)
				}
				part = string(b)
			} else {
				part = d.Value
			}
		case DataURLEncode:
			p, err := r.urlencode(d.Value, stdin)
			if err != nil {
				return nil, false, err
			}
			part = p
		}
		parts = append(parts, part)
	}
	return []byte(strings.Join(parts, "&")), true, nil
}

// urlencode follows curl's --data-urlencode forms.
func (r *Runner) urlencode(v string, stdin io.Reader) (string, error) {
	if i := strings.IndexAny(v, "=@"); i >= 0 {
		name, rest := v[:i], v[i+1:]
		if v[i] == '@' {
			b, err := r.readInput(rest, stdin)
			if err != nil {
				return "", err
			}
			rest = string(b)
		}
		enc := url.QueryEscape(rest)
		if name == "" {
			return enc, nil
		}
		return name + "=" + enc, nil
	}
	return url.QueryEscape(v), nil
}

// readInput reads "-" from stdin or a file under the runner's directory.
func (r *Runner) readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		if stdin == nil {
			return nil, nil
		}
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, exitf(ExitRead, "Failed to read stdin: %w", err)
		}
		return b, nil
	}
	root, err := r.openRoot()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	b, err := root.ReadFile(name)
	if err != nil {
		return nil, exitf(ExitRead, "Failed to open %s: %w", name, err)
	}
	return b, nil
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

// buildRequest turns one URL of cmd into the request curl would send: its
// method, default headers and the -H edits to them. A URL curl rejects is
// an *ExitError.
func buildRequest(ctx context.Context, cmd *Command, raw string, body []byte, hasBody bool) (*http.Request, error) {
	target := normalizeURL(raw)
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, exitf(ExitBadURL, "URL rejected: Malformed input to a URL function (%q)", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, exitf(ExitUnsupported, "Protocol %q not supported", u.Scheme)
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
		return nil, exitf(ExitBadURL, "URL rejected: %w", err)
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
	return req, nil
}
