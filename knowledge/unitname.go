package knowledge

import (
	"slices"
	"strings"
)

// unitTypeWords are the type words of official administrative-unit names, longest first.
var unitTypeWords = []struct {
	name string
	fold []string
}{
	{"Thị trấn", []string{"thi", "tran"}},
	{"Thị xã", []string{"thi", "xa"}},
	{"Thành phố", []string{"thanh", "pho"}},
	{"Đặc khu", []string{"dac", "khu"}},
	{"Phường", []string{"phuong"}},
	{"Xã", []string{"xa"}},
	{"Quận", []string{"quan"}},
	{"Huyện", []string{"huyen"}},
	{"Tỉnh", []string{"tinh"}},
}

// SplitUnitName splits an official unit name into its canonical type word and the rest: "Thị Trấn Óc Eo" →
// ("Thị trấn", "Óc Eo"). A name without a type word returns ("", name). Both are Normalized.
func SplitUnitName(name string) (typ, core string) {
	words := strings.Fields(Normalize(name))
	var folded [2]string
	for i := 0; i < len(words) && i < 2; i++ {
		folded[i] = Fold(words[i])
	}
	for _, t := range unitTypeWords {
		n := len(t.fold)
		if len(words) <= n || folded[0] != t.fold[0] || n == 2 && folded[1] != t.fold[1] {
			continue
		}
		return t.name, strings.Join(words[n:], " ")
	}
	return "", strings.Join(words, " ")
}

// CanonicalUnitType spells a unit type word the official way ("thị Trấn" → "Thị trấn"); a word that is not a
// unit type is returned Normalized, "" stays "".
func CanonicalUnitType(t string) string {
	if t == "" {
		return ""
	}
	f := strings.Fields(Fold(t))
	for _, ut := range unitTypeWords {
		if slices.Equal(f, ut.fold) {
			return ut.name
		}
	}
	return Normalize(t)
}
