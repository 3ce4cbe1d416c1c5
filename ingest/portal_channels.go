package ingest

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// The "cách thức thực hiện" table arrives flattened: a header, then rows of
//
//	<kind><time><fee cell>[(<fee note>)]<description>
//
// with no separators, e.g. "Trực tuyến7 Ngày làm việc10,000 Việt Nam Đồng(…)Trực tiếp7 Ngày làm việc…".
// kind is one of three fixed words; time is "<number> <unit>", a bare number, or a phrase ("Không có thông tin");
// the fee cell is "Miễn phí", "Không có thông tin" or "<amount> <currency>" (the amount may be missing).
const channelHeader = "Hình thức nộpThời gianPhí, lệ phíMô tả"

const (
	kindAlt     = `Trực tuyến|Dịch vụ bưu chính|Trực tiếp`
	unitAlt     = `Ngày làm việc|Ngày|Giờ|Tháng|Năm|Tuần|Phút`
	currencyAlt = `Việt Nam Đồng|VNĐ|VND|USD|Đồng|đồng`
	feeAlt      = `Miễn phí|Không thu phí|Không có thông tin|[\d.,]*\s*(?:` + currencyAlt + `)`
)

var (
	// rowStrict finds the start of a row whose time cell is a number (with or without a unit) or a
	// "no information" phrase. Descriptions often mention the channel words ("Trực tiếp tại …") but never
	// followed by a time and a fee cell.
	rowStrict = regexp.MustCompile(`(` + kindAlt + `)(?:\d+(?:[.,]\d+)?\s*(?:` + unitAlt + `)?|Không có thông tin|Không quy định)(?:` + feeAlt + `)`)
	// rowLoose also accepts a free-text time cell ("Không phải trả kết quả cho người nộp thuế"). It is only used
	// for tables whose first row the strict pattern does not find.
	rowLoose = regexp.MustCompile(`(` + kindAlt + `)(.{1,200}?)(` + feeAlt + `)`)

	timeNumber  = regexp.MustCompile(`^(\d+(?:[.,]\d+)?)\s*(` + unitAlt + `)?`)
	timePhrase  = regexp.MustCompile(`^(?:Không có thông tin|Không quy định)`)
	digitsFee   = regexp.MustCompile(`^([\d.,]+)\s*(` + currencyAlt + `)`)
	feeWord     = regexp.MustCompile(`^(?:Miễn phí|Không thu phí|Không có thông tin)`)
	feeCurrency = regexp.MustCompile(`^([\d.,]*)\s*(` + currencyAlt + `)`)
)

var channelKinds = map[string]knowledge.ChannelKind{
	"Trực tuyến":        knowledge.ChannelOnline,
	"Dịch vụ bưu chính": knowledge.ChannelPostal,
	"Trực tiếp":         knowledge.ChannelInPerson,
}

// parseChannels parses cach_thuc_thuc_hien into channels, one per table row, in source order.
func parseChannels(s string) []knowledge.Channel {
	body := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), channelHeader))
	if body == "" {
		return nil
	}
	starts := rowStarts(body)
	var out []knowledge.Channel
	for i, st := range starts {
		end := len(body)
		if i+1 < len(starts) {
			end = starts[i+1].at
		}
		out = append(out, parseRow(body[st.at:end], st))
	}
	return out
}

type rowStart struct {
	at    int    // byte offset of the kind word
	kind  string // the kind word
	loose bool   // found by rowLoose
	time  string // loose only: the free-text time cell
}

func rowStarts(body string) []rowStart {
	var out []rowStart
	for _, m := range rowStrict.FindAllStringSubmatchIndex(body, -1) {
		out = append(out, rowStart{at: m[0], kind: body[m[2]:m[3]]})
	}
	if len(out) > 0 && out[0].at == 0 {
		return out
	}
	out = out[:0]
	for _, m := range rowLoose.FindAllStringSubmatchIndex(body, -1) {
		out = append(out, rowStart{at: m[0], kind: body[m[2]:m[3]], loose: true, time: body[m[4]:m[5]]})
	}
	if len(out) > 0 && out[0].at == 0 {
		return out
	}
	return nil
}

// parseRow parses one row: the kind word, the time cell, the fee cell, its note and the description.
func parseRow(row string, st rowStart) knowledge.Channel {
	c := knowledge.Channel{Kind: channelKinds[st.kind]}
	rest := row[len(st.kind):]

	var cellAmount string // digits of the fee cell, when the time cell left them to us
	switch {
	case st.loose:
		c.Time = knowledge.Duration{Text: knowledge.Normalize(st.time)}
		rest = rest[len(st.time):]
	case timePhrase.MatchString(rest):
		m := timePhrase.FindString(rest)
		c.Time = knowledge.Duration{Text: m}
		rest = rest[len(m):]
	default:
		m := timeNumber.FindStringSubmatch(rest)
		if m == nil {
			break
		}
		if m[2] == "" {
			// A bare number: the fee digits may follow with no separator ("Trực tuyến140,000 Việt Nam Đồng").
			if f := digitsFee.FindStringSubmatch(rest); f != nil {
				note, _ := feeNote(rest[len(f[0]):])
				t, amount := splitTimeAndAmount(f[1], amountsIn(note))
				c.Time = duration(t, "")
				cellAmount = amount
				rest = rest[len(f[1]):]
				break
			}
		}
		c.Time = duration(m[1], m[2])
		rest = rest[len(m[0]):]
	}

	rest = strings.TrimLeft(rest, " \t")
	var cell, currency string
	if w := feeWord.FindString(rest); w != "" {
		cell = w
		switch w {
		case "Miễn phí", "Không thu phí":
			c.Free = true
		default:
			c.FeeNA = true
		}
		rest = rest[len(w):]
	} else if m := feeCurrency.FindStringSubmatch(rest); m != nil {
		cell, currency = m[0], m[2]
		if cellAmount == "" {
			cellAmount = m[1]
		} else {
			cell = cellAmount + " " + m[2]
		}
		rest = rest[len(m[0]):]
	}
	note, rest := feeNote(rest)
	desc := knowledge.Normalize(rest)

	text := cell
	if note != "" {
		text += "(" + note + ")"
	}
	c.Text = knowledge.Normalize(text)
	noteText := knowledge.Normalize(note)
	switch {
	case noteText != "" && desc != "":
		c.Note = noteText + "\n" + desc
	case noteText != "":
		c.Note = noteText
	default:
		c.Note = desc
	}
	c.Fees = channelFees(cellAmount, currency, noteText, desc)
	return c
}

// duration builds a Duration from the number and unit of a time cell.
func duration(number, unit string) knowledge.Duration {
	v, err := strconv.ParseFloat(strings.ReplaceAll(number, ",", "."), 64)
	if err != nil {
		return knowledge.Duration{Text: strings.TrimSpace(number + " " + unit)}
	}
	return knowledge.Duration{Value: v, Unit: strings.ToLower(unit), Text: strings.TrimSpace(number + " " + unit)}
}

// feeNote takes the parenthesised note that follows a fee cell, if any, and returns its inside and the rest.
// A note whose parentheses never close runs to the end of the row.
func feeNote(s string) (note, rest string) {
	s = strings.TrimLeft(s, " \t")
	if !strings.HasPrefix(s, "(") {
		return "", s
	}
	depth := 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return s[1:i], s[i+1:]
			}
		}
	}
	return s[1:], ""
}

// splitTimeAndAmount splits digits that run a bare time cell into the fee cell: "140,000" before
// "Việt Nam Đồng" is time "1" and fee "40,000". Every split that leaves a well-formed amount is a candidate;
// the one whose amount (or amount in thousands, see cellFee) is named in the fee note wins, otherwise the
// shortest time (the portal's bare times are single digits).
func splitTimeAndAmount(d string, noted []int64) (time, amount string) {
	first := d
	if i := strings.IndexAny(d, ".,"); i >= 0 {
		first = d[:i]
	}
	var candidates []int
	for k := 1; k < len(first); k++ {
		if wellFormedAmount(d[k:]) {
			candidates = append(candidates, k)
		}
	}
	if len(candidates) == 0 {
		return d, ""
	}
	for _, k := range candidates {
		v := parseAmount(d[k:])
		for _, n := range noted {
			if n == v || n == v*1000 {
				return d[:k], d[k:]
			}
		}
	}
	k := candidates[0]
	return d[:k], d[k:]
}

// wellFormedAmount reports whether s is "0", digits without a leading zero, or digits grouped by thousands
// ("40,000", "1.500.000").
func wellFormedAmount(s string) bool {
	if s == "" || (s[0] == '0' && s != "0") {
		return false
	}
	groups := strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == ',' })
	if len(groups) == 0 || strings.Trim(s, "0123456789.,") != "" {
		return false
	}
	if len(groups) == 1 {
		return len(groups[0]) == len(s)
	}
	if len(groups[0]) > 3 {
		return false
	}
	n := len(groups[0])
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return false
		}
		n += 4
	}
	return n == len(s)
}

func parseAmount(s string) int64 {
	var v int64
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			if v > 1e15 {
				return 0
			}
			v = v*10 + int64(c-'0')
		}
	}
	return v
}

// channelFees collects the fees of one row: the amount of the fee cell, then every amount named in the fee
// note and in the description, without repeating an amount.
func channelFees(cellAmount, currency, note, desc string) []knowledge.Fee {
	noteFees := findFees(note)
	descFees := findFees(desc)
	var out []knowledge.Fee
	add := func(f knowledge.Fee) {
		for _, x := range out {
			if x.Amount == f.Amount {
				return
			}
		}
		out = append(out, f)
	}
	if f, ok := cellFee(cellAmount, currency, note, noteFees); ok {
		add(f)
	}
	for _, f := range noteFees {
		add(f)
	}
	for _, f := range descFees {
		add(f)
	}
	return out
}

// cellFee reads the amount of the fee cell. USD amounts are not kept (Fee is in đồng), nor placeholder amounts
// under 10. Other amounts under 1,000 đồng are read as thousands: the portal stores some fees that way
// ("20 VNĐ" with the note "20.000 đ/tờ khai", "25 VNĐ" for a 50% reduction of 50.000 đồng), unless the note gives
// the same number in USD ("145 VNĐ" with "145 USD/thẻ"). The label comes from the note: its own label when the
// note names the same amount, else what the note says about the cell (see cellLabel).
func cellFee(amount, currency, note string, noteFees []knowledge.Fee) (knowledge.Fee, bool) {
	if amount == "" || currency == "USD" {
		return knowledge.Fee{}, false
	}
	v := parseAmount(amount)
	if v < 10 {
		return knowledge.Fee{}, false
	}
	if v < 1000 {
		if mentionsUSD(note, v) {
			return knowledge.Fee{}, false
		}
		v *= 1000
	}
	for _, f := range noteFees {
		if f.Amount == v {
			return f, true
		}
	}
	return knowledge.Fee{Amount: v, Label: cellLabel(note, len(noteFees) > 0)}, true
}

var usdAmount = regexp.MustCompile(`(\d+)\s*(?i:usd)`)

// mentionsUSD reports whether text names the amount v in USD ("145 USD/thẻ").
func mentionsUSD(text string, v int64) bool {
	for _, m := range usdAmount.FindAllStringSubmatchIndex(text, -1) {
		if (m[0] == 0 || !isASCIIDigit(text[m[0]-1])) && parseAmount(text[m[2]:m[3]]) == v {
			return true
		}
	}
	return false
}

var leadingCurrency = regexp.MustCompile(`^(?i:việt nam\s*)?(?:đồng|Đồng|ĐỒNG|VNĐ|vnđ|đ|Đ)(?:\s|$|/|\()`)

// cellLabel labels the fee cell's amount from its note: the note continues the cell ("Đồng (Sát hạch thực hành)",
// "/trang", "đồng/lần"), or, when it names no amount, describes it ("Phí thẩm định đối với …").
func cellLabel(note string, noteHasAmounts bool) string {
	const generic = "Phí, lệ phí"
	n := strings.TrimSpace(note)
	if m := leadingCurrency.FindString(n); m != "" {
		n = strings.TrimSpace(strings.TrimPrefix(n, strings.TrimRight(m, "/(")))
	}
	if strings.HasPrefix(n, "/") {
		if unit, _ := perUnit(n); unit != "" {
			return generic + " (mỗi " + unit + ")"
		}
		return generic
	}
	if strings.HasPrefix(n, "(") {
		if p := leadingParen(n); p != "" && !feeNotePhrase.MatchString(p) {
			return p
		}
	}
	n = strings.TrimLeft(strings.Trim(n, " .;:()"), "-+*• ")
	switch {
	case noteHasAmounts || n == "" || isPlaceholder(n):
		return generic
	case len(strings.Fields(n)) <= 3:
		return generic + " (" + n + ")"
	case utf8.RuneCountInString(n) <= 160 && !feeNotePhrase.MatchString(n):
		return n
	}
	return generic
}

// feeNotePhrase starts notes that say when or under which rule a fee applies, not what it is for.
var feeNotePhrase = regexp.MustCompile(`(?i)^(?:miễn|theo|từ ngày|kể từ|áp dụng|thông tư|nghị định|quy định|căn cứ|mức|không|chưa|do |trường hợp|\*)`)

// leadingParen returns the text inside a parenthesis that opens s, up to its first nested parenthesis or
// semicolon, without list marks.
func leadingParen(s string) string {
	s = strings.TrimPrefix(s, "(")
	if i := strings.IndexAny(s, "();"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(s), "-+*•: "))
	if isPlaceholder(s) {
		return ""
	}
	return truncateRunes(s, 120)
}

var (
	// moneyAmount finds amounts in đồng in free text: "70.000 đồng", "20.000Đ/tờ khai", "10,000 Việt Nam Đồng",
	// "135.000 đồng/lần", "01 triệu đồng", a grouped number before "/unit" ("8.000.000/lần"), and a number after
	// "phí:" ("Lệ phí: 1,500,000").
	moneyAmount = regexp.MustCompile(
		`(\d{1,3}(?:[.,]\d{3})+|\d+)\s*(triệu\s*đồng|triệu\s*Đồng|(?:Việt Nam\s*)?(?:đồng|Đồng|ĐỒNG)|VNĐ|vnđ|VND|vnd|đ|Đ)` +
			`|(\d{1,3}(?:[.,]\d{3})+|\d{4,})\s*/\s*\p{Ll}` +
			`|(?i:phí)\s*:?\s*(\d{1,3}(?:[.,]\d{3})+|\d{4,})`)
	// feeClauseStart marks where the clause that names a fee begins.
	feeClauseStart = regexp.MustCompile(`[;\n]|\.\s|\s[-+]\s|^[-+]\s|[*•]`)
	// labelTail is wording at the end of a clause that says nothing about what the fee is for.
	labelTail = regexp.MustCompile(`(?i)(?:(?:^|\s)(?:là|thu|bằng|nộp)|\s*[:\-–,(])+\s*$`)
	// feeCondition starts a condition written after an amount ("20.000 đồng đối với hàng hóa xuất khẩu").
	feeCondition = regexp.MustCompile(`^\s*(?:đối với|cho|khi|nếu|trường hợp)\s`)
)

// findFees finds every amount in đồng in text, each with a label: the clause before it (what it is for) and
// the unit after it ("/lần" → "(mỗi lần)").
func findFees(text string) []knowledge.Fee {
	if text == "" {
		return nil
	}
	var out []knowledge.Fee
	prevEnd := 0 // where the text after the previous amount (and its unit) ends
	for _, m := range moneyAmount.FindAllStringSubmatchIndex(text, -1) {
		start, end := m[0], m[1]
		if start > 0 {
			// Not the tail of a longer number, a date or a document number ("85/2019/TT-BTC").
			if p := text[start-1]; p == '/' || p == '.' || p == ',' || (p >= '0' && p <= '9') {
				continue
			}
		}
		var digits, unit string
		numStart := start
		switch {
		case m[2] >= 0:
			digits, unit = text[m[2]:m[3]], text[m[4]:m[5]]
			if (unit == "đ" || unit == "Đ") && end < len(text) && isLetterAt(text, end) {
				continue // "đ" that begins a word
			}
		case m[6] >= 0:
			digits = text[m[6]:m[7]]
			end = m[7]
		default:
			digits, numStart = text[m[8]:m[9]], m[8]
			end = m[9]
		}
		if strings.ContainsAny(digits, ".,") && !wellFormedAmount(digits) {
			continue
		}
		if strings.HasPrefix(text[end:], "%") || strings.HasPrefix(strings.TrimSpace(text[end:]), "USD") {
			continue
		}
		v := parseAmount(digits)
		if strings.HasPrefix(unit, "triệu") {
			v *= 1_000_000
		}
		if v < 100 || v > 100_000_000_000 {
			continue
		}
		from := 0
		if prevEnd <= numStart {
			from = prevEnd
		}
		label, used := feeLabel(text[from:numStart], text[end:])
		out = append(out, knowledge.Fee{Amount: v, Label: label})
		prevEnd = end + used
	}
	return out
}

func isLetterAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

// feeLabel builds a fee's label from the text before the amount (back to the start of its clause or the previous
// amount) and after it: the unit ("/lần" → "(mỗi lần)") and, when the text before says nothing specific, the
// description or condition that follows ("400000 Đồng (Sát hạch …)", "20.000 đồng đối với hàng hóa …"). It also
// returns how much of after it used.
func feeLabel(before, after string) (string, int) {
	heading := ""
	if locs := feeClauseStart.FindAllStringIndex(before, -1); len(locs) > 0 {
		heading = caseHeading(before, locs)
		before = before[locs[len(locs)-1][1]:]
	}
	label := strings.TrimSpace(labelTail.ReplaceAllString(strings.TrimSpace(before), ""))
	label = strings.TrimSpace(strings.TrimLeft(label, "-+*•:;,.() "))
	label = lastRunes(label, 120)
	switch knowledge.Fold(label) {
	case "muc", "tu", "muc thu", "muc phi":
		label = "" // says nothing
	}
	unit, used := perUnit(after)
	rest := after[used:]
	if unit == "" {
		// "Phí: 600000 Đồng (…)": the currency word after a number read from "phí:".
		if m := leadingCurrency.FindString(strings.TrimLeft(rest, " ")); m != "" {
			skip := len(rest) - len(strings.TrimLeft(rest, " ")) + len(strings.TrimRight(m, "/( \t\n"))
			used += skip
			rest = rest[skip:]
			if u, n := perUnit(rest); u != "" {
				unit, used, rest = u, used+n, rest[n:]
			}
		}
	}
	if genericFeeWord(label) {
		trimmed := strings.TrimLeft(rest, " ")
		switch {
		case strings.HasPrefix(trimmed, "("):
			if p := leadingParen(trimmed); p != "" && !feeNotePhrase.MatchString(p) {
				label = p
				used += len(rest) - len(trimmed) + 1 + len(p)
			}
		case feeCondition.MatchString(rest):
			c := rest
			if i := strings.IndexAny(c, ";.\n("); i >= 0 {
				c = c[:i]
			}
			used += len(c)
			c = truncateRunes(strings.TrimSpace(c), 100)
			if label != "" {
				c = label + " " + c
			}
			label = c
		}
	}
	if label == "" {
		label = "Phí, lệ phí"
	}
	if heading != "" && !strings.Contains(knowledge.Fold(label), knowledge.Fold(heading)) {
		// "- Đăng ký tạm trú theo danh sách: + Trường hợp công dân nộp hồ sơ trực tiếp thu 10.000 đồng": the
		// amount is for that case only, which the clause alone does not say.
		label = heading + ": " + lowerInitial(label)
	}
	if unit != "" {
		label += " (mỗi " + unit + ")"
	}
	return label, used
}

// caseHeading is the heading of the case a fee clause belongs to — the clause before it when that ends with a
// colon ("- Đăng ký tạm trú theo danh sách:") — or "" (locs are the clause starts in before).
func caseHeading(before string, locs [][]int) string {
	last := locs[len(locs)-1][0]
	from := 0
	if len(locs) > 1 {
		from = locs[len(locs)-2][1]
	}
	h := strings.TrimSpace(before[from:last])
	if !strings.HasSuffix(h, ":") {
		return ""
	}
	h = strings.TrimSpace(strings.TrimLeft(strings.TrimRight(h, ": "), "-+*•( "))
	if n := utf8.RuneCountInString(h); n < 4 || n > 80 || strings.ContainsAny(h, ":;/") {
		return "" // not a case: a list's lead-in or the regulation that sets the amount ("Theo Thông tư số …/2022/…:")
	}
	f := knowledge.Fold(h)
	for _, w := range []string{"theo ", "bao gom", "trong do", "cu the", "gom", "muc thu", "muc phi", "muc le phi", "phi",
		"le phi"} {
		if strings.HasPrefix(f, w) {
			return ""
		}
	}
	if strings.HasSuffix(f, "nhu sau") {
		return ""
	}
	return h
}

// lowerInitial writes s with a lower-case first letter ("Trường hợp …" → "trường hợp …").
func lowerInitial(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// genericFeeWord reports whether a label says no more than "a fee".
func genericFeeWord(label string) bool {
	switch strings.Trim(knowledge.Fold(label), " :,.") {
	case "", "phi", "le phi", "phi, le phi", "muc thu", "muc phi", "gia", "tu", "muc thu le phi", "muc thu phi",
		"muc le phi", "phi le phi":
		return true
	}
	return false
}

var perUnitRe = regexp.MustCompile(`^\s*(?:đồng|Đồng|đ|Đ)?\s*/\s*([^;:.()\n,]{1,40})`)

// perUnit reads the unit of a per-unit amount from the text after it: "/01 lần cấp; …" → "01 lần cấp", and how
// much of after it used.
func perUnit(after string) (string, int) {
	m := perUnitRe.FindStringSubmatchIndex(after)
	if m == nil {
		return "", 0
	}
	used := m[1]
	m1 := after[m[2]:m[3]]
	u := m1
	// Stop where the next sentence begins with no separator in the crawl ("…/lầnTừ ngày …").
	prev := ' '
	for i, r := range u {
		if unicode.IsLower(prev) && unicode.IsUpper(r) {
			u = u[:i]
			break
		}
		prev = r
	}
	// A unit is a few words; stop before words that start a condition ("/hồ sơ kể từ ngày …").
	words := strings.Fields(u)
	for i, w := range words {
		if i >= 5 || unitStop[w] {
			words = words[:i]
			break
		}
	}
	keep := strings.Join(words, " ")
	if keep == "" {
		return "", 0
	}
	// used: up to the end of the kept words in after.
	used = m[2]
	for _, w := range words {
		used += strings.Index(after[used:], w) + len(w)
	}
	return keep, used
}

// unitStop are words that end a per-unit phrase.
var unitStop = map[string]bool{
	"kể": true, "từ": true, "theo": true, "áp": true, "đối": true, "trong": true, "đến": true, "khi": true,
	"tại": true, "nếu": true, "thì": true, "được": true, "do": true, "và": true, "hoặc": true, "(": true,
}

// amountsIn lists the amounts in đồng named in text.
func amountsIn(text string) []int64 {
	var out []int64
	for _, f := range findFees(knowledge.Normalize(text)) {
		out = append(out, f.Amount)
	}
	return out
}
