package staff_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/memconv"
	"github.com/trolyao/trolyao/knowledge/postgres/pgtest"
	"github.com/trolyao/trolyao/staff"
	staffpg "github.com/trolyao/trolyao/staff/postgres"
)

// TestPostgresSecondProcess publishes through one process and asks a second serve process on the same
// PostgreSQL database: it answers from the new content at once, and picks up a new synonym within 2 s.
func TestPostgresSecondProcess(t *testing.T) {
	schema := pgtest.Schema(t)
	st := pgStore(t, schema)
	syncReal(t, st)
	e := newEnv(t, st, staffpg.New(st.Pool()), nil)
	e.addUser("lan", staff.RoleEditor)
	e.addUser("hoa", staff.RolePublisher)
	editor, publisher := e.login("lan"), e.login("hoa")
	other := startSecond(t, schema)

	q := "đăng ký khai sinh lệ phí bao nhiêu"
	before := other.ask(q)
	require.NotEmpty(t, before.Cited, before.Text)
	require.NotContains(t, before.Text, "123.456 đồng")
	code := before.Cited
	p, err := st.Get(t.Context(), code)
	require.NoError(t, err)
	for i := range p.Channels {
		p.Channels[i].Fees = []knowledge.Fee{{Amount: 123456, Label: "Lệ phí"}}
		p.Channels[i].Free, p.Channels[i].FeeNA = false, false
	}
	res := editor.do("PUT", "/procedures/"+code+"/draft", map[string]any{"base_version": 0, "procedure": p})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res = publisher.do("POST", "/procedures/"+code+"/publish", map[string]any{"base_version": 1})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	after := other.ask(q)
	assert.Equal(t, code, after.Cited)
	assert.Contains(t, after.Text, "123.456 đồng", "the second process answers from the published content")

	// A synonym added here reaches the other process's query analyser (LISTEN/NOTIFY).
	want := other.ask("cấp lại giấy phép lái xe").Top
	query := "cấp lại blx"
	require.NotEqual(t, want, other.ask(query).Top, "precondition")
	res = editor.do("POST", "/synonyms", map[string]string{"phrase": "blx", "to": "giấy phép lái xe"})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	deadline := time.Now().Add(2 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		if got = other.ask(query).Top; got == want {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	assert.Equal(t, want, got, "the second process applies the synonym within 2 s")

	// A centre correction made here reaches the other process's where-answers (LISTEN/NOTIFY), and so does
	// its revert.
	require.Contains(t, other.ask(whereQ).Text, banCoSeed, "precondition")
	res = publisher.do("PUT", "/centres/"+banCo, correction(0))
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	eventually := func(want string) string {
		var text string
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if text = other.ask(whereQ).Text; strings.Contains(text, want) {
				break
			}
		}
		return text
	}
	text := eventually("185 Cách Mạng Tháng Tám")
	assert.Contains(t, text, "185 Cách Mạng Tháng Tám", "the second process names the corrected centre within 2 s")
	assert.NotContains(t, text, banCoSeed)
	res = publisher.do("DELETE", "/centres/"+banCo+"?base_version=1", nil)
	require.Equal(t, http.StatusNoContent, res.status, "%s", res.body)
	text = eventually(banCoSeed)
	assert.Contains(t, text, banCoSeed, "the second process is back to the seed within 2 s")
}

// TestPostgresService runs the roles table, the concurrent edits, the catalog rollback and staff attribution
// over the PostgreSQL repo.
func TestPostgresService(t *testing.T) {
	pgtest.URL(t)
	t.Run("Roles", func(t *testing.T) {
		st := pgStore(t, pgtest.Schema(t))
		fillSmall(t, st)
		runRoles(t, newEnv(t, st, staffpg.New(st.Pool()), nil, withStarters(liveStarters(t))))
	})
	t.Run("ImportRealCrawl", func(t *testing.T) {
		st := pgStore(t, pgtest.Schema(t))
		runImportRealCrawl(t, newEnv(t, st, staffpg.New(st.Pool()), nil), false, "dvcqg-2026/bo-tu-phap/")
	})
	t.Run("CatalogRollback", func(t *testing.T) {
		st := pgStore(t, pgtest.Schema(t))
		syncReal(t, st)
		runCatalogRollback(t, newEnv(t, st, staffpg.New(st.Pool()), nil))
	})
	t.Run("CentreCorrection", func(t *testing.T) {
		schema := pgtest.Schema(t)
		st := pgStore(t, schema)
		syncReal(t, st)
		runCentreCorrection(t, st, staffpg.New(st.Pool()), func() staff.Repo { return staffpg.New(pgStore(t, schema).Pool()) })
	})
	t.Run("StaffFeeAttribution", func(t *testing.T) {
		st := pgStore(t, pgtest.Schema(t))
		syncReal(t, st)
		a := newAssistant(st, memconv.New())
		runStaffFeeAttribution(t, newEnv(t, st, staffpg.New(st.Pool()), nil, func(o *staff.Options) { o.Composer = a }), a)
	})
	t.Run("ConcurrentEdits", func(t *testing.T) {
		st := pgStore(t, pgtest.Schema(t))
		fillSmall(t, st)
		runConcurrentEdits(t, newEnv(t, st, staffpg.New(st.Pool()), nil))
	})
}
