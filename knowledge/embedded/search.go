package embedded

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"sort"

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
	lex := map[int32]float64{}
	for _, q := range r.Terms {
		ps := ix.postings[q.Term]
		if len(ps) == 0 {
			continue
		}
		idf := knowledge.IDF(n, float64(len(ps)))
		for _, p := range ps {
			lex[p.doc] += knowledge.BM25(q.Weight, idf, p.tf, ix.docs[p.doc].Len, ix.avgdl)
		}
	}
	chosen := map[int32]float64{} // doc → lexical score if in the lexical list
	for _, e := range topK(len(lex), r.Limit, func(yield func(int32, float64)) {
		for d, sc := range lex {
			if sc > 0 {
				yield(d, sc)
			}
		}
	}) {
		chosen[e.doc] = e.score
	}
	var dense map[int32]float64
	if len(r.Vector) > 0 {
		qn := 0.0
		for _, x := range r.Vector {
			qn += float64(x) * float64(x)
		}
		dim := ix.meta.Dim
		dense = make(map[int32]float64, len(ix.docs))
		all := func(yield func(int32, float64)) {
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
				dense[int32(i)] = c
				yield(int32(i), c)
			}
		}
		for _, e := range topK(len(ix.docs), r.Limit, all) {
			if _, ok := chosen[e.doc]; !ok {
				chosen[e.doc] = 0
			}
		}
	}
	out := make([]knowledge.Candidate, 0, len(chosen))
	for i, sc := range chosen {
		d := ix.docs[i]
		c := knowledge.Candidate{Code: d.Procedure.Code, Name: d.Procedure.Name, Levels: d.Procedure.Levels,
			Lexical: sc, Dense: dense[i]}
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
