package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/big"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/internal/strictdecode"
	"github.com/splitproof/splitproof/refproxy/loader"
	"github.com/splitproof/splitproof/refproxy/objects"
	"github.com/splitproof/splitproof/refproxy/picker"
)

//go:embed */scenario.yaml */manifests */local
var builtin embed.FS

// Scenario is one documented example as data (scenario.yaml).
type Scenario struct {
	Name  string `json:"name" yaml:"name"`
	Title string `json:"title,omitempty" yaml:"title,omitempty"`
	// Manifests are applied in order, as the doc applies them.
	Manifests []Manifest `json:"manifests" yaml:"manifests"`
	// Local are objects only the embedded target adds.
	Local []Manifest `json:"local,omitempty" yaml:"local,omitempty"`
	// Route is "namespace/name" of the HTTPRoute whose first rule's weights
	// are the expected split; RuleIndex selects another rule.
	Route     string   `json:"route" yaml:"route"`
	RuleIndex int      `json:"rule,omitempty" yaml:"rule,omitempty"`
	Classify  Classify `json:"classify" yaml:"classify"`
	// Categories maps each backendRef name of the rule to the category its
	// responses carry ("v1", a model snapshot, or "500" for an invalid ref).
	Categories map[string]string `json:"categories" yaml:"categories"`
	// Expect is a split given directly instead of read from Route (a
	// scenario built in memory by splitproof check, which has no
	// manifests); Expected returns it when Route is empty.
	Expect   []Category `json:"expect,omitempty" yaml:"-"`
	Embedded Embedded   `json:"embedded,omitempty" yaml:"embedded,omitempty"`
	Snippets []Snippet  `json:"snippets" yaml:"snippets"`
	// Steps, when present, change the manifests while traffic flows (a
	// canary ramp): step i applies its manifests over the base manifests
	// and every earlier step, replacing objects of the same kind and name.
	// Each step's split is verified, and no request may fail meanwhile.
	Steps []Step `json:"steps,omitempty" yaml:"steps,omitempty"`
	// Faults make arms of the split fail at a set rate (the embedded
	// target's fake provider injects them); the expected split then gives
	// part of each such arm's weight to its error (ExpectedWithFaults).
	Faults []Fault `json:"faults,omitempty" yaml:"faults,omitempty"`

	root fs.FS  // the folder holding scenario folders
	dir  string // this scenario's folder in root
}

// Manifest is one manifest file, applied as `kubectl [-n Namespace] apply -f File`.
type Manifest struct {
	File      string `json:"file" yaml:"file"`
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
}

// Classify says how a response becomes a category: exactly one of Regexp
// (group 1 of the first match in the snippet's output for one iteration) or
// JQ (a jq expression over the JSON body; only the doc's own pipeline output
// is used when the snippet already pipes through jq).
type Classify struct {
	Regexp string `json:"regexp,omitempty" yaml:"regexp,omitempty"`
	JQ     string `json:"jq,omitempty" yaml:"jq,omitempty"`
	// Header names a response header whose value is the category. Only
	// scenarios built in memory (splitproof check) use it: a snippet's
	// own output cannot show it under real curl.
	Header string `json:"header,omitempty" yaml:"-"`
}

// Embedded lists what the embedded target starts.
type Embedded struct {
	// Helloworld maps a Service "namespace/name" to the version a local
	// helloworld server answers with; the target writes its EndpointSlice.
	Helloworld map[string]string `json:"helloworld,omitempty" yaml:"helloworld,omitempty"`
	// FakeOpenAI points these AgentgatewayBackends at a local fake provider.
	FakeOpenAI *EmbeddedFakeOpenAI `json:"fakeopenai,omitempty" yaml:"fakeopenai,omitempty"`
}

// EmbeddedFakeOpenAI configures the local fake provider.
type EmbeddedFakeOpenAI struct {
	Backends []string `json:"backends" yaml:"backends"`
}

// Snippet is one shell snippet from the doc, verbatim.
type Snippet struct {
	Name   string `json:"name" yaml:"name"`
	Script string `json:"script" yaml:"script"`
}

// Step is one change of manifests in a stepped scenario.
type Step struct {
	Name      string     `json:"name" yaml:"name"`
	Manifests []Manifest `json:"manifests" yaml:"manifests"`
}

// Category is one expected outcome and its weight.
type Category struct {
	Name    string `json:"name" yaml:"name"`       // as classified: "v1", "gpt-4o-2024-08-06", "500"
	Backend string `json:"backend" yaml:"backend"` // the backendRef name it comes from
	Weight  int32  `json:"weight" yaml:"weight"`
}

// Builtin returns the scenarios compiled into the binary, sorted by name.
func Builtin() ([]*Scenario, error) {
	entries, err := fs.ReadDir(builtin, ".")
	if err != nil {
		return nil, fmt.Errorf("read built-in scenarios: %w", err)
	}
	var out []*Scenario
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		s, err := Load(builtin, e.Name())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errors.Join(errs...)
}

// LoadDir reads a scenario folder from disk. Files may refer to sibling
// folders ("../other/manifests/app.yaml").
func LoadDir(dir string) (*Scenario, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return Load(os.DirFS(filepath.Dir(abs)), filepath.Base(abs))
}

// Find returns the built-in scenario with that name, or reads a folder when
// name is a path to one.
func Find(name string) (*Scenario, error) {
	if st, err := os.Stat(name); err == nil && st.IsDir() {
		return LoadDir(name)
	}
	all, err := Builtin()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(all))
	for _, s := range all {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return nil, fmt.Errorf("no scenario %q: expected a folder or one of %s", name, strings.Join(names, ", "))
}

// Load reads dir/scenario.yaml from root and checks it. Manifest paths are
// relative to dir and may reach sibling folders of root, never outside it.
func Load(root fs.FS, dir string) (*Scenario, error) {
	file := path.Join(dir, "scenario.yaml")
	data, err := fs.ReadFile(root, file)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	s := &Scenario{root: root, dir: dir}
	doc, err := strictdecode.Decoder{File: file}.YAML(data, s)
	if err != nil {
		return nil, err
	}
	if err := s.validate(doc); err != nil {
		return nil, err
	}
	return s, nil
}

// validate checks what decoding cannot; each error carries the line of its
// field in doc.
func (s *Scenario) validate(doc *strictdecode.Doc) error {
	var errs strictdecode.List
	// field words an error "FIELD: message"; named leaves the message to
	// name the field, with its value.
	field := func(path []any, format string, args ...any) { errs.Add(doc.Errorf(path, format, args...)) }
	named := func(path []any, format string, args ...any) { errs.Add(doc.Linef(path, format, args...)) }
	if s.Name == "" {
		field(at("name"), "required")
	}
	if len(s.Manifests) == 0 {
		field(at("manifests"), "at least one manifest is required")
	}
	for _, list := range []struct {
		field string
		ms    []Manifest
	}{{"manifests", s.Manifests}, {"local", s.Local}} {
		for i, m := range list.ms {
			if _, err := s.ReadFile(m.File); err != nil {
				named(at(list.field, i, "file"), "%s[%d].file %q: %v", list.field, i, m.File, err)
			}
		}
	}
	if ns, name, ok := strings.Cut(s.Route, "/"); !ok || ns == "" || name == "" {
		field(at("route"), "%q must be namespace/name", s.Route)
	}
	switch {
	case s.Classify.Regexp != "" && s.Classify.JQ != "":
		field(at("classify"), "set exactly one of regexp and jq, not both")
	case s.Classify.Regexp != "":
		re, err := regexp.Compile(s.Classify.Regexp)
		if err != nil {
			field(at("classify", "regexp"), "%v", err)
		} else if re.NumSubexp() < 1 {
			named(at("classify", "regexp"), "classify.regexp %q: needs a capture group for the category", s.Classify.Regexp)
		}
	case s.Classify.JQ == "":
		field(at("classify"), "set one of regexp or jq")
	}
	if len(s.Snippets) == 0 {
		field(at("snippets"), "at least one snippet is required")
	}
	for i, sn := range s.Snippets {
		if sn.Name == "" || strings.TrimSpace(sn.Script) == "" {
			field(at("snippets", i), "name and script are required")
		}
	}
	for i, st := range s.Steps {
		if st.Name == "" || len(st.Manifests) == 0 {
			field(at("steps", i), "name and manifests are required")
		}
		for j, m := range st.Manifests {
			if _, err := s.ReadFile(m.File); err != nil {
				named(at("steps", i, "manifests", j, "file"), "steps[%d].manifests[%d].file %q: %v", i, j, m.File, err)
			}
		}
	}
	s.validateFaults(field, named)
	if errs.Len() == 0 {
		// Every expected split must be derivable now, not at replay time.
		// Its problems are with the categories or the route they name.
		for step := -1; step < len(s.Steps); step++ {
			if _, err := s.ExpectedAt(step); err != nil {
				where := at("categories")
				if strings.HasPrefix(err.Error(), "route") {
					where = at("route")
				}
				for _, e := range strictdecode.Flatten(err) {
					named(where, "%v", e)
				}
			}
		}
	}
	if errs.Len() == 0 && len(s.Faults) > 0 {
		// A rate that cannot be expressed in int32 weights is refused at
		// load time, not when a replay starts.
		if _, err := s.ExpectedWithFaults(false); err != nil {
			named(at("faults"), "%v", err)
		}
	}
	return errs.Err()
}

// at is a field path in scenario.yaml: keys and indexes.
func at(elems ...any) []any { return elems }

// Snippet returns the named snippet.
func (s *Scenario) Snippet(name string) (*Snippet, error) {
	names := make([]string, 0, len(s.Snippets))
	for i := range s.Snippets {
		if s.Snippets[i].Name == name {
			return &s.Snippets[i], nil
		}
		names = append(names, s.Snippets[i].Name)
	}
	return nil, fmt.Errorf("scenario %s has no snippet %q: expected one of %s", s.Name, name, strings.Join(names, ", "))
}

// ReadFile reads a file named relative to the scenario folder.
func (s *Scenario) ReadFile(name string) ([]byte, error) {
	p := path.Join(s.dir, name)
	if p == ".." || strings.HasPrefix(p, "../") || path.IsAbs(name) {
		return nil, fmt.Errorf("%s: outside the scenarios folder", name)
	}
	return fs.ReadFile(s.root, p)
}

// Objects decodes the manifests, and the local objects when withLocal is
// set, with the one loader refproxy uses. Kinds refproxy does not route on
// (the sample app's Deployments) are skipped.
func (s *Scenario) Objects(withLocal bool) (*objects.Set, error) {
	return s.ObjectsAt(-1, withLocal)
}

// ObjectsAt is Objects after steps 0..step have been applied (-1: none).
func (s *Scenario) ObjectsAt(step int, withLocal bool) (*objects.Set, error) {
	ms := s.Manifests
	if withLocal {
		ms = append(append([]Manifest(nil), s.Manifests...), s.Local...)
	}
	set, err := s.decode(ms)
	if err != nil {
		return nil, err
	}
	if step >= len(s.Steps) {
		return nil, fmt.Errorf("scenario %s has no step %d", s.Name, step)
	}
	for i := 0; i <= step; i++ {
		over, err := s.decode(s.Steps[i].Manifests)
		if err != nil {
			return nil, fmt.Errorf("steps[%d]: %w", i, err)
		}
		set.Overlay(over)
	}
	return set, nil
}

func (s *Scenario) decode(ms []Manifest) (*objects.Set, error) {
	set := &objects.Set{}
	var errs []error
	for _, m := range ms {
		data, err := s.ReadFile(m.File)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l := loader.Loader{Namespace: m.Namespace, IgnoreUnknownKinds: true}
		got, err := l.Decode(m.File, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		set.Merge(got)
	}
	return set, errors.Join(errs...)
}

// Expected derives the expected split from the route's backendRef weights:
// one category per backendRef, named by Categories. Two backendRefs of one
// category add up.
func (s *Scenario) Expected() ([]Category, error) { return s.ExpectedAt(-1) }

// ExpectedAt is Expected after steps 0..step (-1: the base manifests).
func (s *Scenario) ExpectedAt(step int) ([]Category, error) {
	if s.Route == "" && len(s.Expect) > 0 {
		return append([]Category(nil), s.Expect...), nil
	}
	set, err := s.ObjectsAt(step, false)
	if err != nil {
		return nil, err
	}
	ns, name, _ := strings.Cut(s.Route, "/")
	for _, r := range set.HTTPRoutes {
		if r.Namespace != ns || r.Name != name {
			continue
		}
		if s.RuleIndex < 0 || s.RuleIndex >= len(r.Spec.Rules) {
			return nil, fmt.Errorf("route %s has no rule %d", s.Route, s.RuleIndex)
		}
		refs := r.Spec.Rules[s.RuleIndex].BackendRefs
		if len(refs) == 0 {
			return nil, fmt.Errorf("route %s rule %d has no backendRefs to split across", s.Route, s.RuleIndex)
		}
		var out []Category
		used := map[string]bool{}
		var errs []error
		for i, ref := range refs {
			cat, ok := s.Categories[string(ref.Name)]
			if !ok {
				errs = append(errs, fmt.Errorf("categories: backendRef %q (rules[%d].backendRefs[%d] of %s) has no category", ref.Name, s.RuleIndex, i, s.Route))
				continue
			}
			used[string(ref.Name)] = true
			out = append(out, Category{Name: cat, Backend: string(ref.Name), Weight: picker.Weight(ref.Weight)})
		}
		for k := range s.Categories {
			if !used[k] {
				errs = append(errs, fmt.Errorf("categories: %q is not a backendRef of %s rule %d", k, s.Route, s.RuleIndex))
			}
		}
		return out, errors.Join(errs...)
	}
	return nil, fmt.Errorf("route: HTTPRoute %s is not in the manifests", s.Route)
}

// ExpectedFrom derives the expected split from a route of the user's own
// (splitproof replay --route): rule s.RuleIndex's backendRefs and weights,
// each backendRef named by the scenario's category for it when it has one,
// else by its own name — what the scenario's classifier must then answer.
func (s *Scenario) ExpectedFrom(r *gatewayv1.HTTPRoute) ([]Category, error) {
	key := r.Namespace + "/" + r.Name
	if s.RuleIndex < 0 || s.RuleIndex >= len(r.Spec.Rules) {
		return nil, fmt.Errorf("HTTPRoute %s has no rule %d (the scenario's rule)", key, s.RuleIndex)
	}
	refs := r.Spec.Rules[s.RuleIndex].BackendRefs
	if len(refs) == 0 {
		return nil, fmt.Errorf("HTTPRoute %s rule %d has no backendRefs to split across", key, s.RuleIndex)
	}
	out := make([]Category, 0, len(refs))
	for _, ref := range refs {
		cat, ok := s.Categories[string(ref.Name)]
		if !ok {
			cat = string(ref.Name)
		}
		out = append(out, Category{Name: cat, Backend: string(ref.Name), Weight: picker.Weight(ref.Weight)})
	}
	return out, nil
}

// Fault is one arm of the split failing at a set rate (scenario.yaml
// faults[]). The embedded target has its fake provider inject it into the
// requests for the arm's model; any gateway is expected to pass the errors
// through (Gateway API defines no failover), so the arm's share splits
// into its answers and its errors — or, where a gateway is expected to
// fail over, the failed share moves to the other arms (ExpectedWithFaults).
type Fault struct {
	// BackendRef names a backendRef of the route's rule, as Categories does.
	BackendRef string `json:"backendRef" yaml:"backendRef"`
	// Fault is what the arm answers, by the fake provider's name: "429"
	// (with Retry-After), "429-bare" (without it or x-ratelimit-reset-*),
	// "500" or "503". Its category is the HTTP status (FaultCategory).
	Fault string `json:"fault" yaml:"fault"`
	// Rate is each request's probability of failing, in (0, 1], a decimal
	// of at most four places (RateScale), so that the expected split stays
	// exact in whole weights.
	Rate float64 `json:"rate" yaml:"rate"`
}

// RateScale is the resolution of a fault rate: at most four decimal places.
const RateScale = 10_000

// faultStatus maps the faults a scenario may inject to the category their
// answers are classified as (any answer with status >= 400 is its status).
// A hang or a cut connection has no status to count, so neither is offered.
var faultStatus = map[string]string{"429": "429", "429-bare": "429", "500": "500", "503": "503"}

// FaultNames lists the faults a scenario may inject, sorted.
func FaultNames() []string {
	names := make([]string, 0, len(faultStatus))
	for n := range faultStatus {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FaultCategory is the category a fault's answers are classified as ("429"
// for both 429 and 429-bare), "" for a fault scenarios do not offer.
func FaultCategory(fault string) string { return faultStatus[fault] }

// parts is the rate in units of 1/RateScale; ok is false when the rate is
// outside (0, 1] or has more than four decimal places. A float64 read from
// "0.25" equals 2500/10000 computed in float64 exactly, since both are the
// double nearest to the same decimal.
func (f Fault) parts() (int64, bool) {
	k := math.Round(f.Rate * RateScale)
	return int64(k), k >= 1 && k <= RateScale && k/RateScale == f.Rate
}

func (s *Scenario) validateFaults(field, named func(path []any, format string, args ...any)) {
	if len(s.Faults) > 0 && len(s.Steps) > 0 {
		field(at("faults"), "a scenario with steps cannot inject faults (each step's split would need its own)")
	}
	seen := map[string]int{}
	for i, f := range s.Faults {
		switch _, ok := s.Categories[f.BackendRef]; {
		case f.BackendRef == "":
			field(at("faults", i, "backendRef"), "required")
		case !ok:
			named(at("faults", i, "backendRef"), "faults[%d].backendRef %q: not a backendRef of the route (those in categories: %s)", i, f.BackendRef, strings.Join(sortedKeys(s.Categories), ", "))
		}
		if j, dup := seen[f.BackendRef]; dup && f.BackendRef != "" {
			named(at("faults", i, "backendRef"), "faults[%d].backendRef %q: already given a fault in faults[%d]", i, f.BackendRef, j)
		}
		seen[f.BackendRef] = i
		if FaultCategory(f.Fault) == "" {
			named(at("faults", i, "fault"), "faults[%d].fault %q: expected one of %s", i, f.Fault, strings.Join(FaultNames(), ", "))
		}
		if _, ok := f.parts(); !ok {
			named(at("faults", i, "rate"), "faults[%d].rate %v: expected a probability in (0, 1] with at most 4 decimal places, such as 0.25", i, f.Rate)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ExpectedWithFaults is Expected with the scenario's faults applied
// (ApplyFaults).
func (s *Scenario) ExpectedWithFaults(failover bool) ([]Category, error) {
	cats, err := s.Expected()
	if err != nil {
		return nil, err
	}
	return s.ApplyFaults(cats, failover)
}

// ApplyFaults adjusts an expected split for the scenario's faults
// (ApplyFaults, the function).
func (s *Scenario) ApplyFaults(expected []Category, failover bool) ([]Category, error) {
	return ApplyFaults(expected, s.Faults, failover)
}

// ApplyFaults adjusts an expected split for arms that fail at a rate r.
// Without failover, a faulty arm of weight w becomes its own category at
// w × (1 − r), followed by its error category at w × r: the gateway passes
// the errors through. With failover, the failed share w × r goes to the
// other arms in proportion to their weights, and the error category is
// kept at weight 0, so that one error reaching the client fails the split
// by name. Weights stay exact: everything is scaled by RateScale (and,
// with failover, by the other arms' total), then divided by the weights'
// greatest common divisor; a split that still needs more than int32 is an
// error. Failover is modelled for one faulty arm only. Categories of arms
// without a fault keep their order; with no faults, expected is returned
// as it is.
func ApplyFaults(expected []Category, faults []Fault, failover bool) ([]Category, error) {
	if len(faults) == 0 {
		return expected, nil
	}
	byRef := map[string]Fault{}
	inSplit := map[string]bool{}
	var refs []string
	for _, c := range expected {
		if !inSplit[c.Backend] {
			refs = append(refs, c.Backend)
		}
		inSplit[c.Backend] = true
	}
	for i, f := range faults {
		if !inSplit[f.BackendRef] {
			return nil, fmt.Errorf("faults[%d]: backendRef %q is not in the split (its backendRefs: %s)", i, f.BackendRef, strings.Join(refs, ", "))
		}
		if FaultCategory(f.Fault) == "" {
			return nil, fmt.Errorf("faults[%d]: fault %q: expected one of %s", i, f.Fault, strings.Join(FaultNames(), ", "))
		}
		if _, ok := f.parts(); !ok {
			return nil, fmt.Errorf("faults[%d]: rate %v: expected a probability in (0, 1] with at most 4 decimal places", i, f.Rate)
		}
		byRef[f.BackendRef] = f
	}
	if failover && len(faults) > 1 {
		return nil, fmt.Errorf("failover is modelled for one faulty backendRef, and %d have faults", len(faults))
	}
	type scaled struct {
		c Category
		w *big.Int
	}
	var out []scaled
	mul := func(xs ...int64) *big.Int {
		r := big.NewInt(1)
		for _, x := range xs {
			r.Mul(r, big.NewInt(x))
		}
		return r
	}
	if !failover {
		for _, c := range expected {
			f, faulty := byRef[c.Backend]
			if !faulty {
				out = append(out, scaled{c, mul(int64(c.Weight), RateScale)})
				continue
			}
			k, _ := f.parts()
			out = append(out,
				scaled{c, mul(int64(c.Weight), RateScale-k)},
				scaled{Category{Name: FaultCategory(f.Fault), Backend: c.Backend}, mul(int64(c.Weight), k)})
		}
	} else {
		f := faults[0]
		k, _ := f.parts()
		var faultyW, othersW int64
		for _, c := range expected {
			if c.Backend == f.BackendRef {
				faultyW += int64(c.Weight)
			} else {
				othersW += int64(c.Weight)
			}
		}
		if othersW == 0 && faultyW > 0 {
			return nil, fmt.Errorf("failover: no other backendRef of positive weight can take the failed share of %s", f.BackendRef)
		}
		for _, c := range expected {
			if c.Backend != f.BackendRef {
				// w × (1 + faultyW × r / othersW), times RateScale × othersW.
				w := mul(int64(c.Weight))
				w.Mul(w, new(big.Int).Add(mul(RateScale, othersW), mul(faultyW, k)))
				out = append(out, scaled{c, w})
				continue
			}
			out = append(out,
				scaled{c, mul(int64(c.Weight), RateScale-k, othersW)},
				scaled{Category{Name: FaultCategory(f.Fault), Backend: c.Backend}, new(big.Int)})
		}
	}
	g := new(big.Int)
	for _, o := range out {
		g.GCD(nil, nil, g, o.w)
	}
	res := make([]Category, len(out))
	for i, o := range out {
		if g.Sign() > 0 {
			o.w.Quo(o.w, g)
		}
		if !o.w.IsInt64() || o.w.Int64() > math.MaxInt32 {
			return nil, fmt.Errorf("faults: the split needs a weight of %s for %s (%s) even in lowest terms, beyond int32: give rates with fewer decimal places or smaller weights", o.w, o.c.Name, o.c.Backend)
		}
		o.c.Weight = int32(o.w.Int64())
		res[i] = o.c
	}
	return res, nil
}

// FaultShare is one faulty arm's error share in a replay: what the split
// expected of it and what was observed. Observed counts every answer of
// the fault's status, whichever arm sent it.
type FaultShare struct {
	BackendRef string  `json:"backendRef"`
	Fault      string  `json:"fault"`
	Rate       float64 `json:"rate"`
	// Category is the errors' category ("429").
	Category string `json:"category"`
	// Failover: the failed share was expected to reach Others instead.
	Failover bool     `json:"failover,omitempty"`
	Others   []string `json:"others,omitempty"`
	// Failed is the share of all requests the arm fails (rate × the arm's
	// share of the split before faults); Expected the share of errors the
	// client should see: Failed, or 0 with failover.
	Failed   float64 `json:"failed_share"`
	Expected float64 `json:"expected_share"`
	Observed float64 `json:"observed_share"`
	Count    int64   `json:"count"`
	N        int64   `json:"n"`
	// ArmObserved is Count over ArmN, the arm's answers and errors: the
	// rate the arm failed at, to compare with Rate.
	ArmObserved float64 `json:"arm_observed_rate"`
	ArmN        int64   `json:"arm_n"`
}

// FaultShares describes each fault of the scenario against base, the
// expected split before faults (ApplyFaults's input), and a replay's
// counts by category.
func (s *Scenario) FaultShares(base []Category, counts map[string]int64, failover bool) []FaultShare {
	if len(s.Faults) == 0 {
		return nil
	}
	var total int64
	weightOf := map[string]int64{}
	var refs []string
	for _, c := range base {
		if _, ok := weightOf[c.Backend]; !ok {
			refs = append(refs, c.Backend)
		}
		weightOf[c.Backend] += int64(c.Weight)
		total += int64(c.Weight)
	}
	var n int64
	for _, k := range counts {
		n += k
	}
	out := make([]FaultShare, 0, len(s.Faults))
	for _, f := range s.Faults {
		fs := FaultShare{BackendRef: f.BackendRef, Fault: f.Fault, Rate: f.Rate, Category: FaultCategory(f.Fault), Failover: failover, N: n}
		if total > 0 {
			fs.Failed = f.Rate * float64(weightOf[f.BackendRef]) / float64(total)
		}
		if !failover {
			fs.Expected = fs.Failed
		}
		for _, r := range refs {
			if r != f.BackendRef && weightOf[r] > 0 && failover {
				fs.Others = append(fs.Others, r)
			}
		}
		fs.Count = counts[fs.Category]
		if n > 0 {
			fs.Observed = float64(fs.Count) / float64(n)
		}
		fs.ArmN = fs.Count
		for _, c := range base {
			if c.Backend == f.BackendRef {
				fs.ArmN += counts[c.Name]
			}
		}
		if fs.ArmN > 0 {
			fs.ArmObserved = float64(fs.Count) / float64(fs.ArmN)
		}
		out = append(out, fs)
	}
	return out
}

// String is the report's line for the fault.
func (f FaultShare) String() string {
	observed := fmt.Sprintf("observed %.2f%% (%d of %d)", 100*f.Observed, f.Count, f.N)
	if f.Failover {
		return fmt.Sprintf("fault: %s answers %s at rate %g; failover expected: its failed %.2f%% of requests should be answered by %s, so no %s should reach the client: %s",
			f.BackendRef, f.Fault, f.Rate, 100*f.Failed, strings.Join(f.Others, ", "), f.Category, observed)
	}
	return fmt.Sprintf("fault: %s answers %s at rate %g, no failover expected: %s expected on %.2f%% of requests, %s; on %.2f%% of the arm's (%d of %d)",
		f.BackendRef, f.Fault, f.Rate, f.Category, 100*f.Expected, observed, 100*f.ArmObserved, f.Count, f.ArmN)
}
