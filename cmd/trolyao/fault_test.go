//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/embedded"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// TestFaultKillDuringPublish: a serve process on the embedded store is killed with SIGKILL while a publisher's
// publish is in flight, at moments spread over the time a publish takes; after each restart the publish is
// either whole — the public API serves the new fee, the history has the version, the draft is gone — or not
// made at all — the old fee, no version, the draft kept as it was saved — never half of it. It runs in the
// attack suite's step (TestAttack's pattern: one process per start, the catalog ingested once).
func TestFaultKillDuringPublish(t *testing.T) {
	const code, kills = "1.014064", 5
	data := storetest.DataDir(t)
	dir := t.TempDir()
	e := env(map[string]string{"TROLYAO_DATA": data, "TROLYAO_DIR": dir})
	cli(t, e, "ingest")
	require.NoError(t, run(t.Context(), []string{"staff", "add-user", "-role", "publisher", "xuat.ban"}, e,
		strings.NewReader(attackPassword+"\n"), io.Discard, io.Discard))
	procEnv := []string{"TROLYAO_DATA=" + data, "TROLYAO_DIR=" + dir}

	var took time.Duration // how long an uninterrupted publish takes
	fee := func(base string) int64 {
		resp, err := http.Get(base + "/api/v1/procedures/" + code)
		require.NoError(t, err)
		defer resp.Body.Close()
		var p knowledge.Procedure
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
		require.NotEmpty(t, p.Channels)
		if len(p.Channels[0].Fees) == 0 {
			return -1
		}
		return p.Channels[0].Fees[0].Amount
	}
	for i := 0; i <= kills; i++ {
		p := startServe(t, procEnv...)
		s := staffLogin(t, p.base, "xuat.ban", attackPassword)
		before := fee(p.base)
		if i > 0 {
			checkPublish(t, s, code, i-1, before)
		}
		if i == kills {
			break
		}
		// A draft with a new fee (over the one kept from a publish not made, if any).
		base, _ := draftOf(t, s, code)
		resp, err := http.Get(p.base + "/api/v1/procedures/" + code)
		require.NoError(t, err)
		var proc knowledge.Procedure
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&proc))
		resp.Body.Close()
		for j := range proc.Channels {
			proc.Channels[j].Fees = []knowledge.Fee{{Amount: newFee(i), Label: "Lệ phí"}}
			proc.Channels[j].Free, proc.Channels[j].FeeNA = false, false
		}
		var d struct{ Version int }
		s.do("PUT", "/api/v1/staff/procedures/"+code+"/draft", map[string]any{"base_version": base, "procedure": proc},
			http.StatusOK, &d)
		publish := map[string]any{"base_version": d.Version, "note": note(i)}
		if i == 0 {
			t0 := time.Now()
			s.do("POST", "/api/v1/staff/procedures/"+code+"/publish", publish, http.StatusOK, nil)
			took = time.Since(t0)
			t.Logf("a publish takes %v", took.Round(time.Millisecond))
			p.kill(t) // after a whole publish
			continue
		}
		b, err := json.Marshal(publish)
		require.NoError(t, err)
		req, err := http.NewRequest("POST", p.base+"/api/v1/staff/procedures/"+code+"/publish", bytes.NewReader(b))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", s.csrf)
		answered := make(chan int, 1)
		go func() {
			status := 0
			if resp, err := s.http.Do(req); err == nil {
				status = resp.StatusCode
				resp.Body.Close()
			}
			answered <- status
		}()
		time.Sleep(took * time.Duration(i-1) / time.Duration(kills-1))
		p.kill(t)
		t.Logf("kill %d, %v into the publish: answered %d", i, (took * time.Duration(i-1) / time.Duration(kills-1)).Round(time.Millisecond), <-answered)
	}
}

func newFee(i int) int64   { return 200_000 + int64(i)*1_000 }
func note(i int) string    { return fmt.Sprintf("lần %d", i) }
func feeOf(d *draft) int64 { return d.Procedure.Channels[0].Fees[0].Amount }

// draft is a procedure's draft as the staff API returns it.
type draft struct {
	Version   int
	Procedure knowledge.Procedure
}

// draftOf returns the version of code's draft (0 when there is none) and the draft.
func draftOf(t *testing.T, s *staffClient, code string) (int, *draft) {
	t.Helper()
	resp, err := s.http.Get(s.base + "/api/v1/staff/procedures/" + code + "/draft")
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return 0, nil
	}
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var d draft
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&d))
	return d.Version, &d
}

// checkPublish checks, after a restart, that the i-th publish was made whole or not at all; served is the
// fee the public API serves.
func checkPublish(t *testing.T, s *staffClient, code string, i int, served int64) {
	t.Helper()
	var vs struct {
		Items []struct{ Action, Note string }
	}
	s.do("GET", "/api/v1/staff/procedures/"+code+"/versions", nil, http.StatusOK, &vs)
	recorded := slices.ContainsFunc(vs.Items, func(v struct{ Action, Note string }) bool { return v.Note == note(i) })
	_, d := draftOf(t, s, code)
	made := served == newFee(i)
	t.Logf("after restart %d: fee %d served, version recorded %v, draft kept %v", i, served, recorded, d != nil)
	if made {
		assert.True(t, recorded, "publish %d: served, so its version is in the history", i)
		assert.Nil(t, d, "publish %d: made, so its draft is gone", i)
		return
	}
	assert.False(t, recorded, "publish %d: not served (fee %d), so not in the history", i, served)
	if assert.NotNil(t, d, "publish %d: not made, so its draft is kept", i) {
		assert.Equal(t, newFee(i), feeOf(d), "publish %d: the draft as saved", i)
	}
}

// faultMinistries are the folders of the national-portal crawl the fault tests ingest (339 of its 2,642
// procedures, the identity card's among them): a whole first ingest takes a few seconds instead of half a
// minute, and the path through ingest and serve is the same.
var faultMinistries = []string{"bo-cong-an"}

// subsetData makes a data folder in a temporary directory that links to the real one: units, centres and
// questions as they are, and of the catalog only the procedures of the given ministries, file by file (the
// catalog reader does not follow a linked directory). It returns the folder and its number of procedures.
func subsetData(t *testing.T, ministries ...string) (string, int) {
	t.Helper()
	real := storetest.DataDir(t)
	real, err := filepath.Abs(real)
	require.NoError(t, err)
	dir := t.TempDir()
	entries, err := os.ReadDir(real)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() != "procedures" {
			require.NoError(t, os.Symlink(filepath.Join(real, e.Name()), filepath.Join(dir, e.Name())))
		}
	}
	n := 0
	for _, m := range ministries {
		src := filepath.Join(real, "procedures", "dvcqg-2026", m)
		dst := filepath.Join(dir, "procedures", "dvcqg-2026", m)
		require.NoError(t, os.MkdirAll(dst, 0o755))
		files, err := os.ReadDir(src)
		require.NoError(t, err)
		for _, f := range files {
			if strings.HasSuffix(f.Name(), ".json") {
				require.NoError(t, os.Symlink(filepath.Join(src, f.Name()), filepath.Join(dst, f.Name())))
				n++
			}
		}
	}
	require.Positive(t, n)
	return dir, n
}

// storedCodes opens the embedded store in dir the way serve does, checks its file's consistency (every page
// reachable once, no freed page in use) and returns how many procedures it holds.
func storedCodes(t *testing.T, dir string) int {
	t.Helper()
	path := filepath.Join(dir, embedded.FileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	checkBolt(t, path)
	st, err := embedded.Open(dir)
	require.NoError(t, err, "the store opens and every record decodes")
	defer st.Close()
	h, err := st.Hashes(t.Context())
	require.NoError(t, err)
	return len(h)
}

// checkBolt checks the consistency of the bbolt file at path: every page reachable once, no freed page in
// use.
func checkBolt(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}), "%s is consistent", filepath.Base(path))
}

// TestFaultKillDuringIngestThenZaloBurst: a first start of serve on an empty embedded store ingests the catalog; it is
// killed with SIGKILL while reading the files, while embedding, as the write begins and after it, before
// serve is ready. After each kill the store holds no procedure or all of them (one transaction), its file is
// consistent, and the next start ingests the catalog when the store is empty and reuses it otherwise; the
// last one comes up ready with the whole catalog and answers. Then, on the same directory, serve is killed
// during a burst of Zalo messages (killDuringZaloBurst).
func TestFaultKillDuringIngestThenZaloBurst(t *testing.T) {
	began := time.Now()
	data, total := subsetData(t, faultMinistries...)
	dir := t.TempDir()
	// Zalo's API answers each call after 60 ms: the burst is still being answered when serve is killed.
	api := &fakeZalo{}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(60 * time.Millisecond)
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(slow.Close)
	procEnv := []string{"TROLYAO_DATA=" + data, "TROLYAO_DIR=" + dir, "TROLYAO_ZALO_CONFIG=" + zaloConfig(t),
		"TROLYAO_ZALO_API_BASE=" + slow.URL, "TROLYAO_ZALO_OAUTH_BASE=" + slow.URL, "TEST_ZALO_APP_SECRET=app-secret",
		"TROLYAO_ZALO_ECHO_WAIT=1s"}
	for _, k := range []struct {
		name, after string
		wait        time.Duration
	}{
		{"reading the files", "read: 0/", 200 * time.Millisecond},
		{"embedding", "embed: ", 0},
		{"at the start of the write", "write: 0/1", 0},
		{"after the write, loading the unit data", "loading the unit data", 0},
	} {
		p := spawnServe(t, procEnv...)
		p.waitLog(t, k.after, 60*time.Second)
		time.Sleep(k.wait)
		p.kill(t)
		n := storedCodes(t, dir)
		t.Logf("killed %s (%v after %q): the store holds %d procedures", k.name, k.wait, k.after, n)
		assert.True(t, n == 0 || n == total, "killed %s: none or all of the %d procedures stored, not %d", k.name, total, n)
	}
	p := startServe(t, procEnv...)
	assert.Contains(t, ask(t, p.base, "làm lại căn cước cần gì"), "1.014064", "the restarted serve answers")
	t.Logf("kill during ingest: %v", time.Since(began).Round(time.Millisecond))
	p = killDuringZaloBurst(t, p, api, procEnv)
	p.stop(t)
	assert.Equal(t, total, storedCodes(t, dir), "the whole catalog is stored")
	t.Logf("kill during ingest, then during a Zalo burst: %v", time.Since(began).Round(time.Millisecond))
}

// killDuringZaloBurst: a burst of Zalo messages reaches serve process p on the embedded store (its Zalo queue
// a bbolt file beside the catalog), whose Zalo API (api, behind a slow server) takes a while per call; p is
// killed with SIGKILL while answering, a new serve starts on the same directory, and Zalo delivers every
// message again (it retries what was not acknowledged; what was is recognised by its msg_id). Every message
// is answered — none lost. A reply whose send the kill interrupted is sent again after the echo wait, so it
// may reach its user twice (the window README and channels/zalo describe; the package's
// TestCrashRestartBurst measures it, with echoes). It returns the new process.
func killDuringZaloBurst(t *testing.T, p *served, api *fakeZalo, procEnv []string) *served {
	const users = 30
	type delivery struct {
		body []byte
		sig  string
	}
	deliveries := make([]delivery, users)
	for i := range deliveries {
		body, sig := zaloEvent(fmt.Sprintf("72000000%04d", i), "làm lại căn cước cần gì", fmt.Sprintf("burst-%d", i))
		deliveries[i] = delivery{body, sig}
	}
	c := &http.Client{Timeout: 20 * time.Second}
	deliverAll := func(base, when string) {
		var wg sync.WaitGroup
		for i := range deliveries {
			wg.Go(func() {
				assert.Equal(t, http.StatusOK, deliverZalo(c, base, deliveries[i].body, deliveries[i].sig), "delivery %d %s", i, when)
			})
		}
		wg.Wait()
	}
	deliverAll(p.base, "before the kill")
	time.Sleep(500 * time.Millisecond)
	p.kill(t)
	before := len(api.messages())
	t.Logf("killed during a Zalo burst, %d of %d messages answered", before, users)

	p = startServe(t, procEnv...)
	deliverAll(p.base, "again")
	replies := func() map[string]int {
		got := map[string]int{}
		for _, m := range api.messages() {
			var b struct {
				Recipient struct {
					UserID string `json:"user_id"`
				}
			}
			if json.Unmarshal([]byte(m), &b) == nil {
				got[b.Recipient.UserID]++
			}
		}
		return got
	}
	for deadline := time.Now().Add(30 * time.Second); len(replies()) < users && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	got := replies()
	twice := 0
	for i := range users {
		n := got[fmt.Sprintf("72000000%04d", i)]
		assert.Positive(t, n, "message %d answered", i)
		twice += max(n-1, 0)
	}
	t.Logf("after the restart: %d of %d messages answered (%d before the kill), %d replies sent twice", len(got), users, before, twice)
	return p
}
