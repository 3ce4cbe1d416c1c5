package ingest

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/trolyao/trolyao/knowledge"
)

func TestParseSteps(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"- Nộp hồ sơ tại Trung \nnộp hồ sơ.\n+ Trường hợp hồ sơ đầy đủ thì tiếp nhận.\n\n(i) Trường hợp khác.",
			[]string{"Nộp hồ sơ tại Trung nộp hồ sơ.", "Trường hợp hồ sơ đầy đủ thì tiếp nhận.", "(i) Trường hợp khác."}},
		{"Bước 1: Chuẩn bị hồ sơ. Bước 2: Nộp hồ sơ; - Trực tiếp tại xã; - Trực tuyến.",
			[]string{"Bước 1: Chuẩn bị hồ sơ.", "Bước 2: Nộp hồ sơ;", "Trực tiếp tại xã;", "Trực tuyến."}},
		{"Bước 1:\nLập hồ sơ.\na)\nNộp trực tiếp.\nLưu ý:", []string{"Bước 1: Lập hồ sơ.", "a) Nộp trực tiếp.", "Lưu ý:"}},
		{"công chức tư pháp - hộ tịch kiểm tra", []string{"công chức tư pháp - hộ tịch kiểm tra"}},
		{"Không có thông tin", nil},
		{"", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, parseSteps(tt.in), tt.in)
	}
}

func TestSplitList(t *testing.T) {
	assert.Equal(t, []string{"Công dân Việt Nam", "Tổ chức (không bao gồm doanh nghiệp, HTX)", "Cán bộ, công chức, viên chức"},
		splitList("Công dân Việt Nam, Tổ chức (không bao gồm doanh nghiệp, HTX), Cán bộ, công chức, viên chức"))
	assert.Equal(t, []string{"Công an cấp Xã", "Cục cảnh sát quản lý hành chính về trật tự, xã hội"},
		splitList("Công an cấp Xã", "Cục cảnh sát quản lý hành chính về trật tự, xã hội, Công an cấp xã"))
	assert.Equal(t, []string{"Tòa án nhân dân cấp cao", "Tòa án nhân dân tỉnh"}, splitList("Tòa án nhân dân cấp cao\nTòa án nhân dân tỉnh\n"))
	assert.Nil(t, splitList("Không có thông tin", ""))
}

func TestParseResult(t *testing.T) {
	assert.Equal(t, "Giấy khai sinh",
		parseResult("Giấy khai sinhMã: KQ.G15.000031Từ khóaKhông có thông tinMô tảKhông có thông tinChọn cơ quan thực hiện…Nộp hồ sơ"))
	assert.Equal(t, "Cập nhật thông tin; Thông báo kết quả",
		parseResult("Cập nhật thông tinMã: KQ.G01.000064Thông báo kết quả.Mã: KQ.G01.000065Từ khóa"))
	assert.Equal(t, "Văn bản tố tụng", parseResult("Văn bản tố tụngMã: VBTT"))
	assert.Equal(t, "", parseResult("Không có thông tin"))
}

func TestParseLevels(t *testing.T) {
	assert.Equal(t, []knowledge.Level{knowledge.LevelCentral, knowledge.LevelProvince, knowledge.LevelCommune, knowledge.LevelOther},
		parseLevels("Cấp bộ, Cấp tỉnh, Cấp xã, Cơ quan khác, Cấp xã, Cấp huyện"))
	assert.Nil(t, parseLevels(""))
}

func TestCleanName(t *testing.T) {
	assert.Equal(t, "Thẩm định đề án loại I", cleanName("Thẩm định đề án loại I\nThẩm định đề án loại I"))
	assert.Equal(t, "Thủ tục đầu tư thuộc thẩm quyền của Chủ tịch", cleanName("Thủ tục đầu tư thuộc thẩm \nquyền của  Chủ tịch"))
	assert.Equal(t, "", cleanName(" Không có thông tin "))
}
