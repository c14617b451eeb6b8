package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestReplayPrices: --prices turns the embedded Example 2's tokens into
// cost, names a price no answer used, and refuses a malformed item by
// flag and item.
func TestReplayPrices(t *testing.T) {
	args := []string{"replay", "--fixed", "--requests", "200", "--snippet", "port-forward",
		"--prices", "gpt-4o-mini=0.15/0.60", "--prices", "gpt-4o=2.50/10,o3=2/8", "example2-llm"}
	// 200 requests decide no fixed-n verdict (exit 3): enough for the tokens.
	code, out, errOut := runCLI(t, args...)
	if code != ExitInconclusive {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"COST USD", "COST SHARE", "cost at --prices: ", "USD for the 200 requests with usage"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "--prices: no answer with usage in this run came from o3") || strings.Contains(errOut, "came from gpt-4o ") {
		t.Fatalf("stderr should name o3, and only o3, as unused:\n%s", errOut)
	}

	code, out, errOut = runCLI(t, append([]string{"replay", "--json"}, args[1:]...)...)
	if code != ExitInconclusive {
		t.Fatalf("--json: exit %d\n%s\n%s", code, out, errOut)
	}
	var doc struct {
		Reports []struct {
			Requests int `json:"requests"`
			Usage    struct {
				Known   int      `json:"requests_with_usage"`
				CostUSD *float64 `json:"cost_usd"`
				Arms    []struct {
					Category  string   `json:"category"`
					Requests  int      `json:"requests"`
					Prompt    int64    `json:"prompt_tokens"`
					CostUSD   *float64 `json:"cost_usd"`
					Price     *struct{ Model string }
					CostShare *struct{ Estimate, Low, High float64 } `json:"cost_share"`
				} `json:"arms"`
			} `json:"usage"`
		} `json:"reports"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(doc.Reports) != 1 {
		t.Fatalf("%d reports, want 1", len(doc.Reports))
	}
	u := doc.Reports[0].Usage
	if u.Known != 200 || u.CostUSD == nil || len(u.Arms) != 2 {
		t.Fatalf("usage %+v: want 200 requests with usage, a cost and two arms", u)
	}
	sum, shares := 0.0, 0.0
	for _, a := range u.Arms {
		want := map[string]string{"gpt-4o-mini-2024-07-18": "gpt-4o-mini", "gpt-4o-2024-08-06": "gpt-4o"}[a.Category]
		if a.Price == nil || a.Price.Model != want || a.CostUSD == nil || a.CostShare == nil || a.Prompt <= 0 {
			t.Fatalf("arm %+v: want the price of %s and a cost", a, want)
		}
		if !(a.CostShare.Low <= a.CostShare.Estimate && a.CostShare.Estimate <= a.CostShare.High) {
			t.Fatalf("arm %s: cost share %+v outside its interval", a.Category, a.CostShare)
		}
		sum += *a.CostUSD
		shares += a.CostShare.Estimate
	}
	if d := sum - *u.CostUSD; d > 1e-12 || d < -1e-12 || shares < 1-1e-9 || shares > 1+1e-9 {
		t.Fatalf("arm costs add up to %v of %v, shares to %v", sum, *u.CostUSD, shares)
	}

	for _, tt := range []struct{ arg, want string }{
		{"gpt-4o=abc/1", `--prices "gpt-4o=abc/1": input price "abc": expected a number of USD ≥ 0`},
		{"gpt-4o", `--prices "gpt-4o": expected MODEL=IN/OUT`},
		{"gpt-4o=1/2,gpt-4o=1/3", `--prices "gpt-4o=1/3": model gpt-4o is priced twice`},
	} {
		code, out, errOut := runCLI(t, "replay", "--prices", tt.arg, "example2-llm")
		if code != ExitBadInput || !strings.Contains(errOut, tt.want) {
			t.Errorf("--prices %s: exit %d, want %d with %q:\n%s%s", tt.arg, code, ExitBadInput, tt.want, out, errOut)
		}
	}
}

// TestGatewayLeavesOutStreamTruthfully: --gateway with no scenario runs the
// doc's two examples, and says of the streaming variant that it uses
// Example 2's route, not that it needs routes of its own.
func TestGatewayLeavesOutStreamTruthfully(t *testing.T) {
	_, out, errOut := runCLI(t, "replay", "--gateway", gateway(t, []int32{10, 10, 80}), "--requests", "50")
	want := "left out example2-llm-stream: it is no example of the doc but other requests to example2-llm's route, which this run needs anyway; name it to run it too"
	if !strings.Contains(errOut, want) {
		t.Fatalf("stderr lacks %q:\n%s\n%s", want, out, errOut)
	}
	for _, other := range []string{"left out canary-ramp: it changes its route between steps", "left out skewed-1-99: it needs routes of its own"} {
		if !strings.Contains(errOut, other) {
			t.Fatalf("stderr lacks %q:\n%s", other, errOut)
		}
	}
}
