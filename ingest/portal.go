package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// PortalSource is the Source of procedures read from the national-portal crawl.
const PortalSource = "dvcqg-2026"

// PortalCrawlDate is the SourceDate of procedures read from the national-portal crawl. The crawl ran in
// June–July 2026 and its files carry no date of their own, so one fixed date stands for the whole crawl:
// 1 July 2026 (UTC). Change it when a new crawl is imported.
var PortalCrawlDate = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)

// portalRecord is one crawled procedure page. Every field is a string in the source.
type portalRecord struct {
	Code         string `json:"ma_thu_tuc"`
	URL          string `json:"detail_url"`
	Name         string `json:"ten_thu_tuc"`
	Decision     string `json:"so_quyet_dinh"`
	Levels       string `json:"cap_thuc_hien"`
	Kind         string `json:"loai_thu_tuc"`
	Field        string `json:"linh_vuc"`
	Subjects     string `json:"doi_tuong_thuc_hien"`
	Competent    string `json:"co_quan_co_tham_quyen"`
	Address      string `json:"dia_chi_tiep_nhan"`
	Delegated    string `json:"co_quan_duoc_uy_quyen"`
	Coordinating string `json:"co_quan_phoi_hop"`
	Related      string `json:"thu_tuc_lien_quan"`
	Steps        string `json:"trinh_tu_thuc_hien"`
	Channels     string `json:"cach_thuc_thuc_hien"`
	Dossier      string `json:"thanh_phan_ho_so"`
	Legal        string `json:"can_cu_phap_ly"`
	Agencies     string `json:"co_quan_thuc_hien"`
	Requirements string `json:"yeu_cau_dieu_kien"`
	Result       string `json:"ket_qua_xu_ly"`
	RawText      string `json:"raw_text"`
	FormalityID  string `json:"formality_id"`
}

// fields lists the record's fields by their JSON names, for the length check.
func (r *portalRecord) fields() []struct{ name, value string } {
	return []struct{ name, value string }{
		{"ma_thu_tuc", r.Code}, {"detail_url", r.URL}, {"ten_thu_tuc", r.Name}, {"so_quyet_dinh", r.Decision},
		{"cap_thuc_hien", r.Levels}, {"loai_thu_tuc", r.Kind}, {"linh_vuc", r.Field},
		{"doi_tuong_thuc_hien", r.Subjects}, {"co_quan_co_tham_quyen", r.Competent},
		{"dia_chi_tiep_nhan", r.Address}, {"co_quan_duoc_uy_quyen", r.Delegated},
		{"co_quan_phoi_hop", r.Coordinating}, {"thu_tuc_lien_quan", r.Related},
		{"trinh_tu_thuc_hien", r.Steps}, {"cach_thuc_thuc_hien", r.Channels}, {"thanh_phan_ho_so", r.Dossier},
		{"can_cu_phap_ly", r.Legal}, {"co_quan_thuc_hien", r.Agencies}, {"yeu_cau_dieu_kien", r.Requirements},
		{"ket_qua_xu_ly", r.Result}, {"raw_text", r.RawText}, {"formality_id", r.FormalityID},
	}
}

// ParsePortalRecord parses one crawled procedure (a <code>.json file of the national-portal crawl) into a
// Procedure. file names the record in errors; ministry is the crawl folder it came from ("bo-tu-phap").
// The error is a *FieldError (wrapping knowledge.ErrInvalid) when the record is too large, is not valid JSON,
// has a field longer than knowledge.MaxFieldRunes or more than knowledge.MaxDossierItems dossier items, or
// lacks a code or a name.
func ParsePortalRecord(data []byte, file, ministry string) (knowledge.Procedure, error) {
	p, err := parsePortal(data, ministry)
	if err != nil {
		return knowledge.Procedure{}, fmt.Errorf("ingest: portal record %s: %w", file, err)
	}
	return p, nil
}

func parsePortal(data []byte, ministry string) (knowledge.Procedure, error) {
	if len(data) > knowledge.MaxRecordBytes {
		return knowledge.Procedure{}, invalid("size", "record is %d bytes, more than the limit of %d", len(data), knowledge.MaxRecordBytes)
	}
	var r portalRecord
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return knowledge.Procedure{}, invalid("json", "%v", err)
	}
	if dec.More() {
		return knowledge.Procedure{}, invalid("json", "trailing data after the record")
	}
	for _, f := range r.fields() {
		if !utf8.ValidString(f.value) {
			return knowledge.Procedure{}, invalid(f.name, "not valid UTF-8")
		}
		if n := utf8.RuneCountInString(f.value); n > knowledge.MaxFieldRunes {
			return knowledge.Procedure{}, invalid(f.name, "%d characters, more than the limit of %d", n, knowledge.MaxFieldRunes)
		}
	}
	code := strings.TrimSpace(r.Code)
	if code == "" {
		return knowledge.Procedure{}, invalid("ma_thu_tuc", "missing procedure code")
	}
	if err := checkCode(code); err != nil {
		return knowledge.Procedure{}, invalid("ma_thu_tuc", "%v", err)
	}
	name := cleanName(r.Name)
	if name == "" {
		return knowledge.Procedure{}, invalid("ten_thu_tuc", "missing procedure name")
	}

	p := knowledge.Procedure{
		Code:         code,
		Name:         name,
		Levels:       parseLevels(r.Levels),
		Field:        clean(r.Field),
		Kind:         clean(r.Kind),
		Decision:     clean(r.Decision),
		Ministry:     ministry,
		Agencies:     splitList(r.Agencies, r.Competent),
		Address:      clean(r.Address),
		Subjects:     splitList(r.Subjects),
		Requirements: clean(r.Requirements),
		Result:       parseResult(r.Result),
		Related:      clean(r.Related),
		URL:          strings.TrimSpace(r.URL),
		Source:       PortalSource,
		SourceDate:   PortalCrawlDate,
	}
	// The crawler cut the page into fields at the first occurrence of each section heading, so a heading quoted
	// inside a section ("(Thành phần hồ sơ)" in the steps, "Căn cứ pháp lý:" in a fee note) cut that section
	// short and shifted the next one. The page text (raw_text) has every section whole.
	page := splitPage(r.RawText)
	steps := pickSection(r.Steps, page.steps, nil, false)
	channels := pickSection(r.Channels, page.channels, func(s string) bool {
		return strings.HasPrefix(s, channelHeader)
	}, false)
	dossier := pickSection(r.Dossier, page.dossier, func(s string) bool {
		return strings.Contains(s, dossierHeader)
	}, false)
	// The legal table is the last one before "Cơ quan thực hiện"; a field that runs past it took the next
	// section too.
	p.Legal = parseLegal(pickSection(r.Legal, page.legal, func(s string) bool {
		return strings.HasPrefix(s, legalHeader) || strings.HasPrefix(s, notAvailable)
	}, true))
	p.Steps = parseSteps(steps)
	p.Channels = parseChannels(channels)
	p.Dossier = parseDossier(dossier)
	if len(p.Dossier) > knowledge.MaxDossierItems {
		return knowledge.Procedure{}, invalid("thanh_phan_ho_so", "%d dossier items, more than the limit of %d", len(p.Dossier), knowledge.MaxDossierItems)
	}
	return p, nil
}

// checkCode rejects codes that cannot be used as keys and file names.
func checkCode(code string) error {
	if len(code) > 64 {
		return fmt.Errorf("procedure code longer than 64 bytes")
	}
	for _, r := range code {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '/' || r == '\\' {
			return fmt.Errorf("procedure code %q contains %q", code, r)
		}
	}
	return nil
}

// page holds the sections of a crawled page text (raw_text).
type page struct {
	steps, channels, dossier, legal string
}

// splitPage cuts raw_text into sections at headings that are followed by what only the real heading is
// followed by (the channel table's header, the legal table's header), in page order. Sections it cannot find
// are left empty.
func splitPage(raw string) page {
	const (
		stepsHeading   = "Trình Tự Thực Hiện"
		channelHeading = "Cách Thức Thực Hiện"
		dossierHeading = "Thành phần hồ sơ"
		legalHeading   = "Căn cứ pháp lý"
		agencyHeading  = "Cơ quan thực hiện"
	)
	st := strings.Index(raw, stepsHeading)
	if st < 0 {
		return page{}
	}
	ch := indexFrom(raw, channelHeading+channelHeader[:len("Hình thức nộp")], st)
	if ch < 0 {
		return page{}
	}
	ds := indexFrom(raw, dossierHeading, ch)
	if ds < 0 {
		return page{}
	}
	lg := -1
	for _, anchor := range []string{legalHeading + legalHeader, legalHeading + notAvailable} {
		if i := indexFrom(raw, anchor, ds); i >= 0 && (lg < 0 || i < lg) {
			lg = i
		}
	}
	if lg < 0 {
		return page{}
	}
	ag := indexFrom(raw, agencyHeading, lg)
	if ag < 0 {
		ag = len(raw)
	}
	return page{
		steps:    raw[st+len(stepsHeading) : ch],
		channels: raw[ch+len(channelHeading) : ds],
		dossier:  raw[ds+len(dossierHeading) : lg],
		legal:    raw[lg+len(legalHeading) : ag],
	}
}

func indexFrom(s, sub string, from int) int {
	if i := strings.Index(s[from:], sub); i >= 0 {
		return from + i
	}
	return -1
}

// pickSection chooses between a crawled field and the same section cut from the page text: the page section when
// the field is a truncated copy of it (or, with overrun, runs past it), or when the field does not look like its
// section (wellFormed) and the page section does; the field otherwise.
func pickSection(field, section string, wellFormed func(string) bool, overrun bool) string {
	f, s := strings.TrimSpace(field), strings.TrimSpace(section)
	if s == "" || f == s {
		return field
	}
	if strings.HasPrefix(s, f) || (overrun && strings.HasPrefix(f, s)) {
		return s
	}
	if wellFormed != nil && !wellFormed(f) && wellFormed(s) {
		return s
	}
	return field
}

// ReadPortalDir reads a national-portal crawl: every *.json file under dir, recursively. A file's ministry is
// the name of the folder that holds it. Procedures come back sorted by code; when a code appears in two files
// the one with the smaller path is kept and the other reported. Records that cannot be used are reported as
// problems and skipped; the error is only for a directory that cannot be read.
func ReadPortalDir(dir string) ([]knowledge.Procedure, []Problem, error) {
	return readPortalDir(dir, nil)
}

// readPortalDir is ReadPortalDir reporting the files parsed so far to progress ("read", done, total), when
// not nil, from the calling goroutine.
func readPortalDir(dir string, progress func(stage string, done, total int)) ([]knowledge.Procedure, []Problem, error) {
	paths, problems, err := listPortalFiles(dir)
	if err != nil {
		return nil, problems, fmt.Errorf("ingest: read portal dir %s: %w", dir, err)
	}
	results := parsePortalFiles(paths, progress)
	out, problems := dropDuplicates(paths, results, problems)
	return out, problems, nil
}

// listPortalFiles walks dir for the portal's JSON files; what cannot be read below dir is a problem, and
// skipped, while dir itself that cannot be read is an error.
func listPortalFiles(dir string) ([]string, []Problem, error) {
	var (
		paths    []string
		problems []Problem
	)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			problems = append(problems, Problem{File: path, Reason: err.Error()})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".json") {
			paths = append(paths, path)
		}
		return nil
	})
	return paths, problems, err
}

// portalResult is one portal file parsed: its procedure, or the problem that kept it out.
type portalResult struct {
	p       knowledge.Procedure
	problem *Problem
}

// parsePortalFiles parses the files in parallel; the results keep the order of paths. It reports the files
// parsed so far to progress, when not nil, from the calling goroutine.
func parsePortalFiles(paths []string, progress func(stage string, done, total int)) []portalResult {
	results := make([]portalResult, len(paths))
	next := make(chan int)
	var (
		wg        sync.WaitGroup
		filesDone atomic.Int64
	)
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(paths)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				path := paths[i]
				data, err := readLimited(path)
				if err == nil {
					results[i].p, err = parsePortal(data, filepath.Base(filepath.Dir(path)))
				}
				if err != nil {
					pr := problemOf(path, err)
					results[i].problem = &pr
				}
				filesDone.Add(1)
			}
		}()
	}
	for i := range paths {
		next <- i
		if progress != nil {
			progress("read", int(filesDone.Load()), len(paths))
		}
	}
	close(next)
	wg.Wait()
	if progress != nil {
		progress("read", len(paths), len(paths))
	}
	return results
}

// dropDuplicates orders the parsed procedures by code and then file, and keeps the first of each code; the
// files that failed to parse and the duplicates are added to problems.
func dropDuplicates(paths []string, results []portalResult, problems []Problem) ([]knowledge.Procedure, []Problem) {
	type parsed struct {
		p    knowledge.Procedure
		file string
	}
	all := make([]parsed, 0, len(paths))
	for i, r := range results {
		if r.problem != nil {
			problems = append(problems, *r.problem)
			continue
		}
		all = append(all, parsed{r.p, paths[i]})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].p.Code != all[j].p.Code {
			return all[i].p.Code < all[j].p.Code
		}
		return all[i].file < all[j].file
	})
	out := make([]knowledge.Procedure, 0, len(all))
	kept := ""
	for i, x := range all {
		if i > 0 && x.p.Code == all[i-1].p.Code {
			problems = append(problems, Problem{File: x.file, Field: "ma_thu_tuc",
				Reason: fmt.Sprintf("duplicate procedure code %s; kept %s", x.p.Code, kept)})
			continue
		}
		kept = x.file
		out = append(out, x.p)
	}
	return out, problems
}

// readLimited reads a file of at most knowledge.MaxRecordBytes.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, knowledge.MaxRecordBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > knowledge.MaxRecordBytes {
		return nil, invalid("size", "file is larger than the limit of %d bytes", knowledge.MaxRecordBytes)
	}
	return data, nil
}

// problemOf turns a record error into a Problem.
func problemOf(file string, err error) Problem {
	var fe *FieldError
	if errors.As(err, &fe) {
		return Problem{File: file, Field: fe.Field, Reason: fe.Reason}
	}
	return Problem{File: file, Reason: err.Error()}
}

// ReadCatalog reads a catalog from path, choosing the reader by what path is: a directory is a portal crawl
// (read recursively), a .xlsx file a portal list export, a .jsonl file our normalized format, and a .json file
// a single crawled portal record (its ministry is the name of its folder).
func ReadCatalog(path string) ([]knowledge.Procedure, []Problem, error) {
	return ReadCatalogProgress(path, nil)
}

// ReadCatalogProgress is ReadCatalog reporting, for a portal crawl, the files read so far to progress
// (stage "read"; called from the calling goroutine, the last call with done == total).
func ReadCatalogProgress(path string, progress func(stage string, done, total int)) ([]knowledge.Procedure, []Problem, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("ingest: read catalog: %w", err)
	}
	if st.IsDir() {
		return readPortalDir(path, progress)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx":
		return ReadXLSX(path)
	case ".jsonl":
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("ingest: read catalog: %w", err)
		}
		defer f.Close()
		return ReadJSONL(f, path)
	case ".json":
		data, err := readLimited(path)
		if err != nil {
			if errors.Is(err, knowledge.ErrInvalid) {
				return nil, []Problem{problemOf(path, err)}, nil
			}
			return nil, nil, fmt.Errorf("ingest: read catalog: %w", err)
		}
		p, err := parsePortal(data, filepath.Base(filepath.Dir(path)))
		if err != nil {
			return nil, []Problem{problemOf(path, err)}, nil
		}
		return []knowledge.Procedure{p}, nil, nil
	}
	return nil, nil, fmt.Errorf("ingest: read catalog %s: %w: unknown format (want a directory, .json, .jsonl or .xlsx)",
		path, knowledge.ErrInvalid)
}
