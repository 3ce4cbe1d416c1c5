package postgres

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// BenchmarkSearchReal measures the whole retrieval (analysis, embedding, one SQL statement, fusion) with real
// citizen questions on the real catalog and on a 100k scale-up built from it (storetest.ScaleUp), and the
// recall@10 of the HNSW dense list against exact search over the same vectors.
//
//	TROLYAO_TEST_DATABASE=… go test -run '^$' -bench SearchReal -benchtime 1000x -timeout 60m ./knowledge/postgres/
//
// With TROLYAO_BENCH_SCHEMA=name the catalogs are kept in the schemas name_<n>, which are not dropped: a later
// run finds them filled and the sync writes nothing, so building the 100k catalog (minutes) happens once.
// Drop them by hand when done (DROP SCHEMA name_100000 CASCADE). TROLYAO_BENCH_SQL_LEXICAL=1 measures the
// store with Config.SQLLexical. The store's heap after Open (the in-memory lexical index) and the time Open
// took (loading it) are reported as index-MB and open-s.
func BenchmarkSearchReal(b *testing.B) {
	data := storetest.DataDir(b)
	real, _, err := ingest.ReadCatalog(filepath.Join(data, "procedures", "dvcqg-2026"))
	require.NoError(b, err)
	qs := storetest.Questions(b, data)
	for _, n := range []int{len(real), 100_000} {
		b.Run(fmt.Sprintf("procedures=%d", n), func(b *testing.B) {
			schema := newSchema(b)
			if keep := os.Getenv("TROLYAO_BENCH_SCHEMA"); keep != "" {
				schema = fmt.Sprintf("%s_%d", keep, n)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			s, err := Open(b.Context(), Config{URL: testURL(b), Schema: schema, MaxConns: 8,
				SQLLexical: os.Getenv("TROLYAO_BENCH_SQL_LEXICAL") != ""})
			require.NoError(b, err)
			b.Cleanup(func() { _ = s.Close() })
			opened := time.Since(start)
			runtime.GC()
			runtime.ReadMemStats(&after)
			heap := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
			live := 0
			if ix := s.lex.Load(); ix != nil {
				live = ix.live
			}
			loaded := live > 0
			b.Logf("opened the store in %v; its heap (the lexical index of %d procedures) %.1f MB",
				opened.Round(time.Millisecond), live, heap)
			emb := knowledge.HashEmbedder{}
			procs := storetest.ScaleUp(real, n, 1)
			start = time.Now()
			_, err = ingest.Sync(b.Context(), s, emb, emb.Meta(), procs, ingest.SyncOptions{BatchSize: 1024})
			require.NoError(b, err)
			b.Logf("ingested %d procedures in %v", n, time.Since(start).Round(time.Millisecond))
			recall := recallAt10(b, s, emb, procs, qs)
			storetest.BenchmarkSearcher(b, &knowledge.Searcher{Store: s, Embedder: emb, Weights: knowledge.DefaultWeights}, qs)
			b.ReportMetric(recall, "recall@10")
			if loaded { // a kept schema: Open loaded the whole catalog
				b.ReportMetric(heap, "index-MB")
				b.ReportMetric(opened.Seconds(), "open-s")
			}
		})
	}
}

// recallAt10 compares the store's dense top 10 with exact cosine search over the same vectors, on up to 100
// real questions.
func recallAt10(b *testing.B, s *Store, emb knowledge.HashEmbedder, procs []knowledge.Procedure, qs []string) float64 {
	b.Helper()
	ctx := b.Context()
	texts := make([]string, len(procs))
	for i := range procs {
		texts[i] = knowledge.EmbedText(&procs[i], nil)
	}
	vecs, err := emb.EmbedDocuments(ctx, texts)
	require.NoError(b, err)
	docs := make([]knowledge.Doc, len(procs))
	for i := range procs {
		docs[i] = knowledge.Doc{Procedure: knowledge.Procedure{Code: procs[i].Code}, Vector: vecs[i]}
	}
	found, total := 0, 0
	for i, q := range qs {
		if i == 100 {
			break
		}
		a, err := knowledge.Analyze(q)
		require.NoError(b, err)
		v, err := emb.EmbedQuery(ctx, a.EmbedText())
		require.NoError(b, err)
		got, err := s.Search(ctx, knowledge.SearchRequest{Vector: v, Limit: 10})
		require.NoError(b, err)
		in := map[string]bool{}
		for _, c := range got {
			in[c.Code] = true
		}
		for _, c := range storetest.Reference(docs, knowledge.SearchRequest{Vector: v, Limit: 10}) {
			total++
			if in[c.Code] {
				found++
			}
		}
	}
	return float64(found) / float64(max(total, 1))
}
