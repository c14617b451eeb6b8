package controller

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/refproxy/translate"
)

var (
	t0 = metav1.NewTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 = metav1.NewTime(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC))
)

func cond(typ string, ok bool, reason string, gen int64, at metav1.Time) metav1.Condition {
	st := metav1.ConditionFalse
	if ok {
		st = metav1.ConditionTrue
	}
	return metav1.Condition{Type: typ, Status: st, Reason: reason, Message: reason, ObservedGeneration: gen, LastTransitionTime: at}
}

func TestMergeConditions(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cur, want  []metav1.Condition
		dropOthers bool
		expect     []metav1.Condition
	}{
		{
			name:   "same status keeps the transition time, takes the new generation and reason",
			cur:    []metav1.Condition{cond("Accepted", true, "Accepted", 1, t0)},
			want:   []metav1.Condition{cond("Accepted", true, "Accepted2", 2, t1)},
			expect: []metav1.Condition{cond("Accepted", true, "Accepted2", 2, t0)},
		},
		{
			name:   "a status change moves the transition time",
			cur:    []metav1.Condition{cond("Accepted", true, "Accepted", 1, t0)},
			want:   []metav1.Condition{cond("Accepted", false, "NotAllowed", 2, t1)},
			expect: []metav1.Condition{cond("Accepted", false, "NotAllowed", 2, t1)},
		},
		{
			name:   "other types are kept",
			cur:    []metav1.Condition{cond("Other", true, "X", 1, t0)},
			want:   []metav1.Condition{cond("Accepted", true, "Accepted", 1, t1)},
			expect: []metav1.Condition{cond("Other", true, "X", 1, t0), cond("Accepted", true, "Accepted", 1, t1)},
		},
		{
			name:       "other types are dropped when asked",
			cur:        []metav1.Condition{cond("Conflicted", true, "HostnameConflict", 1, t0), cond("Accepted", true, "Accepted", 1, t0)},
			want:       []metav1.Condition{cond("Accepted", true, "Accepted", 2, t1)},
			dropOthers: true,
			expect:     []metav1.Condition{cond("Accepted", true, "Accepted", 2, t0)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mergeConditions(tc.cur, tc.want, tc.dropOthers)
			if !equality.Semantic.DeepEqual(got, tc.expect) {
				t.Errorf("got  %+v\nwant %+v", got, tc.expect)
			}
		})
	}
}

func TestGatewayStatus(t *testing.T) {
	want := translate.GatewayStatus{
		Gateway:    types.NamespacedName{Namespace: "gw", Name: "http"},
		Generation: 3,
		Status: gatewayv1.GatewayStatus{
			Conditions: []metav1.Condition{cond("Accepted", true, "Accepted", 3, t1), cond("Programmed", true, "Programmed", 3, t1)},
			Listeners: []gatewayv1.ListenerStatus{{
				Name: "http", AttachedRoutes: 2,
				Conditions: []metav1.Condition{cond("Accepted", true, "Accepted", 3, t1)},
			}},
		},
	}
	cur := gatewayv1.GatewayStatus{
		Conditions: []metav1.Condition{cond("Accepted", true, "Accepted", 2, t0), cond("Programmed", true, "Programmed", 2, t0)},
		Listeners: []gatewayv1.ListenerStatus{
			{Name: "http", AttachedRoutes: 1, Conditions: []metav1.Condition{cond("Accepted", true, "Accepted", 2, t0), cond("Conflicted", true, "HostnameConflict", 2, t0)}},
			{Name: "removed"},
		},
	}
	ip := gatewayv1.IPAddressType
	addrs := []gatewayv1.GatewayStatusAddress{{Type: &ip, Value: "10.0.0.1"}}

	t.Run("addresses, listeners and kept transition times", func(t *testing.T) {
		got := gatewayStatus(cur, want, addrs)
		if len(got.Addresses) != 1 || got.Addresses[0].Value != "10.0.0.1" {
			t.Errorf("addresses %+v", got.Addresses)
		}
		if len(got.Listeners) != 1 || got.Listeners[0].Name != "http" || got.Listeners[0].AttachedRoutes != 2 {
			t.Fatalf("listeners %+v", got.Listeners)
		}
		lc := got.Listeners[0].Conditions
		if len(lc) != 1 || lc[0].LastTransitionTime != t0 || lc[0].ObservedGeneration != 3 {
			t.Errorf("listener conditions %+v: want Accepted only, transition time kept, generation 3", lc)
		}
		p := meta.FindStatusCondition(got.Conditions, "Programmed")
		if p == nil || p.Status != metav1.ConditionTrue || p.LastTransitionTime != t0 || p.ObservedGeneration != 3 {
			t.Errorf("Programmed %+v", p)
		}
		if cur.Listeners[0].AttachedRoutes != 1 {
			t.Error("gatewayStatus modified its input")
		}
	})
	t.Run("no address known is AddressNotAssigned", func(t *testing.T) {
		got := gatewayStatus(cur, want, []gatewayv1.GatewayStatusAddress{})
		p := meta.FindStatusCondition(got.Conditions, "Programmed")
		if p == nil || p.Status != metav1.ConditionFalse || p.Reason != string(gatewayv1.GatewayReasonAddressNotAssigned) {
			t.Errorf("Programmed %+v", p)
		}
	})
	t.Run("nil addresses leave them alone", func(t *testing.T) {
		c := *cur.DeepCopy()
		c.Addresses = addrs
		if got := gatewayStatus(c, want, nil); len(got.Addresses) != 1 {
			t.Errorf("addresses %+v", got.Addresses)
		}
	})
	t.Run("applying twice changes nothing", func(t *testing.T) {
		once := gatewayStatus(cur, want, addrs)
		if twice := gatewayStatus(once, want, addrs); !equality.Semantic.DeepEqual(once, twice) {
			t.Errorf("not idempotent:\n%+v\n%+v", once, twice)
		}
	})
}

func TestRouteParents(t *testing.T) {
	const ours, theirs = "splitproof.dev/refproxy", "example.com/other"
	ns := func(s string) *gatewayv1.Namespace { n := gatewayv1.Namespace(s); return &n }
	ref := func(namespace, name string) gatewayv1.ParentReference {
		r := gatewayv1.ParentReference{Name: gatewayv1.ObjectName(name)}
		if namespace != "" {
			r.Namespace = ns(namespace)
		}
		return r
	}
	entry := func(r gatewayv1.ParentReference, ctl string, ok bool, at metav1.Time) gatewayv1.RouteParentStatus {
		return gatewayv1.RouteParentStatus{ParentRef: r, ControllerName: gatewayv1.GatewayController(ctl),
			Conditions: []metav1.Condition{cond("Accepted", ok, "R", 1, at)}}
	}
	all := func(types.NamespacedName) bool { return true }
	only := func(gw types.NamespacedName) bool { return gw == types.NamespacedName{Namespace: "gw", Name: "a"} }
	names := func(ps []gatewayv1.RouteParentStatus) []string {
		var out []string
		for _, p := range ps {
			out = append(out, string(p.ControllerName)+":"+string(p.ParentRef.Name))
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		cur    []gatewayv1.RouteParentStatus
		want   []gatewayv1.RouteParentStatus
		owns   func(types.NamespacedName) bool
		expect []string
	}{
		{
			name:   "another controller's entry is kept, ours is added",
			cur:    []gatewayv1.RouteParentStatus{entry(ref("gw", "x"), theirs, true, t0)},
			want:   []gatewayv1.RouteParentStatus{entry(ref("gw", "a"), ours, true, t1)},
			owns:   all,
			expect: []string{theirs + ":x", ours + ":a"},
		},
		{
			name:   "our stale entry is removed",
			cur:    []gatewayv1.RouteParentStatus{entry(ref("gw", "old"), ours, true, t0), entry(ref("gw", "x"), theirs, true, t0)},
			want:   nil,
			owns:   all,
			expect: []string{theirs + ":x"},
		},
		{
			name:   "an entry of ours for a Gateway another instance serves is kept",
			cur:    []gatewayv1.RouteParentStatus{entry(ref("gw", "b"), ours, true, t0)},
			want:   []gatewayv1.RouteParentStatus{entry(ref("gw", "a"), ours, true, t1)},
			owns:   only,
			expect: []string{ours + ":b", ours + ":a"},
		},
		{
			name:   "a ref spelled with and without its default namespace is one parent",
			cur:    []gatewayv1.RouteParentStatus{entry(ref("", "a"), ours, true, t0)},
			want:   []gatewayv1.RouteParentStatus{entry(ref("gw", "a"), ours, true, t1)},
			owns:   all,
			expect: []string{ours + ":a"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := routeParents(tc.cur, tc.want, "gw", ours, tc.owns)
			if n := names(got); !slices.Equal(n, tc.expect) {
				t.Errorf("parents %v, want %v", n, tc.expect)
			}
		})
	}
	t.Run("unchanged status keeps its transition time", func(t *testing.T) {
		cur := []gatewayv1.RouteParentStatus{entry(ref("gw", "a"), ours, true, t0)}
		got := routeParents(cur, []gatewayv1.RouteParentStatus{entry(ref("gw", "a"), ours, true, t1)}, "gw", ours, all)
		if !equality.Semantic.DeepEqual(got, cur) {
			t.Errorf("got %+v, want the stored status unchanged", got)
		}
	})
}

func TestSupportedFeaturesSorted(t *testing.T) {
	fs := SupportedFeatures()
	if !slices.IsSortedFunc(fs, func(a, b gatewayv1.SupportedFeature) int {
		return cmp.Compare(a.Name, b.Name)
	}) {
		t.Errorf("features not sorted: %v", fs)
	}
	for _, core := range []gatewayv1.FeatureName{"Gateway", "HTTPRoute"} {
		if !slices.ContainsFunc(fs, func(f gatewayv1.SupportedFeature) bool { return f.Name == core }) {
			t.Errorf("core feature %s missing", core)
		}
	}
}
