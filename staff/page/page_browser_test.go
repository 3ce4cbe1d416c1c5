package page_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/internal/browsertest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/staff/page"
)

const (
	code     = "1.014064" // cấp lại thẻ căn cước (cấp xã)
	question = "cccd bị mất làm lại ở đâu"
)

// site is the staff API and the page on one mux, as the binary serves them.
func site(t *testing.T, b *backend) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/api/v1/staff/", b.api)
	mux.Handle("/staff/", page.Handler())
	mux.Handle("/staff", page.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// apiClient is another member of staff, using the API directly with a session cookie.
type apiClient struct {
	base, cookie, csrf string
}

func login(t *testing.T, base, user, password string) *apiClient {
	t.Helper()
	body, err := json.Marshal(map[string]string{"username": user, "password": password})
	require.NoError(t, err)
	resp, err := http.Post(base+"/api/v1/staff/login", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var s struct {
		CSRF string `json:"csrf_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	c := &apiClient{base: base, csrf: s.CSRF}
	for _, ck := range resp.Cookies() {
		if ck.Name == "trolyao_staff" {
			c.cookie = ck.Name + "=" + ck.Value
		}
	}
	require.NotEmpty(t, c.cookie)
	return c
}

func (c *apiClient) call(t *testing.T, method, path string, in any, want int) []byte {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		require.NoError(t, err)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, c.base+"/api/v1/staff"+path, body)
	require.NoError(t, err)
	req.Header.Set("Cookie", c.cookie)
	req.Header.Set("X-CSRF-Token", c.csrf)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, path, out)
	return out
}

func (c *apiClient) get(t *testing.T, path string, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(c.call(t, http.MethodGet, path, nil, http.StatusOK), v))
}

// console gathers what the page writes to the console, to fail the test on script errors and CSP violations.
type console struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
	done chan struct{}
}

func watchConsole(ctx context.Context) (*console, context.CancelFunc) {
	cctx, cancel := context.WithCancel(ctx)
	c := &console{done: make(chan struct{})}
	msgs := chromedp.Console(cctx)
	go func() {
		defer close(c.done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.msgs = append(c.msgs, m)
			c.mu.Unlock()
		}
	}()
	return c, func() { cancel(); <-c.done }
}

// problems are the exceptions, console errors of the script and security (CSP) messages; failed requests
// the test makes on purpose (401 before login, 403 without CSRF) are network entries and not counted.
func (c *console) problems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.msgs {
		if m.IsException() || m.Source == "security" || (m.Source == "" && m.Type == "error") {
			out = append(out, m.String())
		}
	}
	return out
}

// stepTimeout bounds one group of browser steps, so that a failure is reported with the page as it was.
const stepTimeout = 30 * time.Second

// do runs browser steps, failing the test with what was being done and a screenshot.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		failNow(t, ctx, fmt.Sprintf("%s: %v", what, err))
	}
}

// failNow ends the test with msg, the page's notices and a screenshot.
func failNow(t *testing.T, ctx context.Context, msg string) {
	t.Helper()
	notice, _ := chromedp.Run(ctx, chromedp.Evaluate[string](
		`["notice", "conflict", "login-error"].map(id => document.getElementById(id)).filter(e => e && !e.hidden).map(e => e.textContent).join(" | ")`))
	browsertest.Screenshot(t, ctx, "failure")
	t.Fatalf("%s; the page says: %q", msg, notice)
}

// waitText waits until the text of the element with id contains want.
func waitText(t *testing.T, ctx context.Context, id, want string) string {
	t.Helper()
	expr := fmt.Sprintf(`(() => { const e = document.getElementById(%q); return e && !e.hidden && e.textContent.includes(%q) ? e.textContent : ""; })()`, id, want)
	got, err := chromedp.Run(ctx, chromedp.Poll[string](expr, chromedp.WithPollingTimeout(stepTimeout)))
	if err != nil {
		now, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.getElementById(%q) || {}).textContent || ""`, id)))
		failNow(t, ctx, fmt.Sprintf("#%s never contained %q (%v); it holds %q", id, want, err, now))
	}
	return got
}

// setValue sets the value of the form control that a CSS selector finds, as a script of the page would.
func setValue(selector, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = %q`, selector, value))
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	require.NoError(t, err, expr)
	return v
}

func loginAs(t *testing.T, ctx context.Context, user, password string) {
	t.Helper()
	do(t, ctx, "log in as "+user,
		chromedp.WaitVisible(chromedp.ID("login-username")),
		setValue("#login-username", ""),
		setValue("#login-password", ""),
		chromedp.SendKeys(chromedp.ID("login-username"), user),
		chromedp.SendKeys(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("search-q")),
	)
	waitText(t, ctx, "who-name", user)
}

// publishConfirmed presses Publish (the page saves the draft first) and confirms in the dialog that
// summarises the change.
func publishConfirmed(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, "publish and confirm",
		chromedp.Click(chromedp.ID("publish")),
		chromedp.WaitVisible(chromedp.ID("publish-confirm")),
		chromedp.Click(chromedp.ID("publish-confirm")),
		chromedp.WaitNotVisible(chromedp.ID("publish-dialog")),
	)
}

func openFromSearch(t *testing.T, ctx context.Context, query, code string) {
	t.Helper()
	result := chromedp.CSS(fmt.Sprintf(`#search-results button[data-code=%q]`, code))
	do(t, ctx, "search and open "+code,
		setValue("#search-q", ""),
		chromedp.SendKeys(chromedp.ID("search-q"), query),
		chromedp.Click(chromedp.ID("search-submit")),
		chromedp.WaitVisible(result),
		chromedp.Click(result),
		chromedp.WaitVisible(chromedp.ID("f-name")),
	)
	waitText(t, ctx, "editor-code", code)
}

// An editor with the publisher role logs in through the form, edits a real procedure, sees the diff, previews
// the assistant's answer from the draft, publishes it (the citizen side answers with it at once), rolls back
// to the catalog's original from the history, and publishes again straight from the form; saving over someone else's newer draft is refused with a
// conflict and overwrites nothing; a request without the CSRF header is refused; a viewer sees no editing or
// publishing controls, also at a phone's width.
func TestBrowserEditPreviewPublish(t *testing.T) {
	b := newBackend(t)
	b.addUser(t, "bientap", "mat-khau-bien-tap-1", "publisher")
	b.addUser(t, "bientap2", "mat-khau-bien-tap-2", "editor")
	b.addUser(t, "xem", "mat-khau-chi-xem-1", "viewer")
	srv := site(t, b)
	original := b.published(t, code)
	require.NotEmpty(t, original.Name)

	ctx := browsertest.New(t, 1280, 900, 4*time.Minute)
	cons, stopConsole := watchConsole(ctx)
	do(t, ctx, "open the page", chromedp.Navigate(srv.URL+"/staff/"))
	title, err := chromedp.Run(ctx, chromedp.Title())
	require.NoError(t, err)
	assert.Equal(t, "Quản trị cơ sở tri thức thủ tục", title)

	// A wrong password is refused with the server's Vietnamese message.
	do(t, ctx, "wrong password",
		chromedp.WaitVisible(chromedp.ID("login-username")),
		chromedp.SendKeys(chromedp.ID("login-username"), "bientap"),
		chromedp.SendKeys(chromedp.ID("login-password"), "sai-mat-khau"),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("login-error")),
	)
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("login-error")))
	require.NoError(t, err)
	assert.NotEmpty(t, msg)

	loginAs(t, ctx, "bientap", "mat-khau-bien-tap-1")
	openFromSearch(t, ctx, "căn cước", code)
	name, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("f-name")))
	require.NoError(t, err)
	assert.Equal(t, original.Name, name, "the form shows the published record")
	rows := eval[int](t, ctx, `document.querySelectorAll("#dossier-rows .rowitem").length`)
	assert.Equal(t, len(original.Dossier), rows, "one row per dossier item")
	unlabelled := eval[[]string](t, ctx, `[...document.querySelectorAll("input, select, textarea, button")]
		.filter(e => e.checkVisibility() && !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !(e.tagName === "BUTTON" && e.textContent.trim()))
		.map(e => e.outerHTML.slice(0, 80))`)
	assert.Empty(t, unlabelled, "every control has a label")

	// Edit: the receiving centre's address and a new dossier item, each with a unique marker.
	stamp := time.Now().UnixNano()
	address := fmt.Sprintf("Trung tâm Phục vụ hành chính công phường Bàn Cờ, số %d đường Lý Thái Tổ", stamp%100000)
	item := fmt.Sprintf("Giấy xác nhận thử nghiệm số %d", stamp%100000)
	do(t, ctx, "edit the draft",
		setValue("#f-address", ""),
		chromedp.SendKeys(chromedp.ID("f-address"), address),
		chromedp.Click(chromedp.ID("dossier-add")),
		chromedp.SendKeys(chromedp.CSS("#dossier-rows .rowitem:last-child .d-name"), item),
		setValue("#dossier-rows .rowitem:last-child .d-originals", "1"),
		chromedp.Click(chromedp.ID("draft-save")),
	)
	waitText(t, ctx, "notice", "Đã lưu bản nháp")
	waitText(t, ctx, "editor-state", "Bản nháp số 1")
	assert.Equal(t, original.Address, b.published(t, code).Address, "a draft is not live")

	// The diff shows the draft against the published record.
	do(t, ctx, "diff", chromedp.Click(chromedp.CSS(`.subtab[data-pane="diff"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#diff-table tr[data-field="address"]`)))
	diff, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#diff-table tr[data-field="address"] td.new`)))
	require.NoError(t, err)
	assert.Contains(t, diff, address)
	dossierDiff, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#diff-table tr[data-field="dossier"] td.new`)))
	require.NoError(t, err)
	assert.Contains(t, dossierDiff, item)

	// Preview: the assistant's answer composed from the draft.
	do(t, ctx, "preview",
		chromedp.Click(chromedp.CSS(`.subtab[data-pane="preview"]`)),
		chromedp.SendKeys(chromedp.ID("preview-q"), question),
		chromedp.Click(chromedp.ID("preview-submit")),
	)
	answer := waitText(t, ctx, "preview-answer", address)
	assert.Contains(t, answer, code)
	assert.Contains(t, answer, "Nguồn: cán bộ cập nhật ngày ", "the preview's source line is the one publishing gives")
	full := waitText(t, ctx, "preview-full", "Nguồn: cán bộ cập nhật ngày ")
	assert.Contains(t, full, address, "the full answer «Xem đầy đủ» gives")
	assert.NotContains(t, b.ask(t, question), address, "citizens still get the published record")

	// Publish, and the citizen side answers with the new content. The catalog's record is kept as version 1.
	do(t, ctx, "edit pane", chromedp.Click(chromedp.CSS(`.subtab[data-pane="edit"]`)))
	publishConfirmed(t, ctx)
	waitText(t, ctx, "notice", "Đã xuất bản phiên bản 2")
	waitText(t, ctx, "editor-state", "Chưa có bản nháp")
	live := b.published(t, code)
	want := original
	want.Address = address
	want.Dossier = append(slices.Clone(original.Dossier), knowledge.DossierItem{Name: item, Originals: 1})
	assert.Equal(t, "bientap", live.Attribution.By, "the record says who published it")
	assert.False(t, live.Attribution.At.IsZero())
	want.Attribution = live.Attribution
	assert.JSONEq(t, jsonOf(t, want), jsonOf(t, live), "the edits, and every other field as it was")
	assert.Contains(t, b.ask(t, question), address)
	assert.Contains(t, b.ask(t, question), "Nguồn: cán bộ cập nhật ngày ")
	browsertest.Screenshot(t, ctx, "published")

	// Roll back to the catalog's original from the history, after this one publish.
	restore := chromedp.CSS(`#versions-table tr[data-version="1"] button.restore`)
	do(t, ctx, "history",
		chromedp.Click(chromedp.CSS(`.subtab[data-pane="versions"]`)),
		chromedp.WaitVisible(restore),
	)
	current, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#versions-table tr[data-version="2"]`)))
	require.NoError(t, err)
	assert.Contains(t, current, "Đang xuất bản")
	assert.Contains(t, current, "bientap")
	first, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#versions-table tr[data-version="1"]`)))
	require.NoError(t, err)
	assert.Contains(t, first, "Nội dung gốc từ danh mục", "the history names the catalog's version")
	assert.Contains(t, first, "danh mục")
	assert.Equal(t, "catalog", eval[string](t, ctx, `document.querySelector('#versions-table tr[data-version="1"]').dataset.action`))
	assert.Equal(t, 2, eval[int](t, ctx, `document.querySelectorAll("#versions-table tbody tr").length`))
	browsertest.Screenshot(t, ctx, "versions")
	do(t, ctx, "restore", chromedp.Click(restore))
	waitText(t, ctx, "notice", "Đã khôi phục nội dung phiên bản 1")
	waitText(t, ctx, "editor-state", "phiên bản 3")
	restored := b.published(t, code)
	assert.Equal(t, original, restored, "the catalog's record is live again, exactly")
	answer = b.ask(t, question)
	assert.NotContains(t, answer, address)
	assert.Contains(t, answer, code)
	addr, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("f-address")))
	require.NoError(t, err)
	assert.Equal(t, original.Address, addr, "the form shows the restored record")
	rows = eval[int](t, ctx, `document.querySelectorAll("#dossier-rows .rowitem").length`)
	assert.Equal(t, len(original.Dossier), rows, "the added dossier item is gone")

	// Another edit, published straight from the form (the page saves the draft first).
	address2 := address + ", tầng 2"
	do(t, ctx, "second edit",
		chromedp.Click(chromedp.CSS(`.subtab[data-pane="edit"]`)),
		setValue("#f-address", ""),
		chromedp.SendKeys(chromedp.ID("f-address"), address2),
	)
	publishConfirmed(t, ctx)
	waitText(t, ctx, "notice", "Đã xuất bản phiên bản 4")
	assert.Equal(t, address2, b.published(t, code).Address)
	assert.Contains(t, b.ask(t, question), address2)

	// Someone else saves a draft while the page holds the record: saving is refused with a conflict, nothing
	// is overwritten, and reloading shows their draft.
	other := login(t, srv.URL, "bientap2", "mat-khau-bien-tap-2")
	theirs := b.published(t, code)
	theirs.Result = "Thẻ căn cước (bản nháp của người khác)"
	other.call(t, http.MethodPut, "/procedures/"+code+"/draft", map[string]any{"base_version": 0, "procedure": theirs}, http.StatusOK)
	do(t, ctx, "conflicting save",
		chromedp.Click(chromedp.CSS(`.subtab[data-pane="edit"]`)),
		setValue("#f-result", "Bản của tôi"),
		chromedp.Click(chromedp.ID("draft-save")),
		chromedp.WaitVisible(chromedp.ID("conflict")),
	)
	var draft struct {
		Version   int                 `json:"version"`
		Procedure knowledge.Procedure `json:"procedure"`
	}
	other.get(t, "/procedures/"+code+"/draft", &draft)
	assert.Equal(t, theirs.Result, draft.Procedure.Result, "their draft is not overwritten")
	do(t, ctx, "reload after the conflict", chromedp.Click(chromedp.ID("conflict-reload")), chromedp.WaitNotVisible(chromedp.ID("conflict")))
	waitText(t, ctx, "editor-state", "Bản nháp số 1 của bientap2")
	result, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("f-result")))
	require.NoError(t, err)
	assert.Equal(t, theirs.Result, result)

	// The CSRF token: the page's own request with it passes, the same request without it is refused.
	status := eval[int](t, ctx, `fetch("/api/v1/staff/procedures/`+code+`/preview", {method: "POST",
		headers: {"Content-Type": "application/json"}, body: JSON.stringify({question: "lệ phí bao nhiêu"})}).then(r => r.status)`)
	assert.Equal(t, http.StatusForbidden, status, "a state-changing request without X-CSRF-Token")

	// The session ends on the server (expiry, an admin's change): the next request brings the login form back
	// with the server's message, and logging in again returns to the open procedure.
	b.endSessions(t, "bientap")
	do(t, ctx, "request after the session ended",
		chromedp.Click(chromedp.CSS(`.subtab[data-pane="diff"]`)),
		chromedp.WaitVisible(chromedp.ID("login-error")),
	)
	waitText(t, ctx, "login-error", "đăng nhập")
	loginAs(t, ctx, "bientap", "mat-khau-bien-tap-1")
	waitText(t, ctx, "editor-code", code)

	// A viewer sees the procedure but no control to change it.
	do(t, ctx, "log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-username")))
	loginAs(t, ctx, "xem", "mat-khau-chi-xem-1")
	openFromSearch(t, ctx, "căn cước", code)
	for _, id := range []string{"publish", "draft-save", "unpublish", "preview-submit", "dossier-add"} {
		visible := eval[bool](t, ctx, fmt.Sprintf(`(() => { const e = document.getElementById(%q); return !!e && e.checkVisibility(); })()`, id))
		assert.False(t, visible, "a viewer sees no #%s", id)
	}
	assert.True(t, eval[bool](t, ctx, `document.getElementById("draft-fields").disabled`), "the viewer's form is read-only")
	assert.False(t, eval[bool](t, ctx, `document.querySelector('.tab[data-view="imports"]').checkVisibility()`))

	// At a phone's width nothing overflows sideways.
	do(t, ctx, "phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	assert.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), eval[int](t, ctx, `window.innerWidth`))
	browsertest.Screenshot(t, ctx, "viewer-phone")

	stopConsole()
	assert.Empty(t, cons.problems(), "no script errors or CSP violations")
}

// An import: the uploaded file's per-record report (changed, unchanged, invalid with its reason), then the
// batch published. The unanswered queue: a question the assistant could not answer is listed with its count,
// linked to the procedure it should have found, and leaves the open queue; the staff search then finds it by
// that question. The export link. A new procedure
// created, published, unpublished and restored.
func TestBrowserImportQueueAndLifecycle(t *testing.T) {
	b := newBackend(t)
	b.addUser(t, "bientap", "mat-khau-bien-tap-1", "publisher")
	srv := site(t, b)

	// Citizens ask something the assistant cannot answer, twice.
	const unanswered = "Xin giấy phép kinh doanh karaoke"
	for range 2 {
		b.ask(t, unanswered)
	}

	// The file: one record changed (a local note), one as published, one invalid.
	changed := b.published(t, "1.001193")
	unchanged := b.published(t, "1.014063")
	note := fmt.Sprintf("Nhận hồ sơ cả sáng thứ Bảy (ghi chú thử %d).", time.Now().UnixNano()%100000)
	changed.LocalNotes = note
	var file bytes.Buffer
	require.NoError(t, ingest.WriteJSONL(&file, []knowledge.Procedure{changed, unchanged}))
	file.WriteString(`{"code":"2.999998","name":""}` + "\n")
	path := filepath.Join(t.TempDir(), "cap-nhat.jsonl")
	require.NoError(t, os.WriteFile(path, file.Bytes(), 0o644))

	ctx := browsertest.New(t, 1280, 900, 3*time.Minute)
	cons, stopConsole := watchConsole(ctx)
	do(t, ctx, "open the page", chromedp.Navigate(srv.URL+"/staff/"))
	loginAs(t, ctx, "bientap", "mat-khau-bien-tap-1")

	do(t, ctx, "upload",
		chromedp.Click(chromedp.CSS(`.tab[data-view="imports"]`)),
		chromedp.WaitVisible(chromedp.ID("import-file")),
		chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{path}),
		chromedp.Click(chromedp.ID("import-submit")),
	)
	summary := waitText(t, ctx, "import-summary", "3 bản ghi")
	assert.Contains(t, summary, "0 mới, 1 thay đổi, 1 không đổi, 1 không hợp lệ")
	row := func(status string) string {
		txt, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(fmt.Sprintf(`#import-table tr[data-status=%q]`, status))))
		require.NoError(t, err, status)
		return txt
	}
	assert.Contains(t, row("changed"), "1.001193")
	assert.Contains(t, row("unchanged"), "1.014063")
	invalid := row("invalid")
	assert.Contains(t, invalid, "Không hợp lệ")
	assert.Regexp(t, `Không hợp lệ\s+\S`, invalid, "with its reason")
	assert.Empty(t, b.published(t, "1.001193").LocalNotes, "nothing is published by an upload")
	browsertest.Screenshot(t, ctx, "import-report")

	do(t, ctx, "publish the batch", chromedp.Click(chromedp.ID("import-publish")))
	waitText(t, ctx, "notice", "Đã xuất bản lô")
	waitText(t, ctx, "import-summary", "Đã xuất bản 1 bản ghi")
	assert.Equal(t, note, b.published(t, "1.001193").LocalNotes)
	waitText(t, ctx, "import-batches", "cap-nhat.jsonl")

	// Before the link, the staff search for "karaoke" does not find 1.001612 (its name has no such word).
	search := func() []string {
		do(t, ctx, "search karaoke",
			chromedp.Click(chromedp.CSS(`.tab[data-view="procedures"]`)),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("search-status").textContent = ""`),
			setValue("#search-q", "karaoke"),
			chromedp.Click(chromedp.ID("search-submit")),
		)
		waitText(t, ctx, "search-status", "phù hợp nhất trước")
		return eval[[]string](t, ctx, `[...document.querySelectorAll("#search-results button")].map(b => b.dataset.code)`)
	}
	require.NotContains(t, search(), "1.001612")

	// The unanswered queue, grouped by question.
	do(t, ctx, "queue", chromedp.Click(chromedp.CSS(`.tab[data-view="unanswered"]`)))
	waitText(t, ctx, "unanswered-table", unanswered)
	count, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#unanswered-table tbody tr td:nth-child(2)`)))
	require.NoError(t, err)
	assert.Equal(t, "2", count)
	browsertest.Screenshot(t, ctx, "queue")
	do(t, ctx, "link to a procedure",
		chromedp.Click(chromedp.CSS(`#unanswered-table tbody tr details.link summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#unanswered-table tbody tr details.link input.code`)),
		chromedp.SendKeys(chromedp.CSS(`#unanswered-table tbody tr details.link input.code`), "1.001612"),
		chromedp.Click(chromedp.CSS(`#unanswered-table tbody tr details.link button`)),
	)
	waitText(t, ctx, "notice", "Đã thêm câu hỏi làm cách hỏi khác của thủ tục 1.001612")
	waitText(t, ctx, "unanswered-status", "Không có câu hỏi nào cần xử lý")
	aliases := b.published(t, "1.001612").Aliases
	require.NotEmpty(t, aliases)
	assert.Contains(t, knowledge.Fold(aliases[len(aliases)-1]), "karaoke")

	// The staff search matches the alias: now it does.
	assert.Contains(t, search(), "1.001612")
	do(t, ctx, "back to the queue", chromedp.Click(chromedp.CSS(`.tab[data-view="unanswered"]`)))

	// The export link downloads the published catalog.
	exported := eval[string](t, ctx, `fetch(document.getElementById("export-link").href).then(r => r.status + " " + r.headers.get("Content-Type"))`)
	assert.Regexp(t, `^200 application/x-ndjson`, exported)

	// A new procedure: created as a draft, published, unpublished (the page asks twice), restored.
	const newCode = "9.900001"
	do(t, ctx, "new procedure",
		chromedp.Click(chromedp.CSS(`.tab[data-view="procedures"]`)),
		chromedp.Click(chromedp.CSS(`#new-box summary`)),
		chromedp.SendKeys(chromedp.ID("new-code"), newCode),
		chromedp.Click(chromedp.ID("new-submit")),
		chromedp.WaitVisible(chromedp.ID("f-name")),
		chromedp.SendKeys(chromedp.ID("f-name"), "Xác nhận thông tin thử nghiệm tại phường"),
		chromedp.Click(chromedp.ID("step-add")),
		chromedp.SendKeys(chromedp.CSS("#step-rows .rowitem:last-child .s-text"), "Nộp hồ sơ tại bộ phận một cửa."),
		chromedp.Click(chromedp.ID("channel-add")),
		chromedp.SetValue(chromedp.CSS("#channel-rows .rowitem:last-child .c-time-value"), "3"),
		chromedp.SendKeys(chromedp.CSS("#channel-rows .rowitem:last-child .c-time-unit"), "ngày làm việc"),
		chromedp.Click(chromedp.CSS("#channel-rows .rowitem:last-child .fee-add")),
		chromedp.SendKeys(chromedp.CSS("#channel-rows .rowitem:last-child .fee-amount"), "15000"),
		chromedp.SendKeys(chromedp.CSS("#channel-rows .rowitem:last-child .fee-label"), "Lệ phí"),
	)
	publishConfirmed(t, ctx)
	waitText(t, ctx, "notice", "Đã xuất bản phiên bản 1")
	created := b.published(t, newCode)
	assert.Equal(t, "Xác nhận thông tin thử nghiệm tại phường", created.Name)
	assert.Equal(t, []string{"Nộp hồ sơ tại bộ phận một cửa."}, created.Steps)
	require.Len(t, created.Channels, 1)
	assert.Equal(t, knowledge.Channel{Kind: knowledge.ChannelInPerson, Time: knowledge.Duration{Value: 3, Unit: "ngày làm việc"},
		Fees: []knowledge.Fee{{Amount: 15000, Label: "Lệ phí"}}}, created.Channels[0])

	do(t, ctx, "unpublish", chromedp.Click(chromedp.ID("unpublish")))
	waitText(t, ctx, "unpublish", "Bấm lần nữa")
	do(t, ctx, "confirm unpublish", chromedp.Click(chromedp.ID("unpublish")))
	waitText(t, ctx, "notice", "Đã ngừng xuất bản")
	_, err = b.world.Store.Get(t.Context(), newCode)
	assert.ErrorIs(t, err, knowledge.ErrNotFound)
	name, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("f-name")))
	require.NoError(t, err)
	assert.Equal(t, created.Name, name, "the form keeps the last record")
	do(t, ctx, "restore", chromedp.Click(chromedp.CSS(`.subtab[data-pane="versions"]`)),
		chromedp.Click(chromedp.CSS(`#versions-table tr[data-version="1"] button.restore`)))
	waitText(t, ctx, "notice", "Đã khôi phục nội dung phiên bản 1")
	assert.Equal(t, created, b.published(t, newCode))

	stopConsole()
	assert.Empty(t, cons.problems(), "no script errors or CSP violations")
}
