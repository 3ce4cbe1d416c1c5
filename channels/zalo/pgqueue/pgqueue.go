// Package pgqueue is the PostgreSQL implementation of the Zalo channel's queue (zalo.Queue), over the tables of
// migrations knowledge/postgres/migrations/0005_zalo.sql and 0009_zalo_sending.sql: jobs and sends are taken with
// SELECT … FOR UPDATE SKIP LOCKED under leases, so several serve processes can share the work, and token
// refreshes hold a row lock. It imports pgx, the zalo package and the standard library.
package pgqueue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trolyao/trolyao/channels/zalo"
)

// Queue is a zalo.Queue in PostgreSQL. The pool's connections must use the schema holding the migration's
// tables ((*postgres.Store).Pool does).
type Queue struct {
	pool *pgxpool.Pool
}

var _ zalo.Queue = (*Queue)(nil)

// New returns the queue over pool.
func New(pool *pgxpool.Pool) *Queue { return &Queue{pool: pool} }

func lease() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Enqueue implements zalo.Queue in one statement (one round trip): the user's row is upserted, and so locked,
// before the job's id is drawn, so a user's ids follow commit order. A duplicate leaves last_inbound as it was
// (GREATEST of equal times).
func (q *Queue) Enqueue(ctx context.Context, in zalo.Inbound) (bool, error) {
	message := in.Kind == zalo.KindText || in.Kind == zalo.KindUnsupported
	rows, err := q.pool.Query(ctx, `
WITH u AS (
    INSERT INTO zalo_users AS u (oa, user_id, last_inbound) VALUES ($1, $2, CASE WHEN $7 THEN $6::timestamptz END)
    ON CONFLICT (oa, user_id) DO UPDATE
    SET last_inbound = CASE WHEN $7 THEN GREATEST(u.last_inbound, EXCLUDED.last_inbound) ELSE u.last_inbound END
    RETURNING 1
)
INSERT INTO zalo_inbox (oa, user_id, key, kind, text, at)
SELECT $1, $2, $3, $4, $5, $6 FROM u
ON CONFLICT (oa, key) DO NOTHING
RETURNING id`, in.OA, in.User, in.Key, string(in.Kind), in.Text, in.At, message)
	if err != nil {
		return false, fmt.Errorf("pgqueue: enqueue: %w", err)
	}
	added := false
	for rows.Next() {
		added = true
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("pgqueue: enqueue: %w", err)
	}
	return added, nil
}

// Take implements zalo.Queue.
func (q *Queue) Take(ctx context.Context, now time.Time, d time.Duration) (zalo.Job, bool, error) {
	var j zalo.Job
	var kind string
	l := lease()
	err := q.pool.QueryRow(ctx, `
UPDATE zalo_inbox SET lease = $1, not_before = $2, attempts = attempts + 1
WHERE id = (
    SELECT i.id FROM zalo_inbox i
    WHERE i.done_at IS NULL AND i.not_before <= $3
      AND NOT EXISTS (SELECT 1 FROM zalo_inbox o
                      WHERE o.oa = i.oa AND o.user_id = i.user_id AND o.done_at IS NULL AND o.id < i.id)
    ORDER BY i.id
    LIMIT 1
    FOR UPDATE SKIP LOCKED)
RETURNING id, oa, user_id, key, kind, text, at, attempts`, l, now.Add(d), now).
		Scan(&j.ID, &j.OA, &j.User, &j.Key, &kind, &j.Text, &j.At, &j.Attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return zalo.Job{}, false, nil
	}
	if err != nil {
		return zalo.Job{}, false, fmt.Errorf("pgqueue: take: %w", err)
	}
	j.Kind, j.Lease = zalo.Kind(kind), l
	return j, true, nil
}

// Complete implements zalo.Queue.
func (q *Queue) Complete(ctx context.Context, j zalo.Job, now time.Time, out []zalo.Outbound) error {
	err := pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE zalo_inbox SET done_at = $3, text = '', lease = ''
WHERE id = $1 AND lease = $2 AND done_at IS NULL`, j.ID, j.Lease, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return zalo.ErrLeaseLost
		}
		for _, o := range out {
			if _, err := tx.Exec(ctx, `INSERT INTO zalo_outbox (oa, user_id, body) VALUES ($1, $2, $3)`,
				o.OA, o.User, string(o.Body)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgqueue: complete job %d: %w", j.ID, err)
	}
	return nil
}

// Retry implements zalo.Queue.
func (q *Queue) Retry(ctx context.Context, j zalo.Job, at time.Time) error {
	tag, err := q.pool.Exec(ctx, `UPDATE zalo_inbox SET lease = '', not_before = $3
WHERE id = $1 AND lease = $2 AND done_at IS NULL`, j.ID, j.Lease, at)
	if err != nil {
		return fmt.Errorf("pgqueue: retry job %d: %w", j.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgqueue: retry job %d: %w", j.ID, zalo.ErrLeaseLost)
	}
	return nil
}

// TakeSend implements zalo.Queue. A message is unsent while finished IS NULL, whatever its state.
func (q *Queue) TakeSend(ctx context.Context, now time.Time, d time.Duration) (zalo.Send, bool, error) {
	var s zalo.Send
	var body, state string
	var flightAt *time.Time
	l := lease()
	err := q.pool.QueryRow(ctx, `
UPDATE zalo_outbox SET lease = $1, not_before = $2, attempts = attempts + 1
WHERE id = (
    SELECT m.id FROM zalo_outbox m
    WHERE m.finished IS NULL AND m.not_before <= $3
      AND NOT EXISTS (SELECT 1 FROM zalo_outbox o
                      WHERE o.oa = m.oa AND o.user_id = m.user_id AND o.finished IS NULL AND o.id < m.id)
    ORDER BY m.id
    LIMIT 1
    FOR UPDATE SKIP LOCKED)
RETURNING id, oa, user_id, body, attempts, state, flight, flight_at`, l, now.Add(d), now).
		Scan(&s.ID, &s.OA, &s.User, &body, &s.Attempts, &state, &s.Flight, &flightAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return zalo.Send{}, false, nil
	}
	if err != nil {
		return zalo.Send{}, false, fmt.Errorf("pgqueue: take send: %w", err)
	}
	s.Body, s.Lease, s.State = []byte(body), l, zalo.SendState(state)
	if flightAt != nil {
		s.FlightAt = *flightAt
	}
	return s, true, nil
}

// BeginSend implements zalo.Queue.
func (q *Queue) BeginSend(ctx context.Context, s zalo.Send, now time.Time) (zalo.Send, error) {
	flight := lease()
	tag, err := q.pool.Exec(ctx, `UPDATE zalo_outbox SET state = 'sending', flight = $3, flight_at = $4
WHERE id = $1 AND lease = $2 AND finished IS NULL`, s.ID, s.Lease, flight, now)
	if err != nil {
		return zalo.Send{}, fmt.Errorf("pgqueue: begin send %d: %w", s.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return zalo.Send{}, fmt.Errorf("pgqueue: begin send %d: %w", s.ID, zalo.ErrLeaseLost)
	}
	s.State, s.Flight, s.FlightAt = zalo.SendInFlight, flight, now
	return s, nil
}

// FinishSend implements zalo.Queue. A sent message's body is cleared (the record keeps the API's message id);
// a failed one keeps it, for an operator to inspect.
func (q *Queue) FinishSend(ctx context.Context, s zalo.Send, now time.Time, o zalo.Outcome) error {
	var sql string
	args := []any{s.ID, s.Lease}
	switch {
	case o.Sent:
		// The current flight's holder may record a success after its lease expired.
		sql = `UPDATE zalo_outbox SET state = 'sent', message_id = $4, finished = $5, lease = '', body = '', code = 0, reason = ''
WHERE id = $1 AND finished IS NULL
  AND (lease = $2 OR ($3 <> '' AND flight = $3 AND state IN ('sending', 'unconfirmed')))`
		args = append(args, s.Flight, o.MessageID, now)
	case o.Final:
		sql = `UPDATE zalo_outbox SET state = 'failed', code = $3, reason = $4, finished = $5, lease = ''
WHERE id = $1 AND lease = $2 AND finished IS NULL`
		args = append(args, o.Code, o.Reason, now)
	case o.Unknown:
		sql = `UPDATE zalo_outbox SET state = 'unconfirmed', not_before = $3, code = $4, reason = $5, lease = '', unknown = unknown + 1
WHERE id = $1 AND lease = $2 AND finished IS NULL`
		args = append(args, o.RetryAt, o.Code, o.Reason)
	default:
		sql = `UPDATE zalo_outbox SET state = 'pending', not_before = $3, code = $4, reason = $5, lease = ''
WHERE id = $1 AND lease = $2 AND finished IS NULL`
		args = append(args, o.RetryAt, o.Code, o.Reason)
	}
	tag, err := q.pool.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("pgqueue: finish send %d: %w", s.ID, err)
	}
	if tag.RowsAffected() == 0 {
		// Nothing to do when this flight was confirmed as sent meanwhile (by its echo).
		var confirmed bool
		err := q.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM zalo_outbox WHERE id = $1 AND state = 'sent' AND $2 <> '' AND flight = $2)`,
			s.ID, s.Flight).Scan(&confirmed)
		if err != nil {
			return fmt.Errorf("pgqueue: finish send %d: %w", s.ID, err)
		}
		if !confirmed {
			return fmt.Errorf("pgqueue: finish send %d: %w", s.ID, zalo.ErrLeaseLost)
		}
	}
	return nil
}

// ConfirmEcho implements zalo.Queue in one transaction. The user's oldest unsent message is locked (an echo
// of a message whose sender is recording it waits for that commit); its text is compared in Go (SameText).
func (q *Queue) ConfirmEcho(ctx context.Context, e zalo.Echo, now time.Time, skew time.Duration) (zalo.EchoResult, error) {
	res := zalo.EchoNothing
	err := pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		res = zalo.EchoNothing
		var id int64
		var body string
		var unknown bool
		err := tx.QueryRow(ctx, `
SELECT m.id, m.body, m.state = 'unconfirmed' OR m.not_before <= $5 FROM zalo_outbox m
WHERE m.id = (SELECT o.id FROM zalo_outbox o WHERE o.oa = $1 AND o.user_id = $2 AND o.finished IS NULL ORDER BY o.id LIMIT 1)
  AND m.finished IS NULL AND m.state IN ('sending', 'unconfirmed') AND m.flight_at <= $3
  AND ($4 = '' OR NOT EXISTS (SELECT 1 FROM zalo_outbox s WHERE s.oa = $1 AND s.message_id = $4 AND s.message_id <> ''))
FOR UPDATE OF m`, e.OA, e.User, e.At.Add(skew), e.MsgID, now).Scan(&id, &body, &unknown)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if !zalo.SameText(e.Text, []byte(body)) {
			return nil
		}
		tag, err := tx.Exec(ctx, `UPDATE zalo_outbox SET state = 'sent', message_id = $2, finished = $3, lease = '', body = '', code = 0, reason = $4
WHERE id = $1 AND finished IS NULL AND state IN ('sending', 'unconfirmed')`, id, e.MsgID, now, zalo.EchoReason)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			res = zalo.EchoLive
			if unknown {
				res = zalo.EchoUnknown
			}
		}
		return nil
	})
	if err != nil {
		return zalo.EchoNothing, fmt.Errorf("pgqueue: confirm echo: %w", err)
	}
	return res, nil
}

// Token implements zalo.Queue.
func (q *Queue) Token(ctx context.Context, oa string) (zalo.Token, bool, error) {
	var data []byte
	err := q.pool.QueryRow(ctx, `SELECT state FROM zalo_tokens WHERE oa = $1`, oa).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && data == nil) {
		return zalo.Token{}, false, nil
	}
	if err != nil {
		return zalo.Token{}, false, fmt.Errorf("pgqueue: token: %w", err)
	}
	var t zalo.Token
	if err := json.Unmarshal(data, &t); err != nil {
		return zalo.Token{}, false, fmt.Errorf("pgqueue: token: %w", err)
	}
	return t, true, nil
}

// UpdateToken implements zalo.Queue: the OA's row is locked (created first when missing) for the whole of
// update, so a refresh in another process waits and then sees the new token.
func (q *Queue) UpdateToken(ctx context.Context, oa string, update func(zalo.Token, bool) (zalo.Token, error)) (zalo.Token, error) {
	var next zalo.Token
	err := pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO zalo_tokens (oa) VALUES ($1) ON CONFLICT DO NOTHING`, oa); err != nil {
			return err
		}
		var data []byte
		if err := tx.QueryRow(ctx, `SELECT state FROM zalo_tokens WHERE oa = $1 FOR UPDATE`, oa).Scan(&data); err != nil {
			return err
		}
		var cur zalo.Token
		ok := data != nil
		if ok {
			if err := json.Unmarshal(data, &cur); err != nil {
				return err
			}
		}
		var err error
		next, err = update(cur, ok)
		if err != nil {
			return err
		}
		out, err := json.Marshal(next)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE zalo_tokens SET state = $2 WHERE oa = $1`, oa, out)
		return err
	})
	if err != nil {
		return zalo.Token{}, fmt.Errorf("pgqueue: update token: %w", err)
	}
	return next, nil
}

// LastInbound implements zalo.Queue.
func (q *Queue) LastInbound(ctx context.Context, oa, user string) (time.Time, error) {
	var t *time.Time
	err := q.pool.QueryRow(ctx, `SELECT last_inbound FROM zalo_users WHERE oa = $1 AND user_id = $2`, oa, user).Scan(&t)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && t == nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("pgqueue: last inbound: %w", err)
	}
	return *t, nil
}

// Stats implements zalo.Queue.
func (q *Queue) Stats(ctx context.Context) (zalo.Stats, error) {
	var s zalo.Stats
	err := q.pool.QueryRow(ctx, `SELECT
    (SELECT count(*) FROM zalo_inbox WHERE done_at IS NULL),
    (SELECT count(*) FROM zalo_outbox WHERE finished IS NULL)`).Scan(&s.Jobs, &s.Sends)
	if err != nil {
		return zalo.Stats{}, fmt.Errorf("pgqueue: stats: %w", err)
	}
	return s, nil
}

// Purge implements zalo.Queue.
func (q *Queue) Purge(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		// Users first: Enqueue locks a user's row before it inserts, so taking the same locks in the same order
		// cannot deadlock with it.
		c, err := tx.Exec(ctx, `DELETE FROM zalo_users u WHERE (u.last_inbound < $1 OR u.last_inbound IS NULL)
  AND NOT EXISTS (SELECT 1 FROM zalo_inbox i WHERE i.oa = u.oa AND i.user_id = u.user_id AND i.done_at IS NULL)`, before)
		if err != nil {
			return err
		}
		a, err := tx.Exec(ctx, `DELETE FROM zalo_inbox WHERE done_at < $1`, before)
		if err != nil {
			return err
		}
		b, err := tx.Exec(ctx, `DELETE FROM zalo_outbox WHERE finished < $1`, before)
		if err != nil {
			return err
		}
		n = int(a.RowsAffected() + b.RowsAffected() + c.RowsAffected())
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("pgqueue: purge: %w", err)
	}
	return n, nil
}
