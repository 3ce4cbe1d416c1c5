// Package assistant answers citizens' questions about administrative procedures in Vietnamese: it reads the
// intents of a message, keeps the state of each conversation (the procedure in focus, a pending clarifying
// question), retrieves from the knowledge base, and composes a grounded answer citing procedure codes — offline
// and deterministic by default, through an LLM when one is configured, never less correct than offline. It also
// tells a question about the 2025 reform of administrative units from one that merely names a place, and
// words the answer (DescribeUnits) from the gazetteer of knowledge/units.
// Channels see only this package's API (Assistant.Reply and its events), never retrieval details.
// It imports the knowledge packages (knowledge, knowledge/units, knowledge/bank), the standard library and
// golang.org/x/text; LLM clients live in assistant/langchain.
package assistant

import (
	"context"
	"time"
)

// EventKind is the kind of a streamed event.
type EventKind string

const (
	EventTyping EventKind = "typing" // the assistant is working
	EventDelta  EventKind = "delta"  // a piece of the answer text
	EventAnswer EventKind = "answer" // the final answer; always the last event
)

// Event is one streamed event of a reply.
type Event struct {
	Kind   EventKind
	Delta  string  // EventDelta
	Answer *Answer // EventAnswer
}

// Citation is a procedure an answer is grounded in.
type Citation struct {
	Code string `json:"code"`
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
	// Label is a short name for a button (options only): at most OptionLabelRunes characters, distinct from
	// the other options' labels.
	Label    string    `json:"label,omitempty"`
	DataDate time.Time `json:"data_date,omitzero"`
}

// Answer is a complete reply.
type Answer struct {
	ConversationID string     `json:"conversation_id"`
	MessageID      int64      `json:"message_id,omitempty"` // the stored assistant message, for feedback
	Text           string     `json:"text"`
	Citations      []Citation `json:"citations,omitempty"`
	// Options are procedures offered in a clarifying question, in order; the user picks one.
	Options     []Citation `json:"options,omitempty"`
	Suggestions []string   `json:"suggestions,omitempty"` // quick replies
	Intents     []Intent   `json:"intents,omitempty"`
	Abstained   bool       `json:"abstained,omitempty"`  // no procedure could be given with confidence
	Confidence  float64    `json:"confidence,omitempty"` // the policy's probability that the best procedure is right
	Source      string     `json:"source,omitempty"`     // "offline" or "llm"
}

// Model is an LLM that streams text; assistant/langchain implements it over langchaingo.
type Model interface {
	Stream(ctx context.Context, system, user string, onDelta func(string)) (string, error)
}
