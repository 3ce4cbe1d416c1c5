package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/staff"
	staffembedded "github.com/trolyao/trolyao/staff/embedded"
)

// `trolyao staff add-user -unit` and `set-unit` give an account the unit it publishes for; an invalid unit
// creates no account.
func TestStaffUnitCommands(t *testing.T) {
	dir := t.TempDir()
	e := env(map[string]string{"TROLYAO_DIR": dir})
	staffCmd := func(stdin string, args ...string) error {
		return run(t.Context(), append([]string{"staff"}, args...), e, strings.NewReader(stdin), io.Discard, io.Discard)
	}
	require.NoError(t, staffCmd("mật-khẩu-đủ-dài-2026\n", "add-user", "-role", "publisher", "-unit", " UBND phường  Bàn Cờ", "hoa.nguyen"))
	require.Error(t, staffCmd("mật-khẩu-đủ-dài-2026\n", "add-user", "-role", "editor", "-unit", "UBND\nphường", "lan.tran"))
	require.Error(t, staffCmd("", "set-unit", "hoa.nguyen"), "set-unit needs -unit")
	require.Error(t, staffCmd("", "set-unit", "-role", "admin", "-unit", "x", "hoa.nguyen"), "set-unit takes no role")
	unitOf := func(name string) (string, error) {
		repo, err := staffembedded.Open(filepath.Join(dir, "staff.db"))
		require.NoError(t, err)
		defer repo.Close()
		u, err := repo.User(t.Context(), name)
		return u.Unit, err
	}
	got, err := unitOf("hoa.nguyen")
	require.NoError(t, err)
	assert.Equal(t, "UBND phường Bàn Cờ", got)
	_, err = unitOf("lan.tran")
	assert.ErrorIs(t, err, staff.ErrNotFound, "an invalid unit creates no account")

	require.NoError(t, staffCmd("", "set-unit", "-unit", "UBND phường Xuân Hòa", "hoa.nguyen"))
	got, err = unitOf("hoa.nguyen")
	require.NoError(t, err)
	assert.Equal(t, "UBND phường Xuân Hòa", got)
	require.NoError(t, staffCmd("", "set-unit", "-unit", "", "hoa.nguyen"))
	got, err = unitOf("hoa.nguyen")
	require.NoError(t, err)
	assert.Empty(t, got, `-unit "" removes it`)
}
