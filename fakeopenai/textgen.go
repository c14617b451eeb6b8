package fakeopenai

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/splitproof/splitproof/internal/splitmix"
)

// CountTokens approximates the number of BPE tokens in s. The rule, chosen to
// be simple enough to predict by hand and close enough to real tokenizers on
// English text (about four characters per token):
//
//   - every maximal run of letters and digits counts ceil(len/4) tokens, with
//     len measured in runes;
//   - every other character that is not white space (punctuation, symbols)
//     counts one token;
//   - white space is free (real tokenizers glue it to the next word).
//
// Text produced by the server is made of words of at most four letters and
// single punctuation marks, so CountTokens of a completion equals its
// completion_tokens.
func CountTokens(s string) int {
	n, run := 0, 0
	flush := func() {
		n += (run + 3) / 4
		run = 0
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			run++
		case unicode.IsSpace(r):
			flush()
		default:
			flush()
			n++
		}
	}
	flush()
	return n
}

// Token overheads of the chat format, as OpenAI documents them for its
// gpt-4 family: each message costs a few tokens of framing and every reply is
// primed with three more.
const (
	tokensPerMessage = 3
	tokensPerName    = 1
	tokensReplyPrime = 3
)

// rng is SplitMix64: tiny, fast, and good enough to pick words and jitter.
// It is a value type so a generator can be copied and replayed.
type rng struct{ state uint64 }

func (r *rng) next() uint64 { return splitmix.Next(&r.state) }

// mix64 keeps the name the request IDs in server.go use.
func mix64(z uint64) uint64 { return splitmix.Mix(z) }

// intn returns a number in [0, n); the modulo bias is irrelevant here.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// hasher builds the seed of a generator from the server seed and the parts of
// a request that decide its content. Parts are length-prefixed so that
// ("ab","c") and ("a","bc") differ.
type hasher struct{ h hash64 }

type hash64 interface {
	Write([]byte) (int, error)
	Sum64() uint64
}

func newHasher(seed uint64) *hasher {
	h := &hasher{h: fnv.New64a()}
	h.u64(seed)
	return h
}

func (h *hasher) u64(v uint64) *hasher {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	_, _ = h.h.Write(b[:])
	return h
}

func (h *hasher) str(s string) *hasher {
	h.u64(uint64(len(s)))
	_, _ = h.h.Write([]byte(s))
	return h
}

func (h *hasher) rng() rng { return rng{state: splitmix.Mix(h.h.Sum64())} }

// vocabulary holds words of at most four letters so that each is exactly one
// token under CountTokens.
var vocabulary = [...]string{
	"the", "a", "of", "to", "and", "in", "is", "it", "that", "for",
	"on", "with", "as", "was", "at", "by", "this", "be", "from", "or",
	"are", "an", "but", "not", "you", "all", "can", "one", "our", "out",
	"day", "get", "has", "how", "new", "now", "see", "two", "way", "who",
	"did", "its", "let", "put", "say", "too", "use", "data", "load", "path",
	"node", "pod", "time", "test", "link", "rule", "page", "plan", "set", "map",
	"key", "net", "code", "fast", "slow", "safe", "true", "more", "less", "each",
	"both", "some", "many", "much", "well", "also", "just", "only", "even", "back",
	"over", "into", "than", "then", "when", "what", "here", "very", "good", "best",
	"five", "four", "half", "full", "part", "ten", "six", "zero", "edge", "port",
}

// generate returns the pieces of one completion: each piece is one token
// (a word with its leading space, or a punctuation mark). natural is the
// length the text would have without a limit; limit <= 0 means none.
// finished reports whether the text ended on its own ("stop") rather than at
// the limit ("length").
func generate(r rng, limit int) (pieces []string, finished bool) {
	natural := 8 + r.intn(57) // 8..64 tokens
	n := natural
	if limit > 0 && limit < n {
		n = limit
	}
	pieces = make([]string, 0, n)
	sentence := 0 // words in the current sentence
	sentenceLen := 4 + r.intn(9)
	for len(pieces) < n {
		// End a sentence when it is long enough, and always end the text
		// with a full stop when it stops on its own.
		last := len(pieces) == natural-1
		if sentence > 0 && (sentence >= sentenceLen || last) {
			mark := "."
			if !last && r.intn(4) == 0 {
				mark = ","
			}
			pieces = append(pieces, mark)
			if mark == "." {
				sentenceLen = 4 + r.intn(9)
				sentence = 0
			} else {
				sentence = 1
			}
			continue
		}
		w := vocabulary[r.intn(len(vocabulary))]
		switch {
		case len(pieces) == 0:
			w = capitalize(w)
		case sentence == 0:
			w = " " + capitalize(w)
		default:
			w = " " + w
		}
		pieces = append(pieces, w)
		sentence++
	}
	return pieces, n == natural
}

func capitalize(w string) string {
	r, size := utf8.DecodeRuneInString(w)
	return string(unicode.ToUpper(r)) + w[size:]
}

// embedding returns a unit vector of the given dimension, deterministic in r.
func embedding(r rng, dims int) []float32 {
	v := make([]float32, dims)
	var norm float64
	for i := range v {
		x := r.float()*2 - 1
		v[i] = float32(x)
		norm += x * x
	}
	if norm == 0 {
		return v
	}
	scale := 1 / math.Sqrt(norm)
	for i := range v {
		v[i] = float32(float64(v[i]) * scale)
	}
	return v
}
