package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/internal/logtest"
	"github.com/trolyao/trolyao/knowledge"
)

func codes(cs []Citation) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Code
	}
	return out
}

func TestWebsocketConversation(t *testing.T) {
	e := newEnv(t, Config{MessageBurst: 20})
	c := e.dial(t, nil)

	frames, ans := c.exchange("c1", "làm lại căn cước cần gì", "")
	require.Equal(t, "answer", ans.Type, "%+v", ans)
	require.GreaterOrEqual(t, len(frames), 4)
	assert.Equal(t, "ack", frames[0].Type)
	assert.True(t, validConversationID(frames[0].ConversationID), frames[0].ConversationID)
	assert.Equal(t, "typing", frames[1].Type)
	var streamed strings.Builder
	for _, f := range frames[2 : len(frames)-1] {
		require.Equal(t, "delta", f.Type)
		streamed.WriteString(f.Text)
	}
	assert.Equal(t, ans.Text, streamed.String(), "the deltas make up the answer")
	conv := frames[0].ConversationID
	assert.Equal(t, conv, ans.ConversationID)
	assert.Contains(t, codes(ans.Citations), "1.014064")
	assert.Contains(t, ans.Text, "1.014064")
	assert.NotEmpty(t, ans.Suggestions)
	assert.False(t, ans.Abstained)
	assert.Positive(t, ans.MessageID)
	require.NoError(t, c.ws.Close())

	// A reloaded page resumes the conversation on a new connection.
	c2 := e.dial(t, nil)
	frames, fee := c2.exchange("c2", "lệ phí bao nhiêu", conv)
	require.Equal(t, "answer", fee.Type, "%+v", fee)
	assert.Equal(t, conv, frames[0].ConversationID)
	assert.Equal(t, conv, fee.ConversationID)
	assert.Contains(t, codes(fee.Citations), "1.014064", "the follow-up is about the procedure in focus")
	assert.Contains(t, strings.ToLower(fee.Text), "phí")

	// History, as a reloaded page shows it.
	c2.send(map[string]string{"type": "history", "conversation_id": conv})
	h := c2.read()
	require.Equal(t, "history", h.Type, "%+v", h)
	assert.Equal(t, conv, h.ConversationID)
	require.Len(t, h.Messages, 4)
	assert.Equal(t, "user", h.Messages[0].Role)
	assert.Equal(t, "làm lại căn cước cần gì", h.Messages[0].Text)
	assert.Equal(t, "assistant", h.Messages[1].Role)
	assert.Equal(t, ans.MessageID, h.Messages[1].ID)
	assert.Contains(t, h.Messages[1].Codes, "1.014064")
	assert.Equal(t, fee.Text, h.Messages[3].Text)

	// Feedback is stored.
	c2.send(map[string]any{"type": "feedback", "conversation_id": conv, "message_id": fee.MessageID, "value": -1})
	ok := c2.read()
	assert.Equal(t, frame{Type: "feedback_ok", MessageID: fee.MessageID}, ok)
	stored, err := e.s.Conversations.Load(t.Context(), conv)
	require.NoError(t, err)
	require.Len(t, stored.Messages, 4)
	assert.Equal(t, -1, stored.Messages[3].Feedback)
	assert.Equal(t, 0, stored.Messages[1].Feedback)
	assert.Equal(t, "web", stored.Messages[0].Channel, "messages record the channel")
	c2.send(map[string]any{"type": "feedback", "conversation_id": conv, "message_id": 999, "value": 1})
	assert.Equal(t, "not_found", c2.read().Code)
	c2.send(map[string]any{"type": "feedback", "conversation_id": conv, "message_id": fee.MessageID, "value": 2})
	assert.Equal(t, "bad_request", c2.read().Code)

	// A 👎 with its reason; an unknown reason, or a reason with 👍, is refused with its own message.
	c2.send(map[string]any{"type": "feedback", "conversation_id": conv, "message_id": fee.MessageID, "value": -1, "reason": "wrong_fee"})
	assert.Equal(t, frame{Type: "feedback_ok", MessageID: fee.MessageID}, c2.read())
	stored, err = e.s.Conversations.Load(t.Context(), conv)
	require.NoError(t, err)
	assert.Equal(t, "wrong_fee", stored.Messages[3].FeedbackReason)
	for _, bad := range []map[string]any{{"value": -1, "reason": "sai phí"}, {"value": 1, "reason": "unclear"}} {
		bad["type"], bad["conversation_id"], bad["message_id"] = "feedback", conv, fee.MessageID
		c2.send(bad)
		f := c2.read()
		assert.Equal(t, "bad_request", f.Code, bad)
		assert.Equal(t, errBadReason.Message, f.Message, bad)
	}
	c2.send(map[string]any{"type": "history", "conversation_id": conv})
	hist := c2.read()
	require.Len(t, hist.Messages, 4)
	assert.Equal(t, "wrong_fee", hist.Messages[3].FeedbackReason, "the history carries the reason")

	// An unknown, well-formed id starts a new conversation.
	unknown := newConversationID()
	frames, _ = c2.exchange("c3", "xin chào", unknown)
	assert.NotEqual(t, unknown, frames[0].ConversationID)
	assert.True(t, validConversationID(frames[0].ConversationID))
	c2.send(map[string]string{"type": "history", "conversation_id": unknown})
	assert.Equal(t, "not_found", c2.read().Code)

	assert.Equal(t, 3.0, metricValue(e.s.chat.m.received.WithLabelValues("websocket")))
}

// The hello frame carries the starter questions in force when the connection opens, so that a page whose
// script is older shows those staff set since; without Server.Starters it carries none.
func TestWebsocketHelloStarters(t *testing.T) {
	var current atomic.Pointer[[]string]
	current.Store(&[]string{"Làm lại căn cước cần giấy tờ gì?", "Đăng ký khai sinh cho con"})
	e := newEnv(t, Config{}, func(s *Server, _ *httptest.Server) { s.Starters = func() []string { return *current.Load() } })
	_, hello := e.dialHello(t, nil)
	assert.Equal(t, []string{"Làm lại căn cước cần giấy tờ gì?", "Đăng ký khai sinh cho con"}, hello.Starters)
	current.Store(&[]string{"Cấp phiếu lý lịch tư pháp"})
	_, hello = e.dialHello(t, nil)
	assert.Equal(t, []string{"Cấp phiếu lý lịch tư pháp"}, hello.Starters, "a change applies to the next connection")

	_, hello = newEnv(t, Config{}).dialHello(t, nil)
	assert.Nil(t, hello.Starters)
}

func TestWebsocketOrder(t *testing.T) {
	e := newEnv(t, Config{})
	c := e.dial(t, nil)
	// Three messages at once: each is acknowledged, then answered in order.
	c.send(map[string]string{"type": "message", "id": "a", "text": "làm lại căn cước cần gì"})
	var types []string
	var conv string
	for len(types) == 0 || types[len(types)-1] != "ack a" {
		f := c.read()
		types = append(types, f.Type+" "+f.ID)
		conv = f.ConversationID
	}
	c.send(map[string]string{"type": "message", "id": "b", "text": "lệ phí bao nhiêu", "conversation_id": conv})
	c.send(map[string]string{"type": "message", "id": "c", "text": "nộp ở đâu", "conversation_id": conv})
	var answers []frame
	for len(answers) < 3 {
		f := c.read()
		require.NotEqual(t, "error", f.Type, "%+v", f)
		if f.Type == "answer" {
			answers = append(answers, f)
		}
	}
	assert.Equal(t, []string{"a", "b", "c"}, []string{answers[0].ID, answers[1].ID, answers[2].ID})
	assert.Less(t, answers[0].MessageID, answers[1].MessageID)
	assert.Less(t, answers[1].MessageID, answers[2].MessageID)
}

func TestWebsocketPing(t *testing.T) {
	e := newEnv(t, Config{PingPeriod: 20 * time.Millisecond, PongWait: 5 * time.Second})
	pinged := make(chan struct{}, 1)
	c := e.dial(t, nil)
	c.ws.SetPingHandler(func(string) error {
		select {
		case pinged <- struct{}{}:
		default:
		}
		return c.ws.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second))
	})
	c.send(map[string]string{"type": "ping"})
	assert.Equal(t, frame{Type: "pong"}, c.read()) // the server's pings are handled while reading
	go func() {
		for {
			if _, _, err := c.ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	select {
	case <-pinged:
	case <-time.After(10 * time.Second):
		t.Fatal("the server never pinged")
	}
}

func TestWebsocketPongTimeout(t *testing.T) {
	e := newEnv(t, Config{PingPeriod: 20 * time.Millisecond, PongWait: 100 * time.Millisecond})
	c := e.dial(t, nil)
	c.ws.SetPingHandler(func(string) error { return nil }) // never answers the server's pings
	require.NoError(t, c.ws.SetReadDeadline(time.Now().Add(10*time.Second)))
	for {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			var ne net.Error
			require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server kept a silent client open")
			break
		}
	}
}

func TestWebsocketRefusals(t *testing.T) {
	var logs logtest.Buffer
	e := newEnv(t, Config{AllowedOrigins: []string{"https://cong.example.gov.vn"}}, func(s *Server, _ *httptest.Server) {
		s.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	get := func(t *testing.T, path string, h http.Header) (int, string) {
		t.Helper()
		_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(e.ts.URL, "http")+path, h)
		require.Error(t, err)
		require.NotNil(t, resp)
		defer resp.Body.Close()
		var body struct{ Error apiError }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return resp.StatusCode, body.Error.Code
	}
	t.Run("bad version", func(t *testing.T) {
		for _, p := range []string{"/ws", "/ws?v=2", "/ws?v=abc"} {
			st, code := get(t, p, nil)
			assert.Equal(t, http.StatusBadRequest, st, p)
			assert.Equal(t, "bad_version", code, p)
		}
	})
	t.Run("origin", func(t *testing.T) {
		// A browser's handshake is accepted and closed at once with 1008 and the reason, before any frame.
		refusedOrigin(t, e.url, "https://evil.example")
		assert.Equal(t, 1.0, metricValue(e.s.chat.m.rejected.WithLabelValues("origin")))
		// A plain HTTP request (no upgrade) gets the JSON error.
		req, err := http.NewRequest(http.MethodGet, e.ts.URL+"/ws?v=1", nil)
		require.NoError(t, err)
		req.Header.Set("Origin", "https://evil.example")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.Equal(t, 2.0, metricValue(e.s.chat.m.rejected.WithLabelValues("origin")))
		// The operator reads which page was refused; nothing of the client (its address) is logged.
		log := logs.String()
		assert.Equal(t, 2, strings.Count(log, "origin=https://evil.example"), log)
		assert.Contains(t, log, "-allowed-origins")
		assert.NotContains(t, log, "127.0.0.1")
		e.dial(t, http.Header{"Origin": {"https://cong.example.gov.vn"}})
		e.dial(t, nil) // no Origin: not a browser
	})
	t.Run("same origin only by default", func(t *testing.T) {
		d := newEnv(t, Config{})
		d.dial(t, http.Header{"Origin": {d.ts.URL}})
		refusedOrigin(t, d.url, "https://cong.example.gov.vn")
		any := newEnv(t, Config{AllowedOrigins: []string{"*"}})
		any.dial(t, http.Header{"Origin": {"https://cong.example.gov.vn"}})
	})
}

// refusedOrigin dials url from a page of origin and checks that the server closes the websocket with 1008 and
// its Vietnamese reason before sending any frame.
func refusedOrigin(t *testing.T, url, origin string) {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {origin}})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce, "the first thing read is the close frame")
	assert.Equal(t, closePolicy, ce.Code)
	assert.Equal(t, closeReasonOrigin, ce.Text)
	assert.LessOrEqual(t, len(ce.Text), 123)
}

func TestWebsocketLimits(t *testing.T) {
	t.Run("frames", func(t *testing.T) {
		e := newEnv(t, Config{MessageBurst: 100, MessageRate: 100})
		c := e.dial(t, nil)
		for _, tc := range []struct {
			frame any
			code  string
		}{
			{"not an object", "bad_request"},
			{map[string]string{"type": "shout"}, "bad_request"},
			{map[string]string{"type": "message", "id": strings.Repeat("x", 65), "text": "chào"}, "bad_request"},
			{map[string]string{"type": "message", "id": "e", "text": "  \n "}, "empty"},
			{map[string]string{"type": "message", "id": "l", "text": strings.Repeat("ă", MaxChars+1)}, "too_long"},
			// A NUL character cannot be stored: refused before the ack, not after a streamed answer.
			{map[string]string{"type": "message", "id": "n", "text": "căn\x00cước"}, "bad_request"},
			{map[string]string{"type": "message", "id": "b", "text": "chào", "conversation_id": "../../etc"}, "bad_conversation"},
			{map[string]string{"type": "message", "id": "b", "text": "chào", "conversation_id": strings.Repeat("A", 26)}, "bad_conversation"},
			{map[string]string{"type": "history", "conversation_id": "x"}, "bad_conversation"},
			{map[string]string{"type": "history", "conversation_id": newConversationID()}, "not_found"},
		} {
			c.send(tc.frame)
			f := c.read()
			assert.Equal(t, "error", f.Type)
			assert.Equal(t, tc.code, f.Code, "%v", tc.frame)
			assert.NotEmpty(t, f.Message)
		}
		require.NoError(t, c.ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2}))
		assert.Equal(t, "bad_request", c.read().Code)
		assert.Equal(t, 1.0, metricValue(e.s.chat.m.rejected.WithLabelValues("too_long")))
		// The longest message allowed is answered.
		_, f := c.exchange("max", strings.Repeat("căn cước ", MaxChars/9), "")
		assert.Equal(t, "answer", f.Type)
	})
	t.Run("read limit", func(t *testing.T) {
		e := newEnv(t, Config{ReadLimit: 1024})
		c := e.dial(t, nil)
		c.send(map[string]string{"type": "message", "id": "x", "text": strings.Repeat("a", 2000)})
		_, _, err := c.ws.ReadMessage()
		assert.True(t, websocket.IsCloseError(err, websocket.CloseMessageTooBig), "%v", err)
	})
	t.Run("rate", func(t *testing.T) {
		e := newEnv(t, Config{MessageRate: 0.001, MessageBurst: 2})
		c := e.dial(t, nil)
		for i, want := range []string{"empty", "empty", "rate_limited", "rate_limited"} {
			c.send(map[string]string{"type": "message", "id": "r", "text": " "})
			assert.Equal(t, want, c.read().Code, i)
		}
		c.send(map[string]string{"type": "ping"}) // pings are free
		assert.Equal(t, "pong", c.read().Type)
		assert.Equal(t, 2.0, metricValue(e.s.chat.m.rejected.WithLabelValues("rate_limited")))
	})
	t.Run("connections per IP", func(t *testing.T) {
		e := newEnv(t, Config{MaxConnsPerIP: 2})
		a := e.dial(t, nil)
		e.dial(t, nil)
		_, resp, err := websocket.DefaultDialer.Dial(e.url, nil)
		require.Error(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		require.NoError(t, a.ws.Close())
		require.Eventually(t, func() bool { return metricValue(e.s.chat.m.open) == 1 }, 10*time.Second, 5*time.Millisecond)
		e.dial(t, nil)
	})
	t.Run("queue", func(t *testing.T) {
		g := newGate(newAssistant(t))
		e := newEnv(t, Config{MaxQueued: 1, MessageBurst: 10}, withReplier(g))
		c := e.dial(t, nil)
		c.send(map[string]string{"type": "message", "id": "1", "text": "làm lại căn cước cần gì"})
		assert.Equal(t, "ack", c.read().Type)
		<-g.entered
		c.send(map[string]string{"type": "message", "id": "2", "text": "lệ phí bao nhiêu"})
		assert.Equal(t, "ack", c.read().Type)
		c.send(map[string]string{"type": "message", "id": "3", "text": "nộp ở đâu"})
		f := c.read()
		assert.Equal(t, frame{Type: "error", ID: "3", Code: "busy", Message: errBusy.Message}, f)
		close(g.release)
		var got []string
		for len(got) < 2 {
			if f := c.read(); f.Type == "answer" {
				got = append(got, f.ID)
			}
		}
		assert.Equal(t, []string{"1", "2"}, got)
	})
}

// TestWebsocketSlowReader: a client that never reads while the server keeps sending (large history frames)
// is disconnected with 1008 once its frames stop moving; the server never buffers more than the queue for it.
func TestWebsocketSlowReader(t *testing.T) {
	e := newEnv(t, Config{WriteWait: 200 * time.Millisecond, MessageRate: 1000, MessageBurst: 1000})
	conv := newConversationID()
	msgs := make([]knowledge.Message, 100)
	for i := range msgs {
		msgs[i] = knowledge.Message{Role: "user", Text: strings.Repeat("ă", 3000), At: time.Now()}
	}
	_, err := e.s.Conversations.Append(t.Context(), conv, knowledge.DialogueState{}, msgs...)
	require.NoError(t, err)

	d := websocket.Dialer{NetDialContext: (&net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}).DialContext}
	ws, resp, err := d.Dial(e.url, nil)
	require.NoError(t, err)
	resp.Body.Close()
	defer ws.Close()
	req, err := json.Marshal(map[string]string{"type": "history", "conversation_id": conv})
	require.NoError(t, err)
	sent := 0
	start := time.Now()
	for metricValue(e.s.chat.m.slow) == 0 && sent < 1000 {
		require.NoError(t, ws.SetWriteDeadline(time.Now().Add(5*time.Second)))
		if err := ws.WriteMessage(websocket.TextMessage, req); err != nil {
			break // the server closed the connection
		}
		sent++
	}
	t.Logf("%d history requests (600 kB answers) written in %v", sent, time.Since(start))
	require.Eventually(t, func() bool { return metricValue(e.s.chat.m.open) == 0 }, 20*time.Second, 10*time.Millisecond)
	assert.Equal(t, 1.0, metricValue(e.s.chat.m.slow))
}

func TestWebsocketNotReady(t *testing.T) {
	e := newEnv(t, Config{})
	ready := false
	e.s.Ready = func() bool { return ready }
	c := e.dial(t, nil)
	_, f := c.exchange("n", "làm lại căn cước cần gì", "")
	assert.Equal(t, "not_ready", f.Code)
	c.send(map[string]string{"type": "history", "id": "h", "conversation_id": newConversationID()})
	assert.Equal(t, "not_ready", c.read().Code)
}

// TestShutdown: a client with an answer in flight gets its answer, then a 1001 close; new messages are
// refused meanwhile.
func TestShutdown(t *testing.T) {
	g := newGate(newAssistant(t))
	e := newEnv(t, Config{}, withReplier(g))
	c := e.dial(t, nil)
	other := e.dial(t, nil)
	c.send(map[string]string{"type": "message", "id": "s", "text": "làm lại căn cước cần gì"})
	assert.Equal(t, "ack", c.read().Type)
	<-g.entered

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		done <- e.s.Shutdown(ctx)
	}()
	// Once shutting down, new messages are refused with busy.
	require.Eventually(t, func() bool {
		e.s.chat.mu.Lock()
		defer e.s.chat.mu.Unlock()
		return e.s.chat.closing
	}, 10*time.Second, time.Millisecond)
	_, f := other.exchange("o", "lệ phí bao nhiêu", "")
	assert.Equal(t, frame{Type: "error", ID: "o", Code: "busy", Message: errShuttingDown.Message}, f)
	_, resp, err := websocket.DefaultDialer.Dial(e.url, nil)
	require.Error(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	close(g.release)
	var last frame
	for {
		require.NoError(t, c.ws.SetReadDeadline(time.Now().Add(30*time.Second)))
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			assert.True(t, websocket.IsCloseError(err, websocket.CloseGoingAway), "%v", err)
			break
		}
		require.NoError(t, json.Unmarshal(data, &last))
	}
	assert.Equal(t, "answer", last.Type, "the answer came before the close")
	assert.Contains(t, codes(last.Citations), "1.014064")
	_, _, err = other.ws.ReadMessage()
	assert.True(t, websocket.IsCloseError(err, websocket.CloseGoingAway), "%v", err)
	require.NoError(t, <-done)
	assert.Equal(t, 0.0, metricValue(e.s.chat.m.open))
}

// TestShutdownDeadline: answers still running when ctx ends are cancelled and the websockets closed.
func TestShutdownDeadline(t *testing.T) {
	g := newGate(newAssistant(t))
	e := newEnv(t, Config{}, withReplier(g))
	c := e.dial(t, nil)
	c.send(map[string]string{"type": "message", "id": "s", "text": "làm lại căn cước cần gì"})
	assert.Equal(t, "ack", c.read().Type)
	<-g.entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, e.s.Shutdown(ctx), context.DeadlineExceeded)
	require.NoError(t, c.ws.SetReadDeadline(time.Now().Add(10*time.Second)))
	for {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			var ne net.Error
			assert.False(t, errors.As(err, &ne) && ne.Timeout(), "the connection stayed open: %v", err)
			break
		}
	}
}

func TestClientIP(t *testing.T) {
	proxies, err := ParseProxies("10.0.0.0/8, 127.0.0.1")
	require.NoError(t, err)
	c := newChat(&Server{Config: Config{TrustedProxies: proxies}})
	plain := newChat(&Server{})
	for _, tc := range []struct {
		remote, xff string
		want, plain string
	}{
		{"203.0.113.9:5000", "", "203.0.113.9", "203.0.113.9"},
		{"203.0.113.9:5000", "1.2.3.4", "203.0.113.9", "203.0.113.9"}, // not from a trusted proxy
		{"127.0.0.1:5000", "198.51.100.7", "198.51.100.7", "127.0.0.1"},
		{"127.0.0.1:5000", "6.6.6.6, 198.51.100.7, 10.1.2.3", "198.51.100.7", "127.0.0.1"},
		{"[::ffff:10.0.0.5]:80", "2001:db8::1", "2001:db8::/64", "10.0.0.5"},
		{"[2001:db8:0:7:a::1]:443", "", "2001:db8:0:7::/64", "2001:db8:0:7::/64"}, // one /64 counts as one client
		{"127.0.0.1:5000", "garbage", "127.0.0.1", "127.0.0.1"},
		// Every address of a /64 is one client, any other /64 another; a trusted proxy in the chain is skipped.
		{"[2001:db8:0:7:ffff:ffff:ffff:ffff]:443", "", "2001:db8:0:7::/64", "2001:db8:0:7::/64"},
		{"[2001:db8:0:8::1]:443", "", "2001:db8:0:8::/64", "2001:db8:0:8::/64"},
		{"127.0.0.1:5000", "2001:db8:0:7:a::1, 10.9.9.9", "2001:db8:0:7::/64", "127.0.0.1"},
		{"[::ffff:203.0.113.9]:80", "1.2.3.4", "203.0.113.9", "203.0.113.9"}, // a mapped peer is its IPv4 address
		{"203.0.113.9:5000", "2001:db8::1", "203.0.113.9", "203.0.113.9"},    // forged: the peer is no proxy
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		assert.Equal(t, tc.want, c.clientIP(r), tc)
		assert.Equal(t, tc.plain, plain.clientIP(r), tc)
	}
	_, err = ParseProxies("10.0.0.0/33")
	assert.Error(t, err)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("::1/128")}, must(ParseProxies(" ::1 ")))
}

func TestParseOrigins(t *testing.T) {
	o, err := ParseOrigins("https://A.gov.vn, http://localhost:8080,,*")
	require.NoError(t, err)
	assert.Equal(t, []string{"https://a.gov.vn", "http://localhost:8080", "*"}, o)
	for _, bad := range []string{"a.gov.vn", "ftp://a", "https://a/b", "https://"} {
		_, err := ParseOrigins(bad)
		assert.Error(t, err, bad)
	}
}

func TestPieces(t *testing.T) {
	short := "Lệ phí: 0 đồng."
	assert.Equal(t, []string{short}, pieces(short))
	var b strings.Builder
	for i := range 40 {
		b.WriteString(strings.Repeat("x", i%7+20) + "\n")
	}
	long := b.String()
	ps := pieces(long)
	assert.Greater(t, len(ps), 2)
	assert.Equal(t, long, strings.Join(ps, ""))
	for _, p := range ps[:len(ps)-1] {
		assert.GreaterOrEqual(t, len(p), minPiece)
		assert.True(t, strings.HasSuffix(p, "\n"))
	}
}

func TestConversationID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newConversationID()
		require.True(t, validConversationID(id), id)
		require.False(t, seen[id])
		seen[id] = true
	}
	for _, bad := range []string{"", "abc", strings.Repeat("a", 27), strings.Repeat("a", 25) + "-", strings.Repeat("a", 25) + "é"} {
		assert.False(t, validConversationID(bad), bad)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestQueueBytes: the frames waiting for a client are bounded in bytes too, not only in number: a client that
// does not take a long frame is disconnected (1008) rather than have 32 long frames buffered for it.
func TestQueueBytes(t *testing.T) {
	c := newChat(&Server{Config: Config{WriteWait: 50 * time.Millisecond}})
	conns := make(chan *websocket.Conn, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err == nil {
			conns <- ws
		}
	}))
	defer ts.Close()
	client, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http"), nil)
	require.NoError(t, err)
	resp.Body.Close()
	defer client.Close()
	ws := <-conns
	// No writer runs: nothing leaves the queue, as with a client that stopped reading.
	k := &conn{c: c, ws: ws, send: make(chan []byte, c.cfg.SendQueue), away: make(chan struct{}),
		quit: make(chan struct{}), drained: make(chan struct{}, 1)}
	long := deltaFrame{Type: "delta", Text: strings.Repeat("ă", maxQueuedBytes/3)} // 2/3 of the budget
	k.queue(long)
	require.Len(t, k.send, 1, "a long frame is queued when nothing else waits")
	k.queue(long)
	assert.Len(t, k.send, 1, "a second long frame would pass the byte budget")
	select {
	case <-k.quit:
	default:
		t.Fatal("the client was not disconnected")
	}
	assert.Equal(t, 1.0, metricValue(c.m.slow))
}

// An answer over its time limit is timeout on the websocket, as over REST (TestRESTFailuresAfterAck).
func TestWebsocketTimeout(t *testing.T) {
	e := newEnv(t, Config{AnswerTimeout: 100 * time.Millisecond},
		withReplier(slowReplier{next: newAssistant(t), delay: time.Minute}))
	c := e.dial(t, nil)
	_, f := c.exchange("t", "làm lại căn cước cần gì", "")
	assert.Equal(t, frame{Type: "error", ID: "t", Code: "timeout", Message: errTimeout.Message}, f)
}
