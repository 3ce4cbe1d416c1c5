// Package chatload holds the clients of the chat load and attack tests: a reconnect flood over websockets
// from one client address, and REST chat users that measure their latency. The tests of channels/web run
// them against a server in the test, the attack suite of cmd/trolyao against a serve process. It imports the
// standard library and gorilla/websocket.
package chatload

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// FloodResult counts what a reconnect flood got.
type FloodResult struct {
	Elapsed  time.Duration // from the first handshake to the last reply
	Conns    int64         // websockets opened
	Refused  int64         // handshakes refused (HTTP 429)
	Accepted int64         // messages acknowledged
	Limited  int64         // messages refused rate_limited
	Other    int64         // messages refused otherwise
}

// ReconnectFlood runs loops goroutines for d, each repeating "connect, send 5 messages, read the ack or
// refusal of each, close" to the websocket url from the client address from (sent as X-Forwarded-For: the
// server must trust the flood's proxy); a refused handshake is retried at once.
func ReconnectFlood(url, from string, loops int, d time.Duration) FloodResult {
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
	return FloodResult{Elapsed: time.Since(start), Conns: conns.Load(), Refused: refused.Load(),
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
		var f struct{ Type, ID, Code string }
		if json.Unmarshal(data, &f) != nil || seen[f.ID] || (f.Type != "ack" && f.Type != "error") {
			continue // an answer's frames
		}
		seen[f.ID] = true
		out = append(out, f.Code)
	}
	return out
}

// restLatencies asks the REST chat API at base every interval until the deadline, from the client address
// from, and returns the latency of each request and the statuses other than 200 OK (0 for a transport error).
func restLatencies(c *http.Client, base, from string, interval time.Duration, until time.Time) (lat []time.Duration, failed []int) {
	qs := []string{"đăng ký khai sinh", "làm lại căn cước cần gì", "cấp phiếu lý lịch tư pháp", "đăng ký kết hôn"}
	for i := 0; time.Now().Before(until); i++ {
		start := time.Now()
		req, _ := http.NewRequest("POST", base+"/api/v1/chat", strings.NewReader(fmt.Sprintf(`{"text":%q}`, qs[i%len(qs)])))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", from)
		status := 0
		if resp, err := c.Do(req); err == nil {
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

// Users runs n REST chat users against the server at base until the deadline, from the addresses prefix.1 to
// prefix.n, each asking every interval, their starts spread over one interval, and merges their results:
// the latency of each request and the statuses other than 200 OK (0 for a transport error).
func Users(c *http.Client, base, prefix string, n int, interval time.Duration, until time.Time) (lat []time.Duration, failed []int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		from := prefix + "." + strconv.Itoa(i+1)
		wg.Go(func() {
			time.Sleep(time.Duration(i) * interval / time.Duration(n))
			l, f := restLatencies(c, base, from, interval, until)
			mu.Lock()
			defer mu.Unlock()
			lat, failed = append(lat, l...), append(failed, f...)
		})
	}
	wg.Wait()
	return lat, failed
}

// P95 is the 95th percentile of lat (which must not be empty).
func P95(lat []time.Duration) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[(len(s)*95+99)/100-1]
}
