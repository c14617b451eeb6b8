package weights

import (
	"context"
	"time"
)

// DynamicOptions tune RunDynamic.
type DynamicOptions struct {
	// Seed of refproxy's and the double's random picks.
	Seed uint64
	// Change tunes the weight-change measurement (its Seed is Seed).
	Change ChangeOptions
	// Conn tunes the connection cases (its Seed is Seed).
	Conn ConnOptions
}

// RunDynamic runs the cases that need more than one replay of a fixed
// table and fit no Target (they start their own gateways), about five
// seconds in all (seven under the race detector), which is why they are
// not in Default:
// the time to a correct split after each weight change in file mode
// (MeasureChanges, one row per distinct change) and the 10/10/80 split
// over each connection policy, on refproxy and on a gateway that picks
// per connection (RunConnCases).
func RunDynamic(ctx context.Context, opts DynamicOptions) []Result {
	opts.Change.Seed, opts.Conn.Seed = opts.Seed, opts.Seed
	start := time.Now()
	mode := changeMode(opts.Change.Poll)
	cs, err := MeasureChanges(ctx, opts.Change)
	var out []Result
	if err != nil {
		out = append(out, Result{Case: "weight-change", Scenario: "file mode, v1/v2", Mode: mode, Expect: ExpectPass, Observed: "error", Err: err.Error(), Wall: time.Since(start)})
	} else {
		out = append(out, ChangeResults(cs, mode)...)
	}
	if ctx.Err() != nil {
		return out
	}
	return append(out, RunConnCases(ctx, opts.Conn)...)
}
