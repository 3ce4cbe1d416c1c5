package assistant

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
)

func TestBuildPrompt(t *testing.T) {
	recs := realRecords(t, "1.014064")
	q := "Tôi mất căn cước số 001099012345, SĐT 0912 345 678, cấp lại hết bao nhiêu tiền?"
	system, user, err := BuildPrompt(q, []string{"fee", "time", "fee", "greeting"}, recs,
		[]string{"Người dân: email tôi là a.b@gmail.com", "Trợ lý: Bạn cần hỗ trợ thủ tục nào?"})
	require.NoError(t, err)

	for _, want := range []string{"Chỉ trả lời dựa trên", "mã 1.014064", "1.500 ký tự", "Markdown", "<cau_hoi>"} {
		assert.Contains(t, system, want)
	}
	for _, want := range []string{
		"[1] Cấp lại thẻ căn cước (mã 1.014064)",
		"- Trực tiếp: thời hạn 7 Ngày làm việc; lệ phí 70.000 đồng",
		"- Trực tuyến: thời hạn 7 Ngày làm việc",
		"- Bưu chính:",
		"Cơ quan thực hiện: Công an cấp Xã",
		"(mẫu: Mẫu DC02 Phiếu đề nghị giải quyết thủ tục về căn cước) — 1 bản chính",
		"Trình tự thực hiện:",
		"Kết quả: Thẻ căn cước",
		"Căn cứ pháp lý: 190/2025/NQ-QH15",
		"Đường dẫn: https://dichvucong.gov.vn/thu-tuc-hanh-chinh/",
		"Người dân muốn biết: lệ phí, thời hạn giải quyết.",
		"<cau_hoi>\nTôi mất căn cước số [CCCD], SĐT [SĐT], cấp lại hết bao nhiêu tiền?\n</cau_hoi>",
		"- Người dân: email tôi là [EMAIL]",
	} {
		assert.Contains(t, user, want)
	}
	for _, leak := range []string{"001099012345", "0912 345 678", "a.b@gmail.com"} {
		assert.NotContains(t, user, leak)
		assert.NotContains(t, system, leak)
	}
	assert.NotContains(t, user, "MuCT01", "mangled form file names are dropped")
	assert.NotContains(t, user, "{{")
}

func TestBuildPromptBounded(t *testing.T) {
	huge := strings.Repeat("Giấy tờ rất dài ", 2000)
	var recs []knowledge.Procedure
	for _, c := range []string{"1.000001", "1.000002", "1.000003", "1.000004", "1.000005"} {
		p := knowledge.Procedure{Code: c, Name: huge, Requirements: huge, Result: huge, Address: huge}
		for range 100 {
			p.Dossier = append(p.Dossier, knowledge.DossierItem{Name: huge, Group: huge, Originals: 1})
			p.Steps = append(p.Steps, huge)
			p.Legal = append(p.Legal, knowledge.LegalDoc{Title: huge})
		}
		for range 5 {
			p.Channels = append(p.Channels, knowledge.Channel{Kind: knowledge.ChannelOnline, Note: huge,
				Fees: []knowledge.Fee{{Amount: 1000, Label: huge}}})
		}
		recs = append(recs, p)
	}
	var history []string
	for range 50 {
		history = append(history, huge)
	}
	system, user, err := BuildPrompt(huge, nil, recs, history)
	require.NoError(t, err)
	assert.Contains(t, user, "[3] ")
	assert.NotContains(t, user, "[4] ")
	assert.NotContains(t, user, "1.000004")
	assert.Contains(t, system, "mã 1.000001")
	limit := PromptMaxRecords*promptRecordRunes + promptHistoryTurns*(promptHistoryRunes+3) + knowledge.MaxQueryRunes + 500
	assert.LessOrEqual(t, utf8.RuneCountInString(user), limit)
	_, hist, ok := strings.Cut(user, "Các lượt trao đổi trước:")
	require.True(t, ok)
	hist, _, _ = strings.Cut(hist, "<cau_hoi>")
	assert.Equal(t, promptHistoryTurns, strings.Count(hist, "\n- Giấy tờ rất dài"), "history turns")
}

func TestBuildPromptNoRecords(t *testing.T) {
	_, user, err := BuildPrompt("xin chào", nil, nil, nil)
	require.NoError(t, err)
	assert.Contains(t, user, "Không có hồ sơ thủ tục nào phù hợp")
	assert.NotContains(t, user, "Người dân muốn biết")
}

func TestClipRunes(t *testing.T) {
	assert.Equal(t, "ngắn", clipRunes("  ngắn ", 10))
	got := clipRunes("một hai ba bốn năm sáu bảy", 12)
	assert.LessOrEqual(t, utf8.RuneCountInString(got), 12)
	assert.Equal(t, "một hai ba…", got)
	assert.Equal(t, "70.000", groupThousands(70000))
	assert.Equal(t, "1.500.000", groupThousands(1500000))
	assert.Equal(t, "999", groupThousands(999))
}
