package assistant

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/trolyao/trolyao/knowledge"
)

func TestWithoutAges(t *testing.T) {
	for _, c := range []struct {
		in   string
		ages []int
		kept []string // words that must stay
	}{
		{"Chào luật sư, tôi năm nay 34 tuổi, để lại đứa cháu 8 tuổi", []int{34, 8}, []string{"cháu"}},
		{"lam can cuoc cho be 10 tuoi", []int{10}, []string{"can cuoc", "be"}},
		{"cấp căn cước cho trẻ dưới 14 tuổi", nil, []string{"dưới 14 tuổi"}},
		{"cấp thẻ căn cước cho người từ đủ 14 tuổi trở lên", nil, []string{"đủ 14 tuổi"}},
		{"giấy phép xây nhà 3 tầng, 5 tỷ", nil, []string{"3 tầng", "5 tỷ"}},
		{"34 tuổi", nil, []string{"34 tuổi"}}, // nothing but an age: left as it is
	} {
		out, ages := withoutAges(c.in)
		assert.Equal(t, c.ages, ages, c.in)
		for _, k := range c.kept {
			assert.Contains(t, out, k, c.in)
		}
		if len(c.ages) > 0 {
			assert.NotContains(t, knowledge.Fold(out), "tuoi", c.in)
		}
	}
}

func TestPreferAgeVariant(t *testing.T) {
	hit := func(code, name string, score float64) knowledge.Hit {
		return knowledge.Hit{Code: code, Name: name, Score: score}
	}
	over := hit("1.014061", "Cấp thẻ căn cước cho người từ đủ 14 tuổi trở lên", 3)
	under := hit("1.014062", "Cấp thẻ căn cước cho người dưới 14 tuổi", 1.5)
	change := hit("1.014063", "Cấp đổi thẻ căn cước", 2)
	again := hit("1.014064", "Cấp lại thẻ căn cước", 1.8)
	codes := func(hs []knowledge.Hit) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.Code)
		}
		return out
	}
	// The best one's limit does not fit: the sibling whose limit fits comes first, scores stay with ranks.
	got := preferAgeVariant([]knowledge.Hit{over, change, under}, []int{10}, "làm căn cước cho bé 10 tuổi")
	assert.Equal(t, []string{"1.014062", "1.014061", "1.014063"}, codes(got))
	assert.Equal(t, 3.0, got[0].Score)
	// The best one has no limit and the citizen said none of its own words: the fitting sibling, from fifth.
	got = preferAgeVariant([]knowledge.Hit{change, again, over, hit("x", "Khai thác thông tin căn cước", 1), under},
		[]int{6}, "à ý là làm căn cước cho con 6 tuổi")
	assert.Equal(t, "1.014062", got[0].Code)
	// … but "đổi" said keeps "Cấp đổi".
	got = preferAgeVariant([]knowledge.Hit{change, over, under}, []int{82}, "ba em 82 tuổi, đổi căn cước vì sáp nhập")
	assert.Equal(t, "1.014063", got[0].Code)
	// Ages on both sides of the limit, a fitting best one, or no age: unchanged.
	for _, ages := range [][]int{{34, 5}, {20}, nil} {
		got = preferAgeVariant([]knowledge.Hit{over, under}, ages, "căn cước")
		assert.Equal(t, "1.014061", got[0].Code, "%v", ages)
	}
}
