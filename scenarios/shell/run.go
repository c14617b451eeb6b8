package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"

	"github.com/splitproof/splitproof/scenarios/curl"
	"github.com/splitproof/splitproof/scenarios/jq"
)

// Options configure one replay.
type Options struct {
	// Env holds the snippet's environment variables (INGRESS_GW_ADDRESS).
	// Nothing is inherited from the process, except PATH with SystemTools.
	Env map[string]string
	// Iterations, when positive, makes the counted loop run that many times
	// by rewriting its brace range; the snippet must have such a loop.
	Iterations int
	// Client performs curl's requests; its transport's dialer decides where
	// connections go. Nil means [curl.DefaultClient]. A transport should
	// have compression disabled, as curl does not ask for gzip.
	Client *http.Client
	// SystemTools runs every command as a real binary — curl and jq too —
	// and lifts the filesystem restrictions. Nothing is recorded then but
	// each iteration's output and curl's exit status: Client is not used,
	// and classification reads stdout (the status line of `curl -i`, or
	// what the snippet's own `jq -r` printed).
	SystemTools bool
	// Flattened says the snippet comes from a page flattened to one line
	// and is passed through [Normalize] first.
	Flattened bool
	// Classifier, when set, fills each iteration's Category before
	// OnIteration sees it.
	Classifier *Classifier
	// OnIteration is called after each iteration, on the replay's goroutine.
	// To stop early, cancel the context given to Run: the replay stops
	// before the next iteration and Run returns what was recorded.
	OnIteration func(Iteration)
	// Stdout and Stderr receive everything the snippet writes; nil discards.
	Stdout, Stderr io.Writer
	// Dir is the only directory curl -o and "@file" may use; empty forbids
	// files altogether.
	Dir string
	// Connections is the native curl's connection policy: the zero value
	// keeps connections alive across the snippet's curl commands;
	// curl.ConnNew gives each command its own, as real curl does.
	Connections curl.ConnPolicy
	// RewriteURL, when set, adjusts each native curl request's URL before
	// it is sent (see curl.WithURLRewrite).
	RewriteURL func(*url.URL)
	// Logger receives debug records; nil discards.
	Logger *slog.Logger
}

// CurlError is a curl invocation that exited non-zero.
type CurlError struct {
	Exit    int
	Message string
}

func (e *CurlError) Error() string { return fmt.Sprintf("curl: (%d) %s", e.Exit, e.Message) }

// Iteration is one pass through the counted loop's body (or the whole
// snippet when it has no loop).
type Iteration struct {
	Index int    // 0-based position in the replay
	Value string // the loop variable's value ("" without a loop)
	// Stdout and Stderr are what the body wrote during this iteration.
	Stdout, Stderr []byte
	// Exchanges are the HTTP exchanges curl made, in order.
	Exchanges []curl.Exchange
	// Status is the HTTP status of the last response, 0 when none arrived.
	// Under SystemTools it is the last status line `curl -i` printed, 0
	// when none was printed.
	Status int
	// ExitCode is the exit status of the body's last command.
	ExitCode int
	// Err is the first curl failure of the iteration (a *CurlError), nil
	// when every curl exited 0. A failed request is never dropped: it is
	// recorded here and classified as CategoryError or its status.
	Err error
	// Category is the classifier's verdict; empty without a classifier.
	Category string
	// ClassifyErr says why the iteration got CategoryError or
	// CategoryUnmatched.
	ClassifyErr error
	// CurlStart and CurlEnd are when the iteration's first curl command
	// started and its last one returned; zero when it ran none. Under
	// SystemTools they are all that is known of when a request was sent
	// and answered (the Exchanges carry the precise times otherwise).
	CurlStart, CurlEnd time.Time
	// Curls counts the curl commands the iteration ran. A real curl opens
	// its own connections, so under SystemTools each is a connection of
	// its own, never one an earlier command used.
	Curls int
}

// LastExchange returns the last non-redirect exchange, nil when curl made none.
func (it *Iteration) LastExchange() *curl.Exchange {
	for i := len(it.Exchanges) - 1; i >= 0; i-- {
		if !it.Exchanges[i].Redirect {
			return &it.Exchanges[i]
		}
	}
	return nil
}

// Result is what a replay recorded.
type Result struct {
	// Loop is the counted loop (after scaling), nil when there is none.
	Loop       *Loop
	Iterations []Iteration
	// ExitCode is the snippet's exit status.
	ExitCode int
	// Counts maps each category to its number of iterations (with a classifier).
	Counts map[string]int
}

// Categories returns the categories seen, sorted.
func (r *Result) Categories() []string {
	out := make([]string, 0, len(r.Counts))
	for k := range r.Counts {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// UnsupportedCommandError is a command the replayer does not run.
type UnsupportedCommandError struct {
	Name      string
	Line, Col uint
}

func (e *UnsupportedCommandError) Error() string {
	return fmt.Sprintf("line %d, column %d: command %q is not supported: the replayer runs curl and jq natively; use --system-tools to run real binaries",
		e.Line, e.Col, e.Name)
}

// ErrFilesystem is returned when a snippet reaches for the filesystem.
var ErrFilesystem = errors.New("snippets may not use the filesystem (only curl -o under the replay directory)")

// Run replays snippet. The returned Result holds every iteration recorded,
// also when the error is not nil (a cancelled context, an unsupported
// command halting the snippet midway).
func Run(ctx context.Context, snippet string, opts Options) (*Result, error) {
	if opts.Flattened {
		snippet = Normalize(snippet)
	}
	file, err := parse(snippet)
	if err != nil {
		return nil, fmt.Errorf("parsing snippet: %w", err)
	}
	loop, err := findLoop(file)
	if err != nil {
		return nil, err
	}
	if opts.Iterations > 0 {
		if loop == nil {
			return nil, errors.New("cannot scale iterations: the snippet has no `for VAR in {A..B}` loop")
		}
		loop.scale(opts.Iterations)
	}
	if loop != nil {
		if err := loop.instrument(); err != nil {
			return nil, err
		}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	rec := &recorder{opts: opts, result: &Result{Loop: loop, Counts: map[string]int{}}}
	rec.stdout = &splitWriter{rec: rec, tee: opts.Stdout, pick: func(it *Iteration) *[]byte { return &it.Stdout }}
	rec.stderr = &splitWriter{rec: rec, tee: opts.Stderr, pick: func(it *Iteration) *[]byte { return &it.Stderr }}
	curlRunner := curl.NewRunner(opts.Client, opts.Dir, curl.WithConnections(opts.Connections), curl.WithURLRewrite(opts.RewriteURL))
	jqRunner := jq.NewRunner()

	runnerOpts := []interp.RunnerOption{
		interp.Env(expand.ListEnviron(environ(opts)...)),
		interp.StdIO(nil, rec.stdout, rec.stderr),
		interp.ExecHandlers(rec.middleware(curlRunner, jqRunner, logger)),
	}
	if opts.Dir != "" {
		runnerOpts = append(runnerOpts, interp.Dir(opts.Dir))
	}
	if !opts.SystemTools {
		runnerOpts = append(runnerOpts,
			interp.Params("-f"), // no globbing: a URL's '?' stays literal without reading a directory
			interp.OpenHandler(denyOpen),
			interp.ReadDirHandler2(func(context.Context, string) ([]fs.DirEntry, error) { return nil, ErrFilesystem }),
			interp.StatHandler(func(context.Context, string, bool) (fs.FileInfo, error) { return nil, ErrFilesystem }),
		)
	}
	runner, err := interp.New(runnerOpts...)
	if err != nil {
		return nil, fmt.Errorf("setting up the shell: %w", err)
	}

	if loop == nil {
		rec.begin("")
	}
	logger.DebugContext(ctx, "replaying snippet", "iterations", opts.Iterations, "loop", loop != nil)
	runErr := runner.Run(ctx, file)
	status, isStatus := errors.AsType[interp.ExitStatus](runErr)
	if runErr == nil || isStatus {
		rec.result.ExitCode = int(status)
		runErr = nil
	}
	if rec.cur != nil && runErr == nil {
		rec.finish(rec.result.ExitCode)
	}
	if runErr == nil && ctx.Err() != nil {
		runErr = ctx.Err()
	}
	if runErr != nil {
		return rec.result, fmt.Errorf("replaying snippet: %w", runErr)
	}
	return rec.result, nil
}

func environ(opts Options) []string {
	var env []string
	for k, v := range opts.Env {
		env = append(env, k+"="+v)
	}
	if _, ok := opts.Env["PATH"]; !ok && opts.SystemTools {
		env = append(env, "PATH="+os.Getenv("PATH"))
	}
	sort.Strings(env)
	return env
}

// denyOpen allows only /dev/null, which snippets use to drop output.
func denyOpen(ctx context.Context, path string, flag int, perm os.FileMode) (io.ReadWriteCloser, error) {
	if path == os.DevNull {
		return devNull{}, nil
	}
	return nil, fmt.Errorf("redirection to %s: %w", path, ErrFilesystem)
}

type devNull struct{}

func (devNull) Read([]byte) (int, error)            { return 0, io.EOF }
func (devNull) Write(p []byte) (int, error)         { return len(p), nil }
func (devNull) Close() error                        { return nil }
func (devNull) String() string                      { return os.DevNull }
func (d devNull) WriteString(s string) (int, error) { return len(s), nil }

var _ io.ReadWriteCloser = devNull{}

// recorder cuts the snippet's run into iterations. Commands of a pipeline
// run concurrently, hence the lock.
type recorder struct {
	opts   Options
	result *Result

	mu     sync.Mutex
	cur    *Iteration
	stdout *splitWriter
	stderr *splitWriter
}

func (r *recorder) pending() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur != nil
}

func (r *recorder) begin(value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur = &Iteration{Index: len(r.result.Iterations), Value: value}
}

// finish closes the current iteration, classifies it and reports it.
func (r *recorder) finish(exit int) {
	r.mu.Lock()
	it := r.cur
	r.cur = nil
	r.mu.Unlock()
	if it == nil {
		return
	}
	it.ExitCode = exit
	if last := it.LastExchange(); last != nil {
		it.Status = last.Status
	} else if r.opts.SystemTools {
		it.Status = printedStatus(it.Stdout)
	}
	if r.opts.Classifier != nil {
		it.Category, it.ClassifyErr = r.opts.Classifier.Classify(it)
		r.result.Counts[it.Category]++
	}
	r.result.Iterations = append(r.result.Iterations, *it)
	if r.opts.OnIteration != nil {
		r.opts.OnIteration(*it)
	}
}

// curlRan notes a curl command that ran from start to end.
func (r *recorder) curlRan(start, end time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil {
		return
	}
	if r.cur.Curls == 0 {
		r.cur.CurlStart = start
	}
	r.cur.CurlEnd = end
	r.cur.Curls++
}

func (r *recorder) addCurl(out *curl.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil {
		return
	}
	r.cur.Exchanges = append(r.cur.Exchanges, out.Exchanges...)
	if out.Exit != 0 && r.cur.Err == nil {
		r.cur.Err = &CurlError{Exit: out.Exit, Message: out.Message}
	}
}

func (r *recorder) middleware(c *curl.Runner, j *jq.Runner, logger *slog.Logger) func(interp.ExecHandlerFunc) interp.ExecHandlerFunc {
	return func(next interp.ExecHandlerFunc) interp.ExecHandlerFunc {
		return func(ctx context.Context, args []string) error {
			hc := interp.HandlerCtx(ctx)
			switch args[0] {
			case markerCommand:
				// Markers keep $? as the body left it, so they are invisible
				// to the snippet.
				keep := exitStatus(hc.LastExitStatus)
				if len(args) > 1 && args[1] == "begin" {
					if r.pending() {
						// The previous pass ended without its end marker
						// (a `continue`).
						r.finish(hc.LastExitStatus)
					}
					if err := ctx.Err(); err != nil {
						return err
					}
					value := ""
					if len(args) > 2 {
						value = args[2]
					}
					r.begin(value)
					return keep
				}
				r.finish(hc.LastExitStatus)
				if err := ctx.Err(); err != nil {
					return err
				}
				return keep
			case "curl", "jq":
				if r.opts.SystemTools {
					// The real binary: nothing is recorded but its output
					// and exit status; a failing curl counts as no response.
					start := time.Now()
					err := next(ctx, args)
					if args[0] == "curl" {
						r.curlRan(start, time.Now())
					}
					if code, ok := errors.AsType[interp.ExitStatus](err); ok && args[0] == "curl" && code != 0 {
						r.addCurl(&curl.Outcome{Exit: int(code), Message: "curl exited with status " + strconv.Itoa(int(code))})
					}
					return err
				}
			}
			switch args[0] {
			case "curl":
				start := time.Now()
				out, err := c.Run(ctx, args[1:], curl.Stdio{Stdin: hc.Stdin, Stdout: hc.Stdout, Stderr: hc.Stderr})
				if err != nil {
					return fmt.Errorf("line %d: %w", hc.Pos.Line(), err)
				}
				r.curlRan(start, time.Now())
				r.addCurl(out)
				logger.DebugContext(ctx, "curl", "exit", out.Exit, "exchanges", len(out.Exchanges))
				return exitStatus(out.Exit)
			case "jq":
				var open func(string) (io.ReadCloser, error)
				if r.opts.Dir != "" {
					open = func(name string) (io.ReadCloser, error) {
						root, err := os.OpenRoot(r.opts.Dir)
						if err != nil {
							return nil, err
						}
						defer root.Close()
						return root.Open(name)
					}
				}
				code, err := j.Run(ctx, args[1:], jq.Stdio{Stdin: hc.Stdin, Stdout: hc.Stdout, Stderr: hc.Stderr, Open: open})
				if err != nil {
					return fmt.Errorf("line %d: %w", hc.Pos.Line(), err)
				}
				return exitStatus(code)
			}
			if r.opts.SystemTools {
				return next(ctx, args)
			}
			return &UnsupportedCommandError{Name: args[0], Line: hc.Pos.Line(), Col: hc.Pos.Col()}
		}
	}
}

func exitStatus(code int) error {
	if code == 0 {
		return nil
	}
	return interp.ExitStatus(uint8(code))
}

// splitWriter sends the snippet's output to the current iteration and to
// the caller's writer.
type splitWriter struct {
	rec  *recorder
	tee  io.Writer
	pick func(*Iteration) *[]byte
}

func (w *splitWriter) Write(p []byte) (int, error) {
	w.rec.mu.Lock()
	if w.rec.cur != nil {
		buf := w.pick(w.rec.cur)
		*buf = append(*buf, p...)
	}
	w.rec.mu.Unlock()
	if w.tee != nil {
		return w.tee.Write(p)
	}
	return len(p), nil
}

var (
	_ io.Writer = (*splitWriter)(nil)
	_ error     = (*UnsupportedCommandError)(nil)
	_ error     = (*CurlError)(nil)
)
