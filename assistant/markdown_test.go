package assistant_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/trolyao/trolyao/assistant"
)

func TestPlainText(t *testing.T) {
	md := "**Cấp lại thẻ căn cước** (mã 1.014064).\nThời hạn: 7 ngày làm việc.\n\n**Lệ phí:**\n- Nộp trực tiếp: 70.000 đồng\n" +
		"Nguồn: [Cổng Dịch vụ công quốc gia – mã 1.014064](https://dichvucong.gov.vn/thu-tuc-hanh-chinh/x) (dữ liệu ngày 01/07/2026)."
	want := "Cấp lại thẻ căn cước (mã 1.014064).\nThời hạn: 7 ngày làm việc.\n\nLệ phí:\n• Nộp trực tiếp: 70.000 đồng\n" +
		"Nguồn: Cổng Dịch vụ công quốc gia – mã 1.014064: https://dichvucong.gov.vn/thu-tuc-hanh-chinh/x (dữ liệu ngày 01/07/2026)."
	assert.Equal(t, want, assistant.PlainText(md))
	assert.Equal(t, "a [b] (c)", assistant.PlainText("a [b] (c)"), "brackets that are not a link stay text")
	assert.Equal(t, "x: javascript:alert(1)", assistant.PlainText("x: javascript:alert(1)"))
	assert.Equal(t, "[x](javascript:alert(1))", assistant.PlainText("[x](javascript:alert(1))"), "only http(s) links are links")
}

func TestLabelsDistinct(t *testing.T) {
	names := []string{
		"Cấp Phiếu Lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam, người Việt Nam đang cư trú ở nước ngoài",
		"Cấp Phiếu Lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam theo yêu cầu của cơ quan nhà nước",
		"Cấp lại giấy phép lái xe",
	}
	for _, n := range []int{20, 40, 80} {
		got := assistant.Labels(names, n)
		seen := map[string]bool{}
		for i, l := range got {
			assert.LessOrEqual(t, utf8.RuneCountInString(l), n, l)
			assert.False(t, seen[l], "%d: %q repeated in %q", n, l, got)
			seen[l] = true
			if utf8.RuneCountInString(names[i]) <= n {
				assert.Equal(t, names[i], l, "a short name is kept whole")
			}
		}
	}
	got := assistant.Labels(names, 80)
	assert.True(t, strings.HasPrefix(got[1], "Cấp Phiếu Lý lịch"), got[1])
	assert.Contains(t, got[1], "theo yêu cầu", "the words that tell it apart")
}
