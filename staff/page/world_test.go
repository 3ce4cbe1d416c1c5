package page_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/internal/realcatalog"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/memconv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	realcatalog.Close()
	os.Exit(code)
}

// world is one test's view of the catalog: citizens' conversations of its own, which the staff feedback
// queue reads.
type world struct {
	*realcatalog.Catalog
	convs *memconv.Conversations
	asked atomic.Int64
}

func newWorld(t *testing.T) *world {
	return &world{Catalog: realcatalog.Load(t), convs: memconv.New()}
}

// citizen is the public side: an assistant over the same store, as the chat channels run it.
func (w *world) citizen() *assistant.Assistant {
	return w.Assistant(w.convs)
}

// ask puts a question to the citizen assistant in a new conversation and returns the answer's text.
func (w *world) ask(t *testing.T, q string) string {
	t.Helper()
	conv := fmt.Sprintf("page-test-%d", w.asked.Add(1))
	ans, err := w.citizen().Reply(context.Background(), conv, q, nil)
	require.NoError(t, err)
	return ans.Text
}

// published is the record citizens get now.
func (w *world) published(t *testing.T, code string) knowledge.Procedure {
	t.Helper()
	p, err := w.Store.Get(t.Context(), code)
	require.NoError(t, err)
	return p
}
