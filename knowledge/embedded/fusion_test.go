package embedded_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant/eval"
	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/embedded"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// TestFusionComparison measures the fusion choices on the labelled questions (docs/BENCHMARKS.md) and holds
// the decision: weighted score fusion ranks better than reciprocal-rank fusion on both sets.
//
//	go test -run FusionComparison -v ./knowledge/embedded/
func TestFusionComparison(t *testing.T) {
	ctx := context.Background()
	data := storetest.DataDir(t)
	procs, _, err := ingest.ReadCatalog(filepath.Join(data, "procedures", "dvcqg-2026"))
	require.NoError(t, err)
	st, err := embedded.Open(t.TempDir())
	require.NoError(t, err)
	defer st.Close()
	h := knowledge.HashEmbedder{}
	_, err = ingest.Sync(ctx, st, h, h.Meta(), procs, ingest.SyncOptions{})
	require.NoError(t, err)
	type mode struct {
		name string
		f    func(q string) []string
	}
	weighted := func(w knowledge.Weights) func(string) []string {
		s := &knowledge.Searcher{Store: st, Embedder: h, Weights: w}
		return func(q string) []string {
			r, _ := s.Search(ctx, q, 5)
			var out []string
			for _, x := range r.Hits {
				out = append(out, x.Code)
			}
			return out
		}
	}
	rrf := func(q string) []string {
		a, _ := knowledge.Analyze(q)
		v, _ := h.EmbedQuery(ctx, a.EmbedText())
		cs, _ := st.Search(ctx, knowledge.SearchRequest{Terms: a.Terms, Vector: v, Limit: 60})
		lex := append([]knowledge.Candidate(nil), cs...)
		sort.SliceStable(lex, func(i, j int) bool { return lex[i].Lexical > lex[j].Lexical })
		den := append([]knowledge.Candidate(nil), cs...)
		sort.SliceStable(den, func(i, j int) bool { return den[i].Dense > den[j].Dense })
		sc := map[string]float64{}
		for i, c := range lex {
			if c.Lexical > 0 {
				sc[c.Code] += 1 / float64(60+i+1)
			}
		}
		for i, c := range den {
			sc[c.Code] += 1 / float64(60+i+1)
		}
		var codes []string
		for c := range sc {
			codes = append(codes, c)
		}
		sort.Slice(codes, func(i, j int) bool {
			if sc[codes[i]] != sc[codes[j]] {
				return sc[codes[i]] > sc[codes[j]]
			}
			return codes[i] < codes[j]
		})
		if len(codes) > 5 {
			codes = codes[:5]
		}
		return codes
	}
	base := knowledge.DefaultWeights
	lexOnly := base
	lexOnly.Dense = 0
	denseOnly := base
	denseOnly.Lexical, denseOnly.NameCover, denseOnly.Commune, denseOnly.Province, denseOnly.Hinted, denseOnly.Obsolete = 0, 0, 0, 0, 0, 0
	plain := base
	plain.NameCover, plain.Commune, plain.Province, plain.Hinted, plain.Obsolete = 0, 0, 0, 0, 0
	modes := []mode{{"weighted (default)", weighted(base)}, {"weighted, no name/level features", weighted(plain)},
		{"lexical only (+features)", weighted(lexOnly)}, {"dense only", weighted(denseOnly)}, {"RRF k=60", rrf}}
	hit1 := map[string]float64{}
	for _, file := range []string{filepath.Join(data, "..", "eval", "dev.jsonl"), filepath.Join("..", "..", "docs", "eval", "holdout.jsonl")} {
		f, err := os.Open(file)
		require.NoError(t, err)
		cases, err := eval.Read(f)
		f.Close()
		require.NoError(t, err)
		for _, m := range modes {
			ans := eval.AnswerFunc(func(ctx context.Context, conv, text string) (eval.Reply, error) {
				return eval.Reply{Codes: m.f(text)}, nil
			})
			var single []eval.Case
			for _, c := range cases {
				if c.Expect != nil && len(*c.Expect) > 0 {
					single = append(single, c)
				}
			}
			s, _, err := eval.Run(ctx, ans, single)
			require.NoError(t, err)
			hit1[filepath.Base(file)+" "+m.name] = s.Retrieval.Hit1
			t.Log(fmt.Sprintf("%-34s %-13s n=%d hit1=%.3f hit5=%.3f mrr=%.3f", m.name, filepath.Base(file), s.Retrieval.N,
				s.Retrieval.Hit1, s.Retrieval.Hit5, s.Retrieval.MRR))
		}
	}
	for _, set := range []string{"dev.jsonl", "holdout.jsonl"} {
		assert.Greater(t, hit1[set+" weighted (default)"], hit1[set+" RRF k=60"], set)
		assert.Greater(t, hit1[set+" weighted (default)"], hit1[set+" dense only"], set)
	}
}
