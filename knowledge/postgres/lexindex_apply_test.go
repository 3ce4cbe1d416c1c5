package postgres

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
)

// TestLexIndexApplyRandom drives lexIndex.apply, without a database, through random upserts (documents
// that gain and lose terms), deletions and the compactions they cause, and checks after each change that
// the index scores and matches exactly as one built at once from the same documents, and that no earlier
// snapshot changed (searches may still be reading it).
func TestLexIndexApplyRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	vocab := make([]string, 60)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("t%02d", i)
	}
	randomDoc := func(code string) docPostings {
		d := docPostings{code: code}
		for _, t := range vocab {
			if rng.IntN(8) == 0 {
				d.terms = append(d.terms, t)
				d.tfs = append(d.tfs, float64(1+rng.IntN(4)))
				d.len += d.tfs[len(d.tfs)-1]
			}
		}
		d.len += float64(rng.IntN(3)) // some documents have no terms at all
		return d
	}
	cur := map[string]docPostings{}
	build := func(version int64) *lexIndex {
		var codes []string
		var docs []docPostings
		total := 0.0
		for _, code := range slices.Sorted(maps.Keys(cur)) {
			codes, docs = append(codes, code), append(docs, cur[code])
			total += cur[code].len
		}
		return emptyLexIndex().apply(version, knowledge.Meta{}, codes, docs, total)
	}
	queries := make([][]knowledge.QueryTerm, 30)
	for i := range queries {
		for range 1 + rng.IntN(5) {
			queries[i] = append(queries[i], knowledge.QueryTerm{Term: vocab[rng.IntN(len(vocab))],
				Weight: 0.5 + rng.Float64()})
		}
	}
	type result struct {
		codes   []string
		scores  []float64
		matched [][]string
	}
	results := func(ix *lexIndex) []result {
		out := make([]result, len(queries))
		for i, q := range queries {
			for _, h := range ix.search(q, 15) {
				code := ix.codes[h.slot]
				out[i].codes = append(out[i].codes, code)
				out[i].scores = append(out[i].scores, h.score)
				out[i].matched = append(out[i].matched, ix.matched(code, q))
			}
		}
		return out
	}

	ix := emptyLexIndex()
	compactions := 0
	type kept struct {
		ix   *lexIndex
		want []result
	}
	var old []kept
	for version := int64(1); version <= 400; version++ {
		var codes []string
		var docs []docPostings
		seen := map[string]bool{}
		for range 1 + rng.IntN(12) {
			code := fmt.Sprintf("c%03d", rng.IntN(300))
			if seen[code] {
				continue
			}
			seen[code] = true
			codes = append(codes, code)
			if rng.IntN(3) == 0 {
				delete(cur, code)
			} else {
				cur[code] = randomDoc(code)
				docs = append(docs, cur[code])
			}
		}
		total := 0.0
		for _, d := range cur {
			total += d.len
		}
		slots := len(ix.codes)
		ix = ix.apply(version, knowledge.Meta{}, codes, docs, total)
		if len(ix.codes) < slots {
			compactions++
		}
		require.Equal(t, len(cur), ix.live, "version %d", version)
		fresh := build(version)
		want, got := results(fresh), results(ix)
		for i := range want {
			require.Equal(t, want[i].codes, got[i].codes, "version %d, query %v", version, queries[i])
			require.Equal(t, want[i].matched, got[i].matched, "version %d, query %v", version, queries[i])
			require.InDeltaSlice(t, want[i].scores, got[i].scores, 1e-9, "version %d, query %v", version, queries[i])
		}
		if version%50 == 0 {
			old = append(old, kept{ix, got})
		}
	}
	for _, k := range old {
		require.Equal(t, k.want, results(k.ix), "snapshot %d changed after later changes", k.ix.version)
	}
	t.Logf("%d compactions", compactions)
}
