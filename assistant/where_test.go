package assistant_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/internal/racetest"
	"github.com/trolyao/trolyao/internal/realcatalog"
	"github.com/trolyao/trolyao/knowledge"
)

// receiveAnywhere is the city's rule for commune-level dossiers, which every where-answer for one must state.
const receiveAnywhere = "không phụ thuộc địa giới hành chính"

// A where-question names the centre of the ward the citizen names, new or old, with the receive-anywhere rule,
// and says how far the address was checked when not to a high confidence.
func TestWhereNamesTheWardsCentre(t *testing.T) {
	a := newAssistant(t)
	tests := []struct {
		name, q, code string
		want, not     []string
	}{
		{"new ward", "đăng ký khai sinh ở phường Bàn Cờ nộp ở đâu", "1.001193",
			[]string{"Trung tâm Phục vụ hành chính công phường Bàn Cờ: 611/20 Điện Biên Phủ", "ĐT 028.38396136", receiveAnywhere},
			[]string{"chưa được xác minh", "Xuân Hòa", "Cho tôi biết phường"}},
		{"old ward split in two", "đăng ký khai sinh ở phường 4 quận 3 cũ nộp ở đâu", "1.001193",
			[]string{"Phường 4, Quận 3 (cũ) nay thuộc Phường Bàn Cờ, Phường Xuân Hòa",
				"Trung tâm Phục vụ hành chính công phường Bàn Cờ: 611/20 Điện Biên Phủ",
				"Trung tâm Phục vụ hành chính công phường Xuân Hòa: 99 Trần Quốc Thảo", receiveAnywhere},
			nil},
		{"old ward without diacritics", "dang ky ket hon o phuong ben nghe quan 1 nop o dau", "1.000894",
			[]string{"Phường Bến Nghé, Quận 1 (cũ) nay thuộc Phường Sài Gòn", "Trung tâm Phục vụ hành chính công phường Sài Gòn:", receiveAnywhere},
			nil},
		{"medium confidence", "đăng ký kết hôn ở phường Phú Lợi nộp ở đâu", "1.000894",
			[]string{"Trung tâm Phục vụ hành chính công phường Phú Lợi: Số 438, đường Phú Lợi",
				"địa chỉ theo Thông báo 243/TB-UBND, chưa được xác minh thêm", receiveAnywhere},
			nil},
		{"low confidence", "đăng ký kết hôn ở phường An Phú Đông nộp ở đâu", "1.000894",
			[]string{"Số 540 Hà Huy Giáp", "địa chỉ chưa được xác minh, nên gọi Tổng đài 1022", receiveAnywhere},
			nil},
		{"ward unknown", "đăng ký khai sinh nộp ở đâu", "1.001193",
			[]string{receiveAnywhere, "Cho tôi biết phường, xã của bạn", "Tổng đài 1022", "Cổng dịch vụ công TP.HCM"},
			[]string{"Trung tâm Phục vụ hành chính công phường"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans := reply(t, a, "where-"+tt.name, tt.q)
			require.Equal(t, tt.code, cited(ans)[0], ans.Text)
			for _, w := range tt.want {
				assert.Contains(t, ans.Text, w)
			}
			for _, w := range tt.not {
				assert.NotContains(t, ans.Text, w)
			}
		})
	}
}

// The ward named once is remembered: a later "nộp ở đâu" names its centre.
func TestWhereRemembersTheWard(t *testing.T) {
	a := newAssistant(t)
	reply(t, a, "remember", "tôi ở phường 4 quận 3, đăng ký kết hôn cần giấy tờ gì")
	ans := reply(t, a, "remember", "nộp ở đâu")
	require.Equal(t, []string{"1.000894"}, cited(ans))
	assert.Contains(t, ans.Text, "Trung tâm Phục vụ hành chính công phường Bàn Cờ")
	assert.Contains(t, ans.Text, receiveAnywhere)
}

// A province-level procedure goes to the city centre or the agency; a police procedure to the police, online
// through VNeID.
func TestWhereProvinceAndPolice(t *testing.T) {
	a := newAssistant(t)
	ans := reply(t, a, "province", "đăng ký thành lập doanh nghiệp tư nhân nộp ở đâu")
	require.Equal(t, "2.001610", cited(ans)[0])
	assert.Contains(t, ans.Text, "Nơi nộp: Sở Tài chính")
	assert.Contains(t, ans.Text, "Trung tâm Phục vụ hành chính công TP.HCM (43 Nguyễn Văn Bá, phường Thủ Đức)")
	assert.NotContains(t, ans.Text, receiveAnywhere, "the commune rule is not claimed for a province-level procedure")

	ans = reply(t, a, "police", "mất căn cước làm lại ở đâu, tôi ở phường Bàn Cờ")
	require.Equal(t, "1.014064", cited(ans)[0])
	assert.Contains(t, ans.Text, "VNeID")
	assert.Contains(t, ans.Text, "Công an phường Bàn Cờ")
	assert.Contains(t, ans.Text, "Tổng đài 1022")
	assert.NotContains(t, ans.Text, "611/20 Điện Biên Phủ", "the ward's centre is not where the police take dossiers")

	ans = reply(t, a, "police-province", "cấp phiếu lý lịch tư pháp nộp ở đâu")
	require.Equal(t, "3.000333", cited(ans)[0])
	assert.Contains(t, ans.Text, "Công an Thành phố Hồ Chí Minh")
	assert.Contains(t, ans.Text, "VNeID")
}

// Without centres data the assistant still says where to go, without an address.
func TestWhereWithoutCentres(t *testing.T) {
	a := newAssistant(t)
	a.Centres = nil
	ans := reply(t, a, "nil", "đăng ký khai sinh ở phường Bàn Cờ nộp ở đâu")
	require.Equal(t, "1.001193", cited(ans)[0])
	assert.Contains(t, ans.Text, "Phường Bàn Cờ: chưa có địa chỉ trung tâm trong dữ liệu")
	assert.Contains(t, ans.Text, receiveAnywhere)
	assert.NotContains(t, ans.Text, "611/20")
}

// A centre staff corrected is named as corrected at once — address, phone, opening hours and the day it was
// checked — without the seed's address or an "unchecked" note; with the correction withdrawn the seed is back.
func TestWhereStaffCorrectedCentre(t *testing.T) {
	c := realcatalog.Load(t)
	a := newAssistant(t)
	live := knowledge.NewLiveCentres(c.Centres)
	a.Centres = live
	q := "đăng ký khai sinh ở phường Bàn Cờ nộp ở đâu"
	ans := reply(t, a, "seed", q)
	require.Equal(t, "1.001193", cited(ans)[0])
	require.Contains(t, ans.Text, "611/20 Điện Biên Phủ")

	fixed := knowledge.Centre{UnitCode: "27154", Name: "Trung tâm Phục vụ hành chính công phường Bàn Cờ",
		Address: "185 Cách Mạng Tháng Tám, phường Bàn Cờ", Precision: knowledge.PrecisionHouse, Phone: "028 3930 1234",
		Hours:   "Thứ Hai – Thứ Sáu, 7:30–11:30 và 13:00–17:00; sáng Thứ Bảy 7:30–11:30",
		Checked: time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)} // 8 December in Việt Nam
	require.NoError(t, live.Correct([]knowledge.Centre{fixed}))
	ans = reply(t, a, "corrected", q)
	require.Equal(t, "1.001193", cited(ans)[0])
	assert.Contains(t, ans.Text, "Trung tâm Phục vụ hành chính công phường Bàn Cờ: 185 Cách Mạng Tháng Tám, phường Bàn Cờ, "+
		"ĐT 028 3930 1234; giờ làm việc: Thứ Hai – Thứ Sáu, 7:30–11:30 và 13:00–17:00; sáng Thứ Bảy 7:30–11:30 "+
		"(cán bộ cập nhật ngày 08/12/2026).")
	assert.NotContains(t, ans.Text, "611/20 Điện Biên Phủ")
	assert.NotContains(t, ans.Text, "028.38396136")
	assert.NotContains(t, ans.Text, "chưa được xác minh")
	assert.Contains(t, ans.Text, receiveAnywhere)

	// A ward question names the corrected centre too.
	ans = reply(t, a, "ward", "phường 4 quận 3 giờ là phường nào")
	assert.Contains(t, ans.Text, "185 Cách Mạng Tháng Tám")

	require.NoError(t, live.Correct(nil))
	ans = reply(t, a, "reverted", q)
	assert.Contains(t, ans.Text, "611/20 Điện Biên Phủ")
	assert.NotContains(t, ans.Text, "185 Cách Mạng Tháng Tám")
	assert.NotContains(t, ans.Text, "cán bộ cập nhật")
}

// Every commune-level procedure that is not the police's, asked where, states the receive-anywhere rule; every
// procedure, asked everything for a citizen of an old ward split in three (the longest where section), stays
// within the message limit and states nothing ungrounded.
func TestWhereWholeCatalog(t *testing.T) {
	c := realcatalog.Load(t)
	ms, err := c.Units.Lookup("phường Tân Tạo quận Bình Tân")
	require.NoError(t, err)
	split := ms[0].Current()
	require.Len(t, split, 3, "an old ward split in three at the reform")
	all := []assistant.Intent{assistant.IntentDocuments, assistant.IntentFee, assistant.IntentTime,
		assistant.IntentWhere, assistant.IntentOnline, assistant.IntentSteps, assistant.IntentRequirements,
		assistant.IntentResult, assistant.IntentLegal}
	commune, sectoral := 0, 0
	for i := 0; i < len(c.Procedures); i += racetest.Stride {
		p := &c.Procedures[i]
		where := assistant.ComposeAt(p, []assistant.Intent{assistant.IntentWhere}, split, c.Centres)
		if p.HasLevel(knowledge.LevelCommune) && !isPolice(p) && ownOffice(p) {
			sectoral++
			if strings.Contains(where, receiveAnywhere) || strings.Contains(where, "bất kỳ phường") {
				t.Errorf("%s: filed with %v, but the where-answer sends the citizen to any ward's centre:\n%s", p.Code, p.Agencies, where)
			}
		} else if p.HasLevel(knowledge.LevelCommune) && !isPolice(p) {
			commune++
			if !strings.Contains(where, receiveAnywhere) {
				t.Errorf("%s: a commune-level where-answer without the receive-anywhere rule:\n%s", p.Code, where)
			}
		}
		text := assistant.ComposeAt(p, all, split, c.Centres)
		require.LessOrEqual(t, utf8.RuneCountInString(text), assistant.MaxAnswerRunes, p.Code)
		if bad := assistant.CheckGroundingAnyField(where, c.Procedures[i:i+1]); len(bad) > 0 {
			t.Errorf("%s: the where-answer states ungrounded %v", p.Code, bad)
		}
	}
	assert.Greater(t, commune, 200/racetest.Stride, "the commune-level procedures were checked")
	assert.Greater(t, sectoral, 100/racetest.Stride, "the commune-level procedures of tax, customs, insurance … were checked")
}

// ownOffice reports whether every agency of a record is a body that receives its own dossiers (tax, customs,
// social insurance, the treasury, a court, a notary, a land registration office).
func ownOffice(p *knowledge.Procedure) bool {
	n := 0
	for _, ag := range p.Agencies {
		f := knowledge.Fold(ag)
		if strings.TrimSpace(f) == "" || f == "khong co thong tin" {
			continue
		}
		n++
		if !strings.Contains(f, "thue") && !strings.Contains(f, "hai quan") && !strings.Contains(f, "bao hiem xa hoi") &&
			!strings.Contains(f, "kho bac") && !strings.Contains(f, "toa an") && !strings.Contains(f, "cong chung") &&
			!strings.Contains(f, "dang ky dat dai") {
			return false
		}
	}
	return n > 0
}

// A social-insurance claim filed through the employer, or a tax return, is not sent to "any ward's centre": the
// answer names the employer route and the agency the record names.
func TestWhereSectoralAgency(t *testing.T) {
	a := newAssistant(t)
	ans := reply(t, a, "sick", "vợ tôi đang làm công ty, nghỉ ốm hưởng chế độ ốm đau nộp hồ sơ ở đâu")
	require.Equal(t, "1.001667", cited(ans)[0], ans.Text)
	assert.Contains(t, ans.Text, "đơn vị sử dụng lao động")
	assert.Contains(t, ans.Text, "Bảo hiểm xã hội")
	assert.NotContains(t, ans.Text, receiveAnywhere)
	assert.NotContains(t, ans.Text, "bất kỳ phường")

	ans = reply(t, a, "tax", "khai thuế hộ kinh doanh nộp ở đâu")
	require.Equal(t, "1.011022", cited(ans)[0], ans.Text)
	assert.Contains(t, ans.Text, "Nơi nộp: Thuế cơ sở")
	assert.NotContains(t, ans.Text, receiveAnywhere)
}

func isPolice(p *knowledge.Procedure) bool {
	if p.Ministry == "bo-cong-an" {
		return true
	}
	for _, ag := range p.Agencies {
		if strings.Contains(knowledge.Fold(ag), "cong an") {
			return true
		}
	}
	return false
}

// The record's reception address is part of a where-answer when it is one plain line (a ministry's office, the
// counter staff set for their unit), and a long portal description (another province's arrangements) is not
// copied into it.
func TestWhereReceptionAddress(t *testing.T) {
	c := realcatalog.Load(t)
	shown, hidden := 0, 0
	for i := range c.Procedures {
		p := &c.Procedures[i]
		addr := strings.TrimSpace(p.Address)
		if addr == "" {
			continue
		}
		where := assistant.ComposeAt(p, []assistant.Intent{assistant.IntentWhere}, nil, c.Centres)
		if utf8.RuneCountInString(addr) > 200 {
			hidden++
			assert.NotContains(t, where, "Địa chỉ tiếp nhận", p.Code)
			continue
		}
		if len(p.Agencies) > 0 && strings.Contains(where, "Địa chỉ tiếp nhận: ") {
			shown++
			assert.Contains(t, where, strings.TrimRight(addr, ". "), p.Code)
		}
	}
	assert.Greater(t, shown, 100, "one-line reception addresses are shown")
	assert.Greater(t, hidden, 10, "long descriptions were checked")

	var p knowledge.Procedure
	for _, q := range c.Procedures {
		if q.Code == "1.014064" {
			p = q.Clone()
		}
	}
	require.Equal(t, "1.014064", p.Code)
	p.Address = "Quầy số 7, Trung tâm hành chính công thử nghiệm"
	where := assistant.ComposeAt(&p, []assistant.Intent{assistant.IntentWhere}, nil, c.Centres)
	assert.Contains(t, where, "Địa chỉ tiếp nhận: Quầy số 7, Trung tâm hành chính công thử nghiệm.")
}

// A ward the named district did not have at the reform is said to be missing there, the same-named wards of
// other districts are offered once as quick replies, and a tap on one answers it; a bare name is a unit when
// the question is plainly about the reform.
func TestWardLookupAmbiguous(t *testing.T) {
	a := newAssistant(t)
	for _, q := range []string{"Phường 7 Quận 3 giờ là phường nào", "phuong 7 quan 3 gio la phuong nao"} {
		ans := reply(t, a, "p7q3-"+q, q)
		assert.Contains(t, ans.Text, "Quận 3 (cũ) không có Phường 7", q)
		assert.Contains(t, ans.Text, "Phường 7, Quận 5 (cũ) nay thuộc Phường An Đông", q)
		assert.NotContains(t, ans.Text, `"phuong 7"`, q)
		assert.Empty(t, ans.Citations, q)
		require.Contains(t, ans.Suggestions, "Phường 7, Quận 5 cũ", q)
		assert.Len(t, ans.Suggestions, 5, q)
	}
	ans := reply(t, a, "p7q3-tap", "Phường 7, Quận 5 cũ")
	assert.Contains(t, ans.Text, "Phường 7, Quận 5 (cũ) nay thuộc Phường An Đông")

	ans = reply(t, a, "p7", "phường 7 giờ là phường nào")
	assert.Contains(t, ans.Text, `Có nhiều đơn vị tên "Phường 7"`)
	assert.NotContains(t, ans.Text, "không có Phường 7")

	ans = reply(t, a, "thu-duc", "Thủ Đức giờ là phường nào")
	assert.Contains(t, ans.Text, "Thành phố Thủ Đức (cũ) nay được chia về")
	assert.Empty(t, ans.Citations)
}
