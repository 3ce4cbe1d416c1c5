package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// waitVersion polls, until deadline after start, for s's in-memory index to reach version without searching
// (a search would bring it up to date itself) and returns how long after start it did.
func waitVersion(t *testing.T, s *Store, version int64, start time.Time, deadline time.Duration) time.Duration {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for s.lex.Load().version < version {
		if time.Since(start) > deadline {
			t.Fatalf("the index is at version %d %v after the change, want %d", s.lex.Load().version, deadline, version)
		}
		<-tick.C
	}
	return time.Since(start)
}

// checkLexical compares s's lexical lists for queries (without their vectors) with the reference over docs.
func checkLexical(t *testing.T, s *Store, docs []knowledge.Doc, queries []knowledge.SearchRequest) {
	t.Helper()
	for _, r := range queries {
		r.Vector = nil
		got, err := s.Search(t.Context(), r)
		require.NoError(t, err)
		want := storetest.Reference(docs, r)
		if !assert.Equal(t, codesOf(want), codesOf(got), "%v", r.Terms) {
			continue
		}
		for i := range got {
			assert.InEpsilon(t, want[i].Lexical, got[i].Lexical, 1e-9)
			assert.Equal(t, want[i].Matched, got[i].Matched)
		}
	}
}

// TestTwoProcesses: two stores on one schema stand for two serve processes. A change applied through one
// reaches the other's in-memory index through the notification, within 2 s (in practice milliseconds),
// also after its listening connection was killed, and after a reset.
func TestTwoProcesses(t *testing.T) {
	schema := newSchema(t)
	a, b := openStore(t, schema), openStore(t, schema)
	ctx := t.Context()
	docs := storetest.SyntheticDocs(500, 8, 3)
	meta := knowledge.Meta{Embedder: "test", Dim: 8}
	require.NoError(t, a.Apply(ctx, knowledge.Change{Upsert: docs, Meta: &meta}))
	waitVersion(t, b, a.lex.Load().version, time.Now(), 2*time.Second)
	queries := storetest.SyntheticQueries(docs, 20, 10, 4)
	checkLexical(t, b, docs, queries)

	// A staff member publishes one record: a new procedure with a term no other has.
	unique := []knowledge.QueryTerm{{Term: "zzdoc", Weight: 1}}
	d := storetest.SyntheticDocs(1, 8, 77)[0]
	d.Procedure.Code = "9.999999"
	d.Terms = maps.Clone(d.Terms)
	d.Terms["zzdoc"] = 2
	d.Len += 2
	// publish applies c through a and returns how long after Apply began b's index had it, polling b while
	// Apply runs, and how long Apply took.
	publish := func(c knowledge.Change) (time.Duration, time.Duration) {
		before := b.lex.Load().version
		start := time.Now()
		done := make(chan time.Duration, 1)
		go func() {
			assert.NoError(t, a.Apply(ctx, c))
			done <- time.Since(start)
		}()
		seen := waitVersion(t, b, before+1, start, 2*time.Second)
		return seen, <-done
	}
	var lat []time.Duration
	for i := range 5 {
		d.Hash = "h" + string(rune('a'+i))
		seen, applied := publish(knowledge.Change{Upsert: []knowledge.Doc{d}})
		lat = append(lat, seen)
		t.Logf("publish one record: Apply took %v; the other process's index had it %v after Apply began",
			applied, seen)
		got, err := b.Search(ctx, knowledge.SearchRequest{Terms: unique, Limit: 5})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, d.Procedure.Code, got[0].Code)
		assert.Equal(t, []string{"zzdoc"}, got[0].Matched)
		seen, _ = publish(knowledge.Change{Delete: []string{d.Procedure.Code}})
		lat = append(lat, seen)
		got, err = b.Search(ctx, knowledge.SearchRequest{Terms: unique, Limit: 5})
		require.NoError(t, err)
		assert.Empty(t, got)
	}
	slices.Sort(lat)
	t.Logf("from the start of Apply to the other process's index: median %v, max %v over %d changes",
		lat[len(lat)/2], lat[len(lat)-1], len(lat))
	checkLexical(t, b, docs, queries)

	// The listening connection dies: the listener reconnects and catches up with what it missed.
	var killed bool
	require.NoError(t, a.pool.QueryRow(ctx, "SELECT pg_terminate_backend($1)", b.listenPID.Load()).Scan(&killed))
	require.True(t, killed)
	took, _ := publish(knowledge.Change{Upsert: []knowledge.Doc{d}})
	t.Logf("caught up %v after a change made once the listener's connection was killed", took)
	got, err := b.Search(ctx, knowledge.SearchRequest{Terms: unique, Limit: 5})
	require.NoError(t, err)
	require.Len(t, got, 1)

	// A reset (a new embedder) replaces everything: the other process reloads its index.
	other := storetest.SyntheticDocs(300, 4, 5)
	meta2 := knowledge.Meta{Embedder: "other", Dim: 4}
	require.NoError(t, a.Apply(ctx, knowledge.Change{Upsert: other, Meta: &meta2, Reset: true}))
	waitVersion(t, b, a.lex.Load().version, time.Now(), 2*time.Second)
	assert.Equal(t, meta2, b.lex.Load().meta)
	checkLexical(t, b, other, storetest.SyntheticQueries(other, 20, 10, 6))
}

// TestSearchCatchesUp: a search never answers from an index older than the catalog it reads, even without
// a listener: it finds the version changed, refreshes and searches again.
func TestSearchCatchesUp(t *testing.T) {
	schema := newSchema(t)
	a, b := openStore(t, schema), openStore(t, schema)
	b.stop()
	<-b.listenDone
	ctx := t.Context()
	docs := storetest.SyntheticDocs(400, 8, 8)
	meta := knowledge.Meta{Embedder: "test", Dim: 8}
	require.NoError(t, a.Apply(ctx, knowledge.Change{Upsert: docs, Meta: &meta}))
	queries := storetest.SyntheticQueries(docs, 10, 10, 9)
	checkLexical(t, b, docs, queries)
	require.NoError(t, a.Apply(ctx, knowledge.Change{Delete: []string{docs[0].Procedure.Code, docs[1].Procedure.Code}}))
	checkLexical(t, b, docs[2:], queries)
	assert.Equal(t, a.lex.Load().version, b.lex.Load().version)

	// While b reads its whole index again, its searches answer in SQL instead of waiting.
	b.reloading.Store(true)
	stale := b.lex.Load().version
	require.NoError(t, a.Apply(ctx, knowledge.Change{Delete: []string{docs[2].Procedure.Code}}))
	checkLexical(t, b, docs[3:], queries)
	assert.Equal(t, stale, b.lex.Load().version, "answered without the index")
	b.reloading.Store(false)
	checkLexical(t, b, docs[3:], queries)
	assert.Equal(t, a.lex.Load().version, b.lex.Load().version)
}

// TestIncremental: many small changes, enough deletions to compact the index, and a reload all give the
// reference's lexical lists; the incremental index equals a freshly loaded one.
func TestIncremental(t *testing.T) {
	s := openStore(t, newSchema(t))
	ctx := t.Context()
	docs := storetest.SyntheticDocs(3000, 0, 21)
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs[:1000]}))
	for i := 1000; i < 3000; i += 250 {
		require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs[i : i+250]}))
	}
	queries := storetest.SyntheticQueries(docs, 40, 20, 22)
	checkLexical(t, s, docs, queries)

	// Changed records, then deletions that leave more free slots than documents: compaction.
	changed := slices.Clone(docs[2900:])
	for i := range changed {
		changed[i].Terms = maps.Clone(changed[i].Terms)
		changed[i].Terms["zzchanged"] = float64(i%3 + 1)
		changed[i].Len += float64(i%3 + 1)
	}
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: changed}))
	cur := append(slices.Clone(docs[:2900]), changed...)
	slots := len(s.lex.Load().codes)
	var del []string
	for _, d := range cur[:1900] {
		del = append(del, d.Procedure.Code)
	}
	require.NoError(t, s.Apply(ctx, knowledge.Change{Delete: del}))
	cur = cur[1900:]
	ix := s.lex.Load()
	assert.Equal(t, len(cur), ix.live)
	assert.Less(t, len(ix.codes), slots, "the index was compacted")
	queries = append(queries, knowledge.SearchRequest{Terms: []knowledge.QueryTerm{{Term: "zzchanged", Weight: 1}},
		Limit: 50})
	checkLexical(t, s, cur, queries)

	// The index built by changes scores as one loaded at once.
	tx, err := s.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	loaded, err := loadLexIndex(ctx, tx, ix.version, ix.meta)
	require.NoError(t, err)
	assert.Equal(t, ix.live, loaded.live)
	assert.InEpsilon(t, loaded.totalLen, ix.totalLen, 1e-12)
	for _, r := range queries {
		want, got := loaded.search(r.Terms, r.Limit), ix.search(r.Terms, r.Limit)
		require.Equal(t, len(want), len(got))
		for i := range want {
			assert.Equal(t, loaded.codes[want[i].slot], ix.codes[got[i].slot])
			assert.InEpsilon(t, want[i].score, got[i].score, 1e-12)
		}
	}
}

// TestApplyReadsOwnWrites: after Apply returns, the same store's searches see the change, without waiting
// for the notification.
func TestApplyReadsOwnWrites(t *testing.T) {
	s := openStore(t, newSchema(t))
	s.stop()
	<-s.listenDone
	ctx := context.Background()
	docs := storetest.SyntheticDocs(50, 0, 31)
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs}))
	v := s.lex.Load().version
	require.NoError(t, s.Apply(ctx, knowledge.Change{Delete: []string{docs[3].Procedure.Code}}))
	assert.Equal(t, v+1, s.lex.Load().version)
	_, ok := s.lex.Load().slotOf[docs[3].Procedure.Code]
	assert.False(t, ok)
}

// TestListenerQuiet: the listener's periodic check between notifications leaves it listening.
func TestListenerQuiet(t *testing.T) {
	old := checkEvery
	t.Cleanup(func() { checkEvery = old }) // after the stores' cleanups, which stop their listeners
	checkEvery = 20 * time.Millisecond
	schema := newSchema(t)
	a, b := openStore(t, schema), openStore(t, schema)
	ctx := t.Context()
	docs := storetest.SyntheticDocs(100, 0, 41)
	pid := b.listenPID.Load()
	for i := 0; i < 100; i += 25 {
		// several checks pass with no notification before each change
		tick := time.NewTicker(checkEvery)
		for range 4 {
			<-tick.C
		}
		tick.Stop()
		require.NoError(t, a.Apply(ctx, knowledge.Change{Upsert: docs[i : i+25]}))
		waitVersion(t, b, a.lex.Load().version, time.Now(), 2*time.Second)
	}
	assert.Equal(t, pid, b.listenPID.Load(), "the listener kept its connection")
	checkLexical(t, b, docs, storetest.SyntheticQueries(docs, 10, 10, 42))
}

// TestDenseUsesIndex: the dense statement of the in-memory search takes its list from the HNSW index.
func TestDenseUsesIndex(t *testing.T) {
	s := openStore(t, newSchema(t))
	ctx := t.Context()
	docs := storetest.SyntheticDocs(2000, 16, 1)
	meta := knowledge.Meta{Embedder: "test", Dim: 16}
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs, Meta: &meta}))
	// The pool's connections cache the statement, so PostgreSQL may plan it once for any argument: the
	// generic plan must use the index as well.
	for _, mode := range []string{"auto", "force_generic_plan"} {
		tx, err := s.pool.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, "SELECT set_config('plan_cache_mode', $1, true)", mode)
		require.NoError(t, err)
		rows, err := tx.Query(ctx, "EXPLAIN (COSTS OFF) "+denseSQL(16), pgvector.NewVector(docs[5].Vector), 60)
		require.NoError(t, err)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.NoError(t, tx.Rollback(ctx))
		plan := strings.Join(lines, "\n")
		assert.Contains(t, plan, "Index Scan using "+indexName, "plan_cache_mode %s:\n%s", mode, plan)
	}
}

// TestDenseDeadTuples: when dead index entries (updates not yet vacuumed) crowd the HNSW candidates, the
// dense list still has its limit, in distance order, from pgvector's iterative scan.
func TestDenseDeadTuples(t *testing.T) {
	s, err := Open(t.Context(), Config{URL: testURL(t), Schema: newSchema(t), EfSearch: 1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	docs := storetest.SyntheticDocs(40, 8, 51)
	meta := knowledge.Meta{Embedder: "test", Dim: 8}
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs, Meta: &meta}))
	for i := range 15 { // each update leaves a dead entry per document in the index
		for j := range docs {
			docs[j].Hash = fmt.Sprint(i)
			// A new vector: pgvector keeps identical vectors in one index element.
			docs[j].Vector = slices.Clone(docs[j].Vector)
			docs[j].Vector[i%8] += 1e-3
		}
		require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs}))
	}
	for _, d := range docs[:10] {
		r := knowledge.SearchRequest{Vector: d.Vector, Limit: 5}
		got, err := s.Search(ctx, r)
		require.NoError(t, err)
		assert.Equal(t, codesOf(storetest.Reference(docs, r)), codesOf(got))
	}
}
