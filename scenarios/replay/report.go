package replay

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/splitproof/splitproof/sim"
)

// WriteText writes a human report: what ran, the verdict table from sim,
// and PASS, FAIL or INCONCLUSIVE with the reasons.
func (r *Report) WriteText(w io.Writer) error {
	title := r.Scenario
	if r.Title != "" {
		title += " — " + r.Title
	}
	if r.Step != "" {
		title += fmt.Sprintf(" [step %s; %d requests flowed meanwhile]", r.Step, r.Background)
	}
	mode := ""
	if r.Sequential != nil {
		mode = fmt.Sprintf(", sequential: %s", r.Sequential.Decision)
	}
	if r.Interrupted {
		mode += ", interrupted"
	}
	if _, err := fmt.Fprintf(w, "%s\n  snippet %s against %s: %d requests in %s%s\n", title, r.Snippet, r.Target, r.Requests, r.Duration.Round(time.Millisecond), mode); err != nil {
		return err
	}
	if err := r.Verdict.WriteTable(indent(w)); err != nil {
		return err
	}
	for _, f := range r.Faults {
		if _, err := fmt.Fprintf(w, "  %s\n", f); err != nil {
			return err
		}
	}
	// A verdict in Holm's family has sim's run-level line in its table;
	// the others state the share they kept.
	if r.Run != nil && r.Verdict.Run == nil && r.Run.Correction == CorrectionBonferroni {
		if _, err := fmt.Fprintf(w, "  %s\n", r.Run.line()); err != nil {
			return err
		}
	}
	if err := r.writeScheduler(w); err != nil {
		return err
	}
	// Only replays whose answers reported tokens (an LLM provider's) get
	// the table; a helloworld answer has no usage to show.
	if r.Usage != nil {
		if err := r.Usage.writeText(w); err != nil {
			return err
		}
	}
	for _, f := range r.Failures {
		if _, err := fmt.Fprintf(w, "  example of a request without a category: %s\n", f); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

// indent prefixes every line written through it with two spaces.
func indent(w io.Writer) io.Writer { return &indenter{w: w, bol: true} }

type indenter struct {
	w   io.Writer
	bol bool
}

func (in *indenter) Write(p []byte) (int, error) {
	var b strings.Builder
	for _, c := range string(p) {
		if in.bol && c != '\n' {
			b.WriteString("  ")
		}
		b.WriteRune(c)
		in.bol = c == '\n'
	}
	if _, err := io.WriteString(in.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteJSON writes a run as one JSON object: "run", the run-level
// false-failure rate its verdicts share (null for reports not made by
// RunAll), "outcome", and "reports", each replay's report.
func WriteJSON(w io.Writer, res *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Run     *RunSummary `json:"run"`
		Outcome sim.Outcome `json:"outcome"`
		Reports []*Report   `json:"reports"`
	}{res.Run, res.Outcome, res.Reports})
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     float64      `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string             `xml:"name,attr"`
	Tests      int                `xml:"tests,attr"`
	Failures   int                `xml:"failures,attr"`
	Errors     int                `xml:"errors,attr"`
	Time       float64            `xml:"time,attr"`
	Properties []junitRunProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase        `xml:"testcase"`
}

type junitRunProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// runProperties are the run-level figures as JUnit properties; every suite
// carries them, since JUnit has no place for a whole run's.
func runProperties(sum *RunSummary) []junitRunProperty {
	if sum == nil {
		return nil
	}
	return []junitRunProperty{
		{"splitproof.run.alpha", fmt.Sprint(sum.Alpha)},
		{"splitproof.run.verdicts", fmt.Sprint(sum.Made)},
		{"splitproof.run.planned_verdicts", fmt.Sprint(sum.Planned)},
		{"splitproof.run.verdict_alpha", fmt.Sprint(sum.VerdictAlpha)},
		{"splitproof.run.holm", fmt.Sprint(sum.Holm)},
		{"splitproof.run.line", sum.Line},
	}
}

type junitCase struct {
	Name      string  `xml:"name,attr"`
	Classname string  `xml:"classname,attr"`
	Time      float64 `xml:"time,attr"`
	// Properties name the scheduler the arrival order showed.
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Failure    *junitFailure   `xml:"failure,omitempty"`
	Error      *junitFailure   `xml:"error,omitempty"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes a run's reports as JUnit XML: one suite per scenario,
// one case per snippet, the verdict table as the case's output, the run's
// false-failure rate as each suite's properties. A FAIL is a
// <failure type="SplitMismatch">; an INCONCLUSIVE verdict is an
// <error type="Inconclusive">: the case could not decide, which is neither a
// pass nor evidence of a wrong split (splitproof exits 3 for it).
func WriteJUnit(w io.Writer, res *Result) error {
	out := junitSuites{}
	bySuite := map[string]int{}
	for _, r := range res.Reports {
		i, ok := bySuite[r.Scenario]
		if !ok {
			i = len(out.Suites)
			bySuite[r.Scenario] = i
			out.Suites = append(out.Suites, junitSuite{Name: "splitproof/" + r.Scenario, Properties: runProperties(res.Run)})
		}
		var table strings.Builder
		_ = r.WriteText(&table)
		name := r.Snippet
		if r.Step != "" {
			name += " step " + r.Step
		}
		c := junitCase{Name: name + " @ " + r.Target, Classname: r.Scenario, Time: r.Duration.Seconds(), SystemOut: table.String(), Properties: r.junitProperties()}
		switch r.Outcome() {
		case sim.OutcomePass:
		case sim.OutcomeInconclusive:
			c.Error = &junitFailure{Message: r.Verdict.Inconclusive, Type: "Inconclusive", Text: table.String()}
			out.Suites[i].Errors++
			out.Errors++
		default:
			c.Failure = &junitFailure{Message: strings.Join(r.Verdict.Failures, "; "), Type: "SplitMismatch", Text: table.String()}
			out.Suites[i].Failures++
			out.Failures++
		}
		out.Suites[i].Cases = append(out.Suites[i].Cases, c)
		out.Suites[i].Tests++
		out.Suites[i].Time += c.Time
		out.Tests++
		out.Time += c.Time
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
