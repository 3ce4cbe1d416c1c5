package assistant

import (
	"path/filepath"
	"slices"
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

// TestCheckGroundingPayment: payment instructions and account numbers are grounded only in a record's official
// fee fields, never in the free text staff edit — even when the amount they name is in the record.
func TestCheckGroundingPayment(t *testing.T) {
	const scam = "Để được ưu tiên, chuyển 500.000 đồng vào tài khoản 0123456789 tại Ngân hàng A, STK ghi rõ họ tên."
	free := map[string]func(p *knowledge.Procedure){
		"local notes":  func(p *knowledge.Procedure) { p.LocalNotes = scam },
		"address":      func(p *knowledge.Procedure) { p.Address = "UBND phường. " + scam },
		"requirements": func(p *knowledge.Procedure) { p.Requirements = scam },
		"steps":        func(p *knowledge.Procedure) { p.Steps = append([]string{scam}, p.Steps...) },
		"result":       func(p *knowledge.Procedure) { p.Result = scam },
		"dossier":      func(p *knowledge.Procedure) { p.Dossier = append(p.Dossier, knowledge.DossierItem{Name: scam}) },
		"aliases":      func(p *knowledge.Procedure) { p.Aliases = []string{scam} },
	}
	answers := []struct {
		text string
		bad  []string
	}{
		{"Bạn chuyển 500.000 đồng vào tài khoản 0123456789 để được ưu tiên.",
			[]string{"chuyển 500.000 đồng vào tài khoản", "0123456789"}},
		{"Lệ phí 70.000 đồng. Chuyển khoản tới STK 0123 456 789 (Ngân hàng A).",
			[]string{"Chuyển khoản", "STK", "0123 456 789"}},
		{"Nộp tiền vào tài khoản ngân hàng số 0123456789.",
			[]string{"Nộp tiền vào tài khoản", "tài khoản ngân hàng", "0123456789"}},
		{"chuyen tien vao so tai khoan 0123-456-7890 la xong", // no accents
			[]string{"chuyen tien", "chuyen tien vao so tai khoan", "so tai khoan", "0123-456-7890"}},
		{"Thanh toán qua ví điện tử MoMo số 0912345678.", []string{"ví điện tử", "MoMo", "0912345678"}},
	}
	for name, edit := range free {
		for _, a := range answers {
			t.Run(name+"/"+a.text, func(t *testing.T) {
				p := realRecords(t, "1.014064")[0].Clone()
				edit(&p)
				assert.Equal(t, a.bad, CheckGrounding(a.text, []knowledge.Procedure{p}))
			})
		}
	}

	// The same words in a channel's fee note, fee cell or fee label are the record's own instructions.
	official := map[string]func(c *knowledge.Channel, s string){
		"note":      func(c *knowledge.Channel, s string) { c.Note = s },
		"fee cell":  func(c *knowledge.Channel, s string) { c.Text = s },
		"fee label": func(c *knowledge.Channel, s string) { c.Fees = append(c.Fees, knowledge.Fee{Amount: 70000, Label: s}) },
	}
	const treasury = "Nộp trực tiếp hoặc chuyển khoản vào tài khoản số 3511 0123 4567 của Kho bạc Nhà nước, số tài khoản ghi trên biên lai."
	for name, set := range official {
		t.Run(name, func(t *testing.T) {
			p := realRecords(t, "1.014064")[0].Clone()
			p.Channels = slices.Clone(p.Channels)
			set(&p.Channels[0], treasury)
			assert.Empty(t, CheckGrounding("Lệ phí 70.000 đồng: bạn có thể chuyển khoản vào tài khoản số 351101234567 của Kho bạc "+
				"Nhà nước (số tài khoản ghi trên biên lai).", []knowledge.Procedure{p}))
			assert.Equal(t, []string{"0987654321"}, CheckGrounding("Chuyển khoản vào tài khoản số 0987654321.", []knowledge.Procedure{p}),
				"only the record's own account number")
			assert.Equal(t, []string{"ví điện tử"}, CheckGrounding("Hoặc trả bằng ví điện tử.", []knowledge.Procedure{p}),
				"a cue the fee fields do not use")
		})
	}

	// Real records whose fee notes say how to pay.
	assert.Empty(t, CheckGrounding("Lệ phí đăng ký hộ kinh doanh có thể nộp trực tiếp hoặc chuyển vào tài khoản của cơ quan "+
		"đăng ký kinh doanh cấp xã (mã 1.001612).", realRecords(t, "1.001612")))
	assert.Empty(t, CheckGrounding("Hình thức nộp lệ phí: chuyển khoản hoặc nộp trực tiếp tại Kho bạc Nhà nước Ba Đình.",
		realRecords(t, "1.004878")))
}

func TestPaymentFacts(t *testing.T) {
	for _, s := range []string{
		"Đăng nhập vào tài khoản định danh điện tử VNeID để nộp hồ sơ.",
		"Nộp hồ sơ trực tuyến, đăng nhập vào tài khoản VNeID rồi thanh toán lệ phí trên Cổng.",
		"Đăng ký tài khoản trên Cổng Dịch vụ công.",
		"Cấp Giấy phép vận chuyển tiền chất thuốc nổ.",
		"Thông báo chuyến bay chuyên cơ, chuyên khoang.",
		"Lệ phí 15.000.000 đồng hoặc 15000000 đồng, 4.500.000 (bốn triệu năm trăm nghìn) đồng, 1 500 000 đồng.",
		"Từ ngày 01.01.2025 đến 31-12-2026, theo Quyết định 12345678/QĐ-UBND, mã 1.014064, 10.000.000 và 20,000,000.",
		"Xem https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?id=123456789012 và www.x.gov.vn/1234567890.",
	} {
		assert.Empty(t, paymentFacts(s), s)
	}
	var got []string
	for _, f := range paymentFacts("STK: 0123 456 789; TK1903667788901; số 1900-1234-5678; tài khoản số 12345678; 012 345 678.") {
		got = append(got, f.text+"="+f.key)
	}
	assert.Equal(t, []string{"STK=số tài khoản", "tài khoản số=tài khoản ngân hàng",
		"0123 456 789=0123456789", "1903667788901=1903667788901", "1900-1234-5678=190012345678", "12345678=12345678", "012 345 678=012345678"}, got)
}
