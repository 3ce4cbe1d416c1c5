// Package postgres is the production procedure store: PostgreSQL with pgvector. Procedures, a BM25 postings
// index and the embeddings live in one schema, the only copy of the catalog; Apply is one transaction. It
// imports knowledge, pgx and pgvector-go; it never uses langchaingo's vector store (see DESIGN.md).
//
// Search takes the dense list from pgvector's HNSW index and, by default, the lexical list from an in-memory
// copy of the postings table (lexindex.go): exact BM25 over every posting of the query's terms, the embedded
// store's arithmetic, scored in this process while PostgreSQL walks the HNSW graph, so that a search costs
// the longer of the two rather than their sum. Real questions analyse into 30–90 terms whose postings, on a
// large catalog, number in the hundreds of thousands: a few milliseconds in memory, where the same exact
// BM25 in SQL (lexicalSQL, kept for Config.SQLLexical) takes tens to hundreds.
//
// Several processes may share one database and write through Apply while serving. Each Apply increments
// corpus.version, records the changed codes in catalog_changes and notifies the channel trolyao_catalog,
// all in its transaction. Every store listens on a connection of its own (listen.go) and, on a notification
// of its schema, reads the changed procedures' postings into a new snapshot of its index (or reloads it
// after a reset, a large change or a gap in the log); the store that applied refreshes before Apply
// returns. On reconnection the listener catches up from the version it has. Searches never trust the
// listener for correctness: each statement a search runs also reads corpus.version, and a search whose
// index is behind refreshes it and starts again (or answers in SQL while the whole index is being read
// again), so a search describes one version of the catalog, as the store contract requires.
//
// The index holds each posting as a slot and a term frequency (12 bytes) and each procedure's term ids
// (4 bytes a posting), with per-procedure and per-term tables: about 120 MB for 100,000 procedures (6.8
// million postings), which Open reads in a few seconds. See BenchmarkSearchReal for its size and speed.
package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/trolyao/trolyao/knowledge"
)

// Config configures a Store.
type Config struct {
	URL    string // connection URL or keyword/value DSN
	Schema string // schema of the store's tables, created if absent; "" keeps the server's search_path
	// MaxConns is the pool size; 0 for pgxpool's default. A search uses up to two connections at once but
	// never holds one while it waits for another, so any size works. The in-memory lexical index also keeps
	// one listening connection outside the pool: count MaxConns+1 per process against max_connections.
	MaxConns int
	EfSearch int          // hnsw.ef_search of a search (raised to its Limit); 0 for DefaultEfSearch
	Logger   *slog.Logger // nil discards
	// SQLLexical scores BM25 in SQL (see lexicalSQL) instead of in the in-memory lexical index: no memory
	// for the index and no listening connection, but searches of large catalogs take tens of milliseconds
	// more (see the package documentation).
	SQLLexical bool
}

// DefaultEfSearch is the HNSW candidate list size of a search. pgvector's default (40) loses recall on real
// text embeddings (see DESIGN.md); 300 gives recall@10 0.95–0.97 against exact search on the 100k benchmark with
// the index's build parameters (see hnswM in apply.go).
const DefaultEfSearch = 300

// maxEfSearch is pgvector's upper bound for hnsw.ef_search.
const maxEfSearch = 1000

// setupLock is the advisory lock key under which Open creates extensions and schemas and migrates,
// so that processes starting together do not race ("trolyao" + 1).
const setupLock int64 = 0x74726f6c79616f01

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the PostgreSQL store. It is safe for concurrent use, also by several processes.
type Store struct {
	pool     *pgxpool.Pool
	schema   string
	efSearch int
	log      *slog.Logger

	seedBudget int64 // see lexicalSQL; tests lower it to exercise pruning on small catalogs

	// The in-memory lexical index (nil with Config.SQLLexical) and what keeps it current; see listen.
	lex        atomic.Pointer[lexIndex]
	lexMu      sync.Mutex  // serialises refresh
	reloading  atomic.Bool // a refresh is reading the whole index
	schemaName string      // current_schema() of the pool's connections, the prefix of notifications
	connConfig *pgx.ConnConfig
	listenPID  atomic.Uint32      // backend process of the listening connection, for tests
	stop       context.CancelFunc // stops the listener
	listenDone chan struct{}      // closed when the listener has stopped
	closeOnce  sync.Once
}

var _ knowledge.Store = (*Store)(nil)

// Open connects, creates the vector and unaccent extensions when they are missing (which needs the right
// privilege once), creates the schema and applies the embedded migrations, then opens a pool whose
// connections know the vector types and use the schema. Unless Config.SQLLexical, it then loads the in-memory
// lexical index and opens the connection that listens for other processes' changes; it fails if either
// fails. Close stops the listener.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ef := cfg.EfSearch
	if ef == 0 {
		ef = DefaultEfSearch
	}
	if ef < 1 || ef > maxEfSearch {
		return nil, fmt.Errorf("postgres: open: %w: EfSearch %d, want 1..%d", knowledge.ErrInvalid, ef, maxEfSearch)
	}
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if cfg.MaxConns > 0 {
		pcfg.MaxConns = int32(min(cfg.MaxConns, 1<<20))
	}
	conn, err := pgx.ConnectConfig(ctx, pcfg.ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres: open: connect: %w", err)
	}
	searchPath, err := setup(ctx, conn, cfg.Schema)
	if cerr := conn.Close(ctx); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if searchPath != "" {
		pcfg.ConnConfig.RuntimeParams["search_path"] = searchPath
	}
	// The search statement's estimated cost crosses jit_above_cost on large catalogs; compiling it costs
	// hundreds of milliseconds and never pays back on queries that run in a few.
	pcfg.ConnConfig.RuntimeParams["jit"] = "off"
	pcfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		return pgxvec.RegisterTypes(ctx, c)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s := &Store{pool: pool, schema: cfg.Schema, efSearch: ef, log: log, seedBudget: seedBudget,
		connConfig: pcfg.ConnConfig}
	if !cfg.SQLLexical {
		start := time.Now()
		if err := s.startIndex(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("postgres: open: lexical index: %w", err)
		}
		ix := s.lex.Load()
		log.Info("postgres: lexical index loaded", "procedures", ix.live, "terms", len(ix.termID),
			"version", ix.version, "took", time.Since(start))
	}
	log.Debug("postgres store open", "schema", cfg.Schema, "ef_search", ef, "sql_lexical", cfg.SQLLexical)
	return s, nil
}

// startIndex loads the in-memory lexical index and starts the listener that keeps it current.
func (s *Store) startIndex(ctx context.Context) error {
	if err := s.pool.QueryRow(ctx, "SELECT current_schema()").Scan(&s.schemaName); err != nil {
		return err
	}
	conn, err := s.subscribe(ctx)
	if err != nil {
		return err
	}
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop, s.listenDone = stop, make(chan struct{})
	go s.listen(lctx, conn)
	return nil
}

// Pool is the store's connection pool, whose connections use the store's schema. Other parts of the service
// (the Zalo queue, staff data) keep their tables in the same database through it; their tables are created by
// this package's migrations, so that one migration history covers the whole database.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close stops the listener and closes the pool. It may be called more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.stop != nil {
			s.stop()
			<-s.listenDone
		}
		s.pool.Close()
	})
	return nil
}

// setup prepares the database in one transaction under an advisory lock and returns the search_path the
// pool's connections must use ("" to keep the server's).
func setup(ctx context.Context, conn *pgx.Conn, schema string) (string, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", setupLock); err != nil {
		return "", fmt.Errorf("lock: %w", err)
	}
	// Create a missing extension only: one that is there needs no privilege.
	for _, ext := range []string{"vector", "unaccent"} {
		var present bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = $1)", ext).Scan(&present); err != nil {
			return "", err
		}
		if !present {
			if _, err := tx.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS "+pgx.Identifier{ext}.Sanitize()); err != nil {
				return "", fmt.Errorf("create extension %s (a superuser must do it once): %w", ext, err)
			}
		}
	}
	searchPath := ""
	if schema != "" {
		var extSchema string
		err := tx.QueryRow(ctx, `SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
			WHERE e.extname = 'vector'`).Scan(&extSchema)
		if err != nil {
			return "", err
		}
		searchPath = pgx.Identifier{schema}.Sanitize()
		if extSchema != schema {
			searchPath += ", " + pgx.Identifier{extSchema}.Sanitize()
		}
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return "", fmt.Errorf("create schema: %w", err)
		}
		if _, err := tx.Exec(ctx, "SELECT set_config('search_path', $1, true)", searchPath); err != nil {
			return "", err
		}
	}
	if err := migrate(ctx, tx); err != nil {
		return "", err
	}
	return searchPath, tx.Commit(ctx)
}

// renamedMigrations maps the names migrations had before they were numbered uniquely (two were 0003 and three
// 0006) to their names now, in their unchanged order: a database migrated under the old names records them
// under the new ones and applies nothing twice.
var renamedMigrations = map[string]string{
	"0003_staff":                "0004_staff",
	"0004_zalo":                 "0005_zalo",
	"0005_catalog_changes":      "0006_catalog_changes",
	"0006_staff_centres":        "0007_staff_centres",
	"0006_staff_login_failures": "0008_staff_login_failures",
	"0006_zalo_sending":         "0009_zalo_sending",
	"0007_staff_unit":           "0010_staff_unit",
	"0008_feedback_reason":      "0011_feedback_reason",
}

// migrate applies the embedded migrations that schema_migrations does not list, in name order.
func migrate(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// No new name is an old one, so the renames cannot collide; they happen in this transaction or not at all.
	for _, old := range slices.Sorted(maps.Keys(renamedMigrations)) {
		if _, err := tx.Exec(ctx, "UPDATE schema_migrations SET version = $2 WHERE version = $1", old,
			renamedMigrations[old]); err != nil {
			return fmt.Errorf("migrate: rename %s: %w", old, err)
		}
	}
	rows, err := tx.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	slices.Sort(names)
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		if slices.Contains(applied, version) {
			continue
		}
		sql, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if _, err := tx.Exec(ctx, string(sql)); err != nil {
			return fmt.Errorf("migrate %s: %w", version, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", version); err != nil {
			return fmt.Errorf("migrate %s: %w", version, err)
		}
	}
	return nil
}

// Get returns the procedure with the given code.
func (s *Store) Get(ctx context.Context, code string) (knowledge.Procedure, error) {
	var data []byte
	err := s.pool.QueryRow(ctx, "SELECT data FROM procedures WHERE code = $1", code).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return knowledge.Procedure{}, fmt.Errorf("postgres: get %q: %w", code, knowledge.ErrNotFound)
	}
	if err != nil {
		return knowledge.Procedure{}, fmt.Errorf("postgres: get %q: %w", code, err)
	}
	var p knowledge.Procedure
	if err := json.Unmarshal(data, &p); err != nil {
		return knowledge.Procedure{}, fmt.Errorf("postgres: get %q: %w", code, err)
	}
	return p, nil
}

// List returns every procedure, ordered by code.
func (s *Store) List(ctx context.Context) ([]knowledge.Procedure, error) {
	rows, err := s.pool.Query(ctx, "SELECT data FROM procedures ORDER BY code")
	if err != nil {
		return nil, fmt.Errorf("postgres: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (knowledge.Procedure, error) {
		var data []byte
		var p knowledge.Procedure
		if err := row.Scan(&data); err != nil {
			return p, err
		}
		return p, json.Unmarshal(data, &p)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list: %w", err)
	}
	return out, nil
}

// Hashes returns the content hash of every procedure by code.
func (s *Store) Hashes(ctx context.Context) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, "SELECT code, hash FROM procedures")
	if err != nil {
		return nil, fmt.Errorf("postgres: hashes: %w", err)
	}
	out := map[string]string{}
	var code, hash string
	_, err = pgx.ForEachRow(rows, []any{&code, &hash}, func() error {
		out[code] = hash
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: hashes: %w", err)
	}
	return out, nil
}

// Meta returns the stored embedder identity, zero when none was stored.
func (s *Store) Meta(ctx context.Context) (knowledge.Meta, error) {
	m, err := readMeta(ctx, s.pool)
	if err != nil {
		return m, fmt.Errorf("postgres: meta: %w", err)
	}
	return m, nil
}

// querier is what readMeta needs from a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func readMeta(ctx context.Context, q querier) (knowledge.Meta, error) {
	var m knowledge.Meta
	var data []byte
	err := q.QueryRow(ctx, "SELECT value FROM meta WHERE key = 'index'").Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, nil
	}
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(data, &m)
}
