package staff_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/staff"
)

type procedureRow struct {
	Code         string            `json:"code"`
	Name         string            `json:"name"`
	Levels       []knowledge.Level `json:"levels"`
	Published    bool              `json:"published"`
	DraftVersion int               `json:"draft_version"`
}

type procedureList struct {
	Items []procedureRow `json:"items"`
	Total int            `json:"total"`
}

func rank(items []procedureRow, code string) int {
	return slices.IndexFunc(items, func(r procedureRow) bool { return r.Code == code })
}

// TestSearchRanked: the staff search is the assistant's ranked, accent-insensitive search over the real
// catalog — "lam lai can cuoc" and "cccd" find the ward-level re-issue of the identity card first or near the
// top, "căn cước" ranks it high (it was #16 of 27 in code order), levels come with each row; a staff alias is
// found once published; a code prefix lists codes first; a draft of a new procedure is found by its name.
func TestSearchRanked(t *testing.T) {
	const code = "1.014064" // cấp lại thẻ căn cước, cấp xã
	e := newEnv(t, realStore(t), nil, nil)
	e.addUser("lan", staff.RolePublisher)
	c := e.login("lan")
	search := func(q string, extra ...string) procedureList {
		t.Helper()
		path := "/procedures?q=" + url.QueryEscape(q)
		for _, x := range extra {
			path += "&" + x
		}
		res := c.do("GET", path, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var l procedureList
		res.json(t, &l)
		assert.Equal(t, len(l.Items), l.Total)
		return l
	}
	for q, within := range map[string]int{"lam lai can cuoc": 1, "cccd": 3, "căn cước": 3, "làm lại thẻ căn cước bị mất": 1} {
		l := search(q)
		i := rank(l.Items, code)
		require.GreaterOrEqual(t, i, 0, "%q finds %s", q, code)
		assert.Less(t, i, within, "%q ranks %s at #%d: %v", q, code, i+1, l.Items[:min(len(l.Items), 5)])
	}
	l := search("lam lai can cuoc")
	row := l.Items[rank(l.Items, code)]
	assert.Equal(t, []knowledge.Level{knowledge.LevelCommune}, row.Levels, "levels are shown")
	assert.True(t, row.Published)

	// A staff alias (as the queue's link adds it) is matched once published.
	const alias = "xin cái thẻ chíp mới"
	before := search(alias)
	require.Greater(t, rank(before.Items, code), 0, "the alias's words alone do not put it first: %v", before.Items[:min(len(before.Items), 3)])
	p, err := e.store.Get(t.Context(), code)
	require.NoError(t, err)
	p.Aliases = append(p.Aliases, alias)
	res := c.do("PUT", "/procedures/"+code+"/draft", map[string]any{"base_version": 0, "procedure": p})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res = c.do("POST", "/procedures/"+code+"/publish", map[string]any{"base_version": 1})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	assert.Equal(t, 0, rank(search(alias).Items, code), "the alias finds the procedure first")
	assert.Equal(t, 0, rank(search(alias, "drafts=false").Items, code))

	// A code prefix: codes first, in order.
	l = search("1.01406")
	var prefixed []string
	for _, r := range l.Items {
		if !strings.HasPrefix(r.Code, "1.01406") {
			break
		}
		prefixed = append(prefixed, r.Code)
	}
	assert.Contains(t, prefixed, code)
	assert.True(t, slices.IsSorted(prefixed), "%v", prefixed)

	// A new procedure that exists only as a draft is found by its name, accents optional, and with drafts=true.
	res = c.do("PUT", "/procedures/9.900002/draft", map[string]any{"base_version": 0,
		"procedure": knowledge.Procedure{Code: "9.900002", Name: "Xác nhận thử nghiệm tìm kiếm bản nháp"}})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	l = search("xac nhan thu nghiem tim kiem")
	require.GreaterOrEqual(t, rank(l.Items, "9.900002"), 0)
	assert.False(t, l.Items[rank(l.Items, "9.900002")].Published)
	l = search("thử nghiệm tìm kiếm", "drafts=true")
	assert.Equal(t, []procedureRow{{Code: "9.900002", Name: "Xác nhận thử nghiệm tìm kiếm bản nháp", DraftVersion: 1}}, l.Items)

	// Limits: at most 200 characters, with a Vietnamese message.
	res = c.do("GET", "/procedures?q="+url.QueryEscape(strings.Repeat("ă", 201)), nil)
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Contains(t, string(res.body), "200 ký tự")
}
