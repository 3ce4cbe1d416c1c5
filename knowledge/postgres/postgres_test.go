package postgres

import (
	"context"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/postgres/pgtest"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

func testURL(t testing.TB) string { return pgtest.URL(t) }

func newSchema(t testing.TB) string { return pgtest.Schema(t) }

// openStore opens a store in schema and closes it when the test ends.
func openStore(t testing.TB, schema string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{URL: testURL(t), Schema: schema, MaxConns: 8})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func openNew(t *testing.T) knowledge.Store { return openStore(t, newSchema(t)) }

// openSQLLexical opens a store that scores BM25 in SQL in schema and closes it when the test ends.
func openSQLLexical(t testing.TB, schema string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{URL: testURL(t), Schema: schema, MaxConns: 8, SQLLexical: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestContractPruned runs the contract on the SQL lexical search with a tiny seed budget, so that it prunes
// (skips non-essential terms and completes survivors by look-ups) even on the suite's small catalogs.
func TestContractPruned(t *testing.T) {
	testURL(t)
	storetest.Run(t, func(t *testing.T) knowledge.Store {
		s := openSQLLexical(t, newSchema(t))
		s.seedBudget = 3
		return s
	})
}

// TestContractSQLLexical runs the contract on the SQL lexical search with its real seed budget, and across
// reopening with the other mode: both read and write the same tables.
func TestContractSQLLexical(t *testing.T) {
	testURL(t)
	open := func(t *testing.T) knowledge.Store { return openSQLLexical(t, newSchema(t)) }
	storetest.Run(t, open)
	storetest.RunReopen(t, open, func(t *testing.T, s knowledge.Store) knowledge.Store {
		st := s.(*Store)
		require.NoError(t, st.Close())
		if st.lex.Load() == nil {
			return openStore(t, st.schema)
		}
		return openSQLLexical(t, st.schema)
	})
}

// TestPruning compares lexical lists with the reference over budgets that make each pruning path run, with
// query weights of every sign.
func TestPruning(t *testing.T) {
	s := openSQLLexical(t, newSchema(t))
	ctx := t.Context()
	docs := storetest.SyntheticDocs(3000, 0, 11)
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs}))
	queries := storetest.SyntheticQueries(docs, 30, 20, 12)
	// a query of common terms only, and weights ≤ 0 (which turn pruning off)
	common := knowledge.SearchRequest{Limit: 50}
	for _, d := range docs[:3] {
		for _, tok := range knowledge.Syllables(d.Procedure.Name)[:2] {
			common.Terms = append(common.Terms, knowledge.QueryTerm{Term: tok, Weight: 1})
		}
	}
	queries = append(queries, common)
	signed := queries[0]
	signed.Terms = slices.Clone(signed.Terms)
	signed.Terms[0].Weight = -0.5
	signed.Terms[1].Weight = 0
	queries = append(queries, signed)
	for _, budget := range []int64{1, 50, 1000, seedBudget} {
		s.seedBudget = budget
		for _, r := range queries {
			got, err := s.Search(ctx, r)
			require.NoError(t, err)
			want := storetest.Reference(docs, r)
			if !assert.Equal(t, codesOf(want), codesOf(got), "budget %d, %v", budget, r.Terms) {
				continue
			}
			for i := range got {
				assert.InEpsilon(t, want[i].Lexical, got[i].Lexical, 1e-9)
			}
		}
	}
}

func codesOf(cs []knowledge.Candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Code
	}
	return out
}

func TestContract(t *testing.T) {
	testURL(t)
	storetest.Run(t, openNew)
	storetest.RunReopen(t, openNew, func(t *testing.T, s knowledge.Store) knowledge.Store {
		st := s.(*Store)
		require.NoError(t, st.Close())
		return openStore(t, st.schema)
	})
}

// TestOpenConcurrent opens the same new schema from several goroutines at once: the advisory lock makes
// one of them migrate and the others find the work done.
func TestOpenConcurrent(t *testing.T) {
	schema := newSchema(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() {
			stores[i], errs[i] = Open(t.Context(), Config{URL: testURL(t), Schema: schema})
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err)
		t.Cleanup(func() { _ = stores[i].Close() })
	}
	var n int
	require.NoError(t, stores[0].pool.QueryRow(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&n))
	names, err := fs.Glob(migrations, "migrations/*.sql")
	require.NoError(t, err)
	assert.Equal(t, len(names), n)
	var tables []string
	rows, err := stores[0].pool.Query(t.Context(), `SELECT table_name FROM information_schema.tables
		WHERE table_schema = $1 ORDER BY table_name`, schema)
	require.NoError(t, err)
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	// The catalog's tables; other parts of the service add theirs through migrations of their own.
	assert.Subset(t, tables, []string{"catalog_changes", "conversation_messages", "conversations", "corpus", "meta",
		"postings", "procedures", "schema_migrations", "term_stats"})
}

func TestOpenInvalid(t *testing.T) {
	_, err := Open(t.Context(), Config{URL: testURL(t), EfSearch: 5000})
	assert.ErrorIs(t, err, knowledge.ErrInvalid)
	_, err = Open(t.Context(), Config{URL: "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"})
	assert.Error(t, err)
}

// TestInvalidText: PostgreSQL text cannot hold NUL characters or invalid UTF-8; Apply says ErrInvalid and
// changes nothing.
func TestInvalidText(t *testing.T) {
	s := openStore(t, newSchema(t))
	ctx := t.Context()
	docs := storetest.SyntheticDocs(20, 4, 1)
	meta := knowledge.Meta{Embedder: "test", Dim: 4}
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs, Meta: &meta}))
	before, err := s.Hashes(ctx)
	require.NoError(t, err)

	nul := docs[1]
	nul.Procedure.Name = "Đăng ký\x00khai sinh"
	notes := docs[2]
	notes.Procedure.LocalNotes = "ghi chú \x00"
	badTerm := docs[3]
	badTerm.Terms = map[string]float64{"\xff\xfe": 1}
	badCode := docs[4]
	badCode.Procedure.Code = "1.\x00"
	for name, d := range map[string]knowledge.Doc{"NUL in name": nul, "NUL in notes": notes, "invalid term": badTerm,
		"NUL in code": badCode} {
		err := s.Apply(ctx, knowledge.Change{Upsert: []knowledge.Doc{docs[0], d}, Delete: []string{docs[5].Procedure.Code}})
		assert.ErrorIs(t, err, knowledge.ErrInvalid, name)
	}
	_, err = s.Search(ctx, knowledge.SearchRequest{Terms: []knowledge.QueryTerm{{Term: "\xff", Weight: 1}}, Limit: 5})
	assert.ErrorIs(t, err, knowledge.ErrInvalid)
	after, err := s.Hashes(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

// TestDimensionChangeNeedsReset: documents of the old dimension cannot stay beside new ones.
func TestDimensionChangeNeedsReset(t *testing.T) {
	s := openStore(t, newSchema(t))
	ctx := t.Context()
	docs := storetest.SyntheticDocs(10, 4, 1)
	meta := knowledge.Meta{Embedder: "a", Dim: 4}
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs, Meta: &meta}))
	other := storetest.SyntheticDocs(3, 6, 2)
	err := s.Apply(ctx, knowledge.Change{Upsert: other, Meta: &knowledge.Meta{Embedder: "b", Dim: 6}})
	assert.ErrorIs(t, err, knowledge.ErrInvalid)
	// Re-embedding every procedure in one change is a change of dimension without Reset.
	all := storetest.SyntheticDocs(10, 6, 1)
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: all, Meta: &knowledge.Meta{Embedder: "b", Dim: 6}}))
	got, err := s.Search(ctx, knowledge.SearchRequest{Vector: all[7].Vector, Limit: 1})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, all[7].Procedure.Code, got[0].Code)
}

// explain returns the plan of the search statement for r.
func explain(t *testing.T, s *Store, r knowledge.SearchRequest, settings ...string) string {
	t.Helper()
	ctx := t.Context()
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	for _, set := range settings {
		_, err := tx.Exec(ctx, set)
		require.NoError(t, err)
	}
	st, err := s.prepareSearch(ctx, tx, r)
	require.NoError(t, err)
	rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "+st.sql, st.args...)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return strings.Join(lines, "\n")
}

// TestExplainUsesIndexes checks that the planner takes the dense list from the HNSW index and the
// lexical one from the postings index, on a catalog large enough for indexes to matter.
func TestExplainUsesIndexes(t *testing.T) {
	s := openStore(t, newSchema(t))
	ctx := t.Context()
	docs := storetest.SyntheticDocs(2000, 16, 1)
	meta := knowledge.Meta{Embedder: "test", Dim: 16}
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs, Meta: &meta}))
	r := storetest.SyntheticQueries(docs, 1, 60, 3)[0]
	plan := explain(t, s, r)
	t.Logf("plan:\n%s", plan)
	assert.Contains(t, plan, "Index Scan using "+indexName)
	assert.Contains(t, plan, "postings_pkey")
	assert.NotContains(t, plan, "Seq Scan on postings")

	// The plan holds after incremental changes too (no rebuild, inserts into the index).
	more := storetest.SyntheticDocs(2100, 16, 2)[2000:]
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: more, Delete: []string{docs[0].Procedure.Code}}))
	plan = explain(t, s, r)
	assert.Contains(t, plan, "Index Scan using "+indexName)
	got, err := s.Search(ctx, knowledge.SearchRequest{Vector: more[50].Vector, Limit: 1})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, more[50].Procedure.Code, got[0].Code)
}

// TestHalfvecIndex: above 2,000 dimensions the index is on halfvec and the search's expression matches it.
func TestHalfvecIndex(t *testing.T) {
	s := openStore(t, newSchema(t))
	ctx := t.Context()
	docs := storetest.SyntheticDocs(60, 2048, 1)
	meta := knowledge.Meta{Embedder: "big", Dim: 2048}
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs, Meta: &meta}))
	r := knowledge.SearchRequest{Terms: storetest.SyntheticQueries(docs, 1, 5, 1)[0].Terms, Vector: docs[17].Vector, Limit: 5}
	plan := explain(t, s, r, "SET LOCAL enable_seqscan = off")
	t.Logf("plan:\n%s", plan)
	assert.Contains(t, plan, "Index Scan using "+indexName)
	got, err := s.Search(ctx, r)
	require.NoError(t, err)
	i := -1
	for j, c := range got {
		if c.Code == docs[17].Procedure.Code {
			i = j
		}
	}
	require.GreaterOrEqual(t, i, 0, "the document's own vector finds it")
	assert.InDelta(t, 1, got[i].Dense, 1e-5)
	for _, c := range got {
		assert.InDelta(t, storetest.Cosine(docs[slicesIndex(docs, c.Code)].Vector, r.Vector), c.Dense, 1e-4)
	}
}

func slicesIndex(docs []knowledge.Doc, code string) int {
	for i, d := range docs {
		if d.Procedure.Code == code {
			return i
		}
	}
	return -1
}

// TestRecall measures the dense list's recall against exact search on a catalog where the HNSW index is
// used: with the default ef_search it must stay high.
func TestRecall(t *testing.T) {
	s := openStore(t, newSchema(t))
	ctx := t.Context()
	docs := storetest.SyntheticDocs(3000, 64, 5)
	meta := knowledge.Meta{Embedder: "test", Dim: 64}
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs, Meta: &meta}))
	rng := rand.New(rand.NewPCG(1, 1))
	found, total := 0, 0
	for range 50 {
		r := knowledge.SearchRequest{Vector: storetest.RandomVector(rng, 64), Limit: 20}
		got, err := s.Search(ctx, r)
		require.NoError(t, err)
		in := map[string]bool{}
		for _, c := range got {
			in[c.Code] = true
		}
		for _, c := range storetest.Reference(docs, r) {
			total++
			if in[c.Code] {
				found++
			}
		}
	}
	recall := float64(found) / float64(total)
	t.Logf("dense recall@20 over 50 random queries, 3000 docs, dim 64, ef_search %d: %.3f", DefaultEfSearch, recall)
	assert.GreaterOrEqual(t, recall, 0.95)
}

// Every migration has a number of its own, and every renamed one exists under its new name.
func TestMigrationNumbersUnique(t *testing.T) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	require.NoError(t, err)
	seen := map[string]string{}
	versions := map[string]bool{}
	for _, n := range names {
		v := strings.TrimSuffix(strings.TrimPrefix(n, "migrations/"), ".sql")
		versions[v] = true
		num, _, ok := strings.Cut(v, "_")
		require.True(t, ok, n)
		if prev, dup := seen[num]; dup {
			t.Errorf("migrations %s and %s share the number %s", prev, v, num)
		}
		seen[num] = v
	}
	for old, now := range renamedMigrations {
		assert.True(t, versions[now], "%s was renamed to %s, which does not exist", old, now)
		assert.False(t, versions[old], "%s still exists under its old name", old)
	}
}

// A database migrated when two migrations were numbered 0003 and three 0006 opens under the new names without
// applying anything twice.
func TestMigrationRenameUpgrade(t *testing.T) {
	schema := newSchema(t)
	s := openStore(t, schema)
	ctx := t.Context()
	for old, now := range renamedMigrations {
		_, err := s.pool.Exec(ctx, "UPDATE schema_migrations SET version = $1 WHERE version = $2", old, now)
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())

	s = openStore(t, schema)
	rows, err := s.pool.Query(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	require.NoError(t, err)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	names, err := fs.Glob(migrations, "migrations/*.sql")
	require.NoError(t, err)
	want := make([]string, len(names))
	for i, n := range names {
		want[i] = strings.TrimSuffix(strings.TrimPrefix(n, "migrations/"), ".sql")
	}
	assert.Equal(t, want, got)
}
