package zalo_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/channels/zalo"
	"github.com/trolyao/trolyao/knowledge/postgres/pgtest"
)

// childSpec tells a re-executed test binary what to serve.
type childSpec struct {
	Store  string `json:"store"` // "bolt" or "postgres"
	Path   string `json:"path"`
	URL    string `json:"url"`
	Schema string `json:"schema"`
	API    string `json:"api"`
	Hold   string `json:"hold"` // "answer": the answerer blocks; "send": the fake API holds the send
}

const childEnv = "TROLYAO_ZALO_CHILD"

// TestKillRestart: a process acknowledges a delivery and is SIGKILLed before the reply is sent — while the
// assistant is answering, or while the send is in flight (the fake API holds it and never delivers it); a new
// process on the same store answers the message exactly once.
func TestKillRestart(t *testing.T) {
	if spec := os.Getenv(childEnv); spec != "" {
		runChild(t, spec)
		return
	}
	for _, store := range []string{"bolt", "postgres"} {
		for _, hold := range []string{"answer", "send"} {
			t.Run(store+"/"+hold, func(t *testing.T) {
				spec := childSpec{Store: store, Hold: hold}
				reopen := func(t *testing.T) zalo.Queue { return openBolt(t, spec.Path) }
				if store == "bolt" {
					spec.Path = filepath.Join(t.TempDir(), "zalo.db")
				} else {
					spec.URL, spec.Schema = pgtest.URL(t), pgtest.Schema(t)
					openPG(t, spec.Schema) // creates the schema and its tables
					reopen = func(t *testing.T) zalo.Queue { return openPG(t, spec.Schema) }
				}
				api := newFakeZalo(t, testAppID, testAppSecret, firstAccess, firstRefresh)
				spec.API = api.URL
				release := make(chan struct{})
				if hold == "send" {
					api.hold, api.holding = release, make(chan struct{})
				}
				data, _ := json.Marshal(spec)
				cmd := exec.Command(os.Args[0], "-test.run=^TestKillRestart$")
				cmd.Env = append(os.Environ(), childEnv+"="+string(data))
				out, err := cmd.StdoutPipe()
				require.NoError(t, err)
				cmd.Stderr = os.Stderr
				require.NoError(t, cmd.Start())
				killed := false
				defer func() {
					if !killed {
						_ = cmd.Process.Kill()
						_ = cmd.Wait()
					}
				}()
				lines := make(chan string, 10)
				go func() {
					sc := bufio.NewScanner(out)
					for sc.Scan() {
						if l, ok := strings.CutPrefix(sc.Text(), "ZALOCHILD "); ok {
							lines <- l
						}
					}
					close(lines)
				}()
				next := func() string {
					select {
					case l, ok := <-lines:
						require.True(t, ok, "the child exited")
						return l
					case <-time.After(60 * time.Second):
						t.Fatal("no word from the child")
					}
					return ""
				}
				addr, ok := strings.CutPrefix(next(), "addr ")
				require.True(t, ok)
				deliver(t, "http://"+addr, event("user_send_text", "6142494823", "làm lại căn cước cần gì", "kill-1", time.Now()))
				if hold == "answer" {
					require.Equal(t, "held", next())
				} else {
					select {
					case <-api.holding:
					case <-time.After(60 * time.Second):
						t.Fatal("the child never sent")
					}
				}
				require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
				_ = cmd.Wait()
				killed = true
				close(release)
				require.Empty(t, api.messages(), "nothing delivered before the restart")

				q := reopen(t)
				r := start(t, q, api, nil, func(o *zalo.Options) { o.JobLease, o.SendLease = time.Second, time.Second })
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				api.waitDelivered(t, ctx, 1)
				idle(t, q)
				r.stop()
				msgs := api.messages()
				require.Len(t, msgs, 1, "answered exactly once")
				assert.Equal(t, "Trả lời: làm lại căn cước cần gì", msgs[0].Text)
				api.check(t)
			})
		}
	}
}

// runChild serves the webhook until it is killed.
func runChild(t *testing.T, specJSON string) {
	var spec childSpec
	require.NoError(t, json.Unmarshal([]byte(specJSON), &spec))
	var q zalo.Queue
	if spec.Store == "bolt" {
		q = openBolt(t, spec.Path)
	} else {
		os.Setenv("TROLYAO_TEST_DATABASE", spec.URL)
		q = openPG(t, spec.Schema)
	}
	ans := &fakeAnswerer{}
	if spec.Hold == "answer" {
		ans.block = make(chan struct{})
		ans.held = func() { fmt.Println("ZALOCHILD held") }
	}
	svc, err := zalo.New(zalo.Options{OAs: []zalo.OA{testOA()}, Queue: q, Answerer: ans, APIBase: spec.API, OAuthBase: spec.API,
		Poll: 20 * time.Millisecond, JobLease: time.Second, SendLease: time.Second,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = http.Serve(ln, svc.Handler()) }()
	fmt.Println("ZALOCHILD addr " + ln.Addr().String())
	require.NoError(t, svc.Run(context.Background()))
}
