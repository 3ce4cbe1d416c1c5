package ingest

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// notAvailable is how the portal says a field is empty.
const notAvailable = "Không có thông tin"

// clean normalizes a text field and maps the portal's placeholders for "nothing" to "".
func clean(s string) string {
	s = knowledge.Normalize(s)
	if isPlaceholder(s) {
		return ""
	}
	return s
}

// isPlaceholder reports whether normalized s says nothing: "", "Không có thông tin", or only dashes.
func isPlaceholder(s string) bool {
	if s == "" || strings.EqualFold(s, notAvailable) {
		return true
	}
	return strings.Trim(s, "-–— ") == ""
}

// cleanName normalizes a procedure name. A few names in the crawl are the same line twice ("X\nX"); those
// keep one copy.
func cleanName(s string) string {
	n := clean(s)
	if lines := strings.Split(strings.TrimSpace(s), "\n"); len(lines)%2 == 0 && len(lines) > 1 {
		h := len(lines) / 2
		a, b := clean(strings.Join(lines[:h], " ")), clean(strings.Join(lines[h:], " "))
		if a != "" && a == b {
			return a
		}
	}
	return n
}

// parseLevels maps cap_thuc_hien ("Cấp bộ, Cấp xã") to levels, in source order, without repeats.
func parseLevels(s string) []knowledge.Level {
	var out []knowledge.Level
	for _, part := range strings.Split(s, ",") {
		var l knowledge.Level
		switch knowledge.Fold(knowledge.Normalize(part)) {
		case "cap bo", "trung uong", "cap trung uong":
			l = knowledge.LevelCentral
		case "cap tinh":
			l = knowledge.LevelProvince
		case "cap xa":
			l = knowledge.LevelCommune
		case "co quan khac":
			l = knowledge.LevelOther
		default:
			continue
		}
		if !containsLevel(out, l) {
			out = append(out, l)
		}
	}
	return out
}

func containsLevel(ls []knowledge.Level, l knowledge.Level) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

// splitList splits lists such as "Công dân Việt Nam, Tổ chức (không bao gồm doanh nghiệp, HTX)" on commas,
// semicolons and line breaks outside parentheses. A piece that starts with a lower-case letter continues the
// previous one ("… về trật tự, xã hội"). Pieces of all the inputs are merged without repeats.
func splitList(ss ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		var parts []string
		depth, start := 0, 0
		for i, r := range s {
			switch r {
			case '(':
				depth++
			case ')':
				if depth > 0 {
					depth--
				}
			case ',', ';', '\n':
				if depth == 0 {
					parts = append(parts, s[start:i])
					start = i + 1
				}
			}
		}
		parts = append(parts, s[start:])
		var merged []string
		for _, part := range parts {
			part = clean(part)
			if part == "" {
				continue
			}
			if r, _ := utf8.DecodeRuneInString(part); unicode.IsLower(r) && len(merged) > 0 {
				merged[len(merged)-1] += ", " + part
				continue
			}
			merged = append(merged, part)
		}
		for _, m := range merged {
			if k := knowledge.Fold(m); !seen[k] {
				seen[k] = true
				out = append(out, m)
			}
		}
	}
	return out
}

// resultCode matches the result-document codes ("Mã: KQ.G15.000031", "Mã: VBTT") that separate the result
// names in ket_qua_xu_ly.
var resultCode = regexp.MustCompile(`Mã\s*:\s*[A-Z]{2,}(?:\.[A-Z]*\d+)*`)

// parseResult flattens ket_qua_xu_ly, "Giấy khai sinhMã: KQ.G15.000031Từ khóa…Nộp hồ sơ", to the result
// names, joined by "; " when there are several.
func parseResult(s string) string {
	for _, stop := range []string{"Từ khóa", "Chọn cơ quan thực hiện"} {
		if i := strings.Index(s, stop); i >= 0 {
			s = s[:i]
		}
	}
	var names []string
	for _, part := range resultCode.Split(s, -1) {
		if part = strings.TrimRight(clean(part), " .;"); part != "" && !containsString(names, part) {
			names = append(names, part)
		}
	}
	return strings.Join(names, "; ")
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

var (
	// stepInline finds where a new step starts inside a line: "Bước 2" after a space or punctuation, or a
	// bullet after the end of a sentence.
	stepInline = regexp.MustCompile(`[\s.;:]\s*(Bước\s+\d+)|([.;:])\s*([-+•*]\s)`)
	// stepBullet is a leading list marker.
	stepBullet = regexp.MustCompile(`^(?:[-+•*–]+\s*)+`)
)

// parseSteps splits trinh_tu_thuc_hien into steps: one per line, a line also being split before an inline
// "Bước N" or a bullet that follows the end of a sentence. A line that starts with a lower-case letter
// continues the previous one (the crawl breaks some sentences). Leading bullets are removed.
func parseSteps(s string) []string {
	s = strings.ReplaceAll(s, "\r", "\n")
	var lines []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if r, _ := utf8.DecodeRuneInString(line); unicode.IsLower(r) && len(lines) > 0 && !listMark.MatchString(line) {
			lines[len(lines)-1] += " " + line
			continue
		}
		lines = append(lines, line)
	}
	var out []string
	pending := "" // a heading alone on its line ("Bước 1:"), waiting for its text
	for _, line := range lines {
		for _, piece := range splitInlineSteps(line) {
			piece = strings.TrimSpace(stepBullet.ReplaceAllString(knowledge.Normalize(piece), ""))
			if isPlaceholder(piece) || isOnlyPunct(piece) {
				continue
			}
			if stepHeading.MatchString(piece) {
				pending = strings.TrimSpace(pending + " " + piece)
				continue
			}
			if pending != "" {
				piece, pending = pending+" "+piece, ""
			}
			out = append(out, piece)
		}
	}
	if pending != "" {
		out = append(out, pending)
	}
	return out
}

// listMark starts a lettered or roman-numbered list item ("a)", "iii)").
var listMark = regexp.MustCompile(`^(?:[a-zđ]|[ivx]+)\)`)

// stepHeading is a step line that only numbers or titles what follows.
var stepHeading = regexp.MustCompile(`^(?:Bước\s*\d+|[a-zđ]\)|\(?[ivx]+\)|\d+(?:\.\d+)*\.?|Lưu ý)\s*[:.]?$`)

func splitInlineSteps(line string) []string {
	var pieces []string
	start := 0
	for _, m := range stepInline.FindAllStringSubmatchIndex(line, -1) {
		var cut int
		switch {
		case m[2] >= 0: // Bước N
			cut = m[2]
		default: // bullet after punctuation: keep the punctuation with the previous piece
			cut = m[6]
		}
		if cut <= start {
			continue
		}
		pieces = append(pieces, line[start:cut])
		start = cut
	}
	return append(pieces, line[start:])
}

func isOnlyPunct(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// truncateRunes shortens s to at most n runes, cutting at a space when one is near and marking the cut with "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	cut := n - 1
	for i := cut; i > n/2; i-- {
		if rs[i] == ' ' {
			cut = i
			break
		}
	}
	return strings.TrimSpace(string(rs[:cut])) + "…"
}

// lastRunes keeps the last n runes of s, cutting at a space when one is near and marking the cut with "…".
func lastRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	cut := len(rs) - n + 1
	for i := cut; i < len(rs)-n/2; i++ {
		if rs[i] == ' ' {
			cut = i + 1
			break
		}
	}
	return "…" + strings.TrimSpace(string(rs[cut:]))
}
