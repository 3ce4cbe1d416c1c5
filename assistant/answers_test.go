package assistant

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/trolyao/trolyao/knowledge"
)

// A fee row that is only a unit ("/bản") or a mission abroad's dollar amount never becomes a free line, and
// the fee a citizen pays in Viet Nam comes first.
func TestFeeRowsAbroadOrUnitNeverFree(t *testing.T) {
	abroadRow := knowledge.Channel{Kind: knowledge.ChannelInPerson, Free: true, Text: "Miễn phí(/bản)",
		Note: "/bản\nTại cơ quan đại diện: 10 USD/bản."}
	unitRow := knowledge.Channel{Kind: knowledge.ChannelInPerson, Free: true, Text: "Miễn phí(/trường hợp)",
		Note: "/trường hợp\nTại Ủy ban nhân dân cấp xã: 10.000 đồng/trường hợp."}
	usdAbroad := knowledge.Channel{Kind: knowledge.ChannelInPerson, Text: "10 USD(/bản)", Note: "/bản\nTại cơ quan đại diện: 10 USD/bản."}
	domestic := knowledge.Channel{Kind: knowledge.ChannelInPerson, Text: "10,000 Việt Nam Đồng(/trường hợp)",
		Note: "/trường hợp\nTại Ủy ban nhân dân cấp xã, Tổ chức hành nghề công chứng: 10.000 đồng/trường hợp.",
		Fees: []knowledge.Fee{{Amount: 10000, Label: "Phí, lệ phí (mỗi trường hợp)"}}}
	for _, tt := range []struct {
		name     string
		channels []knowledge.Channel
		want     []string
	}{
		{"a unit and an agency abroad", []knowledge.Channel{abroadRow}, []string{"10 USD"}},
		{"a unit, the amount in the description", []knowledge.Channel{unitRow}, []string{"10.000 đồng/trường hợp"}},
		{"the domestic fee first", []knowledge.Channel{usdAbroad, domestic}, []string{"- Nộp trực tiếp: 10.000 đồng"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := fees(&knowledge.Procedure{Code: "9.999999", Channels: tt.channels}, dec2026)
			assert.NotContains(t, strings.ToLower(got), "miễn phí", got)
			for _, w := range tt.want {
				assert.Contains(t, got, w)
			}
			lines := strings.Split(got, "\n")
			if len(tt.channels) > 1 {
				assert.Contains(t, lines[1], "đồng", "the fee paid in Viet Nam first:\n%s", got)
			}
		})
	}
	// Real records: certification at the ward (2.000884, 2.000815) and a card whose cell lost its dollar amount
	// (1.003358: "145 VNĐ(Thẻ tạm trú … 145 USD/thẻ.)").
	for _, p := range realRecords(t, "2.000884", "2.000815", "1.003358") {
		got := fees(&p, dec2026)
		assert.NotContains(t, strings.ToLower(got), "miễn phí", "%s:\n%s", p.Code, got)
		assert.NotContains(t, got, "ghi chú: /", "%s:\n%s", p.Code, got)
		first := Compose(&p, []Intent{IntentDocuments})
		head, _, _ := strings.Cut(first, "\n\n")
		assert.NotContains(t, strings.ToLower(head), "miễn phí", "%s:\n%s", p.Code, head)
	}
	p := realRecords(t, "2.000884")[0]
	got := fees(&p, dec2026)
	assert.Less(t, strings.Index(got, "10.000 đồng"), strings.Index(got, "10 USD"), got)
}

