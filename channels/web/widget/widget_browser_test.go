package widget_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/channels/web/widget"
	"github.com/trolyao/trolyao/internal/browsertest"
)

// fakeChat speaks the chat protocol v1 with scripted answers, for what the real assistant never says: hostile
// citation URLs, markup in answers, errors, a dropped connection. channels/web's browser tests run the widget
// against the real server.
type fakeChat struct {
	mu       sync.Mutex
	received []map[string]any
	conns    []*websocket.Conn
}

const fakeConv = "abcdefghijklmnopqrstuvwxyz"

// Citations the fake answer carries, by code, and whether the widget may make each a link.
var fakeCitations = []struct {
	code, url string
	link      bool
}{
	{"1.000001", "https://dichvucong.gov.vn/p/1", true},
	{"1.000002", "https://thutuc.hochiminhcity.gov.vn/p/2", true},
	{"1.000003", "http://dichvucong.gov.vn/p/3", false},               // not https
	{"1.000004", "https://dichvucong.gov.vn.evil.example/p/4", false}, // suffix trick
	{"1.000005", "https://evildichvucong.gov.vn/p/5", false},          // not a subdomain
	{"1.000006", "https://user@dichvucong.gov.vn/p/6", false},         // credentials
	{"1.000007", "javascript:alert(document.domain)//dichvucong.gov.vn", false},
	{"1.000008", "https://dichvucong.gov.vn:8443/p/8", false}, // another port
	{"1.000009", "", false},
}

// fakeLongAnswer is far taller than the log, at 390 px and on a desktop.
var fakeLongAnswer = "**Phần đầu của câu trả lời**\n" + strings.Repeat("- Một dòng giấy tờ cần chuẩn bị khi nộp hồ sơ\n", 60) + "Phần cuối."

const fakeAnswer = `Trả lời <img src=x onerror="window.__pwned=1"> <a href="https://evil.example">bấm vào đây</a>`

func (f *fakeChat) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("v") != "1" {
		http.Error(w, `{"error":{"code":"bad_version"}}`, http.StatusBadRequest)
		return
	}
	up := websocket.Upgrader{}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.conns = append(f.conns, c)
	f.mu.Unlock()
	defer c.Close()
	send := func(v any) { _ = c.WriteJSON(v) }
	send(map[string]any{"type": "hello", "v": 1, "max_chars": 40})
	for {
		var m map[string]any
		if err := c.ReadJSON(&m); err != nil {
			return
		}
		f.mu.Lock()
		f.received = append(f.received, m)
		n := len(f.received)
		f.mu.Unlock()
		id, _ := m["id"].(string)
		switch m["type"] {
		case "message":
			if m["text"] == "quá nhanh" {
				send(map[string]any{"type": "error", "id": id, "code": "rate_limited", "message": "Bạn gửi tin nhắn quá nhanh, vui lòng chờ một chút rồi gửi lại."})
				continue
			}
			send(map[string]any{"type": "ack", "id": id, "conversation_id": fakeConv})
			if m["text"] == "ở đâu" {
				send(map[string]any{"type": "answer", "id": id, "conversation_id": fakeConv, "message_id": 2 * n,
					"text": "Nộp tại trung tâm của phường.", "citations": []any{}, "options": []any{}, "suggestions": []any{}, "abstained": false,
					"contact": map[string]string{"name": "Trung tâm Phục vụ hành chính công phường Bàn Cờ <b>",
						"address": "611/20 Điện Biên Phủ", "phone": "028.38396136", "hours": "Thứ Hai – Thứ Sáu"}})
				continue
			}
			if m["text"] == "dài" {
				send(map[string]any{"type": "answer", "id": id, "conversation_id": fakeConv, "message_id": 2 * n,
					"text": fakeLongAnswer, "citations": []any{}, "options": []any{}, "suggestions": []string{"Xem đầy đủ"}, "abstained": false})
				continue
			}
			send(map[string]any{"type": "typing", "id": id})
			send(map[string]any{"type": "delta", "id": id, "text": "Trả lời "})
			send(map[string]any{"type": "delta", "id": id, "text": "<b>tạm</b>"})
			var cites []map[string]string
			for _, c := range fakeCitations {
				cites = append(cites, map[string]string{"code": c.code, "name": "Thủ tục <i>" + c.code + "</i>", "url": c.url})
			}
			send(map[string]any{"type": "answer", "id": id, "conversation_id": fakeConv, "message_id": 2 * n,
				"text": fakeAnswer, "citations": cites,
				"options":     []map[string]string{{"code": "2.000001", "name": "Lựa chọn <script>x</script>", "url": ""}},
				"suggestions": []string{"Gợi ý <u>một</u>"}, "abstained": false})
		case "history":
			if m["conversation_id"] != fakeConv {
				send(map[string]any{"type": "error", "code": "not_found", "message": "Không tìm thấy thông tin được yêu cầu."})
				continue
			}
			send(map[string]any{"type": "history", "conversation_id": fakeConv, "messages": []map[string]any{
				{"id": 1, "role": "user", "text": "câu hỏi <script>", "codes": []string{}, "at": "2026-11-29T09:00:00Z", "feedback": 0},
				{"id": 2, "role": "assistant", "text": fakeAnswer, "codes": []string{"1.000001"}, "at": "2026-11-29T09:00:01Z", "feedback": -1, "feedback_reason": "unclear"},
			}})
		case "ping":
			send(map[string]any{"type": "pong"})
		}
	}
}

func (f *fakeChat) frames(typ string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]any
	for _, m := range f.received {
		if m["type"] == typ {
			out = append(out, m)
		}
	}
	return out
}

// dropAll closes every connection as a network failure would.
func (f *fakeChat) dropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		_ = c.NetConn().Close()
	}
	f.conns = nil
}

const root = `document.getElementById('trolyao-widget').shadowRoot`

func q(sel string) chromedp.JSPath {
	b, _ := json.Marshal(sel)
	return chromedp.JSPath(root + `.querySelector(` + string(b) + `)`)
}

func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

func waitJS(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")",
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(t, err, "waiting for %s", expr)
}

func run(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, steps...))
}

// The widget's rendering rules on hostile answers: links only to allowed https hosts, markup shown as text
// everywhere (answer, streamed deltas, citations, options, quick replies, history), errors as a notice, the
// length limit of the hello frame, and a reconnection after a dropped connection that resumes the conversation.
func TestWidgetRendering(t *testing.T) {
	fake := &fakeChat{}
	mux := mount(handler(t, widget.Options{}))
	mux.HandleFunc("GET /ws", fake.serve)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(t, 1280, 800, 2*time.Minute)
	run(t, ctx, chromedp.Navigate(srv.URL+"/?open=true"))
	waitJS(t, ctx, `document.getElementById('trolyao-widget') && document.getElementById('trolyao-widget').dataset.connection === 'open'`)
	assert.Equal(t, -1, evalJS[int](t, ctx, root+`.querySelector('#tl-input').maxLength`), "no maxlength: it would cut a paste silently")

	run(t, ctx, chromedp.SendKeys(q("#tl-input"), "thủ tục"+kb.Enter))
	waitJS(t, ctx, root+`.querySelector('.msg.assistant[data-state="final"]')`)
	msg := root + `.querySelector('.msg.assistant')`
	assert.Equal(t, "2", evalJS[string](t, ctx, msg+`.dataset.deltas`))
	assert.Equal(t, fakeAnswer, evalJS[string](t, ctx, msg+`.querySelector('.text').textContent`), "the final answer replaces the deltas")
	for _, c := range fakeCitations {
		tag := evalJS[string](t, ctx, msg+`.querySelector('[data-code="`+c.code+`"]').tagName`)
		if c.link {
			assert.Equal(t, "A", tag, c.url)
			assert.Equal(t, c.url, evalJS[string](t, ctx, msg+`.querySelector('[data-code="`+c.code+`"]').href`))
		} else {
			assert.Equal(t, "SPAN", tag, c.url)
		}
	}
	assert.Equal(t, "Thủ tục <i>1.000004</i> (mã 1.000004)", evalJS[string](t, ctx, msg+`.querySelector('[data-code="1.000004"]').textContent`))
	assert.Equal(t, "1. Lựa chọn <script>x</script>", evalJS[string](t, ctx, root+`.querySelector('.choice').textContent`))
	assert.Equal(t, "Gợi ý <u>một</u>", evalJS[string](t, ctx, root+`.querySelector('.suggestion').textContent`))
	assert.Equal(t, 0, evalJS[int](t, ctx, root+`.querySelectorAll('.log img, .log b, .log i, .log u, .log script').length`))
	assert.Equal(t, 2, evalJS[int](t, ctx, root+`.querySelectorAll('.log a').length`))
	assert.Equal(t, "undefined", evalJS[string](t, ctx, `typeof window.__pwned`))

	// An option sends its name and code; the server's error frame becomes a Vietnamese notice.
	run(t, ctx, chromedp.Click(q(".choice")))
	waitJS(t, ctx, root+`.querySelectorAll('.msg.assistant[data-state="final"]').length === 2`)
	assert.Equal(t, "Lựa chọn <script>x</script> (2.000001)", evalJS[string](t, ctx, root+`.querySelectorAll('.msg.user')[1].textContent`))
	run(t, ctx, chromedp.SendKeys(q("#tl-input"), "quá nhanh"+kb.Enter))
	waitJS(t, ctx, root+`.querySelector('.notice')`)
	assert.Contains(t, evalJS[string](t, ctx, root+`.querySelector('.notice').textContent`), "quá nhanh, vui lòng chờ")
	assert.Equal(t, "failed", evalJS[string](t, ctx, root+`.querySelectorAll('.msg.user')[2].dataset.state`))
	sent := len(fake.frames("message"))
	run(t, ctx, chromedp.Click(q(".msg.user .retry")))
	waitJS(t, ctx, root+`.querySelectorAll('.notice').length === 2`)
	assert.Len(t, fake.frames("message"), sent+1, "Gửi lại sends the message again")
	assert.Equal(t, 3, evalJS[int](t, ctx, root+`.querySelectorAll('.msg.user').length`), "in place of the failed one")

	// Too long for max_chars: refused in the page, nothing sent.
	before := len(fake.frames("message"))
	run(t, ctx, chromedp.SetValue(q("#tl-input"), "một câu hỏi rất dài vượt quá bốn mươi ký tự cho phép"), chromedp.Click(q(".send")))
	waitJS(t, ctx, root+`.querySelectorAll('.notice').length === 3`)
	assert.Contains(t, evalJS[string](t, ctx, root+`.querySelectorAll('.notice')[2].textContent`), "tối đa 40 ký tự")
	assert.Len(t, fake.frames("message"), before)
	assert.Equal(t, "một câu hỏi rất dài vượt quá bốn mươi ký tự cho phép", evalJS[string](t, ctx, root+`.querySelector('#tl-input').value`),
		"the refused question stays in the box, to be shortened")
	run(t, ctx, chromedp.Evaluate[chromedp.Void](root+`.querySelector('#tl-input').value = ''`))

	// The connection drops: the widget reconnects with backoff and resumes the conversation by its history.
	fake.dropAll()
	waitJS(t, ctx, `document.getElementById('trolyao-widget').dataset.connection === 'closed'`)
	assert.Contains(t, evalJS[string](t, ctx, root+`.querySelector('.status').textContent`), "Mất kết nối")
	waitJS(t, ctx, `document.getElementById('trolyao-widget').dataset.history === '2'`)
	hist := fake.frames("history")
	require.Len(t, hist, 1)
	assert.Equal(t, fakeConv, hist[0]["conversation_id"])
	assert.Equal(t, "câu hỏi <script>", evalJS[string](t, ctx, root+`.querySelector('.msg.user .text').textContent`))
	assert.Equal(t, "true", evalJS[string](t, ctx, root+`.querySelector('.msg.assistant button[data-value="-1"]').getAttribute('aria-pressed')`),
		"the feedback in the history")
	assert.Equal(t, "true", evalJS[string](t, ctx, root+`.querySelector('.msg.assistant .reason[data-reason="unclear"]').getAttribute('aria-pressed')`),
		"and its reason")
	assert.Equal(t, 0, evalJS[int](t, ctx, root+`.querySelectorAll('.log img, .log script').length`))
	// The history keeps codes only; the stored copy adds names and links for the messages it knows.
	assert.Equal(t, "A", evalJS[string](t, ctx, root+`.querySelector('.msg.assistant [data-code="1.000001"]').tagName`))

	run(t, ctx, chromedp.SendKeys(q("#tl-input"), "tiếp tục"+kb.Enter))
	waitJS(t, ctx, root+`.querySelectorAll('.msg.assistant[data-state="final"]').length === 2`)
	msgs := fake.frames("message")
	assert.Equal(t, fakeConv, msgs[len(msgs)-1]["conversation_id"], "the conversation goes on")
	_, hasConv := msgs[0]["conversation_id"]
	assert.False(t, hasConv, "the first message starts a conversation")

	// A stored conversation the server no longer has (retention): the widget starts a new one, quietly.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`localStorage.setItem('trolyao:v1:' + location.origin,
		JSON.stringify({conversationId: 'zzzzzzzzzzzzzzzzzzzzzzzzzz', messages: [{role: 'user', text: 'cũ'}]}))`),
		chromedp.Reload())
	waitJS(t, ctx, `document.getElementById('trolyao-widget') && document.getElementById('trolyao-widget').dataset.connection === 'open'`)
	waitJS(t, ctx, `JSON.parse(localStorage.getItem('trolyao:v1:' + location.origin)).conversationId === ''`)
	assert.Equal(t, 0, evalJS[int](t, ctx, root+`.querySelectorAll('.notice').length`))
	run(t, ctx, chromedp.SendKeys(q("#tl-input"), "câu hỏi mới"+kb.Enter))
	waitJS(t, ctx, root+`.querySelector('.msg.assistant[data-state="final"]')`)
	msgs = fake.frames("message")
	_, hasConv = msgs[len(msgs)-1]["conversation_id"]
	assert.False(t, hasConv, "a new conversation")
}

// Animations are off for users who ask for reduced motion.
func TestWidgetReducedMotion(t *testing.T) {
	srv := httptest.NewServer(mount(handler(t, widget.Options{})))
	defer srv.Close()
	ctx := browsertest.New(t, 1280, 800, time.Minute)
	animation := func() string {
		run(t, ctx, chromedp.Navigate(srv.URL+"/"))
		waitJS(t, ctx, `document.getElementById('trolyao-widget')`)
		run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__trolyaoWidget.open()`))
		return evalJS[string](t, ctx, `getComputedStyle(`+root+`.querySelector('.panel')).animationName`)
	}
	assert.Equal(t, "tl-in", animation())
	_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}}})
	require.NoError(t, err)
	assert.Equal(t, "none", animation())
}

// A message typed while the first message of a conversation waits for its ack is sent once that first
// message is refused (an error frame instead of the ack), not left pending.
func TestWidgetQueuedAfterRefusal(t *testing.T) {
	first, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var texts []string
	mux := mount(handler(t, widget.Options{}))
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.WriteJSON(map[string]any{"type": "hello", "v": 1, "max_chars": 1000})
		for {
			var m map[string]any
			if err := c.ReadJSON(&m); err != nil {
				return
			}
			if m["type"] != "message" {
				continue
			}
			id, _ := m["id"].(string)
			text, _ := m["text"].(string)
			mu.Lock()
			texts = append(texts, text)
			n := len(texts)
			mu.Unlock()
			if n == 1 {
				first <- struct{}{}
				<-release
				_ = c.WriteJSON(map[string]any{"type": "error", "id": id, "code": "rate_limited",
					"message": "Bạn gửi tin nhắn quá nhanh, vui lòng chờ một chút rồi gửi lại."})
				continue
			}
			_ = c.WriteJSON(map[string]any{"type": "ack", "id": id, "conversation_id": fakeConv})
			_ = c.WriteJSON(map[string]any{"type": "answer", "id": id, "conversation_id": fakeConv, "message_id": 2,
				"text": "Trả lời", "citations": []any{}, "options": []any{}, "suggestions": []any{}, "abstained": false})
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(t, 1280, 800, time.Minute)
	run(t, ctx, chromedp.Navigate(srv.URL+"/?open=true&persist=memory"))
	waitJS(t, ctx, `document.getElementById('trolyao-widget') && document.getElementById('trolyao-widget').dataset.connection === 'open'`)
	run(t, ctx, chromedp.SendKeys(q("#tl-input"), "một"+kb.Enter))
	select {
	case <-first:
	case <-ctx.Done():
		t.Fatal("the first message never arrived")
	}
	run(t, ctx, chromedp.SendKeys(q("#tl-input"), "hai"+kb.Enter))
	waitJS(t, ctx, root+`.querySelectorAll('.msg.user[data-state="pending"]').length === 2`)
	close(release)
	waitJS(t, ctx, root+`.querySelector('.msg.assistant[data-state="final"]')`)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"một", "hai"}, texts)
	assert.Equal(t, "failed", evalJS[string](t, ctx, root+`.querySelectorAll('.msg.user')[0].dataset.state`))
}

// viewports are the two sizes every new behaviour is tried at: a 390 px phone and a desktop.
var viewports = []struct {
	name          string
	width, height int
}{{"phone", 390, 844}, {"desktop", 1280, 800}}

// atViewports runs f at a 390 px phone and on a desktop, each in a browser of its own.
func atViewports(t *testing.T, f func(t *testing.T, ctx context.Context, vp string)) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) { f(t, browsertest.New(t, vp.width, vp.height, time.Minute), vp.name) })
	}
}

// ask sends text with Enter and waits for the n-th final answer.
func ask(t *testing.T, ctx context.Context, text string, n int) {
	t.Helper()
	run(t, ctx, chromedp.SendKeys(q("#tl-input"), text+kb.Enter))
	waitJS(t, ctx, root+`.querySelectorAll('.msg.assistant[data-state="final"]').length === `+strconv.Itoa(n))
}

func fakeSite(t *testing.T, opts widget.Options) (*fakeChat, string) {
	t.Helper()
	fake := &fakeChat{}
	mux := mount(handler(t, opts))
	mux.HandleFunc("GET /ws", fake.serve)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return fake, srv.URL
}

func openConnected(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(url))
	waitJS(t, ctx, `document.getElementById('trolyao-widget') && document.getElementById('trolyao-widget').dataset.connection === 'open'`)
}

// Starter questions open a conversation; "Cuộc trò chuyện mới" forgets it and offers them again.
func TestWidgetStartersAndNewConversation(t *testing.T) {
	atViewports(t, func(t *testing.T, ctx context.Context, vp string) {
		starters := []string{"Làm lại căn cước cần gì?", "Đăng ký khai sinh"}
		fake, url := fakeSite(t, widget.Options{Starters: starters})
		openConnected(t, ctx, url+"/?open=true")
		assert.Equal(t, starters, evalJS[[]string](t, ctx, `Array.from(`+root+`.querySelectorAll('.starters .starter')).map(b => b.textContent)`))
		assert.Equal(t, "Câu hỏi thường gặp", evalJS[string](t, ctx, root+`.querySelector('.starters').getAttribute('aria-labelledby') && `+
			root+`.getElementById(`+root+`.querySelector('.starters').getAttribute('aria-labelledby')).textContent`))

		run(t, ctx, chromedp.Click(q(".starter")))
		waitJS(t, ctx, root+`.querySelector('.msg.assistant[data-state="final"]')`)
		msgs := fake.frames("message")
		require.Len(t, msgs, 1)
		assert.Equal(t, starters[0], msgs[0]["text"], "a starter sends its question")
		assert.Equal(t, 0, evalJS[int](t, ctx, root+`.querySelectorAll('.starters').length`), "starters only before the first question")

		// The new-conversation button: named by its label, it clears the log and the stored conversation.
		assert.Equal(t, "Cuộc trò chuyện mới", evalJS[string](t, ctx, root+`.querySelector('.new').getAttribute('aria-label')`))
		run(t, ctx, chromedp.Click(q(".new")))
		waitJS(t, ctx, root+`.querySelectorAll('.msg').length === 0`)
		assert.Equal(t, 2, evalJS[int](t, ctx, root+`.querySelectorAll('.starters .starter').length`), "the starters are back")
		assert.Equal(t, "", evalJS[string](t, ctx, `JSON.parse(localStorage.getItem('trolyao:v1:' + location.origin)).conversationId`))
		assert.Equal(t, "tl-input", evalJS[string](t, ctx, root+`.activeElement && `+root+`.activeElement.id`), "focus goes to the input")
		ask(t, ctx, "câu hỏi khác", 1)
		msgs = fake.frames("message")
		require.Len(t, msgs, 2)
		_, hasConv := msgs[1]["conversation_id"]
		assert.False(t, hasConv, "the next question starts a new conversation")
		browsertest.AxeSerious(t, ctx, "the widget with an answer ("+vp+")")
	})
}

// A paste longer than the limit is kept whole: the counter says by how much it is over and sending is
// refused visibly; near the limit the counter shows the count; the box grows with its text.
func TestWidgetQuestionBox(t *testing.T) {
	atViewports(t, func(t *testing.T, ctx context.Context, vp string) {
		fake, url := fakeSite(t, widget.Options{}) // the fake announces max_chars 40
		openConnected(t, ctx, url+"/?open=true&persist=memory")
		counter := root + `.querySelector('#tl-count')`
		height := func() float64 {
			return evalJS[float64](t, ctx, root+`.querySelector('#tl-input').getBoundingClientRect().height`)
		}
		empty := height()
		assert.True(t, evalJS[bool](t, ctx, counter+`.hidden`), "no counter far from the limit")
		assert.Equal(t, "tl-count", evalJS[string](t, ctx, root+`.querySelector('#tl-input').getAttribute('aria-describedby')`))

		paste := strings.Repeat("giấy tờ ", 7) + "nữa" // 59 characters
		run(t, ctx, chromedp.Focus(q("#tl-input")))
		insertText(t, ctx, paste)
		assert.Equal(t, paste, evalJS[string](t, ctx, root+`.querySelector('#tl-input').value`), "the paste is not cut")
		assert.False(t, evalJS[bool](t, ctx, counter+`.hidden`))
		assert.Equal(t, "59/40 ký tự — quá 19 ký tự, vui lòng rút gọn trước khi gửi.", evalJS[string](t, ctx, counter+`.textContent`))
		assert.Equal(t, "true", evalJS[string](t, ctx, root+`.querySelector('#tl-input').getAttribute('aria-invalid')`))
		run(t, ctx, chromedp.KeyEvent(kb.Enter))
		waitJS(t, ctx, root+`.querySelector('.notice')`)
		assert.Contains(t, evalJS[string](t, ctx, root+`.querySelector('.notice').textContent`), "dài 59 ký tự")
		assert.Empty(t, fake.frames("message"), "nothing sent")
		assert.Equal(t, paste, evalJS[string](t, ctx, root+`.querySelector('#tl-input').value`), "the text stays to be shortened")

		// 32 of 40 characters (80 %): the count, in the muted colour.
		run(t, ctx, chromedp.Evaluate[chromedp.Void](root+`.querySelector('#tl-input').value = ''`))
		insertText(t, ctx, strings.Repeat("a", 32))
		assert.Equal(t, "32/40 ký tự", evalJS[string](t, ctx, counter+`.textContent`))
		assert.False(t, evalJS[bool](t, ctx, counter+`.classList.contains('over')`))
		run(t, ctx, chromedp.KeyEvent(kb.Backspace))
		assert.True(t, evalJS[bool](t, ctx, counter+`.hidden`), "31 characters: under 80 %")

		// Three lines make the box taller; many lines stop at its maximum height, scrolling inside.
		run(t, ctx, chromedp.Evaluate[chromedp.Void](root+`.querySelector('#tl-input').value = ''`))
		insertText(t, ctx, "một\nhai\nba")
		three := height()
		assert.Greater(t, three, empty+20, "the box grows with its lines")
		insertText(t, ctx, strings.Repeat("\nx", 20))
		assert.InDelta(t, 140, height(), 1, "up to its maximum height")
		run(t, ctx, chromedp.Evaluate[chromedp.Void](root+`.querySelector('#tl-input').value = ''`))
		ask(t, ctx, "ngắn", 1)
		assert.InDelta(t, empty, height(), 1, "the box shrinks back once sent")
	})
}

// A 👎 asks why with five chips; the chosen reason goes with the feedback; a 👍 takes the chips away.
func TestWidgetFeedbackReasons(t *testing.T) {
	atViewports(t, func(t *testing.T, ctx context.Context, vp string) {
		fake, url := fakeSite(t, widget.Options{})
		openConnected(t, ctx, url+"/?open=true&persist=memory")
		ask(t, ctx, "thủ tục", 1)
		assert.Equal(t, 0, evalJS[int](t, ctx, root+`.querySelectorAll('.reasons').length`), "no chips before a 👎")

		run(t, ctx, chromedp.Click(q(`.feedback button[data-value="-1"]`)))
		waitJS(t, ctx, root+`.querySelector('.reasons')`)
		assert.Equal(t, []string{"Sai thủ tục", "Thiếu giấy tờ", "Sai phí", "Khó hiểu", "Khác"},
			evalJS[[]string](t, ctx, `Array.from(`+root+`.querySelectorAll('.reasons .reason')).map(b => b.textContent)`))
		assert.Equal(t, "Vì sao câu trả lời chưa hữu ích?", evalJS[string](t, ctx,
			root+`.getElementById(`+root+`.querySelector('.reasons').getAttribute('aria-labelledby')).textContent`))
		run(t, ctx, chromedp.Click(q(`.reason[data-reason="wrong_fee"]`)))
		waitJS(t, ctx, root+`.querySelector('.reason[data-reason="wrong_fee"]').getAttribute('aria-pressed') === 'true'`)
		waitFrames(t, fake, "feedback", 2)
		fb := fake.frames("feedback")
		assert.Equal(t, float64(-1), fb[0]["value"])
		assert.Nil(t, fb[0]["reason"], "the 👎 is sent at once")
		assert.Equal(t, float64(-1), fb[1]["value"])
		assert.Equal(t, "wrong_fee", fb[1]["reason"], "then its reason")
		browsertest.AxeSerious(t, ctx, "the widget with reason chips ("+vp+")")

		run(t, ctx, chromedp.Click(q(`.feedback button[data-value="1"]`)))
		waitJS(t, ctx, root+`.querySelectorAll('.reasons').length === 0`)
		waitFrames(t, fake, "feedback", 3)
		fb = fake.frames("feedback")
		assert.Equal(t, float64(1), fb[2]["value"])
		assert.Nil(t, fb[2]["reason"])
	})
}

// insertText types text into the focused element as a paste or an input method does: one input event.
func insertText(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	_, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: text})
	require.NoError(t, err)
}

func waitFrames(t *testing.T, fake *fakeChat, typ string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(fake.frames(typ)) >= n }, 10*time.Second, 20*time.Millisecond, "%d %s frames", n, typ)
}

// A long answer is shown from its start, not its end; the question before it scrolls to the end as usual.
func TestWidgetScrollToAnswerStart(t *testing.T) {
	atViewports(t, func(t *testing.T, ctx context.Context, vp string) {
		_, url := fakeSite(t, widget.Options{})
		openConnected(t, ctx, url+"/?open=true")
		ask(t, ctx, "thủ tục", 1)
		ask(t, ctx, "dài", 2)
		where := `(() => { const log = ` + root + `.querySelector('.log'); const a = ` + root + `.querySelectorAll('.msg.assistant')[1];
			return [a.getBoundingClientRect().top - log.getBoundingClientRect().top, a.offsetHeight - log.clientHeight,
				log.scrollHeight - log.scrollTop - log.clientHeight]; })()`
		pos := evalJS[[]float64](t, ctx, where)
		require.Positive(t, pos[1], "the answer is taller than the log")
		assert.InDelta(t, 8, pos[0], 4, "the answer's first line is at the top of the log")
		assert.Positive(t, pos[2], "the log is not scrolled to its end")
		assert.Equal(t, "Phần đầu của câu trả lời", evalJS[string](t, ctx, root+`.querySelectorAll('.msg.assistant')[1].querySelector('strong').textContent`))

	})
}

// A server that refuses the page's origin (1008 before hello) gets no further attempt; the citizen reads
// why within seconds, and a question asked then fails at once, with the reason.
func TestWidgetRefusedOrigin(t *testing.T) {
	atViewports(t, func(t *testing.T, ctx context.Context, vp string) {
		var dials atomic.Int32
		mux := mount(handler(t, widget.Options{}))
		const reason = "Trang web này chưa được phép sử dụng trợ lý ảo."
		mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
			dials.Add(1)
			c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1008, reason), time.Now().Add(time.Second))
			_, _, _ = c.ReadMessage() // the browser's close frame
		})
		srv := httptest.NewServer(mux)
		defer srv.Close()
		run(t, ctx, chromedp.Navigate(srv.URL+"/?persist=memory"))
		waitJS(t, ctx, `document.getElementById('trolyao-widget')`)
		start := time.Now()
		run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__trolyaoWidget.open()`),
			chromedp.SendKeys(q("#tl-input"), "làm lại căn cước"+kb.Enter))
		waitJS(t, ctx, `document.getElementById('trolyao-widget').dataset.connection === 'refused'`)
		waitJS(t, ctx, root+`.querySelector('.msg.user[data-state="failed"] .retry')`)
		assert.Less(t, time.Since(start), 10*time.Second)
		notice := evalJS[string](t, ctx, root+`.querySelector('.notice').textContent`)
		assert.Contains(t, notice, reason, "the server's reason")
		assert.Contains(t, notice, "chưa được bật cho trang này")
		assert.Contains(t, notice, "1022")
		assert.Equal(t, "Không thể kết nối", evalJS[string](t, ctx, root+`.querySelector('.status').textContent`))
		notices := evalJS[int](t, ctx, root+`.querySelectorAll('.notice').length`)
		time.Sleep(3 * time.Second) // longer than the first backoff delays
		assert.Equal(t, int32(1), dials.Load(), "no further attempt")
		run(t, ctx, chromedp.SendKeys(q("#tl-input"), "đăng ký khai sinh"+kb.Enter))
		waitJS(t, ctx, root+`.querySelectorAll('.msg.user[data-state="failed"]').length === 2`)
		assert.Equal(t, notices+1, evalJS[int](t, ctx, root+`.querySelectorAll('.notice').length`), "the question asked then is told why it fails")
		assert.Equal(t, int32(1), dials.Load())
		browsertest.AxeSerious(t, ctx, "the refused widget ("+vp+")")
	})
}

// A server that cannot be reached (here: every handshake refused with HTTP 403, as an older server refuses
// an origin): after three attempts the question waiting is marked failed with a notice, and the widget goes
// on trying; once the server answers again, "Gửi lại" sends it.
func TestWidgetUnreachable(t *testing.T) {
	var up atomic.Bool
	fake := &fakeChat{}
	mux := mount(handler(t, widget.Options{}))
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, `{"error":{"code":"forbidden"}}`, http.StatusForbidden)
			return
		}
		fake.serve(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := browsertest.New(t, 390, 844, time.Minute)
	run(t, ctx, chromedp.Navigate(srv.URL+"/?persist=memory"))
	waitJS(t, ctx, `document.getElementById('trolyao-widget')`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__trolyaoWidget.open()`),
		chromedp.SendKeys(q("#tl-input"), "làm lại căn cước"+kb.Enter))
	assert.Equal(t, "pending", evalJS[string](t, ctx, root+`.querySelector('.msg.user').dataset.state`))
	waitJS(t, ctx, root+`.querySelector('.msg.user[data-state="failed"]')`)
	assert.Equal(t, "3", evalJS[string](t, ctx, `document.getElementById('trolyao-widget').dataset.reconnects`))
	assert.Contains(t, evalJS[string](t, ctx, root+`.querySelector('.notice').textContent`), "Chưa gửi được câu hỏi")
	up.Store(true)
	waitJS(t, ctx, `document.getElementById('trolyao-widget').dataset.connection === 'open'`)
	run(t, ctx, chromedp.Click(q(".msg.user .retry")))
	waitJS(t, ctx, root+`.querySelector('.msg.assistant[data-state="final"]')`)
	assert.Len(t, fake.frames("message"), 1)
}

// The contact line names the 1022 hotline, and the service centre of the citizen's commune once an answer has
// given it (kept across a reload, forgotten by a new conversation).
func TestWidgetContact(t *testing.T) {
	atViewports(t, func(t *testing.T, ctx context.Context, vp string) {
		_, url := fakeSite(t, widget.Options{})
		openConnected(t, ctx, url+"/?open=true")
		line := root + `.querySelector('.contact')`
		assert.Equal(t, "Cần hỗ trợ trực tiếp? Gọi tổng đài 1022 (dịch vụ công TP. Hồ Chí Minh) hoặc đến Trung tâm Phục vụ hành chính công phường, xã gần nhất.",
			evalJS[string](t, ctx, line+`.textContent`))
		assert.Equal(t, "tel:1022", evalJS[string](t, ctx, line+`.querySelector('a').getAttribute('href')`))

		run(t, ctx, chromedp.SendKeys(q("#tl-input"), "ở đâu"+kb.Enter))
		waitJS(t, ctx, line+`.dataset.centre === 'true'`)
		want := "Cần hỗ trợ trực tiếp? Gọi tổng đài 1022 (dịch vụ công TP. Hồ Chí Minh) hoặc đến Trung tâm Phục vụ hành chính công phường Bàn Cờ <b>: " +
			"611/20 Điện Biên Phủ, điện thoại 028.38396136 (Thứ Hai – Thứ Sáu)."
		assert.Equal(t, want, evalJS[string](t, ctx, line+`.textContent`))
		assert.Equal(t, []string{"tel:1022", "tel:02838396136"}, evalJS[[]string](t, ctx, `Array.from(`+line+`.querySelectorAll('a')).map(a => a.getAttribute('href'))`))
		assert.Equal(t, 0, evalJS[int](t, ctx, line+`.querySelectorAll('b').length`), "text, never markup")

		run(t, ctx, chromedp.Reload())
		waitJS(t, ctx, `document.getElementById('trolyao-widget') && document.getElementById('trolyao-widget').dataset.connection === 'open'`)
		assert.Equal(t, want, evalJS[string](t, ctx, line+`.textContent`), "kept across a reload")
		run(t, ctx, chromedp.Click(q(".new")))
		waitJS(t, ctx, `!`+line+`.dataset.centre`)
		assert.Contains(t, evalJS[string](t, ctx, line+`.textContent`), "phường, xã gần nhất")
	})
}
