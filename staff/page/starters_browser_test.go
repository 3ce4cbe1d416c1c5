package page_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/channels/web/widget"
	"github.com/trolyao/trolyao/internal/browsertest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/staff"
	sembedded "github.com/trolyao/trolyao/staff/embedded"
	"github.com/trolyao/trolyao/staff/page"
)

// startersSite is the staff API and page with the chat widget's script beside them, as serve mounts them, the
// widget offering the starter questions staff set (the built-in ones by default).
func startersSite(t *testing.T) (*httptest.Server, *widget.LiveStarters) {
	t.Helper()
	w := newWorld(t)
	live, err := widget.NewLiveStarters(nil)
	require.NoError(t, err)
	repo, err := sembedded.Open(filepath.Join(t.TempDir(), "staff.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = repo.Close() })
	svc, err := staff.New(staff.Options{Repo: repo, Store: w.Store, Embedder: knowledge.HashEmbedder{},
		Phrasebook: w.Bank.Phrasebook(), Conversations: w.convs, TempDir: t.TempDir(), Starters: live})
	require.NoError(t, err)
	for _, u := range []struct{ name, password, role string }{{"canbo", "mat-khau-can-bo-1", "publisher"}, {"xem", "mat-khau-chi-xem-1", "viewer"}} {
		require.NoError(t, staff.AddUser(t.Context(), repo, u.name, u.password, staff.Role(u.role), time.Now()))
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/staff/", svc.Handler())
	mux.Handle("/staff/", page.Handler())
	wh, err := widget.Handler(widget.Options{Live: live})
	require.NoError(t, err)
	mux.Handle("GET /widget.js", wh)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, live
}

// widgetScriptStarters reports whether the widget's script, as a page would load it now, offers qs.
func widgetScriptStarters(t *testing.T, base string, qs []string) bool {
	t.Helper()
	resp, err := http.Get(base + "/widget.js")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return strings.Contains(string(b), `"starters":`+jsonOf(t, qs))
}

// starterValues are the questions in the page's list editor, in order.
const starterValues = `[...document.querySelectorAll("#starters-rows .starter-q")].map(i => i.value)`

// A publisher opens «Câu hỏi gợi ý» at a phone's width and on a desktop: the list shows the questions the widget
// offers (the built-in ones) and the default; a question typed twice (once without accents) is refused with
// the Vietnamese reason naming it, and nothing changes; edited, moved up, removed and added, the list is saved
// and the widget's script offers it at once; «Dùng câu hỏi mặc định», confirmed, brings the default back. A
// viewer sees the list read-only. axe-core finds nothing serious or critical, nothing overflows sideways.
func TestBrowserStarters(t *testing.T) {
	for _, vp := range []struct {
		name          string
		width, height int
	}{{"390 px", 390, 844}, {"desktop", 1280, 900}} {
		t.Run(vp.name, func(t *testing.T) {
			srv, live := startersSite(t)
			ctx := browsertest.New(t, vp.width, vp.height, 3*time.Minute)
			cons, stopConsole := watchConsole(ctx)
			do(t, ctx, "open the page", chromedp.Navigate(srv.URL+"/staff/"))
			loginAs(t, ctx, "canbo", "mat-khau-can-bo-1")
			startersPublisher(t, ctx, srv.URL, live, vp.width)
			startersViewer(t, ctx)
			stopConsole()
			assert.Empty(t, cons.problems(), "no script errors or CSP violations")
		})
	}
}

func startersPublisher(t *testing.T, ctx context.Context, base string, live *widget.LiveStarters, width int) {
	do(t, ctx, "open the starter questions",
		chromedp.Click(chromedp.CSS(`.tab[data-view="starters"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#starters-rows .starter-q`)),
	)
	waitText(t, ctx, "starters-state", "Đang dùng câu hỏi mặc định")
	assert.Equal(t, widget.DefaultStarters, eval[[]string](t, ctx, starterValues), "the questions the widget offers")
	assert.Equal(t, widget.DefaultStarters, eval[[]string](t, ctx, `[...document.querySelectorAll("#starters-default li")].map(e => e.textContent)`))
	assert.False(t, eval[bool](t, ctx, `document.getElementById("starters-reset").checkVisibility()`), "nothing to reset yet")
	unlabelled := eval[[]string](t, ctx, `[...document.querySelectorAll("#starters-view input, #starters-view button")]
		.filter(e => e.checkVisibility() && !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !(e.tagName === "BUTTON" && e.textContent.trim()))
		.map(e => e.outerHTML.slice(0, 80))`)
	assert.Empty(t, unlabelled, "every control has a label")
	browsertest.AxeSerious(t, ctx, fmt.Sprintf("the starter questions at %d px", width))

	// The same question twice: refused, with the question named, and the widget unchanged.
	do(t, ctx, "a question twice",
		setValue(`#starters-rows li:nth-child(1) .starter-q`, "Cấp phiếu lý lịch tư pháp"),
		chromedp.Click(chromedp.ID("starters-add")),
		chromedp.SendKeys(chromedp.CSS(`#starters-rows li:nth-child(5) .starter-q`), "cap phieu ly lich tu phap"),
		chromedp.Click(chromedp.ID("starters-save")),
	)
	waitText(t, ctx, "notice", "Câu 5 trùng với câu 1.")
	assert.Equal(t, widget.DefaultStarters, live.Questions(), "nothing refused took effect")
	browsertest.AxeSerious(t, ctx, fmt.Sprintf("the refused starter questions at %d px", width))

	// Edit, move up, remove, save: the widget offers the list at once.
	want := []string{"Cấp phiếu lý lịch tư pháp", "Phường cũ của tôi nay là phường nào?", "Đăng ký khai sinh cho con",
		"Đăng ký thường trú cần gì?", "Thành lập hộ kinh doanh"}
	do(t, ctx, "edit the list",
		setValue(`#starters-rows li:nth-child(5) .starter-q`, "Phường cũ của tôi nay là phường nào?"),
		chromedp.Click(chromedp.CSS(`#starters-rows li:nth-child(5) .starter-up`)),
		chromedp.Click(chromedp.CSS(`#starters-rows li:nth-child(4) .starter-up`)),
		chromedp.Click(chromedp.CSS(`#starters-rows li:nth-child(3) .starter-up`)),
	)
	require.Equal(t, []string{"Cấp phiếu lý lịch tư pháp", "Phường cũ của tôi nay là phường nào?", widget.DefaultStarters[1],
		widget.DefaultStarters[2], widget.DefaultStarters[3]}, eval[[]string](t, ctx, starterValues))
	assert.Equal(t, "Lên trên: câu 2", eval[string](t, ctx, `document.querySelector("#starters-rows li:nth-child(2) .starter-up").getAttribute("aria-label")`))
	do(t, ctx, "add one, then remove it",
		chromedp.Click(chromedp.ID("starters-add")),
		chromedp.Click(chromedp.CSS(`#starters-rows li:nth-child(6) .starter-remove`)),
	)
	assert.Len(t, eval[[]string](t, ctx, starterValues), 5)
	do(t, ctx, "save",
		setValue(`#starters-rows li:nth-child(3) .starter-q`, "Đăng ký khai sinh cho con"),
		chromedp.Click(chromedp.ID("starters-save")),
	)
	waitText(t, ctx, "notice", "Đã lưu câu hỏi gợi ý.")
	waitText(t, ctx, "starters-state", "Cán bộ canbo đặt lúc")
	assert.Equal(t, want, live.Questions(), "the widget offers them at once")
	assert.True(t, widgetScriptStarters(t, base, want), "in the script a page loads")
	assert.Equal(t, want, eval[[]string](t, ctx, starterValues))
	browsertest.AxeSerious(t, ctx, fmt.Sprintf("the saved starter questions at %d px", width))
	browsertest.Screenshot(t, ctx, fmt.Sprintf("starters-%d", width))
	if width < 500 {
		assert.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), eval[int](t, ctx, `innerWidth`), "nothing overflows sideways")
	}

	// Eight at most: the add button turns off.
	for range 3 {
		do(t, ctx, "add", chromedp.Click(chromedp.ID("starters-add")))
	}
	assert.True(t, eval[bool](t, ctx, `document.getElementById("starters-add").disabled`), "eight questions at most")
	do(t, ctx, "reload the saved list", chromedp.Click(chromedp.CSS(`.tab[data-view="starters"]`)))
	waitText(t, ctx, "starters-state", "Cán bộ canbo đặt lúc")
	require.Len(t, eval[[]string](t, ctx, starterValues), 5)

	do(t, ctx, "back to the default",
		chromedp.Click(chromedp.ID("starters-reset")),
		chromedp.Click(chromedp.ID("starters-reset")),
	)
	waitText(t, ctx, "notice", "Đã trở lại câu hỏi mặc định.")
	waitText(t, ctx, "starters-state", "Đang dùng câu hỏi mặc định")
	assert.Equal(t, widget.DefaultStarters, live.Questions())
	assert.True(t, widgetScriptStarters(t, base, widget.DefaultStarters))
	assert.Equal(t, widget.DefaultStarters, eval[[]string](t, ctx, starterValues))
}

func startersViewer(t *testing.T, ctx context.Context) {
	do(t, ctx, "log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-username")))
	loginAs(t, ctx, "xem", "mat-khau-chi-xem-1")
	do(t, ctx, "a viewer opens the starter questions",
		chromedp.Click(chromedp.CSS(`.tab[data-view="starters"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#starters-rows .starter-q`)),
	)
	assert.True(t, eval[bool](t, ctx, `document.getElementById("starters-fields").disabled`), "read-only for a viewer")
	for _, id := range []string{"starters-save", "starters-reset", "starters-add"} {
		assert.False(t, eval[bool](t, ctx, `document.getElementById("`+id+`").checkVisibility()`), "a viewer sees no #%s", id)
	}
	assert.Zero(t, eval[int](t, ctx, `[...document.querySelectorAll("#starters-rows button")].filter(b => b.checkVisibility()).length`))
}
