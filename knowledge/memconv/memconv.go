// Package memconv is an in-memory knowledge.Conversations for tests, the eval command and single-process
// runs that need no persistence, and the home of the rules every conversation store applies (CheckAppend,
// Now, …), which knowledge/embedded and knowledge/postgres call so that the three cannot drift; all of them
// pass knowledge/convtest. It imports only the knowledge package and the standard library.
package memconv

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trolyao/trolyao/knowledge"
)

// Conversations keeps conversations in memory. It is safe for concurrent use; the zero value is not usable,
// call New.
type Conversations struct {
	mu    sync.Mutex
	convs map[string]*conversation
}

type conversation struct {
	state   knowledge.DialogueState
	msgs    []knowledge.Message // oldest first, at most knowledge.MaxStoredMessages
	next    int64               // the last message ID assigned
	updated time.Time
}

var _ knowledge.Conversations = (*Conversations)(nil)

// New returns an empty store.
func New() *Conversations { return &Conversations{convs: map[string]*conversation{}} }

// Load returns a copy of the conversation, a zero one with ID set when there is none.
func (c *Conversations) Load(ctx context.Context, id string) (knowledge.Conversation, error) {
	if err := CheckID(id); err != nil {
		return knowledge.Conversation{}, fmt.Errorf("memconv: load: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return knowledge.Conversation{}, fmt.Errorf("memconv: load: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := knowledge.Conversation{ID: id}
	cv, ok := c.convs[id]
	if !ok {
		return out, nil
	}
	out.State = cloneState(cv.state)
	out.Updated = cv.updated
	out.Messages = make([]knowledge.Message, len(cv.msgs))
	for i, m := range cv.msgs {
		out.Messages[i] = cloneMessage(m)
	}
	return out, nil
}

// Append stores st and appends msgs, returning them with their IDs and times.
func (c *Conversations) Append(ctx context.Context, id string, st knowledge.DialogueState, msgs ...knowledge.Message) ([]knowledge.Message, error) {
	if err := CheckAppend(id, st, msgs); err != nil {
		return nil, fmt.Errorf("memconv: append: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memconv: append: %w", err)
	}
	now := Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	cv, ok := c.convs[id]
	if !ok {
		cv = &conversation{}
		c.convs[id] = cv
	}
	cv.state = cloneState(st)
	cv.updated = now
	out := make([]knowledge.Message, len(msgs))
	for i, m := range msgs {
		cv.next++
		m = cloneMessage(m)
		m.ID = cv.next
		m.At = Stamp(m.At, now)
		cv.msgs = append(cv.msgs, m)
		out[i] = cloneMessage(m)
	}
	if n := len(cv.msgs) - knowledge.MaxStoredMessages; n > 0 {
		cv.msgs = slices.Delete(cv.msgs, 0, n)
	}
	return out, nil
}

// Feedback records value on an assistant message.
func (c *Conversations) Feedback(ctx context.Context, id string, messageID int64, value int) error {
	return c.FeedbackReason(ctx, id, messageID, value, "")
}

// FeedbackReason records value and the reason of a 👎 on an assistant message.
func (c *Conversations) FeedbackReason(ctx context.Context, id string, messageID int64, value int, reason string) error {
	if err := CheckFeedbackReason(id, value, reason); err != nil {
		return fmt.Errorf("memconv: feedback: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memconv: feedback: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cv, ok := c.convs[id]; ok {
		for i := range cv.msgs {
			if cv.msgs[i].ID == messageID && cv.msgs[i].Role == RoleAssistant {
				cv.msgs[i].Feedback = value
				cv.msgs[i].FeedbackReason = reason
				return nil
			}
		}
	}
	return fmt.Errorf("memconv: feedback on message %d: %w", messageID, knowledge.ErrNotFound)
}

// Delete removes a conversation.
func (c *Conversations) Delete(ctx context.Context, id string) error {
	if err := CheckID(id); err != nil {
		return fmt.Errorf("memconv: delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memconv: delete: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.convs, id)
	return nil
}

// Purge deletes the conversations last updated before before.
func (c *Conversations) Purge(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memconv: purge: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for id, cv := range c.convs {
		if cv.updated.Before(before) {
			delete(c.convs, id)
			n++
		}
	}
	return n, nil
}

func cloneState(st knowledge.DialogueState) knowledge.DialogueState {
	st.Pending = CloneStrings(st.Pending)
	return st
}

func cloneMessage(m knowledge.Message) knowledge.Message {
	m.Codes = CloneStrings(m.Codes)
	return m
}

var _ knowledge.FlagLister = (*Conversations)(nil)
var _ knowledge.ReasonedFeedback = (*Conversations)(nil)

// Flagged lists the flagged assistant messages, newest first.
func (c *Conversations) Flagged(ctx context.Context, f knowledge.FlagFilter) ([]knowledge.Flagged, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memconv: flagged: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []knowledge.Flagged
	for id, cv := range c.convs {
		out = CollectFlagged(out, id, cv.msgs, f)
	}
	return SortFlagged(out, f), nil
}

// CollectFlagged appends to out the messages of conversation id (oldest first) that f flags, each with the
// user message before it.
func CollectFlagged(out []knowledge.Flagged, id string, msgs []knowledge.Message, f knowledge.FlagFilter) []knowledge.Flagged {
	question := ""
	for _, m := range msgs {
		if m.Role == RoleUser {
			question = m.Text
			continue
		}
		if f.IsFlagged(m) && !m.At.Before(f.Since) {
			out = append(out, knowledge.Flagged{ConversationID: id, Question: question, Answer: cloneMessage(m)})
		}
		question = ""
	}
	return out
}

// SortFlagged orders flagged messages newest first (then by conversation and message ID) and applies the
// filter's limit.
func SortFlagged(fs []knowledge.Flagged, f knowledge.FlagFilter) []knowledge.Flagged {
	slices.SortFunc(fs, func(a, b knowledge.Flagged) int {
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
