package assistant

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/trolyao/trolyao/knowledge/bank"
)

// Clauses of personal context that citizens add to a question: a place (old and new unit names), family, a job,
// polite particles. Adding one to three of them must change neither the decision nor the procedure.
var contextClauses = struct{ before, after []string }{
	before: []string{
		"Tôi ở phường 12 quận Gò Vấp.", "Nhà em ở Thủ Đức cũ,", "Cho em hỏi chút ạ,", "Chào anh chị,",
		"Tôi năm nay 45 tuổi, làm công nhân ở khu chế xuất Tân Thuận.", "Vợ chồng tôi mới chuyển về Bình Dương,",
		"Em là sinh viên năm 3,", "Mẹ tôi đã lớn tuổi,", "Gia đình tôi sống ở phường Bến Thành,",
		"toi o quan binh thanh,", "Tôi quê ở Cần Thơ nhưng ở trọ tại TP.HCM,", "Xin chào,",
	},
	after: []string{
		"ạ", "nhé", "với ạ", "Cảm ơn nhiều ạ.", "Tôi ở quận 3 cũ.", "Nhà tôi ở Dĩ An.",
		"Tôi đang đi làm nên không có nhiều thời gian.", "con tôi năm nay 5 tuổi.", "mong được hướng dẫn",
		"em cảm ơn", "tôi ở Vũng Tàu", "mình ở phường Tân Định",
	},
}

// InvarianceReport is what ContextInvariance found.
type InvarianceReport struct {
	N        int      // variants asked
	Changed  int      // variants whose decision or procedure differs from the original question's
	Examples []string // up to 20 changed variants
}

// Rate is the share of variants that kept the decision and the procedure.
func (r InvarianceReport) Rate() float64 {
	if r.N == 0 {
		return 0
	}
	return 1 - float64(r.Changed)/float64(r.N)
}

// ContextInvariance asks n questions of the bank (every k-th probe of every split, deterministic) as they are
// and with one to three clauses of personal context added, and counts the variants whose decision (answer,
// clarify or abstain) or best procedure changes.
func ContextInvariance(ctx context.Context, a *Assistant, b *bank.Bank, n int) InvarianceReport {
	var qs []string
	for _, e := range b.Entries {
		for _, q := range e.Questions {
			if len([]rune(q.Q)) <= 300 {
				qs = append(qs, q.Q)
			}
		}
	}
	var r InvarianceReport
	if len(qs) == 0 || n <= 0 {
		return r
	}
	step := max(1, len(qs)/n)
	for i := 0; i < len(qs) && r.N < n; i += step {
		q := qs[i]
		base, err := a.Assess(ctx, a.withoutPlaces(q), DetectIntents(q))
		if err != nil {
			continue
		}
		v := withContext(q, i)
		got, err := a.Assess(ctx, a.withoutPlaces(v), DetectIntents(v))
		if err != nil || len([]rune(v)) > 500 {
			continue
		}
		r.N++
		if decision(base) != decision(got) || topCode(base) != topCode(got) {
			r.Changed++
			if len(r.Examples) < 20 {
				r.Examples = append(r.Examples, fmt.Sprintf("%q (%s %s) → %q (%s %s)", q, decision(base), topCode(base), v,
					decision(got), topCode(got)))
			}
		}
	}
	return r
}

// withContext adds one to three clauses to q, chosen by a hash of i.
func withContext(q string, i int) string {
	h := fnv.New32a()
	fmt.Fprint(h, i)
	x := h.Sum32()
	var before, after []string
	for k := range 1 + int(x%3) {
		y := x >> (4 + 5*k)
		if y%2 == 0 {
			if c := contextClauses.before[int(y/2)%len(contextClauses.before)]; !slices.Contains(before, c) {
				before = append(before, c)
			}
		} else if c := contextClauses.after[int(y/2)%len(contextClauses.after)]; !slices.Contains(after, c) {
			after = append(after, c)
		}
	}
	parts := append(before, strings.TrimRight(q, " "))
	parts = append(parts, after...)
	return strings.Join(parts, " ")
}

func decision(as Assessment) string {
	switch as.Action {
	case ActAnswer, ActAnswerWithAlternatives:
		return "answer"
	case ActClarify:
		return "clarify"
	}
	return "abstain"
}

// topCode is the procedure the decision is about ("" when abstaining).
func topCode(as Assessment) string {
	if as.Action == ActAbstain || len(as.Hits) == 0 {
		return ""
	}
	return as.Hits[0].Code
}
