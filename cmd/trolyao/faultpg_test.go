//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/channels/zalo"
)

// pgServer is a PostgreSQL server of one test's own, in a temporary directory, which the test may stop and
// start at will (the shared test server serves other packages at the same time).
type pgServer struct {
	t    *testing.T
	bin  string // the directory of initdb and pg_ctl
	dir  string // the data directory
	log  string // the server's log file
	port int
	url  string
	cred *user.User // the OS user the server runs as, when the test runs as root; nil otherwise
}

// pgBin returns the directory of the PostgreSQL server programs: Debian's /usr/lib/postgresql/N/bin of the
// newest N that has pgvector installed (else the newest N), or the directory of initdb on PATH; "" when
// there is none.
func pgBin() string {
	paths, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	major := func(p string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return n
	}
	hasVector := func(p string) bool {
		_, err := os.Stat(fmt.Sprintf("/usr/share/postgresql/%d/extension/vector.control", major(p)))
		return err == nil
	}
	sort.Slice(paths, func(i, j int) bool {
		if hasVector(paths[i]) != hasVector(paths[j]) {
			return !hasVector(paths[i])
		}
		return major(paths[i]) < major(paths[j])
	})
	if len(paths) > 0 {
		return filepath.Dir(paths[len(paths)-1])
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

// startPrivatePostgres creates and starts a PostgreSQL server on a free port of 127.0.0.1 with trust
// authentication for the role postgres; it is stopped and removed when the test ends. It skips the test when
// the server programs are not installed (scripts/test.sh installs them with the test server it provisions).
// As root the server runs as the postgres OS user, which PostgreSQL requires.
func startPrivatePostgres(t *testing.T) *pgServer {
	t.Helper()
	bin := pgBin()
	if bin == "" {
		t.Skip("initdb is not installed (Debian: apt-get install postgresql); this test runs a PostgreSQL server of its own")
	}
	base, err := os.MkdirTemp("", "trolyao-pg-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	require.NoError(t, os.Chmod(base, 0o755))
	s := &pgServer{t: t, bin: bin, dir: filepath.Join(base, "data"), log: filepath.Join(base, "server.log")}
	if os.Geteuid() == 0 {
		s.cred, err = user.Lookup("postgres")
		require.NoError(t, err, "running as root, the server needs the postgres OS user")
		uid, _ := strconv.Atoi(s.cred.Uid)
		gid, _ := strconv.Atoi(s.cred.Gid)
		require.NoError(t, os.Chown(base, uid, gid))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.port = ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	s.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)

	s.run("initdb", "-D", s.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "-N")
	s.start()
	t.Cleanup(func() { s.ctl("stop", "-m", "immediate") })
	return s
}

// run runs one of the server's programs, as the postgres OS user when the test runs as root.
func (s *pgServer) run(prog string, args ...string) {
	s.t.Helper()
	path := filepath.Join(s.bin, prog)
	var cmd *exec.Cmd
	if s.cred != nil {
		cmd = exec.Command("runuser", append([]string{"-u", s.cred.Username, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = filepath.Dir(s.dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(s.log)
		s.t.Fatalf("%s %v: %v\n%s\n%s", prog, args, err, out, log)
	}
}

func (s *pgServer) ctl(args ...string) { s.run("pg_ctl", append([]string{"-D", s.dir}, args...)...) }

// start starts the server and waits until it accepts connections. It runs without fsync: the test crashes
// the server, not the machine.
func (s *pgServer) start() {
	s.ctl("start", "-w", "-t", "60", "-l", s.log, "-o",
		fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=off", s.port, filepath.Dir(s.dir)))
}

// crash stops the server the way a crash would (immediate mode: no checkpoint, clients cut off).
func (s *pgServer) crash() { s.ctl("stop", "-m", "immediate", "-w") }

// zaloEvent is a text message delivery in Zalo's envelope, signed for the OA of zaloConfig.
func zaloEvent(userID, text, msgID string) (body []byte, signature string) {
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	body, _ = json.Marshal(map[string]any{"app_id": "2553928453557884079", "event_name": "user_send_text",
		"sender": map[string]any{"id": userID}, "recipient": map[string]any{"id": "3662729599332560487"},
		"message": map[string]any{"text": text, "msg_id": msgID}, "timestamp": ts, "user_id_by_app": "979122185046046317"})
	return body, zalo.Sign("2553928453557884079", body, ts, "oa-secret")
}

// deliverZalo posts one delivery to serve's webhook and returns the status (0 when the call failed).
func deliverZalo(c *http.Client, base string, body []byte, signature string) int {
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/zalo/phuong-test", bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-ZEvent-Signature", signature)
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// chatStatus asks serve's REST chat API one question and returns the status (0 when the call failed) and,
// for an error, its message.
func chatStatus(c *http.Client, base, q string) (int, string) {
	b, _ := json.Marshal(map[string]string{"text": q})
	resp, err := c.Post(base+"/api/v1/chat", "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var out struct {
		Text  string
		Error struct{ Code, Message string }
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, out.Error.Code + ": " + out.Error.Message
	}
	return resp.StatusCode, ""
}

// TestFaultPostgresRestart: serve on a PostgreSQL server of the test's own answers REST chat and Zalo
// webhook deliveries without pause while the server crashes (immediate stop), stays down a second and starts
// again. Every delivery serve acknowledged with a 2xx is answered through the (fake) Zalo API — none lost;
// those it refused while the database was down are refused with an error status, which Zalo retries. REST
// chat answers again within 5 s of the server being back, and every question asked after that is answered.
func TestFaultPostgresRestart(t *testing.T) {
	began := time.Now()
	pg := startPrivatePostgres(t)
	t.Logf("private PostgreSQL up on port %d after %v", pg.port, time.Since(began).Round(time.Millisecond))
	data, _ := subsetData(t, faultMinistries...)
	out := cli(t, env(map[string]string{"TROLYAO_DATA": data, "TROLYAO_DATABASE_URL": pg.url}), "ingest")
	t.Logf("ingested %v after the test began: %s", time.Since(began).Round(time.Millisecond), strings.TrimSpace(out))
	zaloAPI, zaloURL := startFakeZalo(t)
	p := startServe(t, "TROLYAO_DATA="+data, "TROLYAO_DATABASE_URL="+pg.url, "TROLYAO_DIR="+t.TempDir(),
		"TROLYAO_CHAT_CLIENT_RATE=1000", "TROLYAO_CHAT_CLIENT_BURST=1000", "TROLYAO_CHAT_CLIENT_INFLIGHT=-1",
		"TROLYAO_ZALO_CONFIG="+zaloConfig(t), "TROLYAO_ZALO_API_BASE="+zaloURL, "TROLYAO_ZALO_OAUTH_BASE="+zaloURL,
		"TEST_ZALO_APP_SECRET=app-secret", "TROLYAO_ZALO_ECHO_WAIT=1s")
	t.Logf("serve ready %v after the test began", time.Since(began).Round(time.Millisecond))

	type chatCall struct {
		at     time.Time // when the call was made
		status int
		err    string
	}
	var (
		mu       sync.Mutex
		chats    []chatCall
		acked    = map[string]bool{} // users whose delivery serve acknowledged
		refused  = map[int]int{}     // deliveries refused, by status
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		sequence atomic.Int64
	)
	c := &http.Client{Timeout: 20 * time.Second}
	for w := range 2 {
		wg.Go(func() {
			qs := []string{"làm lại căn cước cần gì", "cấp hộ chiếu phổ thông ở đâu", "đăng ký thường trú lệ phí bao nhiêu"}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				at := time.Now()
				status, msg := chatStatus(c, p.base, qs[(i+w)%len(qs)])
				mu.Lock()
				chats = append(chats, chatCall{at, status, msg})
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		})
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := sequence.Add(1)
				userID := fmt.Sprintf("71000000%04d", n)
				body, sig := zaloEvent(userID, "làm lại căn cước cần gì", fmt.Sprintf("restart-%d", n))
				status := deliverZalo(c, p.base, body, sig)
				mu.Lock()
				if status >= 200 && status < 300 {
					acked[userID] = true
				} else {
					refused[status]++
				}
				mu.Unlock()
				time.Sleep(30 * time.Millisecond)
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	pg.crash()
	down := time.Now()
	t.Log("PostgreSQL stopped (immediate)")
	time.Sleep(time.Second)
	pg.start()
	back := time.Now()
	t.Logf("PostgreSQL back after %v down", back.Sub(down).Round(time.Millisecond))
	time.Sleep(7 * time.Second)
	close(stop)
	wg.Wait()

	// REST chat: answered again within 5 s of the server being back, and from then on every time.
	var recovered time.Duration = -1
	failed := map[string]int{}
	okBefore, okAfter, late := 0, 0, 0
	for _, call := range chats {
		switch {
		case call.status == http.StatusOK && call.at.Before(down):
			okBefore++
		case call.status == http.StatusOK && call.at.After(back):
			okAfter++
			if recovered < 0 {
				recovered = call.at.Sub(back)
			}
		case call.status != http.StatusOK:
			failed[fmt.Sprintf("%d %s", call.status, call.err)]++
			if call.at.After(back.Add(5 * time.Second)) {
				late++
			}
		}
	}
	t.Logf("chat: %d calls, %d answered before the crash, %d after the restart; failures: %v", len(chats), okBefore, okAfter, failed)
	require.Positive(t, okBefore, "chat answers before the crash")
	require.GreaterOrEqual(t, recovered, time.Duration(0), "chat answers again after the restart")
	t.Logf("chat answers again %v after PostgreSQL is back", recovered.Round(time.Millisecond))
	assert.LessOrEqual(t, recovered, 5*time.Second, "chat answers again within 5 s")
	assert.Zero(t, late, "chat calls failed more than 5 s after PostgreSQL was back")
	for k := range failed {
		if !strings.HasPrefix(k, "0 ") {
			assert.Regexp(t, `[àáảãạâăđêôơư]`, strings.ToLower(k), "a failure says what went wrong in Vietnamese: %s", k)
		}
	}

	// Zalo: every acknowledged delivery is answered.
	mu.Lock()
	users := make([]string, 0, len(acked))
	for u := range acked {
		users = append(users, u)
	}
	t.Logf("zalo: %d deliveries acknowledged, refused: %v", len(users), refused)
	mu.Unlock()
	require.NotEmpty(t, users)
	answered := func() (map[string]int, []string) {
		got := map[string]int{}
		for _, m := range zaloAPI.messages() {
			var b struct {
				Recipient struct {
					UserID string `json:"user_id"`
				}
			}
			if json.Unmarshal([]byte(m), &b) == nil {
				got[b.Recipient.UserID]++
			}
		}
		var missing []string
		for _, u := range users {
			if got[u] == 0 {
				missing = append(missing, u)
			}
		}
		return got, missing
	}
	deadline := time.Now().Add(30 * time.Second)
	_, missing := answered()
	for len(missing) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		_, missing = answered()
	}
	if !assert.Empty(t, missing, "acknowledged deliveries never answered (lost)") {
		n := 0
		for _, l := range strings.Split(p.log.String(), "\n") {
			if strings.Contains(l, "zalo: ") && !strings.Contains(l, "cannot record a delivery") &&
				!strings.Contains(l, "take job") && !strings.Contains(l, "take send") && n < 40 {
				t.Log(l)
				n++
			}
		}
	}
	apologies := 0
	for _, m := range zaloAPI.messages() {
		if strings.Contains(m, "hệ thống đang gặp sự cố") {
			apologies++
		}
	}
	t.Logf("zalo: every acknowledged delivery answered %v after PostgreSQL was back (%d messages sent, %d apologies)",
		time.Since(back).Round(time.Millisecond), len(zaloAPI.messages()), apologies)
	t.Logf("PostgreSQL restart under load: %v", time.Since(began).Round(time.Millisecond))
}
