package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Report is the whole run, as written to JSON.
type Report struct {
	Connections int      `json:"connections"`
	Rounds      int      `json:"rounds"`
	Warmup      string   `json:"warmup"`
	Duration    string   `json:"duration"`
	GatewayCPU  int      `json:"gateway_cpu"`
	Weights     []int    `json:"weights"`
	Results     []Result `json:"results"`
	// Replayer is splitproof's replayer beside the load generator on
	// nginx (replayer.go); nil when not measured.
	Replayer *ReplayerResult `json:"replayer,omitempty"`
}

// Result is one target's row.
type Result struct {
	Target    string `json:"target"`
	Gateway   string `json:"gateway,omitempty"`
	Algorithm string `json:"algorithm"`
	// Measurement is the median round: req/s, p50 and p99 each the
	// median of the rounds'; answers, errors, split and seconds their sums.
	Measurement
	Rounds []Measurement `json:"rounds"`
	// ReqPerSVsNginx and P99VsNginx are ratios to nginx's figures of the
	// same run (see relate); absent when nginx was not measured.
	ReqPerSVsNginx    *float64 `json:"req_per_s_vs_nginx,omitempty"`
	ReqPerCPUSVsNginx *float64 `json:"req_per_cpu_s_vs_nginx,omitempty"`
	P99VsNginx        *float64 `json:"p99_vs_nginx,omitempty"`
}

// relate sets every row's ratios to nginx's row, if there is one with
// answers. With as many rounds as nginx, a ratio is the median of the
// per-round ratios: each round measured both within seconds of each other,
// so a slow change in the machine's other load cancels out, which the
// ratio of the two medians would not do.
func (r *Report) relate() {
	i := slices.IndexFunc(r.Results, func(x Result) bool { return x.Target == "nginx" })
	if i < 0 {
		return
	}
	n := r.Results[i]
	for j := range r.Results {
		x := &r.Results[j]
		x.ReqPerSVsNginx = relateOne(x, n, func(m Measurement) float64 { return m.ReqPerS })
		x.ReqPerCPUSVsNginx = relateOne(x, n, func(m Measurement) float64 { return m.ReqPerCPUSecond })
		x.P99VsNginx = relateOne(x, n, func(m Measurement) float64 { return m.P99Ms })
	}
}

// relateOne is x's figure f over nginx's n, nil when either has none.
func relateOne(x *Result, n Result, f func(Measurement) float64) *float64 {
	if f(x.Measurement) == 0 || f(n.Measurement) == 0 {
		return nil
	}
	v := f(x.Measurement) / f(n.Measurement)
	if len(x.Rounds) == len(n.Rounds) && len(n.Rounds) > 0 {
		var rs []float64
		for k, nr := range n.Rounds {
			if f(nr) > 0 && f(x.Rounds[k]) > 0 {
				rs = append(rs, f(x.Rounds[k])/f(nr))
			}
		}
		if len(rs) > 0 {
			v = median(rs)
		}
	}
	return &v
}

// WriteJSON writes r indented.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes one aligned row per target and the settings.
func WriteTable(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\talgorithm\treq/s\t×nginx\treq/CPU-s\t×nginx\tgateway CPU\tload CPU\tp50 ms\tp99 ms\tp99 ×nginx\tanswers\terrors\tsplit\t")
	for _, x := range r.Results {
		perCPU, busy, loadBusy := "-", "-", "-"
		if x.ReqPerCPUSecond > 0 {
			perCPU = fmt.Sprintf("%.0f", x.ReqPerCPUSecond)
		}
		if x.GatewayCPUSeconds > 0 && x.Seconds > 0 {
			busy = fmt.Sprintf("%.0f%%", 100*x.GatewayCPUSeconds/x.Seconds)
		}
		if x.LoadCPUSeconds > 0 && x.Seconds > 0 {
			loadBusy = fmt.Sprintf("%.0f%%", 100*x.LoadCPUSeconds/x.Seconds)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%.3f\t%.3f\t%s\t%d\t%d\t%s\t\n",
			x.Target, x.Algorithm, x.ReqPerS, ratio(x.ReqPerSVsNginx), perCPU, ratio(x.ReqPerCPUSVsNginx), busy, loadBusy,
			x.P50Ms, x.P99Ms, ratio(x.P99VsNginx), x.Requests, x.Errors, split(x.Split, x.Requests))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "%d keep-alive connections; median of %d rounds of %s warm-up and %s measured per target (×nginx: median of the per-round ratios); answers, errors and split summed over the rounds; gateways on CPU %d; weights %s\n",
		r.Connections, r.Rounds, r.Warmup, r.Duration, r.GatewayCPU, joinInts(r.Weights, "/")); err != nil {
		return err
	}
	if r.Replayer != nil {
		return writeReplayer(w, r.Replayer)
	}
	return nil
}

func ratio(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *v)
}

// split shows each backend's share of the answers, in name order.
func split(counts map[string]int, total int) string {
	if total == 0 {
		return "-"
	}
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %.1f%%", k, 100*float64(counts[k])/float64(total))
	}
	return strings.Join(parts, " ")
}

func joinInts(v []int, sep string) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, sep)
}

// Median combines rounds: req/s, req per CPU-second, p50 and p99 are each
// the median of the rounds' (the mean of the middle two for an even
// count), the counts and the CPU time are summed, and the first error is
// the first round's that has one.
func Median(rounds []Measurement) Measurement {
	m := Measurement{Split: map[string]int{}}
	var rps, p50, p99, perCPU []float64
	for _, r := range rounds {
		m.Requests += r.Requests
		m.Errors += r.Errors
		m.Seconds += r.Seconds
		m.GatewayCPUSeconds += r.GatewayCPUSeconds
		m.LoadCPUSeconds += r.LoadCPUSeconds
		for k, v := range r.Split {
			m.Split[k] += v
		}
		if m.FirstError == "" {
			m.FirstError = r.FirstError
		}
		rps, p50, p99 = append(rps, r.ReqPerS), append(p50, r.P50Ms), append(p99, r.P99Ms)
		if r.ReqPerCPUSecond > 0 {
			perCPU = append(perCPU, r.ReqPerCPUSecond)
		}
	}
	m.ReqPerS, m.P50Ms, m.P99Ms, m.ReqPerCPUSecond = median(rps), median(p50), median(p99), median(perCPU)
	return m
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}
