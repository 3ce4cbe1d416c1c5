package web

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// /metrics has the catalog's size and version (its fingerprint), read from the store.
func TestCatalogMetrics(t *testing.T) {
	e := newEnv(t, Config{})
	hashes, err := e.s.Store.Hashes(t.Context())
	require.NoError(t, err)
	require.NotEmpty(t, hashes)
	got := map[string]float64{}
	mfs, err := e.reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[mf.GetName()] = m.GetGauge().GetValue()
		}
	}
	assert.Equal(t, float64(len(hashes)), got["trolyao_catalog_procedures"])
	assert.Equal(t, float64(Fingerprint(hashes)), got["trolyao_catalog_fingerprint"])
	assert.NotZero(t, got["trolyao_catalog_fingerprint"])
}

func TestFingerprint(t *testing.T) {
	a := map[string]string{"1.000001": "h1", "1.000002": "h2"}
	assert.Equal(t, uint64(0), Fingerprint(nil), "empty catalog")
	assert.Equal(t, Fingerprint(a), Fingerprint(map[string]string{"1.000002": "h2", "1.000001": "h1"}), "order does not matter")
	assert.Less(t, Fingerprint(a), uint64(1)<<48, "exact in a float64")
	for name, b := range map[string]map[string]string{
		"a record changed": {"1.000001": "h1", "1.000002": "h3"},
		"a record removed": {"1.000001": "h1"},
		"a record added":   {"1.000001": "h1", "1.000002": "h2", "1.000003": "h4"},
		"codes swapped":    {"1.000001": "h2", "1.000002": "h1"},
	} {
		assert.NotEqual(t, Fingerprint(a), Fingerprint(b), name)
	}
}
