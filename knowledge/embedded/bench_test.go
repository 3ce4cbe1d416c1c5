package embedded_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/embedded"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// BenchmarkSearch measures the whole retrieval (analysis, embedding, store search, fusion) on the real catalog
// and on a synthetic scale-up built from it, with real citizen questions.
//
//	go test -run '^$' -bench 'Search' -benchtime 2000x ./knowledge/embedded/
func BenchmarkSearch(b *testing.B) {
	data := storetest.DataDir(b)
	real, _, err := ingest.ReadCatalog(filepath.Join(data, "procedures", "dvcqg-2026"))
	require.NoError(b, err)
	qs := storetest.Questions(b, data)
	for _, n := range []int{len(real), 100_000} {
		b.Run(fmt.Sprintf("procedures=%d", n), func(b *testing.B) {
			st, err := embedded.Open(b.TempDir())
			require.NoError(b, err)
			defer st.Close()
			emb := knowledge.HashEmbedder{}
			_, err = ingest.Sync(b.Context(), st, emb, emb.Meta(), storetest.ScaleUp(real, n, 1), ingest.SyncOptions{})
			require.NoError(b, err)
			storetest.BenchmarkSearcher(b, &knowledge.Searcher{Store: st, Embedder: emb, Weights: knowledge.DefaultWeights}, qs)
		})
	}
}
