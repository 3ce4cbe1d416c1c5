// Package convtest is the contract test suite of knowledge.Conversations. Every implementation
// (knowledge/memconv, knowledge/embedded, knowledge/postgres) runs Run, and RunReopen when it persists, from its
// own tests. It imports knowledge, the standard library and testify only.
package convtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
)

// Run runs the contract tests, one subtest each. open returns a new, empty store for one (sub)test and
// arranges its cleanup with t.Cleanup; the suite never closes the stores open returns.
func Run(t *testing.T, open func(t *testing.T) knowledge.Conversations) {
	t.Run("Unknown", func(t *testing.T) { testUnknown(t, open(t)) })
	t.Run("InvalidID", func(t *testing.T) { testInvalidID(t, open(t)) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open(t)) })
	t.Run("StateOnly", func(t *testing.T) { testStateOnly(t, open(t)) })
	t.Run("InvalidMessages", func(t *testing.T) { testInvalidMessages(t, open(t)) })
	t.Run("Copies", func(t *testing.T) { testCopies(t, open(t)) })
	t.Run("Feedback", func(t *testing.T) { testFeedback(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, open(t)) })
	t.Run("Purge", func(t *testing.T) { testPurge(t, open(t)) })
	t.Run("Limit", func(t *testing.T) { testLimit(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("Cancelled", func(t *testing.T) { testCancelled(t, open(t)) })
	t.Run("Flagged", func(t *testing.T) { testFlagged(t, open(t)) })
	t.Run("TopCited", func(t *testing.T) { testTopCited(t, open(t)) })
}

// RunReopen checks that a store keeps everything across a close and a new open of the same storage.
// open is as for Run; reopen is given a store that open (or an earlier reopen) returned, closes it, and
// returns a new store over the same storage, arranging its cleanup.
func RunReopen(t *testing.T, open func(t *testing.T) knowledge.Conversations,
	reopen func(t *testing.T, c knowledge.Conversations) knowledge.Conversations) {
	t.Run("Reopen", func(t *testing.T) {
		ctx := t.Context()
		c := open(t)
		st := knowledge.DialogueState{Focus: "1.001", Pending: []string{"1.001", "2.002"}, Query: "làm căn cước", Turns: 2}
		appendOK(t, c, "a", st, user("Làm căn cước cần gì?"), answer("Cần tờ khai…", "1.001"))
		appendOK(t, c, "b", st, user("Xin chào"))
		require.NoError(t, c.Feedback(ctx, "a", 2, -1))
		want := load(t, c, "a")
		wantB := load(t, c, "b")

		c = reopen(t, c)
		assert.Equal(t, want, load(t, c, "a"))
		assert.Equal(t, wantB, load(t, c, "b"))

		// IDs continue after a reopen.
		got := appendOK(t, c, "a", knowledge.DialogueState{Turns: 3}, user("Lệ phí bao nhiêu?"))
		assert.Equal(t, int64(3), got[0].ID)
		require.NoError(t, c.Delete(ctx, "b"))
		want = load(t, c, "a")

		c = reopen(t, c)
		assert.Equal(t, want, load(t, c, "a"))
		assert.Equal(t, knowledge.Conversation{ID: "b"}, load(t, c, "b"))
		n, err := c.Purge(ctx, want.Updated.Add(time.Microsecond))
		require.NoError(t, err)
		assert.Equal(t, 1, n)

		c = reopen(t, c)
		assert.Equal(t, knowledge.Conversation{ID: "a"}, load(t, c, "a"))
	})
}

func user(text string) knowledge.Message {
	return knowledge.Message{Role: knowledge.RoleUser, Text: text, Channel: "web"}
}

func answer(text string, codes ...string) knowledge.Message {
	return knowledge.Message{Role: knowledge.RoleAssistant, Text: text, Codes: codes, Channel: "web"}
}

func load(t *testing.T, c knowledge.Conversations, id string) knowledge.Conversation {
	t.Helper()
	conv, err := c.Load(t.Context(), id)
	require.NoError(t, err)
	return conv
}

func appendOK(t *testing.T, c knowledge.Conversations, id string, st knowledge.DialogueState,
	msgs ...knowledge.Message) []knowledge.Message {
	t.Helper()
	got, err := c.Append(t.Context(), id, st, msgs...)
	require.NoError(t, err)
	require.Len(t, got, len(msgs))
	return got
}

// now is the current time as a store records it (to the microsecond), so that it is never after a time the
// store takes later.
func now() time.Time { return time.Now().Truncate(time.Microsecond) }

func testUnknown(t *testing.T, c knowledge.Conversations) {
	conv, err := c.Load(t.Context(), "không-có")
	require.NoError(t, err)
	assert.Equal(t, knowledge.Conversation{ID: "không-có"}, conv)
}

func testInvalidID(t *testing.T, c knowledge.Conversations) {
	ctx := t.Context()
	for name, id := range map[string]string{
		"empty":             "",
		"too long":          strings.Repeat("a", knowledge.MaxConversationID+1),
		"too long in bytes": strings.Repeat("đ", knowledge.MaxConversationID/2) + "a",
		"invalid UTF-8":     "abc\xff",
		"NUL":               "a\x00b",
	} {
		_, err := c.Load(ctx, id)
		assert.ErrorIs(t, err, knowledge.ErrInvalid, "load: %s", name)
		_, err = c.Append(ctx, id, knowledge.DialogueState{}, user("xin chào"))
		assert.ErrorIs(t, err, knowledge.ErrInvalid, "append: %s", name)
		assert.ErrorIs(t, c.Feedback(ctx, id, 1, 1), knowledge.ErrInvalid, "feedback: %s", name)
		assert.ErrorIs(t, c.Delete(ctx, id), knowledge.ErrInvalid, "delete: %s", name)
	}
	// The longest ID, in bytes, is fine.
	id := strings.Repeat("đ", knowledge.MaxConversationID/2)
	appendOK(t, c, id, knowledge.DialogueState{Turns: 1}, user("xin chào"))
	assert.Len(t, load(t, c, id).Messages, 1)
}

func testRoundTrip(t *testing.T, c knowledge.Conversations) {
	before := now()
	st := knowledge.DialogueState{Focus: "1.000123", Pending: []string{"1.000123", "2.000456"},
		Query: "đăng ký khai sinh cho con", Turns: 1}
	at := time.Date(2025, 7, 1, 9, 30, 15, 123456789, time.FixedZone("ICT", 7*3600))
	msgs := []knowledge.Message{
		{Role: knowledge.RoleUser, Text: "Đăng ký khai sinh cho con cần giấy tờ gì?", Channel: "zalo"},
		{Role: knowledge.RoleAssistant, Text: "Bạn cần chuẩn bị: tờ khai, giấy chứng sinh.", Codes: []string{"1.000123", "2.000456"},
			At: at, Channel: "zalo"},
		{Role: knowledge.RoleAssistant, Text: "Tôi chưa tìm được thủ tục phù hợp.", Abstain: true, Feedback: -1, Channel: "zalo"},
	}
	orig := append([]knowledge.Message(nil), msgs...)
	got := appendOK(t, c, "conv-1", st, msgs...)
	after := time.Now()
	assert.Equal(t, orig, msgs, "Append does not change its arguments")
	for i, m := range got {
		assert.Equal(t, int64(i+1), m.ID)
		want := msgs[i]
		want.ID, want.At = m.ID, m.At
		assert.Equal(t, want, m)
	}
	assert.True(t, got[1].At.Equal(at.Truncate(time.Microsecond)), "a given time is kept (to the microsecond): %v", got[1].At)
	for _, i := range []int{0, 2} {
		assert.False(t, got[i].At.Before(before), "a zero time becomes now: %v", got[i].At)
		assert.False(t, got[i].At.After(after), "a zero time becomes now: %v", got[i].At)
	}

	conv := load(t, c, "conv-1")
	assert.Equal(t, "conv-1", conv.ID)
	assert.Equal(t, st, conv.State)
	assert.Equal(t, got, conv.Messages)
	assert.False(t, conv.Updated.Before(before), "updated %v", conv.Updated)
	assert.False(t, conv.Updated.After(after), "updated %v", conv.Updated)

	// A second append replaces the state and continues the IDs.
	st2 := knowledge.DialogueState{Query: "lệ phí", Turns: 2}
	got2 := appendOK(t, c, "conv-1", st2, user("Lệ phí bao nhiêu?"), answer("Miễn lệ phí.", "1.000123"))
	assert.Equal(t, int64(3+1), got2[0].ID)
	assert.Equal(t, int64(3+2), got2[1].ID)
	conv2 := load(t, c, "conv-1")
	assert.Equal(t, st2, conv2.State)
	assert.Equal(t, append(got, got2...), conv2.Messages)
	assert.False(t, conv2.Updated.Before(conv.Updated))

	// Other conversations are apart, also one whose ID extends this one's.
	assert.Equal(t, knowledge.Conversation{ID: "conv-10"}, load(t, c, "conv-10"))
	got3 := appendOK(t, c, "conv-10", knowledge.DialogueState{}, user("khác"))
	assert.Equal(t, int64(1), got3[0].ID)
	assert.Len(t, load(t, c, "conv-1").Messages, 5)
	assert.Len(t, load(t, c, "conv-10").Messages, 1)
	assert.Equal(t, knowledge.Conversation{ID: "conv-"}, load(t, c, "conv-"))
}

func testStateOnly(t *testing.T, c knowledge.Conversations) {
	before := now()
	st := knowledge.DialogueState{Focus: "1.1", Turns: 4}
	got, err := c.Append(t.Context(), "s", st)
	require.NoError(t, err)
	assert.Empty(t, got)
	conv := load(t, c, "s")
	assert.Equal(t, st, conv.State)
	assert.Empty(t, conv.Messages)
	assert.False(t, conv.Updated.Before(before))
	// The next message still gets ID 1.
	m := appendOK(t, c, "s", st, user("a"))
	assert.Equal(t, int64(1), m[0].ID)
}

func testInvalidMessages(t *testing.T, c knowledge.Conversations) {
	ctx := t.Context()
	st := knowledge.DialogueState{Focus: "1.1", Turns: 1}
	appendOK(t, c, "x", st, user("đầu tiên"))
	want := load(t, c, "x")

	long := strings.Repeat("ệ", knowledge.MaxMessageRunes+1)
	cases := map[string]struct {
		st   knowledge.DialogueState
		msgs []knowledge.Message
	}{
		"too long":             {msgs: []knowledge.Message{user(long)}},
		"too long after valid": {msgs: []knowledge.Message{user("hợp lệ"), answer(long)}},
		"no role":              {msgs: []knowledge.Message{{Text: "a"}}},
		"other role":           {msgs: []knowledge.Message{{Role: "system", Text: "a"}}},
		"NUL in text":          {msgs: []knowledge.Message{user("a\x00b")}},
		"invalid text":         {msgs: []knowledge.Message{user("a\xc3")}},
		"invalid code":         {msgs: []knowledge.Message{answer("a", "1.\xff")}},
		"NUL in channel":       {msgs: []knowledge.Message{{Role: knowledge.RoleUser, Text: "a", Channel: "w\x00"}}},
		"feedback 2":           {msgs: []knowledge.Message{{Role: knowledge.RoleAssistant, Text: "a", Feedback: 2}}},
		"feedback on user":     {msgs: []knowledge.Message{{Role: knowledge.RoleUser, Text: "a", Feedback: 1}}},
		"reason with +1":       {msgs: []knowledge.Message{{Role: knowledge.RoleAssistant, Text: "a", Feedback: 1, FeedbackReason: knowledge.ReasonOther}}},
		"unknown reason":       {msgs: []knowledge.Message{{Role: knowledge.RoleAssistant, Text: "a", Feedback: -1, FeedbackReason: "sai"}}},
		"NUL in state query":   {st: knowledge.DialogueState{Query: "a\x00"}, msgs: []knowledge.Message{user("a")}},
		"invalid pending":      {st: knowledge.DialogueState{Pending: []string{"\xff"}}, msgs: []knowledge.Message{user("a")}},
	}
	for name, tc := range cases {
		_, err := c.Append(ctx, "x", tc.st, tc.msgs...)
		assert.ErrorIs(t, err, knowledge.ErrInvalid, name)
		_, err = c.Append(ctx, "new", tc.st, tc.msgs...)
		assert.ErrorIs(t, err, knowledge.ErrInvalid, name)
	}
	assert.Equal(t, want, load(t, c, "x"), "a rejected append changes nothing")
	assert.Equal(t, knowledge.Conversation{ID: "new"}, load(t, c, "new"), "a rejected append creates nothing")

	// The longest message is fine.
	got := appendOK(t, c, "x", st, answer(strings.Repeat("ệ", knowledge.MaxMessageRunes)))
	assert.Equal(t, int64(2), got[0].ID)
	assert.Equal(t, got[0], load(t, c, "x").Messages[1])
}

// testCopies: the caller owns what it passes and gets; changing it changes nothing stored.
func testCopies(t *testing.T, c knowledge.Conversations) {
	st := knowledge.DialogueState{Pending: []string{"1", "2"}}
	msg := answer("a", "1", "2")
	got := appendOK(t, c, "c", st, msg)
	st.Pending[0] = "changed"
	msg.Codes[0] = "changed"
	got[0].Codes[1] = "changed"
	conv := load(t, c, "c")
	assert.Equal(t, []string{"1", "2"}, conv.State.Pending)
	assert.Equal(t, []string{"1", "2"}, conv.Messages[0].Codes)
	conv.Messages[0].Codes[0] = "changed"
	conv.State.Pending[0] = "changed"
	conv = load(t, c, "c")
	assert.Equal(t, []string{"1", "2"}, conv.State.Pending)
	assert.Equal(t, []string{"1", "2"}, conv.Messages[0].Codes)
}

func testFeedback(t *testing.T, c knowledge.Conversations) {
	ctx := t.Context()
	got := appendOK(t, c, "f", knowledge.DialogueState{}, user("hỏi"), answer("đáp", "1.1"), answer("thêm"))
	before := load(t, c, "f")

	require.NoError(t, c.Feedback(ctx, "f", got[1].ID, 1))
	require.NoError(t, c.Feedback(ctx, "f", got[2].ID, -1))
	conv := load(t, c, "f")
	assert.Equal(t, 0, conv.Messages[0].Feedback)
	assert.Equal(t, 1, conv.Messages[1].Feedback)
	assert.Equal(t, -1, conv.Messages[2].Feedback)
	require.NoError(t, c.Feedback(ctx, "f", got[1].ID, -1), "feedback can change")
	assert.Equal(t, -1, load(t, c, "f").Messages[1].Feedback)

	for _, v := range []int{0, 2, -2, 5} {
		assert.ErrorIs(t, c.Feedback(ctx, "f", got[1].ID, v), knowledge.ErrInvalid, "value %d", v)
	}
	assert.ErrorIs(t, c.Feedback(ctx, "f", got[0].ID, 1), knowledge.ErrNotFound, "a user message")
	assert.ErrorIs(t, c.Feedback(ctx, "f", 99, 1), knowledge.ErrNotFound, "an unknown message")
	assert.ErrorIs(t, c.Feedback(ctx, "f", 0, 1), knowledge.ErrNotFound, "message 0")

	// The reason of a 👎, where the store keeps it (every store here does).
	r, ok := c.(knowledge.ReasonedFeedback)
	require.True(t, ok, "the store records feedback reasons")
	require.NoError(t, r.FeedbackReason(ctx, "f", got[2].ID, -1, knowledge.ReasonWrongFee))
	assert.Equal(t, knowledge.ReasonWrongFee, load(t, c, "f").Messages[2].FeedbackReason)
	if fl, ok := c.(knowledge.FlagLister); ok {
		flagged, err := fl.Flagged(ctx, knowledge.FlagFilter{})
		require.NoError(t, err)
		var reasons []string
		for _, x := range flagged {
			if x.ConversationID == "f" {
				reasons = append(reasons, x.Answer.FeedbackReason)
			}
		}
		assert.Contains(t, reasons, knowledge.ReasonWrongFee, "the feedback queue sees the reason")
	}
	require.NoError(t, c.Feedback(ctx, "f", got[2].ID, 1), "a 👍 after the 👎")
	assert.Equal(t, "", load(t, c, "f").Messages[2].FeedbackReason, "a 👍 clears the reason")
	for _, tc := range []struct {
		value  int
		reason string
	}{{-1, "sai phí"}, {-1, "WRONG_FEE"}, {1, knowledge.ReasonUnclear}, {0, knowledge.ReasonOther}} {
		assert.ErrorIs(t, r.FeedbackReason(ctx, "f", got[2].ID, tc.value, tc.reason), knowledge.ErrInvalid, "%d %q", tc.value, tc.reason)
	}
	assert.ErrorIs(t, r.FeedbackReason(ctx, "f", got[0].ID, -1, knowledge.ReasonOther), knowledge.ErrNotFound, "a user message")
	require.NoError(t, c.Feedback(ctx, "f", got[2].ID, -1))
	assert.ErrorIs(t, c.Feedback(ctx, "f", -1, 1), knowledge.ErrNotFound, "message -1")
	assert.ErrorIs(t, c.Feedback(ctx, "other", got[1].ID, 1), knowledge.ErrNotFound, "an unknown conversation")
	assert.Equal(t, knowledge.Conversation{ID: "other"}, load(t, c, "other"))

	conv = load(t, c, "f")
	assert.Equal(t, before.State, conv.State)
	assert.Equal(t, before.Updated, conv.Updated, "feedback is not dialogue: it leaves Updated")
	assert.Equal(t, 0, conv.Messages[0].Feedback)
	assert.Equal(t, -1, conv.Messages[1].Feedback)
	assert.Equal(t, -1, conv.Messages[2].Feedback)
}

func testDelete(t *testing.T, c knowledge.Conversations) {
	ctx := t.Context()
	appendOK(t, c, "d", knowledge.DialogueState{Focus: "1.1", Turns: 2}, user("hỏi"), answer("đáp"))
	appendOK(t, c, "keep", knowledge.DialogueState{Turns: 1}, user("khác"))
	keep := load(t, c, "keep")

	require.NoError(t, c.Delete(ctx, "d"))
	assert.Equal(t, knowledge.Conversation{ID: "d"}, load(t, c, "d"))
	assert.Equal(t, keep, load(t, c, "keep"))
	assert.ErrorIs(t, c.Feedback(ctx, "d", 2, 1), knowledge.ErrNotFound)
	require.NoError(t, c.Delete(ctx, "d"), "deleting twice")
	require.NoError(t, c.Delete(ctx, "never-was"))

	// A new conversation under the same ID starts afresh.
	got := appendOK(t, c, "d", knowledge.DialogueState{}, user("lại"))
	assert.Equal(t, int64(1), got[0].ID)
	conv := load(t, c, "d")
	assert.Equal(t, knowledge.DialogueState{}, conv.State)
	assert.Equal(t, got, conv.Messages)
}

func testPurge(t *testing.T, c knowledge.Conversations) {
	ctx := t.Context()
	appendOK(t, c, "old", knowledge.DialogueState{}, user("cũ"))
	time.Sleep(3 * time.Millisecond)
	appendOK(t, c, "new", knowledge.DialogueState{}, user("mới"))
	appendOK(t, c, "newer", knowledge.DialogueState{}, user("mới hơn"))
	newConv, newer := load(t, c, "new"), load(t, c, "newer")
	require.True(t, load(t, c, "old").Updated.Before(newConv.Updated))

	n, err := c.Purge(ctx, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, 0, n)

	n, err = c.Purge(ctx, newConv.Updated) // strictly before: "new" stays
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, knowledge.Conversation{ID: "old"}, load(t, c, "old"))
	assert.Equal(t, newConv, load(t, c, "new"))
	assert.Equal(t, newer, load(t, c, "newer"))

	n, err = c.Purge(ctx, newConv.Updated)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "nothing left to purge")

	// Appending again moves a conversation forward.
	time.Sleep(3 * time.Millisecond)
	appendOK(t, c, "new", knowledge.DialogueState{}, user("tiếp"))
	n, err = c.Purge(ctx, newer.Updated.Add(time.Microsecond))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Len(t, load(t, c, "new").Messages, 2)
	assert.Equal(t, knowledge.Conversation{ID: "newer"}, load(t, c, "newer"))

	n, err = c.Purge(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, knowledge.Conversation{ID: "new"}, load(t, c, "new"))
}

// testLimit: a conversation keeps its last MaxStoredMessages messages; IDs keep increasing.
func testLimit(t *testing.T, c knowledge.Conversations) {
	ctx := t.Context()
	batch := func(from, n int) []knowledge.Message {
		out := make([]knowledge.Message, n)
		for i := range out {
			out[i] = user(fmt.Sprintf("tin %d", from+i))
			if (from+i)%2 == 0 {
				out[i] = answer(fmt.Sprintf("tin %d", from+i))
			}
		}
		return out
	}
	limit := knowledge.MaxStoredMessages
	appendOK(t, c, "l", knowledge.DialogueState{}, batch(1, limit-400)...)
	appendOK(t, c, "l", knowledge.DialogueState{}, batch(limit-399, 400)...)
	conv := load(t, c, "l")
	require.Len(t, conv.Messages, limit)
	assert.Equal(t, int64(1), conv.Messages[0].ID)

	got := appendOK(t, c, "l", knowledge.DialogueState{Turns: 9}, batch(limit+1, 5)...)
	assert.Equal(t, int64(limit+1), got[0].ID)
	conv = load(t, c, "l")
	require.Len(t, conv.Messages, limit)
	for i, m := range conv.Messages {
		if !assert.Equal(t, int64(i+6), m.ID) || !assert.Equal(t, fmt.Sprintf("tin %d", i+6), m.Text) {
			break
		}
	}
	assert.Equal(t, 9, conv.State.Turns)
	assert.ErrorIs(t, c.Feedback(ctx, "l", 4, 1), knowledge.ErrNotFound, "a dropped message")
	require.NoError(t, c.Feedback(ctx, "l", 6, 1))
}

// testConcurrent appends to one conversation from several goroutines: no message is lost, each append's
// messages get consecutive IDs, and the IDs are 1…n.
func testConcurrent(t *testing.T, c knowledge.Conversations) {
	const workers, rounds = 8, 12
	ctx := t.Context()
	var wg sync.WaitGroup
	got := make([][][]knowledge.Message, workers)
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				msgs, err := c.Append(ctx, "busy", knowledge.DialogueState{Turns: r},
					user(fmt.Sprintf("hỏi %d/%d", w, r)), answer(fmt.Sprintf("đáp %d/%d", w, r)))
				if err != nil {
					errs[w] = err
					return
				}
				got[w] = append(got[w], msgs)
				// Reads and appends elsewhere run meanwhile.
				if _, err := c.Load(ctx, "busy"); err != nil {
					errs[w] = err
					return
				}
				if _, err := c.Append(ctx, fmt.Sprintf("other-%d", w), knowledge.DialogueState{}, user("x")); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	conv := load(t, c, "busy")
	require.Len(t, conv.Messages, workers*rounds*2)
	seen := map[string]int64{}
	for i, m := range conv.Messages {
		require.Equal(t, int64(i+1), m.ID)
		seen[m.Text] = m.ID
	}
	for w := range workers {
		require.Len(t, got[w], rounds)
		for r, pair := range got[w] {
			assert.Equal(t, pair[0].ID+1, pair[1].ID, "one append's messages are consecutive")
			assert.Equal(t, pair[0].ID, seen[fmt.Sprintf("hỏi %d/%d", w, r)])
			assert.Equal(t, pair[1].ID, seen[fmt.Sprintf("đáp %d/%d", w, r)])
		}
		assert.Len(t, load(t, c, fmt.Sprintf("other-%d", w)).Messages, rounds)
	}
}

func testCancelled(t *testing.T, c knowledge.Conversations) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.Append(ctx, "z", knowledge.DialogueState{}, user("a"))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, knowledge.Conversation{ID: "z"}, load(t, c, "z"))
	_, err = c.Load(ctx, "z")
	assert.ErrorIs(t, err, context.Canceled)
}

// testFlagged checks the FlagLister capability: confidence is stored, and flagged answers (abstained, low
// confidence, thumbs-down) come back newest first with the question before each, filtered by time and limited.
func testFlagged(t *testing.T, c knowledge.Conversations) {
	fl, ok := c.(knowledge.FlagLister)
	require.True(t, ok, "every conversation store implements knowledge.FlagLister")
	ctx := t.Context()
	base := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	msg := func(m knowledge.Message, min int) knowledge.Message { m.At = at(min); return m }
	low := answer("Có thể là…", "1.001")
	low.Confidence = 0.3
	good := answer("Đăng ký khai sinh…", "1.002")
	good.Confidence = 0.95
	abst := answer("Xin lỗi, tôi chưa rõ.")
	abst.Abstain = true
	follow := answer("Lệ phí: miễn phí.", "1.002") // a follow-up: no retrieval, confidence 0
	disliked := answer("Cần tờ khai…", "1.003")
	disliked.Confidence = 0.9

	got := appendOK(t, c, "a", knowledge.DialogueState{}, msg(user("Làm sổ đỏ?"), 1), msg(low, 1),
		msg(user("Khai sinh cần gì"), 2), msg(good, 2), msg(user("Lệ phí?"), 3), msg(follow, 3))
	assert.Equal(t, 0.3, load(t, c, "a").Messages[1].Confidence, "confidence is stored")
	appendOK(t, c, "b", knowledge.DialogueState{}, msg(user("Con mèo của tôi"), 4), msg(abst, 4))
	gotC := appendOK(t, c, "c", knowledge.DialogueState{}, msg(user("Tạm trú"), 5), msg(disliked, 5))
	appendOK(t, c, "d", knowledge.DialogueState{}, msg(user("Cũ quá"), -100), msg(abst, -100))
	require.NoError(t, c.Feedback(ctx, "c", gotC[1].ID, -1))
	require.NoError(t, c.Feedback(ctx, "a", got[3].ID, 1))

	fs, err := fl.Flagged(ctx, knowledge.FlagFilter{Since: at(0), Below: 0.6})
	require.NoError(t, err)
	require.Len(t, fs, 3)
	assert.Equal(t, "c", fs[0].ConversationID)
	assert.Equal(t, "Tạm trú", fs[0].Question)
	assert.Equal(t, -1, fs[0].Answer.Feedback)
	assert.Equal(t, []string{"1.003"}, fs[0].Answer.Codes)
	assert.Equal(t, at(5), fs[0].Answer.At)
	assert.Equal(t, "b", fs[1].ConversationID)
	assert.True(t, fs[1].Answer.Abstain)
	assert.Equal(t, "Con mèo của tôi", fs[1].Question)
	assert.Equal(t, "a", fs[2].ConversationID)
	assert.Equal(t, "Làm sổ đỏ?", fs[2].Question)
	assert.Equal(t, 0.3, fs[2].Answer.Confidence)
	assert.Equal(t, got[1].ID, fs[2].Answer.ID)
	assert.Equal(t, knowledge.RoleAssistant, fs[2].Answer.Role)

	fs, err = fl.Flagged(ctx, knowledge.FlagFilter{Since: at(0), Below: 0.6, Limit: 1})
	require.NoError(t, err)
	require.Len(t, fs, 1)
	assert.Equal(t, "c", fs[0].ConversationID)

	fs, err = fl.Flagged(ctx, knowledge.FlagFilter{Since: at(-200), Below: 0.2})
	require.NoError(t, err)
	require.Len(t, fs, 3, "0.3 is not below 0.2; the old abstention is now included")
	assert.Equal(t, "d", fs[2].ConversationID)
}
