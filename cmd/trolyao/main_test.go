package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant/eval"
	"github.com/trolyao/trolyao/channels/web"
	"github.com/trolyao/trolyao/internal/logtest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// syncBuffer is a buffer safe for the server goroutine and the test to share.
type syncBuffer = logtest.Buffer

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// cli runs one command in-process and returns its stdout.
func cli(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(t.Context(), args, getenv, strings.NewReader(""), &out, &errb)
	require.NoError(t, err, "trolyao %v: %s", args, errb.String())
	return out.String()
}

// The README's flow on the real catalog: ingest, search, units, eval; then serve answers over HTTP.
func TestEndToEndEmbedded(t *testing.T) {
	data := storetest.DataDir(t)
	dir := t.TempDir()
	e := env(map[string]string{"TROLYAO_DATA": data, "TROLYAO_DIR": dir})

	out := cli(t, e, "ingest")
	assert.Contains(t, out, "2642 records: 2642 new")
	out = cli(t, e, "ingest")
	assert.Contains(t, out, "2642 unchanged", "a second ingest changes nothing")
	assert.Contains(t, out, "0 embedded")

	out = cli(t, e, "search", "làm lại căn cước")
	assert.Regexp(t, `(?m)^ 1\. 1\.014064 `, out, "the commune-level re-issue of the identity card ranks first")

	out = cli(t, e, "units", "phường 4 quận 3")
	assert.Contains(t, out, "Bàn Cờ")
	assert.Contains(t, out, "Xuân Hòa")

	out = cli(t, e, "eval", filepath.Join(data, "..", "eval", "dev.jsonl"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum eval.Summary
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &sum), "the last line is the JSON summary")
	assert.Equal(t, 53, sum.Cases)
	assert.GreaterOrEqual(t, sum.Retrieval.Hit1, 0.85)
	assert.GreaterOrEqual(t, sum.Retrieval.Hit5, 0.97)
	assert.Equal(t, 1.0, sum.Abstain.Accuracy)
	assert.GreaterOrEqual(t, sum.Facts.Recall, 0.90)
	assert.Equal(t, 1.0, sum.ByTag["multi-turn"].Hit1, "every multi-turn case at rank 1")

	var buf bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"export"}, e, nil, &buf, os.Stderr))
	assert.Equal(t, 2643, strings.Count(buf.String(), "\n"), "a header line and one line per procedure")

	chatAndConversations(t, e)
	serveAndQuery(t, e)
}

var convRe = regexp.MustCompile(`mã hội thoại: (\S+)\)`)

// The chat command stores its conversation; staff export and delete it by id, and purge applies retention.
func chatAndConversations(t *testing.T, getenv func(string) string) {
	var out bytes.Buffer
	in := strings.NewReader("làm lại cccd mất bao lâu\nvậy lệ phí bao nhiêu?\n/thoat\n")
	require.NoError(t, run(t.Context(), []string{"chat"}, getenv, in, &out, &bytes.Buffer{}))
	assert.Contains(t, out.String(), "1.014064")
	assert.Contains(t, out.String(), "70.000 đồng", "the follow-up is answered from the procedure in focus")
	m := convRe.FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	id := m[1]

	exported := cli(t, getenv, "conversation", "export", id)
	var c knowledge.Conversation
	require.NoError(t, json.Unmarshal([]byte(exported), &c))
	require.Len(t, c.Messages, 4)
	require.NotEmpty(t, c.Messages[1].Codes)
	assert.Equal(t, "1.014064", c.Messages[1].Codes[0], "the cited procedure first, then any alternatives offered")
	assert.Equal(t, "1.014064", c.State.Focus)

	assert.Contains(t, cli(t, getenv, "conversation", "delete", id), "deleted")
	require.NoError(t, json.Unmarshal([]byte(cli(t, getenv, "conversation", "export", id)), &c))
	assert.Empty(t, c.Messages)

	in = strings.NewReader("đăng ký kết hôn\n/thoat\n")
	require.NoError(t, run(t.Context(), []string{"chat"}, getenv, in, &bytes.Buffer{}, &bytes.Buffer{}))
	assert.Contains(t, cli(t, getenv, "conversation", "-retention", "1ns", "purge"), "1 conversations older than")
}

var listenRe = regexp.MustCompile(`msg=listening addr=(\S+)`)

func serveAndQuery(t *testing.T, getenv func(string) string) {
	ctx, cancel := context.WithCancel(t.Context())
	stderr := &logtest.Buffer{}
	done := make(chan error, 1)
	zaloAPI, zaloURL := startFakeZalo(t)
	zaloCfg := zaloConfig(t)
	wrapped := func(k string) string {
		switch k {
		case "TROLYAO_ADDR":
			return "127.0.0.1:0"
		case "TROLYAO_ZALO_CONFIG":
			return zaloCfg
		case "TROLYAO_ZALO_API_BASE", "TROLYAO_ZALO_OAUTH_BASE":
			return zaloURL
		case "TEST_ZALO_APP_SECRET":
			return "app-secret"
		}
		return getenv(k)
	}
	go func() { done <- run(ctx, []string{"serve"}, wrapped, nil, &bytes.Buffer{}, stderr) }()
	var base string
	require.Eventually(t, func() bool {
		m := listenRe.FindStringSubmatch(stderr.String())
		if m != nil {
			base = "http://" + m[1]
		}
		return m != nil
	}, 10*time.Second, 20*time.Millisecond)
	waitReady(t, base, 60*time.Second)

	resp, err := http.Get(base + "/api/v1/search?q=" + url.QueryEscape("lam lai cccd mat bao lau"))
	require.NoError(t, err)
	var sr web.SearchResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&sr))
	resp.Body.Close()
	require.NotEmpty(t, sr.Results)
	assert.Equal(t, "1.014064", sr.Results[0].Code)
	assert.Contains(t, sr.Results[0].URL, "dichvucong.gov.vn")

	resp, err = http.Get(base + "/api/v1/search?q=" + url.QueryEscape(strings.Repeat("a ", 600)))
	require.NoError(t, err)
	var e struct {
		Error struct{ Code, Message string }
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Equal(t, "query_too_long", e.Error.Code)
	assert.Contains(t, e.Error.Message, "quá dài")

	resp, err = http.Get(base + "/api/v1/procedures/1.001193")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp.Body.Close()
	resp, err = http.Get(base + "/api/v1/procedures/9.999999")
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp.Body.Close()

	resp, err = http.Get(base + "/api/v1/units?q=" + url.QueryEscape("phuong ben nghe quan 1"))
	require.NoError(t, err)
	var ur struct{ Text string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ur))
	resp.Body.Close()
	assert.Contains(t, ur.Text, "Sài Gòn")

	channels(t, base, zaloAPI)

	ws := openWebsocket(t, base)
	defer ws.Close()
	cancel()
	expectGoingAway(t, ws)
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// waitReady waits until the server at base answers /readyz with 200.
func waitReady(t *testing.T, base string, within time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, within, 50*time.Millisecond)
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(t.Context(), nil, env(nil), nil, &out, &errb)
	assert.Error(t, err)
	assert.Equal(t, 2, exitCode(err))
	err = run(t.Context(), []string{"frobnicate"}, env(nil), nil, &out, &errb)
	assert.ErrorContains(t, err, "unknown command")
	err = run(t.Context(), []string{"search"}, env(nil), nil, &out, &errb)
	assert.Equal(t, 2, exitCode(err))
	err = run(t.Context(), []string{"ingest", "-dir", t.TempDir(), "/nonexistent/catalog"}, env(nil), nil, &out, &errb)
	assert.ErrorContains(t, err, "TROLYAO_DATA")
	err = run(t.Context(), []string{"serve", "-dir", t.TempDir(), "-widget-starters", strings.Repeat("câu hỏi|", 9)}, env(nil), nil, &out, &errb)
	assert.Equal(t, 2, exitCode(err))
	assert.ErrorContains(t, err, "-widget-starters: widget: 9 starter questions, at most 8")
}
