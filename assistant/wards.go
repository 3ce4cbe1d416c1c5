package assistant

// Questions about the 2025 reform of administrative units ("Phường 4 Quận 3 cũ giờ thuộc phường nào?"): telling
// them from questions that merely name a place, and answering them from the units gazetteer.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/units"
)

// unitQuestionCues are phrases (folded) that mark a question about the 2025 reform of administrative units.
var unitQuestionCues = []string{
	"sap nhap", "phuong nao", "xa nao", "phuong gi", "xa gi", "phuong moi", "xa moi", "ten moi", "gio la",
	"bay gio la", "gio thuoc", "nay thuoc", "thuoc phuong", "thuoc xa", "doi ten", "truoc day", "cu",
	"hien nay la", "dia chi moi", "don vi hanh chinh", "sau sap xep", "bay gio", "hien nay", "hien tai", "thanh phuong",
	"thanh xa", "doi thanh",
}

// asksAboutUnits reports whether text is a question about the unit reform ("Phường 4 Quận 3 cũ giờ thuộc
// phường nào?") rather than about a procedure that merely names a place, and returns the unit mentions.
func asksAboutUnits(g *units.Gazetteer, text string) ([]units.Match, bool) {
	ms := g.Find(text)
	if len(ms) == 0 || ms[0].Score < 0.5 {
		return nil, false
	}
	cues := unitQuestionCues
	if ms[0].Score < 0.6 {
		// A bare name ("Thủ Đức", without "phường" or "quận") is a unit only when the question is plainly
		// about the reform.
		cues = strongUnitQuestionCues
	}
	return ms, saysAny(text, cues)
}

// saysAny reports whether text (folded) contains one of the folded phrases cues as whole syllables.
func saysAny(text string, cues []string) bool {
	f := " " + strings.Join(knowledge.Syllables(text), " ") + " "
	for _, c := range cues {
		if strings.Contains(f, " "+c+" ") {
			return true
		}
	}
	return false
}

// maxUnitQuestionWords is the most content words, besides places and the words of a unit question, that a
// message asking about the reform may carry: "phường 9 phú nhuận sau sáp nhập làm căn cước ở đâu" may be
// either, a story that mentions "quận 12 cũ" and "bây giờ" among forty other words asks about something
// else, and the place in it is context for the procedure answer.
const maxUnitQuestionWords = 6

// strongUnitQuestionCues are the cues that ask about the reform whatever else the message says.
var strongUnitQuestionCues = []string{"sap nhap", "phuong nao", "xa nao", "phuong gi", "xa gi", "gio la", "bay gio la",
	"nay thuoc", "gio thuoc", "ten moi", "sau sap xep", "doi ten"}

// withoutUnitCues returns folded syllables without the phrases that mark a question about the unit reform
// ("giờ là", "phường nào", "cũ"): what is left says whether the message also asks about something else.
func withoutUnitCues(folded []string) []string {
	out := make([]string, 0, len(folded))
	for i := 0; i < len(folded); {
		n := 0
		for _, c := range unitQuestionCues {
			cs := strings.Fields(c)
			if len(cs) > n && i+len(cs) <= len(folded) && slices.Equal(folded[i:i+len(cs)], cs) {
				n = len(cs)
			}
		}
		if n == 0 {
			out = append(out, folded[i])
			n = 1
		}
		i += n
	}
	return out
}

// DescribeUnits answers, in Vietnamese, what the units g finds in text are now (old → new, partial splits
// listed) or were formed from (new → predecessors). It says plainly when it finds no unit and asks for the
// district when an old name is ambiguous.
func DescribeUnits(g *units.Gazetteer, text string) string { return describeUnits(g.Find(text)) }

// describeUnits is DescribeUnits for mentions already found (by Find or asksAboutUnits).
func describeUnits(ms []units.Match) string {
	if len(ms) == 0 {
		return "Tôi chưa nhận ra tên phường, xã trong câu hỏi. Bạn vui lòng ghi rõ tên phường/xã và quận/huyện cũ, " +
			"ví dụ: \"Phường 4, Quận 3\"."
	}
	var b strings.Builder
	if ms[0].Ambiguous {
		cands, district := ambiguousCandidates(ms)
		name := ms[0].Text
		if ms[0].Kind == units.MatchOld {
			name = ms[0].Old.Name
		}
		if district.Kind == units.MatchOldDistrict {
			fmt.Fprintf(&b, "Theo danh mục đơn vị hành chính trước ngày 01/7/2025, %s (cũ) không có %s — có thể đơn vị "+
				"này đã được sáp nhập hoặc đổi tên trước đó, hoặc tên chưa đúng.\n", district.Old.Name, name)
			describeMatch(&b, district)
			fmt.Fprintf(&b, "%s ở các quận, huyện khác:\n", name)
		} else {
			fmt.Fprintf(&b, "Có nhiều đơn vị tên \"%s\". Bạn vui lòng cho biết quận/huyện cũ. Một số khả năng:\n", name)
		}
		for _, m := range cands {
			b.WriteString("- ")
			describeMatch(&b, m)
		}
		return strings.TrimSpace(b.String())
	}
	seen := map[string]bool{}
	for _, m := range ms {
		key := string(m.Kind) + m.Text
		if seen[key] {
			continue
		}
		seen[key] = true
		describeMatch(&b, m)
	}
	b.WriteString("Từ ngày 01/7/2025 hồ sơ thủ tục cấp xã được tiếp nhận không phụ thuộc nơi cư trú.")
	return strings.TrimSpace(b.String())
}

// maxAmbiguous is how many same-named old units an answer lists.
const maxAmbiguous = 5

// ambiguousCandidates are the same-named old units of an ambiguous mention to offer (at most maxAmbiguous, in
// the order Find ranked them), and the old district the text also names when none of them is in it (a
// zero Match otherwise): "Phường 7 Quận 3" names a ward Quận 3 did not have at the reform.
func ambiguousCandidates(ms []units.Match) ([]units.Match, units.Match) {
	var cands []units.Match
	var district units.Match
	for _, m := range ms {
		switch {
		case m.Kind == units.MatchOldDistrict && ms[0].Kind == units.MatchOld && district.Kind == "":
			district = m
		case len(cands) < maxAmbiguous:
			cands = append(cands, m)
		}
	}
	if district.Kind != "" {
		for _, m := range cands {
			if m.Kind == units.MatchOld && m.Old.District == district.Old.Name {
				return cands, units.Match{}
			}
		}
	}
	return cands, district
}

// oldUnitLabel is the name of an old unit with its district ("Phường 7, Quận 5"), as a citizen would type it.
func oldUnitLabel(o units.OldUnit) string {
	if o.District != "" && o.District != o.Name {
		return o.Name + ", " + o.District
	}
	return o.Name
}

func describeMatch(b *strings.Builder, m units.Match) {
	switch m.Kind {
	case units.MatchOld, units.MatchOldDistrict:
		name := m.Old.Name
		if m.Old.District != "" && m.Old.District != m.Old.Name {
			name += ", " + m.Old.District
		}
		cur := m.Current()
		if len(cur) == 0 {
			fmt.Fprintf(b, "%s (cũ): chưa có dữ liệu đơn vị mới.\n", name)
			return
		}
		names := make([]string, 0, len(cur))
		for _, c := range cur {
			names = append(names, c.Name)
		}
		partial := false
		for _, mp := range m.Mappings {
			partial = partial || mp.Partial
		}
		if partial || len(cur) > 1 {
			fmt.Fprintf(b, "%s (cũ) nay được chia về %s (%s); tùy địa chỉ cụ thể mà thuộc đơn vị nào.\n",
				name, joinAnd(names), cur[0].Province)
			return
		}
		fmt.Fprintf(b, "%s (cũ) nay thuộc %s, %s.\n", name, names[0], cur[0].Province)
	case units.MatchNew:
		olds := make([]string, 0, len(m.Mappings))
		for _, mp := range m.Mappings {
			o := mp.Old.Name
			if mp.Old.District != "" && mp.Old.District != mp.Old.Name {
				o += " (" + mp.Old.District + ")"
			}
			if mp.Partial {
				o += " – một phần"
			}
			olds = append(olds, o)
		}
		fmt.Fprintf(b, "%s (%s) là đơn vị mới từ 01/7/2025, được hình thành từ: %s.\n",
			m.Unit.Name, m.Unit.Province, strings.Join(olds, "; "))
	case units.MatchOldProvince:
		fmt.Fprintf(b, "%s (cũ) nay thuộc %s.\n", m.Old.Province, m.Province.Name)
	case units.MatchProvince:
		fmt.Fprintf(b, "%s là một trong 34 tỉnh, thành phố sau sắp xếp.\n", m.Province.Name)
	}
}

// joinAnd lists names the Vietnamese way: "A, B và C".
func joinAnd(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " và " + names[len(names)-1]
}
