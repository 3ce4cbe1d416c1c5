package staff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/bank"
	kembedded "github.com/trolyao/trolyao/knowledge/embedded"
	"github.com/trolyao/trolyao/knowledge/memconv"
	"github.com/trolyao/trolyao/knowledge/storetest"
	"github.com/trolyao/trolyao/staff"
	sembedded "github.com/trolyao/trolyao/staff/embedded"
)

const password = "mật-khẩu-đủ-dài-1"

// clock is a settable clock for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     testing.TB
	svc   *staff.Service
	srv   *httptest.Server
	repo  staff.Repo
	store knowledge.Store
	convs knowledge.Conversations
	clock *clock
}

// newEnv serves a Service over store and repo (a fresh embedded repo when nil) on a test server.
func newEnv(t testing.TB, store knowledge.Store, repo staff.Repo, convs knowledge.Conversations, opts ...func(*staff.Options)) *env {
	t.Helper()
	if repo == nil {
		r, err := sembedded.Open(filepath.Join(t.TempDir(), "staff.db"))
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
		repo = r
	}
	if convs == nil {
		convs = memconv.New()
	}
	clk := &clock{t: time.Date(2026, 8, 3, 9, 0, 0, 0, time.UTC)}
	opt := staff.Options{Repo: repo, Store: store, Embedder: knowledge.HashEmbedder{}, Phrasebook: phrasebook, Conversations: convs,
		Now: clk.Now, TempDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(testLog{t}, nil)),
		Centres: knowledge.NewLiveCentres(seedCentres(t))}
	for _, o := range opts {
		o(&opt)
	}
	svc, err := staff.New(opt)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle(staff.Prefix, svc.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, svc: svc, srv: srv, repo: repo, store: store, convs: convs, clock: clk}
}

// testLog writes the service's log to the test's.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// addUser creates an account with the test password.
func (e *env) addUser(name string, role staff.Role) {
	e.t.Helper()
	require.NoError(e.t, staff.AddUser(e.t.Context(), e.repo, name, password, role, e.clock.Now()))
}

// client makes requests as one principal: a session cookie with its CSRF token, a bearer token, or nobody.
type client struct {
	e      *env
	cookie *http.Cookie
	csrf   string
	bearer string
}

type response struct {
	status int
	body   []byte
	header http.Header
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), "body: %s", r.body)
}

func (r response) code() string {
	var b struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(r.body, &b)
	return b.Error.Code
}

// do sends a request; body is raw bytes, a string or a value sent as JSON. hdr are name, value pairs.
func (c *client) do(method, path string, body any, hdr ...string) response {
	c.e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(c.e.t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(c.e.t.Context(), method, c.e.srv.URL+"/api/v1/staff"+path, rd)
	require.NoError(c.e.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
		if c.csrf != "" {
			req.Header.Set("X-CSRF-Token", c.csrf)
		}
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.e.srv.Client().Do(req)
	require.NoError(c.e.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(c.e.t, err)
	return response{status: res.StatusCode, body: data, header: res.Header}
}

// login logs in and returns a client with the session cookie and CSRF token.
func (e *env) login(name string) *client {
	e.t.Helper()
	c := &client{e: e}
	res := c.do("POST", "/login", map[string]string{"username": name, "password": password})
	require.Equal(e.t, http.StatusOK, res.status, "login %s: %s", name, res.body)
	var s struct {
		User struct{ Username, Role string }
		CSRF string `json:"csrf_token"`
	}
	res.json(e.t, &s)
	require.NotEmpty(e.t, s.CSRF)
	for _, ck := range (&http.Response{Header: res.header}).Cookies() {
		if ck.Name == staff.CookieName {
			c.cookie = ck
		}
	}
	require.NotNil(e.t, c.cookie)
	require.True(e.t, c.cookie.HttpOnly)
	require.Equal(e.t, http.SameSiteStrictMode, c.cookie.SameSite)
	c.csrf = s.CSRF
	return c
}

// token creates an API token with role and returns a client using it.
func (e *env) token(name string, role staff.Role) *client {
	e.t.Helper()
	secret, _, err := staff.AddToken(e.t.Context(), e.repo, name, role, nil, "cli", e.clock.Now())
	require.NoError(e.t, err)
	return &client{e: e, bearer: secret}
}

// smallStore is an embedded store with a hand-written catalog of three procedures.
func smallStore(t testing.TB) knowledge.Store {
	t.Helper()
	st, err := kembedded.Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	fillSmall(t, st)
	return st
}

// fillSmall puts the small hand-written catalog in st.
func fillSmall(t testing.TB, st knowledge.Store) {
	t.Helper()
	procs := []knowledge.Procedure{
		{Code: "1.000001", Name: "Đăng ký khai sinh", Levels: []knowledge.Level{knowledge.LevelCommune}, Field: "Hộ tịch",
			Dossier:  []knowledge.DossierItem{{Name: "Tờ khai đăng ký khai sinh", Originals: 1}},
			Channels: []knowledge.Channel{{Kind: knowledge.ChannelInPerson, Time: knowledge.Duration{Value: 1, Unit: "ngày làm việc"}, Free: true}}},
		{Code: "1.000002", Name: "Cấp lại thẻ căn cước", Levels: []knowledge.Level{knowledge.LevelCommune}, Field: "Căn cước"},
		{Code: "1.000003", Name: "Đăng ký tạm trú", Levels: []knowledge.Level{knowledge.LevelCommune}, Field: "Cư trú"},
	}
	emb := knowledge.HashEmbedder{}
	_, err := ingest.Sync(t.Context(), st, emb, emb.Meta(), procs, ingest.SyncOptions{Phrasebook: phrasebook})
	require.NoError(t, err)
}

// seed is the real centres file, read once.
var seed struct {
	once    sync.Once
	centres *knowledge.Centres
	err     error
}

// seedCentres is the centres file of the shared data folder.
func seedCentres(t testing.TB) *knowledge.Centres {
	t.Helper()
	seed.once.Do(func() { seed.centres, seed.err = ingest.LoadCentres(storetest.DataDir(t)) })
	require.NoError(t, seed.err)
	return seed.centres
}

// catalog is the real portal crawl, read once.
var catalog struct {
	once  sync.Once
	procs []knowledge.Procedure
	err   error
}

func crawlDir(t testing.TB) string {
	return filepath.Join(storetest.DataDir(t), "procedures", "dvcqg-2026")
}

func realProcedures(t testing.TB) []knowledge.Procedure {
	t.Helper()
	dir := crawlDir(t)
	catalog.once.Do(func() {
		catalog.procs, _, catalog.err = ingest.ReadPortalDir(dir)
	})
	require.NoError(t, catalog.err)
	return catalog.procs
}

// syncReal fills st with the real catalog.
func syncReal(t testing.TB, st knowledge.Store) {
	t.Helper()
	emb := knowledge.HashEmbedder{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, err := ingest.Sync(ctx, st, emb, emb.Meta(), realProcedures(t), ingest.SyncOptions{Phrasebook: phrasebook})
	require.NoError(t, err)
}

// realStore is an embedded store of its own with the real catalog: a copy of the file of realTemplate.
func realStore(t testing.TB) *kembedded.Store {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(realTemplate(t), kembedded.FileName))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, kembedded.FileName), data, 0o600))
	st, err := kembedded.Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

// template is a directory holding an embedded store filled by syncReal once per test binary, closed: each
// realStore starts from a copy of its file, which is what syncing a new store gives, in a fraction of the time.
var template struct {
	once sync.Once
	dir  string
	err  error
}

func realTemplate(t testing.TB) string {
	t.Helper()
	procs := realProcedures(t)
	template.once.Do(func() {
		if template.dir, template.err = os.MkdirTemp("", "trolyao-staff-catalog-"); template.err != nil {
			return
		}
		st, err := kembedded.Open(template.dir)
		if err != nil {
			template.err = err
			return
		}
		emb := knowledge.HashEmbedder{}
		_, err = ingest.Sync(context.Background(), st, emb, emb.Meta(), procs, ingest.SyncOptions{Phrasebook: phrasebook})
		template.err = errors.Join(err, st.Close())
	})
	require.NoError(t, template.err)
	return template.dir
}

// removeTemplate removes the directory of realTemplate, if it was made; TestMain calls it after the tests.
func removeTemplate() {
	if template.dir != "" {
		_ = os.RemoveAll(template.dir)
	}
}

// newAssistant answers from st, with the question bank's phrase indexes as in service.
func newAssistant(st knowledge.Store, convs knowledge.Conversations) *assistant.Assistant {
	emb := knowledge.HashEmbedder{}
	phrases, negatives := bankIndexes()
	return &assistant.Assistant{Searcher: &knowledge.Searcher{Store: st, Embedder: emb, Weights: knowledge.DefaultWeights,
		Lexicon: &knowledge.Lexicon{}},
		Store: st, Conversations: convs, Phrases: phrases, Negatives: negatives}
}

// bankIndexes are the question bank's phrase indexes, built once: the assistant only reads them.
var bankIndexes = sync.OnceValues(func() (phrases, negatives *assistant.PhraseIndex) {
	return assistant.BankIndexes(questionBank)
})

// questionBank and phrasebook are the question bank as service indexes it: the staff service and every store
// of these tests use it, so that content hashes agree as they do in service.
var (
	questionBank = func() *bank.Bank {
		b, err := bank.Load()
		if err != nil {
			panic(err)
		}
		return b
	}()
	phrasebook = questionBank.Phrasebook()
)

// hashOf is the content hash a store built with phrasebook keeps for p.
func hashOf(p *knowledge.Procedure) string {
	return knowledge.ContentHash(p, phrasebook.Phrasings(p.Code))
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
