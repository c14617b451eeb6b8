package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/splitproof/splitproof/scenarios/curl"
	"github.com/splitproof/splitproof/scenarios/llmusage"
	"github.com/splitproof/splitproof/scenarios/shell"
)

// lengths is a skewed answer-length distribution: values and their
// probabilities, so that its mean, and with it the true share, is exact.
type lengths struct {
	values []int64
	probs  []float64
}

func (l lengths) mean() float64 {
	m := 0.0
	for i, v := range l.values {
		m += float64(v) * l.probs[i]
	}
	return m
}

func (l lengths) draw(r *rand.Rand) int64 {
	u := r.Float64()
	for i, p := range l.probs {
		if u < p {
			return l.values[i]
		}
		u -= p
	}
	return l.values[len(l.values)-1]
}

// TestUsageShareCoverage: the token share intervals cover the true share
// about 95 % of the time. Each of 1,000 seeded replays draws n requests,
// 80/20 between two models whose answer lengths are skewed and differ by a
// factor of six in the mean (one answer in fifty of the big model is 1,500
// tokens long), with prompts of 8 to 15 tokens; the cost share weighs them
// by gpt-4o-mini's and gpt-4o's prices. From 400 requests on (a
// sequential replay of the demo passes no sooner than 422) coverage must be
// within 2 percentage points of 95 % (1,000 replays estimate it within
// ±1.4 pp at 95 %). At 150 requests, with about three of those long
// answers per replay, it falls to about 92 %: the test pins that limit,
// which the report's Method states, at no less than 90 %.
func TestUsageShareCoverage(t *testing.T) {
	small := lengths{[]int64{5, 20, 60, 300}, []float64{0.5, 0.3, 0.15, 0.05}}
	big := lengths{[]int64{10, 50, 200, 1500}, []float64{0.4, 0.3, 0.2, 0.1}}
	const pSmall, replays = 0.8, 1000
	promptMean := 11.5 // uniform on 8..15
	// True shares of the big model: E[x·1big]/E[x].
	trueCompletion := (1 - pSmall) * big.mean() / ((1-pSmall)*big.mean() + pSmall*small.mean())
	trueTokens := (1 - pSmall) * (big.mean() + promptMean) / ((1-pSmall)*(big.mean()+promptMean) + pSmall*(small.mean()+promptMean))
	// Cost weighs the tokens by price: the big model's share of the cost.
	prices := []Price{{"small", 0.15, 0.6}, {"big", 2.5, 10}}
	bigCost := (1 - pSmall) * (2.5*promptMean + 10*big.mean())
	trueCost := bigCost / (bigCost + pSmall*(0.15*promptMean+0.6*small.mean()))
	for _, tt := range []struct {
		n   int
		low float64
	}{{150, 0.90}, {400, 0.93}, {600, 0.93}, {1500, 0.93}} {
		n := tt.n
		r := rand.New(rand.NewPCG(20, uint64(n)))
		var coveredCompletion, coveredTokens, coveredPrompt, coveredCost int
		for range replays {
			tally := newUsageTally()
			for range n {
				cat, l := "small", small
				if r.Float64() >= pSmall {
					cat, l = "big", big
				}
				tally.count(cat, llmusage.Usage{Prompt: 8 + r.Int64N(8), Completion: l.draw(r)}, true)
			}
			u := tally.report()
			u.applyPrices(prices)
			var bigArm *Arm
			for _, a := range u.Arms {
				if a.Category == "big" {
					bigArm = a
				}
			}
			if bigArm == nil {
				t.Fatalf("n=%d: no request of the big model", n)
			}
			if in(bigArm.CompletionShare, trueCompletion) {
				coveredCompletion++
			}
			if in(bigArm.TokenShare, trueTokens) {
				coveredTokens++
			}
			// Prompts do not depend on the model: the prompt share is the
			// request share, 0.2.
			if in(bigArm.PromptShare, 1-pSmall) {
				coveredPrompt++
			}
			if in(bigArm.CostShare, trueCost) {
				coveredCost++
			}
		}
		for _, c := range []struct {
			name    string
			covered int
		}{{"completion", coveredCompletion}, {"token", coveredTokens}, {"prompt", coveredPrompt}, {"cost", coveredCost}} {
			cov := float64(c.covered) / replays
			t.Logf("n=%d: %s share interval covers in %.1f%% of %d replays", n, c.name, 100*cov, replays)
			if cov < tt.low || cov > 0.97 {
				t.Errorf("n=%d: %s share coverage %.3f, want %.2f to 0.97", n, c.name, cov, tt.low)
			}
		}
	}
}

func in(s *Share, x float64) bool { return s != nil && s.Low <= x && x <= s.High }

// chatBody is an OpenAI chat answer of model with the given usage.
func chatBody(model string, prompt, completion int) []byte {
	return fmt.Appendf(nil, `{"object":"chat.completion","model":%q,"usage":{"prompt_tokens":%d,"completion_tokens":%d}}`, model, prompt, completion)
}

func usageIteration(category string, exchanges ...curl.Exchange) shell.Iteration {
	return shell.Iteration{Category: category, Exchanges: exchanges}
}

// TestUsageTally: what counts as known usage, and what the table adds up.
func TestUsageTally(t *testing.T) {
	tally := newUsageTally()
	if tally.report() != nil {
		t.Fatal("an empty tally reports usage")
	}
	mini, big := "gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06"
	for _, it := range []shell.Iteration{
		usageIteration(mini, curl.Exchange{Status: 200, Body: chatBody(mini, 12, 10)}),
		usageIteration(mini, curl.Exchange{Status: 200, Body: chatBody(mini, 12, 30)}),
		// A followed redirect's body is not the answer.
		usageIteration(mini, curl.Exchange{Status: 302, Redirect: true, Body: []byte("moved")}, curl.Exchange{Status: 200, Body: chatBody(mini, 12, 20)}),
		usageIteration(big, curl.Exchange{Status: 200, Body: []byte("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":60}}\n\ndata: [DONE]\n\n")}),
		// A stream without the usage chunk: unknown, not zero.
		usageIteration(big, curl.Exchange{Status: 200, Body: []byte("data: {\"choices\":[{\"delta\":{\"content\":\"4\"}}]}\n\ndata: [DONE]\n\n")}),
		usageIteration("500", curl.Exchange{Status: 500, Body: []byte(`{"error":{"message":"boom"}}`)}),
		usageIteration(shell.CategoryError), // no response at all
	} {
		tally.add(it)
	}
	u := tally.report()
	if u == nil || u.Requests != 7 || u.Known != 4 || u.Unknown != 3 {
		t.Fatalf("usage %+v: want 7 requests, 4 with usage, 3 without", u)
	}
	byName := map[string]*Arm{}
	var order []string
	for _, a := range u.Arms {
		byName[a.Category] = a
		order = append(order, a.Category)
	}
	if fmt.Sprint(order) != fmt.Sprintf("[%s %s 500 error]", mini, big) {
		t.Fatalf("arms in order %v: want most requests first", order)
	}
	m, b := byName[mini], byName[big]
	if m.Known != 3 || m.PromptTokens != 36 || m.CompletionTokens != 60 || b.Requests != 2 || b.Known != 1 || b.CompletionTokens != 60 {
		t.Fatalf("mini %+v, big %+v", m, b)
	}
	if m.CompletionShare.Estimate != 0.5 || m.PromptShare.Estimate != 0.75 || m.TokenShare.Estimate != 96.0/168 {
		t.Fatalf("mini shares: prompt %v completion %v tokens %v; want 0.75, 0.5, 96/168", m.PromptShare, m.CompletionShare, m.TokenShare)
	}
	if !(m.CompletionShare.Low < 0.5 && m.CompletionShare.High > 0.5 && m.CompletionShare.Low > 0) {
		t.Fatalf("mini completion interval %v does not surround 0.5 within (0, 1)", m.CompletionShare)
	}
	// The arms' shares add up to 1.
	if s := byName["500"].TokenShare; s != nil {
		t.Fatalf("an arm without usage has share %v, want none", s)
	}
	if got := m.TokenShare.Estimate + b.TokenShare.Estimate; math.Abs(got-1) > 1e-12 {
		t.Fatalf("token shares add up to %v", got)
	}
}

func TestParsePrices(t *testing.T) {
	tests := []struct {
		in   []string
		want []Price
		err  string
	}{
		{in: []string{"gpt-4o=2.50/10"}, want: []Price{{"gpt-4o", 2.5, 10}}},
		{in: []string{"gpt-4o=2.50/10, gpt-4o-mini=0.15/0.60", "claude-sonnet-4-5=3/15"}, want: []Price{{"gpt-4o", 2.5, 10}, {"gpt-4o-mini", 0.15, 0.6}, {"claude-sonnet-4-5", 3, 15}}},
		{in: []string{"free=0/0"}, want: []Price{{"free", 0, 0}}},
		{in: []string{"gpt-4o=2.50"}, err: `"gpt-4o=2.50": expected MODEL=IN/OUT`},
		{in: []string{"=1/2"}, err: `"=1/2": expected MODEL=IN/OUT`},
		{in: []string{"gpt-4o=2.50/ten"}, err: `"gpt-4o=2.50/ten": output price "ten": expected a number of USD ≥ 0`},
		{in: []string{"gpt-4o=-1/2"}, err: `input price "-1"`},
		{in: []string{"gpt-4o=NaN/2"}, err: `input price "NaN"`},
		{in: []string{"gpt-4o=1/2,"}, err: `"": expected MODEL=IN/OUT`},
		{in: []string{"gpt-4o=1/2", "gpt-4o=3/4"}, err: `"gpt-4o=3/4": model gpt-4o is priced twice`},
	}
	for _, tt := range tests {
		got, err := ParsePrices(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParsePrices(%q) error %v, want one containing %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("ParsePrices(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestPriceFor(t *testing.T) {
	prices := []Price{{"gpt-4o", 2.5, 10}, {"gpt-4o-mini-2024-07-18", 0.15, 0.6}, {"claude-sonnet-4-5", 3, 15}}
	tests := []struct{ category, want string }{
		{"gpt-4o", "gpt-4o"},
		{"gpt-4o-2024-08-06", "gpt-4o"},
		{"gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18"},
		{"claude-sonnet-4-5-20250929", "claude-sonnet-4-5"},
		// gpt-4o is no snapshot of these.
		{"gpt-4o-mini", ""},
		{"gpt-4o-2024-08", ""},
		{"500", ""},
	}
	for _, tt := range tests {
		got := ""
		if p := priceFor(tt.category, prices); p != nil {
			got = p.Model
		}
		if got != tt.want {
			t.Errorf("priceFor(%s) = %q, want %q", tt.category, got, tt.want)
		}
	}
}

// TestUsageGolden pins the usage table and its JSON, with and without
// prices: a fixed tally, so the figures are exact.
func TestUsageGolden(t *testing.T) {
	build := func() *Report {
		tally := newUsageTally()
		r := rand.New(rand.NewPCG(7, 7))
		for range 600 {
			if r.Float64() < 0.8 {
				tally.count("gpt-4o-mini-2024-07-18", llmusage.Usage{Prompt: 12, Completion: 5 + r.Int64N(40)}, true)
			} else {
				tally.count("gpt-4o-2024-08-06", llmusage.Usage{Prompt: 12, Completion: 20 + r.Int64N(120)}, true)
			}
		}
		tally.count("gpt-4o-2024-08-06", llmusage.Usage{}, false)
		tally.count(shell.CategoryError, llmusage.Usage{}, false)
		return &Report{Usage: tally.report()}
	}
	plain, priced, partial := build(), build(), build()
	if unused := ApplyPrices([]*Report{priced}, []Price{{"gpt-4o-mini", 0.15, 0.6}, {"gpt-4o", 2.5, 10}, {"o3", 2, 8}}); fmt.Sprint(unused) != "[o3]" {
		t.Fatalf("unused prices %v, want [o3]", unused)
	}
	ApplyPrices([]*Report{partial}, []Price{{"gpt-4o", 2.5, 10}})
	if partial.Usage.CostUSD != nil || fmt.Sprint(partial.Usage.Unpriced) != "[gpt-4o-mini-2024-07-18]" {
		t.Fatalf("partly priced usage: cost %v, unpriced %v", partial.Usage.CostUSD, partial.Usage.Unpriced)
	}
	var text bytes.Buffer
	for _, r := range []*Report{plain, priced, partial} {
		if err := r.Usage.writeText(&text); err != nil {
			t.Fatal(err)
		}
		text.WriteString("\n")
	}
	js, err := json.MarshalIndent(priced.Usage, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"usage.txt": text.Bytes(), "usage.json": append(js, '\n')} {
		checkGolden(t, "testdata/"+name, got)
	}
}
