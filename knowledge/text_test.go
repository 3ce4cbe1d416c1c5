package knowledge

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hoà bình", "hòa bình"},
		{"Thuỷ lợi", "Thủy lợi"},
		{"khoẻ mạnh", "khỏe mạnh"},
		{"Xuân Hoà", "Xuân Hòa"},
		{"hòa", "hòa"},
		{"hoàng", "hoàng"},   // closed syllable: one spelling in both styles
		{"thuyết", "thuyết"}, // closed syllable
		{"quý", "quý"},       // "qu" + y: the u belongs to the consonant
		{"tuỳ", "tùy"},
		{"  căn   cước\n\tcông dân ", "căn cước công dân"},
		{norm.NFD.String("Căn cước"), "Căn cước"}, // decomposed input becomes NFC
		{"đăng\u200bký", "đăngký"},                // zero-width characters removed
	}
	for _, tt := range tests {
		got := Normalize(tt.in)
		assert.Equal(t, tt.want, got, "Normalize(%q)", tt.in)
		assert.True(t, norm.NFC.IsNormalString(got))
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Căn cước", "can cuoc"},
		{"ĐĂNG KÝ", "dang ky"},
		{"đường", "duong"},
		{norm.NFD.String("Thủ tục"), "thu tuc"},
		{"Hòa", "hoa"},
		{"hoà", "hoa"},
		{"1.001193", "1.001193"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Fold(tt.in), "Fold(%q)", tt.in)
	}
}

func TestSyllablesAndBigrams(t *testing.T) {
	assert.Equal(t, []string{"cap", "lai", "the", "can", "cuoc"}, Syllables("Cấp lại thẻ căn cước"))
	assert.Equal(t, []string{"ma", "1.001193", "phi", "70000", "dong"}, Syllables("mã 1.001193, phí 70.000 đồng"))
	assert.Equal(t, []string{"le", "phi", "10000"}, Syllables("Lệ phí: 10,000"))
	assert.Equal(t, []string{"cap_lai", "lai_the"}, Bigrams([]string{"cap", "lai", "the"}))
	assert.Nil(t, Bigrams([]string{"x"}))
	assert.True(t, IsProcedureCode("1.001193"))
	assert.False(t, IsProcedureCode("70.000"))
}

// analyzed is what the lexicon reads q as: its rewrite, folded. Analyze adds those words to the ones typed
// (TestAnalyzeKeepsTypedWords).
func analyzed(t *testing.T, q string) string {
	t.Helper()
	return strings.Join(folds(defaultLexicon.rewrite(tokens(Normalize(q)))), " ")
}

func TestAnalyzeKeepsTypedWords(t *testing.T) {
	// The lexicon adds the catalog's words; context around the rewritten phrase ("sau khi sinh con") stays beside
	// the topic instead of being replaced.
	q, err := Analyze("tạm nghỉ bán hàng sau khi sinh con")
	require.NoError(t, err)
	assert.Subset(t, q.Tokens, []string{"tam", "nghi", "ban", "hang", "sinh", "con", "ngung", "kinh", "doanh"})
	terms := map[string]float64{}
	for _, x := range q.Terms {
		terms[x.Term] = x.Weight
	}
	assert.Contains(t, terms, "ban_hang", "the typed bigram is a term")
	assert.Contains(t, terms, "kinh_doanh", "the lexicon's bigram is a term")
	assert.Contains(t, terms, "~tạm", "a syllable typed with diacritics also matches in its accented form")
	assert.NotContains(t, terms, "~doanh", "the lexicon's words are matched folded")
	q, err = Analyze("tam nghi ban hang")
	require.NoError(t, err)
	for _, x := range q.Terms {
		assert.NotContains(t, x.Term, "~", "without diacritics only folded forms are looked up")
	}
}

func TestLexicon(t *testing.T) {
	tests := []struct{ in, want string }{
		// abbreviations and old terms → catalog vocabulary
		{"làm lại cccd", "cap lai the can cuoc"},
		{"lam lai cccd", "cap lai the can cuoc"},
		{"CMND bị mất", "the can cuoc mat cap lai"},
		{"căn cước công dân hết hạn", "the can cuoc cap doi gia han"},
		{"đổi GPLX", "doi giay phep lai xe"},
		{"bằng lái quốc tế", "giay phep lai xe quoc te"},
		{"sổ đỏ bị mất", "so do mat cap lai"},
		{"so hong", "so hong"},
		{"nhập hộ khẩu", "nhap thuong tru"},
		{"hộ khẩu", "thuong tru"},
		{"cà vẹt xe", "chung nhan dang ky xe"},
		{"ca vet xe may", "chung nhan dang ky xe may"},
		{"passport", "ho chieu"},
		{"công chứng bản sao", "chung thuc ban sao tu ban chinh"},
		{"công chứng hợp đồng", "chung thuc hop dong giao dich"},
		{"báo mất hộ chiếu", "trinh bao mat ho chieu"},
		{"ba mẹ mất để lại đất", "ba me mat khai tu thua ke dat"},
		{"sang tên sổ đỏ", "sang ten thay doi so do"},
		{"ĐKKD", "dang ky kinh doanh"},
		{"MST cá nhân", "dang ky thue"},
		{"rút bhxh 1 lần", "huong bao hiem xa hoi mot lan"},
		{"thẻ BHYT", "bao hiem y te"},
		// teencode and intent words
		{"ko bik lam j", "bik lam"}, // without diacritics "lam" may be làm or lâm: kept
		{"dk ket hon voi nguoi nuoc ngoai can giay to gi", "dang ky ket hon voi yeu to nuoc ngoai"},
		{"can cuoc het han", "the can cuoc cap doi gia han"},
		{"dang ky tam tru", "dang ky tam tru"},
		{"đăng ký tạm trú mất bao nhiêu tiền", "dang ky tam tru"},
		// "mất" as lost vs as "takes (time/money)" vs died
		{"mất thẻ căn cước", "mat cap lai the can cuoc"},
		{"mất mấy ngày", ""},
		{"người nhà mới mất", "khai tu"},
		// ages map to the identity-card brackets
		{"làm cccd cho bé 5 tuổi", "the can cuoc tre em duoi 14 tuoi"},
		{"căn cước cho người 15 tuổi", "the can cuoc tu du 14 tuoi tro len"},
		{"lam can cuoc cho be 10 tuoi", "lam the can cuoc cho tre em duoi 14 tuoi"},
		// diacritics decide which word was meant: "gia đình" is not "giá"
		{"đất của gia đình", "dat gia dinh"},
		{"giá bao nhiêu", ""},
		// "pháp" alone is law, not France
		{"lý lịch tư pháp", "phieu ly lich tu phap"},
		{"kết hôn với người Pháp", "ket hon yeu to nuoc ngoai"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, analyzed(t, tt.in), "Analyze(%q)", tt.in)
	}
	assert.Greater(t, LexiconSize(), 300)
}

// Every rule of the hand lexicon reads each of its phrases as its target (a drop rule as nothing): a rule
// shadowed by another, or broken by a change of the analyser, fails here. Which rules the lexicon keeps, and
// why, is measured against the question bank (docs/question-bank.md).
func TestLexiconRules(t *testing.T) {
	for _, r := range lexiconRules {
		want := strings.Join(folds(tokens(Normalize(r.to))), " ")
		for _, f := range r.from {
			if want == "" {
				// Beside an accented word, as a single unaccented syllable is dropped only then.
				assert.Equal(t, "dien", analyzed(t, f+" điện"), "drop rule: Analyze(%q)", f)
				continue
			}
			got := analyzed(t, f)
			assert.Contains(t, " "+got+" ", " "+want+" ", "Analyze(%q) reads it as %q", f, r.to)
		}
	}
}

func TestAnalyzeLimits(t *testing.T) {
	_, err := Analyze(strings.Repeat("a", MaxQueryRunes+1))
	assert.ErrorIs(t, err, ErrQueryTooLong)
	_, err = Analyze("\xff\xfe")
	assert.ErrorIs(t, err, ErrInvalid)
	q, err := Analyze(strings.Repeat("ă", MaxQueryRunes))
	require.NoError(t, err)
	assert.Len(t, q.Tokens, 1)
}

func TestLevelHint(t *testing.T) {
	q, err := Analyze("báo mất hộ chiếu ở công an phường")
	require.NoError(t, err)
	assert.Equal(t, LevelCommune, q.Level)
	q, err = Analyze("nộp ở sở tư pháp")
	require.NoError(t, err)
	assert.Equal(t, LevelProvince, q.Level)
}

func TestHashEmbedder(t *testing.T) {
	h := HashEmbedder{}
	vs, err := h.EmbedDocuments(t.Context(), []string{"cap lai the can cuoc", "cấp lại thẻ căn cước", "dang ky ket hon"})
	require.NoError(t, err)
	require.Len(t, vs[0], DefaultHashDim)
	assert.InDelta(t, 1.0, Cosine(vs[0], vs[1]), 1e-6, "folding makes accents irrelevant")
	assert.Less(t, Cosine(vs[0], vs[2]), 0.3)
	q, err := h.EmbedQuery(t.Context(), "cap lai can cuoc")
	require.NoError(t, err)
	assert.Greater(t, Cosine(q, vs[0]), Cosine(q, vs[2]))
	assert.Equal(t, Meta{Embedder: "hash-v1", Dim: 256}, h.Meta())
}

// TestLexiconSynonyms: a lexicon applies its own synonyms, beside the built-in rules; another lexicon, a nil one
// and Analyze do not see them.
func TestLexiconSynonyms(t *testing.T) {
	var lx, other Lexicon
	has := func(a interface{ Analyze(string) (Query, error) }, q string) bool {
		t.Helper()
		r, err := a.Analyze(q)
		require.NoError(t, err)
		return slices.Contains(r.Tokens, "khai") && slices.Contains(r.Tokens, "sinh")
	}
	const q = "làm giấy chào đời cho bé"
	require.False(t, has(&lx, q))
	err := lx.SetSynonyms([]Synonym{{Phrase: "giấy chào đời", To: "khai sinh"}, {Phrase: " "}})
	assert.ErrorIs(t, err, ErrInvalid, "the empty phrase is reported")
	assert.True(t, has(&lx, q), "the valid synonym is applied anyway")
	assert.True(t, has(&lx, "cccd giấy chào đời"))
	assert.False(t, has(&other, q))
	assert.False(t, has((*Lexicon)(nil), q))
	q2, err := Analyze(q)
	require.NoError(t, err)
	assert.NotContains(t, q2.Tokens, "khai")
	require.NoError(t, lx.SetSynonyms(nil))
	assert.False(t, has(&lx, q), "an empty list restores the built-in rules")
}
