package staff

import (
	"context"
	"errors"
	"net/http"
	"unicode/utf8"

	"github.com/trolyao/trolyao/internal/apierr"
)

// The staff use cases are methods of Service with a Go API: Publish, Unpublish, Restore, SaveDraft,
// DiscardDraft, StartImport, ApplyImport, LinkAlias, AddSynonym, DeleteSynonym, CorrectCentre, RevertCentre,
// SetStarters, ResetStarters, CreateUser and UpdateUser. Each takes a context, the Actor and typed arguments,
// writes the audit entry and counts the action (Options.Registerer) as the JSON API does, and refuses with an
// *Error of one of the kinds ErrNotFound, ErrConflict, ErrForbidden and ErrInvalid; any other error comes from
// the lower layers. The JSON API's handlers decode a request, check its limits, call the use case and answer
// its error with writeErr.

// More errors of the use cases (see Error).
var (
	ErrForbidden = errors.New("forbidden")
	ErrInvalid   = errors.New("invalid")
)

// Error is a use case's refusal: its Kind (ErrNotFound, ErrConflict, ErrForbidden or ErrInvalid; errors.Is
// matches it), and what to tell staff.
type Error struct {
	Kind    error
	Message string        // in Vietnamese; "" for the shared message of the kind
	Fields  []FieldReason // ErrInvalid: what is wrong with each field
	// Current is, for ErrConflict, what is stored now (the page shows it to the member of staff, who saves
	// again from it); nil otherwise.
	Current any
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "staff: " + e.Kind.Error()
	}
	return "staff: " + e.Kind.Error() + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Kind }

func notFound(message string) *Error { return &Error{Kind: ErrNotFound, Message: message} }

func invalid(message string, fields ...FieldReason) *Error {
	return &Error{Kind: ErrInvalid, Message: message, Fields: fields}
}

// conflict is ErrConflict with message and what is stored now as current reads it; an error reading it is
// returned instead.
func conflict(ctx context.Context, message string, current func(context.Context) (any, error)) error {
	cur, err := current(ctx)
	if err != nil {
		return err
	}
	return &Error{Kind: ErrConflict, Message: message, Current: cur}
}

// Actor is who acts through a use case: an account (Username) or an API token (Token, its name), with the
// role it acts with.
type Actor struct {
	Username string
	Token    string
	Role     Role
}

// Name is the name the audit log and the history record: the username, or "token:" and the token's name.
func (a Actor) Name() string {
	if a.Token != "" {
		return "token:" + a.Token
	}
	return a.Username
}

const msgForbidden = "Tài khoản của bạn không có quyền thực hiện thao tác này."

// may refuses with ErrForbidden an actor whose role does not include need.
func (a Actor) may(need Role) error {
	if !a.Role.Allows(need) {
		return &Error{Kind: ErrForbidden, Message: msgForbidden}
	}
	return nil
}

// actor is the Actor of a request.
func (p *principal) actor() Actor {
	a := Actor{Username: p.Username, Role: p.Role}
	if p.Token != nil {
		a.Token = p.Token.Name
	}
	return a
}

// writeErr answers err: a use case's *Error with its kind's status and code (404 not_found, 409 conflict with
// what is stored now, 403 forbidden, 422 invalid with the fields) and its message; any other error as fail
// does.
func (s *Service) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		s.fail(w, r, err)
		return
	}
	a := &apiErr{message: e.Message, fields: e.Fields, current: e.Current}
	switch {
	case errors.Is(e.Kind, ErrNotFound):
		a.status, a.code = http.StatusNotFound, "not_found"
		if a.message == "" {
			a.message = apierr.NotFound.Message
		}
	case errors.Is(e.Kind, ErrConflict), errors.Is(e.Kind, ErrExists):
		a.status, a.code = http.StatusConflict, "conflict"
	case errors.Is(e.Kind, ErrForbidden):
		a.status, a.code = http.StatusForbidden, "forbidden"
	case errors.Is(e.Kind, ErrInvalid):
		a.status, a.code = http.StatusUnprocessableEntity, "invalid"
	default:
		s.fail(w, r, err)
		return
	}
	a.write(w)
}

// noteReason says, in Vietnamese, what is wrong with a note of the history ("" when nothing).
func noteReason(note string) string {
	if utf8.RuneCountInString(note) > MaxNoteRunes || !utf8.ValidString(note) {
		return "Ghi chú dài quá 1.000 ký tự."
	}
	return ""
}

// checkNote refuses a note of the history that noteReason refuses.
func checkNote(note string) error {
	if msg := noteReason(note); msg != "" {
		return invalid(msg, FieldReason{"note", msg})
	}
	return nil
}
