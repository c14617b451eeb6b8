package weights

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes one row per result — case, mode, expected, observed,
// whether that is as expected, requests, wall time, counts — with its
// notes and failures indented below, and a closing count.
func WriteTable(w io.Writer, rs []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tMODE\tEXPECTED\tOBSERVED\tAS EXPECTED\tREQUESTS\tWALL\tCOUNTS")
	for _, r := range rs {
		ok := "yes"
		if !r.AsExpected {
			ok = "NO"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.Case, r.Mode, r.Expect, r.Observed, ok, r.Requests, r.Wall.Round(time.Millisecond), countList(r.Counts))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	bad := 0
	for _, r := range rs {
		if !r.AsExpected {
			bad++
		}
		lines := append([]string(nil), r.Notes...)
		if r.Scheduler != "" {
			lines = append([]string{fmt.Sprintf("order %s, decided by the %s test", r.Scheduler, r.Test)}, lines...)
		}
		lines = append(lines, r.Failures...)
		if r.Err != "" {
			lines = append(lines, "error: "+r.Err)
		}
		if len(lines) == 0 {
			continue
		}
		if _, err := fmt.Fprintf(w, "%s (%s):\n  %s\n", r.Case, r.Mode, strings.Join(lines, "\n  ")); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%d results: %d as expected, %d not\n", len(rs), len(rs)-bad, bad)
	return err
}

// WriteJSON writes the results as one JSON object: "results" and the
// counts of those as expected and not.
func WriteJSON(w io.Writer, rs []Result) error {
	bad := len(Failed(rs))
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Results    []Result `json:"results"`
		AsExpected int      `json:"as_expected"`
		Unexpected int      `json:"unexpected"`
	}{rs, len(rs) - bad, bad})
}

func countList(m map[string]int64) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}
