package postgres_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	kpg "github.com/trolyao/trolyao/knowledge/postgres"
	"github.com/trolyao/trolyao/knowledge/postgres/pgtest"
	"github.com/trolyao/trolyao/staff"
	"github.com/trolyao/trolyao/staff/postgres"
	"github.com/trolyao/trolyao/staff/stafftest"
)

func openStore(t *testing.T, schema string) *kpg.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := kpg.Open(ctx, kpg.Config{URL: pgtest.URL(t), Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func TestContract(t *testing.T) {
	pgtest.URL(t)
	stafftest.Run(t, func(t *testing.T) staff.Repo {
		return postgres.New(openStore(t, pgtest.Schema(t)).Pool())
	})
}

func TestStartersContract(t *testing.T) {
	pgtest.URL(t)
	stafftest.RunStarters(t, func(t *testing.T) staff.StarterRepo {
		return postgres.New(openStore(t, pgtest.Schema(t)).Pool())
	})
}

// The starter questions staff set through one store's pool reach a watcher on another (a second serve process
// on the same database), their reset too, and a store opened afresh on the same schema reads them.
func TestStartersShared(t *testing.T) {
	schema := pgtest.Schema(t)
	a := postgres.New(openStore(t, schema).Pool())
	b := postgres.New(openStore(t, schema).Pool())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	changed := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() { done <- b.Watch(ctx, func() { changed <- struct{}{} }) }()
	<-changed // the initial call after LISTEN
	wait := func(what string) {
		t.Helper()
		select {
		case <-changed:
		case <-time.After(10 * time.Second):
			t.Fatal("no notification of " + what)
		}
	}
	s := staff.Starters{Questions: []string{"Đăng ký khai sinh cho con", "Cấp lại căn cước"}, By: "hoa",
		At: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	_, err := a.SaveStarters(ctx, s, 0)
	require.NoError(t, err)
	wait("the starter questions")
	got, err := b.Starters(ctx)
	require.NoError(t, err)
	assert.Equal(t, s.Questions, got.Questions)
	require.NoError(t, a.DeleteStarters(ctx, 1))
	wait("the reset")
	want, err := a.SaveStarters(ctx, s, 0)
	require.NoError(t, err)
	wait("the starter questions set again")
	cancel()
	require.NoError(t, <-done)
	select {
	case <-changed:
		t.Fatal("a notification nobody caused")
	default:
	}

	c := postgres.New(openStore(t, schema).Pool())
	got, err = c.Starters(t.Context())
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

// TestAuditAppendOnly checks that the database itself refuses to change or delete audit entries.
func TestAuditAppendOnly(t *testing.T) {
	st := openStore(t, pgtest.Schema(t))
	r := postgres.New(st.Pool())
	ctx := t.Context()
	e, err := r.AppendAudit(ctx, staff.AuditEntry{At: time.Now().UTC(), Actor: "lan", Action: "publish", Target: "1.1"})
	require.NoError(t, err)
	_, err = st.Pool().Exec(ctx, "UPDATE staff_audit SET actor = 'mallory' WHERE id = $1", e.ID)
	assert.ErrorContains(t, err, "append-only")
	_, err = st.Pool().Exec(ctx, "DELETE FROM staff_audit WHERE id = $1", e.ID)
	assert.ErrorContains(t, err, "append-only")
	_, err = st.Pool().Exec(ctx, "TRUNCATE staff_audit")
	assert.ErrorContains(t, err, "append-only")
	es, err := r.Audit(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.Equal(t, "lan", es[0].Actor)
}

// TestWatch checks that a synonym change made through one store's pool reaches a watcher on another (as a
// second serve process on the same database).
func TestWatch(t *testing.T) {
	schema := pgtest.Schema(t)
	a := postgres.New(openStore(t, schema).Pool())
	b := postgres.New(openStore(t, schema).Pool())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var calls atomic.Int32
	changed := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() {
		done <- b.Watch(ctx, func() {
			calls.Add(1)
			changed <- struct{}{}
		})
	}()
	<-changed // the initial call after LISTEN
	_, err := a.AddSynonym(ctx, staff.Synonym{Phrase: "giấy hồng", To: "sổ hồng", By: "lan", At: time.Now().UTC()})
	require.NoError(t, err)
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification of the synonym change")
	}
	cancel()
	require.NoError(t, <-done)
	assert.Equal(t, int32(2), calls.Load())
}

// A centre correction made through one store's pool reaches a watcher on another, and a store opened afresh on
// the same schema reads it.
func TestCentreCorrectionShared(t *testing.T) {
	schema := pgtest.Schema(t)
	a := postgres.New(openStore(t, schema).Pool())
	b := postgres.New(openStore(t, schema).Pool())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	changed := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() { done <- b.Watch(ctx, func() { changed <- struct{}{} }) }()
	<-changed // the initial call after LISTEN
	want, err := a.SaveCentreCorrection(ctx, staff.CentreCorrection{UnitCode: "27154", Name: "Trung tâm",
		Address: "185 Cách Mạng Tháng Tám", By: "lan", At: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}, 0)
	require.NoError(t, err)
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification of the centre correction")
	}
	require.NoError(t, a.DeleteCentreCorrection(ctx, "27154", 1))
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification of the revert")
	}
	want, err = a.SaveCentreCorrection(ctx, want, 0)
	require.NoError(t, err)
	cancel()
	require.NoError(t, <-done)

	c := postgres.New(openStore(t, schema).Pool())
	got, err := c.CentreCorrections(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []staff.CentreCorrection{want}, got)
}
