package zalo

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bolt is the embedded Queue: a bbolt file of its own (e.g. <data dir>/zalo.db), fsync'd on every commit.
// bbolt lets one process hold the file, so the in-process locks are the whole story: OpenBolt clears the
// leases a dead process left, and a per-OA mutex serialises token refreshes.
//
// Buckets:
//
//	zalo_keys     oa \x00 key → {"id", "at"}: the de-duplication index of the inbox
//	zalo_jobs     big-endian id → unfinished job (JSON)
//	zalo_sends    big-endian id → unsent message (JSON)
//	zalo_finished big-endian id → the record of a finished send (JSON: outcome, code, time; no body)
//	zalo_users    oa \x00 user → last inbound time (big-endian Unix nanoseconds)
//	zalo_tokens   oa → token state (JSON)
type Bolt struct {
	db     *bolt.DB
	mu     sync.Mutex
	tokens map[string]*sync.Mutex
}

var _ Queue = (*Bolt)(nil)

var (
	bktKeys     = []byte("zalo_keys")
	bktJobs     = []byte("zalo_jobs")
	bktSends    = []byte("zalo_sends")
	bktFinished = []byte("zalo_finished")
	bktUsers    = []byte("zalo_users")
	bktTokens   = []byte("zalo_tokens")
)

type boltJob struct {
	Job
	NotBefore time.Time `json:"not_before"`
}

type boltSend struct {
	Send
	NotBefore time.Time `json:"not_before"`
}

type boltKey struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
}

type boltFinished struct {
	OA        string    `json:"oa"`
	User      string    `json:"user"`
	Sent      bool      `json:"sent"`
	MessageID string    `json:"message_id,omitempty"`
	Code      int       `json:"code,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Attempts  int       `json:"attempts"`
	At        time.Time `json:"at"`
}

// OpenBolt opens (creating it when missing) the queue file at path. It fails with a clear error when another
// process holds the file. Leases left by a previous process are cleared: their jobs and sends are available at
// once.
func OpenBolt(path string) (*Bolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("zalo: open %s: another process holds the queue file", path)
		}
		return nil, fmt.Errorf("zalo: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bktKeys, bktJobs, bktSends, bktFinished, bktUsers, bktTokens} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if err := clearLeases[boltJob](tx.Bucket(bktJobs), func(j *boltJob) *string { return &j.Lease },
			func(j *boltJob) *time.Time { return &j.NotBefore }); err != nil {
			return err
		}
		return clearLeases[boltSend](tx.Bucket(bktSends), func(s *boltSend) *string { return &s.Lease },
			func(s *boltSend) *time.Time { return &s.NotBefore })
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("zalo: open %s: %w", path, err)
	}
	// Concurrent deliveries share a commit (Enqueue uses Batch); a batch waits at most this long for company,
	// which bounds what batching adds to the acknowledgement (bbolt's default is 10 ms).
	db.MaxBatchDelay = 2 * time.Millisecond
	return &Bolt{db: db, tokens: map[string]*sync.Mutex{}}, nil
}

// clearLeases makes every leased record of b available now.
func clearLeases[T any](b *bolt.Bucket, lease func(*T) *string, notBefore func(*T) *time.Time) error {
	type kv struct{ k, v []byte }
	var upd []kv
	err := b.ForEach(func(k, v []byte) error {
		var r T
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		if *lease(&r) == "" {
			return nil
		}
		*lease(&r) = ""
		*notBefore(&r) = time.Time{}
		data, err := json.Marshal(&r)
		if err != nil {
			return err
		}
		upd = append(upd, kv{bytes.Clone(k), data})
		return nil
	})
	if err != nil {
		return err
	}
	for _, u := range upd {
		if err := b.Put(u.k, u.v); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the file.
func (q *Bolt) Close() error { return q.db.Close() }

func be64(n int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	return b[:]
}

func pair(a, b string) []byte { return []byte(a + "\x00" + b) }

// Enqueue implements Queue. Concurrent calls share one commit (bbolt's Batch), which keeps the fsync per
// delivery from serialising the webhook.
func (q *Bolt) Enqueue(ctx context.Context, in Inbound) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	var added bool
	err := q.db.Batch(func(tx *bolt.Tx) error {
		added = false // Batch may run the function again
		keys := tx.Bucket(bktKeys)
		k := pair(in.OA, in.Key)
		if keys.Get(k) != nil {
			return nil
		}
		jobs := tx.Bucket(bktJobs)
		seq, err := jobs.NextSequence()
		if err != nil {
			return err
		}
		id := int64(seq)
		kv, _ := json.Marshal(boltKey{ID: id, At: time.Now()})
		if err := keys.Put(k, kv); err != nil {
			return err
		}
		jv, err := json.Marshal(boltJob{Job: Job{ID: id, Inbound: in}})
		if err != nil {
			return err
		}
		if err := jobs.Put(be64(id), jv); err != nil {
			return err
		}
		if in.Kind == KindText || in.Kind == KindUnsupported {
			if err := tx.Bucket(bktUsers).Put(pair(in.OA, in.User), be64(in.At.UnixNano())); err != nil {
				return err
			}
		}
		added = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("zalo: enqueue: %w", err)
	}
	return added, nil
}

// oldestAvailable walks b in id order and returns the key of the first record that is its user's oldest and
// available at now.
func oldestAvailable[T any](b *bolt.Bucket, now time.Time, who func(*T) string, notBefore func(*T) time.Time) ([]byte, *T, error) {
	seen := map[string]bool{}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r := new(T)
		if err := json.Unmarshal(v, r); err != nil {
			return nil, nil, err
		}
		u := who(r)
		if seen[u] {
			continue
		}
		seen[u] = true
		if !notBefore(r).After(now) {
			return k, r, nil
		}
	}
	return nil, nil, nil
}

// Take implements Queue.
func (q *Bolt) Take(ctx context.Context, now time.Time, lease time.Duration) (Job, bool, error) {
	if err := ctx.Err(); err != nil {
		return Job{}, false, err
	}
	who := func(j *boltJob) string { return j.OA + "\x00" + j.User }
	nb := func(j *boltJob) time.Time { return j.NotBefore }
	// A read transaction first: an idle poll costs no write.
	var found bool
	if err := q.db.View(func(tx *bolt.Tx) error {
		k, _, err := oldestAvailable(tx.Bucket(bktJobs), now, who, nb)
		found = k != nil
		return err
	}); err != nil || !found {
		if err != nil {
			err = fmt.Errorf("zalo: take: %w", err)
		}
		return Job{}, false, err
	}
	var out Job
	var ok bool
	err := q.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktJobs)
		k, j, err := oldestAvailable(b, now, who, nb)
		if err != nil || k == nil {
			return err
		}
		j.Attempts++
		j.Lease = newLease()
		j.NotBefore = now.Add(lease)
		data, err := json.Marshal(j)
		if err != nil {
			return err
		}
		out, ok = j.Job, true
		return b.Put(k, data)
	})
	if err != nil {
		return Job{}, false, fmt.Errorf("zalo: take: %w", err)
	}
	return out, ok, nil
}

// held reads the record under k and checks that its lease is lease.
func held[T any](b *bolt.Bucket, k []byte, lease string, leaseOf func(*T) string) (*T, error) {
	v := b.Get(k)
	if v == nil {
		return nil, ErrLeaseLost
	}
	r := new(T)
	if err := json.Unmarshal(v, r); err != nil {
		return nil, err
	}
	if leaseOf(r) != lease {
		return nil, ErrLeaseLost
	}
	return r, nil
}

// Complete implements Queue.
func (q *Bolt) Complete(ctx context.Context, j Job, now time.Time, out []Outbound) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := q.db.Update(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bktJobs)
		if _, err := held(jobs, be64(j.ID), j.Lease, func(r *boltJob) string { return r.Lease }); err != nil {
			return err
		}
		if err := jobs.Delete(be64(j.ID)); err != nil {
			return err
		}
		sends := tx.Bucket(bktSends)
		for _, o := range out {
			seq, err := sends.NextSequence()
			if err != nil {
				return err
			}
			data, err := json.Marshal(boltSend{Send: Send{ID: int64(seq), Outbound: o}})
			if err != nil {
				return err
			}
			if err := sends.Put(be64(int64(seq)), data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("zalo: complete job %d: %w", j.ID, err)
	}
	return nil
}

// Retry implements Queue.
func (q *Bolt) Retry(ctx context.Context, j Job, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := q.db.Update(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bktJobs)
		r, err := held(jobs, be64(j.ID), j.Lease, func(r *boltJob) string { return r.Lease })
		if err != nil {
			return err
		}
		r.Lease, r.NotBefore = "", at
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return jobs.Put(be64(j.ID), data)
	})
	if err != nil {
		return fmt.Errorf("zalo: retry job %d: %w", j.ID, err)
	}
	return nil
}

// TakeSend implements Queue.
func (q *Bolt) TakeSend(ctx context.Context, now time.Time, lease time.Duration) (Send, bool, error) {
	if err := ctx.Err(); err != nil {
		return Send{}, false, err
	}
	who := func(s *boltSend) string { return s.OA + "\x00" + s.User }
	nb := func(s *boltSend) time.Time { return s.NotBefore }
	var found bool
	if err := q.db.View(func(tx *bolt.Tx) error {
		k, _, err := oldestAvailable(tx.Bucket(bktSends), now, who, nb)
		found = k != nil
		return err
	}); err != nil || !found {
		if err != nil {
			err = fmt.Errorf("zalo: take send: %w", err)
		}
		return Send{}, false, err
	}
	var out Send
	var ok bool
	err := q.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktSends)
		k, s, err := oldestAvailable(b, now, who, nb)
		if err != nil || k == nil {
			return err
		}
		s.Attempts++
		s.Lease = newLease()
		s.NotBefore = now.Add(lease)
		data, err := json.Marshal(s)
		if err != nil {
			return err
		}
		out, ok = s.Send, true
		return b.Put(k, data)
	})
	if err != nil {
		return Send{}, false, fmt.Errorf("zalo: take send: %w", err)
	}
	return out, ok, nil
}

// FinishSend implements Queue.
func (q *Bolt) FinishSend(ctx context.Context, s Send, now time.Time, o Outcome) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := q.db.Update(func(tx *bolt.Tx) error {
		sends := tx.Bucket(bktSends)
		r, err := held(sends, be64(s.ID), s.Lease, func(r *boltSend) string { return r.Lease })
		if err != nil {
			return err
		}
		if !o.Sent && !o.Final {
			r.Lease, r.NotBefore = "", o.RetryAt
			data, err := json.Marshal(r)
			if err != nil {
				return err
			}
			return sends.Put(be64(s.ID), data)
		}
		if err := sends.Delete(be64(s.ID)); err != nil {
			return err
		}
		data, err := json.Marshal(boltFinished{OA: s.OA, User: s.User, Sent: o.Sent, MessageID: o.MessageID,
			Code: o.Code, Reason: o.Reason, Attempts: r.Attempts, At: now})
		if err != nil {
			return err
		}
		return tx.Bucket(bktFinished).Put(be64(s.ID), data)
	})
	if err != nil {
		return fmt.Errorf("zalo: finish send %d: %w", s.ID, err)
	}
	return nil
}

// Token implements Queue.
func (q *Bolt) Token(ctx context.Context, oa string) (Token, bool, error) {
	var t Token
	var ok bool
	err := q.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bktTokens).Get([]byte(oa))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &t)
	})
	if err != nil {
		return Token{}, false, fmt.Errorf("zalo: token: %w", err)
	}
	return t, ok, nil
}

// UpdateToken implements Queue. update runs outside any bbolt transaction (it may call the OAuth API), under
// the OA's mutex; only this process can hold the file, so the mutex is enough.
func (q *Bolt) UpdateToken(ctx context.Context, oa string, update func(Token, bool) (Token, error)) (Token, error) {
	q.mu.Lock()
	m := q.tokens[oa]
	if m == nil {
		m = new(sync.Mutex)
		q.tokens[oa] = m
	}
	q.mu.Unlock()
	m.Lock()
	defer m.Unlock()
	cur, ok, err := q.Token(ctx, oa)
	if err != nil {
		return Token{}, err
	}
	next, err := update(cur, ok)
	if err != nil {
		return Token{}, err
	}
	data, err := json.Marshal(next)
	if err != nil {
		return Token{}, fmt.Errorf("zalo: update token: %w", err)
	}
	if err := q.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bktTokens).Put([]byte(oa), data) }); err != nil {
		return Token{}, fmt.Errorf("zalo: update token: %w", err)
	}
	return next, nil
}

// LastInbound implements Queue.
func (q *Bolt) LastInbound(ctx context.Context, oa, user string) (time.Time, error) {
	var t time.Time
	err := q.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bktUsers).Get(pair(oa, user)); len(v) == 8 {
			t = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
		}
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("zalo: last inbound: %w", err)
	}
	return t, nil
}

// Stats implements Queue.
func (q *Bolt) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := q.db.View(func(tx *bolt.Tx) error {
		s.Jobs = tx.Bucket(bktJobs).Stats().KeyN
		s.Sends = tx.Bucket(bktSends).Stats().KeyN
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("zalo: stats: %w", err)
	}
	return s, nil
}

// Purge implements Queue.
func (q *Bolt) Purge(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := q.db.Update(func(tx *bolt.Tx) error {
		n = 0
		jobs := tx.Bucket(bktJobs)
		for _, name := range [][]byte{bktKeys, bktFinished} {
			b, isKeys := tx.Bucket(name), bytes.Equal(name, bktKeys)
			var del [][]byte
			err := b.ForEach(func(k, v []byte) error {
				var r struct {
					ID int64     `json:"id"`
					At time.Time `json:"at"`
				}
				if err := json.Unmarshal(v, &r); err != nil {
					return err
				}
				// A key stays while its job is unfinished.
				if r.At.Before(before) && (!isKeys || jobs.Get(be64(r.ID)) == nil) {
					del = append(del, bytes.Clone(k))
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range del {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			n += len(del)
		}
		// Users not heard from since before, unless a job of theirs is unfinished.
		pending := map[string]bool{}
		if err := jobs.ForEach(func(_, v []byte) error {
			var j boltJob
			if err := json.Unmarshal(v, &j); err != nil {
				return err
			}
			pending[string(pair(j.OA, j.User))] = true
			return nil
		}); err != nil {
			return err
		}
		users := tx.Bucket(bktUsers)
		var del [][]byte
		if err := users.ForEach(func(k, v []byte) error {
			if len(v) == 8 && int64(binary.BigEndian.Uint64(v)) < before.UnixNano() && !pending[string(k)] {
				del = append(del, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range del {
			if err := users.Delete(k); err != nil {
				return err
			}
		}
		n += len(del)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("zalo: purge: %w", err)
	}
	return n, nil
}
