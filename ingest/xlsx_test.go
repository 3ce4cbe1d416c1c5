package ingest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/trolyao/trolyao/knowledge"
)

func TestReadXLSXReal(t *testing.T) {
	dir := filepath.Join(dataDir(t), "procedures", "portal-lists")
	crawled := map[string]knowledge.Procedure{}
	for _, p := range readCrawl(t) {
		crawled[p.Code] = p
	}
	tests := []struct {
		file     string
		n        int
		ministry string
	}{
		{"danh-sach-tthc-BoCongAn.xlsx", 339, "bo-cong-an"},
		{"danh-sach-tthc-BoTaiChinh.xlsx", 706, "bo-tai-chinh"},
		{"danh-sach-tthc-BoTuPhap.xlsx", 271, "bo-tu-phap"},
		{"danh-sach-tthc-BoXayDung.xlsx", 525, "bo-xay-dung"},
		{"danh-sach-tthc-NganhangNhanuocVietNam.xlsx", 261, "ngan-hang-nha-nuoc"},
		{"danh-sach-tthc-NongNghiepvaMoiTruong.xlsx", 537, "bo-nong-nghiep-mt"},
		{"toa-an-nhan-dan.xlsx", 3, "toa-an-nhan-dan"},
	}
	total, inCrawl, sameField, sameMinistry := 0, 0, 0, 0
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ps, problems, err := ReadXLSX(filepath.Join(dir, tt.file))
			require.NoError(t, err)
			assert.Empty(t, problems)
			require.Len(t, ps, tt.n)
			for i, p := range ps {
				if p.Ministry == tt.ministry {
					sameMinistry++ // the issuing body; a few rows name another ministry (1.003133)
				}
				assert.Equal(t, XLSXSource, p.Source)
				assert.False(t, p.SourceDate.IsZero(), "the workbook's date")
				assert.NotEmpty(t, p.Name)
				assert.NotContains(t, p.Name, "\n")
				assert.NotEmpty(t, p.Field, p.Code)
				if i > 0 {
					assert.Less(t, ps[i-1].Code, p.Code)
				}
				total++
				if c, ok := crawled[p.Code]; ok {
					inCrawl++
					// A list may name several fields, one per line. A few records of the crawl disagree with
					// the lists (the crawl's pages, not the parser: 3.000272 is "Nông nghiệp" there).
					if containsString(strings.Split(p.Field, "; "), c.Field) {
						sameField++
					}
				}
			}
		})
	}
	assert.Equal(t, 2642, total)
	assert.Equal(t, total, inCrawl, "every listed procedure is in the crawl")
	t.Logf("%d of %d listed procedures have the crawl's field", sameField, inCrawl)
	assert.Greater(t, sameField, inCrawl*97/100)
	assert.Greater(t, sameMinistry, total*99/100)

	ps, _, err := ReadXLSX(filepath.Join(dir, "toa-an-nhan-dan.xlsx"))
	require.NoError(t, err)
	p := ps[1] // 3.000164
	assert.Equal(t, "3.000164", p.Code)
	assert.Equal(t, "Đăng ký nhận các thông báo, văn bản tố tụng bằng phương tiện điện tử", p.Name)
	assert.Equal(t, "Tòa án", p.Field)
	assert.Equal(t, []string{"Tòa án nhân dân cấp cao", "Tòa án nhân dân tỉnh, thành phố trực thuộc trung ương",
		"Tòa án nhân dân cấp huyện, quận, thị xã, thành phố thuộc tỉnh và tương đương"}, p.Agencies)

	ps, _, err = ReadXLSX(filepath.Join(dir, "danh-sach-tthc-BoXayDung.xlsx"))
	require.NoError(t, err)
	for _, p := range ps {
		if p.Code == "1.115151" {
			assert.True(t, strings.HasPrefix(p.Name, "Thủ tục bán, cho thuê mua"), "leading space trimmed: %q", p.Name)
		}
	}
}

// writeXLSX builds a small workbook in a temporary folder.
func writeXLSX(t *testing.T, sheets map[string][][]any) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	first := true
	for name, rows := range sheets {
		if first {
			require.NoError(t, f.SetSheetName("Sheet1", name))
			first = false
		} else {
			_, err := f.NewSheet(name)
			require.NoError(t, err)
		}
		for i, row := range rows {
			cell, err := excelize.CoordinatesToCellName(1, i+1)
			require.NoError(t, err)
			require.NoError(t, f.SetSheetRow(name, cell, &row))
		}
	}
	path := filepath.Join(t.TempDir(), "list.xlsx")
	require.NoError(t, f.SaveAs(path))
	return path
}

func TestReadXLSXHandMade(t *testing.T) {
	path := writeXLSX(t, map[string][][]any{
		"DS": {
			{"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nDANH SÁCH THỦ TỤC HÀNH CHÍNH"},
			{},
			{"STT", "Lĩnh vực", "Tên thủ tục", "Mã số", "Cơ quan thực hiện", "Cơ quan ban hành", "Cấp thực hiện"},
			{1, "Hộ tịch", "Đăng ký  khai sinh", "1.001193", "Ủy ban nhân dân cấp xã", "Bộ Tư pháp", "Cấp xã"},
			{2, "Hộ tịch", "", "1.000001", "", "Bộ Tư pháp"},
			{3, "Hộ tịch", "Không mã", "", "", "Bộ Tư pháp"},
			{},
			{4, "Cư trú\nCư trú\nĐăng ký", "Đăng ký tạm trú", "1.004194", "Công an cấp xã\nCông an cấp tỉnh", "Bộ Công an", "Cấp xã, Cấp tỉnh"},
			{5, "Cư trú", "Bản trùng", "1.004194", "", "Bộ Công an"},
			{6, "Khác", "Cơ quan lạ", "9.999999", "", "Ủy ban Dân tộc"},
		},
		"Ghi chú": {{"không có bảng"}},
	})
	ps, problems, err := ReadXLSX(path)
	require.NoError(t, err)
	require.Len(t, ps, 3)
	assert.Equal(t, knowledge.Procedure{Code: "1.001193", Name: "Đăng ký khai sinh", Field: "Hộ tịch", Ministry: "bo-tu-phap",
		Levels: []knowledge.Level{knowledge.LevelCommune}, Agencies: []string{"Ủy ban nhân dân cấp xã"},
		Source: XLSXSource, SourceDate: ps[0].SourceDate}, ps[0])
	assert.Equal(t, []string{"Công an cấp xã", "Công an cấp tỉnh"}, ps[1].Agencies)
	assert.Equal(t, "Cư trú; Đăng ký", ps[1].Field)
	assert.Equal(t, "bo-cong-an", ps[1].Ministry)
	assert.Equal(t, "uy-ban-dan-toc", ps[2].Ministry)
	var fields []string
	for _, p := range problems {
		assert.Equal(t, path, p.File)
		fields = append(fields, p.Field+": "+p.Reason)
	}
	assert.Equal(t, []string{
		"DS!C5: missing procedure name",
		"DS!D6: missing procedure code",
		"DS!D9: duplicate procedure code 1.004194; kept DS!D8",
	}, fields)
}

func TestReadXLSXErrors(t *testing.T) {
	_, _, err := ReadXLSX(filepath.Join("testdata", "jsonl", "no-such.xlsx"))
	require.Error(t, err)

	path := writeXLSX(t, map[string][][]any{"DS": {{"A", "B"}, {"1", "2"}}})
	_, _, err = ReadXLSX(path)
	require.Error(t, err)
	assert.True(t, errors.Is(err, knowledge.ErrInvalid), err)

	notXLSX := filepath.Join(t.TempDir(), "x.xlsx")
	require.NoError(t, os.WriteFile(notXLSX, []byte("not a zip"), 0o644))
	_, _, err = ReadXLSX(notXLSX)
	require.Error(t, err)
}
