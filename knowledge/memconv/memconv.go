// Package memconv is an in-memory knowledge.Conversations for tests, the eval command and single-process
// runs that need no persistence. It applies the rules every conversation store applies (knowledge.CheckAppend,
// knowledge.StoredNow, …) and passes knowledge/convtest. It imports only the knowledge package and the standard
// library.
package memconv

import (
	"context"
	"fmt"
	"slices"
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
	if err := knowledge.CheckConversationID(id); err != nil {
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
	out.State = cv.state.Clone()
	out.Updated = cv.updated
	out.Messages = make([]knowledge.Message, len(cv.msgs))
	for i, m := range cv.msgs {
		out.Messages[i] = m.Clone()
	}
	return out, nil
}

// Append stores st and appends msgs, returning them with their IDs and times.
func (c *Conversations) Append(ctx context.Context, id string, st knowledge.DialogueState, msgs ...knowledge.Message) ([]knowledge.Message, error) {
	if err := knowledge.CheckAppend(id, st, msgs); err != nil {
		return nil, fmt.Errorf("memconv: append: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memconv: append: %w", err)
	}
	now := knowledge.StoredNow()
	c.mu.Lock()
	defer c.mu.Unlock()
	cv, ok := c.convs[id]
	if !ok {
		cv = &conversation{}
		c.convs[id] = cv
	}
	cv.state = st.Clone()
	cv.updated = now
	out := make([]knowledge.Message, len(msgs))
	for i, m := range msgs {
		cv.next++
		m = m.Clone()
		m.ID = cv.next
		m.At = knowledge.StoredAt(m.At, now)
		cv.msgs = append(cv.msgs, m)
		out[i] = m.Clone()
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
	if err := knowledge.CheckFeedback(id, value, reason); err != nil {
		return fmt.Errorf("memconv: feedback: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memconv: feedback: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cv, ok := c.convs[id]; ok {
		for i := range cv.msgs {
			if cv.msgs[i].ID == messageID && cv.msgs[i].Role == knowledge.RoleAssistant {
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
	if err := knowledge.CheckConversationID(id); err != nil {
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
		out = f.Collect(out, id, cv.msgs)
	}
	return f.Sort(out), nil
}
