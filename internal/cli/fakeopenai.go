package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/splitproof/splitproof/fakeopenai"
)

func fakeopenaiCommand() Command {
	return Command{
		Name:  "fakeopenai",
		Short: "serve a fake OpenAI API (chat, completions, responses, embeddings, models; Anthropic messages) with latency and faults",
		Run:   runFakeOpenAI,
	}
}

const fakeopenaiSynopsis = `fakeopenai [flags]

Serves an OpenAI-compatible API that the official SDKs cannot tell from the
real one: POST /v1/chat/completions (JSON and streaming, tool calls),
POST /v1/completions, POST /v1/responses (the Responses API, JSON and its
event stream, function calls), POST /v1/embeddings, GET /v1/models and
GET /v1/models/{id}, Anthropic's POST /v1/messages (JSON and SSE, x-api-key),
plus Prometheus metrics at /metrics. Aliases resolve to dated snapshots (gpt-4o-mini answers as
gpt-4o-mini-2024-07-18), so the "model" of each answer shows which backend a
weighted split chose. Content is deterministic for a given --seed and request.

Authentication: with --keys-file only the listed keys are accepted (401
invalid_api_key otherwise); WITHOUT --keys-file AUTHENTICATION IS DISABLED and
any key, or none, is accepted.

Faults: --fault-rate injects them at random (seeded), --model-faults only in
requests for one model (which then ignore --fault-rate); a request can force one
with the header "X-Fake-Fault: 429|500|503|hang|cut|429-bare". 429 carries
Retry-After (--retry-after) and x-ratelimit-reset-*; 429-bare carries neither.
hang holds the request until the client gives up; cut drops the connection
mid-answer (a stream ends without [DONE]).

The base URL (http://ADDR/v1) is printed on stdout once the server listens;
it runs until interrupted.`

const fakeopenaiExamples = `  # Fast, deterministic, no authentication:
  splitproof fakeopenai --listen 127.0.0.1:8090

  # Keys from a file (one per line, # comments), a custom catalogue,
  # realistic streaming latency and 1% each of 429 and 500:
  splitproof fakeopenai --listen 127.0.0.1:8090 --keys-file keys.txt \
      --models-file models.yaml --seed 7 --ttft 300ms --token-delay 20ms \
      --jitter 0.3 --fault-rate 429=0.01,500=0.01

  # One arm of an 80/20 split between gpt-4o-mini and gpt-4o answers
  # 429 without Retry-After to a quarter of its requests:
  splitproof fakeopenai --listen 127.0.0.1:8090 --model-faults gpt-4o=429-bare=0.25

  # A models file (YAML or JSON):
  #   apiVersion: fakeopenai.splitproof.dev/v1alpha1
  #   kind: ModelCatalog
  #   models:
  #   - id: gpt-4o-mini-2024-07-18
  #     aliases: [gpt-4o-mini]
  #     type: chat            # chat | completion | embedding
  #   - id: text-embedding-3-small
  #     type: embedding
  #     dimensions: 1536

  # Then, with any OpenAI client:
  curl -s localhost:8090/v1/chat/completions -H 'Content-Type: application/json' \
      -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' | jq -r .model`

func runFakeOpenAI(ctx context.Context, env *Env, args []string) error {
	fs := NewFlagSet(env, "fakeopenai", fakeopenaiSynopsis, fakeopenaiExamples)
	listen := fs.String("listen", "127.0.0.1:8090", "`address` to listen on (host:port; port 0 picks a free one)")
	keysFile := fs.String("keys-file", "", "`file` of accepted API keys, one per line; empty disables authentication")
	modelsFile := fs.String("models-file", "", "model catalogue `file` (YAML or JSON); empty uses the built-in catalogue")
	seed := fs.Uint64("seed", 1, "seed for generated content, jitter and random faults")
	ttft := fs.Duration("ttft", 0, "time to first token (for JSON answers, added before the answer)")
	tokenDelay := fs.Duration("token-delay", 0, "delay per generated token after the first")
	jitter := fs.Float64("jitter", 0, "scale each delay by a seeded factor in [1-j, 1+j]; j in [0, 1]")
	faultRate := fs.String("fault-rate", "", "fault `rates`, e.g. 429=0.01,500=0.01,503=0,hang=0,cut=0,429-bare=0 (sum at most 1)")
	var modelFaults stringList
	fs.Var(&modelFaults, "model-faults", "fault rates for the requests of one model, instead of --fault-rate: `MODEL=FAULT=P[,FAULT=P...]`, e.g. gpt-4o=429-bare=0.25 (MODEL as the request names it or the snapshot it resolves to); repeat for more models")
	retryAfter := fs.Duration("retry-after", fakeopenai.DefaultRetryAfter, "Retry-After of injected 429s (whole seconds)")
	rpm := fs.Int("rpm", 0, "enforce this many requests per minute (429 beyond); 0 only reports a nominal limit in x-ratelimit-* headers")
	maxBody := fs.Int64("max-body-bytes", fakeopenai.DefaultMaxBodyBytes, "largest request body accepted (413 beyond)")
	maxEmbed := fs.Int64("max-embedding-values", fakeopenai.DefaultMaxEmbeddingValues, "largest embeddings answer, in numbers (inputs × dimensions; 400 beyond)")
	noMetrics := fs.Bool("no-metrics", false, "do not serve /metrics")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return BadInput(fmt.Errorf("fakeopenai takes no arguments, got %q", fs.Args()))
	}
	if *maxBody < 1 {
		return BadInput(fmt.Errorf("--max-body-bytes %d: expected a positive number of bytes", *maxBody))
	}
	if *maxEmbed < 1 {
		return BadInput(fmt.Errorf("--max-embedding-values %d: expected a positive number", *maxEmbed))
	}
	cfg := fakeopenai.Config{
		Seed: *seed, TTFT: *ttft, TokenDelay: *tokenDelay, Jitter: *jitter,
		RetryAfter: *retryAfter, RequestsPerMinute: *rpm, MaxBodyBytes: *maxBody,
		MaxEmbeddingValues: *maxEmbed, DisableMetricsEndpoint: *noMetrics,
	}
	var err error
	if cfg.Faults, err = fakeopenai.ParseFaultRates(*faultRate); err != nil {
		return BadInput(fmt.Errorf("--fault-rate: %w", err))
	}
	for _, mf := range modelFaults {
		model, rates, err := fakeopenai.ParseModelFaults(mf)
		if err != nil {
			return BadInput(fmt.Errorf("--model-faults: %w", err))
		}
		if _, dup := cfg.ModelFaults[model]; dup {
			return BadInput(fmt.Errorf("--model-faults: %s is given twice", model))
		}
		if cfg.ModelFaults == nil {
			cfg.ModelFaults = map[string]fakeopenai.FaultRates{}
		}
		cfg.ModelFaults[model] = rates
	}
	if *keysFile != "" {
		if cfg.Keys, err = fakeopenai.LoadKeys(*keysFile); err != nil {
			return BadInput(fmt.Errorf("--keys-file: %w", err))
		}
	}
	if *modelsFile != "" {
		if cfg.Catalog, err = fakeopenai.LoadCatalog(*modelsFile); err != nil {
			return BadInput(fmt.Errorf("--models-file: %w", err))
		}
	}
	srv, err := fakeopenai.New(cfg, env.Logger)
	if err != nil {
		return BadInput(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return BadInput(fmt.Errorf("--listen: %w", err))
	}
	// No ReadTimeout: it would end streamed answers; the server bounds the
	// time to read a body itself.
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	if _, err := fmt.Fprintf(env.Stdout, "http://%s/v1\n", ln.Addr()); err != nil {
		_ = hs.Close()
		return err
	}
	env.Logger.Info("fakeopenai listening", "addr", ln.Addr().String(), "auth", len(cfg.Keys) > 0,
		"models", len(srv.Catalog().Models()), "seed", cfg.Seed, "faults", cfg.Faults.String(), "modelFaults", strings.Join(modelFaults, " "))
	select {
	case err := <-served:
		return Failed(fmt.Errorf("fakeopenai server: %w", err))
	case <-ctx.Done():
	}
	// Release hanging requests first so that Shutdown does not wait for them.
	srv.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		// Streams still open after the grace period are cut.
		_ = hs.Close()
		if !errors.Is(err, context.DeadlineExceeded) {
			return Failed(fmt.Errorf("fakeopenai shutdown: %w", err))
		}
	}
	return nil
}
