package units

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// Gazetteer is the reform data with its name index. It is immutable and safe for concurrent use.
type Gazetteer struct {
	provinces []Province
	provByCd  map[string]int32
	communes  []Unit
	comByCd   map[string]int32
	provRaw   []string  // core name, lowercase with diacritics ("hồ chí minh")
	comRaw    []string  // core name, lowercase with diacritics ("bàn cờ")
	preds     [][]int32 // commune → indices into mappings
	mappings  []Mapping
	olds      []oldCommune
	districts []oldDistrict
	oldProvs  []oldProvince
	index     map[string][]ref
	maxKey    int // longest key in tokens
}

type oldCommune struct {
	raw      string
	district int32
	province int32
	newProv  string
	rows     []int32
}

type oldDistrict struct {
	code, name, typ, raw, key string
	province                  int32
	newProv                   string
	rows                      []int32
}

type oldProvince struct {
	code, name, typ, raw string
	nm                   *nameParts
	current              int32 // index into provinces
}

type refKind uint8

const (
	refOld refKind = iota
	refDistrict
	refOldProvince
	refCommune
	refProvince
)

type ref struct {
	kind    refKind
	id      int32
	variant bool // indexed under an alias or a spelling variant, so its diacritics are not compared
}

// levelSet is a bit set of administrative levels.
type levelSet uint8

const (
	levCommune levelSet = 1 << iota
	levDistrict
	levProvince
)

// unitTypes are the type words of official names (as knowledge.SplitUnitName spells them) with their levels.
var unitTypes = []struct {
	name  string
	level levelSet
}{
	{"Thị trấn", levCommune},
	{"Thị xã", levDistrict},
	{"Thành phố", levDistrict | levProvince},
	{"Đặc khu", levCommune},
	{"Phường", levCommune},
	{"Xã", levCommune},
	{"Quận", levDistrict},
	{"Huyện", levDistrict},
	{"Tỉnh", levProvince},
}

// markers are the unit words as people type them (folded): the official words and their abbreviations.
var markers = func() []marker {
	out := make([]marker, 0, 24)
	for _, t := range unitTypes {
		out = append(out, marker{toks: strings.Fields(knowledge.Fold(t.name)), typ: t.name, level: t.level})
	}
	for _, a := range []struct {
		abbr, typ string
	}{
		{"p", "Phường"}, {"ph", "Phường"}, {"f", "Phường"}, {"x", "Xã"}, {"tt", "Thị trấn"},
		{"q", "Quận"}, {"h", "Huyện"}, {"tx", "Thị xã"}, {"tp", "Thành phố"},
	} {
		for _, t := range unitTypes {
			if t.name == a.typ {
				out = append(out, marker{toks: []string{a.abbr}, typ: t.name, level: t.level})
			}
		}
	}
	return out
}()

type marker struct {
	toks  []string
	typ   string
	level levelSet
}

// glued are abbreviations people glue to a number: "p4", "q10", "f12".
var glued = map[string]bool{"p": true, "ph": true, "f": true, "q": true, "phuong": true, "quan": true}

// fillers may stand between a unit and its district: "phường 4 cũ, quận 3", "phường 4 thuộc quận 3".
var fillers = map[string]bool{"cu": true, "thuoc": true, "tai": true, "o": true, "cua": true}

// stopWords are one-syllable words that follow a unit word in questions without being a name: "phường nào",
// "xã mới", "quận mình".
var stopWords = map[string]bool{"nao": true, "gi": true, "mai": true, "may": true, "moi": true, "cu": true, "nay": true,
	"do": true, "kia": true, "day": true, "ay": true, "minh": true, "toi": true, "em": true, "anh": true, "chi": true,
	"ban": true, "nha": true, "khac": true, "ma": true, "va": true, "la": true, "thi": true}

// Extra names people use. Keys are province codes; values are folded names.
var (
	provinceAliases = map[string][]string{
		"79": {"hcm", "tphcm", "tp hcm", "hcmc", "tp ho chi minh", "sai gon", "saigon"},
		"01": {"hn", "tphn"},
		"77": {"brvt", "ba ria vung tau"},
	}
	// Quận 2, Quận 9 and Quận Thủ Đức were merged into Thành phố Thủ Đức in 2021; people still use them.
	districtAliases = []struct{ province, district, alias string }{
		{"79", "thu duc", "2"}, {"79", "thu duc", "9"},
	}
)

// New builds the lookup from the current provinces and communes and the old → new mappings. Names are
// normalised (knowledge.Normalize, canonical type word: "Thị Trấn X" → "Thị trấn X"); a mapping's New is
// replaced by the commune with its code, which must exist.
func New(provinces []Province, communes []Unit, mappings []Mapping) (*Gazetteer, error) {
	g := &Gazetteer{
		provByCd: make(map[string]int32, len(provinces)),
		comByCd:  make(map[string]int32, len(communes)),
		index:    make(map[string][]ref, 4*len(communes)+2*len(mappings)),
	}
	names := namer{}
	if err := g.addProvinces(names, provinces); err != nil {
		return nil, err
	}
	if err := g.addCommunes(names, communes); err != nil {
		return nil, err
	}
	b := builder{g: g, names: names, oldByKey: map[string]int32{}, distByKey: map[string]int32{},
		provByKey: map[string]int32{}, pairs: map[[2]string]bool{}, newProvVotes: map[int32]map[string]int{}}
	g.mappings = make([]Mapping, 0, len(mappings))
	for _, m := range mappings {
		if err := b.add(m); err != nil {
			return nil, err
		}
	}
	b.finish()
	return g, nil
}

// addProvinces indexes the current provinces.
func (g *Gazetteer) addProvinces(names namer, provinces []Province) error {
	for _, p := range provinces {
		if p.Code == "" || p.Name == "" {
			return fmt.Errorf("units: province %q %q: %w", p.Code, p.Name, knowledge.ErrInvalid)
		}
		if _, dup := g.provByCd[p.Code]; dup {
			return fmt.Errorf("units: duplicate province %s: %w", p.Code, knowledge.ErrInvalid)
		}
		nm := names.get(p.Name)
		p.Type = cmp.Or(knowledge.CanonicalUnitType(p.Type), nm.typ)
		p.Name = joinName(p.Type, nm.core)
		id := int32(len(g.provinces))
		g.provByCd[p.Code] = id
		g.provinces = append(g.provinces, p)
		g.provRaw = append(g.provRaw, nm.raw)
		g.addKeys(nm, ref{kind: refProvince, id: id})
		for _, a := range provinceAliases[p.Code] {
			g.addKey(keyOf(a), ref{refProvince, id, true})
		}
	}
	return nil
}

// addCommunes indexes the current communes, whose provinces must be indexed.
func (g *Gazetteer) addCommunes(names namer, communes []Unit) error {
	g.comRaw = make([]string, 0, len(communes))
	for _, c := range communes {
		pi, ok := g.provByCd[c.ProvinceCode]
		if c.Code == "" || c.Name == "" || !ok {
			return fmt.Errorf("units: commune %q %q of province %q: %w", c.Code, c.Name, c.ProvinceCode, knowledge.ErrInvalid)
		}
		if _, dup := g.comByCd[c.Code]; dup {
			return fmt.Errorf("units: duplicate commune %s: %w", c.Code, knowledge.ErrInvalid)
		}
		nm := names.get(c.Name)
		c.Type = cmp.Or(knowledge.CanonicalUnitType(c.Type), nm.typ)
		c.Name = joinName(c.Type, nm.core)
		c.Province = g.provinces[pi].Name
		id := int32(len(g.communes))
		g.comByCd[c.Code] = id
		g.communes = append(g.communes, c)
		g.comRaw = append(g.comRaw, nm.raw)
		g.addKeys(nm, ref{kind: refCommune, id: id})
	}
	g.preds = make([][]int32, len(g.communes))
	return nil
}

// builder adds the mappings to a Gazetteer whose current units are indexed, collecting the old communes,
// districts and provinces they name.
type builder struct {
	g            *Gazetteer
	names        namer
	oldByKey     map[string]int32
	distByKey    map[string]int32
	provByKey    map[string]int32
	pairs        map[[2]string]bool
	newProvVotes map[int32]map[string]int // old province → current province code → rows
}

// add adds one mapping row, its old province, district and commune.
func (b *builder) add(m Mapping) error {
	g := b.g
	ci, ok := g.comByCd[m.New.Code]
	if !ok {
		return fmt.Errorf("units: mapping of %q to unknown commune %q: %w", m.Old.Name, m.New.Code, knowledge.ErrInvalid)
	}
	if m.Old.Name == "" || m.Old.ProvinceCode == "" {
		return fmt.Errorf("units: mapping to %s without old name or province: %w", m.New.Code, knowledge.ErrInvalid)
	}
	m.New = g.communes[ci]
	oldName, distName, provName := b.names.get(m.Old.Name), b.names.get(m.Old.District), b.names.get(m.Old.Province)
	m.Old.Type = cmp.Or(knowledge.CanonicalUnitType(m.Old.Type), oldName.typ)
	m.Old.Name, m.Old.District, m.Old.Province = oldName.full, distName.full, provName.full
	districtLevel := m.Old.Code == "" || levelOf(m.Old.Type)&levCommune == 0
	oldKey := m.Old.Code
	if districtLevel {
		oldKey = "d:" + m.Old.ProvinceCode + ":" + m.Old.DistrictCode + ":" + oldName.key
	}
	if b.pairs[[2]string{oldKey, m.New.Code}] {
		return fmt.Errorf("units: duplicate mapping %s → %s: %w", oldKey, m.New.Code, knowledge.ErrInvalid)
	}
	b.pairs[[2]string{oldKey, m.New.Code}] = true
	row := int32(len(g.mappings))
	g.mappings = append(g.mappings, m)
	g.preds[ci] = append(g.preds[ci], row)

	pi := b.oldProvince(m, provName)
	di := b.oldDistrict(m, distName, pi, row)
	if districtLevel {
		return nil
	}
	oi, ok := b.oldByKey[oldKey]
	if !ok {
		oi = int32(len(g.olds))
		b.oldByKey[oldKey] = oi
		g.olds = append(g.olds, oldCommune{raw: oldName.raw, district: di, province: pi, newProv: m.New.ProvinceCode})
		g.addKeys(oldName, ref{kind: refOld, id: oi})
	}
	g.olds[oi].rows = append(g.olds[oi].rows, row)
	return nil
}

// oldProvince returns the old province of m, adding it on first sight, and counts m's vote for the current
// province it became.
func (b *builder) oldProvince(m Mapping, provName *nameParts) int32 {
	g := b.g
	pi, ok := b.provByKey[m.Old.ProvinceCode]
	if !ok {
		pi = int32(len(g.oldProvs))
		b.provByKey[m.Old.ProvinceCode] = pi
		g.oldProvs = append(g.oldProvs, oldProvince{code: m.Old.ProvinceCode, name: provName.full, typ: provName.typ,
			raw: provName.raw, nm: provName})
		b.newProvVotes[pi] = map[string]int{}
	}
	b.newProvVotes[pi][m.New.ProvinceCode]++
	return pi
}

// oldDistrict returns the old district of m (-1 when m names none), adding it on first sight, and records row
// as one of its rows.
func (b *builder) oldDistrict(m Mapping, distName *nameParts, pi, row int32) int32 {
	if m.Old.District == "" {
		return -1
	}
	g := b.g
	dk := m.Old.ProvinceCode + ":" + m.Old.DistrictCode + ":" + distName.key
	di, ok := b.distByKey[dk]
	if !ok {
		di = int32(len(g.districts))
		b.distByKey[dk] = di
		g.districts = append(g.districts, oldDistrict{code: m.Old.DistrictCode, name: distName.full, typ: distName.typ,
			raw: distName.raw, key: distName.key, province: pi})
		g.addKeys(distName, ref{kind: refDistrict, id: di})
	}
	g.districts[di].rows = append(g.districts[di].rows, row)
	return di
}

// finish settles what needs every row: the current province of each old district and province (the one most
// of its rows went to), and the names of old provinces and the district aliases.
func (b *builder) finish() {
	g := b.g
	for i := range g.districts {
		d := &g.districts[i]
		d.newProv = g.mappings[d.rows[0]].New.ProvinceCode
	}
	for i := range g.oldProvs {
		p := &g.oldProvs[i]
		best, n := "", -1
		for code, c := range b.newProvVotes[int32(i)] {
			if c > n || c == n && code < best {
				best, n = code, c
			}
		}
		p.current = g.provByCd[best]
		cur := g.provinces[p.current]
		if p.nm.key == b.names.get(cur.Name).key {
			continue // the same province under the same name: matched as a current province
		}
		g.addKeys(p.nm, ref{kind: refOldProvince, id: int32(i)})
		for _, a := range provinceAliases[p.code] {
			g.addKey(keyOf(a), ref{refOldProvince, int32(i), true})
		}
	}
	for _, a := range districtAliases {
		for i, d := range g.districts {
			if g.oldProvs[d.province].code == a.province && d.key == a.district {
				g.addKey(a.alias, ref{refDistrict, int32(i), true})
			}
		}
	}
}

// Provinces returns the current provinces (34 after the reform).
func (g *Gazetteer) Provinces() []Province { return slices.Clone(g.provinces) }

// Communes returns the current communes (3,321 after the reform).
func (g *Gazetteer) Communes() []Unit { return slices.Clone(g.communes) }

// Mappings returns every old → new pair.
func (g *Gazetteer) Mappings() []Mapping { return slices.Clone(g.mappings) }

// Commune returns the current commune with the given code.
func (g *Gazetteer) Commune(code string) (Unit, bool) {
	i, ok := g.comByCd[code]
	if !ok {
		return Unit{}, false
	}
	return g.communes[i], true
}

// Lookup resolves a unit name as people type it — "phường 4 quận 3", "p4 q3", "phuong ben nghe q1", "Thủ Đức" —
// to its readings, best first (see Match). It is Find for a text that is only a name: it returns the readings of
// the best mention only, and also takes a bare one-syllable name ("Vinh") or one typed with other diacritics
// (ranked lower). It returns knowledge.ErrQueryTooLong beyond knowledge.MaxQueryRunes, knowledge.ErrInvalid for a blank query and
// knowledge.ErrNotFound when nothing matches.
func (g *Gazetteer) Lookup(q string) ([]Match, error) {
	if utf8.RuneCountInString(q) > knowledge.MaxQueryRunes {
		return nil, fmt.Errorf("units: lookup: %w", knowledge.ErrQueryTooLong)
	}
	if strings.TrimSpace(q) == "" {
		return nil, fmt.Errorf("units: lookup: empty query: %w", knowledge.ErrInvalid)
	}
	groups := g.find(q, true)
	if len(groups) == 0 {
		return nil, fmt.Errorf("units: lookup: %w", knowledge.ErrNotFound)
	}
	return groups[0], nil
}

// Find spots the units mentioned in a sentence — "Phường 4 Quận 3 cũ giờ thuộc phường nào?" — and returns
// their readings, the best mention first. A name without a unit word ("phường", "q.", …) is only taken when a
// district or province follows it, when it has three syllables or more, or when it is a unit of Thành phố
// Hồ Chí Minh. Text longer than knowledge.MaxQueryRunes yields nil.
func (g *Gazetteer) Find(text string) []Match {
	if utf8.RuneCountInString(text) > knowledge.MaxQueryRunes {
		return nil
	}
	var out []Match
	seen := map[string]bool{}
	for _, g := range g.find(text, false) {
		for _, m := range g {
			k := string(m.Kind) + "|" + m.Old.Code + "|" + m.Old.DistrictCode + "|" + m.Old.ProvinceCode + "|" + m.Unit.Code + "|" + m.Province.Code
			if !seen[k] {
				seen[k] = true
				out = append(out, m)
			}
		}
	}
	return out
}

// Predecessors returns the old units a current commune was formed from (Partial when only part of an old unit
// went to it). q is the commune's name as people type it ("phường Bàn Cờ") or its code; when several
// communes bear the name, the best-ranked one (Thành phố Hồ Chí Minh first) is used — call Lookup to see them
// all. Errors as Lookup; knowledge.ErrNotFound also when q names no current commune.
func (g *Gazetteer) Predecessors(q string) ([]Mapping, error) {
	if i, ok := g.comByCd[strings.TrimSpace(q)]; ok {
		return g.rows(g.preds[i]), nil
	}
	ms, err := g.Lookup(q)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Kind == MatchNew {
			return m.Mappings, nil
		}
	}
	return nil, fmt.Errorf("units: predecessors: no current commune by that name: %w", knowledge.ErrNotFound)
}

func (g *Gazetteer) rows(ids []int32) []Mapping {
	out := make([]Mapping, len(ids))
	for i, r := range ids {
		out[i] = g.mappings[r]
	}
	return out
}
