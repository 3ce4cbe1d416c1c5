package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/internal/logtest"
)

// Observe logs every request by its route template with its status and duration — never the path's values,
// the query string or the body — counts it in the per-route latency histogram, and keeps server-sent events
// and websockets working through it. A refused origin is a security event in the log.
func TestObserve(t *testing.T) {
	a := newAssistant(t)
	reg := prometheus.NewRegistry()
	logs := &logtest.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s := &Server{Store: a.Store, Searcher: a.Searcher, Units: a.Units, Assistant: a, Conversations: a.Conversations,
		Config: Config{AllowedOrigins: []string{"https://cong.example.gov.vn"}}, Logger: logger, Registerer: reg, Gatherer: reg}
	inner := http.NewServeMux() // a nested mux, as serve mounts the staff API
	inner.HandleFunc("PATCH /api/v1/staff/users/{username}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux := http.NewServeMux()
	mux.Handle("/api/v1/staff/", inner)
	mux.Handle("/", s.Handler())
	ts := httptest.NewServer(Observe(mux, logger, reg))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		ts.Close()
	})
	do := func(method, path string, h http.Header, body string) (int, string) {
		req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}

	const phone = "0912345678"
	st, _ := do("GET", "/api/v1/procedures/1.014064?so="+phone, nil, "")
	require.Equal(t, http.StatusOK, st)
	st, _ = do("GET", "/api/v1/search?q=cccd+cua+toi+"+phone, nil, "")
	require.Equal(t, http.StatusOK, st)
	st, _ = do("PATCH", "/api/v1/staff/users/nguyen.van.a", nil, "")
	require.Equal(t, http.StatusNoContent, st)
	st, _ = do("GET", "/khong-co/"+phone, nil, "")
	require.Equal(t, http.StatusNotFound, st)
	st, _ = do("GET", "/healthz", nil, "")
	require.Equal(t, http.StatusOK, st)
	st, body := do("POST", "/api/v1/chat", http.Header{"Accept": {"text/event-stream"}, "Content-Type": {"application/json"}},
		`{"text":"làm lại căn cước, số của tôi `+phone+`"}`)
	require.Equal(t, http.StatusOK, st)
	assert.Contains(t, body, "event: answer", "server-sent events pass through Observe")
	// A request from a refused origin that is not a websocket handshake gets 403 (a handshake is accepted and
	// closed with 1008, see TestWebsocketRefusals).
	st, _ = do("GET", "/ws?v=1", http.Header{"Origin": {"https://evil.example"}}, "")
	require.Equal(t, http.StatusForbidden, st)

	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws?v=1", nil)
	require.NoError(t, err, "a websocket upgrades through Observe")
	resp.Body.Close()
	var hello frame
	require.NoError(t, ws.ReadJSON(&hello))
	assert.Equal(t, "hello", hello.Type)
	require.NoError(t, ws.Close())

	wantLines := []string{
		`msg=http method=GET route=/api/v1/procedures/{code} status=200 `,
		`msg=http method=GET route=/api/v1/search status=200 `,
		`msg=http method=PATCH route=/api/v1/staff/users/{username} status=204 `,
		`msg=http method=GET route=unmatched status=404 `,
		`msg=http method=POST route=/api/v1/chat status=200 `,
		`msg=http method=GET route=/ws status=403 `,
		`msg="security: origin refused" origin=https://evil.example route=/ws`,
	}
	for _, want := range wantLines {
		assert.Contains(t, logs.String(), want)
	}
	assert.Eventually(t, func() bool { return strings.Contains(logs.String(), `route=/ws status=101 `) }, 5*time.Second, 20*time.Millisecond,
		"a websocket is logged with 101 when it closes")
	for _, secret := range []string{phone, "1.014064", "nguyen.van.a", "cccd", "căn cước", "khong-co"} {
		assert.NotContains(t, logs.String(), secret, "the log carries a path value, a query or a body")
	}
	assert.NotContains(t, logs.String(), "route=/healthz", "probes are logged at debug level")

	series := map[string]uint64{}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "trolyao_http_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			series[strings.Join(labels, ",")] = m.GetHistogram().GetSampleCount()
		}
	}
	for _, want := range []string{
		"code=200,method=GET,route=/api/v1/procedures/{code}",
		"code=204,method=PATCH,route=/api/v1/staff/users/{username}",
		"code=404,method=GET,route=unmatched",
		"code=200,method=GET,route=/healthz",
		"code=200,method=POST,route=/api/v1/chat",
		"code=101,method=GET,route=/ws",
	} {
		assert.Equal(t, uint64(1), series[want], "histogram series %s in %v", want, series)
	}
}
