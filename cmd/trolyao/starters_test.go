package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge/storetest"
)

// widgetStarters reads the starter questions a serve process offers: those written into its widget.js, and
// those of the hello frame of a new websocket.
func widgetStarters(t *testing.T, base string) (script, hello []string) {
	t.Helper()
	resp, err := http.Get(base + "/widget.js")
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, cfg, ok := strings.Cut(string(b), `"starters":`)
	require.True(t, ok, "widget.js has no starters")
	require.NoError(t, json.NewDecoder(strings.NewReader(cfg)).Decode(&script))

	ws, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws?v=1", nil)
	require.NoError(t, err)
	res.Body.Close()
	defer ws.Close()
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(10*time.Second)))
	var f struct {
		Type     string
		Starters []string
	}
	require.NoError(t, ws.ReadJSON(&f))
	require.Equal(t, "hello", f.Type)
	return script, f.Starters
}

// Two serve processes share one PostgreSQL database, one of them configured with -widget-starters. A publisher
// sets the starter questions through the staff API of the other: within seconds both widgets offer them (in
// the script and in the hello frame); after a reset each offers its own default again — the operator's, or the
// built-in ones.
func TestStartersReachSecondProcess(t *testing.T) {
	url := testDatabase(t)
	data := storetest.DataDir(t)
	e := env(map[string]string{"TROLYAO_DATA": data, "TROLYAO_DATABASE_URL": url, "TROLYAO_DIR": t.TempDir()})
	cli(t, e, "ingest")
	require.NoError(t, run(t.Context(), []string{"staff", "add-user", "-role", "publisher", "hoa.nguyen"}, e,
		strings.NewReader("mật-khẩu-đủ-dài-2026\n"), io.Discard, io.Discard))
	procEnv := []string{"TROLYAO_DATA=" + data, "TROLYAO_DATABASE_URL=" + url}
	operator := []string{"Cấp phiếu lý lịch tư pháp", "Đăng ký kết hôn"}
	a := serveProcess(t, procEnv...)
	b := serveProcess(t, append(procEnv, "TROLYAO_WIDGET_STARTERS="+strings.Join(operator, " | "))...)
	script, hello := widgetStarters(t, b)
	require.Equal(t, operator, script)
	require.Equal(t, operator, hello)
	script, _ = widgetStarters(t, a)
	require.Len(t, script, 4, "the built-in ones")

	staffSet := []string{"Làm lại căn cước bị mất", "Đăng ký tạm trú cho người thuê nhà", "Phường cũ của tôi nay là phường nào?"}
	s := staffLogin(t, a, "hoa.nguyen", "mật-khẩu-đủ-dài-2026")
	s.do("PUT", "/api/v1/staff/starters", map[string]any{"base_version": 0, "questions": staffSet}, http.StatusOK, nil)
	set := time.Now()
	for _, base := range []string{a, b} {
		for {
			script, hello := widgetStarters(t, base)
			if assert.ObjectsAreEqual(staffSet, script) && assert.ObjectsAreEqual(staffSet, hello) {
				break
			}
			require.Less(t, time.Since(set), 5*time.Second, "%s still offers %q and %q", base, script, hello)
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("%s offers the staff's starters %v after the save", base, time.Since(set).Round(time.Millisecond))
	}

	s.do("DELETE", "/api/v1/staff/starters?base_version=1", nil, http.StatusNoContent, nil)
	reset := time.Now()
	for {
		script, hello := widgetStarters(t, b)
		if assert.ObjectsAreEqual(operator, script) && assert.ObjectsAreEqual(operator, hello) {
			break
		}
		require.Less(t, time.Since(reset), 5*time.Second, "still %q and %q after the reset", script, hello)
		time.Sleep(50 * time.Millisecond)
	}
	script, hello = widgetStarters(t, a)
	assert.Len(t, script, 4, "the built-in ones")
	assert.Equal(t, script, hello)
	assert.NotEqual(t, staffSet, script)
}
