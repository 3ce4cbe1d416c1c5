package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
)

// post sends a JSON body and returns the response (closed at the end of the test).
func (e *env) post(t *testing.T, path, body string, h http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", e.ts.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := e.ts.Client().Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func errorCode(t *testing.T, resp *http.Response) string {
	t.Helper()
	var body struct{ Error apiError }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	assert.NotEmpty(t, body.Error.Message)
	return body.Error.Code
}

type event struct {
	name string
	data frame
	raw  string
}

// readEvents reads an SSE stream to its end.
func readEvents(t *testing.T, r io.Reader) []event {
	t.Helper()
	var out []event
	var cur event
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.raw = strings.TrimPrefix(line, "data: ")
			require.NoError(t, json.Unmarshal([]byte(cur.raw), &cur.data))
		case line == "":
			out = append(out, cur)
			cur = event{}
		default:
			t.Fatalf("unexpected line %q", line)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

func TestSSE(t *testing.T) {
	// Each answer takes longer than the server's WriteTimeout: the stream extends its write deadline.
	e := newEnv(t, Config{}, withReplier(slowReplier{next: newAssistant(t), delay: 400 * time.Millisecond}),
		withWriteTimeout(200*time.Millisecond))
	sse := http.Header{"Accept": {"text/event-stream"}}
	resp := e.post(t, "/api/v1/chat", `{"text":"làm lại căn cước cần gì","id":"s1"}`, sse)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	evs := readEvents(t, resp.Body)
	require.GreaterOrEqual(t, len(evs), 4)
	assert.Equal(t, "ack", evs[0].name)
	assert.Equal(t, "typing", evs[1].name)
	last := evs[len(evs)-1]
	require.Equal(t, "answer", last.name, last.raw)
	var streamed strings.Builder
	for _, ev := range evs[2 : len(evs)-1] {
		require.Equal(t, "delta", ev.name)
		streamed.WriteString(ev.data.Text)
	}
	for _, ev := range evs {
		assert.Equal(t, ev.name, ev.data.Type, "data is the websocket frame")
		assert.Equal(t, "s1", ev.data.ID)
	}
	assert.Equal(t, last.data.Text, streamed.String())
	conv := evs[0].data.ConversationID
	assert.True(t, validConversationID(conv))
	assert.Equal(t, conv, last.data.ConversationID)
	assert.Contains(t, codes(last.data.Citations), "1.014064")

	// The follow-up over plain JSON, in the same conversation.
	resp = e.post(t, "/api/v1/chat", `{"text":"lệ phí bao nhiêu","conversation_id":"`+conv+`"}`, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	assert.NotContains(t, m, "type")
	assert.NotContains(t, m, "id")
	for _, k := range []string{"conversation_id", "message_id", "text", "citations", "options", "suggestions", "abstained"} {
		assert.Contains(t, m, k)
	}
	var ans frame
	require.NoError(t, json.Unmarshal(raw, &ans))
	assert.Equal(t, conv, ans.ConversationID)
	assert.Contains(t, codes(ans.Citations), "1.014064")

	// Feedback and history over REST.
	resp = e.post(t, "/api/v1/chat/feedback", `{"conversation_id":"`+conv+`","message_id":`+itoa(ans.MessageID)+`,"value":1}`, nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	hr, err := e.ts.Client().Get(e.ts.URL + "/api/v1/chat/" + conv)
	require.NoError(t, err)
	defer hr.Body.Close()
	require.Equal(t, http.StatusOK, hr.StatusCode)
	assert.Equal(t, "no-store", hr.Header.Get("Cache-Control"), "the history holds what a citizen wrote: no cache keeps it")
	var h frame
	require.NoError(t, json.NewDecoder(hr.Body).Decode(&h))
	assert.Equal(t, conv, h.ConversationID)
	require.Len(t, h.Messages, 4)
	assert.Equal(t, 1, h.Messages[3].Feedback)
	assert.Equal(t, ans.MessageID, h.Messages[3].ID)
	stored, err := e.s.Conversations.Load(t.Context(), conv)
	require.NoError(t, err)
	assert.Equal(t, 1, stored.Messages[3].Feedback)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestRESTErrors(t *testing.T) {
	e := newEnv(t, Config{MessageRate: 0.001, MessageBurst: 100, AllowedOrigins: []string{"https://cong.example.gov.vn"}})
	unknown := newConversationID()
	for _, tc := range []struct {
		path, body string
		h          http.Header
		status     int
		code       string
	}{
		{"/api/v1/chat", `{"text":`, nil, 400, "bad_request"},
		{"/api/v1/chat", `{"text":"a"} {"text":"b"}`, nil, 400, "bad_request"},
		{"/api/v1/chat", `{"text":"` + strings.Repeat("a", MaxRESTBody) + `"}`, nil, 413, "too_long"},
		{"/api/v1/chat", `{"text":"` + strings.Repeat("ă", MaxChars+1) + `"}`, nil, 413, "too_long"},
		{"/api/v1/chat", `{"text":"   "}`, nil, 400, "empty"},
		{"/api/v1/chat", `{"text":"chào","conversation_id":"nope"}`, nil, 400, "bad_conversation"},
		{"/api/v1/chat", `{"text":"chào","id":"` + strings.Repeat("x", 65) + `"}`, nil, 400, "bad_request"},
		{"/api/v1/chat", `{"text":"chào"}`, http.Header{"Content-Type": {"text/plain"}}, 415, "bad_request"},
		{"/api/v1/chat", `{"text":"chào"}`, http.Header{"Origin": {"https://evil.example"}}, 403, "forbidden"},
		{"/api/v1/chat", `{"text":"  "}`, http.Header{"Accept": {"text/event-stream"}}, 400, "empty"},
		{"/api/v1/chat", `{"text":"căn\u0000cước"}`, http.Header{"Accept": {"text/event-stream"}}, 400, "bad_request"},
		{"/api/v1/chat/feedback", `{"conversation_id":"` + unknown + `","message_id":2,"value":1}`, nil, 404, "not_found"},
		{"/api/v1/chat/feedback", `{"conversation_id":"` + unknown + `","message_id":2,"value":5}`, nil, 400, "bad_request"},
		{"/api/v1/chat/feedback", `{"conversation_id":"x","message_id":2,"value":1}`, nil, 400, "bad_conversation"},
		{"/api/v1/chat/feedback", `{"conversation_id":"` + unknown + `","message_id":2,"value":-1,"reason":"x"}`, nil, 400, "bad_request"},
	} {
		resp := e.post(t, tc.path, tc.body, tc.h)
		assert.Equal(t, tc.status, resp.StatusCode, "%s %.80s", tc.path, tc.body)
		assert.Equal(t, tc.code, errorCode(t, resp), "%s %.80s", tc.path, tc.body)
	}
	for path, want := range map[string]int{"/api/v1/chat/" + unknown: 404, "/api/v1/chat/NOPE": 400} {
		resp, err := e.ts.Client().Get(e.ts.URL + path)
		require.NoError(t, err)
		assert.Equal(t, want, resp.StatusCode, path)
		resp.Body.Close()
	}

	// CORS for an allowed page.
	req, err := http.NewRequest("OPTIONS", e.ts.URL+"/api/v1/chat", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://cong.example.gov.vn")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := e.ts.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, "https://cong.example.gov.vn", resp.Header.Get("Access-Control-Allow-Origin"))

	// The client's message budget over REST (TestClientBudgetShared has it shared with websockets).
	r := newEnv(t, Config{ClientRate: 0.001, ClientBurst: 1})
	resp = r.post(t, "/api/v1/chat", `{"text":"xin chào"}`, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp = r.post(t, "/api/v1/chat", `{"text":"xin chào"}`, nil)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "rate_limited", errorCode(t, resp))
	assert.Equal(t, "1000", resp.Header.Get("Retry-After"))
}

func TestRESTNotReady(t *testing.T) {
	e := newEnv(t, Config{})
	e.s.Ready = func() bool { return false }
	for _, sse := range []http.Header{nil, {"Accept": {"text/event-stream"}}} {
		resp := e.post(t, "/api/v1/chat", `{"text":"làm lại căn cước cần gì"}`, sse)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Equal(t, "not_ready", errorCode(t, resp))
	}
	resp := e.post(t, "/api/v1/chat/feedback", `{"conversation_id":"`+newConversationID()+`","message_id":2,"value":1}`, nil)
	assert.Equal(t, "not_ready", errorCode(t, resp))
	// Without an assistant the chat is not ready either.
	n := &Server{}
	c := n.chatState()
	assert.False(t, c.ready())
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, Config{})
	c := e.dial(t, nil)
	_, ans := c.exchange("m", "làm lại căn cước cần gì", "")
	require.Equal(t, "answer", ans.Type)
	_, abst := c.exchange("w", "thời tiết hôm nay thế nào", "")
	require.Equal(t, "answer", abst.Type)
	resp, err := e.ts.Client().Get(e.ts.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	text := string(body)
	for _, want := range []string{
		"trolyao_web_websockets_open 1",
		`trolyao_web_messages_received_total{channel="websocket"} 2`,
		`trolyao_web_answers_total{outcome="answered"} 1`,
		`trolyao_web_answers_total{outcome="abstained"} 1`,
		`trolyao_web_answer_seconds_count 2`,
		`trolyao_web_rejected_total{reason="rate_limited"} 0`,
		`trolyao_web_slow_reader_disconnects_total 0`,
	} {
		assert.Contains(t, text, want)
	}
	// Without a Gatherer there is no /metrics.
	s := &Server{}
	rr, err := http.NewRequest("GET", "/metrics", nil)
	require.NoError(t, err)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, rr)
	assert.Equal(t, http.StatusNotFound, w.Code)
}

// TestRESTFailuresAfterAck: once the stream has begun a failure is an error event; over JSON it is an HTTP
// error.
func TestRESTFailuresAfterAck(t *testing.T) {
	e := newEnv(t, Config{AnswerTimeout: 100 * time.Millisecond},
		withReplier(slowReplier{next: newAssistant(t), delay: time.Minute}))
	resp := e.post(t, "/api/v1/chat", `{"text":"làm lại căn cước cần gì","id":"t"}`, http.Header{"Accept": {"text/event-stream"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	evs := readEvents(t, resp.Body)
	require.Len(t, evs, 2)
	assert.Equal(t, "ack", evs[0].name)
	assert.Equal(t, "error", evs[1].name)
	assert.Equal(t, frame{Type: "error", ID: "t", Code: "timeout", Message: errTimeout.Message}, evs[1].data)
	resp = e.post(t, "/api/v1/chat", `{"text":"làm lại căn cước cần gì"}`, nil)
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
	assert.Equal(t, "timeout", errorCode(t, resp))
	assert.Equal(t, 2.0, metricValue(e.s.chat.m.answers.WithLabelValues("error")))
}

// TestBusy: with every answer slot taken, a message waits BusyWait, then gets busy.
func TestBusy(t *testing.T) {
	g := newGate(newAssistant(t))
	e := newEnv(t, Config{MaxInFlight: 1, BusyWait: 50 * time.Millisecond}, withReplier(g))
	c := e.dial(t, nil)
	c.send(map[string]string{"type": "message", "id": "1", "text": "làm lại căn cước cần gì"})
	assert.Equal(t, "ack", c.read().Type)
	<-g.entered
	resp := e.post(t, "/api/v1/chat", `{"text":"đăng ký khai sinh"}`, nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "busy", errorCode(t, resp))
	assert.Equal(t, 1.0, metricValue(e.s.chat.m.rejected.WithLabelValues("busy")))
	close(g.release)
	for f := c.read(); f.Type != "answer"; f = c.read() {
		require.NotEqual(t, "error", f.Type, "%+v", f)
	}
	_, f := c.exchange("2", "đăng ký khai sinh", "") // the slot is free again
	assert.Equal(t, "answer", f.Type)
}

// boundedConvs counts the calls of the conversation store made without a deadline.
type boundedConvs struct {
	knowledge.Conversations
	unbounded atomic.Int64
}

func (b *boundedConvs) Load(ctx context.Context, id string) (knowledge.Conversation, error) {
	if _, ok := ctx.Deadline(); !ok {
		b.unbounded.Add(1)
	}
	return b.Conversations.Load(ctx, id)
}

// TestRESTStoreDeadline: the chat API never waits on the conversation store without a time limit (a stuck
// database must not hold requests, and with them shutdown, for as long as the client keeps waiting).
func TestRESTStoreDeadline(t *testing.T) {
	e := newEnv(t, Config{MessageBurst: 10})
	b := &boundedConvs{Conversations: e.s.Conversations}
	e.s.Conversations = b
	resp := e.post(t, "/api/v1/chat", `{"text":"làm lại căn cước cần gì"}`, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var ans frame
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ans))
	for _, h := range []http.Header{nil, {"Accept": {"text/event-stream"}}} {
		resp = e.post(t, "/api/v1/chat", `{"text":"lệ phí bao nhiêu","conversation_id":"`+ans.ConversationID+`"}`, h)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		_, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
	}
	hr, err := e.ts.Client().Get(e.ts.URL + "/api/v1/chat/" + ans.ConversationID)
	require.NoError(t, err)
	hr.Body.Close()
	assert.Equal(t, int64(0), b.unbounded.Load())
}

// An answer about where to go, once the citizen has named their ward, carries the ward's service centre as
// its contact; other answers carry none.
func TestChatContact(t *testing.T) {
	e := newEnv(t, Config{})
	ask := func(text, conv string) Answer {
		t.Helper()
		body, err := json.Marshal(map[string]string{"text": text, "conversation_id": conv})
		require.NoError(t, err)
		resp := e.post(t, "/api/v1/chat", string(body), nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var a Answer
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
		return a
	}
	first := ask("làm lại căn cước cần gì", "")
	assert.Nil(t, first.Contact, "no ward named yet")
	where := ask("nộp ở đâu, tôi ở phường Bàn Cờ", first.ConversationID)
	require.NotNil(t, where.Contact, where.Text)
	assert.Equal(t, "Trung tâm Phục vụ hành chính công phường Bàn Cờ", where.Contact.Name)
	assert.Contains(t, where.Contact.Address, "Điện Biên Phủ")
	assert.NotEmpty(t, where.Contact.Phone)
	fee := ask("lệ phí bao nhiêu", first.ConversationID)
	assert.Nil(t, fee.Contact, "only answers about where to go")
}
