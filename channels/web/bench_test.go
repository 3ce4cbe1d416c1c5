package web

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/trolyao/trolyao/knowledge/storetest"
)

// Environment of the client process of BenchmarkIdleWebsockets.
const (
	envClientURL = "WEB_BENCH_CLIENT_URL"
	envClientN   = "WEB_BENCH_CLIENT_N"
)

func init() {
	// The test binary doubles as the client process of BenchmarkIdleWebsockets, so that the server's memory
	// is measured without the clients'.
	if u := os.Getenv(envClientURL); u != "" {
		n, _ := strconv.Atoi(os.Getenv(envClientN))
		os.Exit(idleClients(u, n))
	}
}

// idleClients opens n websockets to u, reads each hello, says "ready" on stdout and holds them open, answering
// pings, until stdin closes.
func idleClients(u string, n int) int {
	d := websocket.Dialer{ReadBufferSize: 256, WriteBufferSize: 256, HandshakeTimeout: 30 * time.Second}
	conns := make([]*websocket.Conn, 0, n)
	for i := range n {
		ws, resp, err := d.Dial(u, nil)
		if err != nil {
			fmt.Fprintf(os.Stderr, "dial %d: %v\n", i, err)
			return 1
		}
		resp.Body.Close()
		if _, _, err := ws.ReadMessage(); err != nil {
			fmt.Fprintf(os.Stderr, "hello %d: %v\n", i, err)
			return 1
		}
		conns = append(conns, ws)
	}
	for _, ws := range conns {
		go func() { // answers the server's pings
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// BenchmarkIdleWebsockets measures the server's memory per idle websocket: the clients (WEB_BENCH_CONNS,
// default 10,000) run in a child process; the server's heap and stacks in use (after GC) and the memory it
// obtained from the OS are compared before and after they connect. Run it once: -benchtime=1x.
func BenchmarkIdleWebsockets(b *testing.B) {
	n := 10000
	if v := os.Getenv("WEB_BENCH_CONNS"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(b, err)
	}
	e := newEnv(b, Config{MaxConnsPerIP: -1})
	for b.Loop() {
		before := memory()
		exe, err := os.Executable()
		require.NoError(b, err)
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), envClientURL+"="+e.url, envClientN+"="+strconv.Itoa(n))
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		require.NoError(b, err)
		stdout, err := cmd.StdoutPipe()
		require.NoError(b, err)
		require.NoError(b, cmd.Start())
		line, err := bufio.NewReader(stdout).ReadString('\n')
		require.NoError(b, err, "the client process failed")
		require.Equal(b, "ready\n", line)
		require.Equal(b, float64(n), metricValue(e.s.chat.m.open))
		after := memory()
		stdin.Close()
		require.NoError(b, cmd.Wait())

		per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
		b.ReportMetric(per(after.heap+after.stack, before.heap+before.stack), "heap+stack-B/conn")
		b.ReportMetric(per(after.stack, before.stack), "stack-B/conn")
		b.ReportMetric(per(after.sys, before.sys), "sys-B/conn")
		b.ReportMetric((float64(after.goroutines)-float64(before.goroutines))/float64(n), "goroutines/conn")
	}
}

type memStats struct {
	heap, stack, sys uint64
	goroutines       int
}

func memory() memStats {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memStats{heap: m.HeapInuse, stack: m.StackInuse, sys: m.Sys - m.HeapReleased, goroutines: runtime.NumGoroutine()}
}

// BenchmarkAnswersWebsocket measures answers per second over websockets with the offline composer: parallel
// clients (4 per CPU), each on its own connection, ask the real questions of the eval set, each in a new
// conversation, and wait for the answer.
func BenchmarkAnswersWebsocket(b *testing.B) {
	qs := devQuestions(b)
	e := newEnv(b, Config{MaxConnsPerIP: -1, MessageRate: 1e6, MessageBurst: 1e6, ClientRate: rate.Inf, ClientInFlight: -1})
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ws, resp, err := websocket.DefaultDialer.Dial(e.url, nil)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		defer ws.Close()
		var mine []time.Duration
		read := func() frame {
			var f frame
			_, data, err := ws.ReadMessage()
			if err != nil {
				panic(err)
			}
			if err := json.Unmarshal(data, &f); err != nil {
				panic(err)
			}
			return f
		}
		read() // hello
		for pb.Next() {
			i := next.Add(1)
			start := time.Now()
			err := ws.WriteJSON(map[string]string{"type": "message", "id": strconv.FormatInt(i, 10), "text": qs[int(i)%len(qs)]})
			if err != nil {
				panic(err)
			}
			for {
				f := read()
				if f.Type == "error" {
					panic(f.Code)
				}
				if f.Type == "answer" {
					break
				}
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "answers/s")
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*50/100].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
	}
}

// devQuestions reads the questions of the eval set.
func devQuestions(tb testing.TB) []string {
	f, err := os.Open(filepath.Join(storetest.DataDir(tb), "..", "eval", "dev.jsonl"))
	require.NoError(tb, err)
	defer f.Close()
	var qs []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct{ Q string }
		require.NoError(tb, json.Unmarshal(sc.Bytes(), &r))
		if r.Q != "" {
			qs = append(qs, r.Q)
		}
	}
	require.NoError(tb, sc.Err())
	require.NotEmpty(tb, qs)
	return qs
}
