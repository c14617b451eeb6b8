package cli

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/types"

	"github.com/splitproof/splitproof/refproxy/picker"
)

// The flag.Value types of list flags. Set's errors say what the value
// should have been; the flag package prefixes them with the flag's name and
// the value given (`invalid value "1,x" for flag -weights: ...`).

// weightList is a comma-separated list of backend weights, "10,10,80", as
// the picker takes them (picker.Validate's limits apply). An empty value
// means no list, so that `--weights ""` reads as a missing flag.
type weightList []int32

var _ flag.Value = (*weightList)(nil)

func (w *weightList) String() string {
	if w == nil {
		return ""
	}
	s := make([]string, len(*w))
	for i, x := range *w {
		s[i] = strconv.Itoa(int(x))
	}
	return strings.Join(s, ",")
}

func (w *weightList) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		*w = nil
		return nil
	}
	parts := strings.Split(s, ",")
	out := make([]int32, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("entry %d (%s) is out of range: expected 0 to %d", i+1, strings.TrimSpace(p), picker.MaxWeight)
		}
		if err != nil {
			return fmt.Errorf("entry %d (%q) is not a weight: expected whole numbers separated by commas, such as 10,10,80", i+1, p)
		}
		out[i] = int32(v)
	}
	if err := picker.Validate(out); err != nil {
		return err
	}
	*w = out
	return nil
}

// pair is one NAME=NUMBER of a pairList.
type pair struct {
	name  string
	value int64
}

// pairList is a comma-separated list of NAME=NUMBER, "v1=10,v2=90", in the
// order given. Numbers are not range-checked here: the counts file's
// validation says which field is out of range and why. An empty value
// means no list.
type pairList []pair

var _ flag.Value = (*pairList)(nil)

func (l *pairList) String() string {
	if l == nil {
		return ""
	}
	s := make([]string, len(*l))
	for i, p := range *l {
		s[i] = p.name + "=" + strconv.FormatInt(p.value, 10)
	}
	return strings.Join(s, ",")
}

func (l *pairList) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		*l = nil
		return nil
	}
	var out pairList
	for i, part := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" {
			return fmt.Errorf("entry %d (%q) is not NAME=NUMBER, such as v1=10", i+1, part)
		}
		v, err := strconv.ParseInt(val, 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("entry %d (%s): %s is out of range", i+1, name, val)
		}
		if err != nil {
			return fmt.Errorf("entry %d (%s): %q is not a whole number", i+1, name, val)
		}
		out = append(out, pair{name, v})
	}
	*l = out
	return nil
}

// namespacedNames collects NAMESPACE/NAME values: the flag may be repeated
// and each value may list several, comma-separated.
type namespacedNames []types.NamespacedName

var _ flag.Value = (*namespacedNames)(nil)

func (n *namespacedNames) String() string {
	if n == nil {
		return ""
	}
	s := make([]string, len(*n))
	for i, nn := range *n {
		s[i] = nn.String()
	}
	return strings.Join(s, ",")
}

func (n *namespacedNames) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		ns, name, ok := strings.Cut(strings.TrimSpace(part), "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			return fmt.Errorf("%q: expected NAMESPACE/NAME, such as agentgateway-system/http", part)
		}
		*n = append(*n, types.NamespacedName{Namespace: ns, Name: name})
	}
	return nil
}
