package staff

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

func (s *Service) listUsers(w http.ResponseWriter, r *http.Request, _ *principal) {
	us, err := s.opt.Repo.Users(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if us == nil {
		us = []User{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": us})
}

func invalidRole() *apiErr {
	return &apiErr{status: http.StatusUnprocessableEntity, code: "invalid", message: "Dữ liệu không hợp lệ.",
		fields: []FieldReason{{"role", "Vai trò phải là viewer, editor, publisher hoặc admin."}}}
}

func (s *Service) createUser(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Role     Role   `json:"role"`
		Unit     string `json:"unit"`
	}
	if e := decode(w, r, &req); e != nil {
		e.write(w)
		return
	}
	var fields []FieldReason
	if !usernamePattern.MatchString(req.Username) {
		fields = append(fields, FieldReason{"username", "Tên đăng nhập gồm 3–64 ký tự a-z, 0-9, dấu chấm, gạch dưới, gạch ngang."})
	}
	if msg := checkNewPassword(req.Password); msg != "" {
		fields = append(fields, FieldReason{"password", msg})
	}
	if !req.Role.Valid() {
		fields = append(fields, invalidRole().fields...)
	}
	unit, err := CleanUnit(req.Unit)
	if err != nil {
		fields = append(fields, FieldReason{"unit", err.Error()})
	}
	if len(fields) > 0 {
		(&apiErr{status: http.StatusUnprocessableEntity, code: "invalid", message: "Dữ liệu không hợp lệ.", fields: fields}).write(w)
		return
	}
	hash, err := HashPassword(req.Password)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u := User{Username: req.Username, Role: req.Role, Password: hash, Unit: unit, CreatedAt: s.now()}
	if err := s.opt.Repo.CreateUser(r.Context(), u); err != nil {
		if errors.Is(err, ErrExists) {
			writeError(w, http.StatusConflict, "conflict", "Tên đăng nhập đã tồn tại.")
			return
		}
		s.fail(w, r, err)
		return
	}
	details := map[string]any{"role": u.Role}
	if u.Unit != "" {
		details["unit"] = u.Unit
	}
	s.record(r.Context(), p.Actor(), "user_create", u.Username, details)
	writeJSON(w, http.StatusCreated, u)
}

func (s *Service) updateUser(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		Role     *Role   `json:"role"`
		Password *string `json:"password"`
		Disabled *bool   `json:"disabled"`
		Unit     *string `json:"unit"`
	}
	if e := decode(w, r, &req); e != nil {
		e.write(w)
		return
	}
	ctx := r.Context()
	u, err := s.opt.Repo.User(ctx, r.PathValue("username"))
	if errors.Is(err, knowledge.ErrNotFound) {
		errNotFound.write(w)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	details := map[string]any{}
	if req.Role != nil {
		if !req.Role.Valid() {
			invalidRole().write(w)
			return
		}
		u.Role = *req.Role
		details["role"] = u.Role
	}
	if req.Password != nil {
		if msg := checkNewPassword(*req.Password); msg != "" {
			(&apiErr{status: http.StatusUnprocessableEntity, code: "invalid", message: "Dữ liệu không hợp lệ.",
				fields: []FieldReason{{"password", msg}}}).write(w)
			return
		}
		if u.Password, err = HashPassword(*req.Password); err != nil {
			s.fail(w, r, err)
			return
		}
		details["password"] = "changed"
	}
	if req.Disabled != nil {
		u.Disabled = *req.Disabled
		details["disabled"] = u.Disabled
	}
	if req.Unit != nil {
		unit, err := CleanUnit(*req.Unit)
		if err != nil {
			(&apiErr{status: http.StatusUnprocessableEntity, code: "invalid", message: "Dữ liệu không hợp lệ.",
				fields: []FieldReason{{"unit", err.Error()}}}).write(w)
			return
		}
		u.Unit = unit
		details["unit"] = u.Unit
	}
	if err := s.opt.Repo.UpdateUser(ctx, u); err != nil {
		s.fail(w, r, err)
		return
	}
	// A changed password, role or account state ends the user's sessions; a new unit alone does not.
	if req.Role != nil || req.Password != nil || req.Disabled != nil {
		if err := s.opt.Repo.DeleteSessions(ctx, u.Username); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.record(ctx, p.Actor(), "user_update", u.Username, details)
	writeJSON(w, http.StatusOK, u)
}

func (s *Service) listTokens(w http.ResponseWriter, r *http.Request, _ *principal) {
	ts, err := s.opt.Repo.Tokens(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ts == nil {
		ts = []Token{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ts})
}

func (s *Service) createToken(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		Name      string     `json:"name"`
		Role      Role       `json:"role"`
		ExpiresAt *time.Time `json:"expires_at"`
	}
	if e := decode(w, r, &req); e != nil {
		e.write(w)
		return
	}
	if !req.Role.Valid() {
		invalidRole().write(w)
		return
	}
	if req.ExpiresAt != nil {
		x := req.ExpiresAt.UTC().Truncate(time.Microsecond)
		req.ExpiresAt = &x
	}
	secret, t, err := AddToken(r.Context(), s.opt.Repo, req.Name, req.Role, req.ExpiresAt, p.Actor(), s.now())
	if err != nil {
		if t.ID == 0 {
			(&apiErr{status: http.StatusUnprocessableEntity, code: "invalid", message: "Dữ liệu không hợp lệ.",
				fields: []FieldReason{{"name", "Tên mã truy cập gồm 1–100 ký tự."}}}).write(w)
			return
		}
		s.log.Error("staff: audit append failed", "err", err)
	}
	s.metrics.actions.WithLabelValues("token_create").Inc() // AddToken wrote the audit entry
	writeJSON(w, http.StatusCreated, struct {
		Token
		Secret string `json:"token"`
	}{t, secret})
}

func (s *Service) deleteToken(w http.ResponseWriter, r *http.Request, p *principal) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		errNotFound.write(w)
		return
	}
	if err := s.opt.Repo.DeleteToken(r.Context(), id); errors.Is(err, knowledge.ErrNotFound) {
		errNotFound.write(w)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r.Context(), p.Actor(), "token_revoke", strconv.FormatInt(id, 10), nil)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) audit(w http.ResponseWriter, r *http.Request, _ *principal) {
	limit, e := queryInt(r, "limit", 100, 1, MaxListLimit)
	if e != nil {
		e.write(w)
		return
	}
	before, e := queryInt(r, "before", 0, 0, 1<<62)
	if e != nil {
		e.write(w)
		return
	}
	es, err := s.opt.Repo.Audit(r.Context(), int64(before), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if es == nil {
		es = []AuditEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": es})
}

// MaxUnitRunes is the longest unit name of an account (User.Unit).
const MaxUnitRunes = 120

// CleanUnit returns a unit name (User.Unit) on one line without extra spaces; the error says, in Vietnamese,
// why it cannot be one.
func CleanUnit(unit string) (string, error) {
	if !utf8.ValidString(unit) || strings.ContainsFunc(unit, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) {
		return "", errors.New("Tên đơn vị không hợp lệ (một dòng chữ, không có ký tự điều khiển).")
	}
	unit = strings.Join(strings.Fields(unit), " ")
	if utf8.RuneCountInString(unit) > MaxUnitRunes {
		return "", fmt.Errorf("Tên đơn vị dài quá %d ký tự.", MaxUnitRunes)
	}
	return unit, nil
}

// SetUnit sets the unit an account publishes for ("UBND phường Bàn Cờ"; "" for none), for a command such as
// `trolyao staff add-user -unit "UBND phường Bàn Cờ" …`. It writes an audit entry with actor "cli".
func SetUnit(ctx context.Context, repo UserAdmin, username, unit string, now time.Time) error {
	unit, err := CleanUnit(unit)
	if err != nil {
		return fmt.Errorf("staff: set unit: %w", err)
	}
	u, err := repo.User(ctx, username)
	if err != nil {
		return fmt.Errorf("staff: set unit: %w", err)
	}
	u.Unit = unit
	if err := repo.UpdateUser(ctx, u); err != nil {
		return fmt.Errorf("staff: set unit: %w", err)
	}
	_, err = repo.AppendAudit(ctx, AuditEntry{At: now.UTC(), Actor: "cli", Action: "user_update", Target: username,
		Details: mustJSON(map[string]any{"unit": unit})})
	return err
}
