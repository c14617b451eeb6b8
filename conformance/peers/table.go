package peers

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Result is one replay of one snippet through one peer.
type Result struct {
	Gateway   string
	Algorithm string
	Weights   string // as configured, "10/10/80"
	Run       int    // 1, 2, … for peers repeated because they draw at random
	Snippet   string
	Verdict   string // PASS, FAIL or INCONCLUSIVE
	Requests  int
	P         float64       // the verdict's p-value
	Alpha     float64       // the verdict's false-failure rate
	Wall      time.Duration // the replay's own duration
	Note      string        // e.g. the backends reported off
}

// WriteTable writes results as an aligned table, one row per replay.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "gateway\talgorithm\tweights\trun\tsnippet\tverdict\trequests\tp\tα\twall\tnote")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%d\t%.3g\t%g\t%s\t%s\n",
			r.Gateway, r.Algorithm, r.Weights, r.Run, r.Snippet, r.Verdict, r.Requests, r.P, r.Alpha, r.Wall.Round(time.Millisecond), r.Note)
	}
	return tw.Flush()
}
