package fakeopenai

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"time"
)

type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
	User           string          `json:"user"`
}

type embeddingList struct {
	Object string          `json:"object"`
	Data   []embeddingItem `json:"data"`
	Model  string          `json:"model"`
	Usage  embeddingUsage  `json:"usage"`
}

type embeddingItem struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float32, or a base64 string
}

type embeddingUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// OpenAI's limits on one embeddings request.
const (
	maxEmbeddingInputs      = 2048
	maxEmbeddingInputTokens = 8192   // per input
	maxEmbeddingTokens      = 300000 // all inputs together
)

func (s *Server) embeddings(w *answer, r *http.Request, rec *Request) *apiError {
	start := time.Now()
	var req embeddingRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	m, err := s.resolve(rec, req.Model, TypeEmbedding, "v1/embeddings")
	if err != nil {
		return err
	}
	inputs, tokens, err := parseInputs(req.Input, "input")
	if err != nil {
		return err
	}
	if tokens > maxEmbeddingTokens {
		return badRequest("input", "Invalid 'input': the inputs hold %d tokens together; the maximum per request is %d.", tokens, maxEmbeddingTokens)
	}
	for i, in := range inputs {
		if n := inputTokens(in); n > maxEmbeddingInputTokens {
			return badRequest("input", "Invalid 'input[%d]': %d tokens, over this model's maximum input length of %d tokens.", i, n, maxEmbeddingInputTokens)
		}
	}
	if len(inputs) > maxEmbeddingInputs {
		return badRequest("input", "Invalid 'input': array too long. Expected an array with maximum length %d, but got an array with length %d instead.", maxEmbeddingInputs, len(inputs))
	}
	dims := m.Dimensions
	if req.Dimensions != nil {
		if *req.Dimensions < 1 || *req.Dimensions > m.Dimensions {
			return badRequest("dimensions", "Invalid 'dimensions': expected a value between 1 and %d for %s, but got %d instead.", m.Dimensions, m.ID, *req.Dimensions)
		}
		dims = *req.Dimensions
	}
	// The answer is inputs × dimensions numbers, built in memory: 2,048
	// one-letter inputs (10 KB) at 1,536 dimensions are 39 MB of JSON.
	// OpenAI streams that from a fleet; a test double must not let one
	// small request cost it hundreds of megabytes.
	if values := int64(len(inputs)) * int64(dims); values > s.cfg.MaxEmbeddingValues {
		param := "input"
		if req.Dimensions != nil {
			param = "dimensions"
		}
		return badRequest(param, "Invalid '%s': %d inputs of %d dimensions are %d numbers, over this server's limit of %d per request (Config.MaxEmbeddingValues, fakeopenai --max-embedding-values). Send fewer inputs or ask for fewer 'dimensions'.", param, len(inputs), dims, values, s.cfg.MaxEmbeddingValues)
	}
	switch req.EncodingFormat {
	case "", "float", "base64":
	default:
		return badRequest("encoding_format", "Invalid value: '%s'. Supported values are: 'float' and 'base64'.", req.EncodingFormat)
	}
	if err := s.chooseFault(r, rec); err != nil {
		return err
	}
	if stop, err := s.applyFault(w, r, rec); stop {
		return err
	}
	rec.PromptTokens = tokens
	if !s.pacer(rec).wait(r.Context(), s.cfg.TTFT, 1) {
		return s.interrupted(r)
	}
	resp := embeddingList{Object: "list", Model: m.ID, Usage: embeddingUsage{PromptTokens: tokens, TotalTokens: tokens}}
	for i, in := range inputs {
		// The vector depends on the model and the text, not on its position,
		// so equal inputs embed equally as they do at OpenAI.
		v := embedding(newHasher(s.cfg.Seed).str(EndpointEmbeddings).str(m.ID).str(in).u64(uint64(dims)).rng(), dims)
		item := embeddingItem{Object: "embedding", Index: i, Embedding: v}
		if req.EncodingFormat == "base64" {
			item.Embedding = encodeBase64(v)
		}
		resp.Data = append(resp.Data, item)
	}
	s.respond(w, rec, start, resp)
	return nil
}

// encodeBase64 is OpenAI's base64 format: little-endian float32s.
func encodeBase64(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// inputTokens counts one canonical input: token-id inputs (tokenKey) by
// their ids, text by CountTokens.
func inputTokens(in string) int {
	if ids, ok := strings.CutPrefix(in, tokenKeyPrefix); ok {
		return strings.Count(ids, " ")
	}
	return CountTokens(in)
}
