package assistant

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/units"
)

// Where to go: the centre of the citizen's ward (reached from an old ward through the reform's mapping), the
// rule that commune-level dossiers are received at any commune centre, the city centre for province-level
// procedures, the police for police procedures, the online routes and the city's hotline. The section stays a
// few lines: it shares the 2,000-character answer with documents, fees and times.

// Facts of Thành phố Hồ Chí Minh the where-answer states (see data/README.md).
const (
	cityCentre   = "Trung tâm Phục vụ hành chính công TP.HCM (43 Nguyễn Văn Bá, phường Thủ Đức)"
	hcmcPortal   = "Cổng dịch vụ công TP.HCM"
	hotline      = "Tổng đài 1022 (TP.HCM)"
	hcmcProvince = "79"
	// anywhereRule is the city's rule since 1 July 2025 for dossiers of commune-level procedures.
	anywhereRule = "Hồ sơ cấp xã được nhận tại trung tâm của bất kỳ phường, xã nào ở TP.HCM, không phụ thuộc địa giới " +
		"hành chính."
	// briefRule is where and the rule in one line, for an answer that was not asked where.
	briefRule = "Nơi nộp: Trung tâm Phục vụ hành chính công của bất kỳ phường, xã nào ở TP.HCM (không phụ thuộc địa giới " +
		"hành chính)."
	askWard = "Cho tôi biết phường, xã của bạn (tên mới hoặc cũ) để biết địa chỉ trung tâm."
)

// vietnam is the time zone of the dates answers give (UTC+7, no daylight saving).
var vietnam = time.FixedZone("ICT", 7*3600)

// maxPlaceUnits is the most communes a where-answer names for one old ward split at the reform.
const maxPlaceUnits = 3

// place is where the citizen is, as far as the conversation tells: the current commune(s) and, when they named
// an old unit, that unit. The zero place knows nothing.
type place struct {
	old     string             // the old unit named, officially written ("Phường 4, Quận 3"); "" for a current name
	units   []units.Unit       // the current commune(s)
	centres []knowledge.Centre // units[i]'s centre (zero when the data has none)
}

func (p place) known() bool { return len(p.units) > 0 }

// placeOf finds the citizen's ward in text — a current commune, or an old commune mapped to the current one(s)
// — and remembers it in st; a message that names none falls back to the ward remembered. Mentions that are
// ambiguous ("phường 4" without its district) or too weak to be a place are left alone.
func (a *Assistant) placeOf(st *knowledge.DialogueState, text string) place {
	if a.Units == nil {
		return place{}
	}
	ms := a.Units.Find(text)
	for _, m := range ms {
		if m.Score < placeScore || m.Kind != units.MatchNew && m.Kind != units.MatchOld ||
			m.Ambiguous && !onlyCityUnit(ms, m) {
			continue
		}
		cur := m.Current()
		if len(cur) == 0 {
			continue
		}
		var pl place
		if m.Kind == units.MatchOld {
			pl.old = m.Old.Name
			if m.Old.District != "" && m.Old.District != m.Old.Name {
				pl.old += ", " + m.Old.District
			}
		}
		pl.units = cur[:min(len(cur), maxPlaceUnits)]
		codes := make([]string, len(pl.units))
		for i, u := range pl.units {
			codes[i] = u.Code
		}
		st.Ward = strings.Join(codes, " ")
		return a.withCentres(pl)
	}
	var pl place
	for _, code := range strings.Fields(st.Ward) {
		if u, ok := a.Units.Commune(code); ok && len(pl.units) < maxPlaceUnits {
			pl.units = append(pl.units, u)
		}
	}
	return a.withCentres(pl)
}

// onlyCityUnit reports whether m, one reading of an ambiguous mention, is the one current commune of Thành
// phố Hồ Chí Minh the mention can name ("phường Phú Lợi" is also a ward of Cần Thơ): the assistant serves the
// city, so a current name of its own is what the citizen means. "phường 4" alone stays ambiguous.
func onlyCityUnit(ms []units.Match, m units.Match) bool {
	if m.Kind != units.MatchNew || m.Unit.ProvinceCode != hcmcProvince {
		return false
	}
	for _, o := range ms {
		if o.Text == m.Text && o.Kind == units.MatchNew && o.Unit.ProvinceCode == hcmcProvince && o.Unit.Code != m.Unit.Code {
			return false
		}
	}
	return true
}

func (a *Assistant) withCentres(pl place) place {
	pl.centres = make([]knowledge.Centre, len(pl.units))
	if a.Centres == nil {
		return pl
	}
	for i, u := range pl.units {
		pl.centres[i], _ = a.Centres.ByCode(u.Code)
	}
	return pl
}

// police reports whether the police handle the procedure (its agency or its ministry).
func police(p *knowledge.Procedure) bool {
	if p.Ministry == "bo-cong-an" {
		return true
	}
	for _, ag := range p.Agencies {
		if strings.Contains(knowledge.Fold(ag), "cong an") {
			return true
		}
	}
	return false
}

// sectoralAgencies are (folded) agencies that receive their own dossiers, even where the catalog lists the
// procedure at commune level: the tax office, customs, social insurance, the treasury, courts, notaries and
// land registration offices. A ward's centre is not where a citizen files those.
var sectoralAgencies = []string{"thue", "hai quan", "bao hiem xa hoi", "kho bac", "toa an", "cong chung",
	"dang ky dat dai"}

// sectoral reports whether every agency the record names is a sectoral one (none is a people's committee or
// the police).
func sectoral(p *knowledge.Procedure) bool {
	n := 0
	for _, ag := range p.Agencies {
		f := " " + strings.Join(knowledge.Syllables(ag), " ") + " "
		if strings.TrimSpace(f) == "" || strings.TrimSpace(f) == "khong co thong tin" {
			continue
		}
		n++
		own := false
		for _, w := range sectoralAgencies {
			own = own || strings.Contains(f, " "+w+" ")
		}
		if !own {
			return false
		}
	}
	return n > 0
}

// employerRoute says how an employee files a social-insurance claim whose record routes it through the employer.
const employerRoute = "người lao động đang làm việc nộp hồ sơ cho đơn vị sử dụng lao động (nơi đang làm việc); " +
	"đơn vị lập danh sách và nộp cho cơ quan bảo hiểm xã hội."

// viaEmployer reports whether the record's steps have the worker file with the employer ("nộp cho đơn vị SDLĐ").
func viaEmployer(p *knowledge.Procedure) bool {
	for _, w := range []string{"nop cho don vi sdld", "nop cho don vi su dung lao dong", "nop cho nguoi su dung lao dong",
		"nop cho nguoi sdld"} {
		if recordMentions(p, w) {
			return true
		}
	}
	return false
}

// agencyOf is the record's agency (or its reception address when it names none), "" when the record has neither.
func agencyOf(p *knowledge.Procedure) string {
	var ags []string
	for _, ag := range p.Agencies {
		if f := knowledge.Fold(strings.TrimSpace(ag)); f != "" && f != "khong co thong tin" {
			ags = append(ags, strings.TrimSpace(ag))
		}
	}
	if len(ags) > 0 {
		return clipRunes(strings.Join(ags, "; "), 160)
	}
	if f := knowledge.Fold(p.Address); f != "" && f != "khong co thong tin" {
		return clipRunes(p.Address, 160)
	}
	return ""
}

// receptionAddress is the record's "địa chỉ tiếp nhận" when it is one plain line that the answer does not
// already give as the agency ("" otherwise): staff set it for their unit, and the portal's multi-line
// descriptions of another province's arrangements are left to the record.
func receptionAddress(p *knowledge.Procedure) string {
	addr := strings.TrimRight(strings.TrimSpace(p.Address), ". ")
	if addr == "" || strings.ContainsAny(addr, "\n\r") || utf8.RuneCountInString(addr) > 200 {
		return ""
	}
	if f := knowledge.Fold(addr); f == "khong co thong tin" || agencyOf(p) == clipRunes(p.Address, 160) {
		return ""
	}
	return addr
}

// where says where to file p for a citizen at the given place. brief leaves out the invitation to name the
// ward, the online route and the hotline (for an answer that was not asked where); withOnline adds the online
// route (leave it out when the answer has an online section of its own).
func where(p *knowledge.Procedure, at place, brief, withOnline bool) string {
	var lines []string
	agency := agencyOf(p)
	commune := p.HasLevel(knowledge.LevelCommune) && !sectoral(p)
	switch {
	case police(p):
		if agency == "" {
			agency = "cơ quan công an có thẩm quyền"
		}
		line := "Nơi nộp: " + strings.TrimRight(agency, ". ")
		if f := knowledge.Fold(agency); strings.Contains(f, "cong an tinh") || strings.Contains(f, "cong an cap tinh") {
			line += " (tại TP.HCM: Công an Thành phố Hồ Chí Minh)"
		}
		lines = append(lines, line+".")
		if commune && at.known() {
			lines = append(lines, policeOf(at))
		}
	case sectoral(p):
		if viaEmployer(p) {
			lines = append(lines, "Nơi nộp: "+employerRoute, "Cơ quan giải quyết: "+strings.TrimRight(agency, ". ")+".")
		} else {
			lines = append(lines, "Nơi nộp: "+strings.TrimRight(agency, ". ")+".")
		}
	case commune && brief:
		lines = append(lines, briefRule)
		if m := mapped(at); m != "" {
			lines = append(lines, strings.TrimSpace(m))
		}
		lines = append(lines, centreLines(at)...)
	case commune:
		line := "Nơi nộp: Trung tâm Phục vụ hành chính công cấp xã (phường, xã, đặc khu)"
		if agency != "" {
			line += "; cơ quan giải quyết: " + strings.TrimRight(agency, ". ")
		}
		lines = append(lines, line+".")
		if at.known() {
			if m := mapped(at); m != "" {
				lines = append(lines, strings.TrimSpace(m))
			}
			lines = append(lines, centreLines(at)...)
		}
		lines = append(lines, anywhereRule)
		if !at.known() {
			lines = append(lines, askWard)
		}
	case p.HasLevel(knowledge.LevelProvince):
		if agency == "" {
			agency = "sở, ngành phụ trách"
		}
		lines = append(lines, "Nơi nộp: "+strings.TrimRight(agency, ". ")+".",
			"Tại TP.HCM: "+cityCentre+" hoặc trực tiếp tại cơ quan trên.")
	default:
		if agency == "" {
			agency = "cơ quan có thẩm quyền (xem tại đường dẫn bên dưới)"
		}
		lines = append(lines, "Nơi nộp: "+strings.TrimRight(agency, ". ")+".")
	}
	if addr := receptionAddress(p); addr != "" && len(lines) > 0 {
		lines = append(lines[:1], append([]string{"Địa chỉ tiếp nhận: " + addr + "."}, lines[1:]...)...)
	}
	if (police(p) || !commune) && recordMentions(p, "khong phu thuoc") {
		lines = append(lines, "Hồ sơ được tiếp nhận không phụ thuộc nơi cư trú.")
	}
	if brief {
		return strings.Join(lines, "\n")
	}
	help := "Hỗ trợ: " + hotline + "."
	if route := onlineRoute(p); withOnline && route != "" {
		help = "Trực tuyến: " + route + ". " + help
	}
	return strings.Join(append(lines, help), "\n")
}

// onlineRoute names where p can be filed online ("" when the record has no online channel): VNeID first for
// the police, the national portal, and the city's portal for the others.
func onlineRoute(p *knowledge.Procedure) string {
	_, online := p.Channel(knowledge.ChannelOnline)
	switch {
	case police(p) && (online || recordMentions(p, "vneid")):
		return "ứng dụng VNeID hoặc Cổng Dịch vụ công quốc gia (dichvucong.gov.vn)"
	case online:
		return "Cổng Dịch vụ công quốc gia (dichvucong.gov.vn) hoặc " + hcmcPortal
	}
	return ""
}

// mapped says which current commune(s) an old unit became: "Phường 4, Quận 3 (cũ) nay thuộc Phường Bàn Cờ,
// Phường Xuân Hòa." ("" for a current name).
func mapped(at place) string {
	if at.old == "" {
		return ""
	}
	names := make([]string, len(at.units))
	for i, u := range at.units {
		names[i] = u.Name
	}
	return at.old + " (cũ) nay thuộc " + strings.Join(names, ", ") + ". "
}

// centreLines name the centre of each commune of the place with its address, phone, opening hours and how far
// the address was checked: the day staff corrected it, or a note when it is not of a high confidence.
func centreLines(at place) []string {
	var out []string
	for i, u := range at.units {
		c := at.centres[i]
		if c.Address == "" {
			where := ""
			if u.ProvinceCode != hcmcProvince {
				where = " (dữ liệu địa chỉ hiện chỉ có cho TP.HCM)"
			}
			out = append(out, fmt.Sprintf("- %s: chưa có địa chỉ trung tâm trong dữ liệu%s.", u.Name, where))
			continue
		}
		line := fmt.Sprintf("- %s: %s", c.Name, c.Address)
		if c.Phone != "" {
			line += ", ĐT " + c.Phone
		}
		if h := strings.TrimRight(c.Hours, ". "); h != "" {
			line += "; giờ làm việc: " + h
		}
		out = append(out, line+confidenceNote(c)+".")
	}
	return out
}

// confidenceNote tells the citizen how far an address was checked: the day staff corrected it, or a note when
// it was not checked to a high confidence.
func confidenceNote(c knowledge.Centre) string {
	switch {
	case !c.Checked.IsZero():
		return " (cán bộ cập nhật ngày " + c.Checked.In(vietnam).Format("02/01/2006") + ")"
	case c.Confidence == knowledge.ConfidenceLow:
		return " (địa chỉ chưa được xác minh, nên gọi " + hotline + " để xác nhận trước khi đến)"
	case c.Confidence == knowledge.ConfidenceHigh:
		return ""
	case c.Conflict:
		return " (địa chỉ theo Thông báo 243/TB-UBND; có nguồn ghi khác, nên gọi " + hotline + " để xác nhận)"
	}
	return " (địa chỉ theo Thông báo 243/TB-UBND, chưa được xác minh thêm)"
}

// policeOf names the commune police of the place: "Công an phường Bàn Cờ".
func policeOf(at place) string {
	names := make([]string, len(at.units))
	for i, u := range at.units {
		names[i] = "Công an " + lowerType(u)
	}
	return mapped(at) + "Công an cấp xã nơi bạn ở: " + strings.Join(names, " hoặc ") + "."
}

// lowerType writes a commune's name with its type word in lower case, as in running text: "phường Bàn Cờ".
func lowerType(u units.Unit) string {
	if u.Type != "" && strings.HasPrefix(u.Name, u.Type+" ") {
		return strings.ToLower(u.Type) + u.Name[len(u.Type):]
	}
	return u.Name
}

// onlineFirst is online for the first answer: the steps, when asked, whole and all of them (stepsWhole), or
// left to the full answer in one line — never a step cut mid-sentence nor a list cut short.
//
// With some (> 0), only that many steps are listed, whole: those that speak of the case the citizen said
// (casesteps), else the first ones, under a title that says the rest is in the full answer.
func onlineFirst(p *knowledge.Procedure, withSteps, stepsWhole bool, said string, some int) string {
	out := online(p, false)
	if _, ok := p.Channel(knowledge.ChannelOnline); ok {
		// One line: where, and that the VNeID account is the login; the portal guides the rest.
		url := knowledge.SafeURL(p.URL)
		if url == "" {
			url = PortalURL
		}
		portals := Link("Cổng Dịch vụ công quốc gia", url) + " hoặc " + hcmcPortal
		if police(p) {
			portals = "ứng dụng VNeID hoặc " + Link("Cổng Dịch vụ công quốc gia", url)
		}
		out = "Nộp trực tuyến: có, trên " + portals + " (đăng nhập bằng tài khoản định danh điện tử VNeID).\n"
	}
	if !withSteps || len(p.Steps) == 0 {
		return out
	}
	if some > 0 {
		idx, mine := caseSteps(p, said)
		title := "Các bước đầu"
		if mine {
			title = "Các bước cho trường hợp của bạn"
		}
		var b strings.Builder
		b.WriteString(out)
		fmt.Fprintf(&b, "%s (các bước khác: bấm «%s»):\n", title, MoreReply)
		idx = idx[:min(some, len(idx))]
		for len(idx) > 1 && strings.HasSuffix(strings.TrimSpace(p.Steps[idx[len(idx)-1]]), ":") {
			idx = idx[:len(idx)-1] // a step that introduces a list is not left without it
		}
		for _, i := range idx {
			fmt.Fprintf(&b, "%d. %s\n", i+1, strings.TrimSpace(strings.TrimLeft(p.Steps[i], "-+* ")))
		}
		return b.String()
	}
	if !stepsWhole {
		return out + "Các bước thực hiện: bấm «" + MoreReply + "».\n"
	}
	var b strings.Builder
	b.WriteString(out)
	b.WriteString("Các bước:\n")
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "%d. %s\n", i+1, strings.TrimSpace(strings.TrimLeft(s, "-+* ")))
	}
	return b.String()
}

func online(p *knowledge.Procedure, withSteps bool) string {
	var b strings.Builder
	if _, ok := p.Channel(knowledge.ChannelOnline); ok {
		url := knowledge.SafeURL(p.URL)
		if url == "" { // none, or one knowledge.CheckURL refuses: the portal itself
			url = PortalURL
		}
		portals := Link("Cổng Dịch vụ công quốc gia", url) + " hoặc " + hcmcPortal
		if police(p) {
			portals = "ứng dụng VNeID hoặc " + Link("Cổng Dịch vụ công quốc gia", url)
		}
		fmt.Fprintf(&b, "Nộp trực tuyến: có, trên %s: đăng nhập bằng tài khoản định danh điện tử VNeID, chọn thủ tục, khai thông tin, đính kèm giấy tờ và nộp phí (nếu có).\n", portals)
	} else {
		b.WriteString("Nộp trực tuyến: dữ liệu không ghi nhận hình thức trực tuyến cho thủ tục này; nộp trực tiếp hoặc qua bưu chính.\n")
	}
	if withSteps && len(p.Steps) > 0 {
		b.WriteString("Các bước:\n")
		for i, s := range p.Steps {
			if i == 4 {
				b.WriteString("…\n")
				break
			}
			fmt.Fprintf(&b, "%d. %s\n", i+1, clipRunes(strings.TrimLeft(s, "-+* "), 240))
		}
	}
	return b.String()
}

// caseSteps are the steps a first answer lists when not all fit: those that speak of the case the citizen said
// ("đang hưởng lương hưu" → "Trường hợp người đang hưởng … lương hưu … chết: Thân nhân nộp hồ sơ …"; mine),
// else the first ones; only steps short enough to be listed whole.
func caseSteps(p *knowledge.Procedure, said string) (idx []int, mine bool) {
	const most = 400
	if said != "" && len(p.Steps) > 1 {
		folded := knowledge.Fold(said) == strings.ToLower(said)
		inQ := map[string]bool{}
		q := caseWords(said, folded)
		for _, t := range append(q, knowledge.Bigrams(q)...) {
			inQ[t] = true
		}
		inName := map[string]bool{}
		for _, t := range caseWords(nameHead(p.Name), folded) {
			inName[t] = true
		}
		words := make([][]string, len(p.Steps))
		common := map[string]int{}
		for i, s := range p.Steps {
			words[i] = caseWords(s, folded)
			once := map[string]bool{}
			for _, t := range words[i] {
				if !once[t] {
					once[t] = true
					common[t]++
				}
			}
		}
		rare := func(t string) bool {
			return inQ[t] && !caseStop[knowledge.Fold(t)] && !inName[t] && len([]rune(t)) >= 2 && common[t]*2 <= len(p.Steps)
		}
		best, paired := 0, false
		scores := make([]int, len(p.Steps))
		for i := range p.Steps {
			counted := map[string]bool{}
			pair := false
			for j, t := range words[i] {
				if rare(t) && !counted[t] {
					counted[t] = true
					scores[i]++
				}
				// A pair of words said together ("hộ gia đình", "lương hưu"), one of them rare.
				if j+1 < len(words[i]) {
					if b := t + "_" + words[i][j+1]; inQ[b] && !counted[b] && (rare(t) || rare(words[i][j+1])) {
						counted[b], pair = true, true
						scores[i]++
					}
				}
			}
			if scores[i] > best || scores[i] == best && pair {
				best, paired = scores[i], pair
			}
		}
		if best >= 3 || best == 2 && paired {
			for i, sc := range scores {
				if sc < max(2, best-1) || utf8.RuneCountInString(p.Steps[i]) > most || slices.Contains(idx, i) {
					continue
				}
				idx = append(idx, i)
				// A case that introduces its steps ("d) Người tham gia BHYT theo hộ gia đình:") brings them,
				// up to the next labelled case.
				for j := i + 1; strings.HasSuffix(strings.TrimSpace(p.Steps[i]), ":") && j < len(p.Steps) && j <= i+3; j++ {
					if groupNumber.MatchString(p.Steps[j]) || strings.HasPrefix(knowledge.Fold(p.Steps[j]), "buoc") ||
						utf8.RuneCountInString(p.Steps[j]) > most {
						break
					}
					idx = append(idx, j)
				}
			}
			if len(idx) > 0 {
				return idx, true
			}
		}
	}
	for i, s := range p.Steps {
		if utf8.RuneCountInString(s) > most {
			break
		}
		idx = append(idx, i)
	}
	return idx, false
}
