package postgres

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// blackhole is a TCP proxy whose connections can be made to die silently: they stay open, but what either
// side sends is dropped, as when the server's host crashes or a NAT entry expires. Connections made after
// the freeze are forwarded as usual.
type blackhole struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	conns  []net.Conn
	frozen []*atomic.Bool // one per connection pair
}

func newBlackhole(t *testing.T, target string) *blackhole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b := &blackhole{ln: ln, target: target}
	go b.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, c := range b.conns {
			_ = c.Close()
		}
	})
	return b
}

func (b *blackhole) serve() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", b.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		frozen := new(atomic.Bool)
		b.mu.Lock()
		b.conns, b.frozen = append(b.conns, c, up), append(b.frozen, frozen)
		b.mu.Unlock()
		go pipe(up, c, frozen)
		go pipe(c, up, frozen)
	}
}

// pipe copies from src to dst until src fails, dropping what it reads once frozen.
func pipe(dst io.Writer, src io.Reader, frozen *atomic.Bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// freeze makes every connection open now die silently.
func (b *blackhole) freeze() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range b.frozen {
		f.Store(true)
	}
}

// TestListenerSilentDeath: when the listening connection dies without a word (no FIN, no RST), the
// listener's periodic check notices within its own deadline, reconnects and catches up, rather than
// waiting on the dead connection until TCP gives up.
func TestListenerSilentDeath(t *testing.T) {
	oldCheck, oldPing := checkEvery, pingTimeout
	t.Cleanup(func() { checkEvery, pingTimeout = oldCheck, oldPing }) // after the stores' cleanups, which stop their listeners
	checkEvery, pingTimeout = 50*time.Millisecond, 200*time.Millisecond
	schema := newSchema(t)
	a, b := openStore(t, schema), openStore(t, schema)
	ctx := t.Context()

	// b listens through the proxy; its pool and a's connect directly.
	b.stop()
	<-b.listenDone
	proxy := newBlackhole(t, net.JoinHostPort(b.connConfig.Host, strconv.Itoa(int(b.connConfig.Port))))
	cfg := b.connConfig.Copy()
	cfg.Host, cfg.Port, cfg.Fallbacks = "127.0.0.1", uint16(proxy.ln.Addr().(*net.TCPAddr).Port), nil
	b.connConfig = cfg
	lctx, stop := context.WithCancel(context.Background())
	conn, err := b.subscribe(lctx)
	if err != nil {
		stop()
		require.NoError(t, err)
	}
	b.stop, b.listenDone = stop, make(chan struct{})
	go b.listen(lctx, conn)

	docs := storetest.SyntheticDocs(60, 0, 61)
	require.NoError(t, a.Apply(ctx, knowledge.Change{Upsert: docs[:30]}))
	waitVersion(t, b, a.lex.Load().version, time.Now(), 2*time.Second)
	pid := b.listenPID.Load()

	proxy.freeze()
	require.NoError(t, a.Apply(ctx, knowledge.Change{Upsert: docs[30:]}))
	waitVersion(t, b, a.lex.Load().version, time.Now(), 5*time.Second)
	require.NotEqual(t, pid, b.listenPID.Load(), "the listener reconnected")
	checkLexical(t, b, docs, storetest.SyntheticQueries(docs, 10, 10, 62))
}

// TestSmallPool: with a pool of one connection, concurrent hybrid searches (each of which uses two
// connections) and refreshes after another process's changes all finish, since none holds a connection
// while it waits for another.
func TestSmallPool(t *testing.T) {
	schema := newSchema(t)
	a := openStore(t, schema)
	s, err := Open(t.Context(), Config{URL: testURL(t), Schema: schema, MaxConns: 1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	docs := storetest.SyntheticDocs(300, 8, 71)
	meta := knowledge.Meta{Embedder: "test", Dim: 8}
	require.NoError(t, a.Apply(ctx, knowledge.Change{Upsert: docs[:200], Meta: &meta}))
	queries := storetest.SyntheticQueries(docs, 8, 10, 72)
	var wg sync.WaitGroup
	for _, r := range queries {
		wg.Go(func() {
			for range 10 {
				_, err := s.Search(ctx, r)
				assert.NoError(t, err)
			}
		})
	}
	for i := 200; i < 300; i += 20 {
		require.NoError(t, a.Apply(ctx, knowledge.Change{Upsert: docs[i : i+20]}))
	}
	wg.Wait()
	for _, r := range queries {
		got, err := s.Search(ctx, r)
		require.NoError(t, err)
		require.Equal(t, codesOf(storetest.Reference(docs, r)), codesOf(got))
	}
}

// TestChangeLogReset: the change log records the codes of an ordinary change, but not the whole catalog for
// a reset, which every process answers by reading its whole index again.
func TestChangeLogReset(t *testing.T) {
	s := openStore(t, newSchema(t))
	ctx := t.Context()
	docs := storetest.SyntheticDocs(50, 0, 81)
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs[:40]}))
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs[40:], Delete: []string{docs[0].Procedure.Code}}))
	require.NoError(t, s.Apply(ctx, knowledge.Change{Upsert: docs, Reset: true}))
	rows, err := s.pool.Query(ctx, "SELECT reset, cardinality(codes) FROM catalog_changes ORDER BY version")
	require.NoError(t, err)
	type entry struct {
		Reset bool
		Codes int
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[entry])
	require.NoError(t, err)
	assert.Equal(t, []entry{{false, 40}, {false, 11}, {true, 0}}, got)
}
