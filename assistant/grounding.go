package assistant

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/trolyao/trolyao/knowledge"
)

// CheckGrounding returns the facts in text that the records do not support: procedure codes (1.014064),
// amounts of money (70.000 đồng, 1,5 triệu đồng, or a grouped number such as 70.000 in a sentence about fees)
// and durations (7 ngày làm việc, 24 giờ, 3 tháng). Numbers compare by value ("70.000" = "70,000" = "70000";
// "07 ngày" = "7 ngày"); durations by value and unit family ("7 ngày" matches "7 ngày làm việc"). Records are
// searched in their structured fields (codes, fees, processing times) and in every text field.
//
// Payment instructions are held to a stricter source: a payment cue (chuyển khoản, chuyển tiền, nộp or
// chuyển … vào tài khoản, số tài khoản, STK, tài khoản ngân hàng, ví điện tử; with or without accents) and an
// account-like number (8 digits or more, possibly in groups: 0123 456 789, 1900-1234-5678; not an amount, a
// date or a code) are supported only by the records' official fee fields — a channel's fee cell (Text), its
// note (Note) and its fees' labels — with the same cue or the same digits. Free text staff edit (LocalNotes,
// Address, Requirements, Steps, …) can ground an amount but never carries a payment instruction or an account
// number into an answer.
//
// An empty result means the text is grounded; each item is quoted as the text writes it, once.
func CheckGrounding(text string, records []knowledge.Procedure) []string {
	return newGrounder(records).check(text)
}

// grounder holds what a set of records supports.
type grounder struct {
	codes     map[string]bool
	money     map[int64]bool
	durations map[string]bool // durationKey
	payments  map[string]bool // payment cues of the official fee fields (paymentCue.key)
	accounts  map[string]bool // account-like numbers of the official fee fields, digits only
}

func newGrounder(records []knowledge.Procedure) *grounder {
	g := &grounder{codes: map[string]bool{}, money: map[int64]bool{}, durations: map[string]bool{},
		payments: map[string]bool{}, accounts: map[string]bool{}}
	for i := range records {
		p := &records[i]
		g.codes[p.Code] = true
		for _, c := range p.Channels {
			official := []string{c.Text, c.Note}
			for _, f := range c.Fees {
				official = append(official, f.Label)
			}
			for _, s := range official {
				for _, f := range paymentFacts(s) {
					switch f.kind {
					case factPayment:
						g.payments[f.key] = true
					case factAccount:
						g.accounts[f.key] = true
					}
				}
			}
			for _, f := range c.Fees {
				g.money[f.Amount] = true
				// The record's own reductions ("bằng 50% mức thu"): the amount payable is grounded in it too.
				for _, m := range percentOf.FindAllStringSubmatch(c.Note+" "+c.Text, -1) {
					if n, err := strconv.Atoi(m[1]); err == nil && n > 0 && n < 100 {
						g.money[f.Amount*int64(n)/100] = true
					}
				}
			}
			if c.Time.Value > 0 {
				if fam := durationFamily(strings.ToLower(c.Time.Unit)); fam != "" {
					g.durations[durationKey(c.Time.Value, fam)] = true
				}
			}
		}
		for _, s := range recordTexts(p) {
			for _, f := range extractFacts(s, true) {
				switch f.kind {
				case factCode:
					g.codes[f.code] = true
				case factMoney:
					g.money[f.money] = true
				case factDuration:
					g.durations[f.key] = true
				}
			}
		}
	}
	return g
}

func (g *grounder) check(text string) []string {
	var bad []string
	seen := map[string]bool{}
	for _, f := range append(extractFacts(text, false), paymentFacts(text)...) {
		ok := false
		switch f.kind {
		case factCode:
			ok = g.codes[f.code]
		case factMoney:
			ok = g.money[f.money]
		case factDuration:
			ok = g.durations[f.key]
		case factPayment:
			ok = g.payments[f.key]
		case factAccount:
			ok = g.accounts[f.key]
		}
		if !ok && !seen[f.text] {
			seen[f.text] = true
			bad = append(bad, f.text)
		}
	}
	return bad
}

// recordTexts lists every text field of a record.
func recordTexts(p *knowledge.Procedure) []string {
	out := []string{p.Name, p.Address, p.Requirements, p.Result, p.Related, p.LocalNotes, p.Decision}
	out = append(out, p.Agencies...)
	out = append(out, p.Subjects...)
	out = append(out, p.Steps...)
	out = append(out, p.Aliases...)
	for _, c := range p.Channels {
		out = append(out, c.Time.Text, c.Note, c.Text)
		for _, f := range c.Fees {
			out = append(out, f.Label)
		}
	}
	for _, d := range p.Dossier {
		out = append(out, d.Name, d.Form, d.Group)
	}
	for _, l := range p.Legal {
		out = append(out, l.Title, l.Number)
	}
	return out
}

type factKind int

const (
	factCode factKind = iota + 1
	factMoney
	factDuration
	factPayment // a payment instruction: key is its paymentCue's
	factAccount // an account-like number: key is its digits
)

// fact is one checkable statement found in a text.
type fact struct {
	kind  factKind
	text  string // as written, e.g. "70.000 đồng"
	code  string
	money int64
	key   string // durationKey, paymentCue.key or the digits of an account number
}

// paymentCue is a way of telling someone to pay into an account, matched in folded text (no accents, lower case).
type paymentCue struct {
	key string
	re  *regexp.Regexp
}

// Pieces of the "into an account" cues: a word between a verb and the account (letters or digits, a number
// with its separators and a unit stuck to it, 500.000d; never across punctuation), an amount or the words for
// money, and the account itself.
const (
	payWord    = `(?:\s+[\p{L}\d]+(?:[.,]\d+)*\p{L}*)`
	payMoney   = `\s+(?:tien|phi|\d[\d.,]*\p{L}*)`
	payAccount = `\s+(?:so\s+)?tai\s+khoan\b`
)

// paymentCues are the payment instructions; several patterns may share a key. Verbs that say "pay" only with
// money — nộp, gửi, đóng, trả: "gửi đến tài khoản", "trả kết quả qua tài khoản" and "tự động đến tài khoản" are
// not payments — need an amount or the word tiền/phí before the account; "chuyển … vào tài khoản" and
// "thanh toán … qua tài khoản" do not.
var paymentCues = []paymentCue{
	{"chuyển khoản", regexp.MustCompile(`\bchuyen\s+khoan\b`)},
	{"chuyển tiền", regexp.MustCompile(`\bchuyen\s+tien\b`)},
	{"nộp tiền vào tài khoản", regexp.MustCompile(`\b(?:chuyen|ck)` + payWord + `{0,4}?\s+vao` + payAccount)},
	{"nộp tiền vào tài khoản", regexp.MustCompile(`\bthanh\s+toan` + payWord + `{0,4}?\s+(?:vao|den|toi|sang|qua|cho)` + payAccount)},
	{"nộp tiền vào tài khoản", regexp.MustCompile(`\b(?:chuyen|nop|gui|dong|tra|ck)` + payWord + `{0,3}?` + payMoney + payWord +
		`{0,3}?\s+(?:vao|den|toi|sang|qua|cho)` + payAccount)},
	{"số tài khoản", regexp.MustCompile(`\bso\s+tai\s+khoan\b|\bstk\b`)},
	{"tài khoản ngân hàng", regexp.MustCompile(`\btai\s+khoan\s+(?:ngan\s+hang|so\b)`)},
	{"ví điện tử", regexp.MustCompile(`\bvi\s+dien\s+tu\b|\bmomo\b|\bzalo\s*pay\b`)},
}

// notPayment are phrases a cue's match may contain without being a payment: signing in to an account
// ("nộp hồ sơ, đăng nhập vào tài khoản VNeID"), registering one, carrying precursors ("vận chuyển tiền chất"),
// a service's name ("thanh toán không qua tài khoản").
var notPayment = []string{"dang nhap", "dang ky", "van chuyen tien", "khong qua tai khoan"}

// accountLike is 8 digits or more, possibly in groups joined by one space, dot or hyphen.
var accountLike = regexp.MustCompile(`\d(?:[ .\-]?\d){7,}`)

// Numbers of 8 digits or more that are not account numbers: a date written with dots, hyphens or spaces
// (01.01.2025, 1-7-2026, 10 11 2025), a period (2021-2025), a code with a longer prefix (G10.000001,
// 12.0001119), and short groups joined by dots or hyphens — house numbers (Số 333-335-337), document numbers
// (000.00.00-025). Account and phone numbers are written in one run or in groups of three or four.
var (
	spacedDate = regexp.MustCompile(`^\d{1,2}[ .\-]\d{1,2}[ .\-]\d{4}$`)
	yearSpan   = regexp.MustCompile(`^(?:19|20)\d\d ?- ?(?:19|20)\d\d$`)
	longCode   = regexp.MustCompile(`^\d{1,3}\.\d{6,8}$`)
	shortParts = regexp.MustCompile(`^\d{1,3}(?:[.\-]\d{1,3})+$`)
)

// paymentFacts finds payment instructions and account-like numbers in s.
func paymentFacts(s string) []fact {
	s = norm.NFC.String(strings.ToValidUTF8(s, "\uFFFD"))
	folded, at := foldOffsets(s)
	var out []fact
	for _, c := range paymentCues {
		for _, m := range c.re.FindAllStringIndex(folded, -1) {
			match := folded[max(0, m[0]-len("van ")):m[1]] // with the word before: "vận chuyển tiền"
			if slices.ContainsFunc(notPayment, func(w string) bool { return strings.Contains(match, w) }) {
				continue
			}
			if m[0] > 0 && strings.ContainsRune("-_/", rune(folded[m[0]-1])) {
				continue // part of a name: BK-STK.docx
			}
			out = append(out, fact{kind: factPayment, text: s[at[m[0]]:at[m[1]]], key: c.key})
		}
	}
	for _, m := range accountLike.FindAllStringIndex(s, -1) {
		tok := s[m[0]:m[1]]
		if r, _ := utf8.DecodeLastRuneInString(s[:m[0]]); m[0] > 0 && (r == '/' || r == '_' || unicode.IsDigit(r)) ||
			(r == '.' || r == ',' || r == '-') && m[0] >= 2 && isASCIIDigit(s[m[0]-2]) {
			continue // the end of a longer number or a legal number
		}
		if m[1] < len(s) && (s[m[1]] == '/' || isLetterAt(s, m[1]) && !strings.HasPrefix(strings.ToLower(s[m[1]:]), "đ")) {
			continue // a legal number or an identifier (12345678/QĐ, 20241231abc)
		}
		if word := s[strings.LastIndexAny(s[:m[0]], " \t\n")+1 : m[0]]; strings.Contains(word, "://") || strings.Contains(word, "www.") {
			continue // inside a link
		}
		if thousands(tok) || spacedDate.MatchString(tok) || yearSpan.MatchString(tok) || longCode.MatchString(tok) ||
			shortParts.MatchString(tok) {
			continue
		}
		after, _ := skipSpaces(strings.ToLower(s[m[1]:]))
		if w, _ := matchMultiplier(after); w != "" || matchWord(after, currencyWords) != "" {
			continue // an amount: 15000000 đồng
		}
		digits := strings.Map(func(r rune) rune {
			if '0' <= r && r <= '9' {
				return r
			}
			return -1
		}, tok)
		out = append(out, fact{kind: factAccount, text: tok, key: digits})
	}
	return out
}

// thousands reports whether tok is written as an amount: groups of three after a first group of one to three
// digits, joined by dots or by commas (15.000.000, 15,000,000). Groups joined by spaces or hyphens are how
// account and phone numbers are written (012 345 678); an amount written so is followed by its currency.
func thousands(tok string) bool {
	sep := strings.IndexAny(tok, ".,")
	if sep < 0 {
		return false
	}
	parts := strings.Split(tok, tok[sep:sep+1])
	if len(parts[0]) > 3 {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) != 3 || strings.ContainsAny(p, " .-,") {
			return false
		}
	}
	return true
}

// foldOffsets folds s rune by rune as knowledge.Fold does and returns, for every byte of the folded text (and
// its end), the offset in s of the rune it came from.
func foldOffsets(s string) (string, []int) {
	var b strings.Builder
	at := make([]int, 0, len(s)+1)
	for i, r := range s {
		f := knowledge.Fold(string(r))
		b.WriteString(f)
		for range len(f) {
			at = append(at, i)
		}
	}
	at = append(at, len(s))
	return b.String(), at
}

// Units, longest first so that "ngày làm việc" wins over "ngày".
var (
	currencyWords   = []string{"việt nam đồng", "đồng", "vnđ", "vnd", "usd", "đ"}
	multiplierWords = []struct {
		word string
		mul  float64
	}{{"nghìn", 1e3}, {"ngàn", 1e3}, {"triệu", 1e6}, {"tỷ", 1e9}, {"tỉ", 1e9}}
	durationWords = []string{"ngày làm việc", "ngày", "giờ làm việc", "giờ", "tuần", "tháng", "năm", "phút"}
	// feeCues mark a sentence about money, where a grouped number without a currency is an amount.
	feeCues = []string{"phí", "mức thu", "tiền", "giá", "chi phí", "nộp thu", "thu "}
)

// extractFacts finds procedure codes, amounts of money and durations in s. In records (anyFee) every grouped
// number counts as an amount; in an answer only those in a sentence about fees do.
func extractFacts(s string, anyFee bool) []fact {
	s = norm.NFC.String(strings.ToValidUTF8(s, "\uFFFD"))
	low := strings.ToLower(s) // same byte offsets: ToLower keeps the length of Vietnamese letters
	if len(low) != len(s) {
		low = lowerSameLength(s)
	}
	var out []fact
	for i := 0; i < len(s); {
		if !isASCIIDigit(s[i]) || !numberBoundaryBefore(s, i) {
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
			continue
		}
		start := i
		tok, end := scanNumber(s, i)
		i = end
		if end < len(s) && (s[end] == '/' || isLetterAt(s, end) && !strings.HasPrefix(low[end:], "đ")) {
			continue // a date, a legal number or an identifier (12/2026, 53/2025/TT-BCA, 3A)
		}
		if knowledge.IsProcedureCode(tok) {
			out = append(out, fact{kind: factCode, text: tok, code: tok})
			continue
		}
		v, ok := parseNumber(tok)
		if !ok {
			continue
		}
		after, sp := skipSpaces(low[end:])
		// money with a multiplier: "1,5 triệu đồng", "70 nghìn"
		if w, mul := matchMultiplier(after); w != "" {
			n := len(w)
			if next, sp2 := skipSpaces(after[n:]); matchWord(next, currencyWords) != "" {
				n += sp2 + len(matchWord(next, currencyWords))
			}
			out = append(out, fact{kind: factMoney, text: s[start : end+sp+n], money: int64(math.Round(v * mul))})
			continue
		}
		if cur := matchWord(after, currencyWords); cur != "" {
			out = append(out, fact{kind: factMoney, text: s[start : end+sp+len(cur)], money: int64(math.Round(v))})
			continue
		}
		if unit := matchWord(after, durationWords); unit != "" {
			if !dateBefore(low, start) {
				out = append(out, fact{kind: factDuration, text: s[start : end+sp+len(unit)],
					key: durationKey(v, durationFamily(unit))})
			}
			continue
		}
		if isGrouped(tok) && (anyFee || feeSentence(low, start)) {
			out = append(out, fact{kind: factMoney, text: tok, money: int64(math.Round(v))})
		}
	}
	return out
}

// skipSpaces drops leading spaces (and no-break spaces) and says how many bytes it dropped.
func skipSpaces(s string) (string, int) {
	t := strings.TrimLeft(s, " \u00a0")
	return t, len(s) - len(t)
}

// lowerSameLength lowercases rune by rune, keeping a rune whose lower case has another length as it is.
func lowerSameLength(s string) string {
	var b strings.Builder
	for _, r := range s {
		l := unicode.ToLower(r)
		if utf8.RuneLen(l) != utf8.RuneLen(r) {
			l = r
		}
		b.WriteRune(l)
	}
	return b.String()
}

func isLetterAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

// numberBoundaryBefore reports whether a number may start at i: not inside a word, another number, a date
// or a legal number.
func numberBoundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '/' || r == '_' {
		return false
	}
	if (r == '.' || r == ',' || r == '-') && i >= 2 && isASCIIDigit(s[i-2]) {
		return false
	}
	return true
}

// scanNumber reads digits joined by single '.' or ',' from i.
func scanNumber(s string, i int) (string, int) {
	j := i
	for j < len(s) {
		if isASCIIDigit(s[j]) {
			j++
			continue
		}
		if (s[j] == '.' || s[j] == ',') && j+1 < len(s) && isASCIIDigit(s[j+1]) {
			j++
			continue
		}
		break
	}
	return s[i:j], j
}

// isGrouped reports whether tok is written with thousands separators: 70.000, 1.500.000, 20,000.
func isGrouped(tok string) bool {
	parts := strings.FieldsFunc(tok, func(r rune) bool { return r == '.' || r == ',' })
	if len(parts) < 2 || len(parts[0]) > 3 {
		return false
	}
	sep := tok[len(parts[0])]
	for _, p := range parts[1:] {
		if len(p) != 3 {
			return false
		}
	}
	return !strings.ContainsRune(tok, map[byte]rune{'.': ',', ',': '.'}[sep])
}

// parseNumber reads 70.000 / 70,000 / 70000 as 70000 and 1,5 / 0.5 as decimals.
func parseNumber(tok string) (float64, bool) {
	if isGrouped(tok) {
		n, err := strconv.ParseInt(strings.NewReplacer(".", "", ",", "").Replace(tok), 10, 64)
		return float64(n), err == nil
	}
	if strings.Count(tok, ".")+strings.Count(tok, ",") > 1 {
		return 0, false // 26.11.2024 and the like
	}
	f, err := strconv.ParseFloat(strings.Replace(tok, ",", ".", 1), 64)
	return f, err == nil
}

// matchWord returns the word of words that s starts with as a whole word.
func matchWord(s string, words []string) string {
	for _, w := range words {
		if strings.HasPrefix(s, w) {
			if len(s) == len(w) || !isLetterAt(s, len(w)) {
				return w
			}
		}
	}
	return ""
}

func matchMultiplier(s string) (string, float64) {
	for _, m := range multiplierWords {
		if matchWord(s, []string{m.word}) != "" {
			return m.word, m.mul
		}
	}
	return "", 0
}

// dateBefore reports whether the number at i is part of a date written in words: "ngày 15 tháng 5 năm 2021".
func dateBefore(low string, i int) bool {
	before := strings.TrimRight(low[:i], " ")
	for _, w := range []string{"ngày", "tháng", "năm"} {
		if strings.HasSuffix(before, w) {
			return true
		}
	}
	return false
}

// feeSentence reports whether the sentence around offset i talks about fees.
func feeSentence(low string, i int) bool {
	start := strings.LastIndexAny(low[:i], "\n!?;")
	if k := strings.LastIndex(low[:i], ". "); k > start {
		start = k
	}
	end := len(low)
	if k := strings.IndexAny(low[i:], "\n!?;"); k >= 0 {
		end = i + k
	}
	if k := strings.Index(low[i:], ". "); k >= 0 && i+k < end {
		end = i + k
	}
	sentence := low[start+1 : end]
	for _, c := range feeCues {
		if strings.Contains(sentence, c) {
			return true
		}
	}
	return false
}

// durationFamily groups units that name the same kind of time: "ngày" and "ngày làm việc" both count in days.
func durationFamily(unit string) string {
	unit = strings.ToLower(strings.TrimSpace(unit))
	switch {
	case strings.HasPrefix(unit, "ngày"):
		return "ngày"
	case strings.HasPrefix(unit, "giờ"):
		return "giờ"
	case strings.HasPrefix(unit, "tuần"):
		return "tuần"
	case strings.HasPrefix(unit, "tháng"):
		return "tháng"
	case strings.HasPrefix(unit, "năm"):
		return "năm"
	case strings.HasPrefix(unit, "phút"):
		return "phút"
	}
	return ""
}

func durationKey(v float64, family string) string {
	return strconv.FormatFloat(v, 'f', -1, 64) + " " + family
}
