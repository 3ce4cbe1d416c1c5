package staff_test

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/staff"
)

// call is one request of the roles table: setup prepares what it needs (run as the test, not as the
// principal) and returns the path and body.
type call struct {
	method, path string // the route as the service declares it
	want         int    // status when allowed
	prepare      func(e *env, n int) (path string, body any, hdr []string)
}

func fixed(path string, body any) func(*env, int) (string, any, []string) {
	return func(*env, int) (string, any, []string) { return path, body, nil }
}

// roleCalls covers every route but /login (public; tested on its own).
func roleCalls() []call {
	draft := func(code, name string) knowledge.Procedure {
		return knowledge.Procedure{Code: code, Name: name, Levels: []knowledge.Level{knowledge.LevelCommune}}
	}
	return []call{
		{"GET", "/me", 200, fixed("/me", nil)},
		{"POST", "/logout", 204, fixed("/logout", nil)},
		{"GET", "/procedures", 200, fixed("/procedures?q=khai+sinh", nil)},
		{"GET", "/procedures/{code}", 200, fixed("/procedures/1.000001", nil)},
		{"GET", "/procedures/{code}/draft", 200, fixed("/procedures/1.000001/draft", nil)},
		{"PUT", "/procedures/{code}/draft", 200, func(e *env, n int) (string, any, []string) {
			code := fmt.Sprintf("9.%06d", n)
			return "/procedures/" + code + "/draft", map[string]any{"base_version": 0, "procedure": draft(code, "Thủ tục mới")}, nil
		}},
		{"DELETE", "/procedures/{code}/draft", 204, func(e *env, n int) (string, any, []string) {
			code := fmt.Sprintf("8.%06d", n)
			_, err := e.repo.SaveDraft(e.t.Context(), staff.Draft{Code: code, Procedure: draft(code, "Bỏ"), UpdatedBy: "x"}, 0)
			require.NoError(e.t, err)
			return "/procedures/" + code + "/draft?base_version=1", nil, nil
		}},
		{"GET", "/procedures/{code}/diff", 200, fixed("/procedures/1.000001/diff", nil)},
		{"POST", "/procedures/{code}/preview", 200, fixed("/procedures/1.000001/preview", map[string]string{"question": "lệ phí bao nhiêu"})},
		{"POST", "/procedures/{code}/publish", 200, func(e *env, n int) (string, any, []string) {
			code := fmt.Sprintf("7.%06d", n)
			_, err := e.repo.SaveDraft(e.t.Context(), staff.Draft{Code: code, Procedure: draft(code, "Xuất bản"), UpdatedBy: "x"}, 0)
			require.NoError(e.t, err)
			return "/procedures/" + code + "/publish", map[string]any{"note": "kiểm thử"}, []string{"If-Match", `"1"`}
		}},
		{"POST", "/procedures/{code}/unpublish", 200, func(e *env, n int) (string, any, []string) {
			code := fmt.Sprintf("6.%06d", n)
			p := draft(code, "Sẽ gỡ")
			vec, err := knowledge.HashEmbedder{}.EmbedQuery(e.t.Context(), knowledge.EmbedText(&p, nil))
			require.NoError(e.t, err)
			require.NoError(e.t, e.store.Apply(e.t.Context(), knowledge.Change{Upsert: []knowledge.Doc{knowledge.NewDoc(p, nil, vec)}}))
			return "/procedures/" + code + "/unpublish", nil, nil
		}},
		{"GET", "/procedures/{code}/versions", 200, fixed("/procedures/1.000001/versions", nil)},
		{"GET", "/procedures/{code}/versions/{version}", 200, fixed("/procedures/1.000001/versions/1", nil)},
		{"POST", "/procedures/{code}/versions/{version}/restore", 200, fixed("/procedures/1.000001/versions/1/restore", nil)},
		{"GET", "/imports", 200, fixed("/imports", nil)},
		{"POST", "/imports", 201, func(e *env, n int) (string, any, []string) {
			return "/imports?name=c.jsonl", []byte(`{"format":"trolyao-procedures","version":1}` + "\n" +
				fmt.Sprintf(`{"code":"5.%06d","name":"Nhập"}`, n) + "\n"), []string{"Content-Type", "application/octet-stream"}
		}},
		{"GET", "/imports/{id}", 200, func(e *env, n int) (string, any, []string) {
			im, err := e.repo.CreateImport(e.t.Context(), staff.Import{Name: "x.jsonl", Format: "jsonl", Status: "open"}, nil)
			require.NoError(e.t, err)
			return fmt.Sprintf("/imports/%d", im.ID), nil, nil
		}},
		{"POST", "/imports/{id}/publish", 200, func(e *env, n int) (string, any, []string) {
			p := draft(fmt.Sprintf("4.%06d", n), "Đợt nhập")
			im, err := e.repo.CreateImport(e.t.Context(), staff.Import{Name: "x.jsonl", Format: "jsonl", Status: "open"},
				[]staff.ImportRecord{{Code: p.Code, Name: p.Name, Status: staff.StatusNew, Procedure: &p}})
			require.NoError(e.t, err)
			return fmt.Sprintf("/imports/%d/publish", im.ID), nil, nil
		}},
		{"GET", "/export", 200, fixed("/export", nil)},
		{"GET", "/unanswered", 200, fixed("/unanswered?by=procedure&status=all", nil)},
		{"POST", "/unanswered/handled", 204, fixed("/unanswered/handled", map[string]string{"by": "question", "key": "lam giay to"})},
		{"POST", "/unanswered/link", 200, func(e *env, n int) (string, any, []string) {
			return "/unanswered/link", map[string]string{"question": fmt.Sprintf("làm giấy chào đời số %d", n), "code": "1.000001"}, nil
		}},
		{"GET", "/synonyms", 200, fixed("/synonyms", nil)},
		{"POST", "/synonyms", 201, func(e *env, n int) (string, any, []string) {
			return "/synonyms", map[string]string{"phrase": fmt.Sprintf("cụm %d", n), "to": "khai sinh"}, nil
		}},
		{"DELETE", "/synonyms/{id}", 204, func(e *env, n int) (string, any, []string) {
			s, err := e.repo.AddSynonym(e.t.Context(), staff.Synonym{Phrase: fmt.Sprintf("xoá %d", n), To: "x"})
			require.NoError(e.t, err)
			return fmt.Sprintf("/synonyms/%d", s.ID), nil, nil
		}},
		{"GET", "/centres", 200, fixed("/centres", nil)},
		{"GET", "/centres/{unit}", 200, fixed("/centres/27154", nil)},
		{"PUT", "/centres/{unit}", 200, func(e *env, n int) (string, any, []string) {
			unit := centreUnit(e, n)
			return "/centres/" + unit, map[string]any{"address": fmt.Sprintf("Số %d", n)}, []string{"If-Match", centreVersion(e, unit)}
		}},
		{"DELETE", "/centres/{unit}", 204, func(e *env, n int) (string, any, []string) {
			unit := centreUnit(e, n)
			base, _ := strconv.Atoi(centreVersion(e, unit))
			c, err := e.repo.SaveCentreCorrection(e.t.Context(), staff.CentreCorrection{UnitCode: unit, Name: "Trung tâm",
				Address: "Số 1", By: "x"}, base)
			require.NoError(e.t, err)
			return fmt.Sprintf("/centres/%s?base_version=%d", unit, c.Version), nil, nil
		}},
		{"GET", "/starters", 200, fixed("/starters", nil)},
		{"PUT", "/starters", 200, func(e *env, n int) (string, any, []string) {
			return "/starters", map[string]any{"questions": []string{fmt.Sprintf("Câu hỏi %d", n)}}, []string{"If-Match", startersVersion(e)}
		}},
		{"DELETE", "/starters", 204, func(e *env, n int) (string, any, []string) {
			base, _ := strconv.Atoi(startersVersion(e))
			s, err := e.repo.(staff.StarterRepo).SaveStarters(e.t.Context(), staff.Starters{Questions: []string{"Bỏ"}, By: "x"}, base)
			require.NoError(e.t, err)
			return fmt.Sprintf("/starters?base_version=%d", s.Version), nil, nil
		}},
		{"GET", "/users", 200, fixed("/users", nil)},
		{"POST", "/users", 201, func(e *env, n int) (string, any, []string) {
			return "/users", map[string]string{"username": fmt.Sprintf("moi%d", n), "password": password, "role": "viewer"}, nil
		}},
		{"PATCH", "/users/{username}", 200, fixed("/users/dummy", map[string]string{"role": "editor"})},
		{"GET", "/tokens", 200, fixed("/tokens", nil)},
		{"POST", "/tokens", 201, fixed("/tokens", map[string]string{"name": "máy chủ", "role": "viewer"})},
		{"DELETE", "/tokens/{id}", 204, func(e *env, n int) (string, any, []string) {
			_, tok, err := staff.AddToken(e.t.Context(), e.repo, fmt.Sprintf("t%d", n), staff.RoleViewer, nil, "cli", e.clock.Now())
			require.NoError(e.t, err)
			return fmt.Sprintf("/tokens/%d", tok.ID), nil, nil
		}},
		{"GET", "/audit", 200, fixed("/audit?limit=5", nil)},
	}
}

// centreUnit is the unit code of the n-th centre of the file, and centreVersion its correction's version.
func centreUnit(e *env, n int) string {
	all := seedCentres(e.t).All()
	return all[n%len(all)].UnitCode
}

func centreVersion(e *env, unit string) string {
	c, err := e.repo.CentreCorrection(e.t.Context(), unit)
	if err != nil {
		require.ErrorIs(e.t, err, knowledge.ErrNotFound)
	}
	return strconv.Itoa(c.Version)
}

// startersVersion is the version of the starter questions staff set ("0": none).
func startersVersion(e *env) string {
	s, err := e.repo.(staff.StarterRepo).Starters(e.t.Context())
	if err != nil {
		require.ErrorIs(e.t, err, knowledge.ErrNotFound)
	}
	return strconv.Itoa(s.Version)
}

// TestRoles is the endpoints × roles table: every route, called by nobody, each role with a session, and API
// tokens, answers 401 / 403 / its success status exactly as the role allows.
func TestRoles(t *testing.T) {
	runRoles(t, newEnv(t, smallStore(t), nil, nil, withStarters(liveStarters(t))))
}

// runRoles runs the roles table on e, whose store holds the small catalog.
func runRoles(t *testing.T, e *env) {
	ctx := t.Context()
	for _, r := range []staff.Role{staff.RoleViewer, staff.RoleEditor, staff.RolePublisher, staff.RoleAdmin} {
		e.addUser(string(r), r)
	}
	e.addUser("dummy", staff.RoleViewer)
	// Fixtures the read routes use: a draft with a published version of 1.000001.
	seed, err := e.store.Get(ctx, "1.000001")
	require.NoError(t, err)
	_, err = e.repo.AddVersions(ctx, []staff.Version{{Code: seed.Code, Action: staff.ActionPublish, By: "admin", Procedure: &seed}}, nil)
	require.NoError(t, err)
	seed.Name += " (sửa)"
	_, err = e.repo.SaveDraft(ctx, staff.Draft{Code: seed.Code, Procedure: seed, UpdatedBy: "editor"}, 0)
	require.NoError(t, err)

	type who struct {
		name   string
		role   staff.Role // "" for nobody
		client func() *client
	}
	session := func(name string) func() *client { return func() *client { return e.login(name) } }
	viewerToken, publisherToken := e.token("đọc", staff.RoleViewer), e.token("xuất bản", staff.RolePublisher)
	whos := []who{
		{"anonymous", "", func() *client { return &client{e: e} }},
		{"viewer", staff.RoleViewer, session("viewer")},
		{"editor", staff.RoleEditor, session("editor")},
		{"publisher", staff.RolePublisher, session("publisher")},
		{"admin", staff.RoleAdmin, session("admin")},
		{"token-viewer", staff.RoleViewer, func() *client { return viewerToken }},
		{"token-publisher", staff.RolePublisher, func() *client { return publisherToken }},
	}
	clients := map[string]*client{}
	for _, w := range whos {
		clients[w.name] = w.client()
	}
	need := map[string]staff.Role{}
	for _, r := range e.svc.Routes() {
		need[r[0]+" "+r[1]] = staff.Role(r[2])
	}
	var n atomic.Int64
	covered := map[string]bool{}
	for _, c := range roleCalls() {
		key := c.method + " " + c.path
		role, ok := need[key]
		require.True(t, ok, "the table names a route the service does not serve: %s", key)
		covered[key] = true
		for _, w := range whos {
			t.Run(strings.ReplaceAll(key, "/", "_")+"/"+w.name, func(t *testing.T) {
				cl := clients[w.name]
				if c.path == "/logout" && w.role != "" && !strings.HasPrefix(w.name, "token") {
					cl = w.client() // logging out ends the session: use a fresh one
				}
				path, body, hdr := c.prepare(e, int(n.Add(1)))
				res := cl.do(c.method, path, body, hdr...)
				want := c.want
				switch {
				case w.role == "":
					want = http.StatusUnauthorized
				case !w.role.Allows(role):
					want = http.StatusForbidden
				}
				assert.Equal(t, want, res.status, "%s as %s: %s", key, w.name, res.body)
				if want == http.StatusForbidden {
					assert.Equal(t, "forbidden", res.code())
				}
			})
		}
	}
	for key := range need {
		if key != "POST /login" {
			assert.True(t, covered[key], "route %s is missing from the roles table", key)
		}
	}
}

// TestRoleMatrix states the policy itself: which role may do what.
func TestRoleMatrix(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	want := map[string]staff.Role{
		"GET /procedures": staff.RoleViewer, "PUT /procedures/{code}/draft": staff.RoleEditor,
		"POST /procedures/{code}/preview": staff.RoleEditor, "POST /imports": staff.RoleEditor,
		"POST /unanswered/handled": staff.RoleEditor, "POST /unanswered/link": staff.RoleEditor, "POST /synonyms": staff.RoleEditor,
		"POST /procedures/{code}/publish": staff.RolePublisher, "POST /procedures/{code}/unpublish": staff.RolePublisher,
		"POST /procedures/{code}/versions/{version}/restore": staff.RolePublisher, "POST /imports/{id}/publish": staff.RolePublisher,
		"GET /users": staff.RoleAdmin, "POST /tokens": staff.RoleAdmin, "GET /audit": staff.RoleAdmin, "GET /export": staff.RoleViewer,
		"GET /unanswered": staff.RoleViewer, "POST /login": "",
		"GET /centres": staff.RoleViewer, "PUT /centres/{unit}": staff.RolePublisher, "DELETE /centres/{unit}": staff.RolePublisher,
		"GET /starters": staff.RoleViewer, "PUT /starters": staff.RolePublisher, "DELETE /starters": staff.RolePublisher,
	}
	got := map[string]staff.Role{}
	for _, r := range e.svc.Routes() {
		got[r[0]+" "+r[1]] = staff.Role(r[2])
		if strings.HasPrefix(r[1], "/audit") {
			assert.Equal(t, "GET", r[0], "the audit log has no route that changes it")
		}
	}
	for k, r := range want {
		assert.Equal(t, r, got[k], k)
	}
}

// TestOpenAPI checks that openapi.yaml is valid YAML of OpenAPI 3.1 whose references resolve, that every
// route the handler serves is documented there and vice versa, and that every operation has an operationId
// no other operation has (client generators name their functions after it).
func TestOpenAPI(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	data, err := os.ReadFile("openapi.yaml")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(data, &doc))
	assert.Equal(t, "3.1.0", doc["openapi"])
	paths, ok := doc["paths"].(map[string]any)
	require.True(t, ok)
	documented := map[string]bool{}
	operationIDs := map[string]string{} // operationId → the operation that has it
	for p, item := range paths {
		for m, op := range item.(map[string]any) {
			if slices.Contains([]string{"get", "post", "put", "patch", "delete"}, m) {
				key := strings.ToUpper(m) + " " + p
				documented[key] = true
				id, _ := op.(map[string]any)["operationId"].(string)
				if !assert.NotEmpty(t, id, "%s has no operationId", key) {
					continue
				}
				if other, dup := operationIDs[id]; dup {
					t.Errorf("operationId %q is on both %s and %s", id, other, key)
				}
				operationIDs[id] = key
			}
		}
	}
	assert.Equal(t, len(documented), len(operationIDs), "operations with a unique operationId")
	served := map[string]bool{}
	for _, r := range e.svc.Routes() {
		served[r[0]+" "+r[1]] = true
		assert.True(t, documented[r[0]+" "+r[1]], "%s %s is served but not in openapi.yaml", r[0], r[1])
	}
	for k := range documented {
		assert.True(t, served[k], "%s is in openapi.yaml but not served", k)
	}
	// Every $ref points at a component that exists.
	refs := regexp.MustCompile(`\$ref: "#/components/(\w+)/(\w+)"`).FindAllStringSubmatch(string(data), -1)
	require.NotEmpty(t, refs)
	comps := doc["components"].(map[string]any)
	for _, r := range refs {
		kind, _ := comps[r[1]].(map[string]any)
		assert.Contains(t, kind, r[2], "unresolved $ref %s/%s", r[1], r[2])
	}
}
