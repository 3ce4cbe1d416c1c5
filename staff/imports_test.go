package staff_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	kembedded "github.com/trolyao/trolyao/knowledge/embedded"
	"github.com/trolyao/trolyao/staff"
)

type importView struct {
	ID        int64
	Name      string
	Format    string
	Status    string
	Counts    staff.Counts
	Published int
	Records   []staff.ImportRecord
}

// zipCrawl zips the real crawl (as dvcqg-2026/<ministry>/<code>.json) into a file under dir; edit, when not
// nil, may change a file's bytes.
func zipCrawl(t *testing.T, dir string, edit func(rel string, data []byte) []byte) string {
	t.Helper()
	root := crawlDir(t)
	out := filepath.Join(dir, fmt.Sprintf("crawl-%d.zip", len(mustGlob(t, dir))))
	f, err := os.Create(out)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(filepath.Dir(root), path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if edit != nil {
			if data = edit(filepath.ToSlash(rel), data); data == nil {
				return nil // left out of the archive
			}
		}
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
	return out
}

func mustGlob(t *testing.T, dir string) []string {
	m, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	return m
}

func upload(t *testing.T, c *client, name string, data []byte) (response, importView) {
	t.Helper()
	res := c.do("POST", "/imports?name="+name, data, "Content-Type", "application/octet-stream")
	var v importView
	if res.status == http.StatusCreated {
		res.json(t, &v)
	}
	return res, v
}

// TestImportRealCrawl imports the full portal crawl as a zip into an empty catalog: 2,642 new records;
// after publishing the batch a second import finds all unchanged, and a zip with one edited file exactly one
// changed.
func TestImportRealCrawl(t *testing.T) {
	st, err := kembedded.Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	runImportRealCrawl(t, newEnv(t, st, nil, nil), true, "")
}

// runImportRealCrawl imports the crawl into e's empty store; full adds the edited-file import and export.
// only, when not empty, keeps the crawl's files under that folder (e.g. "dvcqg-2026/bo-tu-phap/"): the
// PostgreSQL run imports one ministry, so that the package stays within its time under the race detector.
func runImportRealCrawl(t *testing.T, e *env, full bool, only string) {
	st := e.store
	e.addUser("lan", staff.RoleEditor)
	e.addUser("hoa", staff.RolePublisher)
	editor, publisher := e.login("lan"), e.login("hoa")
	dir := t.TempDir()
	var keep func(rel string, data []byte) []byte
	if only != "" {
		keep = func(rel string, data []byte) []byte {
			if !strings.HasPrefix(rel, only) {
				return nil
			}
			return data
		}
	}
	var want []knowledge.Procedure
	for _, p := range realProcedures(t) {
		if only == "" || strings.HasPrefix(p.Source+"/"+p.Ministry+"/", only) {
			want = append(want, p)
		}
	}
	n := len(want)
	require.Positive(t, n)

	res, first := upload(t, editor, "dvcqg-2026.zip", mustRead(t, zipCrawl(t, dir, keep)))
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	assert.Equal(t, "zip", first.Format)
	assert.Equal(t, staff.Counts{New: n, Total: n}, first.Counts)
	for _, r := range first.Records {
		if r.Status != staff.StatusNew {
			t.Logf("%+v", r)
		}
	}
	require.Len(t, first.Records, n)
	ps, err := st.List(t.Context())
	require.NoError(t, err)
	assert.Empty(t, ps, "importing publishes nothing")

	assert.Equal(t, http.StatusForbidden, editor.do("POST", fmt.Sprintf("/imports/%d/publish", first.ID), nil).status)
	res = publisher.do("POST", fmt.Sprintf("/imports/%d/publish", first.ID), map[string]string{"note": "Danh mục 2026"})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var pub importView
	res.json(t, &pub)
	assert.Equal(t, "published", pub.Status)
	assert.Equal(t, n, pub.Published)
	assert.Equal(t, http.StatusConflict, publisher.do("POST", fmt.Sprintf("/imports/%d/publish", first.ID), nil).status)
	hashes, err := st.Hashes(t.Context())
	require.NoError(t, err)
	assert.Len(t, hashes, n)
	// The published catalog is what ingest reads from the crawl, record for record.
	for _, p := range want {
		assert.Equal(t, hashOf(&p), hashes[p.Code], p.Code)
	}

	res, second := upload(t, editor, "dvcqg-2026.zip", mustRead(t, zipCrawl(t, dir, keep)))
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	assert.Equal(t, staff.Counts{Unchanged: n, Total: n}, second.Counts)
	if !full {
		return
	}

	edited := ""
	res, third := upload(t, editor, "dvcqg-2026.zip", mustRead(t, zipCrawl(t, dir, func(rel string, data []byte) []byte {
		if edited != "" || !strings.HasPrefix(rel, "dvcqg-2026/bo-tu-phap/") {
			return data
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(data, &m))
		m["ket_qua_xu_ly"] = "Giấy chứng nhận (đã sửa)"
		edited = m["ma_thu_tuc"].(string)
		out, err := json.Marshal(m)
		require.NoError(t, err)
		return out
	})))
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	assert.Equal(t, staff.Counts{Changed: 1, Unchanged: 2641, Total: 2642}, third.Counts)
	var changed struct{ Records []staff.ImportRecord }
	editor.do("GET", fmt.Sprintf("/imports/%d?status=changed", third.ID), nil).json(t, &changed)
	require.Len(t, changed.Records, 1)
	assert.Equal(t, edited, changed.Records[0].Code)
	assert.Equal(t, "Thay đổi: Kết quả thực hiện", changed.Records[0].Reason)

	res = publisher.do("POST", fmt.Sprintf("/imports/%d/publish", third.ID), nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res.json(t, &pub)
	assert.Equal(t, 1, pub.Published, "only the changed record is written")
	p, err := st.Get(t.Context(), edited)
	require.NoError(t, err)
	assert.Equal(t, "Giấy chứng nhận (đã sửa)", p.Result)
	var hist struct{ Items []staff.Version }
	editor.do("GET", "/procedures/"+edited+"/versions", nil).json(t, &hist)
	require.Len(t, hist.Items, 2)
	assert.Equal(t, "import", hist.Items[0].Action)

	// Export gives our JSONL of the published catalog.
	res = editor.do("GET", "/export", nil)
	require.Equal(t, http.StatusOK, res.status)
	got, probs, err := ingest.ReadJSONL(bytes.NewReader(res.body), "export.jsonl")
	require.NoError(t, err)
	assert.Empty(t, probs)
	assert.Len(t, got, 2642)
}

// TestImportFormats covers the other formats, invalid records with reasons, and unsafe or oversized uploads.
func TestImportFormats(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil, func(o *staff.Options) { o.MaxImportBytes = 4 << 20 })
	e.addUser("lan", staff.RoleEditor)
	c := e.login("lan")
	root := crawlDir(t)
	good := mustRead(t, filepath.Join(root, "bo-tu-phap", "1.013818.json"))

	// tar.gz: one good record, one broken JSON, one without a code, and a symlink that is ignored.
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	add := func(name string, data []byte) {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(data)
		require.NoError(t, err)
	}
	add("bo-tu-phap/1.013818.json", good)
	add("bo-tu-phap/hong.json", []byte(`{"ma_thu_tuc": "1.0`))
	add("bo-tu-phap/khong-ma.json", []byte(`{"ten_thu_tuc": "Không có mã"}`))
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "bo-tu-phap/link.json", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink}))
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	res, v := upload(t, c, "crawl.tar.gz", buf.Bytes())
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	assert.Equal(t, staff.Counts{New: 1, Invalid: 2, Total: 3}, v.Counts)
	for _, r := range v.Records {
		if r.Status == staff.StatusInvalid {
			assert.NotEmpty(t, r.Reason)
			assert.True(t, strings.HasPrefix(r.File, "bo-tu-phap/"), "file names are relative to the archive: %s", r.File)
		}
	}

	// A single portal record as multipart.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, err := mw.CreateFormFile("file", "1.013818.json")
	require.NoError(t, err)
	_, err = fw.Write(good)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	res = c.do("POST", "/imports", mp.Bytes(), "Content-Type", mw.FormDataContentType())
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	res.json(t, &v)
	assert.Equal(t, "json", v.Format)
	assert.Equal(t, staff.Counts{New: 1, Total: 1}, v.Counts)
	// Once published, the same lone record is unchanged (its ministry is kept from the catalog).
	e.addUser("hoa", staff.RolePublisher)
	require.Equal(t, http.StatusOK, e.login("hoa").do("POST", fmt.Sprintf("/imports/%d/publish", v.ID), nil).status)
	res, v = upload(t, c, "1.013818.json", good)
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	assert.Equal(t, staff.Counts{Unchanged: 1, Total: 1}, v.Counts)

	// Our JSONL: an unchanged record (exported from the store), a new one, a bad line.
	pub, err := e.store.Get(t.Context(), "1.000002")
	require.NoError(t, err)
	var jl bytes.Buffer
	require.NoError(t, ingest.WriteJSONL(&jl, []knowledge.Procedure{pub, {Code: "1.999999", Name: "Mới"}}))
	jl.WriteString(`{"code":"1.888888"}` + "\n")
	res, v = upload(t, c, "catalog.jsonl", jl.Bytes())
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	assert.Equal(t, staff.Counts{New: 1, Unchanged: 1, Invalid: 1, Total: 3}, v.Counts)
	assert.Contains(t, v.Records[2].Reason, "name")

	// A portal list (XLSX).
	xl := mustRead(t, filepath.Join(storeDataDir(t), "procedures", "portal-lists", "danh-sach-tthc-BoTuPhap.xlsx"))
	res, v = upload(t, c, "danh-sach.xlsx", xl)
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	assert.Equal(t, "xlsx", v.Format)
	assert.Greater(t, v.Counts.New, 100)

	// Unsafe archive paths are refused outright.
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, err := zw.Create("../../evil.json")
	require.NoError(t, err)
	_, _ = w.Write(good)
	require.NoError(t, zw.Close())
	res, _ = upload(t, c, "evil.zip", zb.Bytes())
	assert.Equal(t, http.StatusBadRequest, res.status, "%s", res.body)
	_, err = os.Stat(filepath.Join(filepath.Dir(t.TempDir()), "evil.json"))
	assert.True(t, os.IsNotExist(err))

	res, _ = upload(t, c, "notes.txt", []byte("x"))
	assert.Equal(t, http.StatusBadRequest, res.status)
	res, _ = upload(t, c, "big.jsonl", bytes.Repeat([]byte("x"), 5<<20))
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.status)
	res, _ = upload(t, c, "broken.zip", []byte("not a zip"))
	assert.Equal(t, http.StatusBadRequest, res.status)
	res, _ = upload(t, c, "x.jsonl", []byte(`{"format":"other"}`+"\n"))
	assert.Equal(t, http.StatusBadRequest, res.status)

	var list struct{ Items []importView }
	c.do("GET", "/imports", nil).json(t, &list)
	assert.Len(t, list.Items, 5)
}

func storeDataDir(t *testing.T) string { return filepath.Dir(filepath.Dir(crawlDir(t))) }

// TestImportLabels: invalid records of a single uploaded file are labelled with the name it was uploaded as,
// whichever way the name is given; names are reduced to their last element, and a long one is refused.
func TestImportLabels(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	e.addUser("lan", staff.RoleEditor)
	c := e.login("lan")
	var jl bytes.Buffer
	require.NoError(t, ingest.WriteJSONL(&jl, []knowledge.Procedure{{Code: "1.999999", Name: "Mới"}}))
	jl.WriteString(`{"code":"1.888888"}` + "\n")
	body := jl.Bytes()
	invalidFile := func(res response) string {
		t.Helper()
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		var v importView
		res.json(t, &v)
		for _, r := range v.Records {
			if r.Status == staff.StatusInvalid {
				return r.File
			}
		}
		t.Fatalf("no invalid record: %s", res.body)
		return ""
	}

	assert.Equal(t, "danh-muc-quan-1.jsonl:3", invalidFile(c.do("POST", "/imports?filename=danh-muc-quan-1.jsonl", body,
		"Content-Type", "application/octet-stream")))
	assert.Equal(t, "cu.jsonl:3", invalidFile(c.do("POST", "/imports?name=cu.jsonl", body, "Content-Type", "application/octet-stream")))
	assert.Equal(t, "thủ tục phường.jsonl:3", invalidFile(c.do("POST", "/imports", body, "Content-Type", "application/octet-stream",
		"Content-Disposition", `attachment; filename*=UTF-8''th%E1%BB%A7%20t%E1%BB%A5c%20ph%C6%B0%E1%BB%9Dng.jsonl`)))
	assert.Equal(t, "bang.jsonl:3", invalidFile(c.do("POST", "/imports", body, "Content-Type", "application/octet-stream",
		"Content-Disposition", `attachment; filename="C:\\Users\\x\\bang.jsonl"`)))
	assert.Equal(t, "ab.jsonl:3", invalidFile(c.do("POST", "/imports?filename="+url.QueryEscape("../../a\x01b.jsonl"), body,
		"Content-Type", "application/octet-stream")))

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, err := mw.CreateFormFile("file", "tu-bieu-mau.jsonl")
	require.NoError(t, err)
	_, err = fw.Write(body)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	assert.Equal(t, "tu-bieu-mau.jsonl:3", invalidFile(c.do("POST", "/imports", mp.Bytes(), "Content-Type", mw.FormDataContentType())))

	// A single portal record that is broken is labelled with its name too.
	assert.Equal(t, "1.000777.json", invalidFile(c.do("POST", "/imports?filename=1.000777.json", `{"ma_thu_tuc": "1.0`,
		"Content-Type", "application/octet-stream")))

	res := c.do("POST", "/imports?filename="+strings.Repeat("a", 300)+".jsonl", body, "Content-Type", "application/octet-stream")
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Contains(t, string(res.body), "255")
	res = c.do("POST", "/imports", body, "Content-Type", "application/octet-stream")
	assert.Equal(t, http.StatusBadRequest, res.status, "no name at all")
}

// TestFieldLabels: every field of a procedure has a Vietnamese label, used in the import report and the diff.
func TestFieldLabels(t *testing.T) {
	typ := reflect.TypeFor[knowledge.Procedure]()
	seen := map[string]bool{}
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		l := staff.FieldLabel(name)
		assert.NotEqual(t, name, l, "%s has a label", name)
		assert.NotEqual(t, l, knowledge.Fold(l), "%s: the label is Vietnamese with diacritics", name)
		assert.False(t, seen[l], "the label of %s is unique", name)
		seen[l] = true
	}
	assert.Equal(t, "Ghi chú địa phương", staff.FieldLabel("local_notes"))
	assert.Equal(t, "khong-co", staff.FieldLabel("khong-co"))

	e := newEnv(t, smallStore(t), nil, nil)
	e.addUser("lan", staff.RoleEditor)
	c := e.login("lan")
	pub, err := e.store.Get(t.Context(), "1.000001")
	require.NoError(t, err)
	pub.LocalNotes = "Phường Bến Nghé nhận hồ sơ cả sáng thứ Bảy."
	pub.Channels = slices.Clone(pub.Channels) // the store's record is not ours to change
	pub.Channels[0].Fees = []knowledge.Fee{{Amount: 8000, Label: "Lệ phí"}}
	pub.Channels[0].Free = false
	var jl bytes.Buffer
	require.NoError(t, ingest.WriteJSONL(&jl, []knowledge.Procedure{pub}))
	res, v := upload(t, c, "sua.jsonl", jl.Bytes())
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	require.Len(t, v.Records, 1)
	assert.Equal(t, "Thay đổi: Cách thức nộp, thời hạn, lệ phí, Ghi chú địa phương", v.Records[0].Reason)

	res = c.do("PUT", "/procedures/1.000001/draft", map[string]any{"base_version": 0, "procedure": pub})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var diff struct{ Changes []staff.Change }
	c.do("GET", "/procedures/1.000001/diff", nil).json(t, &diff)
	require.Len(t, diff.Changes, 2)
	assert.Equal(t, "channels", diff.Changes[0].Field)
	assert.Equal(t, "Cách thức nộp, thời hạn, lệ phí", diff.Changes[0].Label)
	assert.Equal(t, "local_notes", diff.Changes[1].Field)
	assert.Equal(t, "Ghi chú địa phương", diff.Changes[1].Label)
}

// TestCatalogVersionsOfImport: publishing an import keeps, for each record that came from the catalog and
// had no version, the catalog's record as version 1; restoring it returns to it exactly.
func TestCatalogVersionsOfImport(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	e.addUser("lan", staff.RoleEditor)
	e.addUser("hoa", staff.RolePublisher)
	editor, publisher := e.login("lan"), e.login("hoa")
	ctx := t.Context()
	all, err := e.store.List(ctx)
	require.NoError(t, err)
	originals := map[string]knowledge.Procedure{}
	var edited []knowledge.Procedure
	for _, p := range all {
		originals[p.Code] = p
		p.LocalNotes = "Ghi chú mới của phường"
		edited = append(edited, p)
	}
	edited = append(edited, knowledge.Procedure{Code: "1.000099", Name: "Thủ tục mới hoàn toàn"})
	var jl bytes.Buffer
	require.NoError(t, ingest.WriteJSONL(&jl, edited))
	res, v := upload(t, editor, "sua.jsonl", jl.Bytes())
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	require.Equal(t, staff.Counts{New: 1, Changed: 3, Total: 4}, v.Counts)
	res = publisher.do("POST", fmt.Sprintf("/imports/%d/publish", v.ID), nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)

	for code, orig := range originals {
		var hist struct{ Items []staff.Version }
		editor.do("GET", "/procedures/"+code+"/versions", nil).json(t, &hist)
		require.Len(t, hist.Items, 2, code)
		assert.Equal(t, []string{staff.ActionImport, staff.ActionCatalog}, []string{hist.Items[0].Action, hist.Items[1].Action})
		var v1 staff.Version
		editor.do("GET", "/procedures/"+code+"/versions/1", nil).json(t, &v1)
		require.NotNil(t, v1.Procedure)
		assert.Equal(t, orig, *v1.Procedure, code)
	}
	var hist struct{ Items []staff.Version }
	editor.do("GET", "/procedures/1.000099/versions", nil).json(t, &hist)
	require.Len(t, hist.Items, 1, "a new procedure has no catalog version")
	assert.Equal(t, staff.ActionImport, hist.Items[0].Action)

	res = publisher.do("POST", "/procedures/1.000002/versions/1/restore", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	got, err := e.store.Get(ctx, "1.000002")
	require.NoError(t, err)
	assert.Equal(t, originals["1.000002"], got)
}

// TestImportArchiveLimits: an ignored tar entry that declares more than the unpacked budget is refused before
// it is decompressed, and archive errors never reveal the server's temporary directory.
func TestImportArchiveLimits(t *testing.T) {
	tmp := t.TempDir()
	e := newEnv(t, smallStore(t), nil, nil, func(o *staff.Options) { o.TempDir = tmp })
	e.addUser("lan", staff.RoleEditor)
	c := e.login("lan")

	// The header of a 2 GiB non-record entry, without its data: skipping it would mean decompressing it all.
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "video.bin", Mode: 0o644, Size: staff.MaxUnpackedBytes + 1, Typeflag: tar.TypeReg}))
	require.NoError(t, gz.Close())
	res, _ := upload(t, c, "bomb.tar.gz", buf.Bytes())
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.status, "%s", res.body)

	// A record file and a record "directory" of the same name cannot both be unpacked.
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for _, name := range []string{"a.json", "a.json/b.json"} {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write([]byte(`{}`))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	res, _ = upload(t, c, "clash.zip", zb.Bytes())
	assert.Equal(t, http.StatusBadRequest, res.status, "%s", res.body)
	assert.NotContains(t, string(res.body), tmp)
	assert.NotContains(t, string(res.body), "staff-import-")
}
