package postgres

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/convtest"
)

func TestConversationsContract(t *testing.T) {
	testURL(t)
	convtest.Run(t, func(t *testing.T) knowledge.Conversations {
		return NewConversations(openStore(t, newSchema(t)))
	})
}

func TestConversationsReopen(t *testing.T) {
	testURL(t)
	stores := map[knowledge.Conversations]*Store{}
	convtest.RunReopen(t, func(t *testing.T) knowledge.Conversations {
		s := openStore(t, newSchema(t))
		c := NewConversations(s)
		stores[c] = s
		return c
	}, func(t *testing.T, old knowledge.Conversations) knowledge.Conversations {
		s := stores[old]
		require.NoError(t, s.Close())
		s = openStore(t, s.schema)
		c := NewConversations(s)
		stores[c] = s
		return c
	})
}

// TestConversationsTwoStores: two stores (two pools, as two processes would have) append to one
// conversation at once; the row lock keeps the IDs contiguous.
func TestConversationsTwoStores(t *testing.T) {
	schema := newSchema(t)
	a, b := NewConversations(openStore(t, schema)), NewConversations(openStore(t, schema))
	ctx := t.Context()
	done := make(chan error, 2)
	for _, c := range []*Conversations{a, b} {
		go func() {
			for range 20 {
				if _, err := c.Append(ctx, "shared", knowledge.DialogueState{},
					knowledge.Message{Role: "user", Text: "hỏi"}, knowledge.Message{Role: "assistant", Text: "đáp"}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	require.NoError(t, <-done)
	require.NoError(t, <-done)
	conv, err := b.Load(ctx, "shared")
	require.NoError(t, err)
	require.Len(t, conv.Messages, 80)
	for i, m := range conv.Messages {
		require.Equal(t, int64(i+1), m.ID)
	}
}

// TestConversationsLogs: nothing a citizen wrote, nor the conversation's ID, reaches the log, even at
// debug level.
func TestConversationsLogs(t *testing.T) {
	var buf bytes.Buffer
	s, err := Open(t.Context(), Config{URL: testURL(t), Schema: newSchema(t),
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	c := NewConversations(s)
	ctx := context.Background()
	_, err = c.Append(ctx, "zalo-user-84901234567", knowledge.DialogueState{Query: "căn cước cho Nguyễn Văn A"},
		knowledge.Message{Role: "user", Text: "CCCD 001099012345 của tôi bị mất"},
		knowledge.Message{Role: "assistant", Text: "Bạn cần làm thủ tục cấp lại."})
	require.NoError(t, err)
	require.NoError(t, c.Feedback(ctx, "zalo-user-84901234567", 2, 1))
	_, err = c.Load(ctx, "zalo-user-84901234567")
	require.NoError(t, err)
	n, err := c.Purge(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.NoError(t, c.Delete(ctx, "zalo-user-84901234567"))
	for _, secret := range []string{"84901234567", "001099012345", "Nguyễn", "thủ tục"} {
		assert.NotContains(t, buf.String(), secret)
	}
}

// TestConversationsCascade: deleting and purging leave no orphan messages.
func TestConversationsCascade(t *testing.T) {
	s := openStore(t, newSchema(t))
	c := NewConversations(s)
	ctx := t.Context()
	for _, id := range []string{"a", "b", "c"} {
		_, err := c.Append(ctx, id, knowledge.DialogueState{}, knowledge.Message{Role: "user", Text: "x"},
			knowledge.Message{Role: "assistant", Text: "y"})
		require.NoError(t, err)
	}
	require.NoError(t, c.Delete(ctx, "a"))
	_, err := c.Purge(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	var n int
	require.NoError(t, s.pool.QueryRow(ctx, "SELECT count(*) FROM conversation_messages").Scan(&n))
	assert.Zero(t, n)
}

// TestConversationsUpgrade: a database migrated before conversations existed gets them on the next Open.
func TestConversationsUpgrade(t *testing.T) {
	schema := newSchema(t)
	s := openStore(t, schema)
	ctx := t.Context()
	_, err := s.pool.Exec(ctx, `DROP TABLE conversation_messages, conversations;
		DELETE FROM schema_migrations WHERE version IN ('0002_conversations', '0003_confidence', '0011_feedback_reason')`)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	c := NewConversations(openStore(t, schema))
	got, err := c.Append(ctx, "a", knowledge.DialogueState{}, knowledge.Message{Role: "user", Text: "xin chào"})
	require.NoError(t, err)
	assert.Equal(t, int64(1), got[0].ID)
}
