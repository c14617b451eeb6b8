package translate

import (
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/objects"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/route"
)

// DefaultControllerName is the GatewayClass controllerName refproxy serves.
const DefaultControllerName = "splitproof.dev/refproxy"

// Options tune a translation.
type Options struct {
	// ControllerName selects the GatewayClasses to serve (default DefaultControllerName).
	ControllerName string
	// PickMode and Seed build every rule's picker. Each rule's seed is
	// derived from Seed and the rule's identity, so adding a route does not
	// change the draws of another.
	PickMode picker.Mode
	Seed     uint64
	// Now stamps lastTransitionTime on conditions (zero in file mode and tests).
	Now time.Time
}

// OwnsClass reports whether refproxy, running with these options, is the
// controller of class: its controllerName is ControllerName, or
// DefaultControllerName when that is empty. The translator, the controller
// and the provisioner all decide "ours" here, so they cannot disagree.
func (o Options) OwnsClass(class *gatewayv1.GatewayClass) bool {
	if class == nil {
		return false
	}
	return string(class.Spec.ControllerName) == o.Controller()
}

// OwnedClasses is the set of names of the classes OwnsClass accepts: the
// controller and the provisioner list GatewayClasses from a cluster and keep
// only the Gateways whose class is in it.
func (o Options) OwnedClasses(classes []gatewayv1.GatewayClass) map[string]bool {
	ours := map[string]bool{}
	for i := range classes {
		if o.OwnsClass(&classes[i]) {
			ours[classes[i].Name] = true
		}
	}
	return ours
}

// Controller is the controllerName served: ControllerName, or
// DefaultControllerName when that is empty.
func (o Options) Controller() string {
	if o.ControllerName == "" {
		return DefaultControllerName
	}
	return o.ControllerName
}

// Result is the routing table and the status of every object involved.
type Result struct {
	Table          *route.Table         `json:"table"`
	GatewayClasses []GatewayClassStatus `json:"gatewayClasses,omitempty"`
	Gateways       []GatewayStatus      `json:"gateways"`
	Routes         []RouteStatus        `json:"routes"`
	// Warnings are problems that have no status to live in (a parentRef to
	// a Gateway that does not exist, say).
	Warnings []string `json:"warnings,omitempty"`
}

// GatewayClassStatus is the status of one GatewayClass this controller owns.
type GatewayClassStatus struct {
	Name   string                       `json:"name"`
	Status gatewayv1.GatewayClassStatus `json:"status"`
}

// GatewayStatus is the status of one served Gateway.
type GatewayStatus struct {
	Gateway    types.NamespacedName    `json:"gateway"`
	Generation int64                   `json:"generation"`
	Status     gatewayv1.GatewayStatus `json:"status"`
}

// RouteStatus is the status of one HTTPRoute for the parents this
// controller serves.
type RouteStatus struct {
	Route      types.NamespacedName          `json:"route"`
	Generation int64                         `json:"generation"`
	Parents    []gatewayv1.RouteParentStatus `json:"parents"`
}

// Accepted reports whether the route is accepted by at least one parent.
func (s *RouteStatus) Accepted() bool {
	for _, p := range s.Parents {
		if c := findCondition(p.Conditions, string(gatewayv1.RouteConditionAccepted)); c != nil && c.Status == metav1.ConditionTrue {
			return true
		}
	}
	return false
}

func findCondition(cs []metav1.Condition, t string) *metav1.Condition {
	for i := range cs {
		if cs[i].Type == t {
			return &cs[i]
		}
	}
	return nil
}

// Translate turns objects into a routing table and statuses. It returns an
// error only for a set it cannot make sense of at all (duplicate objects);
// invalid references become statuses and 500s, as the spec says.
func Translate(set *objects.Set, opts Options) (*Result, error) {
	opts.ControllerName = opts.Controller()
	if opts.PickMode == "" {
		opts.PickMode = picker.Random
	}
	idx, err := newIndex(set)
	if err != nil {
		return nil, err
	}
	t := &translator{opts: opts, idx: idx, res: &Result{Table: &route.Table{}}}
	t.classes()
	t.gateways()
	t.routes()
	t.listenerStatuses()
	t.finish()
	return t.res, nil
}

type translator struct {
	opts Options
	idx  *index
	res  *Result
	// listeners of served gateways, in gateway then listener order.
	listeners []*listener
	// vhosts[port][listener hostname, hostname] collects entries before sorting.
	vhosts map[int32]map[vhostKey]*route.VirtualHost
	// rejected are served Gateways refused as a whole (not Accepted), with why.
	rejected map[*gatewayv1.Gateway]string
}

func (t *translator) cond(typ, reason string, ok bool, gen int64, msg string) metav1.Condition {
	st := metav1.ConditionFalse
	if ok {
		st = metav1.ConditionTrue
	}
	return metav1.Condition{
		Type: typ, Status: st, Reason: reason, Message: msg,
		ObservedGeneration: gen, LastTransitionTime: metav1.NewTime(t.opts.Now),
	}
}

func (t *translator) warnf(format string, args ...any) {
	t.res.Warnings = append(t.res.Warnings, fmt.Sprintf(format, args...))
}

// ruleSeed derives a rule's picker seed from the run seed and the rule's identity.
func ruleSeed(seed uint64, id string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return seed ^ h.Sum64()
}

func nn(ns, name string) string { return ns + "/" + name }

// vhostKey identifies a virtual host: routes attached through listeners of
// different hostnames stay apart even when their own hostnames coincide.
type vhostKey struct{ listener, host string }

// finish sorts virtual hosts and entries into precedence order and fills the table.
func (t *translator) finish() {
	ports := map[int32]*route.Port{}
	for _, l := range t.listeners {
		if !l.valid {
			continue
		}
		p := ports[l.port]
		if p == nil {
			p = &route.Port{Port: l.port, Protocol: string(l.protocol), Hosts: []*route.VirtualHost{}}
			ports[l.port] = p
		}
		p.Listeners = append(p.Listeners, l.id)
		if lh := listenerHost(l.hostname); !slices.Contains(p.ListenerHosts, lh) {
			p.ListenerHosts = append(p.ListenerHosts, lh)
		}
		if l.cert != nil {
			p.TLS = append(p.TLS, *l.cert)
		}
	}
	for port, hosts := range t.vhosts {
		p := ports[port]
		for _, vh := range hosts {
			sortEntries(vh.Entries)
			p.Hosts = append(p.Hosts, vh)
		}
		sort.Slice(p.Hosts, func(i, j int) bool {
			a, b := p.Hosts[i], p.Hosts[j]
			if a.Hostname != b.Hostname {
				return hostLess(a.Hostname, b.Hostname)
			}
			return hostLess(a.Listener, b.Listener)
		})
	}
	for _, p := range ports {
		sort.Slice(p.ListenerHosts, func(i, j int) bool { return hostLess(p.ListenerHosts[i], p.ListenerHosts[j]) })
		t.res.Table.Ports = append(t.res.Table.Ports, p)
	}
	sort.Slice(t.res.Table.Ports, func(i, j int) bool { return t.res.Table.Ports[i].Port < t.res.Table.Ports[j].Port })
	sort.Slice(t.res.Routes, func(i, j int) bool {
		return t.res.Routes[i].Route.String() < t.res.Routes[j].Route.String()
	})
	for i := range t.res.Routes {
		t.res.Table.Routes = append(t.res.Table.Routes, tableStatuses(&t.res.Routes[i])...)
	}
}

// tableStatuses copies a route's parent conditions into the table, for
// /debug/routes.
func tableStatuses(st *RouteStatus) []route.RouteStatus {
	out := make([]route.RouteStatus, 0, len(st.Parents))
	for _, p := range st.Parents {
		parent := string(p.ParentRef.Name)
		if p.ParentRef.Namespace != nil {
			parent = string(*p.ParentRef.Namespace) + "/" + parent
		} else {
			parent = st.Route.Namespace + "/" + parent
		}
		if p.ParentRef.SectionName != nil {
			parent += "/" + string(*p.ParentRef.SectionName)
		}
		if p.ParentRef.Port != nil {
			parent += fmt.Sprintf(":%d", *p.ParentRef.Port)
		}
		out = append(out, route.RouteStatus{
			Route:        st.Route.String(),
			Parent:       parent,
			Accepted:     tableCondition(p.Conditions, string(gatewayv1.RouteConditionAccepted)),
			ResolvedRefs: tableCondition(p.Conditions, string(gatewayv1.RouteConditionResolvedRefs)),
		})
	}
	return out
}

func tableCondition(cs []metav1.Condition, typ string) route.Condition {
	c := findCondition(cs, typ)
	if c == nil {
		return route.Condition{Status: string(metav1.ConditionUnknown)}
	}
	return route.Condition{Status: string(c.Status), Reason: c.Reason, Message: c.Message}
}

// hostLess orders virtual hosts most specific first: exact names, then
// wildcards by length, then "*".
func hostLess(a, b string) bool {
	ra, rb := hostRank(a), hostRank(b)
	if ra != rb {
		return ra < rb
	}
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a < b
}

func hostRank(h string) int {
	switch {
	case h == "*":
		return 2
	case strings.HasPrefix(h, "*."):
		return 1
	default:
		return 0
	}
}

// sortEntries puts entries in the spec's match precedence order.
func sortEntries(es []*route.Entry) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if ra, rb := pathRank(a.Match.PathType), pathRank(b.Match.PathType); ra != rb {
			return ra < rb
		}
		if a.Match.PathType != gatewayv1.PathMatchExact && len(a.Match.PathValue) != len(b.Match.PathValue) {
			return len(a.Match.PathValue) > len(b.Match.PathValue)
		}
		if (a.Match.Method != "") != (b.Match.Method != "") {
			return a.Match.Method != ""
		}
		if len(a.Match.Headers) != len(b.Match.Headers) {
			return len(a.Match.Headers) > len(b.Match.Headers)
		}
		if len(a.Match.Query) != len(b.Match.Query) {
			return len(a.Match.Query) > len(b.Match.Query)
		}
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		if a.Route != b.Route {
			return a.Route < b.Route
		}
		if a.RuleIndex != b.RuleIndex {
			return a.RuleIndex < b.RuleIndex
		}
		return a.MatchIndex < b.MatchIndex
	})
}

func pathRank(t gatewayv1.PathMatchType) int {
	switch t {
	case gatewayv1.PathMatchExact:
		return 0
	case gatewayv1.PathMatchRegularExpression:
		return 1
	default:
		return 2
	}
}
