package postgres

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// benchEnv reads a positive integer from the environment.
func benchEnv(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// BenchmarkSearch measures hybrid searches on a synthetic catalog of TROLYAO_BENCH_N documents (default
// 2,000) with vectors of dimension TROLYAO_BENCH_DIM (default 256, the hash embedder's), in a schema of its
// own. It reports the latency percentiles and the dense list's recall against exact search.
//
//	TROLYAO_TEST_DATABASE=… TROLYAO_BENCH_N=100000 go test -run '^$' -bench Search -benchtime 2000x ./knowledge/postgres/
func BenchmarkSearch(b *testing.B) {
	n := benchEnv(b, "TROLYAO_BENCH_N", 2000)
	dim := benchEnv(b, "TROLYAO_BENCH_DIM", 256)
	limit := knowledge.DefaultWeights.Candidates
	s := openStore(b, newSchema(b))
	ctx := b.Context()

	docs := storetest.SyntheticDocs(n, dim, 1)
	meta := knowledge.Meta{Embedder: "synthetic", Dim: dim}
	start := time.Now()
	require.NoError(b, s.Apply(ctx, knowledge.Change{Upsert: docs, Meta: &meta, Reset: true}))
	b.Logf("loaded %d documents of dimension %d in %v", n, dim, time.Since(start).Round(time.Millisecond))

	queries := storetest.SyntheticQueries(docs, 500, limit, 2)
	// Recall of the dense list (HNSW) against exact search, on a sample, before timing.
	found, total := 0, 0
	for _, r := range queries[:min(50, len(queries))] {
		got, err := s.Search(ctx, r)
		require.NoError(b, err)
		in := map[string]bool{}
		for _, c := range got {
			in[c.Code] = true
		}
		want := storetest.Reference(docs, knowledge.SearchRequest{Vector: r.Vector, Limit: r.Limit})
		for _, c := range want {
			total++
			if in[c.Code] {
				found++
			}
		}
	}

	var took []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		if _, err := s.Search(ctx, queries[i%len(queries)]); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(took)
	pct := func(p float64) float64 {
		return float64(took[min(len(took)-1, int(p*float64(len(took))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(found)/float64(max(total, 1)), "dense-recall")
	b.Logf("%s", fmt.Sprintf("n=%d dim=%d limit=%d searches=%d p50=%.2fms p95=%.2fms", n, dim, limit, len(took),
		pct(0.5), pct(0.95)))
}
