package sched

import (
	"fmt"

	"github.com/splitproof/splitproof/sim"
)

// Evidence is the classification's deciding figures in one line, for a
// report that has room for the class and a parenthesis but not for the
// Explanation; cats are the categories r was classified against.
func (r Result) Evidence(cats []sim.Category) string {
	switch r.Scheduler {
	case PerConnection:
		return fmt.Sprintf("%d of %d connections carried several requests, none reached two backends; p = %.3g for independent draws",
			r.MultiConnections, r.Connections, r.ConstantP)
	case Deterministic:
		return fmt.Sprintf("period %d, every window holds %s; p ≤ %.3g for independent draws", r.Period, countList(r.PeriodCounts, cats), r.PeriodP)
	case Bursty:
		s := fmt.Sprintf("longest runs %s, p = %.3g for independent draws; ", runList(r.LongestRun, cats), r.RunsP)
		switch {
		case r.PeriodConfirmed:
			return s + fmt.Sprintf("period %d, %d whole", r.Period, r.N/r.Period)
		case r.Period > 0:
			return s + fmt.Sprintf("no period repeated yet, about %d expected", r.Period)
		}
		return s + "no period estimated"
	case Undetermined:
		if r.BurstLength != nil {
			return fmt.Sprintf("%d runs, longest %s, p = %.3g for the expected shares: too few runs to tell blocks from a wrong split",
				r.Runs, runList(r.LongestRun, cats), r.RunsPExpected)
		}
		return fmt.Sprintf("windows of %d requests dispersed %s than independent draws (p = %.3g), no period, no long run",
			r.DispersionWindow, dispersionWord(r), r.DispersionP)
	}
	s := fmt.Sprintf("runs p = %.3g, period p = %.3g", r.RunsP, r.PeriodP)
	if r.DispersionWindow > 0 {
		s += fmt.Sprintf(", dispersion p = %.3g", r.DispersionP)
	}
	switch {
	case r.MultiConnections > 0:
		s += fmt.Sprintf(", %d of %d multi-request connections reached several backends", r.MixedConnections, r.MultiConnections)
	case r.Connections > 0:
		s += fmt.Sprintf(", %d connections of one request each", r.Connections)
	}
	return s
}
