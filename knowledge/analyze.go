package knowledge

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// AnalyzerVersion changes whenever DocTerms or EmbedText change, so that content hashes change and an ingest
// re-indexes every record.
const AnalyzerVersion = "a1"

// Term weights of the lexical index.
const (
	nameWeight   = 3.0 // procedure name and staff aliases
	otherWeight  = 1.0 // field (lĩnh vực) and result
	bigramWeight = 1.0 // a query bigram relative to a unigram
)

// Query is an analysed citizen question.
type Query struct {
	Text   string      // the question, normalised
	Tokens []string    // folded syllables after the lexicon
	Terms  []QueryTerm // unigrams and bigrams with weights, for the lexical index
	Level  Level       // the level the question points at ("ở phường" → commune), if any
}

// Analyze normalises a question, applies the lexicon and returns its lexical terms.
// It returns ErrQueryTooLong for questions over MaxQueryRunes and ErrInvalid for invalid UTF-8.
func Analyze(q string) (Query, error) {
	if !utf8.ValidString(q) {
		return Query{}, fmt.Errorf("analyze: %w: not valid UTF-8", ErrInvalid)
	}
	if n := utf8.RuneCountInString(q); n > MaxQueryRunes {
		return Query{}, fmt.Errorf("analyze: %w: %d characters, at most %d", ErrQueryTooLong, n, MaxQueryRunes)
	}
	text := Normalize(q)
	typed := tokens(text)
	toks := activeLexicon.Load().rewrite(typed)
	folded := make([]string, 0, len(toks))
	for _, t := range toks {
		folded = append(folded, t.fold)
	}
	return Query{Text: text, Tokens: folded, Terms: queryTerms(folded), Level: levelHint(typed)}, nil
}

// levelHint reads the level a question points at: a ward or commune ("ở phường", "công an xã") or the
// province ("sở", "cấp tỉnh").
func levelHint(ts []token) Level {
	for _, t := range ts {
		switch {
		case t.raw == "phường" || t.raw == "xã" || t.fold == "phuong" || t.raw == "ubnd":
			return LevelCommune
		case t.raw == "tỉnh" || t.raw == "sở" || t.fold == "tinh":
			return LevelProvince
		}
	}
	return ""
}

func queryTerms(toks []string) []QueryTerm {
	w := map[string]float64{}
	order := []string{}
	add := func(t string, x float64) {
		if _, ok := w[t]; !ok {
			order = append(order, t)
		}
		w[t] += x
	}
	for _, t := range toks {
		add(t, 1)
	}
	for _, b := range Bigrams(toks) {
		add(b, bigramWeight)
	}
	out := make([]QueryTerm, 0, len(order))
	for _, t := range order {
		out = append(out, QueryTerm{Term: t, Weight: w[t]})
	}
	return out
}

// nameCache memoises indexName: ranking tokenises the names of every candidate of every query.
var nameCache = struct {
	sync.RWMutex
	m map[string][]string
}{m: map[string][]string{}}

const nameCacheMax = 200_000

// indexName is the procedure name as indexed: the leading "Thủ tục" that some names carry says nothing.
// The result is shared and must not be modified.
func indexName(name string) []string {
	nameCache.RLock()
	toks, ok := nameCache.m[name]
	nameCache.RUnlock()
	if ok {
		return toks
	}
	toks = indexNameUncached(name)
	nameCache.Lock()
	if len(nameCache.m) >= nameCacheMax {
		clear(nameCache.m)
	}
	nameCache.m[name] = toks
	nameCache.Unlock()
	return toks
}

func indexNameUncached(name string) []string {
	toks := Syllables(name)
	if len(toks) > 2 && toks[0] == "thu" && toks[1] == "tuc" {
		toks = toks[2:]
	}
	return toks
}

// DocTerms returns the lexical terms of a procedure with their weighted frequencies, and the document length.
// Name and aliases weigh nameWeight, field and result otherWeight; each contributes syllables and bigrams.
func DocTerms(p *Procedure) (map[string]float64, float64) {
	terms := map[string]float64{}
	total := 0.0
	add := func(toks []string, w float64) {
		for _, t := range toks {
			terms[t] += w
			total += w
		}
		for _, b := range Bigrams(toks) {
			terms[b] += w
			total += w
		}
	}
	add(indexName(p.Name), nameWeight)
	for _, a := range p.Aliases {
		add(Syllables(a), nameWeight)
	}
	add(Syllables(p.Field), otherWeight)
	add(Syllables(p.Result), otherWeight)
	return terms, total
}

// EmbedText is the text of a procedure that embedders see: name, aliases, field and result, folded.
func EmbedText(p *Procedure) string {
	parts := []string{strings.Join(indexName(p.Name), " ")}
	for _, a := range p.Aliases {
		parts = append(parts, strings.Join(Syllables(a), " "))
	}
	parts = append(parts, strings.Join(Syllables(p.Field), " "), strings.Join(Syllables(p.Result), " "))
	return strings.Join(parts, " . ")
}

// QueryEmbedText is the text of an analysed query that embedders see.
func (q Query) EmbedText() string { return strings.Join(q.Tokens, " ") }

// ContentHash identifies a record's content and the analyzer version: equal hashes mean nothing to re-index.
func ContentHash(p *Procedure) string {
	b, err := json.Marshal(p)
	if err != nil { // a Procedure always marshals; keep the hash defined anyway
		b = []byte(fmt.Sprintf("%#v", p))
	}
	h := sha256.New()
	h.Write([]byte(AnalyzerVersion))
	h.Write([]byte{0})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// NewDoc builds the indexed form of a procedure with its embedding.
func NewDoc(p Procedure, vec []float32) Doc {
	terms, n := DocTerms(&p)
	return Doc{Procedure: p, Hash: ContentHash(&p), Terms: terms, Len: n, Vector: vec}
}
