package assistant

import (
	"math"
	"slices"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/bank"
)

// PhraseIndex finds, for a message, how much of each known phrasing it contains: the question bank's
// phrasings of procedures (labelled with their codes) or its negatives (off-topic, unlawful, political, not in
// this catalog). The similarity of a phrasing to a message is the share of the phrasing's information (idf
// weight of its folded syllables and bigrams) that the message contains, so it does not fall when the message
// adds context of its own. Build it once; it is read-only and safe for concurrent use.
type PhraseIndex struct {
	postings map[string][]int32 // term → phrasings containing it
	labels   []string
	total    []float64 // information of each phrasing
	norm2    []float64 // squared norm of each phrasing's idf vector
	idf      map[string]float64
	// byLabel[t] lists, for term t, each label whose phrasings contain it and the share of them that do.
	byLabel map[string][]labelShare
}

type labelShare struct {
	label string
	share float64
}

// minIDF drops terms too common to say anything ("cần", "làm", "gì" in every phrasing).
const minIDF = 1.0

// NewPhraseIndex indexes texts with their labels (len(labels) == len(texts)).
func NewPhraseIndex(texts, labels []string) *PhraseIndex {
	ix := &PhraseIndex{postings: map[string][]int32{}, labels: labels, total: make([]float64, len(texts)),
		norm2: make([]float64, len(texts)),
		idf:   map[string]float64{}}
	terms := make([][]string, len(texts))
	df := map[string]int{}
	for i, t := range texts {
		terms[i] = phraseTerms(knowledge.Syllables(t))
		for _, x := range terms[i] {
			df[x]++
		}
	}
	n := float64(len(texts))
	for t, d := range df {
		ix.idf[t] = math.Log(1 + n/float64(d))
	}
	count := map[string]int{}
	for _, l := range labels {
		count[l]++
	}
	perLabel := map[string]map[string]int{}
	for i, ts := range terms {
		for _, t := range ts {
			w := ix.idf[t]
			if w < minIDF {
				continue
			}
			ix.postings[t] = append(ix.postings[t], int32(i))
			ix.total[i] += w
			ix.norm2[i] += w * w
			if perLabel[t] == nil {
				perLabel[t] = map[string]int{}
			}
			perLabel[t][labels[i]]++
		}
	}
	ix.byLabel = make(map[string][]labelShare, len(perLabel))
	for t, m := range perLabel {
		for l, c := range m {
			ix.byLabel[t] = append(ix.byLabel[t], labelShare{l, float64(c) / float64(count[l])})
		}
	}
	return ix
}

// Foreign counts the distinct syllables of toks (of idf minIDF and more) that no phrasing labelled label
// contains and that known does not list: what a message says beyond a procedure ("cách làm bánh flan" after a
// question on a fine), which a follow-up on it ("vậy nộp ở đâu") does not.
func (ix *PhraseIndex) Foreign(toks []string, label string, known map[string]bool) int {
	if ix == nil {
		return 0
	}
	n := 0
	seen := map[string]bool{}
	for _, t := range toks {
		if seen[t] || known[t] || ix.idf[t] < minIDF {
			continue
		}
		seen[t] = true
		if !slices.ContainsFunc(ix.byLabel[t], func(ls labelShare) bool { return ls.label == label }) {
			n++
		}
	}
	return n
}

// genericLabels is the number of labels whose phrasings must contain a word for it to be generic: the words
// of asking about any procedure ("thời gian", "giải quyết", "online", "phường"), which say nothing of which.
const genericLabels = 40

// Specific counts the distinct syllables of toks that Foreign counts and that are not generic (in the
// phrasings of genericLabels labels or more): what a message says that is neither about the procedure label
// nor about procedures in general.
func (ix *PhraseIndex) Specific(toks []string, label string, known map[string]bool) int {
	if ix == nil {
		return 0
	}
	generic := map[string]bool{}
	for t := range known {
		generic[t] = true
	}
	for _, t := range toks {
		if len(ix.byLabel[t]) >= genericLabels {
			generic[t] = true
		}
	}
	return ix.Foreign(toks, label, generic)
}

// phraseTerms are the distinct folded syllables and bigrams of toks.
func phraseTerms(toks []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range append(toks, knowledge.Bigrams(toks)...) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// Best returns, per label, the similarity of the closest phrasing to the message toks (folded syllables).
func (ix *PhraseIndex) Best(toks []string) map[string]float64 {
	if ix == nil || len(ix.labels) == 0 {
		return nil
	}
	got := map[int32]float64{}
	for _, t := range phraseTerms(toks) {
		w := ix.idf[t]
		if w < minIDF {
			continue
		}
		for _, d := range ix.postings[t] {
			got[d] += w
		}
	}
	out := map[string]float64{}
	for d, w := range got {
		s := w / ix.total[d]
		l := ix.labels[d]
		if s > out[l] {
			out[l] = s
		}
	}
	return out
}

// Max returns the similarity of the closest phrasing of any label.
func (ix *PhraseIndex) Max(toks []string) float64 {
	m := 0.0
	for _, v := range ix.Best(toks) {
		m = math.Max(m, v)
	}
	return m
}

// BankIndexes are the phrase indexes of a question bank: its phrasings by procedure code, and its negatives —
// leaving out, for the splits in exclude, the probes an evaluation of those splits asks.
func BankIndexes(b *bank.Bank, exclude ...bank.Split) (phrases, negatives *PhraseIndex) {
	texts, codes := b.Phrasebook(exclude...).Texts()
	neg, kinds := b.NegativesWhere(func(n bank.Negative) bool { return !n.Probe || !slices.Contains(exclude, n.Split) })
	return NewPhraseIndex(texts, codes), NewPhraseIndex(neg, kinds)
}

// Unknown counts the distinct syllables of toks (numbers and single letters aside) that no phrasing of the
// index contains and known does not list: words neither the catalog's candidates nor any way citizens were
// seen to ask use, like "karaoke" in a licence question. Context citizens add (a ward, a relative, a job) is
// in the bank's phrasings and so is not unknown.
func (ix *PhraseIndex) Unknown(toks []string, known map[string]bool) int {
	if ix == nil {
		return 0
	}
	n := 0
	seen := map[string]bool{}
	for _, t := range toks {
		if seen[t] || known[t] || len(t) < 2 || t[0] >= '0' && t[0] <= '9' {
			continue
		}
		seen[t] = true
		if _, ok := ix.idf[t]; !ok {
			n++
		}
	}
	return n
}

// MaxCosine returns the largest cosine similarity (idf-weighted, terms of minIDF and more) between the
// message toks and a phrasing of the index: how alike the message is to a known one as a whole, which a short
// message merely contained in a longer phrasing is not.
func (ix *PhraseIndex) MaxCosine(toks []string) float64 {
	sim, _ := ix.Nearest(toks)
	return sim
}

// Nearest returns the largest cosine similarity (as MaxCosine) and the label of that phrasing.
func (ix *PhraseIndex) Nearest(toks []string) (float64, string) {
	if ix == nil || len(ix.labels) == 0 {
		return 0, ""
	}
	got := map[int32]float64{}
	qn := 0.0
	for _, t := range phraseTerms(toks) {
		w := ix.idf[t]
		if w < minIDF {
			continue
		}
		qn += w * w
		for _, d := range ix.postings[t] {
			got[d] += w * w
		}
	}
	best, label, at := 0.0, "", int32(-1)
	for d, dot := range got {
		s := dot / math.Sqrt(qn*ix.norm2[d])
		if s > best || s == best && d < at { // ties to the earlier phrasing: the same answer on every run
			best, label, at = s, ix.labels[d], d
		}
	}
	return best, label
}
