package zalo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/channels/zalo"
	"github.com/trolyao/trolyao/channels/zalo/boltqueue"
	"github.com/trolyao/trolyao/channels/zalo/pgqueue"
	"github.com/trolyao/trolyao/knowledge/postgres"
	"github.com/trolyao/trolyao/knowledge/postgres/pgtest"
)

const (
	testAppID     = "2553928453557884079"
	testAppSecret = "app-secret-value"
	testOASecret  = "oa-secret-key-value"
	testOAID      = "phuong-ben-thanh"
	firstAccess   = "access-0"
	firstRefresh  = "refresh-0"
)

func testOA() zalo.OA {
	return zalo.OA{ID: testOAID, AppID: testAppID, AppSecret: testAppSecret, OASecretKey: testOASecret,
		RefreshToken: firstRefresh, AccessToken: firstAccess, AccessTokenExpires: time.Now().Add(24 * time.Hour)}
}

// fakeAnswerer answers "Trả lời: <text>" citing a procedure, and records the texts of each conversation in order.
type fakeAnswerer struct {
	mu    sync.Mutex
	seen  map[string][]string
	block chan struct{} // when set, Reply reports on held and waits for ctx
	held  func()
}

func (a *fakeAnswerer) Reply(ctx context.Context, conv, text string, _ func(assistant.Event)) (assistant.Answer, error) {
	if a.block != nil {
		a.held()
		<-ctx.Done()
		return assistant.Answer{}, ctx.Err()
	}
	a.mu.Lock()
	if a.seen == nil {
		a.seen = map[string][]string{}
	}
	a.seen[conv] = append(a.seen[conv], text)
	a.mu.Unlock()
	return assistant.Answer{ConversationID: conv, Text: "Trả lời: " + text,
		Citations:   []assistant.Citation{{Code: "1.014064", Name: "Cấp lại thẻ căn cước", URL: "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.014064"}},
		Suggestions: []string{"Cần giấy tờ gì?", "Lệ phí bao nhiêu?"}}, nil
}

func (a *fakeAnswerer) asked(conv string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[conv]
}

// stores runs f on a fresh queue of each kind.
func stores(t *testing.T, f func(t *testing.T, q zalo.Queue)) {
	t.Run("bolt", func(t *testing.T) { f(t, openBolt(t, filepath.Join(t.TempDir(), "zalo.db"))) })
	t.Run("postgres", func(t *testing.T) { f(t, openPG(t, pgtest.Schema(t))) })
}

func openBolt(t testing.TB, path string) *boltqueue.Queue {
	q, err := boltqueue.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = q.Close() })
	return q
}

func openPG(t testing.TB, schema string) *pgqueue.Queue {
	st, err := postgres.Open(context.Background(), postgres.Config{URL: pgtest.URL(t), Schema: schema, SQLLexical: true, MaxConns: 20})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	q := pgqueue.New(st.Pool())
	pools.Store(q, st.Pool())
	return q
}

// pools holds the pool of each PostgreSQL queue, for tests that read the tables.
var pools sync.Map

func pgPool(t testing.TB, q zalo.Queue) *pgxpool.Pool {
	p, ok := pools.Load(q)
	require.True(t, ok)
	return p.(*pgxpool.Pool)
}

// rig is a running service: its webhook over real HTTP, the fake Zalo API, the queue.
type rig struct {
	svc  *zalo.Service
	hook *httptest.Server
	api  *fakeZalo
	q    zalo.Queue
	ans  zalo.Answerer
	reg  *prometheus.Registry
	stop func()
}

func start(t testing.TB, q zalo.Queue, api *fakeZalo, ans zalo.Answerer, mod func(*zalo.Options)) *rig {
	t.Helper()
	if api == nil {
		api = newFakeZalo(t, testAppID, testAppSecret, firstAccess, firstRefresh)
	}
	if ans == nil {
		ans = &fakeAnswerer{}
	}
	reg := prometheus.NewRegistry()
	o := zalo.Options{OAs: []zalo.OA{testOA()}, Queue: q, Answerer: ans, APIBase: api.URL, OAuthBase: api.URL,
		Registerer: reg, Poll: 20 * time.Millisecond, BackoffBase: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
		JobLease: 2 * time.Second, SendLease: 2 * time.Second, EchoWait: 300 * time.Millisecond}
	if mod != nil {
		mod(&o)
	}
	svc, err := zalo.New(o)
	require.NoError(t, err)
	hook := httptest.NewServer(svc.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
			hook.Close()
		})
	}
	t.Cleanup(stop)
	return &rig{svc: svc, hook: hook, api: api, q: q, ans: ans, reg: reg, stop: stop}
}

// event is a delivery body in Zalo's envelope.
func event(name, user, text, msgID string, at time.Time) []byte {
	m := map[string]any{
		"app_id": testAppID, "event_name": name, "sender": map[string]any{"id": user},
		"recipient": map[string]any{"id": "3662729599332560487"}, "timestamp": strconv.FormatInt(at.UnixMilli(), 10),
		"user_id_by_app": "979122185046046317",
	}
	switch name {
	case "follow":
		m["follower"] = map[string]any{"id": user}
		m["source"] = "oa_profile"
	case "user_send_image":
		m["message"] = map[string]any{"msg_id": msgID, "attachments": []any{map[string]any{"type": "image", "payload": map[string]any{"url": "https://example.org/a.jpg"}}}}
	default:
		m["message"] = map[string]any{"text": text, "msg_id": msgID}
	}
	b, _ := json.Marshal(m)
	return b
}

// post sends a delivery signed with the OA secret over real HTTP and returns the status.
func post(t testing.TB, base string, body []byte, sig string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/zalo/"+testOAID, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("X-ZEvent-Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// deliver posts a correctly signed delivery and requires its 200.
func deliver(t testing.TB, base string, body []byte) {
	t.Helper()
	var e struct {
		Timestamp string `json:"timestamp"`
	}
	require.NoError(t, json.Unmarshal(body, &e))
	require.Equal(t, http.StatusOK, post(t, base, body, zalo.Sign(testAppID, body, e.Timestamp, testOASecret)))
}

// idle waits until the queue has no unfinished job and no unsent message.
func idle(t testing.TB, q zalo.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		st, err := q.Stats(ctx)
		require.NoError(t, err)
		if st.Jobs == 0 && st.Sends == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("queue not drained: %+v", st)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// counter reads a counter of the registry.
func counter(t testing.TB, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestSignature(t *testing.T) {
	q := openBolt(t, filepath.Join(t.TempDir(), "zalo.db"))
	svc, err := zalo.New(zalo.Options{OAs: []zalo.OA{testOA()}, Queue: q, Answerer: &fakeAnswerer{}})
	require.NoError(t, err)
	hook := httptest.NewServer(svc.Handler())
	defer hook.Close()
	now := time.Now()
	ts := func(at time.Time) string { return strconv.FormatInt(at.UnixMilli(), 10) }

	body := event("user_send_text", "6142494823", "Chào", "msg-1", now)
	good := zalo.Sign(testAppID, body, ts(now), testOASecret)
	assert.Equal(t, http.StatusUnauthorized, post(t, hook.URL, body, ""), "no signature")
	assert.Equal(t, http.StatusUnauthorized, post(t, hook.URL, body, zalo.Sign(testAppID, body, ts(now), "wrong-secret")), "wrong secret")
	assert.Equal(t, http.StatusUnauthorized, post(t, hook.URL, body, "mac=zz"+good[6:]), "not hex")
	tampered := bytes.Replace(body, []byte("Chào"), []byte("Chao"), 1)
	assert.Equal(t, http.StatusUnauthorized, post(t, hook.URL, tampered, good), "body changed after signing")

	stale := now.Add(-6 * time.Minute)
	sb := event("user_send_text", "6142494823", "Chào", "msg-2", stale)
	assert.Equal(t, http.StatusUnauthorized, post(t, hook.URL, sb, zalo.Sign(testAppID, sb, ts(stale), testOASecret)), "stale")
	future := now.Add(3 * time.Minute)
	fb := event("user_send_text", "6142494823", "Chào", "msg-3", future)
	assert.Equal(t, http.StatusUnauthorized, post(t, hook.URL, fb, zalo.Sign(testAppID, fb, ts(future), testOASecret)), "future")

	st, err := q.Stats(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 0, st.Jobs, "nothing rejected was recorded")

	assert.Equal(t, http.StatusOK, post(t, hook.URL, body, good), "valid")
	assert.Equal(t, http.StatusOK, post(t, hook.URL, body, strings.ToUpper(good[:4])+good[4:]), "a re-delivery, MAC= prefix")
	st, err = q.Stats(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, st.Jobs, "one job for the delivery and its re-delivery")

	// Unknown OA, method, size.
	req, _ := http.NewRequest(http.MethodPost, hook.URL+"/webhooks/zalo/other-oa", bytes.NewReader(body))
	req.Header.Set("X-ZEvent-Signature", good)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, err = http.Get(hook.URL + "/webhooks/zalo/" + testOAID)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	big := event("user_send_text", "6142494823", strings.Repeat("a", 70<<10), "msg-4", now)
	assert.Equal(t, http.StatusRequestEntityTooLarge, post(t, hook.URL, big, zalo.Sign(testAppID, big, ts(now), testOASecret)))
	junk := []byte(`{"app_id":`)
	assert.Equal(t, http.StatusBadRequest, post(t, hook.URL, junk, good))
}

func TestDuplicateDelivery(t *testing.T) {
	stores(t, func(t *testing.T, q zalo.Queue) {
		r := start(t, q, nil, nil, nil)
		body := event("user_send_text", "6142494823", "làm lại căn cước cần gì", "cb31dff1c39642cc1b83", time.Now())
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() { deliver(t, r.hook.URL, body) })
		}
		wg.Wait()
		deliver(t, r.hook.URL, body)
		idle(t, q)
		msgs := r.api.messages()
		require.Len(t, msgs, 1)
		assert.Equal(t, "6142494823", msgs[0].User)
		assert.Equal(t, "Trả lời: làm lại căn cước cần gì", msgs[0].Text)
		assert.Equal(t, 5.0, counter(t, r.reg, "trolyao_zalo_webhooks_total", "outcome", "duplicate"))
		r.api.check(t)
	})
}

func TestWireFormat(t *testing.T) {
	q := openBolt(t, filepath.Join(t.TempDir(), "zalo.db"))
	r := start(t, q, nil, nil, nil)
	deliver(t, r.hook.URL, event("user_send_text", "6142494823", "Chào", "m1", time.Now()))
	idle(t, q)
	msgs := r.api.messages()
	require.Len(t, msgs, 1)
	assert.JSONEq(t, `{"recipient":{"user_id":"6142494823"},"message":{"text":"Trả lời: Chào","attachment":{"type":"template","payload":{"buttons":[
		{"title":"Xem thủ tục","type":"oa.open.url","payload":{"url":"https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.014064"}},
		{"title":"Cần giấy tờ gì?","type":"oa.query.show","payload":"Cần giấy tờ gì?"},
		{"title":"Lệ phí bao nhiêu?","type":"oa.query.show","payload":"Lệ phí bao nhiêu?"}]}}}}`, msgs[0].Raw)
	last, err := q.LastInbound(t.Context(), testOAID, "6142494823")
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), last, time.Minute)
	r.api.check(t)
}

func TestServerErrorThenSuccess(t *testing.T) {
	stores(t, func(t *testing.T, q zalo.Queue) {
		api := newFakeZalo(t, testAppID, testAppSecret, firstAccess, firstRefresh)
		api.inject = func(n int, _ delivered) (int, string, bool) {
			switch n {
			case 1:
				return http.StatusBadGateway, `<html>bad gateway</html>`, true
			case 2:
				return http.StatusOK, `{"error":-32,"message":"Request exceeds rate limit"}`, true
			}
			return 0, "", false
		}
		r := start(t, q, api, nil, nil)
		deliver(t, r.hook.URL, event("user_send_text", "6142494823", "Chào", "m1", time.Now()))
		idle(t, q)
		require.Len(t, api.messages(), 1, "exactly one message")
		assert.Equal(t, 3, api.callCount(), "502, rate limit, success")
		assert.Equal(t, 2.0, counter(t, r.reg, "trolyao_zalo_sends_total", "outcome", "retry"))
		assert.Equal(t, 1.0, counter(t, r.reg, "trolyao_zalo_sends_total", "outcome", "sent"))
		api.check(t)
	})
}

func TestFinalError(t *testing.T) {
	stores(t, func(t *testing.T, q zalo.Queue) {
		api := newFakeZalo(t, testAppID, testAppSecret, firstAccess, firstRefresh)
		api.inject = func(int, delivered) (int, string, bool) {
			return http.StatusOK, `{"error":-230,"message":"User has not interacted with the OA in the past 7 days"}`, true
		}
		r := start(t, q, api, nil, nil)
		deliver(t, r.hook.URL, event("user_send_text", "6142494823", "Chào", "m1", time.Now()))
		idle(t, q)
		assert.Empty(t, api.messages())
		assert.Equal(t, 1, api.callCount(), "a final error is not retried")
		assert.Equal(t, 1.0, counter(t, r.reg, "trolyao_zalo_sends_total", "outcome", "final"))
		if _, ok := q.(*pgqueue.Queue); ok {
			var code int
			var state string
			require.NoError(t, pgPool(t, q).QueryRow(t.Context(), `SELECT state, code FROM zalo_outbox`).Scan(&state, &code))
			assert.Equal(t, "failed", state)
			assert.Equal(t, -230, code)
		}
		api.check(t)
	})
}

func TestTokenExpiry(t *testing.T) {
	stores(t, func(t *testing.T, q zalo.Queue) {
		r := start(t, q, nil, nil, func(o *zalo.Options) { o.Senders = 4 })
		user := func(i int) string { return fmt.Sprintf("61424948%02d", i) }
		deliver(t, r.hook.URL, event("user_send_text", user(0), "một", "m0", time.Now()))
		idle(t, q)
		require.Len(t, r.api.messages(), 1)

		// The token expires mid-run; several senders meet -216 at once and one refresh serves them all.
		r.api.expire()
		for i := 1; i <= 6; i++ {
			deliver(t, r.hook.URL, event("user_send_text", user(i), "hai", fmt.Sprintf("m%d", i), time.Now()))
		}
		idle(t, q)
		assert.Len(t, r.api.messages(), 7)
		assert.Equal(t, 1, r.api.refreshCount(), "one refresh")
		tok, ok, err := q.Token(t.Context(), testOAID)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, "refresh-1", tok.RefreshToken, "the rotated refresh token is stored")
		assert.Equal(t, "access-1", tok.AccessToken)

		// Again: the refresh must use the rotated token, never the spent one.
		r.api.expire()
		deliver(t, r.hook.URL, event("user_send_text", user(0), "ba", "m9", time.Now()))
		idle(t, q)
		assert.Len(t, r.api.messages(), 8)
		assert.Equal(t, 2, r.api.refreshes)
		r.api.check(t)
	})
}

func TestRefreshRejected(t *testing.T) {
	q := openBolt(t, filepath.Join(t.TempDir(), "zalo.db"))
	api := newFakeZalo(t, testAppID, testAppSecret, firstAccess, firstRefresh)
	api.rejectAll = true
	api.expire()
	r := start(t, q, api, nil, func(o *zalo.Options) { o.MaxSendAttempts = 2 })
	deliver(t, r.hook.URL, event("user_send_text", "6142494823", "Chào", "m1", time.Now()))
	idle(t, q)
	assert.Empty(t, api.messages())
	tok, _, err := q.Token(t.Context(), testOAID)
	require.NoError(t, err)
	assert.True(t, tok.NeedsReauth)
	assert.Equal(t, 1.0, counter(t, r.reg, "trolyao_zalo_token_refreshes_total", "outcome", "rejected"), "asked once, then the OA waits for re-authorisation")
	assert.Equal(t, 1.0, counter(t, r.reg, "trolyao_zalo_sends_total", "outcome", "final"))
	r.stop()

	// An operator authorises the app again and puts the new refresh token in the configuration.
	api.mu.Lock()
	api.rejectAll, api.refresh = false, "refresh-reauthorised"
	api.mu.Unlock()
	r = start(t, q, api, nil, func(o *zalo.Options) { o.OAs[0].RefreshToken = "refresh-reauthorised" })
	deliver(t, r.hook.URL, event("user_send_text", "6142494823", "Chào lại", "m2", time.Now()))
	idle(t, q)
	require.Len(t, api.messages(), 1)
	assert.Equal(t, "Trả lời: Chào lại", api.messages()[0].Text)
	tok, _, err = q.Token(t.Context(), testOAID)
	require.NoError(t, err)
	assert.False(t, tok.NeedsReauth)
	assert.Equal(t, "refresh-1", tok.RefreshToken)
	api.check(t)
}

func TestEvents(t *testing.T) {
	q := openBolt(t, filepath.Join(t.TempDir(), "zalo.db"))
	r := start(t, q, nil, nil, nil)
	now := time.Now()
	deliver(t, r.hook.URL, event("follow", "6142494823", "", "", now))
	deliver(t, r.hook.URL, event("follow", "6142494823", "", "", now)) // a re-delivery
	idle(t, q)
	deliver(t, r.hook.URL, event("user_send_image", "6142494823", "", "img-1", now))
	idle(t, q)
	deliver(t, r.hook.URL, event("oa_send_text", "3662729599332560487", "Trả lời: Chào", "echo-1", now))
	deliver(t, r.hook.URL, event("user_seen_message", "3662729599332560487", "", "seen-1", now))
	deliver(t, r.hook.URL, event("user_send_business_card", "6142494823", "", "x-1", now))
	idle(t, q)
	msgs := r.api.messages()
	require.Len(t, msgs, 2)
	assert.Contains(t, msgs[0].Text, "Xin chào")
	assert.NotEmpty(t, msgs[0].Buttons, "the greeting offers example questions")
	assert.Contains(t, msgs[1].Text, "chỉ đọc được tin nhắn chữ")
	assert.Equal(t, 1.0, counter(t, r.reg, "trolyao_zalo_webhooks_total", "outcome", "ignored"))
	assert.Equal(t, 1.0, counter(t, r.reg, "trolyao_zalo_webhooks_total", "outcome", "echo"), "an echo confirming nothing")
	assert.Equal(t, 1.0, counter(t, r.reg, "trolyao_zalo_webhooks_total", "outcome", "unknown_event"))
	r.api.check(t)
}

func TestPerUserOrder(t *testing.T) {
	stores(t, func(t *testing.T, q zalo.Queue) {
		ans := &fakeAnswerer{}
		r := start(t, q, nil, ans, func(o *zalo.Options) { o.Workers, o.Senders = 4, 3 })
		const users, each = 5, 6
		var wg sync.WaitGroup
		for u := range users {
			wg.Go(func() {
				for i := range each {
					deliver(t, r.hook.URL, event("user_send_text", fmt.Sprintf("70000000%02d", u), strconv.Itoa(i),
						fmt.Sprintf("u%d-m%d", u, i), time.Now()))
				}
			})
		}
		wg.Wait()
		idle(t, q)
		got := map[string][]string{}
		for _, m := range r.api.messages() {
			got[m.User] = append(got[m.User], m.Text)
		}
		require.Len(t, got, users)
		for u := range users {
			var want, asked []string
			for i := range each {
				want = append(want, "Trả lời: "+strconv.Itoa(i))
				asked = append(asked, strconv.Itoa(i))
			}
			id := fmt.Sprintf("70000000%02d", u)
			assert.Equal(t, want, got[id], "replies to user %d in order", u)
			assert.Equal(t, asked, ans.asked(zalo.ConversationID(testOAID, id)), "questions of user %d answered in order", u)
		}
		r.api.check(t)
	})
}

// TestNULInText: a text carrying U+0000 (valid JSON, but PostgreSQL text cannot hold it) is recorded and
// answered rather than refused with a 500 that Zalo would re-deliver for hours.
func TestNULInText(t *testing.T) {
	stores(t, func(t *testing.T, q zalo.Queue) {
		r := start(t, q, nil, nil, nil)
		deliver(t, r.hook.URL, event("user_send_text", "6142494823", "Chào\x00 bạn", "nul-1", time.Now()))
		idle(t, q)
		msgs := r.api.messages()
		require.Len(t, msgs, 1)
		assert.Equal(t, "Trả lời: Chào bạn", msgs[0].Text)

		body := event("user_send_text", "6142494823", "Chào", "nul\x002", time.Now())
		var e struct {
			Timestamp string `json:"timestamp"`
		}
		require.NoError(t, json.Unmarshal(body, &e))
		assert.Equal(t, http.StatusBadRequest, post(t, r.hook.URL, body, zalo.Sign(testAppID, body, e.Timestamp, testOASecret)),
			"a msg_id with U+0000 is malformed")
		r.api.check(t)
	})
}

// TestSlowSendWithinLease: a send the API takes longer than the lease to answer is abandoned before the lease
// ends (and retried under the same record) instead of completing after another sender took the message again
// — which delivered it twice.
func TestSlowSendWithinLease(t *testing.T) {
	stores(t, func(t *testing.T, q zalo.Queue) {
		api := newFakeZalo(t, testAppID, testAppSecret, firstAccess, firstRefresh)
		api.stall = func(n int) time.Duration {
			if n == 1 {
				return 3 * time.Second
			}
			return 0
		}
		r := start(t, q, api, nil, func(o *zalo.Options) { o.Senders, o.SendLease = 2, time.Second })
		deliver(t, r.hook.URL, event("user_send_text", "6142494823", "Chào", "slow-1", time.Now()))
		idle(t, q)
		r.stop() // waits for every send in flight
		require.Len(t, api.messages(), 1, "delivered once")
		assert.Equal(t, "Trả lời: Chào", api.messages()[0].Text)
		api.check(t)
	})
}

// TestUnansweredSend: the API delivers a message but its answer comes after the call's deadline, so the
// sender cannot know whether Zalo has it. The message waits for Zalo's echo, which confirms it: delivered
// once. Without the echo (not subscribed), it is sent again after the wait: delivered twice — the window the
// API's lack of an idempotency key leaves open.
func TestUnansweredSend(t *testing.T) {
	for _, echo := range []bool{true, false} {
		t.Run(fmt.Sprintf("echo=%v", echo), func(t *testing.T) {
			stores(t, func(t *testing.T, q zalo.Queue) {
				api := newFakeZalo(t, testAppID, testAppSecret, firstAccess, firstRefresh)
				api.answerDelay = func(n int) time.Duration {
					if n == 1 {
						return 2500 * time.Millisecond // the call ends after 1.5 s: three quarters of the lease
					}
					return 0
				}
				r := start(t, q, api, nil, nil)
				if echo {
					api.mu.Lock()
					api.echoTo = func() string { return r.hook.URL }
					api.mu.Unlock()
				}
				deliver(t, r.hook.URL, event("user_send_text", "6142494823", "Chào", "late-1", time.Now()))
				idle(t, q)
				r.stop()
				assert.Equal(t, 1.0, counter(t, r.reg, "trolyao_zalo_sends_total", "outcome", "unknown"))
				if echo {
					require.Len(t, api.messages(), 1, "delivered once")
					assert.Equal(t, 1.0, counter(t, r.reg, "trolyao_zalo_webhooks_total", "outcome", "echo"))
				} else {
					require.Len(t, api.messages(), 2, "sent again without an echo")
					assert.Equal(t, 1.0, counter(t, r.reg, "trolyao_zalo_unknown_sends_total", "resolution", "resent"))
				}
				api.check(t)
			})
		})
	}
}

// TestKeepCoversReplayWindow: finished jobs (their de-duplication keys) must outlive the replay window, or a
// re-delivery Zalo may still send after the purge would be answered a second time.
func TestKeepCoversReplayWindow(t *testing.T) {
	q := openBolt(t, filepath.Join(t.TempDir(), "zalo.db"))
	_, err := zalo.New(zalo.Options{OAs: []zalo.OA{testOA()}, Queue: q, Answerer: &fakeAnswerer{}, Keep: time.Minute})
	assert.ErrorIs(t, err, zalo.ErrConfig)
	_, err = zalo.New(zalo.Options{OAs: []zalo.OA{testOA()}, Queue: q, Answerer: &fakeAnswerer{}, Keep: time.Hour})
	assert.NoError(t, err)
}

// markdownAnswerer answers every question with a real first answer of the assistant's shape: Markdown
// (bold, a list, a link), a clarifying question's options whose names share a long start, and "Xem đầy đủ".
type markdownAnswerer struct{}

const longName = "Cấp Phiếu Lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam, người Việt Nam đang cư trú ở nước ngoài"

func (markdownAnswerer) Reply(_ context.Context, conv, _ string, _ func(assistant.Event)) (assistant.Answer, error) {
	text := "**Cấp lại thẻ căn cước** (mã 1.014064).\nThời hạn: 7 ngày làm việc.\n\n**Lệ phí:**\n" +
		"- Nộp trực tiếp: 70.000 đồng\n- Nộp trực tuyến: 35.000 đồng\n\nChi tiết: bấm «Xem đầy đủ».\n" +
		"Nguồn: [Cổng Dịch vụ công quốc gia – mã 1.014064](https://dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bf7) (dữ liệu ngày 01/07/2026)." +
		strings.Repeat("\n- Giấy tờ khác", 150)
	return assistant.Answer{ConversationID: conv, Text: text,
		Citations:   []assistant.Citation{{Code: "1.014064", Name: "Cấp lại thẻ căn cước", URL: "https://dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bf7"}},
		Options:     []assistant.Citation{{Code: "3.000333", Name: longName + " (cấp xã)"}, {Code: "3.000334", Name: longName + " theo yêu cầu của cơ quan nhà nước"}},
		Suggestions: []string{assistant.MoreReply, "Cần giấy tờ gì?", "Nộp ở đâu?"}}, nil
}

// Zalo gets the Markdown answer as clean plain text within its limit, the same content, the options once as
// distinct buttons and "Xem đầy đủ" as a quick reply.
func TestMarkdownAsPlainText(t *testing.T) {
	q := openBolt(t, filepath.Join(t.TempDir(), "zalo.db"))
	r := start(t, q, nil, markdownAnswerer{}, nil)
	deliver(t, r.hook.URL, event("user_send_text", "6142494823", "lệ phí cấp lại căn cước", "m1", time.Now()))
	idle(t, q)
	msgs := r.api.messages()
	require.NotEmpty(t, msgs)
	var all strings.Builder
	for _, m := range msgs {
		assert.LessOrEqual(t, utf8.RuneCountInString(m.Text), zalo.DefaultMaxTextRunes)
		assert.NotContains(t, m.Text, "**")
		assert.NotContains(t, m.Text, "](")
		all.WriteString(m.Text + "\n")
	}
	text := all.String()
	for _, want := range []string{"Cấp lại thẻ căn cước (mã 1.014064)", "Lệ phí:\n• Nộp trực tiếp: 70.000 đồng", "• Nộp trực tuyến: 35.000 đồng",
		"Cổng Dịch vụ công quốc gia – mã 1.014064: https://dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bf7 (dữ liệu ngày 01/07/2026)"} {
		assert.Contains(t, text, want)
	}
	buttons := msgs[len(msgs)-1].Buttons
	require.Len(t, buttons, zalo.DefaultMaxButtons)
	titles := map[string]bool{}
	for _, b := range buttons {
		title, _ := b["title"].(string)
		assert.LessOrEqual(t, utf8.RuneCountInString(title), zalo.DefaultButtonTitleMax)
		assert.False(t, titles[title], "button %q twice", title)
		titles[title] = true
	}
	assert.Equal(t, "3.000333", strings.TrimSuffix(strings.SplitAfter(buttons[1]["payload"].(string), "(mã ")[1], ")"))
	assert.Equal(t, assistant.MoreReply, buttons[3]["title"])
	r.api.check(t)
}

// badLinkAnswerer cites a procedure with a link that is not https on an allowed domain.
type badLinkAnswerer struct{ url string }

func (a badLinkAnswerer) Reply(_ context.Context, conv, text string, _ func(assistant.Event)) (assistant.Answer, error) {
	return assistant.Answer{ConversationID: conv, Text: "Trả lời: " + text,
		Citations:   []assistant.Citation{{Code: "1.014064", Name: "Cấp lại thẻ căn cước", URL: a.url}},
		Suggestions: []string{"Lệ phí bao nhiêu?"}}, nil
}

// A citation whose link knowledge.CheckURL refuses gets no "Xem thủ tục" button.
func TestBadCitationURLNoButton(t *testing.T) {
	for i, u := range []string{"javascript:alert(1)", "http://dichvucong.gov.vn/a", "https://evil.example/a",
		"https://dichvucong.gov.vn@evil.example/"} {
		t.Run(u, func(t *testing.T) {
			q := openBolt(t, filepath.Join(t.TempDir(), "zalo.db"))
			r := start(t, q, nil, badLinkAnswerer{url: u}, nil)
			deliver(t, r.hook.URL, event("user_send_text", "6142494823", "Chào", fmt.Sprintf("m%d", i), time.Now()))
			idle(t, q)
			msgs := r.api.messages()
			require.Len(t, msgs, 1)
			assert.NotContains(t, msgs[0].Raw, u)
			assert.NotContains(t, msgs[0].Raw, "oa.open.url")
			assert.Contains(t, msgs[0].Raw, "Lệ phí bao nhiêu?")
			r.api.check(t)
		})
	}
}

// collectors is a Registerer that keeps what is registered with it, so that a test can read one metric with
// testutil.ToFloat64.
type collectors struct {
	prometheus.Registerer
	mu     sync.Mutex
	byName map[string]prometheus.Collector
}

func (c *collectors) Register(col prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 10)
	col.Describe(ch)
	close(ch)
	c.mu.Lock()
	defer c.mu.Unlock()
	for d := range ch {
		name := d.String()
		name = name[strings.Index(name, `fqName: "`)+len(`fqName: "`):]
		c.byName[name[:strings.IndexByte(name, '"')]] = col
	}
	return c.Registerer.Register(col)
}

func (c *collectors) counterVec(t testing.TB, name string) *prometheus.CounterVec {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.byName[name].(*prometheus.CounterVec)
	require.True(t, ok, "%s is not a registered counter vector", name)
	return v
}

// TestTokenRefreshCountedOnce: one refresh of the access token adds exactly 1 to
// trolyao_zalo_token_refreshes_total{outcome="refreshed"} — not 1 more when the configured token is first
// stored, nor when another sender finds the token a concurrent refresh already replaced.
func TestTokenRefreshCountedOnce(t *testing.T) {
	stores(t, func(t *testing.T, q zalo.Queue) {
		reg := &collectors{Registerer: prometheus.NewRegistry(), byName: map[string]prometheus.Collector{}}
		r := start(t, q, nil, nil, func(o *zalo.Options) { o.Registerer = reg; o.Senders = 4 })
		refreshes := reg.counterVec(t, "trolyao_zalo_token_refreshes_total")
		user := func(i int) string { return fmt.Sprintf("61424948%02d", i) }

		deliver(t, r.hook.URL, event("user_send_text", user(0), "một", "m0", time.Now()))
		idle(t, q)
		require.Len(t, r.api.messages(), 1)
		assert.Zero(t, r.api.refreshCount())
		assert.Equal(t, 0.0, testutil.ToFloat64(refreshes.WithLabelValues("refreshed")), "the configured token was used, not refreshed")

		r.api.expire()
		deliver(t, r.hook.URL, event("user_send_text", user(1), "hai", "m1", time.Now()))
		idle(t, q)
		require.Len(t, r.api.messages(), 2)
		require.Equal(t, 1, r.api.refreshCount())
		assert.Equal(t, 1.0, testutil.ToFloat64(refreshes.WithLabelValues("refreshed")), "one refresh, counted once")

		// Several senders meet the expired token at once and wait while one of them refreshes it (slowly): the
		// refresh serves them all, and is counted once.
		r.api.mu.Lock()
		r.api.refreshDelay = 300 * time.Millisecond
		r.api.mu.Unlock()
		r.api.expire()
		for i := 2; i <= 7; i++ {
			deliver(t, r.hook.URL, event("user_send_text", user(i), "ba", fmt.Sprintf("m%d", i), time.Now()))
		}
		idle(t, q)
		require.Len(t, r.api.messages(), 8)
		require.Equal(t, 2, r.api.refreshCount())
		assert.Equal(t, 2.0, testutil.ToFloat64(refreshes.WithLabelValues("refreshed")), "two refreshes in all")
		assert.Equal(t, 0.0, testutil.ToFloat64(refreshes.WithLabelValues("error")))
		assert.Equal(t, 0.0, testutil.ToFloat64(refreshes.WithLabelValues("rejected")))
		r.api.check(t)
	})
}

// blinkingQueue is a queue whose store fails for a moment: the first calls of Retry, Complete, BeginSend and
// FinishSend return an error (a database restarting) without doing anything.
type blinkingQueue struct {
	zalo.Queue
	mu                                sync.Mutex
	retries, completes, begins, sends int // calls still to fail
}

var errBlink = fmt.Errorf("read tcp 127.0.0.1:5432: connection reset by peer")

func (q *blinkingQueue) fail(n *int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if *n > 0 {
		*n--
		return true
	}
	return false
}

func (q *blinkingQueue) Retry(ctx context.Context, j zalo.Job, at time.Time) error {
	if q.fail(&q.retries) {
		return errBlink
	}
	return q.Queue.Retry(ctx, j, at)
}

func (q *blinkingQueue) Complete(ctx context.Context, j zalo.Job, now time.Time, out []zalo.Outbound) error {
	if q.fail(&q.completes) {
		return errBlink
	}
	return q.Queue.Complete(ctx, j, now, out)
}

func (q *blinkingQueue) BeginSend(ctx context.Context, s zalo.Send, now time.Time) (zalo.Send, error) {
	if q.fail(&q.begins) {
		return zalo.Send{}, errBlink
	}
	return q.Queue.BeginSend(ctx, s, now)
}

func (q *blinkingQueue) FinishSend(ctx context.Context, s zalo.Send, now time.Time, o zalo.Outcome) error {
	if q.fail(&q.sends) {
		return errBlink
	}
	return q.Queue.FinishSend(ctx, s, now, o)
}

// failingOnce fails its first answer, as an assistant does whose database is down.
type failingOnce struct {
	fakeAnswerer
	failed atomic.Bool
}

func (a *failingOnce) Reply(ctx context.Context, conv, text string, ev func(assistant.Event)) (assistant.Answer, error) {
	if a.failed.CompareAndSwap(false, true) {
		return assistant.Answer{}, errBlink
	}
	return a.fakeAnswerer.Reply(ctx, conv, text, ev)
}

// TestStoreBlinkSettled: when the store fails for a moment as a worker records a job's retry or its answer,
// or a sender a send before the call or its outcome after, they record it again once the store is back,
// instead of leaving the job or the message under its lease (here a minute) for another worker to take: the
// message is answered within seconds, once, and no send is left with an unknown outcome.
func TestStoreBlinkSettled(t *testing.T) {
	stores(t, func(t *testing.T, q zalo.Queue) {
		bq := &blinkingQueue{Queue: q, retries: 2, completes: 2, begins: 2, sends: 2}
		r := start(t, bq, nil, &failingOnce{}, func(o *zalo.Options) { o.JobLease, o.SendLease = time.Minute, time.Minute })
		began := time.Now()
		deliver(t, r.hook.URL, event("user_send_text", "6142494823", "làm lại căn cước", "blink-1", time.Now()))
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		r.api.waitDelivered(t, ctx, 1)
		idle(t, q)
		t.Logf("answered %v after the delivery", time.Since(began).Round(time.Millisecond))
		require.Len(t, r.api.messages(), 1, "answered once")
		assert.Equal(t, "Trả lời: làm lại căn cước", r.api.messages()[0].Text)
		assert.Zero(t, counter(t, r.reg, "trolyao_zalo_sends_total", "outcome", "unknown"), "no send left in flight")
		bq.mu.Lock()
		assert.Zero(t, bq.retries+bq.completes+bq.begins+bq.sends, "every failure was met")
		bq.mu.Unlock()
		r.api.check(t)
	})
}
