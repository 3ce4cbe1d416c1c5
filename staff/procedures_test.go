package staff_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/memconv"
	"github.com/trolyao/trolyao/staff"
)

type draftView struct {
	Code      string              `json:"code"`
	Version   int                 `json:"version"`
	Procedure knowledge.Procedure `json:"procedure"`
	UpdatedBy string              `json:"updated_by"`
}

type conflictBody struct {
	Error struct {
		Code    string
		Current struct {
			Draft     *draftView           `json:"draft"`
			Published *knowledge.Procedure `json:"published"`
		}
	}
}

// TestConcurrentEdits: two editors save the same draft from the same base at once: exactly one gets 409 with
// the current draft, re-applies their change on it, and both changes survive.
func TestConcurrentEdits(t *testing.T) { runConcurrentEdits(t, newEnv(t, smallStore(t), nil, nil)) }

func runConcurrentEdits(t *testing.T, e *env) {
	e.addUser("lan", staff.RoleEditor)
	e.addUser("minh", staff.RoleEditor)
	lan, minh := e.login("lan"), e.login("minh")
	ctx := t.Context()
	pub, err := e.store.Get(ctx, "1.000001")
	require.NoError(t, err)
	res := lan.do("PUT", "/procedures/1.000001/draft", map[string]any{"base_version": 0, "procedure": pub})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)

	for round := range 10 {
		var base draftView
		lan.do("GET", "/procedures/1.000001/draft", nil).json(t, &base)
		edits := []struct {
			c    *client
			edit func(p *knowledge.Procedure)
		}{
			{lan, func(p *knowledge.Procedure) { p.Result = fmt.Sprintf("Giấy khai sinh bản %d", round) }},
			{minh, func(p *knowledge.Procedure) { p.Address = fmt.Sprintf("UBND phường, quầy %d", round) }},
		}
		results := make([]response, 2)
		var wg sync.WaitGroup
		for i, ed := range edits {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := base.Procedure
				ed.edit(&p)
				results[i] = ed.c.do("PUT", "/procedures/1.000001/draft", map[string]any{"procedure": p},
					"If-Match", fmt.Sprintf(`"%d"`, base.Version))
			}()
		}
		wg.Wait()
		var conflicts, saved []int
		for i, r := range results {
			switch r.status {
			case http.StatusOK:
				saved = append(saved, i)
			case http.StatusConflict:
				conflicts = append(conflicts, i)
			default:
				t.Fatalf("unexpected %d: %s", r.status, r.body)
			}
		}
		require.Len(t, conflicts, 1, "round %d", round)
		require.Len(t, saved, 1)
		var cb conflictBody
		results[conflicts[0]].json(t, &cb)
		assert.Equal(t, "conflict", cb.Error.Code)
		require.NotNil(t, cb.Error.Current.Draft, "the conflict carries the current draft")
		assert.Equal(t, base.Version+1, cb.Error.Current.Draft.Version)
		require.NotNil(t, cb.Error.Current.Published)

		// The loser re-applies their change on the current draft.
		loser := edits[conflicts[0]]
		p := cb.Error.Current.Draft.Procedure
		loser.edit(&p)
		res := loser.c.do("PUT", "/procedures/1.000001/draft", map[string]any{"base_version": cb.Error.Current.Draft.Version, "procedure": p})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var final draftView
		res.json(t, &final)
		assert.Equal(t, base.Version+2, final.Version)
		assert.Equal(t, fmt.Sprintf("Giấy khai sinh bản %d", round), final.Procedure.Result, "nothing lost")
		assert.Equal(t, fmt.Sprintf("UBND phường, quầy %d", round), final.Procedure.Address, "nothing lost")
	}

	// A stale discard is refused too.
	res = lan.do("DELETE", "/procedures/1.000001/draft?base_version=1", nil)
	assert.Equal(t, http.StatusConflict, res.status)
	// A stale create.
	res = lan.do("PUT", "/procedures/1.000001/draft", map[string]any{"base_version": 0, "procedure": pub})
	assert.Equal(t, http.StatusConflict, res.status)
	// No base version at all.
	res = lan.do("PUT", "/procedures/1.000001/draft", map[string]any{"procedure": pub})
	assert.Equal(t, http.StatusBadRequest, res.status)
}

func TestInvalidDraft(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	e.addUser("lan", staff.RoleEditor)
	c := e.login("lan")
	res := c.do("PUT", "/procedures/1.000009/draft", map[string]any{"base_version": 0, "procedure": map[string]any{
		"code": "1.000009", "name": " ", "levels": []string{"huyen"},
		"channels": []map[string]any{{"kind": "fax", "time": map[string]any{"value": 1}, "fees": []map[string]any{{"amount": -5}}}},
	}})
	require.Equal(t, http.StatusUnprocessableEntity, res.status, "%s", res.body)
	var body struct {
		Error struct {
			Code    string
			Message string
			Fields  []staff.FieldReason
		}
	}
	res.json(t, &body)
	assert.Equal(t, "invalid", body.Error.Code)
	fields := map[string]string{}
	for _, f := range body.Error.Fields {
		fields[f.Field] = f.Reason
	}
	assert.Contains(t, fields, "name")
	assert.Contains(t, fields, "levels")
	assert.Contains(t, fields, "channels[0].kind")
	assert.Contains(t, fields, "channels[0].fees[0].amount")
	res = c.do("PUT", "/procedures/1.000009/draft", map[string]any{"base_version": 0, "procedure": map[string]any{"code": "2.000001", "name": "Khác"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.status, "the code must match the path")
	res = c.do("PUT", "/procedures/1.000009/draft", `{"base_version":0,"procedure":{"code":"1.000009","name":"A","unknown":1}}`)
	assert.Equal(t, http.StatusBadRequest, res.status, "unknown fields are refused")
	res = c.do("PUT", "/procedures/1.000009/draft", strings.Repeat(" ", staff.MaxJSONBody+10))
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.status)
	_, err := e.repo.Draft(t.Context(), "1.000009")
	assert.ErrorIs(t, err, knowledge.ErrNotFound)
}

// TestDraftURL: a procedure's link must be https on an allowed state domain; anything else is refused with a
// Vietnamese reason on the url field and nothing is saved.
func TestDraftURL(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	e.addUser("lan", staff.RoleEditor)
	c := e.login("lan")
	for _, u := range []string{
		"javascript:alert(1)",
		"JAVASCRIPT:alert(document.cookie)",
		" javascript:alert(1)",
		"http://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.000009",
		"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
		"https://evil.example/dichvucong",
		"https://dichvucong.gov.vn.evil.example/",
		"https://dichvucong.gov.vn@evil.example/",
	} {
		res := c.do("PUT", "/procedures/1.000009/draft", map[string]any{"base_version": 0,
			"procedure": map[string]any{"code": "1.000009", "name": "Thủ tục thử", "url": u}})
		require.Equal(t, http.StatusUnprocessableEntity, res.status, "%s: %s", u, res.body)
		var body struct {
			Error struct {
				Code   string
				Fields []staff.FieldReason
			}
		}
		res.json(t, &body)
		assert.Equal(t, "invalid", body.Error.Code)
		require.Equal(t, []staff.FieldReason{{Field: "url", Reason: staff.URLReason()}}, body.Error.Fields, u)
		assert.Contains(t, body.Error.Fields[0].Reason, "Đường dẫn phải là địa chỉ bắt đầu bằng https://")
		_, err := e.repo.Draft(t.Context(), "1.000009")
		assert.ErrorIs(t, err, knowledge.ErrNotFound, "%s is not saved", u)
	}
	for i, u := range []string{
		"", // no link
		"https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.000009",
		"https://dichvucong.hochiminhcity.gov.vn/vi/procedure/1.000009",
	} {
		res := c.do("PUT", "/procedures/1.000009/draft", map[string]any{"base_version": i,
			"procedure": map[string]any{"code": "1.000009", "name": "Thủ tục thử", "url": u}})
		require.Equal(t, http.StatusOK, res.status, "%s: %s", u, res.body)
	}
}

// TestPublishFlow edits a real procedure's fee, previews it, publishes it, and the assistant answers from the
// new content at once; then history, restore and unpublish.
func TestPublishFlow(t *testing.T) {
	st := realStore(t)
	e := newEnv(t, st, nil, nil)
	e.addUser("lan", staff.RoleEditor)
	e.addUser("hoa", staff.RolePublisher)
	editor, publisher := e.login("lan"), e.login("hoa")
	ctx := t.Context()
	a := newAssistant(st, memconv.New())
	q := "Mất thẻ căn cước thì làm lại, lệ phí bao nhiêu?"
	before, err := a.Reply(ctx, "c1", q, nil)
	require.NoError(t, err)
	require.NotEmpty(t, before.Citations, before.Text)
	code := before.Citations[0].Code
	require.NotContains(t, before.Text, "123.456 đồng")

	var cur struct {
		Published *knowledge.Procedure `json:"published"`
		Version   int                  `json:"published_version"`
		Draft     *draftView           `json:"draft"`
	}
	editor.do("GET", "/procedures/"+code, nil).json(t, &cur)
	require.NotNil(t, cur.Published)
	assert.Nil(t, cur.Draft)
	assert.Equal(t, 0, cur.Version, "ingested, never published by staff")

	setFee := func(amount int64) draftView {
		p := *cur.Published
		p.Channels = append([]knowledge.Channel(nil), p.Channels...)
		for i := range p.Channels {
			p.Channels[i].Fees = []knowledge.Fee{{Amount: amount, Label: "Lệ phí"}}
			p.Channels[i].Free, p.Channels[i].FeeNA = false, false
		}
		base := 0
		var d draftView
		if r := editor.do("GET", "/procedures/"+code+"/draft", nil); r.status == http.StatusOK {
			r.json(t, &d)
			base = d.Version
		}
		res := editor.do("PUT", "/procedures/"+code+"/draft", map[string]any{"base_version": base, "procedure": p})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		res.json(t, &d)
		return d
	}
	d := setFee(123456)

	// Diff: only the channels changed.
	var diff struct {
		Changes []staff.Change `json:"changes"`
	}
	editor.do("GET", "/procedures/"+code+"/diff", nil).json(t, &diff)
	require.Len(t, diff.Changes, 1)
	assert.Equal(t, "channels", diff.Changes[0].Field)
	assert.Equal(t, "changed", diff.Changes[0].Op)
	assert.Contains(t, string(diff.Changes[0].New), "123456")

	// Preview composes from the draft; the assistant still answers from the published record.
	var pv struct{ Text, From string }
	res := editor.do("POST", "/procedures/"+code+"/preview", map[string]string{"question": "lệ phí bao nhiêu"})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res.json(t, &pv)
	assert.Equal(t, "draft", pv.From)
	assert.Contains(t, pv.Text, "123.456 đồng")
	still, err := a.Reply(ctx, "c2", q, nil)
	require.NoError(t, err)
	assert.NotContains(t, still.Text, "123.456 đồng")

	// An editor may not publish; a stale base is a conflict; the right one publishes.
	assert.Equal(t, http.StatusForbidden, editor.do("POST", "/procedures/"+code+"/publish", map[string]any{"base_version": d.Version}).status)
	assert.Equal(t, http.StatusConflict, publisher.do("POST", "/procedures/"+code+"/publish", map[string]any{"base_version": d.Version + 1}).status)
	res = publisher.do("POST", "/procedures/"+code+"/publish", map[string]any{"base_version": d.Version, "note": "Phí mới"})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var v2 staff.Version
	res.json(t, &v2)
	assert.Equal(t, 2, v2.Version, "version 1 is the catalog's record")
	assert.Equal(t, "hoa", v2.By)

	after, err := a.Reply(ctx, "c3", q, nil)
	require.NoError(t, err)
	assert.Equal(t, code, after.Citations[0].Code)
	assert.Contains(t, after.Text, "123.456 đồng", "the assistant answers from the published content")
	assert.Equal(t, http.StatusNotFound, editor.do("GET", "/procedures/"+code+"/draft", nil).status, "publishing consumes the draft")

	// A third version, then restore the second.
	d = setFee(654321)
	res = publisher.do("POST", "/procedures/"+code+"/publish", nil, "If-Match", fmt.Sprint(d.Version))
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	ans, err := a.Reply(ctx, "c4", q, nil)
	require.NoError(t, err)
	assert.Contains(t, ans.Text, "654.321 đồng")
	res = publisher.do("POST", "/procedures/"+code+"/versions/2/restore", map[string]string{"note": "Quay lại"})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	ans, err = a.Reply(ctx, "c5", q, nil)
	require.NoError(t, err)
	assert.Contains(t, ans.Text, "123.456 đồng")

	var hist struct{ Items []staff.Version }
	editor.do("GET", "/procedures/"+code+"/versions", nil).json(t, &hist)
	require.Len(t, hist.Items, 4)
	assert.Equal(t, []string{"restore", "publish", "publish", "catalog"},
		[]string{hist.Items[0].Action, hist.Items[1].Action, hist.Items[2].Action, hist.Items[3].Action})
	assert.Equal(t, "Quay lại", hist.Items[0].Note)
	assert.Nil(t, hist.Items[0].Procedure)
	assert.Equal(t, staff.CatalogAuthor, hist.Items[3].By)
	var v3 staff.Version
	editor.do("GET", "/procedures/"+code+"/versions/3", nil).json(t, &v3)
	require.NotNil(t, v3.Procedure)
	assert.Equal(t, int64(654321), v3.Procedure.Channels[0].Fees[0].Amount)

	// Unpublish: the assistant no longer cites it.
	res = publisher.do("POST", "/procedures/"+code+"/unpublish", map[string]string{"note": "Bãi bỏ"})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	_, err = st.Get(ctx, code)
	assert.ErrorIs(t, err, knowledge.ErrNotFound)
	ans, err = a.Reply(ctx, "c6", q, nil)
	require.NoError(t, err)
	for _, c := range ans.Citations {
		assert.NotEqual(t, code, c.Code)
	}
	editor.do("GET", "/procedures/"+code, nil).json(t, &cur)
	assert.Nil(t, cur.Published)
	assert.Equal(t, 5, cur.Version)

	// The audit log has every step, with who.
	e.addUser("root", staff.RoleAdmin)
	var audit struct{ Items []staff.AuditEntry }
	e.login("root").do("GET", "/audit?limit=1000", nil).json(t, &audit)
	var actions []string
	for i := len(audit.Items) - 1; i >= 0; i-- {
		it := audit.Items[i]
		if it.Target == code {
			actions = append(actions, it.Actor+":"+it.Action)
		}
	}
	assert.Equal(t, []string{"lan:draft_save", "hoa:publish", "lan:draft_save", "hoa:publish", "hoa:restore", "hoa:unpublish"}, actions)
	_ = context.Background
	_ = assistant.FormatVND
}

// TestCatalogRollback: the first staff publish of a record from the catalog ingest keeps the catalog's record
// as version 1, and restoring it puts back exactly the original, which the assistant answers from again.
func TestCatalogRollback(t *testing.T) { runCatalogRollback(t, newEnv(t, realStore(t), nil, nil)) }

func runCatalogRollback(t *testing.T, e *env) {
	const code = "1.014064" // cấp lại thẻ căn cước
	e.addUser("lan", staff.RoleEditor)
	e.addUser("hoa", staff.RolePublisher)
	editor, publisher := e.login("lan"), e.login("hoa")
	ctx := t.Context()
	a := newAssistant(e.store, memconv.New())
	q := "cấp lại thẻ căn cước nộp hồ sơ ở đâu"
	original, err := e.store.Get(ctx, code)
	require.NoError(t, err)
	before, err := a.Reply(ctx, "r1", q, nil)
	require.NoError(t, err)
	require.NotEmpty(t, before.Citations, before.Text)
	require.Equal(t, code, before.Citations[0].Code, before.Text)

	const address = "Quầy số 7, Trung tâm hành chính công thử nghiệm"
	edited := original
	edited.Address = address
	res := editor.do("PUT", "/procedures/"+code+"/draft", map[string]any{"base_version": 0, "procedure": edited})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res = publisher.do("POST", "/procedures/"+code+"/publish", map[string]any{"base_version": 1})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var pub staff.Version
	res.json(t, &pub)
	assert.Equal(t, 2, pub.Version)
	assert.Equal(t, staff.ActionPublish, pub.Action)
	got, err := e.store.Get(ctx, code)
	require.NoError(t, err)
	require.Equal(t, address, got.Address)
	ans, err := a.Reply(ctx, "r2", q, nil)
	require.NoError(t, err)
	require.Contains(t, ans.Text, address)

	var hist struct{ Items []staff.Version }
	editor.do("GET", "/procedures/"+code+"/versions", nil).json(t, &hist)
	require.Len(t, hist.Items, 2)
	first := hist.Items[1]
	assert.Equal(t, 1, first.Version)
	assert.Equal(t, staff.ActionCatalog, first.Action)
	assert.Equal(t, staff.CatalogAuthor, first.By)
	hashes, err := e.store.Hashes(ctx)
	require.NoError(t, err)
	var v1 staff.Version
	editor.do("GET", "/procedures/"+code+"/versions/1", nil).json(t, &v1)
	require.NotNil(t, v1.Procedure)
	assert.Equal(t, original, *v1.Procedure, "version 1 is the catalog's record")
	assert.Equal(t, hashOf(&original), v1.Hash)
	assert.NotEqual(t, hashes[code], v1.Hash)

	res = publisher.do("POST", "/procedures/"+code+"/versions/1/restore", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var rv staff.Version
	res.json(t, &rv)
	assert.Equal(t, 3, rv.Version)
	restored, err := e.store.Get(ctx, code)
	require.NoError(t, err)
	assert.Equal(t, original, restored, "the store holds the catalog's record again")
	hashes, err = e.store.Hashes(ctx)
	require.NoError(t, err)
	assert.Equal(t, hashOf(&original), hashes[code])
	after, err := a.Reply(ctx, "r3", q, nil)
	require.NoError(t, err)
	assert.Equal(t, before.Text, after.Text, "the assistant answers with the original content")
	assert.NotContains(t, after.Text, address)

	// Later publishes add no second catalog version.
	res = editor.do("PUT", "/procedures/"+code+"/draft", map[string]any{"base_version": 0, "procedure": edited})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res = publisher.do("POST", "/procedures/"+code+"/publish", map[string]any{"base_version": 1})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res.json(t, &pub)
	assert.Equal(t, 4, pub.Version)
	editor.do("GET", "/procedures/"+code+"/versions", nil).json(t, &hist)
	var catalogs int
	for _, v := range hist.Items {
		if v.Action == staff.ActionCatalog {
			catalogs++
		}
	}
	assert.Equal(t, 1, catalogs)
}
