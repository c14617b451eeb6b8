package fakeopenai_test

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/splitproof/splitproof/fakeopenai"
)

// chat sends one chat completion for model straight to the handler (no
// network: the test sends thousands) and returns the recorded answer.
func chat(t *testing.T, srv *fakeopenai.Server, model string) *httptest.ResponseRecorder {
	t.Helper()
	body := `{"model":"` + model + `","messages":[{"role":"user","content":"What is 2+2?"}]}`
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	return w
}

func mustNew(t *testing.T, cfg fakeopenai.Config) *fakeopenai.Server {
	t.Helper()
	cfg.DisableMetricsEndpoint = true
	srv, err := fakeopenai.New(cfg, nil)
	if err != nil {
		t.Fatalf("fakeopenai.New: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// TestModelFaultsRate: one arm of an 80/20 split answers 429-bare at rate
// 0.25 and the other never fails. Seeded, so the counts are the same on
// every run; the bounds are six standard deviations of a Binomial, so a
// draw that is not the stated Bernoulli trial (a wrong rate, faults on the
// wrong model, draws that depend on each other) fails it.
func TestModelFaultsRate(t *testing.T) {
	const n, rate = 2000, 0.25
	srv := mustNew(t, fakeopenai.Config{Seed: 11, RecordLimit: -1, ModelFaults: map[string]fakeopenai.FaultRates{
		"gpt-4o": {fakeopenai.Fault429Bare: rate},
	}})
	faults, afterFault, faultPairs := 0, 0, 0
	prev := false
	for i := range n {
		if w := chat(t, srv, "gpt-4o-mini"); w.Code != http.StatusOK {
			t.Fatalf("request %d for gpt-4o-mini: status %d, want 200 (its model has no faults)", i, w.Code)
		}
		w := chat(t, srv, "gpt-4o")
		failed := w.Code != http.StatusOK
		if failed {
			if w.Code != http.StatusTooManyRequests {
				t.Fatalf("request %d for gpt-4o: status %d, want 200 or 429", i, w.Code)
			}
			if ra, reset := w.Header().Get("Retry-After"), w.Header().Get("x-ratelimit-reset-requests"); ra != "" || reset != "" {
				t.Fatalf("a 429-bare carries Retry-After %q, x-ratelimit-reset-requests %q; want neither", ra, reset)
			}
			faults++
		}
		if prev {
			faultPairs++
			if failed {
				afterFault++
			}
		}
		prev = failed
	}
	sd := math.Sqrt(n * rate * (1 - rate))
	if math.Abs(float64(faults)-n*rate) > 6*sd {
		t.Errorf("%d of %d gpt-4o requests failed, want %v ± %.0f", faults, n, n*rate, 6*sd)
	}
	// Independent draws: a fault is no more or less likely after a fault.
	sdPair := math.Sqrt(float64(faultPairs) * rate * (1 - rate))
	if math.Abs(float64(afterFault)-float64(faultPairs)*rate) > 6*sdPair {
		t.Errorf("%d of %d requests after a fault failed, want about a quarter: draws are not independent", afterFault, faultPairs)
	}
}

// TestModelFaultsMatch: which rates a request is drawn against. Rate 1
// makes every draw certain, so each row has one right answer.
func TestModelFaultsMatch(t *testing.T) {
	tests := []struct {
		name   string
		cfg    fakeopenai.Config
		model  string
		status int
	}{
		{"requested name", fakeopenai.Config{ModelFaults: map[string]fakeopenai.FaultRates{"gpt-4o": {fakeopenai.Fault503: 1}}}, "gpt-4o", 503},
		{"resolved snapshot", fakeopenai.Config{ModelFaults: map[string]fakeopenai.FaultRates{"gpt-4o-2024-08-06": {fakeopenai.Fault503: 1}}}, "gpt-4o", 503},
		{"other model unaffected", fakeopenai.Config{ModelFaults: map[string]fakeopenai.FaultRates{"gpt-4o": {fakeopenai.Fault503: 1}}}, "gpt-4o-mini", 200},
		{"global rates for the rest", fakeopenai.Config{Faults: fakeopenai.FaultRates{fakeopenai.Fault500: 1}, ModelFaults: map[string]fakeopenai.FaultRates{"gpt-4o": {fakeopenai.Fault503: 1}}}, "gpt-4o-mini", 500},
		{"model rates replace global", fakeopenai.Config{Faults: fakeopenai.FaultRates{fakeopenai.Fault500: 1}, ModelFaults: map[string]fakeopenai.FaultRates{"gpt-4o": {fakeopenai.Fault503: 1}}}, "gpt-4o", 503},
		{"empty entry exempts", fakeopenai.Config{Faults: fakeopenai.FaultRates{fakeopenai.Fault500: 1}, ModelFaults: map[string]fakeopenai.FaultRates{"gpt-4o": {}}}, "gpt-4o", 200},
		{"429 keeps Retry-After", fakeopenai.Config{ModelFaults: map[string]fakeopenai.FaultRates{"gpt-4o": {fakeopenai.Fault429: 1}}}, "gpt-4o", 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := chat(t, mustNew(t, tt.cfg), tt.model)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			if tt.status == 429 && w.Header().Get("Retry-After") == "" {
				t.Error("an injected 429 lacks Retry-After")
			}
		})
	}
}

func TestParseModelFaults(t *testing.T) {
	tests := []struct {
		in, model, rates, wantErr string
	}{
		{"gpt-4o=429-bare=0.25", "gpt-4o", "429-bare=0.25", ""},
		{" gpt-4o = 429=0.1,503=0.05", "gpt-4o", "429=0.1,503=0.05", ""},
		{"gpt-4o", "", "", "want MODEL=FAULT=PROBABILITY"},
		{"=429=0.1", "", "", "want MODEL=FAULT=PROBABILITY"},
		{"gpt-4o=", "", "", "want MODEL=FAULT=PROBABILITY"},
		{"gpt-4o=418=0.1", "", "", `model faults of gpt-4o: fault rate "418=0.1": unknown fault`},
		{"gpt-4o=429=1.5", "", "", "model faults of gpt-4o: rate of 429 must be in [0, 1]"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			model, rates, err := fakeopenai.ParseModelFaults(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if model != tt.model || rates.String() != tt.rates {
				t.Errorf("got %q %q, want %q %q", model, rates, tt.model, tt.rates)
			}
		})
	}
}

func TestModelFaultsValidate(t *testing.T) {
	for _, tt := range []struct {
		faults  map[string]fakeopenai.FaultRates
		wantErr string
	}{
		{map[string]fakeopenai.FaultRates{"": {fakeopenai.Fault503: 0.1}}, "a model name must not be empty"},
		{map[string]fakeopenai.FaultRates{"gpt-4o": {fakeopenai.Fault503: 0.6, fakeopenai.Fault429: 0.6}}, "model faults of gpt-4o: fault rates sum to"},
		{map[string]fakeopenai.FaultRates{"gpt4o": {fakeopenai.Fault503: 0.1}}, "model faults of gpt4o: no such model in the catalogue"},
	} {
		_, err := fakeopenai.New(fakeopenai.Config{ModelFaults: tt.faults}, nil)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("New with %v: error %v, want %q", tt.faults, err, tt.wantErr)
		}
	}
}
