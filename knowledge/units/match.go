package units

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// span is a name found in the text: an optional unit word toks[start:name], then the name toks[name:end].
type span struct {
	start, name, end int
	mk               *marker
	refs             []ref
}

// candidate is one reading of a span.
type candidate struct {
	ref      ref
	score    float64
	from, to int // tokens covered, with the context that agreed
	district bool
	province bool
	answer   string // the current units it leads to, for the ambiguity test
}

// Scores (see Match).
const (
	scoreCommune     = 0.5
	scoreDistrict    = 0.45
	scoreProvince    = 0.5
	scoreMarker      = 0.2  // the unit word is the unit's type
	scoreMarkerLevel = 0.1  // a unit word of the same level ("xã" for a thị trấn)
	scoreInDistrict  = 0.15 // the district named next to it is its district
	scoreInProvince  = 0.1
	scoreNewDistrict = 0.05 // a current commune next to an old district it took wards from
	scoreAccent      = 0.02 // typed with the same diacritics
	scoreAccentWrong = -0.1 // typed with other diacritics (Find drops the reading unless its district agrees)
	scoreHCMC        = 0.03 // preference for Thành phố Hồ Chí Minh
	scoreHCMCOld     = 0.01 // … and for the old city rather than Bình Dương or Bà Rịa - Vũng Tàu
	scoreIsNew       = 0.02 // a current name over an old one of the same name
	ambiguityMargin  = 0.1
	keepMargin       = 0.2
)

const hcmcCode = "79"

// everyday are two-syllable names that are also everyday words ("gia đình" folds to Gia Định): without a unit
// word or a district next to them they are not taken as names in a sentence.
var everyday = map[string]bool{"gia dinh": true, "ban co": true, "dat do": true, "thanh cong": true, "hoa binh": true,
	"binh an": true, "an lac": true, "doc lap": true, "thong nhat": true, "dan chu": true, "tan tien": true,
	"tien bo": true, "an ninh": true}

// find returns the readings of each mention in text, best mention first. lenient is Lookup's mode: the text
// is a name, so bare names of one syllable and names typed with other diacritics are kept.
func (g *Gazetteer) find(text string, lenient bool) [][]Match {
	norm := knowledge.Normalize(text)
	toks := tokenizeNorm(norm)
	if len(toks) == 0 {
		return nil
	}
	accented := slices.ContainsFunc(toks, func(t token) bool { return t.accented })
	spans := g.scan(toks, lenient, accented)
	if len(spans) == 0 {
		return nil
	}
	startAt := make(map[int][]int, len(spans))
	endAt := make(map[int][]int, len(spans))
	for i, s := range spans {
		startAt[s.start] = append(startAt[s.start], i)
		endAt[s.end] = append(endAt[s.end], i)
	}
	type mention struct {
		cands    []candidate
		best     float64
		from, to int
	}
	all := make([]mention, 0, len(spans))
	for i := range spans {
		cs := g.readings(toks, spans, i, startAt, endAt, lenient, accented)
		if len(cs) == 0 {
			continue
		}
		slices.SortStableFunc(cs, func(a, b candidate) int { return cmp.Compare(b.score, a.score) })
		all = append(all, mention{cands: cs, best: cs[0].score, from: cs[0].from, to: cs[0].to})
	}
	// Keep the best non-overlapping mentions.
	slices.SortStableFunc(all, func(a, b mention) int {
		if c := cmp.Compare(b.best, a.best); c != 0 {
			return c
		}
		if c := cmp.Compare(b.to-b.from, a.to-a.from); c != 0 {
			return c
		}
		return cmp.Compare(a.from, b.from)
	})
	var taken []mention
	for _, s := range all {
		if !slices.ContainsFunc(taken, func(t mention) bool { return s.from < t.to && t.from < s.to }) {
			taken = append(taken, s)
		}
	}
	out := make([][]Match, 0, len(taken))
	for _, s := range taken {
		var keep []candidate
		answers := map[string]bool{}
		for _, c := range s.cands {
			if c.score < s.best-keepMargin {
				break
			}
			keep = append(keep, c)
			if c.score >= s.best-ambiguityMargin {
				answers[c.answer] = true
			}
		}
		slices.SortStableFunc(keep, func(a, b candidate) int {
			if c := cmp.Compare(b.score, a.score); c != 0 {
				return c
			}
			return naturalCompare(g.sortName(a.ref), g.sortName(b.ref))
		})
		group := make([]Match, 0, len(keep))
		for _, c := range keep {
			m := g.match(c)
			m.Text = strings.TrimSpace(norm[toks[c.from].from:toks[c.to-1].to])
			m.Ambiguous = len(answers) > 1
			group = append(group, m)
		}
		out = append(out, group)
	}
	return out
}

// scan finds every name in the text, with or without a unit word before it.
func (g *Gazetteer) scan(toks []token, lenient, accented bool) []span {
	var spans []span
	key := make([]byte, 0, 64)
	type start struct {
		at int
		mk *marker
	}
	starts := make([]start, 0, 4)
	for i := range toks {
		starts = append(starts[:0], start{i, nil})
		// "cấp xã", "cấp huyện" name a level, not a unit.
		if i == 0 || toks[i-1].fold != "cap" {
			for k := range markers {
				mk := &markers[k]
				if i+len(mk.toks) >= len(toks) || !markerAt(toks, i, mk) {
					continue
				}
				// "xa hoi" without diacritics is "xã hội" (society) far more often than a xã named Hội….
				if mk.toks[0] == "xa" && toks[i+1].fold == "hoi" && !accented {
					continue
				}
				starts = append(starts, start{i + len(mk.toks), mk})
			}
		}
		for _, st := range starts {
			key = key[:0]
			for n := 1; n <= g.maxKey && st.at+n <= len(toks); n++ {
				if n > 1 {
					key = append(key, ' ')
				}
				key = append(key, toks[st.at+n-1].fold...)
				refs, ok := g.index[string(key)]
				if !ok {
					continue
				}
				if n == 1 {
					f := toks[st.at].fold
					switch {
					case st.mk != nil && stopWords[f]:
						continue
					case st.mk == nil && allDigits(f):
						continue // "4" is a name only after "phường", "quận"…
					case st.mk == nil && lenient && len(toks) > 1:
						continue // a bare one-syllable name only when it is the whole query
					}
				}
				if st.mk != nil {
					refs = refsAtLevel(refs, st.mk.level)
					if len(refs) == 0 {
						continue
					}
				}
				spans = append(spans, span{start: i, name: st.at, end: st.at + n, mk: st.mk, refs: refs})
			}
		}
	}
	return spans
}

func markerAt(toks []token, i int, mk *marker) bool {
	for j, t := range mk.toks {
		if toks[i+j].fold != t {
			return false
		}
	}
	return true
}

func refsAtLevel(refs []ref, l levelSet) []ref {
	var out []ref
	for _, r := range refs {
		if refLevel(r.kind)&l != 0 {
			out = append(out, r)
		}
	}
	return out
}

func refLevel(k refKind) levelSet {
	switch k {
	case refOld, refCommune:
		return levCommune
	case refDistrict:
		return levDistrict
	}
	return levProvince
}

// readings scores every reading of span si, using the districts and provinces named next to it.
func (g *Gazetteer) readings(toks []token, spans []span, si int, startAt, endAt map[int][]int, lenient, accented bool) []candidate {
	s := spans[si]
	rd := reader{g: g, spans: spans, s: s, ctx: contextOf(toks, spans, si, startAt, endAt), typed: toks[s.name:s.end],
		accented: accented}
	var cs []candidate
	for _, r := range s.refs {
		c, raw := rd.score(r)
		if r.variant {
			raw = ""
		}
		switch rd.accent(raw) {
		case 1:
			c.score += scoreAccent
		case -1:
			if !lenient && !c.district && !c.province {
				continue // "xã hội thường xuyên" is not Phường Hội Thương
			}
			c.score += scoreAccentWrong
		}
		// A bare name in a sentence needs support: context, three syllables or being in Thành phố Hồ Chí Minh,
		// and not being an everyday word.
		if !lenient && s.mk == nil && c.from == s.start && c.to == s.end {
			if s.end-s.name < 3 && !g.inHCMC(r) {
				continue
			}
			if k, _ := joinToks(rd.typed); everyday[k] {
				continue
			}
		}
		cs = append(cs, c)
	}
	// When the district (or province) named next to it decides, drop the readings it rules out.
	if slices.ContainsFunc(cs, func(c candidate) bool { return c.district }) {
		cs = slices.DeleteFunc(cs, func(c candidate) bool { return !c.district })
	}
	if slices.ContainsFunc(cs, func(c candidate) bool { return c.province }) {
		cs = slices.DeleteFunc(cs, func(c candidate) bool { return !c.province })
	}
	return cs
}

// contextOf returns the spans that may tell where span si is: up to two district/province names after it, one
// (with a unit word) before it.
func contextOf(toks []token, spans []span, si int, startAt, endAt map[int][]int) []int {
	s := spans[si]
	var ctx []int
	isCtx := func(j int) bool {
		c := spans[j]
		if c.mk == nil && c.end-c.name == 1 && allDigits(toks[c.name].fold) {
			return false
		}
		for _, r := range c.refs {
			if refLevel(r.kind)&(levDistrict|levProvince) != 0 {
				return true
			}
		}
		return false
	}
	after := func(pos int) []int {
		for pos < len(toks) && fillers[toks[pos].fold] {
			pos++
		}
		var out []int
		for _, j := range startAt[pos] {
			if isCtx(j) {
				out = append(out, j)
			}
		}
		return out
	}
	for _, j := range after(s.end) {
		ctx = append(ctx, j)
		ctx = append(ctx, after(spans[j].end)...)
	}
	pos := s.start
	for pos > 0 && fillers[toks[pos-1].fold] {
		pos--
	}
	for _, j := range endAt[pos] {
		if spans[j].mk != nil && isCtx(j) {
			ctx = append(ctx, j)
		}
	}
	return ctx
}

// reader scores the readings of one span.
type reader struct {
	g        *Gazetteer
	spans    []span
	s        span
	ctx      []int   // the spans next to s that name a district or province (contextOf)
	typed    []token // the name as typed
	accented bool    // the text carries diacritics
}

// accent compares the name as typed with the unit's name: 1 same diacritics, -1 other diacritics ("gia
// đình" is not Gia Định), 0 when the text is typed without diacritics.
func (rd *reader) accent(raw string) int {
	if !rd.accented || raw == "" {
		return 0
	}
	i := 0
	for w := range strings.FieldsSeq(raw) {
		if i >= len(rd.typed) {
			return 0
		}
		if rd.typed[i].raw != w && !allDigits(rd.typed[i].fold) {
			return -1
		}
		i++
	}
	if i != len(rd.typed) {
		return 0
	}
	return 1
}

// markerScore rewards the unit word before the name when it is the unit's type or of its level.
func (rd *reader) markerScore(typ string, l levelSet) float64 {
	switch {
	case rd.s.mk == nil:
		return 0
	case rd.s.mk.typ == typ:
		return scoreMarker
	case rd.s.mk.level&l != 0:
		return scoreMarkerLevel
	}
	return 0
}

// ctxMatch finds a context span with a ref satisfying ok and widens [from, to) to it.
func (rd *reader) ctxMatch(c *candidate, ok func(ref) bool) bool {
	for _, j := range rd.ctx {
		for _, r := range rd.spans[j].refs {
			if ok(r) {
				c.from = min(c.from, rd.spans[j].start)
				c.to = max(c.to, rd.spans[j].end)
				return true
			}
		}
	}
	return false
}

func hcmc(code string) float64 {
	if code == hcmcCode {
		return scoreHCMC
	}
	return 0
}

// score scores the reading r of the span before its diacritics are compared, and returns the unit's name
// (lowercase with diacritics) to compare them with.
func (rd *reader) score(r ref) (c candidate, raw string) {
	g := rd.g
	c = candidate{ref: r, from: rd.s.start, to: rd.s.end}
	switch r.kind {
	case refOld:
		return rd.scoreOld(c, &g.olds[r.id]), g.olds[r.id].raw
	case refCommune:
		return rd.scoreCommune(c, g.communes[r.id]), g.comRaw[r.id]
	case refDistrict:
		return rd.scoreDistrict(c, &g.districts[r.id]), g.districts[r.id].raw
	case refOldProvince:
		p := &g.oldProvs[r.id]
		c.score = scoreProvince + rd.markerScore(p.typ, levProvince) + hcmc(g.provinces[p.current].Code)
		c.answer = "p:" + g.provinces[p.current].Code
		return c, p.raw
	case refProvince:
		p := g.provinces[r.id]
		c.score = scoreProvince + rd.markerScore(p.Type, levProvince) + hcmc(p.Code) + scoreIsNew
		c.answer = "p:" + p.Code
		return c, g.provRaw[r.id]
	}
	return c, ""
}

// scoreOld scores an old commune, with its old district or province (or the current province) next to it.
func (rd *reader) scoreOld(c candidate, o *oldCommune) candidate {
	g := rd.g
	m := g.mappings[o.rows[0]]
	c.score = scoreCommune + rd.markerScore(m.Old.Type, levCommune) + hcmc(o.newProv)
	if m.Old.ProvinceCode == hcmcCode {
		c.score += scoreHCMCOld
	}
	if o.district >= 0 && rd.ctxMatch(&c, func(x ref) bool { return x.kind == refDistrict && x.id == o.district }) {
		c.district = true
		c.score += scoreInDistrict
	}
	if rd.ctxMatch(&c, func(x ref) bool {
		return x.kind == refOldProvince && x.id == o.province ||
			x.kind == refProvince && g.provinces[x.id].Code == o.newProv
	}) {
		c.province = true
		c.score += scoreInProvince
	}
	c.answer = g.answer(o.rows)
	return c
}

// scoreCommune scores a current commune, with an old district it took wards from or its province (current or
// old) next to it.
func (rd *reader) scoreCommune(c candidate, cm Unit) candidate {
	g := rd.g
	c.score = scoreCommune + rd.markerScore(cm.Type, levCommune) + hcmc(cm.ProvinceCode) + scoreIsNew
	if rd.ctxMatch(&c, func(x ref) bool {
		if x.kind != refDistrict {
			return false
		}
		for _, row := range g.districts[x.id].rows {
			if g.mappings[row].New.Code == cm.Code {
				return true
			}
		}
		return false
	}) {
		c.district = true
		c.score += scoreNewDistrict
	}
	if rd.ctxMatch(&c, func(x ref) bool {
		return x.kind == refProvince && g.provinces[x.id].Code == cm.ProvinceCode ||
			x.kind == refOldProvince && g.provinces[g.oldProvs[x.id].current].Code == cm.ProvinceCode
	}) {
		c.province = true
		c.score += scoreInProvince
	}
	c.answer = cm.Code
	return c
}

// scoreDistrict scores an old district, with its old province (or the current one) next to it.
func (rd *reader) scoreDistrict(c candidate, d *oldDistrict) candidate {
	g := rd.g
	c.score = scoreDistrict + rd.markerScore(d.typ, levDistrict) + hcmc(d.newProv)
	if g.oldProvs[d.province].code == hcmcCode {
		c.score += scoreHCMCOld
	}
	if rd.ctxMatch(&c, func(x ref) bool {
		return x.kind == refOldProvince && x.id == d.province ||
			x.kind == refProvince && g.provinces[x.id].Code == d.newProv
	}) {
		c.province = true
		c.score += scoreInProvince
	}
	c.answer = g.answer(d.rows)
	return c
}

// naturalCompare orders names with their numbers as numbers: "Quận 3" before "Quận 10".
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := leadingDigits(a), leadingDigits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Compare(len(na), len(nb)); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		ra, sa := utf8.DecodeRuneInString(a)
		rb, sb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return cmp.Compare(ra, rb)
		}
		a, b = a[sa:], b[sb:]
	}
	return cmp.Compare(len(a), len(b))
}

func leadingDigits(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

func (g *Gazetteer) inHCMC(r ref) bool {
	switch r.kind {
	case refOld:
		return g.olds[r.id].newProv == hcmcCode
	case refCommune:
		return g.communes[r.id].ProvinceCode == hcmcCode
	case refDistrict:
		return g.districts[r.id].newProv == hcmcCode
	case refOldProvince:
		return g.provinces[g.oldProvs[r.id].current].Code == hcmcCode
	case refProvince:
		return g.provinces[r.id].Code == hcmcCode
	}
	return false
}

// answer identifies the set of current communes a list of mapping rows leads to.
func (g *Gazetteer) answer(rows []int32) string {
	codes := make([]string, 0, len(rows))
	for _, r := range rows {
		codes = append(codes, g.mappings[r].New.Code)
	}
	slices.Sort(codes)
	return strings.Join(slices.Compact(codes), ",")
}

func (g *Gazetteer) sortName(r ref) string {
	switch r.kind {
	case refOld:
		o := g.mappings[g.olds[r.id].rows[0]].Old
		return o.Province + "|" + o.District + "|" + o.Name
	case refCommune:
		return g.communes[r.id].Province + "|" + g.communes[r.id].Name
	case refDistrict:
		return g.districts[r.id].name
	case refOldProvince:
		return g.oldProvs[r.id].name
	}
	return g.provinces[r.id].Name
}

func (g *Gazetteer) match(c candidate) Match {
	m := Match{Score: round2(c.score)}
	switch c.ref.kind {
	case refOld:
		o := &g.olds[c.ref.id]
		m.Kind = MatchOld
		m.Mappings = g.rows(o.rows)
		m.Old = m.Mappings[0].Old
	case refDistrict:
		d := &g.districts[c.ref.id]
		p := &g.oldProvs[d.province]
		m.Kind = MatchOldDistrict
		m.Mappings = g.rows(d.rows)
		m.Old = OldUnit{Name: d.name, Type: d.typ, DistrictCode: d.code, District: d.name, ProvinceCode: p.code, Province: p.name}
	case refOldProvince:
		p := &g.oldProvs[c.ref.id]
		m.Kind = MatchOldProvince
		m.Old = OldUnit{Name: p.name, Type: p.typ, ProvinceCode: p.code, Province: p.name}
		m.Province = g.provinces[p.current]
	case refCommune:
		m.Kind = MatchNew
		m.Unit = g.communes[c.ref.id]
		m.Mappings = g.rows(g.preds[c.ref.id])
	case refProvince:
		m.Kind = MatchProvince
		m.Province = g.provinces[c.ref.id]
	}
	return m
}

func round2(x float64) float64 { return float64(int(x*100+0.5)) / 100 }
