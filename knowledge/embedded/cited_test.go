package embedded

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
)

// TopCited reads at most citedScan messages, those of the conversations updated last.
func TestTopCitedScanLimit(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	c := NewConversations(s)
	ctx := t.Context()
	for _, code := range []string{"1.001", "1.002"} { // 1.002's conversation is the newer
		_, err := c.Append(ctx, "conv-"+code, knowledge.DialogueState{},
			knowledge.Message{Role: "user", Text: "?"}, knowledge.Message{Role: "assistant", Text: "…", Codes: []string{code}})
		require.NoError(t, err)
	}
	defer func(n int) { citedScan = n }(citedScan)
	since := time.Now().Add(-time.Hour)
	citedScan = 2
	got, err := c.TopCited(ctx, since, 4)
	require.NoError(t, err)
	assert.Equal(t, []knowledge.CodeCount{{Code: "1.002", Count: 1}}, got)
	citedScan = 4
	got, err = c.TopCited(ctx, since, 4)
	require.NoError(t, err)
	assert.Equal(t, []knowledge.CodeCount{{Code: "1.001", Count: 1}, {Code: "1.002", Count: 1}}, got)
}
