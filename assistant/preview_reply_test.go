package assistant_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
)

// The preview of a record is what Reply says with it, byte for byte: the first answer (with the ward's centre
// when the question names a ward, with the line before other procedures when it offers them) and the full one
// «Xem đầy đủ» gives next.
func TestPreviewIsTheReply(t *testing.T) {
	a := newAssistant(t)
	offered := false
	for _, q := range []string{
		"đăng ký khai sinh cần giấy tờ gì",
		"đăng ký khai sinh ở phường Bàn Cờ nộp ở đâu",
		"đăng ký khai sinh ở phường 4 quận 3 cũ nộp ở đâu",
		"làm lại căn cước lệ phí bao nhiêu",
		"dang ky ket hon can giay to gi",
	} {
		t.Run(q, func(t *testing.T) {
			first := reply(t, a, "preview-"+q, q)
			require.NotEmpty(t, first.Citations, first.Text)
			full := reply(t, a, "preview-"+q, assistant.MoreReply)
			p := proc(t, first.Citations[0].Code)
			pv, err := a.Preview(t.Context(), &p, q)
			require.NoError(t, err)
			assert.Equal(t, first.Text, pv.Text)
			assert.Equal(t, full.Text, pv.Full)
			assert.Equal(t, first.Citations[0].Code, pv.Answered)
			assert.Equal(t, first.Options, pv.Options)
			assert.Equal(t, first.Suggestions, pv.Suggestions)
			offered = offered || len(pv.Options) > 0
		})
	}
	assert.True(t, offered, "one of the questions gets other procedures offered")
}
