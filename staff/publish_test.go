package staff_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/staff"
	sembedded "github.com/trolyao/trolyao/staff/embedded"
)

var errKilled = errors.New("killed")

// faultStore is a catalog store whose Apply can fail, before or after changing the store.
type faultStore struct {
	knowledge.Store
	fail   bool // Apply returns errKilled
	before bool // … without changing the store
}

func (s *faultStore) Apply(ctx context.Context, c knowledge.Change) error {
	if s.fail && s.before {
		return errKilled
	}
	if err := s.Store.Apply(ctx, c); err != nil {
		return err
	}
	if s.fail {
		return errKilled
	}
	return nil
}

// faultRepo is a staff repo in a process that dies once it has written a publish intent: it settles no intent.
type faultRepo struct {
	staff.Repo
	killed bool
}

func (r *faultRepo) CompletePublishIntent(ctx context.Context, id int64) ([]staff.Version, error) {
	if r.killed {
		return nil, errKilled
	}
	return r.Repo.CompletePublishIntent(ctx, id)
}

func (r *faultRepo) DeletePublishIntent(ctx context.Context, id int64) error {
	if r.killed {
		return errKilled
	}
	return r.Repo.DeletePublishIntent(ctx, id)
}

// sharedRepo is a faultRepo shared by several processes, as a Watcher is.
type sharedRepo struct{ *faultRepo }

func (sharedRepo) Watch(ctx context.Context, changed func()) error { <-ctx.Done(); return nil }

type publishFixture struct {
	*env
	st   *faultStore
	repo *faultRepo
	c    *client
}

func newPublishFixture(t *testing.T) *publishFixture { return newPublishFixtureOf(t, false) }

func newPublishFixtureOf(t *testing.T, shared bool) *publishFixture {
	r, err := sembedded.Open(filepath.Join(t.TempDir(), "staff.db"))
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	f := &publishFixture{st: &faultStore{Store: smallStore(t)}, repo: &faultRepo{Repo: r}}
	var repo staff.Repo = f.repo
	if shared {
		repo = sharedRepo{f.repo}
	}
	f.env = newEnv(t, f.st, repo, nil)
	f.addUser("hoa", staff.RolePublisher)
	f.c = f.login("hoa")
	return f
}

// draft saves an edit of code's record (its result) as a draft and returns the draft's version.
func (f *publishFixture) draft(code, result string) int {
	p, err := f.store.Get(f.t.Context(), code)
	require.NoError(f.t, err)
	p.Result = result
	res := f.c.do("PUT", "/procedures/"+code+"/draft", map[string]any{"base_version": 0, "procedure": p})
	require.Equal(f.t, http.StatusOK, res.status, "%s", res.body)
	var d draftView
	res.json(f.t, &d)
	return d.Version
}

func (f *publishFixture) publish(code string, base int) response {
	return f.c.do("POST", "/procedures/"+code+"/publish", map[string]any{"base_version": base, "note": "phí mới"})
}

func (f *publishFixture) recover(completed, forgotten int) { f.recoverLeaving(completed, forgotten, 0) }

// recoverLeaving runs Recover and checks what it did, and how many intents it left pending.
func (f *publishFixture) recoverLeaving(completed, forgotten, pending int) {
	f.t.Helper()
	c, fg, err := f.svc.Recover(f.t.Context())
	require.NoError(f.t, err)
	assert.Equal(f.t, []int{completed, forgotten}, []int{c, fg}, "completed, forgotten")
	left, err := f.repo.PublishIntents(f.t.Context())
	require.NoError(f.t, err)
	assert.Len(f.t, left, pending, "intents left pending")
}

// state is code's record as the store serves it and its history.
func (f *publishFixture) state(code string) (knowledge.Procedure, []staff.Version) {
	f.t.Helper()
	p, err := f.store.Get(f.t.Context(), code)
	require.NoError(f.t, err)
	vs, err := f.repo.Versions(f.t.Context(), code)
	require.NoError(f.t, err)
	return p, vs
}

// whole checks that code's draft was published whole: served, in the history with the note, draft dropped.
func (f *publishFixture) whole(code, result string) {
	f.t.Helper()
	p, vs := f.state(code)
	assert.Equal(f.t, result, p.Result)
	require.Len(f.t, vs, 2)
	assert.Equal(f.t, []string{staff.ActionPublish, staff.ActionCatalog}, []string{vs[0].Action, vs[1].Action})
	assert.Equal(f.t, "phí mới", vs[0].Note)
	_, err := f.repo.Draft(f.t.Context(), code)
	assert.ErrorIs(f.t, err, staff.ErrNotFound, "the draft is dropped")
}

// untouched checks that code's draft was not published at all: not served, no history, the draft kept.
func (f *publishFixture) untouched(code, result string, draft int) {
	f.t.Helper()
	p, vs := f.state(code)
	assert.NotEqual(f.t, result, p.Result)
	assert.Empty(f.t, vs)
	d, err := f.repo.Draft(f.t.Context(), code)
	require.NoError(f.t, err, "the draft is kept")
	assert.Equal(f.t, draft, d.Version)
	assert.Equal(f.t, result, d.Procedure.Result)
}

// TestPublishKilledAfterApply: the process dies once the store has the record but before its version is
// recorded; Recover (serve starting again) records it and drops the draft.
func TestPublishKilledAfterApply(t *testing.T) {
	f := newPublishFixture(t)
	d := f.draft("1.000001", "Giấy khai sinh mới")
	f.repo.killed = true
	assert.NotEqual(t, http.StatusOK, f.publish("1.000001", d).status)
	f.repo.killed = false
	f.recover(1, 0)
	f.whole("1.000001", "Giấy khai sinh mới")
	f.recover(0, 0)
}

// TestPublishKilledBeforeApply: the process dies after writing the intent, before the store changes; Recover
// forgets the intent and the draft stays as saved.
func TestPublishKilledBeforeApply(t *testing.T) {
	f := newPublishFixture(t)
	d := f.draft("1.000001", "Giấy khai sinh mới")
	f.repo.killed, f.st.fail, f.st.before = true, true, true
	assert.NotEqual(t, http.StatusOK, f.publish("1.000001", d).status)
	f.repo.killed, f.st.fail = false, false
	f.recover(0, 1)
	f.untouched("1.000001", "Giấy khai sinh mới", d)
	// The draft is published whole the next time.
	require.Equal(t, http.StatusOK, f.publish("1.000001", d).status)
	f.whole("1.000001", "Giấy khai sinh mới")
}

// TestRecoverSharedRepo: with a repo shared by several processes, an intent the store does not hold may be a
// publish still in flight elsewhere: Recover forgets it only after staff.IntentGrace, but completes an
// applied one at once.
func TestRecoverSharedRepo(t *testing.T) {
	f := newPublishFixtureOf(t, true)
	d := f.draft("1.000001", "Giấy khai sinh mới")
	f.repo.killed, f.st.fail, f.st.before = true, true, true
	assert.NotEqual(t, http.StatusOK, f.publish("1.000001", d).status)
	f.repo.killed, f.st.fail = false, false
	f.recoverLeaving(0, 0, 1)
	f.clock.Add(staff.IntentGrace)
	f.recover(0, 1)
	f.untouched("1.000001", "Giấy khai sinh mới", d)

	f.c = f.login("hoa") // the session has expired meanwhile
	f.repo.killed = true
	assert.NotEqual(t, http.StatusOK, f.publish("1.000001", d).status)
	f.repo.killed = false
	f.recover(1, 0)
	f.whole("1.000001", "Giấy khai sinh mới")
}

// TestPublishFails: a store that refuses the change leaves nothing behind; one that commits it but reports an
// error (a lost connection) gets the version recorded all the same.
func TestPublishFails(t *testing.T) {
	f := newPublishFixture(t)
	d := f.draft("1.000001", "Giấy khai sinh mới")
	f.st.fail, f.st.before = true, true
	assert.Equal(t, http.StatusInternalServerError, f.publish("1.000001", d).status)
	f.untouched("1.000001", "Giấy khai sinh mới", d)
	f.recover(0, 0)

	f.st.before = false
	assert.Equal(t, http.StatusInternalServerError, f.publish("1.000001", d).status)
	f.whole("1.000001", "Giấy khai sinh mới")
	f.recover(0, 0)
}

// TestImportPublishKilledAfterApply: a batch of several codes applied in one change, the process dying before
// the history is written; Recover records every version and marks the batch published.
func TestImportPublishKilledAfterApply(t *testing.T) {
	f := newPublishFixture(t)
	ctx := t.Context()
	var recs []knowledge.Procedure
	for _, code := range []string{"1.000002", "1.000003"} {
		p, err := f.store.Get(ctx, code)
		require.NoError(t, err)
		p.Result = "Kết quả mới"
		recs = append(recs, p)
	}
	recs = append(recs, knowledge.Procedure{Code: "1.999999", Name: "Mới"})
	var jl bytes.Buffer
	require.NoError(t, ingest.WriteJSONL(&jl, recs))
	res, v := upload(t, f.c, "catalog.jsonl", jl.Bytes())
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	require.Equal(t, staff.Counts{New: 1, Changed: 2, Total: 3}, v.Counts)

	f.repo.killed = true
	assert.NotEqual(t, http.StatusOK, f.c.do("POST", fmt.Sprintf("/imports/%d/publish", v.ID), nil).status)
	f.repo.killed = false
	f.recover(1, 0)
	latest, err := f.repo.LatestVersions(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"1.000002": 2, "1.000003": 2, "1.999999": 1}, latest)
	for _, p := range recs {
		got, err := f.store.Get(ctx, p.Code)
		require.NoError(t, err)
		assert.Equal(t, p.Result, got.Result)
	}
	im, _, err := f.repo.Import(ctx, v.ID)
	require.NoError(t, err)
	assert.Equal(t, "published", im.Status)
	assert.Equal(t, 3, im.Published)
	assert.Equal(t, "hoa", im.PublishedBy)
}
