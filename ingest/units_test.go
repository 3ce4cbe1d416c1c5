package ingest

import (
	"encoding/csv"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/units"
)

// unitsDataDir is the real data folder: $TROLYAO_DATA, or ../shared/data beside the repository.
func unitsDataDir(t testing.TB) string { return dataDir(t) }

var realUnits struct {
	once sync.Once
	u    *units.Gazetteer
	err  error
}

// loadRealUnits loads the real data once for all tests.
func loadRealUnits(t testing.TB) *units.Gazetteer {
	t.Helper()
	dir := unitsDataDir(t)
	realUnits.once.Do(func() { realUnits.u, realUnits.err = LoadUnits(dir) })
	require.NoError(t, realUnits.err)
	return realUnits.u
}

func readUnitsCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	out := make([]map[string]string, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

func TestLoadUnitsRealCounts(t *testing.T) {
	u := loadRealUnits(t)
	assert.Len(t, u.Provinces(), 34)
	communes := u.Communes()
	assert.Len(t, communes, 3321)

	perType := map[string]int{}
	hcmc := 0
	for _, c := range communes {
		perType[c.Type]++
		if c.ProvinceCode == "79" {
			hcmc++
			assert.Equal(t, "Thành phố Hồ Chí Minh", c.Province)
		}
	}
	assert.Equal(t, 168, hcmc)
	assert.Equal(t, map[string]int{"Phường": 697, "Xã": 2611, "Đặc khu": 13}, perType, "as of July 2026")

	ms := u.Mappings()
	assert.Len(t, ms, 10_604, "10,600 rows of the CSV and 4 districts without communes from merges.json")
	hcmcRows, hcmcWards := 0, 0
	olds := map[string]bool{}
	preds := map[string]int{}
	for _, m := range ms {
		preds[m.New.Code]++
		if m.Old.Code != "" {
			olds[m.Old.Code] = true
		}
		if m.New.ProvinceCode == "79" {
			hcmcRows++
			if m.Old.Code != "" {
				hcmcWards++
			}
		}
		assert.NotEmpty(t, m.Resolution, m.Old.Name)
		assert.NotEmpty(t, m.Old.District, m.Old.Name)
		assert.False(t, strings.HasPrefix(m.Old.District, "Xã "), "district named like a commune: %+v", m.Old)
	}
	assert.Equal(t, 493, hcmcRows, "HCMC: 492 (old ward, new ward) pairs and Huyện Côn Đảo")
	assert.Equal(t, 492, hcmcWards)
	assert.Len(t, olds, 10_047)
	for _, c := range communes {
		assert.Positive(t, preds[c.Code], "%s %s has no predecessor", c.Code, c.Name)
	}
}

// The HCMC file of the same source is the all-country file restricted to HCMC: every pair is in the lookup.
func TestLoadUnitsRealMatchesHCMCFile(t *testing.T) {
	u := loadRealUnits(t)
	got := map[string]bool{}
	for _, m := range u.Mappings() {
		if m.New.ProvinceCode == "79" {
			got[m.Old.Code+"→"+m.New.Code] = m.Partial
		}
	}
	rows := readUnitsCSV(t, filepath.Join(unitsDataDir(t), "units/dvhcvn-20250701/old_to_new_wards_hcmc.csv"))
	want := map[string]bool{}
	for _, r := range rows {
		want[r["old_ward_code"]+"→"+r["new_ward_code"]] = r["merge_type"] == "partial"
	}
	assert.Len(t, rows, 493)
	assert.Equal(t, want, got)
}

// hcmc_168_units_with_predecessors.csv joins the 168 units with their predecessors: the counts agree.
func TestLoadUnitsRealHCMCPredecessors(t *testing.T) {
	u := loadRealUnits(t)
	rows := readUnitsCSV(t, filepath.Join(unitsDataDir(t), "units/vn-units-2026/hcmc_168_units_with_predecessors.csv"))
	require.Len(t, rows, 168)
	for _, r := range rows {
		c, ok := u.Commune(r["ward_code"])
		if !assert.True(t, ok, r["ward_code"]) {
			continue
		}
		assert.Equal(t, knowledge.Normalize(r["full_name"]), c.Name)
		ps, err := u.Predecessors(c.Code)
		require.NoError(t, err)
		listed := strings.Split(r["dvhcvn_old_units"], "; ")
		partial := 0
		for _, p := range ps {
			if p.Partial {
				partial++
			}
		}
		assert.Len(t, ps, len(listed), c.Name)
		assert.Equal(t, strings.Count(r["dvhcvn_old_units"], "[một phần]"), partial, c.Name)
	}
}

func TestUnitsRealLookupExamples(t *testing.T) {
	u := loadRealUnits(t)
	tests := []struct {
		q        string
		old      string // "Name, District"
		current  []string
		ambigous bool
	}{
		{"phường 4 quận 3", "Phường 4, Quận 3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}, false},
		{"Phường 4, Quận 3", "Phường 4, Quận 3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}, false},
		{"p4 q3", "Phường 4, Quận 3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}, false},
		{"P.04, Q.3, TP.HCM", "Phường 4, Quận 3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}, false},
		{"phuong 4 quan 3", "Phường 4, Quận 3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}, false},
		{"phuong ben nghe q1", "Phường Bến Nghé, Quận 1", []string{"Phường Sài Gòn"}, false},
		{"phường Bến Nghé quận 1", "Phường Bến Nghé, Quận 1", []string{"Phường Sài Gòn"}, false},
		{"xã Xuân Thới Thượng Hóc Môn", "Xã Xuân Thới Thượng, Huyện Hóc Môn", []string{"Xã Bà Điểm"}, false},
		{"xa xuan thoi thuong huyen hoc mon", "Xã Xuân Thới Thượng, Huyện Hóc Môn", []string{"Xã Bà Điểm"}, false},
		{"phuong 10 q go vap", "Phường 10, Quận Gò Vấp", []string{"Phường Gò Vấp"}, false},
		{"p.12, q. Tân Bình", "Phường 12, Quận Tân Bình", []string{"Phường Bảy Hiền"}, false},
		{"phường Thảo Điền quận 2", "Phường Thảo Điền, Thành phố Thủ Đức", []string{"Phường An Khánh"}, false},
		{"phường Phú Cường Thủ Dầu Một Bình Dương", "Phường Phú Cường, Thành phố Thủ Dầu Một", []string{"Phường Thủ Dầu Một"}, false},
		{"phường 4 Vũng Tàu", "Phường 4, Thành phố Vũng Tàu", []string{"Phường Vũng Tàu"}, false},
		{"tt Củ Chi", "Thị trấn Củ Chi, Huyện Củ Chi", []string{"Xã Tân An Hội"}, true}, // or the new xã Củ Chi
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			ms, err := u.Lookup(tt.q)
			require.NoError(t, err)
			m := ms[0]
			require.Equal(t, units.MatchOld, m.Kind, "%+v", ms)
			assert.Equal(t, tt.old, m.Old.Name+", "+m.Old.District)
			var got []string
			for _, c := range m.Current() {
				got = append(got, c.Name)
			}
			assert.ElementsMatch(t, tt.current, got)
			assert.Equal(t, tt.ambigous, m.Ambiguous)
		})
	}
}

func TestUnitsRealThuDuc(t *testing.T) {
	u := loadRealUnits(t)
	ms, err := u.Lookup("Thủ Đức")
	require.NoError(t, err)
	require.Len(t, ms, 2)
	// The current Phường Thủ Đức, then the old Thành phố Thủ Đức (now 12 wards): the caller should ask.
	assert.Equal(t, units.MatchNew, ms[0].Kind)
	assert.Equal(t, "Phường Thủ Đức", ms[0].Unit.Name)
	assert.Equal(t, units.MatchOldDistrict, ms[1].Kind)
	assert.Equal(t, "Thành phố Thủ Đức", ms[1].Old.District)
	assert.Len(t, ms[1].Current(), 12)
	assert.True(t, ms[0].Ambiguous)

	ms, err = u.Lookup("thanh pho thu duc")
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, units.MatchOldDistrict, ms[0].Kind)
}

func TestUnitsRealAmbiguousWard(t *testing.T) {
	u := loadRealUnits(t)
	for _, q := range []string{"phường 4", "phuong 04", "P4"} {
		ms, err := u.Lookup(q)
		require.NoError(t, err)
		require.Greater(t, len(ms), 10, q)
		districts := map[string]bool{}
		for i, m := range ms {
			assert.Equal(t, units.MatchOld, m.Kind)
			assert.Contains(t, []string{"Phường 4", "Phường IV"}, m.Old.Name) // Phường IV: Vị Thanh
			assert.True(t, m.Ambiguous, q)
			districts[m.Old.District] = true
			if i > 0 {
				assert.LessOrEqual(t, m.Score, ms[i-1].Score, "ranked")
			}
		}
		assert.Len(t, districts, len(ms), "one reading per district")
		// The old city's wards first, Quận 3 before Quận 10.
		assert.Equal(t, "Thành phố Hồ Chí Minh", ms[0].Old.Province)
		assert.Equal(t, "Quận 3", ms[0].Old.District)
		assert.True(t, districts["Thành phố Đà Lạt"])
	}
}

func TestUnitsRealFind(t *testing.T) {
	u := loadRealUnits(t)
	tests := []struct {
		text, mention string
		current       []string
	}{
		{"Phường 4 Quận 3 cũ giờ thuộc phường nào?", "Phường 4 Quận 3", []string{"Phường Bàn Cờ", "Phường Xuân Hòa"}},
		{"phuong ben nghe quan 1 sau sap nhap la phuong gi", "phuong ben nghe quan 1", []string{"Phường Sài Gòn"}},
		{"tôi ở xã Xuân Thới Thượng Hóc Môn, làm căn cước ở đâu", "xã Xuân Thới Thượng Hóc Môn", []string{"Xã Bà Điểm"}},
		{"Hồ sơ nộp ở phường Bàn Cờ được không?", "phường Bàn Cờ", []string{"Phường Bàn Cờ"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			ms := u.Find(tt.text)
			require.NotEmpty(t, ms)
			assert.Equal(t, tt.mention, ms[0].Text)
			var got []string
			for _, c := range ms[0].Current() {
				got = append(got, c.Name)
			}
			assert.ElementsMatch(t, tt.current, got)
		})
	}
	for _, text := range []string{
		"Làm giấy khai sinh cho con cần những giấy tờ gì?",
		"Làm sổ đỏ lần đầu cho đất của gia đình",
		"Hồ sơ chào bán cổ phiếu riêng lẻ bao gồm những gì?",
		"Những người như thế nào thì được hưởng chính sách trợ giúp xã hội thường xuyên tại cộng đồng?",
		"Trình tự thu hồi đất do người sử dụng đất tự nguyện trả lại đất?",
		"dang ky khai sinh cho be o phuong can mang theo gi",
	} {
		assert.Empty(t, u.Find(text), text)
	}
}

func TestUnitsRealPredecessorsBanCo(t *testing.T) {
	u := loadRealUnits(t)
	ps, err := u.Predecessors("phường Bàn Cờ")
	require.NoError(t, err)
	got := map[string]bool{}
	for _, p := range ps {
		assert.Equal(t, "Quận 3", p.Old.District)
		assert.Equal(t, "27154", p.New.Code)
		assert.Equal(t, "1685/NQ-UBTVQH15", p.Resolution)
		got[p.Old.Name] = p.Partial
	}
	assert.Equal(t, map[string]bool{"Phường 1": false, "Phường 2": false, "Phường 3": false, "Phường 4": true, "Phường 5": false}, got)

	// A new name typed as such: already current, with its predecessors.
	ms, err := u.Lookup("phường Sài Gòn")
	require.NoError(t, err)
	require.Equal(t, units.MatchNew, ms[0].Kind)
	assert.False(t, ms[0].Ambiguous)
	var old []string
	for _, p := range ms[0].Mappings {
		old = append(old, p.Old.Name)
	}
	assert.ElementsMatch(t, []string{"Phường Bến Nghé", "Phường Đa Kao", "Phường Nguyễn Thái Bình"}, old)
}

// Edge cases of the sources, on hand-written files in testdata/units.
func TestLoadUnitsSourceQuirks(t *testing.T) {
	u, err := LoadUnits("testdata")
	require.NoError(t, err)
	assert.Len(t, u.Provinces(), 4)
	assert.Len(t, u.Communes(), 6)
	assert.Len(t, u.Mappings(), 7, "six CSV rows and Bạch Long Vĩ; Côn Đảo is not added twice")

	// The district name the CSV gets wrong for Kiên Hải.
	ms, err := u.Lookup("xã Hòn Tre")
	require.NoError(t, err)
	assert.Equal(t, "Huyện Kiên Hải", ms[0].Old.District)
	assert.Equal(t, "Đặc khu Kiên Hải", ms[0].Current()[0].Name)

	// A commune whose code changed after 1 July 2025 is found by name; names are normalised.
	ms, err = u.Lookup("thị trấn Ba Chẽ")
	require.NoError(t, err)
	assert.Equal(t, "Thị trấn Ba Chẽ", ms[0].Old.Name)
	assert.Equal(t, units.Unit{Code: "06978", Name: "Xã Ba Chẽ", Type: "Xã", ProvinceCode: "22", Province: "Tỉnh Quảng Ninh"}, ms[0].Current()[0])

	// A district without communes, from merges.json, with its province found from its code.
	ms, err = u.Lookup("huyện Bạch Long Vĩ")
	require.NoError(t, err)
	require.Equal(t, units.MatchOldDistrict, ms[0].Kind)
	assert.Equal(t, "Thành phố Hải Phòng", ms[0].Old.Province)
	require.Len(t, ms[0].Mappings, 1)
	assert.Equal(t, "Đặc khu Bạch Long Vĩ", ms[0].Mappings[0].New.Name)
	assert.Equal(t, "1669/NQ-UBTVQH15", ms[0].Mappings[0].Resolution)

	ps, err := u.Predecessors("đặc khu Côn Đảo")
	require.NoError(t, err)
	require.Len(t, ps, 1)
	assert.Equal(t, units.OldUnit{Name: "Huyện Côn Đảo", Type: "Huyện", DistrictCode: "755", District: "Huyện Côn Đảo",
		ProvinceCode: "77", Province: "Tỉnh Bà Rịa - Vũng Tàu"}, ps[0].Old)

	ms, err = u.Lookup("tỉnh Kiên Giang")
	require.NoError(t, err)
	assert.Equal(t, units.MatchOldProvince, ms[0].Kind)
	assert.Equal(t, "Tỉnh An Giang", ms[0].Province.Name)
}

func TestLoadUnitsErrors(t *testing.T) {
	_, err := LoadUnits(t.TempDir())
	assert.ErrorIs(t, err, fs.ErrNotExist)

	copyFixture := func(t *testing.T) string {
		dir := t.TempDir()
		for _, f := range []string{UnitsCurrentFile, UnitsMappingFile, UnitsMergesFile} {
			b, err := os.ReadFile(filepath.Join("testdata", f))
			require.NoError(t, err)
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
		}
		return dir
	}
	tests := map[string]struct {
		file, content string
	}{
		"missing column": {UnitsMappingFile, "old_ward,new_ward\nPhường 1,Phường 2\n"},
		"bad merge type": {UnitsMappingFile, "old_province_code,old_province,old_district_code,old_district,old_ward_code,old_ward,new_province_code,new_ward_code,new_ward,merge_type,resolution\n" +
			"79,Thành phố Hồ Chí Minh,760,Quận 1,26740,Phường Bến Nghé,79,26740,Phường Sài Gòn,whole,1685/NQ-UBTVQH15\n"},
		"unknown commune": {UnitsMappingFile, "old_province_code,old_province,old_district_code,old_district,old_ward_code,old_ward,new_province_code,new_ward_code,new_ward,merge_type,resolution\n" +
			"79,Thành phố Hồ Chí Minh,760,Quận 1,26740,Phường Bến Nghé,79,99999,Phường Không Có,full,1685/NQ-UBTVQH15\n"},
		"broken json":   {UnitsCurrentFile, `[{"Code": "79"`},
		"broken merges": {UnitsMergesFile, `{"data": 1}`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := copyFixture(t)
			require.NoError(t, os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.content), 0o644))
			u, err := LoadUnits(dir)
			assert.Error(t, err)
			assert.Nil(t, u)
			if name == "unknown commune" {
				assert.True(t, errors.Is(err, knowledge.ErrInvalid))
			}
		})
	}
}

func BenchmarkLoadUnits(b *testing.B) {
	dir := unitsDataDir(b)
	for b.Loop() {
		if _, err := LoadUnits(dir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFind(b *testing.B) {
	u := loadRealUnits(b)
	texts := []string{
		"Phường 4 Quận 3 cũ giờ thuộc phường nào?",
		"phuong ben nghe quan 1 sau sap nhap la phuong gi",
		"Tôi ở xã Xuân Thới Thượng Hóc Môn, muốn làm giấy khai sinh cho con thì nộp hồ sơ ở đâu, mất bao lâu?",
		"Làm giấy khai sinh cho con cần những giấy tờ gì?",
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		u.Find(texts[i%len(texts)])
		i++
	}
}

func BenchmarkLookup(b *testing.B) {
	u := loadRealUnits(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := u.Lookup("p4 q3"); err != nil {
			b.Fatal(err)
		}
	}
}
