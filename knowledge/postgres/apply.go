package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/trolyao/trolyao/knowledge"
)

// Dimension limits of pgvector: a vector column holds up to 16,000 dimensions, an HNSW index up to 2,000
// (vector) or 4,000 (halfvec). Above 4,000 the dense list is an exact scan.
const (
	maxDim        = 16000
	maxVectorIdx  = 2000
	maxHalfvecIdx = 4000
)

// Thresholds of Apply's bulk paths.
const (
	// rebuildMin is the number of upserts into an empty table from which Apply drops the HNSW index and
	// builds it after the copy, which is much faster than inserting into it row by row.
	rebuildMin = 1000
	// analyzeMin is the number of changed procedures from which Apply vacuums and analyzes.
	analyzeMin = 1000
)

// indexName is the HNSW index of the embeddings.
const indexName = "procedures_embedding_idx"

// termStat is the change of one term's statistics: the df difference and the bounds of new postings.
type termStat struct {
	df    int64
	maxTF float64
	minDL float64
}

// row is a validated document ready to copy.
type row struct {
	doc    *knowledge.Doc
	data   []byte
	levels []string
	terms  []string
	folded string
}

// Apply writes a change in one transaction: a concurrent Search sees all of it or none of it.
// Writers are serialised by a row lock on the corpus statistics.
func (s *Store) Apply(ctx context.Context, c knowledge.Change) error {
	start := time.Now()
	rows, err := prepare(c.Upsert)
	if err != nil {
		return fmt.Errorf("postgres: apply: %w", err)
	}
	if c.Meta != nil && (c.Meta.Dim < 0 || c.Meta.Dim > maxDim) {
		return fmt.Errorf("postgres: apply: %w: dimension %d, want 0..%d", knowledge.ErrInvalid, c.Meta.Dim, maxDim)
	}
	for _, code := range c.Delete {
		if err := checkText("code", code); err != nil {
			return fmt.Errorf("postgres: apply: %w", err)
		}
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: apply: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	rebuilt, err := s.apply(ctx, tx, c, rows)
	if err != nil {
		return fmt.Errorf("postgres: apply: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: apply: commit: %w", err)
	}
	if s.stop != nil {
		// This process's searches see the change as soon as Apply returns; the others' when their
		// listener gets the notification.
		if err := s.refresh(ctx); err != nil {
			s.log.Warn("postgres: refresh the lexical index after apply; the listener or the next search will",
				"err", err)
		}
	}
	if c.Reset || rebuilt || len(rows)+len(c.Delete) >= analyzeMin {
		// The planner needs fresh statistics to pick the postings and HNSW indexes after a large change, and
		// index-only scans of the postings need the visibility map that VACUUM sets (about a second for
		// 100,000 procedures). The change is committed: a failure here only costs speed until autovacuum runs.
		if _, err := s.pool.Exec(ctx, "VACUUM (ANALYZE) procedures, postings, term_stats"); err != nil {
			s.log.Warn("postgres: vacuum after apply", "err", err)
		}
	}
	s.log.Debug("postgres: applied change", "upserted", len(rows), "deleted", len(c.Delete), "reset", c.Reset,
		"meta", c.Meta != nil, "index_rebuilt", rebuilt, "took", time.Since(start))
	return nil
}

// apply does the work of Apply inside tx and reports whether it rebuilt the HNSW index.
func (s *Store) apply(ctx context.Context, tx pgx.Tx, c knowledge.Change, rows []row) (bool, error) {
	if _, err := tx.Exec(ctx, "SELECT 1 FROM corpus FOR UPDATE"); err != nil {
		return false, fmt.Errorf("lock: %w", err)
	}
	cur, err := readMeta(ctx, tx)
	if err != nil {
		return false, fmt.Errorf("meta: %w", err)
	}
	meta := cur
	if c.Meta != nil {
		meta = *c.Meta
	}
	codes := changedCodes(c, rows)
	if err := checkDim(ctx, tx, c.Reset, rows, codes, cur.Dim, meta.Dim); err != nil {
		return false, err
	}
	stats, err := removeChanged(ctx, tx, c.Reset, codes)
	if err != nil {
		return false, err
	}
	rebuild, err := dropIndexForLoad(ctx, tx, meta.Dim != cur.Dim, len(rows), meta.Dim)
	if err != nil {
		return false, err
	}
	if err := insertRows(ctx, tx, rows, stats); err != nil {
		return false, err
	}
	if err := updateTermStats(ctx, tx, stats); err != nil {
		return false, err
	}
	if err := recordChange(ctx, tx, c.Reset, codes); err != nil {
		return false, err
	}
	if c.Meta != nil {
		if _, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('index', $1)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, *c.Meta); err != nil {
			return false, fmt.Errorf("meta: %w", err)
		}
	}
	if rebuild {
		if err := createIndex(ctx, tx, meta.Dim); err != nil {
			return false, err
		}
	}
	return rebuild, nil
}

// changedCodes lists the codes whose stored procedures a change removes or replaces: the deleted ones
// first, then the upserted ones.
func changedCodes(c knowledge.Change, rows []row) []string {
	codes := make([]string, 0, len(c.Delete)+len(rows))
	codes = append(codes, c.Delete...)
	for _, r := range rows {
		codes = append(codes, r.doc.Procedure.Code)
	}
	return codes
}

// checkDim rejects upserts whose vectors do not have the dimension the index will have, and a change of
// dimension that would leave procedures embedded in the old one: without Reset, every procedure the
// change does not touch would have to be re-embedded.
func checkDim(ctx context.Context, tx pgx.Tx, reset bool, rows []row, codes []string, cur, dim int) error {
	for _, r := range rows {
		if len(r.doc.Vector) != dim {
			return fmt.Errorf("%s: %w: vector has %d dimensions, the index %d",
				r.doc.Procedure.Code, knowledge.ErrInvalid, len(r.doc.Vector), dim)
		}
	}
	if dim == cur || reset {
		return nil
	}
	var rest bool
	err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM procedures WHERE code <> ALL($1))", codes).Scan(&rest)
	if err != nil {
		return err
	}
	if rest {
		return fmt.Errorf("%w: the dimension changes from %d to %d: that needs Reset or every "+
			"procedure re-embedded", knowledge.ErrInvalid, cur, dim)
	}
	return nil
}

// removeChanged deletes what goes: everything on reset, else the procedures of codes and their postings.
// It returns the postings removed per term, as negative document frequencies, for updateTermStats.
func removeChanged(ctx context.Context, tx pgx.Tx, reset bool, codes []string) (map[string]*termStat, error) {
	stats := map[string]*termStat{}
	if reset {
		for _, sql := range []string{"DELETE FROM postings", "DELETE FROM procedures", "DELETE FROM term_stats"} {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return nil, fmt.Errorf("reset: %w", err)
			}
		}
		return stats, nil
	}
	if len(codes) == 0 {
		return stats, nil
	}
	rs, err := tx.Query(ctx, `WITH d AS (
				DELETE FROM postings p
				USING (SELECT code, unnest(terms) AS term FROM procedures WHERE code = ANY($1)) o
				WHERE p.term = o.term AND p.code = o.code
				RETURNING p.term)
			SELECT term, count(*) FROM d GROUP BY term`, codes)
	if err != nil {
		return nil, fmt.Errorf("delete postings: %w", err)
	}
	var term string
	var n int64
	_, err = pgx.ForEachRow(rs, []any{&term, &n}, func() error {
		stats[term] = &termStat{df: -n, minDL: math.Inf(1)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delete postings: %w", err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM procedures WHERE code = ANY($1)", codes); err != nil {
		return nil, fmt.Errorf("delete procedures: %w", err)
	}
	return stats, nil
}

// dropIndexForLoad drops the HNSW index when it is to be built again after the copy, and reports whether
// it did: a new dimension needs a new index, and a large load into an empty table is faster without one.
func dropIndexForLoad(ctx context.Context, tx pgx.Tx, dimChanged bool, upserts, dim int) (bool, error) {
	rebuild := dimChanged
	if !rebuild && upserts >= rebuildMin && dim > 0 {
		if err := tx.QueryRow(ctx, "SELECT NOT EXISTS (SELECT 1 FROM procedures)").Scan(&rebuild); err != nil {
			return false, err
		}
	}
	if rebuild {
		if _, err := tx.Exec(ctx, "DROP INDEX IF EXISTS "+indexName); err != nil {
			return false, fmt.Errorf("drop index: %w", err)
		}
	}
	return rebuild, nil
}

// insertRows copies the upserted procedures and their postings, and adds their terms to stats.
func insertRows(ctx context.Context, tx pgx.Tx, rows []row, stats map[string]*termStat) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"procedures"},
		[]string{"code", "name", "levels", "data", "hash", "len", "terms", "folded", "embedding"}, procedureRows(rows)); err != nil {
		return fmt.Errorf("copy procedures: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"postings"}, []string{"term", "code", "tf", "dl"},
		postingRows(rows)); err != nil {
		return fmt.Errorf("copy postings: %w", err)
	}
	for _, r := range rows {
		for t, tf := range r.doc.Terms {
			st := stats[t]
			if st == nil {
				st = &termStat{minDL: math.Inf(1)}
				stats[t] = st
			}
			st.df++
			st.maxTF = max(st.maxTF, tf)
			st.minDL = min(st.minDL, r.doc.Len)
		}
	}
	return nil
}

// updateTermStats writes the change of the term statistics: it adds the differences of df, widens the
// bounds, and drops the terms no document has any more.
func updateTermStats(ctx context.Context, tx pgx.Tx, stats map[string]*termStat) error {
	n := 0
	for _, st := range stats {
		if st.df != 0 || st.maxTF > 0 || !math.IsInf(st.minDL, 1) {
			n++
		}
	}
	terms := make([]string, 0, n)
	dfs := make([]int64, 0, n)
	maxTFs := make([]float64, 0, n)
	minDLs := make([]float64, 0, n)
	for t, st := range stats {
		if st.df != 0 || st.maxTF > 0 || !math.IsInf(st.minDL, 1) {
			terms, dfs, maxTFs, minDLs = append(terms, t), append(dfs, st.df), append(maxTFs, st.maxTF),
				append(minDLs, st.minDL)
		}
	}
	if len(terms) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO term_stats (term, df, max_tf, min_dl)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::float8[])
			ON CONFLICT (term) DO UPDATE SET df = term_stats.df + excluded.df,
				max_tf = greatest(term_stats.max_tf, excluded.max_tf),
				min_dl = least(term_stats.min_dl, excluded.min_dl)`, terms, dfs, maxTFs, minDLs); err != nil {
		return fmt.Errorf("term stats: %w", err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM term_stats WHERE term = ANY($1) AND df <= 0", terms); err != nil {
		return fmt.Errorf("term stats: %w", err)
	}
	return nil
}

// recordChange updates the corpus statistics, moves the catalog to its next version and logs the change
// with a notification: the change log and the notification keep every process's lexical index current
// (see refresh). The notification is delivered when the transaction commits, and not at all if it does
// not. A reset makes every process read its whole index again: its codes (the whole catalog) would only
// fill the log.
func recordChange(ctx context.Context, tx pgx.Tx, reset bool, codes []string) error {
	var version int64
	if err := tx.QueryRow(ctx, `UPDATE corpus SET n = (SELECT count(*) FROM procedures),
		total_len = (SELECT coalesce(sum(len), 0) FROM procedures), version = version + 1
		RETURNING version`).Scan(&version); err != nil {
		return fmt.Errorf("corpus stats: %w", err)
	}
	logged := codes
	if reset {
		logged = []string{}
	}
	if _, err := tx.Exec(ctx, `WITH log AS (
			INSERT INTO catalog_changes (version, reset, codes) VALUES ($1, $2, $3)
		), pruned AS (
			DELETE FROM catalog_changes WHERE version <= $1 - $4::bigint
		)
		SELECT pg_notify($5, current_schema() || ':' || $1::text)`,
		version, reset, logged, keepChanges, notifyChannel); err != nil {
		return fmt.Errorf("change log: %w", err)
	}
	return nil
}

// createIndex builds the HNSW index of embeddings of dimension dim, when one can index them.
func createIndex(ctx context.Context, tx pgx.Tx, dim int) error {
	sql := createIndexSQL(dim)
	if sql == "" {
		return nil
	}
	// An HNSW build that does not fit maintenance_work_mem (64MB by default) goes on on disk several
	// times slower; 100,000 procedures of 256 dimensions need about 200MB. For this transaction only.
	if _, err := tx.Exec(ctx, "SELECT set_config('maintenance_work_mem', $1, true)", hnswBuildMem); err != nil {
		return fmt.Errorf("create index: %w", err)
	}
	if _, err := tx.Exec(ctx, sql); err != nil {
		return fmt.Errorf("create index: %w", err)
	}
	return nil
}

// HNSW build parameters. pgvector's defaults (m 16, ef_construction 64) gave a dense recall@10 of 0.73 at
// ef_search 100 and needed ef_search 800 for 0.95 on the 100k benchmark (BenchmarkSearchReal, hash
// embeddings of 256 dimensions); with m 32 and ef_construction 128, ef_search 250 gave 0.95–0.96 and 300
// gives 0.95–0.97 (HNSW builds vary) for about 2ms more than ef_search 100, and the build of 100,000
// procedures takes about 40s on 2 vCPUs (the whole ingest 100s instead of 82s).
const (
	hnswM              = 32
	hnswEfConstruction = 128
	hnswBuildMem       = "512MB" // maintenance_work_mem of the transaction that builds the index
)

// createIndexSQL is the statement that indexes embeddings of dimension dim, "" when none can. The index is
// partial: rows of another dimension, which the transaction that changes the dimension has deleted but an
// index build still visits, stay out of it (the cast would fail on them).
func createIndexSQL(dim int) string {
	switch {
	case dim <= 0 || dim > maxHalfvecIdx:
		return ""
	case dim <= maxVectorIdx:
		return fmt.Sprintf("CREATE INDEX %[1]s ON procedures USING hnsw ((embedding::vector(%[2]d)) vector_cosine_ops) "+
			"WITH (m = %[3]d, ef_construction = %[4]d) WHERE vector_dims(embedding) = %[2]d", indexName, dim, hnswM,
			hnswEfConstruction)
	default:
		return fmt.Sprintf("CREATE INDEX %[1]s ON procedures USING hnsw ((embedding::halfvec(%[2]d)) halfvec_cosine_ops) "+
			"WITH (m = %[3]d, ef_construction = %[4]d) WHERE vector_dims(embedding) = %[2]d", indexName, dim, hnswM,
			hnswEfConstruction)
	}
}

// prepare validates the upserts that do not depend on the stored meta and encodes them; of several
// documents with one code the last wins.
func prepare(docs []knowledge.Doc) ([]row, error) {
	last := make(map[string]int, len(docs))
	for i := range docs {
		last[docs[i].Procedure.Code] = i
	}
	rows := make([]row, 0, len(last))
	for i := range docs {
		d := &docs[i]
		p := &d.Procedure
		if last[p.Code] != i {
			continue
		}
		if p.Code == "" {
			return nil, fmt.Errorf("%w: a document has no procedure code", knowledge.ErrInvalid)
		}
		if err := checkText("code", p.Code); err != nil {
			return nil, err
		}
		if err := checkText("name", p.Name); err != nil {
			return nil, fmt.Errorf("%s: %w", p.Code, err)
		}
		if err := checkText("hash", d.Hash); err != nil {
			return nil, fmt.Errorf("%s: %w", p.Code, err)
		}
		if !finite(d.Len) || d.Len < 0 {
			return nil, fmt.Errorf("%s: %w: length %v", p.Code, knowledge.ErrInvalid, d.Len)
		}
		for t, tf := range d.Terms {
			if err := checkText("term", t); err != nil {
				return nil, fmt.Errorf("%s: %w", p.Code, err)
			}
			if !finite(tf) || tf < 0 {
				return nil, fmt.Errorf("%s: %w: term frequency %v", p.Code, knowledge.ErrInvalid, tf)
			}
		}
		for _, x := range d.Vector {
			if !finite(float64(x)) {
				return nil, fmt.Errorf("%s: %w: vector component %v", p.Code, knowledge.ErrInvalid, x)
			}
		}
		data, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %v", p.Code, knowledge.ErrInvalid, err)
		}
		if bytes.Contains(data, []byte(`\u0000`)) { // jsonb cannot hold NUL characters
			return nil, fmt.Errorf("%s: %w: a text field has a NUL character", p.Code, knowledge.ErrInvalid)
		}
		levels := make([]string, len(p.Levels))
		for j, l := range p.Levels {
			levels[j] = string(l)
			if err := checkText("level", levels[j]); err != nil {
				return nil, fmt.Errorf("%s: %w", p.Code, err)
			}
		}
		folded := knowledge.Fold(strings.Join(append(append([]string{p.Name}, p.Aliases...), p.Field), " "))
		terms := make([]string, 0, len(d.Terms))
		for t := range d.Terms {
			terms = append(terms, t)
		}
		rows = append(rows, row{doc: d, data: data, levels: levels, terms: terms, folded: strings.ToValidUTF8(
			strings.ReplaceAll(folded, "\x00", ""), "")})
	}
	return rows, nil
}

// checkText rejects what a PostgreSQL text value cannot hold: invalid UTF-8 and NUL characters.
func checkText(what, s string) error {
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%w: %s %q is not valid UTF-8 text", knowledge.ErrInvalid, what, s)
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// procedureRows streams rows into COPY procedures.
func procedureRows(rows []row) pgx.CopyFromSource {
	return pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		r := rows[i]
		var emb any
		if len(r.doc.Vector) > 0 {
			emb = pgvector.NewVector(r.doc.Vector)
		}
		return []any{r.doc.Procedure.Code, r.doc.Procedure.Name, r.levels, r.data, r.doc.Hash, r.doc.Len,
			r.terms, r.folded, emb}, nil
	})
}

// postingSource streams one row per (document, term) into COPY postings.
type postingSource struct {
	rows  []row
	i     int
	terms []string
	cur   []any
}

func postingRows(rows []row) pgx.CopyFromSource { return &postingSource{rows: rows, i: -1} }

func (p *postingSource) Next() bool {
	for len(p.terms) == 0 {
		p.i++
		if p.i >= len(p.rows) {
			return false
		}
		p.terms = append(p.terms[:0], p.rows[p.i].terms...)
	}
	d := p.rows[p.i].doc
	t := p.terms[len(p.terms)-1]
	p.terms = p.terms[:len(p.terms)-1]
	p.cur = []any{t, d.Procedure.Code, d.Terms[t], d.Len}
	return true
}

func (p *postingSource) Values() ([]any, error) { return p.cur, nil }
func (p *postingSource) Err() error             { return nil }
