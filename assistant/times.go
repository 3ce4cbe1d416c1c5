package assistant

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// times states the processing time of each channel with its unit, or says plainly that the record gives
// none. When one way of filing has several times, each carries the case it belongs to, from the row's
// description ("Cấp lại biển số định danh: Không quá 07 ngày làm việc …").
func times(p *knowledge.Procedure) string {
	if len(p.Channels) == 0 {
		return "Thời hạn giải quyết: chưa có thông tin trong dữ liệu."
	}
	distinct := map[knowledge.ChannelKind]map[string]bool{}
	for _, c := range p.Channels {
		if distinct[c.Kind] == nil {
			distinct[c.Kind] = map[string]bool{}
		}
		distinct[c.Kind][c.Time.Text] = true
	}
	steps := strings.Join(p.Steps, "\n")
	type row struct {
		kind  knowledge.ChannelKind
		value string
	}
	var rows []row
	seen := map[row]bool{}
	for _, c := range p.Channels {
		v := timeValue(c.Time, steps)
		_, desc := splitChannelNote(c)
		if m := verifyFirst.FindStringSubmatch(desc); m != nil && m[1] != strconv.FormatFloat(c.Time.Value, 'f', -1, 64) {
			// "Phải tiến hành xác minh trong thời hạn 30 ngày …; sau khi xác minh … cấp lại trong thời hạn 02 ngày".
			v += fmt.Sprintf(" (sau bước xác minh, tối đa %s %s)", m[1], m[2])
		}
		if len(distinct[c.Kind]) > 1 {
			if cond := timeCondition(desc, c.Time); cond != "" {
				v += " (" + cond + ")"
			} else {
				v += " (dữ liệu không ghi trường hợp áp dụng)"
			}
		}
		r := row{c.Kind, v}
		if !seen[r] {
			seen[r] = true
			rows = append(rows, r)
		}
	}
	// The same times for every way of filing: say them once.
	byKind := map[knowledge.ChannelKind][]string{}
	var kinds []knowledge.ChannelKind
	for _, r := range rows {
		if byKind[r.kind] == nil {
			kinds = append(kinds, r.kind)
		}
		byKind[r.kind] = append(byKind[r.kind], r.value)
	}
	same := len(kinds) > 1
	for _, k := range kinds[1:] {
		if strings.Join(byKind[k], "\n") != strings.Join(byKind[kinds[0]], "\n") {
			same = false
		}
	}
	var lines []string
	if same {
		for _, v := range byKind[kinds[0]] {
			lines = append(lines, "- Mọi hình thức nộp: "+v)
		}
	} else {
		for _, r := range rows {
			lines = append(lines, fmt.Sprintf("- %s: %s", channelNames[r.kind], r.value))
		}
	}
	return "Thời hạn giải quyết:\n" + strings.Join(lines, "\n")
}

// verifyFirst finds a verification the record says comes before the time it gives ("Phải tiến hành xác minh
// trong thời hạn 30 ngày").
var verifyFirst = regexp.MustCompile(`(?i)xác minh trong thời hạn 0*(\d{1,3}) (ngày làm việc|ngày)`)

// noUnit is what the answer says after a bare number.
const noUnit = "dữ liệu không ghi rõ đơn vị ngày/giờ"

// timeValue writes one time: "7 ngày làm việc", or a bare number with a plain warning (and what the steps say
// about the same number, when they give it a unit), or the record's phrase.
func timeValue(d knowledge.Duration, steps string) string {
	n := strconv.FormatFloat(d.Value, 'f', -1, 64)
	switch {
	case d.Value > 0 && d.Unit != "":
		return n + " " + d.Unit
	case d.Value > 0:
		if s := stepsTime(steps, d.Value); s != "" {
			return fmt.Sprintf("%s (%s; phần các bước thực hiện ghi \"%s\")", n, noUnit, s)
		}
		return n + " (" + noUnit + ")"
	case strings.TrimSpace(d.Text) == "" || d.Text == "0":
		return "chưa có thông tin"
	case knowledge.Fold(d.Text) == "khong co thong tin" || knowledge.Fold(d.Text) == "khong quy dinh" || knowledge.Fold(d.Text) == "khong":
		return "chưa có thông tin (dữ liệu ghi \"" + d.Text + "\")"
	}
	return clipClause(d.Text, 160)
}

var timeUnitAlt = `(ngày làm việc|ngày|giờ làm việc|giờ|tháng|tuần|phút)`

// sameDay finds where the steps say a dossier is settled within the day it is received ("nếu tiếp nhận hồ sơ
// sau 15 giờ … trả kết quả … trong ngày làm việc tiếp theo", "giải quyết ngay trong ngày"): what a bare "1"
// means for the civil-status procedures that carry one.
var sameDay = regexp.MustCompile(`(?i)[^.;:()]{0,60}(?:sau 15 giờ|ngay trong ngày|trả kết quả trong ngày)[^.;()]{0,100}`)

// stepsTime finds where the steps give the same number with a unit ("Trong thời hạn 01 ngày làm việc"), or,
// for 1, say the dossier is settled within the day.
func stepsTime(steps string, v float64) string {
	if steps == "" || v != float64(int64(v)) {
		return ""
	}
	re := regexp.MustCompile(`(?i)(?:trong thời hạn|trong|không quá|chậm nhất)\s+0*` + strconv.FormatInt(int64(v), 10) + `\s*` + timeUnitAlt)
	if s := re.FindString(steps); s != "" || v != 1 {
		return s
	}
	return strings.TrimLeft(strings.TrimSpace(sameDay.FindString(steps)), ",-+ ")
}

// timeCondition finds the case a time row belongs to in its description: the item of "Thời hạn giải quyết"
// that states the same time, else the first item of it, else the first clause of the description.
func timeCondition(desc string, d knowledge.Duration) string {
	desc = strings.TrimSpace(desc)
	if desc == "" {
		return ""
	}
	seg := desc
	if m := timeHeading.FindStringIndex(desc); m != nil {
		seg = strings.TrimLeft(desc[m[1]:], " :")
	}
	var items []string
	for _, it := range regexp.MustCompile(`\s[-+]\s|\n|^[-+]\s`).Split(seg, -1) {
		if it = strings.TrimSpace(strings.TrimLeft(it, "-+ ")); it != "" {
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		return ""
	}
	var picks []string
	if d.Value > 0 && d.Value == float64(int64(d.Value)) {
		num := regexp.MustCompile(`(?i)(?:^|\D)0*` + strconv.FormatInt(int64(d.Value), 10) + `\s*` + regexp.QuoteMeta(d.Unit))
		for _, it := range items {
			if num.MatchString(it) && len(picks) < 2 {
				picks = append(picks, caseLabel(it))
			}
		}
	}
	if len(picks) == 0 {
		picks = []string{caseLabel(items[0])}
	}
	return clipClause(strings.Join(picks, "; "), 160)
}

var timeHeading = regexp.MustCompile(`(?i)thời hạn giải quyết`)

// caseLabel is the case an item of the description is about: the text before its colon, or the item.
func caseLabel(it string) string {
	if i := strings.Index(it, ":"); i > 0 && utf8.RuneCountInString(it[:i]) <= 120 {
		it = it[:i]
	}
	return clipClause(strings.TrimRight(it, " .;"), 120)
}
