// Package embedded is the staff.Repo kept in a bbolt file of its own (e.g. <data dir>/staff.db), for the
// single-process default setup. It imports staff, knowledge, bbolt and the standard library.
package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/staff"
)

// Buckets of the file. Keys: users by username, tokens by big-endian id (tokenHashes: hash → id), sessions by
// hash, drafts by code, versions by code + 0 + big-endian version, imports by id, importRecords by id + seq,
// handled by kind + 0 + key, synonyms by id (phrases: phrase → id), centre corrections by unit code, audit by
// id (loginFailures: actor → the times of its failed logins since its last login, kept by AppendAudit),
// publish intents by id, settings by name (the widget's starter questions under "starters").
var (
	bUsers         = []byte("users")
	bTokens        = []byte("tokens")
	bTokenHashes   = []byte("token_hashes")
	bSessions      = []byte("sessions")
	bDrafts        = []byte("drafts")
	bVersions      = []byte("versions")
	bImports       = []byte("imports")
	bImportRecords = []byte("import_records")
	bHandled       = []byte("handled")
	bSynonyms      = []byte("synonyms")
	bPhrases       = []byte("synonym_phrases")
	bAudit         = []byte("audit")
	bCentres       = []byte("centres")
	bLoginFailures = []byte("login_failures")
	bIntents       = []byte("publish_intents")
	bSettings      = []byte("settings")
	allBuckets     = [][]byte{bUsers, bTokens, bTokenHashes, bSessions, bDrafts, bVersions, bImports, bImportRecords,
		bHandled, bSynonyms, bPhrases, bAudit, bCentres, bLoginFailures, bIntents, bSettings}
	keyStarters = "starters"
)

// Repo is the embedded staff.Repo. It is safe for concurrent use.
type Repo struct {
	db *bolt.DB
}

var (
	_ staff.Repo        = (*Repo)(nil)
	_ staff.StarterRepo = (*Repo)(nil)
)

// Open opens (creating if needed) the staff file at path.
func Open(path string) (*Repo, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("staff embedded: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("staff embedded: open %s: %w", path, err)
	}
	return &Repo{db: db}, nil
}

// Close closes the file.
func (r *Repo) Close() error { return r.db.Close() }

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func get[T any](b *bolt.Bucket, k []byte) (T, error) {
	var v T
	data := b.Get(k)
	if data == nil {
		return v, knowledge.ErrNotFound
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("decode: %w", err)
	}
	return v, nil
}

// saveVersioned stores v under key if the stored value's version (0 when there is none) is base: optimistic
// concurrency for drafts, centre corrections and starter questions. v carries its next version already.
func saveVersioned[T any](b *bolt.Bucket, key string, base int, v T, version func(T) int) error {
	have := 0
	cur, err := get[T](b, []byte(key))
	switch {
	case err == nil:
		have = version(cur)
	case !errors.Is(err, knowledge.ErrNotFound):
		return err
	}
	if have != base {
		return staff.ErrConflict
	}
	return put(b, []byte(key), v)
}

// deleteVersioned removes key if the stored value's version is base.
func deleteVersioned[T any](b *bolt.Bucket, key string, base int, version func(T) int) error {
	cur, err := get[T](b, []byte(key))
	if err != nil {
		return err
	}
	if version(cur) != base {
		return staff.ErrConflict
	}
	return b.Delete([]byte(key))
}

func put(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

func all[T any](b *bolt.Bucket) ([]T, error) {
	var out []T
	err := b.ForEach(func(k, v []byte) error {
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

func (r *Repo) view(ctx context.Context, op string, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("staff embedded: %s: %w", op, err)
	}
	if err := r.db.View(fn); err != nil {
		return fmt.Errorf("staff embedded: %s: %w", op, err)
	}
	return nil
}

func (r *Repo) update(ctx context.Context, op string, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("staff embedded: %s: %w", op, err)
	}
	if err := r.db.Update(fn); err != nil {
		return fmt.Errorf("staff embedded: %s: %w", op, err)
	}
	return nil
}

// user is the stored form of a user (User hides the password from JSON).
type user struct {
	staff.User
	Password string `json:"password"`
}

func toUser(u user) staff.User { u.User.Password = u.Password; return u.User }

// CreateUser adds an account.
func (r *Repo) CreateUser(ctx context.Context, u staff.User) error {
	return r.update(ctx, "create user", func(tx *bolt.Tx) error {
		b := tx.Bucket(bUsers)
		if b.Get([]byte(u.Username)) != nil {
			return staff.ErrExists
		}
		return put(b, []byte(u.Username), user{User: u, Password: u.Password})
	})
}

// User returns an account.
func (r *Repo) User(ctx context.Context, username string) (staff.User, error) {
	var out staff.User
	err := r.view(ctx, "user", func(tx *bolt.Tx) error {
		u, err := get[user](tx.Bucket(bUsers), []byte(username))
		out = toUser(u)
		return err
	})
	return out, err
}

// UpdateUser replaces an account.
func (r *Repo) UpdateUser(ctx context.Context, u staff.User) error {
	return r.update(ctx, "update user", func(tx *bolt.Tx) error {
		b := tx.Bucket(bUsers)
		if b.Get([]byte(u.Username)) == nil {
			return knowledge.ErrNotFound
		}
		return put(b, []byte(u.Username), user{User: u, Password: u.Password})
	})
}

// Users lists the accounts by username.
func (r *Repo) Users(ctx context.Context) ([]staff.User, error) {
	var out []staff.User
	err := r.view(ctx, "users", func(tx *bolt.Tx) error {
		us, err := all[user](tx.Bucket(bUsers))
		for _, u := range us {
			out = append(out, toUser(u))
		}
		return err
	})
	return out, err
}

type token struct {
	staff.Token
	Hash []byte `json:"hash"`
}

func toToken(t token) staff.Token { t.Token.Hash = t.Hash; return t.Token }

// CreateToken adds an API token.
func (r *Repo) CreateToken(ctx context.Context, t staff.Token) (staff.Token, error) {
	err := r.update(ctx, "create token", func(tx *bolt.Tx) error {
		b := tx.Bucket(bTokens)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		t.ID = int64(id)
		if tx.Bucket(bTokenHashes).Get(t.Hash) != nil {
			return staff.ErrExists
		}
		if err := tx.Bucket(bTokenHashes).Put(t.Hash, u64(id)); err != nil {
			return err
		}
		return put(b, u64(id), token{Token: t, Hash: t.Hash})
	})
	return t, err
}

// TokenByHash finds a token by the hash of its secret.
func (r *Repo) TokenByHash(ctx context.Context, hash []byte) (staff.Token, error) {
	var out staff.Token
	err := r.view(ctx, "token", func(tx *bolt.Tx) error {
		id := tx.Bucket(bTokenHashes).Get(hash)
		if id == nil {
			return knowledge.ErrNotFound
		}
		t, err := get[token](tx.Bucket(bTokens), id)
		out = toToken(t)
		return err
	})
	return out, err
}

// Tokens lists the tokens by ID.
func (r *Repo) Tokens(ctx context.Context) ([]staff.Token, error) {
	var out []staff.Token
	err := r.view(ctx, "tokens", func(tx *bolt.Tx) error {
		ts, err := all[token](tx.Bucket(bTokens))
		for _, t := range ts {
			out = append(out, toToken(t))
		}
		return err
	})
	return out, err
}

// DeleteToken revokes a token.
func (r *Repo) DeleteToken(ctx context.Context, id int64) error {
	return r.update(ctx, "delete token", func(tx *bolt.Tx) error {
		b := tx.Bucket(bTokens)
		t, err := get[token](b, u64(uint64(id)))
		if err != nil {
			return err
		}
		if err := tx.Bucket(bTokenHashes).Delete(t.Hash); err != nil {
			return err
		}
		return b.Delete(u64(uint64(id)))
	})
}

// CreateSession stores a session.
func (r *Repo) CreateSession(ctx context.Context, s staff.Session) error {
	return r.update(ctx, "create session", func(tx *bolt.Tx) error {
		return put(tx.Bucket(bSessions), s.Hash, s)
	})
}

// Session returns a session by the hash of its id.
func (r *Repo) Session(ctx context.Context, hash []byte) (staff.Session, error) {
	var out staff.Session
	err := r.view(ctx, "session", func(tx *bolt.Tx) error {
		var err error
		out, err = get[staff.Session](tx.Bucket(bSessions), hash)
		return err
	})
	return out, err
}

// TouchSession records activity on a session.
func (r *Repo) TouchSession(ctx context.Context, hash []byte, at time.Time) error {
	return r.update(ctx, "touch session", func(tx *bolt.Tx) error {
		b := tx.Bucket(bSessions)
		s, err := get[staff.Session](b, hash)
		if err != nil {
			return err
		}
		s.LastSeen = at
		return put(b, hash, s)
	})
}

// DeleteSession ends a session; no error if absent.
func (r *Repo) DeleteSession(ctx context.Context, hash []byte) error {
	return r.update(ctx, "delete session", func(tx *bolt.Tx) error { return tx.Bucket(bSessions).Delete(hash) })
}

// DeleteSessions ends every session of a user.
func (r *Repo) DeleteSessions(ctx context.Context, username string) error {
	return r.update(ctx, "delete sessions", func(tx *bolt.Tx) error {
		b := tx.Bucket(bSessions)
		var victims [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var s staff.Session
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			if s.Username == username {
				victims = append(victims, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range victims {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// Draft returns the draft of a code.
func (r *Repo) Draft(ctx context.Context, code string) (staff.Draft, error) {
	var out staff.Draft
	err := r.view(ctx, "draft", func(tx *bolt.Tx) error {
		var err error
		out, err = get[staff.Draft](tx.Bucket(bDrafts), []byte(code))
		return err
	})
	return out, err
}

// Drafts lists the drafts by code.
func (r *Repo) Drafts(ctx context.Context) ([]staff.Draft, error) {
	var out []staff.Draft
	err := r.view(ctx, "drafts", func(tx *bolt.Tx) error {
		var err error
		out, err = all[staff.Draft](tx.Bucket(bDrafts))
		return err
	})
	return out, err
}

// SaveDraft stores the next version of a draft if base is current.
func (r *Repo) SaveDraft(ctx context.Context, d staff.Draft, base int) (staff.Draft, error) {
	d.Version = base + 1
	err := r.update(ctx, "save draft", func(tx *bolt.Tx) error {
		return saveVersioned(tx.Bucket(bDrafts), d.Code, base, d, func(d staff.Draft) int { return d.Version })
	})
	return d, err
}

// DeleteDraft removes a draft if base is current.
func (r *Repo) DeleteDraft(ctx context.Context, code string, base int) error {
	return r.update(ctx, "delete draft", func(tx *bolt.Tx) error {
		return deleteVersioned(tx.Bucket(bDrafts), code, base, func(d staff.Draft) int { return d.Version })
	})
}

func versionKey(code string, v int) []byte {
	k := append([]byte(code), 0)
	return binary.BigEndian.AppendUint32(k, uint32(v))
}

// AddVersions appends versions and drops the published drafts atomically.
func (r *Repo) AddVersions(ctx context.Context, vs []staff.Version, dropDrafts map[string]int) ([]staff.Version, error) {
	var out []staff.Version
	err := r.update(ctx, "add versions", func(tx *bolt.Tx) (err error) {
		out, err = addVersions(tx, vs, dropDrafts)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func addVersions(tx *bolt.Tx, vs []staff.Version, dropDrafts map[string]int) ([]staff.Version, error) {
	out := make([]staff.Version, len(vs))
	b := tx.Bucket(bVersions)
	for i, v := range vs {
		prefix := append([]byte(v.Code), 0)
		last := 0
		c := b.Cursor()
		// The last key with this prefix: seek past it and step back.
		k, _ := c.Seek(versionKey(v.Code, 1<<31))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		if k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+4 {
			last = int(binary.BigEndian.Uint32(k[len(prefix):]))
		}
		v.Version = last + 1
		if err := put(b, versionKey(v.Code, v.Version), v); err != nil {
			return nil, err
		}
		out[i] = v
	}
	d := tx.Bucket(bDrafts)
	for code, ver := range dropDrafts {
		cur, err := get[staff.Draft](d, []byte(code))
		if errors.Is(err, knowledge.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if cur.Version == ver {
			if err := d.Delete([]byte(code)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// AddPublishIntent stores a publish about to change the catalog store.
func (r *Repo) AddPublishIntent(ctx context.Context, in staff.PublishIntent) (staff.PublishIntent, error) {
	err := r.update(ctx, "add publish intent", func(tx *bolt.Tx) error {
		b := tx.Bucket(bIntents)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		in.ID = int64(id)
		return put(b, u64(id), in)
	})
	return in, err
}

// PublishIntents lists the pending publishes by ID.
func (r *Repo) PublishIntents(ctx context.Context) ([]staff.PublishIntent, error) {
	var out []staff.PublishIntent
	err := r.view(ctx, "publish intents", func(tx *bolt.Tx) (err error) {
		out, err = all[staff.PublishIntent](tx.Bucket(bIntents))
		return err
	})
	return out, err
}

// CompletePublishIntent adds an intent's versions, drops its drafts and removes it in one transaction.
func (r *Repo) CompletePublishIntent(ctx context.Context, id int64) ([]staff.Version, error) {
	var out []staff.Version
	err := r.update(ctx, "complete publish intent", func(tx *bolt.Tx) error {
		b := tx.Bucket(bIntents)
		in, err := get[staff.PublishIntent](b, u64(uint64(id)))
		if err != nil {
			return err
		}
		if out, err = addVersions(tx, in.Versions, in.DropDrafts); err != nil {
			return err
		}
		return b.Delete(u64(uint64(id)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeletePublishIntent removes an intent without applying it.
func (r *Repo) DeletePublishIntent(ctx context.Context, id int64) error {
	return r.update(ctx, "delete publish intent", func(tx *bolt.Tx) error {
		b := tx.Bucket(bIntents)
		if b.Get(u64(uint64(id))) == nil {
			return knowledge.ErrNotFound
		}
		return b.Delete(u64(uint64(id)))
	})
}

// Versions lists a code's versions, newest first, without records.
func (r *Repo) Versions(ctx context.Context, code string) ([]staff.Version, error) {
	var out []staff.Version
	err := r.view(ctx, "versions", func(tx *bolt.Tx) error {
		prefix := append([]byte(code), 0)
		c := tx.Bucket(bVersions).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) != len(prefix)+4 {
				continue
			}
			var x staff.Version
			if err := json.Unmarshal(v, &x); err != nil {
				return err
			}
			x.Procedure = nil
			out = append(out, x)
		}
		return nil
	})
	slices.Reverse(out)
	return out, err
}

// Version returns one version with its record.
func (r *Repo) Version(ctx context.Context, code string, version int) (staff.Version, error) {
	var out staff.Version
	err := r.view(ctx, "version", func(tx *bolt.Tx) error {
		if version <= 0 {
			return knowledge.ErrNotFound
		}
		var err error
		out, err = get[staff.Version](tx.Bucket(bVersions), versionKey(code, version))
		return err
	})
	return out, err
}

// LatestVersions returns each code's latest version number.
func (r *Repo) LatestVersions(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	err := r.view(ctx, "latest versions", func(tx *bolt.Tx) error {
		return tx.Bucket(bVersions).ForEach(func(k, _ []byte) error {
			if len(k) < 5 {
				return nil
			}
			code := string(k[:len(k)-5])
			if v := int(binary.BigEndian.Uint32(k[len(k)-4:])); v > out[code] {
				out[code] = v
			}
			return nil
		})
	})
	return out, err
}

// importRecord is the stored form of an import record, with its procedure.
type importRecord struct {
	staff.ImportRecord
	Procedure *knowledge.Procedure `json:"procedure,omitempty"`
}

func recordKey(id int64, seq int) []byte {
	return binary.BigEndian.AppendUint32(u64(uint64(id)), uint32(seq))
}

// CreateImport stores a batch and its records.
func (r *Repo) CreateImport(ctx context.Context, im staff.Import, recs []staff.ImportRecord) (staff.Import, error) {
	err := r.update(ctx, "create import", func(tx *bolt.Tx) error {
		b := tx.Bucket(bImports)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		im.ID = int64(id)
		if err := put(b, u64(id), im); err != nil {
			return err
		}
		rb := tx.Bucket(bImportRecords)
		for i, rec := range recs {
			if err := put(rb, recordKey(im.ID, i), importRecord{ImportRecord: rec, Procedure: rec.Procedure}); err != nil {
				return err
			}
		}
		return nil
	})
	return im, err
}

// Import returns a batch with its records in order.
func (r *Repo) Import(ctx context.Context, id int64) (staff.Import, []staff.ImportRecord, error) {
	var (
		im   staff.Import
		recs []staff.ImportRecord
	)
	err := r.view(ctx, "import", func(tx *bolt.Tx) error {
		var err error
		if im, err = get[staff.Import](tx.Bucket(bImports), u64(uint64(id))); err != nil {
			return err
		}
		prefix := u64(uint64(id))
		c := tx.Bucket(bImportRecords).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var x importRecord
			if err := json.Unmarshal(v, &x); err != nil {
				return err
			}
			x.ImportRecord.Procedure = x.Procedure
			recs = append(recs, x.ImportRecord)
		}
		return nil
	})
	return im, recs, err
}

// Imports lists batches newest first.
func (r *Repo) Imports(ctx context.Context, limit int) ([]staff.Import, error) {
	var out []staff.Import
	err := r.view(ctx, "imports", func(tx *bolt.Tx) error {
		c := tx.Bucket(bImports).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var x staff.Import
			if err := json.Unmarshal(v, &x); err != nil {
				return err
			}
			out = append(out, x)
		}
		return nil
	})
	return out, err
}

// MarkImportPublished records that a batch was published.
func (r *Repo) MarkImportPublished(ctx context.Context, id int64, by string, at time.Time, n int) error {
	return r.update(ctx, "mark import published", func(tx *bolt.Tx) error {
		b := tx.Bucket(bImports)
		im, err := get[staff.Import](b, u64(uint64(id)))
		if err != nil {
			return err
		}
		if im.Status == "published" {
			return staff.ErrConflict
		}
		im.Status, im.PublishedBy, im.PublishedAt, im.Published = "published", by, &at, n
		return put(b, u64(uint64(id)), im)
	})
}

// SetHandled marks a queue group handled.
func (r *Repo) SetHandled(ctx context.Context, h staff.Handled) error {
	return r.update(ctx, "set handled", func(tx *bolt.Tx) error {
		return put(tx.Bucket(bHandled), []byte(h.Kind+"\x00"+h.Key), h)
	})
}

// Handled lists the handled marks.
func (r *Repo) Handled(ctx context.Context) ([]staff.Handled, error) {
	var out []staff.Handled
	err := r.view(ctx, "handled", func(tx *bolt.Tx) error {
		var err error
		out, err = all[staff.Handled](tx.Bucket(bHandled))
		return err
	})
	return out, err
}

// AddSynonym adds a synonym or replaces the target of its phrase.
func (r *Repo) AddSynonym(ctx context.Context, s staff.Synonym) (staff.Synonym, error) {
	err := r.update(ctx, "add synonym", func(tx *bolt.Tx) error {
		b, pb := tx.Bucket(bSynonyms), tx.Bucket(bPhrases)
		if id := pb.Get([]byte(s.Phrase)); id != nil {
			s.ID = int64(binary.BigEndian.Uint64(id))
		} else {
			id, err := b.NextSequence()
			if err != nil {
				return err
			}
			s.ID = int64(id)
			if err := pb.Put([]byte(s.Phrase), u64(id)); err != nil {
				return err
			}
		}
		return put(b, u64(uint64(s.ID)), s)
	})
	return s, err
}

// DeleteSynonym removes a synonym.
func (r *Repo) DeleteSynonym(ctx context.Context, id int64) error {
	return r.update(ctx, "delete synonym", func(tx *bolt.Tx) error {
		b := tx.Bucket(bSynonyms)
		s, err := get[staff.Synonym](b, u64(uint64(id)))
		if err != nil {
			return err
		}
		if err := tx.Bucket(bPhrases).Delete([]byte(s.Phrase)); err != nil {
			return err
		}
		return b.Delete(u64(uint64(id)))
	})
}

// Synonyms lists the synonyms by ID.
func (r *Repo) Synonyms(ctx context.Context) ([]staff.Synonym, error) {
	var out []staff.Synonym
	err := r.view(ctx, "synonyms", func(tx *bolt.Tx) error {
		var err error
		out, err = all[staff.Synonym](tx.Bucket(bSynonyms))
		return err
	})
	return out, err
}

// CentreCorrections lists the centre corrections by unit code.
func (r *Repo) CentreCorrections(ctx context.Context) ([]staff.CentreCorrection, error) {
	var out []staff.CentreCorrection
	err := r.view(ctx, "centre corrections", func(tx *bolt.Tx) error {
		var err error
		out, err = all[staff.CentreCorrection](tx.Bucket(bCentres))
		return err
	})
	return out, err
}

// CentreCorrection returns the correction of a unit's centre.
func (r *Repo) CentreCorrection(ctx context.Context, unit string) (staff.CentreCorrection, error) {
	var out staff.CentreCorrection
	err := r.view(ctx, "centre correction", func(tx *bolt.Tx) error {
		var err error
		out, err = get[staff.CentreCorrection](tx.Bucket(bCentres), []byte(unit))
		return err
	})
	return out, err
}

// SaveCentreCorrection stores the next version of a unit's correction if base is current.
func (r *Repo) SaveCentreCorrection(ctx context.Context, c staff.CentreCorrection, base int) (staff.CentreCorrection, error) {
	c.Version = base + 1
	err := r.update(ctx, "save centre correction", func(tx *bolt.Tx) error {
		return saveVersioned(tx.Bucket(bCentres), c.UnitCode, base, c,
			func(c staff.CentreCorrection) int { return c.Version })
	})
	return c, err
}

// DeleteCentreCorrection removes a unit's correction if base is current.
func (r *Repo) DeleteCentreCorrection(ctx context.Context, unit string, base int) error {
	return r.update(ctx, "delete centre correction", func(tx *bolt.Tx) error {
		return deleteVersioned(tx.Bucket(bCentres), unit, base, func(c staff.CentreCorrection) int { return c.Version })
	})
}

// Starters returns the starter questions staff set.
func (r *Repo) Starters(ctx context.Context) (staff.Starters, error) {
	var out staff.Starters
	err := r.view(ctx, "starters", func(tx *bolt.Tx) error {
		var err error
		out, err = get[staff.Starters](tx.Bucket(bSettings), []byte(keyStarters))
		return err
	})
	return out, err
}

// SaveStarters stores the next version of the starter questions if base is current.
func (r *Repo) SaveStarters(ctx context.Context, s staff.Starters, base int) (staff.Starters, error) {
	s.Version = base + 1
	err := r.update(ctx, "save starters", func(tx *bolt.Tx) error {
		return saveVersioned(tx.Bucket(bSettings), keyStarters, base, s, func(s staff.Starters) int { return s.Version })
	})
	return s, err
}

// DeleteStarters removes the starter questions staff set if base is current.
func (r *Repo) DeleteStarters(ctx context.Context, base int) error {
	return r.update(ctx, "delete starters", func(tx *bolt.Tx) error {
		return deleteVersioned(tx.Bucket(bSettings), keyStarters, base, func(s staff.Starters) int { return s.Version })
	})
}

// AppendAudit appends an audit entry. The bucket has no update or delete path.
func (r *Repo) AppendAudit(ctx context.Context, e staff.AuditEntry) (staff.AuditEntry, error) {
	err := r.update(ctx, "append audit", func(tx *bolt.Tx) error {
		b := tx.Bucket(bAudit)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		e.ID = int64(id)
		if err := put(b, u64(id), e); err != nil {
			return err
		}
		return noteLogin(tx.Bucket(bLoginFailures), e)
	})
	return e, err
}

// maxLoginFailures is how many of an actor's failed logins the loginFailures bucket keeps: more would
// not change the throttle's lock (it doubles at most 10 times).
const maxLoginFailures = 32

// noteLogin keeps the loginFailures bucket up to date with e: a failed login adds its time to its actor's
// (keeping the last maxLoginFailures), a login clears them.
func noteLogin(b *bolt.Bucket, e staff.AuditEntry) error {
	key := []byte(e.Actor)
	switch e.Action {
	case "login":
		return b.Delete(key)
	case "login_failed":
		var ts []time.Time
		if data := b.Get(key); data != nil {
			if err := json.Unmarshal(data, &ts); err != nil {
				return fmt.Errorf("decode: %w", err)
			}
		}
		ts = append(ts, e.At)
		if len(ts) > maxLoginFailures {
			ts = ts[len(ts)-maxLoginFailures:]
		}
		return put(b, key, ts)
	}
	return nil
}

// Audit lists entries newest first with ID below before (0: from the newest).
func (r *Repo) Audit(ctx context.Context, before int64, limit int) ([]staff.AuditEntry, error) {
	var out []staff.AuditEntry
	err := r.view(ctx, "audit", func(tx *bolt.Tx) error {
		c := tx.Bucket(bAudit).Cursor()
		var k, v []byte
		if before > 0 {
			k, v = c.Seek(u64(uint64(before)))
			if k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		} else {
			k, v = c.Last()
		}
		for ; k != nil && len(out) < limit; k, v = c.Prev() {
			var e staff.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// LoginFailures counts username's failed logins at or after since and after its last successful one, from
// the loginFailures bucket that AppendAudit keeps (the last maxLoginFailures of them).
func (r *Repo) LoginFailures(ctx context.Context, username string, since time.Time) (int, time.Time, error) {
	var n int
	var last time.Time
	err := r.view(ctx, "login failures", func(tx *bolt.Tx) error {
		data := tx.Bucket(bLoginFailures).Get([]byte(username))
		if data == nil {
			return nil
		}
		var ts []time.Time
		if err := json.Unmarshal(data, &ts); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		for _, t := range ts {
			if !t.Before(since) {
				n++
				if t.After(last) {
					last = t
				}
			}
		}
		return nil
	})
	return n, last, err
}
