package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/channels/zalo"
)

// fakeZalo is the Zalo OA API: it records the messages sent through /v3.0/oa/message/cs.
type fakeZalo struct {
	mu   sync.Mutex
	sent []string // request bodies
}

func (f *fakeZalo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path != "/v3.0/oa/message/cs" || r.Header.Get("access_token") != "test-access-token" {
		_, _ = io.WriteString(w, `{"error":-216,"message":"Access token is invalid"}`)
		return
	}
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.sent = append(f.sent, string(b))
	n := len(f.sent)
	f.mu.Unlock()
	fmt.Fprintf(w, `{"error":0,"message":"Success","data":{"message_id":"m%d"}}`, n)
}

func (f *fakeZalo) messages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}

// zaloConfig writes a configuration with one OA whose access token is valid for a day.
func zaloConfig(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "zalo.json")
	cfg := fmt.Sprintf(`{"oas":[{"id":"phuong-test","app_id":"2553928453557884079","app_secret":"${TEST_ZALO_APP_SECRET}",
		"oa_secret_key":"oa-secret","refresh_token":"refresh-1","access_token":"test-access-token",
		"access_token_expires":%q}]}`, time.Now().Add(24*time.Hour).UTC().Format(time.RFC3339))
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	return path
}

// channels checks what serve wires together, on a running server at base: the demo page and the widget,
// the chat API in JSON and SSE, the Zalo webhook answered through the (fake) Zalo API, and the metrics.
func channels(t *testing.T, base string, zaloAPI *fakeZalo) {
	resp, err := http.Get(base + "/")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(page), `src="/widget.js"`, "the demo portal page embeds the widget")
	resp, err = http.Get(base + "/widget.js")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "javascript")
	resp, err = http.Get(base + "/favicon.ico")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the site has an icon")
	assert.Equal(t, "image/x-icon", resp.Header.Get("Content-Type"))

	resp, err = http.Post(base+"/api/v1/chat", "application/json", strings.NewReader(`{"text":"làm lại căn cước cần gì"}`))
	require.NoError(t, err)
	var ans struct {
		ConversationID string `json:"conversation_id"`
		Text           string
		Citations      []struct{ Code string }
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ans))
	resp.Body.Close()
	require.NotEmpty(t, ans.Citations, ans.Text)
	assert.Equal(t, "1.014064", ans.Citations[0].Code)

	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/chat",
		strings.NewReader(`{"text":"lệ phí bao nhiêu","conversation_id":"`+ans.ConversationID+`"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	stream, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/event-stream")
	for _, ev := range []string{"event: ack", "event: delta", "event: answer"} {
		assert.Contains(t, string(stream), ev)
	}
	assert.Contains(t, string(stream), "đồng", "the follow-up on the same conversation answers the fee")

	body := fmt.Sprintf(`{"app_id":"2553928453557884079","event_name":"user_send_text","sender":{"id":"6142494823001"},`+
		`"recipient":{"id":"3662729599332560487"},"message":{"text":"làm lại căn cước cần gì","msg_id":"cb31dff1c39642cc1b83"},`+
		`"timestamp":"%d","user_id_by_app":"979122185046046317"}`, time.Now().UnixMilli())
	ts := body[strings.Index(body, `"timestamp":"`)+13:]
	ts = ts[:strings.IndexByte(ts, '"')]
	for range 2 { // Zalo re-delivers: still one reply
		req, err = http.NewRequest(http.MethodPost, base+"/webhooks/zalo/phuong-test", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-ZEvent-Signature", zalo.Sign("2553928453557884079", []byte(body), ts, "oa-secret"))
		resp, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	require.Eventually(t, func() bool { return len(zaloAPI.messages()) > 0 }, 30*time.Second, 20*time.Millisecond)
	sent := zaloAPI.messages()
	assert.Contains(t, sent[0], `"user_id":"6142494823001"`)
	assert.Contains(t, strings.Join(sent, "\n"), "1.014064")

	req, err = http.NewRequest(http.MethodPost, base+"/webhooks/zalo/phuong-test", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-ZEvent-Signature", "mac="+strings.Repeat("0", 64))
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a wrong signature is refused")

	resp, err = http.Get(base + "/staff/")
	require.NoError(t, err)
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(page), "Quản trị", "the staff page is served")
	resp, err = http.Post(base+"/api/v1/staff/login", "application/json", strings.NewReader(`{"username":"khong.co","password":"sai-mat-khau-123"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the staff API refuses unknown accounts")

	resp, err = http.Get(base + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"go_goroutines", "trolyao_web_", "trolyao_zalo_webhooks_total"} {
		assert.Contains(t, string(metrics), m)
	}
}

// openWebsocket connects to /ws and reads the hello frame; the caller checks how the server closes it.
func openWebsocket(t *testing.T, base string) *websocket.Conn {
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws?v=1", nil)
	require.NoError(t, err)
	resp.Body.Close()
	var hello struct {
		Type string
		V    int
	}
	require.NoError(t, c.ReadJSON(&hello))
	require.Equal(t, "hello", hello.Type)
	require.Equal(t, 1, hello.V)
	return c
}

// expectGoingAway reads until the server closes the websocket and checks the close code is 1001.
func expectGoingAway(t *testing.T, c *websocket.Conn) {
	require.NoError(t, c.SetReadDeadline(time.Now().Add(20*time.Second)))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			assert.True(t, websocket.IsCloseError(err, websocket.CloseGoingAway), "close 1001 on shutdown, got %v", err)
			return
		}
	}
}

func startFakeZalo(t *testing.T) (*fakeZalo, string) {
	f := &fakeZalo{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}
