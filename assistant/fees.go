package assistant

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// clock is the composer's "today": a reduction whose end date has passed is not presented as current. Tests
// that depend on the date call fees with a fixed time instead of reading it.
var clock = time.Now

// How the record states one channel's fee.
type feeKind int

const (
	feeUnknown feeKind = iota // "Không có thông tin", or nothing at all
	feeFree                   // "Miễn phí" with no fee regulation and no amount
	feeAmounts                // one or more amounts in đồng
	feeByRule                 // a regulation (or the body that sets the level) without an amount
	feeNoted                  // "Miễn phí" with a note we cannot read as free or as a rule: quoted as written
	feeForeign                // an amount in US dollars, charged abroad ("10 USD/bản tại cơ quan đại diện")
)

// channelFee is what one channel's record supports about the fee.
type channelFee struct {
	kind    feeKind
	amounts []feeAmount
	ended   []feeAmount // reduced amounts whose period is over
	rule    string      // feeByRule: "theo Thông tư số 244/2016/TT-BTC", "mức cụ thể do Hội đồng nhân dân … quyết định"
	free    string      // feeFree: the exemption as the record words it, when it has a condition
	note    string      // feeNoted: the note as written; feeForeign: the amount and where it is charged
	caveats []string    // conditions kept beside the value ("Miễn lệ phí cho người thuộc hộ nghèo …")
	// cellFree: the fee cell itself reads "Miễn phí" (a feeNoted value quotes it only then).
	cellFree bool
}

// feeAmount is one amount with the period the record gives it, if any.
type feeAmount struct {
	fee   knowledge.Fee
	from  string // "01/7/2025" as written, or ""
	until string // "31/12/2026" as written, or ""
	// percent is a reduction in force today ("bằng 50% mức thu … đến hết ngày 31/12/2026"): the amount payable is
	// fee.Amount × percent / 100 until reducedUntil. 0 when none.
	percent      int
	reducedUntil string
}

// percentOf finds "bằng 50% mức thu" in a fee note.
var percentOf = regexp.MustCompile(`(?i)bằng\s*(\d{1,2})\s*%`)

// currentReduction is the percentage reduction a fee note puts in force today for a channel (online-only
// reductions apply to the online channel alone): the last sentence that says "bằng N%" with a period that has
// begun and not ended.
func currentReduction(note string, online bool, today time.Time) (percent int, until string) {
	for _, sent := range noteSentences(note) {
		m := percentOf.FindStringSubmatch(sent)
		if m == nil {
			continue
		}
		from, end := periodIn(sent)
		if end == "" || ended(end, today) || from != "" && !ended(dayBefore(from), today) {
			continue
		}
		if f := knowledge.Fold(sent); (strings.Contains(f, "truc tuyen") || strings.Contains(f, "truc tuyển")) && !online {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n <= 0 || n >= 100 {
			continue
		}
		percent, until = n, end
	}
	return percent, until
}

// dayBefore returns the date written d ("01/7/2025") as the day before, in the same form, so that ended(dayBefore(d))
// says whether d has come.
func dayBefore(d string) string {
	t, err := time.Parse("2/1/2006", d)
	if err != nil {
		return d
	}
	return t.AddDate(0, 0, -1).Format("2/1/2006")
}

var (
	// docRef names a legal document by number: "Thông tư số 244/2016/TT-BTC", "Nghị định 85/2024/NĐ-CP".
	docRef = regexp.MustCompile(`(?i)(Thông tư liên tịch|Thông tư|Nghị định|Nghị quyết|Quyết định|Luật)\s*(?:số\s*)?(\d+/\d{4}/[\p{L}\d]+(?:-[\p{L}\d]+)*)`)
	// untilDate finds the end of a period: "đến hết ngày 31/12/2026", "đến hết 31 tháng 12 năm 2026".
	untilDate = regexp.MustCompile(`(?i)đến\s+(?:hết\s+)?(?:ngày\s+)?(\d{1,2})(?:/|\s+tháng\s+)(\d{1,2})(?:/|\s+năm\s+)(\d{4})`)
	// fromDate finds the start of a period: "kể từ ngày 01/7/2025", "Từ ngày 01 tháng 7 năm 2025".
	fromDate = regexp.MustCompile(`(?i)(?:kể\s+)?từ\s+(?:ngày\s+)?(\d{1,2})(?:/|\s+tháng\s+)(\d{1,2})(?:/|\s+năm\s+)(\d{4})`)
	// moneyDigits finds numbers that may be amounts in a note ("10.000.000", "135,000", "25.000đ").
	moneyDigits = regexp.MustCompile(`\d{1,3}(?:[.,]\d{3})+|\d{4,}`)
	// clauseBreak ends a clause inside a fee note: a sentence end, a semicolon, a list mark or a new line.
	clauseBreak = regexp.MustCompile(`\.\s|;|\n|\s[-+*•]\s|^[-+*•]\s`)
)

// ruleWords are (folded) words that say a regulation or an authority sets the fee.
var ruleWords = []string{"thong tu", "nghi dinh", "nghi quyet", "quyet dinh", "luat ", "luat phi", "hoi dong nhan dan",
	"hdnd", "uy ban nhan dan", "ubnd", "bo tai chinh", "phap luat ve phi", "phap luat ve gia", "bieu phi", "bieu muc",
	"muc thu", "muc phi", "muc le phi", "quy dinh"}

// noneNotes are fee notes that add nothing to "Miễn phí" (folded, without punctuation).
var noneNotes = map[string]bool{"": true, "khong": true, "khong co": true, "khong quy dinh": true,
	"chua quy dinh": true, "khong co thong tin": true, "a": true, "i": true, "ii": true, "1": true, "2": true}

// splitChannelNote separates a channel's fee note (the parenthesis after the fee cell) from its description.
func splitChannelNote(c knowledge.Channel) (feeNote, desc string) {
	t := c.Text
	if i := strings.IndexByte(t, '('); i >= 0 {
		feeNote = strings.TrimSuffix(t[i+1:], ")")
	}
	feeNote = strings.TrimSpace(feeNote)
	switch {
	case feeNote == "":
		desc = c.Note
	case strings.HasPrefix(c.Note, feeNote):
		desc = c.Note[len(feeNote):]
	case strings.HasPrefix(c.Note, strings.TrimSuffix(feeNote, ")")):
		desc = c.Note[len(strings.TrimSuffix(feeNote, ")")):]
	default:
		desc = c.Note
	}
	return feeNote, strings.TrimSpace(desc)
}

// noteSentences splits a note into sentences without list marks or wrapping parentheses.
func noteSentences(s string) []string {
	var out []string
	for _, part := range splitSentences(s) {
		part = strings.TrimSpace(strings.TrimLeft(part, "-+*•( "))
		part = strings.TrimSuffix(part, ")")
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

func isExemption(folded string) bool {
	for _, w := range []string{"mien le phi", "mien phi", "mien thu", "mien ", "khong thu", "khong phai nop",
		"khong phai tra", "khong duoc quy dinh tai bieu phi"} {
		if strings.HasPrefix(folded, w) {
			return true
		}
	}
	return false
}

func citesRule(folded string) bool {
	for _, w := range ruleWords {
		if strings.Contains(folded, w) {
			return true
		}
	}
	return false
}

// namesRule reports whether s names a document by number or the body that sets the fee.
func namesRule(s string) bool {
	if docRef.MatchString(s) {
		return true
	}
	f := knowledge.Fold(s)
	for _, w := range []string{"hoi dong nhan dan", "hdnd", "uy ban nhan dan cap tinh", "luat phi", "phap luat ve phi",
		"muc thu", "muc phi", "muc le phi", "bieu phi"} {
		if strings.Contains(f, w) {
			return true
		}
	}
	return false
}

// conditional reports whether a (folded) sentence applies only in some cases.
func conditional(folded string) bool {
	for _, w := range []string{"neu ", "(neu", "truong hop", "doi voi", "ban sao"} {
		if strings.Contains(folded, w) {
			return true
		}
	}
	return false
}

func mentionsFee(folded string) bool {
	return strings.Contains(folded, "phi") || strings.Contains(folded, "muc thu")
}

// readFee reads what one channel's record supports about the fee, as of today.
func readFee(c knowledge.Channel, today time.Time) channelFee {
	feeNote, desc := splitChannelNote(c)
	out := channelFee{cellFree: c.Free}
	if len(c.Fees) > 0 {
		return readAmounts(c, feeNote, today, out)
	}
	if readForeign(&out, c.Text, feeNote, desc) {
		return out
	}
	// A note that is only the unit of an amount ("/bản", "/trường hợp") says nothing about the fee: it is no
	// exemption, and the amount, when the description gives one ("Tại Ủy ban nhân dân cấp xã: 10.000
	// đồng/trường hợp"), is quoted from there.
	if unitOnly.MatchString(feeNote) {
		feeNote = ""
		if readDescribedAmount(&out, desc) {
			return out
		}
	}
	return readFeeSentences(c, feeNote, desc, out)
}

// readAmounts reads a channel whose record has amounts: each amount with its period, the reduced amounts
// whose period is over set apart, and the exemptions of the note kept as caveats.
func readAmounts(c knowledge.Channel, feeNote string, today time.Time, out channelFee) channelFee {
	out.kind = feeAmounts
	whole := c.Note
	if whole == "" {
		whole = feeNote
	}
	for _, f := range c.Fees {
		a := feeAmount{fee: f}
		a.from, a.until = amountPeriod(whole, f.Amount)
		if a.until == "" {
			a.from, a.until = amountPeriodIn(f.Label)
		}
		if a.until != "" && ended(a.until, today) {
			out.ended = append(out.ended, a)
			continue
		}
		if a.until == "" {
			a.percent, a.reducedUntil = currentReduction(whole, c.Kind == knowledge.ChannelOnline, today)
		}
		out.amounts = append(out.amounts, a)
	}
	// Who is exempt ("Miễn lệ phí … đối với trường hợp cha dượng … nhận con riêng …"): a citizen in that case
	// pays nothing, so the condition stays beside the amount.
	for _, sent := range noteSentences(whole) {
		if f := strings.Trim(knowledge.Fold(sent), " .;:,()"); isExemption(f) && !noneNotes[f] && !endedIn(sent, today) {
			out.caveats = append(out.caveats, sent)
		}
	}
	return out
}

// readForeign reads an amount in US dollars into out, from the fee cell (text) or else the fee note, and
// reports whether there was one.
func readForeign(out *channelFee, text, feeNote, desc string) bool {
	// An amount in dollars (not kept as a fee: fees are in đồng), charged by a mission abroad.
	if m := usdCell.FindStringSubmatch(text); m != nil {
		out.kind = feeForeign
		out.note = m[1] + " USD"
		if m[2] != "" {
			out.note += " mỗi " + strings.TrimSpace(m[2])
		}
		if where := strings.TrimSpace(strings.SplitN(desc, ":", 2)[0]); strings.HasPrefix(knowledge.Fold(where), "tai ") &&
			utf8.RuneCountInString(where) <= 80 && strings.Contains(desc, ":") {
			out.note += " (" + lowerFirst(where) + ")"
		}
		return true
	}
	// A cell whose amount the portal lost ("145 VNĐ", "Miễn phí") while its note gives it in dollars ("Thẻ tạm
	// trú … không quá 02 năm: 145 USD/thẻ."): the dollar amount as the note words it, never a free line.
	for _, s := range noteSentences(feeNote) {
		if usdIn.MatchString(s) {
			out.kind = feeForeign
			out.note = clipClause(strings.TrimRight(s, " ."), 160)
			return true
		}
	}
	return false
}

// readDescribedAmount quotes into out the first sentence of the description that gives an amount, and
// reports whether there was one.
func readDescribedAmount(out *channelFee, desc string) bool {
	for _, s := range noteSentences(desc) {
		if !moneyText.MatchString(s) {
			continue
		}
		out.kind, out.note, out.cellFree = feeNoted, s, false // the amount, not the cell's "Miễn phí"
		if usdIn.MatchString(s) {
			out.kind, out.note = feeForeign, clipClause(strings.TrimRight(s, " ."), 160)
		}
		return true
	}
	return false
}

// feeStatements are the sentences of a record without an amount, sorted by what they say of the fee.
type feeStatements struct {
	rule        string   // the regulation cited (with a second document that amends it)
	exemption   string   // the first exemption
	firstExempt bool     // the exemption comes before any rule or other sentence
	other       []string // the fee note's sentences that are neither
	caveats     []string // conditions kept beside the value
}

// readFeeSentences reads a channel without an amount from the fee note and the sentences of the
// description that speak of fees: free, by a rule, a note quoted as written, or unknown.
func readFeeSentences(c knowledge.Channel, feeNote, desc string, out channelFee) channelFee {
	sentences := noteSentences(feeNote)
	fromNote := len(sentences)
	for _, s := range noteSentences(desc) {
		// The description speaks of many things ("trả kết quả …, trả phí theo quy định"): only an exemption or
		// a sentence that names the regulation or the body that sets the fee counts.
		if f := knowledge.Fold(s); isExemption(f) || (mentionsFee(f) && namesRule(s)) {
			sentences = append(sentences, s)
		}
	}
	st := sortFeeSentences(sentences, fromNote)
	rule, exemption := st.rule, st.exemption
	out.caveats = append(out.caveats, st.caveats...)
	switch {
	case exemption != "" && (st.firstExempt || rule == ""):
		// "Miễn lệ phí. Phí cấp bản sao … (nếu có yêu cầu) theo Thông tư …": free, the rest are conditions.
		out.kind = feeFree
		if f := knowledge.Fold(exemption); strings.Contains(f, "doi voi") || strings.Contains(f, "truong hop") ||
			strings.Contains(f, " cho ") || strings.Contains(f, "(") {
			out.free = exemption
		}
		if rule != "" {
			out.caveats = append([]string{rule}, out.caveats...)
		}
	case rule != "":
		out.kind = feeByRule
		out.rule = ruleText(rule)
		if exemption != "" {
			out.caveats = append([]string{exemption}, out.caveats...)
		}
	case len(st.other) > 0 && (c.Free || !c.FeeNA):
		out.kind = feeNoted
		out.note = strings.Join(st.other, ". ")
	case c.Free:
		out.kind = feeFree
	default:
		out.kind = feeUnknown
	}
	return out
}

// sortFeeSentences sorts the fee sentences, the fee note's first (the first fromNote of them): exemptions,
// the regulations cited, and the note's other sentences. The description's sentences count only as
// exemptions or, while no rule is known, as the rule.
func sortFeeSentences(sentences []string, fromNote int) feeStatements {
	var st feeStatements
	for i, s := range sentences {
		if i >= fromNote && !isExemption(knowledge.Fold(s)) && st.rule != "" {
			continue // the fee note already says which rule applies
		}
		f := strings.Trim(knowledge.Fold(s), " .;:,()")
		switch {
		case noneNotes[f]:
		case isExemption(f):
			if st.exemption == "" {
				st.exemption = s
				st.firstExempt = st.rule == "" && len(st.other) == 0
			} else {
				st.caveats = append(st.caveats, s)
			}
		case citesRule(f):
			switch {
			case st.rule == "":
				st.rule = s
			case conditional(f) || (strings.Contains(f, "hoi dong nhan dan") && !strings.Contains(knowledge.Fold(st.rule), "hoi dong nhan dan")):
				st.caveats = append(st.caveats, s) // "Phí cấp bản sao … (nếu có yêu cầu) theo Thông tư …"
			case len(docRef.FindAllString(st.rule, -1)) < 2 && docRef.MatchString(s):
				st.rule += "; " + s // "Thông tư số 60/2023/TT-BTC … Thông tư số 06/2025/TT-BTC sửa đổi …"
			}
		default:
			if i < fromNote {
				st.other = append(st.other, s)
			}
		}
	}
	return st
}

// usdCell reads a fee cell in US dollars: "10 USD(/bản)".
var usdCell = regexp.MustCompile(`^\s*(\d{1,6}(?:[.,]\d{1,2})?)\s*USD\s*(?:\(\s*/\s*([^)]{1,30})\))?`)

var (
	// usdIn finds an amount in US dollars inside a note: "145 USD/thẻ", "50USD/thị thực".
	usdIn = regexp.MustCompile(`\d\s*USD\b`)
	// unitOnly is a fee note that is only the unit of an amount: "/bản", "/ trường hợp".
	unitOnly = regexp.MustCompile(`^\s*/\s*[\p{L} ]{1,40}\s*$`)
	// moneyText finds an amount with its currency: "10.000 đồng", "20,000 VNĐ", "10 USD".
	moneyText = regexp.MustCompile(`(?i)\d[\d.,]*\s*(?:đồng|vnđ|vnd|usd)`)
)

// abroad reports whether a channel's row is for filing with a mission abroad ("Tại cơ quan đại diện: 10
// USD/bản"): a citizen in Viet Nam pays the other rows.
func abroad(c knowledge.Channel) bool {
	_, desc := splitChannelNote(c)
	f := knowledge.Fold(desc)
	if strings.HasPrefix(f, "tai co quan dai dien") || strings.HasPrefix(f, "nop cho co quan dai dien") {
		return true
	}
	return usdCell.MatchString(c.Text) && strings.Contains(f, "co quan dai dien")
}

// domesticFirst orders a procedure's channels so that the rows a citizen in Viet Nam pays come before those
// of a mission abroad, each in the record's order.
func domesticFirst(cs []knowledge.Channel) []knowledge.Channel {
	out := make([]knowledge.Channel, 0, len(cs))
	for _, c := range cs {
		if !abroad(c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return cs
	}
	for _, c := range cs {
		if abroad(c) {
			out = append(out, c)
		}
	}
	return out
}

// ruleText says which regulation sets the fee: "theo Thông tư số 244/2016/TT-BTC" when the sentence names
// documents by number, else the sentence itself ("mức lệ phí cụ thể do Hội đồng nhân dân tỉnh … quyết định").
func ruleText(s string) string {
	var refs []string
	seen := map[string]bool{}
	for _, m := range docRef.FindAllStringSubmatch(s, -1) {
		r := m[1] + " số " + m[2]
		if !seen[m[2]] && len(refs) < 2 {
			seen[m[2]] = true
			refs = append(refs, r)
		}
	}
	if len(refs) > 0 {
		return "theo " + strings.Join(refs, " và ")
	}
	s = strings.TrimRight(clipClause(s, 160), " .;")
	f := knowledge.Fold(s)
	for _, p := range []string{"thuc hien theo ", "ap dung theo ", "can cu phap ly: ", "theo "} {
		if strings.HasPrefix(f, p) {
			return "theo " + strings.TrimSpace(string([]rune(s)[utf8.RuneCountInString(p):]))
		}
	}
	return lowerFirst(s)
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	lower := strings.ToLower(string(r))
	return lower + s[n:]
}

// amountPeriod finds where note names amount v and returns the period written in the same clause
// ("áp dụng mức phí 10.000.000 đồng/hồ sơ kể từ ngày 01/7/2025 đến hết ngày 31/12/2026 …").
func amountPeriod(note string, v int64) (from, until string) {
	if note == "" {
		return "", ""
	}
	for _, m := range moneyDigits.FindAllStringIndex(note, -1) {
		if m[0] > 0 && (note[m[0]-1] == '/' || note[m[0]-1] == '.' || note[m[0]-1] == ',') {
			continue
		}
		n := parseDigits(note[m[0]:m[1]])
		if n != v && n*1000 != v {
			continue
		}
		return amountPeriodIn(clauseAround(note, m[0], m[1]))
	}
	return "", ""
}

// amountPeriodIn is the period of an amount written in clause, unless the period is that of an exemption
// ("250.000 VNĐ (Sát hạch thực hành (Miễn kể từ ngày 07/4/2026 đến 30/6/2026 …))": the amount is the normal
// one, due again once the exemption ends).
func amountPeriodIn(clause string) (from, until string) {
	if strings.Contains(knowledge.Fold(clause), "mien") {
		return "", ""
	}
	return periodIn(clause)
}

// clauseAround returns the clause of s that holds s[i:j]: back to the previous clause break, on to the next.
func clauseAround(s string, i, j int) string {
	start := 0
	for _, b := range clauseBreak.FindAllStringIndex(s[:i], -1) {
		start = b[1]
	}
	end := len(s)
	if b := clauseBreak.FindStringIndex(s[j:]); b != nil {
		end = j + b[0]
	}
	return s[start:end]
}

func parseDigits(s string) int64 {
	n, err := strconv.ParseInt(strings.NewReplacer(".", "", ",", "").Replace(s), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// periodIn returns the first period written in s, as written ("01/7/2025", "31/12/2026").
func periodIn(s string) (from, until string) {
	if m := untilDate.FindStringSubmatch(s); m != nil {
		until = m[1] + "/" + m[2] + "/" + m[3]
	}
	if until == "" {
		return "", ""
	}
	if m := fromDate.FindStringSubmatch(s); m != nil {
		from = m[1] + "/" + m[2] + "/" + m[3]
	}
	return from, until
}

// ended reports whether a period that runs to the end of the day "d/m/yyyy" is over on today.
func ended(until string, today time.Time) bool {
	parts := strings.Split(until, "/")
	if len(parts) != 3 {
		return false
	}
	d, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	y, err3 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || m < 1 || m > 12 || d < 1 || d > 31 {
		return false
	}
	end := time.Date(y, time.Month(m), d+1, 0, 0, 0, 0, today.Location())
	return !today.Before(end)
}

// endedIn reports whether a sentence states a period whose end has passed.
func endedIn(s string, today time.Time) bool {
	for _, m := range untilDate.FindAllStringSubmatch(s, -1) {
		if ended(m[1]+"/"+m[2]+"/"+m[3], today) {
			return true
		}
	}
	return false
}

// value is what the answer says for the channel.
func (f channelFee) value() string {
	switch f.kind {
	case feeAmounts:
		if len(f.amounts) == 0 {
			return "dữ liệu chỉ ghi mức đã hết thời hạn áp dụng (xem lưu ý); chưa có mức hiện hành trong dữ liệu"
		}
		var parts []string
		for _, a := range f.amounts {
			part := FormatVND(a.fee.Amount)
			if a.percent > 0 {
				part = fmt.Sprintf("%s (giảm còn %d%% đến hết ngày %s, mức gốc %s)",
					FormatVND(a.fee.Amount*int64(a.percent)/100), a.percent, a.reducedUntil, FormatVND(a.fee.Amount))
			}
			label := a.fee.Label
			if i := strings.Index(label, a.until); a.until != "" && i >= 0 {
				label = clauseBefore(label, i) // the period is said below, in one wording
			}
			if label != "" && (len(f.amounts) > 1 || !genericFeeLabel(label)) {
				part += " (" + clipClause(label, 120) + ")"
			}
			if a.until != "" && !strings.Contains(part, a.until) {
				if a.from != "" {
					part += fmt.Sprintf(", áp dụng từ %s đến hết ngày %s", a.from, a.until)
				} else {
					part += fmt.Sprintf(", áp dụng đến hết ngày %s", a.until)
				}
			}
			parts = append(parts, part)
		}
		return strings.Join(parts, "; ")
	case feeFree:
		if f.free != "" {
			return "miễn phí (" + clipClause(f.free, 200) + ")"
		}
		return "miễn phí"
	case feeByRule:
		return f.rule + " (dữ liệu không ghi mức cụ thể)"
	case feeForeign:
		return f.note
	case feeNoted:
		if !f.cellFree {
			return "dữ liệu ghi: " + clipClause(f.note, 160) + " — vui lòng kiểm tra mức thu tại đường dẫn bên dưới"
		}
		return "dữ liệu ghi \"Miễn phí\" kèm ghi chú: " + clipClause(f.note, 160) + " — vui lòng kiểm tra mức thu tại đường dẫn bên dưới"
	}
	return "chưa có thông tin"
}

// reduced reports whether a reduction in force is already stated in the amounts.
func (f channelFee) reduced() bool {
	for _, a := range f.amounts {
		if a.percent > 0 {
			return true
		}
	}
	return false
}

// genericFeeLabel reports whether a label says no more than "a fee".
func genericFeeLabel(l string) bool {
	switch strings.Trim(knowledge.Fold(l), " :,.") {
	case "", "phi", "le phi", "phi, le phi", "phi le phi":
		return true
	}
	return false
}

// endedNotes says which reduced amounts are no longer in force.
func (f channelFee) endedNotes() []string {
	var out []string
	for _, a := range f.ended {
		s := "mức " + FormatVND(a.fee.Amount)
		if a.fee.Label != "" && !genericFeeLabel(a.fee.Label) {
			l := a.fee.Label
			if i := strings.Index(l, a.until); i >= 0 {
				l = clauseBefore(l, i)
			}
			if l != "" {
				s += " (" + clipClause(l, 90) + ")"
			}
		}
		s += " chỉ áp dụng đến hết ngày " + a.until + ", nay đã hết thời hạn"
		out = append(out, s)
	}
	return out
}

// clauseBefore keeps the part of l before byte i, cut back to a clause boundary.
func clauseBefore(l string, i int) string {
	s := l[:i]
	for _, w := range []string{"Kể từ", "kể từ", "Từ ngày", "từ ngày", "áp dụng đến", "đến hết"} {
		if k := strings.Index(s, w); k >= 0 {
			s = s[:k]
		}
	}
	return strings.TrimLeft(strings.TrimRight(strings.TrimSpace(s), " ,;:(-"), "…")
}

// fees states each channel's fee as the record supports it, as of today.
func fees(p *knowledge.Procedure, today time.Time) string {
	if len(p.Channels) == 0 {
		return "Lệ phí: chưa có thông tin trong dữ liệu."
	}
	var lines, notes []string
	seen := map[string]bool{}
	addNote := func(n string) {
		n = strings.TrimSpace(n)
		if n == "" {
			return
		}
		k := knowledge.Fold(n)
		if seen[k] {
			return
		}
		seen[k] = true
		notes = append(notes, n)
	}
	for _, c := range domesticFirst(p.Channels) {
		f := readFee(c, today)
		lines = append(lines, fmt.Sprintf("- %s: %s", channelNames[c.Kind], f.value()))
		for _, n := range f.endedNotes() {
			addNote(upperFirst(n) + ".")
		}
		for _, cv := range f.caveats {
			if !endedIn(cv, today) {
				addNote(clipClause(cv, 220))
			}
		}
		if (f.kind == feeAmounts || f.kind == feeByRule) && !f.reduced() {
			if n := reductionNote(c.Note, today); n != "" {
				addNote(n)
			}
		}
	}
	out := "Lệ phí:\n" + strings.Join(dedupe(lines), "\n")
	for i, n := range notes {
		if i == 3 {
			break
		}
		out += "\nLưu ý: " + n
	}
	return out
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return strings.ToUpper(string(r)) + s[n:]
}

// clipClause shortens s to at most n runes at a clause boundary (a sentence end, a semicolon, a comma, a
// dash), with "…" when it cut; it never ends inside a date or a number.
func clipClause(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	cut := string(r)
	best := -1
	for _, sep := range []string{". ", "; ", ": ", ", ", " - ", " + ", " ("} {
		if i := strings.LastIndex(cut, sep); i > best && i > len(cut)/3 {
			best = i
		}
	}
	if best < 0 {
		if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
			best = i
		}
	}
	if best > 0 {
		cut = cut[:best]
	}
	// Never leave a dangling date or number fragment ("đến hết ngày 31/12/").
	cut = strings.TrimRight(cut, " ,;:(-/0123456789")
	if f := knowledge.Fold(cut); strings.HasSuffix(f, "den het ngay") || strings.HasSuffix(f, "den het") ||
		strings.HasSuffix(f, "tu ngay") || strings.HasSuffix(f, " ngay") {
		if i := strings.LastIndex(cut, ","); i > 0 {
			cut = cut[:i]
		}
	}
	return strings.TrimRight(cut, " ,;:(-") + "…"
}
