package web

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/internal/chatload"
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
		res := chatload.ReconnectFlood(u, os.Getenv(envFloodFrom), 10, d)
		if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
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
		idle, failed := chatload.Users(e.ts.Client(), e.ts.URL, prefix, 4, 200*time.Millisecond, time.Now().Add(time.Second))
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
		lat, failed := chatload.Users(e.ts.Client(), e.ts.URL, prefix, 4, 400*time.Millisecond, time.Now().Add(floodFor))
		var res chatload.FloodResult
		require.NoError(t, json.NewDecoder(out).Decode(&res))
		require.NoError(t, cmd.Wait())

		budget := int64(float64(DefaultClientRate)*res.Elapsed.Seconds()) + DefaultClientBurst
		bound := max(200*time.Millisecond, 3*chatload.P95(idle))
		t.Logf("flood %v: %d websockets, %d handshakes refused, %d messages accepted (budget %d), %d "+
			"rate_limited, %d refused otherwise; other users: %d requests, %d failed, p95 %v, max %v (without "+
			"the flood: p95 %v)", res.Elapsed.Round(time.Millisecond), res.Conns, res.Refused, res.Accepted,
			budget, res.Limited, res.Other, len(lat), len(failed), chatload.P95(lat), slices.Max(lat), chatload.P95(idle))
		assert.Positive(t, res.Refused+res.Limited, "the flood was refused")
		assert.LessOrEqual(t, res.Accepted, budget, "messages accepted from one address")
		assert.Empty(t, failed, "the other users' requests answered")
		if chatload.P95(lat) <= bound {
			return
		}
		if attempt == 2 {
			t.Errorf("the other users' p95 %v is over %v", chatload.P95(lat), bound)
			return
		}
	}
}
