package postgres

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/trolyao/trolyao/knowledge"
)

// searchMemory answers a search with the lexical list from the in-memory index and the dense list from the
// HNSW index, computed at the same time: the BM25 scoring runs in this process while PostgreSQL walks the
// HNSW graph, so the search takes the longer of the two, not their sum.
//
// Both lists describe one version of the catalog: each statement reads corpus.version, and when that is not
// the index's version (a change committed that the listener has not brought in yet) the search brings the
// index up to date (or waits for the refresh under way) and starts again. While the whole index is being
// read again (seconds on a large catalog), or should the catalog change again meanwhile, it answers in SQL
// rather than wait.
func (s *Store) searchMemory(ctx context.Context, r knowledge.SearchRequest) ([]knowledge.Candidate, error) {
	for _, q := range r.Terms {
		if err := checkText("term", q.Term); err != nil {
			return nil, fmt.Errorf("postgres: search: %w", err)
		}
		if !finite(q.Weight) || math.Abs(q.Weight) > maxWeight {
			return nil, fmt.Errorf("postgres: search: %w: weight %v of a query term, want at most %g",
				knowledge.ErrInvalid, q.Weight, maxWeight)
		}
	}
	for range 2 {
		ix := s.lex.Load()
		out, current, err := s.searchAt(ctx, ix, r)
		if err != nil || current {
			return out, err
		}
		if s.reloading.Load() {
			break
		}
		if err := s.refresh(ctx); err != nil {
			return nil, fmt.Errorf("postgres: search: refresh the lexical index: %w", err)
		}
	}
	return s.searchSQLLexical(ctx, r)
}

// searchAt searches with the index ix and reports whether ix is the database's version; if it is not, the
// result is nil.
//
// Two connections work at once: one reads the dense list (with each candidate's name, levels and cosine)
// while this process scores BM25, then the other reads the lexical candidates' name, levels and cosine. Each
// statement reads corpus.version in its own snapshot: when both are the index's version, all three parts
// describe the same catalog, since every change increments it.
func (s *Store) searchAt(ctx context.Context, ix *lexIndex, r knowledge.SearchRequest) ([]knowledge.Candidate, bool,
	error) {
	hasVec := len(r.Vector) > 0
	var vec any
	if hasVec {
		vec = pgvector.NewVector(r.Vector)
	}
	type part struct {
		version int64
		cands   map[string]*knowledge.Candidate
		err     error
	}
	denseDone := make(chan part, 1)
	dense := hasVec && len(r.Vector) == ix.meta.Dim && ix.live > 0
	if dense {
		go func() {
			var p part
			p.cands = map[string]*knowledge.Candidate{}
			p.version, p.err = s.dense(ctx, ix.meta.Dim, vec, r.Limit, p.cands, false)
			if p.err == nil && len(p.cands) < min(r.Limit, ix.live) {
				// Dead tuples took places among the ef_search candidates.
				clear(p.cands)
				p.version, p.err = s.dense(ctx, ix.meta.Dim, vec, r.Limit, p.cands, true)
			}
			denseDone <- p
		}()
	}

	hits := ix.search(r.Terms, r.Limit)
	lexCands := map[string]*knowledge.Candidate{}
	codes := make([]string, len(hits))
	for i, h := range hits {
		codes[i] = ix.codes[h.slot]
	}
	cosine, args := "0::float8", []any{codes}
	if dense {
		cosine, args = "coalesce(1 - (p.embedding <=> $2::vector), 0)", append(args, vec)
	}
	rows, err := s.pool.Query(ctx, `SELECT c.version, p.code, p.name, p.levels, `+cosine+`
		FROM corpus c LEFT JOIN procedures p ON p.code = ANY($1)`, args...)
	var version int64
	if err == nil {
		version, err = collectCandidates(rows, lexCands)
	}
	var dp part
	if dense {
		dp = <-denseDone
	}
	if err == nil {
		err = dp.err
	}
	if err != nil {
		return nil, false, fmt.Errorf("postgres: search: %w", err)
	}
	if version != ix.version || (dense && dp.version != ix.version) {
		return nil, false, nil
	}
	if ix.live == 0 {
		return nil, true, nil
	}
	if hasVec && !dense {
		return nil, true, fmt.Errorf("postgres: search: %w: query vector has %d dimensions, the index %d",
			knowledge.ErrInvalid, len(r.Vector), ix.meta.Dim)
	}
	byCode := dp.cands
	if byCode == nil {
		byCode = lexCands
	} else {
		for code, c := range lexCands {
			byCode[code] = c
		}
	}
	for _, h := range hits {
		if c := byCode[ix.codes[h.slot]]; c != nil {
			c.Lexical = h.score
		}
	}
	out := make([]knowledge.Candidate, 0, len(byCode))
	for _, c := range byCode {
		c.Matched = ix.matched(c.Code, r.Terms)
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b knowledge.Candidate) int { return strings.Compare(a.Code, b.Code) })
	return out, true, nil
}

// dense reads the limit nearest procedures to vec from the HNSW index into byCode and returns the catalog
// version it read them at. The settings and the statement go in one batch: one round trip, one implicit
// transaction, to which the settings are local.
//
// iterative turns on pgvector's iterative scan (strict_order): should dead tuples thin out the ef_search
// candidates below the limit, the scan goes on, still in distance order. It costs about a third more on the
// 100k benchmark even when nothing is thinned out, so the search first scans without it and only scans
// again with it when it got fewer rows than it asked for.
func (s *Store) dense(ctx context.Context, dim int, vec any, limit int, byCode map[string]*knowledge.Candidate,
	iterative bool) (int64, error) {
	mode := "off"
	if iterative {
		mode = "strict_order"
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', $2, true)`,
		strconv.Itoa(min(max(s.efSearch, limit+tieMargin), maxEfSearch)), mode)
	b.Queue(denseSQL(dim), vec, limit)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return 0, err
	}
	rows, err := br.Query()
	if err != nil {
		return 0, err
	}
	version, err := collectCandidates(rows, byCode)
	if err != nil {
		return 0, err
	}
	return version, br.Close()
}

// denseSQL is the dense list's statement for an index of dimension dim: $1 the query vector, $2 the limit.
// As in searchSQL, the index scan orders by distance alone, tieMargin more than the limit, and the code
// breaks ties among those; the scan reads each row's name, levels and exact cosine as it goes. Its rows are
// (version, code, name, levels, cosine), with at least one row (of nulls but the version) when no
// procedure has an embedding.
func denseSQL(dim int) string {
	return fmt.Sprintf(`WITH nearest AS MATERIALIZED (
	SELECT code, name, levels, %[2]s AS distance, coalesce(1 - (embedding <=> $1::vector), 0) AS cosine
	FROM procedures
	WHERE vector_dims(embedding) = %[1]d
	ORDER BY %[2]s
	LIMIT $2 + %[3]d
), dense AS (
	SELECT code, name, levels, cosine FROM nearest ORDER BY distance, code LIMIT $2
)
SELECT c.version, d.code, d.name, d.levels, d.cosine FROM corpus c LEFT JOIN dense d ON true`,
		dim, strings.ReplaceAll(distanceKey(dim), "$5", "$1"), tieMargin)
}

// collectCandidates reads rows of (version, code, name, levels, cosine) into byCode and returns the version;
// a row without a code (a left join that matched nothing) only gives the version.
func collectCandidates(rows pgx.Rows, byCode map[string]*knowledge.Candidate) (int64, error) {
	var version int64
	var code, name *string
	var levels []string
	var cosine *float64
	_, err := pgx.ForEachRow(rows, []any{&version, &code, &name, &levels, &cosine}, func() error {
		if code == nil {
			return nil
		}
		c := &knowledge.Candidate{Code: *code, Name: *name}
		if cosine != nil {
			c.Dense = *cosine
		}
		for _, l := range levels {
			c.Levels = append(c.Levels, knowledge.Level(l))
		}
		byCode[*code] = c
		return nil
	})
	return version, err
}
