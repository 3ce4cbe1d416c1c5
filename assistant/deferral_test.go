package assistant

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWithoutDeferred(t *testing.T) {
	tests := []struct{ in, want string }{
		{"thôi để bằng lái sau, giờ làm lại căn cước", " giờ làm lại căn cước"},
		{"khoan hỏi bằng lái đã. làm lại căn cước thế nào", " làm lại căn cước thế nào"},
		{"không cần hộ chiếu nữa, đăng ký tạm trú ở đâu", " đăng ký tạm trú ở đâu"},
		{"bỏ qua chuyện xe, cho hỏi khai sinh", " cho hỏi khai sinh"},
		// Not a topic put aside: a purpose, a time, the whole message.
		{"làm hộ chiếu gấp để tuần sau đi công tác", "làm hộ chiếu gấp để tuần sau đi công tác"},
		{"để con đi học sau này cần giấy khai sinh", "để con đi học sau này cần giấy khai sinh"},
		{"thôi để sau", "thôi để sau"},
		{"thôi quốc tịch, cần giấy tờ gì", "thôi quốc tịch, cần giấy tờ gì"},
		{"nghỉ việc rồi thì khỏi đóng bhxh nữa hả, lãnh một lần được không",
			"nghỉ việc rồi thì khỏi đóng bhxh nữa hả, lãnh một lần được không"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, withoutDeferred(tt.in), tt.in)
	}
}
