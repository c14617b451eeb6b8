package route

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/picker"
)

// Table is the whole routing configuration of one proxy.
type Table struct {
	// Ports holds one entry per listener port, sorted by port.
	Ports []*Port `json:"ports"`
	// Routes says, per HTTPRoute and parent, what the translator decided:
	// the spec's Accepted and ResolvedRefs conditions. Matching never reads
	// it; /debug/routes shows it, so a route that serves nothing (or 500s
	// for a backend) says why without a cluster to hold its status.
	Routes []RouteStatus `json:"routes,omitempty"`
}

// RouteStatus is one HTTPRoute's standing with one of its parents.
type RouteStatus struct {
	// Route is namespace/name; Parent is namespace/gateway, with
	// /section and :port when the parentRef names them.
	Route  string `json:"route"`
	Parent string `json:"parent"`
	// Accepted and ResolvedRefs are the conditions of those types.
	Accepted     Condition `json:"accepted"`
	ResolvedRefs Condition `json:"resolved_refs"`
}

// Condition is a status condition without its bookkeeping fields.
type Condition struct {
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Port is everything served on one TCP port.
type Port struct {
	Port int32 `json:"port"`
	// Protocol is HTTP or HTTPS.
	Protocol string `json:"protocol"`
	// Listeners names the Gateway listeners merged on this port ("ns/gateway/section").
	Listeners []string `json:"listeners"`
	// TLS holds the certificates for HTTPS ports, by SNI hostname.
	TLS []Certificate `json:"tls,omitempty"`
	// ListenerHosts are the distinct hostnames of the listeners on this
	// port ("*" for a listener without one), most specific first. A request
	// is served by the first that matches its host, and only by the routes
	// attached through it: listener isolation. Empty in tables built by
	// hand, where every virtual host is eligible.
	ListenerHosts []string `json:"listener_hosts,omitempty"`
	// Hosts are the virtual hosts, most specific hostname first.
	Hosts []*VirtualHost `json:"hosts"`
}

// Certificate is one server certificate of an HTTPS listener.
type Certificate struct {
	// Hostname is the listener hostname it serves ("" = any).
	Hostname string `json:"hostname,omitempty"`
	// Ref is the Secret's namespace/name.
	Ref     string `json:"secretRef"`
	CertPEM []byte `json:"-"`
	KeyPEM  Secret `json:"-"`
}

// VirtualHost groups the routes that serve one hostname on a port.
type VirtualHost struct {
	// Hostname is exact ("a.example.com"), a wildcard ("*.example.com") or
	// "*" for any host.
	Hostname string `json:"hostname"`
	// Listener is the hostname of the listener(s) the routes were attached
	// through, one of Port.ListenerHosts ("*" for none).
	Listener string `json:"listener,omitempty"`
	// Entries are the (rule, match) pairs in precedence order.
	Entries []*Entry `json:"entries"`
}

// Entry is one HTTPRouteMatch of one rule.
type Entry struct {
	Route      string `json:"route"` // namespace/name
	RuleIndex  int    `json:"rule_index"`
	MatchIndex int    `json:"match_index"`
	Match      Match  `json:"match"`
	// Rule is shared by the entries of its matches (one picker per rule).
	Rule *Rule `json:"rule"`
	// Created is the route's creation time, a precedence tie-breaker.
	Created time.Time `json:"-"`
}

// Match is a compiled HTTPRouteMatch.
type Match struct {
	PathType  gatewayv1.PathMatchType `json:"path_type"`
	PathValue string                  `json:"path"`
	// PathRegexp is set for RegularExpression paths (anchored).
	PathRegexp *regexp.Regexp    `json:"-"`
	Method     string            `json:"method,omitempty"`
	Headers    []HeaderMatch     `json:"headers,omitempty"`
	Query      []QueryParamMatch `json:"query,omitempty"`
}

// HeaderMatch is one header condition. Name is canonical.
type HeaderMatch struct {
	Name   string         `json:"name"`
	Value  string         `json:"value"`
	Regexp *regexp.Regexp `json:"-"`
}

// QueryParamMatch is one query parameter condition.
type QueryParamMatch struct {
	Name   string         `json:"name"`
	Value  string         `json:"value"`
	Regexp *regexp.Regexp `json:"-"`
}

// Rule is one HTTPRouteRule: filters, backends and their picker.
type Rule struct {
	ID      string                      `json:"id"` // namespace/name/rule
	Filters []gatewayv1.HTTPRouteFilter `json:"filters,omitempty"`
	// Backends keep the order and the weights of the rule's backendRefs,
	// invalid ones included: the picker's index addresses this slice.
	Backends []*Backend `json:"backends"`
	// Picker chooses among Backends by weight.
	Picker picker.Picker `json:"-"`
	// Timeouts from the rule, if any.
	Timeouts *gatewayv1.HTTPRouteTimeouts `json:"timeouts,omitempty"`
	// Mirrors are the rule's RequestMirror filters with resolved backends.
	Mirrors []*Mirror `json:"mirrors,omitempty"`
}

// Mirror is one RequestMirror filter: a copy of a share of the rule's
// requests goes to Backend, and its answer is discarded.
type Mirror struct {
	Backend *Backend `json:"backend"`
	// Percent of the requests mirrored, in (0, 100].
	Percent float64 `json:"percent"`
	// Draw decides, below 100 %, which requests are mirrored: index 0
	// (weight Percent in parts per million) mirrors. It is seeded like the
	// rule's own picker, so a run's mirrored requests are reproducible.
	Draw picker.Picker `json:"-"`
}

// BackendKind says how a backend is reached.
type BackendKind string

const (
	// KindService is a Kubernetes Service resolved to ready endpoints.
	KindService BackendKind = "Service"
	// KindAI is an AgentgatewayBackend LLM provider.
	KindAI BackendKind = "AI"
	// KindInvalid is a backendRef that could not be resolved: its share is answered with 500.
	KindInvalid BackendKind = "Invalid"
)

// Backend is one backendRef of a rule.
type Backend struct {
	// Name is how reports and metrics name it: "namespace/name:port" for a
	// Service, "namespace/name" for other kinds.
	Name   string      `json:"name"`
	Kind   BackendKind `json:"kind"`
	Weight int32       `json:"weight"`
	// Reason and Message explain KindInvalid (BackendNotFound, InvalidKind,
	// RefNotPermitted, UnsupportedProtocol).
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Endpoints are "ip:port" of ready endpoints (KindService). Empty means
	// the Service has no ready endpoints: 503 for its share.
	Endpoints []string `json:"endpoints,omitempty"`
	// Filters are the backendRef's own filters, applied after the rule's.
	Filters []gatewayv1.HTTPRouteFilter `json:"filters,omitempty"`
	// AI is set for KindAI.
	AI *AIBackend `json:"ai,omitempty"`
	// AppProtocol of the Service port, if any.
	AppProtocol string `json:"app_protocol,omitempty"`

	next atomic.Uint64
}

// NextEndpoint returns the next ready endpoint in round-robin order, or "" when there is none.
func (b *Backend) NextEndpoint() string {
	if len(b.Endpoints) == 0 {
		return ""
	}
	n := b.next.Add(1) - 1
	return b.Endpoints[n%uint64(len(b.Endpoints))]
}

// AI providers an AIBackend can name.
const (
	ProviderOpenAI    = "openai"
	ProviderAnthropic = "anthropic"
)

// AIBackend is a resolved AgentgatewayBackend with an LLM provider.
type AIBackend struct {
	Provider string `json:"provider"` // ProviderOpenAI or ProviderAnthropic
	Model    string `json:"model,omitempty"`
	// Scheme, Host and Port locate the provider (https://api.openai.com:443
	// or https://api.anthropic.com:443 unless overridden).
	Scheme string `json:"scheme"`
	Host   string `json:"host"`
	Port   int32  `json:"port"`
	// Path, when set, replaces the request path; otherwise the route path is
	// mapped, for openai, to /v1/chat/completions, or to /v1/responses when
	// it ends in /responses; for anthropic, to /v1/messages.
	Path string `json:"path,omitempty"`
	// SecretRef names the Secret the key came from; APIKey is the key itself.
	SecretRef string `json:"secret_ref,omitempty"`
	APIKey    Secret `json:"api_key,omitempty"`
}

// Secret is a string that never shows itself in logs, JSON or fmt output.
type Secret string

const redacted = "[redacted]"

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON hides the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Reveal returns the value, for the one place that must send it upstream.
func (s Secret) Reveal() string { return string(s) }

// Format implements fmt.Formatter so that no verb reveals the value.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// Port returns the entry for port p, or nil.
func (t *Table) Port(p int32) *Port {
	for _, pt := range t.Ports {
		if pt.Port == p {
			return pt
		}
	}
	return nil
}

// Lookup finds the entry that serves r on port p. It returns nil when no
// rule matches, which the proxy answers with 404.
func (t *Table) Lookup(p int32, r *http.Request) *Entry {
	pt := t.Port(p)
	if pt == nil {
		return nil
	}
	return pt.Lookup(r)
}

// Lookup finds the entry of this port that serves r, or nil.
func (p *Port) Lookup(r *http.Request) *Entry {
	vh := p.Host(HostOnly(r.Host))
	if vh == nil {
		return nil
	}
	for _, e := range vh.Entries {
		if e.Match.Matches(r) {
			return e
		}
	}
	return nil
}

// Host returns the most specific virtual host serving host, or nil. With
// ListenerHosts, the most specific listener matching host is chosen first
// and only its virtual hosts are considered, so that a route attached to a
// catch-all listener never answers for a host a more specific listener of
// the port owns.
func (p *Port) Host(host string) *VirtualHost {
	listener := ""
	if len(p.ListenerHosts) > 0 {
		if listener = p.Listener(host); listener == "" {
			return nil
		}
	}
	for _, vh := range p.Hosts {
		if (listener == "" || vh.Listener == listener) && HostnameMatches(vh.Hostname, host) {
			return vh
		}
	}
	return nil
}

// Listener returns the most specific of ListenerHosts matching host, or "".
func (p *Port) Listener(host string) string {
	for _, lh := range p.ListenerHosts {
		if HostnameMatches(lh, host) {
			return lh
		}
	}
	return ""
}

// Misdirected reports whether a request for host arriving on a TLS
// connection whose SNI was sni belongs to another listener of the port than
// the one that connection was set up for (and so, possibly, another
// certificate): HTTP/2 clients reuse a connection for every host its
// certificate covers, and the answer must then be 421 Misdirected Request.
// Without SNI, or when it names no listener, nothing is misdirected.
func (p *Port) Misdirected(sni, host string) bool {
	if sni == "" || len(p.ListenerHosts) < 2 {
		return false
	}
	want := p.Listener(strings.ToLower(strings.TrimSuffix(sni, ".")))
	return want != "" && want != p.Listener(host)
}

// HostOnly strips a port from a Host header value and lower-cases it.
func HostOnly(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// HostnameMatches reports whether pattern ("*", "*.example.com" or an exact
// name) matches host. A wildcard matches one or more labels in its place, but
// not the bare suffix: "*.example.com" matches "a.b.example.com", not "example.com".
func HostnameMatches(pattern, host string) bool {
	switch {
	case pattern == "*" || pattern == "":
		return true
	case strings.HasPrefix(pattern, "*."):
		suffix := pattern[1:] // ".example.com"
		return len(host) > len(suffix) && strings.HasSuffix(host, suffix)
	default:
		return pattern == host
	}
}

// Matches reports whether r satisfies every condition of m.
func (m *Match) Matches(r *http.Request) bool {
	if !m.pathMatches(r.URL.Path) {
		return false
	}
	if m.Method != "" && r.Method != m.Method {
		return false
	}
	for _, h := range m.Headers {
		vals := r.Header.Values(h.Name)
		if h.Name == "Host" && len(vals) == 0 && r.Host != "" {
			vals = []string{r.Host}
		}
		if !anyMatches(vals, h.Value, h.Regexp) {
			return false
		}
	}
	if len(m.Query) > 0 {
		q := r.URL.Query()
		for _, qm := range m.Query {
			vals := q[qm.Name]
			// The spec says only the first value of a repeated parameter counts.
			if len(vals) == 0 || !anyMatches(vals[:1], qm.Value, qm.Regexp) {
				return false
			}
		}
	}
	return true
}

func anyMatches(vals []string, want string, re *regexp.Regexp) bool {
	for _, v := range vals {
		if re != nil {
			if re.MatchString(v) {
				return true
			}
		} else if v == want {
			return true
		}
	}
	return false
}

func (m *Match) pathMatches(path string) bool {
	if path == "" {
		path = "/"
	}
	switch m.PathType {
	case gatewayv1.PathMatchExact:
		return path == m.PathValue
	case gatewayv1.PathMatchRegularExpression:
		return m.PathRegexp != nil && m.PathRegexp.MatchString(path)
	default: // PathPrefix: element-wise, "/foo" matches "/foo" and "/foo/bar", not "/foobar".
		prefix := strings.TrimSuffix(m.PathValue, "/")
		if prefix == "" {
			return true
		}
		if !strings.HasPrefix(path, prefix) {
			return false
		}
		return len(path) == len(prefix) || path[len(prefix)] == '/'
	}
}
