package assistant_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/internal/realcatalog"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/memconv"
)

func TestStarterQuestion(t *testing.T) {
	for name, want := range map[string]string{
		"Đăng ký kết hôn":            "Đăng ký kết hôn cần giấy tờ gì?",
		"Thủ tục đăng ký khai sinh.": "Đăng ký khai sinh cần giấy tờ gì?",
		"Cấp lại thẻ căn cước (thực hiện tại cấp trung ương)":                                                             "Cấp lại thẻ căn cước cần giấy tờ gì?",
		"Thay đổi người đại diện theo pháp luật của Văn phòng luật sư, công ty luật trách nhiệm hữu hạn một thành viên":   "Thay đổi người đại diện theo pháp luật cần giấy tờ gì?",
		"Đăng ký xe tạm thời thực hiện bằng dịch vụ công trực tuyến một phần hoặc trực tiếp thực hiện tại cấp trung ương": "Đăng ký xe tạm thời cần giấy tờ gì?",
		"  ": "",
	} {
		assert.Equal(t, want, assistant.StarterQuestion(name), name)
	}
}

// Every procedure of the real catalog gives a question the widget accepts as a starter (at most 100
// characters), about 60 characters of its name at most, beginning with a capital.
func TestStarterQuestionCatalog(t *testing.T) {
	for _, p := range realcatalog.Load(t).Procedures {
		q := assistant.StarterQuestion(p.Name)
		name, ok := strings.CutSuffix(q, " cần giấy tờ gì?")
		if !assert.True(t, ok, "%s: %q", p.Code, q) {
			continue
		}
		assert.LessOrEqual(t, utf8.RuneCountInString(q), 100, "%s: %q", p.Code, q)
		assert.LessOrEqual(t, utf8.RuneCountInString(name), 60, "%s: %q", p.Code, q)
		assert.GreaterOrEqual(t, utf8.RuneCountInString(name), 3, "%s: %q", p.Code, q)
		r, _ := utf8.DecodeRuneInString(name)
		assert.True(t, unicode.IsUpper(r) || unicode.IsDigit(r), "%s: %q", p.Code, q)
	}
}

// After enough conversations answered about a procedure, the most asked starter questions name it, and the
// question leads back to it; before, they are not trusted (nil: the built-in ones apply).
func TestMostAsked(t *testing.T) {
	cat := realcatalog.Load(t)
	convs := memconv.New()
	a := cat.Assistant(convs)
	ctx := t.Context()
	var set [][]string
	m := &assistant.MostAsked{Ranker: convs, Catalog: cat.Store, Set: func(qs []string) error { set = append(set, qs); return nil }}

	ask := func(conv, q string) string {
		t.Helper()
		ans, err := a.Reply(ctx, conv, q, nil)
		require.NoError(t, err)
		require.NotEmpty(t, ans.Citations, q)
		return ans.Citations[0].Code
	}
	code := ask("ket-hon-0", "Đăng ký kết hôn cần những giấy tờ gì?")
	for i := 1; i < assistant.MostAskedMin-1; i++ {
		require.Equal(t, code, ask(fmt.Sprintf("ket-hon-%d", i), "đăng ký kết hôn cần gì"))
	}
	qs, err := m.Refresh(ctx)
	require.NoError(t, err)
	assert.Nil(t, qs, "19 conversations are too few")
	assert.Equal(t, [][]string{nil}, set)

	require.Equal(t, code, ask("ket-hon-last", "đăng ký kết hôn cần gì"))
	qs, err = m.Refresh(ctx)
	require.NoError(t, err)
	require.Len(t, qs, 1)
	assert.Equal(t, qs, set[1])
	assert.Contains(t, knowledge.Fold(qs[0]), "ket hon")
	assert.Equal(t, code, ask("from-the-starter", qs[0]), "the starter question leads back to its procedure")

	// An old window counts nothing.
	m.Now = func() time.Time { return time.Now().Add(365 * 24 * time.Hour) }
	qs, err = m.Refresh(ctx)
	require.NoError(t, err)
	assert.Nil(t, qs)
}

type rankerFunc func(ctx context.Context, since time.Time, n int) ([]knowledge.CodeCount, error)

func (f rankerFunc) TopCited(ctx context.Context, since time.Time, n int) ([]knowledge.CodeCount, error) {
	return f(ctx, since, n)
}

// Codes no longer in the catalog and questions that would repeat another are left out; at most Count
// questions are offered, and the answers counted are those of the chosen procedures.
func TestMostAskedChoice(t *testing.T) {
	cat := realcatalog.Load(t)
	ps := cat.Procedures
	var twins []knowledge.Procedure // two procedures whose questions are the same
	seen := map[string]knowledge.Procedure{}
	for _, p := range ps {
		q := assistant.StarterQuestion(p.Name)
		if prev, ok := seen[q]; ok {
			twins = []knowledge.Procedure{prev, p}
			break
		}
		seen[q] = p
	}
	require.Len(t, twins, 2, "the catalog has procedures of the same short name")
	top := []knowledge.CodeCount{{Code: "9.999999", Count: 50}, {Code: twins[0].Code, Count: 9}, {Code: twins[1].Code, Count: 8},
		{Code: ps[0].Code, Count: 5}, {Code: ps[1].Code, Count: 3}, {Code: ps[2].Code, Count: 2}, {Code: ps[3].Code, Count: 1}}
	var asked int
	m := &assistant.MostAsked{Catalog: cat.Store, Set: func([]string) error { return nil }, Min: 18,
		Ranker: rankerFunc(func(_ context.Context, _ time.Time, n int) ([]knowledge.CodeCount, error) {
			asked = n
			return top, nil
		})}
	qs, err := m.Refresh(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2*assistant.MostAskedCount, asked, "room for codes left out")
	assert.Equal(t, []string{assistant.StarterQuestion(twins[0].Name), assistant.StarterQuestion(ps[0].Name),
		assistant.StarterQuestion(ps[1].Name), assistant.StarterQuestion(ps[2].Name)}, qs)
	m.Min = 20 // 9+5+3+2 = 19
	qs, err = m.Refresh(t.Context())
	require.NoError(t, err)
	assert.Nil(t, qs)
}

// Run counts again at every tick and ends with its context.
func TestMostAskedRun(t *testing.T) {
	cat := realcatalog.Load(t)
	calls := make(chan []string, 100)
	m := &assistant.MostAsked{Catalog: cat.Store, Min: 1, Set: func(qs []string) error { calls <- qs; return nil },
		Ranker: rankerFunc(func(context.Context, time.Time, int) ([]knowledge.CodeCount, error) {
			return []knowledge.CodeCount{{Code: cat.Procedures[0].Code, Count: 1}}, nil
		})}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { m.Run(ctx, 5*time.Millisecond); close(done) }()
	for range 2 {
		select {
		case qs := <-calls:
			assert.Equal(t, []string{assistant.StarterQuestion(cat.Procedures[0].Name)}, qs)
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not refresh")
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not end with its context")
	}
}
