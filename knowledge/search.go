package knowledge

import (
	"context"
	"fmt"
	"math"
	"sort"
)

// Weights of the hybrid fusion. Tuned on labelled questions (see docs/BENCHMARKS.md); plain reciprocal-rank
// fusion ranked worse than weighted score fusion on them, as on public Vietnamese benchmarks.
type Weights struct {
	Lexical    float64 // weight of BM25, normalised by the best lexical score of the query
	Dense      float64 // weight of the cosine similarity
	NameCover  float64 // weight of the share of the procedure name's syllables that the question contains
	Commune    float64 // bonus for procedures handled at commune level (what citizens use first)
	Province   float64 // bonus for province level
	Hinted     float64 // bonus for the level the question names ("ở phường")
	Obsolete   float64 // penalty for variants of abolished levels ("cấp huyện", gone since 1 July 2025)
	Candidates int     // candidates from each list
}

// DefaultWeights are the tuned weights.
var DefaultWeights = Weights{Lexical: 1.0, Dense: 0.35, NameCover: 0.3, Commune: 0.04, Province: 0.02, Hinted: 0.05,
	Obsolete: 0.1, Candidates: 60}

// Hit is one ranked procedure.
type Hit struct {
	Code    string
	Name    string
	Levels  []Level
	Score   float64 // fused score
	Lexical float64 // raw BM25
	Dense   float64 // cosine similarity
	// NameCover is the share of the procedure name's distinct syllables that the question contains.
	NameCover float64
}

// Result is a ranked answer to a question.
type Result struct {
	Query      Query
	Hits       []Hit
	Confidence float64         // estimated probability that Hits[0] is a right answer; 0 with no hits
	Signals    Signals         // what the confidence was computed from
	Matched    map[string]bool // query syllables that some candidate contains
}

// Signals are the features of the confidence estimate.
type Signals struct {
	Coverage float64 // share of the question's syllables found in the best procedure
	Dense    float64 // cosine similarity of the best procedure
	Margin   float64 // relative lead of the best fused score over the second
	Unknown  int     // question syllables no candidate contains
}

// Searcher ranks procedures for a question: it analyses the question, asks the store for lexical and dense
// candidates, fuses them and estimates its confidence. Both stores return the same candidates, so the
// ranking does not depend on the store.
type Searcher struct {
	Store    Store
	Embedder Embedder
	Weights  Weights
	// Lexicon reads the questions (nil: the built-in rules only). Staff publishing synonyms update it while
	// the searcher serves; the searchers of one process that should read questions alike share one.
	Lexicon *Lexicon
}

// Search returns the k best procedures for question q.
func (s *Searcher) Search(ctx context.Context, q string, k int) (Result, error) {
	if k <= 0 || k > MaxSearchK {
		return Result{}, fmt.Errorf("search: %w: k=%d, want 1..%d", ErrInvalid, k, MaxSearchK)
	}
	query, err := s.Lexicon.Analyze(q)
	if err != nil {
		return Result{}, err
	}
	res := Result{Query: query}
	if len(query.Terms) == 0 {
		return res, nil
	}
	w := s.Weights
	if w.Candidates == 0 {
		w = DefaultWeights
	}
	var vec []float32
	if s.Embedder != nil && w.Dense != 0 {
		vec, err = s.Embedder.EmbedQuery(ctx, query.EmbedText())
		if err != nil {
			return Result{}, fmt.Errorf("search: embed query: %w", err)
		}
	}
	cands, err := s.Store.Search(ctx, SearchRequest{Terms: query.Terms, Vector: vec, Limit: max(w.Candidates, k)})
	if err != nil {
		return Result{}, fmt.Errorf("search: %w", err)
	}
	res.Matched = matchedTerms(cands)
	res.Hits, res.Signals = fuse(query, cands, res.Matched, w, k)
	if len(res.Hits) > 0 {
		res.Confidence = res.Signals.confidence()
	}
	return res, nil
}

func fuse(q Query, cands []Candidate, known map[string]bool, w Weights, k int) ([]Hit, Signals) {
	maxLex := 0.0
	for _, c := range cands {
		maxLex = math.Max(maxLex, c.Lexical)
	}
	hits := make([]Hit, 0, len(cands))
	matched := map[string][]string{}
	inQuery := make(map[string]bool, len(q.Tokens))
	for _, t := range q.Tokens {
		inQuery[t] = true
	}
	typed := typedForms(q.Text)
	for _, c := range cands {
		if c.Lexical == 0 && maxLex > 0 && c.Dense < 0.2 {
			continue
		}
		score := w.Dense * c.Dense
		if maxLex > 0 {
			score += w.Lexical * c.Lexical / maxLex
		}
		name := indexNameBoth(c.Name)
		cover := nameCover(name, inQuery, typed)
		score += w.NameCover*cover + levelBonus(c.Levels, q.Level, w)
		if obsoleteLevel(name.fold) {
			score -= w.Obsolete
		}
		hits = append(hits, Hit{Code: c.Code, Name: c.Name, Levels: c.Levels, Score: score, Lexical: c.Lexical, Dense: c.Dense,
			NameCover: cover})
		matched[c.Code] = c.Matched
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].Code < hits[j].Code
	})
	if len(hits) > k {
		hits = hits[:k]
	}
	if len(hits) == 0 {
		return hits, Signals{}
	}
	sig := Signals{Coverage: coverage(q, matched[hits[0].Code]), Dense: hits[0].Dense, Unknown: unmatched(q, known)}
	if len(hits) > 1 && hits[0].Score > 0 {
		sig.Margin = (hits[0].Score - hits[1].Score) / hits[0].Score
	}
	return hits, sig
}

// nameCover is the share of the name's distinct syllables that the question contains. When the question is
// typed with diacritics (typed is not nil), a syllable it typed with other diacritics does not count: "ông bà
// nội ngoại" does not contain the "ngoài" of "có yếu tố nước ngoài", nor "phường Bàn Cờ" the "bán" of "bán cổ
// phiếu". A syllable typed without diacritics, or added by the lexicon, counts on its folded form.
func nameCover(name nameSyllables, inQuery map[string]bool, typed map[string]map[string]bool) float64 {
	seen := map[string]bool{}
	hit := 0
	for i, t := range name.fold {
		if seen[t] {
			continue
		}
		seen[t] = true
		if !inQuery[t] {
			continue
		}
		if forms := typed[t]; forms != nil && !forms[t] && !forms[name.raw[i]] {
			continue
		}
		hit++
	}
	if len(seen) == 0 {
		return 0
	}
	return float64(hit) / float64(len(seen))
}

// typedForms maps each folded syllable of a question typed with diacritics to the forms it was typed in; nil
// for a question typed without any.
func typedForms(text string) map[string]map[string]bool {
	ts := tokens(text)
	if !accented(ts) {
		return nil
	}
	out := make(map[string]map[string]bool, len(ts))
	for _, t := range ts {
		if out[t.fold] == nil {
			out[t.fold] = map[string]bool{}
		}
		out[t.fold][t.raw] = true
	}
	return out
}

// obsoleteLevel reports names of variants for district level ("thực hiện tại cấp huyện"), abolished in 2025.
func obsoleteLevel(name []string) bool {
	for i := 0; i+1 < len(name); i++ {
		if name[i] == "cap" && name[i+1] == "huyen" {
			return true
		}
	}
	return false
}

func levelBonus(ls []Level, hint Level, w Weights) float64 {
	b := 0.0
	for _, l := range ls {
		switch l {
		case LevelCommune:
			b = math.Max(b, w.Commune)
		case LevelProvince:
			b = math.Max(b, w.Province)
		}
		if l == hint {
			b += w.Hinted
		}
	}
	return b
}

// matchedTerms is the set of query terms that some candidate contains.
func matchedTerms(cands []Candidate) map[string]bool {
	known := map[string]bool{}
	for _, c := range cands {
		for _, m := range c.Matched {
			known[m] = true
		}
	}
	return known
}

// unmatched counts the question's distinct syllables that no candidate contains (known lists those that some
// does): words the catalog does not know, such as "karaoke" or "thời tiết".
func unmatched(q Query, known map[string]bool) int {
	n := 0
	seen := map[string]bool{}
	for _, t := range q.Tokens {
		if !seen[t] && !known[t] && !isNumber(t) {
			n++
		}
		seen[t] = true
	}
	return n
}

func isNumber(t string) bool {
	for i := 0; i < len(t); i++ {
		if !isDigit(t[i]) && t[i] != '.' {
			return false
		}
	}
	return t != ""
}

// Calibration of the confidence: a logistic function of the share of the question's syllables that the best
// procedure contains, its dense similarity and its margin over the second. Fitted on labelled questions.
// The assistant decides with its own fitted policy (assistant/policy.go); this estimate serves `trolyao search`
// and the search API. It no longer subtracts anything per unknown word: that punished every bit of personal
// context a citizen adds ("2 đứa khác tỉnh", "ở quận Gò Vấp").
var calibration = struct{ Bias, Coverage, Dense, Margin, Unknown float64 }{Bias: -4.0, Coverage: 6.0, Dense: 2.0,
	Margin: 2.0, Unknown: 0}

// Coverage is the share of the query's syllables (unigrams) found in the matched terms.
func coverage(q Query, matched []string) float64 {
	uni := 0
	in := map[string]bool{}
	for _, m := range matched {
		in[m] = true
	}
	hit := 0
	seen := map[string]bool{}
	for _, t := range q.Tokens {
		if seen[t] {
			continue
		}
		seen[t] = true
		uni++
		if in[t] {
			hit++
		}
	}
	if uni == 0 {
		return 0
	}
	return float64(hit) / float64(uni)
}

func (sg Signals) confidence() float64 {
	c := calibration
	z := c.Bias + c.Coverage*sg.Coverage + c.Dense*sg.Dense + c.Margin*sg.Margin - c.Unknown*float64(sg.Unknown)
	return 1 / (1 + math.Exp(-z))
}
