package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge/storetest"
)

// A publisher corrects Phường Bàn Cờ's centre through the staff API of a serve process on the embedded store:
// the assistant names the corrected centre at once. The correction survives a re-ingest of the catalog and a
// restart (the centres file is read again as the seed); reverting it brings the file's address back.
func TestCentreCorrectionSurvivesRestart(t *testing.T) {
	data := storetest.DataDir(t)
	dir := t.TempDir()
	e := env(map[string]string{"TROLYAO_DATA": data, "TROLYAO_DIR": dir})
	cli(t, e, "ingest")
	require.NoError(t, run(t.Context(), []string{"staff", "add-user", "-role", "publisher", "hoa.nguyen"}, e,
		strings.NewReader("mật-khẩu-đủ-dài-2026\n"), io.Discard, io.Discard))
	procEnv := []string{"TROLYAO_DATA=" + data, "TROLYAO_DIR=" + dir, "TROLYAO_CHAT_RATE=1000", "TROLYAO_CHAT_BURST=1000"}
	const (
		question = "đăng ký khai sinh ở phường Bàn Cờ nộp ở đâu"
		seed     = "611/20 Điện Biên Phủ"
		fixed    = "185 Cách Mạng Tháng Tám, phường Bàn Cờ"
	)

	t.Run("correct", func(t *testing.T) {
		base := serveProcess(t, procEnv...)
		require.Contains(t, ask(t, base, question), seed)
		s := staffLogin(t, base, "hoa.nguyen", "mật-khẩu-đủ-dài-2026")
		s.do("PUT", "/api/v1/staff/centres/27154", map[string]any{"base_version": 0, "address": fixed,
			"precision": "house_number", "phone": "028 3930 1234", "hours": "Thứ Hai – Thứ Sáu, 7:30–17:00"}, http.StatusOK, nil)
		text := ask(t, base, question)
		assert.Contains(t, text, fixed+", ĐT 028 3930 1234; giờ làm việc: Thứ Hai – Thứ Sáu, 7:30–17:00 (cán bộ cập nhật ngày ")
		assert.NotContains(t, text, seed)
	}) // the serve process stops here

	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"ingest"}, e, strings.NewReader(""), &out, io.Discard))
	assert.Contains(t, out.String(), "2642 unchanged")

	t.Run("after restart", func(t *testing.T) {
		base := serveProcess(t, procEnv...)
		text := ask(t, base, question)
		assert.Contains(t, text, fixed)
		assert.NotContains(t, text, seed)
		s := staffLogin(t, base, "hoa.nguyen", "mật-khẩu-đủ-dài-2026")
		var row struct {
			Correction *struct {
				Version int
				By      string
			}
		}
		s.do("GET", "/api/v1/staff/centres/27154", nil, http.StatusOK, &row)
		require.NotNil(t, row.Correction)
		assert.Equal(t, "hoa.nguyen", row.Correction.By)
		s.do("DELETE", "/api/v1/staff/centres/27154?base_version=1", nil, http.StatusNoContent, nil)
		text = ask(t, base, question)
		assert.Contains(t, text, seed)
		assert.NotContains(t, text, fixed)
	})
}
