package embedded_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/embedded"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) knowledge.Store {
		s, err := embedded.Open(t.TempDir())
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestReopen(t *testing.T) {
	dirs := map[knowledge.Store]string{}
	storetest.RunReopen(t, func(t *testing.T) knowledge.Store {
		dir := t.TempDir()
		s, err := embedded.Open(dir)
		require.NoError(t, err)
		dirs[s] = dir
		return s
	}, func(t *testing.T, old knowledge.Store) knowledge.Store {
		dir := dirs[old]
		require.NoError(t, old.Close())
		s, err := embedded.Open(dir)
		require.NoError(t, err)
		dirs[s] = dir
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestOpenWhileInUse(t *testing.T) {
	dir := t.TempDir()
	s, err := embedded.Open(dir)
	require.NoError(t, err)
	defer s.Close()
	// bbolt's lock is per process (flock); a second open in the same process blocks like another process would.
	_, err = embedded.Open(dir)
	require.Error(t, err)
	require.Contains(t, err.Error(), "in use by another trolyao process")
}
