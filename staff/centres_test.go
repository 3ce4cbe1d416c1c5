package staff_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/memconv"
	"github.com/trolyao/trolyao/knowledge/storetest"
	"github.com/trolyao/trolyao/knowledge/units"
	"github.com/trolyao/trolyao/staff"
	sembedded "github.com/trolyao/trolyao/staff/embedded"
)

// Phường Bàn Cờ, whose centre the tests correct, and the question a citizen asks about it.
const (
	banCo     = "27154"
	banCoSeed = "611/20 Điện Biên Phủ"
	banCoTel  = "028.38396136"
	whereQ    = "đăng ký khai sinh ở phường Bàn Cờ nộp ở đâu"
)

// realUnits is the real administrative units data, read once.
var realUnits struct {
	once sync.Once
	u    *units.Gazetteer
	err  error
}

// whereAssistant answers from st with the units data and the centres staff correct.
func whereAssistant(t testing.TB, st knowledge.Store, centres *knowledge.LiveCentres) *assistant.Assistant {
	t.Helper()
	realUnits.once.Do(func() { realUnits.u, realUnits.err = ingest.LoadUnits(storetest.DataDir(t)) })
	require.NoError(t, realUnits.err)
	a := newAssistant(st, memconv.New())
	a.Units, a.Centres = realUnits.u, centres
	return a
}

func withCentres(c *knowledge.LiveCentres) func(*staff.Options) {
	return func(o *staff.Options) { o.Centres = c }
}

// centreRow is a row of GET /centres.
type centreRow struct {
	UnitCode   string                  `json:"unit_code"`
	UnitName   string                  `json:"unit_name"`
	Centre     knowledge.Centre        `json:"centre"`
	Seed       knowledge.Centre        `json:"seed"`
	Correction *staff.CentreCorrection `json:"correction"`
}

// correction is the body of a correction of Phường Bàn Cờ's centre (the name left as it is).
func correction(base int) map[string]any {
	return map[string]any{"base_version": base, "address": "185 Cách Mạng Tháng Tám, phường Bàn Cờ",
		"precision": "house_number", "phone": "028 3930 1234", "hours": "Thứ Hai – Thứ Sáu, 7:30–11:30 và 13:00–17:00",
		"note": "Đã gọi điện xác nhận với trung tâm"}
}

// TestCentreCorrection: a publisher corrects the address, phone and hours of Phường Bàn Cờ's centre, and the
// assistant's where-answer gives them at once instead of the seed's; the correction survives reopening the
// staff data and reading the centres file again; reverting brings the seed back. Embedded store.
func TestCentreCorrection(t *testing.T) {
	st := realStore(t)
	path := filepath.Join(t.TempDir(), "staff.db")
	open := func() staff.Repo {
		r, err := sembedded.Open(path)
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
		return r
	}
	repo := open()
	runCentreCorrection(t, st, repo, func() staff.Repo {
		require.NoError(t, repo.Close())
		return open()
	})
}

// runCentreCorrection runs the correction flow over st (with the real catalog) and repo; reopen closes the
// staff data and opens it again, as a restart does.
func runCentreCorrection(t *testing.T, st knowledge.Store, repo staff.Repo, reopen func() staff.Repo) {
	ctx := t.Context()
	live := knowledge.NewLiveCentres(seedCentres(t))
	e := newEnv(t, st, repo, nil, withCentres(live))
	e.addUser("minh", staff.RoleViewer)
	e.addUser("lan", staff.RoleEditor)
	e.addUser("hoa", staff.RolePublisher)
	viewer, editor, publisher := e.login("minh"), e.login("lan"), e.login("hoa")
	a := whereAssistant(t, st, live)

	before, err := a.Reply(ctx, "c1", whereQ, nil)
	require.NoError(t, err)
	require.Contains(t, before.Text, banCoSeed, "the seed's address before any correction")
	require.Contains(t, before.Text, banCoTel)

	// Staff see every centre of the file: the seed, what citizens are told and the confidence.
	var list struct {
		Items []centreRow
		Total int
	}
	res := viewer.do("GET", "/centres", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res.json(t, &list)
	assert.Equal(t, 168, list.Total)
	require.Len(t, list.Items, 168)
	confidence := map[knowledge.Confidence]int{}
	for _, row := range list.Items {
		confidence[row.Centre.Confidence]++
		assert.Nil(t, row.Correction)
		assert.Equal(t, row.Seed, row.Centre)
	}
	assert.Equal(t, map[knowledge.Confidence]int{knowledge.ConfidenceHigh: 20, knowledge.ConfidenceMedium: 147,
		knowledge.ConfidenceLow: 1}, confidence)
	viewer.do("GET", "/centres?q=ban+co", nil).json(t, &list)
	require.Len(t, list.Items, 1)
	assert.Equal(t, banCo, list.Items[0].UnitCode)
	assert.Equal(t, "Phường Bàn Cờ", list.Items[0].UnitName)

	// Viewers and editors may not correct a centre: it changes what citizens are told at once.
	for _, c := range []*client{viewer, editor} {
		res := c.do("PUT", "/centres/"+banCo, correction(0))
		assert.Equal(t, http.StatusForbidden, res.status, "%s", res.body)
		assert.Equal(t, "forbidden", res.code())
	}

	res = publisher.do("PUT", "/centres/"+banCo, correction(0))
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var row centreRow
	res.json(t, &row)
	require.NotNil(t, row.Correction)
	assert.Equal(t, 1, row.Correction.Version)
	assert.Equal(t, "hoa", row.Correction.By)
	assert.Equal(t, e.clock.Now().UTC(), row.Correction.At)
	assert.Equal(t, "Đã gọi điện xác nhận với trung tâm", row.Correction.Note)
	assert.Equal(t, "Trung tâm Phục vụ hành chính công phường Bàn Cờ", row.Centre.Name, "the name is kept when not given")
	assert.Equal(t, "185 Cách Mạng Tháng Tám, phường Bàn Cờ", row.Centre.Address)
	assert.Equal(t, knowledge.ConfidenceHigh, row.Centre.Confidence)
	assert.Equal(t, e.clock.Now().UTC(), row.Centre.Checked)
	assert.Contains(t, row.Seed.Address, banCoSeed, "the seed is shown beside the correction")

	want := []string{"Trung tâm Phục vụ hành chính công phường Bàn Cờ: 185 Cách Mạng Tháng Tám, phường Bàn Cờ, " +
		"ĐT 028 3930 1234; giờ làm việc: Thứ Hai – Thứ Sáu, 7:30–11:30 và 13:00–17:00 (cán bộ cập nhật ngày 03/08/2026)."}
	checkAnswer := func(a *assistant.Assistant, conv string, want, not []string) {
		t.Helper()
		ans, err := a.Reply(ctx, conv, whereQ, nil)
		require.NoError(t, err)
		require.Equal(t, before.Citations[0].Code, ans.Citations[0].Code, ans.Text)
		for _, w := range want {
			assert.Contains(t, ans.Text, w)
		}
		for _, w := range not {
			assert.NotContains(t, ans.Text, w)
		}
	}
	corrected := []string{banCoSeed, banCoTel, "chưa được xác minh"}
	checkAnswer(a, "c2", want, corrected)

	// A stale save conflicts and says what is current; every write is in the audit log.
	res = publisher.do("PUT", "/centres/"+banCo, correction(0))
	require.Equal(t, http.StatusConflict, res.status, "%s", res.body)
	assert.Equal(t, "conflict", res.code())
	assert.Contains(t, string(res.body), "185 Cách Mạng Tháng Tám")
	audit, err := e.repo.Audit(ctx, 0, 10)
	require.NoError(t, err)
	require.NotEmpty(t, audit)
	assert.Equal(t, "centre_correct", audit[0].Action)
	assert.Equal(t, banCo, audit[0].Target)
	assert.Equal(t, "hoa", audit[0].Actor)
	assert.JSONEq(t, `{"version":1,"changed":["address","phone","hours"]}`, string(audit[0].Details))

	// After a restart (the staff data reopened, the centres file read again) the correction still stands.
	repo = reopen()
	reread, err := ingest.LoadCentres(storetest.DataDir(t))
	require.NoError(t, err)
	live = knowledge.NewLiveCentres(reread)
	e = newEnv(t, st, repo, nil, withCentres(live))
	require.NoError(t, e.svc.ReloadCentres(ctx))
	a = whereAssistant(t, st, live)
	checkAnswer(a, "c3", want, corrected)
	publisher = e.login("hoa")
	publisher.do("GET", "/centres/"+banCo, nil).json(t, &row)
	require.NotNil(t, row.Correction)
	assert.Equal(t, 1, row.Correction.Version)

	// Reverting brings the seed back, at once.
	res = publisher.do("DELETE", "/centres/"+banCo+"?base_version=2", nil)
	require.Equal(t, http.StatusConflict, res.status, "%s", res.body)
	res = publisher.do("DELETE", "/centres/"+banCo, nil, "If-Match", `"1"`)
	require.Equal(t, http.StatusNoContent, res.status, "%s", res.body)
	checkAnswer(a, "c4", []string{banCoSeed, banCoTel}, []string{"185 Cách Mạng Tháng Tám", "cán bộ cập nhật"})
	var reverted centreRow
	publisher.do("GET", "/centres/"+banCo, nil).json(t, &reverted)
	assert.Nil(t, reverted.Correction)
	assert.Equal(t, reverted.Seed, reverted.Centre)
	res = publisher.do("DELETE", "/centres/"+banCo+"?base_version=1", nil)
	assert.Equal(t, http.StatusNotFound, res.status, "%s", res.body)
	audit, err = e.repo.Audit(ctx, 0, 1)
	require.NoError(t, err)
	assert.Equal(t, "centre_revert", audit[0].Action)
	assert.Equal(t, banCo, audit[0].Target)
}

// TestCentreCorrectionInvalid: what staff may not write is refused with the field and a Vietnamese reason
// (422), a malformed request with 400, an unknown unit with 404, a cookie write without the CSRF token with
// 403 — and nothing is stored.
func TestCentreCorrectionInvalid(t *testing.T) {
	live := knowledge.NewLiveCentres(seedCentres(t))
	e := newEnv(t, smallStore(t), nil, nil, withCentres(live))
	e.addUser("hoa", staff.RolePublisher)
	publisher := e.login("hoa")
	with := func(field string, v any) map[string]any {
		b := correction(0)
		b[field] = v
		return b
	}
	for _, tt := range []struct {
		name   string
		body   map[string]any
		field  string
		reason string
	}{
		{"empty address", with("address", "  "), "address", "Địa chỉ không được để trống."},
		{"address too long", with("address", strings.Repeat("ạ", knowledge.MaxCentreField+1)), "address", "Địa chỉ dài quá 300 ký tự."},
		{"address on two lines", with("address", "185 Cách Mạng Tháng Tám\nphường Bàn Cờ"), "address", "ký tự điều khiển"},
		{"markup in the hours", with("hours", "<b>7:30</b>"), "hours", "mã HTML"},
		{"hours too long", with("hours", strings.Repeat("a", knowledge.MaxCentreHours+1)), "hours", "Giờ làm việc dài quá 200 ký tự."},
		{"direction override in the name", with("name", "Trung tâm \u202eBàn Cờ"), "name", "ký tự ẩn"},
		{"letters in the phone", with("phone", "gọi chị Lan"), "phone", "Số điện thoại chỉ gồm chữ số"},
		{"phone too long", with("phone", strings.Repeat("0", knowledge.MaxCentrePhone+1)), "phone", "Số điện thoại"},
		{"phone without digits", with("phone", "..."), "phone", "Số điện thoại"},
		{"unknown precision", with("precision", "exact"), "precision", "Độ chi tiết của địa chỉ"},
		{"note too long", with("note", strings.Repeat("a", 501)), "note", "Ghi chú dài quá 500 ký tự."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := publisher.do("PUT", "/centres/"+banCo, tt.body)
			require.Equal(t, http.StatusUnprocessableEntity, res.status, "%s", res.body)
			var b struct {
				Error struct {
					Code, Message string
					Fields        []staff.FieldReason
				}
			}
			res.json(t, &b)
			assert.Equal(t, "invalid", b.Error.Code)
			assert.Equal(t, "Thông tin trung tâm không hợp lệ.", b.Error.Message)
			require.Len(t, b.Error.Fields, 1)
			assert.Equal(t, tt.field, b.Error.Fields[0].Field)
			assert.Contains(t, b.Error.Fields[0].Reason, tt.reason)
		})
	}
	for _, tt := range []struct {
		name, path string
		body       any
		status     int
		message    string
	}{
		{"unknown field", "/centres/" + banCo, map[string]any{"base_version": 0, "address": "x", "adress": "y"}, 400, "không phải JSON hợp lệ"},
		{"not JSON", "/centres/" + banCo, "địa chỉ mới", 400, "không phải JSON hợp lệ"},
		{"no base version", "/centres/" + banCo, map[string]any{"address": "Số 1"}, 400, "Thiếu phiên bản gốc"},
		{"unknown unit", "/centres/99999", correction(0), 404, "Không có trung tâm"},
		{"not a unit code", "/centres/ban-co", correction(0), 404, "Không có trung tâm"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := publisher.do("PUT", tt.path, tt.body)
			require.Equal(t, tt.status, res.status, "%s", res.body)
			assert.Contains(t, string(res.body), tt.message)
		})
	}
	noCSRF := &client{e: e, cookie: publisher.cookie}
	res := noCSRF.do("PUT", "/centres/"+banCo, correction(0))
	assert.Equal(t, http.StatusForbidden, res.status)
	assert.Equal(t, "csrf", res.code())

	cs, err := e.repo.CentreCorrections(t.Context())
	require.NoError(t, err)
	assert.Empty(t, cs, "nothing was stored")
	x, _ := live.ByCode(banCo)
	assert.Equal(t, banCoTel, x.Phone)
}

// TestCentreCorrectionNoCentres: without a centres file there is nothing to list or correct.
func TestCentreCorrectionNoCentres(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil, withCentres(nil))
	e.addUser("hoa", staff.RolePublisher)
	publisher := e.login("hoa")
	var list struct {
		Items []centreRow
		Total int
	}
	res := publisher.do("GET", "/centres", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res.json(t, &list)
	assert.Empty(t, list.Items)
	assert.NotNil(t, list.Items)
	assert.Equal(t, http.StatusNotFound, publisher.do("PUT", "/centres/"+banCo, correction(0)).status)
}
