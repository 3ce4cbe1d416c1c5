package assistant

import (
	"fmt"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"golang.org/x/text/unicode/norm"
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
		{"number then a space at the end", "gọi 0912345678 ", "gọi [SĐT] "},
		{"amount then a space at the end", "phí 70000 ", "phí 70000 "},
		{"no digits", "Làm căn cước cần gì?", "Làm căn cước cần gì?"},
		// the attack pass: formats that reached the staff queue raw
		{"label glued to a phone", "SĐT0912345678 gọi lại giúp", "SĐT[SĐT] gọi lại giúp"},
		{"label glued to a cccd", "cccd079203001234 bị mất", "cccd[CCCD] bị mất"},
		{"tel and 4-6 groups", "tel: 0912 345678", "tel: [SĐT]"},
		{"cccd 6-6", "CCCD 079203 001234 hết hạn", "CCCD [CCCD] hết hạn"},
		{"landline parenthesised", "gọi (028) 3829 1234 giờ hành chính", "gọi [SĐT] giờ hành chính"},
		{"landline parenthesised glued", "ĐT (028)38291234", "ĐT [SĐT]"},
		{"0084", "số 0084912345678", "số [SĐT]"},
		{"0084 spaced", "số 0084 912 345 678", "số [SĐT]"},
		{"plus84 zero", "+84 (0) 912 345 678", "[SĐT]"},
		{"plus84 long group", "+84 912345678", "[SĐT]"},
		{"loan amount", "vay 500000000 để mua nhà", "vay 500000000 để mua nhà"},
		{"round amount bare", "500000000", "500000000"},
		// new types
		{"account", "stk 0071000123456 Vietcombank", "stk [STK] Vietcombank"},
		{"account long label", "Số tài khoản: 1903 4567 8901 23 tại Techcombank", "Số tài khoản: [STK] tại Techcombank"},
		{"account bank name", "nhận tiền qua BIDV 21510000123456 nhé", "nhận tiền qua BIDV [STK] nhé"},
		{"account glued", "STK0071000123456", "STK[STK]"},
		{"account amount kept", "chuyển khoản 2.000.000 đồng vào tài khoản", "chuyển khoản 2.000.000 đồng vào tài khoản"},
		{"plate car", "xe biển số 51F-123.45 bị phạt nguội", "xe biển số [BIỂN SỐ] bị phạt nguội"},
		{"plate motorbike", "xe máy 59-X1 234.56", "xe máy [BIỂN SỐ]"},
		{"plate glued series", "biển 59X1-234.56", "biển [BIỂN SỐ]"},
		{"plate 5 digits", "xe 30A-12345", "xe [BIỂN SỐ]"},
		{"plate two letters", "xe 51LD-123.45", "xe [BIỂN SỐ]"},
		{"address so duong", "tôi ở số 12 đường Lê Lợi, phường Bến Thành", "tôi ở [ĐỊA CHỈ], phường Bến Thành"},
		{"address slash", "nhà ở 123/4 Nguyễn Trãi Phường Bến Thành", "nhà ở [ĐỊA CHỈ] Phường Bến Thành"},
		{"address alley", "12 ngõ 34 phố Huế", "[ĐỊA CHỈ]"},
		{"address so nha", "số nhà 45, phường Cầu Giấy", "[ĐỊA CHỈ], phường Cầu Giấy"},
		{"address o", "Tôi ở 12 Lê Lợi muốn đăng ký tạm trú", "Tôi ở [ĐỊA CHỈ] muốn đăng ký tạm trú"},
		{"address lower case", "nhà em ở số 12 đường lê lợi phường bến nghé", "nhà em ở [ĐỊA CHỈ] phường bến nghé"},
		{"address street of a person named like a unit", "địa chỉ: 3 Tô Hiến Thành", "địa chỉ: [ĐỊA CHỈ]"},
		{"name toi ten la", "Tôi tên là Nguyễn Văn An, muốn hỏi", "Tôi tên là [HỌ TÊN], muốn hỏi"},
		{"name ten toi la", "tên tôi là Trần Thị Bích Ngọc ạ", "tên tôi là [HỌ TÊN] ạ"},
		{"name em ten", "em tên Lan, cho em hỏi", "em tên [HỌ TÊN], cho em hỏi"},
		{"name lower", "tôi tên là nguyễn văn an muốn hỏi", "tôi tên là [HỌ TÊN] muốn hỏi"},
		{"name unaccented", "toi ten la nguyen van an", "toi ten la [HỌ TÊN]"},
		{"name form", "Họ và tên: NGUYỄN VĂN AN\nCCCD: 079203001234", "Họ và tên: [HỌ TÊN]\nCCCD: [CCCD]"},
		{"name surname after toi la", "Tôi là Lê Thị Hoa", "Tôi là [HỌ TÊN]"},
		{"name wife vs surname", "vợ tôi tên là Võ Thị Sáu", "vợ tôi tên là [HỌ TÊN]"},
		{"passport", "hộ chiếu số B1234567 hết hạn", "hộ chiếu số [HỘ CHIẾU] hết hạn"},
		{"passport 8 digits", "Passport: C12345678", "Passport: [HỘ CHIẾU]"},
		{"insurance", "mã số BHXH 7912345678", "mã số BHXH [BHXH]"},
		{"insurance book", "số sổ BHXH: 0123456789", "số sổ BHXH: [BHXH]"},
		{"health card", "thẻ BHYT GD4797912345678", "thẻ BHYT [BHXH]"},
		{"tax", "MST 0312345678", "MST [MST]"},
		{"tax 10-3", "mã số thuế 0312345678-001", "mã số thuế [MST]"},
		{"tax glued", "MST0312345678", "MST[MST]"},
		{"birth", "sinh ngày 12/03/1990", "sinh ngày [NGÀY SINH]"},
		{"birth label", "Ngày sinh: 12-03-1990", "Ngày sinh: [NGÀY SINH]"},
		{"birth sn", "sn 12.3.1990", "sn [NGÀY SINH]"},
		{"birth words", "sinh ngày 12 tháng 3 năm 1990 tại Huế", "sinh ngày [NGÀY SINH] tại Huế"},
		{"birth iso", "ngày sinh 1990-03-12", "ngày sinh [NGÀY SINH]"},
		{"birth of a child", "con tôi sinh ngày 5/1/2024, làm khai sinh ở đâu", "con tôi sinh ngày [NGÀY SINH], làm khai sinh ở đâu"},
		{"email spaced at", "mail an.nguyen @ gmail.com", "mail [EMAIL]"},
		{"email at word", "mail an.nguyen(at)gmail.com", "mail [EMAIL]"},
		{"email upper", "EMAIL: NGUYENVANAN@GMAIL.COM", "EMAIL: [EMAIL]"},
		// look-alikes that stay
		{"procedure codes", "thủ tục 1.001193, 2.000986, 3.000333 và 1.004837", "thủ tục 1.001193, 2.000986, 3.000333 và 1.004837"},
		{"data date", "dữ liệu ngày 01/07/2026", "dữ liệu ngày 01/07/2026"},
		{"not a birth date", "con sinh năm 2020, hạn nộp 31/12/2026", "con sinh năm 2020, hạn nộp 31/12/2026"},
		{"birth registration date", "đăng ký khai sinh ngày 15/08/2025", "đăng ký khai sinh ngày 15/08/2025"},
		{"legal numbers", "Thông tư 17/2024/TT-BCA, 123/2015/NĐ-CP, Nghị định 356/2025/NĐ-CP, Luật 91/2025/QH15",
			"Thông tư 17/2024/TT-BCA, 123/2015/NĐ-CP, Nghị định 356/2025/NĐ-CP, Luật 91/2025/QH15"},
		{"wards", "tôi ở Phường 12 Quận 3", "tôi ở Phường 12 Quận 3"},
		{"plate-like procedure", "thủ tục đăng ký biển số xe 51", "thủ tục đăng ký biển số xe 51"},
		{"hotline 1022", "gọi tổng đài 1022", "gọi tổng đài 1022"},
		{"amount d", "1.500.000đ và 500.000 đồng", "1.500.000đ và 500.000 đồng"},
		{"counts", "CCCD 12 số, CMND 9 số, 3 bản sao", "CCCD 12 số, CMND 9 số, 3 bản sao"},
		{"a name question", "thủ tục này tên là gì?", "thủ tục này tên là gì?"},
		{"a title after toi la", "Tôi là Trưởng thôn", "Tôi là Trưởng thôn"},
		{"years of stay", "tôi ở 2 năm rồi", "tôi ở 2 năm rồi"},
		{"birth year alone", "con tôi sinh năm 2010 làm căn cước", "con tôi sinh năm 2010 làm căn cước"},
		{"house size", "nhà 3 tầng", "nhà 3 tầng"},
		{"day and month", "lịch hẹn 15/11 ạ", "lịch hẹn 15/11 ạ"},
		{"licence class", "bằng hạng B2 và xe 50cc", "bằng hạng B2 và xe 50cc"},
		// running text
		{
			"running text",
			"Tôi là Nguyễn Văn A, CCCD 038 095 001 234, điện thoại 0983.123.456, email a.nguyen@yahoo.com.vn. " +
				"Tôi muốn cấp lại căn cước (mã 1.014064), lệ phí 70.000 đồng, mất 7 ngày làm việc phải không? " +
				"Hạn chót 31/12/2026 theo Thông tư 64/2025/TT-BTC.",
			"Tôi là [HỌ TÊN], CCCD [CCCD], điện thoại [SĐT], email [EMAIL]. " +
				"Tôi muốn cấp lại căn cước (mã 1.014064), lệ phí 70.000 đồng, mất 7 ngày làm việc phải không? " +
				"Hạn chót 31/12/2026 theo Thông tư 64/2025/TT-BTC.",
		},
		{
			"running text multiline",
			"SĐT: +84 983 123 456\nCMND cũ: 012345678\nĐịa chỉ: số 12 ngõ 34",
			"SĐT: [SĐT]\nCMND cũ: [CMND]\nĐịa chỉ: [ĐỊA CHỈ]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Redact(tt.in))
		})
	}
}

func TestRedactIdempotent(t *testing.T) {
	in := "Tôi tên là Nguyễn Văn An, sinh ngày 12/03/1990, ở số 12 đường Lê Lợi, CCCD 001099012345, SĐT 0912345678, " +
		"a@b.vn, stk 0071000123456, xe 51F-123.45, hộ chiếu B1234567, mã số BHXH 7912345678, MST 0312345678, 70.000 đồng"
	once := Redact(in)
	assert.Equal(t, once, Redact(once))
	for _, ph := range []string{RedactedName, RedactedBirthDate, RedactedAddress, RedactedCCCD, RedactedPhone, RedactedEmail,
		RedactedAccount, RedactedPlate, RedactedPassport, RedactedInsurance, RedactedTaxCode} {
		assert.Contains(t, once, ph)
	}
}

// TestRedactText: text that is not valid UTF-8, combining marks and other scripts keep their bytes.
func TestRedactText(t *testing.T) {
	for _, in := range []string{"a\xffb 0912345678", "Nguye\u0302\u0303n 0912345678", "电话 0912345678", "\u00a00912345678"} {
		out := Redact(in)
		assert.NotContains(t, out, "0912345678", "%q", in)
		assert.Contains(t, out, RedactedPhone, "%q", in)
	}
	// a decomposed name after "tên là"
	assert.Equal(t, norm.NFD.String("tên tôi là ")+RedactedName, Redact(norm.NFD.String("tên tôi là Nguyễn Văn An")))
}

// TestRedactHandWritten: sentences written by hand, apart from the corpus's templates, the way citizens type.
func TestRedactHandWritten(t *testing.T) {
	personal := []struct{ s, v string }{
		{"Sđt của e: 0987 654 321 nhé", "0987 654 321"},
		{"ib zalo 0977.888.999 giúp em", "0977.888.999"},
		{"Số đt bàn nhà tôi 024.3823.4567", "024.3823.4567"},
		{"gọi e qua số +84.987.654.321", "+84.987.654.321"},
		{"SDT:0912-345-678", "0912-345-678"},
		{"số điện thoại 091 234 56 78", "091 234 56 78"},
		{"đt 0912 34 56 78", "0912 34 56 78"},
		{"Căn cước công dân số: 001 203 004 567", "001 203 004 567"},
		{"CCCD:079203001234,cấp ngày 10/10/2021", "079203001234"},
		{"số định danh 038.095.001.234", "038.095.001.234"},
		{"mã định danh cá nhân của con là 001224009876", "001224009876"},
		{"CMND số 025 678 912 cấp tại TP.HCM", "025 678 912"},
		{"chứng minh thư 186 234 567", "186 234 567"},
		{"Email: Tran.Thi.Hoa@gmail.com", "Tran.Thi.Hoa@gmail.com"},
		{"mail: hoa_tran-92@yahoo.com.vn.", "hoa_tran-92@yahoo.com.vn"},
		{"số tk Vietinbank: 1010 2020 3030", "1010 2020 3030"},
		{"STK: 19036677889900 - Techcombank - Nguyen Van A", "19036677889900"},
		{"tài khoản MB 0987654321", "0987654321"},
		{"Biển số 30G-123.45 bị phạt nguội", "30G-123.45"},
		{"xe máy 29-B1 567.89", "29-B1 567.89"},
		{"BKS 43A-567.89", "43A-567.89"},
		{"xe của tôi 51H1-234.56", "51H1-234.56"},
		{"Nhà số 25 ngõ 102 đường Trường Chinh", "Nhà số 25 ngõ 102 đường Trường Chinh"},
		{"địa chỉ 45 Lý Tự Trọng phường Bến Nghé", "45 Lý Tự Trọng"},
		{"tôi ở 12/3A Lê Thánh Tôn", "12/3A Lê Thánh Tôn"},
		{"thường trú: số 7, ngõ 15, phố Chùa Láng", "số 7, ngõ 15, phố Chùa Láng"},
		{"Tôi tên Phạm Minh Tuấn, sinh năm 1985", "Phạm Minh Tuấn"},
		{"Mình tên là Hương", "Hương"},
		{"họ tên người yêu cầu: Đỗ Thị Hằng", "Đỗ Thị Hằng"},
		{"Tên: Lê Văn Tám", "Lê Văn Tám"},
		{"cháu tên là Nguyễn Gia Bảo, 6 tuổi", "Nguyễn Gia Bảo"},
		{"Hộ chiếu số C0123456 cấp năm 2019", "C0123456"},
		{"passport no. B7654321", "B7654321"},
		{"Mã số BHXH: 0123456789", "0123456789"},
		{"sổ bảo hiểm xã hội số 7913579246", "7913579246"},
		{"MST cá nhân 8012345678", "8012345678"},
		{"mã số thuế công ty 0301234567-002", "0301234567-002"},
		{"Sinh ngày: 01/01/1980", "01/01/1980"},
		{"ngày sinh 5-6-1975", "5-6-1975"},
		{"tôi sinh 20/10/1990 tại Nam Định", "20/10/1990"},
		{"DOB: 1988-12-31", "1988-12-31"},
		{"bé nhà mình sinh ngày 03.02.2023", "03.02.2023"},

		{"a ơi e là Vũ Thị Mai Anh, sđt o9o... à 0903123456", "0903123456"},
		{"liên hệ chị Hạnh 0868.123.789", "0868.123.789"},
		{"(+84)903 456 789", "903 456 789"},
		{"số máy: 0236.3822.111", "0236.3822.111"},
		{"nhắn Zalo: 0779 123 456 hoặc email lan.pham@outlook.com", "0779 123 456"},
		{"nhắn Zalo: 0779 123 456 hoặc email lan.pham@outlook.com", "lan.pham@outlook.com"},
		{"CCCD mới: 0 3 8 0 9 5 0 0 1 2 3 4", "0 3 8 0 9 5 0 0 1 2 3 4"},
		{"căn cước 036-095-123-456 bị lỗi chip", "036-095-123-456"},
		{"cmnd cũ 271 234 567 đã cắt góc", "271 234 567"},
		{"số căn cước của mẹ em: 031158007654", "031158007654"},
		{"chuyển vào stk 8888 6666 999 ACB", "8888 6666 999"},
		{"tài khoản ngân hàng Agribank số 1500205123456", "1500205123456"},
		{"xe ô tô BKS 36A-999.99", "36A-999.99"},
		{"xe máy biển 74-F1 123.45 bị mất", "74-F1 123.45"},
		{"nhà em ở hẻm 51 số 12/7 Phan Xích Long", "12/7 Phan Xích Long"},
		{"tạm trú tại 18A/2 Nguyễn Thị Minh Khai", "18A/2 Nguyễn Thị Minh Khai"},
		{"địa chỉ nhà: số 88 phố Hàng Gai", "số 88 phố Hàng Gai"},
		{"Con tên là Trần Bảo Ngọc, sinh 02/09/2020", "Trần Bảo Ngọc"},
		{"Con tên là Trần Bảo Ngọc, sinh 02/09/2020", "02/09/2020"},
		{"em tên Huỳnh Tấn Phát đây ạ", "Huỳnh Tấn Phát"},
		{"tên khai sinh là Lý Gia Hân", "Lý Gia Hân"},
		{"Tôi là Đặng Văn Lâm, CCCD 001095012345", "Đặng Văn Lâm"},
		{"Hộ chiếu cũ N1234567 hết hạn 2024", "N1234567"},
		{"mã thẻ BHYT: HS4797923456789", "HS4797923456789"},
		{"mã số bhxh 7901234567 tra không ra", "7901234567"},
		{"MST: 0318765432", "0318765432"},
		{"mst hộ kd 8765432109", "8765432109"},
		{"ngày/tháng/năm sinh: 14/02/1999", "14/02/1999"},
		{"Ns 12/12/1960", "12/12/1960"},
		{"ông ngoại sinh ngày 1 tháng 1 năm 1940", "1 tháng 1 năm 1940"},
	}
	for _, p := range personal {
		out := Redact(p.s)
		assert.NotContains(t, out, p.v, p.s)
		assert.NotEqual(t, p.s, out)
	}
	kept := []string{
		"Thủ tục 1.000894 cần bao nhiêu ngày?",
		"lệ phí 100.000đ/hồ sơ",
		"phí trước bạ 2% giá trị xe 500.000.000 đồng",
		"Nghị định 168/2024/NĐ-CP phạt vượt đèn đỏ 4.000.000 - 6.000.000",
		"Theo Quyết định số 2044/QĐ-UBND ngày 15/5/2025",
		"Phường 13 Quận Tân Bình cũ nay là phường nào",
		"tôi sống ở Quận 7 được 5 năm",
		"hẹn trả kết quả 25/12/2025",
		"ngày 1/7/2025 sáp nhập",
		"mã hồ sơ 000.00.31.H29-250715-0012",
		"gọi 1900 6868 không được",
		"nộp phạt 800.000 qua VNeID",
		"đăng ký biển số xe máy 50cc",
		"Điều 30 Luật Cư trú 2020",
		"tôi cần 2 bản sao và 1 bản chính",
		"Mẫu số 01 ban hành kèm Thông tư 04/2020/TT-BTP",
		"căn cước 12 số có thay CMND 9 số không",
		"đổi tên từ Nguyễn Văn A thành gì cũng được?",
		"ở 3 tháng thì đăng ký tạm trú chưa",
		"thu nhập 12 triệu/tháng",
		"vay 1,5 tỷ mua nhà",
		"sinh năm 1990 thì bao nhiêu tuổi",
		"hạn nộp hồ sơ trước 17h ngày 30/6",

		"Thủ tục 2.002226 và 1.010915 khác nhau gì?",
		"phí 25.000 đồng/lần, 50.000đ/bản",
		"chuyển khoản 70000 vào tài khoản của công an phường",
		"theo Nghị quyết 1656/NQ-UBTVQH15 sáp nhập",
		"từ 1/7 phường 25 Bình Thạnh đổi tên",
		"Quận 10 cũ nay là phường Hòa Hưng",
		"mất 15 ngày làm việc kể từ ngày nhận hồ sơ",
		"biển số xe cũ 5 số có phải đổi sang biển định danh không",
		"giấy phép lái xe hạng B1 số tự động",
		"dữ liệu cập nhật 07/2025",
		"Thông tư 79/2024/TT-BCA về đăng ký xe",
		"mức phạt 2-3 triệu đồng",
		"năm 2024 và năm 2025",
		"tổng đài 1022 nhánh 3",
		"phòng 2.05 tầng 2",
		"Tôi là người dân phường 12",
		"em là sinh viên năm 3",
		"đổi tên đường Lê Lợi thành gì",
		"bản sao 3 bản, bản chính 1",
		"vay 2.000.000.000 đồng thế chấp sổ đỏ",
	}
	for _, k := range kept {
		assert.Equal(t, k, Redact(k))
	}
	// Public numbers and addresses look like a citizen's own and are redacted too.
	assert.Equal(t, "hotline [SĐT] của UBND có trực không", Redact("hotline 0283 8291 234 của UBND có trực không"))
	assert.Equal(t, "[ĐỊA CHỈ] là trụ sở gì", Redact("số 1 Lê Duẩn là trụ sở gì"))
}

// BenchmarkRedact: a typical message (a question with a phone number and a fee) and one without personal data.
func BenchmarkRedact(b *testing.B) {
	for _, in := range []string{
		"Em đăng ký khai sinh cho con trên VNeID mà chưa thấy kết quả, SĐT 0912 345 678, lệ phí 500.000 đồng phải không ạ",
		"Làm lại căn cước bị mất cần giấy tờ gì và lệ phí bao nhiêu?",
		"Tôi tên là Nguyễn Văn An, ở số 12 đường Lê Lợi, CCCD 079203001234, muốn hỏi thủ tục 1.001193 theo Nghị định 123/2015/NĐ-CP",
	} {
		b.Run(fmt.Sprint(len(in)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Redact(in)
			}
		})
	}
}

// TestRedactedQueryIntents: the dialogue state keeps the last question redacted; its placeholders read as
// nothing when its intents are read again ("[ĐỊA CHỈ]" is not a question about where).
func TestRedactedQueryIntents(t *testing.T) {
	for _, q := range []string{
		"tôi ở số 12 đường Lê Lợi muốn đăng ký tạm trú",
		"con tôi sinh ngày 05/01/2024, làm khai sinh cần giấy tờ gì",
		"Tôi tên là Nguyễn Văn An, SĐT 0912345678, cấp lại căn cước mất bao lâu",
	} {
		assert.Equal(t, DetectIntents(q), DetectIntents(withoutPlaceholders(Redact(q))), q)
	}
}

// FuzzRedact: Redact never panics, keeps valid text valid, and is idempotent.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"SĐT0912345678", "(028) 3829 1234", "+84 (0) 912 345 678", "số 12 đường Lê Lợi",
		"tôi tên là Nguyễn Văn An", "sinh ngày 12 tháng 3 năm 1990", "51F-123.45", "59-X1 234.56", "a @ b.vn",
		"hộ chiếu no. B1234567", "0 3 8 0 9 5 0 0 1 2 3 4", "45/12/3 Bùi Đình Túy", "Tên: Lê Văn Tám", "(1)", "+", "("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Redact(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("%q → %q: not valid UTF-8", s, out)
		}
		if again := Redact(out); again != out {
			t.Fatalf("%q → %q → %q: not idempotent", s, out, again)
		}
	})
}
