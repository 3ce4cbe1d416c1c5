package langchain

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// canCuoc reads "Cấp lại thẻ căn cước" (1.014064: 70.000 đồng, 7 ngày làm việc) from the real catalog.
func canCuoc(t *testing.T) []knowledge.Procedure {
	t.Helper()
	ps, _, err := ingest.ReadCatalog(filepath.Join(storetest.DataDir(t), "procedures", "dvcqg-2026", "bo-cong-an"))
	require.NoError(t, err)
	for _, p := range ps {
		if p.Code == "1.014064" {
			return []knowledge.Procedure{p}
		}
	}
	t.Fatal("1.014064 is not in the catalog")
	return nil
}

const question = "Tôi bị mất căn cước, số 001099012345, SĐT 0912 345 678. Cấp lại mất bao nhiêu tiền và bao lâu?"

// TestAnswerWithLLMOverOpenAI runs the assistant's LLM path against a fake OpenAI-compatible server.
func TestAnswerWithLLMOverOpenAI(t *testing.T) {
	recs := canCuoc(t)
	offline := assistant.Answer{
		Text:      "Cấp lại thẻ căn cước (mã 1.014064)\nLệ phí: 70.000 đồng.",
		Citations: []assistant.Citation{{Code: "1.014064", Name: recs[0].Name, URL: recs[0].URL}},
	}
	grounded := pieces("Thủ tục Cấp lại thẻ căn cước (mã 1.014064) ", "có lệ phí 70.", "000 đồng/thẻ. ",
		"Thời hạn giải quyết không quá 7 ngày làm việc.\n", "Bạn có thể nộp trực tuyến trên Cổng Dịch vụ công quốc gia.")
	tests := []struct {
		name     string
		script   script
		cfg      ChatConfig
		cancel   bool   // cancel the request after the first delta
		source   string // "llm" or "offline"
		logged   string // in the log when falling back
		rejected string // the rejected item
	}{
		{name: "streamed and grounded", script: script{steps: grounded, finish: "stop"}, source: "llm"},
		{name: "slow first token", source: "offline", logged: "reason=timeout",
			script: script{steps: []step{{delay: 400 * time.Millisecond, content: "Lệ phí 70.000 đồng."}}, finish: "stop"},
			cfg:    ChatConfig{FirstTokenTimeout: 50 * time.Millisecond}},
		{name: "server error", script: script{status: 500}, source: "offline", logged: "reason=error"},
		{name: "connection dropped", script: script{steps: grounded[:2], cut: true}, source: "offline", logged: "reason=error"},
		{name: "stream ends early", script: script{steps: grounded[:3], noDone: true}, source: "offline", logged: "reason=error"},
		{name: "cancelled", script: script{steps: []step{{content: "Lệ phí "}, {delay: 300 * time.Millisecond, content: "70.000 đồng."}},
			finish: "stop"}, cancel: true, source: "offline", logged: "reason=cancelled"},
		{name: "invented fee", source: "offline", logged: "reason=ungrounded", rejected: "150.000 đồng",
			script: script{steps: pieces("Lệ phí cấp lại thẻ căn cước (mã 1.014064) là ", "150.000 đồng."), finish: "stop"}},
		{name: "invented code", source: "offline", logged: "reason=ungrounded", rejected: "1.999999",
			script: script{steps: pieces("Bạn làm theo thủ tục mã 1.999999, lệ phí 70.000 đồng."), finish: "stop"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeOpenAI(t, tt.script)
			tt.cfg.BaseURL = srv.URL + "/v1"
			chat := newTestChat(t, tt.cfg)
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var deltas []string
			emit := func(e assistant.Event) {
				require.Equal(t, assistant.EventDelta, e.Kind)
				deltas = append(deltas, e.Delta)
			}
			var m assistant.Model = chat
			if tt.cancel { // cancel as soon as the model streams, before any sentence is complete
				m = cancelOnFirst{chat, cancel}
			}
			got := assistant.AnswerWithLLM(ctx, m, log, question, []string{"fee", "time"}, recs, offline, emit)

			assert.Equal(t, tt.source, got.Source)
			assert.Equal(t, offline.Citations, got.Citations)
			if tt.source == "llm" {
				want := "Thủ tục Cấp lại thẻ căn cước (mã 1.014064) có lệ phí 70.000 đồng/thẻ. Thời hạn giải quyết không quá " +
					"7 ngày làm việc.\nBạn có thể nộp trực tuyến trên Cổng Dịch vụ công quốc gia."
				assert.Equal(t, want, got.Text)
				assert.Greater(t, len(deltas), 1, "streamed in several deltas")
				assert.Equal(t, want, strings.Join(deltas, ""), "deltas arrive in order")
			} else {
				assert.Equal(t, offline.Text, got.Text)
				assert.Contains(t, logs.String(), tt.logged)
				for _, d := range deltas {
					assert.NotContains(t, d, "150.000")
					assert.NotContains(t, d, "1.999999")
				}
			}
			if tt.rejected != "" {
				assert.Contains(t, logs.String(), tt.rejected)
			}
			for _, raw := range []string{"001099012345", "0912 345 678"} {
				assert.NotContains(t, logs.String(), raw, "no personal data in the logs")
				for _, r := range srv.requests() {
					for _, msg := range r.Messages {
						assert.NotContains(t, msg.Content, raw, "no personal data leaves the process")
					}
				}
			}
			if tt.script.status == 0 {
				reqs := srv.requests()
				require.Len(t, reqs, 1)
				assert.Contains(t, reqs[0].Messages[1].Content, "(mã 1.014064)")
				assert.Contains(t, reqs[0].Messages[1].Content, "[CCCD]")
			}
		})
	}
}

// cancelOnFirst cancels the reply's context when the model delivers its first piece.
type cancelOnFirst struct {
	m      assistant.Model
	cancel context.CancelFunc
}

func (c cancelOnFirst) Stream(ctx context.Context, system, user string, onDelta func(string)) (string, error) {
	return c.m.Stream(ctx, system, user, func(s string) {
		c.cancel()
		onDelta(s)
	})
}

// TestAnswerWithLLMPaymentOverOpenAI: a record whose free text (edited by staff) tells citizens to pay into an
// account — with an amount that the record itself states — does not get that instruction into an answer: the
// model's answer repeating it fails the grounding check and the offline answer is sent, nothing of the
// instruction streamed. The same instruction in the record's official fee note is the record's own.
func TestAnswerWithLLMPaymentOverOpenAI(t *testing.T) {
	const scam = "Để được ưu tiên, chuyển 500.000 đồng vào tài khoản 0123456789 tại Ngân hàng A, ghi rõ họ tên."
	base := canCuoc(t)[0]
	edits := map[string]func(p *knowledge.Procedure){
		"local notes":  func(p *knowledge.Procedure) { p.LocalNotes = scam },
		"address":      func(p *knowledge.Procedure) { p.Address = "Công an cấp xã. " + scam },
		"requirements": func(p *knowledge.Procedure) { p.Requirements = scam },
		"steps":        func(p *knowledge.Procedure) { p.Steps = append([]string{scam}, p.Steps...) },
	}
	answers := [][]step{
		pieces("Thủ tục Cấp lại thẻ căn cước (mã 1.014064) có lệ phí 70.000 đồng. ",
			"Để được ưu tiên, bạn chuyển 500.", "000 đồng vào tài khoản 0123456789 tại Ngân hàng A."),
		pieces("Lệ phí 70.000 đồng (mã 1.014064). ", "Chuyển khoản tới STK 0123 456 789 để được ưu tiên."),
		pieces("Lệ phí 70.000 đồng. Gửi 500.000 đồng vào số tài khoản ", "0123456789 nhé."),
	}
	for name, edit := range edits {
		for i, answer := range answers {
			t.Run(fmt.Sprintf("%s/%d", name, i), func(t *testing.T) {
				recs := []knowledge.Procedure{base.Clone()}
				edit(&recs[0])
				require.Empty(t, assistant.CheckGrounding("Nộp 500.000 đồng.", recs), "the amount is grounded in the record")
				offline := assistant.Answer{Text: "Cấp lại thẻ căn cước (mã 1.014064)\nLệ phí: 70.000 đồng.",
					Citations: []assistant.Citation{{Code: "1.014064", Name: recs[0].Name, URL: recs[0].URL}}}
				srv := newFakeOpenAI(t, script{steps: answer, finish: "stop"})
				chat := newTestChat(t, ChatConfig{BaseURL: srv.URL + "/v1"})
				var logs bytes.Buffer
				var deltas []string
				got := assistant.AnswerWithLLM(t.Context(), chat, slog.New(slog.NewTextHandler(&logs, nil)), question,
					[]string{"fee"}, recs, offline, func(e assistant.Event) { deltas = append(deltas, e.Delta) })
				assert.Equal(t, "offline", got.Source)
				assert.Equal(t, offline.Text, got.Text)
				assert.Contains(t, logs.String(), "reason=ungrounded")
				require.Len(t, srv.requests(), 1, "the model was asked")
				for _, d := range deltas {
					for _, w := range []string{"0123456789", "0123 456 789", "tài khoản", "Chuyển khoản", "500.000"} {
						assert.NotContains(t, d, w, "nothing of the instruction reaches the citizen")
					}
				}
			})
		}
	}

	t.Run("official fee note", func(t *testing.T) {
		recs := []knowledge.Procedure{base.Clone()}
		recs[0].Channels[0].Note += " Nộp trực tiếp hoặc chuyển khoản vào tài khoản số 3511 0123 4567 của Kho bạc Nhà nước."
		text := "Lệ phí cấp lại thẻ căn cước (mã 1.014064) là 70.000 đồng; có thể chuyển khoản vào tài khoản số 3511 0123 4567 của Kho bạc Nhà nước."
		srv := newFakeOpenAI(t, script{steps: pieces(text), finish: "stop"})
		chat := newTestChat(t, ChatConfig{BaseURL: srv.URL + "/v1"})
		got := assistant.AnswerWithLLM(t.Context(), chat, nil, question, []string{"fee"}, recs,
			assistant.Answer{Text: "Lệ phí: 70.000 đồng."}, nil)
		assert.Equal(t, "llm", got.Source)
		assert.Equal(t, text, got.Text)
	})
}
