package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/channels/web"
	"github.com/trolyao/trolyao/channels/web/widget"
	"github.com/trolyao/trolyao/internal/browsertest"
	"github.com/trolyao/trolyao/internal/realcatalog"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/embedded"
)

// widgetSite is the chat server over the real catalog with the widget mounted beside it, as `serve` does.
type widgetSite struct {
	url           string // default link domains
	restrictedURL string // the same chat server; the widget links only to hochiminhcity.gov.vn
	conversations knowledge.Conversations
}

func newWidgetSite(t *testing.T) widgetSite {
	t.Helper()
	chat, convs := newChatHandler(t, web.Config{MessageRate: 50, MessageBurst: 50})
	return widgetSite{
		url:           widgetServer(t, chat, widget.Options{}).URL,
		restrictedURL: widgetServer(t, chat, widget.Options{LinkDomains: []string{"hochiminhcity.gov.vn"}}).URL,
		conversations: convs,
	}
}

// newChatHandler is the chat server over the real catalog, with the question bank, as `serve` runs it.
func newChatHandler(t *testing.T, cfg web.Config) (http.Handler, knowledge.Conversations) {
	t.Helper()
	c := realcatalog.Load(t) // shared with the package's other tests; closed by their TestMain
	convs := embedded.NewConversations(c.Store)
	srv := &web.Server{
		Searcher: c.Searcher, Store: c.Store, Units: c.Units,
		Assistant:     c.Assistant(convs),
		Conversations: convs,
		Config:        cfg,
	}
	return srv.Handler(), convs
}

// widgetServer serves chat and the widget (with its demo page and icon) as `serve` mounts them.
func widgetServer(t *testing.T, chat http.Handler, opts widget.Options) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/", chat)
	h, err := widget.Handler(opts)
	require.NoError(t, err)
	mux.Handle("GET /{$}", h)
	mux.Handle("GET /widget.js", h)
	mux.Handle("GET /widget/", h)
	mux.Handle("GET /favicon.ico", h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

// widgetPhone starts the browser with a phone's viewport. Chromium does not make a window narrower than 500
// CSS pixels, so the phone's viewport is emulated.
func widgetPhone(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	ctx := browsertest.New(t, 390, 844, timeout)
	widgetDo(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	return ctx
}

// widgetRoot is the widget's shadow root in the page; the functions below read and drive it.
const widgetRoot = `document.getElementById('trolyao-widget').shadowRoot`

func widgetQ(sel string) chromedp.JSPath {
	return chromedp.JSPath(widgetRoot + `.querySelector(` + widgetJSString(sel) + `)`)
}

func widgetJSString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func widgetEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// waitFor polls a JavaScript predicate until it is truthy.
func widgetWait(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")",
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
	require.NoError(t, err, "waiting for %s: %s", what, expr)
}

func widgetDo(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, steps...))
}

// widgetFinalAnswers is the number of assistant messages whose authoritative answer is rendered.
const widgetFinalAnswers = widgetRoot + `.querySelectorAll('.msg.assistant[data-state="final"]').length`

// ask types text into the input, sends it with Enter and waits for answer number n.
func widgetAsk(t *testing.T, ctx context.Context, text string, n int) {
	t.Helper()
	widgetDo(t, ctx, chromedp.SendKeys(widgetQ("#tl-input"), text+kb.Enter))
	widgetWait(t, ctx, fmt.Sprintf("answer %d", n), fmt.Sprintf("%s >= %d", widgetFinalAnswers, n))
}

func widgetOpen(t *testing.T, ctx context.Context) {
	t.Helper()
	widgetWait(t, ctx, "the widget", `document.getElementById('trolyao-widget')`)
	widgetDo(t, ctx, chromedp.Click(widgetQ(".bubble")))
	widgetWait(t, ctx, "the connection", `document.getElementById('trolyao-widget').dataset.connection === 'open'`)
}

// The widget in real headless Chromium against the real chat server over the real catalog.
func TestWidgetBrowser(t *testing.T) {
	site := newWidgetSite(t)
	t.Run("phone", func(t *testing.T) { widgetPhoneFlow(t, site) })
	t.Run("text only", func(t *testing.T) { widgetTextOnly(t, site) })
	t.Run("restricted links and memory", func(t *testing.T) { widgetRestrictedAndMemory(t, site) })
	t.Run("formatted answer and options once", func(t *testing.T) { widgetFormatting(t, site) })
	t.Run("starters, reasons and axe at 390 px", func(t *testing.T) { widgetStartersReasonsAxe(t, site, widgetPhone(t, 3*time.Minute)) })
	t.Run("starters, reasons and axe on a desktop", func(t *testing.T) {
		widgetStartersReasonsAxe(t, site, browsertest.New(t, 1280, 800, 3*time.Minute))
	})
}

// The demo page and the open widget pass axe-core (no serious or critical violation) before and during a
// conversation — a clarifying question's option buttons and the reason chips of a 👎 shown; a starter
// question is answered from the real catalog; the reason chosen is stored with the feedback; the site has an
// icon.
func widgetStartersReasonsAxe(t *testing.T, site widgetSite, ctx context.Context) {
	resp, err := http.Get(site.url + "/favicon.ico")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "/favicon.ico")

	widgetDo(t, ctx, chromedp.Navigate(site.url+"/"))
	widgetWait(t, ctx, "the widget", `document.getElementById('trolyao-widget')`)
	browsertest.AxeSerious(t, ctx, "the demo page")
	widgetOpen(t, ctx)
	browsertest.AxeSerious(t, ctx, "the open widget with its starters")
	starters := widgetEval[[]string](t, ctx, `Array.from(`+widgetRoot+`.querySelectorAll('.starter')).map(b => b.textContent)`)
	assert.Equal(t, widget.DefaultStarters, starters)
	widgetDo(t, ctx, chromedp.Click(widgetQ(".starter")))
	widgetWait(t, ctx, "answer 1", widgetFinalAnswers+` >= 1`)
	assert.True(t, widgetEval[bool](t, ctx, widgetRoot+`.querySelector('.msg.assistant a[data-code="1.014064"]') !== null`),
		"the first starter is answered with the procedure")

	widgetAsk(t, ctx, "giấy phép lái xe", 2)
	require.GreaterOrEqual(t, widgetEval[int](t, ctx, widgetRoot+`.querySelectorAll('.choices .choice').length`), 2, "a clarifying question")
	second := widgetRoot + `.querySelectorAll('.msg.assistant')[1]`
	widgetDo(t, ctx, chromedp.Click(chromedp.JSPath(second+`.querySelector('.feedback button[data-value="-1"]')`)))
	widgetWait(t, ctx, "the reason chips", second+`.querySelector('.reasons')`)
	browsertest.AxeSerious(t, ctx, "the widget with a conversation, options and reason chips")
	mismatched := widgetEval[[]string](t, ctx, `Array.from(`+widgetRoot+`.querySelectorAll('button')).filter(b => /\p{L}/u.test(b.textContent) &&
		b.getAttribute('aria-label') && !b.getAttribute('aria-label').includes(b.textContent.trim())).map(b => b.textContent)`)
	assert.Empty(t, mismatched, "every button with words is named by them")
	assert.Equal(t, 0, widgetEval[int](t, ctx, widgetRoot+`.querySelectorAll('header, footer').length`), "no second banner landmark")

	widgetDo(t, ctx, chromedp.Click(chromedp.JSPath(second+`.querySelector('.reason[data-reason="wrong_procedure"]')`)))
	widgetWait(t, ctx, "the reason pressed", second+`.querySelector('.reason[data-reason="wrong_procedure"]').getAttribute('aria-pressed') === 'true'`)
	conv := widgetConversationID(t, widgetEval[string](t, ctx, `localStorage.getItem('trolyao:v1:' + location.origin)`))
	require.Eventually(t, func() bool {
		c, err := site.conversations.Load(t.Context(), conv)
		return err == nil && len(c.Messages) == 4 && c.Messages[3].FeedbackReason == knowledge.ReasonWrongProcedure
	}, 10*time.Second, 50*time.Millisecond, "the reason is stored with the 👎")
	c, err := site.conversations.Load(t.Context(), conv)
	require.NoError(t, err)
	assert.Equal(t, -1, c.Messages[3].Feedback)
	browsertest.Screenshot(t, ctx, "widget-reasons")

	// "Cuộc trò chuyện mới" starts afresh, with the starters.
	widgetDo(t, ctx, chromedp.Click(widgetQ(".new")))
	widgetWait(t, ctx, "an empty log", widgetRoot+`.querySelectorAll('.msg').length === 0 && `+widgetRoot+`.querySelector('.starters')`)
}

// On a 390 px phone the answer's Markdown is rendered as elements (bold, list, link, never as raw markup), a
// clarifying question shows each option exactly once, as a button, nothing overflows sideways, and after a
// reload without the stored copy the offered procedures are listed by name.
func widgetFormatting(t *testing.T, site widgetSite) {
	ctx := widgetPhone(t, 3*time.Minute)
	widgetDo(t, ctx, chromedp.Navigate(site.url+"/"))
	widgetOpen(t, ctx)
	widgetAsk(t, ctx, "đăng ký thường trú cần giấy tờ gì và lệ phí bao nhiêu", 1)
	first := widgetRoot + `.querySelectorAll('.msg.assistant')[0].querySelector('.text')`
	assert.Contains(t, widgetEval[string](t, ctx, first+`.querySelector('strong').textContent`), "Đăng ký thường trú")
	assert.GreaterOrEqual(t, widgetEval[int](t, ctx, first+`.querySelectorAll('ul > li').length`), 2, "the papers as a list")
	href := widgetEval[string](t, ctx, first+`.querySelector('a[href]').href`)
	assert.True(t, strings.HasPrefix(href, "https://dichvucong.gov.vn/"), href)
	assert.Equal(t, "noopener noreferrer", widgetEval[string](t, ctx, first+`.querySelector('a[href]').rel`))
	text := widgetEval[string](t, ctx, first+`.textContent`)
	for _, raw := range []string{"**", "](", "https://"} {
		assert.NotContains(t, text, raw, "no raw Markdown or address in the shown text")
	}
	assert.Contains(t, text, "20.000 đồng")
	assert.Positive(t, widgetEval[int](t, ctx, `Array.from(`+widgetRoot+`.querySelectorAll('.suggestion')).filter(b => b.textContent === 'Xem đầy đủ').length`),
		"«Xem đầy đủ» is a quick reply")

	widgetAsk(t, ctx, "giấy phép lái xe", 2)
	options := widgetEval[[]string](t, ctx, `Array.from(`+widgetRoot+`.querySelectorAll('.choices .choice')).map(b => b.title)`)
	require.GreaterOrEqual(t, len(options), 2, "a clarifying question")
	clarify := widgetEval[string](t, ctx, widgetRoot+`.querySelectorAll('.msg.assistant')[1].innerText`)
	for _, name := range options {
		n := 0
		for _, line := range strings.Split(clarify, "\n") {
			if _, after, _ := strings.Cut(strings.TrimSpace(line), ". "); line == name || after == name || strings.Contains(line, name+" (mã") {
				n++
			}
		}
		assert.Equal(t, 1, n, "%q shown once in %q", name, clarify)
	}
	assert.Equal(t, 0, widgetEval[int](t, ctx, widgetRoot+`.querySelectorAll('.choices .suggestion').length`), "no quick replies repeating the options")
	assert.NotContains(t, clarify, "(mã ", "no option as a bare code")

	overflow := `(() => { const log = ` + widgetRoot + `.querySelector('.log');
		const wide = Array.from(` + widgetRoot + `.querySelectorAll('.msg, .msg *, .choice')).filter(e => e.getBoundingClientRect().right > innerWidth + 0.5).length;
		return [document.documentElement.scrollWidth - innerWidth, log.scrollWidth - log.clientWidth, wide]; })()`
	assert.Equal(t, []float64{0, 0, 0}, widgetEval[[]float64](t, ctx, overflow), "no horizontal overflow at 390 px")
	browsertest.Screenshot(t, ctx, "widget-formatting")

	// A reload on a device without the stored copy (only the conversation id is kept): the history comes from
	// the server, with the procedures' names.
	widgetDo(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { const k = 'trolyao:v1:' + location.origin;
		const s = JSON.parse(localStorage.getItem(k)); s.messages = []; localStorage.setItem(k, JSON.stringify(s)); })()`))
	widgetDo(t, ctx, chromedp.Reload())
	widgetOpen(t, ctx)
	widgetWait(t, ctx, "the history frame", `document.getElementById('trolyao-widget').dataset.history === '4'`)
	cites := widgetEval[[]string](t, ctx, `Array.from(`+widgetRoot+`.querySelectorAll('.msg.assistant')[1].querySelectorAll('.cites li')).map(e => e.textContent)`)
	require.Len(t, cites, len(options))
	for i, c := range cites {
		assert.True(t, strings.HasPrefix(c, options[i]), "%q is named after a reload", c)
	}
	assert.Equal(t, []float64{0, 0, 0}, widgetEval[[]float64](t, ctx, overflow), "no horizontal overflow after the reload")
}

// The citizen's path on a phone: open, ask, see the answer stream in with its citation, tap a quick reply,
// rate the answers, reload and find the conversation again, lose the connection and carry on.
func widgetPhoneFlow(t *testing.T, site widgetSite) {
	ctx := widgetPhone(t, 3*time.Minute)
	widgetDo(t, ctx, chromedp.Navigate(site.url+"/"))
	assert.Contains(t, widgetEval[string](t, ctx, `document.title`), "Dịch vụ công")
	widgetWait(t, ctx, "the widget", `document.getElementById('trolyao-widget')`)
	// The widget's styles apply under the demo page's strict CSP (no inline styles), and stay in the shadow root.
	assert.Equal(t, "fixed", widgetEval[string](t, ctx, `getComputedStyle(`+widgetRoot+`.querySelector('.bubble')).position`))
	assert.Equal(t, 0, widgetEval[int](t, ctx, `document.querySelectorAll('.bubble, .panel').length`))
	assert.Equal(t, "idle", widgetEval[string](t, ctx, `document.getElementById('trolyao-widget').dataset.connection || 'idle'`),
		"no websocket before the panel opens")

	require.Equal(t, []float64{390, 844}, widgetEval[[]float64](t, ctx, `[innerWidth, innerHeight]`))
	widgetOpen(t, ctx)
	assert.Equal(t, "tl-input", widgetEval[string](t, ctx, widgetRoot+`.activeElement && `+widgetRoot+`.activeElement.id`),
		"focus moves to the input")
	rect := widgetEval[[]float64](t, ctx, `(() => { const r = `+widgetRoot+`.querySelector('.panel').getBoundingClientRect(); return [r.width, r.height]; })()`)
	assert.Equal(t, []float64{390, 844}, rect, "full screen on a phone")
	assert.Equal(t, "log", widgetEval[string](t, ctx, widgetRoot+`.querySelector('.log').getAttribute('role')`))
	assert.Equal(t, "polite", widgetEval[string](t, ctx, widgetRoot+`.querySelector('.log').getAttribute('aria-live')`))
	assert.Equal(t, 0, widgetEval[int](t, ctx, `Array.from(`+widgetRoot+`.querySelectorAll('button')).filter(b => !(b.getAttribute('aria-label') || b.textContent.trim())).length`),
		"every button has a label")

	widgetAsk(t, ctx, "làm lại căn cước cần gì", 1)
	first := widgetRoot + `.querySelectorAll('.msg.assistant')[0]`
	shown := widgetEval[string](t, ctx, first+`.querySelector('.text').textContent`)
	assert.GreaterOrEqual(t, widgetEval[int](t, ctx, `Number(`+first+`.dataset.deltas)`), 1,
		"the answer was streamed (delta frames rendered) before the final answer replaced it")
	assert.Contains(t, widgetEval[string](t, ctx, first+`.querySelector('.text').textContent`), "1.014064")
	href := widgetEval[string](t, ctx, first+`.querySelector('a[data-code="1.014064"]').href`)
	assert.True(t, strings.HasPrefix(href, "https://dichvucong.gov.vn/"), href)
	assert.Equal(t, "noopener noreferrer", widgetEval[string](t, ctx, first+`.querySelector('a[data-code="1.014064"]').rel`))
	assert.Equal(t, "", widgetEval[string](t, ctx, widgetRoot+`.querySelector('#tl-input').value`), "the input is cleared")

	// A quick reply sends its text and gets a second answer about the procedure in focus.
	suggestion := widgetEval[string](t, ctx, widgetRoot+`.querySelector('.suggestion').textContent`)
	require.NotEmpty(t, suggestion)
	widgetDo(t, ctx, chromedp.Click(widgetQ(".suggestion")))
	widgetWait(t, ctx, "answer 2", widgetFinalAnswers+` >= 2`)
	assert.Equal(t, suggestion, widgetEval[string](t, ctx, widgetRoot+`.querySelectorAll('.msg.user')[1].textContent`))
	second := widgetRoot + `.querySelectorAll('.msg.assistant')[1]`
	assert.NotEmpty(t, widgetEval[string](t, ctx, second+`.querySelector('.text').textContent`))
	assert.Equal(t, 1, widgetEval[int](t, ctx, widgetRoot+`.querySelectorAll('.choices').length`), "only the last answer offers quick replies")

	// Feedback: thumbs down on the second answer, up on the first; the server stores both.
	widgetDo(t, ctx, chromedp.Click(chromedp.JSPath(second+`.querySelector('.feedback button[data-value="-1"]')`)))
	widgetWait(t, ctx, "feedback_ok", second+`.dataset.feedbackOk === 'true'`)
	widgetDo(t, ctx, chromedp.Click(chromedp.JSPath(first+`.querySelector('.feedback button[data-value="1"]')`)))
	widgetWait(t, ctx, "feedback_ok", first+`.dataset.feedbackOk === 'true'`)
	stored := widgetEval[string](t, ctx, `localStorage.getItem('trolyao:v1:' + location.origin)`)
	conv := widgetConversationID(t, stored)
	c, err := site.conversations.Load(t.Context(), conv)
	require.NoError(t, err)
	require.Len(t, c.Messages, 4)
	assert.Equal(t, "làm lại căn cước cần gì", c.Messages[0].Text)
	assert.Equal(t, 1, c.Messages[1].Feedback)
	assert.Equal(t, -1, c.Messages[3].Feedback)
	browsertest.Screenshot(t, ctx, "widget-phone")

	// Reload: the conversation is back, synchronised with the server's history (feedback included).
	widgetDo(t, ctx, chromedp.Reload())
	widgetOpen(t, ctx)
	widgetWait(t, ctx, "the history frame", `document.getElementById('trolyao-widget').dataset.history === '4'`)
	texts := widgetEval[[]string](t, ctx, `Array.from(`+widgetRoot+`.querySelectorAll('.msg .text')).map(e => e.textContent)`)
	require.Len(t, texts, 4)
	assert.Equal(t, "làm lại căn cước cần gì", texts[0])
	assert.Equal(t, suggestion, texts[2])
	assert.Equal(t, shown, texts[1], "the answer renders the same after the reload")
	assert.Equal(t, "true", widgetEval[string](t, ctx, widgetRoot+`.querySelectorAll('.msg.assistant')[1].querySelector('button[data-value="-1"]').getAttribute('aria-pressed')`))
	assert.True(t, widgetEval[bool](t, ctx, widgetRoot+`.querySelectorAll('.msg.assistant')[0].querySelector('a[data-code="1.014064"]') !== null`),
		"the stored copy keeps the citation links")

	// The connection drops: the widget reconnects and the conversation goes on.
	widgetDo(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__trolyaoWidget.drop()`))
	widgetWait(t, ctx, "a reconnection", `document.getElementById('trolyao-widget').dataset.reconnects === '1' && document.getElementById('trolyao-widget').dataset.connection === 'open'`)
	widgetAsk(t, ctx, "lệ phí bao nhiêu", 3)
	c, err = site.conversations.Load(t.Context(), conv)
	require.NoError(t, err)
	assert.Len(t, c.Messages, 6, "the third question continues the same conversation")

	// Keyboard: Escape closes the panel and focus returns to the bubble.
	widgetDo(t, ctx, chromedp.Focus(widgetQ("#tl-input")), chromedp.KeyEvent(kb.Escape))
	widgetWait(t, ctx, "the panel to close", widgetRoot+`.querySelector('.panel').hidden`)
	assert.Equal(t, "bubble", widgetEval[string](t, ctx, widgetRoot+`.activeElement && `+widgetRoot+`.activeElement.className`))
	assert.Equal(t, "false", widgetEval[string](t, ctx, widgetRoot+`.querySelector('.bubble').getAttribute('aria-expanded')`))
}

// widgetConversationID reads the conversation id from the widget's stored state.
func widgetConversationID(t *testing.T, stored string) string {
	t.Helper()
	i := strings.Index(stored, `"conversationId":"`)
	require.GreaterOrEqual(t, i, 0, stored)
	rest := stored[i+len(`"conversationId":"`):]
	id, _, _ := strings.Cut(rest, `"`)
	require.Len(t, id, 26)
	return id
}

// Text from the server is text: markup in a message stays visible characters, both when the widget renders
// what the user typed and when it rebuilds the conversation from the server's history frame.
func widgetTextOnly(t *testing.T, site widgetSite) {
	ctx := browsertest.New(t, 1280, 800, 2*time.Minute)
	widgetDo(t, ctx, chromedp.Navigate(site.url+"/"))
	widgetOpen(t, ctx)
	const attack = `<img src=x onerror="window.__pwned=1"><b>đậm</b> căn cước`
	widgetAsk(t, ctx, attack, 1)
	// Forget the stored copy of the messages but keep the conversation id: the reloaded page must rebuild the
	// conversation from the server's history frame.
	widgetDo(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const k = 'trolyao:v1:' + location.origin;
		const s = JSON.parse(localStorage.getItem(k));
		localStorage.setItem(k, JSON.stringify({conversationId: s.conversationId, messages: []}));
	})()`))
	widgetDo(t, ctx, chromedp.Reload())
	widgetOpen(t, ctx)
	widgetWait(t, ctx, "the history frame", `document.getElementById('trolyao-widget').dataset.history === '2'`)
	assert.Equal(t, attack, widgetEval[string](t, ctx, widgetRoot+`.querySelector('.msg.user .text').textContent`))
	assert.Equal(t, 0, widgetEval[int](t, ctx, widgetRoot+`.querySelectorAll('img, b').length`), "no element from the message text")
	assert.Equal(t, 0, widgetEval[int](t, ctx, `document.querySelectorAll('img, b').length`))
	assert.Equal(t, "undefined", widgetEval[string](t, ctx, `typeof window.__pwned`))
	assert.Less(t, widgetEval[float64](t, ctx, widgetRoot+`.querySelector('.panel').getBoundingClientRect().width`), 500.0,
		"a floating panel, not full screen, on a wide screen")
	browsertest.Screenshot(t, ctx, "widget-desktop")
}

// A widget whose link domains exclude the catalog's host shows citations as plain text; memory mode writes
// nothing to the browser's storage, so a reload starts afresh; the send button and Enter both send.
func widgetRestrictedAndMemory(t *testing.T, site widgetSite) {
	ctx := widgetPhone(t, 2*time.Minute)
	widgetDo(t, ctx, chromedp.Navigate(site.restrictedURL+"/?persist=memory"))
	widgetOpen(t, ctx)
	widgetDo(t, ctx, chromedp.SendKeys(widgetQ("#tl-input"), "làm lại căn cước cần gì"), chromedp.Click(widgetQ(".send")))
	widgetWait(t, ctx, "answer 1", widgetFinalAnswers+` >= 1`)
	first := widgetRoot + `.querySelectorAll('.msg.assistant')[0]`
	assert.Equal(t, "SPAN", widgetEval[string](t, ctx, first+`.querySelector('[data-code="1.014064"]').tagName`),
		"dichvucong.gov.vn is not an allowed link domain here")
	assert.Equal(t, 0, widgetEval[int](t, ctx, widgetRoot+`.querySelectorAll('.log a').length`))
	widgetAsk(t, ctx, "lệ phí bao nhiêu", 2)
	assert.Equal(t, 0, widgetEval[int](t, ctx, `localStorage.length + sessionStorage.length`), "memory mode stores nothing")
	widgetDo(t, ctx, chromedp.Reload())
	widgetOpen(t, ctx)
	assert.Equal(t, 0, widgetEval[int](t, ctx, widgetRoot+`.querySelectorAll('.msg').length`), "a reload starts a new conversation")
	assert.Equal(t, 0, widgetEval[int](t, ctx, `localStorage.length + sessionStorage.length`))
}

// Staff change the starter questions after a page loaded the widget's script: opening the widget, the page
// shows the new questions, which the hello frame brought, and one of them is sent as asked; a page loaded
// afterwards has them in its script; after a reset the default ones come back. Phone width.
func TestWidgetStartersFollowStaff(t *testing.T) {
	c := realcatalog.Load(t)
	convs := embedded.NewConversations(c.Store)
	live, err := widget.NewLiveStarters(nil)
	require.NoError(t, err)
	srv := &web.Server{Searcher: c.Searcher, Store: c.Store, Units: c.Units, Assistant: c.Assistant(convs),
		Conversations: convs, Config: web.Config{MessageRate: 50, MessageBurst: 50}, Starters: live.Questions}
	url := widgetServer(t, srv.Handler(), widget.Options{Live: live}).URL
	ctx := widgetPhone(t, 3*time.Minute)
	shown := `Array.from(` + widgetRoot + `.querySelectorAll('.starters .starter')).map(b => b.textContent)`

	widgetDo(t, ctx, chromedp.Navigate(url+"/?persist=memory"))
	widgetWait(t, ctx, "the widget", `document.getElementById('trolyao-widget')`)
	staffSet := []string{"Cấp phiếu lý lịch tư pháp", "Đăng ký kết hôn cần giấy tờ gì?", "Phường cũ của tôi nay là phường nào?"}
	require.NoError(t, live.SetStaff(staffSet))
	widgetOpen(t, ctx)
	widgetWait(t, ctx, "the staff's starters", shown+`.join("|") === `+widgetJSString(strings.Join(staffSet, "|")))
	browsertest.AxeSerious(t, ctx, "the widget with the staff's starters at 390 px")
	widgetDo(t, ctx, chromedp.Click(chromedp.JSPath(widgetRoot+`.querySelectorAll('.starters .starter')[1]`)))
	widgetWait(t, ctx, "answer 1", widgetFinalAnswers+` >= 1`)
	asked := widgetEval[string](t, ctx, widgetRoot+`.querySelector('.msg.user .text').textContent`)
	assert.Equal(t, staffSet[1], asked, "the starter sends its question")

	// After a reload the page shows them: from the rebuilt script, or — when the browser kept the script it had
	// (it may for a few minutes) — from the hello frame, which replaces the script's list.
	widgetDo(t, ctx, chromedp.Navigate(url+"/?persist=memory&open=true"))
	widgetWait(t, ctx, "the staff's starters after a reload", shown+`.join("|") === `+widgetJSString(strings.Join(staffSet, "|")))

	require.NoError(t, live.SetStaff(nil))
	widgetDo(t, ctx, chromedp.Navigate(url+"/?persist=memory&open=true"))
	widgetWait(t, ctx, "the default starters", shown+`.join("|") === `+widgetJSString(strings.Join(widget.DefaultStarters, "|")))
}
