//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
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
