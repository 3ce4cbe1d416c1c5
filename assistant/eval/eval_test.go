package eval

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFoldFact(t *testing.T) {
	assert.Equal(t, "70000 dong", FoldFact("70.000  Đồng"))
	assert.Equal(t, "70000", FoldFact("70,000"))
	assert.Equal(t, "1000000", FoldFact("1.000.000"))
	assert.Equal(t, "phuong ban co", FoldFact("Phường Bàn Cờ"))
	assert.Equal(t, "mien phi", FoldFact("Miễn phí"))
}

func TestReadAndRun(t *testing.T) {
	file := `{"q": "a", "expect": ["1.000001", "1.000002"], "tags": ["x"]}
{"q": "b", "expect": []}

{"turns": [{"q": "c"}, {"q": "d", "expect": ["1.000003"], "facts": ["70.000"]}], "tags": ["multi-turn"]}
{"q": "e", "facts": ["Bàn Cờ"]}
`
	cases, err := Read(strings.NewReader(file))
	require.NoError(t, err)
	require.Len(t, cases, 4)
	var convs []string
	a := AnswerFunc(func(_ context.Context, conv, text string) (Reply, error) {
		convs = append(convs, conv)
		switch text {
		case "a":
			return Reply{Codes: []string{"9.9", "1.000002"}}, nil
		case "b":
			return Reply{Text: "xin chào"}, nil
		case "d":
			return Reply{Text: "Lệ phí 70,000 đồng", Codes: []string{"1.000003"}}, nil
		case "e":
			return Reply{Text: "phuong ban co"}, nil
		}
		return Reply{}, nil
	})
	s, outs, err := Run(context.Background(), a, cases)
	require.NoError(t, err)
	assert.Equal(t, 2, s.Retrieval.N)
	assert.Equal(t, 0.5, s.Retrieval.Hit1)
	assert.Equal(t, 1.0, s.Retrieval.Hit5)
	assert.Equal(t, 0.75, s.Retrieval.MRR)
	assert.Equal(t, 1, s.Abstain.N)
	assert.Equal(t, 1.0, s.Abstain.Accuracy)
	assert.Equal(t, 2, s.Facts.N)
	assert.Equal(t, 1.0, s.Facts.Recall)
	assert.Equal(t, TagStat{N: 1, Hit1: 0, Hit5: 1}, s.ByTag["x"])
	assert.Len(t, outs, 4)
	assert.Equal(t, convs[2], convs[3], "turns of a case share one conversation")
	assert.NotEqual(t, convs[0], convs[1])
}

func TestReadErrors(t *testing.T) {
	_, err := Read(strings.NewReader("{\"q\": \"a\"}\nnot json\n"))
	assert.ErrorContains(t, err, "line 2")
	_, err = Read(strings.NewReader("{\"tags\": []}\n"))
	assert.ErrorContains(t, err, "neither q nor turns")
}
