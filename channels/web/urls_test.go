package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/internal/realcatalog"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/embedded"
	"github.com/trolyao/trolyao/knowledge/memconv"
)

// TestBadURLNotServed: a record stored with a link that is not https on an allowed domain — past staff
// validation, straight into the store — is served without it by every API that shows links: chat answers
// and their citations, the history, search and the procedure itself.
func TestBadURLNotServed(t *testing.T) {
	byCode := map[string]knowledge.Procedure{}
	for _, p := range realcatalog.Load(t).Procedures {
		byCode[p.Code] = p
	}
	const good = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.004222"
	for _, bad := range []string{"javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
		"http://dichvucong.gov.vn/a", "https://evil.example/dichvucong.gov.vn"} {
		t.Run(bad, func(t *testing.T) {
			rec, other := byCode["1.014064"].Clone(), byCode["1.004222"].Clone()
			rec.URL, other.URL = bad, good
			st, err := embedded.Open(t.TempDir())
			require.NoError(t, err)
			t.Cleanup(func() { st.Close() })
			emb := knowledge.HashEmbedder{}
			_, err = ingest.Sync(t.Context(), st, emb, emb.Meta(), []knowledge.Procedure{rec, other}, ingest.SyncOptions{})
			require.NoError(t, err)
			searcher := &knowledge.Searcher{Store: st, Embedder: emb, Weights: knowledge.DefaultWeights}
			convs := memconv.New()
			s := &Server{Store: st, Searcher: searcher, Conversations: convs,
				Assistant: &assistant.Assistant{Searcher: searcher, Store: st, Conversations: convs}}
			ts := httptest.NewServer(s.Handler())
			t.Cleanup(ts.Close)
			get := func(path string) string {
				t.Helper()
				resp, err := ts.Client().Get(ts.URL + path)
				require.NoError(t, err)
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", path, body)
				return string(body)
			}
			noBad := func(what, body string) {
				t.Helper()
				var v any
				require.NoError(t, json.Unmarshal([]byte(body), &v), what)
				var plain strings.Builder // JSON escapes < and >: compare without the escapes too
				enc := json.NewEncoder(&plain)
				enc.SetEscapeHTML(false)
				require.NoError(t, enc.Encode(v))
				for _, s := range []string{body, plain.String()} {
					assert.NotContains(t, s, bad, what)
					assert.NotContains(t, s, "javascript:", what)
					assert.NotContains(t, s, "evil.example", what)
				}
			}

			resp, err := ts.Client().Post(ts.URL+"/api/v1/chat", "application/json",
				strings.NewReader(`{"text":"Cấp lại thẻ căn cước mất bao nhiêu tiền?"}`))
			require.NoError(t, err)
			raw, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
			noBad("chat", string(raw))
			var ans Answer
			require.NoError(t, json.Unmarshal(raw, &ans))
			require.NotEmpty(t, ans.Citations)
			assert.Equal(t, "1.014064", ans.Citations[0].Code)
			assert.Empty(t, ans.Citations[0].URL)

			hist := get("/api/v1/chat/" + ans.ConversationID)
			noBad("history", hist)
			var h History
			require.NoError(t, json.Unmarshal([]byte(hist), &h))
			require.Len(t, h.Messages, 2)
			require.NotEmpty(t, h.Messages[1].Citations)
			assert.Equal(t, "1.014064", h.Messages[1].Citations[0].Code)
			assert.Empty(t, h.Messages[1].Citations[0].URL)

			search := get("/api/v1/search?k=5&q=" + url.QueryEscape("cấp lại thẻ căn cước"))
			noBad("search", search)
			var sr SearchResponse
			require.NoError(t, json.Unmarshal([]byte(search), &sr))
			urls := map[string]string{}
			for _, r := range sr.Results {
				urls[r.Code] = r.URL
			}
			require.Contains(t, urls, "1.014064")
			assert.Empty(t, urls["1.014064"])
			if u, ok := urls["1.004222"]; ok {
				assert.Equal(t, good, u, "an allowed link is served")
			}

			proc := get("/api/v1/procedures/1.014064")
			noBad("procedure", proc)
			var p knowledge.Procedure
			require.NoError(t, json.Unmarshal([]byte(proc), &p))
			assert.Empty(t, p.URL)
			assert.Equal(t, rec.Name, p.Name)
			require.NoError(t, json.Unmarshal([]byte(get("/api/v1/procedures/1.004222")), &p))
			assert.Equal(t, good, p.URL, "an allowed link is served")
		})
	}
}
