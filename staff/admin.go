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

const msgInvalidData = "Dữ liệu không hợp lệ."

var roleReason = FieldReason{"role", "Vai trò phải là viewer, editor, publisher hoặc admin."}

// NewUser is an account to create (CreateUser), with its password in clear: it is hashed before it is stored.
type NewUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Role     Role   `json:"role"`
	Unit     string `json:"unit"`
}

// UserChange is what UpdateUser changes of an account: the fields that are not nil.
type UserChange struct {
	Role     *Role   `json:"role"`
	Password *string `json:"password"` // in clear
	Disabled *bool   `json:"disabled"`
	Unit     *string `json:"unit"`
}

func (s *Service) createUser(w http.ResponseWriter, r *http.Request, p *principal) {
	var req NewUser
	if e := decode(w, r, &req); e != nil {
		e.write(w)
		return
	}
	u, err := s.CreateUser(r.Context(), p.actor(), req)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

// CreateUser creates a staff account and returns it. ErrInvalid when its username, password, role or unit is
// not valid, ErrConflict when the username is taken; for admins.
func (s *Service) CreateUser(ctx context.Context, a Actor, nu NewUser) (User, error) {
	if err := a.may(RoleAdmin); err != nil {
		return User{}, err
	}
	var fields []FieldReason
	if !usernamePattern.MatchString(nu.Username) {
		fields = append(fields, FieldReason{"username", "Tên đăng nhập gồm 3–64 ký tự a-z, 0-9, dấu chấm, gạch dưới, gạch ngang."})
	}
	if msg := checkNewPassword(nu.Password); msg != "" {
		fields = append(fields, FieldReason{"password", msg})
	}
	if !nu.Role.Valid() {
		fields = append(fields, roleReason)
	}
	unit, err := CleanUnit(nu.Unit)
	if err != nil {
		fields = append(fields, FieldReason{"unit", err.Error()})
	}
	if len(fields) > 0 {
		return User{}, invalid(msgInvalidData, fields...)
	}
	hash, err := HashPassword(nu.Password)
	if err != nil {
		return User{}, err
	}
	u := User{Username: nu.Username, Role: nu.Role, Password: hash, Unit: unit, CreatedAt: s.now()}
	if err := s.opt.Repo.CreateUser(ctx, u); errors.Is(err, ErrExists) {
		return User{}, &Error{Kind: ErrConflict, Message: "Tên đăng nhập đã tồn tại."}
	} else if err != nil {
		return User{}, err
	}
	details := map[string]any{"role": u.Role}
	if u.Unit != "" {
		details["unit"] = u.Unit
	}
	s.record(ctx, a.Name(), "user_create", u.Username, details)
	return u, nil
}

func (s *Service) updateUser(w http.ResponseWriter, r *http.Request, p *principal) {
	var req UserChange
	if e := decode(w, r, &req); e != nil {
		e.write(w)
		return
	}
	u, err := s.UpdateUser(r.Context(), p.actor(), r.PathValue("username"), req)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// UpdateUser changes an account and returns it. A changed password, role or account state ends the account's
// sessions; a new unit alone does not. ErrNotFound when there is no such account, ErrInvalid when a new role,
// password or unit is not valid; for admins.
func (s *Service) UpdateUser(ctx context.Context, a Actor, username string, ch UserChange) (User, error) {
	if err := a.may(RoleAdmin); err != nil {
		return User{}, err
	}
	u, err := s.opt.Repo.User(ctx, username)
	if errors.Is(err, knowledge.ErrNotFound) {
		return User{}, notFound("")
	} else if err != nil {
		return User{}, err
	}
	details, err := applyUserChange(&u, ch)
	if err != nil {
		return User{}, err
	}
	if err := s.opt.Repo.UpdateUser(ctx, u); err != nil {
		return User{}, err
	}
	if ch.Role != nil || ch.Password != nil || ch.Disabled != nil {
		if err := s.opt.Repo.DeleteSessions(ctx, u.Username); err != nil {
			return User{}, err
		}
	}
	s.record(ctx, a.Name(), "user_update", u.Username, details)
	return u, nil
}

// applyUserChange changes u as ch says, checking each new value, and returns the changes for the audit log.
func applyUserChange(u *User, ch UserChange) (map[string]any, error) {
	details := map[string]any{}
	if ch.Role != nil {
		if !ch.Role.Valid() {
			return nil, invalid(msgInvalidData, roleReason)
		}
		u.Role = *ch.Role
		details["role"] = u.Role
	}
	if ch.Password != nil {
		if msg := checkNewPassword(*ch.Password); msg != "" {
			return nil, invalid(msgInvalidData, FieldReason{"password", msg})
		}
		hash, err := HashPassword(*ch.Password)
		if err != nil {
			return nil, err
		}
		u.Password = hash
		details["password"] = "changed"
	}
	if ch.Disabled != nil {
		u.Disabled = *ch.Disabled
		details["disabled"] = u.Disabled
	}
	if ch.Unit != nil {
		unit, err := CleanUnit(*ch.Unit)
		if err != nil {
			return nil, invalid(msgInvalidData, FieldReason{"unit", err.Error()})
		}
		u.Unit = unit
		details["unit"] = u.Unit
	}
	return details, nil
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
		s.writeErr(w, r, invalid(msgInvalidData, roleReason))
		return
	}
	if req.ExpiresAt != nil {
		x := req.ExpiresAt.UTC().Truncate(time.Microsecond)
		req.ExpiresAt = &x
	}
	secret, t, err := AddToken(r.Context(), s.opt.Repo, req.Name, req.Role, req.ExpiresAt, p.Actor(), s.now())
	if err != nil {
		if t.ID == 0 {
			s.writeErr(w, r, invalid(msgInvalidData, FieldReason{"name", "Tên mã truy cập gồm 1–100 ký tự."}))
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
