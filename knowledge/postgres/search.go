package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/trolyao/trolyao/knowledge"
)

// Search returns the union of the BM25 and the cosine lists (see knowledge.SearchRequest). The dense list
// comes from the HNSW index, so it is approximate on large catalogs (recall is set by Config.EfSearch); the
// cosine of every candidate is exact. The lexical list is exact: it comes from the in-memory index (see
// searchMemory), or from SQL with Config.SQLLexical (see searchSQLLexical).
func (s *Store) Search(ctx context.Context, r knowledge.SearchRequest) ([]knowledge.Candidate, error) {
	if r.Limit <= 0 || r.Limit > knowledge.MaxSearchK*4 {
		return nil, fmt.Errorf("postgres: search: %w: limit %d, want 1..%d", knowledge.ErrInvalid, r.Limit,
			knowledge.MaxSearchK*4)
	}
	if s.lex.Load() != nil {
		return s.searchMemory(ctx, r)
	}
	return s.searchSQLLexical(ctx, r)
}

// searchSQLLexical answers a search in one statement, lexical list included, inside a read-only
// repeatable-read transaction so that the index description and the search see the same snapshot. It
// serves Config.SQLLexical, and searchMemory when its index cannot catch up at once.
func (s *Store) searchSQLLexical(ctx context.Context, r knowledge.SearchRequest) ([]knowledge.Candidate, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("postgres: search: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	st, err := s.prepareSearch(ctx, tx, r)
	if err != nil || st.sql == "" {
		return nil, err
	}
	rows, err := tx.Query(ctx, st.sql, st.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: search: %w", err)
	}
	var out []knowledge.Candidate
	var c knowledge.Candidate
	var levels, matched []string
	_, err = pgx.ForEachRow(rows, []any{&c.Code, &c.Name, &levels, &c.Lexical, &c.Dense, &matched}, func() error {
		c.Levels = nil
		for _, l := range levels {
			c.Levels = append(c.Levels, knowledge.Level(l))
		}
		c.Matched = nil
		if len(matched) > 0 {
			c.Matched = append([]string(nil), matched...)
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: search: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres: search: %w", err)
	}
	return out, nil
}

// tieMargin is how many more neighbours than the limit the dense list reads to order ties by code.
const tieMargin = 10

// fixedPoint is the unit (1/fixedPoint) in which lexical scores are summed: 2⁴⁰, so that a score keeps
// about 12 significant digits and a term's contribution may reach 8·10⁶ (weights up to maxWeight).
const fixedPoint = 1 << 40

// maxWeight bounds the weight of a query term so that fixed-point sums cannot overflow.
const maxWeight = 1e5

// seedBudget is how many postings, at most, the lexical search reads (beyond the first term) to find a
// lower bound of the Limit-th best score before deciding which terms it can leave out; see lexicalSQL.
// Measured on 100,000 synthetic procedures (BenchmarkSearch): 100–500 are best, 20,000 doubles p95.
const seedBudget = 250

// contrib is the BM25 contribution of posting p to a term of qt, in fixed point.
var contrib = fmt.Sprintf("round(qt.wi * p.tf * %g / (p.tf + %g * (%g + %g * p.dl / qt.avgdl)) * %d)::int8",
	knowledge.BM25K1+1, knowledge.BM25K1, 1-knowledge.BM25B, knowledge.BM25B, fixedPoint)

// postingsOf reads the postings of the term qt.term through the primary key. OFFSET 0 keeps the planner from
// flattening the subquery into a merge or hash join that reads the whole postings table, which it
// otherwise may choose on its (rough) estimates of the CTEs' sizes.
const postingsOf = "SELECT p.code, p.tf, p.dl FROM postings p WHERE p.term = qt.term OFFSET 0"

// lexicalSQL computes the lexical list, lex(code, score), for $1 terms, $2 weights and $3 limit.
//
// Scores are exact BM25 (document frequencies from term_stats, N and the mean length from corpus), summed in
// fixed point (units of 1/fixedPoint): a float sum would depend on the order in which rows arrive, and two
// documents with the same terms would not tie exactly, so the code could not break the tie.
//
// Reading every posting of a common term (one in most documents) is what makes BM25 slow in SQL, so the
// statement prunes like MaxScore, without giving up exactness. Each term has an upper bound ub of what a
// document can get from it (from the largest tf and the smallest length among its postings, kept in
// term_stats). The seed terms, those with the largest bounds up to seedBudget postings, are read first; the
// limit-th best of their partial scores, theta0, is a lower bound of the limit-th best score (all weights
// positive). The other terms with the smallest bounds that add up to less than theta0 are non-essential: a
// document that has only those cannot reach the list. Only the postings of the essential terms are read;
// a document whose partial score plus the non-essential bounds still reaches theta1, the limit-th best
// partial score, survives and is completed with its non-essential terms: by (term, code) look-ups when few
// survive, by reading those terms' postings when many do. With theta0 = 0 (fewer documents than the limit, or
// a weight ≤ 0) every term is essential and every posting is read.
var lexicalSQL = strings.NewReplacer("{contrib}", contrib,
	"{contribp}", strings.ReplaceAll(contrib, "qt.", "p."), "{postings}", postingsOf,
	"{k1p1}", fmt.Sprint(knowledge.BM25K1+1), "{k1}", fmt.Sprint(knowledge.BM25K1),
	"{c}", fmt.Sprint(1-knowledge.BM25B), "{b}", fmt.Sprint(knowledge.BM25B), "{fp}", strconv.Itoa(fixedPoint)).Replace(`
WITH q AS (
	SELECT t.term, t.weight, t.ord
	FROM unnest($1::text[], $2::float8[]) WITH ORDINALITY AS t(term, weight, ord)
), stats AS (
	SELECT n::float8 AS n, CASE WHEN n > 0 AND total_len > 0 THEN total_len / n ELSE 1 END AS avgdl
	FROM corpus
), qi AS (
	SELECT q.term, ts.df, ts.max_tf, ts.min_dl, stats.avgdl,
		q.weight * ln(1 + (stats.n - ts.df::float8 + 0.5) / (ts.df::float8 + 0.5)) AS wi
	FROM q JOIN term_stats ts ON ts.term = q.term CROSS JOIN stats
), qu AS (
	SELECT qi.*, ceil(greatest(wi, 0) * max_tf * {k1p1} / (max_tf + {k1} * ({c} + {b} * min_dl / avgdl)) * {fp})::int8 + 1 AS ub
	FROM qi
), qt AS MATERIALIZED (
	SELECT qu.*, coalesce(sum(df) OVER (ORDER BY ub DESC, term DESC
		ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) < $4 AS seed
	FROM qu
), seeded AS MATERIALIZED (
	SELECT p.code, sum({contrib})::int8 AS s
	FROM qt CROSS JOIN LATERAL ({postings}) p
	WHERE qt.seed
	GROUP BY p.code
), theta0 AS MATERIALIZED (
	SELECT CASE WHEN (SELECT bool_and(wi > 0) FROM qt)
		THEN coalesce((SELECT s FROM seeded ORDER BY s DESC OFFSET $3 - 1 LIMIT 1), 0) ELSE 0 END AS v
), rest AS MATERIALIZED (
	SELECT qt.*, sum(ub) OVER (ORDER BY ub, term ROWS UNBOUNDED PRECEDING) < (SELECT v FROM theta0) AS skip
	FROM qt WHERE NOT seed
), partial AS MATERIALIZED (
	SELECT code, s FROM seeded
	WHERE NOT EXISTS (SELECT 1 FROM rest WHERE NOT skip)
	UNION ALL
	SELECT p.code, sum({contrib})::int8
	FROM (SELECT term, wi, avgdl FROM qt WHERE seed UNION ALL SELECT term, wi, avgdl FROM rest WHERE NOT skip) qt
	CROSS JOIN LATERAL ({postings}) p
	WHERE EXISTS (SELECT 1 FROM rest WHERE NOT skip)
	GROUP BY p.code
), theta1 AS MATERIALIZED (
	SELECT coalesce((SELECT s FROM partial ORDER BY s DESC OFFSET $3 - 1 LIMIT 1), 0) AS v
), survivors AS MATERIALIZED (
	SELECT code, s FROM partial
	WHERE s + (SELECT coalesce(sum(ub), 0) FROM rest WHERE skip) >= (SELECT v FROM theta1)
), probe AS MATERIALIZED (
	-- complete the survivors by (term, code) look-ups when there are few, else by reading the postings
	SELECT (SELECT count(*) FROM survivors) * count(*) * 8 < coalesce(sum(df), 0) AS v FROM rest WHERE skip
), complete AS MATERIALIZED (
	SELECT sv.code, sv.s + coalesce((
		SELECT sum((SELECT {contrib} FROM postings p WHERE p.term = qt.term AND p.code = sv.code))
		FROM rest qt WHERE qt.skip), 0) AS s
	FROM survivors sv
	WHERE (SELECT v FROM probe)
	UNION ALL
	SELECT sv.code, sv.s + coalesce(sum({contribp}), 0)
	FROM survivors sv
	LEFT JOIN (SELECT qt.term, qt.wi, qt.avgdl, p.code, p.tf, p.dl
		FROM rest qt CROSS JOIN LATERAL ({postings}) p WHERE qt.skip) p ON p.code = sv.code
	WHERE NOT (SELECT v FROM probe)
	GROUP BY sv.code, sv.s
), lex AS (
	SELECT code, (s / {fp})::float8 AS score
	FROM complete
	WHERE s > 0
	ORDER BY s DESC, code
	LIMIT $3
)`)

// statement is a search statement with its arguments; sql is "" when the store is empty.
type statement struct {
	sql  string
	args []any
}

// prepareSearch sets the HNSW parameters for tx, reads the index description and builds the statement.
func (s *Store) prepareSearch(ctx context.Context, tx pgx.Tx, r knowledge.SearchRequest) (statement, error) {
	ef := min(max(s.efSearch, r.Limit+tieMargin), maxEfSearch)
	var meta []byte
	var n int64
	// strict_order: should dead tuples or a filter thin out the first ef_search candidates, the scan goes on
	// instead of returning fewer than Limit, and still in distance order. work_mem: long questions aggregate
	// a few hundred thousand postings, whose hash tables spill to temporary files with the default 4MB
	// (seen in EXPLAIN on the 100k benchmark); for this transaction only.
	err := tx.QueryRow(ctx, `SELECT set_config('hnsw.ef_search', $1, true),
		set_config('hnsw.iterative_scan', 'strict_order', true), set_config('work_mem', '32MB', true),
		(SELECT value FROM meta WHERE key = 'index'), n FROM corpus`, strconv.Itoa(ef)).Scan(nil, nil, nil, &meta, &n)
	if err != nil {
		return statement{}, fmt.Errorf("postgres: search: %w", err)
	}
	if n == 0 {
		return statement{}, nil
	}
	var m knowledge.Meta
	if meta != nil {
		if err := json.Unmarshal(meta, &m); err != nil {
			return statement{}, fmt.Errorf("postgres: search: meta: %w", err)
		}
	}
	if len(r.Vector) > 0 && len(r.Vector) != m.Dim {
		return statement{}, fmt.Errorf("postgres: search: %w: query vector has %d dimensions, the index %d",
			knowledge.ErrInvalid, len(r.Vector), m.Dim)
	}
	terms := make([]string, len(r.Terms))
	weights := make([]float64, len(r.Terms))
	for i, q := range r.Terms {
		terms[i], weights[i] = q.Term, q.Weight
		if err := checkText("term", q.Term); err != nil {
			return statement{}, fmt.Errorf("postgres: search: %w", err)
		}
		if !finite(q.Weight) || math.Abs(q.Weight) > maxWeight {
			return statement{}, fmt.Errorf("postgres: search: %w: weight %v of a query term, want at most %g",
				knowledge.ErrInvalid, q.Weight, maxWeight)
		}
	}
	// Unnamed statements: each execution is planned with its arguments, so a generic plan never replaces
	// the index scans.
	if len(r.Vector) == 0 {
		return statement{sql: searchSQL(0), args: []any{pgx.QueryExecModeCacheDescribe, terms, weights, r.Limit,
			s.seedBudget}}, nil
	}
	return statement{sql: searchSQL(m.Dim), args: []any{pgx.QueryExecModeCacheDescribe, terms, weights, r.Limit,
		s.seedBudget, pgvector.NewVector(r.Vector)}}, nil
}

// distanceKey is the cosine distance between the embedding and the query vector $5 in the HNSW index's
// expression for dimension dim, or the plain distance when no index can exist.
func distanceKey(dim int) string {
	switch {
	case dim <= maxVectorIdx:
		return fmt.Sprintf("embedding::vector(%[1]d) <=> $5::vector(%[1]d)", dim)
	case dim <= maxHalfvecIdx:
		return fmt.Sprintf("embedding::halfvec(%[1]d) <=> $5::vector::halfvec(%[1]d)", dim)
	default:
		return "embedding <=> $5::vector"
	}
}

// searchSQL is the search statement for an index of dimension dim, lexical only for 0. Arguments: $1 the
// query terms, $2 their weights, $3 the limit, $4 the seed budget (see lexicalSQL), $5 the query vector.
//
// The dense list takes the $3 nearest embeddings by cosine distance, then code. The ORDER BY of the index
// scan must be the distance alone, in the index's expression (and the WHERE its predicate), or PostgreSQL
// cannot use the HNSW index; so it fetches tieMargin more and the code breaks ties among those (exact unless
// more than tieMargin documents tie at the cut-off).
//
// The candidates are the union of both lists, each with its lexical score (0 outside the lexical list), its
// exact cosine similarity and the query terms it contains, in query order.
func searchSQL(dim int) string {
	var b strings.Builder
	b.WriteString(lexicalSQL)
	dense := "0::float8"
	if dim > 0 {
		key := distanceKey(dim)
		fmt.Fprintf(&b, `, nearest AS MATERIALIZED (
	SELECT code, %[2]s AS distance FROM procedures
	WHERE vector_dims(embedding) = %[1]d
	ORDER BY %[2]s
	LIMIT $3 + %[3]d
), dense AS (
	SELECT code FROM nearest ORDER BY distance, code LIMIT $3
)`, dim, key, tieMargin)
		dense = "coalesce(1 - (p.embedding <=> $5::vector), 0)"
	}
	b.WriteString(`, cand AS (
	SELECT code FROM lex`)
	if dim > 0 {
		b.WriteString(`
	UNION
	SELECT code FROM dense`)
	}
	fmt.Fprintf(&b, `
)
SELECT p.code, p.name, p.levels, coalesce(lex.score, 0), %s,
	ARRAY(SELECT q.term FROM q WHERE q.term = ANY(p.terms) ORDER BY q.ord)
FROM cand
CROSS JOIN LATERAL (SELECT * FROM procedures p WHERE p.code = cand.code OFFSET 0) p
LEFT JOIN lex ON lex.code = cand.code
ORDER BY p.code`, dense)
	return b.String()
}
