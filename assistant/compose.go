package assistant

import (
	"fmt"
	"strconv"
	"strings"
	"time"
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
		{asked[IntentFee], func() string { return fees(p, clock()) }},
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
		dossier := dossierToShow(p)
		for n := items; n >= 1; n-- {
			d := listDocuments(dossier, n)
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
