package assistant

import (
	"strings"
	"unicode"

	"github.com/trolyao/trolyao/knowledge"
)

// Intent is what a message asks about. A message can carry several ("cần giấy tờ gì và lệ phí bao nhiêu").
type Intent string

const (
	IntentDocuments    Intent = "documents"    // which papers to prepare
	IntentOnline       Intent = "online"       // whether and how to file online
	IntentSteps        Intent = "steps"        // how to do it, step by step
	IntentFee          Intent = "fee"          // how much it costs
	IntentTime         Intent = "time"         // how long it takes
	IntentWhere        Intent = "where"        // where to submit
	IntentRequirements Intent = "requirements" // conditions, eligibility
	IntentResult       Intent = "result"       // what one gets
	IntentLegal        Intent = "legal"        // legal basis
	IntentMore         Intent = "more"         // the full details, not the chat-sized summary
	IntentWard         Intent = "ward"         // old ward → new ward
	IntentGreeting     Intent = "greeting"
	IntentThanks       Intent = "thanks"
	IntentInjection    Intent = "injection"    // attempts to change the assistant's instructions
	IntentOutOfScope   Intent = "out-of-scope" // weather, prices, chit-chat …
)

// intentCues are folded phrases (matched on whole syllables) that signal each intent.
var intentCues = []struct {
	intent Intent
	cues   []string
}{
	{IntentDocuments, []string{"giay to", "ho so", "can gi", "can nhung gi", "mang theo", "mang gi", "chuan bi", "thanh phan",
		"gom nhung gi", "gom nhung", "giay gi", "can nhung", "to khai", "mau don"}},
	{IntentOnline, []string{"online", "truc tuyen", "qua mang", "tren mang", "dich vu cong", "vneid", "tai nha",
		"qua app", "ung dung", "nop mang"}},
	{IntentSteps, []string{"nhu the nao", "the nao", "lam sao", "cach lam", "cach nao", "trinh tu", "cac buoc", "quy trinh",
		"huong dan", "ra sao", "lam gi", "thu tuc gi", "thu tuc nhu"}},
	{IntentFee, []string{"le phi", "phi", "bao nhieu tien", "mat tien", "ton tien", "ton bao nhieu", "gia bao nhieu",
		"mien phi", "chi phi", "het tien", "bao tien", "het bao nhieu", "mat bao nhieu", "ton kem", "gia ca"}},
	{IntentTime, []string{"bao lau", "may ngay", "bao nhieu ngay", "khi nao co", "thoi gian", "lau khong", "bao gio co",
		"may hom", "may tuan", "bao lau thi", "thoi han", "nhanh khong", "bao nhieu lau"}},
	{IntentWhere, []string{"o dau", "noi nao", "cho nao", "dia chi", "co quan nao", "nop o dau", "lam o dau", "di dau",
		"den dau", "tai dau", "o phuong", "o xa", "cong an phuong", "cong an xa", "ubnd"}},
	{IntentRequirements, []string{"dieu kien", "co duoc khong", "duoc khong", "ai duoc", "doi tuong", "co phai", "yeu cau",
		"co can", "bat buoc"}},
	{IntentResult, []string{"nhan duoc gi", "ket qua", "duoc cap gi"}},
	{IntentLegal, []string{"can cu", "luat nao", "nghi dinh", "thong tu", "van ban phap", "quy dinh nao", "phap ly",
		"theo luat", "quy dinh o dau"}},
	{IntentMore, []string{"chi tiet", "day du", "xem them", "noi ro hon", "cu the hon", "tat ca", "giai thich them",
		"noi them", "liet ke het", "toan bo"}},
	{IntentGreeting, []string{"chao", "xin chao", "hello", "hi", "alo", "helo", "chao ban", "chao em", "chao ad", "hey"}},
	{IntentThanks, []string{"cam on", "thank", "thanks", "tks", "thank you", "camon", "cam on nhe", "cam on ban"}},
	{IntentInjection, []string{"bo qua huong dan", "bo qua moi", "bo qua cac", "ignore previous", "ignore all", "ignore the",
		"system prompt", "prompt he thong", "dong vai", "jailbreak", "developer mode", "ban gio la", "hay quen",
		"forget your", "you are now", "act as", "disregard"}},
	{IntentOutOfScope, []string{"thoi tiet", "gia vang", "xo so", "bong da", "ty gia", "chung khoan", "co phieu", "nau an",
		"bai hat", "phim", "weather", "football", "lottery", "du bao", "ket qua xo so", "tu vi", "boi toan", "game",
		"cong thuc nau", "gia xang", "gia bitcoin", "bitcoin", "tinh yeu", "ke chuyen", "lam tho", "viet code",
		"giai toan", "gold price", "stock", "recipe", "joke"}},
}

// cueIndex maps a folded first syllable to the cues starting with it.
var cueIndex = func() map[string][]struct {
	intent Intent
	toks   []string
} {
	m := map[string][]struct {
		intent Intent
		toks   []string
	}{}
	for _, ic := range intentCues {
		for _, c := range ic.cues {
			toks := strings.Fields(c)
			m[toks[0]] = append(m[toks[0]], struct {
				intent Intent
				toks   []string
			}{ic.intent, toks})
		}
	}
	return m
}()

// DetectIntents returns the intents of a message in a stable order (the order of the constants).
func DetectIntents(text string) []Intent {
	toks := knowledge.Syllables(text)
	found := map[Intent]bool{}
	for i, t := range toks {
		for _, c := range cueIndex[t] {
			if i+len(c.toks) > len(toks) {
				continue
			}
			ok := true
			for j, ct := range c.toks {
				if toks[i+j] != ct {
					ok = false
					break
				}
			}
			if ok {
				found[c.intent] = true
			}
		}
	}
	// "mất" + a duration word is time, not loss; "mất phí" is fee — the cues above cover both.
	var out []Intent
	for _, ic := range intentCues {
		if found[ic.intent] {
			out = append(out, ic.intent)
		}
	}
	return out
}

func has(is []Intent, x Intent) bool {
	for _, i := range is {
		if i == x {
			return true
		}
	}
	return false
}

// topical reports whether the intents ask something about a procedure.
func topical(is []Intent) bool {
	for _, i := range is {
		switch i {
		case IntentGreeting, IntentThanks, IntentInjection, IntentOutOfScope, IntentWard:
		default:
			return true
		}
	}
	return false
}

// unlawfulCues are phrases that ask to get round the law (forged papers, bribes, evading checks), with
// diacritics, matched on whole words of the message as typed: "giả" (fake) but not "giá" (price).
var unlawfulCues = []string{"giả", "giả mạo", "hối lộ", "đút lót", "lo lót", "chung chi", "phong bì", "trót lọt",
	"cho lọt", "qua mặt", "không bị phát hiện", "khỏi bị phát hiện", "có bị phát hiện", "trốn thuế", "né thuế",
	"trốn nghĩa vụ", "lách luật", "lách", "khai man",
	"khai gian", "làm lậu", "hàng lậu", "cửa sau", "tạm trú ảo", "nhập khẩu ảo", "không cần thi", "sim rác",
	"mua bằng", "bao đậu", "người quen lo", "làm ngơ", "bỏ qua cho", "xóa lỗi", "khỏi bị phạt", "tránh phạt",
	"bớt tuổi", "khai lùi tuổi", "khai tăng tuổi", "không ở thật"}

// unlawfulFolded are the same cues for a message typed without diacritics, where they are not ambiguous.
var unlawfulFolded = []string{"lam gia", "gia mao", "hoi lo", "dut lot", "lo lot", "phong bi", "trot lot",
	"cho lot", "qua mat", "khong bi phat hien", "tron thue", "ne thue", "lach luat", "khai man", "khai gian", "cua sau",
	"tam tru ao", "nhap khau ao", "khong can thi", "sim rac", "mua bang", "giay to gia", "cccd gia",
	"can cuoc gia", "so do gia", "so hong gia", "bao dau", "lam ngo", "xoa loi", "tranh phat", "bot tuoi",
	"khai lui tuoi", "khai tang tuoi", "khong o that"}

// unlawfulCue reports whether a message asks, in so many words, to get round the law.
func unlawfulCue(text string) bool {
	words := strings.FieldsFunc(strings.ToLower(knowledge.Normalize(text)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	raw := " " + strings.Join(words, " ") + " "
	folded := " " + knowledge.Fold(strings.Join(words, " ")) + " "
	if folded != raw {
		// Typed with diacritics: the accented cues are the test ("chung chi", paying a bribe, is then not the
		// "chứng chỉ" of a certificate, which a message typed without diacritics cannot tell apart).
		for _, c := range unlawfulCues {
			if strings.Contains(raw, " "+c+" ") {
				return true
			}
		}
		return false
	}
	for _, c := range unlawfulFolded {
		if strings.Contains(folded, " "+c+" ") {
			return true
		}
	}
	return false
}
