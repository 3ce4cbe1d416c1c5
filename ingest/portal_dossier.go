package ingest

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// The "thành phần hồ sơ" field is a sequence of tables, each introduced by its heading (a condition such as
// "* Giấy tờ phải nộp:" or "Trường hợp …", or "--" for none) and the flattened column header:
//
//	<heading>Tên giấy tờMẫu đơn, tờ khaiSố lượng<name>[<form files>]<quantity><name>…<quantity><next heading>Tên giấy tờ…
//
// Every row ends with its quantity cell, "1 bản chính" or "0 bản chính,1 bản sao", so the quantities cut the
// rows; what follows a table's last quantity is the next table's heading. Form files ("Mẫu CT01.docx") sit
// between the name and the quantity, glued to both.
//
// Every row becomes a DossierItem, including rows that are only a note ("Trường hợp … thì không phải nộp bản
// giấy." with "0 bản chính"): the portal lists them as rows, the quantities say how to read them, and dropping
// them would lose conditions a citizen needs. Text after the last quantity of the last table (a row whose
// quantity cell was empty) becomes an item with no quantities.
const dossierHeader = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"

// quantityCell matches a quantity cell. The portal writes the counts without leading zeros, which tells them
// apart from counts inside a name ("nộp 01 bản chính;"). "Bản chính: 1, Bản sao: 1" is accepted as well.
var quantityCell = regexp.MustCompile(`([1-9]\d*|0) ?bản chính(?:, ?([1-9]\d*|0) ?bản sao)?` +
	`|([1-9]\d*|0) ?bản sao` +
	`|[Bb]ản chính ?: ?(\d+)(?:[,;] ?[Bb]ản sao ?: ?(\d+))?|[Bb]ản sao ?: ?(\d+)`)

// parseDossier parses thanh_phan_ho_so into dossier items, in source order.
func parseDossier(s string) []knowledge.DossierItem {
	tables := strings.Split(s, dossierHeader)
	if len(tables) < 2 {
		return nil
	}
	group := cleanHeading(tables[0])
	var out []knowledge.DossierItem
	for t := 1; t < len(tables); t++ {
		body := tables[t]
		prev := 0
		for _, m := range quantityCells(body) {
			text := body[prev:m[0]]
			prev = m[1]
			item, ok := dossierItem(text, group)
			if !ok {
				continue // a second quantity cell with nothing before it
			}
			item.Originals, item.Copies = quantities(body, m)
			out = append(out, item)
		}
		rest := body[prev:]
		if t+1 < len(tables) {
			group = cleanHeading(rest)
			continue
		}
		if item, ok := dossierItem(rest, group); ok {
			out = append(out, item)
		}
	}
	return out
}

// quantityCells finds the quantity cells of a table body. A count glued to a preceding digit is part of
// something else ("01 bản chính" inside a name), except after a date whose year runs into the count
// ("ngày 01/01/20261 bản chính": the count is 1).
func quantityCells(body string) [][]int {
	var out [][]int
	for _, m := range quantityCell.FindAllStringSubmatchIndex(body, -1) {
		if m[0] > 0 {
			prev := body[m[0]-1]
			num := ""
			if m[2] >= 0 && m[2] == m[0] {
				num = body[m[2]:m[3]]
			}
			switch {
			case prev >= '0' && prev <= '9':
				continue
			case prev == '/' && len(num) >= 5 && (num[:2] == "19" || num[:2] == "20") && (num[4] != '0' || len(num) == 5):
				m = append([]int(nil), m...)
				m[0] += 4
				m[2] += 4
			case prev == '/' && len(num) > 2:
				continue
			}
		}
		out = append(out, m)
	}
	return out
}

func quantities(body string, m []int) (originals, copies int) {
	num := func(i int) int {
		if m[2*i] < 0 {
			return 0
		}
		n, _ := strconv.Atoi(body[m[2*i]:m[2*i+1]])
		return n
	}
	switch {
	case m[2] >= 0:
		return num(1), num(2)
	case m[6] >= 0:
		return 0, num(3)
	case m[8] >= 0:
		return num(4), num(5)
	default:
		return 0, num(6)
	}
}

var headingMarks = regexp.MustCompile(`^[\s*•+\-–]+|[\s:]+$`)

// cleanHeading turns a table heading into an item group: "* Giấy tờ phải nộp:" → "Giấy tờ phải nộp"; "--" → "".
func cleanHeading(s string) string {
	s = knowledge.Normalize(s)
	for {
		t := headingMarks.ReplaceAllString(s, "")
		if t == s {
			break
		}
		s = t
	}
	if isPlaceholder(s) {
		return ""
	}
	return s
}

var itemBullet = regexp.MustCompile(`^(?:[-+•*–]+\s*)+`)

// dossierItem builds an item from the text of one row (name and form files).
func dossierItem(text, group string) (knowledge.DossierItem, bool) {
	name, forms := splitForms(strings.TrimSpace(text))
	name = knowledge.Normalize(name)
	name = strings.TrimSpace(itemBullet.ReplaceAllString(name, ""))
	name = strings.TrimRight(name, " ;,")
	form := knowledge.Normalize(strings.Join(forms, "; "))
	if isPlaceholder(name) || isOnlyPunct(name) {
		if form == "" {
			return knowledge.DossierItem{}, false
		}
		name = strings.TrimSuffix(forms[0], fileExt.FindString(forms[0]))
		name = knowledge.Normalize(name)
	}
	return knowledge.DossierItem{Name: name, Form: form, Group: group}, true
}

var (
	// fileExt is the extension of an attached form file.
	fileExt = regexp.MustCompile(`(?i)\.(?:docx|doc|pdf|xlsx|xls|rar|zip|odt|rtf|jpeg|jpg|png)`)
	// formPrefix is how form file names usually begin, also with the diacritics stripped by the portal
	// ("Mẫu" → "Mau", "Mu"; "Mẫu số" → "Mus").
	formPrefix = regexp.MustCompile(`^(?:\d+[.\s_-]*)?(?i:mẫu|mãu|mau|phụ lục|phu luc|biểu mẫu|bieu mau|đơn |don |tờ khai|to khai|phiếu|phieu|pl\s?\d|pl )|^(?:\d+[.\s_-]*)?Mu(?:s|[A-Z0-9])`)
)

// splitForms separates the form files that end a row's text from the document name. The portal glues the file
// names to the name ("…(Mẫu CT01 ban hành kèm theo Thông tư số 53/2025/TT-BCA).1.MuCT01banhnhkmtheoThngts53.doc"),
// so where the first file starts is a guess: a form-like word glued to the text before it ("…NĐ-CPMẫu số 05.docx",
// "…;Phụ lục I.docx"), else a break after punctuation or between a lower-case and an upper-case letter, else the
// last word.
func splitForms(text string) (name string, forms []string) {
	exts := fileExt.FindAllStringIndex(text, -1)
	if len(exts) == 0 || exts[len(exts)-1][1] != len(text) {
		return text, nil
	}
	// The chain of files: extensions whose files follow each other, back from the end of the text.
	first := len(exts) - 1
	for first > 0 {
		gap := text[exts[first-1][1]:exts[first][0]]
		if strings.TrimSpace(gap) == "" || utf8.RuneCountInString(gap) > 150 {
			break
		}
		first--
	}
	start := formStart(text[:exts[first][0]])
	name = text[:start]
	from := start
	for _, e := range exts[first:] {
		if f := strings.TrimSpace(text[from:e[1]]); f != "" {
			forms = append(forms, f)
		}
		from = e[1]
	}
	return name, forms
}

// formStart guesses where the first form file starts in head, the row text before its extension.
func formStart(head string) int {
	// Only look at the end of the text: file names are short.
	low := 0
	if n := utf8.RuneCountInString(head); n > 150 {
		low = len(head) - len(string([]rune(head)[n-150:]))
	}
	var glued, punct, camel []int
	prev, prevAt := rune(0), -1
	for i, r := range head {
		if i >= low && prevAt >= 0 {
			switch {
			case !unicode.IsSpace(prev) && !unicode.IsDigit(prev) && prev != '(' && prev != '/' && prev != '"' &&
				formPrefix.MatchString(head[i:]):
				glued = append(glued, i)
			case strings.ContainsRune(").;:,", prev) && (unicode.IsLetter(r) || unicode.IsDigit(r)) &&
				!(unicode.IsDigit(r) && prevAt > 0 && isASCIIDigit(head[prevAt-1])) && !prose(head[i:]):
				punct = append(punct, i) // not inside a number ("1.002877")
			case unicode.IsLower(prev) && (unicode.IsUpper(r) || unicode.IsDigit(r)):
				camel = append(camel, i)
			}
		}
		prev, prevAt = r, i
	}
	switch {
	case len(glued) > 0:
		return glued[0]
	case len(punct) > 0:
		return punct[0]
	case len(camel) > 0:
		return camel[0]
	}
	if formPrefix.MatchString(head) {
		return 0
	}
	if i := strings.LastIndexAny(head, " \t"); i >= 0 {
		return i + 1
	}
	return 0
}

// prose reports whether s reads like running text rather than a file name: it has clause breaks.
func prose(s string) bool {
	return strings.Contains(s, ", ") || strings.Contains(s, "; ") || strings.Contains(s, ": ") || strings.Contains(s, ". ")
}
