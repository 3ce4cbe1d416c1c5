package staff_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/channels/web/widget"
	"github.com/trolyao/trolyao/knowledge/postgres/pgtest"
	"github.com/trolyao/trolyao/staff"
	staffpg "github.com/trolyao/trolyao/staff/postgres"
)

// operatorStarters are the questions the operator configured (-widget-starters), the default of the tests.
var operatorStarters = []string{"Làm lại căn cước cần giấy tờ gì?", "Đăng ký khai sinh cho con"}

// liveStarters are the widget's starter questions, with operatorStarters as the default.
func liveStarters(t testing.TB) *widget.LiveStarters {
	t.Helper()
	l, err := widget.NewLiveStarters(operatorStarters)
	require.NoError(t, err)
	return l
}

func withStarters(l *widget.LiveStarters) func(*staff.Options) {
	return func(o *staff.Options) { o.Starters = l }
}

// startersView is the body of GET and PUT /starters.
type startersView struct {
	Questions []string
	Default   []string
	Setting   *staff.Starters
}

var mostAsked = []string{"Cấp phiếu lý lịch tư pháp", "Đăng ký kết hôn cần giấy tờ gì?", "Phường cũ của tôi nay là phường nào?"}

// The staff limits are the widget's: what staff may save, the widget shows.
func TestStarterLimitsAreTheWidgets(t *testing.T) {
	assert.Equal(t, widget.MaxStarters, staff.MaxStarters)
	assert.Equal(t, widget.MaxStarter, staff.MaxStarterRunes)
}

// TestStarters: staff see the operator's questions as the default; a publisher sets the most asked ones, which
// the widget offers at once; a stale save or reset conflicts and says what is current; every write is
// audited; the reset brings the default back. Viewers and editors may only look; a cookie write needs the
// CSRF token. Embedded store.
func TestStarters(t *testing.T) {
	ctx := t.Context()
	live := liveStarters(t)
	e := newEnv(t, smallStore(t), nil, nil, withStarters(live))
	e.addUser("minh", staff.RoleViewer)
	e.addUser("lan", staff.RoleEditor)
	e.addUser("hoa", staff.RolePublisher)
	viewer, editor, publisher := e.login("minh"), e.login("lan"), e.login("hoa")

	var v startersView
	res := viewer.do("GET", "/starters", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res.json(t, &v)
	assert.Equal(t, startersView{Questions: operatorStarters, Default: operatorStarters}, v)
	assert.Contains(t, string(res.body), `"setting":null`)

	body := map[string]any{"base_version": 0, "questions": mostAsked}
	for _, c := range []*client{viewer, editor} {
		res := c.do("PUT", "/starters", body)
		assert.Equal(t, http.StatusForbidden, res.status, "%s", res.body)
		assert.Equal(t, "forbidden", res.code())
	}
	res = (&client{e: e, cookie: publisher.cookie}).do("PUT", "/starters", body)
	assert.Equal(t, http.StatusForbidden, res.status)
	assert.Equal(t, "csrf", res.code())
	assert.Equal(t, operatorStarters, live.Questions(), "nothing refused took effect")

	res = publisher.do("PUT", "/starters", map[string]any{"base_version": 0,
		"questions": []string{"  Cấp phiếu lý lịch tư pháp ", "Đăng ký kết hôn cần giấy tờ gì?", "Phường cũ của tôi nay là phường nào?"}})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res.json(t, &v)
	assert.Equal(t, mostAsked, v.Questions, "trimmed")
	assert.Equal(t, operatorStarters, v.Default)
	require.NotNil(t, v.Setting)
	assert.Equal(t, staff.Starters{Version: 1, Questions: mostAsked, By: "hoa", At: e.clock.Now().UTC()}, *v.Setting)
	assert.Equal(t, mostAsked, live.Questions(), "the widget offers them at once")
	viewer.do("GET", "/starters", nil).json(t, &v)
	assert.Equal(t, mostAsked, v.Questions)
	assert.Equal(t, 1, v.Setting.Version)

	// A save from a stale version conflicts and carries what is stored now.
	res = publisher.do("PUT", "/starters", map[string]any{"base_version": 0, "questions": []string{"Thành lập hộ kinh doanh"}})
	require.Equal(t, http.StatusConflict, res.status, "%s", res.body)
	assert.Equal(t, "conflict", res.code())
	var conflict struct {
		Error struct {
			Message string
			Current startersView
		}
	}
	res.json(t, &conflict)
	assert.Equal(t, "Câu hỏi gợi ý vừa được người khác sửa. Hãy xem bản hiện tại rồi sửa lại.", conflict.Error.Message)
	assert.Equal(t, mostAsked, conflict.Error.Current.Questions)
	assert.Equal(t, mostAsked, live.Questions())

	// If-Match names the base too; an API token of a publisher needs no CSRF token.
	token := e.token("lich-ca", staff.RolePublisher)
	res = token.do("PUT", "/starters", map[string]any{"questions": []string{"Thành lập hộ kinh doanh"}}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	assert.Equal(t, []string{"Thành lập hộ kinh doanh"}, live.Questions())

	audit, err := e.repo.Audit(ctx, 0, 10)
	require.NoError(t, err)
	var sets []staff.AuditEntry
	for _, a := range audit {
		if a.Action == "starters_set" {
			sets = append(sets, a)
		}
	}
	require.Len(t, sets, 2, "one entry per save, none for the refused ones")
	assert.Equal(t, "token:lich-ca", sets[0].Actor)
	assert.JSONEq(t, `{"version":2,"questions":["Thành lập hộ kinh doanh"]}`, string(sets[0].Details))
	assert.Equal(t, "hoa", sets[1].Actor)
	assert.JSONEq(t, `{"version":1,"questions":["Cấp phiếu lý lịch tư pháp","Đăng ký kết hôn cần giấy tờ gì?","Phường cũ của tôi nay là phường nào?"]}`,
		string(sets[1].Details))

	// Reset: a stale version conflicts; the current one brings the default back, at once.
	res = publisher.do("DELETE", "/starters?base_version=1", nil)
	require.Equal(t, http.StatusConflict, res.status, "%s", res.body)
	assert.Equal(t, []string{"Thành lập hộ kinh doanh"}, live.Questions())
	res = editor.do("DELETE", "/starters?base_version=2", nil)
	assert.Equal(t, http.StatusForbidden, res.status)
	res = publisher.do("DELETE", "/starters", nil)
	assert.Equal(t, http.StatusBadRequest, res.status, "the base version is required: %s", res.body)
	res = publisher.do("DELETE", "/starters?base_version=2", nil)
	require.Equal(t, http.StatusNoContent, res.status, "%s", res.body)
	assert.Equal(t, operatorStarters, live.Questions())
	viewer.do("GET", "/starters", nil).json(t, &v)
	assert.Equal(t, startersView{Questions: operatorStarters, Default: operatorStarters}, v)
	res = publisher.do("DELETE", "/starters?base_version=2", nil)
	assert.Equal(t, http.StatusNotFound, res.status)
	assert.Contains(t, string(res.body), "đang dùng câu hỏi mặc định")
	audit, err = e.repo.Audit(ctx, 0, 1)
	require.NoError(t, err)
	assert.Equal(t, "starters_reset", audit[0].Action)
	assert.Equal(t, "hoa", audit[0].Actor)
	assert.JSONEq(t, `{"version":2}`, string(audit[0].Details))

	// A restart: a new service over the same staff data applies staff's questions when it runs.
	res = publisher.do("PUT", "/starters", map[string]any{"base_version": 0, "questions": mostAsked})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	restarted := liveStarters(t)
	e2 := newEnv(t, smallStore(t), e.repo, nil, withStarters(restarted))
	require.NoError(t, e2.svc.ReloadStarters(ctx))
	assert.Equal(t, mostAsked, restarted.Questions())
}

// TestStartersInvalid: what staff may not save is refused (422) with a Vietnamese reason naming the question,
// a malformed request with 400 — and nothing is stored or applied.
func TestStartersInvalid(t *testing.T) {
	live := liveStarters(t)
	e := newEnv(t, smallStore(t), nil, nil, withStarters(live))
	e.addUser("hoa", staff.RolePublisher)
	publisher := e.login("hoa")
	nine := make([]string, staff.MaxStarters+1)
	for i := range nine {
		nine[i] = "Câu hỏi số " + string(rune('1'+i))
	}
	for _, tt := range []struct {
		name      string
		questions []string
		reason    string
	}{
		{"none", []string{}, "Cần ít nhất một câu hỏi gợi ý"},
		{"nine", nine, "Tối đa 8 câu hỏi gợi ý (đang có 9)."},
		{"an empty one", []string{"Đăng ký khai sinh", "   "}, "Câu 2 đang để trống"},
		{"too long", []string{strings.Repeat("ạ", staff.MaxStarterRunes+1)}, "Câu 1 dài quá 100 ký tự."},
		{"markup", []string{"Đăng ký <b>khai sinh</b>"}, "Câu 1: Không được chứa mã HTML"},
		{"two lines", []string{"Đăng ký\nkhai sinh"}, "Câu 1: Không được chứa ký tự điều khiển"},
		{"twice, without accents", []string{"Đăng ký khai sinh", "Cấp lại căn cước", "dang ky khai sinh"}, "Câu 3 trùng với câu 1."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := publisher.do("PUT", "/starters", map[string]any{"base_version": 0, "questions": tt.questions})
			require.Equal(t, http.StatusUnprocessableEntity, res.status, "%s", res.body)
			var b struct {
				Error struct {
					Code, Message string
					Fields        []staff.FieldReason
				}
			}
			res.json(t, &b)
			assert.Equal(t, "invalid", b.Error.Code)
			assert.Equal(t, "Câu hỏi gợi ý không hợp lệ.", b.Error.Message)
			require.NotEmpty(t, b.Error.Fields)
			assert.Equal(t, "questions", b.Error.Fields[0].Field)
			assert.True(t, slices.ContainsFunc(b.Error.Fields, func(f staff.FieldReason) bool { return strings.Contains(f.Reason, tt.reason) }),
				"%+v", b.Error.Fields)
		})
	}
	for _, tt := range []struct {
		name    string
		body    any
		message string
	}{
		{"unknown field", map[string]any{"base_version": 0, "questions": []string{"a"}, "starters": []string{"b"}}, "không phải JSON hợp lệ"},
		{"not JSON", "Đăng ký khai sinh", "không phải JSON hợp lệ"},
		{"no base version", map[string]any{"questions": []string{"Đăng ký khai sinh"}}, "Thiếu phiên bản gốc"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := publisher.do("PUT", "/starters", tt.body)
			require.Equal(t, http.StatusBadRequest, res.status, "%s", res.body)
			assert.Contains(t, string(res.body), tt.message)
		})
	}
	_, err := e.repo.(staff.StarterRepo).Starters(t.Context())
	assert.ErrorIs(t, err, staff.ErrNotFound, "nothing was stored")
	assert.Equal(t, operatorStarters, live.Questions())
}

// TestStartersNoWidget: a service without a widget to configure has no starter questions.
func TestStartersNoWidget(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	e.addUser("hoa", staff.RolePublisher)
	publisher := e.login("hoa")
	res := publisher.do("GET", "/starters", nil)
	assert.Equal(t, http.StatusNotFound, res.status)
	assert.Contains(t, string(res.body), "không có khung trò chuyện")
	assert.Equal(t, http.StatusNotFound, publisher.do("PUT", "/starters", map[string]any{"base_version": 0, "questions": mostAsked}).status)
}

// TestStartersAcrossProcesses: two services on one PostgreSQL database stand for two serve processes; the
// questions a publisher sets through one are offered by the other's widget within seconds, and so is the reset.
func TestStartersAcrossProcesses(t *testing.T) {
	schema := pgtest.Schema(t)
	liveA, liveB := liveStarters(t), liveStarters(t)
	a := newEnv(t, smallStore(t), staffpg.New(pgStore(t, schema).Pool()), nil, withStarters(liveA))
	b := newEnv(t, smallStore(t), staffpg.New(pgStore(t, schema).Pool()), nil, withStarters(liveB))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.svc.Run(ctx) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	a.addUser("hoa", staff.RolePublisher)
	publisher := a.login("hoa")
	res := publisher.do("PUT", "/starters", map[string]any{"base_version": 0, "questions": mostAsked})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	assert.Equal(t, mostAsked, liveA.Questions())
	require.Eventually(t, func() bool { return slices.Equal(liveB.Questions(), mostAsked) }, 10*time.Second, 20*time.Millisecond,
		"the other process offers them")
	res = publisher.do("DELETE", "/starters?base_version=1", nil)
	require.Equal(t, http.StatusNoContent, res.status, "%s", res.body)
	require.Eventually(t, func() bool { return slices.Equal(liveB.Questions(), operatorStarters) }, 10*time.Second, 20*time.Millisecond,
		"the other process is back to the default")
}
