// Package postgres is the staff.Repo kept in PostgreSQL, in the staff_ tables of knowledge/postgres/migrations,
// over the pool of a knowledge/postgres Store, so several serve processes share accounts, sessions, drafts,
// synonyms, centre corrections, the widget's starter questions, pending publishes and the failed logins they
// throttle accounts on. Synonym, centre and starter changes are announced with NOTIFY on SynonymsChannel,
// CentresChannel and StartersChannel; Watch listens for them. It imports staff, knowledge, pgx and the standard library.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/staff"
)

// NOTIFY channels of the changes other processes apply in memory.
const (
	SynonymsChannel = "trolyao_staff_synonyms" // synonyms
	CentresChannel  = "trolyao_staff_centres"  // centre corrections
	StartersChannel = "trolyao_staff_starters" // the widget's starter questions
)

// Repo is the PostgreSQL staff.Repo. It is safe for concurrent use, also by several processes.
type Repo struct {
	pool *pgxpool.Pool
}

var (
	_ staff.Repo        = (*Repo)(nil)
	_ staff.StarterRepo = (*Repo)(nil)
	_ staff.Watcher     = (*Repo)(nil)
)

// New returns the repo over pool, whose connections use the schema migrated by knowledge/postgres.Open
// (pass (*postgres.Store).Pool()). Close does not close the pool.
func New(pool *pgxpool.Pool) *Repo { return &Repo{pool: pool} }

// Close does nothing: the pool belongs to the knowledge store.
func (r *Repo) Close() error { return nil }

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		err = knowledge.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		err = fmt.Errorf("%w: %s", staff.ErrExists, pe.ConstraintName)
	}
	return fmt.Errorf("staff postgres: %s: %w", op, err)
}

func notFoundIfNone(tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return knowledge.ErrNotFound
	}
	return nil
}

// CreateUser adds an account.
func (r *Repo) CreateUser(ctx context.Context, u staff.User) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO staff_users (username, role, password, disabled, created_at, unit)
		VALUES ($1, $2, $3, $4, $5, $6)`, u.Username, string(u.Role), u.Password, u.Disabled, u.CreatedAt, u.Unit)
	return wrap("create user", err)
}

const userCols = "username, role, password, disabled, created_at, unit"

func scanUser(row pgx.Row) (staff.User, error) {
	var u staff.User
	var role string
	err := row.Scan(&u.Username, &role, &u.Password, &u.Disabled, &u.CreatedAt, &u.Unit)
	u.Role, u.CreatedAt = staff.Role(role), u.CreatedAt.UTC()
	return u, err
}

// User returns an account.
func (r *Repo) User(ctx context.Context, username string) (staff.User, error) {
	u, err := scanUser(r.pool.QueryRow(ctx, "SELECT "+userCols+" FROM staff_users WHERE username = $1", username))
	return u, wrap("user", err)
}

// UpdateUser replaces an account.
func (r *Repo) UpdateUser(ctx context.Context, u staff.User) error {
	tag, err := r.pool.Exec(ctx, `UPDATE staff_users SET role = $2, password = $3, disabled = $4, unit = $5
		WHERE username = $1`, u.Username, string(u.Role), u.Password, u.Disabled, u.Unit)
	if err == nil {
		err = notFoundIfNone(tag)
	}
	return wrap("update user", err)
}

// Users lists the accounts by username.
func (r *Repo) Users(ctx context.Context) ([]staff.User, error) {
	rows, err := r.pool.Query(ctx, "SELECT "+userCols+" FROM staff_users ORDER BY username")
	if err != nil {
		return nil, wrap("users", err)
	}
	us, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (staff.User, error) { return scanUser(row) })
	return us, wrap("users", err)
}

const tokenCols = "id, name, role, hash, created_by, created_at, expires_at"

func scanToken(row pgx.Row) (staff.Token, error) {
	var t staff.Token
	var role string
	err := row.Scan(&t.ID, &t.Name, &role, &t.Hash, &t.CreatedBy, &t.CreatedAt, &t.ExpiresAt)
	t.Role, t.CreatedAt = staff.Role(role), t.CreatedAt.UTC()
	if t.ExpiresAt != nil {
		x := t.ExpiresAt.UTC()
		t.ExpiresAt = &x
	}
	return t, err
}

// CreateToken adds an API token.
func (r *Repo) CreateToken(ctx context.Context, t staff.Token) (staff.Token, error) {
	err := r.pool.QueryRow(ctx, `INSERT INTO staff_tokens (name, role, hash, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, t.Name, string(t.Role), t.Hash, t.CreatedBy, t.CreatedAt,
		t.ExpiresAt).Scan(&t.ID)
	return t, wrap("create token", err)
}

// TokenByHash finds a token by the hash of its secret.
func (r *Repo) TokenByHash(ctx context.Context, hash []byte) (staff.Token, error) {
	t, err := scanToken(r.pool.QueryRow(ctx, "SELECT "+tokenCols+" FROM staff_tokens WHERE hash = $1", hash))
	return t, wrap("token", err)
}

// Tokens lists the tokens by ID.
func (r *Repo) Tokens(ctx context.Context) ([]staff.Token, error) {
	rows, err := r.pool.Query(ctx, "SELECT "+tokenCols+" FROM staff_tokens ORDER BY id")
	if err != nil {
		return nil, wrap("tokens", err)
	}
	ts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (staff.Token, error) { return scanToken(row) })
	return ts, wrap("tokens", err)
}

// DeleteToken revokes a token.
func (r *Repo) DeleteToken(ctx context.Context, id int64) error {
	tag, err := r.pool.Exec(ctx, "DELETE FROM staff_tokens WHERE id = $1", id)
	if err == nil {
		err = notFoundIfNone(tag)
	}
	return wrap("delete token", err)
}

// CreateSession stores a session.
func (r *Repo) CreateSession(ctx context.Context, s staff.Session) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO staff_sessions (hash, username, csrf, created_at, last_seen, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, s.Hash, s.Username, s.CSRF, s.CreatedAt, s.LastSeen, s.ExpiresAt)
	return wrap("create session", err)
}

// Session returns a session by the hash of its id.
func (r *Repo) Session(ctx context.Context, hash []byte) (staff.Session, error) {
	var s staff.Session
	err := r.pool.QueryRow(ctx, `SELECT hash, username, csrf, created_at, last_seen, expires_at FROM staff_sessions
		WHERE hash = $1`, hash).Scan(&s.Hash, &s.Username, &s.CSRF, &s.CreatedAt, &s.LastSeen, &s.ExpiresAt)
	s.CreatedAt, s.LastSeen, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeen.UTC(), s.ExpiresAt.UTC()
	return s, wrap("session", err)
}

// TouchSession records activity on a session.
func (r *Repo) TouchSession(ctx context.Context, hash []byte, at time.Time) error {
	tag, err := r.pool.Exec(ctx, "UPDATE staff_sessions SET last_seen = $2 WHERE hash = $1", hash, at)
	if err == nil {
		err = notFoundIfNone(tag)
	}
	return wrap("touch session", err)
}

// DeleteSession ends a session; no error if absent.
func (r *Repo) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := r.pool.Exec(ctx, "DELETE FROM staff_sessions WHERE hash = $1", hash)
	return wrap("delete session", err)
}

// DeleteSessions ends every session of a user.
func (r *Repo) DeleteSessions(ctx context.Context, username string) error {
	_, err := r.pool.Exec(ctx, "DELETE FROM staff_sessions WHERE username = $1", username)
	return wrap("delete sessions", err)
}

func scanDraft(row pgx.Row) (staff.Draft, error) {
	var d staff.Draft
	var rec []byte
	if err := row.Scan(&d.Code, &d.Version, &rec, &d.UpdatedBy, &d.UpdatedAt); err != nil {
		return d, err
	}
	d.UpdatedAt = d.UpdatedAt.UTC()
	return d, json.Unmarshal(rec, &d.Procedure)
}

const draftCols = "code, version, procedure, updated_by, updated_at"

// Draft returns the draft of a code.
func (r *Repo) Draft(ctx context.Context, code string) (staff.Draft, error) {
	d, err := scanDraft(r.pool.QueryRow(ctx, "SELECT "+draftCols+" FROM staff_drafts WHERE code = $1", code))
	return d, wrap("draft", err)
}

// Drafts lists the drafts by code.
func (r *Repo) Drafts(ctx context.Context) ([]staff.Draft, error) {
	rows, err := r.pool.Query(ctx, "SELECT "+draftCols+" FROM staff_drafts ORDER BY code")
	if err != nil {
		return nil, wrap("drafts", err)
	}
	ds, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (staff.Draft, error) { return scanDraft(row) })
	return ds, wrap("drafts", err)
}

// SaveDraft stores the next version of a draft if base is current: one conditional statement, so of two
// concurrent saves from the same base exactly one succeeds.
func (r *Repo) SaveDraft(ctx context.Context, d staff.Draft, base int) (staff.Draft, error) {
	rec, err := json.Marshal(d.Procedure)
	if err != nil {
		return d, wrap("save draft", err)
	}
	d.Version = base + 1
	var tag pgconn.CommandTag
	if base == 0 {
		tag, err = r.pool.Exec(ctx, `INSERT INTO staff_drafts (code, version, procedure, updated_by, updated_at)
			VALUES ($1, 1, $2, $3, $4) ON CONFLICT (code) DO NOTHING`, d.Code, rec, d.UpdatedBy, d.UpdatedAt)
	} else {
		tag, err = r.pool.Exec(ctx, `UPDATE staff_drafts SET version = version + 1, procedure = $3, updated_by = $4,
			updated_at = $5 WHERE code = $1 AND version = $2`, d.Code, base, rec, d.UpdatedBy, d.UpdatedAt)
	}
	if err == nil && tag.RowsAffected() == 0 {
		err = staff.ErrConflict
	}
	return d, wrap("save draft", err)
}

// DeleteDraft removes a draft if base is current.
func (r *Repo) DeleteDraft(ctx context.Context, code string, base int) error {
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		var cur int
		if err := tx.QueryRow(ctx, "SELECT version FROM staff_drafts WHERE code = $1 FOR UPDATE", code).Scan(&cur); err != nil {
			return err
		}
		if cur != base {
			return staff.ErrConflict
		}
		_, err := tx.Exec(ctx, "DELETE FROM staff_drafts WHERE code = $1", code)
		return err
	})
	return wrap("delete draft", err)
}

// AddVersions appends versions and drops the published drafts in one transaction. Per-code advisory locks
// (taken in code order) serialise concurrent numbering of one code.
func (r *Repo) AddVersions(ctx context.Context, vs []staff.Version, dropDrafts map[string]int) ([]staff.Version, error) {
	var out []staff.Version
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) (err error) {
		out, err = addVersions(ctx, tx, vs, dropDrafts)
		return err
	})
	if err != nil {
		return nil, wrap("add versions", err)
	}
	return out, nil
}

func addVersions(ctx context.Context, tx pgx.Tx, vs []staff.Version, dropDrafts map[string]int) ([]staff.Version, error) {
	out := make([]staff.Version, len(vs))
	codes := make([]string, 0, len(vs))
	recs := make([][]byte, 0, len(vs))
	for _, v := range vs {
		codes = append(codes, v.Code)
		var rec []byte
		if v.Procedure != nil {
			b, err := json.Marshal(v.Procedure)
			if err != nil {
				return nil, err
			}
			rec = b
		}
		recs = append(recs, rec)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('staff_versions:' || c))
		FROM (SELECT DISTINCT unnest($1::text[]) AS c ORDER BY 1) s`, codes); err != nil {
		return nil, err
	}
	latest := map[string]int{}
	rows, err := tx.Query(ctx, `SELECT code, max(version) FROM staff_versions WHERE code = ANY($1) GROUP BY code`, codes)
	if err != nil {
		return nil, err
	}
	var (
		code string
		max  int
	)
	if _, err := pgx.ForEachRow(rows, []any{&code, &max}, func() error { latest[code] = max; return nil }); err != nil {
		return nil, err
	}
	var b pgx.Batch
	for i, v := range vs {
		latest[v.Code]++
		v.Version = latest[v.Code]
		b.Queue(`INSERT INTO staff_versions (code, version, action, by_user, at, note, hash, procedure)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, v.Code, v.Version, v.Action, v.By, v.At, v.Note, v.Hash, recs[i])
		out[i] = v
	}
	for code, ver := range dropDrafts {
		b.Queue("DELETE FROM staff_drafts WHERE code = $1 AND version = $2", code, ver)
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return nil, err
	}
	return out, nil
}

// AddPublishIntent stores a publish about to change the catalog tables.
func (r *Repo) AddPublishIntent(ctx context.Context, in staff.PublishIntent) (staff.PublishIntent, error) {
	data, err := json.Marshal(in)
	if err != nil {
		return in, wrap("add publish intent", err)
	}
	err = r.pool.QueryRow(ctx, `INSERT INTO staff_publish_intents (at, intent) VALUES ($1, $2) RETURNING id`,
		in.At, data).Scan(&in.ID)
	return in, wrap("add publish intent", err)
}

// PublishIntents lists the pending publishes by ID.
func (r *Repo) PublishIntents(ctx context.Context) ([]staff.PublishIntent, error) {
	rows, err := r.pool.Query(ctx, "SELECT id, intent FROM staff_publish_intents ORDER BY id")
	if err != nil {
		return nil, wrap("publish intents", err)
	}
	var (
		out  []staff.PublishIntent
		id   int64
		data []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &data}, func() error {
		var in staff.PublishIntent
		if err := json.Unmarshal(data, &in); err != nil {
			return err
		}
		in.ID = id
		out = append(out, in)
		return nil
	})
	return out, wrap("publish intents", err)
}

// CompletePublishIntent adds an intent's versions, drops its drafts and removes it in one transaction; the
// intent's row stays locked meanwhile, so that two processes do not both complete it.
func (r *Repo) CompletePublishIntent(ctx context.Context, id int64) ([]staff.Version, error) {
	var out []staff.Version
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		var data []byte
		if err := tx.QueryRow(ctx, "DELETE FROM staff_publish_intents WHERE id = $1 RETURNING intent", id).Scan(&data); err != nil {
			return err
		}
		var in staff.PublishIntent
		if err := json.Unmarshal(data, &in); err != nil {
			return err
		}
		var err error
		out, err = addVersions(ctx, tx, in.Versions, in.DropDrafts)
		return err
	})
	if err != nil {
		return nil, wrap("complete publish intent", err)
	}
	return out, nil
}

// DeletePublishIntent removes an intent without applying it.
func (r *Repo) DeletePublishIntent(ctx context.Context, id int64) error {
	tag, err := r.pool.Exec(ctx, "DELETE FROM staff_publish_intents WHERE id = $1", id)
	if err == nil {
		err = notFoundIfNone(tag)
	}
	return wrap("delete publish intent", err)
}

func scanVersion(row pgx.Row, withRecord bool) (staff.Version, error) {
	var v staff.Version
	var rec []byte
	if err := row.Scan(&v.Code, &v.Version, &v.Action, &v.By, &v.At, &v.Note, &v.Hash, &rec); err != nil {
		return v, err
	}
	v.At = v.At.UTC()
	if withRecord && rec != nil {
		v.Procedure = new(knowledge.Procedure)
		return v, json.Unmarshal(rec, v.Procedure)
	}
	return v, nil
}

// Versions lists a code's versions, newest first, without records.
func (r *Repo) Versions(ctx context.Context, code string) ([]staff.Version, error) {
	rows, err := r.pool.Query(ctx, `SELECT code, version, action, by_user, at, note, hash, NULL::jsonb
		FROM staff_versions WHERE code = $1 ORDER BY version DESC`, code)
	if err != nil {
		return nil, wrap("versions", err)
	}
	vs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (staff.Version, error) { return scanVersion(row, false) })
	return vs, wrap("versions", err)
}

// Version returns one version with its record.
func (r *Repo) Version(ctx context.Context, code string, version int) (staff.Version, error) {
	v, err := scanVersion(r.pool.QueryRow(ctx, `SELECT code, version, action, by_user, at, note, hash, procedure
		FROM staff_versions WHERE code = $1 AND version = $2`, code, version), true)
	return v, wrap("version", err)
}

// LatestVersions returns each code's latest version number.
func (r *Repo) LatestVersions(ctx context.Context) (map[string]int, error) {
	rows, err := r.pool.Query(ctx, "SELECT code, max(version) FROM staff_versions GROUP BY code")
	if err != nil {
		return nil, wrap("latest versions", err)
	}
	out := map[string]int{}
	var (
		code string
		v    int
	)
	_, err = pgx.ForEachRow(rows, []any{&code, &v}, func() error { out[code] = v; return nil })
	return out, wrap("latest versions", err)
}

// CreateImport stores a batch and its records (COPY for the records).
func (r *Repo) CreateImport(ctx context.Context, im staff.Import, recs []staff.ImportRecord) (staff.Import, error) {
	counts, err := json.Marshal(im.Counts)
	if err != nil {
		return im, wrap("create import", err)
	}
	err = pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO staff_imports (name, format, by_user, at, counts)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, im.Name, im.Format, im.By, im.At, counts).Scan(&im.ID); err != nil {
			return err
		}
		rows := make([][]any, len(recs))
		for i, rec := range recs {
			var p []byte
			if rec.Procedure != nil {
				b, err := json.Marshal(rec.Procedure)
				if err != nil {
					return err
				}
				p = b
			}
			rows[i] = []any{im.ID, i, rec.Code, rec.Name, rec.File, rec.Status, rec.Reason, p}
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"staff_import_records"},
			[]string{"import_id", "seq", "code", "name", "file", "status", "reason", "procedure"}, pgx.CopyFromRows(rows))
		return err
	})
	return im, wrap("create import", err)
}

const importCols = "id, name, format, by_user, at, counts, published, published_by, published_at"

func scanImport(row pgx.Row) (staff.Import, error) {
	var (
		im     staff.Import
		counts []byte
		n      *int
		by     *string
	)
	if err := row.Scan(&im.ID, &im.Name, &im.Format, &im.By, &im.At, &counts, &n, &by, &im.PublishedAt); err != nil {
		return im, err
	}
	im.At = im.At.UTC()
	im.Status = "open"
	if n != nil {
		im.Status, im.Published = "published", *n
	}
	if by != nil {
		im.PublishedBy = *by
	}
	if im.PublishedAt != nil {
		x := im.PublishedAt.UTC()
		im.PublishedAt = &x
	}
	return im, json.Unmarshal(counts, &im.Counts)
}

// Import returns a batch with its records in order.
func (r *Repo) Import(ctx context.Context, id int64) (staff.Import, []staff.ImportRecord, error) {
	im, err := scanImport(r.pool.QueryRow(ctx, "SELECT "+importCols+" FROM staff_imports WHERE id = $1", id))
	if err != nil {
		return im, nil, wrap("import", err)
	}
	rows, err := r.pool.Query(ctx, `SELECT code, name, file, status, reason, procedure FROM staff_import_records
		WHERE import_id = $1 ORDER BY seq`, id)
	if err != nil {
		return im, nil, wrap("import", err)
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (staff.ImportRecord, error) {
		var rec staff.ImportRecord
		var p []byte
		if err := row.Scan(&rec.Code, &rec.Name, &rec.File, &rec.Status, &rec.Reason, &p); err != nil {
			return rec, err
		}
		if p != nil {
			rec.Procedure = new(knowledge.Procedure)
			return rec, json.Unmarshal(p, rec.Procedure)
		}
		return rec, nil
	})
	return im, recs, wrap("import", err)
}

// Imports lists batches newest first.
func (r *Repo) Imports(ctx context.Context, limit int) ([]staff.Import, error) {
	rows, err := r.pool.Query(ctx, "SELECT "+importCols+" FROM staff_imports ORDER BY id DESC LIMIT $1", limit)
	if err != nil {
		return nil, wrap("imports", err)
	}
	ims, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (staff.Import, error) { return scanImport(row) })
	return ims, wrap("imports", err)
}

// MarkImportPublished records that a batch was published.
func (r *Repo) MarkImportPublished(ctx context.Context, id int64, by string, at time.Time, n int) error {
	tag, err := r.pool.Exec(ctx, `UPDATE staff_imports SET published = $2, published_by = $3, published_at = $4
		WHERE id = $1 AND published IS NULL`, id, n, by, at)
	if err == nil && tag.RowsAffected() == 0 {
		var one int
		if err = r.pool.QueryRow(ctx, "SELECT 1 FROM staff_imports WHERE id = $1", id).Scan(&one); err == nil {
			err = staff.ErrConflict
		}
	}
	return wrap("mark import published", err)
}

// SetHandled marks a queue group handled.
func (r *Repo) SetHandled(ctx context.Context, h staff.Handled) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO staff_handled (kind, key, by_user, at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (kind, key) DO UPDATE SET by_user = EXCLUDED.by_user, at = EXCLUDED.at`, h.Kind, h.Key, h.By, h.At)
	return wrap("set handled", err)
}

// Handled lists the handled marks.
func (r *Repo) Handled(ctx context.Context) ([]staff.Handled, error) {
	rows, err := r.pool.Query(ctx, "SELECT kind, key, by_user, at FROM staff_handled ORDER BY kind, key")
	if err != nil {
		return nil, wrap("handled", err)
	}
	hs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (staff.Handled, error) {
		var h staff.Handled
		err := row.Scan(&h.Kind, &h.Key, &h.By, &h.At)
		h.At = h.At.UTC()
		return h, err
	})
	return hs, wrap("handled", err)
}

// AddSynonym adds a synonym or replaces the target of its phrase, and notifies SynonymsChannel.
func (r *Repo) AddSynonym(ctx context.Context, s staff.Synonym) (staff.Synonym, error) {
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO staff_synonyms (phrase, target, by_user, at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (phrase) DO UPDATE SET target = EXCLUDED.target, by_user = EXCLUDED.by_user, at = EXCLUDED.at
			RETURNING id`, s.Phrase, s.To, s.By, s.At).Scan(&s.ID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "SELECT pg_notify($1, '')", SynonymsChannel)
		return err
	})
	return s, wrap("add synonym", err)
}

// DeleteSynonym removes a synonym and notifies SynonymsChannel.
func (r *Repo) DeleteSynonym(ctx context.Context, id int64) error {
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM staff_synonyms WHERE id = $1", id)
		if err != nil {
			return err
		}
		if err := notFoundIfNone(tag); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "SELECT pg_notify($1, '')", SynonymsChannel)
		return err
	})
	return wrap("delete synonym", err)
}

// Synonyms lists the synonyms by ID.
func (r *Repo) Synonyms(ctx context.Context) ([]staff.Synonym, error) {
	rows, err := r.pool.Query(ctx, "SELECT id, phrase, target, by_user, at FROM staff_synonyms ORDER BY id")
	if err != nil {
		return nil, wrap("synonyms", err)
	}
	ss, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (staff.Synonym, error) {
		var s staff.Synonym
		err := row.Scan(&s.ID, &s.Phrase, &s.To, &s.By, &s.At)
		s.At = s.At.UTC()
		return s, err
	})
	return ss, wrap("synonyms", err)
}

const centreCols = "unit_code, version, name, address, address_precision, phone, hours, note, by_user, at"

func scanCentre(row pgx.Row) (staff.CentreCorrection, error) {
	var c staff.CentreCorrection
	err := row.Scan(&c.UnitCode, &c.Version, &c.Name, &c.Address, &c.Precision, &c.Phone, &c.Hours, &c.Note, &c.By, &c.At)
	c.At = c.At.UTC()
	return c, err
}

// CentreCorrections lists the centre corrections by unit code.
func (r *Repo) CentreCorrections(ctx context.Context) ([]staff.CentreCorrection, error) {
	rows, err := r.pool.Query(ctx, "SELECT "+centreCols+" FROM staff_centres ORDER BY unit_code")
	if err != nil {
		return nil, wrap("centre corrections", err)
	}
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (staff.CentreCorrection, error) { return scanCentre(row) })
	return cs, wrap("centre corrections", err)
}

// CentreCorrection returns the correction of a unit's centre.
func (r *Repo) CentreCorrection(ctx context.Context, unit string) (staff.CentreCorrection, error) {
	c, err := scanCentre(r.pool.QueryRow(ctx, "SELECT "+centreCols+" FROM staff_centres WHERE unit_code = $1", unit))
	return c, wrap("centre correction", err)
}

// SaveCentreCorrection stores the next version of a unit's correction if base is current (one conditional
// statement, so of two concurrent saves from the same base exactly one succeeds) and notifies CentresChannel.
func (r *Repo) SaveCentreCorrection(ctx context.Context, c staff.CentreCorrection, base int) (staff.CentreCorrection, error) {
	c.Version = base + 1
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		var (
			tag pgconn.CommandTag
			err error
		)
		if base == 0 {
			tag, err = tx.Exec(ctx, `INSERT INTO staff_centres (`+centreCols+`)
				VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (unit_code) DO NOTHING`,
				c.UnitCode, c.Name, c.Address, c.Precision, c.Phone, c.Hours, c.Note, c.By, c.At)
		} else {
			tag, err = tx.Exec(ctx, `UPDATE staff_centres SET version = version + 1, name = $3, address = $4,
				address_precision = $5, phone = $6, hours = $7, note = $8, by_user = $9, at = $10
				WHERE unit_code = $1 AND version = $2`,
				c.UnitCode, base, c.Name, c.Address, c.Precision, c.Phone, c.Hours, c.Note, c.By, c.At)
		}
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return staff.ErrConflict
		}
		_, err = tx.Exec(ctx, "SELECT pg_notify($1, '')", CentresChannel)
		return err
	})
	return c, wrap("save centre correction", err)
}

// DeleteCentreCorrection removes a unit's correction if base is current and notifies CentresChannel.
func (r *Repo) DeleteCentreCorrection(ctx context.Context, unit string, base int) error {
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		var cur int
		if err := tx.QueryRow(ctx, "SELECT version FROM staff_centres WHERE unit_code = $1 FOR UPDATE", unit).Scan(&cur); err != nil {
			return err
		}
		if cur != base {
			return staff.ErrConflict
		}
		if _, err := tx.Exec(ctx, "DELETE FROM staff_centres WHERE unit_code = $1", unit); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "SELECT pg_notify($1, '')", CentresChannel)
		return err
	})
	return wrap("delete centre correction", err)
}

// Starters returns the starter questions staff set.
func (r *Repo) Starters(ctx context.Context) (staff.Starters, error) {
	var s staff.Starters
	err := r.pool.QueryRow(ctx, "SELECT version, questions, by_user, at FROM staff_starters").Scan(&s.Version, &s.Questions, &s.By, &s.At)
	s.At = s.At.UTC()
	return s, wrap("starters", err)
}

// SaveStarters stores the next version of the starter questions if base is current (one conditional statement,
// as SaveCentreCorrection) and notifies StartersChannel.
func (r *Repo) SaveStarters(ctx context.Context, s staff.Starters, base int) (staff.Starters, error) {
	s.Version = base + 1
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		var (
			tag pgconn.CommandTag
			err error
		)
		if base == 0 {
			tag, err = tx.Exec(ctx, `INSERT INTO staff_starters (version, questions, by_user, at) VALUES (1, $1, $2, $3)
				ON CONFLICT (singleton) DO NOTHING`, s.Questions, s.By, s.At)
		} else {
			tag, err = tx.Exec(ctx, `UPDATE staff_starters SET version = version + 1, questions = $2, by_user = $3, at = $4
				WHERE version = $1`, base, s.Questions, s.By, s.At)
		}
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return staff.ErrConflict
		}
		_, err = tx.Exec(ctx, "SELECT pg_notify($1, '')", StartersChannel)
		return err
	})
	return s, wrap("save starters", err)
}

// DeleteStarters removes the starter questions staff set if base is current and notifies StartersChannel.
func (r *Repo) DeleteStarters(ctx context.Context, base int) error {
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		var cur int
		if err := tx.QueryRow(ctx, "SELECT version FROM staff_starters FOR UPDATE").Scan(&cur); err != nil {
			return err
		}
		if cur != base {
			return staff.ErrConflict
		}
		if _, err := tx.Exec(ctx, "DELETE FROM staff_starters"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "SELECT pg_notify($1, '')", StartersChannel)
		return err
	})
	return wrap("delete starters", err)
}

// AppendAudit appends an audit entry (the table's trigger rejects updates and deletes).
func (r *Repo) AppendAudit(ctx context.Context, e staff.AuditEntry) (staff.AuditEntry, error) {
	var details any
	if len(e.Details) > 0 {
		details = []byte(e.Details)
	}
	err := r.pool.QueryRow(ctx, `INSERT INTO staff_audit (at, actor, action, target, details) VALUES ($1, $2, $3, $4, $5)
		RETURNING id`, e.At, e.Actor, e.Action, e.Target, details).Scan(&e.ID)
	return e, wrap("append audit", err)
}

// Audit lists entries newest first with ID below before (0: from the newest).
func (r *Repo) Audit(ctx context.Context, before int64, limit int) ([]staff.AuditEntry, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := r.pool.Query(ctx, `SELECT id, at, actor, action, target, details FROM staff_audit WHERE id < $1
		ORDER BY id DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, wrap("audit", err)
	}
	es, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (staff.AuditEntry, error) {
		var e staff.AuditEntry
		var d []byte
		err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Target, &d)
		e.At, e.Details = e.At.UTC(), d
		return e, err
	})
	return es, wrap("audit", err)
}

// LoginFailures counts username's failed logins at or after since and after its last successful one, on
// the index staff_audit_actor_idx of migration 0006: it reads the account's failures since then, and its
// logins.
func (r *Repo) LoginFailures(ctx context.Context, username string, since time.Time) (int, time.Time, error) {
	var n int
	var last *time.Time
	err := r.pool.QueryRow(ctx, `SELECT count(*), max(at) FROM staff_audit
		WHERE actor = $1 AND action = 'login_failed' AND at >= $2 AND at > coalesce(
			(SELECT max(at) FROM staff_audit WHERE actor = $1 AND action = 'login'), '-infinity')`,
		username, since).Scan(&n, &last)
	if err != nil || last == nil {
		return n, time.Time{}, wrap("login failures", err)
	}
	return n, last.UTC(), nil
}

// Watch listens on SynonymsChannel, CentresChannel and StartersChannel with a connection of its own and calls changed for every
// notification (and once after (re)connecting, since notifications may have been missed), until ctx ends.
func (r *Repo) Watch(ctx context.Context, changed func()) error {
	for {
		err := r.listen(ctx, changed)
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
		_ = err // reconnect after a pause
	}
}

func (r *Repo) listen(ctx context.Context, changed func()) error {
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	for _, ch := range []string{SynonymsChannel, CentresChannel, StartersChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			conn.Conn().Close(context.Background())
			return err
		}
	}
	changed()
	for {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			// The connection may hold a LISTEN or be mid-wait: do not return it to the pool.
			conn.Conn().Close(context.Background())
			return err
		}
		changed()
	}
}
