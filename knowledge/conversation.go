package knowledge

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Limits of conversations.
const (
	MaxConversationID   = 128  // bytes
	MaxStoredMessages   = 1000 // per conversation; older messages are dropped first
	MaxMessageRunes     = 4000 // a stored message (answers are at most 2,000 characters)
	MaxConversationList = 1000
)

// Role says who wrote a message.
type Role string

// Roles of a message.
const (
	RoleUser      Role = "user"      // the citizen
	RoleAssistant Role = "assistant" // the assistant's answer
)

// Message is one stored message of a conversation.
type Message struct {
	ID       int64     `json:"id"`   // assigned by the store, increasing within a conversation
	Role     Role      `json:"role"` // RoleUser or RoleAssistant
	Text     string    `json:"text"`
	Codes    []string  `json:"codes,omitempty"` // procedures cited (assistant messages)
	At       time.Time `json:"at"`
	Feedback int       `json:"feedback,omitempty"` // +1 / -1 given to an assistant message
	// FeedbackReason is why the citizen found the answer unhelpful (one of FeedbackReasons), with Feedback -1.
	FeedbackReason string `json:"feedback_reason,omitempty"`
	Abstain        bool   `json:"abstain,omitempty"` // the assistant could not answer
	Channel        string `json:"channel,omitempty"` // "web", "zalo", "cli", …
	// Confidence is the assistant's estimate that the procedure it named first is right (its decision
	// policy's probability); 0 when no retrieval was made (a follow-up, a greeting).
	Confidence float64 `json:"confidence,omitempty"`
}

// DialogueState is what the assistant remembers of a conversation between messages.
type DialogueState struct {
	Focus   string   `json:"focus,omitempty"`   // procedure code in focus
	Pending []string `json:"pending,omitempty"` // codes offered by a clarifying question, awaiting a choice
	Query   string   `json:"query,omitempty"`   // the last question that named a procedure
	// Ward is the current commune(s) the citizen last said they are in, by code, space-separated (an old ward
	// split at the reform leads to several), so that "nộp ở đâu" later names its centre.
	Ward  string `json:"ward,omitempty"`
	Turns int    `json:"turns"`
}

// Conversation is a whole stored conversation, as exported.
type Conversation struct {
	ID       string        `json:"id"`
	State    DialogueState `json:"state"`
	Messages []Message     `json:"messages"`
	Updated  time.Time     `json:"updated"`
}

// Conversations persists dialogue state and messages. Implementations: knowledge/embedded, knowledge/postgres,
// and an in-memory one in knowledge/memconv; all apply the rules of convrules.go (CheckAppend, StoredNow, …) and pass
// knowledge/convtest. IDs longer than MaxConversationID are ErrInvalid.
type Conversations interface {
	// Load returns the conversation (zero State and no messages, no error, for an unknown id).
	Load(ctx context.Context, id string) (Conversation, error)
	// Append stores the new state and appends msgs (assigning their IDs) atomically.
	Append(ctx context.Context, id string, st DialogueState, msgs ...Message) ([]Message, error)
	// Feedback records +1/-1 on an assistant message; ErrNotFound if there is no such message.
	Feedback(ctx context.Context, id string, messageID int64, value int) error
	// Delete removes a conversation entirely (a citizen's request); no error if absent.
	Delete(ctx context.Context, id string) error
	// Purge deletes conversations not updated since before; it returns how many.
	Purge(ctx context.Context, before time.Time) (int, error)
}

// Reasons a citizen may give with a 👎 (Message.FeedbackReason), as the widget's chips name them.
const (
	ReasonWrongProcedure = "wrong_procedure" // sai thủ tục
	ReasonMissingPapers  = "missing_papers"  // thiếu giấy tờ
	ReasonWrongFee       = "wrong_fee"       // sai phí
	ReasonUnclear        = "unclear"         // khó hiểu
	ReasonOther          = "other"           // khác
)

// FeedbackReasons lists every valid feedback reason.
var FeedbackReasons = []string{ReasonWrongProcedure, ReasonMissingPapers, ReasonWrongFee, ReasonUnclear, ReasonOther}

// IsFeedbackReason reports whether s is one of FeedbackReasons.
func IsFeedbackReason(s string) bool {
	for _, r := range FeedbackReasons {
		if s == r {
			return true
		}
	}
	return false
}

// ReasonedFeedback is an optional capability of a Conversations store (every store in this repository has
// it): FeedbackReason records value with the reason of a 👎 (one of FeedbackReasons; only with value -1;
// "" for none). Feedback is FeedbackReason without a reason, so a new 👍 clears an earlier reason. Errors as
// Feedback's, and ErrInvalid for an unknown reason or a reason with +1.
type ReasonedFeedback interface {
	FeedbackReason(ctx context.Context, id string, messageID int64, value int, reason string) error
}

// MaxFlagged is the most flagged messages one FlagLister call returns.
const MaxFlagged = 20_000

// Flagged is an assistant message that staff should look at, with the user's question it answered.
type Flagged struct {
	ConversationID string
	Question       string  // the user message just before the answer; "" when it is no longer kept
	Answer         Message // the assistant message
}

// FlagFilter selects flagged messages: assistant messages at or after Since that abstained, got feedback -1,
// or have a Confidence above 0 and below Below.
type FlagFilter struct {
	Since time.Time
	Below float64
	Limit int // the newest Limit messages; 0 or more than MaxFlagged means MaxFlagged
}

// IsFlagged reports whether assistant message m matches f (times aside).
func (f FlagFilter) IsFlagged(m Message) bool {
	if m.Role != RoleAssistant {
		return false
	}
	return m.Abstain || m.Feedback < 0 || (m.Confidence > 0 && m.Confidence < f.Below)
}

// Cap is the effective limit of f.
func (f FlagFilter) Cap() int {
	if f.Limit <= 0 || f.Limit > MaxFlagged {
		return MaxFlagged
	}
	return f.Limit
}

// Collect appends to out the messages of conversation id (oldest first) that f flags, times included, each
// with the user message before it.
func (f FlagFilter) Collect(out []Flagged, id string, msgs []Message) []Flagged {
	question := ""
	for _, m := range msgs {
		if m.Role == RoleUser {
			question = m.Text
			continue
		}
		if f.IsFlagged(m) && !m.At.Before(f.Since) {
			out = append(out, Flagged{ConversationID: id, Question: question, Answer: m.Clone()})
		}
		question = ""
	}
	return out
}

// Sort orders flagged messages newest first (then by conversation and message ID) and applies f's limit.
func (f FlagFilter) Sort(fs []Flagged) []Flagged {
	slices.SortFunc(fs, func(a, b Flagged) int {
		if c := b.Answer.At.Compare(a.Answer.At); c != 0 {
			return c
		}
		if a.ConversationID != b.ConversationID {
			return strings.Compare(a.ConversationID, b.ConversationID)
		}
		return int(a.Answer.ID - b.Answer.ID)
	})
	if n := f.Cap(); len(fs) > n {
		fs = fs[:n]
	}
	return fs
}

// FlagLister is an optional capability of a Conversations store (every store in this repository has it): it
// lists flagged assistant messages, newest first, for the staff feedback queue.
type FlagLister interface {
	Flagged(ctx context.Context, f FlagFilter) ([]Flagged, error)
}
