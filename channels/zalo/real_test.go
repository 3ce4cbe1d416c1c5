package zalo_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/channels/zalo"
	"github.com/trolyao/trolyao/internal/realcatalog"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	realcatalog.Close()
	os.Exit(code)
}

// realAssistant is the offline assistant over the real catalog in an embedded store.
func realAssistant(t *testing.T) *assistant.Assistant {
	t.Helper()
	return realcatalog.Load(t).Assistant(nil)
}

// TestRealAssistant runs the channel end to end with the real assistant over the real catalog.
func TestRealAssistant(t *testing.T) {
	a := realAssistant(t)
	p, err := realcatalog.Load(t).Store.Get(t.Context(), "1.014064")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(p.URL, "https://"), "the procedure has a portal page: %q", p.URL)

	q := openBolt(t, filepath.Join(t.TempDir(), "zalo.db"))
	r := start(t, q, nil, a, nil)
	deliver(t, r.hook.URL, event("user_send_text", "6142494823", "làm lại căn cước cần gì", "e2e-1", time.Now()))
	idle(t, q)
	msgs := r.api.messages()
	require.NotEmpty(t, msgs)
	last := msgs[len(msgs)-1]
	require.NotEmpty(t, last.Buttons)
	assert.Equal(t, "oa.open.url", last.Buttons[0]["type"])
	assert.Equal(t, "Xem thủ tục", last.Buttons[0]["title"])
	assert.Equal(t, map[string]any{"url": p.URL}, last.Buttons[0]["payload"])
	for _, b := range last.Buttons[1:] {
		assert.Equal(t, "oa.query.show", b["type"])
	}
	var text strings.Builder
	for _, m := range msgs {
		text.WriteString(m.Text)
	}
	assert.Contains(t, text.String(), "1.014064")

	// A tapped suggestion comes back as text and is answered in the same conversation.
	payload, _ := last.Buttons[1]["payload"].(string)
	require.NotEmpty(t, payload)
	deliver(t, r.hook.URL, event("user_send_text", "6142494823", payload, "e2e-2", time.Now()))
	idle(t, q)
	assert.Greater(t, len(r.api.messages()), len(msgs))
	r.api.check(t)

	c, err := a.Conversations.Load(t.Context(), zalo.ConversationID(testOAID, "6142494823"))
	require.NoError(t, err)
	require.Len(t, c.Messages, 4, "both questions and answers stored under the user's conversation")
	assert.Equal(t, "zalo", c.Messages[0].Channel)
}

// TestSplitRealAnswers splits the longest real answers (full details asked for) at Zalo's limit and at a
// smaller one, and checks the parts: within the limit, nothing lost, never cut inside a word.
func TestSplitRealAnswers(t *testing.T) {
	a := realAssistant(t)
	qs := storetest.Questions(t, storetest.DataDir(t))
	require.NotEmpty(t, qs)
	var answers []string
	for i, q := range qs[:min(len(qs), 150)] {
		conv := "split-" + strconv.Itoa(i)
		if _, err := a.Reply(t.Context(), conv, q, nil); err != nil {
			continue
		}
		ans, err := a.Reply(t.Context(), conv, "cho xem đầy đủ", nil)
		if err == nil {
			answers = append(answers, ans.Text)
		}
	}
	slices.SortFunc(answers, func(x, y string) int { return utf8.RuneCountInString(y) - utf8.RuneCountInString(x) })
	answers = answers[:min(len(answers), 25)]
	require.NotEmpty(t, answers)
	t.Logf("longest real answer: %d characters", utf8.RuneCountInString(answers[0]))
	for _, limit := range []int{2000, 700, 300} {
		for _, ans := range answers {
			parts := zalo.Split(ans, limit)
			require.NotEmpty(t, parts)
			for _, p := range parts {
				assert.LessOrEqual(t, utf8.RuneCountInString(p), limit)
				assert.Equal(t, strings.TrimSpace(p), p)
			}
			// Joined by a space, the parts give back the answer's words: nothing lost, and no cut inside a word
			// (one would show as a space the answer does not have).
			assert.Equal(t, strings.Join(strings.Fields(ans), " "), strings.Join(strings.Fields(strings.Join(parts, " ")), " "),
				"limit %d", limit)
		}
	}
}
