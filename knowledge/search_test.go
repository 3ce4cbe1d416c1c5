package knowledge

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A name's syllable counts as said only in the form it was typed when the question carries diacritics: "ông bà
// nội ngoại" does not say the "ngoài" of "có yếu tố nước ngoài", "phường Bàn Cờ" not the "bán" of "bán cổ
// phiếu"; a question without diacritics, or a syllable typed without them, matches on the folded form.
func TestNameCoverAccents(t *testing.T) {
	cover := func(name, q string) float64 {
		query, err := Analyze(q)
		assert.NoError(t, err)
		in := map[string]bool{}
		for _, tk := range query.Tokens {
			in[tk] = true
		}
		return nameCover(indexNameBoth(name), in, typedForms(query.Text))
	}
	foreign := "Thủ tục đăng ký giám hộ có yếu tố nước ngoài"
	assert.Less(t, cover(foreign, "ông bà nội ngoại già yếu, tôi muốn đăng ký giám hộ cho cháu"),
		cover(foreign, "ong ba noi ngoai gia yeu, toi muon dang ky giam ho cho chau"))
	full := cover(foreign, "đăng ký giám hộ có yếu tố nước ngoài")
	assert.Greater(t, full, 0.8)
	assert.Equal(t, full, cover(foreign, "đăng ký giám hộ có yếu tố nuoc ngoai"), "syllables typed without diacritics")
	assert.Zero(t, cover("Bán cổ phiếu", "phường Bàn Cờ"))
	assert.Equal(t, 1.0, cover("Bán cổ phiếu", "ban co phieu"))
}
