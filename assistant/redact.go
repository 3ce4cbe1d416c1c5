package assistant

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Placeholders that replace personal data.
const (
	RedactedCCCD      = "[CCCD]"      // 12-digit personal identification number (căn cước, CCCD)
	RedactedCMND      = "[CMND]"      // 9-digit old identity card number (CMND)
	RedactedPhone     = "[SĐT]"       // telephone number
	RedactedEmail     = "[EMAIL]"     // e-mail address
	RedactedAccount   = "[STK]"       // bank account or card number
	RedactedPlate     = "[BIỂN SỐ]"   // vehicle licence plate
	RedactedAddress   = "[ĐỊA CHỈ]"   // house number and street
	RedactedName      = "[HỌ TÊN]"    // a person's name
	RedactedPassport  = "[HỘ CHIẾU]"  // passport number
	RedactedInsurance = "[BHXH]"      // social-insurance number or health-insurance card code
	RedactedTaxCode   = "[MST]"       // tax code
	RedactedBirthDate = "[NGÀY SINH]" // date of birth
)

// Redact replaces the personal data in s by the placeholders above:
//
//   - phone numbers in every common Vietnamese form: mobiles and landlines with or without spaces, dots,
//     dashes or a parenthesised area code ("(028) 3829 1234"), with +84, 84, 0084 or (+84);
//   - 12-digit identification numbers (CCCD) and 9-digit old identity card numbers (CMND), in groups of any
//     size;
//   - e-mail addresses, also written "a @ b.vn" or "a(at)b.vn";
//   - licence plates (51F-123.45, 59-X1 234.56, 30A-12345);
//   - numbers whose context names them: bank accounts and cards ("stk", "số tài khoản", a bank's name),
//     social-insurance numbers ("mã số BHXH", "số sổ BHXH") and health-insurance card codes, tax codes ("MST",
//     "mã số thuế"; 10, 10-3 or 12 digits), passport numbers (a letter and 7 or 8 digits after "hộ chiếu"),
//     and dates of birth ("sinh ngày", "ngày sinh", "sn" before dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy,
//     yyyy-mm-dd or "12 tháng 3 năm 1990");
//   - a label glued to the number it labels ("SĐT0912345678", "cccd079203001234");
//   - house-number addresses ("số 12 đường Lê Lợi", "123/4 Nguyễn Trãi", "12 ngõ 34 phố Huế", "số nhà 45"),
//     the house number through the street name;
//   - names a citizen gives ("tôi tên là …", "tên tôi là …", "em tên …", "họ và tên: …", "tôi là" + a surname).
//
// Procedure codes (1.001193), amounts of money (500000000, 500.000 đồng, 1.500.000đ), dates that are not
// birth dates, legal numbers (123/2015/NĐ-CP, 91/2025/QH15), ward and district numbers ("Phường 12",
// "Quận 3"), durations, counts, years and short service numbers (1022, 1900 1234) are kept. Redact is
// idempotent. Everything that is stored, logged or leaves the process (a prompt) goes through it.
func Redact(s string) string {
	if !redactCandidate(s) {
		return s
	}
	t := foldText(s)
	t.emails()
	t.names()
	t.numbers()
	if len(t.spans) == 0 {
		return s
	}
	slices.SortFunc(t.spans, func(a, b redactSpan) int {
		if a.a != b.a {
			return a.a - b.a
		}
		return b.b - a.b
	})
	var b strings.Builder
	b.Grow(len(s))
	pos := 0
	for _, sp := range t.spans {
		if sp.a < pos {
			continue
		}
		b.WriteString(s[t.off[pos]:t.off[sp.a]])
		b.WriteString(sp.ph)
		pos = sp.b
	}
	b.WriteString(s[t.off[pos]:])
	return b.String()
}

// redactCandidate reports whether s may hold personal data: a digit, an "@" or "(at)", or what a name follows
// ("tên", "là "). Most messages have none and are returned as they are without being folded.
func redactCandidate(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '@':
			return true
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			return true
		case 'n', 'N': // tên, ten, TÊN, te\u0302n
			if i >= 2 && (s[i-1] == 'e' || s[i-1] == 'E') && (s[i-2] == 't' || s[i-2] == 'T') ||
				i >= 3 && s[i-2] == 0xc3 && (s[i-1] == 0xaa || s[i-1] == 0x8a) && (s[i-3] == 't' || s[i-3] == 'T') ||
				i >= 4 && s[i-2] == 0xcc && s[i-1] == 0x82 {
				return true
			}
		case ' ': // là, la, LÀ before a space
			if i >= 2 && (s[i-1] == 'a' || s[i-1] == 'A') && (s[i-2] == 'l' || s[i-2] == 'L') ||
				i >= 3 && s[i-2] == 0xc3 && (s[i-1] == 0xa0 || s[i-1] == 0x80) && (s[i-3] == 'l' || s[i-3] == 'L') ||
				i >= 3 && s[i-2] == 0xcc && s[i-1] == 0x80 {
				return true
			}
		case ')', ']': // (at), [at]
			if i >= 2 && (s[i-1] == 't' || s[i-1] == 'T') && (s[i-2] == 'a' || s[i-2] == 'A') {
				return true
			}
		}
	}
	return false
}

// redactText is a text and its folded form: one byte per rune of the text — ASCII lowercased, Vietnamese
// letters without their marks (đ → d), other letters 'x', spaces ' ', dashes '-', other symbols '#'. All the
// matching is done on the folded form; off maps its positions back to the text.
type redactText struct {
	s     string
	f     string
	off   []int32 // off[i] is the byte offset in s of the rune folded to f[i]; off[len(f)] = len(s)
	nfc   bool    // s is in normalisation form C
	spans []redactSpan
}

// redactSpan is a part of the folded text [a, b) to replace by ph.
type redactSpan struct {
	a, b int
	ph   string
}

// redactFold maps the runes below its length to their folded byte (0: not a letter of the table).
var redactFold = func() []byte {
	t := make([]byte, 0x1F00)
	for r := rune(0xC0); r < rune(len(t)); r++ {
		if !unicode.IsLetter(r) {
			continue
		}
		base, _ := utf8.DecodeRuneInString(norm.NFD.String(string(r)))
		base = unicode.ToLower(base)
		switch {
		case r == 'đ' || r == 'Đ':
			t[r] = 'd'
		case base >= 'a' && base <= 'z':
			t[r] = byte(base)
		default:
			t[r] = 'x'
		}
	}
	return t
}()

func foldText(s string) *redactText {
	f := make([]byte, 0, len(s))
	off := make([]int32, 0, len(s)+1)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			f = append(f, c)
			off = append(off, int32(i))
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		var b byte
		switch {
		case int(r) < len(redactFold) && redactFold[r] != 0:
			b = redactFold[r]
		case unicode.Is(unicode.Mn, r) && len(f) > 0: // a combining mark belongs to the rune before it
			i += n
			continue
		case unicode.IsSpace(r):
			b = ' '
		case r == '‐' || r == '‑' || r == '–' || r == '—':
			b = '-'
		case unicode.IsLetter(r):
			b = 'x'
		default:
			b = '#'
		}
		f = append(f, b)
		off = append(off, int32(i))
		i += n
	}
	off = append(off, int32(len(s)))
	return &redactText{s: s, f: string(f), off: off, nfc: norm.NFC.IsNormalString(s)}
}

func (t *redactText) add(a, b int, ph string) {
	t.spans = append(t.spans, redactSpan{a, b, ph})
}

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlphaB(c byte) bool     { return c >= 'a' && c <= 'z' || c == '_' }
func isAlnumB(c byte) bool     { return isASCIIDigit(c) || isAlphaB(c) }

func wordSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// upperAt reports whether the rune folded to f[k] is an upper-case letter.
func (t *redactText) upperAt(k int) bool {
	r, _ := utf8.DecodeRuneInString(t.s[t.off[k]:])
	return unicode.IsUpper(r)
}

// asciiLetterAt reports whether the rune folded to f[k] is an ASCII letter.
func (t *redactText) asciiLetterAt(k int) bool {
	c := t.s[t.off[k]]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// lower is the original text of folded span [a, b), lower-cased and composed (NFC).
func (t *redactText) lower(a, b int) string {
	w := t.s[t.off[a]:t.off[b]]
	if !t.nfc {
		w = norm.NFC.String(w)
	}
	return strings.ToLower(w)
}

// tokBack finds the token — a run of letters or a run of digits — that ends before i, skipping separators
// but not the end of a sentence (nor a comma when clause is set). a < 0 when there is none.
func (t *redactText) tokBack(i int, clause bool) (a, b int) {
	f := t.f
	j := i
	for j > 0 {
		c := f[j-1]
		if isAlnumB(c) {
			break
		}
		switch c {
		case '!', '?', ';', '\n', '\r':
			return -1, -1
		case ',':
			if clause {
				return -1, -1
			}
		case '.': // a sentence ends, unless inside a word or number ("tp.hcm", "1.5") or after an abbreviation ("no.")
			if j < 2 || !isAlnumB(f[j-2]) || (j >= len(f) || !isAlnumB(f[j])) && !t.abbreviation(j-1) {
				return -1, -1
			}
		}
		j--
	}
	if j == 0 {
		return -1, -1
	}
	b = j
	alpha := isAlphaB(f[j-1])
	for j > 0 && isAlnumB(f[j-1]) && isAlphaB(f[j-1]) == alpha {
		j--
	}
	return j, b
}

// abbreviation reports whether the dot at d ends a word of one to three letters ("no.", "tp.", "p.").
func (t *redactText) abbreviation(d int) bool {
	k := d
	for k > 0 && isAlphaB(t.f[k-1]) {
		k--
	}
	return d-k >= 1 && d-k <= 3 && (k == 0 || !isASCIIDigit(t.f[k-1]))
}

// wordAt returns the end of the run of letters starting at i (i when there is none).
func (t *redactText) wordAt(i int) int {
	j := i
	for j < len(t.f) && isAlphaB(t.f[j]) {
		j++
	}
	return j
}

// skipSpaces returns the first position at or after i that is not a space.
func (t *redactText) skipSpaces(i int) int {
	for i < len(t.f) && t.f[i] == ' ' {
		i++
	}
	return i
}

// onlySpaces reports whether f[a:b] is nothing but spaces.
func (t *redactText) onlySpaces(a, b int) bool {
	for k := a; k < b; k++ {
		if t.f[k] != ' ' {
			return false
		}
	}
	return true
}

// --- e-mail addresses ---

var redactEmail = regexp.MustCompile(`[a-z0-9_%+\-]+(?:\.[a-z0-9_%+\-]+)* ?(?:@|\(at\)|\[at\]) ?[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}`)

func (t *redactText) emails() {
	if !strings.Contains(t.f, "@") && !strings.Contains(t.f, "(at)") && !strings.Contains(t.f, "[at]") {
		return
	}
	for _, m := range redactEmail.FindAllStringIndex(t.f, -1) {
		t.add(m[0], m[1], RedactedEmail)
	}
}

// --- contexts: the words before a number that say what it is ---

type redactCtx uint8

const (
	ctxNone redactCtx = iota
	ctxPhone
	ctxID
	ctxAccount
	ctxInsurance
	ctxTax
	ctxPassport
	ctxMoney
)

// ctxWords are the folded phrases that name a number written after them (within ctxWindow tokens).
var ctxWords = map[redactCtx][]string{
	ctxPhone: {"sdt", "so dt", "dt", "dien thoai", "tel", "phone", "zalo", "goi", "goi cho", "lien he", "lien lac", "lh",
		"hotline", "di dong", "so may", "mobile", "dd", "nhan tin", "sms", "may ban", "viber", "whatsapp"},
	ctxID: {"cccd", "can cuoc", "cmnd", "cmt", "chung minh", "chung minh thu", "chung minh nhan dan", "dinh danh",
		"so dinh danh", "id", "cc", "ddcn", "cmtnd"},
	ctxAccount: {"stk", "tai khoan", "so tai khoan", "tk", "so tk", "chuyen khoan", "ck", "account", "so the", "the atm",
		"nhan tien", "khoan nhan",
		"atm", "vietcombank", "vcb", "techcombank", "tcb", "bidv", "agribank", "vietinbank", "mb", "mbbank", "acb",
		"vpbank", "tpbank", "sacombank", "hdbank", "shb", "vib", "ocb", "msb", "seabank", "eximbank", "scb", "lpbank",
		"namabank", "abbank", "pvcombank", "baovietbank", "kienlongbank", "momo", "vietcapitalbank", "bacabank"},
	ctxInsurance: {"bhxh", "bao hiem xa hoi", "so so", "bhyt", "bao hiem y te", "ma the", "the bhyt", "so bhxh"},
	ctxTax:       {"mst", "ma so thue", "ma thue", "msdn", "ma so doanh nghiep", "ma doanh nghiep", "tin"},
	ctxPassport:  {"ho chieu", "passport", "hc"},
	ctxMoney: {"vay", "phat", "luong", "gia", "tien", "phi", "le phi", "muc", "thu nhap", "tra", "von", "doanh thu",
		"tong", "chi phi", "tiet kiem", "so tien", "boi thuong", "tro cap"},
}

type ctxPhrase struct {
	before []string // the words before the last one
	kind   redactCtx
}

// ctxIndex indexes ctxWords by their last word, longest phrase first; ctxGlued are the one-word labels that
// may be glued to their number ("sdt0912345678").
var ctxIndex, ctxGlued = func() (map[string][]ctxPhrase, map[string]bool) {
	idx := map[string][]ctxPhrase{}
	glued := map[string]bool{"so": true}
	for kind, phrases := range ctxWords {
		for _, p := range phrases {
			ws := strings.Fields(p)
			last := ws[len(ws)-1]
			idx[last] = append(idx[last], ctxPhrase{before: ws[:len(ws)-1], kind: kind})
			if len(ws) == 1 && kind != ctxMoney {
				glued[p] = true
			}
		}
	}
	for _, ps := range idx {
		slices.SortStableFunc(ps, func(a, b ctxPhrase) int { return len(b.before) - len(a.before) })
	}
	return idx, glued
}()

// ctxWindow is how many tokens before a number its context is looked for in.
const ctxWindow = 6

// context is what the nearest phrase of ctxWords before position i names; a word of money counts only right
// before the number ("vay 500000000").
func (t *redactText) context(i int) redactCtx {
	j := i
	for n := 0; n < ctxWindow; n++ {
		a, b := t.tokBack(j, false)
		if a < 0 {
			return ctxNone
		}
		for _, p := range ctxIndex[t.f[a:b]] {
			if (p.kind != ctxMoney || n < 2) && t.wordsBefore(a, p.before) {
				return p.kind
			}
		}
		j = a
	}
	return ctxNone
}

// wordsBefore reports whether the tokens before position a are ws.
func (t *redactText) wordsBefore(a int, ws []string) bool {
	for k := len(ws) - 1; k >= 0; k-- {
		x, y := t.tokBack(a, false)
		if x < 0 || t.f[x:y] != ws[k] {
			return false
		}
		a = x
	}
	return true
}

// --- numbers ---

// numbers finds the personal data that contains digits: plates, birth dates, addresses, passports and
// insurance card codes, and runs of numbers (phones, identity numbers, accounts, tax codes).
func (t *redactText) numbers() {
	f := t.f
	for i := 0; i < len(f); {
		c := f[i]
		switch {
		case isAlphaB(c):
			j := t.wordAt(i)
			if j < len(f) && isASCIIDigit(f[j]) && (i == 0 || !isAlnumB(f[i-1])) {
				if end := t.gluedCode(i, j); end > 0 {
					i = end
					continue
				}
				if ctxGlued[f[i:j]] {
					if end := t.numberRun(j); end > j+1 {
						i = end
						continue
					}
				}
			}
			i = j
			for i < len(f) && isAlnumB(f[i]) {
				i++
			}
		case isASCIIDigit(c) || c == '+' || c == '(':
			if i > 0 && isAlnumB(f[i-1]) {
				i++
				continue
			}
			if isASCIIDigit(c) && (i == 0 || f[i-1] != '/' && f[i-1] != '.' && f[i-1] != ',') {
				if end := t.plate(i); end > 0 {
					t.add(i, end, RedactedPlate)
					i = end
					continue
				}
				if end := t.birthDate(i); end > 0 {
					t.add(i, end, RedactedBirthDate)
					i = end
					continue
				}
				if a, b := t.address(i); b > 0 {
					t.add(a, b, RedactedAddress)
					i = b
					continue
				}
			}
			i = t.numberRun(i)
		default:
			i++
		}
	}
}

// gluedCode reads letters [i, j) followed by digits: a passport number (one letter and 7 or 8 digits after a
// passport context) or a health-insurance card code (two letters and 13 digits). It returns the end, or 0.
func (t *redactText) gluedCode(i, j int) int {
	f := t.f
	e := j
	for e < len(f) && isASCIIDigit(f[e]) {
		e++
	}
	if e < len(f) && (isAlphaB(f[e]) || (f[e] == '.' || f[e] == ',' || f[e] == '-' || f[e] == '/') && e+1 < len(f) && isASCIIDigit(f[e+1])) {
		return 0
	}
	for k := i; k < j; k++ {
		if !t.asciiLetterAt(k) {
			return 0
		}
	}
	switch nd := e - j; {
	case j-i == 1 && (nd == 7 || nd == 8) && t.context(i) == ctxPassport:
		t.add(i, e, RedactedPassport)
		return e
	case j-i == 2 && nd == 13:
		t.add(i, e, RedactedInsurance)
		return e
	}
	return 0
}

// redactWord is a group of digits joined by dots, commas or dashes ("0912.345.678", "70,000"), possibly after
// "+", "(+84)" or a parenthesised area code ("(028) 3829").
type redactWord struct {
	start, end int    // positions in the folded text, the prefix included
	digits     string // the digits alone
	plus       bool   // written with an international "+" prefix
	paren      bool   // begins with a parenthesised group
	seps       int    // separators inside
	grouped    bool   // thousands grouping: 1–3 digits, then groups of exactly 3 after "." or ","
	slash      bool   // joined to a "/" (a date or a legal number): never personal data
	glued      bool   // letters follow without a space
	last       string // the last group
}

// scanWord reads one word at i.
func (t *redactText) scanWord(i int) (redactWord, bool) {
	f := t.f
	if i >= len(f) {
		return redactWord{}, false
	}
	w := redactWord{start: i}
	j := i
	prefix := ""
	switch {
	case f[j] == '(':
		k := j + 1
		if k < len(f) && f[k] == '+' {
			w.plus = true
			k++
		}
		d0 := k
		for k < len(f) && isASCIIDigit(f[k]) {
			k++
		}
		if k == d0 || k-d0 > 4 || k >= len(f) || f[k] != ')' {
			return redactWord{}, false
		}
		w.paren = true
		prefix = f[d0:k]
		j = k + 1
		if j < len(f) && f[j] == ' ' {
			j++
		}
	case f[j] == '+':
		j++
	}
	if j >= len(f) || !isASCIIDigit(f[j]) {
		return redactWord{}, false
	}
	if f[i] == '+' {
		w.plus = true
	}
	// groups of digits joined by single separators; thousands grouping needs 1–3 digits first, then groups of
	// exactly 3 after one kind of separator, "." or ","
	d0 := j
	var sep0 byte
	first := -1
	grouped := true
	g := j
	for j < len(f) {
		if isASCIIDigit(f[j]) {
			j++
			continue
		}
		if (f[j] == '.' || f[j] == ',' || f[j] == '-') && j+1 < len(f) && isASCIIDigit(f[j+1]) {
			if first < 0 {
				first, sep0 = j-g, f[j]
			} else if j-g != 3 {
				grouped = false
			}
			if f[j] != sep0 || f[j] == '-' {
				grouped = false
			}
			w.seps++
			j++
			g = j
			continue
		}
		break
	}
	w.end = j
	w.last = f[g:j]
	w.grouped = w.seps > 0 && grouped && first <= 3 && len(w.last) == 3
	if w.seps == 0 && prefix == "" {
		w.digits = f[d0:j]
	} else {
		var b strings.Builder
		b.Grow(len(prefix) + j - d0)
		b.WriteString(prefix)
		for k := d0; k < j; k++ {
			if isASCIIDigit(f[k]) {
				b.WriteByte(f[k])
			}
		}
		w.digits = b.String()
	}
	w.slash = i > 0 && f[i-1] == '/' || j < len(f) && f[j] == '/'
	w.glued = j < len(f) && isAlphaB(f[j])
	return w, true
}

// numberRun reads the run of number words separated by single spaces at i ("0912 345 678", "(028) 3829 1234")
// and marks the longest spans of consecutive words that are personal numbers. It returns where scanning
// resumes.
func (t *redactText) numberRun(i int) int {
	f := t.f
	w, ok := t.scanWord(i)
	if !ok {
		return i + 1
	}
	var buf [16]redactWord
	ws := append(buf[:0], w)
	end := w.end
	digits := len(w.digits)
	for end < len(f) && f[end] == ' ' && len(ws) < len(buf) {
		next, ok := t.scanWord(end + 1)
		if !ok {
			break
		}
		ws = append(ws, next)
		end = next.end
		digits += len(next.digits)
	}
	if digits < 6 {
		return end
	}
	ctx := t.context(i)
	for k := 0; k < len(ws); {
		found := false
		for j := len(ws) - 1; j >= k; j-- {
			kind := t.numberKind(ws[k:j+1], ctx)
			if kind == "" {
				continue
			}
			t.add(ws[k].start, ws[j].end, kind)
			k = j + 1
			found = true
			break
		}
		if !found {
			k++
		}
	}
	return end
}

// numberKind says which placeholder the words ws stand for, or "" when they are not personal data.
func (t *redactText) numberKind(ws []redactWord, ctx redactCtx) string {
	// digits typed one by one: "0 3 8 0 9 5 0 0 1 2 3 4"
	singles := len(ws) >= 9
	for _, w := range ws {
		singles = singles && len(w.digits) == 1 && !w.plus && !w.paren
	}
	n := 0
	for k, w := range ws {
		if w.slash || (k > 0 && (w.plus || w.paren && k > 1)) {
			return ""
		}
		if len(ws) > 1 {
			switch {
			case k == 0 && (w.plus || w.paren):
			case k == 0:
				if w.seps > 0 || len(w.digits) > 7 {
					return ""
				}
			case w.seps > 0 || len(w.digits) < 2 && !singles:
				return ""
			case len(w.digits) > 7:
				// "+84 912345678", "0084 912345678": a long group only after a country code
				if k != 1 || !(ws[0].plus && ws[0].digits == "84" || ws[0].digits == "0084") || len(w.digits) > 10 {
					return ""
				}
			}
		}
		n += len(w.digits)
	}
	if n < 6 || n > 19 {
		return ""
	}
	var d string
	if len(ws) == 1 {
		d = ws[0].digits
	} else {
		var b strings.Builder
		b.Grow(n)
		for _, w := range ws {
			b.WriteString(w.digits)
		}
		d = b.String()
	}
	last := ws[len(ws)-1]
	roundMoney := len(ws) == 1 && last.grouped && last.last == "000"
	kind := ""
	switch {
	case ctx == ctxAccount && !ws[0].plus && !roundMoney && !strings.HasSuffix(d, "000"):
		kind = RedactedAccount
	case ctx == ctxInsurance && n == 10:
		kind = RedactedInsurance
	case ctx == ctxTax && (n == 10 || n == 12 || n == 13):
		kind = RedactedTaxCode
	case ctx == ctxID && n == 12:
		kind = RedactedCCCD
	case ctx == ctxID && n == 9:
		kind = RedactedCMND
	case n < 9 || n > 14 || roundMoney:
	case redactPhone(d, ws[0].plus):
		kind = RedactedPhone
	case n == 12 && d[0] == '0': // personal identification numbers begin with a province code 001–096
		kind = RedactedCCCD
	case n == 9 && ctx != ctxMoney && !last.grouped && !strings.HasSuffix(d, "000"):
		kind = RedactedCMND
	}
	if kind == "" || t.moneyAfter(last.end) {
		return ""
	}
	// Letters glued after a number make it some other identifier, unless it has the shape of a mobile number
	// or a CCCD.
	if last.glued && !(kind == RedactedPhone && n == 10 && d[0] == '0' || kind == RedactedCCCD && n == 12) {
		return ""
	}
	return kind
}

// redactPhone reports whether digits d (written after a "+" when plus) form a phone number.
func redactPhone(d string, plus bool) bool {
	if strings.HasPrefix(d, "00") {
		if !strings.HasPrefix(d, "0084") {
			return false
		}
		d, plus = d[2:], true
	}
	if strings.HasPrefix(d, "84") && (plus || len(d) == 11 || len(d) == 12) {
		rest := d[2:]
		if len(rest) > 0 && rest[0] == '0' { // +84 (0) 912 …
			rest = rest[1:]
		}
		if len(rest) == 9 && strings.IndexByte("35789", rest[0]) >= 0 || len(rest) == 10 && rest[0] == '2' {
			return true
		}
	}
	if plus {
		return len(d) >= 9 && len(d) <= 14 // another country's number
	}
	if d[0] == '0' {
		switch len(d) {
		case 10:
			return true
		case 11:
			return d[1] == '2' || d[1] == '1'
		}
	}
	return false
}

// redactUnits are the currencies and multipliers that make the number before them an amount.
var redactUnits = []string{"đồng", "vnđ", "vnd", "usd", "eur", "triệu", "trieu", "tr", "nghìn", "nghin", "ngàn", "ngan",
	"k", "tỷ", "tỉ", "ty", "đ", "dong", "d", "%"}

// moneyAfter reports whether the text after folded position i names a currency or a multiplier of money.
func (t *redactText) moneyAfter(i int) bool {
	rest := t.s[t.off[i]:]
	rest = strings.TrimLeft(rest, " ")
	for _, u := range redactUnits {
		if len(rest) >= len(u) && strings.EqualFold(rest[:len(u)], u) {
			r, _ := utf8.DecodeRuneInString(rest[len(u):])
			if u == "%" || len(rest) == len(u) || !unicode.IsLetter(r) {
				return true
			}
		}
	}
	return false
}

// --- licence plates ---

// plate reads a licence plate at i — 51F-123.45, 51F12345, 30A-1234, 51LD-123.45, 59-X1 234.56, 59X1-234.56
// — and returns its end, or 0.
func (t *redactText) plate(i int) int {
	f := t.f
	if i+2 >= len(f) || f[i] == '0' || !isASCIIDigit(f[i+1]) || isASCIIDigit(f[i+2]) {
		return 0
	}
	j := i + 2
	if f[j] == '-' || f[j] == ' ' {
		j++
	}
	k := j
	for k < len(f) && isAlphaB(f[k]) && t.asciiLetterAt(k) {
		k++
	}
	if k == j || k-j > 2 || k < len(f) && isAlphaB(f[k]) {
		return 0
	}
	j = k
	if j >= len(f) {
		return 0
	}
	sep := func(c byte) bool { return c == '-' || c == ' ' || c == '.' }
	if isASCIIDigit(f[j]) {
		e := j
		for e < len(f) && isASCIIDigit(f[e]) {
			e++
		}
		switch {
		case e-j == 1 && e+1 < len(f) && sep(f[e]) && isASCIIDigit(f[e+1]): // series digit: X1
			j = e + 1
		default:
			// the number glued to the series: 51F12345, 51F123.45
		}
	} else if sep(f[j]) && j+1 < len(f) && isASCIIDigit(f[j+1]) {
		j++
	} else {
		return 0
	}
	// the number: 123.45, 12345 or 1234
	e := j
	for e < len(f) && isASCIIDigit(f[e]) {
		e++
	}
	switch {
	case e-j == 3 && e+2 < len(f) && (f[e] == '.' || f[e] == ' ') && isASCIIDigit(f[e+1]) && isASCIIDigit(f[e+2]):
		e += 3
	case e-j == 4 || e-j == 5:
	default:
		return 0
	}
	if e < len(f) && (isAlnumB(f[e]) || (f[e] == '.' || f[e] == ',' || f[e] == '/' || f[e] == '-') && e+1 < len(f) && isASCIIDigit(f[e+1])) {
		return 0
	}
	return e
}

// --- dates of birth ---

// birthDate reads a date at i written after a birth context and returns its end, or 0.
func (t *redactText) birthDate(i int) int {
	end := t.date(i)
	if end == 0 || !t.birthContext(i) {
		return 0
	}
	return end
}

// digitsAt returns the end of the run of digits at i.
func (t *redactText) digitsAt(i int) int {
	j := i
	for j < len(t.f) && isASCIIDigit(t.f[j]) {
		j++
	}
	return j
}

// date reads dd/mm/yyyy (also with '-' or '.', a 2-digit year, or no year), yyyy-mm-dd or
// "12 tháng 3 năm 1990" at i and returns its end, or 0.
func (t *redactText) date(i int) int {
	f := t.f
	e1 := t.digitsAt(i)
	n1 := e1 - i
	if e1 >= len(f) {
		return 0
	}
	ok := func(e int) int {
		if e < len(f) && (isAlnumB(f[e]) || (f[e] == '/' || f[e] == '.' || f[e] == '-' || f[e] == ',') && e+1 < len(f) && isASCIIDigit(f[e+1])) {
			return 0
		}
		return e
	}
	if sep := f[e1]; sep == '/' || sep == '-' || sep == '.' {
		if n1 == 4 { // yyyy-mm-dd
			e2 := t.digitsAt(e1 + 1)
			if e2-e1-1 < 1 || e2-e1-1 > 2 || e2 >= len(f) || f[e2] != sep {
				return 0
			}
			e3 := t.digitsAt(e2 + 1)
			if e3-e2-1 < 1 || e3-e2-1 > 2 || !validDM(f[e2+1:e3], f[e1+1:e2]) {
				return 0
			}
			return ok(e3)
		}
		if n1 > 2 {
			return 0
		}
		e2 := t.digitsAt(e1 + 1)
		if e2-e1-1 < 1 || e2-e1-1 > 2 || !validDM(f[i:e1], f[e1+1:e2]) {
			return 0
		}
		if e2 < len(f) && f[e2] == sep && e2+1 < len(f) && isASCIIDigit(f[e2+1]) {
			e3 := t.digitsAt(e2 + 1)
			if n := e3 - e2 - 1; n != 2 && n != 4 {
				return 0
			}
			return ok(e3)
		}
		if sep == '.' {
			return 0 // "12.3" is a number
		}
		return ok(e2)
	}
	// 12 tháng 3 năm 1990
	if n1 > 2 || !strings.HasPrefix(f[e1:], " thang ") {
		return 0
	}
	m := e1 + len(" thang ")
	e2 := t.digitsAt(m)
	if e2-m < 1 || e2-m > 2 || !validDM(f[i:e1], f[m:e2]) {
		return 0
	}
	if !strings.HasPrefix(f[e2:], " nam ") {
		return ok(e2)
	}
	y := e2 + len(" nam ")
	e3 := t.digitsAt(y)
	if e3-y != 4 {
		return ok(e2)
	}
	return ok(e3)
}

func validDM(day, month string) bool {
	d, m := atoiSmall(day), atoiSmall(month)
	return d >= 1 && d <= 31 && m >= 1 && m <= 12
}

func atoiSmall(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// birthFiller are the words that may stand between a birth context and its date ("ngày sinh của tôi là").
var birthFiller = map[string]bool{"cua": true, "toi": true, "em": true, "con": true, "chau": true, "minh": true,
	"be": true, "la": true, "ngay": true, "vao": true, "hom": true, "luc": true, "ong": true, "ba": true, "bo": true,
	"me": true, "anh": true, "chi": true, "vo": true, "chong": true, "ghi": true, "tren": true, "that": true,
	"giay": true, "to": true, "day": true, "du": true, "chinh": true, "xac": true, "cu": true, "the": true}

// birthContext reports whether a birth context ("sinh ngày", "ngày sinh", "sn", "ns", "dob") stands before
// position i in the same clause.
func (t *redactText) birthContext(i int) bool {
	j := i
	for n := 0; n < 6; n++ {
		a, b := t.tokBack(j, true)
		if a < 0 {
			return false
		}
		switch w := t.f[a:b]; w {
		case "sn", "ns", "dob":
			return true
		case "sinh":
			x, y := t.tokBack(a, true)
			if x >= 0 {
				switch t.f[x:y] {
				case "khai", "hoc", "phat", "ve", "tai", "giang":
					return false
				}
			}
			return true
		default:
			if !birthFiller[w] {
				return false
			}
		}
		j = a
	}
	return false
}

// --- addresses ---

// streetWords begin a part of an address after a house number; admin words name administrative units.
var (
	streetSub  = map[string]bool{"ngo": true, "ngach": true, "hem": true, "kiet": true, "hxh": true}
	streetMain = map[string]bool{"duong": true, "pho": true}
	adminWords = map[string]bool{"phuong": true, "quan": true, "xa": true, "huyen": true, "tinh": true, "thanh": true,
		"tp": true, "thi": true, "tran": true, "ap": true, "khu": true, "to": true, "thon": true, "xom": true, "doi": true,
		"lo": true, "tang": true, "phong": true, "quay": true, "ban": true, "can": true, "p": true, "q": true, "tx": true,
		"kp": true, "tt": true, "h": true, "x": true, "ngo": true, "ngach": true, "hem": true, "kiet": true, "duong": true,
		"pho": true, "so": true, "dieu": true, "khoan": true, "chuong": true, "muc": true, "mau": true, "ngay": true,
		"thang": true, "nam": true, "lan": true, "tuoi": true, "gio": true}
	// streetNotFirst are words (lower-case, as typed) that do not begin a street name, and streetNotPair
	// pairs of words that do not ("Trung tâm", "Công an"; "Trường Chinh" is a street).
	streetNotFirst = wordSet("phường quận xã huyện tỉnh tp ấp khu tổ thôn xóm p q tx kp tôi em chị con cháu ông " +
		"thông nghị quyết luật mẫu điều khoản chương ubnd ủy uỷ sở cục hđnd tand vneid cccd cmnd sđt giấy thẻ xin " +
		"cảm nếu khi và hoặc những vậy nđ qđ bca btc phuong quan huyen tinh toi trong của năm tháng ngày giờ lần " +
		"người điểm bản bộ tuổi tầng không được rồi thì là có ạ à nhé nha ơi với cho đến từ tại ở để mà nhưng hay " +
		"cũng đã đang sẽ bị các mỗi một mấy nào gì đâu sao thế nộp làm đi về cần muốn hỏi mình anh bạn")
	streetNotPair = map[string]string{"trung": "tam", "van": "phong", "cong": "an", "bo": "phan", "chi": "cuc",
		"kho": "bac", "ngan": "hang", "benh": "vien", "thi": "xa", "thanh": "pho", "phu": "luc", "toa": "an",
		"uy": "ban", "dich": "vu"}
	// streetEnd are words (lower-case, as typed) that end a street name: administrative units.
	streetEnd   = wordSet("phường quận xã huyện tỉnh tp ấp khu tổ thôn xóm p q tx kp tôi em phuong quan huyen tinh")
	addrContext = map[string]bool{"chi": true, "dc": true, "o": true, "tai": true, "nha": true, "tru": true, "song": true}
)

// houseNumber reads a house number at i — 12, 12A, 123/4, 45/12/3, 12B/3 — and returns its end (0 if
// there is none) and whether it has a slash.
func (t *redactText) houseNumber(i int) (int, bool) {
	f := t.f
	j := t.digitsAt(i)
	if j-i == 0 || j-i > 4 {
		return 0, false
	}
	if j < len(f) && isAlphaB(f[j]) && t.asciiLetterAt(j) && (j+1 >= len(f) || !isAlphaB(f[j+1])) {
		j++
	}
	slash := false
	for j+1 < len(f) && f[j] == '/' && isASCIIDigit(f[j+1]) {
		e := t.digitsAt(j + 1)
		if e-j-1 > 3 {
			return 0, false // a year: 17/2024, a date 31/12/2026
		}
		j = e
		if j < len(f) && isAlphaB(f[j]) && t.asciiLetterAt(j) && (j+1 >= len(f) || !isAlphaB(f[j+1])) {
			j++
		}
		slash = true
	}
	if j < len(f) && (isAlnumB(f[j]) || f[j] == '/' || (f[j] == '.' || f[j] == ',' || f[j] == '-') && j+1 < len(f) && isAlnumB(f[j+1])) {
		return 0, false
	}
	return j, slash
}

// address reads a house-number address at i and returns its span, the "số nhà" before it included, or b = 0.
func (t *redactText) address(i int) (a, b int) {
	f := t.f
	j, slash := t.houseNumber(i)
	if j == 0 {
		return 0, 0
	}
	start := i
	prev := ""
	pa, pb := t.tokBack(i, true)
	colon := false // "địa chỉ: 12 Lê Lợi"
	if pa >= 0 {
		sep := strings.TrimSpace(f[pb:i])
		if sep == "" || sep == ":" {
			prev, colon = f[pa:pb], sep == ":"
		}
	}
	strong, so := false, false
	switch {
	case colon:
	case prev == "nha":
		if x, y := t.tokBack(pa, true); x >= 0 && f[x:y] == "so" && t.onlySpaces(y, pa) {
			start, strong = x, true
		}
	case prev == "so":
		if x, y := t.tokBack(pa, true); x >= 0 && f[x:y] == "nha" && t.onlySpaces(y, pa) {
			start, strong = x, true
		} else {
			so = true
		}
	}
	next := t.skipSpaces(j)
	nextEnd := t.wordAt(next)
	if (so || strong) && next < len(f) && f[next] == ',' { // "số 7, ngõ 15, phố Chùa Láng"
		if q := t.skipSpaces(next + 1); q > next+1 {
			if qe := t.wordAt(q); streetSub[f[q:qe]] || streetMain[f[q:qe]] {
				next, nextEnd = q, qe
			}
		}
	}
	kw, loose := false, false // a street word follows: with a number or a capitalised name after it / with anything
	if next > j && nextEnd > next {
		w := f[next:nextEnd]
		if streetSub[w] || streetMain[w] {
			q := t.skipSpaces(nextEnd)
			if qe := t.wordAt(q); q > nextEnd && f[q:qe] == "so" {
				q = t.skipSpaces(qe)
			}
			loose = q > nextEnd && q < len(f) && isAlnumB(f[q])
			kw = q > nextEnd && q < len(f) && (isASCIIDigit(f[q]) || streetMain[w] && t.streetName(q) > 0)
		}
	}
	// Capitals are evidence of a street name; in a text all in capitals, only a name that begins with a surname
	// ("LÊ LỢI", "BÙI ĐÌNH TÚY").
	capName := next > j && t.streetName(next) > 0 && (pa < 0 || !t.allUpper(pa, pb) || t.surnameAt(next, nextEnd))
	ctxWord := addrContext[prev] && (prev != "chi" || t.wordsBefore(pa, []string{"dia"}))
	switch {
	case strong:
	case so && (loose || capName):
		start = pa
	case kw && !adminWords[prev]:
	case slash && prev != "ngay" && (capName || ctxWord):
	case ctxWord && (capName || loose):
	default:
		return 0, 0
	}
	return start, t.addressRest(j)
}

// allUpper reports whether the letters of the word [a, b) are all capitals (two letters at least).
func (t *redactText) allUpper(a, b int) bool {
	if b-a < 2 {
		return false
	}
	for _, r := range t.s[t.off[a]:t.off[b]] {
		if unicode.IsLower(r) {
			return false
		}
	}
	return true
}

// streetName reads capitalised words at i that can name a street ("Lê Lợi", "Nguyễn Thị Minh Khai") and
// returns the end of the last one, or 0.
func (t *redactText) streetName(i int) int {
	f := t.f
	end := 0
	for n := 0; n < 6; n++ {
		e := t.wordAt(i)
		if e == i || !t.upperAt(i) || e < len(f) && isASCIIDigit(f[e]) {
			break
		}
		w := t.lower(i, e)
		k := t.skipSpaces(e)
		next := f[k:t.wordAt(k)]
		if n == 0 && streetNotFirst[w] || n > 0 && streetEnd[w] {
			break
		}
		if second, ok := streetNotPair[f[i:e]]; ok && next == second {
			break
		}
		end = e
		if k == e || k >= len(f) {
			break
		}
		i = k
	}
	return end
}

// addressRest extends an address after its house number over alleys ("ngõ 34", "hẻm 12/5") and the street
// ("đường Lê Lợi", "phố Huế", "Nguyễn Trãi", "đường số 5", "đường 3/2").
func (t *redactText) addressRest(j int) int {
	f := t.f
	end := j
	for n := 0; n < 6; n++ {
		p := t.skipSpaces(end)
		if p < len(f) && f[p] == ',' {
			q := t.skipSpaces(p + 1)
			if e := t.wordAt(q); e == q || !streetSub[f[q:e]] && !streetMain[f[q:e]] {
				return end
			}
			p = q
		} else if p == end && p < len(f) {
			return end
		}
		e := t.wordAt(p)
		if e == p {
			return end
		}
		w := f[p:e]
		switch {
		case streetSub[w]:
			q := t.skipSpaces(e)
			if qe := t.wordAt(q); f[q:qe] == "so" {
				q = t.skipSpaces(qe)
			}
			if q < len(f) && isASCIIDigit(f[q]) {
				if h, _ := t.houseNumber(q); h > 0 {
					end = h
					continue
				}
			}
			if s := t.streetName(q); s > 0 && q > e {
				return s
			}
			return end
		case streetMain[w]:
			q := t.skipSpaces(e)
			if q == e {
				return end
			}
			if qe := t.wordAt(q); f[q:qe] == "so" {
				if r := t.skipSpaces(qe); r > qe && r < len(f) && isASCIIDigit(f[r]) {
					return t.digitsAt(r)
				}
			}
			if q < len(f) && isASCIIDigit(f[q]) {
				if h, _ := t.houseNumber(q); h > 0 {
					return h
				}
				return end
			}
			if s := t.streetName(q); s > 0 {
				return s
			}
			// a lower-case name: up to four words, up to an administrative unit or a function word
			last := 0
			for k := 0; k < 4; k++ {
				we := t.wordAt(q)
				if we == q || streetEnd[t.lower(q, we)] || streetStop[t.lower(q, we)] || we < len(f) && isASCIIDigit(f[we]) {
					break
				}
				last = we
				r := t.skipSpaces(we)
				if r == we {
					break
				}
				q = r
			}
			if last > 0 {
				return last
			}
			return end
		default:
			if s := t.streetName(p); s > 0 {
				return s
			}
			return end
		}
	}
	return end
}

// --- names ---

// Vietnamese surnames, folded: a lower-case name that begins with one is taken whole.
var surnames = wordSet("nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly dinh dao mai trinh " +
	"luong lam cao ta doan vuong truong ha to chau la thai kieu quach luu chu tu trieu khuc mac nghiem kim tong " +
	"thach giang lai han hua ninh diep au ton tieu bach phung")

// accentedSurnames are the surnames as written with their marks, lower-case.
var accentedSurnames = wordSet("nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý đinh đào mai " +
	"trịnh lương lâm cao tạ đoàn vương trương hà tô châu la thái kiều quách lưu chu từ triệu khúc mạc nghiêm kim " +
	"tống thạch giang lại hàn hứa ninh diệp âu tôn tiêu bạch đàm phùng lục doãn nông khổng tăng thân giáp quan")

// surnameAt reports whether the word [p, e) is a surname: written with its marks, or without any.
func (t *redactText) surnameAt(p, e int) bool {
	w := t.lower(p, e)
	return accentedSurnames[w] || w == t.f[p:e] && surnames[w]
}

// nameStop are words (lower-case, as typed) that end a lower-case name or cannot begin one. Without marks,
// only words that are never a syllable of a name are listed ("quan" may be Quân, "thang" Thắng).
var nameStop = wordSet("muốn cần hỏi xin ở tại sinh là và thì có để nhé ạ đã đang làm nộp đi nhà cho con vợ " +
	"chồng bố mẹ hiện nay sống quê tuổi mà với của không được rồi sẽ bị mất giúp vậy thế nào gì đâu sao trên dưới " +
	"phường quận xã huyện tỉnh tp thành phố ngày tháng năm số sđt email cccd cmnd địa chỉ nha nhá ơi hả người em " +
	"tôi mình chị cháu ông bà đăng ký cấp đổi giấy thủ tục hồ sơ lệ phí khai thường trú tạm học mới cũ này đó kia " +
	"vừa lúc khi nếu vì nên cũng đều rất hay hoặc bạn ad admin ah à dạ vâng ok oke tks thanks cảm cám ơn " +
	"muon can hoi xin o sinh la va co de nhe lam nop cho nay tuoi voi cua khong duoc roi se bi mat giup " +
	"vay the nao gi dau sao tren duoi xa ngay so sdt dia nguoi toi cap doi giay moi kia khi neu nen cung " +
	"deu rat hay hoac ban j ko k dc đc")

// streetStop are words (lower-case, as typed) that end a lower-case street name.
var streetStop = wordSet("muốn cần hỏi xin ở tại là và thì có để nhé ạ đã đang làm nộp đi cho hiện nay sống của " +
	"không được rồi sẽ bị mất giúp vậy thế nào gì đâu sao số sđt email cccd nha ơi tôi em mình chị đăng cấp đổi " +
	"giấy thủ hồ lệ muon can hoi xin o la va co de nhe lam nop cho cua khong duoc sdt dia toi phuong quan xa " +
	"huyen tinh tp")

// capNameStop are words (lower-case, as typed) that end a capitalised name ("Nguyễn Văn An Tôi muốn …").
var capNameStop = wordSet("tôi em mình chị xin nhờ cho cảm số sđt sdt cccd cmnd email mst stk bhxh địa ở tại hiện " +
	"muốn cần hỏi ngày năm phường quận xã huyện tỉnh thành tp đt zalo mail và sinh")

// nameSubjects are the words (lower-case, as typed) that say whose name is around "tên": "tôi tên", "tên em
// là", "họ và tên", "con tôi tên là". Without marks, "vo", "chau", "ho", "ba", "be", "bo" are surnames too.
var nameSubjects = wordSet("tôi em mình con cháu bé vợ chồng bố mẹ ông bà họ toi minh con chong")

// nameSubjectsBefore are nameSubjects folded, for the word just before "tên".
var nameSubjectsBefore = wordSet("toi em minh con chau be vo chong bo ho ong ba")

// nameFiller may stand between "tên" and the name: "tên của tôi là", "tên khai sinh là", "tên đầy đủ:".
var nameFiller = wordSet("của khai sinh đầy đủ thật là cua khai sinh day du that la")

// names finds the names citizens give: after "tôi tên là", "tên tôi là", "em tên", "con tôi tên là",
// "họ và tên:", "tên khai sinh là", or a surname after "tôi là" / "em là" / "mình là".
func (t *redactText) names() {
	f := t.f
	if !strings.Contains(f, "ten") && !strings.Contains(f, "la ") {
		return
	}
	for i := 0; i < len(f); {
		if !isAlphaB(f[i]) || i > 0 && isAlnumB(f[i-1]) {
			i++
			continue
		}
		j := t.wordAt(i)
		start, capOnly := -1, false
		switch f[i:j] {
		case "ten":
			start = t.nameTrigger(i, j)
		case "la":
			if a, b := t.tokBack(i, true); a >= 0 && (f[a:b] == "toi" || f[a:b] == "em" || f[a:b] == "minh") {
				start, capOnly = j, true
			}
		}
		if start >= 0 {
			if a, b := t.nameAt(start, capOnly); b > 0 {
				t.add(a, b, RedactedName)
				i = b
				continue
			}
		}
		i = j
	}
}

// nameTrigger reads the words around "tên" at [i, j) and returns where the name begins, or -1: a subject
// must stand just before "tên" ("tôi tên", "họ và tên") or among the lower-case words after it ("tên tôi là").
func (t *redactText) nameTrigger(i, j int) int {
	f := t.f
	subject := false
	if a, b := t.tokBack(i, true); a >= 0 {
		// before "tên" a word is never a surname: "chau ten" is "cháu tên", "ho ten" "họ tên"
		p := t.f[a:b]
		subject = nameSubjectsBefore[p] || p == "va" && t.wordsBefore(a, []string{"ho"})
	}
	k, own := j, false
	for n := 0; n < 4; n++ {
		p := k
		for p < len(f) && (f[p] == ' ' || f[p] == ':') {
			p++
		}
		e := t.wordAt(p)
		if e == p || p == k || t.upperAt(p) && t.surnameAt(p, e) {
			break
		}
		w := t.lower(p, e)
		switch {
		case nameSubjects[w] && w != "họ":
			subject = true
		case w == "sinh" || w == "đủ" || w == "du" || w == "thật" || w == "that":
			own = true // "tên khai sinh là", "tên đầy đủ:", "tên thật là"
		case !nameFiller[w]:
			n = 4
			continue
		}
		k = e
		if w == "là" || w == "la" {
			subject = subject || own
			break
		}
	}
	if j < len(f) && f[j] == ':' { // a form's label: "Tên: Lê Văn Tám"
		return j + 1
	}
	if !subject {
		return -1
	}
	if k == j { // "họ tên người yêu cầu: Đỗ Thị Hằng"
		p := j
		for n := 0; n < 4; n++ {
			q := t.skipSpaces(p)
			e := t.wordAt(q)
			if q == p || e == q || t.upperAt(q) {
				break
			}
			p = e
			if p < len(f) && f[p] == ':' {
				return p + 1
			}
		}
	}
	return k
}

// nameAt reads a name at or after position p: capitalised words (up to 5), or lower-case words — up to 4
// when the first is a surname, else up to 2. capOnly takes only a capitalised name that begins with a
// surname. It returns the name's span, or b = 0.
func (t *redactText) nameAt(p int, capOnly bool) (a, b int) {
	f := t.f
	for p < len(f) && (f[p] == ' ' || f[p] == ':' || f[p] == '-') {
		p++
	}
	e := t.wordAt(p)
	if e == p || e < len(f) && isASCIIDigit(f[e]) {
		return 0, 0
	}
	if w := t.lower(p, e); w == "là" || w == "la" && !t.upperAt(p) { // "tên tôi: là …"
		p = t.skipSpaces(e)
		if e = t.wordAt(p); e == p {
			return 0, 0
		}
	}
	upper := t.upperAt(p)
	surname := t.surnameAt(p, e)
	if capOnly && (!upper || !surname) {
		return 0, 0
	}
	limit := 5
	if !upper {
		limit = 2
		if surname {
			limit = 4
		}
	}
	a, end, words := p, 0, 0
	for n := 0; n < limit; n++ {
		e = t.wordAt(p)
		if e == p || e < len(f) && isASCIIDigit(f[e]) {
			break
		}
		w := t.lower(p, e)
		if upper {
			if !t.upperAt(p) || capNameStop[w] {
				break
			}
		} else if (nameStop[w] && !(n == 0 && surname)) || t.upperAt(p) && n > 0 {
			break
		}
		end = e
		words++
		q := t.skipSpaces(e)
		if q == e {
			break
		}
		p = q
	}
	if end == 0 || capOnly && words < 2 {
		return 0, 0
	}
	return a, end
}

// redactedPlaceholders are the placeholders Redact writes.
var redactedPlaceholders = []string{RedactedCCCD, RedactedCMND, RedactedPhone, RedactedEmail, RedactedAccount,
	RedactedPlate, RedactedAddress, RedactedName, RedactedPassport, RedactedInsurance, RedactedTaxCode,
	RedactedBirthDate}

// withoutPlaceholders blanks out the placeholders of a redacted text, so that reading its intents again gives
// what the original said: "[ĐỊA CHỈ]" does not ask where, "[NGÀY SINH]" does not ask when.
func withoutPlaceholders(s string) string {
	if !strings.Contains(s, "[") {
		return s
	}
	for _, ph := range redactedPlaceholders {
		s = strings.ReplaceAll(s, ph, " ")
	}
	return s
}
