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

// The configuration flags are accepted after the staff subcommand as well as before it, and the usage states
// the rules of a name and a password.
func TestStaffFlagsAfterSubcommand(t *testing.T) {
	after, before := t.TempDir(), t.TempDir()
	e := env(nil) // no TROLYAO_DIR: only the flag says where the accounts go
	staffCmd := func(stdin string, args ...string) error {
		return run(t.Context(), append([]string{"staff"}, args...), e, strings.NewReader(stdin), io.Discard, io.Discard)
	}
	require.NoError(t, staffCmd("mật-khẩu-đủ-dài-2026\n", "add-user", "-dir", after, "-role", "admin", "lan.tran"))
	require.NoError(t, staffCmd("mật-khẩu-đủ-dài-2026\n", "-dir", before, "add-user", "-role", "admin", "lan.tran"))
	for _, dir := range []string{after, before} {
		repo, err := staffembedded.Open(filepath.Join(dir, "staff.db"))
		require.NoError(t, err)
		u, err := repo.User(t.Context(), "lan.tran")
		require.NoError(t, repo.Close())
		require.NoError(t, err, dir)
		assert.Equal(t, staff.Role("admin"), u.Role)
	}

	var stderr strings.Builder
	err := run(t.Context(), []string{"staff", "add-user", "-no-such-flag", "x"}, e, strings.NewReader(""), io.Discard, &stderr)
	require.Error(t, err)
	assert.Contains(t, stderr.String(), "3–64 characters of a-z 0-9 . _ -")
	assert.Contains(t, stderr.String(), "at least 10 characters")
	err = staffCmd("ngắn-quá\n", "add-user", "-dir", after, "-role", "viewer", "hoa.nguyen")
	assert.ErrorContains(t, err, "ít nhất 10 ký tự", "a password under 10 characters is refused")
}
