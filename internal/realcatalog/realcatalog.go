// Package realcatalog gives tests the real procedure catalog — the portal crawl in the shared data folder,
// ingested into an embedded store once per test binary — with the unit data, a searcher and an offline
// assistant over it. Tests that change procedures need a store of their own instead.
package realcatalog

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/bank"
	"github.com/trolyao/trolyao/knowledge/embedded"
	"github.com/trolyao/trolyao/knowledge/memconv"
	"github.com/trolyao/trolyao/knowledge/storetest"
	"github.com/trolyao/trolyao/knowledge/units"
)

// Catalog is the real catalog, shared by the tests of one binary: treat it as read-only.
type Catalog struct {
	Store      *embedded.Store
	Units      *units.Gazetteer
	Centres    *knowledge.Centres
	Procedures []knowledge.Procedure
	Searcher   *knowledge.Searcher // hash embedder, default weights
	Bank       *bank.Bank          // the question bank, whose phrasings the store indexes
	dir        string

	// indexes are the bank's phrase indexes, built on first use (seconds; more under the race detector) and
	// shared by every Assistant, which only reads them.
	indexes func() (phrases, negatives *assistant.PhraseIndex)
}

var shared struct {
	once sync.Once
	c    *Catalog
	err  error
}

// Load returns the catalog, ingesting it on first use (a few seconds); it fails the test when the data
// folder is missing or unreadable. Call Close from TestMain after m.Run to remove it.
func Load(tb testing.TB) *Catalog {
	tb.Helper()
	data := storetest.DataDir(tb)
	shared.once.Do(func() { shared.c, shared.err = build(data) })
	if shared.err != nil {
		tb.Fatalf("real catalog: %v", shared.err)
	}
	return shared.c
}

func build(data string) (*Catalog, error) {
	procs, _, err := ingest.ReadCatalog(filepath.Join(data, "procedures", "dvcqg-2026"))
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "trolyao-real-catalog-")
	if err != nil {
		return nil, err
	}
	st, err := embedded.Open(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	c := &Catalog{Store: st, Procedures: procs, dir: dir}
	emb := knowledge.HashEmbedder{}
	b, err := bank.Load()
	if err != nil {
		return c, err
	}
	c.Bank = b
	c.indexes = sync.OnceValues(func() (phrases, negatives *assistant.PhraseIndex) { return assistant.BankIndexes(b) })
	if _, err := ingest.Sync(context.Background(), st, emb, emb.Meta(), procs, ingest.SyncOptions{Phrasebook: b.Phrasebook()}); err != nil {
		return c, err
	}
	c.Searcher = &knowledge.Searcher{Store: st, Embedder: emb, Weights: knowledge.DefaultWeights}
	if c.Units, err = ingest.LoadUnits(data); err != nil {
		return c, err
	}
	c.Centres, err = ingest.LoadCentres(data)
	return c, err
}

// Assistant is the offline assistant over the catalog, keeping conversations in convs (in memory when nil).
func (c *Catalog) Assistant(convs knowledge.Conversations) *assistant.Assistant {
	if convs == nil {
		convs = memconv.New()
	}
	phrases, negatives := c.indexes()
	return &assistant.Assistant{Searcher: c.Searcher, Store: c.Store, Units: c.Units, Centres: c.Centres, Conversations: convs,
		Phrases: phrases, Negatives: negatives}
}

// Close closes and removes the catalog if it was built.
func Close() {
	if c := shared.c; c != nil {
		_ = c.Store.Close()
		_ = os.RemoveAll(c.dir)
	}
}
