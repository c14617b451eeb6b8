package replay

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/shell"
)

// Applier applies a stepped scenario's manifests up to a step, as kubectl
// apply would: the embedded target reloads refproxy, a cluster target applies
// to the API server.
type Applier interface {
	Apply(ctx context.Context, step int) error
}

// RunSteps replays a stepped scenario (a canary ramp): while a background
// loop of the same snippet keeps traffic flowing, it applies each step and
// verifies that step's split. Any request of the background loop that fails
// (no response, or a 5xx the step does not expect) fails the step during
// which it happened: a route change must not drop traffic.
func RunSteps(ctx context.Context, s *scenarios.Scenario, ep *Endpoint, ap Applier, opts Options) ([]*Report, error) {
	if len(s.Steps) == 0 {
		rep, err := Run(ctx, s, ep, opts)
		if err != nil {
			return nil, err
		}
		return []*Report{rep}, nil
	}
	snippet, err := pickSnippet(s, opts.Snippet)
	if err != nil {
		return nil, err
	}
	classifier, err := classifierFor(s)
	if err != nil {
		return nil, err
	}
	bg := &background{}
	bgCtx, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		bg.run(bgCtx, snippet.Script, ep, classifier, opts)
	}()
	stop := func() error {
		stopBG()
		wg.Wait()
		return bg.err
	}

	var reports []*Report
	for i, st := range s.Steps {
		expected, err := s.ExpectedAt(i)
		if err == nil && opts.Route != nil {
			err = fmt.Errorf("scenario %s changes its route between steps: --route applies only to scenarios without steps", s.Name)
		}
		if err == nil {
			expected, err = withWeights(s, expected, opts.Weights)
		}
		if err != nil {
			_ = stop()
			return nil, err
		}
		before := bg.snapshot()
		if err := ap.Apply(ctx, i); err != nil {
			_ = stop()
			return nil, fmt.Errorf("apply step %s: %w", st.Name, err)
		}
		rep, err := run(ctx, s, snippet, expected, st.Name, ep, opts)
		if err != nil {
			_ = stop()
			return nil, err
		}
		after := bg.snapshot()
		if failed := after.failed - before.failed; failed > 0 {
			rep.Verdict.AddFailure(fmt.Sprintf("%d of %d requests sent while the route changed to step %s failed (first: %s)", failed, after.total-before.total, st.Name, after.first))
		}
		rep.Background = after.total - before.total
		reports = append(reports, rep)
		if rep.Interrupted {
			break // the later steps would only fail to apply
		}
	}
	if err := stop(); err != nil && !errors.Is(err, context.Canceled) {
		return reports, fmt.Errorf("background traffic: %w", err)
	}
	return reports, nil
}

// background counts the requests of a loop that runs until cancelled.
type background struct {
	mu     sync.Mutex
	total  int
	failed int
	first  string
	err    error
}

type bgSnapshot struct {
	total, failed int
	first         string
}

func (b *background) snapshot() bgSnapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bgSnapshot{b.total, b.failed, b.first}
}

func (b *background) run(ctx context.Context, script string, ep *Endpoint, c *shell.Classifier, opts Options) {
	client := ep.Client()
	client.Timeout = requestTimeout(opts)
	for ctx.Err() == nil {
		_, err := shell.Run(ctx, script, shell.Options{
			Env: ep.Env, Iterations: maxChunk, Client: client, SystemTools: opts.SystemTools, Classifier: c,
			OnIteration: func(it shell.Iteration) {
				b.mu.Lock()
				defer b.mu.Unlock()
				b.total++
				if it.Category == shell.CategoryError || isServerError(it.Category) {
					b.failed++
					if b.first == "" {
						b.first = describeFailure(it)
					}
				}
			},
		})
		if err != nil {
			b.mu.Lock()
			if ctx.Err() == nil {
				b.err = err
			}
			b.mu.Unlock()
			return
		}
	}
}

func isServerError(category string) bool {
	code, err := strconv.Atoi(category)
	return err == nil && code >= 500
}
