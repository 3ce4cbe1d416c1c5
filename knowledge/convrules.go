package knowledge

// The rules every conversation store applies (memconv, embedded and postgres; knowledge/convtest holds all of
// them to the same answers), kept here so the stores cannot drift.

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// StoredNow is the time a conversation store records: UTC, to the microsecond (what PostgreSQL keeps), so that
// every store returns the same times.
func StoredNow() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// StoredAt is the stored time of a message given at: now (StoredNow) when at is zero.
func StoredAt(at, now time.Time) time.Time {
	if at.IsZero() {
		return now
	}
	return at.UTC().Truncate(time.Microsecond)
}

// Clone returns a copy of m that shares no slice with it; empty Codes become nil, as every store returns them.
func (m Message) Clone() Message {
	m.Codes = cloneStrings(m.Codes)
	return m
}

// Clone returns a copy of st that shares no slice with it; an empty Pending becomes nil.
func (st DialogueState) Clone() DialogueState {
	st.Pending = cloneStrings(st.Pending)
	return st
}

func cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// CheckConversationID says why id cannot name a conversation (an error wrapping ErrInvalid): it must be
// non-empty, at most MaxConversationID bytes, valid UTF-8 and free of NUL.
func CheckConversationID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty conversation id", ErrInvalid)
	case len(id) > MaxConversationID:
		return fmt.Errorf("%w: conversation id of %d bytes, the limit is %d", ErrInvalid, len(id), MaxConversationID)
	case !validText(id):
		return fmt.Errorf("%w: conversation id is not valid UTF-8 text", ErrInvalid)
	}
	return nil
}

// CheckFeedback checks the arguments of Conversations.Feedback and ReasonedFeedback.FeedbackReason: a valid id,
// a value of +1 or -1, and a reason that is empty or one of FeedbackReasons, given with -1 only.
func CheckFeedback(id string, value int, reason string) error {
	if err := CheckConversationID(id); err != nil {
		return err
	}
	if value != 1 && value != -1 {
		return fmt.Errorf("%w: feedback %d, want +1 or -1", ErrInvalid, value)
	}
	return checkReason(value, reason)
}

func checkReason(value int, reason string) error {
	if reason == "" {
		return nil
	}
	if !IsFeedbackReason(reason) {
		return fmt.Errorf("%w: feedback reason %q, want one of %v", ErrInvalid, reason, FeedbackReasons)
	}
	if value != -1 {
		return fmt.Errorf("%w: feedback reason %q with feedback %d, want -1", ErrInvalid, reason, value)
	}
	return nil
}

// CheckAppend checks the arguments of Conversations.Append: a valid id; text (state, message text, codes, channel) valid
// UTF-8 without NUL, which PostgreSQL text cannot hold; roles "user" or "assistant"; message text of at most
// MaxMessageRunes characters; feedback in {-1, 0, 1} and only on assistant messages.
func CheckAppend(id string, st DialogueState, msgs []Message) error {
	if err := CheckConversationID(id); err != nil {
		return err
	}
	if !validText(st.Focus) || !validText(st.Query) || !validText(st.Ward) || !all(st.Pending, validText) {
		return fmt.Errorf("%w: dialogue state holds text that is not valid UTF-8", ErrInvalid)
	}
	for i, m := range msgs {
		switch {
		case m.Role != RoleUser && m.Role != RoleAssistant:
			return fmt.Errorf("%w: message %d: role %q, want %q or %q", ErrInvalid, i, m.Role, RoleUser, RoleAssistant)
		case !validText(m.Text) || !validText(m.Channel) || !all(m.Codes, validText):
			return fmt.Errorf("%w: message %d holds text that is not valid UTF-8", ErrInvalid, i)
		case utf8.RuneCountInString(m.Text) > MaxMessageRunes:
			return fmt.Errorf("%w: message %d has %d characters, the limit is %d", ErrInvalid, i,
				utf8.RuneCountInString(m.Text), MaxMessageRunes)
		case m.Feedback < -1 || m.Feedback > 1 || (m.Feedback != 0 && m.Role != RoleAssistant):
			return fmt.Errorf("%w: message %d: feedback %d on a %s message", ErrInvalid, i, m.Feedback, m.Role)
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
