package staff

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// Centre corrections: the centres file (data/centres/) is the seed of the communes' public administrative
// service centres; staff correct a centre's name, address, precision, phone and opening hours, and the
// correction is what citizens are told from then on, in every process, until staff revert it. A correction
// replaces the seed for its unit whole (the fields staff leave empty are empty), is high confidence (staff
// checked it) and records who made it and when.

// Limits of a correction's fields (the name and address as knowledge.NewCentres takes them).
const (
	maxCentreNote = 500
	minPhoneDigit = 3
)

// ReloadCentres reads the centre corrections from the Repo and applies them to Options.Centres, which the
// assistant answers from. A correction that no longer applies (its unit left the centres file) is logged and
// left out.
func (s *Service) ReloadCentres(ctx context.Context) error {
	if s.opt.Centres == nil {
		return nil
	}
	s.centMu.Lock()
	defer s.centMu.Unlock()
	cs, err := s.opt.Repo.CentreCorrections(ctx)
	if err != nil {
		return fmt.Errorf("staff: reload centres: %w", err)
	}
	fixes := make([]knowledge.Centre, len(cs))
	for i, c := range cs {
		fixes[i] = c.Fix()
	}
	if err := s.opt.Centres.Correct(fixes); err != nil {
		s.log.Warn("staff: some centre corrections were not applied", "err", err)
	}
	return nil
}

// centreRow is a centre as staff see it: what citizens are told, the seed, and staff's correction if any.
type centreRow struct {
	UnitCode   string            `json:"unit_code"`
	UnitName   string            `json:"unit_name"`
	Centre     knowledge.Centre  `json:"centre"`
	Seed       knowledge.Centre  `json:"seed"`
	Correction *CentreCorrection `json:"correction"`
}

func (s *Service) centreRow(seed knowledge.Centre, corr *CentreCorrection) centreRow {
	cur, ok := s.opt.Centres.ByCode(seed.UnitCode)
	if !ok {
		cur = seed
	}
	return centreRow{UnitCode: seed.UnitCode, UnitName: seed.UnitName, Centre: cur, Seed: seed, Correction: corr}
}

// validUnitCode is what a commune code looks like (knowledge.Centre.UnitCode).
func validUnitCode(code string) bool {
	if code == "" || len(code) > 10 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// pathCentre reads {unit} and finds its seed centre; a malformed or unknown one is 404.
const msgNoCentre = "Không có trung tâm phục vụ hành chính công của đơn vị này trong dữ liệu."

// seedCentre is the seed centre of a commune's code; ErrNotFound for a malformed or unknown code.
func (s *Service) seedCentre(code string) (knowledge.Centre, error) {
	if validUnitCode(code) {
		if seed, ok := s.opt.Centres.Seed().ByCode(code); ok {
			return seed, nil
		}
	}
	return knowledge.Centre{}, notFound(msgNoCentre)
}

// pathCentre reads {unit} and finds its seed centre; a malformed or unknown one is 404.
func (s *Service) pathCentre(w http.ResponseWriter, r *http.Request) (knowledge.Centre, bool) {
	seed, err := s.seedCentre(r.PathValue("unit"))
	if err != nil {
		s.writeErr(w, r, err)
		return seed, false
	}
	return seed, true
}

func (s *Service) listCentres(w http.ResponseWriter, r *http.Request, _ *principal) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if utf8.RuneCountInString(q) > 200 || !utf8.ValidString(q) {
		writeError(w, http.StatusBadRequest, "bad_request", "Từ khoá tìm kiếm dài quá 200 ký tự.")
		return
	}
	onlyCorrected := r.URL.Query().Get("corrected") == "true"
	cs, err := s.opt.Repo.CentreCorrections(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	byUnit := make(map[string]*CentreCorrection, len(cs))
	for i := range cs {
		byUnit[cs[i].UnitCode] = &cs[i]
	}
	fq := knowledge.Fold(q)
	out := []centreRow{}
	for _, seed := range s.opt.Centres.Seed().All() {
		corr := byUnit[seed.UnitCode]
		if onlyCorrected && corr == nil {
			continue
		}
		if q != "" && seed.UnitCode != q && !strings.Contains(knowledge.Fold(seed.UnitName), fq) {
			continue
		}
		out = append(out, s.centreRow(seed, corr))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out, "total": len(out)})
}

// currentCentre is a unit's row with its stored correction.
func (s *Service) currentCentre(ctx context.Context, seed knowledge.Centre) (centreRow, error) {
	c, err := s.opt.Repo.CentreCorrection(ctx, seed.UnitCode)
	switch {
	case err == nil:
		return s.centreRow(seed, &c), nil
	case errors.Is(err, knowledge.ErrNotFound):
		return s.centreRow(seed, nil), nil
	}
	return centreRow{}, err
}

func (s *Service) getCentre(w http.ResponseWriter, r *http.Request, _ *principal) {
	seed, ok := s.pathCentre(w, r)
	if !ok {
		return
	}
	row, err := s.currentCentre(r.Context(), seed)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, row)
}

// centreConflict is ErrConflict for a correction saved or reverted from a stale version, with the centre as
// it is now.
func (s *Service) centreConflict(ctx context.Context, seed knowledge.Centre) error {
	return conflict(ctx, "Thông tin trung tâm vừa được người khác sửa. Hãy xem bản hiện tại rồi sửa lại.",
		func(ctx context.Context) (any, error) { return s.currentCentre(ctx, seed) })
}

// centreRequest is the body of PUT /centres/{unit}.
type centreRequest struct {
	Base      *int   `json:"base_version"`
	Name      string `json:"name"`
	Address   string `json:"address"`
	Precision string `json:"precision"`
	Phone     string `json:"phone"`
	Hours     string `json:"hours"`
	Note      string `json:"note"`
}

// plainText says what is wrong with one line of text staff typed ("" when nothing): it must be valid UTF-8,
// with no control or invisible formatting characters (a line break, a direction override) and no markup.
func plainText(v string) string {
	if !utf8.ValidString(v) {
		return "Nội dung không phải văn bản hợp lệ (sai mã hoá UTF-8)."
	}
	for _, r := range v {
		switch {
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return "Không được chứa ký tự điều khiển hay ký tự ẩn (xuống dòng, tab…); hãy viết trên một dòng."
		case r == '<' || r == '>':
			return "Không được chứa mã HTML (dấu < hoặc >)."
		}
	}
	return ""
}

// ValidateCentre checks a centre correction and says, in Vietnamese, what is wrong with each field.
func ValidateCentre(c CentreCorrection) []FieldReason {
	var out []FieldReason
	add := func(f, r string) { out = append(out, FieldReason{f, r}) }
	for _, f := range []struct {
		field, label, v string
		required        bool
		max             int
	}{
		{"name", "Tên trung tâm", c.Name, true, knowledge.MaxCentreField},
		{"address", "Địa chỉ", c.Address, true, knowledge.MaxCentreField},
		{"hours", "Giờ làm việc", c.Hours, false, knowledge.MaxCentreHours},
		{"note", "Ghi chú", c.Note, false, maxCentreNote},
	} {
		switch v := strings.TrimSpace(f.v); {
		case plainText(v) != "":
			add(f.field, plainText(v))
		case v == "" && f.required:
			add(f.field, f.label+" không được để trống.")
		case utf8.RuneCountInString(v) > f.max:
			add(f.field, fmt.Sprintf("%s dài quá %d ký tự.", f.label, f.max))
		}
	}
	if p := strings.TrimSpace(c.Phone); p != "" {
		digits := 0
		for _, r := range p {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if len(p) > knowledge.MaxCentrePhone || strings.Trim(p, "0123456789 .-+()") != "" || digits < minPhoneDigit {
			add("phone", fmt.Sprintf("Số điện thoại chỉ gồm chữ số, dấu cách, dấu chấm (có thể có dấu +, -, ngoặc), "+
				"tối đa %d ký tự, ví dụ 028.38396136.", knowledge.MaxCentrePhone))
		}
	}
	switch c.Precision {
	case "", knowledge.PrecisionHouse, knowledge.PrecisionStreet, knowledge.PrecisionArea:
	default:
		add("precision", fmt.Sprintf("Độ chi tiết của địa chỉ phải là %s (số nhà), %s (tên đường) hoặc %s (khu phố, ấp).",
			knowledge.PrecisionHouse, knowledge.PrecisionStreet, knowledge.PrecisionArea))
	}
	return out
}

func (s *Service) correctCentre(w http.ResponseWriter, r *http.Request, p *principal) {
	seed, ok := s.pathCentre(w, r)
	if !ok {
		return
	}
	var req centreRequest
	base, ok := decodeVersioned(w, r, &req, &req.Base)
	if !ok {
		return
	}
	saved, err := s.CorrectCentre(r.Context(), p.actor(), CentreCorrection{UnitCode: seed.UnitCode, Name: req.Name,
		Address: req.Address, Precision: req.Precision, Phone: req.Phone, Hours: req.Hours, Note: req.Note}, base)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.centreRow(seed, &saved))
}

// CorrectCentre stores c (its unit code, name, address, precision, phone, hours and note; an empty name is the
// one citizens are told now) as the next version of the correction of c.UnitCode's centre if the correction's
// version is base (0: there is none), applies it at once (Options.Centres) and returns it as stored, in the
// text the assistant says. ErrNotFound for a unit without a centre, ErrInvalid for a correction that is not
// valid (ValidateCentre), ErrConflict when the correction's version is not base; for publishers.
func (s *Service) CorrectCentre(ctx context.Context, a Actor, c CentreCorrection, base int) (CentreCorrection, error) {
	if err := a.may(RolePublisher); err != nil {
		return CentreCorrection{}, err
	}
	seed, err := s.seedCentre(c.UnitCode)
	if err != nil {
		return CentreCorrection{}, err
	}
	c = CentreCorrection{UnitCode: seed.UnitCode, Name: c.Name, Address: c.Address, Precision: strings.TrimSpace(c.Precision),
		Phone: c.Phone, Hours: c.Hours, Note: c.Note, By: a.Name(), At: s.now()}
	if strings.TrimSpace(c.Name) == "" { // the name as citizens know it now
		cur, _ := s.opt.Centres.ByCode(seed.UnitCode)
		c.Name = cur.Name
	}
	const msg = "Thông tin trung tâm không hợp lệ."
	if fields := ValidateCentre(c); len(fields) > 0 {
		return CentreCorrection{}, invalid(msg, fields...)
	}
	// Store the text as the assistant will say it, and make sure the correction applies to the seed.
	fixed, err := s.opt.Centres.Seed().Corrected([]knowledge.Centre{c.Fix()})
	if err != nil {
		return CentreCorrection{}, invalid(msg, FieldReason{"", "Dữ liệu trung tâm không được chấp nhận: " + err.Error()})
	}
	x, _ := fixed.ByCode(seed.UnitCode)
	c.Name, c.Address, c.Phone, c.Hours, c.Note = x.Name, x.Address, x.Phone, x.Hours, knowledge.Normalize(strings.TrimSpace(c.Note))
	saved, err := s.opt.Repo.SaveCentreCorrection(ctx, c, base)
	if errors.Is(err, ErrConflict) {
		return CentreCorrection{}, s.centreConflict(ctx, seed)
	} else if err != nil {
		return CentreCorrection{}, err
	}
	s.record(ctx, a.Name(), "centre_correct", seed.UnitCode, map[string]any{"version": saved.Version,
		"changed": changedCentreFields(seed, saved)})
	if err := s.ReloadCentres(ctx); err != nil {
		return CentreCorrection{}, err
	}
	return saved, nil
}

// changedCentreFields names the fields of a correction that differ from the seed, for the audit log.
func changedCentreFields(seed knowledge.Centre, c CentreCorrection) []string {
	out := []string{}
	for _, f := range []struct {
		name     string
		old, new string
	}{{"name", seed.Name, c.Name}, {"address", seed.Address, c.Address}, {"precision", seed.Precision, c.Precision},
		{"phone", seed.Phone, c.Phone}, {"hours", seed.Hours, c.Hours}} {
		if f.old != f.new {
			out = append(out, f.name)
		}
	}
	return out
}

func (s *Service) revertCentre(w http.ResponseWriter, r *http.Request, p *principal) {
	seed, ok := s.pathCentre(w, r)
	if !ok {
		return
	}
	base, e := queryBaseVersion(r)
	if e != nil {
		e.write(w)
		return
	}
	if err := s.RevertCentre(r.Context(), p.actor(), seed.UnitCode, base); err != nil {
		s.writeErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// RevertCentre removes the correction of unit's centre if its version is base, so that citizens are told the
// seed's again: ErrConflict when its version is not base, ErrNotFound when there is none; for publishers.
func (s *Service) RevertCentre(ctx context.Context, a Actor, unit string, base int) error {
	if err := a.may(RolePublisher); err != nil {
		return err
	}
	seed, err := s.seedCentre(unit)
	if err != nil {
		return err
	}
	err = s.opt.Repo.DeleteCentreCorrection(ctx, seed.UnitCode, base)
	switch {
	case errors.Is(err, ErrConflict):
		return s.centreConflict(ctx, seed)
	case errors.Is(err, knowledge.ErrNotFound):
		return notFound("Trung tâm này chưa được cán bộ sửa: đang dùng dữ liệu gốc.")
	case err != nil:
		return err
	}
	s.record(ctx, a.Name(), "centre_revert", seed.UnitCode, map[string]any{"version": base})
	return s.ReloadCentres(ctx)
}
