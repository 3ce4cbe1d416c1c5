package assistant

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Placeholders that replace personal data.
const (
	RedactedCCCD  = "[CCCD]"  // 12-digit citizen identity card number (căn cước / CCCD)
	RedactedCMND  = "[CMND]"  // 9-digit old identity card number (CMND)
	RedactedPhone = "[SĐT]"   // telephone number
	RedactedEmail = "[EMAIL]" // e-mail address
)

var redactEmail = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)

// Redact replaces personal data in s — identity card numbers (12-digit CCCD, 9-digit CMND), Vietnamese phone
// numbers and e-mail addresses, with or without spaces, dots or dashes between the digits — by placeholders.
// Everything that leaves the process (a prompt) or is logged goes through it. Procedure codes (1.001193),
// amounts of money (70.000, 1.500.000 đồng, 150.000.000), dates (31/12/2026), legal numbers (123/2015/NĐ-CP)
// and durations are kept.
func Redact(s string) string {
	s = redactEmail.ReplaceAllString(s, RedactedEmail)
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	var b strings.Builder
	i := 0
	for i < len(s) {
		run, ok := redactScanRun(s, i)
		if !ok {
			r, n := utf8.DecodeRuneInString(s[i:])
			b.WriteRune(r)
			i += n
			continue
		}
		b.WriteString(s[i:run.start])
		redactRun(&b, s, run)
		i = run.end
	}
	return b.String()
}

// redactWord is a group of digits joined by dots, commas or dashes ("0912.345.678", "70,000"), possibly with a
// leading "+" or "(+84)".
type redactWord struct {
	start, end int    // byte offsets in the text, the prefix included
	digits     string // the digits alone
	plus       bool   // written with an international "+" prefix
	grouped    bool   // thousands grouping: 1–3 digits, then groups of exactly 3 after "." or ","
	slash      bool   // joined to a "/" (a date or a legal number): never personal data
	last3      string // the last group
}

// redactRunT is a sequence of words separated by single spaces: "0912 345 678", "001 099 012 345".
type redactRunT struct {
	start, end int
	words      []redactWord
}

func isLetter(r rune) bool { return unicode.IsLetter(r) || r == '_' }

// redactScanRun reads the run of numbers starting at i, if a number starts there on a word boundary.
func redactScanRun(s string, i int) (redactRunT, bool) {
	w, ok := redactScanWord(s, i)
	if !ok {
		return redactRunT{}, false
	}
	if i > 0 {
		prev, _ := utf8.DecodeLastRuneInString(s[:i])
		if isLetter(prev) || unicode.IsDigit(prev) {
			return redactRunT{}, false
		}
	}
	run := redactRunT{start: i, words: []redactWord{w}}
	end := w.end
	for end < len(s) && s[end] == ' ' {
		next, ok := redactScanWord(s, end+1)
		if !ok {
			break
		}
		run.words = append(run.words, next)
		end = next.end
	}
	run.end = end
	// A run glued to letters ("12345abc") is an identifier of something else: its last word cannot end a
	// personal number; mark it as joined.
	if end < len(s) {
		r, _ := utf8.DecodeRuneInString(s[end:])
		if isLetter(r) && !strings.HasPrefix(s[end:], "đ") {
			run.words[len(run.words)-1].slash = true
		}
	}
	return run, true
}

// redactScanWord reads one word at i: an optional "+" or "(+84)" prefix, then digits joined by single
// '.', ',' or '-' characters.
func redactScanWord(s string, i int) (redactWord, bool) {
	w := redactWord{start: i}
	j := i
	switch {
	case strings.HasPrefix(s[j:], "(+84)"), strings.HasPrefix(s[j:], "(84)"):
		w.plus = true
		w.digits = "84"
		j += strings.Index(s[j:], ")") + 1
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if j >= len(s) || !isASCIIDigit(s[j]) {
			return redactWord{}, false
		}
	case s[j] == '+' && j+1 < len(s) && isASCIIDigit(s[j+1]):
		w.plus = true
		j++
	}
	if j >= len(s) || !isASCIIDigit(s[j]) {
		return redactWord{}, false
	}
	var groups []string
	var seps []byte
	g := j
	for j < len(s) {
		if isASCIIDigit(s[j]) {
			j++
			continue
		}
		if (s[j] == '.' || s[j] == ',' || s[j] == '-') && j+1 < len(s) && isASCIIDigit(s[j+1]) {
			groups = append(groups, s[g:j])
			seps = append(seps, s[j])
			j++
			g = j
			continue
		}
		break
	}
	groups = append(groups, s[g:j])
	w.end = j
	w.digits += strings.Join(groups, "")
	w.last3 = groups[len(groups)-1]
	if len(groups) > 1 && len(groups[0]) <= 3 {
		w.grouped = true
		for k, gr := range groups[1:] {
			if len(gr) != 3 || (seps[k] != '.' && seps[k] != ',') || seps[k] != seps[0] {
				w.grouped = false
			}
		}
	}
	if w.start > 0 && s[w.start-1] == '/' || j < len(s) && s[j] == '/' {
		w.slash = true
	}
	return w, true
}

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }

// redactRun writes the run, replacing the longest spans of consecutive words that form personal numbers.
func redactRun(b *strings.Builder, s string, run redactRunT) {
	ws := run.words
	pos := run.start
	for i := 0; i < len(ws); {
		found := false
		for j := len(ws) - 1; j >= i; j-- {
			kind := redactKind(s, ws[i:j+1])
			if kind == "" {
				continue
			}
			b.WriteString(s[pos:ws[i].start])
			b.WriteString(kind)
			pos = ws[j].end
			i = j + 1
			found = true
			break
		}
		if !found {
			i++
		}
	}
	b.WriteString(s[pos:run.end])
}

// redactKind says which placeholder the words ws stand for, or "" when they are not personal data.
func redactKind(s string, ws []redactWord) string {
	var digits strings.Builder
	plus := ws[0].plus
	for k, w := range ws {
		if w.slash || (k > 0 && w.plus) {
			return ""
		}
		// Digits written in spaced groups ("0912 345 678", "001 099 012 345") come in groups of 2 to 4.
		if len(ws) > 1 && !(k == 0 && w.plus) && (len(w.digits) < 2 || len(w.digits) > 4) {
			return ""
		}
		digits.WriteString(w.digits)
	}
	d := digits.String()
	if len(d) < 9 || len(d) > 12 {
		return ""
	}
	last := ws[len(ws)-1]
	// Money: an amount followed by a currency or written with thousands grouping and ending in 000.
	if redactMoneyAfter(s[last.end:]) {
		return ""
	}
	if len(ws) == 1 && last.grouped && last.last3 == "000" {
		return ""
	}
	if plus || strings.HasPrefix(d, "84") && !strings.HasPrefix(d, "0") {
		if strings.HasPrefix(d, "84") {
			rest := d[2:]
			if len(rest) == 9 && strings.ContainsRune("35789", rune(rest[0])) || len(rest) == 10 && rest[0] == '2' {
				return RedactedPhone
			}
		}
		if plus {
			return ""
		}
	}
	if d[0] == '0' {
		switch {
		case len(d) == 10:
			return RedactedPhone
		case len(d) == 11 && d[1] == '2':
			return RedactedPhone
		}
	}
	switch {
	case len(d) == 12 && d[0] == '0': // personal identification numbers begin with a province code 001–096
		return RedactedCCCD
	case len(d) == 9:
		return RedactedCMND
	}
	return ""
}

// redactMoneyAfter reports whether the text after a number names a currency or a multiplier of money.
func redactMoneyAfter(rest string) bool {
	rest = strings.TrimLeft(rest, " ")
	low := strings.ToLower(rest)
	for _, u := range []string{"đồng", "vnđ", "vnd", "usd", "triệu", "nghìn", "ngàn", "tỷ", "tỉ", "đ", "%"} {
		if strings.HasPrefix(low, u) {
			r, _ := utf8.DecodeRuneInString(low[len(u):])
			if u == "%" || len(low) == len(u) || !isLetter(r) {
				return true
			}
		}
	}
	return false
}
