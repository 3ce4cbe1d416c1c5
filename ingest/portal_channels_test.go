package ingest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
)

func TestParseChannels(t *testing.T) {
	type row struct {
		kind  knowledge.ChannelKind
		time  knowledge.Duration
		fees  []int64
		free  bool
		na    bool
		note  string
		text  string
		label string // of the first fee, when given
	}
	day := func(v float64, unit, text string) knowledge.Duration {
		return knowledge.Duration{Value: v, Unit: unit, Text: text}
	}
	tests := []struct {
		name string
		in   string
		want []row
	}{
		{"bare times, free",
			"Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến1Miễn phíDịch vụ bưu chính1Miễn phíTrực tiếp1Miễn phí",
			[]row{{kind: online, time: day(1, "", "1"), free: true, text: "Miễn phí"},
				{kind: postal, time: day(1, "", "1"), free: true, text: "Miễn phí"},
				{kind: inPerson, time: day(1, "", "1"), free: true, text: "Miễn phí"}}},
		{"fees in the note of a free cell",
			"Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến5 Ngày làm việcMiễn phí(Lệ phí cấp giấy phép lái xe: 135.000 đồng/lần. Trường hợp nộp trực tuyến từ 01/12/2023 đến hết ngày 31/12/2025, áp dụng mức thu lệ phí là 115.000 đồng/lần cấp.)Trực tiếp5 Ngày làm việcMiễn phí",
			[]row{{kind: online, time: day(5, "ngày làm việc", "5 Ngày làm việc"), fees: []int64{135_000, 115_000}, free: true,
				note:  "Lệ phí cấp giấy phép lái xe: 135.000 đồng/lần. Trường hợp nộp trực tuyến từ 01/12/2023 đến hết ngày 31/12/2025, áp dụng mức thu lệ phí là 115.000 đồng/lần cấp.",
				text:  "Miễn phí(Lệ phí cấp giấy phép lái xe: 135.000 đồng/lần. Trường hợp nộp trực tuyến từ 01/12/2023 đến hết ngày 31/12/2025, áp dụng mức thu lệ phí là 115.000 đồng/lần cấp.)",
				label: "Lệ phí cấp giấy phép lái xe (mỗi lần)"},
				{kind: inPerson, time: day(5, "ngày làm việc", "5 Ngày làm việc"), free: true, text: "Miễn phí"}}},
		{"no information, then a description",
			"Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếp30 NgàyKhông có thông tinNộp hồ sơ tại Bộ phận Một cửa.Trực tuyến30 NgàyKhông có thông tin",
			[]row{{kind: inPerson, time: day(30, "ngày", "30 Ngày"), na: true, note: "Nộp hồ sơ tại Bộ phận Một cửa.", text: "Không có thông tin"},
				{kind: online, time: day(30, "ngày", "30 Ngày"), na: true, text: "Không có thông tin"}}},
		{"amount cell with a reduction note and a description",
			"Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến7 Ngày làm việc10,000 Việt Nam Đồng(Lệ phí : 20.000 Đồng (Giảm 50% đến hết ngày 31/12/2026))Nộp qua Cổng Dịch vụ công quốc gia; - Trực tiếp tại Công an xã.",
			[]row{{kind: online, time: day(7, "ngày làm việc", "7 Ngày làm việc"), fees: []int64{10_000, 20_000},
				note:  "Lệ phí : 20.000 Đồng (Giảm 50% đến hết ngày 31/12/2026)\nNộp qua Cổng Dịch vụ công quốc gia; - Trực tiếp tại Công an xã.",
				text:  "10,000 Việt Nam Đồng(Lệ phí : 20.000 Đồng (Giảm 50% đến hết ngày 31/12/2026))",
				label: "Phí, lệ phí"}}},
		{"bare time glued to the amount",
			"Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến140,000 Việt Nam Đồng(- Xe ô tô từ 10 chỗ trở lên)Trực tiếp1200 VNĐ(200.000 vnđ / tờ khai độc lập)",
			[]row{{kind: online, time: day(1, "", "1"), fees: []int64{40_000}, note: "- Xe ô tô từ 10 chỗ trở lên",
				text: "40,000 Việt Nam Đồng(- Xe ô tô từ 10 chỗ trở lên)", label: "Xe ô tô từ 10 chỗ trở lên"},
				{kind: inPerson, time: day(1, "", "1"), fees: []int64{200_000}, note: "200.000 vnđ / tờ khai độc lập",
					text: "200 VNĐ(200.000 vnđ / tờ khai độc lập)", label: "Phí, lệ phí (mỗi tờ khai độc lập)"}}},
		{"USD and a unit-only note",
			"Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếpKhông có thông tin10 USD(/bản)Tại cơ quan đại diện: 10 USD/bản.",
			[]row{{kind: inPerson, time: knowledge.Duration{Text: "Không có thông tin"}, note: "/bản\nTại cơ quan đại diện: 10 USD/bản.", text: "10 USD(/bản)"}}},
		{"free-text time cells",
			"Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyếnKhông phải trả kết quả cho người nộp thuếMiễn phíQua Cổng dịch vụ công quốc giaDịch vụ bưu chínhKhôngKhông có thông tinQua bưu chính",
			[]row{{kind: online, time: knowledge.Duration{Text: "Không phải trả kết quả cho người nộp thuế"}, free: true, note: "Qua Cổng dịch vụ công quốc gia", text: "Miễn phí"},
				{kind: postal, time: knowledge.Duration{Text: "Không"}, na: true, note: "Qua bưu chính", text: "Không có thông tin"}}},
		{"hours, months, an unclosed note",
			"Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến8 GiờMiễn phíTrực tiếp3 Tháng2,500,000 Việt Nam Đồng(Phí thẩm định: 2.500.000 đồng/hồ sơ",
			[]row{{kind: online, time: day(8, "giờ", "8 Giờ"), free: true, text: "Miễn phí"},
				{kind: inPerson, time: day(3, "tháng", "3 Tháng"), fees: []int64{2_500_000}, note: "Phí thẩm định: 2.500.000 đồng/hồ sơ",
					text: "2,500,000 Việt Nam Đồng(Phí thẩm định: 2.500.000 đồng/hồ sơ)", label: "Phí thẩm định (mỗi hồ sơ)"}}},
		{"only the header", "Hình thức nộpThời gianPhí, lệ phíMô tả", nil},
		{"empty", "", nil},
		{"garbage", "Không có thông tin", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseChannels(tt.in)
			require.Len(t, got, len(tt.want))
			for i, w := range tt.want {
				c := got[i]
				assert.Equal(t, w.kind, c.Kind, "row %d", i)
				assert.Equal(t, w.time, c.Time, "row %d", i)
				assert.Equal(t, w.fees, amounts(c), "row %d", i)
				assert.Equal(t, w.free, c.Free, "row %d", i)
				assert.Equal(t, w.na, c.FeeNA, "row %d", i)
				assert.Equal(t, w.note, c.Note, "row %d", i)
				assert.Equal(t, w.text, c.Text, "row %d", i)
				if w.label != "" {
					assert.Equal(t, w.label, c.Fees[0].Label, "row %d", i)
				}
			}
		})
	}
}

func TestFindFees(t *testing.T) {
	tests := []struct {
		in     string
		amount []int64
		labels []string
	}{
		{"Lệ phí : 20.000 Đồng", []int64{20_000}, []string{"Lệ phí"}},
		{"10,000 Việt Nam Đồng", []int64{10_000}, []string{"Phí, lệ phí"}},
		{"Lệ phí cấp giấy phép lái xe: 135.000 đồng/lần.", []int64{135_000}, []string{"Lệ phí cấp giấy phép lái xe (mỗi lần)"}},
		{"* Theo quy định tại Thông tư 25/2022/TT-BTC ngày 28/4/2022: 01 triệu đồng/lần cấp.", []int64{1_000_000},
			[]string{"Theo quy định tại Thông tư 25/2022/TT-BTC ngày 28/4/2022 (mỗi lần cấp)"}},
		{"Cho một loại hình sản phẩm hoặc dịch vụ: 8.000.000/lần; thêm một loại hình: 2.000.000/lần.", []int64{8_000_000, 2_000_000},
			[]string{"Cho một loại hình sản phẩm hoặc dịch vụ (mỗi lần)", "thêm một loại hình (mỗi lần)"}},
		{"Sát hạch thực hành, Phí: 400000 Đồng (- Sát hạch bổ sung năng định)", []int64{400_000}, []string{"Sát hạch thực hành, Phí"}},
		{" Phí: 600000 Đồng (Sát hạch cấp giấy phép lần đầu)", []int64{600_000}, []string{"Sát hạch cấp giấy phép lần đầu"}},
		{"từ 20.000 đồng đối với hàng hóa xuất khẩu; 200.000 đồng đối với hàng quá cảnh", []int64{20_000, 200_000},
			[]string{"đối với hàng hóa xuất khẩu", "đối với hàng quá cảnh"}},
		{"2.000 đồng/trang; từ trang thứ 3 trở lên thu 1.000 đồng/trang, tối đa thu không quá 200.000 đồng/bản", []int64{2_000, 1_000, 200_000},
			[]string{"Phí, lệ phí (mỗi trang)", "từ trang thứ 3 trở lên (mỗi trang)", "tối đa thu không quá (mỗi bản)"}},
		{"20.000Đ/tờ khai", []int64{20_000}, []string{"Phí, lệ phí (mỗi tờ khai)"}},
		{"áp dụng mức phí 1.000.000 đồng/hồ sơ kể từ ngày 01/7/2025", []int64{1_000_000}, []string{"áp dụng mức phí (mỗi hồ sơ)"}},
		// Not amounts in đồng: dates, document numbers, percentages, USD, weights, a billion-đồng threshold.
		{"Thông tư số 85/2019/TT-BTC ngày 29/11/2019; 50% mức thu; 145 USD/thẻ; tàu bay từ 5.700 kg; dưới 2,1 tỷ đồng", nil, nil},
		{"Quyết định 1234/QĐ-BTC; 15.000.0000 đồng", nil, nil},
		{"", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			fees := findFees(tt.in)
			var got []int64
			var labels []string
			for _, f := range fees {
				got = append(got, f.Amount)
				labels = append(labels, f.Label)
			}
			assert.Equal(t, tt.amount, got)
			assert.Equal(t, tt.labels, labels)
		})
	}
}

func TestSplitTimeAndAmount(t *testing.T) {
	tests := []struct {
		digits       string
		noted        []int64
		time, amount string
	}{
		{"140,000", nil, "1", "40,000"},
		{"1100", []int64{100_000}, "1", "100"},
		{"220", []int64{20_000}, "2", "20"},
		{"120", nil, "1", "20"},
		{"1100,000", nil, "1", "100,000"},
		{"1250", []int64{250_000}, "1", "250"},
		{"10", nil, "1", "0"},
		{"5", nil, "5", ""},
	}
	for _, tt := range tests {
		ti, am := splitTimeAndAmount(tt.digits, tt.noted)
		assert.Equal(t, tt.time, ti, tt.digits)
		assert.Equal(t, tt.amount, am, tt.digits)
	}
}

func TestWellFormedAmount(t *testing.T) {
	for s, ok := range map[string]bool{"0": true, "40,000": true, "1.500.000": true, "100": true, "1500": true,
		"0,000": false, "05": false, "40,00": false, "1234,000": false, "": false, "1..0": false} {
		assert.Equal(t, ok, wellFormedAmount(s), s)
	}
}
