package assistant_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/internal/realcatalog"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/memconv"
	"github.com/trolyao/trolyao/staff"
)

// promptRecorder is a model that keeps the prompts it is sent and answers with an amount no record holds, so
// that every answer is rejected and the rejection (with the question) is logged.
type promptRecorder struct {
	mu      sync.Mutex
	prompts []string
}

func (m *promptRecorder) Stream(_ context.Context, system, user string, onDelta func(string)) (string, error) {
	m.mu.Lock()
	m.prompts = append(m.prompts, system, user)
	m.mu.Unlock()
	const text = "Lệ phí là 987.654 đồng."
	onDelta(text)
	return text, nil
}

// TestRedactedStorage sends citizen messages holding personal values of every kind of the redaction corpus
// through Reply, with an in-memory conversation store, a logger and a model, and checks byte for byte that no
// value is in the stored conversations (messages and dialogue state), the flagged messages the unanswered
// queue reads, the queue's groups, the logs or the prompts.
func TestRedactedStorage(t *testing.T) {
	type line struct{ Kind, Type, Format, Sentence, Value string }
	f, err := os.Open("testdata/redaction/corpus.jsonl")
	require.NoError(t, err)
	defer f.Close()
	var lines []line
	taken := map[string]int{}
	formats := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l line
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		// one line of each format, with a value long enough not to occur by chance in an answer
		if l.Kind != "personal" || len(l.Value) < 6 || formats[l.Format] {
			continue
		}
		formats[l.Format] = true
		taken[l.Type]++
		lines = append(lines, l)
	}
	require.NoError(t, sc.Err())
	require.Len(t, taken, 12)

	convs := memconv.New()
	a := realcatalog.Load(t).Assistant(convs)
	var logs bytes.Buffer
	a.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	model := &promptRecorder{}
	a.Model = model
	ctx := assistant.WithChannel(t.Context(), "web")

	ids := make([]string, len(lines))
	answers := 0
	for i, l := range lines {
		ids[i] = fmt.Sprintf("redact-%d", i)
		turns := []string{l.Sentence}
		if i%3 == 0 { // a follow-up, so that the stored state is written again from what was loaded
			turns = append(turns, "vậy lệ phí bao nhiêu?")
		}
		if i%3 == 1 { // the personal value in a later turn
			turns = []string{"cho hỏi thủ tục cấp lại căn cước", l.Sentence}
		}
		for _, q := range turns {
			ans, err := a.Reply(ctx, ids[i], q, nil)
			require.NoError(t, err, q)
			require.NoError(t, convs.Feedback(ctx, ids[i], ans.MessageID, -1)) // flag every answer for the queue
			answers++
		}
	}

	var stored bytes.Buffer
	for i, id := range ids {
		c, err := convs.Load(ctx, id)
		require.NoError(t, err)
		require.NotEmpty(t, c.Messages)
		b, err := json.Marshal(c)
		require.NoError(t, err)
		stored.Write(b)
		// the text fields themselves, as the store holds them
		stored.WriteString(c.State.Query)
		for _, m := range c.Messages {
			stored.WriteString(m.Text)
		}
		user := ""
		for _, m := range c.Messages {
			if m.Role == "user" && strings.Contains(m.Text, "[") {
				user = m.Text
			}
		}
		assert.NotEmpty(t, user, "a stored message of conversation %d carries a placeholder: %s", i, lines[i].Sentence)
	}
	flagged, err := convs.Flagged(ctx, knowledge.FlagFilter{Below: 0.6})
	require.NoError(t, err)
	require.Len(t, flagged, answers)
	var queue bytes.Buffer
	for _, fl := range flagged {
		queue.WriteString(fl.Question)
	}
	for _, by := range []string{staff.ByQuestion, staff.ByProcedure} {
		b, err := json.Marshal(staff.GroupFlagged(flagged, by, 0.6))
		require.NoError(t, err)
		queue.Write(b)
	}
	require.NotEmpty(t, model.prompts, "some messages were answered through the model")
	require.Contains(t, logs.String(), "reason=ungrounded")
	prompts := strings.Join(model.prompts, "\n")

	for _, l := range lines {
		v := []byte(l.Value)
		assert.False(t, bytes.Contains(stored.Bytes(), v), "%s (%s) stored: %s", l.Value, l.Format, l.Sentence)
		assert.False(t, bytes.Contains(queue.Bytes(), v), "%s (%s) in the unanswered queue", l.Value, l.Format)
		assert.False(t, bytes.Contains(logs.Bytes(), v), "%s (%s) logged", l.Value, l.Format)
		assert.NotContains(t, prompts, l.Value, "%s (%s) sent to the model", l.Value, l.Format)
	}
	t.Logf("%d messages with personal values of %d formats: none stored, queued, logged or prompted", len(lines), len(formats))
}
