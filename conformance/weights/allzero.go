package weights

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/curl"
	"github.com/splitproof/splitproof/scenarios/replay"
	"github.com/splitproof/splitproof/scenarios/shell"
)

// ProbeRequests is how many requests an all-zero rule is sent: enough to
// see whether the answer is one status or varies, for a case that judges
// no share.
const ProbeRequests = 50

// probeAllZero runs s's first snippet ProbeRequests times against a rule
// whose weights are all zero and records the statuses. The spec does not
// say which status answers such a rule; what must not happen is a backend
// answering (its weight is 0) or no answer at all, so a spec-ambiguous
// case is as expected when every answer is a 5xx without a backend's body.
func probeAllZero(ctx context.Context, s *scenarios.Scenario, ep *replay.Endpoint, r *Result) error {
	classifier, err := shell.ByRegexp(s.Classify.Regexp, shell.SourceAuto)
	if err != nil {
		return fmt.Errorf("classify.regexp: %w", err)
	}
	statuses := map[int]int64{}
	backends := map[string]int64{}
	// A backend's answer is classified as its category; a status the
	// gateway gives itself is classified as the status ("500").
	isBackend := map[string]bool{}
	for _, c := range s.Categories {
		isBackend[c] = true
	}
	n := 0
	_, err = shell.Run(ctx, s.Snippets[0].Script, shell.Options{
		Env:         ep.Env,
		Iterations:  ProbeRequests,
		Client:      ep.Client(),
		Connections: curl.ConnNew,
		Classifier:  classifier,
		OnIteration: func(it shell.Iteration) {
			n++
			statuses[it.Status]++
			if isBackend[it.Category] {
				backends[it.Category]++
			}
		},
	})
	if err != nil {
		return fmt.Errorf("run snippet %s: %w", s.Snippets[0].Name, err)
	}
	r.Requests = n
	r.Counts = map[string]int64{}
	var parts []string
	all5xx := n > 0
	for _, k := range slices.Sorted(maps.Keys(statuses)) {
		name := "HTTP " + fmt.Sprint(k)
		if k == 0 {
			name = "no response"
		}
		r.Counts[name] = statuses[k]
		parts = append(parts, fmt.Sprintf("%s ×%d", name, statuses[k]))
		if k < 500 || k > 599 {
			all5xx = false
		}
	}
	for _, b := range sortedKeys(backends) {
		r.Failures = append(r.Failures, fmt.Sprintf("backend %s answered %d requests although its weight is 0", b, backends[b]))
	}
	r.Observed = "statuses"
	r.Notes = append(r.Notes, fmt.Sprintf("every weight 0: answered %s (the spec names no status: agentgateway answers 500, Traefik and Kuma 503)", strings.Join(parts, ", ")))
	r.AsExpected = r.Expect == ExpectAmbiguous && all5xx && len(backends) == 0
	return nil
}
