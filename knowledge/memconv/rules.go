package memconv

// The rules every conversation store applies (knowledge/embedded and knowledge/postgres call them too, and
// knowledge/convtest holds all of them to the same answers), kept in one place so the stores cannot drift.

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// Roles of a message.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Now is the time a store records: UTC, to the microsecond (what PostgreSQL keeps), so that every store
// returns the same times.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Stamp is the stored time of a message given at: now when at is zero.
func Stamp(at, now time.Time) time.Time {
	if at.IsZero() {
		return now
	}
	return at.UTC().Truncate(time.Microsecond)
}

// CloneStrings copies s; empty becomes nil, as every store returns it.
func CloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// CheckID says why id cannot name a conversation (an error wrapping knowledge.ErrInvalid): it must be
// non-empty, at most knowledge.MaxConversationID bytes, valid UTF-8 and free of NUL.

func CheckID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty conversation id", knowledge.ErrInvalid)
	case len(id) > knowledge.MaxConversationID:
		return fmt.Errorf("%w: conversation id of %d bytes, the limit is %d", knowledge.ErrInvalid, len(id), knowledge.MaxConversationID)
	case !validText(id):
		return fmt.Errorf("%w: conversation id is not valid UTF-8 text", knowledge.ErrInvalid)
	}
	return nil
}

// CheckFeedback checks the arguments of Feedback: a valid id and a value of +1 or -1.
func CheckFeedback(id string, value int) error {
	return CheckFeedbackReason(id, value, "")
}

// CheckFeedbackReason checks the arguments of FeedbackReason: those of Feedback, and a reason that is empty or
// one of knowledge.FeedbackReasons, given with -1 only.
func CheckFeedbackReason(id string, value int, reason string) error {
	if err := CheckID(id); err != nil {
		return err
	}
	if value != 1 && value != -1 {
		return fmt.Errorf("%w: feedback %d, want +1 or -1", knowledge.ErrInvalid, value)
	}
	return checkReason(value, reason)
}

func checkReason(value int, reason string) error {
	if reason == "" {
		return nil
	}
	if !knowledge.IsFeedbackReason(reason) {
		return fmt.Errorf("%w: feedback reason %q, want one of %v", knowledge.ErrInvalid, reason, knowledge.FeedbackReasons)
	}
	if value != -1 {
		return fmt.Errorf("%w: feedback reason %q with feedback %d, want -1", knowledge.ErrInvalid, reason, value)
	}
	return nil
}

// CheckAppend checks the arguments of Append: a valid id; text (state, message text, codes, channel) valid
// UTF-8 without NUL, which PostgreSQL text cannot hold; roles "user" or "assistant"; message text of at most
// knowledge.MaxMessageRunes characters; feedback in {-1, 0, 1} and only on assistant messages.
func CheckAppend(id string, st knowledge.DialogueState, msgs []knowledge.Message) error {
	if err := CheckID(id); err != nil {
		return err
	}
	if !validText(st.Focus) || !validText(st.Query) || !validText(st.Ward) || !all(st.Pending, validText) {
		return fmt.Errorf("%w: dialogue state holds text that is not valid UTF-8", knowledge.ErrInvalid)
	}
	for i, m := range msgs {
		switch {
		case m.Role != RoleUser && m.Role != RoleAssistant:
			return fmt.Errorf("%w: message %d: role %q, want %q or %q", knowledge.ErrInvalid, i, m.Role, RoleUser, RoleAssistant)
		case !validText(m.Text) || !validText(m.Channel) || !all(m.Codes, validText):
			return fmt.Errorf("%w: message %d holds text that is not valid UTF-8", knowledge.ErrInvalid, i)
		case utf8.RuneCountInString(m.Text) > knowledge.MaxMessageRunes:
			return fmt.Errorf("%w: message %d has %d characters, the limit is %d", knowledge.ErrInvalid, i,
				utf8.RuneCountInString(m.Text), knowledge.MaxMessageRunes)
		case m.Feedback < -1 || m.Feedback > 1 || (m.Feedback != 0 && m.Role != RoleAssistant):
			return fmt.Errorf("%w: message %d: feedback %d on a %s message", knowledge.ErrInvalid, i, m.Feedback, m.Role)
		}
		if err := checkReason(m.Feedback, m.FeedbackReason); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	return nil
}

func validText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func all(ss []string, ok func(string) bool) bool {
	for _, s := range ss {
		if !ok(s) {
			return false
		}
	}
	return true
}
