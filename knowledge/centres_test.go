package knowledge_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
)

func TestCentresNil(t *testing.T) {
	var c *knowledge.Centres
	_, ok := c.ByCode("27154")
	assert.False(t, ok)
	assert.Empty(t, c.ByName("Bàn Cờ"))
	assert.Zero(t, c.Len())
}

func TestNewCentresNormalises(t *testing.T) {
	c, err := knowledge.NewCentres([]knowledge.Centre{{UnitCode: " 26734 ", UnitName: "Phường  Tân Hoà",
		Name: "Trung tâm Phục vụ hành chính công phường Tân Hòa", Address: "Số 1,\n đường X",
		Confidence: knowledge.ConfidenceMedium}})
	require.NoError(t, err)
	x, ok := c.ByCode("26734")
	require.True(t, ok)
	assert.Equal(t, "Phường Tân Hòa", x.UnitName, "tone placed the catalog's way, spaces collapsed")
	assert.Equal(t, "Số 1, đường X", x.Address)
	assert.Len(t, c.ByName("tan hoa"), 1)
	assert.Len(t, c.ByName("Tân Hoà"), 1)

	_, err = knowledge.NewCentres([]knowledge.Centre{{UnitCode: "1", UnitName: "x", Name: "y", Address: "z"}})
	assert.ErrorIs(t, err, knowledge.ErrInvalid, "a centre needs a confidence")
}

func seedCentres(t *testing.T) *knowledge.Centres {
	t.Helper()
	c, err := knowledge.NewCentres([]knowledge.Centre{
		{UnitCode: "27154", UnitName: "Phường Bàn Cờ", Name: "Trung tâm Phục vụ hành chính công phường Bàn Cờ",
			Address: "611/20 Điện Biên Phủ", Precision: knowledge.PrecisionHouse, Phone: "028.38396136",
			Confidence: knowledge.ConfidenceHigh},
		{UnitCode: "26734", UnitName: "Phường Tân Hòa", Name: "Trung tâm Phục vụ hành chính công phường Tân Hòa",
			Address: "Đường X", Precision: knowledge.PrecisionStreet, Confidence: knowledge.ConfidenceMedium, Conflict: true},
	})
	require.NoError(t, err)
	return c
}

// A correction replaces the centre's name, address, precision, phone and hours, makes it high confidence with
// the date staff checked it, and leaves the seed and the other centres as they were.
func TestCentresCorrected(t *testing.T) {
	seed := seedCentres(t)
	at := time.Date(2026, 12, 7, 3, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	got, err := seed.Corrected([]knowledge.Centre{{UnitCode: " 26734 ", Name: "Trung tâm Phục vụ hành chính công phường Tân Hòa",
		Address: "Số 5  đường Y", Precision: knowledge.PrecisionHouse, Phone: "028 1234 5678",
		Hours: "Thứ Hai – Thứ Sáu, 7:30–17:00", Checked: at}})
	require.NoError(t, err)
	x, ok := got.ByCode("26734")
	require.True(t, ok)
	assert.Equal(t, knowledge.Centre{UnitCode: "26734", UnitName: "Phường Tân Hòa",
		Name: "Trung tâm Phục vụ hành chính công phường Tân Hòa", Address: "Số 5 đường Y", Precision: knowledge.PrecisionHouse,
		Phone: "028 1234 5678", Hours: "Thứ Hai – Thứ Sáu, 7:30–17:00", Confidence: knowledge.ConfidenceHigh,
		Checked: at.UTC()}, x)
	assert.Len(t, got.ByName("Tân Hòa"), 1, "the name index still finds it")
	assert.Equal(t, "Số 5 đường Y", got.ByName("Tân Hòa")[0].Address)

	orig, _ := seed.ByCode("26734")
	assert.Equal(t, "Đường X", orig.Address, "the seed is unchanged")
	assert.True(t, orig.Conflict)
	bc, _ := got.ByCode("27154")
	assert.Equal(t, "611/20 Điện Biên Phủ", bc.Address)
	assert.True(t, bc.Checked.IsZero())
}

// A correction of an unknown unit, one listed twice or an invalid one is left out and reported; the others apply.
func TestCentresCorrectedSkipsBadFixes(t *testing.T) {
	seed := seedCentres(t)
	good := knowledge.Centre{UnitCode: "27154", Name: "Trung tâm", Address: "1 Đường Z"}
	for _, tt := range []struct {
		name string
		bad  knowledge.Centre
		want error
	}{
		{"unknown unit", knowledge.Centre{UnitCode: "99999", Name: "x", Address: "y"}, knowledge.ErrNotFound},
		{"twice", knowledge.Centre{UnitCode: "27154", Name: "x", Address: "y"}, knowledge.ErrInvalid},
		{"no address", knowledge.Centre{UnitCode: "26734", Name: "x"}, knowledge.ErrInvalid},
		{"bad phone", knowledge.Centre{UnitCode: "26734", Name: "x", Address: "y", Phone: "gọi tôi"}, knowledge.ErrInvalid},
		{"long hours", knowledge.Centre{UnitCode: "26734", Name: "x", Address: "y",
			Hours: strings.Repeat("a", knowledge.MaxCentreHours+1)}, knowledge.ErrInvalid},
		{"bad precision", knowledge.Centre{UnitCode: "26734", Name: "x", Address: "y", Precision: "exact"}, knowledge.ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := seed.Corrected([]knowledge.Centre{good, tt.bad})
			assert.ErrorIs(t, err, tt.want)
			require.NotNil(t, got)
			x, _ := got.ByCode("27154")
			assert.Equal(t, "1 Đường Z", x.Address, "the good fix applies")
			y, _ := got.ByCode("26734")
			assert.Equal(t, "Đường X", y.Address, "the bad one does not")
		})
	}
}

// LiveCentres answers from the last set of corrections; a unit left out of the next set is back to the seed.
func TestLiveCentres(t *testing.T) {
	var none *knowledge.LiveCentres
	_, ok := none.ByCode("27154")
	assert.False(t, ok)
	require.NoError(t, none.Correct(nil))

	seed := seedCentres(t)
	l := knowledge.NewLiveCentres(seed)
	assert.Same(t, seed, l.Seed())
	require.NoError(t, l.Correct([]knowledge.Centre{{UnitCode: "27154", Name: "Trung tâm", Address: "1 Đường Z"}}))
	x, ok := l.ByCode("27154")
	require.True(t, ok)
	assert.Equal(t, "1 Đường Z", x.Address)
	assert.Same(t, seed, l.Seed())

	require.NoError(t, l.Correct(nil))
	x, _ = l.ByCode("27154")
	assert.Equal(t, "611/20 Điện Biên Phủ", x.Address, "reverted to the seed")

	empty := knowledge.NewLiveCentres(nil)
	assert.ErrorIs(t, empty.Correct([]knowledge.Centre{{UnitCode: "27154", Name: "x", Address: "y"}}), knowledge.ErrNotFound)
	_, ok = empty.ByCode("27154")
	assert.False(t, ok)
}

// Readers never see a half-applied set of corrections while Correct runs.
func TestLiveCentresConcurrent(t *testing.T) {
	l := knowledge.NewLiveCentres(seedCentres(t))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			addr := fmt.Sprintf("%d Đường Z", i)
			assert.NoError(t, l.Correct([]knowledge.Centre{{UnitCode: "27154", Name: "a", Address: addr},
				{UnitCode: "26734", Name: "b", Address: addr}}))
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
		}
		c := l.Current()
		a, _ := c.ByCode("27154")
		b, _ := c.ByCode("26734")
		if a.Name == "a" {
			require.Equal(t, a.Address, b.Address, "one set of corrections at a time")
		}
	}
}
