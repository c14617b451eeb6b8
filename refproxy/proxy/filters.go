package proxy

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/route"
)

// plan is what the filters of a rule and of the chosen backendRef ask for,
// gathered before the request is answered or forwarded. Rule filters come
// first, then the backendRef's, each in the order written.
type plan struct {
	reqHeaders  []headerMod
	respHeaders []headerMod
	redirect    *redirectFilter
	// rewriteHost and rewritePath are the parts of the rewrite that apply;
	// a later URLRewrite overrides only the fields it sets.
	rewriteHost *gatewayv1.PreciseHostname
	rewritePath *gatewayv1.HTTPPathModifier
	// cors is the rule's CORS filter, if any.
	cors *corsPolicy
}

// headerMod is one RequestHeaderModifier or ResponseHeaderModifier.
type headerMod struct{ f *gatewayv1.HTTPHeaderFilter }

// redirectFilter wraps a RequestRedirect.
type redirectFilter struct {
	f *gatewayv1.HTTPRequestRedirectFilter
}

// add folds filters into the plan. RequestMirror is carried by the rule
// (route.Rule.Mirrors); kinds the proxy does not implement (ExternalAuth,
// ExtensionRef) are the translator's to reject and are ignored here.
func (pl *plan) add(filters []gatewayv1.HTTPRouteFilter) {
	for i := range filters {
		f := &filters[i]
		switch f.Type {
		case gatewayv1.HTTPRouteFilterRequestHeaderModifier:
			if f.RequestHeaderModifier != nil {
				pl.reqHeaders = append(pl.reqHeaders, headerMod{f.RequestHeaderModifier})
			}
		case gatewayv1.HTTPRouteFilterResponseHeaderModifier:
			if f.ResponseHeaderModifier != nil {
				pl.respHeaders = append(pl.respHeaders, headerMod{f.ResponseHeaderModifier})
			}
		case gatewayv1.HTTPRouteFilterRequestRedirect:
			if f.RequestRedirect != nil && pl.redirect == nil {
				pl.redirect = &redirectFilter{f.RequestRedirect}
			}
		case gatewayv1.HTTPRouteFilterCORS:
			if f.CORS != nil && pl.cors == nil {
				pl.cors = &corsPolicy{f.CORS}
			}
		case gatewayv1.HTTPRouteFilterURLRewrite:
			if f.URLRewrite != nil {
				if f.URLRewrite.Hostname != nil {
					pl.rewriteHost = f.URLRewrite.Hostname
				}
				if f.URLRewrite.Path != nil {
					pl.rewritePath = f.URLRewrite.Path
				}
			}
		}
	}
}

// apply edits h: set replaces, add appends, remove deletes (names are case
// insensitive, as the spec requires).
func (m headerMod) apply(h http.Header) {
	for _, s := range m.f.Set {
		h.Set(string(s.Name), s.Value)
	}
	for _, a := range m.f.Add {
		h.Add(string(a.Name), a.Value)
	}
	for _, name := range m.f.Remove {
		h.Del(name)
	}
}

func (pl *plan) applyRequestHeaders(h http.Header) {
	for _, m := range pl.reqHeaders {
		m.apply(h)
	}
}

// applyRewrite applies URLRewrite to the outbound request.
func (pl *plan) applyRewrite(out *http.Request, e *route.Entry) {
	if pl.rewriteHost != nil {
		out.Host = string(*pl.rewriteHost)
	}
	if pl.rewritePath != nil {
		if p, ok := modifyPath(out.URL.Path, pl.rewritePath, e); ok {
			out.URL.Path = p
			out.URL.RawPath = ""
		}
	}
}

// modifyPath applies an HTTPPathModifier to path. ReplacePrefixMatch needs
// the PathPrefix match that selected the rule; with any other match type the
// path is left alone (the translator refuses that combination).
func modifyPath(path string, m *gatewayv1.HTTPPathModifier, e *route.Entry) (string, bool) {
	switch m.Type {
	case gatewayv1.FullPathHTTPPathModifier:
		if m.ReplaceFullPath == nil {
			return "", false
		}
		return *m.ReplaceFullPath, true
	case gatewayv1.PrefixMatchHTTPPathModifier:
		if m.ReplacePrefixMatch == nil || e == nil || e.Match.PathType != gatewayv1.PathMatchPathPrefix {
			return "", false
		}
		return replacePrefix(path, e.Match.PathValue, *m.ReplacePrefixMatch), true
	}
	return "", false
}

// replacePrefix replaces the matched prefix of path element-wise, following
// the table in the HTTPPathModifier documentation: a trailing slash on either
// the prefix or the replacement does not double or drop the separator
// ("/foo/bar" with prefix "/foo/" and replacement "/xyz" is "/xyz/bar"), and
// an empty result is "/".
func replacePrefix(path, prefix, repl string) string {
	prefix = strings.TrimSuffix(prefix, "/")
	rest := ""
	if len(path) > len(prefix) {
		rest = path[len(prefix):] // "" or starts with "/": the match was element-wise
	}
	out := strings.TrimSuffix(repl, "/") + rest
	if out == "" {
		return "/"
	}
	return out
}

// location builds the Location header and status code of a redirect.
//
// Port defaulting follows the spec: an explicit port wins; otherwise a
// redirect that sets a scheme uses that scheme's well-known port (http 80,
// https 443), and one that does not uses the listener port. The port is left
// out of the URL when it is the default port of the resulting scheme.
func (rf *redirectFilter) location(r *http.Request, listenerPort int32, e *route.Entry) (string, int) {
	f := rf.f
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	port := int(listenerPort)
	if f.Scheme != nil && *f.Scheme != "" {
		scheme = strings.ToLower(*f.Scheme)
		switch scheme {
		case "http":
			port = 80
		case "https":
			port = 443
		}
	}
	if f.Port != nil {
		port = int(*f.Port)
	}
	host := route.HostOnly(r.Host)
	if f.Hostname != nil && *f.Hostname != "" {
		host = string(*f.Hostname)
	}
	path := r.URL.Path
	if f.Path != nil {
		if p, ok := modifyPath(path, f.Path, e); ok {
			path = p
		}
	}
	if !(scheme == "http" && port == 80 || scheme == "https" && port == 443) {
		host = net.JoinHostPort(host, strconv.Itoa(port))
	} else if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]" // a bare IPv6 literal still needs brackets in a URL
	}
	u := url.URL{Scheme: scheme, Host: host, Path: path, RawQuery: r.URL.RawQuery}
	code := http.StatusFound
	if f.StatusCode != nil {
		code = *f.StatusCode
	}
	return u.String(), code
}
