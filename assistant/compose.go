package assistant

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// MaxAnswerRunes is the most one answer message may hold (Zalo's limit is 2,000 characters).
const MaxAnswerRunes = 2000

// PortalURL is where citizens find every procedure and file online.
const PortalURL = "https://dichvucong.gov.vn"

// compose builds the offline answer for one procedure: the sections the intents ask for, or a short summary,
// then the citation line. Everything comes from the record; nothing is invented.
func compose(p *knowledge.Procedure, intents []Intent, full bool, at place) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (mã %s)\n", p.Name, p.Code)
	asked := map[Intent]bool{}
	for _, i := range intents {
		asked[i] = true
	}
	specific := asked[IntentDocuments] || asked[IntentOnline] || asked[IntentFee] ||
		asked[IntentTime] || asked[IntentWhere] || asked[IntentRequirements] || asked[IntentResult] || asked[IntentLegal]
	if !specific { // a bare "đăng ký khai sinh" or "làm sao": the essentials
		asked[IntentDocuments], asked[IntentFee], asked[IntentTime], asked[IntentWhere] = true, true, true, true
	}
	items := 8
	if full {
		items = 30
	}
	sections := []struct {
		on   bool
		text func() string
	}{
		{asked[IntentFee], func() string { return fees(p) }},
		{asked[IntentTime], func() string { return times(p) }},
		{asked[IntentWhere], func() string { return where(p, at, !specific, !asked[IntentOnline] && !asked[IntentSteps]) }},
		{asked[IntentOnline] || asked[IntentSteps], func() string { return online(p, asked[IntentSteps] || full) }},
		{asked[IntentRequirements], func() string { return requirements(p) }},
		{asked[IntentResult], func() string { return "Kết quả: " + orUnknown(p.Result) }},
		{asked[IntentLegal], func() string { return legal(p) }},
	}
	var rest strings.Builder
	for _, s := range sections {
		if s.on {
			if t := strings.TrimSpace(s.text()); t != "" {
				rest.WriteString(t)
				rest.WriteString("\n")
			}
		}
	}
	cite := citationLine(p)
	if asked[IntentDocuments] {
		// The documents come first but get only the room the other asked sections leave, so that a question
		// about papers and fees gets both.
		room := MaxAnswerRunes - utf8.RuneCountInString(b.String()+rest.String()+cite) - 60
		for n := items; n >= 1; n-- {
			d := documents(p, n)
			if utf8.RuneCountInString(d) <= room || n == 1 {
				b.WriteString(strings.TrimSpace(d) + "\n")
				break
			}
		}
	}
	b.WriteString(rest.String())
	return fitAnswer(b.String(), cite)
}

func citationLine(p *knowledge.Procedure) string {
	url := p.URL
	if url == "" {
		url = PortalURL
	}
	date := "01/07/2026"
	if !p.SourceDate.IsZero() {
		date = p.SourceDate.Format("02/01/2006")
	}
	return fmt.Sprintf("Nguồn: Cổng Dịch vụ công quốc gia, mã %s — %s (dữ liệu ngày %s).", p.Code, url, date)
}

// fitAnswer keeps body + citation within MaxAnswerRunes, cutting the body at a line boundary.
func fitAnswer(body, cite string) string {
	room := MaxAnswerRunes - utf8.RuneCountInString(cite) - 40
	if utf8.RuneCountInString(body) > room {
		lines := strings.Split(body, "\n")
		var kept strings.Builder
		for _, l := range lines {
			if utf8.RuneCountInString(kept.String())+utf8.RuneCountInString(l)+1 > room {
				break
			}
			kept.WriteString(l + "\n")
		}
		body = kept.String() + "… (xem đầy đủ tại đường dẫn bên dưới)\n"
	}
	return strings.TrimSpace(body) + "\n" + cite
}

func orUnknown(s string) string {
	if strings.TrimSpace(s) == "" {
		return "chưa có thông tin trong dữ liệu."
	}
	return clipRunes(s, 300)
}

func documents(p *knowledge.Procedure, max int) string {
	var real []knowledge.DossierItem
	for _, d := range p.Dossier {
		if d.Originals > 0 || d.Copies > 0 || d.Form != "" {
			real = append(real, d)
		}
	}
	if len(real) == 0 {
		real = p.Dossier
	}
	if len(real) == 0 {
		return "Hồ sơ: dữ liệu chưa có thành phần hồ sơ; vui lòng xem tại đường dẫn bên dưới."
	}
	real = everyoneFirst(real)
	var b strings.Builder
	b.WriteString("Hồ sơ cần chuẩn bị:\n")
	group := ""
	for i, d := range real {
		if i == max {
			fmt.Fprintf(&b, "… và %d giấy tờ khác (xem đầy đủ tại đường dẫn bên dưới).\n", len(real)-max)
			break
		}
		if d.Group != "" && d.Group != group && len(real) > 1 {
			group = d.Group
			fmt.Fprintf(&b, "%s:\n", clipRunes(group, 120))
		}
		fmt.Fprintf(&b, "- %s", clipRunes(d.Name, 220))
		if q := quantity(d); q != "" {
			fmt.Fprintf(&b, " (%s)", q)
		}
		if d.Form != "" {
			fmt.Fprintf(&b, " — mẫu: %s", clipRunes(d.Form, 100))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// everyoneFirst orders dossier items so that, within each group (in the record's order), the papers everyone
// needs come before those for particular cases ("Trường hợp …", "… nếu có"): the portal often lists the
// exceptions first, and a chat-sized answer would otherwise show only them.
func everyoneFirst(items []knowledge.DossierItem) []knowledge.DossierItem {
	groupAt := map[string]int{}
	for _, d := range items {
		if _, ok := groupAt[d.Group]; !ok {
			groupAt[d.Group] = len(groupAt)
		}
	}
	conditional := func(d knowledge.DossierItem) bool {
		f := strings.TrimLeft(knowledge.Fold(d.Name), "-+*• ")
		return strings.HasPrefix(f, "truong hop") || strings.HasPrefix(f, "doi voi") || strings.Contains(f, "(neu co)")
	}
	out := append([]knowledge.DossierItem(nil), items...)
	sort.SliceStable(out, func(i, j int) bool {
		gi, gj := groupAt[out[i].Group], groupAt[out[j].Group]
		if gi != gj {
			return gi < gj
		}
		return !conditional(out[i]) && conditional(out[j])
	})
	return out
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

func fees(p *knowledge.Procedure) string {
	if len(p.Channels) == 0 {
		return "Lệ phí: chưa có thông tin trong dữ liệu."
	}
	var lines []string
	notes := map[string]bool{}
	for _, c := range p.Channels {
		var v string
		switch {
		case len(c.Fees) > 0:
			var parts []string
			for _, f := range c.Fees {
				part := FormatVND(f.Amount)
				if f.Label != "" && len(c.Fees) > 1 {
					part += " (" + clipRunes(f.Label, 80) + ")"
				}
				parts = append(parts, part)
			}
			v = strings.Join(parts, "; ")
		case c.Free:
			v = "miễn phí"
		default:
			v = "chưa có thông tin"
		}
		lines = append(lines, fmt.Sprintf("- %s: %s", channelNames[c.Kind], v))
		if n := reductionNote(c.Note); n != "" {
			notes[n] = true
		}
	}
	out := "Lệ phí:\n" + strings.Join(dedupe(lines), "\n")
	for n := range notes {
		out += "\nLưu ý: " + n
	}
	return out
}

// reductionNote picks the sentence of a fee note that states a reduction or exemption ("bằng 50% … đến hết
// ngày 31/12/2026"), as the record says it.
func reductionNote(note string) string {
	if note == "" {
		return ""
	}
	var best string
	for _, s := range splitSentences(note) {
		f := knowledge.Fold(s)
		if strings.Contains(s, "%") || strings.Contains(f, "giam") || strings.Contains(f, "mien") {
			if strings.Contains(f, "den het") || strings.Contains(f, "ke tu") || strings.Contains(s, "%") {
				best = s // the last such sentence is usually the one in force
			}
		}
	}
	return clipRunes(best, 260)
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

func times(p *knowledge.Procedure) string {
	var lines []string
	for _, c := range p.Channels {
		t := c.Time.Text
		switch {
		case c.Time.Value > 0 && c.Time.Unit != "":
			t = strings.TrimSuffix(strconv.FormatFloat(c.Time.Value, 'f', -1, 64), ".0") + " " + c.Time.Unit
		case c.Time.Value > 0:
			t = strconv.FormatFloat(c.Time.Value, 'f', -1, 64) + " (dữ liệu không ghi đơn vị)"
		case t == "":
			t = "chưa có thông tin"
		}
		lines = append(lines, fmt.Sprintf("- %s: %s", channelNames[c.Kind], t))
	}
	if len(lines) == 0 {
		return "Thời hạn giải quyết: chưa có thông tin trong dữ liệu."
	}
	return "Thời hạn giải quyết:\n" + strings.Join(dedupe(lines), "\n")
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

// Compose is the offline composer's answer for one procedure and the given intents (chat-sized).
func Compose(p *knowledge.Procedure, intents []Intent) string {
	return compose(p, intents, false, place{})
}
