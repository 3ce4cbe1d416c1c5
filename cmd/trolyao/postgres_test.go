package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant/eval"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/postgres/pgtest"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// testDatabase returns a URL of the test database whose search_path is a fresh schema, dropped afterwards.
func testDatabase(t *testing.T) string { return pgtest.SchemaURL(t) }

// Both stores, fed the real catalog, answer the labelled questions alike: the same top-5 codes on at least
// 95% of the retrieval cases, and the eval thresholds hold on PostgreSQL too.
func TestPostgresParityAndEval(t *testing.T) {
	data := storetest.DataDir(t)
	dbURL := testDatabase(t)
	embEnv := env(map[string]string{"TROLYAO_DATA": data, "TROLYAO_DIR": t.TempDir()})
	pgEnv := env(map[string]string{"TROLYAO_DATA": data, "TROLYAO_DATABASE_URL": dbURL})

	out := cli(t, pgEnv, "ingest")
	assert.Contains(t, out, "2642 records: 2642 new")
	out = cli(t, pgEnv, "ingest")
	assert.Contains(t, out, "2642 unchanged")
	assert.Contains(t, out, "wrote=false")
	cli(t, embEnv, "ingest")

	devFile := filepath.Join(data, "..", "eval", "dev.jsonl")
	out = cli(t, pgEnv, "eval", devFile)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum eval.Summary
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &sum))
	assert.GreaterOrEqual(t, sum.Retrieval.Hit1, 0.85, "PostgreSQL hit@1")
	assert.GreaterOrEqual(t, sum.Retrieval.Hit5, 0.97, "PostgreSQL hit@5")
	assert.Equal(t, 1.0, sum.Abstain.Accuracy, "PostgreSQL abstain accuracy")
	assert.GreaterOrEqual(t, sum.Facts.Recall, 0.90, "PostgreSQL facts recall")
	assert.Equal(t, 1.0, sum.ByTag["multi-turn"].Hit1, "every multi-turn case at rank 1")

	top5 := func(getenv func(string) string) map[string][]string {
		a := &app{cfg: mustConfig(t, getenv), stderr: &bytes.Buffer{}}
		a.logger = newLogger(a.stderr, "error")
		st, err := a.openStore(t.Context())
		require.NoError(t, err)
		defer st.Close()
		s, err := a.searcher(st)
		require.NoError(t, err)
		f, err := os.Open(devFile)
		require.NoError(t, err)
		defer f.Close()
		cases, err := eval.Read(f)
		require.NoError(t, err)
		got := map[string][]string{}
		for _, c := range cases {
			turns := c.Turns
			if len(turns) == 0 {
				turns = []eval.Turn{c.Turn}
			}
			for _, tr := range turns {
				if tr.Expect == nil || len(*tr.Expect) == 0 {
					continue
				}
				res, err := s.Search(t.Context(), tr.Q, 5)
				require.NoError(t, err)
				got[tr.Q] = codes(res.Hits)
			}
		}
		return got
	}
	pg, em := top5(pgEnv), top5(embEnv)
	require.Equal(t, len(em), len(pg))
	same := 0
	for q, codes := range em {
		if assert.ObjectsAreEqual(codes, pg[q]) {
			same++
		} else {
			t.Logf("differs: %q embedded=%v postgres=%v", q, codes, pg[q])
		}
	}
	share := float64(same) / float64(len(em))
	t.Logf("same top-5 on %d of %d retrieval cases (%.3f)", same, len(em), share)
	assert.GreaterOrEqual(t, share, 0.95)
}

func mustConfig(t *testing.T, getenv func(string) string) *Config {
	cfg, fs := newConfig("test", getenv, &bytes.Buffer{})
	require.NoError(t, fs.Parse(nil))
	return cfg
}

func codes(hs []knowledge.Hit) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Code
	}
	return out
}
