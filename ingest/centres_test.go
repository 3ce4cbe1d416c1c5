package ingest

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
)

// All 168 centres of the real file load, each for a current commune of Thành phố Hồ Chí Minh with the same
// name, and the confidence follows the provenance columns.
func TestLoadCentresReal(t *testing.T) {
	c, err := LoadCentres(dataDir(t))
	require.NoError(t, err)
	require.Equal(t, 168, c.Len())

	u := loadRealUnits(t)
	count := map[knowledge.Confidence]int{}
	for _, x := range c.All() {
		com, ok := u.Commune(x.UnitCode)
		if assert.True(t, ok, "centre of unknown commune %s %s", x.UnitCode, x.UnitName) {
			assert.Equal(t, "79", com.ProvinceCode, x.UnitName)
			assert.Equal(t, knowledge.Fold(com.Name), knowledge.Fold(x.UnitName), x.UnitCode)
		}
		assert.NotEmpty(t, x.Address, x.UnitName)
		count[x.Confidence]++
	}
	// README: high 20, medium-high 11, medium 117, medium with a conflict 19, low 1.
	assert.Equal(t, map[knowledge.Confidence]int{knowledge.ConfidenceHigh: 20, knowledge.ConfidenceMedium: 147,
		knowledge.ConfidenceLow: 1}, count)

	bc, ok := c.ByCode("27154")
	require.True(t, ok)
	assert.Equal(t, "Phường Bàn Cờ", bc.UnitName)
	assert.Equal(t, "Trung tâm Phục vụ hành chính công phường Bàn Cờ", bc.Name)
	assert.Contains(t, bc.Address, "Điện Biên Phủ")
	assert.Equal(t, "028.38396136", bc.Phone)
	assert.Equal(t, knowledge.ConfidenceHigh, bc.Confidence)

	for _, q := range []string{"Phường Bàn Cờ", "phuong ban co", "Bàn Cờ", " ban co "} {
		got := c.ByName(q)
		if assert.Len(t, got, 1, q) {
			assert.Equal(t, "27154", got[0].UnitCode, q)
		}
	}
	// "Thanh An" and "Thạnh An" fold alike: diacritics decide, and both come back when there are none.
	if got := c.ByName("xã Thạnh An"); assert.Len(t, got, 1) {
		assert.Equal(t, "Xã Thạnh An", got[0].UnitName)
	}
	assert.Len(t, c.ByName("thành an"), 2)
	assert.Empty(t, c.ByName("Phường 4"))
	_, ok = c.ByCode("00000")
	assert.False(t, ok)
}

func TestLoadCentresMissing(t *testing.T) {
	_, err := LoadCentres(t.TempDir())
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

const centresHead = "unit_code,unit_name,centre_name,address,address_precision,phone,confidence,conflicts,n_independent_corroborations\n"

func TestReadCentresMalformed(t *testing.T) {
	ok := "27154,Phường Bàn Cờ,Trung tâm Phục vụ hành chính công phường Bàn Cờ,611/20 Điện Biên Phủ,house_number,028.38396136,high,,0\n"
	_, err := ReadCentres(strings.NewReader(centresHead + ok))
	require.NoError(t, err, "the well-formed base case must load")

	tests := []struct {
		name, text, want string
	}{
		{"empty file", "", "header"},
		{"no rows", centresHead, "no rows"},
		{"missing column", "unit_code,unit_name,centre_name,address\n27154,a,b,c\n", `no column "address_precision"`},
		{"short row", centresHead + "27154,Phường Bàn Cờ\n", "wrong number of fields"},
		{"stray quote", centresHead + `27154,"Phường Bàn Cờ,x,y,house_number,,high,,0` + "\n", "quote"},
		{"bad code", centresHead + strings.Replace(ok, "27154", "27A54", 1), "unit code"},
		{"empty address", centresHead + strings.Replace(ok, "611/20 Điện Biên Phủ", "", 1), "address is empty"},
		{"long address", centresHead + strings.Replace(ok, "611/20 Điện Biên Phủ", strings.Repeat("ạ", 301), 1), "longer than"},
		{"bad phone", centresHead + strings.Replace(ok, "028.38396136", "gọi chị Lan", 1), "phone"},
		{"bad precision", centresHead + strings.Replace(ok, "house_number", "exact", 1), "precision"},
		{"bad confidence", centresHead + strings.Replace(ok, ",high,", ",sure,", 1), "confidence"},
		{"bad count", centresHead + strings.Replace(ok, ",0\n", ",many\n", 1), "n_independent_corroborations"},
		{"duplicate", centresHead + ok + ok, "twice"},
		{"invalid UTF-8", centresHead + strings.Replace(ok, "Bàn Cờ,T", "B\xffn,T", 1), "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadCentres(strings.NewReader(tt.text))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			if tt.name != "empty file" {
				assert.True(t, errors.Is(err, knowledge.ErrInvalid), "%v wraps ErrInvalid", err)
			}
		})
	}
}

// The optional hours column is read when the file has it.
func TestReadCentresHours(t *testing.T) {
	head := strings.TrimSuffix(centresHead, "\n") + ",hours\n"
	row := "27154,Phường Bàn Cờ,Trung tâm Phục vụ hành chính công phường Bàn Cờ,611/20 Điện Biên Phủ,house_number,,high,,0," +
		`"Thứ Hai – Thứ Sáu, 7:30–17:00"` + "\n"
	c, err := ReadCentres(strings.NewReader(head + row))
	require.NoError(t, err)
	x, ok := c.ByCode("27154")
	require.True(t, ok)
	assert.Equal(t, "Thứ Hai – Thứ Sáu, 7:30–17:00", x.Hours)

	_, err = ReadCentres(strings.NewReader(head + strings.Replace(row, "Thứ Hai", strings.Repeat("ạ", knowledge.MaxCentreHours), 1)))
	assert.ErrorIs(t, err, knowledge.ErrInvalid, "hours within the limit")
}

func TestReadCentresTooLarge(t *testing.T) {
	row := "27154,Phường Bàn Cờ,Trung tâm,611/20 Điện Biên Phủ,house_number,,high,,0\n"
	big := centresHead + strings.Repeat(row, maxCentresBytes/len(row)+2)
	_, err := ReadCentres(strings.NewReader(big))
	require.Error(t, err)
	assert.ErrorIs(t, err, knowledge.ErrInvalid)
}

func TestCentreConfidence(t *testing.T) {
	tests := []struct {
		stated, n, conflicts, precision string
		want                            knowledge.Confidence
	}{
		{"high", "0", "", "house_number", knowledge.ConfidenceHigh},
		{"high", "1", "", "street_only", knowledge.ConfidenceMedium},              // a street is not an address
		{"high", "2", "other source", "house_number", knowledge.ConfidenceMedium}, // a conflict is not high
		{"medium-high", "2", "", "house_number", knowledge.ConfidenceMedium},
		{"medium (conflict noted)", "0", "x", "area_only", knowledge.ConfidenceMedium},
		{"low", "0", "x", "house_number", knowledge.ConfidenceLow},
		{"", "2", "", "house_number", knowledge.ConfidenceHigh}, // not stated: from the corroborations
		{"", "0", "x", "house_number", knowledge.ConfidenceLow},
		{"", "1", "", "house_number", knowledge.ConfidenceMedium},
		{"", "", "", "", knowledge.ConfidenceMedium},
	}
	for _, tt := range tests {
		got, err := centreConfidence(tt.stated, tt.n, tt.conflicts, tt.precision)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "%+v", tt)
	}
}
