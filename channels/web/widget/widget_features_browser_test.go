package widget_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/channels/web/widget"
	"github.com/trolyao/trolyao/internal/browsertest"
)

// viewports are the two sizes every new behaviour is tried at: a 390 px phone and a desktop.
var viewports = []struct {
	name          string
	width, height int
}{{"phone", 390, 844}, {"desktop", 1280, 800}}

func fakeSite(t *testing.T, opts widget.Options) (*fakeChat, string) {
	t.Helper()
	fake := &fakeChat{}
	mux := mount(widget.Handler(opts))
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
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			starters := []string{"Làm lại căn cước cần gì?", "Đăng ký khai sinh"}
			fake, url := fakeSite(t, widget.Options{Starters: starters})
			ctx := browsertest.New(t, vp.width, vp.height, time.Minute)
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
			run(t, ctx, chromedp.SendKeys(q("#tl-input"), "câu hỏi khác"+kb.Enter))
			waitJS(t, ctx, root+`.querySelector('.msg.assistant[data-state="final"]')`)
			msgs = fake.frames("message")
			require.Len(t, msgs, 2)
			_, hasConv := msgs[1]["conversation_id"]
			assert.False(t, hasConv, "the next question starts a new conversation")
			browsertest.AxeSerious(t, ctx, "the widget with an answer ("+vp.name+")")
		})
	}
}

// A paste longer than the limit is kept whole: the counter says by how much it is over and sending is
// refused visibly; near the limit the counter shows the count; the box grows with its text.
func TestWidgetQuestionBox(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			fake, url := fakeSite(t, widget.Options{}) // the fake announces max_chars 40
			ctx := browsertest.New(t, vp.width, vp.height, time.Minute)
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
			run(t, ctx, chromedp.SendKeys(q("#tl-input"), "ngắn"+kb.Enter))
			waitJS(t, ctx, root+`.querySelector('.msg.assistant[data-state="final"]')`)
			assert.InDelta(t, empty, height(), 1, "the box shrinks back once sent")
		})
	}
}

// A 👎 asks why with five chips; the chosen reason goes with the feedback; a 👍 takes the chips away.
func TestWidgetFeedbackReasons(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			fake, url := fakeSite(t, widget.Options{})
			ctx := browsertest.New(t, vp.width, vp.height, time.Minute)
			openConnected(t, ctx, url+"/?open=true&persist=memory")
			run(t, ctx, chromedp.SendKeys(q("#tl-input"), "thủ tục"+kb.Enter))
			waitJS(t, ctx, root+`.querySelector('.msg.assistant[data-state="final"]')`)
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
			browsertest.AxeSerious(t, ctx, "the widget with reason chips ("+vp.name+")")

			run(t, ctx, chromedp.Click(q(`.feedback button[data-value="1"]`)))
			waitJS(t, ctx, root+`.querySelectorAll('.reasons').length === 0`)
			waitFrames(t, fake, "feedback", 3)
			fb = fake.frames("feedback")
			assert.Equal(t, float64(1), fb[2]["value"])
			assert.Nil(t, fb[2]["reason"])
		})
	}
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
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			_, url := fakeSite(t, widget.Options{})
			ctx := browsertest.New(t, vp.width, vp.height, time.Minute)
			openConnected(t, ctx, url+"/?open=true")
			run(t, ctx, chromedp.SendKeys(q("#tl-input"), "thủ tục"+kb.Enter))
			waitJS(t, ctx, root+`.querySelectorAll('.msg.assistant[data-state="final"]').length === 1`)
			run(t, ctx, chromedp.SendKeys(q("#tl-input"), "dài"+kb.Enter))
			waitJS(t, ctx, root+`.querySelectorAll('.msg.assistant[data-state="final"]').length === 2`)
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
}

// A server that refuses the page's origin (1008 before hello) gets no further attempt; the citizen reads
// why within seconds, and a question asked then fails at once, with the reason.
func TestWidgetRefusedOrigin(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			var dials atomic.Int32
			mux := mount(widget.Handler(widget.Options{}))
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
			ctx := browsertest.New(t, vp.width, vp.height, time.Minute)
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
			browsertest.AxeSerious(t, ctx, "the refused widget ("+vp.name+")")
		})
	}
}

// A server that cannot be reached (here: every handshake refused with HTTP 403, as an older server refuses
// an origin): after three attempts the question waiting is marked failed with a notice, and the widget goes
// on trying; once the server answers again, "Gửi lại" sends it.
func TestWidgetUnreachable(t *testing.T) {
	var up atomic.Bool
	fake := &fakeChat{}
	mux := mount(widget.Handler(widget.Options{}))
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
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			_, url := fakeSite(t, widget.Options{})
			ctx := browsertest.New(t, vp.width, vp.height, time.Minute)
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
}
