package staff_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/memconv"
	"github.com/trolyao/trolyao/staff"
)

// TestStaffFeeAttribution: a ward's publisher sets a new fee on a record whose portal note halves the fee.
// The preview of the draft is, byte for byte, the answer citizens get once it is published — the new amount
// alone, no portal reduction, the source line naming the ward and the day — and restoring the catalog's
// version brings the portal's answer back.
func TestStaffFeeAttribution(t *testing.T) {
	st := realStore(t)
	a := newAssistant(st, memconv.New())
	runStaffFeeAttribution(t, newEnv(t, st, nil, nil, func(o *staff.Options) { o.Composer = a }), a)
}

func runStaffFeeAttribution(t *testing.T, e *env, a *assistant.Assistant) {
	const (
		code = "1.014064" // cấp lại thẻ căn cước: 70.000 đồng, halved "đến hết ngày 31/12/2026"
		unit = "UBND phường Bàn Cờ"
		q    = "làm lại thẻ căn cước lệ phí bao nhiêu"
	)
	ctx := t.Context()
	reductionRunning(t, e.store, code)
	e.addUser("hoa", staff.RolePublisher)
	require.NoError(t, staff.SetUnit(ctx, e.repo, "hoa", "  UBND phường\tBàn Cờ ", e.clock.Now()))
	hoa := e.login("hoa")

	before, err := a.Reply(ctx, "c1", q, nil)
	require.NoError(t, err)
	require.NotEmpty(t, before.Citations, before.Text)
	require.Equal(t, code, before.Citations[0].Code, before.Text)
	require.Empty(t, before.Options, "answered with confidence: %s", before.Text)
	require.Contains(t, before.Text, "giảm còn 50%", "precondition: the portal's reduction is in force")
	require.Contains(t, before.Text, "(dữ liệu ngày 01/07/2026).")

	var cur struct {
		Published *knowledge.Procedure `json:"published"`
	}
	hoa.do("GET", "/procedures/"+code, nil).json(t, &cur)
	require.NotNil(t, cur.Published)
	p := cur.Published.Clone()
	for i := range p.Channels {
		if k := p.Channels[i].Kind; k == knowledge.ChannelInPerson || k == knowledge.ChannelOnline {
			require.Len(t, p.Channels[i].Fees, 1)
			p.Channels[i].Fees[0].Amount = 80000
		}
	}
	res := hoa.do("PUT", "/procedures/"+code+"/draft", map[string]any{"base_version": 0, "procedure": p})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var d draftView
	res.json(t, &d)
	for _, c := range d.Procedure.Channels {
		if c.Kind == knowledge.ChannelPostal { // its fee did not change: its note stays the portal's
			old, _ := cur.Published.Channel(c.Kind)
			assert.Equal(t, old, c)
			continue
		}
		assert.Empty(t, c.Text, "the portal's fee cell goes with its amount")
		assert.NotContains(t, c.Note, "50%")
		assert.NotContains(t, c.Note, "70.000")
		assert.Contains(t, c.Note, "Thời gian tiếp nhận hồ sơ: Giờ hành chính", "the rest of the description stays")
	}
	assert.Zero(t, d.Procedure.Attribution, "a draft is nobody's publication yet")

	// The preview is what publishing the draft now makes citizens read; they still read the portal's.
	var pv struct {
		Text, Full, From, Answered string
		Attribution                knowledge.Attribution
	}
	res = hoa.do("POST", "/procedures/"+code+"/preview", map[string]string{"question": q})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res.json(t, &pv)
	assert.Equal(t, "draft", pv.From)
	assert.Equal(t, code, pv.Answered, "the assistant answers the question with this procedure")
	assert.Equal(t, knowledge.Attribution{By: "hoa", Unit: unit, At: e.clock.Now()}, pv.Attribution)
	line := "Nguồn: cập nhật bởi " + unit + " ngày 03/08/2026, dựa trên [Cổng Dịch vụ công quốc gia – mã " + code + "]("
	for _, text := range []string{pv.Text, pv.Full} {
		assert.Contains(t, text, "80.000 đồng")
		assert.NotContains(t, text, "50%")
		assert.NotContains(t, text, "70.000")
		assert.NotContains(t, text, "dữ liệu ngày")
		assert.Contains(t, text, "\n"+line)
	}
	still, err := a.Reply(ctx, "c2", q, nil)
	require.NoError(t, err)
	assert.Equal(t, before.Text, still.Text)

	// Published: the answer and the full answer are the preview's.
	res = hoa.do("POST", "/procedures/"+code+"/publish", map[string]any{"base_version": d.Version})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var v staff.Version
	res.json(t, &v)
	require.NotNil(t, v.Procedure)
	assert.Equal(t, knowledge.Attribution{By: "hoa", Unit: unit, At: e.clock.Now()}, v.Procedure.Attribution)
	got, err := e.store.Get(ctx, code)
	require.NoError(t, err)
	assert.Equal(t, *v.Procedure, got)
	after, err := a.Reply(ctx, "c3", q, nil)
	require.NoError(t, err)
	require.Equal(t, code, after.Citations[0].Code)
	assert.Equal(t, pv.Text, after.Text, "the preview is the answer")
	full, err := a.Reply(ctx, "c3", assistant.MoreReply, nil)
	require.NoError(t, err)
	assert.Equal(t, pv.Full, full.Text, "the preview's full answer is «Xem đầy đủ»")

	// Back to the catalog's record: the portal is the source again.
	res = hoa.do("POST", "/procedures/"+code+"/versions/1/restore", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	got, err = e.store.Get(ctx, code)
	require.NoError(t, err)
	assert.Zero(t, got.Attribution)
	again, err := a.Reply(ctx, "c4", q, nil)
	require.NoError(t, err)
	assert.Equal(t, before.Text, again.Text)
}

// reductionRunning keeps the portal's reduction of code in force whatever today is: its period ends at the
// end of next year rather than of 2026.
func reductionRunning(t *testing.T, st knowledge.Store, code string) {
	t.Helper()
	ctx := t.Context()
	p, err := st.Get(ctx, code)
	require.NoError(t, err)
	end := "đến hết ngày 31/12/" + strconv.Itoa(time.Now().Year()+1)
	for i := range p.Channels {
		c := &p.Channels[i]
		c.Note = strings.ReplaceAll(c.Note, "đến hết ngày 31/12/2026", end)
		c.Text = strings.ReplaceAll(c.Text, "đến hết ngày 31/12/2026", end)
	}
	phrasings := phrasebook.Phrasings(code)
	vecs, err := knowledge.HashEmbedder{}.EmbedDocuments(ctx, []string{knowledge.EmbedText(&p, phrasings)})
	require.NoError(t, err)
	require.NoError(t, st.Apply(ctx, knowledge.Change{Upsert: []knowledge.Doc{knowledge.NewDoc(p, phrasings, vecs[0])}}))
}

// TestStaleFeeNote: a fee staff change drops the portal's fee statements from the channel's note and its fee
// cell, unless staff edited them; a label alone or a record nobody published before keeps them.
func TestStaleFeeNote(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	e.addUser("hoa", staff.RolePublisher)
	hoa := e.login("hoa")
	const code = "9.000001"
	portal := knowledge.Channel{Kind: knowledge.ChannelInPerson, Fees: []knowledge.Fee{{Amount: 70000, Label: "Lệ phí"}},
		Text: "70.000 đồng(Giảm 50% đến hết ngày 31/12/2099)",
		Note: "Giảm 50% đến hết ngày 31/12/2099\nNhận hồ sơ cả sáng thứ Bảy. Lệ phí nộp tại quầy."}
	rec := knowledge.Procedure{Code: code, Name: "Thủ tục thử nghiệm", Channels: []knowledge.Channel{portal}}
	save := func(p knowledge.Procedure) knowledge.Channel {
		t.Helper()
		base := 0
		if r := hoa.do("GET", "/procedures/"+code+"/draft", nil); r.status == http.StatusOK {
			var d draftView
			r.json(t, &d)
			base = d.Version
		}
		res := hoa.do("PUT", "/procedures/"+code+"/draft", map[string]any{"base_version": base, "procedure": p})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var d draftView
		res.json(t, &d)
		return d.Procedure.Channels[0]
	}
	withFee := func(amount int64, label, note string) knowledge.Procedure {
		p := rec.Clone()
		p.Channels[0].Fees[0] = knowledge.Fee{Amount: amount, Label: label}
		if note != "" {
			p.Channels[0].Note = note
		}
		return p
	}

	c := save(withFee(80000, "Lệ phí", ""))
	assert.Equal(t, []string{portal.Note, portal.Text}, []string{c.Note, c.Text}, "nothing published yet: nothing to be stale against")
	res := hoa.do("POST", "/procedures/"+code+"/publish", map[string]any{"base_version": 1})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	rec.Channels[0].Fees[0].Amount = 80000 // the published record now

	assert.Equal(t, portal.Note, save(withFee(80000, "Lệ phí cấp lại", "")).Note, "a new label alone keeps the note")
	assert.Equal(t, "Giảm 50% trong năm 2099", save(withFee(90000, "Lệ phí", "Giảm 50% trong năm 2099")).Note,
		"a note staff edited is theirs")
	c = save(withFee(90000, "Lệ phí", ""))
	assert.Equal(t, "Nhận hồ sơ cả sáng thứ Bảy.", c.Note)
	assert.Empty(t, c.Text)
}

// TestUserUnit: an admin gives accounts the unit they publish for; a record published through an API token or
// by an account without a unit is attributed to staff without a unit, and answers say "cán bộ cập nhật".
func TestUserUnit(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	e.addUser("root", staff.RoleAdmin)
	admin := e.login("root")
	res := admin.do("POST", "/users", map[string]string{"username": "hoa", "password": password, "role": "publisher",
		"unit": " UBND  phường Xuân Hòa "})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	var u staff.User
	res.json(t, &u)
	assert.Equal(t, "UBND phường Xuân Hòa", u.Unit)
	hoa := e.login("hoa")
	res = admin.do("PATCH", "/users/hoa", map[string]string{"unit": "UBND phường Bàn Cờ"})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	assert.Equal(t, http.StatusOK, hoa.do("GET", "/me", nil).status, "a new unit keeps the sessions")
	got, err := e.repo.User(t.Context(), "hoa")
	require.NoError(t, err)
	assert.Equal(t, "UBND phường Bàn Cờ", got.Unit)
	for _, bad := range []string{strings.Repeat("x", staff.MaxUnitRunes+1), "UBND\nphường"} {
		res = admin.do("PATCH", "/users/hoa", map[string]string{"unit": bad})
		assert.Equal(t, http.StatusUnprocessableEntity, res.status, "%s", res.body)
		res = admin.do("POST", "/users", map[string]string{"username": "lan", "password": password, "role": "editor", "unit": bad})
		assert.Equal(t, http.StatusUnprocessableEntity, res.status, "%s", res.body)
	}

	publish := func(c *client, name string) knowledge.Attribution {
		t.Helper()
		p, err := e.store.Get(t.Context(), "1.000001")
		require.NoError(t, err)
		p.Result = name
		base := 0
		if r := c.do("GET", "/procedures/1.000001/draft", nil); r.status == http.StatusOK {
			var d draftView
			r.json(t, &d)
			base = d.Version
		}
		res := c.do("PUT", "/procedures/1.000001/draft", map[string]any{"base_version": base, "procedure": p})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var d draftView
		res.json(t, &d)
		res = c.do("POST", "/procedures/1.000001/publish", map[string]any{"base_version": d.Version})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var v staff.Version
		res.json(t, &v)
		return v.Procedure.Attribution
	}
	assert.Equal(t, knowledge.Attribution{By: "hoa", Unit: "UBND phường Bàn Cờ", At: e.clock.Now()}, publish(hoa, "Giấy khai sinh"))
	e.clock.Add(26 * time.Hour)
	bot := e.token("đồng bộ", staff.RolePublisher)
	assert.Equal(t, knowledge.Attribution{By: "token:đồng bộ", At: e.clock.Now()}, publish(bot, "Giấy khai sinh (bản chính)"))
	var pv struct{ Text string }
	bot.do("POST", "/procedures/1.000001/preview", map[string]string{"question": "đăng ký khai sinh"}).json(t, &pv)
	assert.Contains(t, pv.Text, "\nNguồn: cán bộ cập nhật ngày 04/08/2026 (mã 1.000001; tra cứu thêm: [Cổng Dịch vụ công quốc gia](")
}
