package staff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
)

// codePattern is what a procedure code may look like (the catalog's "1.001193", local codes with letters).
var codePattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.\-]{0,39}$`)

// Limits of staff input.
const (
	MaxNoteRunes = 1000
	MaxAliases   = 100
	embedBatch   = 128
	// listThreshold is the number of catalog records to keep as versions above which they are read with one
	// List rather than one Get each.
	listThreshold = 64
)

func validCode(code string) bool { return codePattern.MatchString(code) }

// Validate checks a record for publishing and says, in Vietnamese, what is wrong with each field.
func Validate(p *knowledge.Procedure) []FieldReason {
	var out []FieldReason
	add := func(f, r string) { out = append(out, FieldReason{f, r}) }
	if !validCode(p.Code) {
		add("code", "Mã thủ tục chỉ gồm chữ số, chữ cái, dấu chấm, gạch ngang (tối đa 40 ký tự), ví dụ 1.001193.")
	}
	if strings.TrimSpace(p.Name) == "" {
		add("name", "Tên thủ tục không được để trống.")
	}
	for _, l := range p.Levels {
		switch l {
		case knowledge.LevelCentral, knowledge.LevelProvince, knowledge.LevelCommune, knowledge.LevelOther:
		default:
			add("levels", fmt.Sprintf("Cấp thực hiện %q không hợp lệ (trung-uong, tinh, xa, khac).", l))
		}
	}
	for i, c := range p.Channels {
		switch c.Kind {
		case knowledge.ChannelInPerson, knowledge.ChannelOnline, knowledge.ChannelPostal:
		default:
			add(fmt.Sprintf("channels[%d].kind", i), fmt.Sprintf("Cách thức nộp %q không hợp lệ (truc-tiep, truc-tuyen, buu-chinh).", c.Kind))
		}
		if c.Time.Value < 0 {
			add(fmt.Sprintf("channels[%d].time", i), "Thời hạn giải quyết không được âm.")
		}
		for j, f := range c.Fees {
			if f.Amount < 0 {
				add(fmt.Sprintf("channels[%d].fees[%d].amount", i, j), "Phí, lệ phí không được âm.")
			}
		}
	}
	for i, d := range p.Dossier {
		if strings.TrimSpace(d.Name) == "" {
			add(fmt.Sprintf("dossier[%d].name", i), "Tên giấy tờ không được để trống.")
		}
		if d.Originals < 0 || d.Copies < 0 {
			add(fmt.Sprintf("dossier[%d]", i), "Số bản chính, bản sao không được âm.")
		}
	}
	if len(p.Dossier) > knowledge.MaxDossierItems {
		add("dossier", fmt.Sprintf("Hồ sơ có quá %d thành phần.", knowledge.MaxDossierItems))
	}
	if len(p.Aliases) > MaxAliases {
		add("aliases", fmt.Sprintf("Có quá %d cách gọi khác.", MaxAliases))
	}
	if knowledge.CheckURL(p.URL) != nil {
		add("url", URLReason())
	}
	if len(out) > 0 {
		return out
	}
	// What our JSONL format accepts (field lengths, valid UTF-8) is the last word.
	if err := ingest.WriteJSONL(io.Discard, []knowledge.Procedure{*p}); err != nil {
		var fe *ingest.FieldError
		if errors.As(err, &fe) {
			add(fe.Field, "Giá trị không hợp lệ (dài quá "+strconv.Itoa(knowledge.MaxFieldRunes)+" ký tự, sai mã hoá hoặc quá lớn): "+fe.Reason)
		} else {
			add("", "Bản ghi không hợp lệ: "+err.Error())
		}
	}
	return out
}

// URLReason says, in Vietnamese, what a procedure's link must be (knowledge.CheckURL).
func URLReason() string {
	return "Đường dẫn phải là địa chỉ bắt đầu bằng https:// trên trang của cơ quan nhà nước (tên miền " +
		strings.Join(knowledge.URLDomains, ", ") + " hoặc tên miền con của chúng), ví dụ " +
		"https://dichvucong.gov.vn/…; không chấp nhận javascript:, data:, http://, địa chỉ trang khác, " +
		"khoảng trắng, dấu nháy hay dấu ngoặc (hãy để trống nếu không có)."
}

// pathCode reads {code}; a malformed one is 404.
func pathCode(w http.ResponseWriter, r *http.Request) (string, bool) {
	code := r.PathValue("code")
	if !validCode(code) {
		errNotFound.write(w)
		return "", false
	}
	return code, true
}

// summary is a row of GET /procedures.
type summary struct {
	Code           string            `json:"code"`
	Name           string            `json:"name"`
	Field          string            `json:"field,omitempty"`
	Levels         []knowledge.Level `json:"levels,omitempty"`
	Published      bool              `json:"published"`
	Version        int               `json:"published_version"`
	DraftVersion   int               `json:"draft_version,omitempty"`
	DraftUpdatedBy string            `json:"draft_updated_by,omitempty"`
	DraftUpdatedAt any               `json:"draft_updated_at,omitempty"`
}

func (s *Service) listProcedures(w http.ResponseWriter, r *http.Request, _ *principal) {
	limit, e := queryInt(r, "limit", 100, 1, MaxListLimit)
	if e == nil {
		var off int
		off, e = queryInt(r, "offset", 0, 0, 1<<30)
		if e == nil {
			s.listProceduresPage(w, r, limit, off)
			return
		}
	}
	e.write(w)
}

func (s *Service) listProceduresPage(w http.ResponseWriter, r *http.Request, limit, offset int) {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if utf8.RuneCountInString(q) > 200 || !utf8.ValidString(q) {
		writeError(w, http.StatusBadRequest, "bad_request", "Từ khoá tìm kiếm dài quá 200 ký tự.")
		return
	}
	onlyDrafts := r.URL.Query().Get("drafts") == "true"
	ps, err := s.opt.Store.List(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	drafts, err := s.opt.Repo.Drafts(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	latest, err := s.opt.Repo.LatestVersions(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := map[string]*summary{}
	for _, p := range ps {
		rows[p.Code] = &summary{Code: p.Code, Name: p.Name, Field: p.Field, Levels: p.Levels, Published: true, Version: latest[p.Code]}
	}
	for _, d := range drafts {
		row, ok := rows[d.Code]
		if !ok {
			row = &summary{Code: d.Code, Name: d.Procedure.Name, Field: d.Procedure.Field, Levels: d.Procedure.Levels,
				Version: latest[d.Code]}
			rows[d.Code] = row
		}
		row.DraftVersion, row.DraftUpdatedBy, row.DraftUpdatedAt = d.Version, d.UpdatedBy, d.UpdatedAt
	}
	var out []summary
	switch {
	case q == "":
		for _, row := range rows {
			if !onlyDrafts || row.DraftVersion != 0 {
				out = append(out, *row)
			}
		}
		slices.SortFunc(out, func(a, b summary) int { return strings.Compare(a.Code, b.Code) })
	default:
		out, err = s.searchRows(ctx, q, rows, onlyDrafts)
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	total := len(out)
	out = out[min(offset, total):min(offset+limit, total)]
	if out == nil {
		out = []summary{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out, "total": total})
}

// searchRows ranks the rows for q: codes starting with q first (in code order), then the published procedures
// the assistant's search (knowledge.Searcher: accent-insensitive, the lexicon's abbreviations such as "cccd",
// staff aliases and the question bank's phrasings) ranks for q, best first, then the procedures that exist only
// as drafts (not indexed) whose name has every word of q, accents optional.
func (s *Service) searchRows(ctx context.Context, q string, rows map[string]*summary, onlyDrafts bool) ([]summary, error) {
	var out []summary
	seen := map[string]bool{}
	add := func(row *summary) {
		if row != nil && !seen[row.Code] && (!onlyDrafts || row.DraftVersion != 0) {
			seen[row.Code] = true
			out = append(out, *row)
		}
	}
	var prefixed []string
	for code := range rows {
		if strings.HasPrefix(code, q) {
			prefixed = append(prefixed, code)
		}
	}
	slices.Sort(prefixed)
	for _, code := range prefixed {
		add(rows[code])
	}
	res, err := s.searcher.Search(ctx, q, knowledge.MaxSearchK)
	if err != nil {
		return nil, fmt.Errorf("staff: search: %w", err)
	}
	for _, h := range res.Hits {
		add(rows[h.Code])
	}
	words := knowledge.Syllables(q)
	var drafts []string
	for code, row := range rows {
		if row.Published || seen[code] || len(words) == 0 {
			continue
		}
		name := " " + strings.Join(knowledge.Syllables(row.Name), " ") + " "
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(name, " "+w+" ") }) {
			drafts = append(drafts, code)
		}
	}
	slices.Sort(drafts)
	for _, code := range drafts {
		add(rows[code])
	}
	return out, nil
}

// current is a procedure's published record (nil if none), published version and draft (nil if none).
type current struct {
	Code      string               `json:"code"`
	Published *knowledge.Procedure `json:"published"`
	Version   int                  `json:"published_version"`
	Draft     *Draft               `json:"draft"`
}

func (s *Service) current(ctx context.Context, code string) (current, error) {
	c := current{Code: code}
	p, err := s.opt.Store.Get(ctx, code)
	switch {
	case err == nil:
		c.Published = &p
	case !errors.Is(err, knowledge.ErrNotFound):
		return c, err
	}
	d, err := s.opt.Repo.Draft(ctx, code)
	switch {
	case err == nil:
		c.Draft = &d
	case !errors.Is(err, knowledge.ErrNotFound):
		return c, err
	}
	vs, err := s.opt.Repo.Versions(ctx, code)
	if err != nil {
		return c, err
	}
	if len(vs) > 0 {
		c.Version = vs[0].Version
	}
	return c, nil
}

func (s *Service) getProcedure(w http.ResponseWriter, r *http.Request, _ *principal) {
	code, ok := pathCode(w, r)
	if !ok {
		return
	}
	c, err := s.current(r.Context(), code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c.Published == nil && c.Draft == nil && c.Version == 0 {
		errNotFound.write(w)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Service) getDraft(w http.ResponseWriter, r *http.Request, _ *principal) {
	code, ok := pathCode(w, r)
	if !ok {
		return
	}
	d, err := s.opt.Repo.Draft(r.Context(), code)
	if errors.Is(err, knowledge.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", msgNoDraft)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// decodeVersioned decodes a write's body into req and returns the version it is based on: the If-Match header,
// else *base, the body's base_version (read after decoding). false: the error was written.
func decodeVersioned(w http.ResponseWriter, r *http.Request, req any, base **int) (int, bool) {
	if e := decode(w, r, req); e != nil {
		e.write(w)
		return 0, false
	}
	v, e := baseVersion(r, *base)
	if e != nil {
		e.write(w)
		return 0, false
	}
	return v, true
}

// baseVersion reads the base version from If-Match or the body's base_version (nil when neither).
func baseVersion(r *http.Request, body *int) (int, *apiErr) {
	if h := strings.TrimSpace(r.Header.Get("If-Match")); h != "" {
		n, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(h, "W/"), `"`))
		if err != nil || n < 0 {
			return 0, errf(http.StatusBadRequest, "bad_request", "Tiêu đề If-Match phải là số phiên bản bản nháp.")
		}
		return n, nil
	}
	if body == nil || *body < 0 {
		return 0, errf(http.StatusBadRequest, "bad_request", "Thiếu phiên bản gốc (base_version hoặc If-Match).")
	}
	return *body, nil
}

// queryBaseVersion is baseVersion for a request without a body: If-Match or the base_version query parameter.
func queryBaseVersion(r *http.Request) (int, *apiErr) {
	var qb *int
	if v := r.URL.Query().Get("base_version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, errf(http.StatusBadRequest, "bad_request", "base_version phải là số.")
		}
		qb = &n
	}
	return baseVersion(r, qb)
}

func (s *Service) saveDraft(w http.ResponseWriter, r *http.Request, p *principal) {
	code, ok := pathCode(w, r)
	if !ok {
		return
	}
	var req struct {
		Base      *int                 `json:"base_version"`
		Procedure *knowledge.Procedure `json:"procedure"`
	}
	base, ok := decodeVersioned(w, r, &req, &req.Base)
	if !ok {
		return
	}
	if req.Procedure == nil {
		writeError(w, http.StatusBadRequest, "bad_request", "Thiếu bản ghi thủ tục (procedure).")
		return
	}
	d, err := s.SaveDraft(r.Context(), p.actor(), code, *req.Procedure, base)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Service) discardDraft(w http.ResponseWriter, r *http.Request, p *principal) {
	code, ok := pathCode(w, r)
	if !ok {
		return
	}
	base, e := queryBaseVersion(r)
	if e != nil {
		e.write(w)
		return
	}
	if err := s.DiscardDraft(r.Context(), p.actor(), code, base); err != nil {
		s.writeErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// procedureFields are the JSON names of knowledge.Procedure's fields, in declaration order.
var procedureFields = func() []string {
	t := reflect.TypeFor[knowledge.Procedure]()
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}()

// fieldLabels names every JSON field of knowledge.Procedure in Vietnamese, as staff see it on the page.
var fieldLabels = map[string]string{
	"code":         "Mã thủ tục",
	"name":         "Tên thủ tục",
	"levels":       "Cấp thực hiện",
	"field":        "Lĩnh vực",
	"kind":         "Loại thủ tục",
	"decision":     "Quyết định công bố",
	"ministry":     "Bộ, ngành",
	"agencies":     "Cơ quan thực hiện",
	"address":      "Địa chỉ tiếp nhận",
	"subjects":     "Đối tượng thực hiện",
	"channels":     "Cách thức nộp, thời hạn, lệ phí",
	"dossier":      "Thành phần hồ sơ",
	"steps":        "Trình tự thực hiện",
	"requirements": "Yêu cầu, điều kiện",
	"result":       "Kết quả thực hiện",
	"legal":        "Căn cứ pháp lý",
	"related":      "Thủ tục liên quan",
	"url":          "Đường dẫn trên Cổng dịch vụ công",
	"aliases":      "Cách hỏi khác",
	"local_notes":  "Ghi chú địa phương",
	"source":       "Nguồn dữ liệu",
	"source_date":  "Ngày dữ liệu",
	"attribution":  "Cán bộ, đơn vị xuất bản",
}

// FieldLabel is the Vietnamese label of a knowledge.Procedure JSON field ("local_notes" → "Ghi chú địa
// phương"); an unknown name is returned as it is.
func FieldLabel(field string) string {
	if l, ok := fieldLabels[field]; ok {
		return l
	}
	return field
}

// Change is one field that differs between two records.
type Change struct {
	Field string          `json:"field"` // the JSON name, e.g. local_notes
	Label string          `json:"label"` // its Vietnamese label (FieldLabel), e.g. Ghi chú địa phương
	Op    string          `json:"op"`    // added, removed, changed
	Old   json.RawMessage `json:"old,omitempty"`
	New   json.RawMessage `json:"new,omitempty"`
}

// Diff compares two records field by field (top-level JSON fields, in declaration order); old may be nil.
func Diff(old, new *knowledge.Procedure) []Change {
	fields := func(p *knowledge.Procedure) map[string]json.RawMessage {
		m := map[string]json.RawMessage{}
		if p != nil {
			b, _ := json.Marshal(p)
			_ = json.Unmarshal(b, &m)
		}
		return m
	}
	a, b := fields(old), fields(new)
	out := []Change{}
	for _, f := range procedureFields {
		x, inA := a[f]
		y, inB := b[f]
		l := FieldLabel(f)
		switch {
		case inA && !inB:
			out = append(out, Change{Field: f, Label: l, Op: "removed", Old: x})
		case !inA && inB:
			out = append(out, Change{Field: f, Label: l, Op: "added", New: y})
		case inA && inB && !bytes.Equal(x, y):
			out = append(out, Change{Field: f, Label: l, Op: "changed", Old: x, New: y})
		}
	}
	return out
}

func (s *Service) diff(w http.ResponseWriter, r *http.Request, _ *principal) {
	code, ok := pathCode(w, r)
	if !ok {
		return
	}
	c, err := s.current(r.Context(), code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c.Draft == nil {
		writeError(w, http.StatusNotFound, "not_found", msgNoDraft)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"code": code, "draft_version": c.Draft.Version,
		"published_version": c.Version, "changes": Diff(c.Published, &c.Draft.Procedure)})
}

// preview answers a question from the draft as publishing it now would make the assistant answer (asPublished:
// attributed to the caller and their unit, today), or from the published record when there is no draft.
func (s *Service) preview(w http.ResponseWriter, r *http.Request, p *principal) {
	code, ok := pathCode(w, r)
	if !ok {
		return
	}
	var req struct {
		Question string `json:"question"`
	}
	if e := decode(w, r, &req); e != nil {
		e.write(w)
		return
	}
	q := strings.TrimSpace(req.Question)
	if q == "" || utf8.RuneCountInString(q) > knowledge.MaxQueryRunes || !utf8.ValidString(q) {
		writeError(w, http.StatusBadRequest, "bad_request", "Câu hỏi phải có từ 1 đến 500 ký tự.")
		return
	}
	c, err := s.current(r.Context(), code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rec, from := c.Published, "published"
	if c.Draft != nil {
		a, err := s.attribution(r.Context(), p.actor())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		x := asPublished(c.Draft.Procedure, c.Published, a)
		rec, from = &x, "draft"
	}
	if rec == nil {
		errNotFound.write(w)
		return
	}
	pv, err := s.composer().Preview(r.Context(), rec, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := make([]string, len(pv.Intents))
	for i, x := range pv.Intents {
		names[i] = string(x)
	}
	options := pv.Options
	if options == nil {
		options = []assistant.Citation{}
	}
	body := map[string]any{"text": pv.Text, "full": pv.Full, "suggestions": pv.Suggestions, "options": options,
		"answered": pv.Answered, "intents": names, "from": from}
	if rec.Staff() {
		body["attribution"] = rec.Attribution
	}
	writeJSON(w, http.StatusOK, body)
}

// publishRecords embeds and applies upserts (and deletes) to the store in one change, then records a
// version for each and drops the drafts of dropDrafts (code → draft version); batch is the import batch
// published (0: none), which the caller marks published (and Recover, if the process was killed). A publish
// intent (see PublishIntent and Recover) makes the writes one: a failure or a crash at any point leaves either
// the records published with their versions and without their drafts, or nothing changed.
func (s *Service) publishRecords(ctx context.Context, upserts []knowledge.Procedure, deletes []knowledge.Procedure,
	action, by, note string, dropDrafts map[string]int, batch int64) ([]Version, error) {
	meta, err := s.checkEmbedder(ctx)
	if err != nil {
		return nil, err
	}
	originals, err := s.catalogVersions(ctx, upserts, deletes)
	if err != nil {
		return nil, err
	}
	docs := make([]knowledge.Doc, 0, len(upserts))
	for i := 0; i < len(upserts); i += embedBatch {
		batch := upserts[i:min(i+embedBatch, len(upserts))]
		texts := make([]string, len(batch))
		for j := range batch {
			texts[j] = knowledge.EmbedText(&batch[j], s.phrasings(batch[j].Code))
		}
		vecs, err := s.opt.Embedder.EmbedDocuments(ctx, texts)
		if err != nil {
			return nil, fmt.Errorf("staff: publish: embed: %w", err)
		}
		if len(vecs) != len(batch) {
			return nil, fmt.Errorf("staff: publish: embedder returned %d vectors for %d texts", len(vecs), len(batch))
		}
		for j := range batch {
			docs = append(docs, knowledge.NewDoc(batch[j], s.phrasings(batch[j].Code), vecs[j]))
		}
	}
	change := knowledge.Change{Upsert: docs}
	if meta.Dim == 0 && len(docs) > 0 { // an empty index takes the embedder's identity
		meta = knowledge.Meta{Embedder: "unknown", Dim: len(docs[0].Vector)}
		if me, ok := s.opt.Embedder.(interface{ Meta() knowledge.Meta }); ok {
			meta = me.Meta()
		}
		change.Meta = &meta
	}
	for _, p := range deletes {
		change.Delete = append(change.Delete, p.Code)
	}
	now := s.now()
	vs := make([]Version, 0, len(originals)+len(docs)+len(deletes))
	for i := range originals {
		originals[i].At = now
		vs = append(vs, originals[i])
	}
	for i := range docs {
		p := docs[i].Procedure
		vs = append(vs, Version{Code: p.Code, Action: action, By: by, At: now, Note: note, Hash: docs[i].Hash, Procedure: &p})
	}
	for i := range deletes {
		p := deletes[i]
		vs = append(vs, Version{Code: p.Code, Action: action, By: by, At: now, Note: note, Hash: knowledge.ContentHash(&p, s.phrasings(p.Code)), Procedure: &p})
	}
	// The history is written down before the store changes, and completed after, so that a process killed in
	// between loses nothing: Recover completes or forgets the intent when the service next starts.
	in, err := s.opt.Repo.AddPublishIntent(ctx,
		PublishIntent{At: now, Versions: vs, DropDrafts: dropDrafts, Import: batch})
	if err != nil {
		return nil, fmt.Errorf("staff: publish: %w", err)
	}
	// From here on the request's cancellation must not leave the intent pending.
	bg := context.WithoutCancel(ctx)
	if err := s.opt.Store.Apply(ctx, change); err != nil {
		// The store may have committed before the error reached us (a lost connection): settle by its hashes.
		if _, serr := s.settleIntent(bg, in, false); serr != nil {
			s.log.Error("staff: publish: settle a failed publish", "intent", in.ID, "err", serr)
		}
		return nil, fmt.Errorf("staff: publish: %w", err)
	}
	stored, err := s.opt.Repo.CompletePublishIntent(bg, in.ID)
	if errors.Is(err, ErrNotFound) { // another process's Recover completed it meanwhile
		stored, err = s.recordedVersions(bg, vs)
	}
	if err != nil {
		return nil, fmt.Errorf("staff: publish: record versions: %w", err)
	}
	return stored[len(originals):], nil
}

// catalogVersions returns, for each code to publish or remove that is in the store but has no version yet (it
// came from the catalog ingest), its current record as a version of ActionCatalog, so that the history starts
// with the original and restoring it returns to the catalog's text. Versions are numbered in order, so these
// come before the new ones.
func (s *Service) catalogVersions(ctx context.Context, upserts, deletes []knowledge.Procedure) ([]Version, error) {
	latest, err := s.opt.Repo.LatestVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("staff: publish: %w", err)
	}
	var need []string
	seen := map[string]bool{}
	for _, p := range slices.Concat(upserts, deletes) {
		if latest[p.Code] == 0 && !seen[p.Code] {
			seen[p.Code] = true
			need = append(need, p.Code)
		}
	}
	if len(need) == 0 {
		return nil, nil
	}
	hashes, err := s.opt.Store.Hashes(ctx)
	if err != nil {
		return nil, fmt.Errorf("staff: publish: %w", err)
	}
	get := func(code string) (knowledge.Procedure, error) { return s.opt.Store.Get(ctx, code) }
	if len(need) > listThreshold { // a large batch: one read of the catalog instead of one per record
		all, err := s.opt.Store.List(ctx)
		if err != nil {
			return nil, fmt.Errorf("staff: publish: %w", err)
		}
		byCode := make(map[string]knowledge.Procedure, len(all))
		for _, p := range all {
			byCode[p.Code] = p
		}
		get = func(code string) (knowledge.Procedure, error) {
			if p, ok := byCode[code]; ok {
				return p, nil
			}
			return knowledge.Procedure{}, knowledge.ErrNotFound
		}
	}
	var out []Version
	for _, code := range need {
		h, ok := hashes[code]
		if !ok {
			continue // a new procedure: its first version is the one published now
		}
		cur, err := get(code)
		if errors.Is(err, knowledge.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("staff: publish: %w", err)
		}
		out = append(out, Version{Code: code, Action: ActionCatalog, By: CatalogAuthor,
			Note: "Nội dung gốc từ danh mục, trước lần xuất bản đầu tiên của cán bộ", Hash: h, Procedure: &cur})
	}
	return out, nil
}

// checkEmbedder refuses to publish vectors of another embedder than the index's; it returns the index's meta
// (zero for an empty store).
func (s *Service) checkEmbedder(ctx context.Context) (knowledge.Meta, error) {
	m, err := s.opt.Store.Meta(ctx)
	if err != nil {
		return m, fmt.Errorf("staff: publish: %w", err)
	}
	me, ok := s.opt.Embedder.(interface{ Meta() knowledge.Meta })
	if !ok {
		return m, nil
	}
	if em := me.Meta(); m.Embedder != "" && (m.Embedder != em.Embedder || m.Dim != em.Dim) {
		return m, fmt.Errorf("staff: publish: the index was built by %s/%d, the configured embedder is %s/%d",
			m.Embedder, m.Dim, em.Embedder, em.Dim)
	}
	return m, nil
}

// decodeNote reads the optional body {"base_version", "note"} of a publish, an unpublish or a restore, and
// checks the note's length; it returns the note trimmed of spaces. false: the error was written.
func decodeNote(w http.ResponseWriter, r *http.Request) (note string, base *int, ok bool) {
	var req struct {
		Base *int   `json:"base_version"`
		Note string `json:"note"`
	}
	if e := decodeOptional(w, r, &req); e != nil {
		e.write(w)
		return "", nil, false
	}
	if msg := noteReason(req.Note); msg != "" {
		writeError(w, http.StatusBadRequest, "bad_request", msg)
		return "", nil, false
	}
	return strings.TrimSpace(req.Note), req.Base, true
}

func note(w http.ResponseWriter, r *http.Request) (string, bool) {
	n, _, ok := decodeNote(w, r)
	return n, ok
}

func (s *Service) publish(w http.ResponseWriter, r *http.Request, p *principal) {
	code, ok := pathCode(w, r)
	if !ok {
		return
	}
	n, b, ok := decodeNote(w, r)
	if !ok {
		return
	}
	base, e := baseVersion(r, b)
	if e != nil {
		e.write(w)
		return
	}
	v, err := s.Publish(r.Context(), p.actor(), code, base, n)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Service) unpublish(w http.ResponseWriter, r *http.Request, p *principal) {
	code, ok := pathCode(w, r)
	if !ok {
		return
	}
	n, ok := note(w, r)
	if !ok {
		return
	}
	v, err := s.Unpublish(r.Context(), p.actor(), code, n)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Service) versions(w http.ResponseWriter, r *http.Request, _ *principal) {
	code, ok := pathCode(w, r)
	if !ok {
		return
	}
	vs, err := s.opt.Repo.Versions(r.Context(), code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if vs == nil {
		vs = []Version{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": vs})
}

func (s *Service) loadVersion(w http.ResponseWriter, r *http.Request) (Version, bool) {
	code, ok := pathCode(w, r)
	if !ok {
		return Version{}, false
	}
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || n <= 0 {
		errNotFound.write(w)
		return Version{}, false
	}
	v, err := s.opt.Repo.Version(r.Context(), code, n)
	if errors.Is(err, knowledge.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", msgNoVersion)
		return Version{}, false
	} else if err != nil {
		s.fail(w, r, err)
		return Version{}, false
	}
	return v, true
}

func (s *Service) version(w http.ResponseWriter, r *http.Request, _ *principal) {
	if v, ok := s.loadVersion(w, r); ok {
		writeJSON(w, http.StatusOK, v)
	}
}

// restore reads the version before the body, so that a version that does not exist is 404 whatever the body.
func (s *Service) restore(w http.ResponseWriter, r *http.Request, p *principal) {
	v, ok := s.loadVersion(w, r)
	if !ok {
		return
	}
	n, ok := note(w, r)
	if !ok {
		return
	}
	out, err := s.Restore(r.Context(), p.actor(), v.Code, v.Version, n)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
