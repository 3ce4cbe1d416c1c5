package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/embedded"
)

// countingEmbedder counts the texts it embeds and can fail after a number of them.
type countingEmbedder struct {
	knowledge.HashEmbedder
	texts     atomic.Int64
	failAfter int64 // 0: never
}

func (c *countingEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	if c.failAfter > 0 && c.texts.Load()+int64(len(texts)) > c.failAfter {
		return nil, errors.New("embedder down")
	}
	c.texts.Add(int64(len(texts)))
	return c.HashEmbedder.EmbedDocuments(ctx, texts)
}

var fields = []string{"Hộ tịch", "Cư trú", "Đất đai", "Đăng ký kinh doanh", "Bảo hiểm xã hội"}

func procs(n int, version string) []knowledge.Procedure {
	out := make([]knowledge.Procedure, n)
	for i := range out {
		out[i] = knowledge.Procedure{
			Code:   fmt.Sprintf("1.%06d", i),
			Name:   fmt.Sprintf("Thủ tục số %d về %s %s", i, fields[i%len(fields)], version),
			Field:  fields[i%len(fields)],
			Levels: []knowledge.Level{knowledge.LevelCommune},
		}
	}
	return out
}

func openStore(t *testing.T, dir string) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func TestSyncIncremental(t *testing.T) {
	ctx := t.Context()
	st := openStore(t, t.TempDir())
	emb := &countingEmbedder{}
	meta := emb.Meta()

	src := procs(200, "v1")
	rep, err := ingest.Sync(ctx, st, emb, meta, src, ingest.SyncOptions{})
	require.NoError(t, err)
	assert.Equal(t, 200, rep.Added)
	assert.Equal(t, int64(200), emb.texts.Load())
	assert.True(t, rep.Wrote)

	// Unchanged input: nothing embedded, nothing written.
	rep, err = ingest.Sync(ctx, st, emb, meta, src, ingest.SyncOptions{})
	require.NoError(t, err)
	assert.Equal(t, 200, rep.Unchanged)
	assert.Equal(t, 0, rep.Embedded)
	assert.False(t, rep.Wrote)
	assert.Equal(t, int64(200), emb.texts.Load())

	// One changed record: exactly one embedded.
	src[17].Name = "Đăng ký khai sinh lưu động"
	rep, err = ingest.Sync(ctx, st, emb, meta, src, ingest.SyncOptions{})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Changed)
	assert.Equal(t, 1, rep.Embedded)
	assert.Equal(t, int64(201), emb.texts.Load())
	p, err := st.Get(ctx, src[17].Code)
	require.NoError(t, err)
	assert.Equal(t, "Đăng ký khai sinh lưu động", p.Name)

	// Records gone from the source are kept on request, removed otherwise.
	rep, err = ingest.Sync(ctx, st, emb, meta, src[:150], ingest.SyncOptions{KeepRemoved: true})
	require.NoError(t, err)
	assert.Equal(t, 0, rep.Removed)
	assert.False(t, rep.Wrote)
	rep, err = ingest.Sync(ctx, st, emb, meta, src[:150], ingest.SyncOptions{})
	require.NoError(t, err)
	assert.Equal(t, 50, rep.Removed)
	h, err := st.Hashes(ctx)
	require.NoError(t, err)
	assert.Len(t, h, 150)
	_, err = st.Get(ctx, src[199].Code)
	assert.ErrorIs(t, err, knowledge.ErrNotFound)

	// A different embedder (dimension) re-embeds everything and replaces the index.
	emb2 := &countingEmbedder{HashEmbedder: knowledge.HashEmbedder{Dim: 64}}
	rep, err = ingest.Sync(ctx, st, emb2, emb2.Meta(), src[:150], ingest.SyncOptions{})
	require.NoError(t, err)
	assert.True(t, rep.Reindexed)
	assert.Equal(t, 150, rep.Embedded)
	m, err := st.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, 64, m.Dim)
}

func TestSyncDuplicateCode(t *testing.T) {
	st := openStore(t, t.TempDir())
	emb := &countingEmbedder{}
	src := procs(3, "v1")
	src[2].Code = src[0].Code
	_, err := ingest.Sync(t.Context(), st, emb, emb.Meta(), src, ingest.SyncOptions{})
	assert.ErrorIs(t, err, knowledge.ErrInvalid)
}

// A failure midway (the embedder goes down) leaves the previous catalog whole and searchable.
func TestSyncFailureKeepsPreviousCatalog(t *testing.T) {
	ctx := t.Context()
	st := openStore(t, t.TempDir())
	emb := &countingEmbedder{}
	old := procs(300, "v1")
	_, err := ingest.Sync(ctx, st, emb, emb.Meta(), old, ingest.SyncOptions{BatchSize: 50})
	require.NoError(t, err)
	before, err := st.Hashes(ctx)
	require.NoError(t, err)

	failing := &countingEmbedder{failAfter: 120}
	_, err = ingest.Sync(ctx, st, failing, failing.Meta(), procs(300, "v2"), ingest.SyncOptions{BatchSize: 50})
	require.Error(t, err)
	after, err := st.Hashes(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	s := knowledge.Searcher{Store: st, Embedder: emb}
	res, err := s.Search(ctx, "đất đai", 5)
	require.NoError(t, err)
	assert.NotEmpty(t, res.Hits)
}

// The process killed (SIGKILL) during an ingest: the store opens afterwards with either the old or the new
// catalog, whole. The child is this test binary re-executed with TROLYAO_SYNC_CHILD set.
func TestSyncKilled(t *testing.T) {
	if dir := os.Getenv("TROLYAO_SYNC_CHILD"); dir != "" {
		st, err := embedded.Open(dir)
		require.NoError(t, err)
		emb := knowledge.HashEmbedder{}
		_, err = ingest.Sync(context.Background(), st, emb, emb.Meta(), procs(4000, "v2"), ingest.SyncOptions{BatchSize: 100})
		require.NoError(t, err)
		require.NoError(t, st.Close())
		return
	}
	ctx := t.Context()
	emb := knowledge.HashEmbedder{}
	old, next := procs(4000, "v1"), procs(4000, "v2")
	want := func(ps []knowledge.Procedure) map[string]string {
		m := map[string]string{}
		for i := range ps {
			m[ps[i].Code] = knowledge.ContentHash(&ps[i], nil)
		}
		return m
	}
	oldHashes, newHashes := want(old), want(next)
	outcomes := map[string]int{}
	for i, delay := range []time.Duration{30 * time.Millisecond, 150 * time.Millisecond, 400 * time.Millisecond, 900 * time.Millisecond} {
		dir := t.TempDir()
		st, err := embedded.Open(dir)
		require.NoError(t, err)
		_, err = ingest.Sync(ctx, st, emb, emb.Meta(), old, ingest.SyncOptions{})
		require.NoError(t, err)
		require.NoError(t, st.Close())

		cmd := exec.Command(os.Args[0], "-test.run=^TestSyncKilled$")
		cmd.Env = append(os.Environ(), "TROLYAO_SYNC_CHILD="+dir)
		require.NoError(t, cmd.Start())
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()

		st, err = embedded.Open(dir)
		require.NoError(t, err, "run %d", i)
		got, err := st.Hashes(ctx)
		require.NoError(t, err)
		switch {
		case assert.ObjectsAreEqual(oldHashes, got):
			outcomes["old"]++
		case assert.ObjectsAreEqual(newHashes, got):
			outcomes["new"]++
		default:
			t.Fatalf("run %d (killed after %s): the store holds neither catalog whole (%d records)", i, delay, len(got))
		}
		s := knowledge.Searcher{Store: st, Embedder: emb}
		res, err := s.Search(ctx, "hộ tịch", 3)
		require.NoError(t, err)
		assert.NotEmpty(t, res.Hits)
		require.NoError(t, st.Close())
	}
	t.Logf("outcomes after SIGKILL: %v", outcomes)
}
