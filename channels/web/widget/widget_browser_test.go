package widget_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
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
				send(map[string]any{"type": "error", "code": "not_found", "message": "Không tìm thấy cuộc trò chuyện hoặc tin nhắn."})
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
	mux := mount(widget.Handler(widget.Options{}))
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
	srv := httptest.NewServer(mount(widget.Handler(widget.Options{})))
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
	mux := mount(widget.Handler(widget.Options{}))
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
