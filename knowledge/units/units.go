// Package units is the gazetteer of Vietnam's administrative units after the reform of 1 July 2025 (Nghị
// quyết 1654–1687/NQ-UBTVQH15): 34 provinces, 3,321 communes (phường, xã, đặc khu) and no more districts.
// Citizens still name the place they live by the old three-level address — "Phường 4, Quận 3", "p4 q3", "xã
// Xuân Thới Thượng Hóc Môn" — so a Gazetteer resolves such mentions to the current commune(s), and a current
// commune to the old units it was formed from. It knows names and places only; what a question about them asks,
// and how to answer it, is the assistant's business. It imports the knowledge package (text folding, sentinel
// errors) and the standard library.
package units

// Unit is a current commune-level unit (phường, xã or đặc khu).
type Unit struct {
	Code         string `json:"code"`          // "27154"
	Name         string `json:"name"`          // "Phường Bàn Cờ"
	Type         string `json:"type"`          // "Phường", "Xã" or "Đặc khu"
	ProvinceCode string `json:"province_code"` // "79"
	Province     string `json:"province"`      // "Thành phố Hồ Chí Minh"
}

// Province is one of the 34 current provinces and centrally governed cities.
type Province struct {
	Code string `json:"code"` // "79"
	Name string `json:"name"` // "Thành phố Hồ Chí Minh"
	Type string `json:"type"` // "Tỉnh" or "Thành phố"
}

// OldUnit is a commune-level unit (phường, xã, thị trấn) as it was before 1 July 2025, with the district
// (quận, huyện, thị xã, thành phố) and province it belonged to, so "Phường 4, Quận 3" is one unit. A district
// that had no communes (Côn Đảo, Bạch Long Vĩ, …) is recorded with Name == District and its district Type.
type OldUnit struct {
	Code         string `json:"code,omitempty"` // "27148"; empty for a district without communes
	Name         string `json:"name"`           // "Phường 4"
	Type         string `json:"type"`           // "Phường", "Xã", "Thị trấn" (or the district's type, see above)
	DistrictCode string `json:"district_code,omitempty"`
	District     string `json:"district,omitempty"` // "Quận 3"
	ProvinceCode string `json:"province_code"`
	Province     string `json:"province"` // "Thành phố Hồ Chí Minh"
}

// Mapping is one (old unit, new unit) pair of the reform. An old unit split across several new units has one
// Mapping per new unit, each with Partial set.
type Mapping struct {
	Old        OldUnit `json:"old"`
	New        Unit    `json:"new"`
	Partial    bool    `json:"partial,omitempty"`    // only part of Old's area and population went to New
	Resolution string  `json:"resolution,omitempty"` // "1685/NQ-UBTVQH15"
}

// MatchKind says what a Match names.
type MatchKind string

const (
	MatchOld         MatchKind = "old"          // a commune that existed before 1 July 2025
	MatchOldDistrict MatchKind = "old-district" // a district, abolished on 1 July 2025
	MatchOldProvince MatchKind = "old-province" // a province merged into another on 1 July 2025
	MatchNew         MatchKind = "new"          // a current commune: the name is already a new one
	MatchProvince    MatchKind = "province"     // one of the 34 current provinces
)

// Match is one reading of a unit mentioned in a text.
//
// Score grows with the evidence: about 0.5 for a bare name ("Bến Nghé"), 0.7 with a unit word ("phường Bến
// Nghé", "p. Bến Nghé"), 0.85–1 when the district or province agrees ("phường Bến Nghé quận 1"). Ambiguous is
// set on every match of a mention whose best readings lead to different current units — "phường 4" alone is
// a ward in a dozen districts — so the caller should ask which district (or province) is meant; the matches are
// then ranked with Thành phố Hồ Chí Minh first.
type Match struct {
	Kind      MatchKind `json:"kind"`
	Text      string    `json:"text"`               // the words of the input that named the unit, e.g. "Phường 4, Quận 3"
	Old       OldUnit   `json:"old,omitzero"`       // MatchOld; for MatchOldDistrict and MatchOldProvince, the district or province
	Unit      Unit      `json:"unit,omitzero"`      // MatchNew
	Province  Province  `json:"province,omitzero"`  // MatchProvince; for MatchOldProvince, the province it belongs to now
	Mappings  []Mapping `json:"mappings,omitempty"` // MatchOld, MatchOldDistrict: old → new rows; MatchNew: its predecessors
	Score     float64   `json:"score"`
	Ambiguous bool      `json:"ambiguous,omitempty"`
}

// Current returns the current communes the match leads to: the new unit(s) of an old commune or district, the
// unit itself for MatchNew, nil for provinces.
func (m Match) Current() []Unit {
	switch m.Kind {
	case MatchNew:
		return []Unit{m.Unit}
	case MatchOld, MatchOldDistrict:
		var out []Unit
		seen := map[string]bool{}
		for _, mp := range m.Mappings {
			if !seen[mp.New.Code] {
				seen[mp.New.Code] = true
				out = append(out, mp.New)
			}
		}
		return out
	}
	return nil
}
