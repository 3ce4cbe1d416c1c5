package zalo_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/channels/zalo"
	"github.com/trolyao/trolyao/knowledge/postgres/pgtest"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// BenchmarkWebhookAck measures the acknowledgement latency of the webhook — verify, durable write, 200 — over
// real HTTP from concurrent clients, with the workers and senders running behind it (a fake answerer and
// the fake Zalo API). Each iteration posts TROLYAO_ZALO_BENCH_N signed deliveries (default 2,000) from
// TROLYAO_ZALO_BENCH_CLIENTS clients (default 16) for 200 users; p50/p95/p99 are reported in milliseconds.
//
//	TROLYAO_TEST_DATABASE=… go test -run '^$' -bench WebhookAck -benchtime 1x ./channels/zalo/
func BenchmarkWebhookAck(b *testing.B) {
	n := benchEnv(b, "TROLYAO_ZALO_BENCH_N", 2000)
	clients := benchEnv(b, "TROLYAO_ZALO_BENCH_CLIENTS", 16)
	for _, store := range []string{"bolt", "postgres"} {
		b.Run(store, func(b *testing.B) {
			var q zalo.Queue
			if store == "bolt" {
				q = openBolt(b, filepath.Join(b.TempDir(), "zalo.db"))
			} else {
				q = openPG(b, pgtest.Schema(b))
			}
			r := start(b, q, nil, nil, nil)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
			var (
				mu  sync.Mutex
				lat []time.Duration
				seq int
			)
			for b.Loop() {
				work := make(chan int)
				var wg sync.WaitGroup
				for range clients {
					wg.Go(func() {
						for i := range work {
							now := time.Now()
							body := event("user_send_text", fmt.Sprintf("8%09d", i%200), "làm lại căn cước cần gì",
								fmt.Sprintf("bench-%d", i), now)
							sig := zalo.Sign(testAppID, body, strconv.FormatInt(now.UnixMilli(), 10), testOASecret)
							req, err := http.NewRequest(http.MethodPost, r.hook.URL+"/webhooks/zalo/"+testOAID, bytes.NewReader(body))
							require.NoError(b, err)
							req.Header.Set("X-ZEvent-Signature", sig)
							t0 := time.Now()
							resp, err := client.Do(req)
							require.NoError(b, err)
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							d := time.Since(t0)
							require.Equal(b, http.StatusOK, resp.StatusCode)
							mu.Lock()
							lat = append(lat, d)
							mu.Unlock()
						}
					})
				}
				for range n {
					seq++
					work <- seq
				}
				close(work)
				wg.Wait()
			}
			b.StopTimer()
			storetest.ReportLatency(b, lat)
			idle(b, q)
		})
	}
}

func benchEnv(b *testing.B, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(b, err, name)
		return n
	}
	return def
}
