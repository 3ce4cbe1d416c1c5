package assistant

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// documents lists the dossier: per group in the record's order, the papers everyone needs first, then those for
// particular cases, each labelled with its condition; at most max items, none cut mid-clause.
func documents(p *knowledge.Procedure, max int) string {
	return listDocuments(dossierToShow(p, ""), max)
}

// shownItem is one dossier item as the answer writes it, under its group.
type shownItem struct {
	group string
	line  string // "- <item> (1 bản chính) — mẫu: …"
	// cond marks an item for particular cases only, and short is its name alone ("Văn bản ủy quyền"), for the
	// first answer's one-line summary of such items.
	cond  bool
	short string
	// whole is the item's text uncut, with its condition first, and qty its quantity ("1 bản chính"), for the
	// first answer's whole lines (see completeLine).
	whole string
	qty   string
}

// dossierToShow is the dossier in the order the answer lists it, written once: the items with a quantity or
// a form (the others are notes), the group of the case the citizen said (said) first, everyone's papers first.
func dossierToShow(p *knowledge.Procedure, said string) []shownItem {
	var real []knowledge.DossierItem
	for _, d := range p.Dossier {
		if d.Originals > 0 || d.Copies > 0 || d.Form != "" {
			real = append(real, d)
		}
	}
	if len(real) == 0 {
		real = p.Dossier
	}
	out := make([]shownItem, 0, len(real))
	for _, d := range everyoneFirst(real, caseGroup(real, said, p.Name)) {
		line := "- " + itemText(d)
		if q := quantity(d); q != "" {
			line += " (" + q + ")"
		}
		if d.Form != "" {
			line += " — mẫu: " + clipClause(d.Form, 100)
		}
		whole := strings.Join(strings.Fields(d.Name), " ")
		if conditionalItem(d.Name) && !startsWithCondition(d.Name) {
			whole = conditionalPrefix + whole
		}
		out = append(out, shownItem{group: d.Group, line: line, cond: conditionalItem(d.Name), short: shortItem(d.Name),
			whole: whole, qty: quantity(d)})
	}
	return out
}

// listDocuments writes at most max items of a dossier from dossierToShow.
func listDocuments(items []shownItem, max int) string {
	if len(items) == 0 {
		return "Hồ sơ: dữ liệu chưa có thành phần hồ sơ; vui lòng xem tại đường dẫn bên dưới."
	}
	var b strings.Builder
	b.WriteString("Hồ sơ cần chuẩn bị:\n")
	group := ""
	for i, d := range items {
		if i == max {
			fmt.Fprintf(&b, "… và %d giấy tờ khác (xem đầy đủ tại đường dẫn bên dưới).\n", len(items)-max)
			break
		}
		if d.group != group && len(items) > 1 {
			group = d.group
			h := group
			if h == "" {
				h = "Giấy tờ khác"
			}
			fmt.Fprintf(&b, "%s:\n", clipClause(h, 120))
		}
		b.WriteString(d.line + "\n")
	}
	return b.String()
}

// listDocumentsBrief is listDocuments for the first answer: the papers everyone needs (at most max), each
// cut at the end of its first sentence when long, and the papers for particular cases named in one line per
// group ("Tùy trường hợp: Văn bản ủy quyền; Tờ khai …"), so that none is hidden behind "… và N giấy tờ khác"
// for a reader who is in one of those cases. "" when the dossier has no paper for particular cases.
func listDocumentsBrief(items []shownItem, max int) string {
	var groups []string
	everyone, cases := map[string][]string{}, map[string][]string{}
	nCases := 0
	for _, d := range items {
		if _, ok := everyone[d.group]; !ok {
			groups = append(groups, d.group)
			everyone[d.group] = nil
		}
		if d.cond && d.short != "" {
			cases[d.group] = append(cases[d.group], d.short)
			nCases++
		} else {
			everyone[d.group] = append(everyone[d.group], firstSentence(d.line, 160))
		}
	}
	if nCases == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Hồ sơ cần chuẩn bị:\n")
	shown, hidden := 0, 0
	for _, g := range groups {
		if g != "" && len(groups) > 1 {
			fmt.Fprintf(&b, "%s:\n", clipClause(g, 120))
		}
		for _, l := range everyone[g] {
			if shown == max {
				hidden++
				continue
			}
			shown++
			b.WriteString(l + "\n")
		}
		if len(cases[g]) > 0 {
			b.WriteString("- " + clipClause(conditionalPrefix+strings.Join(cases[g], "; "), 300) + "\n")
		}
	}
	if hidden > 0 {
		fmt.Fprintf(&b, "… và %d giấy tờ khác (xem đầy đủ tại đường dẫn bên dưới).\n", hidden)
	}
	return b.String()
}

// listDocumentsFirst is listDocuments for the first answer: at most max whole lines — the papers everyone
// needs of each group (the case that fits the asker first, see dossierToShow), each whole or by its name
// (completeLine), and the papers for particular cases named in one line per group — then how many others the
// full answer lists. A group that does not fit is left out whole; nothing is cut mid-sentence. "" when no
// paper can be shown whole.
func listDocumentsFirst(items []shownItem, max int, withCases bool) string {
	if len(items) == 0 {
		return listDocuments(items, 0)
	}
	groups := firstAnswerGroups(items)
	var b strings.Builder
	b.WriteString("Hồ sơ cần chuẩn bị:\n")
	shown, hidden := 0, 0
	for _, g := range groups {
		if shown >= max || len(g.every) == 0 && (len(g.cases) == 0 || !withCases) {
			hidden += len(g.every) + len(g.cases) + g.hidden
			continue
		}
		if g.name != "" && len(groups) > 1 {
			fmt.Fprintf(&b, "%s:\n", groupTitle(g.name))
		}
		for _, l := range g.every {
			if shown >= max {
				hidden++
				continue
			}
			shown++
			b.WriteString(l + "\n")
		}
		hidden += g.hidden
		if len(g.cases) == 0 {
			continue
		}
		if !withCases {
			hidden += len(g.cases)
			continue
		}
		line, k := casesLine(g.cases)
		hidden += len(g.cases) - k
		if k > 0 {
			b.WriteString(line + "\n")
		}
	}
	if shown == 0 && !strings.Contains(b.String(), conditionalPrefix) {
		return ""
	}
	if hidden > 0 {
		fmt.Fprintf(&b, "Còn %d giấy tờ khác theo từng trường hợp: bấm «%s».\n", hidden, MoreReply)
	}
	return b.String()
}

// shownGroup is one group of dossier items as the first answer can show it: the whole lines of the papers
// everyone needs, the names of the papers for particular cases, and how many items it cannot show whole.
type shownGroup struct {
	name         string
	every, cases []string
	hidden       int
}

// firstAnswerGroups sorts the items into their groups, in the order the groups first appear.
func firstAnswerGroups(items []shownItem) []*shownGroup {
	var groups []*shownGroup
	at := map[string]*shownGroup{}
	for _, d := range items {
		g := at[d.group]
		if g == nil {
			g = &shownGroup{name: d.group}
			at[d.group] = g
			groups = append(groups, g)
		}
		switch {
		case d.cond && d.short != "" && !strings.Contains(d.short, "…"):
			g.cases = append(g.cases, d.short)
		case d.cond && d.short != "":
			g.hidden++
		default:
			if l := completeLine(d); l != "" {
				g.every = append(g.every, l)
			} else {
				g.hidden++
			}
		}
	}
	return groups
}

// casesLine names the papers for particular cases in one line of at most 240 characters, as many as fit
// whole, and returns it with how many it names.
func casesLine(cases []string) (string, int) {
	line, k := "- "+conditionalPrefix, 0
	for _, c := range cases {
		if utf8.RuneCountInString(line+c) > 240 {
			break
		}
		if k > 0 {
			line += "; "
		}
		line += c
		k++
	}
	return line, k
}

// groupTitle is a dossier group's heading for the first answer: whole when short, else its first part that
// says the case.
func groupTitle(h string) string {
	h = strings.TrimRight(strings.Join(strings.Fields(h), " "), " :")
	if utf8.RuneCountInString(h) <= 160 {
		return h
	}
	for _, sep := range []string{" - ", ": ", "; "} {
		if i := strings.Index(h, sep); i > 20 && utf8.RuneCountInString(h[:i]) <= 160 {
			return strings.TrimRight(h[:i], " :")
		}
	}
	return clipClause(h, 160)
}

// itemQualifiers start the part of an item's name that only qualifies it ("… do cơ quan có thẩm quyền cấp,
// còn giá trị sử dụng"): the name before it is the paper, whole.
var itemQualifiers = []string{" do ", " theo quy định", " theo mẫu", " còn giá trị", " để chứng minh"}

// dangling reports whether a name cut before its qualifier ends in a word that needs what follows ("… Hộ chiếu
// của người").
func dangling(s string) bool {
	f := " " + strings.TrimRight(knowledge.Fold(s), " ,;:")
	for _, w := range []string{" cua", " nguoi", " va", " hoac", " cac", " la", " cho", " ve", " voi", " tai", " tu"} {
		if strings.HasSuffix(f, w) {
			return true
		}
	}
	return false
}

// completeLine writes a dossier item for the first answer as a whole line: the item when short, else its
// first sentence, else its name before what qualifies it (itemQualifiers), with its quantity; "" when none of
// these is short enough — the item is then left to the full answer rather than cut.
func completeLine(d shownItem) string {
	text := strings.TrimSpace(d.whole)
	if text == "" {
		return ""
	}
	suffix := ""
	if d.qty != "" {
		suffix = " (" + d.qty + ")"
	}
	const most = 170
	// "Bản sao có chứng thực … theo quy định: Văn bằng …": the paper is what follows the colon; the quantity says
	// it is a copy.
	text = afterColon(text)
	if !balanced(text) && strings.Count(text, "(") == strings.Count(text, ")")+1 {
		text += ")" // "… theo Mẫu số (18" as the portal cut it: closed, so that its quantity reads apart
	}
	if utf8.RuneCountInString(text) <= most {
		return "- " + text + suffix
	}
	if i := strings.Index(text, ". "); i > 20 && utf8.RuneCountInString(text[:i]) <= most && balanced(text[:i]) {
		return "- " + withException(text[:i+1], text) + suffix
	}
	best := -1
	for _, q := range itemQualifiers {
		if i := strings.Index(text, q); i > 20 && (best < 0 || i < best) {
			best = i
		}
	}
	if best > 0 && utf8.RuneCountInString(text[:best]) <= most && balanced(text[:best]) && !dangling(text[:best]) {
		return "- " + withException(strings.TrimRight(text[:best], " ,;:"), text) + suffix
	}
	// The paper's name alone ("Thông tin chứng minh về chỗ ở hợp pháp"), when shortItem finds it whole.
	if n := d.short; !d.cond && utf8.RuneCountInString(n) >= 12 && !strings.Contains(n, "…") && balanced(n) && !dangling(n) {
		return "- " + withException(n, text) + suffix
	}
	return ""
}

// ownPart is the first paper of a dossier item, before the portal's ";", ". " or " - " joins the next one to it
// ("… đơn đề nghị theo mẫu quy định; - Bản gốc Giấy chứng nhận (trường hợp bị hư hỏng)").
func ownPart(whole string) string {
	end := len(whole)
	for _, sep := range []string{";", ". ", " - ", " + "} {
		if i := strings.Index(whole, sep); i > 0 && i < end {
			end = i
		}
	}
	return whole[:end]
}

// paperAfterColon is the start of an item that names the paper after it: "Bản sao có chứng thực hoặc tệp tin
// bản sao điện tử được chứng thực theo quy định: Văn bằng …", "… kèm theo bản chính để đối chiếu chứng chỉ …".
var paperAfterColon = regexp.MustCompile(`^.{10,120}?(?:(?i:theo quy định|như sau)\s*:|bản chính để đối chiếu)\s*`)

// afterColon is the paper an item names after paperAfterColon (when what follows is a name, 12 runes or
// more), or the item as it is.
func afterColon(s string) string {
	m := paperAfterColon.FindStringIndex(s)
	if m == nil || utf8.RuneCountInString(s[m[1]:]) < 12 {
		return s
	}
	return strings.TrimSpace(s[m[1]:])
}

// itemException is a parenthesis of a dossier item that says whom it is for or who is spared it: "(trừ người
// có giấy phép lái xe hạng A1, A, B1)", "(đối với người nước ngoài, …)", "(nếu có)".
var itemException = regexp.MustCompile(`\((?i:trừ|ngoại trừ|không áp dụng|đối với|áp dụng|chỉ |nếu|trường hợp|khi )[^()]{2,160}\)`)

// withException keeps, on an item shortened for the first answer, the exception its whole text states: a paper
// shown without "(trừ người có giấy phép lái xe hạng A1, A, B1)" reads as required of everyone.
func withException(short, whole string) string {
	m := itemException.FindString(ownPart(whole))
	if m == "" || strings.Contains(short, m) {
		return short
	}
	return strings.TrimRight(short, " .,;:") + " " + m
}

// balanced reports whether every parenthesis opened in s is closed.
func balanced(s string) bool {
	return strings.Count(s, "(") == strings.Count(s, ")")
}

// firstSentence cuts a dossier line longer than n at the end of its first sentence, keeping its quantity
// ("(1 bản chính)"); else at a clause boundary.
func firstSentence(line string, n int) string {
	if utf8.RuneCountInString(line) <= n {
		return line
	}
	text, suffix := line, ""
	if j := strings.Index(text, " — mẫu: "); j > 0 {
		text = text[:j]
	}
	if j := strings.LastIndex(text, " ("); j > 0 && strings.HasSuffix(text, ")") && strings.Contains(text[j:], " bản ") {
		text, suffix = text[:j], text[j:]
	}
	if i := strings.Index(text, ". "); i > 20 && utf8.RuneCountInString(text[:i]) <= n {
		return text[:i+1] + suffix
	}
	return clipClause(text, n) + suffix
}

// shortItem is the name of a dossier item without what follows it ("Văn bản ủy quyền (được chứng thực) theo quy
// định … trong trường hợp ủy quyền" → "Văn bản ủy quyền"), at most about 70 characters.
func shortItem(name string) string {
	s := strings.TrimSpace(itemLabel.ReplaceAllString(name, ""))
	s = strings.TrimLeft(s, "-+*• ")
	s = afterColon(s)
	cut := len(s)
	for _, sep := range []string{" (", ", ", "; ", ". ", " theo ", " trong trường hợp", " đối với", " nếu ", " do ", " của người", " kèm theo"} {
		if i := strings.Index(s, sep); i >= 12 && i < cut {
			cut = i
		}
	}
	if startsWithCondition(s) {
		return caseItem(s)
	}
	s = strings.TrimRight(s[:cut], " .,;:")
	return clipClause(s, 70)
}

// thenPaper splits "Trường hợp <case> thì (phải có) <paper>" items.
var thenPaper = regexp.MustCompile(`^(?i:(?:trong )?trường hợp|đối với|nếu|khi)\s+(.{4,80}?),?\s+thì\s+(?i:phải có |phải nộp |nộp thêm |nộp |kèm theo |có |cần có )?(.{4,})$`)

// caseItem names an item that begins with its case: "Trường hợp trẻ em bị bỏ rơi thì phải có biên bản về việc
// trẻ bị bỏ rơi …" → "biên bản về việc trẻ bị bỏ rơi (trẻ em bị bỏ rơi)".
func caseItem(s string) string {
	if i := strings.Index(s, ". "); i > 0 {
		s = s[:i]
	}
	m := thenPaper.FindStringSubmatch(s)
	if m == nil {
		return clipClause(s, 70)
	}
	return clipClause(strings.TrimRight(m[2], " .;,"), 60) + " (" + clipClause(m[1], 50) + ")"
}

// conditionalPrefix labels an item meant only for some cases whose own text does not begin with its condition.
const conditionalPrefix = "Tùy trường hợp: "

// itemText is the item as the answer shows it: its condition first, never cut mid-clause.
func itemText(d knowledge.DossierItem) string {
	name := clipClause(d.Name, 220)
	if conditionalItem(d.Name) && !startsWithCondition(d.Name) {
		return conditionalPrefix + name
	}
	return name
}

// itemLabel reads a letter or number label that orders items in the law ("a) Sổ BHXH", "đ) …").
var itemLabel = regexp.MustCompile(`^\s*([a-zđ])\)\s`)

// labelOrder is the Vietnamese order of the letters that label items (đ comes after d).
const labelOrder = "abcdđefghiklmnopqrstuvxy"

func labelRank(name string) int {
	m := itemLabel.FindStringSubmatch(name)
	if m == nil {
		return -1
	}
	return strings.Index(labelOrder, m[1])
}

// conditionMarkers are (folded) words that make an item apply only in some cases, when they are in its first
// clause: "Văn bản ủy quyền … trong trường hợp ủy quyền", "… của người dưới 14 tuổi", "(nếu có)".
var conditionMarkers = []string{"truong hop", "doi voi", "neu ", "(neu", "nguoi duoi 14 tuoi", "nguoi chua thanh nien",
	"nguoi chua du", "tre em duoi"}

// firstClause is the part of an item before its first ";" or ". " (the rest often says what replaces it:
// "Giấy chứng sinh; trường hợp không có Giấy chứng sinh thì …" is for everyone).
func firstClause(name string) string {
	if i := strings.IndexByte(name, ';'); i >= 0 {
		name = name[:i]
	}
	if i := strings.Index(name, ". "); i >= 0 {
		name = name[:i]
	}
	f := itemLabel.ReplaceAllString(knowledge.Fold(name), "")
	return strings.TrimLeft(f, "-+*• ")
}

// proxyPapers are (folded) starts of items needed only when someone else files for the citizen: a power of
// attorney is never everyone's paper.
var proxyPapers = []string{"van ban uy quyen", "giay uy quyen", "hop dong uy quyen", "ban sao van ban uy quyen",
	"giay to uy quyen", "van ban, giay to uy quyen"}

// conditionalItem reports whether an item applies only in some cases.
func conditionalItem(name string) bool {
	f := firstClause(name)
	for _, w := range conditionMarkers {
		if strings.Contains(f, w) {
			return true
		}
	}
	for _, w := range proxyPapers {
		if strings.HasPrefix(f, w) {
			return true
		}
	}
	// A condition of applicability later in the item ("Quyết định xử phạt …; chứng từ nộp phạt … đối với trường
	// hợp có vi phạm"), unlike an alternative for everyone ("…; trường hợp không có Giấy chứng sinh thì …").
	whole := knowledge.Fold(name)
	for _, w := range []string{"doi voi truong hop", "ap dung doi voi", "chi ap dung", "(neu co)"} {
		if strings.Contains(whole, w) {
			return true
		}
	}
	return false
}

// startsWithCondition reports whether the item's text begins with its condition ("Trường hợp …", "Nếu …").
func startsWithCondition(name string) bool {
	f := firstClause(name)
	for _, w := range []string{"truong hop", "trong truong hop", "doi voi", "neu ", "khi "} {
		if strings.HasPrefix(f, w) {
			return true
		}
	}
	return false
}

// everyoneFirst orders dossier items so that, within each group (in the record's order), the papers everyone
// needs come before those for particular cases ("Trường hợp …", "… nếu có"): the portal often lists the
// exceptions first, and a chat-sized answer would otherwise show only them. Items labelled a), b), c) … keep
// the law's order; forms without a group join the group of papers to file ("Giấy tờ phải nộp").
func everyoneFirst(items []knowledge.DossierItem, first string) []knowledge.DossierItem {
	out := append([]knowledge.DossierItem(nil), items...)
	isForm := formsToFile(out)
	groupAt := groupOrder(out, first)
	type keyed struct {
		d     knowledge.DossierItem
		form  bool
		cond  bool
		label int
		at    int
	}
	ks := make([]keyed, len(out))
	for i, d := range out {
		ks[i] = keyed{d, isForm[i], conditionalItem(d.Name), labelRank(d.Name), i}
	}
	sort.SliceStable(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		if gi, gj := groupAt[a.d.Group], groupAt[b.d.Group]; gi != gj {
			return gi < gj
		}
		if a.cond != b.cond {
			return !a.cond
		}
		if a.form != b.form {
			return a.form
		}
		if a.label >= 0 && b.label >= 0 && a.label != b.label {
			return a.label < b.label
		}
		return a.at < b.at
	})
	for i := range ks {
		out[i] = ks[i].d
	}
	return out
}

// formsToFile puts the forms the portal left without a group into the group of papers to file, not under
// "xuất trình", when the items have groups and one of them is that; it returns the indexes of the forms it moved.
func formsToFile(out []knowledge.DossierItem) map[int]bool {
	fileGroup, grouped := "", false
	for _, d := range out {
		if d.Group != "" {
			grouped = true
			if fileGroup == "" && strings.Contains(knowledge.Fold(d.Group), "nop") && !strings.Contains(knowledge.Fold(d.Group), "xuat trinh") {
				fileGroup = d.Group
			}
		}
	}
	isForm := map[int]bool{}
	if grouped && fileGroup != "" {
		for i, d := range out {
			f := firstClause(d.Name)
			if d.Group == "" && (d.Form != "" || strings.HasPrefix(f, "to khai") || strings.HasPrefix(f, "mau ") || strings.HasPrefix(f, "don ")) {
				out[i].Group = fileGroup
				isForm[i] = true
			}
		}
	}
	return isForm
}

// groupOrder ranks the groups of the items: the group first (the case the citizen named) before all, then
// the record's order, with the cases the asker is not presumed to be in and the groups for a particular case
// moved after the others, and numbered cases in their numbers' order.
func groupOrder(out []knowledge.DossierItem, first string) map[string]int {
	groupAt := map[string]int{}
	if first != "" {
		groupAt[first] = -1
	}
	for _, d := range out {
		if _, ok := groupAt[d.Group]; !ok {
			groupAt[d.Group] = len(groupAt)
			if d.Group == first {
				continue
			}
			// A case the asker is not presumed to be in — a foreigner, an organisation, a unit of the armed
			// forces — comes after the cases of a citizen or household in Viet Nam (a group the citizen named,
			// first, overrides this); a group for a particular case ("Trường hợp ủy quyền thực hiện thủ tục thì
			// hồ sơ phải kèm theo …", a note in parentheses) comes after them all. Numbered cases keep their
			// numbers' order.
			if otherCase(d.Group) {
				groupAt[d.Group] += len(out)
			}
			if startsWithCondition(strings.TrimLeft(d.Group, "( ")) {
				groupAt[d.Group] += 2 * len(out)
			}
		}
	}
	orderNumbered(groupAt, first)
	return groupAt
}

// orderNumbered gives numbered cases ("2. …" listed before "1. …") the places of the numbered groups in their
// numbers' order; the other groups keep theirs.
func orderNumbered(groupAt map[string]int, first string) {
	var numbered []string
	for g := range groupAt {
		if g != first && numberLabel(g) > 0 {
			numbered = append(numbered, g)
		}
	}
	if len(numbered) <= 1 {
		return
	}
	slots := make([]int, len(numbered))
	for i, g := range numbered {
		slots[i] = groupAt[g]
	}
	sort.Ints(slots)
	sort.SliceStable(numbered, func(i, j int) bool {
		a, b := numberLabel(numbered[i]), numberLabel(numbered[j])
		if a != b {
			return a < b
		}
		return groupAt[numbered[i]] < groupAt[numbered[j]]
	})
	for i, g := range numbered {
		groupAt[g] = slots[i]
	}
}

// groupNumber reads the number that orders a case in the law: "2. Đối với …", "(iv) …", "b) …".
var groupNumber = regexp.MustCompile(`^\s*(?:(\d{1,2})\.\s|\(?([ivx]{1,4})\)\s|([a-zđ])\)\s)`)

// numberLabel is the rank of a group's number (1 for "1.", "(i)" and "a)"), 0 when it has none.
func numberLabel(h string) int {
	m := groupNumber.FindStringSubmatch(h)
	switch {
	case m == nil:
		return 0
	case m[1] != "":
		n, _ := strconv.Atoi(m[1])
		return n
	case m[2] != "":
		return strings.Index("|i|ii|iii|iv|v|vi|vii|viii|ix|x|", "|"+m[2]+"|")/3 + 1
	}
	return strings.Index(labelOrder, m[3]) + 1
}

// otherCases are (folded) words of a heading for a case the asker is not presumed to be in, unless the
// heading also speaks of citizens or households (householdCases).
var otherCases = []string{"nuoc ngoai", "dinh cu o", "to chuc", "ton giao", "tin nguong", "doanh nghiep", "du an",
	"nha dau tu", "don vi dong quan", "quan doi", "cong an nhan dan", "theo danh sach", "hop tac xa"}

var householdCases = []string{"ca nhan", "ho gia dinh", "cong dan viet nam"}

// otherCase reports whether a dossier group is for a case the asker is not presumed to be in (see otherCases).
func otherCase(h string) bool {
	f := knowledge.Fold(h)
	for _, w := range householdCases {
		if strings.Contains(f, w) && !strings.Contains(f, "nguoi goc viet nam") {
			return false
		}
	}
	for _, w := range otherCases {
		if strings.Contains(f, w) {
			return true
		}
	}
	return false
}

// caseStop are (folded) words too common in dossier headings to tell cases apart.
var caseStop = map[string]bool{"ho": true, "so": true, "gom": true, "doi": true, "voi": true, "truong": true, "hop": true,
	"cua": true, "va": true, "cac": true, "cho": true, "la": true, "duoc": true, "co": true, "khong": true,
	"trong": true, "tai": true, "theo": true, "nay": true, "khi": true, "mot": true, "nguoi": true, "de": true,
	"nghi": true, "giay": true, "to": true, "phai": true, "nop": true, "xuat": true, "trinh": true, "thanh": true,
	"phan": true, "bao": true, "thi": true, "hoac": true, "ve": true, "tu": true, "den": true, "o": true, "vao": true,
	"da": true, "nhung": true, "can": true, "muon": true, "lam": true, "sao": true}

// caseCues link what a citizen says of their case to what a group of the dossier says of it, when the words
// differ: a wife moving into her husband's family home is the case of "quan hệ nhân thân với chủ hộ" (khoản 2
// Điều 20 Luật Cư trú), a student renting a room that of "thuê, mượn, ở nhờ". Both sides are folded.
var caseCues = []struct{ said, group []string }{
	{[]string{"nha chong", "nha vo", "bo chong", "me chong", "bo vo", "me vo", "nha bo me", "nha ba me", "nha cha me",
		"nha ong ba", "nguoi than", "ho hang", "ve o chung", "o chung voi", "nha con", "cha me ruot"},
		[]string{"quan he nhan than", "khoan 2 dieu 20"}},
	{[]string{"thue nha", "thue tro", "nha tro", "phong tro", "o tro", "thue phong", "thue can ho", "muon nha"},
		[]string{"thue, muon", "cho thue", "do thue"}},
	{[]string{"nguoi phu thuoc", "giam tru gia canh"}, []string{"nguoi phu thuoc"}},
}

// caseWords are the words of s for telling cases apart: with their diacritics when s has them (so that "năm"
// is not "Nam"), folded otherwise.
func caseWords(s string, folded bool) []string {
	if folded {
		return knowledge.Syllables(s)
	}
	return strings.FieldsFunc(strings.ToLower(knowledge.Normalize(s)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// caseGroup is the dossier group whose heading speaks of the case the citizen said ("đăng ký tạm trú theo danh
// sách", "nhà ở riêng lẻ", "người phụ thuộc"): the heading that shares the most with said — words that at most
// half the headings have and the procedure's name (name) does not, two at least or a pair in a row — or whose
// group speaks of a case said in other words (caseCues). The first in the record's order wins a tie; "" when
// no heading speaks of the case.
func caseGroup(items []knowledge.DossierItem, said, name string) string {
	if said == "" {
		return ""
	}
	heads, text := groupHeads(items)
	if len(heads) < 2 {
		return ""
	}
	folded := knowledge.Fold(said) == strings.ToLower(said)
	q := caseWords(said, folded)
	inQ := map[string]bool{}
	for _, t := range append(q, knowledge.Bigrams(q)...) {
		inQ[t] = true
	}
	// The words of what the procedure is (its name before the cases it lists: "… lần đầu đối với hộ gia đình,
	// …, người gốc Việt Nam định cư ở nước ngoài") say nothing of the asker's case.
	inName := map[string]bool{}
	for _, t := range caseWords(nameHead(name), folded) {
		inName[t] = true
	}
	common := map[string]int{}
	words := make([][]string, len(heads))
	for i, h := range heads {
		words[i] = caseWords(h, folded)
		once := map[string]bool{}
		for _, t := range words[i] {
			if !once[t] {
				once[t] = true
				common[t]++
			}
		}
	}
	fq := " " + strings.Join(strings.Fields(knowledge.Fold(said)), " ") + " "
	skip := func(t string) bool {
		f := knowledge.Fold(t)
		return common[t]*2 > len(heads) || caseStop[f] || len([]rune(t)) < 2 || inName[t] || !inQ[t]
	}
	best, bestScore := "", 0
	for i, h := range heads {
		score := 0
		counted := map[string]bool{}
		for j, t := range words[i] {
			if skip(t) || counted[t] {
				continue
			}
			counted[t] = true
			score++
			if j+1 < len(words[i]) && inQ[t+"_"+words[i][j+1]] && !skip(words[i][j+1]) {
				score++
			}
		}
		score += cueScore(fq, text[h])
		if score > bestScore {
			best, bestScore = h, score
		}
	}
	if bestScore < 2 {
		return ""
	}
	return best
}

// groupHeads lists the group headings of the items in the record's order, with the folded text of each
// group: its heading and the names of its items.
func groupHeads(items []knowledge.DossierItem) ([]string, map[string]string) {
	var heads []string
	text := map[string]string{}
	for _, d := range items {
		if d.Group == "" {
			continue
		}
		if _, ok := text[d.Group]; !ok {
			heads = append(heads, d.Group)
		}
		text[d.Group] += " " + knowledge.Fold(d.Group+" "+d.Name)
	}
	return heads, text
}

// cueScore is what the case cues add to a group's score: 2 for each cue that the citizen said (fq, folded
// and padded with spaces) and the group's text (see groupHeads) has.
func cueScore(fq, text string) int {
	score := 0
	for _, c := range caseCues {
		saidIt, hasIt := false, false
		for _, w := range c.said {
			saidIt = saidIt || strings.Contains(fq, " "+w+" ")
		}
		for _, w := range c.group {
			hasIt = hasIt || strings.Contains(text, w)
		}
		if saidIt && hasIt {
			score += 2
		}
	}
	return score
}

// nameHead is what a procedure's name says it is, before the cases it lists ("Đăng ký đất đai, … lần đầu" of
// "… lần đầu đối với hộ gia đình, cá nhân, …").
func nameHead(name string) string {
	for _, sep := range []string{" đối với ", " (", " cho ", " của ", " trong trường hợp", " trong các trường hợp"} {
		if i := strings.Index(name, sep); i > 0 {
			name = name[:i]
		}
	}
	return name
}
