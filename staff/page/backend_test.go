package page_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/staff"
	sembedded "github.com/trolyao/trolyao/staff/embedded"
)

// backend is the real staff API over the real catalog, and the citizen side reading the same store.
type backend struct {
	api       http.Handler
	addUser   func(t *testing.T, name, password, role string)
	published func(t *testing.T, code string) knowledge.Procedure
	ask       func(t *testing.T, q string) string
	// endSessions ends every session of a user on the server, as an expiry or an admin's change does.
	endSessions func(t *testing.T, user string)
	world       *world
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	w := newWorld(t)
	repo, err := sembedded.Open(filepath.Join(t.TempDir(), "staff.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = repo.Close() })
	svc, err := staff.New(staff.Options{Repo: repo, Store: w.Store, Embedder: knowledge.HashEmbedder{},
		Phrasebook: w.Bank.Phrasebook(), Conversations: w.convs, TempDir: t.TempDir(), Composer: w.citizen()})
	require.NoError(t, err)
	return &backend{
		api: svc.Handler(),
		addUser: func(t *testing.T, name, password, role string) {
			require.NoError(t, staff.AddUser(t.Context(), repo, name, password, staff.Role(role), time.Now()))
		},
		published: w.published,
		ask:       w.ask,
		endSessions: func(t *testing.T, user string) {
			require.NoError(t, repo.DeleteSessions(t.Context(), user))
		},
		world: w,
	}
}
