package assistant

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
)

// recordOf is the real catalog's record of code.
func recordOf(t *testing.T, code string) knowledge.Procedure {
	t.Helper()
	for _, p := range allRecords(t) {
		if p.Code == code {
			return p.Clone() // the records are shared by the package's tests
		}
	}
	t.Fatalf("no record %s", code)
	return knowledge.Procedure{}
}

// A record staff published is cited as theirs — the unit and the day (in Vietnam) — on the portal record it
// is based on, still linked; without attribution the portal and its data date are cited as before.
func TestStaffSourceLine(t *testing.T) {
	p := recordOf(t, "1.014064")
	portal := citationLine(&p)
	assert.Equal(t, "Nguồn: [Cổng Dịch vụ công quốc gia – mã 1.014064]("+p.URL+") (dữ liệu ngày 01/07/2026).", portal)

	p.Attribution = knowledge.Attribution{By: "lan.tran", Unit: "UBND phường Bàn Cờ",
		At: time.Date(2026, 12, 6, 18, 30, 0, 0, time.UTC)} // 01:30 on 7 December in Hồ Chí Minh City
	assert.Equal(t, "Nguồn: cập nhật bởi UBND phường Bàn Cờ ngày 07/12/2026, dựa trên "+
		"[Cổng Dịch vụ công quốc gia – mã 1.014064]("+p.URL+").", citationLine(&p))
	for _, full := range []bool{false, true} {
		text := compose(&p, []Intent{IntentFee}, full, place{}, "")
		assert.Contains(t, text, "\nNguồn: cập nhật bởi UBND phường Bàn Cờ ngày 07/12/2026, dựa trên [")
		assert.NotContains(t, text, "dữ liệu ngày")
	}

	p.Attribution.Unit = ""
	assert.Equal(t, "Nguồn: cán bộ cập nhật ngày 07/12/2026, dựa trên [Cổng Dịch vụ công quốc gia – mã 1.014064]("+p.URL+").",
		citationLine(&p))
	p.Attribution.Unit = "UBND **phường** [Bàn Cờ]\n(cũ)"
	assert.Contains(t, citationLine(&p), "cập nhật bởi UBND phường (Bàn Cờ) (cũ) ngày", "a unit never breaks the Markdown")

	// A procedure staff wrote themselves is not said to be based on the portal; the portal is still linked.
	own := knowledge.Procedure{Code: "HCM-001", Name: "Thủ tục riêng của phường",
		Attribution: knowledge.Attribution{By: "lan.tran", Unit: "UBND phường Bàn Cờ", At: p.Attribution.At}}
	assert.Equal(t, "Nguồn: cập nhật bởi UBND phường Bàn Cờ ngày 07/12/2026 (mã HCM-001; tra cứu thêm: "+
		"[Cổng Dịch vụ công quốc gia]("+PortalURL+")).", citationLine(&own))
}

// Once staff set a fee, what is left of the portal's note says nothing of fees: the fee cell's note (amounts,
// the 50% reduction) and the description's fee sentences go, the rest of the description stays as written.
func TestNoteWithoutFees(t *testing.T) {
	p := recordOf(t, "1.014064") // cấp lại thẻ căn cước: 70.000 đồng, 50% until 31/12/2026
	inPerson, ok := p.Channel(knowledge.ChannelInPerson)
	require.True(t, ok)
	require.Contains(t, inPerson.Note, "bằng 50% mức thu nêu trên")
	got := NoteWithoutFees(inPerson)
	assert.Equal(t, "- Trực tiếp tại trụ sở Công an cấp xã hoặc bộ phận một cửa cấp xã trong cả nước không phụ thuộc vào nơi cư trú. "+
		"- Thời gian tiếp nhận hồ sơ: Giờ hành chính các ngày làm việc từ thứ 2 đến thứ 6 và sáng thứ 7 hàng tuần "+
		"(trừ các ngày nghỉ lễ, tết theo quy định của pháp luật). Thời hạn giải quyết: Không quá 07 ngày làm việc.", got)

	postal, ok := p.Channel(knowledge.ChannelPostal)
	require.True(t, ok)
	assert.Empty(t, NoteWithoutFees(postal), "“trả phí theo quy định” is about the fee")

	for _, tc := range []struct{ note, want string }{
		{"Nộp tại bộ phận một cửa. Lệ phí: 25.000đ/bản.", "Nộp tại bộ phận một cửa."},
		{"Miễn lệ phí cho hộ nghèo\nNhận kết quả trong ngày", "Nhận kết quả trong ngày"},
		{"Giảm 30% khi nộp trực tuyến; nhận kết quả qua bưu điện.", "nhận kết quả qua bưu điện."},
		{"Thu 100000 VNĐ mỗi hồ sơ. Từ năm 2025 đồng bộ dữ liệu dân cư.", "Từ năm 2025 đồng bộ dữ liệu dân cư."},
		{"Hồ sơ nộp kèm phiếu đề nghị; không phụ thuộc nơi cư trú.", "Hồ sơ nộp kèm phiếu đề nghị; không phụ thuộc nơi cư trú."},
	} {
		assert.Equal(t, tc.want, NoteWithoutFees(knowledge.Channel{Note: tc.note}), tc.note)
	}

	// The answer from the cleaned channels states the new amount alone: no reduction, no portal amount.
	for i := range p.Channels {
		p.Channels[i].Note, p.Channels[i].Text = NoteWithoutFees(p.Channels[i]), ""
		p.Channels[i].Fees = []knowledge.Fee{{Amount: 80000, Label: "Lệ phí"}}
		p.Channels[i].Free, p.Channels[i].FeeNA = false, false
	}
	got = fees(&p, dec2026)
	assert.Equal(t, "Lệ phí:\n- Mọi hình thức nộp: 80.000 đồng", got)
}
