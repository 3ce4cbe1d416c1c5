package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Environment of the flooding process of TestReconnectFlood.
const (
	envFloodURL  = "WEB_FLOOD_URL"  // the server's /ws URL
	envFloodFrom = "WEB_FLOOD_FROM" // the client address, sent as X-Forwarded-For
	envFloodFor  = "WEB_FLOOD_FOR"  // how long, a time.Duration
)

func init() {
	// The test binary doubles as the flooding client of TestReconnectFlood, so that the flood's own work does
	// not run in the server's process (an attacker's does not either).
	if u := os.Getenv(envFloodURL); u != "" {
		d, err := time.ParseDuration(os.Getenv(envFloodFor))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		res := reconnectFlood(u, os.Getenv(envFloodFrom), 10, d)
		if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// floodResult counts what a reconnect flood got.
type floodResult struct {
	Elapsed  time.Duration // from the first handshake to the last reply
	Conns    int64         // websockets opened
	Refused  int64         // handshakes refused (HTTP 429)
	Accepted int64         // messages acknowledged
	Limited  int64         // messages refused rate_limited
	Other    int64         // messages refused otherwise
}

// reconnectFlood runs loops goroutines for d, each repeating "connect, send 5 messages, read the ack or
// refusal of each, close" from the client address from (the server trusts the test's proxy); a refused
// handshake is retried at once.
func reconnectFlood(url, from string, loops int, d time.Duration) floodResult {
	var conns, refused, accepted, limited, other atomic.Int64
	h := http.Header{"X-Forwarded-For": {from}}
	start := time.Now()
	until := start.Add(d)
	var wg sync.WaitGroup
	for range loops {
		wg.Go(func() {
			for time.Now().Before(until) {
				ws, resp, err := websocket.DefaultDialer.Dial(url, h)
				if resp != nil {
					resp.Body.Close()
				}
				if err != nil {
					refused.Add(1)
					continue
				}
				conns.Add(1)
				for _, code := range floodOnce(ws) {
					switch code {
					case "":
						accepted.Add(1)
					case "rate_limited":
						limited.Add(1)
					default:
						other.Add(1)
					}
				}
				ws.Close()
			}
		})
	}
	wg.Wait()
	return floodResult{Elapsed: time.Since(start), Conns: conns.Load(), Refused: refused.Load(),
		Accepted: accepted.Load(), Limited: limited.Load(), Other: other.Load()}
}

// floodOnce sends 5 messages on a new websocket and returns, for each, "" when it was acknowledged or the
// code of its refusal.
func floodOnce(ws *websocket.Conn) []string {
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws.ReadMessage(); err != nil { // hello
		return nil
	}
	for i := range 5 {
		msg := map[string]string{"type": "message", "id": strconv.Itoa(i), "text": "làm lại căn cước cần gì"}
		if ws.WriteJSON(msg) != nil {
			return nil
		}
	}
	seen := map[string]bool{}
	var out []string
	for len(seen) < 5 {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return out
		}
		var f frame
		if json.Unmarshal(data, &f) != nil || seen[f.ID] || (f.Type != "ack" && f.Type != "error") {
			continue // an answer's frames
		}
		seen[f.ID] = true
		out = append(out, f.Code)
	}
	return out
}

// restLatencies asks the REST chat API every interval until the deadline, from the client address from, and
// returns the latency of each request and the statuses other than 200 OK (0 for a transport error).
func restLatencies(e *env, from string, interval time.Duration, until time.Time) (lat []time.Duration, failed []int) {
	qs := []string{"đăng ký khai sinh", "làm lại căn cước cần gì", "cấp phiếu lý lịch tư pháp", "đăng ký kết hôn"}
	for i := 0; time.Now().Before(until); i++ {
		start := time.Now()
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/chat", strings.NewReader(fmt.Sprintf(`{"text":%q}`, qs[i%len(qs)])))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", from)
		status := 0
		if resp, err := e.ts.Client().Do(req); err == nil {
			if _, err := io.Copy(io.Discard, resp.Body); err == nil {
				status = resp.StatusCode
			}
			resp.Body.Close()
		}
		lat = append(lat, time.Since(start))
		if status != http.StatusOK {
			failed = append(failed, status)
		}
		time.Sleep(time.Until(start.Add(interval)))
	}
	return lat, failed
}

// users runs restLatencies for n users, from the addresses prefix.1 to prefix.n, their starts spread over one
// interval, and merges their results.
func users(e *env, prefix string, n int, interval time.Duration, until time.Time) (lat []time.Duration, failed []int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		from := prefix + "." + strconv.Itoa(i+1)
		wg.Go(func() {
			time.Sleep(time.Duration(i) * interval / time.Duration(n))
			l, f := restLatencies(e, from, interval, until)
			mu.Lock()
			defer mu.Unlock()
			lat, failed = append(lat, l...), append(failed, f...)
		})
	}
	wg.Wait()
	return lat, failed
}

func p95(lat []time.Duration) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[(len(s)*95+99)/100-1]
}

// TestReconnectFlood: one address repeating "connect, send 5, close" on 10 goroutines (in another process)
// for 4 s (WEB_FLOOD_SECONDS) gets no more messages accepted than its budget (rate × seconds + burst),
// whatever the number of websockets it tries, and other users' REST chat meanwhile (4 users, 10 requests a
// second in all) stays fast: p95 ≤ 200 ms or, on a machine so loaded (or under the race detector) that the
// same requests take longer without the flood, ≤ 3 × their p95 measured just before. The latencies depend on
// what else the machine runs: when they miss the bound, the measurement is made once more, with a fresh
// flooding address and users.
func TestReconnectFlood(t *testing.T) {
	floodFor := 4 * time.Second
	if v := os.Getenv("WEB_FLOOD_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err)
		floodFor = time.Duration(n) * time.Second
	}
	e := newEnv(t, Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	exe, err := os.Executable()
	require.NoError(t, err)
	for attempt := 1; ; attempt++ {
		prefix := "198.51." + strconv.Itoa(100+2*attempt)
		idle, failed := users(e, prefix, 4, 200*time.Millisecond, time.Now().Add(time.Second))
		require.Empty(t, failed)

		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), envFloodURL+"="+e.url, envFloodFrom+"=203.0.113."+strconv.Itoa(attempt),
			envFloodFor+"="+floodFor.String())
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		// Each user asks at most 2.5 times a second, within its own budget (2 per second, burst 20) for up
		// to 40 s.
		prefix = "198.51." + strconv.Itoa(101+2*attempt)
		lat, failed := users(e, prefix, 4, 400*time.Millisecond, time.Now().Add(floodFor))
		var res floodResult
		require.NoError(t, json.NewDecoder(out).Decode(&res))
		require.NoError(t, cmd.Wait())

		budget := int64(float64(DefaultClientRate)*res.Elapsed.Seconds()) + DefaultClientBurst
		bound := max(200*time.Millisecond, 3*p95(idle))
		t.Logf("flood %v: %d websockets, %d handshakes refused, %d messages accepted (budget %d), %d "+
			"rate_limited, %d refused otherwise; other users: %d requests, %d failed, p95 %v, max %v (without "+
			"the flood: p95 %v)", res.Elapsed.Round(time.Millisecond), res.Conns, res.Refused, res.Accepted,
			budget, res.Limited, res.Other, len(lat), len(failed), p95(lat), slices.Max(lat), p95(idle))
		assert.Positive(t, res.Refused+res.Limited, "the flood was refused")
		assert.LessOrEqual(t, res.Accepted, budget, "messages accepted from one address")
		assert.Empty(t, failed, "the other users' requests answered")
		if p95(lat) <= bound {
			return
		}
		if attempt == 2 {
			t.Errorf("the other users' p95 %v is over %v", p95(lat), bound)
			return
		}
	}
}
