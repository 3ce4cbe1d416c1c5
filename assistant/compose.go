package assistant

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// MaxAnswerRunes is the most one answer message may hold (Zalo's limit is 2,000 characters): the full answer
// ("Xem đầy đủ") and every other message stay within it, both as written (light Markdown) and as plain text.
const MaxAnswerRunes = 2000

// MaxFirstRunes is the most the first, chat-sized answer about a procedure may hold — about one phone screen:
// a short summary, the sections the question asked for, a one-line hint to "Xem đầy đủ" and the citation.
// What does not fit is in the full answer.
const MaxFirstRunes = 1300

// MoreReply is the quick reply that asks for the full answer; the assistant reads it as IntentMore.
const MoreReply = "Xem đầy đủ"

// moreHint ends a first answer that has more to show.
const moreHint = "Chi tiết: bấm «" + MoreReply + "»."

// alternativesNote introduces the other procedures an answer offers as buttons (see Assistant.answer); the
// first answer keeps room for it.
const alternativesNote = "Nếu bạn hỏi thủ tục khác, hãy chọn bên dưới."

// PortalURL is where citizens find every procedure and file online.
const PortalURL = "https://dichvucong.gov.vn"

// compose builds the offline answer for one procedure in light Markdown (see markdown.go): a short summary
// (what, where, fee, time), the sections the intents ask for (or the papers for a bare question), a hint to the
// full answer, and the citation as a link with the data date. The first answer stays within MaxFirstRunes, the
// full one (full) within MaxAnswerRunes; the dossier of the case the citizen said (said) comes first. Everything
// comes from the record; nothing is invented.
func compose(p *knowledge.Procedure, intents []Intent, full bool, at place, said string) string {
	d := newDraft(p, intents, full, at, said)
	if full {
		return d.fullAnswer()
	}
	return d.firstAnswer()
}

// draft is what compose decides once about an answer (what was asked, the summary, the tail and the
// limit) before it tries several layouts of the sections within the limit.
type draft struct {
	p        *knowledge.Procedure
	asked    map[Intent]bool
	specific bool // the intents ask for something in particular
	full     bool
	at       place
	said     string
	// feeText and timeText are the fee and time sections; feeShort and timeShort their value when it is
	// one, which the summary states in full.
	feeText, timeText, feeShort, timeShort string
	whereShown                             bool
	head, tail                             string
	limit                                  int
}

// newDraft decides what the answer shows: the sections asked (the essentials for a bare question), the
// summary, the tail and the limit.
func newDraft(p *knowledge.Procedure, intents []Intent, full bool, at place, said string) *draft {
	asked := map[Intent]bool{}
	for _, i := range intents {
		asked[i] = true
	}
	specific := asked[IntentDocuments] || asked[IntentOnline] || asked[IntentFee] ||
		asked[IntentTime] || asked[IntentWhere] || asked[IntentRequirements] || asked[IntentResult] || asked[IntentLegal]
	if !specific { // a bare "đăng ký khai sinh" or "làm sao": the essentials
		asked[IntentDocuments] = true
		if full {
			asked[IntentFee], asked[IntentTime], asked[IntentWhere] = true, true, true
		}
	}
	today := clock()
	feeText, timeText := fees(p, today), times(p)
	feeShort, timeShort := oneValue(feeText), oneValue(timeText)
	whereShown := asked[IntentWhere] || !specific && at.known()
	// The summary states the fee and the time in a few words whenever their sections are not shown: a citizen
	// who asked only for the papers still learns what it costs and how long it takes.
	feeHead, timeHead := feeShort, timeShort
	if feeHead == "" && !asked[IntentFee] {
		feeHead = feeBrief(p, today)
	}
	if timeHead == "" && !asked[IntentTime] {
		timeHead = timeBrief(p)
	}
	head := summary(p, feeHead, timeHead, !whereShown)
	limit, tail := MaxAnswerRunes, citationLine(p)
	if !full {
		limit = MaxFirstRunes - utf8.RuneCountInString(alternativesNote) - 1
		tail = moreHint + "\n" + tail
	}
	return &draft{p: p, asked: asked, specific: specific, full: full, at: at, said: said, feeText: feeText,
		timeText: timeText, feeShort: feeShort, timeShort: timeShort, whereShown: whereShown, head: head,
		tail: tail, limit: limit}
}

// sections lays out the asked sections other than the papers. The first answer never cuts a sentence: the
// steps are listed whole (stepsWhole) or, when some > 0, as many whole steps as that, or left to the full
// answer; the conditions are whole sentences, and the papers are chosen, not cut (see listDocumentsFirst).
func (d *draft) sections(stepsWhole bool, some int) []string {
	p, asked, full := d.p, d.asked, d.full
	sections := []struct {
		on   bool
		text func() string
	}{
		// A fee or time the summary states in full needs no section of its own.
		{asked[IntentFee] && (d.feeShort == "" || full), func() string { return d.feeText }},
		{asked[IntentTime] && (d.timeShort == "" || full), func() string { return d.timeText }},
		{d.whereShown, func() string {
			return receiveAnywhereFirst(where(p, d.at, !d.specific && !full, !asked[IntentOnline] && !asked[IntentSteps]))
		}},
		{asked[IntentOnline] || asked[IntentSteps], func() string {
			if full {
				return online(p, true)
			}
			return onlineFirst(p, asked[IntentSteps], stepsWhole, d.said, some)
		}},
		{asked[IntentRequirements], func() string {
			if full {
				return requirements(p)
			}
			return requirementsFirst(p)
		}},
		{asked[IntentResult], func() string { return "Kết quả: " + orUnknown(p.Result) }},
		{asked[IntentLegal], func() string { return legal(p) }},
	}
	var rest []string
	for _, s := range sections {
		if s.on {
			if t := strings.TrimSpace(s.text()); t != "" {
				rest = append(rest, markSection(t))
			}
		}
	}
	return rest
}

// join puts the answer together: the summary, the papers (docs, when any), the other sections and the tail.
func (d *draft) join(docs string, rest []string) string {
	parts := []string{d.head}
	if docs != "" {
		parts = append(parts, docs)
	}
	parts = append(parts, rest...)
	return strings.Join(append(parts, d.tail), "\n\n")
}

// fullAnswer lays out the full answer: every asked section, with as many papers as fit.
func (d *draft) fullAnswer() string {
	rest := d.sections(true, 0)
	if !d.asked[IntentDocuments] {
		return fitAnswer(d.head, rest, d.tail, d.limit)
	}
	dossier := dossierToShow(d.p, d.said)
	var docs string
	for n := min(30, max(1, len(dossier))); n >= 1; n-- {
		docs = markSection(strings.TrimSpace(listDocuments(dossier, n)))
		if fits(d.join(docs, rest), d.limit) {
			return d.join(docs, rest)
		}
	}
	return fitAnswer(d.head, append([]string{docs}, rest...), d.tail, d.limit)
}

// firstAnswer lays out the first answer: the asked sections whole if they fit, else fewer steps or the steps
// left to the full answer; the papers come first but get only the room the other sections leave.
func (d *draft) firstAnswer() string {
	whole, deferred := d.sections(true, 0), d.sections(false, 0)
	// When not all the steps fit: as many whole steps as fit, those of the asker's case first (see caseSteps).
	some := func(n int) []string { return d.sections(false, n) }
	steps := 0
	if d.asked[IntentSteps] {
		idx, _ := caseSteps(d.p, d.said)
		steps = len(idx)
	}
	if !d.asked[IntentDocuments] {
		if a := d.join("", whole); fits(a, d.limit) {
			return a
		}
		for n := min(steps, 4); n >= 1; n-- {
			if a := d.join("", some(n)); fits(a, d.limit) {
				return a
			}
		}
		return fitFirst(d.head, deferred, d.tail, d.limit)
	}
	// The papers come first but get only the room the other asked sections leave: several whole items with the
	// steps whole, else as many as fit with the steps left to the full answer.
	dossier := dossierToShow(d.p, d.said)
	most := min(8, max(1, len(dossier)))
	var docs string
	for _, try := range []struct {
		rest  []string
		least int
	}{{whole, min(3, most)}, {some(min(steps, 2)), min(3, most)}, {some(min(steps, 1)), min(2, most)}, {deferred, 1}} {
		for n := most; n >= try.least; n-- {
			for _, withCases := range []bool{true, false} {
				if l := listDocumentsFirst(dossier, n, withCases); l != "" {
					docs = markSection(strings.TrimSpace(l))
					if a := d.join(docs, try.rest); fits(a, d.limit) {
						return a
					}
				}
			}
		}
	}
	return fitFirst(d.head, append([]string{docs}, deferred...), d.tail, d.limit)
}

// fitFirst is fitAnswer for the first answer: whole sections while they fit, then the whole lines of the next
// one that fit; a line is never shortened.
func fitFirst(head string, sections []string, tail string, limit int) string {
	join := func(parts []string) string {
		return strings.Join(append(append([]string{head}, parts...), tail), "\n\n")
	}
	var kept []string
	for _, s := range sections {
		if s == "" {
			continue
		}
		if fits(join(append(kept, s)), limit) {
			kept = append(kept, s)
			continue
		}
		lines := linesThatFit(s, func(part string) bool { return fits(join(append(kept, part)), limit) })
		if len(lines) > 1 {
			kept = append(kept, strings.Join(lines, "\n"))
		}
	}
	out := join(kept)
	if !fits(out, limit) { // a summary longer than the limit: never seen in the catalog
		out = clipRunes(head, limit/3) + "\n\n" + tail
	}
	return out
}

// summary is the first lines of an answer: the procedure, its code, where to file (and whether online); then
// its fee and time (one value, or in a few words: feeBrief, timeBrief) when given.
func summary(p *knowledge.Procedure, fee, time string, withWhere bool) string {
	first := fmt.Sprintf("**%s** (mã %s)", clipRunes(p.Name, 200), p.Code)
	if w := whereShort(p); w != "" && withWhere {
		first += " — " + w
	}
	var second []string
	if fee != "" {
		second = append(second, "Lệ phí: "+fee)
	}
	if time != "" {
		second = append(second, "thời hạn: "+time)
	}
	if len(second) > 0 {
		second[0] = upperFirst(second[0])
	}
	if len(second) == 0 {
		return first + "."
	}
	if len(second) == 2 && utf8.RuneCountInString(second[0]+second[1]) > 110 {
		return first + ".\n" + strings.TrimRight(second[0], ".") + ".\n" + upperFirst(strings.TrimRight(second[1], ".")) + "."
	}
	return first + ".\n" + strings.TrimRight(strings.Join(second, "; "), ".") + "."
}

// briefMax is the most a fee or time may take in the summary; longer ones are left to their sections.
const briefMax = 170

// channelShort names a way of filing inside a summary line.
var channelShort = map[knowledge.ChannelKind]string{
	knowledge.ChannelInPerson: "trực tiếp",
	knowledge.ChannelOnline:   "trực tuyến",
	knowledge.ChannelPostal:   "bưu chính",
}

// perChannel writes values that differ by the way of filing in one line: "20.000 đồng (trực tiếp); 10.000
// đồng (trực tuyến)", or the one value when all agree.
func perChannel(kinds []knowledge.ChannelKind, values []string) string {
	var order []string
	by := map[string][]string{}
	for i, v := range values {
		if _, ok := by[v]; !ok {
			order = append(order, v)
		}
		name := channelShort[kinds[i]]
		if !slices.Contains(by[v], name) {
			by[v] = append(by[v], name)
		}
	}
	if len(order) == 1 {
		return order[0]
	}
	parts := make([]string, len(order))
	for i, v := range order {
		parts[i] = v + " (" + strings.Join(by[v], ", ") + ")"
	}
	return strings.Join(parts, "; ")
}

// feeBrief is the fee in a few words for the summary, as fees states it: per way of filing when they differ,
// the rows of a mission abroad left to the fee section when a citizen in Viet Nam pays others, and the first
// note (an exemption, a reduction) when it is short. "" when that does not fit in briefMax.
func feeBrief(p *knowledge.Procedure, today time.Time) string {
	if len(p.Channels) == 0 {
		return "chưa có thông tin"
	}
	var kinds []knowledge.ChannelKind
	var values []string
	var notes []string
	foreign := false
	for _, c := range domesticFirst(p.Channels) {
		if abroad(c) && len(values) > 0 {
			foreign = true
			continue
		}
		f := readFee(c, today)
		v := f.value()
		switch {
		case f.kind == feeAmounts && len(f.amounts) > 0:
			v = briefAmounts(f.amounts)
		case f.kind == feeByRule && strings.Contains(knowledge.Fold(f.rule), "hoi dong nhan dan"):
			v = "mức do Hội đồng nhân dân cấp tỉnh quyết định (dữ liệu không ghi mức cụ thể)"
		case f.kind == feeAmounts:
			v = "chưa có mức hiện hành trong dữ liệu"
		}
		if f.kind == feeNoted { // quoted as the record words it: the fee section, not the summary
			return ""
		}
		kinds, values = append(kinds, c.Kind), append(values, v)
		notes = append(notes, f.endedNotes()...)
		notes = append(notes, f.caveats...)
	}
	out := perChannel(kinds, values)
	if foreign {
		out += "; tại cơ quan đại diện ở nước ngoài: mức khác"
	}
	for _, n := range notes {
		n = strings.TrimRight(strings.TrimSpace(n), ".")
		if n != "" && !endedIn(n, today) && utf8.RuneCountInString(out+n) <= briefMax-10 {
			out += " (" + lowerFirst(n) + ")"
		}
		break
	}
	if utf8.RuneCountInString(out) > briefMax && len(values) > 1 {
		// The first way of filing alone; the others are in the fee section of the full answer.
		out = values[0] + " (" + channelShort[kinds[0]] + "; hình thức khác: bấm «" + MoreReply + "»)"
	}
	if utf8.RuneCountInString(out) > briefMax {
		return ""
	}
	return out
}

// perUnit reads the unit at the end of a fee label: "Phí, lệ phí (mỗi trang)" → "trang".
var perUnit = regexp.MustCompile(`\(mỗi ([^()]{1,30})\)\s*\)?\s*$`)

// briefAmounts writes amounts for the summary: "2.000 đồng/trang; 1.000 đồng/trang (từ trang thứ 3 trở lên)",
// a reduction in force as the amount payable, a label kept only when it is short and says more than "a fee"
// or the way of filing (which the summary says itself).
func briefAmounts(as []feeAmount) string {
	var parts []string
	for _, a := range as {
		amount, label := a.fee.Amount, a.fee.Label
		unit := ""
		if m := perUnit.FindStringSubmatchIndex(label); m != nil {
			unit = "/" + label[m[2]:m[3]]
			label = label[:m[0]]
		}
		label = strings.Trim(label, " ,;:()…")
		if i := strings.Index(label, a.until); a.until != "" && i >= 0 {
			label = clauseBefore(label, i)
		}
		part := FormatVND(amount) + unit
		if a.percent > 0 {
			part = fmt.Sprintf("%s%s (giảm %d%% đến hết ngày %s, mức gốc %s)", FormatVND(amount*int64(a.percent)/100), unit,
				a.percent, a.reducedUntil, FormatVND(amount))
		}
		if f := knowledge.Fold(label); !genericFeeLabel(label) && utf8.RuneCountInString(label) <= 45 &&
			!strings.Contains(f, "truc tuyen") && !strings.Contains(f, "truc tiep") && !strings.Contains(f, "nop ho so") {
			part += " (" + label + ")"
		}
		if a.until != "" {
			part += ", đến hết ngày " + a.until
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

// timeBrief is the processing time in a few words for the summary, as times states it (a bare number says the
// record gives no unit; no time says the record gives none). "" when that does not fit in briefMax.
func timeBrief(p *knowledge.Procedure) string {
	var kinds []knowledge.ChannelKind
	var values []string
	for _, l := range strings.Split(times(p), "\n")[1:] {
		label, v, ok := strings.Cut(strings.TrimPrefix(l, "- "), ": ")
		if !ok {
			continue
		}
		kind := knowledge.ChannelInPerson
		for k, name := range channelNames {
			if name == label {
				kind = k
			}
		}
		if strings.HasPrefix(v, "chưa có thông tin") {
			v = "chưa có thông tin trong dữ liệu"
		}
		kinds, values = append(kinds, kind), append(values, v)
	}
	if len(values) == 0 {
		return "chưa có thông tin trong dữ liệu"
	}
	out := perChannel(kinds, values)
	if utf8.RuneCountInString(out) > briefMax {
		// What the steps say of a bare number is in the time section; the summary keeps the warning.
		for i, v := range values {
			values[i] = stepsQuote.ReplaceAllString(v, "")
		}
		out = perChannel(kinds, values)
	}
	if utf8.RuneCountInString(out) > briefMax {
		out = timeRange(values)
	}
	if utf8.RuneCountInString(out) > briefMax {
		return ""
	}
	return out
}

// leadTime reads the time a value of times starts with: "2 ngày làm việc (Trường hợp …)".
var leadTime = regexp.MustCompile(`^(\d{1,3}) (ngày làm việc|ngày|giờ làm việc|giờ|tháng|tuần|phút)\b`)

// timeRange says times that differ by case in a few words, when they share their unit: "từ 2 đến 4 ngày làm
// việc tùy trường hợp (bấm «Xem đầy đủ»)"; "" otherwise.
func timeRange(values []string) string {
	lo, hi, unit := -1, -1, ""
	for _, v := range values {
		m := leadTime.FindStringSubmatch(v)
		if m == nil || unit != "" && m[2] != unit {
			return ""
		}
		n, _ := strconv.Atoi(m[1])
		unit = m[2]
		if lo < 0 || n < lo {
			lo = n
		}
		if n > hi {
			hi = n
		}
	}
	if unit == "" {
		return ""
	}
	if lo == hi {
		return fmt.Sprintf("%d %s (bấm «%s» để xem từng trường hợp)", lo, unit, MoreReply)
	}
	return fmt.Sprintf("từ %d đến %d %s tùy trường hợp (bấm «%s»)", lo, hi, unit, MoreReply)
}

// stepsQuote is what timeValue adds after a bare number when the steps give it a unit.
var stepsQuote = regexp.MustCompile(`; phần các bước thực hiện ghi "[^"]*"`)

// whereShort says in a few words where p is filed, and whether online: "nộp tại Trung tâm Phục vụ hành
// chính công cấp xã (bất kỳ phường, xã nào ở TP.HCM) hoặc trực tuyến".
func whereShort(p *knowledge.Procedure) string {
	var place string
	agency := agencyOf(p)
	switch {
	case police(p):
		place = "cơ quan công an"
		if agency != "" {
			place = clipRunes(strings.TrimRight(agency, ". "), 90)
		}
	case sectoral(p) && agency != "":
		place = clipRunes(strings.TrimRight(agency, ". "), 90)
		if viaEmployer(p) {
			place = "đơn vị sử dụng lao động (người đang đi làm) hoặc " + place
		}
	case p.HasLevel(knowledge.LevelCommune):
		place = "Trung tâm Phục vụ hành chính công cấp xã (bất kỳ phường, xã nào ở TP.HCM)"
	case agency != "":
		place = clipRunes(strings.TrimRight(agency, ". "), 90)
	}
	if place == "" {
		return ""
	}
	out := "nộp tại " + place
	if _, ok := p.Channel(knowledge.ChannelOnline); ok {
		out += " hoặc trực tuyến"
		if police(p) {
			out += " (VNeID)"
		}
	}
	return out
}

// oneValue is the value of a fee or time section that says one thing for every way of filing, with no note
// ("miễn phí", "7 ngày làm việc"); "" otherwise.
func oneValue(section string) string {
	lines := strings.Split(strings.TrimSpace(section), "\n")
	if len(lines) != 2 {
		return ""
	}
	v, ok := strings.CutPrefix(lines[1], "- Mọi hình thức nộp: ")
	if !ok || utf8.RuneCountInString(v) > 120 || strings.Contains(v, "không ghi") || strings.HasPrefix(v, "chưa có") {
		return ""
	}
	return v
}

// compactItems shortens each dossier line for the first answer, keeping its start (with its condition) and
// its quantity, leaving out the form's file name.
func compactItems(items []shownItem, n int) []shownItem {
	out := make([]shownItem, len(items))
	for i, d := range items {
		line := d.line
		if j := strings.Index(line, " — mẫu: "); j > 0 {
			line = line[:j]
		}
		suffix := ""
		if j := strings.LastIndex(line, " ("); j > 0 && strings.HasSuffix(line, ")") && strings.Contains(line[j:], " bản ") {
			line, suffix = line[:j], line[j:]
		}
		out[i] = shownItem{group: d.group, line: clipRunes(line, n) + suffix}
	}
	return out
}

// compactLines clips each line of a section to n characters (at a word boundary).
func compactLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if !untilDate.MatchString(l) && !fromDate.MatchString(l) && !strings.Contains(l, "](") {
			lines[i] = clipRunes(l, n)
		}
	}
	return strings.Join(lines, "\n")
}

// markSection writes a section's title line ("Lệ phí:", "Hồ sơ cần chuẩn bị:") in bold. Labels inside a line
// ("Nơi nộp: …") and the groups of a list stay as they are.
func markSection(s string) string {
	title, rest, _ := strings.Cut(s, "\n")
	if strings.HasSuffix(title, ":") && !strings.HasPrefix(title, "- ") && !strings.HasPrefix(title, "**") &&
		utf8.RuneCountInString(title) <= 160 {
		title = "**" + strings.TrimSuffix(title, ":") + ":**"
	}
	if rest == "" {
		return title
	}
	return title + "\n" + rest
}

// receiveAnywhereFirst moves the receive-anywhere rule right after the where-section's first line, so that a
// first answer cut short for a ward split in several keeps it.
func receiveAnywhereFirst(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l == anywhereRule && i > 1 {
			lines = append(lines[:i], lines[i+1:]...)
			lines = append(lines[:1], append([]string{anywhereRule}, lines[1:]...)...)
			break
		}
	}
	return strings.Join(lines, "\n")
}

// citationLine cites the record as a link (never a raw address in the text) with the date of its data: to the
// record's page, or to the portal when the record has none; a record whose link knowledge.CheckURL refuses is
// cited without a link. A record staff published says so first, with their unit and the day (see staffSource).
func citationLine(p *knowledge.Procedure) string {
	date := "01/07/2026"
	if !p.SourceDate.IsZero() {
		date = p.SourceDate.Format("02/01/2006")
	}
	source := "Cổng Dịch vụ công quốc gia – mã " + p.Code
	switch url := knowledge.SafeURL(p.URL); {
	case url != "":
		source = Link(source, url)
	case p.URL == "":
		source = Link(source, PortalURL)
	}
	if p.Staff() {
		if p.URL == "" && p.Source == "" { // a procedure staff wrote: nothing on the portal it is based on
			return staffSource(p.Attribution, "") + fmt.Sprintf(" (mã %s; tra cứu thêm: %s).", p.Code, Link("Cổng Dịch vụ công quốc gia", PortalURL))
		}
		return staffSource(p.Attribution, source) + "."
	}
	return fmt.Sprintf("Nguồn: %s (dữ liệu ngày %s).", source, date)
}

// staffSource begins the citation of a record staff published: "Nguồn: cập nhật bởi UBND phường Bàn Cờ ngày
// 07/12/2026, dựa trên [Cổng Dịch vụ công quốc gia – mã 1.014064](…)" ("cán bộ cập nhật ngày …" when the
// publisher has no unit; without ", dựa trên …" when source is ""). The portal's data date is left out: what
// staff published replaces it.
func staffSource(a knowledge.Attribution, source string) string {
	who := "cán bộ cập nhật"
	if u := strings.Join(strings.Fields(strings.NewReplacer("*", "", "[", "(", "]", ")").Replace(a.Unit)), " "); u != "" {
		who = "cập nhật bởi " + clipRunes(u, 80)
	}
	out := fmt.Sprintf("Nguồn: %s ngày %s", who, a.At.In(vietnam).Format("02/01/2006"))
	if source != "" {
		out += ", dựa trên " + source
	}
	return out
}

// fits reports whether an answer is within limit runes both as written and as plain text (as Zalo gets it).
func fits(text string, limit int) bool {
	return utf8.RuneCountInString(text) <= limit && utf8.RuneCountInString(PlainText(text)) <= limit
}

// fitAnswer joins head, the sections and tail (hint, citation) within limit, dropping the last sections that
// do not fit and cutting the last one kept at a line boundary.
func fitAnswer(head string, sections []string, tail string, limit int) string {
	join := func(parts []string) string {
		return strings.Join(append(append([]string{head}, parts...), tail), "\n\n")
	}
	if !fits(join(sections), limit) {
		// Too long: every line shortened first (a line with a date keeps it), then sections cut from the end.
		short := make([]string, len(sections))
		for i, s := range sections {
			short[i] = compactLines(s, 110)
		}
		sections = short
	}
	var kept []string
	for _, s := range sections {
		if s == "" {
			continue
		}
		if fits(join(append(kept, s)), limit) {
			kept = append(kept, s)
			continue
		}
		// As many of its lines as fit, then stop: the rest is in the full answer.
		lines := linesThatFit(s, func(part string) bool { return fits(join(append(kept, part+"\n…")), limit) })
		if len(lines) > 0 && !strings.HasPrefix(lines[len(lines)-1], "**") || len(lines) > 1 {
			kept = append(kept, strings.Join(append(lines, "…"), "\n"))
		}
		break
	}
	out := join(kept)
	if !fits(out, limit) { // a summary longer than the limit: never seen in the catalog
		out = clipRunes(head, limit/3) + "\n\n" + tail
	}
	return out
}

// linesThatFit returns the first lines of section s for which ok holds of the lines so far, joined.
func linesThatFit(s string, ok func(part string) bool) []string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if !ok(strings.Join(append(lines, l), "\n")) {
			break
		}
		lines = append(lines, l)
	}
	return lines
}

func orUnknown(s string) string {
	if strings.TrimSpace(s) == "" {
		return "chưa có thông tin trong dữ liệu."
	}
	return clipRunes(s, 300)
}

var channelNames = map[knowledge.ChannelKind]string{
	knowledge.ChannelInPerson: "Nộp trực tiếp",
	knowledge.ChannelOnline:   "Nộp trực tuyến",
	knowledge.ChannelPostal:   "Qua bưu chính",
}

// FormatVND writes 70000 as "70.000 đồng".
func FormatVND(n int64) string { return groupThousands(n) + " đồng" }

// quantity says how many originals and copies an item needs: "1 bản chính, 1 bản sao" ("" when not stated).
func quantity(d knowledge.DossierItem) string {
	var q []string
	if d.Originals > 0 {
		q = append(q, strconv.Itoa(d.Originals)+" bản chính")
	}
	if d.Copies > 0 {
		q = append(q, strconv.Itoa(d.Copies)+" bản sao")
	}
	return strings.Join(q, ", ")
}

// reductionNote picks the sentence of a fee note that states a reduction or exemption in force ("bằng 50% …
// đến hết ngày 31/12/2026"), as the record says it. A sentence whose period ended before today is left out, and
// a sentence is never shortened so far that its dates disappear.
func reductionNote(note string, today time.Time) string {
	if note == "" {
		return ""
	}
	var best string
	for _, s := range splitSentences(note) {
		f := knowledge.Fold(s)
		if strings.Contains(s, "%") || strings.Contains(f, "giam") || strings.Contains(f, "mien") {
			if (strings.Contains(f, "den het") || strings.Contains(f, "ke tu") || strings.Contains(s, "%")) && !endedIn(s, today) {
				best = s // the last such sentence is usually the one in force
			}
		}
	}
	if best == "" {
		return ""
	}
	c := clipClause(best, 260)
	if untilDate.MatchString(best) && !untilDate.MatchString(c) {
		c = clipClause(best, 400)
	}
	return c
}

func splitSentences(s string) []string {
	s = strings.ReplaceAll(s, "\n", ". ")
	var out []string
	for _, part := range strings.Split(s, ". ") {
		part = strings.Trim(strings.TrimSpace(part), "-+ ")
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

func dedupe(lines []string) []string {
	// "- Nộp trực tiếp: miễn phí" three times → one line "- Mọi hình thức: miễn phí"
	vals := map[string]bool{}
	for _, l := range lines {
		if i := strings.Index(l, ": "); i >= 0 {
			vals[l[i+2:]] = true
		}
	}
	if len(vals) == 1 && len(lines) > 1 {
		for v := range vals {
			return []string{"- Mọi hình thức nộp: " + v}
		}
	}
	return lines
}

func recordMentions(p *knowledge.Procedure, folded string) bool {
	for _, c := range p.Channels {
		if strings.Contains(knowledge.Fold(c.Note), folded) {
			return true
		}
	}
	for _, s := range p.Steps {
		if strings.Contains(knowledge.Fold(s), folded) {
			return true
		}
	}
	return strings.Contains(knowledge.Fold(p.Requirements), folded)
}

func requirements(p *knowledge.Procedure) string {
	r := strings.TrimSpace(p.Requirements)
	if r == "" || knowledge.Fold(r) == "khong co thong tin" {
		return "Điều kiện: dữ liệu không nêu điều kiện riêng. Đối tượng thực hiện: " + orUnknown(strings.Join(p.Subjects, ", ")) + "."
	}
	return "Điều kiện: " + clipRunes(r, 500)
}

// requirementsFirst is requirements for the first answer: the conditions' whole sentences that fit in about
// 300 characters, or a pointer to the full answer when even the first does not.
func requirementsFirst(p *knowledge.Procedure) string {
	r := strings.TrimSpace(p.Requirements)
	if r == "" || knowledge.Fold(r) == "khong co thong tin" || utf8.RuneCountInString(r) <= 300 {
		return requirements(p)
	}
	var kept []string
	n := 0
	for _, s := range wholeSentences(r) {
		if n+utf8.RuneCountInString(s) > 300 {
			break
		}
		kept = append(kept, s)
		n += utf8.RuneCountInString(s) + 1
	}
	if len(kept) == 0 {
		return "Điều kiện: thủ tục có điều kiện riêng — bấm «" + MoreReply + "» để xem."
	}
	return "Điều kiện: " + strings.Join(kept, " ") + " (còn nữa: bấm «" + MoreReply + "»)"
}

// wholeSentences splits a text into its sentences, each with its final stop.
func wholeSentences(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		for line = strings.TrimSpace(line); line != ""; {
			i := strings.Index(line, ". ")
			if i < 0 {
				out = append(out, line)
				break
			}
			out = append(out, line[:i+1])
			line = strings.TrimSpace(line[i+2:])
		}
	}
	return out
}

func legal(p *knowledge.Procedure) string {
	if len(p.Legal) == 0 {
		return "Căn cứ pháp lý: chưa có thông tin trong dữ liệu."
	}
	var b strings.Builder
	b.WriteString("Căn cứ pháp lý:\n")
	for i, l := range p.Legal {
		if i == 6 {
			fmt.Fprintf(&b, "… và %d văn bản khác.\n", len(p.Legal)-6)
			break
		}
		if l.Number != "" {
			fmt.Fprintf(&b, "- %s: %s\n", l.Number, clipRunes(l.Title, 120))
		} else {
			fmt.Fprintf(&b, "- %s\n", clipRunes(l.Title, 160))
		}
	}
	return b.String()
}

// Compose is the offline composer's first answer for one procedure and the given intents (chat-sized, within
// MaxFirstRunes).
func Compose(p *knowledge.Procedure, intents []Intent) string {
	return compose(p, intents, false, place{}, "")
}
