package fakeopenai

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied by New to zero fields of Config.
const (
	DefaultMaxBodyBytes = 1 << 20 // 1 MiB
	// DefaultMaxEmbeddingValues bounds inputs × dimensions of one
	// embeddings answer: 262,144 numbers, about 3 MB of JSON (170 inputs
	// of text-embedding-3-small, 2,048 at 128 dimensions).
	DefaultMaxEmbeddingValues = 1 << 18
	DefaultRetryAfter         = time.Second
	DefaultRecordLimit        = 10000
	// DefaultRequestsPerMinute and DefaultTokensPerMinute are the limits the
	// x-ratelimit-* headers report when no limit is configured.
	DefaultRequestsPerMinute = 10000
	DefaultTokensPerMinute   = 30000000
)

// Config configures a Server. The zero value is usable: default catalogue,
// authentication disabled, no latency, no faults, metrics on.
type Config struct {
	// Catalog resolves model names; nil means DefaultCatalog().
	Catalog *Catalog
	// Keys are the accepted API keys (without "Bearer "). Empty disables
	// authentication: any request is accepted and recorded as KeyValid.
	Keys []string
	// Seed decides generated content, jitter and rate-based faults.
	Seed uint64

	// TTFT delays the first token (for JSON answers, the whole answer).
	TTFT time.Duration
	// TokenDelay is added for every generated token after the first.
	TokenDelay time.Duration
	// Jitter scales each delay by a seeded factor in [1-Jitter, 1+Jitter];
	// it must be in [0, 1].
	Jitter float64

	// Faults are the probabilities with which a request gets each fault;
	// they must sum to at most 1. The X-Fake-Fault header forces one.
	Faults FaultRates
	// ModelFaults replace Faults for requests that name a model: the key is
	// matched against the model as the request names it (after a gateway
	// has overridden it), then against the snapshot it resolves to; a key
	// must name a model of the catalogue, and an empty entry exempts its
	// model from Faults. One arm of a split between models can so fail at
	// a known rate while the others never do. Each request's draw is seeded
	// by Seed and its own id, so requests fail independently, each with the
	// stated rate.
	ModelFaults map[string]FaultRates
	// RetryAfter is the Retry-After a 429 carries (whole seconds, at least 1);
	// 0 means DefaultRetryAfter.
	RetryAfter time.Duration

	// RequestsPerMinute, when > 0, is enforced: requests beyond it in the
	// current minute get 429 rate_limit_exceeded. 0 reports
	// DefaultRequestsPerMinute in the headers without enforcing it.
	RequestsPerMinute int
	// TokensPerMinute is reported in x-ratelimit-*-tokens (never enforced);
	// 0 means DefaultTokensPerMinute.
	TokensPerMinute int

	// MaxBodyBytes bounds request bodies (413 beyond); 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxEmbeddingValues bounds the numbers one embeddings answer holds
	// (inputs × dimensions; 400 on param input or dimensions beyond); 0
	// means DefaultMaxEmbeddingValues.
	MaxEmbeddingValues int64

	// Registry receives the server's metrics; nil means a new registry,
	// available from Server.Registry. Two servers cannot share a registry
	// (their metric names collide and New fails).
	Registry *prometheus.Registry
	// DisableMetricsEndpoint stops serving GET /metrics (metrics are still
	// collected in Registry).
	DisableMetricsEndpoint bool

	// RecordLimit bounds how many requests Server.Requests keeps (the oldest
	// are dropped); 0 means DefaultRecordLimit, < 0 disables recording.
	RecordLimit int
	// OnRequest, when set, is called once per finished request, from the
	// request's goroutine; it must be safe for concurrent use.
	OnRequest func(Request)

	// Now is the clock for "created" fields and rate-limit windows; nil
	// means time.Now.
	Now func() time.Time
}

func (c *Config) validate() error {
	if c.Jitter < 0 || c.Jitter > 1 || math.IsNaN(c.Jitter) {
		return fmt.Errorf("jitter must be in [0, 1], got %v", c.Jitter)
	}
	if c.TTFT < 0 || c.TokenDelay < 0 || c.RetryAfter < 0 {
		return errors.New("ttft, token delay and retry-after must not be negative")
	}
	if c.MaxBodyBytes < 0 {
		return fmt.Errorf("max body bytes must not be negative, got %d", c.MaxBodyBytes)
	}
	if c.MaxEmbeddingValues < 0 {
		return fmt.Errorf("max embedding values must not be negative, got %d", c.MaxEmbeddingValues)
	}
	if c.RequestsPerMinute < 0 || c.TokensPerMinute < 0 {
		return errors.New("rate limits must not be negative")
	}
	if err := c.Faults.Validate(); err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	for _, model := range slices.Sorted(maps.Keys(c.ModelFaults)) {
		if strings.TrimSpace(model) == "" {
			return errors.New("model faults: a model name must not be empty")
		}
		if err := c.ModelFaults[model].Validate(); err != nil {
			return fmt.Errorf("model faults of %s: %w", model, err)
		}
	}
	for i, k := range c.Keys {
		if k == "" || strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return fmt.Errorf("keys[%d]: an API key must be non-empty without white space or control characters", i)
		}
	}
	return nil
}

// Fault is a failure the server can inject.
type Fault string

const (
	FaultNone Fault = ""
	Fault429  Fault = "429" // 429 rate_limit_exceeded with Retry-After
	// Fault429Bare is a 429 with neither Retry-After nor the
	// x-ratelimit-reset-* headers, so a client must pick its own backoff.
	Fault429Bare Fault = "429-bare"
	Fault500     Fault = "500"  // 500 server_error
	Fault503     Fault = "503"  // 503 server_error (overloaded)
	FaultHang    Fault = "hang" // no answer until the client gives up or the server closes
	FaultCut     Fault = "cut"  // the connection is closed mid-answer (a stream ends without [DONE])
	FaultHeader        = "X-Fake-Fault"
)

// Faults lists the injectable faults in the order rate-based draws use.
// New faults go at the end, so that a seed draws the same faults as before
// for the rates it already had.
func Faults() []Fault {
	return []Fault{Fault429, Fault500, Fault503, FaultHang, FaultCut, Fault429Bare}
}

// ParseFault parses a fault name as Faults lists them.
func ParseFault(s string) (Fault, error) {
	f := Fault(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Faults(), f) {
		return f, nil
	}
	return FaultNone, fmt.Errorf("unknown fault %q (want one of %s)", s, faultNames())
}

func faultNames() string {
	var names []string
	for _, f := range Faults() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// FaultRates maps a fault to the probability a request gets it.
type FaultRates map[Fault]float64

// ParseFaultRates parses "429=0.01,500=0.02,hang=0.001". An empty string is
// no faults.
func ParseFaultRates(s string) (FaultRates, error) {
	rates := FaultRates{}
	if strings.TrimSpace(s) == "" {
		return rates, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		name, value, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("fault rate %q: want fault=probability", item)
		}
		f, err := ParseFault(name)
		if err != nil {
			return nil, fmt.Errorf("fault rate %q: %w", item, err)
		}
		if _, dup := rates[f]; dup {
			return nil, fmt.Errorf("fault rate %q: %s given twice", item, f)
		}
		p, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("fault rate %q: probability: %w", item, err)
		}
		rates[f] = p
	}
	return rates, rates.Validate()
}

// ParseModelFaults parses one model's fault rates, "gpt-4o=429-bare=0.25"
// or "gpt-4o=429=0.1,503=0.05": the model, then ParseFaultRates's format.
func ParseModelFaults(s string) (string, FaultRates, error) {
	model, rates, ok := strings.Cut(strings.TrimSpace(s), "=")
	model = strings.TrimSpace(model)
	if !ok || model == "" || strings.TrimSpace(rates) == "" {
		return "", nil, fmt.Errorf("model faults %q: want MODEL=FAULT=PROBABILITY[,FAULT=PROBABILITY...], e.g. gpt-4o=429-bare=0.25", s)
	}
	r, err := ParseFaultRates(rates)
	if err != nil {
		return "", nil, fmt.Errorf("model faults of %s: %w", model, err)
	}
	return model, r, nil
}

// Validate checks each rate is a probability and that they sum to at most 1.
func (r FaultRates) Validate() error {
	sum := 0.0
	for f, p := range r {
		if _, err := ParseFault(string(f)); err != nil {
			return err
		}
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("rate of %s must be in [0, 1], got %v", f, p)
		}
		sum += p
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("fault rates sum to %v, more than 1", sum)
	}
	return nil
}

// String formats the rates as ParseFaultRates reads them.
func (r FaultRates) String() string {
	var parts []string
	for _, f := range Faults() {
		if p, ok := r[f]; ok {
			parts = append(parts, fmt.Sprintf("%s=%v", f, p))
		}
	}
	return strings.Join(parts, ",")
}

// draw picks a fault for a uniform u in [0, 1).
func (r FaultRates) draw(u float64) Fault {
	acc := 0.0
	for _, f := range Faults() {
		acc += r[f]
		if u < acc {
			return f
		}
	}
	return FaultNone
}

// LoadKeys reads API keys from a file: one key per line, a leading "Bearer "
// is stripped, blank lines and lines starting with # are ignored.
func LoadKeys(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	return ParseKeys(path, data)
}

// ParseKeys parses the keys file format of LoadKeys; name is used in errors.
func ParseKeys(name string, data []byte) ([]string, error) {
	var keys []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		s = strings.TrimSpace(strings.TrimPrefix(s, "Bearer "))
		if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return nil, fmt.Errorf("%s:%d: an API key must be one word without white space", name, line)
		}
		keys = append(keys, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no keys in file (omit the keys file to disable authentication)", name)
	}
	return keys, nil
}
