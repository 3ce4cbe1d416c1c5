package web

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

func TestClientTableBudget(t *testing.T) {
	tb := newClientTable(2, 3, 0, 10)
	t0 := time.Unix(1000, 0)
	for range 3 {
		ok, _ := tb.take("a", t0)
		require.True(t, ok)
	}
	ok, wait := tb.take("a", t0)
	assert.False(t, ok)
	assert.Equal(t, 500*time.Millisecond, wait)
	spent, wait := tb.spent("a", t0.Add(100*time.Millisecond))
	assert.True(t, spent)
	assert.Equal(t, 400*time.Millisecond, wait)
	spent, _ = tb.spent("b", t0) // never seen: a full bucket
	assert.False(t, spent)
	assert.Equal(t, 1, tb.len(), "spent does not remember a client")

	ok, _ = tb.take("b", t0) // another client has its own budget
	assert.True(t, ok)
	ok, _ = tb.take("a", t0.Add(500*time.Millisecond)) // one token refilled
	assert.True(t, ok)
	ok, _ = tb.take("a", t0.Add(500*time.Millisecond))
	assert.False(t, ok)
	for range 3 { // refilled to the burst, not beyond
		ok, _ = tb.take("a", t0.Add(time.Hour))
		assert.True(t, ok)
	}
	ok, _ = tb.take("a", t0.Add(time.Hour))
	assert.False(t, ok)

	free := newClientTable(rate.Inf, 1, 0, 10)
	for range 100 {
		ok, _ := free.take("a", t0)
		require.True(t, ok)
	}
	assert.Equal(t, 0, free.len())
}

// TestClientTableBounded: the table never holds more than its limit; clients whose bucket has refilled and who
// have no answer in progress go first, then the least recently seen.
func TestClientTableBounded(t *testing.T) {
	tb := newClientTable(1, 2, 1, 3) // a spent bucket refills in 2 s
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	key := func(i int) string { return "198.51.100." + strconv.Itoa(i) }
	for i := range 3 { // clients 0, 1, 2 spend their budget at 0, 0.5 and 1 s
		tb.take(key(i), at(500*i))
		tb.take(key(i), at(500*i))
	}
	require.Equal(t, 3, tb.len())
	busy := tb.slots(key(0), at(2600))
	busy <- struct{}{} // an answer of client 0 in progress

	// At 2.6 s the buckets of clients 0 and 1 are full again, client 2's is not, and client 0 has an answer in
	// progress: a new client takes client 1's place.
	tb.take(key(3), at(2600))
	tb.mu.Lock()
	assert.ElementsMatch(t, []string{key(0), key(2), key(3)}, keys(tb))
	tb.mu.Unlock()

	// All active: the least recently seen goes (client 2), however spent its bucket.
	tb.take(key(4), at(2600))
	tb.mu.Lock()
	assert.ElementsMatch(t, []string{key(0), key(3), key(4)}, keys(tb))
	tb.mu.Unlock()

	// Long idle, the table empties as new clients come.
	<-busy
	for i := 5; i < 1000; i++ {
		tb.take(key(i%250), t0.Add(time.Duration(i)*time.Hour))
		require.LessOrEqual(t, tb.len(), 3)
	}
	assert.Equal(t, 1, tb.len())
}

func keys(tb *clientTable) []string {
	var out []string
	for k := range tb.m {
		out = append(out, k)
	}
	return out
}

// TestClientBudgetShared: all the websockets of one client and its REST calls share one budget; behind a
// trusted proxy, an IPv6 client is its /64 (TestClientIP checks the keys themselves).
func TestClientBudgetShared(t *testing.T) {
	cfg := Config{ClientRate: 0.001, ClientBurst: 3, MessageBurst: 10,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	e := newEnv(t, cfg)
	from := func(a string) http.Header { return http.Header{"X-Forwarded-For": {a}} }
	empty := map[string]string{"type": "message", "id": "e", "text": " "} // costs a token, gets "empty"

	a := e.dial(t, from("2001:db8:1:2::a"))
	a.send(empty)
	assert.Equal(t, "empty", a.read().Code)
	b := e.dial(t, from("2001:db8:1:2:ffff::1")) // same /64, another connection
	b.send(empty)
	assert.Equal(t, "empty", b.read().Code)
	resp := e.post(t, "/api/v1/chat", `{"text":"đăng ký khai sinh"}`, from("2001:db8:1:2::b"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// The budget of the /64 is spent: its REST calls get 429, its open websockets rate_limited (and stay
	// open), and it opens no new websocket.
	resp = e.post(t, "/api/v1/chat", `{"text":"đăng ký khai sinh"}`, from("2001:db8:1:2::c"))
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "rate_limited", errorCode(t, resp))
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.InDelta(t, 1000, retry, 1)
	resp = e.post(t, "/api/v1/chat/feedback", `{"conversation_id":"`+newConversationID()+`","message_id":1,"value":1}`,
		from("2001:db8:1:2::c"))
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	a.send(empty)
	f := a.read()
	assert.Equal(t, frame{Type: "error", ID: "e", Code: "rate_limited", Message: errRateLimited.Message}, f)
	a.send(map[string]string{"type": "ping"})
	assert.Equal(t, "pong", a.read().Type)
	_, hr, err := websocket.DefaultDialer.Dial(e.url, from("2001:db8:1:2::d"))
	require.Error(t, err)
	hr.Body.Close()
	assert.Equal(t, http.StatusTooManyRequests, hr.StatusCode)
	assert.NotEmpty(t, hr.Header.Get("Retry-After"))
	assert.Equal(t, 4.0, metricValue(e.s.chat.m.rejected.WithLabelValues("rate_limited")))

	// Another /64, another IPv4 address: budgets of their own.
	c := e.dial(t, from("2001:db8:1:3::a"))
	c.send(empty)
	assert.Equal(t, "empty", c.read().Code)
	resp = e.post(t, "/api/v1/chat", `{"text":"đăng ký khai sinh"}`, from("203.0.113.5"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestClientInFlight: one client holds at most ClientInFlight of the answer slots, however many connections it
// opens; its next message waits BusyWait and gets busy while another client's is answered at once.
func TestClientInFlight(t *testing.T) {
	e := newEnv(t, Config{MaxInFlight: 4, ClientInFlight: 2, BusyWait: 300 * time.Millisecond,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	g := newGate(e.s.Assistant)
	e.s.Assistant = g
	from := func(a string) http.Header { return http.Header{"X-Forwarded-For": {a}} }
	var conns []*client
	for i := range 2 {
		c := e.dial(t, from("203.0.113.7"))
		c.send(map[string]string{"type": "message", "id": strconv.Itoa(i), "text": "làm lại căn cước cần gì"})
		assert.Equal(t, "ack", c.read().Type)
		conns = append(conns, c)
	}
	<-g.entered
	<-g.entered

	// The flooding client's third answer waits for one of its own slots, not for the server's free ones.
	c := e.dial(t, from("203.0.113.7"))
	c.send(map[string]string{"type": "message", "id": "3", "text": "đăng ký khai sinh"})
	assert.Equal(t, "ack", c.read().Type)
	start := time.Now()
	resp := e.post(t, "/api/v1/chat", `{"text":"đăng ký khai sinh"}`, from("203.0.113.7"))
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "busy", errorCode(t, resp))
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	for f := c.read(); f.Type != "error"; f = c.read() {
		require.NotEqual(t, "answer", f.Type)
	}
	select {
	case <-g.entered:
		t.Fatal("a third answer of one client was composed")
	default:
	}

	// Another client is answered meanwhile.
	got := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/chat", strings.NewReader(`{"text":"đăng ký khai sinh"}`))
		req.Header = from("198.51.100.20")
		resp, err := e.ts.Client().Do(req)
		if err != nil {
			got <- 0
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("another client's answer did not start")
	}
	close(g.release)
	assert.Equal(t, http.StatusOK, <-got)
	for _, c := range conns {
		for f := c.read(); f.Type != "answer"; f = c.read() {
			require.NotEqual(t, "error", f.Type, "%+v", f)
		}
	}
}
