package bank_test

import (
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/bank"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// TestBankAgainstCatalog holds the bank to what docs/question-bank.md promises, against the real catalog.
func TestBankAgainstCatalog(t *testing.T) {
	b, err := bank.Load()
	require.NoError(t, err)
	procs, _, err := ingest.ReadCatalog(filepath.Join(storetest.DataDir(t), "procedures", "dvcqg-2026"))
	require.NoError(t, err)
	catalog := map[string]knowledge.Procedure{}
	for _, p := range procs {
		catalog[p.Code] = p
	}

	assert.GreaterOrEqual(t, len(b.Entries), 1000, "procedures")
	assert.GreaterOrEqual(t, len(b.Negatives), 400, "negatives")
	assert.GreaterOrEqual(t, len(b.Dialogues), 300, "dialogues")
	covered := map[string]bool{}
	for _, e := range b.Entries {
		require.Contains(t, catalog, e.Code, "entry %s names no procedure of the catalog", e.Code)
		assert.GreaterOrEqual(t, len(e.Questions), 12, e.Code)
		assert.GreaterOrEqual(t, len(e.Aliases), 5, e.Code)
		for _, a := range e.Accept {
			assert.Contains(t, catalog, a, "%s accepts an unknown code", e.Code)
			covered[a] = true
		}
		for _, q := range e.Questions {
			for _, a := range q.Accept {
				assert.Contains(t, catalog, a, "%s: %q accepts an unknown code", e.Code, q.Q)
			}
		}
	}
	for _, p := range procs {
		if p.HasLevel(knowledge.LevelCommune) {
			assert.True(t, covered[p.Code], "commune-level procedure %s has no entry", p.Code)
		}
	}
	assert.GreaterOrEqual(t, len(b.Stories), 400, "stories")
	negativeStories := 0
	for _, st := range b.Stories {
		if len(st.Expect) == 0 {
			negativeStories++
			continue
		}
		_, ok := b.Entry(st.Expect[0])
		assert.True(t, ok, "story %q: its first procedure %s has an entry", st.Q, st.Expect[0])
		for _, c := range st.Expect {
			assert.Contains(t, catalog, c, "story %q expects an unknown code", st.Q)
		}
	}
	assert.GreaterOrEqual(t, negativeStories, 40, "negative stories")
	for _, d := range b.Dialogues {
		for _, turn := range d.Turns {
			if turn.Expect != nil {
				for _, c := range *turn.Expect {
					assert.Contains(t, catalog, c, "dialogue %q expects an unknown code", d.Turns[0].Q)
				}
			}
		}
	}
}

// TestSplits: every family, negative group and dialogue has one split; the shares are about 70/15/15; half of
// the questions are probes; an index built for a split leaves its probes out and keeps the rest.
func TestSplits(t *testing.T) {
	b, err := bank.Load()
	require.NoError(t, err)
	families := map[string]bank.Split{}
	count := map[bank.Split]int{}
	probes, questions := 0, 0
	for _, e := range b.Entries {
		if s, ok := families[e.Family]; ok {
			assert.Equal(t, s, e.Split, "family %s spans splits", e.Family)
		}
		families[e.Family] = e.Split
		count[e.Split]++
		for _, q := range e.Questions {
			questions++
			if q.Probe {
				probes++
			}
		}
	}
	n := float64(len(b.Entries))
	assert.InDelta(t, 0.70, float64(count[bank.Train])/n, 0.05)
	assert.InDelta(t, 0.15, float64(count[bank.Validation])/n, 0.05)
	assert.InDelta(t, 0.15, float64(count[bank.Test])/n, 0.05)
	assert.InDelta(t, 0.5, float64(probes)/float64(questions), 0.03)

	pb := b.Phrasebook(bank.Test)
	full := b.Phrasebook()
	for _, e := range b.Entries[:200] {
		got := pb.Phrasings(e.Code)
		for _, a := range e.Aliases {
			assert.Contains(t, full.Phrasings(e.Code), a)
		}
		for _, q := range e.Questions {
			if e.Split == bank.Test && q.Probe {
				assert.NotContains(t, got, q.Q, "a test probe is not indexed for the test split")
			}
			if e.Split != bank.Test {
				assert.Contains(t, got, q.Q, "other splits keep their questions")
			}
		}
	}
	assert.NotEqual(t, pb.ID(), full.ID())

	// A story goes with the family of its first procedure, and is right for every level of it.
	for _, st := range b.Stories {
		if len(st.Expect) == 0 {
			continue
		}
		e, _ := b.Entry(st.Expect[0])
		assert.Equal(t, e.Split, st.Split, "story %q", st.Q)
		for _, a := range e.Accept {
			assert.Contains(t, st.Expect, a, "story %q", st.Q)
		}
	}
}

func TestReadErrors(t *testing.T) {
	for name, line := range map[string]string{
		"bad json":   `{"code":`,
		"bad code":   `{"code":"x","accept":[],"aliases":[],"questions":[]}`,
		"bad accept": `{"code":"1.000001","accept":["y"],"aliases":[],"questions":[]}`,
		"empty q":    `{"code":"1.000001","accept":[],"aliases":[],"questions":[{"q":" "}]}`,
		"long alias": `{"code":"1.000001","accept":[],"aliases":["` + string(slices.Repeat([]byte("a"), 201)) + `"],"questions":[]}`,
		"nul":        `{"code":"1.000001","accept":[],"aliases":["a\u0000b"],"questions":[]}`,
	} {
		fsys := fstest.MapFS{"procedures/a.jsonl": {Data: []byte(line + "\n")}}
		_, err := bank.Read(fsys)
		assert.Error(t, err, name)
	}
	fsys := fstest.MapFS{"procedures/a.jsonl": {Data: []byte(`{"code":"1.000001","accept":[],"aliases":["a"],"questions":[{"q":"b"}]}` + "\n")}}
	b, err := bank.Read(fsys)
	require.NoError(t, err)
	e, ok := b.Entry("1.000001")
	require.True(t, ok)
	assert.Equal(t, []string{"1.000001"}, e.Accept, "an entry always accepts its own code")
}
