//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/embedded"
)

// setFileSizeLimit sets the limit on the size of the files process pid writes (RLIMIT_FSIZE, soft and
// hard): a write past it fails with EFBIG (Go ignores SIGXFSZ), as when the disk is full.
// unix.RLIM_INFINITY lifts it.
func setFileSizeLimit(t *testing.T, pid int, limit uint64) {
	t.Helper()
	require.NoError(t, unix.Prlimit(pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: limit, Max: unix.RLIM_INFINITY}, nil))
}

// staffCall sends a staff API request and returns the status and the body.
func staffCall(t *testing.T, s *staffClient, method, path string, body any) (int, string) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", s.csrf)
	resp, err := s.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// chatAnswer is what the REST chat API answers, an answer or an error.
type chatAnswer struct {
	ConversationID string `json:"conversation_id"`
	Text           string
	Error          struct{ Code, Message string }
}

// chatPost asks serve's REST chat API, in conversation conv when not "", and returns the status and answer.
func chatPost(t *testing.T, base, conv, text string) (int, chatAnswer) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"text": text, "conversation_id": conv})
	resp, err := http.Post(base+"/api/v1/chat", "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	var a chatAnswer
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	return resp.StatusCode, a
}

// history returns the number of messages serve keeps of conversation conv.
func history(t *testing.T, base, conv string) int {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/chat/" + conv)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var h struct{ Messages []json.RawMessage }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	return len(h.Messages)
}

// TestFaultDiskFull: a serve process on the embedded store, with a conversation and a staff draft stored,
// finds its disk full (its file-size limit set to 0 while it runs: every write to a file fails, as on a full
// disk). It stays up and keeps answering what needs no write — the catalog, a conversation's history,
// readiness — while a chat turn and a staff save get 503 storage_full with a Vietnamese message and a log
// line, and nothing half written. Once room is made, writes work again in the same process; after a restart
// everything stored before is intact, and new writes are stored.
func TestFaultDiskFull(t *testing.T) {
	began := time.Now()
	data, _ := subsetData(t, faultMinistries...)
	dir := t.TempDir()
	e := env(map[string]string{"TROLYAO_DATA": data, "TROLYAO_DIR": dir})
	cli(t, e, "ingest")
	require.NoError(t, run(t.Context(), []string{"staff", "add-user", "-role", "publisher", "xuat.ban"}, e,
		strings.NewReader(attackPassword+"\n"), io.Discard, io.Discard))
	procEnv := []string{"TROLYAO_DATA=" + data, "TROLYAO_DIR=" + dir}
	const code = "1.014064"
	draftPath := "/api/v1/staff/procedures/" + code + "/draft"

	p := startServe(t, procEnv...)
	status, a := chatPost(t, p.base, "", "làm lại căn cước cần gì")
	require.Equal(t, http.StatusOK, status, a.Error.Message)
	conv := a.ConversationID
	s := staffLogin(t, p.base, "xuat.ban", attackPassword)
	resp, err := http.Get(p.base + "/api/v1/procedures/" + code)
	require.NoError(t, err)
	var proc knowledge.Procedure
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&proc))
	resp.Body.Close()
	name := proc.Name
	proc.Name = name + " (bản nháp 1)"
	s.do("PUT", draftPath, map[string]any{"base_version": 0, "procedure": proc}, http.StatusOK, nil)

	setFileSizeLimit(t, p.cmd.Process.Pid, 0)
	full := func(status int, code, message, what string) {
		t.Helper()
		assert.Equal(t, http.StatusServiceUnavailable, status, "%s on a full disk", what)
		assert.Equal(t, "storage_full", code, "%s on a full disk", what)
		assert.Regexp(t, `(?i)bộ nhớ.*đầy`, message, "%s: the message says the storage is full, in Vietnamese", what)
	}
	status, a = chatPost(t, p.base, "", "cấp hộ chiếu phổ thông ở đâu")
	full(status, a.Error.Code, a.Error.Message, "a new conversation")
	status, a = chatPost(t, p.base, conv, "lệ phí bao nhiêu")
	full(status, a.Error.Code, a.Error.Message, "a follow-up")
	proc.Name = name + " (bản nháp 2)"
	status, body := staffCall(t, s, "PUT", draftPath, map[string]any{"base_version": 1, "procedure": proc})
	var se struct {
		Error struct{ Code, Message string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &se), body)
	full(status, se.Error.Code, se.Error.Message, "a staff save")
	// The log says it (the lines may reach the test's reader of the process's output a moment later).
	p.waitLog(t, `msg="chat: answer: storage_full"`, 10*time.Second)
	p.waitLog(t, `code=storage_full`, 10*time.Second)
	assert.Contains(t, p.log.String(), "file too large")
	// What needs no write still works.
	resp, err = http.Get(p.base + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "still ready")
	assert.Equal(t, 2, history(t, p.base, conv), "the stored conversation is served, without the failed turn")
	_, d := draftOf(t, s, code)
	require.NotNil(t, d)
	assert.Equal(t, name+" (bản nháp 1)", d.Procedure.Name, "the draft as saved before the disk was full")
	assert.Equal(t, 1, d.Version)

	// Room is made: writes work again, in the same process.
	setFileSizeLimit(t, p.cmd.Process.Pid, unix.RLIM_INFINITY)
	status, a = chatPost(t, p.base, conv, "lệ phí bao nhiêu")
	require.Equal(t, http.StatusOK, status, a.Error.Message)
	assert.Equal(t, 4, history(t, p.base, conv))
	p.stop(t)
	for _, f := range []string{embedded.FileName, "staff.db"} {
		checkBolt(t, filepath.Join(dir, f))
	}

	// After a restart: everything stored is there, and new writes are stored.
	p = startServe(t, procEnv...)
	assert.Equal(t, 4, history(t, p.base, conv), "the conversation as stored")
	s = staffLogin(t, p.base, "xuat.ban", attackPassword)
	_, d = draftOf(t, s, code)
	require.NotNil(t, d)
	assert.Equal(t, name+" (bản nháp 1)", d.Procedure.Name, "the draft as stored")
	s.do("PUT", draftPath, map[string]any{"base_version": 1, "procedure": proc}, http.StatusOK, nil)
	_, d = draftOf(t, s, code)
	require.NotNil(t, d)
	assert.Equal(t, name+" (bản nháp 2)", d.Procedure.Name, "a new save is stored")
	status, a = chatPost(t, p.base, "", "cấp hộ chiếu phổ thông ở đâu")
	require.Equal(t, http.StatusOK, status, a.Error.Message)
	assert.Equal(t, 2, history(t, p.base, a.ConversationID))
	t.Logf("disk full: %v", time.Since(began).Round(time.Millisecond))
}
