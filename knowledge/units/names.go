package units

import (
	"strings"
	"unicode"

	"github.com/trolyao/trolyao/knowledge"
)

// nameParts is an official name taken apart: "Thị Trấn Óc Eo" → type "Thị trấn", core "Óc Eo", full "Thị trấn Óc
// Eo", raw "óc eo" (lowercase with diacritics, for the accent check), key "oc eo" (the index key).
type nameParts struct {
	typ, core, full, raw, key string
	toks                      []token
}

// namer takes names apart once: the mapping repeats each district and province thousands of times.
type namer map[string]*nameParts

func (n namer) get(s string) *nameParts {
	if nm, ok := n[s]; ok {
		return nm
	}
	typ, core := knowledge.SplitUnitName(s)
	nm := &nameParts{typ: typ, core: core, full: joinName(typ, core), toks: tokenizeNorm(core)}
	nm.key, nm.raw = joinToks(nm.toks)
	n[s] = nm
	return nm
}

func joinToks(toks []token) (key, raw string) {
	var k, r strings.Builder
	for i, t := range toks {
		if i > 0 {
			k.WriteByte(' ')
			r.WriteByte(' ')
		}
		k.WriteString(t.fold)
		r.WriteString(t.raw)
	}
	return k.String(), r.String()
}

func levelOf(typ string) levelSet {
	for _, t := range unitTypes {
		if t.name == typ {
			return t.level
		}
	}
	return 0
}

func joinName(typ, core string) string {
	if typ == "" {
		return core
	}
	return typ + " " + core
}

// addKeys indexes a name under its key and variants: apostrophes spaced ("M'Đrắk" → "mdrak" and "m drak"), a
// state-farm prefix dropped ("Thị trấn NT Liên Sơn" → "lien son"), a Roman numeral read ("Phường V" → "5").
func (g *Gazetteer) addKeys(nm *nameParts, r ref) {
	g.addKey(nm.key, r)
	r.variant = true
	if d, ok := romanName[nm.key]; ok {
		g.addKey(d, r)
	}
	if strings.ContainsAny(nm.core, "'’‘`") {
		g.addKey(keyOf(strings.NewReplacer("'", " ", "’", " ", "‘", " ", "`", " ").Replace(nm.core)), r)
	}
	toks := nm.toks
	if len(toks) > 2 && (toks[0].fold == "nt" || toks[0].fold == "n" && toks[1].fold == "t") {
		skip := 1
		if toks[0].fold == "n" {
			skip = 2
		}
		k, _ := joinToks(toks[skip:])
		g.addKey(k, r)
	}
}

func (g *Gazetteer) addKey(k string, r ref) {
	if k == "" {
		return
	}
	for _, x := range g.index[k] {
		if x.kind == r.kind && x.id == r.id {
			return
		}
	}
	g.index[k] = append(g.index[k], r)
	if n := strings.Count(k, " ") + 1; n > g.maxKey {
		g.maxKey = n
	}
}

func keyOf(name string) string {
	k, _ := joinToks(tokenize(name))
	return k
}

// ---- tokens ----

// token is one syllable of a unit mention: lowercase with diacritics (raw), folded for matching (fold), and
// its byte range in the normalised text.
type token struct {
	raw, fold string
	accented  bool // raw carries diacritics
	from, to  int
}

// roman are Roman numerals read as numbers in any text; "i", "v", "x" and "vi" are words too, so they are only
// read as numbers in the index, when a whole name is one ("Phường V").
var roman = map[string]string{"ii": "2", "iii": "3", "iv": "4", "vii": "7", "viii": "8", "ix": "9"}

var romanName = map[string]string{"i": "1", "v": "5", "vi": "6", "x": "10"}

// tokenize splits knowledge.Normalize(s) into syllables. Apostrophes inside a word are dropped (M'Đrắk is one syllable),
// "p4"/"q10" are split into the unit word and the number, numbers lose leading zeros ("04" → "4"), Roman numerals
// become digits, and a final y after a consonant is read as i (Quý/Quí, Sỹ/Sĩ).
func tokenize(s string) []token {
	return tokenizeNorm(knowledge.Normalize(s))
}

func tokenizeNorm(s string) []token {
	out := make([]token, 0, len(s)/4+1)
	var raw strings.Builder
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		out = appendTok(out, raw.String(), start, end)
		raw.Reset()
		start = -1
	}
	for i, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if start < 0 {
				start = i
			}
			raw.WriteRune(unicode.ToLower(r))
		case (r == '\'' || r == '’' || r == '‘') && start >= 0:
			// inside a word: drop it
		default:
			flush(i)
		}
	}
	flush(len(s))
	return out
}

func appendTok(out []token, raw string, from, to int) []token {
	fold := knowledge.Fold(raw)
	// "p4", "q10", "phuong04": split the unit word from the number.
	if j := strings.IndexFunc(fold, isASCIIDigit); j > 0 && glued[fold[:j]] && allDigits(fold[j:]) {
		rj := strings.IndexFunc(raw, isASCIIDigit)
		out = appendTok(out, raw[:rj], from, from+rj)
		return appendTok(out, raw[rj:], from+rj, to)
	}
	accented := fold != raw
	switch {
	case allDigits(fold):
		fold = strings.TrimLeft(fold, "0")
		if fold == "" {
			fold = "0"
		}
		raw = fold
	case roman[fold] != "":
		fold = roman[fold]
	case len(fold) >= 2 && fold[len(fold)-1] == 'y' && (!strings.ContainsRune("aeiouy", rune(fold[len(fold)-2])) || fold == "quy"):
		fold = fold[:len(fold)-1] + "i"
	}
	return append(out, token{raw: raw, fold: fold, accented: accented, from: from, to: to})
}

func isASCIIDigit(r rune) bool { return r >= '0' && r <= '9' }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
