package staff

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
)

// Limits of an archive's contents.
const (
	MaxArchiveEntries  = 20_000
	MaxUnpackedBytes   = 1 << 30
	maxImportNameRunes = 255
)

var errTooLarge = errors.New("upload too large")

// importFormat tells the format from a file name ("" when unknown).
func importFormat(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.HasSuffix(n, ".zip"):
		return "zip"
	case strings.HasSuffix(n, ".tar.gz"), strings.HasSuffix(n, ".tgz"):
		return "tar.gz"
	case strings.HasSuffix(n, ".jsonl"):
		return "jsonl"
	case strings.HasSuffix(n, ".json"):
		return "json"
	case strings.HasSuffix(n, ".xlsx"):
		return "xlsx"
	}
	return ""
}

func (s *Service) createImport(w http.ResponseWriter, r *http.Request, p *principal) {
	r.Body = http.MaxBytesReader(w, r.Body, s.opt.MaxImportBytes)
	dir, err := os.MkdirTemp(s.opt.TempDir, "staff-import-")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer os.RemoveAll(dir)
	name, file, e := s.receive(r, dir)
	if e != nil {
		e.write(w)
		return
	}
	format := importFormat(name)
	recs, problems, e := readUpload(format, name, file, dir)
	if e != nil {
		e.write(w)
		return
	}
	// Files are named relative to the unpacked archive, never the server's temporary directory.
	prefix := filepath.Join(dir, "files") + string(filepath.Separator)
	for i := range problems {
		problems[i].File = filepath.ToSlash(strings.TrimPrefix(problems[i].File, prefix))
	}
	im, report, err := s.StartImport(r.Context(), p.actor(), Upload{Name: name, Format: format, Records: recs, Problems: problems})
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, importView{im, report})
}

// Upload is a catalog file staff import, as read (ingest's readers): its name, its format ("zip", "tar.gz",
// "json", "xlsx" or "jsonl"), its records and the problems of those that could not be read.
type Upload struct {
	Name     string
	Format   string
	Records  []knowledge.Procedure
	Problems []ingest.Problem
}

// StartImport compares an upload's records with the published catalog and stores them as an open import
// batch, which ApplyImport publishes: each record new, changed, unchanged or invalid (the problems are
// invalid records). It returns the batch and its records. A lone JSON record without a ministry keeps the
// published record's (it has no folder to name it). For editors.
func (s *Service) StartImport(ctx context.Context, a Actor, up Upload) (Import, []ImportRecord, error) {
	if err := a.may(RoleEditor); err != nil {
		return Import{}, nil, err
	}
	recs := up.Records
	if up.Format == "json" && len(recs) == 1 && recs[0].Ministry == "" {
		if cur, err := s.opt.Store.Get(ctx, recs[0].Code); err == nil {
			recs[0].Ministry = cur.Ministry
		}
	}
	report, err := s.compare(ctx, recs, up.Problems)
	if err != nil {
		return Import{}, nil, err
	}
	im := Import{Name: up.Name, Format: up.Format, By: a.Name(), At: s.now(), Status: "open", Counts: countStatuses(report)}
	im, err = s.opt.Repo.CreateImport(ctx, im, report)
	if err != nil {
		return Import{}, nil, err
	}
	s.record(ctx, a.Name(), "import", strconv.FormatInt(im.ID, 10), map[string]any{"name": up.Name, "counts": im.Counts})
	return im, report, nil
}

// countStatuses counts an import's records by status.
func countStatuses(recs []ImportRecord) Counts {
	var c Counts
	for _, rec := range recs {
		switch rec.Status {
		case StatusNew:
			c.New++
		case StatusChanged:
			c.Changed++
		case StatusUnchanged:
			c.Unchanged++
		case StatusInvalid:
			c.Invalid++
		}
	}
	c.Total = len(recs)
	return c
}

type importView struct {
	Import
	Records []ImportRecord `json:"records"`
}

// receive stores the upload (raw body or multipart field "file") in dir and returns its name and path.
func (s *Service) receive(r *http.Request, dir string) (string, string, *apiErr) {
	var (
		name string
		src  io.Reader
	)
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				if isTooLarge(err) {
					return "", "", s.tooLarge()
				}
				return "", "", errf(http.StatusBadRequest, "bad_request", "Thiếu tệp trong trường \"file\" của biểu mẫu.")
			}
			if part.FormName() == "file" {
				name, src = part.FileName(), part
				break
			}
		}
	} else {
		name, src = rawUploadName(r), r.Body
	}
	name, e := cleanUploadName(name)
	if e != nil {
		return "", "", e
	}
	dst := filepath.Join(dir, "upload")
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", "", errInternal
	}
	_, err = io.Copy(f, src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if isTooLarge(err) {
			return "", "", s.tooLarge()
		}
		return "", "", errf(http.StatusBadRequest, "bad_request", "Không đọc được tệp tải lên.")
	}
	return name, dst, nil
}

// rawUploadName is the file name of a raw-body upload: the filename query parameter, the name parameter, or
// the filename of a Content-Disposition header, in that order.
func rawUploadName(r *http.Request) string {
	q := r.URL.Query()
	if n := q.Get("filename"); n != "" {
		return n
	}
	if n := q.Get("name"); n != "" {
		return n
	}
	if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
		return params["filename"]
	}
	return ""
}

// cleanUploadName keeps the last element of a client's file name, without control characters, and checks
// that it names a known format in at most maxImportNameRunes characters.
func cleanUploadName(name string) (string, *apiErr) {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if !utf8.ValidString(name) {
		return "", errf(http.StatusBadRequest, "bad_request", "Tên tệp không hợp lệ (sai mã hoá UTF-8).")
	}
	name = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, name))
	if utf8.RuneCountInString(name) > maxImportNameRunes {
		return "", errf(http.StatusBadRequest, "bad_request", fmt.Sprintf("Tên tệp dài quá %d ký tự.", maxImportNameRunes))
	}
	if importFormat(name) == "" || name == "." || name == "/" {
		return "", errf(http.StatusBadRequest, "bad_request",
			"Không nhận ra định dạng tệp: cần .zip, .tar.gz, .json, .xlsx hoặc .jsonl (đặt tên tệp qua tham số filename).")
	}
	return name, nil
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe) || errors.Is(err, errTooLarge)
}

func (s *Service) tooLarge() *apiErr {
	return errf(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("Tệp vượt quá giới hạn %d MiB.", s.opt.MaxImportBytes>>20))
}

// readUpload reads the records of an uploaded file with ingest's readers; problems of a single file are
// labelled with the name it was uploaded as.
func readUpload(format, name, file, dir string) ([]knowledge.Procedure, []ingest.Problem, *apiErr) {
	bad := func(msg string) *apiErr { return errf(http.StatusBadRequest, "bad_request", msg) }
	switch format {
	case "zip", "tar.gz":
		root := filepath.Join(dir, "files")
		if err := os.Mkdir(root, 0o700); err != nil {
			return nil, nil, errInternal
		}
		var err error
		if format == "zip" {
			err = unzip(file, root)
		} else {
			err = untgz(file, root)
		}
		if err != nil {
			if errors.Is(err, errTooLarge) {
				return nil, nil, errf(http.StatusRequestEntityTooLarge, "too_large",
					fmt.Sprintf("Tệp nén có quá %d tệp hoặc giải nén vượt quá %d MiB.", MaxArchiveEntries, MaxUnpackedBytes>>20))
			}
			// The message names entries relative to the archive, never the server's temporary directory.
			msg := strings.ReplaceAll(err.Error(), root+string(filepath.Separator), "")
			return nil, nil, bad("Tệp nén bị hỏng hoặc không hợp lệ: " + strings.ReplaceAll(msg, root, "."))
		}
		ps, probs, err := ingest.ReadPortalDir(root)
		if err != nil {
			return nil, nil, bad("Không đọc được tệp nén.")
		}
		return ps, probs, nil
	case "json":
		// The ministry of a single record is unknown: a folder named "upload" would become it.
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, nil, errInternal
		}
		if len(data) > knowledge.MaxRecordBytes {
			return nil, []ingest.Problem{{File: name, Field: "size", Reason: "record larger than 1 MiB"}}, nil
		}
		p, err := ingest.ParsePortalRecord(data, name, "")
		if err != nil {
			var fe *ingest.FieldError
			pr := ingest.Problem{File: name, Reason: err.Error()}
			if errors.As(err, &fe) {
				pr.Field, pr.Reason = fe.Field, fe.Reason
			}
			return nil, []ingest.Problem{pr}, nil
		}
		return []knowledge.Procedure{p}, nil, nil
	case "xlsx":
		x := file + ".xlsx"
		if err := os.Rename(file, x); err != nil {
			return nil, nil, errInternal
		}
		ps, probs, err := ingest.ReadXLSX(x)
		if err != nil {
			return nil, nil, bad("Không đọc được tệp XLSX (tệp hỏng hoặc quá lớn).")
		}
		for i := range probs {
			if probs[i].File == x {
				probs[i].File = name
			}
		}
		return ps, probs, nil
	case "jsonl":
		f, err := os.Open(file)
		if err != nil {
			return nil, nil, errInternal
		}
		defer f.Close()
		ps, probs, err := ingest.ReadJSONL(f, name)
		if err != nil {
			return nil, nil, bad("Tệp JSONL không hợp lệ: dòng đầu phải là {\"format\":\"trolyao-procedures\",\"version\":1}.")
		}
		return ps, probs, nil
	}
	return nil, nil, bad("Định dạng tệp không được hỗ trợ.")
}

// safeJoin returns root/name for an archive entry, or "" when the name escapes root or is not a plain
// relative path.
func safeJoin(root, name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\x00") || !utf8.ValidString(name) {
		return ""
	}
	clean := path.Clean(name)
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") || filepath.VolumeName(clean) != "" {
		return ""
	}
	return filepath.Join(root, filepath.FromSlash(clean))
}

// writeEntry copies one archive entry to dst, counting towards the unpacked budget.
func writeEntry(dst string, src io.Reader, budget *int64) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("entry %s: %w", filepath.Base(dst), err)
	}
	n, err := io.Copy(f, io.LimitReader(src, *budget+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	*budget -= n
	if *budget < 0 {
		return errTooLarge
	}
	return nil
}

// wanted reports whether an archive entry is a record file to unpack (JSON; other files are ignored).
func wanted(name string) bool {
	base := path.Base(strings.ReplaceAll(name, `\`, "/"))
	return strings.EqualFold(path.Ext(base), ".json") && !strings.HasPrefix(base, ".") && !strings.HasPrefix(name, "__MACOSX/")
}

func unzip(file, root string) error {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return err
	}
	defer zr.Close()
	if len(zr.File) > MaxArchiveEntries {
		return errTooLarge
	}
	budget := int64(MaxUnpackedBytes)
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !f.Mode().IsRegular() || !wanted(f.Name) {
			continue
		}
		dst := safeJoin(root, f.Name)
		if dst == "" {
			return fmt.Errorf("unsafe entry name %q", f.Name)
		}
		if f.UncompressedSize64 > uint64(budget) {
			return errTooLarge
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		err = writeEntry(dst, rc, &budget)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func untgz(file, root string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	budget := int64(MaxUnpackedBytes)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if n >= MaxArchiveEntries {
			return errTooLarge
		}
		// Skipped entries are decompressed too: their declared sizes count, so that a gzip bomb in an ignored
		// entry cannot keep the server busy.
		if h.Size > budget {
			return errTooLarge
		}
		if h.Typeflag != tar.TypeReg || !wanted(h.Name) {
			budget -= max(h.Size, 0)
			continue // directories, links and devices are never created
		}
		dst := safeJoin(root, h.Name)
		if dst == "" {
			return fmt.Errorf("unsafe entry name %q", h.Name)
		}
		if err := writeEntry(dst, tr, &budget); err != nil {
			return err
		}
	}
}

// compare classifies the read records against the published catalog by content hash and adds the problems as
// invalid records.
func (s *Service) compare(ctx context.Context, ps []knowledge.Procedure, problems []ingest.Problem) ([]ImportRecord, error) {
	hashes, err := s.opt.Store.Hashes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ImportRecord, 0, len(ps)+len(problems))
	for i := range ps {
		p := &ps[i]
		rec := ImportRecord{Code: p.Code, Name: p.Name}
		if fields := Validate(p); len(fields) > 0 {
			rec.Status, rec.Reason = StatusInvalid, fields[0].Field+": "+fields[0].Reason
			out = append(out, rec)
			continue
		}
		old, ok := hashes[p.Code]
		switch {
		case !ok:
			rec.Status = StatusNew
		case old == knowledge.ContentHash(p, s.phrasings(p.Code)):
			rec.Status = StatusUnchanged
		default:
			rec.Status = StatusChanged
			if cur, err := s.opt.Store.Get(ctx, p.Code); err == nil {
				var fs []string
				for _, c := range Diff(&cur, p) {
					fs = append(fs, c.Label)
				}
				rec.Reason = "Thay đổi: " + strings.Join(fs, ", ")
			}
		}
		if rec.Status != StatusUnchanged {
			rec.Procedure = p
		}
		out = append(out, rec)
	}
	for _, pr := range problems {
		reason := pr.Reason
		if pr.Field != "" {
			reason = pr.Field + ": " + reason
		}
		out = append(out, ImportRecord{File: pr.File, Status: StatusInvalid, Reason: "Bản ghi không hợp lệ — " + reason})
	}
	return out, nil
}

func (s *Service) listImports(w http.ResponseWriter, r *http.Request, _ *principal) {
	limit, e := queryInt(r, "limit", 100, 1, MaxListLimit)
	if e != nil {
		e.write(w)
		return
	}
	ims, err := s.opt.Repo.Imports(r.Context(), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ims == nil {
		ims = []Import{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ims})
}

func (s *Service) loadImport(w http.ResponseWriter, r *http.Request) (Import, []ImportRecord, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		errNotFound.write(w)
		return Import{}, nil, false
	}
	im, recs, err := s.opt.Repo.Import(r.Context(), id)
	if errors.Is(err, knowledge.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", msgNoImport)
		return im, nil, false
	} else if err != nil {
		s.fail(w, r, err)
		return im, nil, false
	}
	return im, recs, true
}

func (s *Service) getImport(w http.ResponseWriter, r *http.Request, _ *principal) {
	im, recs, ok := s.loadImport(w, r)
	if !ok {
		return
	}
	if st := r.URL.Query().Get("status"); st != "" {
		kept := recs[:0]
		for _, rec := range recs {
			if rec.Status == st {
				kept = append(kept, rec)
			}
		}
		recs = kept
	}
	if recs == nil {
		recs = []ImportRecord{}
	}
	writeJSON(w, http.StatusOK, importView{im, recs})
}

func (s *Service) publishImport(w http.ResponseWriter, r *http.Request, p *principal) {
	n, ok := note(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		errNotFound.write(w)
		return
	}
	im, err := s.ApplyImport(r.Context(), p.actor(), id, n)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, im)
}

const msgNoImport = "Không có đợt nhập này."

// ApplyImport publishes the new and changed records of an open import batch (but those published meanwhile
// with the same content), as versions of ActionImport with note (default "Đợt nhập N (name)"), marks the batch
// published and returns it. ErrNotFound when there is no such batch, ErrConflict when it is published
// already; for publishers.
func (s *Service) ApplyImport(ctx context.Context, a Actor, id int64, note string) (Import, error) {
	if err := a.may(RolePublisher); err != nil {
		return Import{}, err
	}
	if err := checkNote(note); err != nil {
		return Import{}, err
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	im, recs, err := s.opt.Repo.Import(ctx, id)
	if errors.Is(err, knowledge.ErrNotFound) {
		return Import{}, notFound(msgNoImport)
	} else if err != nil {
		return Import{}, err
	}
	if im.Status == "published" {
		return Import{}, &Error{Kind: ErrConflict, Message: "Đợt nhập này đã được xuất bản."}
	}
	ups, err := s.toPublish(ctx, recs)
	if err != nil {
		return Import{}, err
	}
	n := strings.TrimSpace(note)
	if n == "" {
		n = fmt.Sprintf("Đợt nhập %d (%s)", im.ID, im.Name)
	}
	if len(ups) > 0 {
		if _, err := s.publishRecords(ctx, ups, nil, ActionImport, a.Name(), n, nil, im.ID); err != nil {
			return Import{}, err
		}
	}
	at := s.now()
	if err := s.opt.Repo.MarkImportPublished(context.WithoutCancel(ctx), im.ID, a.Name(), at, len(ups)); err != nil {
		return Import{}, err
	}
	im.Status, im.Published, im.PublishedBy, im.PublishedAt = "published", len(ups), a.Name(), &at
	s.record(ctx, a.Name(), "import_publish", strconv.FormatInt(im.ID, 10), map[string]any{"published": len(ups)})
	return im, nil
}

// toPublish are the new and changed records of an import that the catalog does not hold as they are.
func (s *Service) toPublish(ctx context.Context, recs []ImportRecord) ([]knowledge.Procedure, error) {
	hashes, err := s.opt.Store.Hashes(ctx)
	if err != nil {
		return nil, err
	}
	var ups []knowledge.Procedure
	for _, rec := range recs {
		if rec.Procedure == nil || (rec.Status != StatusNew && rec.Status != StatusChanged) {
			continue
		}
		if h, ok := hashes[rec.Code]; ok && h == knowledge.ContentHash(rec.Procedure, s.phrasings(rec.Code)) {
			continue // published meanwhile with the same content
		}
		ups = append(ups, *rec.Procedure)
	}
	return ups, nil
}

func (s *Service) export(w http.ResponseWriter, r *http.Request, p *principal) {
	ps, err := s.opt.Store.List(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="catalog.jsonl"`)
	if err := ingest.WriteJSONL(w, ps); err != nil {
		s.log.Error("staff: export", "err", err)
		return
	}
	s.record(r.Context(), p.Actor(), "export", "", map[string]any{"count": len(ps)})
}
