package assistant

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
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
	for _, d := range everyoneFirst(real, caseGroup(real, said)) {
		line := "- " + itemText(d)
		if q := quantity(d); q != "" {
			line += " (" + q + ")"
		}
		if d.Form != "" {
			line += " — mẫu: " + clipClause(d.Form, 100)
		}
		out = append(out, shownItem{group: d.Group, line: line, cond: conditionalItem(d.Name), short: shortItem(d.Name)})
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
	// Forms the portal left without a group belong with the papers to file, not under "xuất trình".
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
	groupAt := map[string]int{}
	if first != "" {
		groupAt[first] = -1
	}
	for _, d := range out {
		if _, ok := groupAt[d.Group]; !ok {
			groupAt[d.Group] = len(groupAt)
			// A group for a particular case ("Trường hợp ủy quyền thực hiện thủ tục thì hồ sơ phải kèm theo …")
			// comes after the others.
			if d.Group != first && startsWithCondition(d.Group) {
				groupAt[d.Group] += len(out)
			}
		}
	}
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

// caseStop are (folded) words too common in dossier headings to tell cases apart.
var caseStop = map[string]bool{"ho": true, "so": true, "gom": true, "doi": true, "voi": true, "truong": true, "hop": true,
	"cua": true, "va": true, "cac": true, "cho": true, "la": true, "duoc": true, "co": true, "khong": true,
	"trong": true, "tai": true, "theo": true, "nay": true, "khi": true, "mot": true, "nguoi": true, "de": true,
	"nghi": true, "giay": true, "to": true, "phai": true, "nop": true, "xuat": true, "trinh": true, "thanh": true,
	"phan": true, "bao": true, "thi": true, "hoac": true, "ve": true, "tu": true, "den": true}

// caseGroup is the dossier group whose heading speaks of the case the citizen said ("đăng ký tạm trú theo danh
// sách", "nhà ở riêng lẻ"): the one heading that shares the most with said — words that at most half the
// headings have, two at least or a pair in a row — or "" when none or several tie.
func caseGroup(items []knowledge.DossierItem, said string) string {
	if said == "" {
		return ""
	}
	var heads []string
	seen := map[string]bool{}
	for _, d := range items {
		if d.Group != "" && !seen[d.Group] {
			seen[d.Group] = true
			heads = append(heads, d.Group)
		}
	}
	if len(heads) < 2 {
		return ""
	}
	q := knowledge.Syllables(said)
	inQ := map[string]bool{}
	for _, t := range append(q, knowledge.Bigrams(q)...) {
		inQ[t] = true
	}
	common := map[string]int{}
	words := make([][]string, len(heads))
	for i, h := range heads {
		words[i] = knowledge.Syllables(h)
		once := map[string]bool{}
		for _, t := range words[i] {
			if !once[t] {
				once[t] = true
				common[t]++
			}
		}
	}
	best, bestScore, tie := "", 0, false
	for i, h := range heads {
		score := 0
		counted := map[string]bool{}
		for j, t := range words[i] {
			if common[t]*2 > len(heads) || caseStop[t] || len(t) < 2 || counted[t] || !inQ[t] {
				continue
			}
			counted[t] = true
			score++
			if j+1 < len(words[i]) && inQ[t+"_"+words[i][j+1]] && !caseStop[words[i][j+1]] {
				score++
			}
		}
		switch {
		case score > bestScore:
			best, bestScore, tie = h, score, false
		case score == bestScore:
			tie = true
		}
	}
	if bestScore < 2 || tie {
		return ""
	}
	return best
}
