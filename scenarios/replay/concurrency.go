package replay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/splitproof/splitproof/scenarios/shell"
)

// MaxConcurrency bounds Options.Concurrency: far more workers than a
// replay on loopback or a cluster gateway can use, few enough that a typo
// does not open thousands of connections at once.
const MaxConcurrency = 256

// workers is the number of workers Options ask for: at least one.
func (o Options) workers() int { return max(o.Concurrency, 1) }

// validConcurrency checks Options.Concurrency.
func validConcurrency(n int) error {
	if n < 0 || n > MaxConcurrency {
		return fmt.Errorf("concurrency %d: expected 1 to %d workers (0 means 1)", n, MaxConcurrency)
	}
	return nil
}

// loop is one replay's run of the snippet's loop: planned iterations
// shared among workers, each running its share through shell.Run in chunks
// of at most maxChunk (the shell expands a brace range to at most 16,384
// words; the loop variable restarts at the range's start in each chunk,
// and the doc's snippets do not use it).
//
// The iterations of the doc's loops are independent (one curl each), so
// running K of them at once is the loop run by K clients. Splitting here,
// with one shell.Run per worker, keeps the shell package single-threaded
// and every worker's setup its own (its curl runner, its jq); the client,
// and with it the connection numbering and the request counter, is shared.
//
// Every iteration reaches deliver on the goroutine that called run, in
// the order the workers finished them (the order the answers arrived),
// numbered from 0 in that order. The shares add up to planned, so no cap
// is ever exceeded whatever the workers do.
type loop struct {
	script  string
	planned int
	workers int
	// opts is what every shell.Run gets; Iterations and OnIteration are
	// set per call.
	opts shell.Options
	// deliver is the replay's per-iteration bookkeeping (onIteration in
	// run). It may cancel the run's context to stop the replay: a
	// decision, after which answers still arriving from other workers are
	// discarded, so the report holds exactly the requests it was decided
	// on.
	deliver func(shell.Iteration)
}

// run runs the loop until every share is done, ctx ends (the caller's
// interrupt: iterations already answered are kept, requests in flight
// are abandoned as the single-worker replay abandons its one) or runCtx
// ends (deliver decided). It returns the first error a worker met, a
// context's ending included, as the single shell.Run did.
func (l *loop) run(ctx, runCtx context.Context) error {
	if l.workers <= 1 {
		// One worker on the caller's goroutine: the doc's loop as it
		// always ran, with no channel and no goroutine added.
		index := 0
		return l.share(runCtx, l.planned, func(it shell.Iteration) {
			it.Index = index
			index++
			l.deliver(it)
		})
	}
	// A worker that fails (a command the replayer does not run) stops the
	// others; that is no decision, so workCtx is not runCtx.
	workCtx, stopWork := context.WithCancel(runCtx)
	defer stopWork()
	// The workers hand their iterations over a channel to this goroutine,
	// which alone calls deliver: a worker goes on to its next request at
	// once instead of queueing on a lock (under a lock the workers formed
	// a convoy, each waiting for the last to be woken, and 8 of them made
	// fewer requests than one). The buffer holds one iteration per worker.
	arrived := make(chan shell.Iteration, l.workers)
	errs := make([]error, l.workers)
	var wg sync.WaitGroup
	for w := range l.workers {
		// Shares differ by at most one: the first planned%workers get
		// the extra iteration.
		n := l.planned / l.workers
		if w < l.planned%l.workers {
			n++
		}
		if n == 0 {
			continue
		}
		wg.Go(func() {
			if err := l.share(workCtx, n, func(it shell.Iteration) { arrived <- it }); err != nil {
				errs[w] = err
				stopWork()
			}
		})
	}
	go func() {
		wg.Wait()
		close(arrived)
	}()
	// Every iteration a worker finished is received, so that an interrupt
	// keeps all that were answered; after deliver's own stop the rest are
	// discarded, and the report holds exactly the requests it decided on.
	index, decided := 0, false
	for it := range arrived {
		if decided {
			continue
		}
		it.Index = index
		index++
		l.deliver(it)
		// runCtx ending without the caller's ctx is deliver's own stop.
		decided = runCtx.Err() != nil && ctx.Err() == nil
	}
	return firstError(errs)
}

// share runs n iterations of the loop in chunks, handing each to deliver.
func (l *loop) share(ctx context.Context, n int, deliver func(shell.Iteration)) error {
	for remaining := n; remaining > 0 && ctx.Err() == nil; {
		chunk := min(remaining, maxChunk)
		remaining -= chunk
		opts := l.opts
		opts.Iterations = chunk
		opts.OnIteration = deliver
		res, err := shell.Run(ctx, l.script, opts)
		if err != nil {
			return err
		}
		if len(res.Iterations) == 0 {
			return nil // the snippet ran but its loop made no iteration
		}
	}
	return nil
}

// firstError prefers a worker's own failure to the cancellation it caused
// in the others.
func firstError(errs []error) error {
	var cancelled error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			if cancelled == nil {
				cancelled = err
			}
		default:
			return err
		}
	}
	return cancelled
}

// poolFor lets a keep-alive client (--connections reuse) keep one idle
// connection per worker, so that workers reuse connections instead of
// closing what the pool cannot hold and dialling anew.
func poolFor(client *http.Client, workers int) {
	if t, ok := client.Transport.(*http.Transport); ok && t.MaxIdleConnsPerHost < workers {
		t.MaxIdleConnsPerHost = workers
	}
}
