package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/channels/web/widget"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// With no starter questions set by staff or the operator, the widget offers the built-in ones until enough
// conversations were answered: after 20 about marriage registration, the next start offers a question about
// it, in the script, the hello frame and as the default the staff page shows.
func TestMostAskedStarters(t *testing.T) {
	data, dir := storetest.DataDir(t), t.TempDir()
	mostAskedStarters(t, map[string]string{"TROLYAO_DATA": data, "TROLYAO_DIR": dir})
}

// The same on PostgreSQL, which counts in one query.
func TestMostAskedStartersPostgres(t *testing.T) {
	url, data := testDatabase(t), storetest.DataDir(t)
	mostAskedStarters(t, map[string]string{"TROLYAO_DATA": data, "TROLYAO_DATABASE_URL": url, "TROLYAO_DIR": t.TempDir()})
}

func mostAskedStarters(t *testing.T, vars map[string]string) {
	e := env(vars)
	cli(t, e, "ingest")
	require.NoError(t, run(t.Context(), []string{"staff", "add-user", "-role", "publisher", "hoa.nguyen"}, e,
		strings.NewReader("mật-khẩu-đủ-dài-2026\n"), io.Discard, io.Discard))
	procEnv := []string{"TROLYAO_CHAT_CLIENT_RATE=1000", "TROLYAO_CHAT_CLIENT_BURST=1000"}
	for k, v := range vars {
		procEnv = append(procEnv, k+"="+v)
	}
	var staffDefault struct{ Questions, Default []string }

	t.Run("asked", func(t *testing.T) {
		base := serveProcess(t, procEnv...)
		for i := 0; i < assistant.MostAskedMin; i++ {
			assert.NotEmpty(t, ask(t, base, "đăng ký kết hôn cần gì"))
		}
		script, hello := widgetStarters(t, base)
		assert.Equal(t, widget.DefaultStarters, script, "counted at start and every hour")
		assert.Equal(t, widget.DefaultStarters, hello)
	}) // the serve process stops here

	t.Run("after restart", func(t *testing.T) {
		base := serveProcess(t, procEnv...)
		script, hello := widgetStarters(t, base)
		require.Len(t, script, 1, "one procedure was asked: %q", script)
		assert.Contains(t, knowledge.Fold(script[0]), "ket hon")
		assert.True(t, strings.HasSuffix(script[0], " cần giấy tờ gì?"), script[0])
		assert.Equal(t, script, hello)
		s := staffLogin(t, base, "hoa.nguyen", "mật-khẩu-đủ-dài-2026")
		s.do("GET", "/api/v1/staff/starters", nil, http.StatusOK, &staffDefault)
		assert.Equal(t, script, staffDefault.Default, "staff see the computed default")
		assert.Equal(t, script, staffDefault.Questions)
		t.Logf("the widget offers %q", script)
	})
}
