package storetest

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
)

// DataDir is the real data folder: $TROLYAO_DATA, or shared/data beside the repository (found by walking up
// from the working directory). It fails the test, never skips, when the data is missing.
func DataDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("TROLYAO_DATA"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	require.NoError(tb, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "data")
			_, err := os.Stat(filepath.Join(d, "procedures"))
			require.NoError(tb, err, "the real data is missing: set TROLYAO_DATA to the shared data folder")
			return d
		}
		parent := filepath.Dir(dir)
		require.NotEqual(tb, parent, dir, "no go.mod above the working directory")
		dir = parent
	}
}

// Questions returns real citizen questions for benchmarks: the portal FAQ questions in the data folder and the
// labelled questions of the eval set beside it.
func Questions(tb testing.TB, dataDir string) []string {
	tb.Helper()
	var out []string
	read := func(path, field string) {
		f, err := os.Open(path)
		require.NoError(tb, err)
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			if q, ok := m[field].(string); ok && q != "" {
				out = append(out, q)
			}
		}
		require.NoError(tb, sc.Err())
	}
	read(filepath.Join(dataDir, "questions", "dvc_faq_rasa_dec1mo", "ask_questions_with_diacritics.jsonl"), "question")
	read(filepath.Join(dataDir, "..", "eval", "dev.jsonl"), "q")
	require.NotEmpty(tb, out)
	return out
}

// BenchmarkSearcher runs b.N searches over qs, round robin, and reports latency percentiles in ms.
func BenchmarkSearcher(b *testing.B, s *knowledge.Searcher, qs []string) {
	b.Helper()
	ctx := b.Context()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if _, err := s.Search(ctx, qs[i%len(qs)], 10); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	ReportLatency(b, lat)
}

// ReportLatency reports p50, p95 and p99 of lat in milliseconds.
func ReportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		i := int(p*float64(len(lat))+0.5) - 1
		i = max(0, min(i, len(lat)-1))
		return float64(lat[i].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
