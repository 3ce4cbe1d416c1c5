package units_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/units"
)

// A few real rows of the reform (Nghị quyết 1685/NQ-UBTVQH15 for Thành phố Hồ Chí Minh), written by hand;
// the whole data set is tested in ingest. Some names are spelled as the sources spell them ("Xuân Hoà",
// "Thanh Hoá", "Thị Trấn") to test normalisation.
func testUnits(t testing.TB) *units.Gazetteer {
	t.Helper()
	const (
		hcm  = "Thành phố Hồ Chí Minh"
		brvt = "Tỉnh Bà Rịa - Vũng Tàu"
	)
	provinces := []units.Province{
		{Code: "79", Name: hcm, Type: "Thành phố"},
		{Code: "68", Name: "Tỉnh Lâm Đồng"},
		{Code: "38", Name: "Tỉnh Thanh Hoá"},
	}
	communes := []units.Unit{
		{Code: "26740", Name: "Phường Sài Gòn", Type: "Phường", ProvinceCode: "79"},
		{Code: "27154", Name: "Phường Bàn Cờ", Type: "Phường", ProvinceCode: "79"},
		{Code: "27139", Name: "Phường Xuân Hoà", Type: "Phường", ProvinceCode: "79"},
		{Code: "27301", Name: "Phường Chợ Quán", Type: "Phường", ProvinceCode: "79"},
		{Code: "27592", Name: "Xã Bà Điểm", Type: "Xã", ProvinceCode: "79"},
		{Code: "26824", Name: "Phường Thủ Đức", Type: "Phường", ProvinceCode: "79"},
		{Code: "27094", Name: "Phường An Khánh", Type: "Phường", ProvinceCode: "79"},
		{Code: "26506", Name: "Phường Vũng Tàu", Type: "Phường", ProvinceCode: "79"},
		{Code: "26732", Name: "Đặc khu Côn Đảo", Type: "Đặc khu", ProvinceCode: "79"},
		{Code: "24781", Name: "Phường Xuân Hương - Đà Lạt", Type: "Phường", ProvinceCode: "68"},
		{Code: "15000", Name: "xã Thọ Xuân", ProvinceCode: "38"},
	}
	old := func(code, name, dcode, district, pcode, province string) units.OldUnit {
		return units.OldUnit{Code: code, Name: name, DistrictCode: dcode, District: district, ProvinceCode: pcode, Province: province}
	}
	row := func(o units.OldUnit, newCode string, partial bool) units.Mapping {
		return units.Mapping{Old: o, New: units.Unit{Code: newCode}, Partial: partial, Resolution: "1685/NQ-UBTVQH15"}
	}
	q1 := func(code, name string) units.OldUnit { return old(code, name, "760", "Quận 1", "79", hcm) }
	q3 := func(code, name string) units.OldUnit { return old(code, name, "770", "Quận 3", "79", hcm) }
	q5 := func(code, name string) units.OldUnit { return old(code, name, "774", "Quận 5", "79", hcm) }
	td := func(code, name string) units.OldUnit {
		return old(code, name, "769", "Thành phố Thủ Đức", "79", hcm)
	}
	hm := func(code, name string) units.OldUnit {
		return old(code, name, "784", "Huyện Hóc Môn", "79", hcm)
	}
	mappings := []units.Mapping{
		row(q1("26737", "Phường Đa Kao"), "26740", true),
		row(q1("26740", "Phường Bến Nghé"), "26740", false),
		row(q1("26746", "Phường Nguyễn Thái Bình"), "26740", true),
		row(q3("27139", "Phường Võ Thị Sáu"), "27139", false),
		row(q3("27148", "Phường 4"), "27154", true),
		row(q3("27148", "Phường 4"), "27139", true),
		row(q3("27151", "Phường 5"), "27154", false),
		row(q3("27154", "Phường 3"), "27154", false),
		row(q3("27157", "Phường 2"), "27154", false),
		row(q3("27160", "Phường 1"), "27154", false),
		row(q5("27301", "Phường 4"), "27301", false),
		row(q5("27307", "Phường 2"), "27301", false),
		row(q5("27325", "Phường 1"), "27301", false),
		row(td("26815", "Phường Linh Chiểu"), "26824", false),
		row(td("26818", "Phường Linh Tây"), "26824", true),
		row(td("26821", "Phường Linh Đông"), "26824", true),
		row(td("26824", "Phường Bình Thọ"), "26824", false),
		row(td("26827", "Phường Trường Thọ"), "26824", false),
		row(td("27088", "Phường Thảo Điền"), "27094", false),
		row(hm("27586", "Xã Trung Chánh"), "27592", false),
		row(hm("27589", "Xã Xuân Thới Thượng"), "27592", false),
		row(hm("27592", "Xã Bà Điểm"), "27592", false),
		row(old("26515", "Phường 4", "747", "Thành phố Vũng Tàu", "77", brvt), "26506", false),
		row(old("", "Huyện Côn Đảo", "755", "Huyện Côn Đảo", "77", brvt), "26732", false),
		row(old("24793", "Phường 4", "672", "Thành phố Đà Lạt", "68", "Tỉnh Lâm Đồng"), "24781", false),
		row(old("14900", "Thị Trấn Thọ Xuân", "380", "Huyện Thọ Xuân", "38", "Tỉnh Thanh Hoá"), "15000", false),
	}
	u, err := units.New(provinces, communes, mappings)
	require.NoError(t, err)
	return u
}

func names(us []units.Unit) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Name
	}
	return out
}

func TestUnitsLookupOldTyped(t *testing.T) {
	u := testUnits(t)
	tests := []struct {
		q        string
		old      string // Name, District
		current  []string
		partial  bool
		province string
	}{
		{"phường 4 quận 3", "Phường 4, Quận 3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}, true, ""},
		{"Phường 4, Quận 3", "Phường 4, Quận 3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}, true, ""},
		{"p4 q3", "Phường 4, Quận 3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}, true, ""},
		{"P.4, Q.3", "Phường 4, Quận 3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}, true, ""},
		{"phường 04 quận 3", "Phường 4, Quận 3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}, true, ""},
		{"f4 q3", "Phường 4, Quận 3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}, true, ""},
		{"Quận 3, Phường 4", "Phường 4, Quận 3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}, true, ""},
		{"phuong 4 cu quan 3 tphcm", "Phường 4, Quận 3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}, true, ""},
		{"phường 4 quận 5", "Phường 4, Quận 5", []string{"Phường Chợ Quán"}, false, ""},
		{"phuong ben nghe q1", "Phường Bến Nghé, Quận 1", []string{"Phường Sài Gòn"}, false, ""},
		{"phường Bến Nghé quận 1", "Phường Bến Nghé, Quận 1", []string{"Phường Sài Gòn"}, false, ""},
		{"P. Bến Nghé, Q.1, TP.HCM", "Phường Bến Nghé, Quận 1", []string{"Phường Sài Gòn"}, false, ""},
		{"Bến Nghé", "Phường Bến Nghé, Quận 1", []string{"Phường Sài Gòn"}, false, ""},
		{"phường Đa Kao", "Phường Đa Kao, Quận 1", []string{"Phường Sài Gòn"}, true, ""},
		{"xã Xuân Thới Thượng Hóc Môn", "Xã Xuân Thới Thượng, Huyện Hóc Môn", []string{"Xã Bà Điểm"}, false, ""},
		{"xa xuan thoi thuong huyen hoc mon", "Xã Xuân Thới Thượng, Huyện Hóc Môn", []string{"Xã Bà Điểm"}, false, ""},
		{"x. Xuân Thới Thượng, h. Hóc Môn", "Xã Xuân Thới Thượng, Huyện Hóc Môn", []string{"Xã Bà Điểm"}, false, ""},
		{"phường Linh Chiểu, TP Thủ Đức", "Phường Linh Chiểu, Thành phố Thủ Đức", []string{"Phường Thủ Đức"}, false, ""},
		{"phường Linh Tây quận Thủ Đức", "Phường Linh Tây, Thành phố Thủ Đức", []string{"Phường Thủ Đức"}, true, ""},
		{"phuong linh dong quan 9", "Phường Linh Đông, Thành phố Thủ Đức", []string{"Phường Thủ Đức"}, true, ""},
		{"phường Thảo Điền quận 2", "Phường Thảo Điền, Thành phố Thủ Đức", []string{"Phường An Khánh"}, false, ""},
		{"phường 4 Vũng Tàu", "Phường 4, Thành phố Vũng Tàu", []string{"Phường Vũng Tàu"}, false, "Tỉnh Bà Rịa - Vũng Tàu"},
		{"phường 4 tp Đà Lạt", "Phường 4, Thành phố Đà Lạt", []string{"Phường Xuân Hương - Đà Lạt"}, false, "Tỉnh Lâm Đồng"},
		{"thị trấn Thọ Xuân", "Thị trấn Thọ Xuân, Huyện Thọ Xuân", []string{"Xã Thọ Xuân"}, false, "Tỉnh Thanh Hóa"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			ms, err := u.Lookup(tt.q)
			require.NoError(t, err)
			require.NotEmpty(t, ms)
			m := ms[0]
			require.Equal(t, units.MatchOld, m.Kind, "%+v", ms)
			assert.Equal(t, tt.old, m.Old.Name+", "+m.Old.District)
			assert.ElementsMatch(t, tt.current, names(m.Current()))
			assert.False(t, m.Ambiguous)
			assert.GreaterOrEqual(t, m.Score, 0.5)
			for _, mp := range m.Mappings {
				assert.Equal(t, tt.partial, mp.Partial)
				assert.Equal(t, m.Old, mp.Old)
			}
			if tt.province != "" {
				assert.Equal(t, tt.province, m.Old.Province)
			} else {
				assert.Equal(t, "Thành phố Hồ Chí Minh", m.Old.Province)
			}
		})
	}
}

func TestUnitsLookupAmbiguous(t *testing.T) {
	u := testUnits(t)
	for _, q := range []string{"phường 4", "Phuong 04", "p4"} {
		ms, err := u.Lookup(q)
		require.NoError(t, err, q)
		var got []string
		for _, m := range ms {
			assert.Equal(t, units.MatchOld, m.Kind)
			assert.True(t, m.Ambiguous, q)
			got = append(got, m.Old.District)
		}
		// Thành phố Hồ Chí Minh first (the old city, then what it absorbed), districts in numeric order.
		assert.Equal(t, []string{"Quận 3", "Quận 5", "Thành phố Vũng Tàu", "Thành phố Đà Lạt"}, got, q)
		assert.Greater(t, ms[0].Score, ms[3].Score)
	}
	// The same old name in the same district (merged into one new unit) is not ambiguous: Bến Thành-like
	// names, where the old and new units share a name and lead to the same place.
	ms, err := u.Lookup("Côn Đảo")
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, units.MatchNew, ms[0].Kind)
	assert.Equal(t, units.MatchOldDistrict, ms[1].Kind)
	assert.Equal(t, "Huyện Côn Đảo", ms[1].Old.Name)
	assert.False(t, ms[0].Ambiguous)
}

func TestUnitsLookupNew(t *testing.T) {
	u := testUnits(t)
	tests := []struct {
		q, name string
		preds   int
	}{
		{"phường Sài Gòn", "Phường Sài Gòn", 3},
		{"phuong sai gon", "Phường Sài Gòn", 3},
		{"phường Bàn Cờ", "Phường Bàn Cờ", 5},
		{"p. Bàn Cờ", "Phường Bàn Cờ", 5},
		{"phường Xuân Hoà", "Phường Xuân Hòa", 2},
		{"phường Xuân Hòa", "Phường Xuân Hòa", 2},
		{"xuan hoa", "Phường Xuân Hòa", 2},
		{"xã Bà Điểm", "Xã Bà Điểm", 3},
		{"đặc khu Côn Đảo", "Đặc khu Côn Đảo", 1},
		{"phường Bàn Cờ quận 3", "Phường Bàn Cờ", 5},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			ms, err := u.Lookup(tt.q)
			require.NoError(t, err)
			m := ms[0]
			require.Equal(t, units.MatchNew, m.Kind, "%+v", ms)
			assert.Equal(t, tt.name, m.Unit.Name)
			assert.Equal(t, "Thành phố Hồ Chí Minh", m.Unit.Province)
			assert.Len(t, m.Mappings, tt.preds)
			assert.Equal(t, []units.Unit{m.Unit}, m.Current())
		})
	}
	// An old name that is also a new one: both readings, the current unit first, not ambiguous (Bà Điểm → Bà
	// Điểm).
	ms, err := u.Lookup("xã Bà Điểm")
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, units.MatchNew, ms[0].Kind)
	assert.Equal(t, units.MatchOld, ms[1].Kind)
	assert.False(t, ms[0].Ambiguous)
}

func TestUnitsLookupDistrictAndProvince(t *testing.T) {
	u := testUnits(t)

	ms, err := u.Lookup("Thủ Đức")
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, units.MatchNew, ms[0].Kind)
	assert.Equal(t, "Phường Thủ Đức", ms[0].Unit.Name)
	assert.Equal(t, units.MatchOldDistrict, ms[1].Kind)
	assert.Equal(t, "Thành phố Thủ Đức", ms[1].Old.District)
	assert.Len(t, ms[1].Mappings, 6)
	assert.True(t, ms[0].Ambiguous, "the new ward or the old city?")

	ms, err = u.Lookup("quận 3")
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, units.MatchOldDistrict, ms[0].Kind)
	assert.ElementsMatch(t, []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}, names(ms[0].Current()))

	ms, err = u.Lookup("tỉnh Bà Rịa - Vũng Tàu")
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, units.MatchOldProvince, ms[0].Kind)
	assert.Equal(t, "Tỉnh Bà Rịa - Vũng Tàu", ms[0].Old.Name)
	assert.Equal(t, "79", ms[0].Province.Code)

	for _, q := range []string{"TP.HCM", "tphcm", "thành phố Hồ Chí Minh"} {
		ms, err = u.Lookup(q)
		require.NoError(t, err, q)
		assert.Equal(t, units.MatchProvince, ms[0].Kind, q)
		assert.Equal(t, "Thành phố Hồ Chí Minh", ms[0].Province.Name, q)
	}
}

func TestUnitsFind(t *testing.T) {
	u := testUnits(t)
	tests := []struct {
		text, mention string
		current       []string
	}{
		{"Phường 4 Quận 3 cũ giờ thuộc phường nào?", "Phường 4 Quận 3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}},
		{"phuong ben nghe quan 1 sau sap nhap la phuong gi", "phuong ben nghe quan 1", []string{"Phường Sài Gòn"}},
		{"Nhà tôi ở p.4 q.3, giờ làm căn cước ở đâu?", "p.4 q.3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}},
		{"xã Xuân Thới Thượng huyện Hóc Môn sáp nhập vào xã nào vậy", "xã Xuân Thới Thượng huyện Hóc Môn", []string{"Xã Bà Điểm"}},
		{"Tôi ở phường Bàn Cờ, nộp hồ sơ ở đâu?", "phường Bàn Cờ", []string{"Phường Bàn Cờ"}},
		{"toi o thu duc", "thu duc", []string{"Phường Thủ Đức"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			ms := u.Find(tt.text)
			require.NotEmpty(t, ms)
			assert.Equal(t, tt.mention, ms[0].Text)
			assert.ElementsMatch(t, tt.current, names(ms[0].Current()))
		})
	}
	for _, text := range []string{
		"Làm giấy khai sinh cho con cần những giấy tờ gì?",
		"chính sách trợ giúp xã hội thường xuyên",
		"Phường nào giải quyết thủ tục này? xã nào cũng được",
		"ủy ban cấp xã thành lập hội đồng",
		"hồ sơ chào bán cổ phiếu", // "bán cổ" folds to Bàn Cờ
		"",
	} {
		assert.Empty(t, u.Find(text), text)
	}
	// Two mentions, in order of confidence; the same unit twice is reported once.
	ms := u.Find("chuyển từ phường 4 quận 5 về phường Bến Nghé quận 1, phường Bến Nghé quận 1 nhé")
	require.Len(t, ms, 2)
	assert.ElementsMatch(t, []string{"Phường Bến Nghé", "Phường 4"}, []string{ms[0].Old.Name, ms[1].Old.Name})

	assert.Nil(t, u.Find(strings.Repeat("phường 4 ", knowledge.MaxQueryRunes)))
}

func TestUnitsPredecessors(t *testing.T) {
	u := testUnits(t)
	for _, q := range []string{"phường Bàn Cờ", "Ban Co", "27154"} {
		ps, err := u.Predecessors(q)
		require.NoError(t, err, q)
		got := map[string]bool{}
		for _, p := range ps {
			assert.Equal(t, "Phường Bàn Cờ", p.New.Name)
			assert.Equal(t, "Quận 3", p.Old.District)
			got[p.Old.Name] = p.Partial
		}
		assert.Equal(t, map[string]bool{"Phường 1": false, "Phường 2": false, "Phường 3": false, "Phường 4": true, "Phường 5": false}, got, q)
	}
	_, err := u.Predecessors("phường Bến Nghé")
	assert.ErrorIs(t, err, knowledge.ErrNotFound, "an old name only")
}

func TestUnitsErrors(t *testing.T) {
	u := testUnits(t)
	_, err := u.Lookup(strings.Repeat("a", knowledge.MaxQueryRunes+1))
	assert.ErrorIs(t, err, knowledge.ErrQueryTooLong)
	_, err = u.Lookup("  ")
	assert.ErrorIs(t, err, knowledge.ErrInvalid)
	_, err = u.Lookup("phường Không Có")
	assert.ErrorIs(t, err, knowledge.ErrNotFound)
	_, err = u.Lookup("4")
	assert.ErrorIs(t, err, knowledge.ErrNotFound, "a bare number is not a name")
	_, err = u.Predecessors(strings.Repeat("á", knowledge.MaxQueryRunes+1))
	assert.ErrorIs(t, err, knowledge.ErrQueryTooLong)
}

func TestUnitsNormalisesNames(t *testing.T) {
	u := testUnits(t)
	assert.Len(t, u.Provinces(), 3)
	assert.Len(t, u.Communes(), 11)
	assert.Len(t, u.Mappings(), 26)
	c, ok := u.Commune("27139")
	require.True(t, ok)
	assert.Equal(t, units.Unit{Code: "27139", Name: "Phường Xuân Hòa", Type: "Phường", ProvinceCode: "79", Province: "Thành phố Hồ Chí Minh"}, c)
	c, ok = u.Commune("15000")
	require.True(t, ok)
	assert.Equal(t, "Xã Thọ Xuân", c.Name)
	assert.Equal(t, "Xã", c.Type)
	assert.Equal(t, "Tỉnh Thanh Hóa", c.Province)
	ms, err := u.Lookup("thi tran tho xuan")
	require.NoError(t, err)
	assert.Equal(t, "Thị trấn Thọ Xuân", ms[0].Old.Name)
	assert.Equal(t, "Thị trấn", ms[0].Old.Type)
	_, ok = u.Commune("99999")
	assert.False(t, ok)
}

func TestNewUnitsRejectsInconsistentData(t *testing.T) {
	p := []units.Province{{Code: "79", Name: "Thành phố Hồ Chí Minh"}}
	c := []units.Unit{{Code: "26740", Name: "Phường Sài Gòn", ProvinceCode: "79"}}
	o := units.OldUnit{Code: "26740", Name: "Phường Bến Nghé", DistrictCode: "760", District: "Quận 1", ProvinceCode: "79", Province: "Thành phố Hồ Chí Minh"}
	tests := map[string]struct {
		p []units.Province
		c []units.Unit
		m []units.Mapping
	}{
		"unknown commune":  {p, c, []units.Mapping{{Old: o, New: units.Unit{Code: "1"}}}},
		"unknown province": {p, []units.Unit{{Code: "1", Name: "Xã A", ProvinceCode: "01"}}, nil},
		"duplicate":        {p, append(c, c...), nil},
		"duplicate pair":   {p, c, []units.Mapping{{Old: o, New: c[0]}, {Old: o, New: c[0]}}},
		"no old name":      {p, c, []units.Mapping{{Old: units.OldUnit{ProvinceCode: "79"}, New: c[0]}}},
		"empty province":   {[]units.Province{{Code: "79"}}, nil, nil},
	}
	for name, tt := range tests {
		_, err := units.New(tt.p, tt.c, tt.m)
		assert.ErrorIs(t, err, knowledge.ErrInvalid, name)
	}
}

func TestUnitsConcurrentUse(t *testing.T) {
	u := testUnits(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				ms, err := u.Lookup("p4 q3")
				if assert.NoError(t, err) {
					assert.Equal(t, "Phường 4", ms[0].Old.Name)
				}
				u.Find("phuong ben nghe quan 1 sau sap nhap la phuong gi")
			}
		})
	}
	wg.Wait()
}
