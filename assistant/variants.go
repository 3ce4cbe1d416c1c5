package assistant

import (
	"strings"
	"unicode"

	"github.com/trolyao/trolyao/knowledge"
)

// Sibling procedures have names that differ by a few words: "Cấp lại thẻ thường trú" and "Cấp đổi thẻ thường
// trú", "Đổi giấy phép lái xe" and "Đổi giấy phép lái xe Công an nhân dân", "Đăng ký tạm trú" and "Gia hạn tạm
// trú". The ranking weighs every word of a message, bank phrasings included, and can put first the sibling
// whose distinguishing words the citizen never said. preferSaidVariant corrects that among the first few hits.

// siblingRank is how deep in the ranking a sibling of the best procedure may be brought to the front.
const siblingRank = 3

// siblingShare is the share of the shorter name's words that two names must have in common to be siblings.
const siblingShare = 0.5

// siblingFiller are words of procedure names that say nothing a citizen would say to pick one sibling over another
// ("đối với trường hợp", "của", "tại"): they are not distinguishing words. Accented forms, so that "đối" (for)
// is not "đổi" (change).
var siblingFiller = map[string]bool{
	"đối": true, "với": true, "của": true, "cho": true, "và": true, "trường": true, "hợp": true, "khi": true,
	"bị": true, "tại": true, "các": true, "những": true, "theo": true, "về": true, "trong": true, "thực": true,
	"hiện": true, "thủ": true, "tục": true, "hoặc": true, "là": true, "đã": true, "được": true, "có": true,
	"người": true, "tổ": true, "chức": true, "cá": true, "nhân": true, "từ": true, "vào": true, "việc": true,
	"đến": true, "do": true, "này": true, "đó": true, "mà": true, "nơi": true, "đề": true, "nghị": true,
	// "một" is as often an article as the number of "công ty một thành viên"; "cấp" is as often a level or a
	// past issue ("đã cấp") as the action.
	"một": true, "cấp": true, "ở": true,
}

// romanLevel maps the Roman numerals of construction grades and licence classes ("cấp I", "loại II") to the
// digits citizens type.
var romanLevel = map[string]string{"i": "1", "ii": "2", "iii": "3", "iv": "4"}

// nameWords are the distinct lowercase accented words of a procedure's name without its level suffix, less
// filler words.
func nameWords(name string) map[string]bool {
	name = strings.ToLower(knowledge.Normalize(name))
	for _, cut := range []string{"(thực hiện", "thực hiện tại cấp"} {
		if i := strings.Index(name, cut); i > 0 {
			name = name[:i]
		}
	}
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if d, ok := romanLevel[w]; ok {
			w = d
		}
		if !siblingFiller[w] {
			out[w] = true
		}
	}
	return out
}

// preferSaidVariant brings to the front a sibling of the best procedure (within the first siblingRank hits)
// when the message says more of that sibling's distinguishing words than of the best one's (at least half of
// them, and as many as of the best one's; or a number the best one's do not have). Only the clauses of the message that name the two procedures' common topic are read: "Vợ
// chồng tôi mới chuyển về Bình Dương, …" says nothing about "Cấp mới" against "Cấp lại". The scores stay with
// the ranks, so that the lead of the first over the second is what the ranking found.
func preferSaidVariant(hits []knowledge.Hit, text string) []knowledge.Hit {
	if len(hits) < 2 {
		return hits
	}
	clauses := readClauses(text)
	best := nameWords(hits[0].Name)
	for i := 1; i < min(siblingRank, len(hits)); i++ {
		other := nameWords(hits[i].Name)
		onlyBest, onlyOther := diff(best, other), diff(other, best)
		var common []string
		for w := range best {
			if other[w] {
				common = append(common, w)
			}
		}
		if len(common) < 2 || float64(len(common)) < siblingShare*float64(min(len(best), len(other))) {
			continue
		}
		said := clauses.about(common).without(common)
		cb, sb := said.count(onlyBest)
		co, so := said.count(onlyOther)
		promote := so >= minEvidence && so > sb && co >= cb ||
			co > cb && said.number(onlyOther) && !said.number(onlyBest)
		if !promote {
			continue
		}
		return toFront(hits, i)
	}
	return hits
}

// toFront brings hit i to the front; the scores stay with the ranks, so that the lead of the first over the
// second is what the ranking found.
func toFront(hits []knowledge.Hit, i int) []knowledge.Hit {
	out := make([]knowledge.Hit, 0, len(hits))
	out = append(out, hits[i])
	out = append(out, hits[:i]...)
	out = append(out, hits[i+1:]...)
	for k := 0; k <= i; k++ {
		out[k].Score = hits[k].Score
	}
	return out
}

// saidWords are the words of a message as evidence for a name's words: those typed with diacritics match only
// the same accented word ("báo" is not "bao lâu"), those typed without match any accented form of them.
type saidWords struct{ accented, plain map[string]bool }

// clauses are the message's clauses (split at punctuation), each read as saidWords.
type clauses []saidWords

// about merges the clauses that say one of the words ws (accented).
func (cs clauses) about(ws []string) saidWords {
	out := saidWords{accented: map[string]bool{}, plain: map[string]bool{}}
	for _, c := range cs {
		if n, _ := c.count(ws); n == 0 {
			continue
		}
		for w := range c.accented {
			out.accented[w] = true
		}
		for w := range c.plain {
			out.plain[w] = true
		}
	}
	return out
}

// without drops the words typed without diacritics that could be one of ws (accented): "tap lai" has the "lái"
// of "sân tập lái", common to both names, and is no evidence for the "lại" of "Chấp thuận lại".
func (s saidWords) without(ws []string) saidWords {
	out := saidWords{accented: s.accented, plain: map[string]bool{}}
	drop := map[string]bool{}
	for _, w := range ws {
		drop[knowledge.Fold(w)] = true
	}
	for w := range s.plain {
		if !drop[w] {
			out.plain[w] = true
		}
	}
	return out
}

// questionWords ask how long, how much, where …: never evidence for a procedure's name; nor "bao" and "mất"
// before one of them ("bao lâu", "mất mấy ngày"), while "báo mất" typed without diacritics is; nor the "thủ"
// of "thủ tục", which is not the "thu" of "thu hồi".
// A word typed with diacritics is one only in its own accented form ("thế", not "thẻ").
var questionWords = map[string]bool{"lâu": true, "nhiêu": true, "gì": true, "nào": true, "đâu": true,
	"không": true, "sao": true, "thế": true, "được": true, "mấy": true, "ko": true, "k": true, "j": true, "giờ": true}

// questionFolded are the question words without diacritics.
var questionFolded = func() map[string]bool {
	out := map[string]bool{}
	for w := range questionWords {
		out[knowledge.Fold(w)] = true
	}
	return out
}()

// isQuestionWord reports whether w (lowercase, as typed) is a question word.
func isQuestionWord(w string) bool {
	if f := knowledge.Fold(w); f == w {
		return questionFolded[f]
	}
	return questionWords[w]
}

// askingPapers are the words of asking for the papers ("cần giấy tờ gì", "hồ sơ gồm những gì"): not evidence
// for a name that has them ("… cho người đã có hồ sơ, giấy tờ cá nhân").
var askingPapers = map[string]bool{"giay to": true, "ho so": true}

// readClauses reads the message as typed (the lexicon's additions are not evidence: "cty" becomes "doanh
// nghiệp", which would pick a company procedure over a law firm's).
func readClauses(text string) clauses {
	var out clauses
	for _, part := range strings.FieldsFunc(strings.ToLower(knowledge.Normalize(text)), func(r rune) bool { return strings.ContainsRune(",.;:?!\n()", r) }) {
		words := strings.FieldsFunc(part, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		s := saidWords{accented: map[string]bool{}, plain: map[string]bool{}}
		skip := false
		for i, w := range words {
			f := knowledge.Fold(w)
			next := ""
			if i+1 < len(words) {
				next = words[i+1]
			}
			if isQuestionWord(w) || (f == "mat" || f == "bao") && isQuestionWord(next) || f == "thu" && knowledge.Fold(next) == "tuc" {
				continue
			}
			if pair := f + " " + knowledge.Fold(next); askingPapers[pair] {
				skip = true
				continue
			}
			if skip {
				skip = false
				continue
			}
			if f == w {
				s.plain[f] = true
			} else {
				s.accented[w] = true
			}
		}
		out = append(out, s)
	}
	return out
}

// minEvidence is the share of a sibling's distinguishing words the message must say to bring it forward.
const minEvidence = 0.5

// count is how many of the words of ws (accented) the message says, and their share of ws (0 for none).
func (s saidWords) count(ws []string) (int, float64) {
	if len(ws) == 0 {
		return 0, 0
	}
	n := 0
	for _, w := range ws {
		if s.accented[w] || s.plain[knowledge.Fold(w)] {
			n++
		}
	}
	return n, float64(n) / float64(len(ws))
}

// number reports whether the message says one of the numbers among ws ("cấp I" read as "cấp 1", "loại 2"):
// a number is specific enough to be evidence on its own.
func (s saidWords) number(ws []string) bool {
	for _, w := range ws {
		if w != "" && unicode.IsDigit(rune(w[0])) && s.plain[w] {
			return true
		}
	}
	return false
}

func diff(a, b map[string]bool) []string {
	var out []string
	for w := range a {
		if !b[w] {
			out = append(out, w)
		}
	}
	return out
}
