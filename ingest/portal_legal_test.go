package ingest

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/trolyao/trolyao/knowledge"
)

func TestParseLegal(t *testing.T) {
	doc := func(title, number string) knowledge.LegalDoc { return knowledge.LegalDoc{Title: title, Number: number} }
	tests := []struct {
		name string
		in   string
		want []knowledge.LegalDoc
	}{
		{"titles glued to numbers",
			legalHeader + "Thông tư Hướng dẫn về phí và lệ phí85/2019/TT-BTCNghị định sửa đổi, bổ sung104/2022/NĐ-CP",
			[]knowledge.LegalDoc{doc("Thông tư Hướng dẫn về phí và lệ phí", "85/2019/TT-BTC"), doc("Nghị định sửa đổi, bổ sung", "104/2022/NĐ-CP")}},
		{"numbers quoted in titles",
			legalHeader + "Luật 60/2014/QH1360/2014/QH13Thông tư 57/2021/TT-BCA57/2021/TT-BCANghị quyết số 66.7/2025/NQ-CP của Chính phủ: Quy định cắt giảm66.7/2025/NQ-CPThông tư số 53/2025/TT-BCAngày 01/7/2025 của Bộ Công an53/2025/TT-BCA",
			[]knowledge.LegalDoc{doc("Luật 60/2014/QH13", "60/2014/QH13"), doc("Thông tư 57/2021/TT-BCA", "57/2021/TT-BCA"),
				doc("Nghị quyết số 66.7/2025/NQ-CP của Chính phủ: Quy định cắt giảm", "66.7/2025/NQ-CP"),
				doc("Thông tư số 53/2025/TT-BCAngày 01/7/2025 của Bộ Công an", "53/2025/TT-BCA")}},
		{"a year glued to the number, upper-case titles, TTg",
			legalHeader + "Luật Cư trú 202068/2020/QH14Quyết định của Thủ tướng12/2024/QĐ-TTgSỬA ĐỔI, BỔ SUNG MỘT SỐ ĐIỀU58/2026/NĐ-CP",
			[]knowledge.LegalDoc{doc("Luật Cư trú 2020", "68/2020/QH14"), doc("Quyết định của Thủ tướng", "12/2024/QĐ-TTg"), doc("SỬA ĐỔI, BỔ SUNG MỘT SỐ ĐIỀU", "58/2026/NĐ-CP")}},
		{"a number column with its type, a number without a year, a space before the next title",
			legalHeader + "Nghị định về thanh toánNghị định 52/2024/NĐ-CPBan hành quy trình2222/QĐ-BHXHNghị định về dữ liệu18/2026/NĐ-CP Nghị định về hộ tịch87/2020/NĐ-CP",
			[]knowledge.LegalDoc{doc("Nghị định về thanh toán", "52/2024/NĐ-CP"), doc("Ban hành quy trình", "2222/QĐ-BHXH"),
				doc("Nghị định về dữ liệu", "18/2026/NĐ-CP"), doc("Nghị định về hộ tịch", "87/2020/NĐ-CP")}},
		{"a number glued to a lower-case typo", legalHeader + "Thông tư về đăng ký xe.79/2024/TT-BCAhông tư về phí06/2025/TT-BTC",
			[]knowledge.LegalDoc{doc("Thông tư về đăng ký xe.", "79/2024/TT-BCA"), doc("hông tư về phí", "06/2025/TT-BTC")}},
		{"repeated numbers once, a title without a number", legalHeader + "Luật A12/2020/QH14Luật A12/2020/QH14Hiến pháp năm 2013",
			[]knowledge.LegalDoc{doc("Luật A", "12/2020/QH14"), doc("Hiến pháp năm 2013", "")}},
		{"nothing", "Không có thông tin", nil},
		{"empty table", legalHeader, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, parseLegal(tt.in))
		})
	}
}
