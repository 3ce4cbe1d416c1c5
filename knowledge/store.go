package knowledge

import (
	"context"
	"math"
)

// Doc is what a store keeps for one procedure: the record, its content hash, its lexical terms and its
// embedding. Build one with NewDoc so every store indexes the same terms.
type Doc struct {
	Procedure Procedure
	Hash      string             // content hash of the record (see ContentHash)
	Terms     map[string]float64 // lexical term → weighted term frequency
	Len       float64            // sum of Terms, the BM25 document length
	Vector    []float32          // embedding of EmbedText(Procedure); len == Meta.Dim
}

// Meta describes the index: which embedder produced its vectors.
type Meta struct {
	Embedder string `json:"embedder"` // identity, e.g. "hash-v1" or "openai:text-embedding-3-small"
	Dim      int    `json:"dim"`
}

// Change is one atomic update of a store: after Apply either all of it is visible or none of it.
type Change struct {
	Upsert []Doc
	Delete []string // procedure codes
	Meta   *Meta    // when set, replaces the stored meta (with Reset, the whole index)
	Reset  bool     // delete every procedure not in Upsert (used when the embedder changes)
}

// QueryTerm is one weighted term of an analysed query.
type QueryTerm struct {
	Term   string
	Weight float64
}

// SearchRequest asks a store for candidates. Both lists are computed over the whole index:
// the Lexical best by BM25 (see BM25) and the Dense best by cosine similarity, each up to Limit.
type SearchRequest struct {
	Terms  []QueryTerm
	Vector []float32
	Limit  int // candidates from each list; the union is returned
}

// Candidate is one procedure returned by a store's search, with both raw scores.
// A candidate found only by the dense list has Lexical 0; one found only lexically still has its Dense score
// when the store can compute it cheaply (both stores do), so fusion sees the same numbers from either store.
type Candidate struct {
	Code    string
	Name    string
	Levels  []Level
	Lexical float64  // BM25 score, 0 when not in the lexical list
	Dense   float64  // cosine similarity in [-1, 1]
	Matched []string // query terms present in the document
}

// Store is a procedure catalog with a retrieval index. Implementations: knowledge/embedded (default) and
// knowledge/postgres. They must pass the same contract tests (knowledge/storetest).
type Store interface {
	Get(ctx context.Context, code string) (Procedure, error) // ErrNotFound if absent
	List(ctx context.Context) ([]Procedure, error)           // all procedures, ordered by code
	Hashes(ctx context.Context) (map[string]string, error)   // code → content hash
	Meta(ctx context.Context) (Meta, error)                  // zero Meta for an empty store
	Apply(ctx context.Context, c Change) error               // atomic
	Search(ctx context.Context, r SearchRequest) ([]Candidate, error)
	Close() error
}

// BM25 parameters shared by every store so that their lexical scores agree.
const (
	BM25K1 = 1.2
	BM25B  = 0.75
)

// IDF is the BM25 inverse document frequency of a term found in df of n documents.
func IDF(n, df float64) float64 {
	return math.Log(1 + (n-df+0.5)/(df+0.5))
}

// BM25 is one term's contribution: weight·idf·saturated tf for a document of length dl (average avgdl).
func BM25(weight, idf, tf, dl, avgdl float64) float64 {
	if avgdl <= 0 {
		avgdl = 1
	}
	return weight * idf * tf * (BM25K1 + 1) / (tf + BM25K1*(1-BM25B+BM25B*dl/avgdl))
}
