package knowledge

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
)

// Embedder turns texts into vectors. The method set is langchaingo's embeddings.Embedder, so any langchaingo
// embedder (OpenAI-compatible servers: vLLM, TEI, Ollama) can be used as it is.
type Embedder interface {
	EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error)
	EmbedQuery(ctx context.Context, text string) ([]float32, error)
}

// HashEmbedder is the default, offline embedder. It is NOT a neural model: it hashes folded syllables,
// syllable bigrams and character trigrams of each syllable into Dim buckets with random signs
// ("feature hashing"), with logarithmic term frequency, and L2-normalises the result. Its cosine similarity is
// a lexical similarity that tolerates typos and partial words; it knows nothing about meaning beyond what the
// lexicon already rewrote. It needs no download and is deterministic, so both stores index the same vectors.
type HashEmbedder struct {
	Dim int
}

// DefaultHashDim is the dimension of the default HashEmbedder.
const DefaultHashDim = 256

var _ Embedder = HashEmbedder{}

// Meta identifies the embedder for the index.
func (h HashEmbedder) Meta() Meta { return Meta{Embedder: "hash-v1", Dim: h.dim()} }

func (h HashEmbedder) dim() int {
	if h.Dim <= 0 {
		return DefaultHashDim
	}
	return h.Dim
}

// EmbedDocuments embeds each text.
func (h HashEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("hash embedder: %w", ctx.Err())
		}
		out[i] = h.embed(t)
	}
	return out, nil
}

// EmbedQuery embeds one text.
func (h HashEmbedder) EmbedQuery(_ context.Context, text string) ([]float32, error) {
	return h.embed(text), nil
}

func (h HashEmbedder) embed(text string) []float32 {
	dim := h.dim()
	counts := map[string]float64{}
	toks := Syllables(text)
	for _, t := range toks {
		counts["w:"+t]++
		g := "^" + t + "$"
		if len(g) > 4 {
			for i := 0; i+3 <= len(g); i++ {
				counts["c:"+g[i:i+3]] += 0.5
			}
		}
	}
	for _, b := range Bigrams(toks) {
		counts["b:"+b]++
	}
	v := make([]float64, dim)
	for f, c := range counts {
		hs := fnv.New64a()
		hs.Write([]byte(f))
		x := hs.Sum64()
		w := 1 + math.Log(c)
		if strings.HasPrefix(f, "c:") {
			w = 0.5 * (1 + math.Log(1+c))
		}
		if x>>63 == 1 {
			w = -w
		}
		v[int(x%uint64(dim))] += w
	}
	var n float64
	for _, x := range v {
		n += x * x
	}
	out := make([]float32, dim)
	if n == 0 {
		return out
	}
	n = math.Sqrt(n)
	for i, x := range v {
		out[i] = float32(x / n)
	}
	return out
}

// Cosine is the cosine similarity of two vectors of equal length (0 when either is zero).
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
