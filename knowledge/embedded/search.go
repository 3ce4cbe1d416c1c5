package embedded

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/trolyao/trolyao/knowledge"
)

// Search returns the union of the BM25 and the cosine top lists, exhaustively computed.
func (s *Store) Search(ctx context.Context, r knowledge.SearchRequest) ([]knowledge.Candidate, error) {
	if r.Limit <= 0 || r.Limit > knowledge.MaxSearchK*4 {
		return nil, fmt.Errorf("embedded: search: %w: limit %d", knowledge.ErrInvalid, r.Limit)
	}
	ix := s.idx.Load()
	if len(ix.docs) == 0 {
		return nil, nil
	}
	if len(r.Vector) > 0 && len(r.Vector) != ix.meta.Dim {
		return nil, fmt.Errorf("embedded: search: %w: query vector has %d dimensions, the index %d",
			knowledge.ErrInvalid, len(r.Vector), ix.meta.Dim)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("embedded: search: %w", err)
	}
	n := float64(len(ix.docs))
	sc := scratchFor(len(ix.docs))
	defer scratchPool.Put(sc)
	for _, q := range r.Terms {
		ps := ix.postings[q.Term]
		if len(ps) == 0 {
			continue
		}
		f := q.Weight * knowledge.IDF(n, float64(len(ps)))
		for _, p := range ps {
			if sc.lex[p.doc] == 0 {
				sc.touched = append(sc.touched, p.doc)
			}
			sc.lex[p.doc] += f * p.sat
		}
	}
	chosen := map[int32]float64{} // doc → lexical score if in the lexical list
	for _, e := range topK(len(sc.touched), r.Limit, func(yield func(int32, float64)) {
		for _, d := range sc.touched {
			if s := sc.lex[d]; s > 0 {
				yield(d, s)
			}
		}
	}) {
		chosen[e.doc] = e.score
	}
	hasDense := len(r.Vector) > 0
	if hasDense {
		qn := 0.0
		for _, x := range r.Vector {
			qn += float64(x) * float64(x)
		}
		dim := ix.meta.Dim
		for i := range ix.docs {
			row := ix.vecs[i*dim : (i+1)*dim]
			var dot float32
			for j, x := range row {
				dot += x * r.Vector[j]
			}
			c := 0.0
			if qn > 0 && ix.norms[i] > 0 {
				c = float64(dot) / math.Sqrt(qn*ix.norms[i])
			}
			sc.dense[i] = c
		}
		for _, e := range topK(len(ix.docs), r.Limit, func(yield func(int32, float64)) {
			for i, c := range sc.dense {
				yield(int32(i), c)
			}
		}) {
			if _, ok := chosen[e.doc]; !ok {
				chosen[e.doc] = 0
			}
		}
	}
	out := make([]knowledge.Candidate, 0, len(chosen))
	for i, lex := range chosen {
		d := ix.docs[i]
		c := knowledge.Candidate{Code: d.Procedure.Code, Name: d.Procedure.Name, Levels: d.Procedure.Levels, Lexical: lex}
		if hasDense {
			c.Dense = sc.dense[i]
		}
		for _, q := range r.Terms {
			if _, ok := d.Terms[q.Term]; ok {
				c.Matched = append(c.Matched, q.Term)
			}
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

// scratch holds per-query accumulators, reused across queries.
type scratch struct {
	lex     []float64
	dense   []float64
	touched []int32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// scratchFor returns zeroed accumulators for n documents.
func scratchFor(n int) *scratch {
	sc := scratchPool.Get().(*scratch)
	if cap(sc.lex) < n {
		sc.lex, sc.dense = make([]float64, n), make([]float64, n)
	} else {
		for _, d := range sc.touched { // only touched entries are non-zero
			sc.lex[d] = 0
		}
		sc.lex, sc.dense = sc.lex[:n], sc.dense[:n]
	}
	sc.touched = sc.touched[:0]
	return sc
}

type scored struct {
	doc   int32
	score float64
}

// minHeap keeps the k best: the root is the worst kept (lowest score, then highest code index).
type minHeap []scored

func (h minHeap) Len() int { return len(h) }
func (h minHeap) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score < h[j].score
	}
	return h[i].doc > h[j].doc
}
func (h minHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)   { *h = append(*h, x.(scored)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// topK returns the k best (score desc, then doc index asc — docs are ordered by code) of the yielded pairs.
func topK(hint, k int, each func(yield func(int32, float64))) []scored {
	h := make(minHeap, 0, min(hint, k))
	each(func(d int32, s float64) {
		e := scored{d, s}
		if len(h) < k {
			heap.Push(&h, e)
			return
		}
		if better(e, h[0]) {
			h[0] = e
			heap.Fix(&h, 0)
		}
	})
	return h
}

func better(a, b scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.doc < b.doc
}
