package embedded_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/convtest"
	"github.com/trolyao/trolyao/knowledge/embedded"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

func TestConversationsContract(t *testing.T) {
	convtest.Run(t, func(t *testing.T) knowledge.Conversations {
		s, err := embedded.Open(t.TempDir())
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return embedded.NewConversations(s)
	})
}

func TestConversationsReopen(t *testing.T) {
	type opened struct {
		dir   string
		store *embedded.Store
	}
	stores := map[knowledge.Conversations]opened{}
	open := func(t *testing.T, dir string) knowledge.Conversations {
		s, err := embedded.Open(dir)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		c := embedded.NewConversations(s)
		stores[c] = opened{dir, s}
		return c
	}
	convtest.RunReopen(t, func(t *testing.T) knowledge.Conversations { return open(t, t.TempDir()) },
		func(t *testing.T, old knowledge.Conversations) knowledge.Conversations {
			o := stores[old]
			require.NoError(t, o.store.Close())
			return open(t, o.dir)
		})
}

// TestConversationsBesideCatalog: conversations and the catalog share the file without touching each other.
func TestConversationsBesideCatalog(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s, err := embedded.Open(dir)
	require.NoError(t, err)
	docs := storetest.SyntheticDocs(20, 4, 1)
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs, Meta: &knowledge.Meta{Embedder: "test", Dim: 4}}))
	c := embedded.NewConversations(s)
	_, err = c.Append(ctx, "a", knowledge.DialogueState{Turns: 1}, knowledge.Message{Role: "user", Text: "xin chào"})
	require.NoError(t, err)
	n, err := c.Purge(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.NoError(t, s.Close())

	s, err = embedded.Open(dir)
	require.NoError(t, err)
	defer s.Close()
	list, err := s.List(ctx)
	require.NoError(t, err)
	assert.Len(t, list, len(docs))
	// A Reset of the catalog leaves conversations alone.
	c = embedded.NewConversations(s)
	_, err = c.Append(ctx, "b", knowledge.DialogueState{}, knowledge.Message{Role: "user", Text: "còn đây"})
	require.NoError(t, err)
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs[:2], Meta: &knowledge.Meta{Embedder: "test", Dim: 4}, Reset: true}))
	conv, err := c.Load(ctx, "b")
	require.NoError(t, err)
	assert.Len(t, conv.Messages, 1)
}
