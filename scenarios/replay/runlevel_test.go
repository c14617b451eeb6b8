package replay

import "testing"

// TestRunSummaryLine: the run line names how every verdict made shares the
// run's alpha, and says so when fewer verdicts were made than planned.
func TestRunSummaryLine(t *testing.T) {
	tests := []struct {
		name string
		sum  RunSummary
		want string
	}{
		{"one fixed-n verdict", RunSummary{Alpha: 0.001, Planned: 1, Made: 1, VerdictAlpha: 0.001, Holm: 1, HolmAlpha: 0.001},
			"run: 1 verdict, false-failure rate of the run ≤ 0.001 (each verdict at 0.001; Holm over the fixed-n one)"},
		{"sequential only", RunSummary{Alpha: 0.001, Planned: 4, Made: 4, VerdictAlpha: 0.00025, Sequential: 4},
			"run: 4 verdicts, false-failure rate of the run ≤ 0.001 (each verdict at 0.00025; Bonferroni for the 4 sequential ones, whose final p-value is not valid under optional stopping)"},
		{"mixed, nominal", RunSummary{Alpha: 0.01, Planned: 5, Made: 5, VerdictAlpha: 0.002, Holm: 2, HolmAlpha: 0.004, Sequential: 1, OwnModel: 2, Nominal: true},
			"run: 5 verdicts, false-failure rate of the run ≤ 0.01 (each verdict at 0.002; Holm over the 2 fixed-n ones of independent draws, 0.004 together; " +
				"Bonferroni for the sequential one, whose final p-value is not valid under optional stopping; " +
				"Bonferroni for the 2 whose arrival order is not independent draws, left out of Holm; " +
				"nominal: a Pearson chi-square decided a fixed-n verdict, its exact rate checked to lie within 10% of its level)"},
		{"interrupted", RunSummary{Alpha: 0.001, Planned: 4, Made: 2, VerdictAlpha: 0.00025, Sequential: 1, Cut: 1},
			"run: 2 of 4 planned verdicts, false-failure rate of the run ≤ 0.001 (each verdict at 0.00025; Bonferroni for the sequential one, whose final p-value is not valid under optional stopping; one interrupted, deciding nothing)"},
		{"nothing made", RunSummary{Alpha: 0.001, Planned: 2, VerdictAlpha: 0.0005},
			"run: 0 of 2 planned verdicts, false-failure rate of the run ≤ 0.001 (each verdict at 0.0005)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sum.line(); got != tt.want {
				t.Fatalf("line\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
