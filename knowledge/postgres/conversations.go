package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trolyao/trolyao/knowledge"
)

// Conversations is the PostgreSQL knowledge.Conversations, in the tables of migration 0002 in its Store's
// schema. It shares the Store's pool, is safe for concurrent use, also by several processes, and is usable
// until the Store is closed.
type Conversations struct {
	pool *pgxpool.Pool
	log  *slog.Logger
}

var _ knowledge.Conversations = (*Conversations)(nil)

// NewConversations returns the conversations kept in s's schema.
func NewConversations(s *Store) *Conversations { return &Conversations{pool: s.pool, log: s.log} }

// loadSQL reads the state and every message of a conversation in one statement, hence one snapshot.
const loadSQL = `SELECT c.state, c.updated, m.id, m.role, m.text, m.codes, m.at, m.feedback, m.abstain, m.channel, m.confidence,
	m.feedback_reason
FROM conversations c LEFT JOIN conversation_messages m ON m.conversation_id = c.id
WHERE c.id = $1
ORDER BY m.id`

// Load returns the conversation, a zero one with ID set when there is none.
func (c *Conversations) Load(ctx context.Context, id string) (knowledge.Conversation, error) {
	out := knowledge.Conversation{ID: id}
	if err := knowledge.CheckConversationID(id); err != nil {
		return out, fmt.Errorf("postgres: load conversation: %w", err)
	}
	rows, err := c.pool.Query(ctx, loadSQL, id)
	if err != nil {
		return out, fmt.Errorf("postgres: load conversation: %w", err)
	}
	var (
		state    []byte
		updated  time.Time
		msgID    *int64
		role     *string
		text     *string
		codes    []string
		at       *time.Time
		feedback *int16
		abstain  *bool
		channel  *string
		conf     *float64
		reason   *string
	)
	found := false
	_, err = pgx.ForEachRow(rows, []any{&state, &updated, &msgID, &role, &text, &codes, &at, &feedback, &abstain, &channel, &conf, &reason},
		func() error {
			if !found {
				found = true
				out.Updated = updated.UTC()
				if err := json.Unmarshal(state, &out.State); err != nil {
					return fmt.Errorf("decode state: %w", err)
				}
			}
			if msgID == nil {
				return nil // no messages
			}
			out.Messages = append(out.Messages, knowledge.Message{
				ID: *msgID, Role: knowledge.Role(*role), Text: *text, Codes: codes, At: at.UTC(),
				Feedback: int(*feedback), Abstain: *abstain, Channel: *channel, Confidence: *conf,
				FeedbackReason: *reason,
			}.Clone())
			return nil
		})
	if err != nil {
		return knowledge.Conversation{ID: id}, fmt.Errorf("postgres: load conversation: %w", err)
	}
	return out, nil
}

// Append stores st and appends msgs in one transaction, dropping the oldest messages beyond
// knowledge.MaxStoredMessages. The upsert of the conversation's row locks it, so concurrent appends to one
// conversation take turns and their IDs never collide.
func (c *Conversations) Append(ctx context.Context, id string, st knowledge.DialogueState, msgs ...knowledge.Message) ([]knowledge.Message, error) {
	if err := knowledge.CheckAppend(id, st, msgs); err != nil {
		return nil, fmt.Errorf("postgres: append: %w", err)
	}
	state, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("postgres: append: %w", err)
	}
	now := knowledge.StoredNow()
	out := make([]knowledge.Message, len(msgs))
	err = pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		var last int64
		err := tx.QueryRow(ctx, `INSERT INTO conversations AS c (id, state, last_id, updated) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, last_id = c.last_id + EXCLUDED.last_id,
				updated = EXCLUDED.updated
			RETURNING last_id`, id, state, int64(len(msgs)), now).Scan(&last)
		if err != nil {
			return err
		}
		if len(msgs) == 0 {
			return nil
		}
		var b pgx.Batch
		first := last - int64(len(msgs)) + 1
		for i, m := range msgs {
			m.ID = first + int64(i)
			m.At = knowledge.StoredAt(m.At, now)
			m = m.Clone()
			codes := m.Codes
			if codes == nil {
				codes = []string{} // not NULL
			}
			b.Queue(`INSERT INTO conversation_messages (conversation_id, id, role, text, codes, at, feedback, abstain, channel, confidence,
					feedback_reason)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
				id, m.ID, string(m.Role), m.Text, codes, m.At, int16(m.Feedback), m.Abstain, m.Channel, m.Confidence, m.FeedbackReason)
			out[i] = m
		}
		if drop := last - knowledge.MaxStoredMessages; drop > 0 {
			b.Queue("DELETE FROM conversation_messages WHERE conversation_id = $1 AND id <= $2", id, drop)
		}
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: append: %w", err)
	}
	return out, nil
}

// Feedback records value on an assistant message.
func (c *Conversations) Feedback(ctx context.Context, id string, messageID int64, value int) error {
	return c.FeedbackReason(ctx, id, messageID, value, "")
}

// FeedbackReason records value and the reason of a 👎 on an assistant message (migration 0008).
func (c *Conversations) FeedbackReason(ctx context.Context, id string, messageID int64, value int, reason string) error {
	if err := knowledge.CheckFeedback(id, value, reason); err != nil {
		return fmt.Errorf("postgres: feedback: %w", err)
	}
	tag, err := c.pool.Exec(ctx, `UPDATE conversation_messages SET feedback = $3, feedback_reason = $4
		WHERE conversation_id = $1 AND id = $2 AND role = 'assistant'`, id, messageID, int16(value), reason)
	if err != nil {
		return fmt.Errorf("postgres: feedback on message %d: %w", messageID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: feedback on message %d: %w", messageID, knowledge.ErrNotFound)
	}
	return nil
}

// Delete removes a conversation and (by cascade) its messages.
func (c *Conversations) Delete(ctx context.Context, id string) error {
	if err := knowledge.CheckConversationID(id); err != nil {
		return fmt.Errorf("postgres: delete conversation: %w", err)
	}
	if _, err := c.pool.Exec(ctx, "DELETE FROM conversations WHERE id = $1", id); err != nil {
		return fmt.Errorf("postgres: delete conversation: %w", err)
	}
	return nil
}

// Purge deletes the conversations last updated before before, in one statement.
func (c *Conversations) Purge(ctx context.Context, before time.Time) (int, error) {
	// pgx sends times truncated to the microsecond; rounding up keeps "updated < before" exact, since
	// updated is a whole microsecond.
	limit := before.Truncate(time.Microsecond)
	if limit.Before(before) {
		limit = limit.Add(time.Microsecond)
	}
	tag, err := c.pool.Exec(ctx, "DELETE FROM conversations WHERE updated < $1", limit)
	if err != nil {
		return 0, fmt.Errorf("postgres: purge: %w", err)
	}
	n := int(tag.RowsAffected())
	c.log.Debug("conversations purged", "before", limit, "count", n)
	return n, nil
}

var _ knowledge.FlagLister = (*Conversations)(nil)
var _ knowledge.ReasonedFeedback = (*Conversations)(nil)

// flaggedSQL lists flagged assistant messages with the user message just before each (migration 0003 adds
// confidence and the index on at).
const flaggedSQL = `SELECT m.conversation_id, m.id, m.text, m.codes, m.at, m.feedback, m.feedback_reason, m.abstain, m.channel, m.confidence,
	COALESCE((SELECT u.text FROM conversation_messages u
		WHERE u.conversation_id = m.conversation_id AND u.id = m.id - 1 AND u.role = 'user'), '')
FROM conversation_messages m
WHERE m.role = 'assistant' AND m.at >= $1
	AND (m.abstain OR m.feedback < 0 OR (m.confidence > 0 AND m.confidence < $2))
ORDER BY m.at DESC, m.conversation_id, m.id
LIMIT $3`

// Flagged lists the flagged assistant messages, newest first.
func (c *Conversations) Flagged(ctx context.Context, f knowledge.FlagFilter) ([]knowledge.Flagged, error) {
	rows, err := c.pool.Query(ctx, flaggedSQL, f.Since.Truncate(time.Microsecond), f.Below, f.Cap())
	if err != nil {
		return nil, fmt.Errorf("postgres: flagged: %w", err)
	}
	var (
		out      []knowledge.Flagged
		fl       knowledge.Flagged
		codes    []string
		feedback int16
	)
	fl.Answer.Role = knowledge.RoleAssistant
	_, err = pgx.ForEachRow(rows, []any{&fl.ConversationID, &fl.Answer.ID, &fl.Answer.Text, &codes, &fl.Answer.At,
		&feedback, &fl.Answer.FeedbackReason, &fl.Answer.Abstain, &fl.Answer.Channel, &fl.Answer.Confidence, &fl.Question}, func() error {
		x := fl
		x.Answer.Codes = codes
		x.Answer = x.Answer.Clone()
		x.Answer.Feedback = int(feedback)
		x.Answer.At = x.Answer.At.UTC()
		out = append(out, x)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: flagged: %w", err)
	}
	return out, nil
}
