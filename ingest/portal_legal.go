package ingest

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// The "căn cứ pháp lý" table arrives as
//
//	Tên văn bản pháp lýMã văn bản<title><number><title><number>…
//
// e.g. "…Thông tư Hướng dẫn về phí và lệ phí …85/2019/TT-BTCNghị định …104/2022/NĐ-CP". Titles often quote
// numbers themselves ("Thông tư 57/2021/TT-BCA57/2021/TT-BCA", "Luật 60/2014/QH1360/2014/QH13"), so an entry ends
// at a number that is glued to what follows it (the next title, or the end), not at every number.
const legalHeader = "Tên văn bản pháp lýMã văn bản"

// issuerCodes are the last parts of Vietnamese document numbers (type and issuer). When the letters of a number
// run into the next title ("NĐ-CPThông tư", "TT-BCAngày", "NĐ-CPSỬA ĐỔI"), the longest code that starts the run
// is the number's end.
var issuerCodes = []string{
	"CP", "TTg", "QH", "UBTVQH", "CTN", "VPCP", "TW",
	"TT", "TTLT", "NĐ", "ND", "NQ", "QĐ", "CT", "PL", "L", "VBHN", "HD", "KH",
	"BTC", "BCA", "BTP", "BXD", "BNNMT", "BNNPTNT", "BNN", "BTNMT", "NHNN", "NHNNVN", "BGTVT", "BKHĐT", "BHXH",
	"BYT", "BLĐTBXH", "BCT", "BQP", "BKHCN", "BNV", "BVHTTDL", "BGDĐT", "BTTTT", "BNG", "BTS", "UBDT", "BDT",
	"TANDTC", "VKSNDTC", "HĐTP", "HĐTPTANDTC", "UBND", "HĐND", "KTNN", "TCHQ", "TCT", "UBCKNN", "UBCK", "BCĐ",
	"BCT", "BKH", "BTM", "BGD", "BCN", "HĐBT", "TLĐ", "BCY", "BXD-BTC",
}

// parseLegal parses can_cu_phap_ly into legal documents, in source order, each number once.
func parseLegal(s string) []knowledge.LegalDoc {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimPrefix(s, legalHeader))
	if isPlaceholder(knowledge.Normalize(s)) {
		return nil
	}
	var out []knowledge.LegalDoc
	seen := map[string]bool{}
	add := func(title, number string) {
		title = legalTitle(title)
		number = knowledge.Normalize(number)
		if title == "" {
			title = number
		}
		if title == "" {
			return
		}
		if number != "" {
			if seen[number] {
				return
			}
			seen[number] = true
		}
		out = append(out, knowledge.LegalDoc{Title: title, Number: number})
	}
	from := 0
	for _, n := range docNumbers(s) {
		if !endsEntry(s, n) {
			continue
		}
		add(s[from:n[0]], s[n[0]:n[1]])
		from = n[1]
	}
	if rest := s[from:]; !isPlaceholder(knowledge.Normalize(rest)) {
		add(rest, "")
	}
	return out
}

// legalTitleTail is a document type left at the end of a title when the number column repeated it
// ("…của Bộ trưởng Bộ Tư phápThông tư số" + "03/2023/TT-BTP").
var legalTitleTail = regexp.MustCompile(`(\pL)(?:Thông tư|Nghị định|Nghị quyết|Quyết định|Luật|Thông tư liên tịch)(?: số)?\s*$`)

func legalTitle(s string) string {
	s = legalTitleTail.ReplaceAllString(s, "$1")
	s = knowledge.Normalize(s)
	return strings.TrimSpace(strings.TrimLeft(s, ":;,.-–) "))
}

// endsEntry reports whether the number at n ends a table entry (is the "Mã văn bản" cell). The cell is glued to
// the title before it ("…Luật Hộ tịch123/2015/NĐ-CP") and to the next title after it ("…NĐ-CPThông tư …"),
// while a number quoted inside a title follows a space ("Thông tư số 53/2025/TT-BCA ngày …"). So the number ends
// an entry when nothing follows it, when an upper-case letter follows it directly, or when it is glued to the
// text before it and no digit follows (a digit means the real cell comes next: "…57/2021/TT-BCA57/2021/TT-BCA").
func endsEntry(s string, n [2]int) bool {
	after := strings.TrimRight(s[n[1]:], " .;,\t\n")
	if strings.TrimSpace(after) == "" {
		return true
	}
	r, _ := utf8.DecodeRuneInString(after)
	if unicode.IsDigit(r) {
		return false
	}
	if unicode.IsUpper(r) {
		return true
	}
	if n[0] == 0 {
		return false
	}
	prev, _ := utf8.DecodeLastRuneInString(s[:n[0]])
	glued := !unicode.IsSpace(prev) && prev != '(' && prev != ':' && prev != '/'
	if !glued {
		return false
	}
	if unicode.IsSpace(r) || r == '.' || r == ';' {
		next, _ := utf8.DecodeRuneInString(strings.TrimLeft(after, " \t\n.;"))
		return unicode.IsUpper(next) || unicode.IsDigit(next)
	}
	return unicode.IsLetter(r)
}

// docNumbers finds document numbers ("85/2019/TT-BTC", "66.7/2025/NQ-CP", "2222/QĐ-BHXH", "60/2014/QH13") as
// byte ranges, in order.
func docNumbers(s string) [][2]int {
	var out [][2]int
	end := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < '0' || c > '9' || (i > 0 && isASCIIDigit(s[i-1]) && i != end) {
			i++
			continue
		}
		if start, e, ok := docNumberAt(s, i); ok {
			out = append(out, [2]int{start, e})
			i, end = e, e
			continue
		}
		i++
	}
	return out
}

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }

// docNumberAt parses a document number that starts with the digits at i.
func docNumberAt(s string, i int) (start, end int, ok bool) {
	j := i
	for j < len(s) && isASCIIDigit(s[j]) {
		j++
	}
	start = i
	// "Luật Cư trú 202068/2020/QH14": a year glued to the number.
	if n := j - i; n >= 5 && (s[i:i+2] == "19" || s[i:i+2] == "20") {
		start = i + 4
	}
	if j < len(s) && s[j] == '.' && j+1 < len(s) && isASCIIDigit(s[j+1]) {
		if j-start == 4 && (s[start:start+2] == "19" || s[start:start+2] == "20") {
			// "…năm 2001.22/2025/TT-BXD": a year ending the title, then the number.
			start = j + 1
		}
		j++
		for j < len(s) && isASCIIDigit(s[j]) {
			j++
		}
	}
	if j >= len(s) || s[j] != '/' {
		return 0, 0, false
	}
	j++
	if j+5 <= len(s) && allDigits(s[j:j+4]) && s[j+4] == '/' {
		j += 5
	}
	segments := 0
	for {
		e, cut := codeSegment(s, j)
		if e == j {
			break
		}
		segments++
		j = e
		if cut {
			break
		}
		// Another segment after "-" (also written " -" or "- ").
		k := j
		for k < len(s) && s[k] == ' ' && k-j < 1 {
			k++
		}
		if k < len(s) && s[k] == '-' {
			k++
			if k < len(s) && s[k] == ' ' {
				k++
			}
			if r, _ := utf8.DecodeRuneInString(s[k:]); r >= 'A' && r <= 'Z' || r == 'Đ' {
				j = k
				continue
			}
		}
		break
	}
	if segments == 0 {
		return 0, 0, false
	}
	return start, j, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isASCIIDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// codeSegment reads one part of a number's code at i ("TT", "BTC", "QH13", "TTg") and returns its end, and
// whether the letters ran into the following text so that the number must end here.
func codeSegment(s string, i int) (end int, cut bool) {
	j := i
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if r >= 'A' && r <= 'Z' || r == 'Đ' || (r == 'g' && strings.HasSuffix(s[i:j], "TT")) {
			j += size
			continue
		}
		break
	}
	if j == i {
		return i, false
	}
	run := s[i:j]
	best := ""
	for _, c := range issuerCodes {
		if strings.HasPrefix(run, c) && len(c) > len(best) {
			best = c
		}
	}
	next, _ := utf8.DecodeRuneInString(s[j:])
	switch {
	case best == run:
	case best != "":
		j, cut = i+len(best), true
	case unicode.IsLetter(next) && utf8.RuneCountInString(run) > 1:
		// "XYZThông": the last capital starts the next word.
		_, size := utf8.DecodeLastRuneInString(run)
		j, cut = j-size, true
	}
	// Legislature numbers: QH13, UBTVQH15 (two digits, so that "QH1360/2014/QH13" splits).
	if strings.HasSuffix(s[i:j], "QH") {
		k := j
		for k < len(s) && k-j < 2 && isASCIIDigit(s[k]) {
			k++
		}
		j = k
	}
	return j, cut
}
