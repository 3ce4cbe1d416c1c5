package assistant

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// identity numbers
		{"cccd", "001099012345", "[CCCD]"},
		{"cccd spaced", "CCCD: 001 099 012 345.", "CCCD: [CCCD]."},
		{"cccd 4-4-4", "số 0010 9901 2345 nhé", "số [CCCD] nhé"},
		{"cccd dotted", "số 001.099.012.345", "số [CCCD]"},
		{"cmnd", "CMND 123456789 cấp năm 2010", "CMND [CMND] cấp năm 2010"},
		{"cmnd spaced", "CMND số 123 456 789", "CMND số [CMND]"},
		// phones
		{"mobile", "gọi 0912345678 giúp tôi", "gọi [SĐT] giúp tôi"},
		{"mobile dots", "SĐT 0912.345.678", "SĐT [SĐT]"},
		{"mobile spaces", "SĐT 0912 345 678", "SĐT [SĐT]"},
		{"mobile dashes", "SĐT 0912-345-678", "SĐT [SĐT]"},
		{"plus84", "+84912345678", "[SĐT]"},
		{"plus84 spaced", "liên hệ +84 912 345 678.", "liên hệ [SĐT]."},
		{"paren plus84", "liên hệ (+84) 912 345 678", "liên hệ [SĐT]"},
		{"84 bare", "số 84912345678", "số [SĐT]"},
		{"landline", "máy bàn 024 3823 4567", "máy bàn [SĐT]"},
		{"landline joined", "máy bàn 02438234567", "máy bàn [SĐT]"},
		{"two numbers", "CCCD 001099012345 SĐT 0987654321", "CCCD [CCCD] SĐT [SĐT]"},
		{"cccd then phone spaced", "001099012345 0987654321", "[CCCD] [SĐT]"},
		{"number before phone", "năm 2025 0912345678", "năm 2025 [SĐT]"},
		// e-mail
		{"email", "gửi về nguyen.van.a+dvc@gmail.com nhé", "gửi về [EMAIL] nhé"},
		{"email gov", "Email: tiepnhan@hanoi.gov.vn.", "Email: [EMAIL]."},
		// kept
		{"procedure code", "thủ tục mã 1.001193 và 2.002233", "thủ tục mã 1.001193 và 2.002233"},
		{"money dot", "lệ phí 70.000 đồng", "lệ phí 70.000 đồng"},
		{"money million", "1.500.000 đồng", "1.500.000 đồng"},
		{"money comma", "20,000 Việt Nam Đồng", "20,000 Việt Nam Đồng"},
		{"money 9 digits", "phạt 150.000.000 đồng", "phạt 150.000.000 đồng"},
		{"money 9 digits no unit", "mức 150.000.000", "mức 150.000.000"},
		{"money plain with unit", "500000000 đồng", "500000000 đồng"},
		{"money đ", "70.000đ", "70.000đ"},
		{"money 10 digits", "1.200.000.000 VNĐ", "1.200.000.000 VNĐ"},
		{"date", "đến hết ngày 31/12/2026", "đến hết ngày 31/12/2026"},
		{"date dotted", "ngày 31.12.2026", "ngày 31.12.2026"},
		{"legal number", "Nghị định 123/2015/NĐ-CP", "Nghị định 123/2015/NĐ-CP"},
		{"legal long", "Quyết định 9354/QĐ-BCA-C06", "Quyết định 9354/QĐ-BCA-C06"},
		{"duration", "7 ngày làm việc, 24 giờ", "7 ngày làm việc, 24 giờ"},
		{"years", "các năm 2020 2021 2022", "các năm 2020 2021 2022"},
		{"hotline", "tổng đài 1900 1234", "tổng đài 1900 1234"},
		{"form code", "Mẫu CT01, DC02", "Mẫu CT01, DC02"},
		{"glued letters", "mã hồ sơ H12345678901", "mã hồ sơ H12345678901"},
		{"empty", "", ""},
		{"no digits", "Làm căn cước cần gì?", "Làm căn cước cần gì?"},
		// running text
		{
			"running text",
			"Tôi là Nguyễn Văn A, CCCD 038 095 001 234, điện thoại 0983.123.456, email a.nguyen@yahoo.com.vn. " +
				"Tôi muốn cấp lại căn cước (mã 1.014064), lệ phí 70.000 đồng, mất 7 ngày làm việc phải không? " +
				"Hạn chót 31/12/2026 theo Thông tư 64/2025/TT-BTC.",
			"Tôi là Nguyễn Văn A, CCCD [CCCD], điện thoại [SĐT], email [EMAIL]. " +
				"Tôi muốn cấp lại căn cước (mã 1.014064), lệ phí 70.000 đồng, mất 7 ngày làm việc phải không? " +
				"Hạn chót 31/12/2026 theo Thông tư 64/2025/TT-BTC.",
		},
		{
			"running text multiline",
			"SĐT: +84 983 123 456\nCMND cũ: 012345678\nĐịa chỉ: số 12 ngõ 34",
			"SĐT: [SĐT]\nCMND cũ: [CMND]\nĐịa chỉ: số 12 ngõ 34",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Redact(tt.in))
		})
	}
}

func TestRedactIdempotent(t *testing.T) {
	in := "CCCD 001099012345, SĐT 0912345678, a@b.vn, 70.000 đồng"
	once := Redact(in)
	assert.Equal(t, once, Redact(once))
}
