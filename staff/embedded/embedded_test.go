package embedded_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/staff"
	"github.com/trolyao/trolyao/staff/embedded"
	"github.com/trolyao/trolyao/staff/stafftest"
)

func TestContract(t *testing.T) {
	stafftest.Run(t, func(t *testing.T) staff.Repo {
		r, err := embedded.Open(filepath.Join(t.TempDir(), "staff.db"))
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
		return r
	})
}

func TestStartersContract(t *testing.T) {
	stafftest.RunStarters(t, func(t *testing.T) staff.StarterRepo {
		r, err := embedded.Open(filepath.Join(t.TempDir(), "staff.db"))
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
		return r
	})
}

// The starter questions staff set survive closing and reopening the file (an older file, without the
// settings bucket, gets it on opening).
func TestReopenStarters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "staff.db")
	r, err := embedded.Open(path)
	require.NoError(t, err)
	want, err := r.SaveStarters(t.Context(), staff.Starters{Questions: []string{"Đăng ký khai sinh cho con"}, By: "hoa",
		At: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}, 0)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	r, err = embedded.Open(path)
	require.NoError(t, err)
	defer r.Close()
	got, err := r.Starters(t.Context())
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "staff.db")
	r, err := embedded.Open(path)
	require.NoError(t, err)
	require.NoError(t, r.CreateUser(t.Context(), staff.User{Username: "lan", Role: staff.RoleAdmin, Password: "h"}))
	require.NoError(t, r.Close())
	r, err = embedded.Open(path)
	require.NoError(t, err)
	defer r.Close()
	u, err := r.User(t.Context(), "lan")
	require.NoError(t, err)
	require.Equal(t, staff.RoleAdmin, u.Role)
}

// A centre correction survives closing and reopening the file.
func TestReopenCentreCorrection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "staff.db")
	r, err := embedded.Open(path)
	require.NoError(t, err)
	want, err := r.SaveCentreCorrection(t.Context(), staff.CentreCorrection{UnitCode: "27154", Name: "Trung tâm",
		Address: "185 Cách Mạng Tháng Tám", Hours: "7:30–17:00", By: "lan", At: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}, 0)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	r, err = embedded.Open(path)
	require.NoError(t, err)
	defer r.Close()
	got, err := r.CentreCorrections(t.Context())
	require.NoError(t, err)
	require.Equal(t, []staff.CentreCorrection{want}, got)
}
