package convtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
)

// testTopCited checks the CitationRanker capability: each conversation counts once for each procedure its
// answers since the given time cited first; abstentions, answers without a code and older answers do not
// count; the ranking is by count, then code, and limited.
func testTopCited(t *testing.T, c knowledge.Conversations) {
	r, ok := c.(knowledge.CitationRanker)
	require.True(t, ok, "every conversation store implements knowledge.CitationRanker")
	ctx := t.Context()
	top := func(since time.Time, n int) []knowledge.CodeCount {
		t.Helper()
		got, err := r.TopCited(ctx, since, n)
		require.NoError(t, err)
		return got
	}
	base := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	msg := func(m knowledge.Message, min int) knowledge.Message { m.At = at(min); return m }
	assert.Empty(t, top(at(0), 4), "an empty store")

	appendOK(t, c, "a", knowledge.DialogueState{},
		msg(user("Làm căn cước"), 1), msg(answer("Cần tờ khai…", "1.001"), 1),
		msg(user("Lệ phí?"), 2), msg(answer("Miễn phí.", "1.001"), 2), // the same conversation counts once
		msg(user("Khai sinh"), 3), msg(answer("Đăng ký khai sinh…", "1.002", "1.001"), 3))
	appendOK(t, c, "b", knowledge.DialogueState{}, msg(user("Căn cước"), 4), msg(answer("Bạn muốn…", "1.001", "1.003"), 4))
	abst := answer("Xin lỗi, tôi chưa rõ.", "1.009")
	abst.Abstain = true
	appendOK(t, c, "c", knowledge.DialogueState{}, msg(user("Khai sinh"), 5), msg(answer("…", "1.002"), 5),
		msg(user("Con mèo"), 6), msg(abst, 6), msg(user("Xin chào"), 6), msg(answer("Chào bạn!"), 6))
	appendOK(t, c, "d", knowledge.DialogueState{}, msg(user("Tạm trú"), 7), msg(answer("…", "1.003"), 7))
	appendOK(t, c, "e", knowledge.DialogueState{}, msg(user("Cũ"), -100), msg(answer("…", "1.004"), -100))
	// Updated now, but its answer is old.
	appendOK(t, c, "f", knowledge.DialogueState{}, msg(user("Cũ"), -100), msg(answer("…", "1.005"), -100),
		msg(user("Cảm ơn"), 8))

	want := []knowledge.CodeCount{{Code: "1.001", Count: 2}, {Code: "1.002", Count: 2}, {Code: "1.003", Count: 1}}
	assert.Equal(t, want, top(at(0), 4))
	assert.Equal(t, want, top(at(0), 0), "0: no limit but the cap")
	assert.Equal(t, want[:2], top(at(0), 2))
	assert.Equal(t, []knowledge.CodeCount{{Code: "1.002", Count: 1}, {Code: "1.003", Count: 1}}, top(at(5), 4), "from the time on")
	assert.Equal(t, append(want, knowledge.CodeCount{Code: "1.004", Count: 1}, knowledge.CodeCount{Code: "1.005", Count: 1}),
		top(at(-200), 10))
	assert.Empty(t, top(at(9), 4), "nothing since")

	require.NoError(t, c.Delete(ctx, "b"))
	assert.Equal(t, []knowledge.CodeCount{{Code: "1.002", Count: 2}, {Code: "1.001", Count: 1}, {Code: "1.003", Count: 1}},
		top(at(0), 4), "a deleted conversation no longer counts")
}
