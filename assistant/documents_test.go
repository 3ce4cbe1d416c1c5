package assistant_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// When a record has a dossier per case, the papers of the case the citizen describes come first — in the
// question itself or in the one that brought the procedure up — and without a case the record's order stays.
func TestDocumentsOfTheAskersCase(t *testing.T) {
	a := newAssistant(t)
	tests := []struct {
		name, q, code, first string
	}{
		{"by list", "đăng ký tạm trú theo danh sách cho công nhân của công ty cần giấy tờ gì", "1.004194",
			"Đăng ký tạm trú theo danh sách, hồ sơ gồm:"},
		{"house", "xin giấy phép xây dựng nhà ở riêng lẻ 3 tầng cần hồ sơ gì", "1.013225",
			"(1.7) Đối với công trình nhà ở riêng lẻ:"},
		{"no case", "đăng ký tạm trú cần giấy tờ gì", "1.004194", "Hồ sơ đăng ký tạm trú gồm:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans := reply(t, a, "docs-"+tt.name, tt.q)
			require.Equal(t, tt.code, cited(ans)[0], ans.Text)
			assert.Equal(t, tt.first, firstGroup(ans.Text), ans.Text)
		})
	}

	// A follow-up keeps the case of the question before it.
	reply(t, a, "docs-follow", "nhà ở riêng lẻ 3 tầng xin giấy phép xây dựng mới ở phường thì sao")
	ans := reply(t, a, "docs-follow", "cần giấy tờ gì")
	require.Equal(t, "1.013225", cited(ans)[0], ans.Text)
	assert.Equal(t, "(1.7) Đối với công trình nhà ở riêng lẻ:", firstGroup(ans.Text), ans.Text)
}

// firstGroup is the first group heading of an answer's dossier section.
func firstGroup(text string) string {
	_, rest, ok := strings.Cut(text, "Hồ sơ cần chuẩn bị:")
	if !ok {
		return ""
	}
	lines := strings.Split(strings.TrimLeft(rest, "*\n"), "\n")
	return strings.TrimSpace(lines[0])
}

// The first answer lists the papers everyone needs, each ending at a sentence end, and names every paper for
// particular cases in one "Tùy trường hợp" line rather than hiding them behind "… và N giấy tờ khác".
func TestDocumentsBriefNamesCasePapers(t *testing.T) {
	a := newAssistant(t)
	ans := reply(t, a, "brief-death", "ba tôi mất tại nhà, làm khai tử cần giấy tờ gì")
	require.Equal(t, "1.000656", cited(ans)[0], ans.Text)
	assert.Contains(t, ans.Text, "- Giấy báo tử hoặc giấy tờ thay Giấy báo tử do cơ quan có thẩm quyền cấp. (1 bản chính)")
	assert.Contains(t, ans.Text, "- Tùy trường hợp: Mẫu hộ tịch điện tử tương tác đăng ký khai tử; Tờ khai đăng ký khai tử; Văn bản ủy quyền")
	assert.NotContains(t, ans.Text, "Trường hợp người yêu cầu đã nộp…", "an item cut mid-sentence")
}

// A power of attorney is needed only when someone else files: it is never listed as everyone's paper.
func TestDocumentsProxyIsConditional(t *testing.T) {
	a := newAssistant(t)
	ans := reply(t, a, "proxy", "xin phiếu lý lịch tư pháp cần giấy tờ gì")
	require.Equal(t, "3.000333", cited(ans)[0], ans.Text)
	for _, l := range strings.Split(ans.Text, "\n") {
		if strings.Contains(l, "Văn bản ủy quyền") {
			assert.True(t, strings.HasPrefix(l, "- Tùy trường hợp:"), "a power of attorney as everyone's paper: %q", l)
		}
	}
	assert.Contains(t, ans.Text, "Văn bản ủy quyền")
}
