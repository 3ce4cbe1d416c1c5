package assistant

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
)

// fakeModel is a Model whose Stream is a function field.
type fakeModel struct {
	stream func(ctx context.Context, system, user string, onDelta func(string)) (string, error)
	calls  atomic.Int32
}

func (f *fakeModel) Stream(ctx context.Context, system, user string, onDelta func(string)) (string, error) {
	f.calls.Add(1)
	return f.stream(ctx, system, user, onDelta)
}

// streaming returns a model that streams pieces and returns their concatenation.
func streaming(pieces ...string) *fakeModel {
	return &fakeModel{stream: func(ctx context.Context, _, _ string, onDelta func(string)) (string, error) {
		var b strings.Builder
		for _, p := range pieces {
			onDelta(p)
			b.WriteString(p)
		}
		return b.String(), nil
	}}
}

// recorder collects events; it is safe for concurrent use.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) emit(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) deltas() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.Kind == EventDelta {
			out = append(out, e.Delta)
		}
	}
	return out
}

func offlineAnswer(recs []knowledge.Procedure) Answer {
	return Answer{
		Text:        "Cấp lại thẻ căn cước (mã 1.014064)\nLệ phí: 70.000 đồng.",
		Citations:   []Citation{{Code: recs[0].Code, Name: recs[0].Name, URL: recs[0].URL}},
		Suggestions: []string{"Hồ sơ gồm những gì?"},
		Intents:     []Intent{IntentFee},
		Confidence:  0.9,
	}
}

const piiQuestion = "CCCD của tôi 001099012345, SĐT 0912345678: cấp lại căn cước mất bao nhiêu tiền?"

func logger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

func assertNoPII(t *testing.T, log string) {
	t.Helper()
	for _, raw := range []string{"001099012345", "0912345678"} {
		assert.NotContains(t, log, raw)
	}
}

func TestAnswerWithLLMGrounded(t *testing.T) {
	recs := realRecords(t, "1.014064")
	m := streaming("Thủ tục Cấp lại thẻ căn cước (mã 1.0", "14064) có lệ phí 70.", "000 đồng",
		"/thẻ. Thời hạn giải quyết là 7 ngày làm việc.\n", "Bạn có thể nộp trực tuyến", " trên Cổng Dịch vụ công.")
	var r recorder
	log, buf := logger()
	offline := offlineAnswer(recs)
	got := AnswerWithLLM(context.Background(), m, log, piiQuestion, []string{"fee"}, recs, offline, r.emit)

	want := "Thủ tục Cấp lại thẻ căn cước (mã 1.014064) có lệ phí 70.000 đồng/thẻ. Thời hạn giải quyết là 7 ngày làm việc.\n" +
		"Bạn có thể nộp trực tuyến trên Cổng Dịch vụ công."
	assert.Equal(t, "llm", got.Source)
	assert.Equal(t, want, got.Text)
	assert.Equal(t, offline.Citations, got.Citations)
	assert.Equal(t, offline.Suggestions, got.Suggestions)
	assert.Equal(t, offline.Intents, got.Intents)
	assert.Equal(t, []string{
		"Thủ tục Cấp lại thẻ căn cước (mã 1.014064) có lệ phí 70.000 đồng/thẻ. Thời hạn giải quyết là 7 ngày làm việc.\n",
		"Bạn có thể nộp trực tuyến trên Cổng Dịch vụ công.",
	}, r.deltas(), "released up to the last complete sentence of each piece, in order")
	assert.Equal(t, want, strings.Join(r.deltas(), ""))
	assertNoPII(t, buf.String())
}

func TestAnswerWithLLMUngrounded(t *testing.T) {
	recs := realRecords(t, "1.014064")
	tests := []struct {
		name   string
		pieces []string
		item   string
		sent   []string // deltas released before the invented fact
	}{
		{"invented fee", []string{"Cấp lại thẻ căn cước (mã 1.014064). ", "Lệ phí là 150.", "000 đồng. Xong."},
			"150.000 đồng", []string{"Cấp lại thẻ căn cước (mã 1.014064). "}},
		{"invented code", []string{"Bạn xem thêm mã 1.999999 nhé."}, "1.999999", nil},
		{"invented duration", []string{"Thời hạn 15 ngày làm việc"}, "15 ngày làm việc", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recorder
			log, buf := logger()
			offline := offlineAnswer(recs)
			got := AnswerWithLLM(context.Background(), streaming(tt.pieces...), log, piiQuestion, nil, recs, offline, r.emit)
			assert.Equal(t, "offline", got.Source)
			assert.Equal(t, offline.Text, got.Text)
			assert.Equal(t, offline.Citations, got.Citations)
			for _, d := range r.deltas() {
				assert.NotContains(t, d, tt.item, "an invented fact never reaches the user")
			}
			if tt.sent != nil {
				assert.Equal(t, tt.sent, r.deltas())
			} else {
				assert.Equal(t, []string{offline.Text}, r.deltas(), "nothing was released: the offline text is")
			}
			assert.Contains(t, buf.String(), "reason=ungrounded")
			assert.Contains(t, buf.String(), tt.item)
			assert.Contains(t, buf.String(), "[CCCD]")
			assertNoPII(t, buf.String())
		})
	}
}

func TestAnswerWithLLMFailures(t *testing.T) {
	recs := realRecords(t, "1.014064")
	ignoresCtx := &fakeModel{stream: func(ctx context.Context, _, _ string, onDelta func(string)) (string, error) {
		time.Sleep(150 * time.Millisecond)
		onDelta("Lệ phí 70.000 đồng.")
		return "Lệ phí 70.000 đồng.", nil
	}}
	slowPieces := &fakeModel{stream: func(ctx context.Context, _, _ string, onDelta func(string)) (string, error) {
		for range 20 {
			onDelta("Lệ phí 70.000 đồng. ")
			time.Sleep(20 * time.Millisecond)
		}
		return strings.Repeat("Lệ phí 70.000 đồng. ", 20), nil
	}}
	tests := []struct {
		name     string
		model    Model // nil: a stream cut by cancellation that still reports success, as langchaingo's can
		reason   string
		released bool // some grounded text was released before the failure
	}{
		{name: "error", reason: "error", model: &fakeModel{stream: func(context.Context, string, string, func(string)) (string, error) {
			return "", errors.New("API returned unexpected status code: 500: echo 001099012345")
		}}},
		{name: "cancelled with a nil error", reason: "cancelled", released: true},
		{name: "empty", reason: "empty", model: streaming("", "  ")},
		{name: "too long", reason: "too-long", model: streaming(strings.Repeat("Lệ phí 70.000 đồng. ", 200))},
		{name: "first token timeout", reason: "timeout",
			model: Bounded(ignoresCtx, LLMConfig{FirstToken: 30 * time.Millisecond, Total: time.Second})},
		{name: "total timeout", reason: "timeout", released: true,
			model: Bounded(slowPieces, LLMConfig{FirstToken: time.Second, Total: 100 * time.Millisecond})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			m := tt.model
			if m == nil {
				m = &fakeModel{stream: func(_ context.Context, _, _ string, onDelta func(string)) (string, error) {
					onDelta("Lệ phí cấp lại là 70.000 đồng. ")
					cancel()
					return "Lệ phí cấp lại là 70.000 đồng. Thời", nil
				}}
			}
			var r recorder
			log, buf := logger()
			offline := offlineAnswer(recs)
			got := AnswerWithLLM(ctx, m, log, piiQuestion, nil, recs, offline, r.emit)
			assert.Equal(t, "offline", got.Source)
			assert.Equal(t, offline.Text, got.Text)
			assert.Contains(t, buf.String(), "reason="+tt.reason+" ", buf.String())
			assertNoPII(t, buf.String())
			if tt.released {
				require.NotEmpty(t, r.deltas())
				assert.NotContains(t, r.deltas(), offline.Text, "the final answer supersedes what was released")
			} else {
				assert.Equal(t, []string{offline.Text}, r.deltas(), "nothing was released: the offline text is")
			}
		})
	}
}

func TestAnswerWithLLMNotStreaming(t *testing.T) {
	recs := realRecords(t, "1.014064")
	text := "Lệ phí cấp lại thẻ căn cước (mã 1.014064) là 70.000 đồng."
	m := &fakeModel{stream: func(context.Context, string, string, func(string)) (string, error) { return text, nil }}
	var r recorder
	got := AnswerWithLLM(context.Background(), m, nil, "lệ phí?", nil, recs, offlineAnswer(recs), r.emit)
	assert.Equal(t, "llm", got.Source)
	assert.Equal(t, []string{text}, r.deltas())
}

func TestAnswerWithLLMNoRecords(t *testing.T) {
	m := streaming("Lệ phí 70.000 đồng.")
	var r recorder
	offline := Answer{Text: "Xin lỗi, tôi chưa tìm được thủ tục phù hợp.", Abstained: true}
	got := AnswerWithLLM(context.Background(), m, nil, "?", nil, nil, offline, r.emit)
	assert.Equal(t, "offline", got.Source)
	assert.Equal(t, int32(0), m.calls.Load())
	assert.Equal(t, []string{offline.Text}, r.deltas())
}

func TestBoundedPassesThrough(t *testing.T) {
	var got []string
	text, err := Bounded(streaming("a", "", "b"), LLMConfig{}).Stream(context.Background(), "s", "u",
		func(s string) { got = append(got, s) })
	require.NoError(t, err)
	assert.Equal(t, "ab", text)
	assert.Equal(t, []string{"a", "b"}, got, "empty pieces are skipped")
}

func TestBoundedErrors(t *testing.T) {
	slow := &fakeModel{stream: func(ctx context.Context, _, _ string, _ func(string)) (string, error) {
		<-ctx.Done()
		return "", nil // a truncated stream without an error
	}}
	_, err := Bounded(slow, LLMConfig{FirstToken: 20 * time.Millisecond}).Stream(context.Background(), "", "", nil)
	assert.ErrorIs(t, err, ErrFirstTokenTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Bounded(slow, LLMConfig{}).Stream(ctx, "", "", nil)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestLastBoundary(t *testing.T) {
	assert.Equal(t, 0, lastBoundary("Lệ phí 70.000 đồng"))
	assert.Equal(t, 0, lastBoundary("mã 1.014064"))
	assert.Equal(t, len("Một. "), lastBoundary("Một. Hai"))
	assert.Equal(t, len("Một.\n"), lastBoundary("Một.\nHai"))
	assert.Equal(t, len("Lệ phí: "), lastBoundary("Lệ phí: 70"))
}
