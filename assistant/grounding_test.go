package assistant

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

var (
	catalogOnce sync.Once
	catalog     map[string]knowledge.Procedure
	catalogErr  error
)

// realRecords reads the named procedures from the real catalog in ../shared/data.
func realRecords(t *testing.T, codes ...string) []knowledge.Procedure {
	t.Helper()
	dir := filepath.Join(storetest.DataDir(t), "procedures", "dvcqg-2026")
	catalogOnce.Do(func() {
		ps, _, err := ingest.ReadCatalog(dir)
		catalogErr = err
		catalog = map[string]knowledge.Procedure{}
		for _, p := range ps {
			catalog[p.Code] = p
		}
	})
	require.NoError(t, catalogErr)
	out := make([]knowledge.Procedure, 0, len(codes))
	for _, c := range codes {
		p, ok := catalog[c]
		require.True(t, ok, "procedure %s is not in the catalog", c)
		out = append(out, p)
	}
	return out
}

func TestCheckGrounding(t *testing.T) {
	canCuoc := []string{"1.014064"}           // Cấp lại thẻ căn cước: 70.000 đồng, 7 ngày làm việc
	cuTru := []string{"1.004222", "1.004194"} // thường trú: 10.000/20.000 đồng, 7 ngày; tạm trú: 7.000/10.000 đồng, 3 ngày
	tests := []struct {
		name  string
		codes []string
		text  string
		bad   []string
	}{
		{"grounded fee and time", canCuoc,
			"Thủ tục Cấp lại thẻ căn cước (mã 1.014064): lệ phí 70.000 đồng/thẻ, thời hạn giải quyết 7 ngày làm việc.", nil},
		{"fee written with a comma", canCuoc, "Lệ phí là 70,000 VNĐ.", nil},
		{"fee without separators", canCuoc, "Lệ phí là 70000đ.", nil},
		{"fee in thousands", canCuoc, "Lệ phí 70 nghìn đồng.", nil},
		{"grouped number in a fee sentence", canCuoc, "Mức thu lệ phí: 70.000 cho mỗi thẻ.", nil},
		{"leading zero duration", canCuoc, "Không quá 07 ngày làm việc.", nil},
		{"days without working", canCuoc, "Khoảng 7 ngày là có thẻ.", nil},
		{"date in words is not a duration", canCuoc, "Giảm 50% đến hết ngày 31/12/2026 theo Thông tư số 64/2025/TT-BTC ngày 30/6/2025.", nil},
		{"date written in words", cuTru, "Thông tư 55/2021/TT-BCA ngày 15 tháng 5 năm 2021.", nil},
		{"invented fee", canCuoc, "Lệ phí cấp lại là 150.000 đồng.", []string{"150.000 đồng"}},
		{"the record's own reduction (bằng 50%)", canCuoc, "Hiện chỉ thu 35.000 đồng.", nil},
		{"a reduction the record does not state", canCuoc, "Hiện chỉ thu 14.000 đồng.", []string{"14.000 đồng"}},
		{"invented fee in millions", canCuoc, "Phí 1,5 triệu đồng.", []string{"1,5 triệu đồng"}},
		{"invented grouped fee", canCuoc, "Lệ phí: 150.000 mỗi thẻ.", []string{"150.000"}},
		{"invented code", canCuoc, "Xem thêm thủ tục mã 1.999999.", []string{"1.999999"}},
		{"code of another record", canCuoc, "Xem mã 1.004222.", []string{"1.004222"}},
		{"invented duration", canCuoc, "Thời hạn 15 ngày làm việc.", []string{"15 ngày làm việc"}},
		{"wrong unit", canCuoc, "Thời hạn 7 tháng.", []string{"7 tháng"}},
		{"several problems once each", canCuoc,
			"Mã 1.999999, phí 150.000 đồng, 3 ngày. Nhắc lại: phí 150.000 đồng.",
			[]string{"1.999999", "150.000 đồng", "3 ngày"}},
		{"two records", cuTru,
			"Đăng ký thường trú (mã 1.004222): nộp trực tuyến 10.000 đồng, trực tiếp 20.000 đồng, 7 ngày làm việc. " +
				"Đăng ký tạm trú (mã 1.004194): 7.000 đồng trực tuyến, 3 ngày làm việc.", nil},
		{"duration from a dossier note", cuTru, "Trong thời hạn 60 ngày kể từ ngày đăng ký khai sinh.", nil},
		{"fee of the other channel is still in the records", cuTru, "Lệ phí 20.000 đồng.", nil},
		{"no facts", canCuoc, "Bạn có thể nộp hồ sơ tại Công an cấp xã.", nil},
		{"legal numbers and dates are not facts", cuTru, "Theo Nghị định 154/2024/NĐ-CP ngày 26/11/2024.", nil},
		{"percent and step numbers are not facts", canCuoc, "Bước 1: nộp hồ sơ. Bước 2: nộp 50% lệ phí.", nil},
		{"no records", nil, "Lệ phí 70.000 đồng, mã 1.014064.", []string{"70.000 đồng", "1.014064"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckGrounding(tt.text, realRecords(t, tt.codes...))
			if tt.bad == nil {
				assert.Empty(t, got)
			} else {
				assert.Equal(t, tt.bad, got)
			}
		})
	}
}

func TestExtractFacts(t *testing.T) {
	facts := extractFacts("Mã 1.014064: phí 1.500.000 VND, 2 tỷ, 24 giờ, 3,5 ngày; năm 2026 lệ phí 20,000; năm 2027 có 30,000.", false)
	var got []string
	for _, f := range facts {
		got = append(got, f.text)
	}
	require.Equal(t, []string{"1.014064", "1.500.000 VND", "2 tỷ", "24 giờ", "3,5 ngày", "20,000"}, got)
	assert.Equal(t, int64(1_500_000), facts[1].money)
	assert.Equal(t, int64(2_000_000_000), facts[2].money)
	assert.Equal(t, "3.5 ngày", facts[4].key)
	assert.Equal(t, int64(20_000), facts[5].money)
}
