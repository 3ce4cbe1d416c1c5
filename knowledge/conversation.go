package knowledge

import (
	"context"
	"time"
)

// Limits of conversations.
const (
	MaxConversationID   = 128  // bytes
	MaxStoredMessages   = 1000 // per conversation; older messages are dropped first
	MaxMessageRunes     = 4000 // a stored message (answers are at most 2,000 characters)
	MaxConversationList = 1000
)

// Message is one stored message of a conversation.
type Message struct {
	ID       int64     `json:"id"`   // assigned by the store, increasing within a conversation
	Role     string    `json:"role"` // "user" or "assistant"
	Text     string    `json:"text"`
	Codes    []string  `json:"codes,omitempty"` // procedures cited (assistant messages)
	At       time.Time `json:"at"`
	Feedback int       `json:"feedback,omitempty"` // +1 / -1 given to an assistant message
	Abstain  bool      `json:"abstain,omitempty"`  // the assistant could not answer
	Channel  string    `json:"channel,omitempty"`  // "web", "zalo", "cli", …
}

// DialogueState is what the assistant remembers of a conversation between messages.
type DialogueState struct {
	Focus   string   `json:"focus,omitempty"`   // procedure code in focus
	Pending []string `json:"pending,omitempty"` // codes offered by a clarifying question, awaiting a choice
	Query   string   `json:"query,omitempty"`   // the last question that named a procedure
	Turns   int      `json:"turns"`
}

// Conversation is a whole stored conversation, as exported.
type Conversation struct {
	ID       string        `json:"id"`
	State    DialogueState `json:"state"`
	Messages []Message     `json:"messages"`
	Updated  time.Time     `json:"updated"`
}

// Conversations persists dialogue state and messages. Implementations: knowledge/embedded, knowledge/postgres,
// and an in-memory one in knowledge/memconv. IDs longer than MaxConversationID are ErrInvalid.
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
