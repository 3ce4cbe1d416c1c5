package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// notifyChannel is the channel on which Apply announces a committed change as "<schema>:<version>". One
// channel serves every schema of a database; a listener ignores the other schemas' changes.
const notifyChannel = "trolyao_catalog"

// checkEvery is how long the listener waits for a notification before it checks the connection and the
// version anyway: a safety net for a notification lost with a connection that died silently. A variable
// for tests.
var checkEvery = 5 * time.Second

// pingTimeout bounds the listener's check of a quiet connection (see listen). A variable for tests.
var pingTimeout = 5 * time.Second

// retryMin and retryMax bound the wait between reconnections of the listener.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
)

// listen keeps the in-memory index in step with the database until ctx ends: it listens on notifyChannel
// with a connection of its own and refreshes the index on every notification of this schema, so that a
// change reaches every process's index within milliseconds of its commit. conn, when not nil, is a
// connection that already listens and whose index is current (Open's). On reconnection it listens first,
// then catches up. Searches never depend on it for correctness: each checks the catalog version it reads
// against its index's (see searchMemory); the listener keeps them from finding a stale index.
func (s *Store) listen(ctx context.Context, conn *pgx.Conn) {
	defer close(s.listenDone)
	wait := retryMin
	for {
		if conn != nil {
			err := s.follow(ctx, conn)
			_ = conn.Close(context.WithoutCancel(ctx))
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("postgres: lexical index listener lost; reconnecting", "err", err)
			conn = nil
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		c, err := s.subscribe(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			wait = min(wait*2, retryMax)
			s.log.Warn("postgres: lexical index listener cannot reconnect", "err", err, "retry_in", wait)
			continue
		}
		wait = retryMin
		conn = c
		s.log.Info("postgres: lexical index listener reconnected")
	}
}

// subscribe opens the listening connection, then brings the index up to date: in this order no change can
// fall between the catch-up and the first notification.
func (s *Store) subscribe(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.connConfig.Copy())
	if err != nil {
		return nil, err
	}
	s.listenPID.Store(conn.PgConn().PID())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		_ = conn.Close(ctx)
		return nil, err
	}
	if err := s.refresh(ctx); err != nil {
		_ = conn.Close(ctx)
		return nil, err
	}
	return conn, nil
}

// follow waits for notifications on conn and refreshes the index on each one of this schema (and every
// checkEvery), until an error.
func (s *Store) follow(ctx context.Context, conn *pgx.Conn) error {
	prefix := s.schemaName + ":"
	for {
		wctx, cancel := context.WithTimeout(ctx, checkEvery)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			v, ok := strings.CutPrefix(n.Payload, prefix)
			if !ok {
				continue // another schema's change
			}
			if version, err := strconv.ParseInt(v, 10, 64); err == nil && version <= s.lex.Load().version {
				continue // already read, e.g. by the Apply of this process
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded):
			if conn.IsClosed() {
				return err
			}
			// Quiet for a while: check that the connection is alive and that nothing was missed. The ping has
			// its own deadline: on a connection that died silently (a crashed host, a dropped NAT entry) it
			// would otherwise wait for TCP to give up, a quarter of an hour, with the index left behind.
			pctx, cancel := context.WithTimeout(ctx, pingTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		default:
			return err
		}
		if err := s.refresh(ctx); err != nil {
			return err
		}
	}
}
