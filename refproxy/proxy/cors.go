package proxy

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// corsPolicy applies a rule's CORS filter: preflight requests are answered
// by the proxy, and actual cross-origin requests get the CORS response
// headers added to the backend's answer. A request whose Origin is not
// allowed gets no CORS header at all (the browser then refuses it).
type corsPolicy struct{ f *gatewayv1.HTTPCORSFilter }

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// headers returns the CORS response headers for r, or nil when r has no
// Origin or its Origin is not allowed.
func (c corsPolicy) headers(r *http.Request, preflight bool) []gatewayv1.HTTPHeader {
	origin := r.Header.Get("Origin")
	if origin == "" || !c.originAllowed(origin) {
		return nil
	}
	creds := c.f.AllowCredentials != nil && *c.f.AllowCredentials
	// Echoing the Origin is always correct, and required with credentials.
	out := []gatewayv1.HTTPHeader{{Name: "Access-Control-Allow-Origin", Value: origin}}
	if creds {
		out = append(out, gatewayv1.HTTPHeader{Name: "Access-Control-Allow-Credentials", Value: "true"})
	}
	if len(c.f.ExposeHeaders) > 0 {
		out = append(out, gatewayv1.HTTPHeader{Name: "Access-Control-Expose-Headers", Value: joinNames(c.f.ExposeHeaders)})
	}
	if !preflight {
		return out
	}
	if m := r.Header.Get("Access-Control-Request-Method"); m != "" && len(c.f.AllowMethods) > 0 {
		v := m // "*" configured: name the requested method, valid with or without credentials
		if !slices.Contains(c.f.AllowMethods, "*") {
			var ms []string
			for _, am := range c.f.AllowMethods {
				ms = append(ms, string(am))
			}
			v = strings.Join(ms, ", ")
		}
		out = append(out, gatewayv1.HTTPHeader{Name: "Access-Control-Allow-Methods", Value: v})
	}
	if len(c.f.AllowHeaders) > 0 {
		if slices.Contains(c.f.AllowHeaders, "*") {
			if h := r.Header.Get("Access-Control-Request-Headers"); h != "" {
				out = append(out, gatewayv1.HTTPHeader{Name: "Access-Control-Allow-Headers", Value: h})
			}
		} else {
			out = append(out, gatewayv1.HTTPHeader{Name: "Access-Control-Allow-Headers", Value: joinNames(c.f.AllowHeaders)})
		}
	}
	if c.f.MaxAge > 0 {
		out = append(out, gatewayv1.HTTPHeader{Name: "Access-Control-Max-Age", Value: strconv.Itoa(int(c.f.MaxAge))})
	}
	return out
}

func joinNames(hs []gatewayv1.HTTPHeaderName) string {
	s := make([]string, len(hs))
	for i, h := range hs {
		s[i] = string(h)
	}
	return strings.Join(s, ", ")
}

// originAllowed matches origin against allowOrigins: "*" allows all; else
// scheme and port (80 for http, 443 for https when absent) must be equal,
// and the host equal or, for a pattern "*.suffix", ending in ".suffix"
// (the wildcard takes any number of labels).
func (c corsPolicy) originAllowed(origin string) bool {
	scheme, host, port, ok := splitOrigin(origin)
	if !ok {
		return false
	}
	for _, a := range c.f.AllowOrigins {
		if a == "*" {
			return true
		}
		as, ah, ap, ok := splitOrigin(string(a))
		if !ok || as != scheme || ap != port {
			continue
		}
		switch {
		case ah == "*":
			return true
		case strings.HasPrefix(ah, "*."):
			if strings.HasSuffix(host, ah[1:]) && len(host) > len(ah)-1 {
				return true
			}
		case ah == host:
			return true
		}
	}
	return false
}

// splitOrigin parses "scheme://host[:port]" with the scheme's default port.
func splitOrigin(s string) (scheme, host, port string, ok bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "", "", false
	}
	// url.Parse refuses "*" in a host only with a port; Hostname copes.
	host, port = strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme, host, port, true
}
