package storetest

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/trolyao/trolyao/knowledge"
)

// Reference is the search result the Store contract prescribes, computed by brute force over docs:
// N = len(docs), avgdl = mean Doc.Len, df(t) = number of docs whose Terms contain t; the lexical list is the
// Limit best docs with a BM25 score > 0 (score desc, code asc), the dense list the Limit best by cosine
// similarity (desc, code asc; none when r.Vector is empty); the result is their union ordered by code, each
// candidate with its lexical score when in the lexical list, its cosine similarity and its matched terms.
// It does not validate r.
func Reference(docs []knowledge.Doc, r knowledge.SearchRequest) []knowledge.Candidate {
	s := scoreAll(docs, r)
	in := map[int]bool{}
	lex := map[int]bool{}
	for _, i := range s.top(s.lexical, func(i int) bool { return s.lexical[i] > 0 }, r.Limit) {
		in[i], lex[i] = true, true
	}
	if len(r.Vector) > 0 {
		for _, i := range s.top(s.dense, func(int) bool { return true }, r.Limit) {
			in[i] = true
		}
	}
	out := make([]knowledge.Candidate, 0, len(in))
	for i := range in {
		out = append(out, s.candidate(i, lex[i]))
	}
	slices.SortFunc(out, func(a, b knowledge.Candidate) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// scores holds the reference scores of every doc for one request.
type scores struct {
	docs    []knowledge.Doc
	req     knowledge.SearchRequest
	lexical []float64 // BM25 score per doc
	dense   []float64 // cosine similarity per doc, 0 when the request has no vector
}

func scoreAll(docs []knowledge.Doc, r knowledge.SearchRequest) *scores {
	s := &scores{docs: docs, req: r, lexical: make([]float64, len(docs)), dense: make([]float64, len(docs))}
	n := float64(len(docs))
	total := 0.0
	df := map[string]float64{}
	for _, d := range docs {
		total += d.Len
		for t := range d.Terms {
			df[t]++
		}
	}
	avgdl := 0.0
	if n > 0 {
		avgdl = total / n
	}
	for i, d := range docs {
		for _, q := range r.Terms {
			if tf, ok := d.Terms[q.Term]; ok {
				s.lexical[i] += knowledge.BM25(q.Weight, knowledge.IDF(n, df[q.Term]), tf, d.Len, avgdl)
			}
		}
		if len(r.Vector) > 0 {
			s.dense[i] = Cosine(d.Vector, r.Vector)
		}
	}
	return s
}

// order returns the indexes of the docs that pass keep, by score desc then code asc.
func (s *scores) order(score []float64, keep func(int) bool) []int {
	var idx []int
	for i := range s.docs {
		if keep(i) {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(score[b], score[a]); c != 0 {
			return c
		}
		return strings.Compare(s.docs[a].Procedure.Code, s.docs[b].Procedure.Code)
	})
	return idx
}

func (s *scores) top(score []float64, keep func(int) bool, limit int) []int {
	idx := s.order(score, keep)
	if limit >= 0 && len(idx) > limit {
		idx = idx[:limit]
	}
	return idx
}

func (s *scores) candidate(i int, inLexical bool) knowledge.Candidate {
	d := s.docs[i]
	c := knowledge.Candidate{
		Code:    d.Procedure.Code,
		Name:    d.Procedure.Name,
		Levels:  d.Procedure.Levels,
		Dense:   s.dense[i],
		Matched: s.matched(i),
	}
	if inLexical {
		c.Lexical = s.lexical[i]
	}
	return c
}

func (s *scores) matched(i int) []string {
	var m []string
	for _, q := range s.req.Terms {
		if _, ok := s.docs[i].Terms[q.Term]; ok {
			m = append(m, q.Term)
		}
	}
	return m
}

// Cosine is the cosine similarity of a and b in float64 (knowledge.Cosine), 0 when either is zero or their
// lengths differ.
func Cosine(a, b []float32) float64 { return knowledge.Cosine(a, b) }

// syllables is a vocabulary of folded Vietnamese-like syllables for synthetic procedures.
var syllables = func() []string {
	onsets := []string{"", "b", "c", "ch", "d", "g", "gi", "h", "k", "kh", "l", "m", "n", "ng", "nh", "ph",
		"qu", "r", "s", "t", "th", "tr", "v", "x"}
	rimes := []string{"a", "ai", "an", "ang", "anh", "ao", "ap", "at", "au", "ay", "e", "em", "en", "et", "i",
		"ich", "iem", "ien", "inh", "o", "oa", "oan", "oc", "oi", "on", "ong", "u", "ua", "uan", "uc", "ui",
		"un", "ung", "uoc", "uong", "uy", "y"}
	var out []string
	for _, r := range rimes { // interleave so that frequent (low Zipf rank) syllables vary in shape
		for _, o := range onsets {
			out = append(out, o+r)
		}
	}
	rng := rand.New(rand.NewPCG(7, 11))
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}()

var syntheticFields = []string{"Hộ tịch", "Cư trú", "Đất đai", "Xây dựng", "Doanh nghiệp", "Đường bộ",
	"Chứng thực", "Tư pháp", "Bảo hiểm", "Việc làm", "Thuế", "Giáo dục", "Y tế", "Môi trường"}

var syntheticLevels = [][]knowledge.Level{
	{knowledge.LevelCommune}, {knowledge.LevelProvince}, {knowledge.LevelCentral},
	{knowledge.LevelProvince, knowledge.LevelCommune}, {knowledge.LevelOther}, nil,
}

// SyntheticDocs returns n documents built with knowledge.NewDoc from synthetic procedures whose names and
// results draw syllables from a Zipf-distributed vocabulary (so some terms are in many documents, most in
// few), with random unit vectors of dimension dim (none when dim is 0). Codes are "1.000001", "1.000002", …
// The same arguments always give the same documents.
func SyntheticDocs(n, dim int, seed uint64) []knowledge.Doc {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	zipf := rand.NewZipf(rng, 1.15, 3, uint64(len(syllables)-1))
	words := func(k int) string {
		w := make([]string, k)
		for i := range w {
			w[i] = syllables[zipf.Uint64()]
		}
		return strings.Join(w, " ")
	}
	docs := make([]knowledge.Doc, n)
	for i := range docs {
		p := knowledge.Procedure{
			Code:   fmt.Sprintf("%d.%06d", 1+i/1_000_000, i%1_000_000+1),
			Name:   words(4 + rng.IntN(12)),
			Levels: syntheticLevels[rng.IntN(len(syntheticLevels))],
			Field:  syntheticFields[rng.IntN(len(syntheticFields))],
			Result: words(2 + rng.IntN(8)),
			Source: "synthetic",
		}
		docs[i] = knowledge.NewDoc(p, nil, RandomVector(rng, dim))
	}
	return docs
}

// SyntheticQueries returns n requests that look like analysed questions about docs: a few consecutive
// syllables of a random document's name as unigrams and bigrams, often one unrelated syllable, and (when the
// docs have vectors) the document's vector with noise.
func SyntheticQueries(docs []knowledge.Doc, n, limit int, seed uint64) []knowledge.SearchRequest {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b9))
	out := make([]knowledge.SearchRequest, n)
	for i := range out {
		d := docs[rng.IntN(len(docs))]
		toks := knowledge.Syllables(d.Procedure.Name)
		k := min(len(toks), 2+rng.IntN(4))
		start := rng.IntN(len(toks) - k + 1)
		toks = slices.Clone(toks[start : start+k])
		if rng.IntN(2) == 0 {
			toks = append(toks, syllables[rng.IntN(len(syllables))])
		}
		var terms []knowledge.QueryTerm
		seen := map[string]bool{}
		add := func(t string, w float64) {
			if !seen[t] {
				seen[t] = true
				terms = append(terms, knowledge.QueryTerm{Term: t, Weight: w})
			}
		}
		for _, t := range toks {
			add(t, 1)
		}
		for _, b := range knowledge.Bigrams(toks) {
			add(b, 1)
		}
		var vec []float32
		if len(d.Vector) > 0 {
			vec = make([]float32, len(d.Vector))
			noise := RandomVector(rng, len(d.Vector))
			for j := range vec {
				vec[j] = d.Vector[j] + 0.6*noise[j]
			}
		}
		out[i] = knowledge.SearchRequest{Terms: terms, Vector: vec, Limit: limit}
	}
	return out
}

// RandomVector returns a random unit vector of dimension dim (nil for 0).
func RandomVector(rng *rand.Rand, dim int) []float32 {
	if dim == 0 {
		return nil
	}
	v := make([]float32, dim)
	var n float64
	for i := range v {
		x := rng.NormFloat64()
		v[i] = float32(x)
		n += x * x
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}
