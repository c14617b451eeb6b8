package replay

import (
	"fmt"
	"strings"

	"github.com/splitproof/splitproof/sim"
)

// Corrections a verdict's share of the run's alpha is combined under.
const (
	// CorrectionHolm: a fixed-n verdict of independent draws, whose p-value
	// is valid at its n, so Holm's step-down may combine it with the
	// others of its kind.
	CorrectionHolm = "holm"
	// CorrectionBonferroni: a verdict whose p-value Holm may not combine —
	// a sequential one (its final p-value is not valid under optional
	// stopping; its e-value guarantees its own share) or one decided by a
	// scheduler model other than independent draws — keeps the share it
	// was planned at.
	CorrectionBonferroni = "bonferroni"
)

// RunShare is a verdict's part of its run's false-failure rate.
type RunShare struct {
	// Alpha is the run's false-failure rate, Verdicts how many verdicts
	// the run planned to share it.
	Alpha    float64 `json:"alpha"`
	Verdicts int     `json:"verdicts"`
	// Share is the level the verdict was planned and decided at:
	// sim.PlanAlpha(Alpha, Verdicts).
	Share float64 `json:"share"`
	// Correction is CorrectionHolm or CorrectionBonferroni, set when the
	// run ends.
	Correction string `json:"correction,omitempty"`
	// Why says why a Bonferroni verdict is not in Holm's family.
	Why string `json:"why,omitempty"`
}

// line is the report line of a verdict that kept its planned share; a
// verdict in Holm's family gets sim.RunLevel's line instead.
func (s *RunShare) line() string {
	return fmt.Sprintf("run-level false-failure rate %g over %s; this verdict's share %.4g (Bonferroni: %s)", s.Alpha, sim.CountNoun(s.Verdicts, "verdict"), s.Share, s.Why)
}

// RunSummary is the run-level statement: one false-failure rate for every
// verdict of the run.
type RunSummary struct {
	// Alpha bounds the probability that a correct gateway fails any of
	// the run's verdicts (nominally, when Nominal is set).
	Alpha float64 `json:"alpha"`
	// Planned is the number of verdicts the run was to make (scenarios ×
	// snippets × steps), Made the number it made.
	Planned int `json:"planned_verdicts"`
	Made    int `json:"verdicts"`
	// VerdictAlpha is each verdict's planned level, Alpha/Planned.
	VerdictAlpha float64 `json:"verdict_alpha"`
	// Holm counts the fixed-n verdicts of independent draws, combined by
	// Holm's step-down at HolmAlpha (their part of Alpha, VerdictAlpha
	// each); Sequential and OwnModel count the verdicts that kept
	// VerdictAlpha (Bonferroni); Cut counts interrupted verdicts, which
	// decide nothing and so spend none of Alpha.
	Holm       int     `json:"holm"`
	HolmAlpha  float64 `json:"holm_alpha"`
	Sequential int     `json:"sequential"`
	OwnModel   int     `json:"scheduler_model"`
	Cut        int     `json:"interrupted,omitempty"`
	// Nominal: a Pearson chi-square decided a verdict of Holm's family,
	// whose exact rate is checked only to lie within sim.SizeTolerance of
	// its level, so the bound is nominal.
	Nominal bool `json:"nominal,omitempty"`
	// Line is the run-level line of the text report.
	Line string `json:"line"`
}

// countVerdicts is how many verdicts cfg will make: every chosen snippet of
// every scenario, once per step of a stepped scenario. A snippet a scenario
// lacks counts once; the run stops at it anyway.
func countVerdicts(cfg Config) int {
	m := 0
	for _, s := range cfg.Scenarios {
		snippets := len(s.Snippets)
		if cfg.Snippet != "" {
			snippets = 1
		}
		m += snippets * max(1, len(s.Steps))
	}
	return m
}

// schedulerIndependent is sim/sched's class of independent draws: only its
// verdicts (and unclassified ones, which the tests treat as independent)
// carry a p-value Holm may combine.
const schedulerIndependent = "independent"

// applyRunLevel makes the run's verdicts share res.Run's alpha: Holm's
// step-down over the fixed-n verdicts of independent draws, at their part
// of the run's alpha, and the planned share (Bonferroni) for the others.
// Each verdict was planned and decided at Alpha/Planned, Holm's first
// threshold, so Holm only adds rejections. The family bound: Holm's part
// fails a correct gateway with probability at most HolmAlpha =
// Alpha·Holm/Planned, each of the others at most Alpha/Planned, and
// Planned bounds their total count.
func applyRunLevel(res *Result) error {
	sum := res.Run
	if sum == nil {
		return nil
	}
	sum.Made = len(res.Reports)
	var family []*sim.Verdict
	for _, r := range res.Reports {
		if r.Run == nil {
			r.Run = &RunShare{Alpha: sum.Alpha, Verdicts: sum.Planned, Share: sum.VerdictAlpha}
		}
		switch {
		case r.Interrupted:
			sum.Cut++
			r.Run.Correction = CorrectionBonferroni
			r.Run.Why = "interrupted, a partial run decides nothing"
		case r.Verdict.Scheduler != "" && r.Verdict.Scheduler != schedulerIndependent:
			// Before the sequential case: a sequential replay whose order
			// is not independent draws is decided by its scheduler's model.
			sum.OwnModel++
			r.Run.Correction = CorrectionBonferroni
			r.Run.Why = fmt.Sprintf("arrival order classified %s, not independent draws, so no p-value Holm may combine", r.Verdict.Scheduler)
		case r.Sequential != nil:
			sum.Sequential++
			r.Run.Correction = CorrectionBonferroni
			r.Run.Why = "sequential, its final p-value is not valid under optional stopping, its e-value holds the share"
		default:
			r.Run.Correction = CorrectionHolm
			family = append(family, &r.Verdict)
			if r.Verdict.Test.Method == sim.MethodPearson {
				sum.Nominal = true
			}
		}
	}
	sum.Holm = len(family)
	if len(family) > 0 {
		sum.HolmAlpha = sum.VerdictAlpha * float64(len(family))
		if err := sim.ApplyHolm(family, sum.HolmAlpha); err != nil {
			return fmt.Errorf("run-level alpha %g over %d verdicts: %w", sum.Alpha, sum.Planned, err)
		}
		for _, v := range family {
			// sim's line then names the run's rate; Verdicts and the
			// threshold stay Holm's own (its family of len(family)).
			v.Run.Alpha = sum.Alpha
		}
	}
	sum.Line = sum.line()
	return nil
}

// line is "run: 4 verdicts, false-failure rate of the run ≤ 0.001 (each
// verdict at 0.00025; Holm over the 4 fixed-n ones)".
func (s *RunSummary) line() string {
	var how []string
	switch {
	case s.Holm == 0:
	case s.Holm == s.Made:
		how = append(how, "Holm over "+some(s.Holm, "the fixed-n one", "the %d fixed-n ones"))
	default:
		how = append(how, fmt.Sprintf("Holm over %s, %g together", some(s.Holm, "the fixed-n one of independent draws", "the %d fixed-n ones of independent draws"), s.HolmAlpha))
	}
	if s.Sequential > 0 {
		how = append(how, "Bonferroni for "+some(s.Sequential, "the sequential one", "the %d sequential ones")+", whose final p-value is not valid under optional stopping")
	}
	if s.OwnModel > 0 {
		how = append(how, "Bonferroni for "+some(s.OwnModel, "the one", "the %d")+" whose arrival order is not independent draws, left out of Holm")
	}
	if s.Cut > 0 {
		how = append(how, some(s.Cut, "one", "%d")+" interrupted, deciding nothing")
	}
	if s.Nominal {
		how = append(how, fmt.Sprintf("nominal: a Pearson chi-square decided a fixed-n verdict, its exact rate checked to lie within %g%% of its level", 100*sim.SizeTolerance))
	}
	made := some(s.Made, "1 verdict", "%d verdicts")
	if s.Made != s.Planned {
		made = fmt.Sprintf("%d of %d planned verdicts", s.Made, s.Planned)
	}
	how = append([]string{fmt.Sprintf("each verdict at %.4g", s.VerdictAlpha)}, how...)
	return fmt.Sprintf("run: %s, false-failure rate of the run ≤ %g (%s)", made, s.Alpha, strings.Join(how, "; "))
}

// some is one when n is 1, else many with n in it.
func some(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return fmt.Sprintf(many, n)
}

// newRunSummary plans cfg's run at run-level alpha.
func newRunSummary(cfg Config, alpha float64) *RunSummary {
	m := countVerdicts(cfg)
	return &RunSummary{Alpha: alpha, Planned: m, VerdictAlpha: sim.PlanAlpha(alpha, m)}
}
