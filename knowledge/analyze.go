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
const AnalyzerVersion = "a2"

// Term weights of the lexical index.
const (
	nameWeight     = 3.0 // procedure name and staff aliases
	otherWeight    = 1.0 // field (lĩnh vực) and result
	phrasingWeight = 1.0 // question-bank phrasings (see Phrasebook)
	bigramWeight   = 1.0 // a query bigram relative to a unigram
	// accentWeight is the weight of a syllable's accented form relative to its folded form: a question typed
	// with diacritics scores higher on documents with the same diacritics ("Bàn Cờ" is not "bán cổ"), while
	// folding stays the fallback for questions typed without them.
	accentWeight = 0.5
)

// accentMark starts the accented form of a syllable in the index; folded terms never contain it.
const accentMark = "~"

// Phrasebook supplies the question bank's phrasings of procedures: short names and situations citizens use,
// and questions as they ask them. They are indexed as a field of each procedure, in both stores, lexically
// and densely; knowledge/bank is the implementation.
type Phrasebook interface {
	Phrasings(code string) []string
	ID() string // identifies the bank version and selection
}

// Query is an analysed citizen question.
type Query struct {
	Text   string      // the question, normalised
	Tokens []string    // folded syllables after the lexicon
	Terms  []QueryTerm // unigrams and bigrams with weights, for the lexical index
	Level  Level       // the level the question points at ("ở phường" → commune), if any
}

// Analyze is Lexicon.Analyze with the built-in rules only, without the synonyms staff add.
func Analyze(q string) (Query, error) { return (*Lexicon)(nil).Analyze(q) }

// Analyze normalises a question, applies the lexicon and returns its lexical terms.
// It returns ErrQueryTooLong for questions over MaxQueryRunes and ErrInvalid for invalid UTF-8.
func (l *Lexicon) Analyze(q string) (Query, error) {
	if !utf8.ValidString(q) {
		return Query{}, fmt.Errorf("analyze: %w: not valid UTF-8", ErrInvalid)
	}
	if n := utf8.RuneCountInString(q); n > MaxQueryRunes {
		return Query{}, fmt.Errorf("analyze: %w: %d characters, at most %d", ErrQueryTooLong, n, MaxQueryRunes)
	}
	text := Normalize(q)
	typed := tokens(text)
	rewritten, kept := l.rules().read(typed)
	// The lexicon adds the catalog's words for what the citizen typed rather than replacing it: a word that is
	// context ("lấy vợ" in "tách hộ sau khi lấy vợ") keeps its place beside the topic, and the question bank's
	// phrasings, written the way citizens write, still match the words as typed.
	var tokens, marked []string
	seen := map[string]bool{}
	for i, ts := range [][]token{kept, rewritten} {
		for _, t := range ts {
			if !seen[t.fold] {
				seen[t.fold] = true
				tokens = append(tokens, t.fold)
			}
			if i == 0 && t.raw != t.fold && !t.fixed { // only what the citizen typed has diacritics to match
				marked = append(marked, accentMark+t.raw)
			}
		}
	}
	terms := mergeTerms(queryTerms(folds(kept)), queryTerms(folds(rewritten)))
	for _, m := range dedupe(marked) {
		terms = append(terms, QueryTerm{Term: m, Weight: accentWeight})
	}
	return Query{Text: text, Tokens: tokens, Terms: terms, Level: levelHint(typed)}, nil
}

func folds(ts []token) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.fold
	}
	return out
}

// mergeTerms is the union of two term lists, each term with the larger weight.
func mergeTerms(a, b []QueryTerm) []QueryTerm {
	at := make(map[string]int, len(a))
	for i, t := range a {
		at[t.Term] = i
	}
	for _, t := range b {
		if i, ok := at[t.Term]; ok {
			a[i].Weight = max(a[i].Weight, t.Weight)
			continue
		}
		at[t.Term] = len(a)
		a = append(a, t)
	}
	return a
}

func dedupe(xs []string) []string {
	seen := make(map[string]bool, len(xs))
	out := xs[:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
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
	m map[string]nameSyllables
}{m: map[string]nameSyllables{}}

const nameCacheMax = 200_000

// nameSyllables are a name's syllables as indexed, folded and as written (lowercase, with diacritics).
type nameSyllables struct{ fold, raw []string }

// indexName is the procedure name as indexed: the leading "Thủ tục" that some names carry says nothing.
// The result is shared and must not be modified.
func indexName(name string) []string { return indexNameBoth(name).fold }

func indexNameBoth(name string) nameSyllables {
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

func indexNameUncached(name string) nameSyllables {
	raw := rawSyllables(name)
	fold := make([]string, len(raw))
	for i, r := range raw {
		fold[i] = Fold(r)
	}
	if len(fold) > 2 && fold[0] == "thu" && fold[1] == "tuc" {
		fold, raw = fold[2:], raw[2:]
	}
	return nameSyllables{fold: fold, raw: raw}
}

// DocTerms returns the lexical terms of a procedure with their weighted frequencies, and the document length.
// Name and staff aliases weigh nameWeight, field and result otherWeight, the question bank's phrasings
// phrasingWeight; each contributes folded syllables and bigrams, and the accented form of every syllable that
// carries diacritics (accentWeight of its field's weight; not counted in the length).
func DocTerms(p *Procedure, phrasings []string) (map[string]float64, float64) {
	terms := map[string]float64{}
	total := 0.0
	add := func(text string, w float64, dropThuTuc bool) {
		raw := rawSyllables(text)
		if dropThuTuc && len(raw) > 2 && Fold(raw[0]) == "thu" && Fold(raw[1]) == "tuc" {
			raw = raw[2:]
		}
		toks := make([]string, len(raw))
		for i, r := range raw {
			toks[i] = Fold(r)
			if toks[i] != r {
				terms[accentMark+r] += w * accentWeight
			}
		}
		for _, t := range toks {
			terms[t] += w
			total += w
		}
		for _, b := range Bigrams(toks) {
			terms[b] += w
			total += w
		}
	}
	add(p.Name, nameWeight, true)
	for _, a := range p.Aliases {
		add(a, nameWeight, false)
	}
	add(p.Field, otherWeight, false)
	add(p.Result, otherWeight, false)
	for _, ph := range phrasings {
		add(ph, phrasingWeight, false)
	}
	return terms, total
}

// EmbedText is the text of a procedure that embedders see: name, aliases, field, result and the phrasings,
// folded.
func EmbedText(p *Procedure, phrasings []string) string {
	parts := []string{strings.Join(indexName(p.Name), " ")}
	for _, a := range p.Aliases {
		parts = append(parts, strings.Join(Syllables(a), " "))
	}
	parts = append(parts, strings.Join(Syllables(p.Field), " "), strings.Join(Syllables(p.Result), " "))
	for _, ph := range phrasings {
		parts = append(parts, strings.Join(Syllables(ph), " "))
	}
	return strings.Join(parts, " . ")
}

// QueryEmbedText is the text of an analysed query that embedders see.
func (q Query) EmbedText() string { return strings.Join(q.Tokens, " ") }

// ContentHash identifies a record's content, its phrasings and the analyzer version: equal hashes mean
// nothing to re-index.
func ContentHash(p *Procedure, phrasings []string) string {
	b, err := json.Marshal(p)
	if err != nil { // a Procedure always marshals; keep the hash defined anyway
		b = []byte(fmt.Sprintf("%#v", p))
	}
	h := sha256.New()
	h.Write([]byte(AnalyzerVersion))
	h.Write([]byte{0})
	h.Write(b)
	for _, ph := range phrasings {
		h.Write([]byte{0})
		h.Write([]byte(ph))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// PhrasingsOf returns the phrasings pb has for code; nil when pb is nil.
func PhrasingsOf(pb Phrasebook, code string) []string {
	if pb == nil {
		return nil
	}
	return pb.Phrasings(code)
}

// NewDoc builds the indexed form of a procedure with its embedding.
// phrasings are the question bank's (see Phrasebook); nil for none.
func NewDoc(p Procedure, phrasings []string, vec []float32) Doc {
	terms, n := DocTerms(&p, phrasings)
	return Doc{Procedure: p, Hash: ContentHash(&p, phrasings), Terms: terms, Len: n, Vector: vec}
}
