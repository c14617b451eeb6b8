package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/splitproof/splitproof/scenarios/sequence"
	"github.com/splitproof/splitproof/sim"
	"github.com/splitproof/splitproof/sim/sched"
)

func verifyCommand() Command {
	return Command{Name: "verify", Short: "test observed response counts against backendRef weights", Run: runVerify}
}

const verifySynopsis = `verify --weights NAME=W,... --counts NAME=N,... | --file COUNTS.json
       | --sequence FILE [--weights NAME=W,...]
       [--alpha A] [--delta D] [--json] [--plot FILE.png]

Tests counts of responses per category (backend, or a status such as 500 for
the share of invalid backendRefs) against the weights: Pearson's chi-square
where its exact false-failure rate at this n and split is within 10% of alpha,
else the exact multinomial test, with Bonferroni-corrected Clopper-Pearson
intervals per category. A weight-0 category that
received responses, or responses in no category, fail the verdict. Prints the
table, the false-failure rate (alpha) and the power against a shift of delta.
Counts are at most 10^12 responses in all. The --file format is documented in
package sim (the replayer writes it; its "sequence" field is documented in
package scenarios/sequence); --json prints the verdict with its "outcome":
"pass", "fail" or "inconclusive".

--sequence reads the responses in arrival order: either one category per line
(blank lines and # comments ignored; --weights gives the expected split), or
the JSON "splitproof replay --counts DIR" writes (its categories are the
weights). The counts it implies are verified as --counts would, and the order
(from --sequence, or from a --file that carries one) is classified first, as
package sim/sched documents: independent draws keep the counts test; a
deterministic order (nginx's smooth round robin) is tested for exactness over
its period, a bursty one (Caddy's blocks) over whole periods only, never
failing before two have been seen, a per-connection one over its connections
(one draw each); an order that fits no model is INCONCLUSIVE. The table is
followed by the class, its evidence and which test decided; --json adds
"scheduler" (the classification) and "model_verdict".

` + exitCodesHelp

const verifyExamples = `  splitproof verify --weights helloworld-v1=10,helloworld-v2=10,helloworld-v3=80 \
      --counts helloworld-v1=103,helloworld-v2=95,helloworld-v3=802
  # weight-0 backend and the 500 share of an invalid backendRef
  splitproof verify --weights a=70,b=30,c=0 --counts a=352,b=148
  splitproof verify --file counts.json --json --plot shares.png
  # one category per line, in the order the responses arrived
  splitproof verify --weights v1=10,v2=10,v3=80 --sequence responses.txt
  splitproof verify --sequence out/example1-ab-testing-port-forward.json`

func runVerify(_ context.Context, env *Env, args []string) error {
	fs := NewFlagSet(env, "verify", verifySynopsis, verifyExamples)
	var weights, counts pairList
	fs.Var(&weights, "weights", "comma-separated `NAME=WEIGHT` of every expected category, in order")
	fs.Var(&counts, "counts", "comma-separated `NAME=COUNT` of observed responses (missing names count 0)")
	file := fs.String("file", "", "JSON counts file (instead of --weights and --counts); - reads stdin")
	seqPath := fs.String("sequence", "", "`FILE` of responses in arrival order (instead of --counts): one category per line, or the JSON replay --counts writes; - reads stdin")
	alpha := fs.Float64("alpha", 0, fmt.Sprintf("false-failure rate (default: the file's alpha, else %g: rare false alarms in CI at about twice the requests of 0.05)", sim.DefaultAlpha))
	delta := fs.Float64("delta", 0, fmt.Sprintf("deviation (absolute share) the power is stated for (default: the file's delta, else %g)", sim.DefaultDelta))
	asJSON := fs.Bool("json", false, "print the verdict as JSON instead of a table")
	plotPath := fs.String("plot", "", "write observed vs expected shares with intervals to this file (.png, .svg or .pdf)")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return BadInput(fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	// 0 means "the file's value, else the default" only when the flag is
	// absent: an explicit --alpha 0 is a mistake, not a request for it.
	var flagErr error
	fs.Visit(func(f *flag.Flag) {
		switch {
		case flagErr != nil:
		case f.Name == "alpha" && !(*alpha > 0 && *alpha < 1):
			flagErr = fmt.Errorf("--alpha %v: expected a false-failure rate strictly between 0 and 1, such as 0.001", *alpha)
		case f.Name == "delta" && !(*delta > 0 && *delta <= 0.5):
			flagErr = fmt.Errorf("--delta %v: expected a deviation of a share in (0, 0.5], such as 0.05", *delta)
		}
	})
	if flagErr != nil {
		return BadInput(flagErr)
	}
	var cf sim.CountsFile
	var seq *sequence.Recording
	switch {
	case *file != "" && (len(weights) > 0 || len(counts) > 0 || *seqPath != ""):
		return BadInput(errors.New("use either --file, --sequence or --weights with --counts, not two of them"))
	case *seqPath != "" && len(counts) > 0:
		return BadInput(errors.New("--sequence implies the counts: give --sequence or --counts, not both"))
	case *seqPath != "":
		var err error
		if cf, seq, err = countsFromSequence(env, *seqPath, weights); err != nil {
			return BadInput(err)
		}
	case *file != "":
		f, err := readCountsFile(env, *file)
		if err != nil {
			return BadInput(err)
		}
		cf, seq = f.CountsFile, f.Sequence
	default:
		var err error
		if cf, err = countsFromFlags(weights, counts); err != nil {
			return BadInput(err)
		}
	}
	v, err := sim.Verify(cf, sim.Options{Alpha: *alpha, Delta: *delta})
	if err != nil {
		return BadInput(err)
	}
	// The counts test assumes independent draws; the order, when known,
	// says whether they were, and a scheduler's own test replaces it when
	// they were not.
	var sc *sequence.Scheduler
	if seq != nil {
		s, err := sequence.Schedule(seq, cf.Categories, sequence.ScheduleOptions{Alpha: v.Alpha})
		if err != nil {
			return BadInput(err)
		}
		s.Verdict.Apply(&v)
		sc = &s
	}
	if *plotPath != "" {
		if err := v.Plot(*plotPath); err != nil {
			return BadInput(err)
		}
	}
	switch {
	case *asJSON && sc != nil:
		err = writeScheduledJSON(env.Stdout, v, sc)
	case *asJSON:
		err = v.WriteJSON(env.Stdout)
	default:
		if seq != nil {
			describeSequence(env, firstNonEmpty(*seqPath, *file), seq)
		}
		if err = v.WriteTable(env.Stdout); err == nil && sc != nil {
			err = writeScheduler(env.Stdout, sc, cf.Categories)
		}
	}
	if err != nil {
		return err
	}
	switch v.Outcome {
	case sim.OutcomePass:
		return nil
	case sim.OutcomeInconclusive:
		return Inconclusive(fmt.Errorf("verdict: inconclusive: %s", v.Inconclusive))
	}
	return Failed(fmt.Errorf("verdict: fail: %s", strings.Join(v.Failures, "; ")))
}

// readCountsFile reads the replayer's counts file, with or without its
// sequence (- is stdin).
func readCountsFile(env *Env, path string) (sequence.File, error) {
	if path == "-" {
		return sequence.DecodeFile(env.Stdin, "stdin")
	}
	f, err := os.Open(path)
	if err != nil {
		return sequence.File{}, err
	}
	defer f.Close()
	return sequence.DecodeFile(f, path)
}

// countsFromSequence reads --sequence: a plain list takes its weights from
// --weights, the replayer's JSON carries its own.
func countsFromSequence(env *Env, path string, weights pairList) (sim.CountsFile, *sequence.Recording, error) {
	name, r := path, io.Reader(nil)
	if path == "-" {
		name, r = "stdin", env.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return sim.CountsFile{}, nil, err
		}
		defer f.Close()
		r = f
	}
	file, err := sequence.Read(r, name)
	if err != nil {
		return sim.CountsFile{}, nil, err
	}
	switch {
	case file.Sequence == nil:
		return sim.CountsFile{}, nil, fmt.Errorf("--sequence %s: a counts file without a \"sequence\": verify it with --file", name)
	case file.Categories != nil && len(weights) > 0:
		return sim.CountsFile{}, nil, fmt.Errorf("--sequence %s carries its categories and weights: --weights is for a plain list", name)
	case file.Categories == nil && len(weights) == 0:
		return sim.CountsFile{}, nil, fmt.Errorf("--sequence %s is a plain list of categories: give the expected split with --weights", name)
	case file.Categories == nil:
		for _, p := range weights {
			file.Categories = append(file.Categories, sim.Category{Name: p.name, Weight: p.value})
		}
		if err := file.Validate(); err != nil {
			return sim.CountsFile{}, nil, fmt.Errorf("--sequence %s with --weights: %w", name, err)
		}
	}
	return file.CountsFile, file.Sequence, nil
}

// describeSequence says what the sequence held before the verdict table.
func describeSequence(env *Env, path string, seq *sequence.Recording) {
	conns := "connections not recorded"
	switch seq.Connections {
	case sequence.ConnsTraced:
		conns = fmt.Sprintf("%d connection(s), traced", seq.Conns())
	case sequence.ConnsPerCommand:
		conns = fmt.Sprintf("%d curl command(s), each its own connection", seq.Conns())
	}
	fmt.Fprintf(env.Stdout, "sequence %s: %d responses in arrival order, %s\n", path, seq.Len(), conns)
}

// scheduledVerdict is verify's JSON when the order is known: the verdict
// as sim writes it, the classification in place of the verdict's own
// "scheduler" string (which names only its class), and the model's verdict.
type scheduledVerdict struct {
	sim.Verdict
	Scheduler    sched.Result       `json:"scheduler"`
	ModelVerdict sched.ModelVerdict `json:"model_verdict"`
}

func writeScheduledJSON(w io.Writer, v sim.Verdict, sc *sequence.Scheduler) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(scheduledVerdict{Verdict: v, Scheduler: sc.Result, ModelVerdict: sc.Verdict})
}

// writeScheduler says under the verdict table what the order showed and
// which test decided.
func writeScheduler(w io.Writer, sc *sequence.Scheduler, cats []sim.Category) error {
	mv := sc.Verdict
	decided := "the counts test above decides"
	if mv.Scheduler != sched.Independent {
		decided = fmt.Sprintf("the %s test decides: %s", mv.Test, mv.Reason)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nscheduler: %s (%s)\n  %s\n  %s\n", sc.Result.Scheduler, sc.Result.Evidence(cats), sc.Result.Explanation, decided)
	if mv.Scheduler != sched.Independent {
		for _, f := range mv.Failures {
			fmt.Fprintf(&b, "    - %s\n", f)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// firstNonEmpty returns the first non-empty string.
func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func countsFromFlags(weights, counts pairList) (sim.CountsFile, error) {
	if len(weights) == 0 || len(counts) == 0 {
		return sim.CountsFile{}, errors.New("--weights and --counts are both required (or use --file or --sequence)")
	}
	cf := sim.CountsFile{Counts: map[string]int64{}}
	for _, p := range weights {
		cf.Categories = append(cf.Categories, sim.Category{Name: p.name, Weight: p.value})
	}
	for _, p := range counts {
		if _, dup := cf.Counts[p.name]; dup {
			return sim.CountsFile{}, fmt.Errorf("--counts: %q appears twice", p.name)
		}
		cf.Counts[p.name] = p.value
	}
	return cf, cf.Validate()
}
