package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
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
