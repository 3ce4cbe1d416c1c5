package knowledge

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Vietnamese tone marks as combining characters (after NFD).
const (
	toneGrave = '\u0300' // huyền
	toneAcute = '\u0301' // sắc
	toneTilde = '\u0303' // ngã
	toneHook  = '\u0309' // hỏi
	toneDot   = '\u0323' // nặng
)

func isTone(r rune) bool {
	switch r {
	case toneGrave, toneAcute, toneTilde, toneHook, toneDot:
		return true
	}
	return false
}

// Normalize returns s in NFC with Vietnamese tone marks placed in one canonical way, stray control and
// zero-width characters removed and runs of white space collapsed to one space.
//
// Tone placement: in an open syllable with the vowel pairs "oa", "oe" and "uy" the catalog puts the mark on the
// first vowel (hòa, khỏe, thủy); the other style (hoà, khoẻ, thuỷ) is rewritten to it. Syllables with a final
// consonant (hoàng, thuyết) are written one way in both styles and are left alone.
func Normalize(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	word := make([]rune, 0, 16)
	flush := func() {
		if len(word) > 0 {
			b.WriteString(placeTone(word))
			word = word[:0]
		}
	}
	for _, r := range s {
		switch {
		case r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\u200e' || r == '\u200f' || r == '\ufeff':
			continue
		case unicode.IsSpace(r) || unicode.IsControl(r):
			flush()
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if unicode.IsLetter(r) {
			word = append(word, r)
			continue
		}
		flush()
		b.WriteRune(r)
	}
	flush()
	return b.String()
}

// placeTone rewrites one word (letters only, NFC) to the canonical tone placement.
func placeTone(w []rune) string {
	if len(w) < 2 || len(w) > 7 {
		return string(w)
	}
	d := []rune(norm.NFD.String(string(w)))
	// Find the tone mark and the base letters.
	tone, toneAt := rune(0), -1
	base := make([]rune, 0, len(d))
	marks := make([][]rune, 0, len(d)) // non-tone combining marks per base letter
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) {
			if len(base) == 0 {
				return string(w)
			}
			if isTone(r) {
				tone, toneAt = r, len(base)-1
			} else {
				marks[len(base)-1] = append(marks[len(base)-1], r)
			}
			continue
		}
		base = append(base, r)
		marks = append(marks, nil)
	}
	if tone == 0 {
		return string(w)
	}
	lower := strings.ToLower(string(base))
	// The pair must end the word (open syllable) and must not be the "u" of "qu".
	var pairAt = -1
	for _, p := range []string{"oa", "oe", "uy"} {
		if strings.HasSuffix(lower, p) {
			pairAt = utf8.RuneCountInString(lower) - 2
			if p == "uy" && pairAt > 0 && lower[pairAt-1] == 'q' {
				pairAt = -1
			}
			break
		}
	}
	// Only rewrite when the pair's vowels carry no other marks (e.g. "ươ" is not "oa").
	if pairAt < 0 || toneAt != pairAt+1 || len(marks[pairAt]) > 0 || len(marks[pairAt+1]) > 0 {
		return string(w)
	}
	toneAt = pairAt
	var out strings.Builder
	for i, r := range base {
		out.WriteRune(r)
		for _, m := range marks[i] {
			out.WriteRune(m)
		}
		if i == toneAt {
			out.WriteRune(tone)
		}
	}
	return norm.NFC.String(out.String())
}

// Fold returns s lowercased with all Vietnamese diacritics removed and đ folded to d, so that
// "Căn cước" and "can cuoc" compare equal. It also applies NFC first, so decomposed input folds the same.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			b.WriteByte('d')
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b.WriteRune(r)
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// Syllables splits s into folded syllables: runs of letters and digits. A number written with dots or
// commas inside stays one token: procedure codes keep their dot ("1.001193"), amounts lose their separators
// ("70.000" → "70000").
func Syllables(s string) []string {
	raw := rawSyllables(s)
	for i, r := range raw {
		raw[i] = Fold(r)
	}
	return raw
}

// rawSyllables is Syllables without folding: lowercase, NFC, canonical tone placement.
func rawSyllables(s string) []string {
	rs := []rune(strings.ToLower(Normalize(s)))
	out := make([]string, 0, len(rs)/4)
	start := -1
	for i := 0; i <= len(rs); i++ {
		alnum := i < len(rs) && (unicode.IsLetter(rs[i]) || unicode.IsDigit(rs[i]) || unicode.Is(unicode.Mn, rs[i]))
		if !alnum && i < len(rs) && (rs[i] == '.' || rs[i] == ',') && start >= 0 && i+1 < len(rs) &&
			unicode.IsDigit(rs[i-1]) && unicode.IsDigit(rs[i+1]) {
			continue
		}
		if alnum {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, numberToken(string(rs[start:i])))
			start = -1
		}
	}
	return out
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// numberToken keeps procedure codes ("1.001193") as they are and strips separators from amounts.
func numberToken(t string) string {
	if !strings.ContainsAny(t, ".,") {
		return t
	}
	if IsProcedureCode(t) {
		return t
	}
	return strings.NewReplacer(".", "", ",", "").Replace(t)
}

// IsProcedureCode reports whether s looks like a procedure code: one digit, a dot, six digits.
func IsProcedureCode(s string) bool {
	if len(s) != 8 || s[1] != '.' || !isDigit(s[0]) {
		return false
	}
	for i := 2; i < 8; i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// Bigrams returns the adjacent pairs of toks joined by "_".
func Bigrams(toks []string) []string {
	if len(toks) < 2 {
		return nil
	}
	out := make([]string, 0, len(toks)-1)
	for i := 0; i+1 < len(toks); i++ {
		out = append(out, toks[i]+"_"+toks[i+1])
	}
	return out
}
