package knowledge

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// The lexicon bridges the words citizens type and the words of the official catalog. It is applied to queries
// only (the catalog is indexed as written): "làm lại cccd" is read as "cấp lại thẻ căn cước", "sổ đỏ" as
// "giấy chứng nhận quyền sử dụng đất". Rules are written with diacritics for readability and matched on folded
// syllables, longest phrase first, so "cccd", "căn cước công dân" and "can cuoc cong dan" behave alike.
//
// Each rule maps one or more phrases to the catalog's phrase. An empty target drops the phrase: intent words
// ("bao nhiêu", "ở đâu") and filler carry no information about which procedure is meant.
var lexiconRules = []struct {
	to   string
	from []string
}{
	// Identity documents.
	{"thẻ căn cước", []string{"cccd", "cmnd", "cmt", "căn cước công dân", "thẻ căn cước công dân", "chứng minh nhân dân",
		"chứng minh thư", "giấy chứng minh", "thẻ cccd", "thẻ cmnd", "căn cuớc", "can cuoc cd", "thẻ căn cước", "căn cước"}},
	{"", []string{"trên vneid", "qua vneid", "bằng vneid", "trên app vneid", "qua app vneid", "trên ứng dụng vneid",
		"qua ứng dụng vneid", "bằng ứng dụng vneid"}},

	{"mức độ 02", []string{"mức 2", "mức độ 2", "level 2"}},
	{"hộ chiếu", []string{"passport"}},
	{"giấy phép lái xe", []string{"gplx", "bằng lái", "bằng lái xe", "bang lai xe may", "bằng lái xe máy", "bằng lái ô tô",
		"bằng xe", "license", "giấy phép lái xe"}},
	{"phiếu lý lịch tư pháp", []string{"lltp", "lý lịch tư pháp", "phiếu lý lịch", "lý lịch"}},

	// Residence (hộ khẩu was abolished in 2023; the catalog says thường trú / tạm trú).

	{"tách hộ", []string{"tách hộ khẩu", "tách khẩu", "tách sổ hộ khẩu", "ra hộ riêng"}},
	{"xóa đăng ký thường trú", []string{"cắt hộ khẩu", "cắt khẩu", "xóa hộ khẩu", "xoá hộ khẩu"}},
	{"thường trú", []string{"hộ khẩu", "sổ hộ khẩu"}},
	{"tạm trú", []string{"kt3", "đăng ký kt3", "sổ tạm trú", "thuê trọ", "ở trọ", "nhà trọ", "phòng trọ"}},
	{"xác nhận thông tin về cư trú", []string{"xác nhận cư trú", "giấy xác nhận cư trú", "ct07", "mẫu ct07", "xác nhận nơi cư trú"}},

	// Civil status.
	{"đăng ký khai sinh", []string{"làm giấy khai sinh", "làm khai sinh", "giấy khai sinh cho con", "khai sinh cho con",
		"khai sinh cho bé", "làm giấy khai sinh cho con", "đk khai sinh", "dk khai sinh"}},
	{"bản sao giấy khai sinh", []string{"bản sao khai sinh", "sao lục khai sinh", "trích lục khai sinh"}},
	{"đăng ký khai tử", []string{"giấy khai tử", "làm giấy khai tử", "báo tử", "giấy báo tử", "khai tử", "chứng tử"}},
	{"khai tử", []string{"qua đời", "từ trần", "chết", "tử vong", "mới mất", "vừa mất", "đã mất", "mất rồi"}},

	{"xác nhận tình trạng hôn nhân", []string{"xác nhận độc thân", "giấy độc thân", "chứng nhận độc thân", "độc thân",
		"giấy xác nhận độc thân", "tình trạng hôn nhân"}},

	{"nhận cha mẹ con", []string{"nhận con", "nhận cha", "nhận bố", "nhận mẹ", "nhận cha con"}},
	{"yếu tố nước ngoài", []string{"người nước ngoài", "nước ngoài", "ngoại quốc", "việt kiều", "ngoại kiều",
		"quốc tịch nước ngoài", "hàn quốc", "trung quốc", "nhật bản", "đài loan", "hoa kỳ", "singapore", "thái lan",
		"campuchia", "canada", "ấn độ", "philippines", "malaysia", "indonesia", "người hàn", "người nhật", "người mỹ",
		"người pháp", "người đức", "người úc", "người anh", "người nga", "người lào", "người hoa", "nước mỹ", "nước pháp",
		"nước đức", "nước úc", "nước anh", "nước nga", "nước lào", "quốc tịch mỹ", "quốc tịch pháp", "quốc tịch đức",
		"quốc tịch úc", "quốc tịch anh", "quốc tịch hàn", "quốc tịch nhật", "tây", "người tây", "ông tây", "bà tây"}},

	// Vehicles.
	{"chứng nhận đăng ký xe", []string{"cà vẹt", "cavet", "ca vet", "giấy đăng ký xe", "đăng ký xe máy", "cà vẹt xe"}},
	{"thay đổi chủ xe sang tên xe", []string{"sang tên xe", "sang tên xe máy", "sang tên ô tô", "đổi chủ xe", "mua xe cũ",
		"mua lại xe", "mua xe máy cũ", "xe chính chủ"}},
	{"sang tên thay đổi", []string{"sang tên", "sang tên chính chủ", "chính chủ", "sang tên đổi chủ", "đổi chủ"}},
	{"xe", []string{"xe máy", "xe mô tô", "xe gắn máy", "ô tô", "oto", "xe hơi", "xe ô tô", "xe oto"}},
	{"biển số xe", []string{"biển số", "bảng số", "biển kiểm soát"}},

	// Land and construction.

	{"tách thửa", []string{"chia đất", "tách sổ", "tách đất", "chia thửa"}},
	{"nhà đất", []string{"mua nhà", "mua đất", "nhà ở"}},

	// Business and tax.
	{"đăng ký thành lập hộ kinh doanh", []string{"mở tiệm", "mở quán", "mở cửa hàng", "mở shop", "mở tạp hóa", "mở tiệm tạp hóa",
		"buôn bán nhỏ", "kinh doanh nhỏ", "đăng ký kinh doanh hộ", "đăng ký hộ kinh doanh", "giấy phép kinh doanh hộ",
		"lập hộ kinh doanh"}},
	{"hộ kinh doanh", []string{"hộ cá thể", "hộ kinh doanh cá thể", "hkd", "hộ kd", "kinh doanh cá thể"}},
	{"chấm dứt hoạt động", []string{"đóng cửa", "giải thể hộ", "nghỉ kinh doanh luôn", "ngừng hẳn", "dẹp tiệm", "đóng tiệm",
		"không kinh doanh nữa", "thôi kinh doanh"}},
	{"tạm ngừng kinh doanh", []string{"tạm nghỉ kinh doanh", "tạm dừng kinh doanh", "tạm nghỉ", "tạm đóng cửa", "tạm ngưng"}},
	{"thành lập doanh nghiệp", []string{"mở công ty", "lập công ty", "thành lập công ty", "mở doanh nghiệp"}},
	{"doanh nghiệp tư nhân", []string{"dntn"}},
	{"doanh nghiệp", []string{"dn", "công ty", "cty"}},
	{"đăng ký kinh doanh", []string{"đkkd", "dkkd", "gpkd", "giấy phép kinh doanh", "giấy đăng ký kinh doanh"}},
	{"đăng ký thuế", []string{"đăng ký mã số thuế", "đăng ký mst", "xin mã số thuế", "làm mã số thuế", "mst cá nhân",
		"mã số thuế cá nhân", "làm mst"}},
	{"mã số thuế", []string{"mst"}},
	{"lệ phí trước bạ", []string{"phí trước bạ", "thuế trước bạ", "trước bạ"}},

	// Social insurance and welfare.
	{"bảo hiểm xã hội", []string{"bhxh"}},
	{"bảo hiểm y tế", []string{"bhyt", "thẻ bhyt", "bảo hiểm y tế"}},
	{"bảo hiểm thất nghiệp", []string{"bhtn", "trợ cấp thất nghiệp"}},
	{"hưởng bảo hiểm xã hội một lần", []string{"rút bhxh một lần", "rút bảo hiểm xã hội một lần", "rút bhxh 1 lần",
		"rút bảo hiểm 1 lần", "rút bảo hiểm một lần", "lãnh bhxh 1 lần", "lấy bhxh 1 lần", "rút bhxh", "rút sổ bhxh"}},
	{"chế độ thai sản", []string{"thai sản", "nghỉ sinh", "tiền sinh con", "chế độ sinh con", "bảo hiểm thai sản"}},
	{"hộ cận nghèo", []string{"cận nghèo", "hộ cận nghèo"}},

	// Certification: citizens say "công chứng" for what the ward does, which the catalog calls chứng thực.
	{"chứng thực bản sao từ bản chính", []string{"công chứng bản sao", "photo công chứng", "sao y", "sao y bản chính",
		"công chứng giấy tờ", "chứng thực bản sao", "công chứng photo", "công chứng bằng", "công chứng cccd"}},
	{"chứng thực chữ ký", []string{"công chứng chữ ký", "xác nhận chữ ký", "chứng chữ ký"}},
	{"chứng thực", []string{"công chứng"}},
	{"giấy tờ văn bản ủy quyền", []string{"giấy ủy quyền", "giấy uỷ quyền", "văn bản ủy quyền", "hợp đồng ủy quyền"}},

	// Verbs people use for "issue again", "renew", "first time".
	{"cấp lại", []string{"làm lại", "xin lại", "cấp lại", "bị mất", "làm mất", "đánh mất", "thất lạc", "bị rách",
		"hư hỏng", "bị hỏng", "rách nát"}},
	{"cấp đổi gia hạn", []string{"hết hạn", "sắp hết hạn", "hết hạn sử dụng", "quá hạn"}},
	{"cấp đổi", []string{"đổi mới", "làm mới", "đổi thẻ", "đổi sổ"}},
	{"lần đầu", []string{"lần 1", "mới làm", "chưa có", "mới mua", "lần đầu tiên"}},
	{"trình báo mất", []string{"báo mất", "khai báo mất", "trình báo mất"}},
	{"trẻ em", []string{"bé", "em bé", "con nhỏ", "cháu bé", "trẻ"}},
	{"một lần", []string{"1 lần"}},
	{"quốc tế", []string{"quốc tế", "international", "đi nước ngoài lái xe"}},
	{"hưởng", []string{"rút", "lãnh", "nhận tiền"}},

	// English words citizens mix in (loanwords in Zalo messages) and questions asked in English: the catalog is
	// written in Vietnamese only.
	{"gia hạn", []string{"extend", "extension", "renew", "renewal"}},
	{"hủy", []string{"cancel"}},
	{"nuôi con nuôi", []string{"adopt", "adoption"}},
	{"hoàn thuế", []string{"tax refund", "vat refund"}},
	{"thuế", []string{"tax"}},
	{"giá trị gia tăng", []string{"vat"}},
	{"một thành viên", []string{"single member", "single-member", "one member"}},
	{"khai sinh", []string{"birth certificate", "birth registration"}},
	{"kết hôn", []string{"marriage", "married", "marry"}},
	{"thẻ căn cước", []string{"id card", "identity card", "citizen id"}},
	{"tạm trú", []string{"temporary residence", "temporary resident"}},
	{"thường trú", []string{"permanent residence", "permanent resident"}},
	{"giấy phép lao động", []string{"work permit"}},
	{"giấy phép lái xe", []string{"driving licence", "driving license", "driver license", "driver's license"}},
	{"hộ kinh doanh", []string{"household business"}},
	{"đăng ký", []string{"register", "registration"}},
	{"giấy chứng nhận", []string{"certificate"}},
	{"nộp", []string{"submit"}},
	{"mất", []string{"lost"}},

	// Phrases that contain filler syllables but mean something as a whole: kept as they are.
	{"nhà ở xã hội", []string{"nhà ở xã hội", "nhà xã hội", "noxh"}},
	{"xã hội", []string{"xã hội"}},
	{"người phụ thuộc", []string{"người phụ thuộc", "giảm trừ gia cảnh", "người phụ thuộc giảm trừ gia cảnh"}},
	{"người lao động", []string{"người lao động", "nhân viên", "công nhân"}},
	{"người sử dụng lao động", []string{"người sử dụng lao động", "chủ doanh nghiệp", "chủ công ty"}},
	{"thông báo lưu trú", []string{"ngủ lại", "ở lại qua đêm", "khách ở lại", "báo lưu trú", "khai báo lưu trú", "lưu trú",
		"có khách ở lại", "ở nhờ vài hôm"}},
	{"chuyển mục đích sử dụng đất", []string{"lên thổ cư", "chuyển lên thổ cư", "chuyển đổi mục đích", "chuyển mục đích",
		"lên đất ở", "chuyển đất nông nghiệp"}},
	{"đất ở", []string{"thổ cư", "đất thổ cư"}},

	{"sửa chữa cải tạo giấy phép xây dựng", []string{"sửa nhà", "nâng tầng", "cơi nới", "nâng thêm tầng", "sửa chữa nhà", "cải tạo nhà"}},
	{"nuôi con nuôi", []string{"nhận con nuôi", "xin con nuôi", "con nuôi"}},
	{"xóa đăng ký thế chấp", []string{"xóa thế chấp", "giải chấp", "xoá thế chấp"}},

	{"trợ giúp pháp lý", []string{"luật sư miễn phí", "luật sư nhà nước", "tư vấn pháp luật miễn phí", "trợ giúp pháp lý"}},
	{"thi hành án", []string{"bản án", "tòa xử", "tòa án xử", "không chịu trả tiền", "không chịu thi hành"}},
	{"bảo hiểm xã hội tự nguyện", []string{"bhxh tự nguyện", "bảo hiểm tự nguyện"}},
	{"hưu trí", []string{"lương hưu", "về hưu", "nghỉ hưu"}},
	{"dưỡng sức phục hồi sức khỏe", []string{"nghỉ dưỡng sức", "dưỡng sức"}},
	{"tử tuất", []string{"tiền tuất", "chế độ tử tuất", "mai táng phí", "trợ cấp mai táng"}},
	{"thừa kế", []string{"chia thừa kế", "di sản", "đất của ba mẹ để lại", "để lại"}},
	{"hợp đồng giao dịch", []string{"hợp đồng mua bán", "hợp đồng tặng cho", "hợp đồng", "giấy mua bán", "giấy tay"}},
	{"giấy chứng nhận đăng ký hộ kinh doanh", []string{"giấy phép kinh doanh hộ cá thể", "giấy phép hộ kinh doanh",
		"giấy đăng ký hộ kinh doanh", "giấy phép kinh doanh hộ kinh doanh"}},
	{"khai thuế", []string{"kê khai thuế", "nộp thuế", "đóng thuế", "khai thuế"}},
	{"thuế thu nhập cá nhân", []string{"tncn", "thuế tncn", "thuế thu nhập"}},

	{"cho thuê tài sản", []string{"cho thuê nhà", "cho thuê nguyên căn", "cho thuê phòng", "cho thuê mặt bằng"}},

	// Intent words and filler: dropped for retrieval (the assistant reads intents separately).
	{"", []string{
		"mất bao lâu", "bao lâu", "mất mấy ngày", "mấy ngày", "bao nhiêu ngày", "mất bao nhiêu ngày", "mất thời gian",
		"mất bao nhiêu tiền", "mất bao nhiêu", "bao nhiêu tiền", "bao nhiêu", "mất phí", "mất tiền", "tốn bao nhiêu", "tốn tiền",
		"tốn phí", "lệ phí", "phí", "giá", "tiền", "hết bao nhiêu", "bao tiền", "một trang",
		"ở đâu", "nộp ở đâu", "làm ở đâu", "chỗ nào", "nơi nào",
		"cần những giấy tờ gì", "cần giấy tờ gì", "giấy tờ gì", "hồ sơ gì", "cần những gì", "gồm những gì", "gồm những giấy tờ gì",
		"cần gì", "cần mang theo gì", "mang theo gì", "mang gì", "chuẩn bị gì", "hồ sơ", "thủ tục gì", "thủ tục",
		"như thế nào", "thế nào", "làm sao", "ra sao", "làm thế nào", "cách nào", "cách", "hướng dẫn", "quy trình",
		"có được không", "được không", "có phải", "không", "có", "được", "phải", "cần", "muốn", "xin", "làm", "cho", "tôi",
		"mình", "em", "anh", "chị", "ạ", "ơi", "vậy", "thì", "là", "của", "và", "với", "để", "đi", "nào", "gì", "những",
		"các", "nhé", "nha", "hả", "hỏi", "cho tôi hỏi", "cho hỏi", "xin hỏi", "ở", "tại", "trên", "khi", "mà", "rồi", "luôn",
		"thủ tục hành chính", "online", "trực tuyến", "qua mạng", "trên mạng", "cổng dịch vụ công", "dịch vụ công",
		"nộp online", "làm online", "nộp trực tuyến", "qua vneid app", "bưu điện", "bưu chính", "trực tiếp",
		"phường", "xã", "quận", "huyện", "ubnd", "tp", "tp hcm", "thành phố hồ chí minh", "tháng", "năm", "ngày", "ủy ban", "công an phường", "công an xã", "công an", "tp hcm", "tphcm",
		"sài gòn", "hcm", "hồ chí minh", "thành phố", "bây giờ", "hiện nay", "nay", "giờ", "nữa", "thêm", "mới", "cũ",
		"người", "nhà", "người nhà", "người thân", "vào", "ra", "một", "hay", "hoặc", "nhỏ", "lớn", "sẽ", "đã", "vừa",
		"thuộc", "theo", "về", "từ", "đến", "trong", "sau", "trước khi", "bị", "nộp", "làm hồ sơ", "đi làm", "ngân hàng",
		"vay", "vay ngân hàng", "mang theo", "chuẩn bị", "cụ thể", "gồm", "bao gồm", "nhiêu",
		"nhận được gì", "nhận được kết quả gì", "kết quả gì", "kết quả", "xong", "là gì", "điều kiện", "điều kiện gì",
		"căn cứ pháp lý", "căn cứ", "văn bản nào", "quy định nào", "theo luật nào", "nộp online được không",
		"làm online được không", "có làm online được không", "chi tiết", "chi tiết hơn", "đầy đủ", "xem thêm",
		"nói rõ hơn", "cụ thể hơn", "tất cả", "toàn bộ", "liệt kê hết", "giải thích thêm", "nói thêm", "hơn", "cho xem", "xem",
	}},
}

// Teencode and common chat abbreviations, applied to single syllables before the phrase rules.
// Keys are matched on the syllable as typed (lowercase).
var teencode = map[string]string{
	"ko": "không", "k": "không", "kg": "không", "hok": "không", "hông": "không", "khg": "không", "kh": "không",
	"dc": "được", "đc": "được", "dk": "đăng ký", "đk": "đăng ký", "dki": "đăng ký", "đki": "đăng ký", "dky": "đăng ký",
	"j": "gì", "ji": "gì", "bn": "bao nhiêu", "bnh": "bao nhiêu", "ntn": "như thế nào", "vs": "với", "mk": "mình",
	"mn": "mọi người", "r": "rồi", "ak": "ạ", "ah": "à", "z": "vậy", "v": "vậy", "ng": "người", "nc": "nước",
	"nn": "nước ngoài", "gđ": "gia đình", "cty": "công ty", "tk": "tài khoản", "tks": "cảm ơn", "thanks": "cảm ơn",
	"thank": "cảm ơn", "sdt": "số điện thoại", "sđt": "số điện thoại", "ạh": "ạ", "đăng kí": "đăng ký", "kí": "ký",
}

// token is one syllable as typed (lowercase, NFC) and folded.
type token struct {
	raw, fold string
	fixed     bool // produced by a rewrite: not rewritten again
}

// matches reports whether a token matches a rule token: exactly when the user types with diacritics
// (accented) or the token carries them (teencode output), on the folded form otherwise ("gia" must not match
// "giá" in "gia đình", but in "ho so gia bao nhieu" it may).
func (t token) matches(r token, accented bool) bool {
	if accented || t.raw != t.fold {
		return t.raw == r.raw
	}
	return t.fold == r.fold
}

// accented reports whether a question is typed with diacritics: any syllable carries one.
func accented(ts []token) bool {
	for _, t := range ts {
		if t.raw != t.fold {
			return true
		}
	}
	return false
}

func tokens(s string) []token {
	raw := rawSyllables(s)
	out := make([]token, len(raw))
	for i, r := range raw {
		out[i] = token{raw: r, fold: Fold(r)}
	}
	return out
}

type rule struct {
	from []token
	to   []token
}

// lexicon is the compiled form of lexiconRules, indexed by the folded first syllable of each phrase.
type lexicon struct {
	byFirst map[string][]rule // longest phrases first
	size    int
}

// defaultLexicon is the built-in rules, compiled; it never changes.
var defaultLexicon = compileLexicon(nil)

// Lexicon is what the query analyser reads a question with: the built-in rules and the synonyms staff add at
// run time. Its zero value, like a nil *Lexicon, applies the built-in rules only. It is safe for concurrent
// use; SetSynonyms takes effect from the next Analyze on. A Searcher owns one (Searcher.Lexicon), which staff
// update as they publish synonyms.
type Lexicon struct {
	compiled atomic.Pointer[lexicon] // the rules with the synonyms; nil: defaultLexicon
}

// rules returns the compiled rules to apply now.
func (l *Lexicon) rules() *lexicon {
	if l != nil {
		if lx := l.compiled.Load(); lx != nil {
			return lx
		}
	}
	return defaultLexicon
}

// Limits of runtime synonyms.
const (
	MaxSynonyms           = 5000
	MaxSynonymPhraseRunes = 100
	MaxSynonymTargetRunes = 200
)

// Synonym is a lexicon rule staff add at run time: a question containing Phrase is read as if it said To
// (the catalog's wording); an empty To drops the phrase.
type Synonym struct {
	Phrase string `json:"phrase"`
	To     string `json:"to"`
}

// CheckSynonym reports whether s is a usable synonym (ErrInvalid, with the reason, otherwise).
func CheckSynonym(s Synonym) error {
	switch {
	case !utf8.ValidString(s.Phrase) || !utf8.ValidString(s.To) || strings.ContainsRune(s.Phrase+s.To, 0):
		return fmt.Errorf("synonym: %w: not valid UTF-8", ErrInvalid)
	case len(rawSyllables(Normalize(s.Phrase))) == 0:
		return fmt.Errorf("synonym: %w: empty phrase", ErrInvalid)
	case utf8.RuneCountInString(s.Phrase) > MaxSynonymPhraseRunes:
		return fmt.Errorf("synonym: %w: phrase longer than %d characters", ErrInvalid, MaxSynonymPhraseRunes)
	case utf8.RuneCountInString(s.To) > MaxSynonymTargetRunes:
		return fmt.Errorf("synonym: %w: target longer than %d characters", ErrInvalid, MaxSynonymTargetRunes)
	}
	return nil
}

// SetSynonyms replaces the runtime synonyms l applies from the next Analyze on. They take precedence over the
// built-in rules for the same phrase. Invalid synonyms are skipped and reported in the returned error (the
// valid ones are applied anyway); at most MaxSynonyms are used.
func (l *Lexicon) SetSynonyms(ss []Synonym) error {
	var bad []string
	ok := make([]Synonym, 0, len(ss))
	for _, s := range ss {
		if err := CheckSynonym(s); err != nil {
			bad = append(bad, err.Error())
			continue
		}
		if len(ok) == MaxSynonyms {
			bad = append(bad, fmt.Sprintf("more than %d synonyms", MaxSynonyms))
			break
		}
		ok = append(ok, Synonym{Phrase: Normalize(s.Phrase), To: Normalize(s.To)})
	}
	if len(ok) == 0 {
		l.compiled.Store(nil)
	} else {
		l.compiled.Store(compileLexicon(ok))
	}
	if len(bad) > 0 {
		return fmt.Errorf("set synonyms: %w: %s", ErrInvalid, strings.Join(bad, "; "))
	}
	return nil
}

func compileLexicon(extra []Synonym) *lexicon {
	lx := &lexicon{byFirst: map[string][]rule{}}
	seen := map[string]bool{}
	rules := make([]struct {
		to   string
		from []string
	}, 0, len(extra)+len(lexiconRules))
	for _, s := range extra {
		rules = append(rules, struct {
			to   string
			from []string
		}{s.To, []string{s.Phrase}})
	}
	rules = append(rules, lexiconRules...)
	for _, r := range rules {
		to := tokens(r.to)
		for _, f := range r.from {
			from := tokens(f)
			if len(from) == 0 {
				continue
			}
			key := f
			if seen[key] {
				continue // the first rule for a phrase wins; order in lexiconRules is the priority
			}
			seen[key] = true
			lx.byFirst[from[0].fold] = append(lx.byFirst[from[0].fold], rule{from: from, to: to})
			lx.size++
		}
	}
	for k, rs := range lx.byFirst {
		sort.SliceStable(rs, func(i, j int) bool { return len(rs[i].from) > len(rs[j].from) })
		lx.byFirst[k] = rs
	}
	return lx
}

// rewrite applies teencode to single syllables, the age rule, and then the phrase rules, longest match first,
// left to right. Replacement syllables are not rewritten again.
func (lx *lexicon) rewrite(in []token) []token {
	out, _ := lx.read(in)
	return out
}

// read is rewrite that also returns kept: the message's own syllables (after teencode) but those the drop
// rules remove — filler and intent words ("cho em hỏi", "bao nhiêu", "ạ") that say nothing of the procedure.
func (lx *lexicon) read(in []token) (out, kept []token) {
	acc := accented(in)
	exp := make([]token, 0, len(in))
	for _, t := range in {
		if r, ok := teencode[t.raw]; ok {
			exp = append(exp, tokens(r)...) // canonical words: matched by the rules below like typed ones
			continue
		}
		exp = append(exp, t)
	}
	exp = ageRule(exp)
	exp = lostRule(exp, acc)
	out = make([]token, 0, len(exp))
	kept = make([]token, 0, len(exp))
	for i := 0; i < len(exp); {
		matched := false
		for _, r := range lx.byFirst[exp[i].fold] {
			if len(r.from) > len(exp)-i || exp[i].fixed {
				continue
			}
			// Without diacritics a single syllable is too ambiguous to drop ("can" is cần or căn): keep it
			// and let BM25's idf weigh it.
			if !acc && len(r.to) == 0 && len(r.from) == 1 && exp[i].raw == exp[i].fold {
				continue
			}
			ok := true
			for j, rt := range r.from {
				if exp[i+j].fixed || !exp[i+j].matches(rt, acc) {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, r.to...)
				if len(r.to) > 0 {
					kept = append(kept, exp[i:i+len(r.from)]...)
				}
				i += len(r.from)
				matched = true
				break
			}
		}
		if !matched {
			out = append(out, exp[i])
			kept = append(kept, exp[i])
			i++
		}
	}
	return out, kept
}

// ageRule rewrites "5 tuổi" into the catalog's age brackets for identity cards: under 14 / from 14 up.
func ageRule(ts []token) []token {
	out := make([]token, 0, len(ts)+4)
	for i := 0; i < len(ts); i++ {
		if i+1 < len(ts) && ts[i+1].fold == "tuoi" {
			if n, err := strconv.Atoi(ts[i].fold); err == nil && n >= 0 && n < 130 {
				bracket := "từ đủ 14 tuổi trở lên"
				if n < 14 {
					bracket = "dưới 14 tuổi"
				}
				for _, t := range tokens(bracket) {
					t.fixed = true
					out = append(out, t)
				}
				i++
				continue
			}
		}
		out = append(out, ts[i])
	}
	return out
}

// lostRule reads "mất" by its context and adds the reading to the word: before a document ("mất thẻ", "mất sổ
// đỏ") it means lost, so a re-issue (cấp lại); after a person ("ba mẹ mất", "ông mất") it means died (khai tử); alone it is dropped, as in
// "mất bao lâu" (takes how long), which the phrase rules already remove when written out.
func lostRule(ts []token, acc bool) []token {
	isMat := func(t token) bool {
		if acc || t.raw != t.fold {
			return t.raw == "mất"
		}
		return t.fold == "mat"
	}
	out := make([]token, 0, len(ts))
	for i, t := range ts {
		if !isMat(t) || t.fixed {
			out = append(out, t)
			continue
		}
		next, prev := "", ""
		if i+1 < len(ts) {
			next = ts[i+1].fold
		}
		if i > 0 {
			prev = ts[i-1].fold
			if acc && ts[i-1].raw == "có" { // "có mất phí không": has, not the aunt (cô)
				prev = ""
			}
		}
		var to string
		switch {
		case prev == "bao": // "báo mất", "trình báo mất": reporting a loss, a procedure of its own
		case prev == "moi" || prev == "vua" || prev == "da": // "mới mất", "vừa mất": died (phrase rules)
		case lostObjects[next]:
			to = "cấp lại"
		case people[prev]:
			to = "khai tử"
		case next == "" && prev != "":
			to = "cấp lại" // "giấy khai sinh bị mất" ends with it
		}
		if to == "" {
			// leave it to the phrase rules ("mất bao lâu", "mất phí", "mới mất"), which know more context
			out = append(out, t)
			continue
		}
		// The typed word stays ("mất hộ chiếu" is also "trình báo mất hộ chiếu"); the reading is added.
		t.fixed = true
		out = append(out, t)
		for _, x := range tokens(to) {
			x.fixed = true
			out = append(out, x)
		}
	}
	return out
}

// lostObjects are the folded first syllables of documents people lose.
var lostObjects = map[string]bool{"giay": true, "the": true, "so": true, "bang": true, "ho": true, "cccd": true,
	"cmnd": true, "can": true, "passport": true, "ca": true, "cavet": true, "bien": true, "gplx": true, "ban": true,
	"hop": true, "vi": true, "tui": true, "het": true}

// people are folded syllables naming a person whose "mất" means died.
var people = map[string]bool{"ba": true, "bo": true, "me": true, "cha": true, "ong": true, "chong": true, "vo": true,
	"con": true, "anh": true, "chi": true, "em": true, "nguoi": true, "noi": true, "ngoai": true, "co": true, "chu": true,
	"bac": true, "di": true, "cau": true, "mo": true, "than": true}

// LexiconSize is the number of phrases the lexicon knows.
func LexiconSize() int { return defaultLexicon.size }
