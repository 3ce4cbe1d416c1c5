package ingest

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/trolyao/trolyao/knowledge"
)

// XLSXSource is the Source of procedures read from the portal's list exports.
const XLSXSource = "portal-list"

// maxXLSXBytes bounds the spreadsheet files ReadXLSX opens (the portal's largest export is under 50 KB).
const maxXLSXBytes = 64 << 20

// xlsxColumn is one column ReadXLSX understands, recognised by its folded header text.
type xlsxColumn int

const (
	colCode xlsxColumn = iota
	colName
	colIssuer
	colAgencies
	colField
	colLevels
	colKind
	colDecision
)

// xlsxHeaders maps folded header texts to columns.
var xlsxHeaders = map[string]xlsxColumn{
	"ma so": colCode, "ma thu tuc": colCode, "ma tthc": colCode, "ma": colCode,
	"ten": colName, "ten thu tuc": colName, "ten tthc": colName, "ten thu tuc hanh chinh": colName,
	"co quan ban hanh": colIssuer, "bo nganh": colIssuer, "co quan cong bo": colIssuer,
	"co quan thuc hien": colAgencies,
	"linh vuc":          colField,
	"cap thuc hien":     colLevels,
	"loai thu tuc":      colKind,
	"so quyet dinh":     colDecision, "quyet dinh cong bo": colDecision,
}

// issuerMinistries maps the issuing body of the portal lists to the ministry folders of the crawl.
var issuerMinistries = map[string]string{
	"bo cong an":                          "bo-cong-an",
	"bo tai chinh":                        "bo-tai-chinh",
	"bo tu phap":                          "bo-tu-phap",
	"bo xay dung":                         "bo-xay-dung",
	"bo xay dung (giao thong van tai cu)": "bo-xay-dung",
	"bo nong nghiep va moi truong":        "bo-nong-nghiep-mt",
	"ngan hang nha nuoc viet nam":         "ngan-hang-nha-nuoc",
	"ngan hang nha nuoc":                  "ngan-hang-nha-nuoc",
	"toa an nhan dan":                     "toa-an-nhan-dan",
	"toa an nhan dan toi cao":             "toa-an-nhan-dan",
}

// ReadXLSX reads one of the portal's list exports ("DANH SÁCH THỦ TỤC HÀNH CHÍNH": Mã số, Tên, Cơ quan ban
// hành, Cơ quan thực hiện, Lĩnh vực). In every sheet it looks for the header row among the first rows (a title
// block usually sits above it) and reads the rows below it. Such a list only names procedures: the procedures
// have a code, a name, a field, agencies and a ministry, no channels or dossier. Source is "portal-list" and
// SourceDate the workbook's modification (or creation) date. Procedures come back sorted by code; a repeated code
// keeps its first row. Rows without a code or a name, or with a cell over knowledge.MaxFieldRunes, are reported
// (Field is the cell, "Sheet!A12") and skipped.
func ReadXLSX(path string) ([]knowledge.Procedure, []Problem, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("ingest: read xlsx: %w", err)
	}
	if st.Size() > maxXLSXBytes {
		return nil, nil, fmt.Errorf("ingest: read xlsx %s: %w: file is %d bytes, more than %d", path, knowledge.ErrInvalid, st.Size(), maxXLSXBytes)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("ingest: read xlsx %s: %w", path, err)
	}
	defer f.Close()
	date := workbookDate(f)

	var (
		out      []knowledge.Procedure
		problems []Problem
		seen     = map[string]string{}
		found    bool
	)
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			return nil, problems, fmt.Errorf("ingest: read xlsx %s: sheet %s: %w", path, sheet, err)
		}
		head, cols := findXLSXHeader(rows)
		if head < 0 {
			continue
		}
		found = true
		for i := head + 1; i < len(rows); i++ {
			row := rows[i]
			cell := func(c xlsxColumn) string {
				if j, ok := cols[c]; ok && j < len(row) {
					return row[j]
				}
				return ""
			}
			ref := func(c xlsxColumn) string {
				name, _ := excelize.CoordinatesToCellName(cols[c]+1, i+1)
				return sheet + "!" + name
			}
			if allBlank(row) {
				continue
			}
			if j, long := longCell(row); long {
				name, _ := excelize.CoordinatesToCellName(j+1, i+1)
				problems = append(problems, Problem{File: path, Field: sheet + "!" + name,
					Reason: fmt.Sprintf("cell longer than %d characters", knowledge.MaxFieldRunes)})
				continue
			}
			code := strings.TrimSpace(cell(colCode))
			name := clean(cell(colName))
			switch {
			case code == "":
				problems = append(problems, Problem{File: path, Field: ref(colCode), Reason: "missing procedure code"})
				continue
			case checkCode(code) != nil:
				problems = append(problems, Problem{File: path, Field: ref(colCode), Reason: checkCode(code).Error()})
				continue
			case name == "":
				problems = append(problems, Problem{File: path, Field: ref(colName), Reason: "missing procedure name"})
				continue
			}
			if first, dup := seen[code]; dup {
				problems = append(problems, Problem{File: path, Field: ref(colCode),
					Reason: fmt.Sprintf("duplicate procedure code %s; kept %s", code, first)})
				continue
			}
			seen[code] = ref(colCode)
			issuer := clean(cell(colIssuer))
			out = append(out, knowledge.Procedure{
				Code:       code,
				Name:       name,
				Levels:     parseLevels(cell(colLevels)),
				Field:      strings.Join(splitLines(cell(colField)), "; "),
				Kind:       clean(cell(colKind)),
				Decision:   clean(cell(colDecision)),
				Ministry:   ministryOf(issuer),
				Agencies:   splitList(cell(colAgencies)),
				Source:     XLSXSource,
				SourceDate: date,
			})
		}
	}
	if !found {
		return nil, nil, fmt.Errorf("ingest: read xlsx %s: %w: no header row with \"Mã số\" and \"Tên\"", path, knowledge.ErrInvalid)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, problems, nil
}

// findXLSXHeader finds the header row among the first rows of a sheet: the first row with a code and a name
// column. It returns the row index (-1 if none) and the column of each known header.
func findXLSXHeader(rows [][]string) (int, map[xlsxColumn]int) {
	for i, row := range rows {
		if i >= 30 {
			break
		}
		cols := map[xlsxColumn]int{}
		for j, v := range row {
			c, ok := xlsxHeaders[strings.TrimSpace(knowledge.Fold(knowledge.Normalize(v)))]
			if _, dup := cols[c]; ok && !dup {
				cols[c] = j
			}
		}
		_, code := cols[colCode]
		_, name := cols[colName]
		if code && name {
			return i, cols
		}
	}
	return -1, nil
}

func allBlank(row []string) bool {
	for _, v := range row {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func longCell(row []string) (int, bool) {
	for j, v := range row {
		if utf8.RuneCountInString(v) > knowledge.MaxFieldRunes {
			return j, true
		}
	}
	return 0, false
}

// ministryOf maps an issuing body to a ministry folder name; unknown bodies get a slug of their folded name.
func ministryOf(issuer string) string {
	if issuer == "" {
		return ""
	}
	folded := strings.Join(strings.Fields(knowledge.Fold(issuer)), " ")
	if m, ok := issuerMinistries[folded]; ok {
		return m
	}
	var b strings.Builder
	dash := false
	for _, r := range folded {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// workbookDate is the workbook's modification date, else its creation date, else the zero time.
func workbookDate(f *excelize.File) time.Time {
	props, err := f.GetDocProps()
	if err != nil || props == nil {
		return time.Time{}
	}
	for _, s := range []string{props.Modified, props.Created} {
		if t, err := time.Parse(time.RFC3339, strings.TrimSpace(s)); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// splitLines splits a cell on line breaks into normalized, distinct, non-empty lines.
func splitLines(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = clean(line); line != "" && !containsString(out, line) {
			out = append(out, line)
		}
	}
	return out
}
