// Package boltqueue is the embedded implementation of the Zalo channel's queue (zalo.Queue): a bbolt file of
// its own, for a single serve process without PostgreSQL; channels/zalo/pgqueue is the PostgreSQL one. It
// imports bbolt, the zalo package and the standard library.
package boltqueue

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/trolyao/trolyao/channels/zalo"
)

// Queue is the embedded zalo.Queue: a bbolt file of its own (e.g. <data dir>/zalo.db), fsync'd on every commit.
// bbolt lets one process hold the file, so the in-process locks are the whole story: a per-OA mutex
// serialises token refreshes, and a lease records its owner — the Queue that took it. Opening the file
// changes no record; a lease ends when its time is up or, since only one Queue can hold the file, as soon as
// another Queue holds it: the lease's owner has closed the file or died. A message found in flight that way
// is not sent again at once: TakeSend reports it (SendInFlight) and the service decides.
//
// Buckets:
//
//	zalo_keys     oa \x00 key → {"id", "at"}: the de-duplication index of the inbox
//	zalo_jobs     big-endian id → unfinished job (JSON)
//	zalo_sends    big-endian id → unsent message (JSON: pending, in flight or unconfirmed)
//	zalo_finished big-endian id → the record of a finished send (JSON: outcome, code, time; no body)
//	zalo_sent_ids oa \x00 message id → {"id", "at"}: the API's ids of sent messages (echo matching)
//	zalo_users    oa \x00 user → last inbound time (big-endian Unix nanoseconds)
//	zalo_tokens   oa → token state (JSON)
type Queue struct {
	db     *bolt.DB
	owner  string // this opening of the file; leases carry it
	mu     sync.Mutex
	tokens map[string]*sync.Mutex
}

var _ zalo.Queue = (*Queue)(nil)

var (
	bktKeys     = []byte("zalo_keys")
	bktJobs     = []byte("zalo_jobs")
	bktSends    = []byte("zalo_sends")
	bktFinished = []byte("zalo_finished")
	bktSentIDs  = []byte("zalo_sent_ids")
	bktUsers    = []byte("zalo_users")
	bktTokens   = []byte("zalo_tokens")
)

type jobRecord struct {
	zalo.Job
	NotBefore time.Time `json:"not_before"`
	Owner     string    `json:"owner,omitempty"` // the Queue holding Lease
}

type sendRecord struct {
	zalo.Send
	NotBefore time.Time `json:"not_before"`
	Owner     string    `json:"owner,omitempty"`   // the Queue holding Lease
	Unknown   int       `json:"unknown,omitempty"` // calls whose outcome was unknown
}

// state is the record's state; records written before states existed are pending.
func (r *sendRecord) state() zalo.SendState {
	if r.State == "" {
		return zalo.SendPending
	}
	return r.State
}

type keyRecord struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
}

type finishedRecord struct {
	OA        string    `json:"oa"`
	User      string    `json:"user"`
	Sent      bool      `json:"sent"`
	MessageID string    `json:"message_id,omitempty"`
	Code      int       `json:"code,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Attempts  int       `json:"attempts"`
	Unknown   int       `json:"unknown,omitempty"` // calls whose outcome was unknown
	Flight    string    `json:"flight,omitempty"`
	At        time.Time `json:"at"`
}

// Open opens (creating it when missing) the queue file at path. It fails with a clear error when another
// process holds the file. Leases left by a previous holder of the file are not cleared: they end because
// their owner is not this Queue (see Queue).
func Open(path string) (*Queue, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("zalo: open %s: another process holds the queue file", path)
		}
		return nil, fmt.Errorf("zalo: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bktKeys, bktJobs, bktSends, bktFinished, bktSentIDs, bktUsers, bktTokens} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("zalo: open %s: %w", path, err)
	}
	// Concurrent deliveries share a commit (Enqueue uses Batch); a batch waits at most this long for company,
	// which bounds what batching adds to the acknowledgement (bbolt's default is 10 ms).
	db.MaxBatchDelay = 2 * time.Millisecond
	return &Queue{db: db, owner: newLease(), tokens: map[string]*sync.Mutex{}}, nil
}

// Close closes the file.
func (q *Queue) Close() error { return q.db.Close() }

func be64(n int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	return b[:]
}

func pair(a, b string) []byte { return []byte(a + "\x00" + b) }

// Enqueue implements Queue. Concurrent calls share one commit (bbolt's Batch), which keeps the fsync per
// delivery from serialising the webhook.
func (q *Queue) Enqueue(ctx context.Context, in zalo.Inbound) (bool, error) {
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
		kv, _ := json.Marshal(keyRecord{ID: id, At: time.Now()})
		if err := keys.Put(k, kv); err != nil {
			return err
		}
		jv, err := json.Marshal(jobRecord{Job: zalo.Job{ID: id, Inbound: in}})
		if err != nil {
			return err
		}
		if err := jobs.Put(be64(id), jv); err != nil {
			return err
		}
		if in.Kind == zalo.KindText || in.Kind == zalo.KindUnsupported {
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
// available.
func oldestAvailable[T any](b *bolt.Bucket, who func(*T) string, available func(*T) bool) ([]byte, *T, error) {
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
		if available(r) {
			return k, r, nil
		}
	}
	return nil, nil, nil
}

// Take implements Queue.
func (q *Queue) Take(ctx context.Context, now time.Time, lease time.Duration) (zalo.Job, bool, error) {
	if err := ctx.Err(); err != nil {
		return zalo.Job{}, false, err
	}
	who := func(j *jobRecord) string { return j.OA + "\x00" + j.User }
	nb := func(j *jobRecord) bool { return q.free(j.NotBefore, j.Lease, j.Owner, now) }
	// A read transaction first: an idle poll costs no write.
	var found bool
	if err := q.db.View(func(tx *bolt.Tx) error {
		k, _, err := oldestAvailable(tx.Bucket(bktJobs), who, nb)
		found = k != nil
		return err
	}); err != nil || !found {
		if err != nil {
			err = fmt.Errorf("zalo: take: %w", err)
		}
		return zalo.Job{}, false, err
	}
	var out zalo.Job
	var ok bool
	err := q.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktJobs)
		k, j, err := oldestAvailable(b, who, nb)
		if err != nil || k == nil {
			return err
		}
		j.Attempts++
		j.Lease, j.Owner = newLease(), q.owner
		j.NotBefore = now.Add(lease)
		data, err := json.Marshal(j)
		if err != nil {
			return err
		}
		out, ok = j.Job, true
		return b.Put(k, data)
	})
	if err != nil {
		return zalo.Job{}, false, fmt.Errorf("zalo: take: %w", err)
	}
	return out, ok, nil
}

// held reads the record under k and checks that its lease is lease.
func held[T any](b *bolt.Bucket, k []byte, lease string, leaseOf func(*T) string) (*T, error) {
	v := b.Get(k)
	if v == nil {
		return nil, zalo.ErrLeaseLost
	}
	r := new(T)
	if err := json.Unmarshal(v, r); err != nil {
		return nil, err
	}
	if leaseOf(r) != lease {
		return nil, zalo.ErrLeaseLost
	}
	return r, nil
}

// Complete implements Queue.
func (q *Queue) Complete(ctx context.Context, j zalo.Job, now time.Time, out []zalo.Outbound) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := q.db.Update(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bktJobs)
		if _, err := held(jobs, be64(j.ID), j.Lease, func(r *jobRecord) string { return r.Lease }); err != nil {
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
			data, err := json.Marshal(sendRecord{Send: zalo.Send{ID: int64(seq), Outbound: o}})
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
func (q *Queue) Retry(ctx context.Context, j zalo.Job, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := q.db.Update(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bktJobs)
		r, err := held(jobs, be64(j.ID), j.Lease, func(r *jobRecord) string { return r.Lease })
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
func (q *Queue) TakeSend(ctx context.Context, now time.Time, lease time.Duration) (zalo.Send, bool, error) {
	if err := ctx.Err(); err != nil {
		return zalo.Send{}, false, err
	}
	who := func(s *sendRecord) string { return s.OA + "\x00" + s.User }
	nb := func(s *sendRecord) bool { return q.free(s.NotBefore, s.Lease, s.Owner, now) }
	var found bool
	if err := q.db.View(func(tx *bolt.Tx) error {
		k, _, err := oldestAvailable(tx.Bucket(bktSends), who, nb)
		found = k != nil
		return err
	}); err != nil || !found {
		if err != nil {
			err = fmt.Errorf("zalo: take send: %w", err)
		}
		return zalo.Send{}, false, err
	}
	var out zalo.Send
	var ok bool
	err := q.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktSends)
		k, s, err := oldestAvailable(b, who, nb)
		if err != nil || k == nil {
			return err
		}
		s.Attempts++
		s.Lease, s.Owner = newLease(), q.owner
		s.NotBefore = now.Add(lease)
		s.State = s.state()
		data, err := json.Marshal(s)
		if err != nil {
			return err
		}
		out, ok = s.Send, true
		return b.Put(k, data)
	})
	if err != nil {
		return zalo.Send{}, false, fmt.Errorf("zalo: take send: %w", err)
	}
	return out, ok, nil
}

// free reports whether a record is available at now: not leased and due, or leased by an owner whose lease
// has ended — by time, or because that owner no longer holds the file.
func (q *Queue) free(notBefore time.Time, lease, owner string, now time.Time) bool {
	return !notBefore.After(now) || (lease != "" && owner != q.owner)
}

// BeginSend implements Queue.
func (q *Queue) BeginSend(ctx context.Context, s zalo.Send, now time.Time) (zalo.Send, error) {
	if err := ctx.Err(); err != nil {
		return zalo.Send{}, err
	}
	var out zalo.Send
	err := q.db.Update(func(tx *bolt.Tx) error {
		sends := tx.Bucket(bktSends)
		r, err := held(sends, be64(s.ID), s.Lease, func(r *sendRecord) string { return r.Lease })
		if err != nil {
			return err
		}
		r.State, r.Flight, r.FlightAt = zalo.SendInFlight, newLease(), now
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		out = r.Send
		return sends.Put(be64(s.ID), data)
	})
	if err != nil {
		return zalo.Send{}, fmt.Errorf("zalo: begin send %d: %w", s.ID, err)
	}
	return out, nil
}

// FinishSend implements Queue.
func (q *Queue) FinishSend(ctx context.Context, s zalo.Send, now time.Time, o zalo.Outcome) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := q.db.Update(func(tx *bolt.Tx) error {
		sends := tx.Bucket(bktSends)
		v := sends.Get(be64(s.ID))
		if v == nil {
			if fv := tx.Bucket(bktFinished).Get(be64(s.ID)); fv != nil && s.Flight != "" {
				var f finishedRecord
				if err := json.Unmarshal(fv, &f); err != nil {
					return err
				}
				if f.Sent && f.Flight == s.Flight {
					return nil // confirmed by its echo meanwhile
				}
			}
			return zalo.ErrLeaseLost
		}
		r := new(sendRecord)
		if err := json.Unmarshal(v, r); err != nil {
			return err
		}
		st := r.state()
		if r.Lease != s.Lease && !(o.Sent && s.Flight != "" && r.Flight == s.Flight && (st == zalo.SendInFlight || st == zalo.SendUnconfirmed)) {
			return zalo.ErrLeaseLost
		}
		if !o.Sent && !o.Final {
			r.Lease, r.Owner, r.NotBefore = "", "", o.RetryAt
			r.State = zalo.SendPending
			if o.Unknown {
				r.State = zalo.SendUnconfirmed
				r.Unknown++
			}
			data, err := json.Marshal(r)
			if err != nil {
				return err
			}
			return sends.Put(be64(s.ID), data)
		}
		return q.finish(tx, r, now, o)
	})
	if err != nil {
		return fmt.Errorf("zalo: finish send %d: %w", s.ID, err)
	}
	return nil
}

// finish moves r from the unsent messages to the finished records.
func (q *Queue) finish(tx *bolt.Tx, r *sendRecord, now time.Time, o zalo.Outcome) error {
	if err := tx.Bucket(bktSends).Delete(be64(r.ID)); err != nil {
		return err
	}
	data, err := json.Marshal(finishedRecord{OA: r.OA, User: r.User, Sent: o.Sent, MessageID: o.MessageID,
		Code: o.Code, Reason: o.Reason, Attempts: r.Attempts, Unknown: r.Unknown, Flight: r.Flight, At: now})
	if err != nil {
		return err
	}
	if err := tx.Bucket(bktFinished).Put(be64(r.ID), data); err != nil {
		return err
	}
	if !o.Sent || o.MessageID == "" {
		return nil
	}
	kv, err := json.Marshal(keyRecord{ID: r.ID, At: now})
	if err != nil {
		return err
	}
	return tx.Bucket(bktSentIDs).Put(pair(r.OA, o.MessageID), kv)
}

// ConfirmEcho implements Queue. A read transaction first: most echoes (of messages already recorded as sent)
// cost no write.
func (q *Queue) ConfirmEcho(ctx context.Context, e zalo.Echo, now time.Time, skew time.Duration) (zalo.EchoResult, error) {
	if err := ctx.Err(); err != nil {
		return zalo.EchoNothing, err
	}
	match := func(tx *bolt.Tx) (*sendRecord, error) {
		c := tx.Bucket(bktSends).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			r := new(sendRecord)
			if err := json.Unmarshal(v, r); err != nil {
				return nil, err
			}
			if r.OA != e.OA || r.User != e.User {
				continue
			}
			// The user's oldest unsent message: the only one that can be in flight.
			st := r.state()
			if (st != zalo.SendInFlight && st != zalo.SendUnconfirmed) || !zalo.SameText(e.Text, r.Body) || r.FlightAt.After(e.At.Add(skew)) {
				return nil, nil
			}
			if e.MsgID != "" && tx.Bucket(bktSentIDs).Get(pair(e.OA, e.MsgID)) != nil {
				return nil, nil // the echo of a message already recorded as sent
			}
			return r, nil
		}
		return nil, nil
	}
	var found bool
	if err := q.db.View(func(tx *bolt.Tx) error {
		r, err := match(tx)
		found = r != nil
		return err
	}); err != nil || !found {
		if err != nil {
			err = fmt.Errorf("zalo: confirm echo: %w", err)
		}
		return zalo.EchoNothing, err
	}
	var res zalo.EchoResult
	err := q.db.Update(func(tx *bolt.Tx) error {
		res = zalo.EchoNothing
		r, err := match(tx)
		if err != nil || r == nil {
			return err
		}
		res = zalo.EchoLive
		if r.state() == zalo.SendUnconfirmed || q.free(r.NotBefore, r.Lease, r.Owner, now) {
			res = zalo.EchoUnknown
		}
		return q.finish(tx, r, now, zalo.Outcome{Sent: true, MessageID: e.MsgID, Reason: zalo.EchoReason})
	})
	if err != nil {
		return zalo.EchoNothing, fmt.Errorf("zalo: confirm echo: %w", err)
	}
	return res, nil
}

// Token implements Queue.
func (q *Queue) Token(ctx context.Context, oa string) (zalo.Token, bool, error) {
	var t zalo.Token
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
		return zalo.Token{}, false, fmt.Errorf("zalo: token: %w", err)
	}
	return t, ok, nil
}

// UpdateToken implements Queue. update runs outside any bbolt transaction (it may call the OAuth API), under
// the OA's mutex; only this process can hold the file, so the mutex is enough.
func (q *Queue) UpdateToken(ctx context.Context, oa string, update func(zalo.Token, bool) (zalo.Token, error)) (zalo.Token, error) {
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
		return zalo.Token{}, err
	}
	next, err := update(cur, ok)
	if err != nil {
		return zalo.Token{}, err
	}
	data, err := json.Marshal(next)
	if err != nil {
		return zalo.Token{}, fmt.Errorf("zalo: update token: %w", err)
	}
	if err := q.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bktTokens).Put([]byte(oa), data) }); err != nil {
		return zalo.Token{}, fmt.Errorf("zalo: update token: %w", err)
	}
	return next, nil
}

// LastInbound implements Queue.
func (q *Queue) LastInbound(ctx context.Context, oa, user string) (time.Time, error) {
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
func (q *Queue) Stats(ctx context.Context) (zalo.Stats, error) {
	var s zalo.Stats
	err := q.db.View(func(tx *bolt.Tx) error {
		s.Jobs = tx.Bucket(bktJobs).Stats().KeyN
		s.Sends = tx.Bucket(bktSends).Stats().KeyN
		return nil
	})
	if err != nil {
		return zalo.Stats{}, fmt.Errorf("zalo: stats: %w", err)
	}
	return s, nil
}

// Purge implements Queue.
func (q *Queue) Purge(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := q.db.Update(func(tx *bolt.Tx) error {
		n = 0
		jobs := tx.Bucket(bktJobs)
		for _, name := range [][]byte{bktKeys, bktFinished, bktSentIDs} {
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
			if !bytes.Equal(name, bktSentIDs) { // an index, not a record
				n += len(del)
			}
		}
		// Users not heard from since before, unless a job of theirs is unfinished.
		pending := map[string]bool{}
		if err := jobs.ForEach(func(_, v []byte) error {
			var j jobRecord
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

// newLease returns a random lease token.
func newLease() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
