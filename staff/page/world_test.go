package page_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/embedded"
	"github.com/trolyao/trolyao/knowledge/memconv"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// catalog is the real catalog in an embedded store, with the searcher and unit data the assistant uses. It is
// built once for the package's tests (an ingest of 2,642 records); each test edits procedures of its own.
type catalog struct {
	dir      string
	store    *embedded.Store
	searcher *knowledge.Searcher
	units    *knowledge.Units
}

var shared struct {
	once sync.Once
	cat  *catalog
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if c := shared.cat; c != nil {
		_ = c.store.Close()
		_ = os.RemoveAll(c.dir)
	}
	os.Exit(code)
}

func loadCatalog(t *testing.T) *catalog {
	t.Helper()
	data := storetest.DataDir(t)
	shared.once.Do(func() {
		shared.cat, shared.err = buildCatalog(data)
	})
	require.NoError(t, shared.err)
	return shared.cat
}

func buildCatalog(data string) (*catalog, error) {
	procs, _, err := ingest.ReadCatalog(filepath.Join(data, "procedures", "dvcqg-2026"))
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "staff-page-test-")
	if err != nil {
		return nil, err
	}
	st, err := embedded.Open(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	c := &catalog{dir: dir, store: st}
	emb := knowledge.HashEmbedder{}
	if _, err := ingest.Sync(context.Background(), st, emb, emb.Meta(), procs, ingest.SyncOptions{}); err != nil {
		return c, err
	}
	c.searcher = &knowledge.Searcher{Store: st, Embedder: emb, Weights: knowledge.DefaultWeights}
	c.units, err = ingest.LoadUnits(data)
	return c, err
}

// world is one test's view of the catalog: citizens' conversations of its own, which the staff feedback
// queue reads.
type world struct {
	*catalog
	convs *memconv.Conversations
	asked atomic.Int64
}

func newWorld(t *testing.T) *world {
	return &world{catalog: loadCatalog(t), convs: memconv.New()}
}

// citizen is the public side: an assistant over the same store, as the chat channels run it.
func (w *world) citizen() *assistant.Assistant {
	return &assistant.Assistant{Searcher: w.searcher, Store: w.store, Units: w.units, Conversations: w.convs}
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
	p, err := w.store.Get(t.Context(), code)
	require.NoError(t, err)
	return p
}
