package replay

import (
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/splitproof/splitproof/scenarios/llmusage"
	"github.com/splitproof/splitproof/scenarios/shell"
)

// UsageConfidence is the confidence of the token and cost share intervals.
const UsageConfidence = 0.95

// usageZ is the standard normal quantile for UsageConfidence, two-sided.
const usageZ = 1.959963984540054

// Usage is what a replay's responses say they cost, per category: the
// tokens the provider reported in each body's usage (package llmusage),
// and each category's share of the tokens, with an interval. The verdict
// stays on requests: a model that answers at greater length shifts the
// tokens and the cost, not the split.
type Usage struct {
	// Requests is the replay's iterations; Known those whose responses
	// all carried usage. The others (an error page, a stream asked without
	// include_usage, no response at all) are left out of every token
	// figure, not counted as zero.
	Requests int64 `json:"requests"`
	Known    int64 `json:"requests_with_usage"`
	Unknown  int64 `json:"requests_without_usage"`
	// Confidence is the intervals' (UsageConfidence); Method says how
	// they are computed.
	Confidence float64 `json:"confidence"`
	Method     string  `json:"method"`
	// CostUSD is the replay's cost at --prices, nil without prices or when
	// a category with tokens has no price (Unpriced names them).
	CostUSD  *float64 `json:"cost_usd,omitempty"`
	Unpriced []string `json:"unpriced,omitempty"`
	Arms     []*Arm   `json:"arms"`
}

// Arm is one category's usage.
type Arm struct {
	Category string `json:"category"`
	Requests int64  `json:"requests"`
	Known    int64  `json:"requests_with_usage"`
	// Tokens as the provider reported them, over the requests with usage.
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	// Shares of the replay's prompt, completion and all tokens; nil when
	// the replay reported none of that kind, or the arm no usage at all.
	PromptShare     *Share `json:"prompt_share,omitempty"`
	CompletionShare *Share `json:"completion_share,omitempty"`
	TokenShare      *Share `json:"token_share,omitempty"`
	// Price is the --prices entry that matched the category; CostUSD and
	// CostShare are set once every category with tokens has one (for an
	// arm with usage).
	Price     *Price   `json:"price,omitempty"`
	CostUSD   *float64 `json:"cost_usd,omitempty"`
	CostShare *Share   `json:"cost_share,omitempty"`

	// Sums the intervals need, per request with usage: prompt p and
	// completion c tokens, and their squares and product.
	sumPP, sumCC, sumPC float64
}

// Share is a ratio estimate and its interval.
type Share struct {
	Estimate float64 `json:"estimate"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
}

// usageMethod states the intervals' method and its measured coverage
// (TestUsageShareCoverage).
const usageMethod = "ratio estimator, delta method on the logit scale, requests as independent draws; simulated coverage 94.1-96.2 % from 400 requests, 91.7-94.9 % at 150, with heavy-tailed answer lengths"

// usageTally accumulates a replay's usage, one iteration at a time.
type usageTally struct {
	u   Usage
	arm map[string]*Arm
}

func newUsageTally() *usageTally {
	return &usageTally{u: Usage{Confidence: UsageConfidence, Method: usageMethod}, arm: map[string]*Arm{}}
}

// add counts one iteration: its usage is the sum over its responses (the
// doc's loops make one request an iteration), known only when every
// response it got carried usage.
func (t *usageTally) add(it shell.Iteration) {
	var sum llmusage.Usage
	known := false
	for i := range it.Exchanges {
		ex := &it.Exchanges[i]
		if ex.Redirect || ex.Status == 0 {
			continue
		}
		u, ok := llmusage.Parse(ex.Body)
		if !ok {
			known = false
			break
		}
		sum.Prompt += u.Prompt
		sum.Completion += u.Completion
		known = true
	}
	t.count(it.Category, sum, known)
}

// count adds one request of category to the tally.
func (t *usageTally) count(category string, u llmusage.Usage, known bool) {
	a := t.arm[category]
	if a == nil {
		a = &Arm{Category: category}
		t.arm[category] = a
	}
	t.u.Requests++
	a.Requests++
	if !known {
		t.u.Unknown++
		return
	}
	t.u.Known++
	a.Known++
	a.PromptTokens += u.Prompt
	a.CompletionTokens += u.Completion
	p, c := float64(u.Prompt), float64(u.Completion)
	a.sumPP += p * p
	a.sumCC += c * c
	a.sumPC += p * c
}

// report is the replay's usage, nil when no response carried any (a
// helloworld answer, or real curl's, whose bodies the replay does not see).
func (t *usageTally) report() *Usage {
	if t.u.Known == 0 {
		return nil
	}
	u := t.u
	u.Arms = nil
	for _, a := range t.arm {
		u.Arms = append(u.Arms, a)
	}
	// Most requests first, as a reader looks for the split's big arm.
	sort.Slice(u.Arms, func(i, j int) bool {
		if u.Arms[i].Requests != u.Arms[j].Requests {
			return u.Arms[i].Requests > u.Arms[j].Requests
		}
		return u.Arms[i].Category < u.Arms[j].Category
	})
	u.shares()
	return &u
}

// shares fills the token shares: prompt tokens weigh 1 and completion 0,
// then the reverse, then both 1.
func (u *Usage) shares() {
	set := func(dst func(*Arm) **Share, wp, wc func(*Arm) float64) {
		est := ratioShares(u.Arms, u.Known, wp, wc)
		for i, a := range u.Arms {
			*dst(a) = est[i]
		}
	}
	one := func(*Arm) float64 { return 1 }
	zero := func(*Arm) float64 { return 0 }
	set(func(a *Arm) **Share { return &a.PromptShare }, one, zero)
	set(func(a *Arm) **Share { return &a.CompletionShare }, zero, one)
	set(func(a *Arm) **Share { return &a.TokenShare }, one, one)
}

// ratioShares estimates each arm's share of a quantity every request with
// usage contributes, x = wp·prompt + wc·completion with the weights of the
// request's arm (1 and 0 for prompt tokens; the prices for cost).
//
// An arm's share is the ratio estimator R = Σ_arm x / Σ x over the n
// requests with usage. Seen as the mean of y = x·[arm] over the mean of x,
// the delta method gives Var(R) ≈ Σ (y − R·x)² / (n (n−1) x̄²), and
// Σ (y − R·x)² = (1 − 2R)·Σ_arm x² + R²·Σ x², so the sums of squares per
// arm are all it needs. The interval is logit(R) ± z·SE/(R(1−R)) mapped
// back: R's distribution is skewed when a few long answers dominate, and
// on the logit scale the interval follows it and stays within (0, 1)
// (R ± z·SE covered only 90 % at 150 requests in the simulation of
// usage_test.go, 92 % this way). A share of 0 or 1 (one arm alone has
// tokens) has no interval around it. Nil shares when Σ x = 0.
func ratioShares(arms []*Arm, n int64, wp, wc func(*Arm) float64) []*Share {
	sums := make([]float64, len(arms))
	squares := make([]float64, len(arms))
	var total, totalSq float64
	for i, a := range arms {
		p, c := wp(a), wc(a)
		sums[i] = p*float64(a.PromptTokens) + c*float64(a.CompletionTokens)
		squares[i] = p*p*a.sumPP + 2*p*c*a.sumPC + c*c*a.sumCC
		total += sums[i]
		totalSq += squares[i]
	}
	out := make([]*Share, len(arms))
	if total <= 0 {
		return out
	}
	for i, a := range arms {
		if a.Known == 0 {
			continue // no request of the arm reported usage: no share to state
		}
		r := sums[i] / total
		s := &Share{Estimate: r, Low: r, High: r}
		if n > 1 {
			resid := max((1-2*r)*squares[i]+r*r*totalSq, 0)
			se := math.Sqrt(resid*float64(n)/float64(n-1)) / total
			if r > 0 && r < 1 {
				l := math.Log(r / (1 - r))
				h := usageZ * se / (r * (1 - r))
				s.Low, s.High = 1/(1+math.Exp(-(l-h))), 1/(1+math.Exp(-(l+h)))
			}
		}
		out[i] = s
	}
	return out
}

// Price is one --prices entry: USD per million input and output tokens of
// a model.
type Price struct {
	Model  string  `json:"model"`
	Input  float64 `json:"usd_per_1m_input"`
	Output float64 `json:"usd_per_1m_output"`
}

// ParsePrices reads --prices items, MODEL=IN/OUT each, several per value
// when comma-separated. An error names the bad item.
func ParsePrices(values []string) ([]Price, error) {
	var out []Price
	seen := map[string]bool{}
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			item = strings.TrimSpace(item)
			p, err := parsePrice(item)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", item, err)
			}
			if seen[p.Model] {
				return nil, fmt.Errorf("%q: model %s is priced twice", item, p.Model)
			}
			seen[p.Model] = true
			out = append(out, p)
		}
	}
	return out, nil
}

func parsePrice(item string) (Price, error) {
	model, prices, ok := strings.Cut(item, "=")
	in, out, ok2 := strings.Cut(prices, "/")
	if !ok || !ok2 || strings.TrimSpace(model) == "" {
		return Price{}, errors.New("expected MODEL=IN/OUT, USD per million input and output tokens, e.g. gpt-4o=2.50/10")
	}
	p := Price{Model: strings.TrimSpace(model)}
	for _, f := range []struct {
		dst  *float64
		text string
		name string
	}{{&p.Input, in, "input"}, {&p.Output, out, "output"}} {
		x, err := strconv.ParseFloat(strings.TrimSpace(f.text), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
			return Price{}, fmt.Errorf("%s price %q: expected a number of USD ≥ 0", f.name, f.text)
		}
		*f.dst = x
	}
	return p, nil
}

// snapshotSuffix is how a provider dates a model snapshot: OpenAI's
// -2024-08-06, Anthropic's -20250929.
var snapshotSuffix = regexp.MustCompile(`^-(\d{4}-\d{2}-\d{2}|\d{8})$`)

// priceFor finds a category's price: the model named exactly, else the
// model the category is a dated snapshot of (gpt-4o prices the answers
// of gpt-4o-2024-08-06, not those of gpt-4o-mini-2024-07-18).
func priceFor(category string, prices []Price) *Price {
	var snapshot *Price
	for i := range prices {
		p := &prices[i]
		if p.Model == category {
			return p
		}
		if rest, ok := strings.CutPrefix(category, p.Model); ok && snapshotSuffix.MatchString(rest) {
			snapshot = p
		}
	}
	return snapshot
}

// ApplyPrices turns each report's tokens into cost at prices, and
// returns the models of prices that matched no category of any report.
func ApplyPrices(reports []*Report, prices []Price) []string {
	used := map[string]bool{}
	for _, r := range reports {
		if r.Usage == nil {
			continue
		}
		for _, m := range r.Usage.applyPrices(prices) {
			used[m] = true
		}
	}
	var unused []string
	for _, p := range prices {
		if !used[p.Model] {
			unused = append(unused, p.Model)
		}
	}
	return unused
}

// applyPrices sets the costs and returns the models whose prices matched.
func (u *Usage) applyPrices(prices []Price) []string {
	var matched []string
	u.Unpriced, u.CostUSD = nil, nil
	for _, a := range u.Arms {
		a.Price, a.CostUSD, a.CostShare = priceFor(a.Category, prices), nil, nil
		switch {
		case a.Price != nil:
			matched = append(matched, a.Price.Model)
		case a.PromptTokens+a.CompletionTokens > 0:
			u.Unpriced = append(u.Unpriced, a.Category)
		}
	}
	if len(prices) == 0 || len(u.Unpriced) > 0 {
		return matched
	}
	perToken := func(a *Arm, f func(*Price) float64) float64 {
		if a.Price == nil {
			return 0
		}
		return f(a.Price) / 1e6
	}
	in := func(a *Arm) float64 { return perToken(a, func(p *Price) float64 { return p.Input }) }
	out := func(a *Arm) float64 { return perToken(a, func(p *Price) float64 { return p.Output }) }
	shares := ratioShares(u.Arms, u.Known, in, out)
	var total float64
	for i, a := range u.Arms {
		if a.Known == 0 {
			continue
		}
		cost := in(a)*float64(a.PromptTokens) + out(a)*float64(a.CompletionTokens)
		a.CostUSD, a.CostShare = &cost, shares[i]
		total += cost
	}
	u.CostUSD = &total
	return matched
}

// writeText prints the usage table under a report: requests, tokens and
// shares per category, then cost when priced.
func (u *Usage) writeText(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "  tokens per category (the provider's usage; shares with %g%% intervals): the verdict stays on requests, longer answers from one model shift tokens and cost, not the split\n", 100*u.Confidence); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	priced := u.CostUSD != nil
	// The share of all tokens is in the JSON; the table keeps to the two
	// that prices tell apart.
	head := "  CATEGORY\tREQUESTS\tPROMPT\tPROMPT SHARE\tCOMPLETION\tCOMPLETION SHARE"
	if priced {
		head += "\tCOST USD\tCOST SHARE"
	}
	fmt.Fprintln(tw, head)
	for _, a := range u.Arms {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%d\t%s", a.Category, a.Requests, a.PromptTokens, a.PromptShare, a.CompletionTokens, a.CompletionShare)
		if priced {
			cost := "-"
			if a.CostUSD != nil {
				cost = fmt.Sprintf("%.4f", *a.CostUSD)
			}
			fmt.Fprintf(tw, "\t%s\t%s", cost, a.CostShare)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var notes []string
	if u.Unknown > 0 {
		notes = append(notes, fmt.Sprintf("usage unknown for %d of %d requests (no usage in the answer, or no answer): left out of the tokens and shares", u.Unknown, u.Requests))
	}
	if priced {
		notes = append(notes, fmt.Sprintf("cost at --prices: %.4f USD for the %d requests with usage", *u.CostUSD, u.Known))
	}
	if len(u.Unpriced) > 0 {
		notes = append(notes, "no cost: --prices names no price for "+strings.Join(u.Unpriced, ", "))
	}
	for _, n := range notes {
		if _, err := fmt.Fprintf(w, "  %s\n", n); err != nil {
			return err
		}
	}
	return nil
}

// String renders a share as "0.812 [0.781, 0.840]"; "-" when undefined.
func (s *Share) String() string {
	if s == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f [%.3f, %.3f]", s.Estimate, s.Low, s.High)
}
