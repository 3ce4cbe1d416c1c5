// Package stafftest is the contract test suite of staff.Repo and staff.StarterRepo: staff/embedded and
// staff/postgres run Run and RunStarters from their tests. It imports staff, knowledge, the standard library and testify only.
package stafftest

import (
	"encoding/json"

	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/staff"
)

// Run runs the contract, one subtest each; open returns a new, empty repo for one subtest (and arranges its
// cleanup).
func Run(t *testing.T, open func(t *testing.T) staff.Repo) {
	t.Run("Users", func(t *testing.T) { testUsers(t, open(t)) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, open(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open(t)) })
	t.Run("Drafts", func(t *testing.T) { testDrafts(t, open(t)) })
	t.Run("ConcurrentDrafts", func(t *testing.T) { testConcurrentDrafts(t, open(t)) })
	t.Run("Versions", func(t *testing.T) { testVersions(t, open(t)) })
	t.Run("PublishIntents", func(t *testing.T) { testPublishIntents(t, open(t)) })
	t.Run("Imports", func(t *testing.T) { testImports(t, open(t)) })
	t.Run("Handled", func(t *testing.T) { testHandled(t, open(t)) })
	t.Run("Synonyms", func(t *testing.T) { testSynonyms(t, open(t)) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open(t)) })
	t.Run("CentreCorrections", func(t *testing.T) { testCentreCorrections(t, open(t)) })
	t.Run("ConcurrentCentreCorrections", func(t *testing.T) { testConcurrentCentreCorrections(t, open(t)) })
	t.Run("LoginFailures", func(t *testing.T) { testLoginFailures(t, open(t)) })
}

// at is a time as every store keeps it: UTC, whole microseconds.
func at(min int) time.Time {
	return time.Date(2026, 7, 1, 8, min, 0, 123456000, time.UTC)
}

func proc(code, name string) knowledge.Procedure {
	return knowledge.Procedure{Code: code, Name: name, Levels: []knowledge.Level{knowledge.LevelCommune},
		Dossier: []knowledge.DossierItem{{Name: "Tờ khai", Originals: 1}}, SourceDate: at(0)}
}

func testUsers(t *testing.T, r staff.Repo) {
	ctx := t.Context()
	u := staff.User{Username: "lan", Role: staff.RoleEditor, Password: "$argon2id$x", Unit: "UBND phường Bàn Cờ", CreatedAt: at(1)}
	require.NoError(t, r.CreateUser(ctx, u))
	assert.ErrorIs(t, r.CreateUser(ctx, u), staff.ErrExists)
	require.NoError(t, r.CreateUser(ctx, staff.User{Username: "an", Role: staff.RoleAdmin, Password: "h", CreatedAt: at(2)}))
	got, err := r.User(ctx, "lan")
	require.NoError(t, err)
	assert.Equal(t, u, got)
	_, err = r.User(ctx, "nobody")
	assert.ErrorIs(t, err, knowledge.ErrNotFound)

	u.Role, u.Disabled, u.Password, u.Unit = staff.RolePublisher, true, "new", "UBND phường Xuân Hòa"
	require.NoError(t, r.UpdateUser(ctx, u))
	got, err = r.User(ctx, "lan")
	require.NoError(t, err)
	assert.Equal(t, u, got)
	assert.ErrorIs(t, r.UpdateUser(ctx, staff.User{Username: "nobody", Role: staff.RoleViewer}), knowledge.ErrNotFound)

	us, err := r.Users(ctx)
	require.NoError(t, err)
	require.Len(t, us, 2)
	assert.Equal(t, "an", us[0].Username)
	assert.Equal(t, "lan", us[1].Username)
}

func testTokens(t *testing.T, r staff.Repo) {
	ctx := t.Context()
	exp := at(30)
	a, err := r.CreateToken(ctx, staff.Token{Name: "ci", Role: staff.RolePublisher, Hash: []byte("hash-a-32-bytes-long-----------."),
		CreatedBy: "an", CreatedAt: at(1), ExpiresAt: &exp})
	require.NoError(t, err)
	b, err := r.CreateToken(ctx, staff.Token{Name: "bot", Role: staff.RoleViewer, Hash: []byte("hash-b"), CreatedBy: "an", CreatedAt: at(2)})
	require.NoError(t, err)
	assert.Greater(t, a.ID, int64(0))
	assert.Greater(t, b.ID, a.ID)

	got, err := r.TokenByHash(ctx, []byte("hash-a-32-bytes-long-----------."))
	require.NoError(t, err)
	assert.Equal(t, a, got)
	_, err = r.TokenByHash(ctx, []byte("nope"))
	assert.ErrorIs(t, err, knowledge.ErrNotFound)

	ts, err := r.Tokens(ctx)
	require.NoError(t, err)
	require.Len(t, ts, 2)
	assert.Equal(t, []int64{a.ID, b.ID}, []int64{ts[0].ID, ts[1].ID})
	assert.Nil(t, ts[1].ExpiresAt)

	require.NoError(t, r.DeleteToken(ctx, a.ID))
	assert.ErrorIs(t, r.DeleteToken(ctx, a.ID), knowledge.ErrNotFound)
	_, err = r.TokenByHash(ctx, a.Hash)
	assert.ErrorIs(t, err, knowledge.ErrNotFound)
}

func testSessions(t *testing.T, r staff.Repo) {
	ctx := t.Context()
	require.NoError(t, r.CreateUser(ctx, staff.User{Username: "lan", Role: staff.RoleEditor, Password: "h", CreatedAt: at(0)}))
	require.NoError(t, r.CreateUser(ctx, staff.User{Username: "an", Role: staff.RoleEditor, Password: "h", CreatedAt: at(0)}))
	s1 := staff.Session{Hash: []byte("s1"), Username: "lan", CSRF: "c1", CreatedAt: at(1), LastSeen: at(1), ExpiresAt: at(50)}
	s2 := staff.Session{Hash: []byte("s2"), Username: "lan", CSRF: "c2", CreatedAt: at(2), LastSeen: at(2), ExpiresAt: at(50)}
	s3 := staff.Session{Hash: []byte("s3"), Username: "an", CSRF: "c3", CreatedAt: at(2), LastSeen: at(2), ExpiresAt: at(50)}
	for _, s := range []staff.Session{s1, s2, s3} {
		require.NoError(t, r.CreateSession(ctx, s))
	}
	got, err := r.Session(ctx, []byte("s1"))
	require.NoError(t, err)
	assert.Equal(t, s1, got)
	require.NoError(t, r.TouchSession(ctx, []byte("s1"), at(9)))
	got, err = r.Session(ctx, []byte("s1"))
	require.NoError(t, err)
	assert.Equal(t, at(9), got.LastSeen)

	require.NoError(t, r.DeleteSession(ctx, []byte("s1")))
	require.NoError(t, r.DeleteSession(ctx, []byte("s1")), "deleting an absent session is not an error")
	_, err = r.Session(ctx, []byte("s1"))
	assert.ErrorIs(t, err, knowledge.ErrNotFound)

	require.NoError(t, r.DeleteSessions(ctx, "lan"))
	_, err = r.Session(ctx, []byte("s2"))
	assert.ErrorIs(t, err, knowledge.ErrNotFound)
	_, err = r.Session(ctx, []byte("s3"))
	assert.NoError(t, err, "another user's session stays")
}

func testDrafts(t *testing.T, r staff.Repo) {
	ctx := t.Context()
	_, err := r.Draft(ctx, "1.000001")
	assert.ErrorIs(t, err, knowledge.ErrNotFound)

	d := staff.Draft{Code: "1.000001", Procedure: proc("1.000001", "Đăng ký khai sinh"), UpdatedBy: "lan", UpdatedAt: at(1)}
	got, err := r.SaveDraft(ctx, d, 0)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Version)
	_, err = r.SaveDraft(ctx, d, 0)
	assert.ErrorIs(t, err, staff.ErrConflict, "a second create from 0")
	_, err = r.SaveDraft(ctx, d, 5)
	assert.ErrorIs(t, err, staff.ErrConflict)

	d.Procedure.Name = "Đăng ký khai sinh (sửa)"
	d.UpdatedAt = at(2)
	got, err = r.SaveDraft(ctx, d, 1)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Version)
	stored, err := r.Draft(ctx, "1.000001")
	require.NoError(t, err)
	d.Version = 2
	assert.Equal(t, d, stored)

	_, err = r.SaveDraft(ctx, staff.Draft{Code: "0.5", Procedure: proc("0.5", "Khác"), UpdatedBy: "an", UpdatedAt: at(3)}, 0)
	require.NoError(t, err)
	ds, err := r.Drafts(ctx)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	assert.Equal(t, "0.5", ds[0].Code)

	assert.ErrorIs(t, r.DeleteDraft(ctx, "1.000001", 1), staff.ErrConflict)
	require.NoError(t, r.DeleteDraft(ctx, "1.000001", 2))
	assert.ErrorIs(t, r.DeleteDraft(ctx, "1.000001", 2), knowledge.ErrNotFound)
	got, err = r.SaveDraft(ctx, d, 0)
	require.NoError(t, err, "after a discard a new draft starts from 0")
	assert.Equal(t, 1, got.Version)
}

func testConcurrentDrafts(t *testing.T, r staff.Repo) {
	ctx := t.Context()
	_, err := r.SaveDraft(ctx, staff.Draft{Code: "2.000002", Procedure: proc("2.000002", "Gốc"), UpdatedBy: "a", UpdatedAt: at(1)}, 0)
	require.NoError(t, err)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("Sửa %d", i)
			_, errs[i] = r.SaveDraft(ctx, staff.Draft{Code: "2.000002", Procedure: proc("2.000002", name), UpdatedBy: "a", UpdatedAt: at(2)}, 1)
		}()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, won, "two saves from the same base both succeeded")
			won = i
		} else {
			assert.ErrorIs(t, err, staff.ErrConflict)
		}
	}
	require.NotEqual(t, -1, won)
	d, err := r.Draft(ctx, "2.000002")
	require.NoError(t, err)
	assert.Equal(t, 2, d.Version)
	assert.Equal(t, fmt.Sprintf("Sửa %d", won), d.Procedure.Name)
}

func testVersions(t *testing.T, r staff.Repo) {
	ctx := t.Context()
	_, err := r.SaveDraft(ctx, staff.Draft{Code: "1.1", Procedure: proc("1.1", "A"), UpdatedBy: "a", UpdatedAt: at(1)}, 0)
	require.NoError(t, err)
	_, err = r.SaveDraft(ctx, staff.Draft{Code: "1.10", Procedure: proc("1.10", "B"), UpdatedBy: "a", UpdatedAt: at(1)}, 0)
	require.NoError(t, err)
	pa, pb := proc("1.1", "A"), proc("1.10", "B")
	vs, err := r.AddVersions(ctx, []staff.Version{
		{Code: "1.1", Action: staff.ActionPublish, By: "a", At: at(2), Note: "đầu", Hash: "h1", Procedure: &pa},
		{Code: "1.10", Action: staff.ActionImport, By: "b", At: at(2), Hash: "h2", Procedure: &pb},
	}, map[string]int{"1.1": 1, "1.10": 7})
	require.NoError(t, err)
	assert.Equal(t, 1, vs[0].Version)
	assert.Equal(t, 1, vs[1].Version)
	_, err = r.Draft(ctx, "1.1")
	assert.ErrorIs(t, err, knowledge.ErrNotFound, "the published draft is dropped")
	_, err = r.Draft(ctx, "1.10")
	assert.NoError(t, err, "a draft of another version stays")

	pa2 := proc("1.1", "A2")
	pa2.Attribution = knowledge.Attribution{By: "c", Unit: "UBND phường Bàn Cờ", At: at(3)}
	vs, err = r.AddVersions(ctx, []staff.Version{
		{Code: "1.1", Action: staff.ActionRestore, By: "c", At: at(3), Hash: "h3", Procedure: &pa2},
		{Code: "1.1", Action: staff.ActionUnpublish, By: "c", At: at(4), Hash: "h3", Procedure: &pa2},
	}, nil)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3}, []int{vs[0].Version, vs[1].Version})

	list, err := r.Versions(ctx, "1.1")
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Equal(t, []int{3, 2, 1}, []int{list[0].Version, list[1].Version, list[2].Version})
	assert.Nil(t, list[0].Procedure)
	assert.Equal(t, staff.Version{Code: "1.1", Version: 1, Action: staff.ActionPublish, By: "a", At: at(2), Note: "đầu", Hash: "h1"}, list[2])

	one, err := r.Version(ctx, "1.1", 2)
	require.NoError(t, err)
	require.NotNil(t, one.Procedure)
	assert.Equal(t, pa2, *one.Procedure)
	_, err = r.Version(ctx, "1.1", 4)
	assert.ErrorIs(t, err, knowledge.ErrNotFound)

	latest, err := r.LatestVersions(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"1.1": 3, "1.10": 1}, latest)
}

func testPublishIntents(t *testing.T, r staff.Repo) {
	ctx := t.Context()
	list, err := r.PublishIntents(ctx)
	require.NoError(t, err)
	assert.Empty(t, list)

	_, err = r.SaveDraft(ctx, staff.Draft{Code: "3.1", Procedure: proc("3.1", "A"), UpdatedBy: "a", UpdatedAt: at(1)}, 0)
	require.NoError(t, err)
	_, err = r.AddVersions(ctx, []staff.Version{{Code: "3.1", Action: staff.ActionPublish, By: "a", At: at(1), Hash: "h0"}}, nil)
	require.NoError(t, err)
	orig, pa, pb := proc("3.1", "Gốc"), proc("3.1", "A"), proc("3.2", "B")
	first, err := r.AddPublishIntent(ctx, staff.PublishIntent{At: at(2), Versions: []staff.Version{
		{Code: "3.1", Action: staff.ActionPublish, By: "a", At: at(2), Note: "phí mới", Hash: "h1", Procedure: &pa},
		{Code: "3.2", Action: staff.ActionCatalog, By: staff.CatalogAuthor, At: at(2), Hash: "h2", Procedure: &orig},
		{Code: "3.2", Action: staff.ActionImport, By: "a", At: at(2), Hash: "h3", Procedure: &pb},
	}, DropDrafts: map[string]int{"3.1": 1}})
	require.NoError(t, err)
	second, err := r.AddPublishIntent(ctx, staff.PublishIntent{At: at(3), Versions: []staff.Version{
		{Code: "3.3", Action: staff.ActionUnpublish, By: "b", At: at(3), Hash: "h4", Procedure: &pb},
	}})
	require.NoError(t, err)
	assert.Greater(t, second.ID, first.ID)

	list, err = r.PublishIntents(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, []int64{first.ID, second.ID}, []int64{list[0].ID, list[1].ID})
	assert.Equal(t, first.Versions, list[0].Versions, "kept with their records")
	assert.Equal(t, map[string]int{"3.1": 1}, list[0].DropDrafts)
	assert.True(t, at(2).Equal(list[0].At))
	_, err = r.Draft(ctx, "3.1")
	require.NoError(t, err, "an intent drops no draft")
	latest, err := r.LatestVersions(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, latest["3.1"], "an intent adds no version")

	vs, err := r.CompletePublishIntent(ctx, first.ID)
	require.NoError(t, err)
	require.Len(t, vs, 3)
	assert.Equal(t, []int{2, 1, 2}, []int{vs[0].Version, vs[1].Version, vs[2].Version})
	_, err = r.Draft(ctx, "3.1")
	assert.ErrorIs(t, err, knowledge.ErrNotFound, "completing drops the draft")
	v, err := r.Version(ctx, "3.1", 2)
	require.NoError(t, err)
	assert.Equal(t, "phí mới", v.Note)
	require.NotNil(t, v.Procedure)
	assert.Equal(t, "A", v.Procedure.Name)
	_, err = r.CompletePublishIntent(ctx, first.ID)
	assert.ErrorIs(t, err, knowledge.ErrNotFound, "an intent is completed once")
	latest, err = r.LatestVersions(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, latest["3.1"])

	require.NoError(t, r.DeletePublishIntent(ctx, second.ID))
	assert.ErrorIs(t, r.DeletePublishIntent(ctx, second.ID), knowledge.ErrNotFound)
	_, err = r.CompletePublishIntent(ctx, second.ID)
	assert.ErrorIs(t, err, knowledge.ErrNotFound)
	list, err = r.PublishIntents(ctx)
	require.NoError(t, err)
	assert.Empty(t, list)
	_, err = r.Versions(ctx, "3.3")
	require.NoError(t, err)
	latest, err = r.LatestVersions(ctx)
	require.NoError(t, err)
	assert.Zero(t, latest["3.3"], "a deleted intent adds nothing")
}

func testImports(t *testing.T, r staff.Repo) {
	ctx := t.Context()
	p := proc("1.000003", "Mới")
	im, err := r.CreateImport(ctx, staff.Import{Name: "crawl.zip", Format: "zip", By: "lan", At: at(1), Status: "open",
		Counts: staff.Counts{New: 1, Unchanged: 1, Invalid: 1, Total: 3}}, []staff.ImportRecord{
		{Code: "1.000003", Name: "Mới", File: "", Status: staff.StatusNew, Procedure: &p},
		{Code: "1.000004", Name: "Cũ", Status: staff.StatusUnchanged},
		{File: "bo-tu-phap/x.json", Status: staff.StatusInvalid, Reason: "thiếu mã"},
	})
	require.NoError(t, err)
	assert.Greater(t, im.ID, int64(0))
	im2, err := r.CreateImport(ctx, staff.Import{Name: "b.jsonl", Format: "jsonl", By: "lan", At: at(2), Status: "open"}, nil)
	require.NoError(t, err)

	got, recs, err := r.Import(ctx, im.ID)
	require.NoError(t, err)
	assert.Equal(t, im, got)
	require.Len(t, recs, 3)
	require.NotNil(t, recs[0].Procedure)
	assert.Equal(t, p, *recs[0].Procedure)
	assert.Nil(t, recs[1].Procedure)
	assert.Equal(t, "thiếu mã", recs[2].Reason)
	_, _, err = r.Import(ctx, 999)
	assert.ErrorIs(t, err, knowledge.ErrNotFound)

	list, err := r.Imports(ctx, 10)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, im2.ID, list[0].ID)
	list, err = r.Imports(ctx, 1)
	require.NoError(t, err)
	assert.Len(t, list, 1)

	require.NoError(t, r.MarkImportPublished(ctx, im.ID, "an", at(5), 1))
	assert.ErrorIs(t, r.MarkImportPublished(ctx, im.ID, "an", at(6), 1), staff.ErrConflict)
	assert.ErrorIs(t, r.MarkImportPublished(ctx, 999, "an", at(6), 1), knowledge.ErrNotFound)
	got, _, err = r.Import(ctx, im.ID)
	require.NoError(t, err)
	assert.Equal(t, "published", got.Status)
	assert.Equal(t, 1, got.Published)
	assert.Equal(t, "an", got.PublishedBy)
	require.NotNil(t, got.PublishedAt)
	assert.Equal(t, at(5), *got.PublishedAt)
}

func testHandled(t *testing.T, r staff.Repo) {
	ctx := t.Context()
	require.NoError(t, r.SetHandled(ctx, staff.Handled{Kind: "question", Key: "lam cccd", By: "lan", At: at(1)}))
	require.NoError(t, r.SetHandled(ctx, staff.Handled{Kind: "procedure", Key: "1.1", By: "lan", At: at(1)}))
	require.NoError(t, r.SetHandled(ctx, staff.Handled{Kind: "question", Key: "lam cccd", By: "an", At: at(2)}))
	hs, err := r.Handled(ctx)
	require.NoError(t, err)
	require.Len(t, hs, 2)
	m := map[string]staff.Handled{}
	for _, h := range hs {
		m[h.Kind+"/"+h.Key] = h
	}
	assert.Equal(t, staff.Handled{Kind: "question", Key: "lam cccd", By: "an", At: at(2)}, m["question/lam cccd"])
}

func testSynonyms(t *testing.T, r staff.Repo) {
	ctx := t.Context()
	a, err := r.AddSynonym(ctx, staff.Synonym{Phrase: "giấy hồng", To: "giấy chứng nhận quyền sử dụng đất", By: "lan", At: at(1)})
	require.NoError(t, err)
	b, err := r.AddSynonym(ctx, staff.Synonym{Phrase: "mở sạp", To: "hộ kinh doanh", By: "lan", At: at(2)})
	require.NoError(t, err)
	a2, err := r.AddSynonym(ctx, staff.Synonym{Phrase: "giấy hồng", To: "sổ hồng", By: "an", At: at(3)})
	require.NoError(t, err)
	assert.Equal(t, a.ID, a2.ID, "the same phrase is replaced, not duplicated")
	ss, err := r.Synonyms(ctx)
	require.NoError(t, err)
	require.Len(t, ss, 2)
	assert.Equal(t, staff.Synonym{ID: a.ID, Phrase: "giấy hồng", To: "sổ hồng", By: "an", At: at(3)}, ss[0])
	require.NoError(t, r.DeleteSynonym(ctx, b.ID))
	assert.ErrorIs(t, r.DeleteSynonym(ctx, b.ID), knowledge.ErrNotFound)
	ss, err = r.Synonyms(ctx)
	require.NoError(t, err)
	assert.Len(t, ss, 1)
}

func testAudit(t *testing.T, r staff.Repo) {
	ctx := t.Context()
	var ids []int64
	for i := range 5 {
		e, err := r.AppendAudit(ctx, staff.AuditEntry{At: at(i), Actor: "lan", Action: "publish", Target: fmt.Sprint(i),
			Details: json.RawMessage(fmt.Sprintf(`{"version":%d}`, i))})
		require.NoError(t, err)
		ids = append(ids, e.ID)
	}
	e, err := r.AppendAudit(ctx, staff.AuditEntry{At: at(9), Actor: "an", Action: "logout"})
	require.NoError(t, err)
	ids = append(ids, e.ID)
	for i := 1; i < len(ids); i++ {
		assert.Greater(t, ids[i], ids[i-1])
	}
	es, err := r.Audit(ctx, 0, 3)
	require.NoError(t, err)
	require.Len(t, es, 3)
	assert.Equal(t, ids[5], es[0].ID)
	assert.Equal(t, "logout", es[0].Action)
	assert.Empty(t, es[0].Details)
	assert.JSONEq(t, `{"version":4}`, string(es[1].Details))
	assert.Equal(t, at(4), es[1].At)
	es, err = r.Audit(ctx, ids[2], 10)
	require.NoError(t, err)
	require.Len(t, es, 2)
	assert.Equal(t, []int64{ids[1], ids[0]}, []int64{es[0].ID, es[1].ID})
}

func testCentreCorrections(t *testing.T, r staff.Repo) {
	ctx := t.Context()
	cs, err := r.CentreCorrections(ctx)
	require.NoError(t, err)
	assert.Empty(t, cs)
	_, err = r.CentreCorrection(ctx, "27154")
	assert.ErrorIs(t, err, knowledge.ErrNotFound)

	c := staff.CentreCorrection{UnitCode: "27154", Name: "Trung tâm Phục vụ hành chính công phường Bàn Cờ",
		Address: "185 Cách Mạng Tháng Tám", Precision: "house_number", Phone: "028 3930 1234",
		Hours: "Thứ Hai – Thứ Sáu, 7:30–17:00", Note: "Đã gọi điện xác nhận", By: "lan", At: at(1)}
	got, err := r.SaveCentreCorrection(ctx, c, 0)
	require.NoError(t, err)
	c.Version = 1
	assert.Equal(t, c, got)
	got, err = r.CentreCorrection(ctx, "27154")
	require.NoError(t, err)
	assert.Equal(t, c, got, "every field as saved")

	_, err = r.SaveCentreCorrection(ctx, c, 0)
	assert.ErrorIs(t, err, staff.ErrConflict, "a unit has one correction: a second from 0 conflicts")
	c2 := c
	c2.Phone, c2.Hours, c2.Note, c2.By, c2.At = "", "", "", "hoa", at(2)
	got, err = r.SaveCentreCorrection(ctx, c2, 1)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Version)
	_, err = r.SaveCentreCorrection(ctx, c2, 1)
	assert.ErrorIs(t, err, staff.ErrConflict, "a stale base conflicts")

	other := staff.CentreCorrection{UnitCode: "26734", Name: "Trung tâm", Address: "Số 1", By: "lan", At: at(3)}
	_, err = r.SaveCentreCorrection(ctx, other, 0)
	require.NoError(t, err)
	cs, err = r.CentreCorrections(ctx)
	require.NoError(t, err)
	require.Len(t, cs, 2)
	assert.Equal(t, "26734", cs[0].UnitCode, "by unit code")
	c2.Version = 2
	assert.Equal(t, c2, cs[1])

	assert.ErrorIs(t, r.DeleteCentreCorrection(ctx, "27154", 1), staff.ErrConflict)
	require.NoError(t, r.DeleteCentreCorrection(ctx, "27154", 2))
	assert.ErrorIs(t, r.DeleteCentreCorrection(ctx, "27154", 2), knowledge.ErrNotFound)
	_, err = r.CentreCorrection(ctx, "27154")
	assert.ErrorIs(t, err, knowledge.ErrNotFound)
	got, err = r.SaveCentreCorrection(ctx, c, 0)
	require.NoError(t, err, "after a revert a new correction starts from 0")
	assert.Equal(t, 1, got.Version)
}

func testConcurrentCentreCorrections(t *testing.T, r staff.Repo) {
	ctx := t.Context()
	_, err := r.SaveCentreCorrection(ctx, staff.CentreCorrection{UnitCode: "27154", Name: "Gốc", Address: "Số 1", By: "a", At: at(1)}, 0)
	require.NoError(t, err)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = r.SaveCentreCorrection(ctx, staff.CentreCorrection{UnitCode: "27154", Name: "Gốc",
				Address: fmt.Sprintf("Số %d", i+2), By: "a", At: at(2)}, 1)
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, won, "two saves from the same base both succeeded")
			won = i
		} else {
			assert.ErrorIs(t, err, staff.ErrConflict)
		}
	}
	require.NotEqual(t, -1, won)
	c, err := r.CentreCorrection(ctx, "27154")
	require.NoError(t, err)
	assert.Equal(t, 2, c.Version)
	assert.Equal(t, fmt.Sprintf("Số %d", won+2), c.Address)
}

func testLoginFailures(t *testing.T, r staff.Repo) {
	ctx := t.Context()
	n, last, err := r.LoginFailures(ctx, "lan", at(0))
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.True(t, last.IsZero())
	for _, e := range []staff.AuditEntry{
		{At: at(1), Actor: "lan", Action: "login_failed", Target: "lan"},
		{At: at(2), Actor: "lan", Action: "login", Target: "lan"},
		{At: at(3), Actor: "lan", Action: "login_failed", Target: "lan"},
		{At: at(4), Actor: "(không rõ)", Action: "login_failed", Target: "(không rõ)"},
		{At: at(5), Actor: "an", Action: "login_failed", Target: "an"},
		{At: at(6), Actor: "lan", Action: "publish", Target: "1.000001"},
		{At: at(7), Actor: "lan", Action: "login_failed", Target: "lan"},
		{At: at(8), Actor: "an", Action: "login", Target: "an"},
	} {
		_, err := r.AppendAudit(ctx, e)
		require.NoError(t, err)
	}
	n, last, err = r.LoginFailures(ctx, "lan", at(0))
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the failures after the last login")
	assert.Equal(t, at(7), last)
	n, last, err = r.LoginFailures(ctx, "lan", at(4))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the failures since")
	assert.Equal(t, at(7), last)
	n, _, err = r.LoginFailures(ctx, "an", at(0))
	require.NoError(t, err)
	assert.Zero(t, n, "an logged in after failing")
	n, _, err = r.LoginFailures(ctx, "hoa", at(0))
	require.NoError(t, err)
	assert.Zero(t, n)

	// Many failures: a store may stop counting at 32.
	for i := range 40 {
		_, err := r.AppendAudit(ctx, staff.AuditEntry{At: at(10 + i), Actor: "hoa", Action: "login_failed", Target: "hoa"})
		require.NoError(t, err)
	}
	n, last, err = r.LoginFailures(ctx, "hoa", at(0))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, 32)
	assert.LessOrEqual(t, n, 40)
	assert.Equal(t, at(49), last)
	n, _, err = r.LoginFailures(ctx, "hoa", at(45))
	require.NoError(t, err)
	assert.Equal(t, 5, n)
}

// RunStarters runs the contract of staff.StarterRepo, one subtest each; open returns a new, empty repo for one
// subtest (and arranges its cleanup).
func RunStarters(t *testing.T, open func(t *testing.T) staff.StarterRepo) {
	t.Run("Starters", func(t *testing.T) { testStarters(t, open(t)) })
	t.Run("ConcurrentStarters", func(t *testing.T) { testConcurrentStarters(t, open(t)) })
}

func testStarters(t *testing.T, r staff.StarterRepo) {
	ctx := t.Context()
	_, err := r.Starters(ctx)
	assert.ErrorIs(t, err, knowledge.ErrNotFound, "staff set none")
	assert.ErrorIs(t, r.DeleteStarters(ctx, 0), knowledge.ErrNotFound)
	assert.ErrorIs(t, r.DeleteStarters(ctx, 1), knowledge.ErrNotFound)

	s := staff.Starters{Questions: []string{"Làm lại căn cước cần giấy tờ gì?", "Đăng ký khai sinh cho con",
		"Phường cũ của tôi nay là phường nào?"}, By: "hoa", At: at(1)}
	got, err := r.SaveStarters(ctx, s, 0)
	require.NoError(t, err)
	s.Version = 1
	assert.Equal(t, s, got)
	got, err = r.Starters(ctx)
	require.NoError(t, err)
	assert.Equal(t, s, got, "every field as saved, the questions in order")

	_, err = r.SaveStarters(ctx, s, 0)
	assert.ErrorIs(t, err, staff.ErrConflict, "one setting: a second from 0 conflicts")
	s2 := staff.Starters{Questions: []string{"Thành lập hộ kinh doanh"}, By: "lan", At: at(2)}
	got, err = r.SaveStarters(ctx, s2, 1)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Version)
	_, err = r.SaveStarters(ctx, s2, 1)
	assert.ErrorIs(t, err, staff.ErrConflict, "a stale base conflicts")
	_, err = r.SaveStarters(ctx, s2, 3)
	assert.ErrorIs(t, err, staff.ErrConflict, "a base from the future conflicts")
	got, err = r.Starters(ctx)
	require.NoError(t, err)
	s2.Version = 2
	assert.Equal(t, s2, got, "the refused saves changed nothing")

	assert.ErrorIs(t, r.DeleteStarters(ctx, 1), staff.ErrConflict)
	require.NoError(t, r.DeleteStarters(ctx, 2))
	assert.ErrorIs(t, r.DeleteStarters(ctx, 2), knowledge.ErrNotFound)
	_, err = r.Starters(ctx)
	assert.ErrorIs(t, err, knowledge.ErrNotFound)
	got, err = r.SaveStarters(ctx, s, 0)
	require.NoError(t, err, "after a reset a new setting starts from 0")
	assert.Equal(t, 1, got.Version)
}

func testConcurrentStarters(t *testing.T, r staff.StarterRepo) {
	ctx := t.Context()
	_, err := r.SaveStarters(ctx, staff.Starters{Questions: []string{"Gốc"}, By: "a", At: at(1)}, 0)
	require.NoError(t, err)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = r.SaveStarters(ctx, staff.Starters{Questions: []string{fmt.Sprintf("Câu %d", i)}, By: "a", At: at(2)}, 1)
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, won, "two saves from the same base both succeeded")
			won = i
		} else {
			assert.ErrorIs(t, err, staff.ErrConflict)
		}
	}
	require.NotEqual(t, -1, won)
	s, err := r.Starters(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, s.Version)
	assert.Equal(t, []string{fmt.Sprintf("Câu %d", won)}, s.Questions)
}
