package assistant_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/embedded"
	"github.com/trolyao/trolyao/knowledge/memconv"
)

// promptModel answers a fixed grounded text and keeps the prompts it was given.
type promptModel struct {
	mu      sync.Mutex
	prompts []string
	text    string
}

func (m *promptModel) Stream(_ context.Context, system, user string, onDelta func(string)) (string, error) {
	m.mu.Lock()
	m.prompts = append(m.prompts, system+"\n"+user)
	m.mu.Unlock()
	onDelta(m.text)
	return m.text, nil
}

// TestStoredBadURL: a record stored with a link that is not https on an allowed domain — written to the store
// directly, past staff validation — is answered and cited without its link, offline and through a model.
func TestStoredBadURL(t *testing.T) {
	for _, bad := range []string{
		"javascript:alert(1)",
		"JavaScript:alert(document.cookie)//https://dichvucong.gov.vn",
		"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
		"http://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.014064",
		"https://evil.example/dichvucong.gov.vn",
		"https://dichvucong.gov.vn/a)[Bấm vào đây](https://evil.example",
	} {
		t.Run(bad, func(t *testing.T) {
			rec := proc(t, "1.014064")
			rec.URL = bad
			st, err := embedded.Open(t.TempDir())
			require.NoError(t, err)
			t.Cleanup(func() { st.Close() })
			emb := knowledge.HashEmbedder{}
			_, err = ingest.Sync(t.Context(), st, emb, emb.Meta(),
				[]knowledge.Procedure{rec, proc(t, "1.004222"), proc(t, "1.004194")}, ingest.SyncOptions{})
			require.NoError(t, err)
			got, err := st.Get(t.Context(), "1.014064")
			require.NoError(t, err)
			require.Equal(t, bad, got.URL, "the store holds the bad link")

			m := &promptModel{text: "Lệ phí cấp lại thẻ căn cước (mã 1.014064) là 70.000 đồng."}
			for _, model := range []assistant.Model{nil, m} {
				a := &assistant.Assistant{Searcher: &knowledge.Searcher{Store: st, Embedder: emb, Weights: knowledge.DefaultWeights},
					Store: st, Conversations: memconv.New(), Model: model}
				conv := "url-" + strings.ReplaceAll(t.Name(), "/", "-")
				if model != nil {
					conv += "-llm"
				}
				for _, q := range []string{"Cấp lại thẻ căn cước mất bao nhiêu tiền?", "Nộp trực tuyến được không?",
					"Nộp hồ sơ ở đâu?", assistant.MoreReply} {
					var events []assistant.Event
					ans, err := a.Reply(t.Context(), conv, q, func(e assistant.Event) { events = append(events, e) })
					require.NoError(t, err, q)
					require.NotEmpty(t, ans.Citations, q)
					assert.Equal(t, "1.014064", ans.Citations[0].Code, q)
					for _, c := range append(ans.Citations, ans.Options...) {
						assert.Empty(t, c.URL, "%s: the citation has no link", q)
					}
					for _, e := range events {
						assert.NotContains(t, e.Delta, bad, q)
					}
					assert.NotContains(t, ans.Text, bad, q)
					assert.NotContains(t, strings.ToLower(ans.Text), "javascript", q)
					assert.NotContains(t, ans.Text, "evil.example", q)
					assert.NotContains(t, ans.Text, "data:", q)
					assert.NotContains(t, ans.Text, "http://", q)
					if model == nil && (q == assistant.MoreReply || strings.Contains(q, "tiền")) {
						assert.Contains(t, ans.Text, "Nguồn: Cổng Dịch vụ công quốc gia – mã 1.014064 (dữ liệu ngày", q)
					}
				}
			}
			require.NotEmpty(t, m.prompts, "the model was asked")
			for _, p := range m.prompts {
				assert.NotContains(t, p, bad)
				assert.NotContains(t, p, "evil.example")
			}
		})
	}
}
