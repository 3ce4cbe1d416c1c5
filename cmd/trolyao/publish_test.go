package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/internal/logtest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// execMainEnv makes the test binary run trolyao's main instead of the tests: the way the tests start real
// serve processes.
const execMainEnv = "TROLYAO_TEST_EXEC_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(execMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveProcess starts `trolyao serve` as a separate process with the extra environment and returns its base
// URL once it is ready; it is stopped with SIGTERM when the test ends.
func serveProcess(t *testing.T, env ...string) string {
	t.Helper()
	return startServe(t, env...).base
}

// served is a serve process started by startServe.
type served struct {
	base   string
	cmd    *exec.Cmd
	log    *logtest.Buffer // its standard error: the log
	exited chan struct{}   // closed when the process has ended
	err    error           // how it ended, once exited is closed
}

// kill ends the process with SIGKILL (kill -9) and waits for it.
func (p *served) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Kill())
	<-p.exited
}

// stop ends the process with SIGTERM and checks that it exits cleanly.
func (p *served) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
		assert.NoError(t, p.err, "serve exits cleanly on SIGTERM")
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		t.Error("serve did not stop on SIGTERM")
	}
}

// waitLog waits until the process has logged a line containing s.
func (p *served) waitLog(t *testing.T, s string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(p.log.String(), s) {
		select {
		case <-p.exited:
			t.Fatalf("serve exited before logging %q: %v\n%s", s, p.err, p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not log %q within %v:\n%s", s, within, p.log.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startServe starts `trolyao serve` (this test binary running main) as a separate process with the extra
// environment and returns it once it answers /readyz. When the test ends, a process still running is stopped
// with SIGTERM and must exit cleanly.
func startServe(t *testing.T, env ...string) *served {
	t.Helper()
	p := spawnServe(t, env...)
	waitReady(t, p.base, 120*time.Second)
	return p
}

// spawnServe starts `trolyao serve` like startServe and returns it once it listens, before it is ready (a
// first start ingests the catalog then).
func spawnServe(t *testing.T, env ...string) *served {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), append([]string{execMainEnv + "=1", "TROLYAO_ADDR=127.0.0.1:0"}, env...)...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &served{cmd: cmd, log: &logtest.Buffer{}, exited: make(chan struct{})}
	addr := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			_, _ = p.log.Write(append(sc.Bytes(), '\n'))
			if m := listenRe.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	go func() {
		<-scanned // Wait closes the pipe: read it to the end first
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
			return // killed by the test
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
			assert.NoError(t, p.err, "serve exits cleanly on SIGTERM")
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("serve did not stop on SIGTERM")
		}
	})
	select {
	case a := <-addr:
		p.base = "http://" + a
	case <-p.exited:
		t.Fatalf("serve exited before listening: %v\n%s", p.err, p.log.String())
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start listening")
	}
	return p
}

// staffClient is a logged-in staff session: the cookie and the CSRF token.
type staffClient struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func staffLogin(t *testing.T, base, user, password string) *staffClient {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &staffClient{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	c.do("POST", "/api/v1/staff/login", map[string]string{"username": user, "password": password}, http.StatusOK, &out)
	require.NotEmpty(t, out.CSRF)
	c.csrf = out.CSRF
	return c
}

func (c *staffClient) do(method, path string, body any, want int, out any) {
	c.t.Helper()
	b, err := json.Marshal(body)
	require.NoError(c.t, err)
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(b))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	require.Equal(c.t, want, resp.StatusCode, "%s %s: %s", method, path, data)
	if out != nil {
		require.NoError(c.t, json.Unmarshal(data, out))
	}
}

// ask sends one question to the chat API of a serve process and returns the answer text.
func ask(t *testing.T, base, q string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"text": q})
	resp, err := http.Post(base+"/api/v1/chat", "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	var a struct{ Text string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	require.Equal(t, http.StatusOK, resp.StatusCode, a.Text)
	return a.Text
}

// Two serve processes share one PostgreSQL database. A publisher edits a procedure's fee through the staff
// API of the first; within 2 s the assistant of each process answers with the new fee.
func TestPublishReachesSecondProcess(t *testing.T) {
	url := testDatabase(t)
	data := storetest.DataDir(t)
	e := env(map[string]string{"TROLYAO_DATA": data, "TROLYAO_DATABASE_URL": url, "TROLYAO_DIR": t.TempDir()})
	cli(t, e, "ingest")
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"staff", "add-user", "-role", "publisher", "-unit", "UBND phường Bàn Cờ", "hoa.nguyen"}, e,
		strings.NewReader("mật-khẩu-đủ-dài-2026\n"), &out, io.Discard))
	assert.Contains(t, out.String(), "Đã tạo tài khoản hoa.nguyen")

	// The test asks often from one address: lift the per-client chat budget.
	procEnv := []string{"TROLYAO_DATA=" + data, "TROLYAO_DATABASE_URL=" + url, "TROLYAO_CHAT_CLIENT_RATE=1000",
		"TROLYAO_CHAT_CLIENT_BURST=1000"}
	a := serveProcess(t, procEnv...)
	b := serveProcess(t, procEnv...)
	const question = "làm lại căn cước lệ phí bao nhiêu"
	for _, base := range []string{a, b} {
		require.NotContains(t, ask(t, base, question), "123.456 đồng")
	}

	resp, err := http.Get(a + "/api/v1/procedures/1.014064")
	require.NoError(t, err)
	var p knowledge.Procedure
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
	resp.Body.Close()
	for i := range p.Channels {
		p.Channels[i].Fees = []knowledge.Fee{{Amount: 123456, Label: "Lệ phí"}}
		p.Channels[i].Free, p.Channels[i].FeeNA = false, false
	}
	s := staffLogin(t, a, "hoa.nguyen", "mật-khẩu-đủ-dài-2026")
	s.do("PUT", "/api/v1/staff/procedures/1.014064/draft", map[string]any{"base_version": 0, "procedure": p}, http.StatusOK, nil)
	var preview struct{ Text string }
	s.do("POST", "/api/v1/staff/procedures/1.014064/preview", map[string]string{"question": question}, http.StatusOK, &preview)
	s.do("POST", "/api/v1/staff/procedures/1.014064/publish", map[string]any{"base_version": 1}, http.StatusOK, nil)
	published := time.Now()

	for _, base := range []string{a, b} {
		var last string
		for {
			if last = ask(t, base, question); strings.Contains(last, "123.456 đồng") {
				break
			}
			require.Less(t, time.Since(published), 2*time.Second, "answer still without the new fee: %s", last)
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%s answers with the new fee %v after publish", base, time.Since(published).Round(time.Millisecond))
		assert.Contains(t, last, "\nNguồn: cập nhật bởi UBND phường Bàn Cờ ngày ", "the answer names who published it")
		assert.Equal(t, preview.Text, last, "the staff preview was the answer")
	}

	// A later sync from the portal crawl keeps what staff published.
	out.Reset()
	require.NoError(t, run(t.Context(), []string{"ingest"}, e, strings.NewReader(""), &out, io.Discard))
	assert.Contains(t, out.String(), "2642 unchanged")
	assert.Contains(t, out.String(), "1 procedures managed by staff were left as published")
	assert.Contains(t, ask(t, b, question), "123.456 đồng")
}
