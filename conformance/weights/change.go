package weights

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/splitproof/splitproof/sim"
)

// Time to a correct split after a weight change.
//
// refproxy runs in file mode (filegw.go) with a two-backend route, v1/v2.
// One sender sends one request at a time over a keep-alive connection
// and keeps the category of the last Window answers. For each change the
// route file is replaced (an atomic rename: the write time is the rename)
// and the sender goes on; the change is measured by three times, all from
// the write:
//
//   - applied: refproxy's listener layer was handed the new table (the
//     reload's own share: read, compile, swap);
//   - serving, for a change whose new weights allow a backend the old
//     ones gave weight 0 (100/0 → 0/100, 100/0 → 90/10): the first answer
//     from that backend;
//   - correct window: the first answer after which the last Window
//     answers are statistically right for the new weights and no longer
//     for the old: the exact two-sided (1−Alpha) Clopper–Pearson interval
//     of v2's share in the window contains the new share and excludes the
//     old one (a weight-0 share is contained only by a window with no
//     answer from it, a share of 1 only by a window of nothing else).
//
// The correct window's delay is mostly the window's own: it needs enough
// answers from the new table to move the share out of the old interval
// (all Window of them when the new weights exclude a backend the old
// ones allowed). Its "after applied" figure, in time and in requests sent
// after the table was applied, is that part. Before each change the
// sender fills a whole window at the current weights, so that every
// change starts from a settled window.
//
// Each change is also checked: an answer from a backend the new weights
// give weight 0, to a request sent after the new table was applied, is a
// failure (the old table still serving).

// ChangeOptions tune the weight-change measurement.
type ChangeOptions struct {
	// Repeats of the cycle of changes (0: DefaultChangeRepeats).
	Repeats int
	// Window is the sliding window's size in answers (0: DefaultWindow).
	Window int
	// Alpha is the error of each window interval (0: DefaultWindowAlpha).
	Alpha float64
	// Poll, when positive, lets refproxy's poller find each change (it
	// reloads once the file has held still for one interval, so a change
	// is served 1 to 2 intervals after the write); zero reloads on
	// request right after the write, as SIGHUP does.
	Poll time.Duration
	// Seed of refproxy's random picks.
	Seed uint64
	// Timeout bounds each change (0: 5 s).
	Timeout time.Duration
}

const (
	// DefaultChangeRepeats gives 20 changes per row (the 0/100 → 100/0 row
	// gets two per cycle, 40).
	DefaultChangeRepeats = 20
	// DefaultWindow is the sliding window in answers.
	DefaultWindow = 200
	// DefaultWindowAlpha is each window interval's error.
	DefaultWindowAlpha = 0.001
)

// ServingGoal is refproxy's goal in file mode: a change served within
// 50 ms (p99) of the write, when reloaded on request.
const ServingGoal = 50 * time.Millisecond

// split is a two-backend weight pair, v1/v2.
type split [2]int32

func (s split) String() string { return fmt.Sprintf("%d/%d", s[0], s[1]) }

// share is v2's share.
func (s split) share() float64 { return float64(s[1]) / float64(s[0]+s[1]) }

// changeCycle is one repeat: the doc's progression 100/0 → 90/10 → 50/50
// → 0/100, then the flips both ways, back to the start.
var changeCycle = []split{{100, 0}, {90, 10}, {50, 50}, {0, 100}, {100, 0}, {0, 100}, {100, 0}}

// Change is the measurement of one weight change.
type Change struct {
	From, To string
	// Applied, Serving (0 when the change has no backend only the new
	// weights allow) and Window are the delays from the write; WindowAfter
	// is the correct window's delay after the table was applied, and
	// RequestsAfter the requests it took (for a gateway that does not say
	// when it applied a table, the requests sent after the write).
	Applied, Serving, Window, WindowAfter time.Duration
	RequestsAfter                         int
	// Stale counts answers the new weights exclude, to requests sent after
	// the new table was applied.
	Stale int
	// Took is the change's wall time, the settling window included.
	Took time.Duration
	Err  string
}

// weightSetter is how a measurement changes a two-backend v1/v2 route's
// weights and reaches it: refproxy's route file (fileGateway) or an
// HTTPRoute patched in a cluster (clusterRoute). The window logic is the
// same for both; only these differ.
type weightSetter interface {
	// request builds one request to the route.
	request(ctx context.Context) (*http.Request, error)
	// set changes the weights and returns the moment the change was made
	// (the rename of the file, the API server's answer to the patch).
	set(ctx context.Context, weights []int32) (time.Time, error)
	// appliedAfter is the first time at or after t the gateway applied a
	// table; ok is false while none has been, and always when the gateway
	// does not say (seesApplied false).
	appliedAfter(t time.Time) (time.Time, bool)
	seesApplied() bool
}

// MeasureChanges runs the weight-change cycle opts.Repeats times against
// refproxy in file mode in a temporary directory.
func MeasureChanges(ctx context.Context, opts ChangeOptions) ([]Change, error) {
	opts = opts.withDefaults(5 * time.Second)
	dir, err := os.MkdirTemp("", "splitproof-weight-change-")
	if err != nil {
		return nil, fmt.Errorf("weight change: temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	g, err := startFileGateway(dir, changeCycle[0][:], opts.Seed, opts.Poll)
	if err != nil {
		return nil, fmt.Errorf("weight change: %w", err)
	}
	defer g.close()
	return runChanges(ctx, g, changeCycle, opts)
}

func (o ChangeOptions) withDefaults(timeout time.Duration) ChangeOptions {
	if o.Repeats <= 0 {
		o.Repeats = DefaultChangeRepeats
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Alpha <= 0 {
		o.Alpha = DefaultWindowAlpha
	}
	if o.Timeout <= 0 {
		o.Timeout = timeout
	}
	return o
}

// runChanges measures every change of cycle, opts.Repeats times, over one
// keep-alive connection (one sender, one request at a time). g already
// serves cycle[0].
func runChanges(ctx context.Context, g weightSetter, cycle []split, opts ChangeOptions) ([]Change, error) {
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, DisableCompression: true}, Timeout: 5 * time.Second}
	if c, ok := g.(interface{ client() *http.Client }); ok {
		client = c.client()
	}
	defer client.CloseIdleConnections()
	w := newWindow(opts.Window, opts.Alpha)
	var out []Change
	for range opts.Repeats {
		for i := 1; i < len(cycle); i++ {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			c, err := measureChange(ctx, g, client, w, cycle[i-1], cycle[i], opts.Timeout)
			if err != nil {
				return out, fmt.Errorf("weight change %s → %s: %w", cycle[i-1], cycle[i], err)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// measureChange settles a full window at from, writes to and sends until
// the window is right for to (and, for a flip, an answer from the newly
// allowed backend came), or until timeout.
func measureChange(ctx context.Context, g weightSetter, client *http.Client, w *window, from, to split, timeout time.Duration) (c Change, err error) {
	c = Change{From: from.String(), To: to.String()}
	began := time.Now()
	defer func() { c.Took = time.Since(began) }()
	w.reset()
	for !w.full() {
		cat, err := ask(ctx, client, g)
		if err != nil {
			return c, err
		}
		w.add(cat)
	}
	if !w.right(from.share(), -1) {
		return c, fmt.Errorf("before the change, the window of %d answers (v1=%d v2=%d) is not right for %s", w.size, w.counts[0], w.counts[1], from)
	}
	newOnly := -1
	for b := range 2 {
		if from[b] == 0 && to[b] > 0 {
			newOnly = b
		}
	}
	wrote, err := g.set(ctx, to[:])
	if err != nil {
		return c, err
	}
	deadline := wrote.Add(timeout)
	for {
		sent := time.Now()
		if sent.After(deadline) {
			c.Err = fmt.Sprintf("no correct window within %s of the write", timeout)
			break
		}
		cat, err := ask(ctx, client, g)
		if err != nil {
			return c, err
		}
		at := time.Now()
		w.add(cat)
		applied, ok := g.appliedAfter(wrote)
		if !g.seesApplied() {
			c.RequestsAfter++
		} else if ok && !sent.Before(applied) {
			c.RequestsAfter++
			if cat >= 0 && cat < 2 && to[cat] == 0 {
				c.Stale++
			}
		}
		if newOnly >= 0 && cat == newOnly && c.Serving == 0 {
			c.Serving = at.Sub(wrote)
		}
		if c.Window == 0 && w.right(to.share(), from.share()) {
			c.Window = at.Sub(wrote)
			if ok {
				c.WindowAfter = at.Sub(applied)
			}
		}
		if c.Window > 0 && (newOnly < 0 || c.Serving > 0) {
			break
		}
	}
	if applied, ok := g.appliedAfter(wrote); ok {
		c.Applied = applied.Sub(wrote)
	} else if c.Err == "" && g.seesApplied() {
		c.Err = "no table was applied after the write"
	}
	return c, nil
}

// ask sends one request to g and returns the answer's backend (-1: none).
func ask(ctx context.Context, client *http.Client, g weightSetter) (int, error) {
	req, err := g.request(ctx)
	if err != nil {
		return -1, err
	}
	res, err := client.Do(req)
	if err != nil {
		return -1, fmt.Errorf("GET %s (Host %s): %w", req.URL, req.Host, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return -1, fmt.Errorf("GET %s (Host %s): read the answer: %w", req.URL, req.Host, err)
	}
	return category(string(body)), nil
}

// window is a sliding window over the last size answers' categories,
// with each possible v2 count's interval computed once.
type window struct {
	size   int
	ring   []int
	next   int
	filled int
	counts [3]int // v1, v2, anything else
	iv     []sim.Interval
}

func newWindow(size int, alpha float64) *window {
	w := &window{size: size, ring: make([]int, size), iv: make([]sim.Interval, size+1)}
	for x := range w.iv {
		w.iv[x] = sim.ClopperPearson(int64(x), int64(size), 1-alpha)
	}
	return w
}

func (w *window) reset() { w.next, w.filled, w.counts = 0, 0, [3]int{} }

func (w *window) full() bool { return w.filled == w.size }

func slot(cat int) int {
	if cat == 0 || cat == 1 {
		return cat
	}
	return 2
}

func (w *window) add(cat int) {
	if w.full() {
		w.counts[slot(w.ring[w.next])]--
	} else {
		w.filled++
	}
	w.ring[w.next] = cat
	w.counts[slot(cat)]++
	w.next = (w.next + 1) % w.size
}

// right says whether a full window of v1/v2 answers is consistent with
// v2's share want and, unless old < 0, no longer with old.
func (w *window) right(want, old float64) bool {
	if !w.full() || w.counts[2] > 0 {
		return false
	}
	iv := w.iv[w.counts[1]]
	in := func(p float64) bool { return p >= iv.Lo && p <= iv.Hi }
	return in(want) && (old < 0 || !in(old))
}

// quantile is the nearest-rank q-quantile of ds (0 when empty).
func quantile[T cmp.Ordered](ds []T, q float64) T {
	if len(ds) == 0 {
		var zero T
		return zero
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// ChangeResults turns the measured changes into one Result per distinct
// change ("weight-change 100/0→90/10"), in the cycle's order; mode names
// how the changes were picked up. A row is as expected when every change
// reached a correct window within the timeout and no stale answer came;
// its Requests are those sent after the new tables were applied (for a
// gateway that does not say when, after the change was made) and its
// Wall the changes' own time, settling windows included.
func ChangeResults(cs []Change, mode string) []Result {
	return changeResults(cs, mode, "file mode, v1/v2", "write")
}

// changeResults is ChangeResults for changes made on scenario. A gateway
// that does not say when it applied a table (a cluster's) gets no
// "table applied" figures and no stale count: every Applied is 0 then.
// from names what starts each delay ("write", "patch").
func changeResults(cs []Change, mode, scenario, from string) []Result {
	seen := slices.ContainsFunc(cs, func(c Change) bool { return c.Applied > 0 })
	var order []string
	by := map[string][]Change{}
	for _, c := range cs {
		k := c.From + "→" + c.To
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], c)
	}
	var out []Result
	for _, k := range order {
		group := by[k]
		r := Result{Case: "weight-change " + k, Scenario: scenario, Mode: mode, Expect: ExpectPass, Observed: string(sim.OutcomePass)}
		var applied, serving, win, after []time.Duration
		var reqs []int
		stale := 0
		for _, c := range group {
			r.Wall += c.Took
			r.Requests += c.RequestsAfter
			stale += c.Stale
			if c.Err != "" {
				r.Failures = append(r.Failures, c.Err)
				continue
			}
			applied = append(applied, c.Applied)
			win = append(win, c.Window)
			after = append(after, c.WindowAfter)
			reqs = append(reqs, c.RequestsAfter)
			if c.Serving > 0 {
				serving = append(serving, c.Serving)
			}
		}
		if stale > 0 {
			r.Failures = append(r.Failures, fmt.Sprintf("%d answers from a backend the new weights exclude, to requests sent after the new table was applied", stale))
		}
		if len(r.Failures) > 0 {
			r.Observed = string(sim.OutcomeFail)
		}
		r.AsExpected = len(r.Failures) == 0
		ms := func(ds []time.Duration) string {
			return fmt.Sprintf("p50 %s, p99 %s", fmtDur(quantile(ds, 0.5)), fmtDur(quantile(ds, 0.99)))
		}
		if !seen {
			r.Notes = append(r.Notes, fmt.Sprintf("%s; %s → correct window: %s, p50 %s after the change", sim.CountNoun(len(group), "change"), from, ms(win), sim.CountNoun(quantile(reqs, 0.5), "request")))
			if len(serving) > 0 {
				r.Notes = append(r.Notes, fmt.Sprintf("%s → first answer from the backend only the new weights allow: %s", from, ms(serving)))
			}
			out = append(out, r)
			continue
		}
		r.Notes = append(r.Notes, fmt.Sprintf("%s; write → table applied: %s", sim.CountNoun(len(group), "change"), ms(applied)))
		if len(serving) > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("write → first answer from the backend only the new weights allow: %s", ms(serving)))
		}
		r.Notes = append(r.Notes,
			fmt.Sprintf("write → correct window: %s; of it after the table was applied (the window's own delay): %s, p50 %d requests", ms(win), ms(after), quantile(reqs, 0.5)))
		out = append(out, r)
	}
	return out
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}

// changeMode names how changes are picked up, for the results' Mode.
func changeMode(poll time.Duration) string {
	if poll > 0 {
		return "file, poll " + poll.String()
	}
	return "file, reload on request"
}

// Quantile is the nearest-rank q-quantile of ds (0 when empty), as the
// results' p50/p99 are computed.
func Quantile(ds []time.Duration, q float64) time.Duration { return quantile(ds, q) }
