package staff

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// Starter questions: the chat widget offers a few questions as buttons when a conversation starts (the most
// asked procedures). The operator configures them at start (-widget-starters), else questions about the
// procedures most asked recently apply, else built-in ones; staff set their own here, which the widget offers
// at once and in every process sharing the staff data, until they reset them to the default.

// Limits of the starter questions, the chat widget's (widget.MaxStarters, widget.MaxStarter).
const (
	MaxStarters     = 8
	MaxStarterRunes = 100
)

// StarterTarget is where the starter questions staff set take effect (a *widget.LiveStarters): SetStaff hands
// over staff's questions (nil when staff set none: the default applies), Default says what the widget offers
// when staff set none (the operator's questions, the most asked or the built-in ones).
type StarterTarget interface {
	SetStaff(questions []string) error
	Default() []string
}

// ReloadStarters reads staff's starter questions from the Repo and hands them to Options.Starters.
func (s *Service) ReloadStarters(ctx context.Context) error {
	if s.starters == nil {
		return nil
	}
	s.startMu.Lock()
	defer s.startMu.Unlock()
	var qs []string
	st, err := s.starters.Starters(ctx)
	switch {
	case err == nil:
		qs = st.Questions
	case !errors.Is(err, knowledge.ErrNotFound):
		return fmt.Errorf("staff: reload starter questions: %w", err)
	}
	if err := s.opt.Starters.SetStaff(qs); err != nil {
		s.log.Warn("staff: the starter questions were not applied", "err", err)
	}
	return nil
}

// startersView is the starter questions as staff see them: what the widget offers now, what it offers when
// staff set none, and staff's setting if any.
type startersView struct {
	Questions []string  `json:"questions"`
	Default   []string  `json:"default"`
	Setting   *Starters `json:"setting"`
}

func (s *Service) startersView(set *Starters) startersView {
	v := startersView{Questions: s.opt.Starters.Default(), Default: s.opt.Starters.Default(), Setting: set}
	if set != nil {
		v.Questions = set.Questions
	}
	return v
}

// currentStarters reads staff's setting, nil when there is none.
func (s *Service) currentStarters(ctx context.Context) (startersView, error) {
	st, err := s.starters.Starters(ctx)
	switch {
	case err == nil:
		return s.startersView(&st), nil
	case errors.Is(err, knowledge.ErrNotFound):
		return s.startersView(nil), nil
	}
	return startersView{}, err
}

// startersAvailable answers 404 when this server has no starter questions to set.
// errNoStarters is the refusal of a server that has no starter questions to set.
var errNoStarters = notFound("Máy chủ này không có khung trò chuyện để đặt câu hỏi gợi ý.")

// startersAvailable answers 404 when this server has no starter questions to set.
func (s *Service) startersAvailable(w http.ResponseWriter, r *http.Request) bool {
	if s.starters == nil {
		s.writeErr(w, r, errNoStarters)
		return false
	}
	return true
}

func (s *Service) getStarters(w http.ResponseWriter, r *http.Request, _ *principal) {
	if !s.startersAvailable(w, r) {
		return
	}
	v, err := s.currentStarters(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// ValidateStarters checks the starter questions staff set (each trimmed of spaces) and says in Vietnamese what
// is wrong with the list and with each question.
func ValidateStarters(qs []string) []FieldReason {
	var out []FieldReason
	add := func(r string) { out = append(out, FieldReason{"questions", r}) }
	switch {
	case len(qs) == 0:
		add("Cần ít nhất một câu hỏi gợi ý. Muốn dùng lại các câu hỏi mặc định, hãy bấm «Dùng câu hỏi mặc định».")
	case len(qs) > MaxStarters:
		add(fmt.Sprintf("Tối đa %d câu hỏi gợi ý (đang có %d).", MaxStarters, len(qs)))
	}
	seen := map[string]int{}
	for i, q := range qs {
		n := i + 1
		switch {
		case plainText(q) != "":
			add(fmt.Sprintf("Câu %d: %s", n, plainText(q)))
		case q == "":
			add(fmt.Sprintf("Câu %d đang để trống: hãy nhập câu hỏi hoặc xóa dòng này.", n))
		case utf8.RuneCountInString(q) > MaxStarterRunes:
			add(fmt.Sprintf("Câu %d dài quá %d ký tự.", n, MaxStarterRunes))
		default:
			k := knowledge.Fold(q)
			if prev, dup := seen[k]; dup {
				add(fmt.Sprintf("Câu %d trùng với câu %d.", n, prev))
			} else {
				seen[k] = n
			}
		}
	}
	return out
}

// startersConflict is ErrConflict for starter questions set or reset from a stale version, with the setting as
// it is now.
func (s *Service) startersConflict(ctx context.Context) error {
	return conflict(ctx, "Câu hỏi gợi ý vừa được người khác sửa. Hãy xem bản hiện tại rồi sửa lại.",
		func(ctx context.Context) (any, error) { return s.currentStarters(ctx) })
}

func (s *Service) setStarters(w http.ResponseWriter, r *http.Request, p *principal) {
	if !s.startersAvailable(w, r) {
		return
	}
	var req struct {
		Base      *int     `json:"base_version"`
		Questions []string `json:"questions"`
	}
	base, ok := decodeVersioned(w, r, &req, &req.Base)
	if !ok {
		return
	}
	saved, err := s.SetStarters(r.Context(), p.actor(), req.Questions, base)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.startersView(&saved))
}

// SetStarters stores questions (trimmed of spaces, in normal form) as the next version of the chat widget's
// starter questions if the current version is base (0: staff set none), applies them at once
// (Options.Starters) and returns them as stored. ErrNotFound when this server has no starter questions to set,
// ErrInvalid when they are not valid (ValidateStarters), ErrConflict when the version is not base; for
// publishers.
func (s *Service) SetStarters(ctx context.Context, a Actor, questions []string, base int) (Starters, error) {
	if err := a.may(RolePublisher); err != nil {
		return Starters{}, err
	}
	if s.starters == nil {
		return Starters{}, errNoStarters
	}
	qs := make([]string, len(questions))
	for i, q := range questions {
		qs[i] = strings.TrimSpace(q)
	}
	if fields := ValidateStarters(qs); len(fields) > 0 {
		return Starters{}, invalid("Câu hỏi gợi ý không hợp lệ.", fields...)
	}
	for i, q := range qs { // stored in the normal form the assistant reads
		qs[i] = knowledge.Normalize(q)
	}
	saved, err := s.starters.SaveStarters(ctx, Starters{Questions: qs, By: a.Name(), At: s.now()}, base)
	if errors.Is(err, ErrConflict) {
		return Starters{}, s.startersConflict(ctx)
	} else if err != nil {
		return Starters{}, err
	}
	s.record(ctx, a.Name(), "starters_set", "", map[string]any{"version": saved.Version, "questions": saved.Questions})
	if err := s.ReloadStarters(ctx); err != nil {
		return Starters{}, err
	}
	return saved, nil
}

func (s *Service) resetStarters(w http.ResponseWriter, r *http.Request, p *principal) {
	if !s.startersAvailable(w, r) {
		return
	}
	base, e := queryBaseVersion(r)
	if e != nil {
		e.write(w)
		return
	}
	if err := s.ResetStarters(r.Context(), p.actor(), base); err != nil {
		s.writeErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ResetStarters removes staff's starter questions if their version is base, so that the widget offers the
// default ones again: ErrConflict when their version is not base, ErrNotFound when staff set none (or this
// server has no starter questions to set); for publishers.
func (s *Service) ResetStarters(ctx context.Context, a Actor, base int) error {
	if err := a.may(RolePublisher); err != nil {
		return err
	}
	if s.starters == nil {
		return errNoStarters
	}
	err := s.starters.DeleteStarters(ctx, base)
	switch {
	case errors.Is(err, ErrConflict):
		return s.startersConflict(ctx)
	case errors.Is(err, knowledge.ErrNotFound):
		return notFound("Cán bộ chưa đặt câu hỏi gợi ý: khung trò chuyện đang dùng câu hỏi mặc định.")
	case err != nil:
		return err
	}
	s.record(ctx, a.Name(), "starters_reset", "", map[string]any{"version": base})
	return s.ReloadStarters(ctx)
}
