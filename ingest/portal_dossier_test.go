package ingest

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/trolyao/trolyao/knowledge"
)

func TestParseDossier(t *testing.T) {
	const h = dossierHeader
	type it = knowledge.DossierItem
	tests := []struct {
		name string
		in   string
		want []it
	}{
		{"groups, forms, copies and note rows",
			"* Giấy tờ phải nộp:" + h + "- Trường hợp trẻ em bị bỏ rơi thì phải có biên bản.1 bản chính- Tờ khai (Mẫu CT01 ban hành kèm theo Thông tư số 53/2025/TT-BCA).1.MuCT01banhnhkmtheoThngts53.doc1 bản chínhTrường hợp đã nộp bản điện tử thì không phải nộp bản giấy.0 bản chính" +
				"* Giấy tờ phải xuất trình:" + h + "Hộ chiếu hoặc thẻ căn cước0 bản chính,1 bản sao",
			[]it{
				{Name: "Trường hợp trẻ em bị bỏ rơi thì phải có biên bản.", Originals: 1, Group: "Giấy tờ phải nộp"},
				{Name: "Tờ khai (Mẫu CT01 ban hành kèm theo Thông tư số 53/2025/TT-BCA).", Form: "1.MuCT01banhnhkmtheoThngts53.doc", Originals: 1, Group: "Giấy tờ phải nộp"},
				{Name: "Trường hợp đã nộp bản điện tử thì không phải nộp bản giấy.", Group: "Giấy tờ phải nộp"},
				{Name: "Hộ chiếu hoặc thẻ căn cước", Copies: 1, Group: "Giấy tờ phải xuất trình"},
			}},
		{"no heading, several forms, counts inside names",
			"--" + h + "Giấy phép xuất khẩu: 01 bản chính;1 bản chính,1 bản saoĐơn đề nghị;Mẫu số 91 bản thông tin.docxMẫu số 101.docx2 bản chính01 bản sao giấy khai sinh1 bản chính",
			[]it{
				{Name: "Giấy phép xuất khẩu: 01 bản chính", Originals: 1, Copies: 1},
				{Name: "Đơn đề nghị", Form: "Mẫu số 91 bản thông tin.docx; Mẫu số 101.docx", Originals: 2},
				{Name: "01 bản sao giấy khai sinh", Originals: 1},
			}},
		{"a year glued to the count; a trailing row without a count",
			"Hồ sơ" + h + "Hồ sơ thiết kế theo Thông tư số 02/2026/TT-BNNMT ngày 01/01/20261 bản chính,1 bản saoTrường hợp nộp trực tuyến thì nộp bản điện tử.",
			[]it{
				{Name: "Hồ sơ thiết kế theo Thông tư số 02/2026/TT-BNNMT ngày 01/01/2026", Originals: 1, Copies: 1, Group: "Hồ sơ"},
				{Name: "Trường hợp nộp trực tuyến thì nộp bản điện tử.", Group: "Hồ sơ"},
			}},
		{"other quantity spellings", "--" + h + "Tờ khaiBản chính: 1; Bản sao: 2Ảnh 4x6 cm2 bản sao",
			[]it{{Name: "Tờ khai", Originals: 1, Copies: 2}, {Name: "Ảnh 4x6 cm", Copies: 2}}},
		{"only the form", "--" + h + "Mẫu đơn.docx1 bản chính", []it{{Name: "Mẫu đơn", Form: "Mẫu đơn.docx", Originals: 1}}},
		{"no table", "Bước 2. Cơ quan BHXH tiếp nhận hồ sơ", nil},
		{"empty tables", "--" + h + "--" + h, nil},
		{"nothing", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, parseDossier(tt.in))
		})
	}
}

func TestSplitForms(t *testing.T) {
	tests := []struct {
		in, name string
		forms    []string
	}{
		{"Phiếu đề nghị (Mẫu DC02 ban hành kèm theo Thông tư số 17/2024/TT-BCA của Bộ Công an)Mẫu DC02 Phiếu đề nghị.doc",
			"Phiếu đề nghị (Mẫu DC02 ban hành kèm theo Thông tư số 17/2024/TT-BCA của Bộ Công an)", []string{"Mẫu DC02 Phiếu đề nghị.doc"}},
		{"Văn bản đề nghị theo Mẫu 02 Phụ lục I Nghị định số 23/2026/NĐ-CP.Mau02.docx",
			"Văn bản đề nghị theo Mẫu 02 Phụ lục I Nghị định số 23/2026/NĐ-CP.", []string{"Mau02.docx"}},
		{"Đơn đăng ký theo Nghị định số 43/2026/NĐ-CPĐơn đăng ký Giấy CN.docx", "Đơn đăng ký theo Nghị định số 43/2026/NĐ-CP", []string{"Đơn đăng ký Giấy CN.docx"}},
		{"Văn bản đề nghị theo mẫu quy địnhHK-85.doc", "Văn bản đề nghị theo mẫu quy định", []string{"HK-85.doc"}},
		{"Tờ khai theo mẫuTK 1.002877 (xe phi TM).docx", "Tờ khai theo mẫu", []string{"TK 1.002877 (xe phi TM).docx"}},
		{"01 Tờ khai đề nghị cấp Giấy miễn thị thực (Mẫu NA9).10-Mẫu NA9.doc", "01 Tờ khai đề nghị cấp Giấy miễn thị thực (Mẫu NA9).", []string{"10-Mẫu NA9.doc"}},
		{"Bản cáo bạch;Phụ lục II.docx", "Bản cáo bạch;", []string{"Phụ lục II.docx"}},
		{"Không có tệp", "Không có tệp", nil},
		{"Báo cáo (bản .pdf) nộp kèm", "Báo cáo (bản .pdf) nộp kèm", nil},
	}
	for _, tt := range tests {
		name, forms := splitForms(tt.in)
		assert.Equal(t, tt.name, name, tt.in)
		assert.Equal(t, tt.forms, forms, tt.in)
	}
}
