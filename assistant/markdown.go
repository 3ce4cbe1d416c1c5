package assistant

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Answers are written in a light, safe subset of Markdown that every channel can show:
//
//   - **bold** for section titles and the procedure's name, on one line;
//   - lines starting with "- " (a list item) or "1. " (a step);
//   - links as [text](https://…), never a raw address in the text;
//   - a blank line between sections.
//
// Nothing else is markup: the web widget renders exactly this subset with DOM nodes and shows every other
// character as text (no HTML from an answer is ever interpreted); channels without formatting (Zalo, the
// terminal) get PlainText.

var (
	mdLink = regexp.MustCompile(`\[([^\[\]\n]+)\]\((https?://[^\s()]+)\)`)
	mdBold = regexp.MustCompile(`\*\*([^*\n]+)\*\*`)
)

// Link writes a Markdown link; brackets in the text are replaced so that the link stays one.
func Link(text, url string) string {
	text = strings.NewReplacer("[", "(", "]", ")").Replace(text)
	return "[" + text + "](" + url + ")"
}

// PlainText turns an answer in the Markdown subset into clean plain text: no asterisks, list items as "• ",
// links as "text: address".
func PlainText(md string) string {
	s := mdLink.ReplaceAllString(md, "$1: $2")
	s = mdBold.ReplaceAllString(s, "$1")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(l, "- "); ok {
			lines[i] = "• " + rest
		}
	}
	return strings.Join(lines, "\n")
}

// Labels shortens names for buttons and quick replies to at most n characters each, at word boundaries, and
// keeps them distinct: two names that would be cut to the same text keep the words that tell them apart
// ("Cấp Phiếu Lý lịch tư pháp … theo yêu cầu của cơ quan nhà nước").
func Labels(names []string, n int) []string {
	out := make([]string, len(names))
	for i, name := range names {
		out[i] = clipWords(name, n)
	}
	for i := range out {
		for j := range out {
			if i == j || out[i] != out[j] || names[i] == names[j] {
				continue
			}
			out[i] = distinct(names[i], names[j], n)
			out[j] = distinct(names[j], names[i], n)
		}
	}
	// Whatever still collides (never seen in the catalog) is numbered.
	seen := map[string]int{}
	for i := range out {
		seen[out[i]]++
		if seen[out[i]] > 1 {
			suffix := " (" + string(rune('0'+min(9, seen[out[i]]))) + ")"
			out[i] = clipWords(out[i], n-utf8.RuneCountInString(suffix)) + suffix
		}
	}
	return out
}

// distinct shortens name to n characters keeping its first words and the words where it departs from other.
func distinct(name, other string, n int) string {
	a, b := strings.Fields(name), strings.Fields(other)
	d := 0
	for d < len(a) && d < len(b) && strings.EqualFold(a[d], b[d]) {
		d++
	}
	if d >= len(a) {
		return clipWords(name, n)
	}
	headWords := min(d, 4)
	head := strings.Join(a[:headWords], " ")
	if headWords < d {
		head += " …"
	}
	return clipWords(strings.TrimSpace(head+" "+strings.Join(a[d:], " ")), n)
}

// clipWords cuts s to at most n characters at a word boundary, marking the cut with "…".
func clipWords(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:-–(") + "…"
}
