package assistant

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/trolyao/trolyao/knowledge"
)

func TestPreferSaidVariant(t *testing.T) {
	hits := func(names ...string) []knowledge.Hit {
		out := make([]knowledge.Hit, len(names))
		for i, n := range names {
			out[i] = knowledge.Hit{Code: n, Name: n, Score: 2 - 0.1*float64(i)}
		}
		return out
	}
	for _, c := range []struct {
		msg   string
		names []string
		first string
	}{
		// The sibling whose distinguishing words the citizen says comes first.
		{"doi bang lai cong an nhan dan", []string{"Đổi giấy phép lái xe", "Đổi giấy phép lái xe Công an nhân dân"},
			"Đổi giấy phép lái xe Công an nhân dân"},
		{"Cap lai the thuong tru can ban sao ho chieu", []string{"Cấp đổi thẻ thường trú cho người nước ngoài", "Cấp lại thẻ thường trú cho người nước ngoài"},
			"Cấp lại thẻ thường trú cho người nước ngoài"},
		{"mất gp đào tạo lái xe", []string{"Cấp Giấy phép đào tạo lái xe", "Cấp lại Giấy phép đào tạo lái xe khi bị mất"},
			"Cấp lại Giấy phép đào tạo lái xe khi bị mất"},
		{"mat giay phep xay dung cong trinh cap 1 lam lai", []string{
			"Cấp lại giấy phép xây dựng đối với công trình cấp III, cấp IV",
			"Cấp lại giấy phép xây dựng đối với công trình cấp đặc biệt, cấp I, cấp II"},
			"Cấp lại giấy phép xây dựng đối với công trình cấp đặc biệt, cấp I, cấp II"},
		// Said words of neither: the ranking stands.
		{"Công nhân ở trọ khu công nghiệp có cần làm tạm trú không", []string{"Gia hạn tạm trú", "Đăng ký tạm trú"},
			"Gia hạn tạm trú"},
		// The "lái" of "sân tập lái", common to both, is not the "lại" of "Chấp thuận lại".
		{"xin chap thuan san tap lai sat hach xe may", []string{"Chấp thuận hoạt động của sân tập lái để sát hạch lái xe mô tô",
			"Chấp thuận lại hoạt động của sân tập lái để sát hạch lái xe mô tô"},
			"Chấp thuận hoạt động của sân tập lái để sát hạch lái xe mô tô"},
		// Not evidence: "bao lâu" is not "báo", "thủ tục" is not "thu hồi", "một" is an article, a word of
		// a generic paper ("giấy") against a long qualifier.
		{"Đăng ký thường trú mất bao lâu thì xong?", []string{"Đăng ký thường trú",
			"Khai báo thông tin về cư trú đối với người chưa đủ điều kiện đăng ký thường trú, đăng ký tạm trú"},
			"Đăng ký thường trú"},
		{"Thu tuc cap giay phep sat hach cho trung tâm loại 2", []string{
			"Cấp giấy phép sát hạch cho trung tâm sát hạch lái xe loại 1, loại 2",
			"Thu hồi giấy phép sát hạch của trung tâm sát hạch lái xe loại 1, loại 2"},
			"Cấp giấy phép sát hạch cho trung tâm sát hạch lái xe loại 1, loại 2"},
		{"hợp tác với một bạn mở công ty TNHH hai thành viên", []string{
			"Đăng ký thành lập công ty TNHH hai thành viên trở lên", "Đăng ký thành lập công ty TNHH một thành viên"},
			"Đăng ký thành lập công ty TNHH hai thành viên trở lên"},
		{"đăng ký khai sinh cần giấy tờ gì", []string{"Thủ tục đăng ký khai sinh",
			"Thủ tục đăng ký khai sinh cho người đã có hồ sơ, giấy tờ cá nhân"},
			"Thủ tục đăng ký khai sinh"},
		{"dang ky khai sinh can ho so gi", []string{"Thủ tục đăng ký khai sinh",
			"Thủ tục đăng ký khai sinh cho người đã có hồ sơ, giấy tờ cá nhân"},
			"Thủ tục đăng ký khai sinh"},
		{"lam giay khai sinh online duoc khong", []string{"Thủ tục đăng ký khai sinh",
			"Thủ tục đăng ký khai sinh cho người đã có hồ sơ, giấy tờ cá nhân"},
			"Thủ tục đăng ký khai sinh"},
		// Context in another clause is not evidence.
		{"Vợ chồng tôi mới chuyển về Bình Dương, xin lại chứng chỉ hành nghề môi giới", []string{
			"Cấp lại chứng chỉ hành nghề môi giới", "Cấp mới chứng chỉ hành nghề môi giới"},
			"Cấp lại chứng chỉ hành nghề môi giới"},
		{"Tôi mới chuyển về Bình Dương, đổi thẻ thường trú", []string{
			"Cấp đổi thẻ thường trú", "Cấp mới thẻ thường trú"},
			"Cấp đổi thẻ thường trú"},
		// Said words of both: the best stays.
		{"mat ho chieu trong nuoc phai bao trong may ngay", []string{
			"Trình báo mất hộ chiếu phổ thông (thực hiện tại cấp xã)", "Cấp hộ chiếu phổ thông ở trong nước (thực hiện tại cấp tỉnh)"},
			"Trình báo mất hộ chiếu phổ thông (thực hiện tại cấp xã)"},
		// Not siblings: names that share too little.
		{"sáp nhập công ty luật", []string{"Sáp nhập công ty luật",
			"Đăng ký thay đổi nội dung đăng ký doanh nghiệp đối với công ty nhận sáp nhập"},
			"Sáp nhập công ty luật"},
	} {
		got := preferSaidVariant(hits(c.names...), c.msg)
		assert.Equal(t, c.first, got[0].Name, c.msg)
		assert.Len(t, got, len(c.names), c.msg)
		assert.GreaterOrEqual(t, got[0].Score, got[1].Score, "%s: scores stay in order", c.msg)
	}
}
