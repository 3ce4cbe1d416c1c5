// Package storetest is the contract test suite of knowledge.Store. Every storage backend (knowledge/embedded,
// knowledge/postgres) runs Run, and RunReopen when it persists, from its own tests; the suite builds small
// catalogs itself and checks every answer against Reference, a brute-force implementation of the contract.
// It also provides synthetic documents and queries for benchmarks. It imports knowledge, the standard library
// and testify only.
package storetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
)

// Run runs the contract tests, one subtest each. open returns a new, empty store for one (sub)test and
// arranges its cleanup with t.Cleanup; the suite never closes the stores open returns.
func Run(t *testing.T, open func(t *testing.T) knowledge.Store) {
	t.Run("Empty", func(t *testing.T) { testEmpty(t, open(t)) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open(t)) })
	t.Run("Apply", func(t *testing.T) { testApply(t, open(t)) })
	t.Run("Reset", func(t *testing.T) { testReset(t, open(t)) })
	t.Run("Invalid", func(t *testing.T) { testInvalid(t, open(t)) })
	t.Run("Search", func(t *testing.T) { testSearch(t, open(t)) })
	t.Run("Ties", func(t *testing.T) { testTies(t, open(t)) })
	t.Run("LexicalOnly", func(t *testing.T) { testLexicalOnly(t, open(t)) })
	t.Run("Bulk", func(t *testing.T) { testBulk(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
}

// RunReopen checks that a store keeps everything across a close and a new open of the same storage.
// open is as for Run; reopen is given a store that open (or an earlier reopen) returned, closes it, and
// returns a new store over the same storage, arranging its cleanup.
func RunReopen(t *testing.T, open func(t *testing.T) knowledge.Store,
	reopen func(t *testing.T, s knowledge.Store) knowledge.Store) {
	t.Run("Reopen", func(t *testing.T) {
		ctx := t.Context()
		s := open(t)
		docs := catalog(8)
		meta := knowledge.Meta{Embedder: "test-v1", Dim: 8}
		apply(t, s, knowledge.Change{Upsert: docs, Meta: &meta})
		changed := renamed(docs[3], "Đăng ký lại kết hôn", 8)
		apply(t, s, knowledge.Change{Upsert: []knowledge.Doc{changed}, Delete: []string{docs[7].Procedure.Code}})
		want := replace(without(docs, docs[7].Procedure.Code), changed)

		s = reopen(t, s)
		checkState(t, s, want, meta)

		apply(t, s, knowledge.Change{Delete: []string{docs[0].Procedure.Code}})
		want = without(want, docs[0].Procedure.Code)
		s = reopen(t, s)
		checkState(t, s, want, meta)

		meta2 := knowledge.Meta{Embedder: "test-v2", Dim: 4}
		docs2 := withVectors(docs[10:14], 4, 99)
		apply(t, s, knowledge.Change{Upsert: docs2, Meta: &meta2, Reset: true})
		s = reopen(t, s)
		checkState(t, s, docs2, meta2)
		_, err := s.Get(ctx, docs[20].Procedure.Code)
		assert.ErrorIs(t, err, knowledge.ErrNotFound)
	})
}

// names of the hand-written catalog. The last one repeats an earlier name with the same field and result:
// the two documents tie exactly, lexically and (sharing a vector) densely.
var names = []struct{ name, field, result string }{
	{"Đăng ký khai sinh", "Hộ tịch", "Giấy khai sinh"},
	{"Đăng ký khai tử", "Hộ tịch", "Trích lục khai tử"},
	{"Đăng ký kết hôn", "Hộ tịch", "Giấy chứng nhận kết hôn"},
	{"Đăng ký lại khai sinh", "Hộ tịch", "Giấy khai sinh"},
	{"Cấp bản sao trích lục hộ tịch", "Hộ tịch", "Bản sao trích lục"},
	{"Cấp thẻ Căn cước", "Căn cước", "Thẻ Căn cước"},
	{"Cấp lại thẻ Căn cước", "Căn cước", "Thẻ Căn cước"},
	{"Cấp đổi thẻ Căn cước", "Căn cước", "Thẻ Căn cước"},
	{"Đăng ký thường trú", "Cư trú", ""},
	{"Đăng ký tạm trú", "Cư trú", ""},
	{"Xóa đăng ký thường trú", "Cư trú", ""},
	{"Cấp giấy phép lái xe", "Đường bộ", "Giấy phép lái xe"},
	{"Đổi giấy phép lái xe", "Đường bộ", "Giấy phép lái xe"},
	{"Cấp giấy phép xây dựng nhà ở riêng lẻ", "Xây dựng", "Giấy phép xây dựng"},
	{"Cấp giấy chứng nhận quyền sử dụng đất", "Đất đai", "Giấy chứng nhận"},
	{"Đăng ký biến động đất đai", "Đất đai", ""},
	{"Đăng ký thành lập doanh nghiệp tư nhân", "Doanh nghiệp", "Giấy chứng nhận đăng ký doanh nghiệp"},
	{"Đăng ký thành lập hộ kinh doanh", "Hộ kinh doanh", "Giấy chứng nhận đăng ký hộ kinh doanh"},
	{"Tạm ngừng kinh doanh", "Doanh nghiệp", ""},
	{"Cấp phiếu lý lịch tư pháp", "Lý lịch tư pháp", "Phiếu lý lịch tư pháp"},
	{"Chứng thực bản sao từ bản chính", "Chứng thực", "Bản sao được chứng thực"},
	{"Chứng thực chữ ký", "Chứng thực", ""},
	{"Cấp hộ chiếu phổ thông", "Xuất nhập cảnh", "Hộ chiếu"},
	{"Đăng ký xe", "Đường bộ", "Giấy chứng nhận đăng ký xe"},
	{"Hưởng trợ cấp thất nghiệp", "Việc làm", "Quyết định hưởng trợ cấp"},
	{"Cấp thẻ bảo hiểm y tế", "Bảo hiểm", "Thẻ bảo hiểm y tế"},
	{"Đăng ký nhận cha, mẹ, con", "Hộ tịch", ""},
	{"Cấp giấy phép kinh doanh rượu", "Công thương", "Giấy phép"},
	{"Giải quyết trợ cấp mai táng", "Bảo hiểm", "Quyết định trợ cấp"},
	{"Cấp lại thẻ Căn cước", "Căn cước", "Thẻ Căn cước"}, // same as index 6
}

const dupOf, dup = 6, 29 // names[dup] repeats names[dupOf]

var levelCycle = [][]knowledge.Level{
	{knowledge.LevelCommune},
	{knowledge.LevelProvince, knowledge.LevelCommune},
	{knowledge.LevelCentral},
	nil,
	{knowledge.LevelOther},
}

// catalog returns the 30 hand-written documents with random vectors of dimension dim (none when 0). Codes are
// not in the order of the list; every fifth vector is scaled, so a store must compute the cosine, not the dot.
func catalog(dim int) []knowledge.Doc {
	rng := rand.New(rand.NewPCG(42, uint64(dim)))
	docs := make([]knowledge.Doc, len(names))
	for i, n := range names {
		p := knowledge.Procedure{
			Code:   fmt.Sprintf("%d.%06d", 1+(i*7)%3, 1000+(i*7919)%9973),
			Name:   n.name,
			Levels: levelCycle[i%len(levelCycle)],
			Field:  n.field,
			Result: n.result,
		}
		v := RandomVector(rng, dim)
		if i%5 == 0 {
			for j := range v {
				v[j] *= 2.5
			}
		}
		if i == dup {
			v = slices.Clone(docs[dupOf].Vector)
		}
		docs[i] = knowledge.NewDoc(p, nil, v)
	}
	return docs
}

// fullProcedure has every field set.
func fullProcedure() knowledge.Procedure {
	return knowledge.Procedure{
		Code:     "2.002345",
		Name:     "Thủ tục đăng ký thành lập hợp tác xã",
		Levels:   []knowledge.Level{knowledge.LevelProvince, knowledge.LevelCommune},
		Field:    "Thành lập và hoạt động của hợp tác xã",
		Kind:     "TTHC được luật giao quy định chi tiết",
		Decision: "1234/QĐ-BKHĐT",
		Ministry: "bo-tai-chinh",
		Agencies: []string{"Phòng Tài chính - Kế hoạch", "Ủy ban nhân dân cấp xã"},
		Address:  "Bộ phận Một cửa, 12 Đường Lê Lợi, Phường Bến Thành",
		Subjects: []string{"Công dân Việt Nam", "Tổ chức"},
		Channels: []knowledge.Channel{
			{Kind: knowledge.ChannelInPerson, Time: knowledge.Duration{Value: 3, Unit: "ngày làm việc",
				Text: "3 Ngày làm việc"}, Fees: []knowledge.Fee{{Amount: 100000, Label: "Lệ phí"}},
				Note: "Miễn lệ phí cho hộ nghèo", Text: "Lệ phí : 100.000 Đồng"},
			{Kind: knowledge.ChannelOnline, Time: knowledge.Duration{Value: 2.5, Unit: "ngày"}, Free: true},
			{Kind: knowledge.ChannelPostal, FeeNA: true},
		},
		Dossier: []knowledge.DossierItem{
			{Name: "Giấy đề nghị đăng ký hợp tác xã", Form: "Mẫu số 01", Originals: 1},
			{Name: "Điều lệ", Originals: 1, Copies: 2, Group: "Trường hợp thành lập mới"},
		},
		Steps:        []string{"Nộp hồ sơ", "Nhận kết quả"},
		Requirements: "Không có",
		Result:       "Giấy chứng nhận đăng ký hợp tác xã",
		Legal: []knowledge.LegalDoc{
			{Title: "Luật Hợp tác xã", Number: "17/2023/QH15"},
			{Title: "Nghị định hướng dẫn"},
		},
		Related:    "1.000001",
		URL:        "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=2.002345",
		Aliases:    []string{"lập hợp tác xã", "đăng ký HTX"},
		LocalNotes: "Nhận hồ sơ buổi sáng thứ Bảy.\nGhi chú có ký tự đặc biệt: \"ngoặc\" <b> & 100% \\ é",
		Source:     "dvcqg-2026",
		SourceDate: time.Date(2026, 3, 14, 9, 30, 15, 123456789, time.UTC),
		Attribution: knowledge.Attribution{By: "lan.tran", Unit: "UBND phường Bàn Cờ",
			At: time.Date(2026, 12, 7, 8, 15, 0, 123456000, time.UTC)},
	}
}

// requests returns the search requests that checkState and testSearch run over a catalog of dimension dim.
func requests(docs []knowledge.Doc, dim int, full bool) []knowledge.SearchRequest {
	texts := []string{"đăng ký khai sinh", "can cuoc", "cấp lại thẻ căn cước", "giấy phép lái xe", "kinh doanh",
		"đất", "cap giay", "trợ cấp thất nghiệp", "thủ tục hành chính xyz"}
	limits := []int{2, 10}
	if full {
		texts = append(texts, "")
		limits = []int{1, 2, 3, 5, 10, knowledge.MaxSearchK * 4}
	}
	vectors := [][]float32{nil}
	if dim > 0 {
		rng := rand.New(rand.NewPCG(1, uint64(dim)))
		vectors = append(vectors, RandomVector(rng, dim))
		if full {
			vectors = append(vectors, docs[len(docs)/3].Vector, scaled(RandomVector(rng, dim), 0.1))
		}
	}
	var out []knowledge.SearchRequest
	for _, text := range texts {
		terms := queryTerms(text)
		for _, v := range vectors {
			for _, l := range limits {
				out = append(out, knowledge.SearchRequest{Terms: terms, Vector: v, Limit: l})
			}
		}
	}
	if full { // weights other than 1, and a term repeated within the query
		terms := []knowledge.QueryTerm{{Term: "giay", Weight: 0.3}, {Term: "phep", Weight: 2}, {Term: "xe", Weight: 1.5},
			{Term: "dang_ky", Weight: 0.7}}
		for _, l := range limits {
			out = append(out, knowledge.SearchRequest{Terms: terms, Vector: vectors[len(vectors)-1], Limit: l})
		}
	}
	return out
}

// queryTerms analyses text like a question, without the lexicon: syllables weigh 1, bigrams 0.5.
func queryTerms(text string) []knowledge.QueryTerm {
	toks := knowledge.Syllables(text)
	var out []knowledge.QueryTerm
	for _, t := range toks {
		out = append(out, knowledge.QueryTerm{Term: t, Weight: 1})
	}
	for _, b := range knowledge.Bigrams(toks) {
		out = append(out, knowledge.QueryTerm{Term: b, Weight: 0.5})
	}
	return out
}

func scaled(v []float32, f float32) []float32 {
	out := make([]float32, len(v))
	for i := range v {
		out[i] = v[i] * f
	}
	return out
}

func apply(t *testing.T, s knowledge.Store, c knowledge.Change) {
	t.Helper()
	require.NoError(t, s.Apply(t.Context(), c))
}

// renamed returns d with a new name (and so new terms and hash) and a new vector.
func renamed(d knowledge.Doc, name string, dim int) knowledge.Doc {
	p := d.Procedure
	p.Name = name
	rng := rand.New(rand.NewPCG(uint64(len(name)), 3))
	return knowledge.NewDoc(p, nil, RandomVector(rng, dim))
}

func withVectors(docs []knowledge.Doc, dim int, seed uint64) []knowledge.Doc {
	rng := rand.New(rand.NewPCG(seed, 5))
	out := make([]knowledge.Doc, len(docs))
	for i, d := range docs {
		d.Vector = RandomVector(rng, dim)
		out[i] = d
	}
	return out
}

func without(docs []knowledge.Doc, codes ...string) []knowledge.Doc {
	return slices.DeleteFunc(slices.Clone(docs), func(d knowledge.Doc) bool {
		return slices.Contains(codes, d.Procedure.Code)
	})
}

// replace returns docs with each of ds replacing the doc of the same code, or added.
func replace(docs []knowledge.Doc, ds ...knowledge.Doc) []knowledge.Doc {
	out := slices.Clone(docs)
	for _, d := range ds {
		i := slices.IndexFunc(out, func(x knowledge.Doc) bool { return x.Procedure.Code == d.Procedure.Code })
		if i >= 0 {
			out[i] = d
		} else {
			out = append(out, d)
		}
	}
	return out
}

func codes(docs []knowledge.Doc) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.Procedure.Code
	}
	return out
}

// checkState checks everything a store returns against docs and meta.
func checkState(t *testing.T, s knowledge.Store, docs []knowledge.Doc, meta knowledge.Meta) {
	t.Helper()
	ctx := t.Context()
	want := make([]knowledge.Procedure, len(docs))
	hashes := map[string]string{}
	for i, d := range docs {
		want[i] = d.Procedure
		hashes[d.Procedure.Code] = d.Hash
	}
	slices.SortFunc(want, func(a, b knowledge.Procedure) int { return strings.Compare(a.Code, b.Code) })
	list, err := s.List(ctx)
	require.NoError(t, err)
	if len(want) == 0 {
		assert.Empty(t, list)
	} else {
		assert.Equal(t, want, list, "List")
	}
	h, err := s.Hashes(ctx)
	require.NoError(t, err)
	if len(hashes) == 0 {
		assert.Empty(t, h)
	} else {
		assert.Equal(t, hashes, h, "Hashes")
	}
	m, err := s.Meta(ctx)
	require.NoError(t, err)
	assert.Equal(t, meta, m, "Meta")
	for _, p := range want {
		got, err := s.Get(ctx, p.Code)
		if assert.NoError(t, err, "Get %s", p.Code) {
			assert.Equal(t, p, got, "Get %s", p.Code)
		}
	}
	for _, r := range requests(docs, meta.Dim, false) {
		search(t, s, docs, r)
	}
}

// search runs r on s and checks the answer against the reference over docs.
func search(t *testing.T, s knowledge.Store, docs []knowledge.Doc, r knowledge.SearchRequest) {
	t.Helper()
	got, err := s.Search(t.Context(), r)
	if assert.NoError(t, err, describe(r)) {
		checkSearch(t, docs, r, got)
	}
}

func describe(r knowledge.SearchRequest) string {
	var b strings.Builder
	b.WriteString("search [")
	for i, q := range r.Terms {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%g", q.Term, q.Weight)
	}
	fmt.Fprintf(&b, "] vector dim %d limit %d", len(r.Vector), r.Limit)
	return b.String()
}

// selection is what the contract allows in one of the two lists. When several documents tie (within float
// rounding) at the cut-off, any of them may fill the remaining places, unless they are indistinguishable
// (same inputs to the score), in which case the code order decides.
type selection struct {
	required map[string]bool
	optional map[string]bool // near-ties at the cut-off
	size     int             // the list's length
}

func (s *scores) selection(score []float64, keep func(int) bool, limit int, tol func(float64) float64,
	sig func(int) string) selection {
	idx := s.order(score, keep)
	sel := selection{required: map[string]bool{}, optional: map[string]bool{}, size: min(limit, len(idx))}
	if len(idx) <= limit {
		for _, i := range idx {
			sel.required[s.docs[i].Procedure.Code] = true
		}
		return sel
	}
	cut := score[idx[limit-1]]
	var group []int
	for _, i := range idx {
		switch {
		case score[i] > cut+tol(cut):
			sel.required[s.docs[i].Procedure.Code] = true
		case math.Abs(score[i]-cut) <= tol(cut):
			group = append(group, i)
		}
	}
	need := sel.size - len(sel.required)
	same := true
	for _, i := range group {
		same = same && sig(i) == sig(group[0])
	}
	for k, i := range group {
		switch {
		case !same:
			sel.optional[s.docs[i].Procedure.Code] = true
		case k < need: // indistinguishable: equal scores, so group is in code order
			sel.required[s.docs[i].Procedure.Code] = true
		}
	}
	return sel
}

// reporter is the part of testing.T that checkSearch uses.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// checkSearch checks a store's answer to r against the reference over docs.
func checkSearch(t reporter, docs []knowledge.Doc, r knowledge.SearchRequest, got []knowledge.Candidate) bool {
	t.Helper()
	what := describe(r)
	ok := true
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: "+format, append([]any{what}, args...)...)
		ok = false
	}
	s := scoreAll(docs, r)
	byCode := make(map[string]int, len(docs))
	for i, d := range docs {
		byCode[d.Procedure.Code] = i
	}
	gotAll := map[string]bool{}
	gotLex := map[string]bool{}
	for j, c := range got {
		if j > 0 && c.Code <= got[j-1].Code {
			fail("candidates not in strictly ascending code order: %q after %q", c.Code, got[j-1].Code)
		}
		if _, known := byCode[c.Code]; !known {
			fail("unknown code %q", c.Code)
		}
		gotAll[c.Code] = true
		if c.Lexical != 0 {
			gotLex[c.Code] = true
		}
	}
	if !ok {
		return false
	}

	lexSig := func(i int) string {
		d := docs[i]
		tf := make([]float64, len(r.Terms))
		for k, q := range r.Terms {
			tf[k] = d.Terms[q.Term]
		}
		return fmt.Sprint(tf, d.Len)
	}
	lex := s.selection(s.lexical, func(i int) bool { return s.lexical[i] > 0 }, r.Limit,
		func(x float64) float64 { return 1e-6*math.Abs(x) + 1e-12 }, lexSig)
	for code := range lex.required {
		if !gotLex[code] {
			fail("lexical list misses %s (score %g)", code, s.lexical[byCode[code]])
		}
	}
	for code := range gotLex {
		if !lex.required[code] && !lex.optional[code] {
			fail("%s is not in the lexical list (score %g) but has Lexical %g", code, s.lexical[byCode[code]],
				got[slices.IndexFunc(got, func(c knowledge.Candidate) bool { return c.Code == code })].Lexical)
		}
	}
	if len(gotLex) != lex.size {
		fail("lexical list has %d candidates, want %d", len(gotLex), lex.size)
	}

	if len(r.Vector) > 0 {
		dense := s.selection(s.dense, func(int) bool { return true }, r.Limit,
			func(float64) float64 { return 1e-5 }, func(i int) string { return fmt.Sprint(docs[i].Vector) })
		for code := range dense.required {
			if !gotAll[code] {
				fail("dense list misses %s (cosine %g)", code, s.dense[byCode[code]])
			}
		}
		n := 0
		for _, c := range got {
			switch {
			case dense.required[c.Code] || dense.optional[c.Code]:
				n++
			case !gotLex[c.Code]:
				fail("%s is in neither list (lexical %g, cosine %g)", c.Code, s.lexical[byCode[c.Code]],
					s.dense[byCode[c.Code]])
			}
		}
		if n < dense.size {
			fail("only %d candidates can be from the dense list, want %d", n, dense.size)
		}
	} else if len(gotLex) != len(got) {
		fail("%d candidates with Lexical 0 and no query vector", len(got)-len(gotLex))
	}

	for _, c := range got {
		i := byCode[c.Code]
		d := docs[i]
		if c.Name != d.Procedure.Name {
			fail("%s: Name %q, want %q", c.Code, c.Name, d.Procedure.Name)
		}
		if !slices.Equal(c.Levels, d.Procedure.Levels) {
			fail("%s: Levels %v, want %v", c.Code, c.Levels, d.Procedure.Levels)
		}
		if m := s.matched(i); !slices.Equal(c.Matched, m) {
			fail("%s: Matched %q, want %q", c.Code, c.Matched, m)
		}
		if c.Lexical != 0 && math.Abs(c.Lexical-s.lexical[i]) > 1e-4*math.Abs(s.lexical[i])+1e-9 {
			fail("%s: Lexical %.9g, want %.9g", c.Code, c.Lexical, s.lexical[i])
		}
		if math.Abs(c.Dense-s.dense[i]) > 1e-4*math.Abs(s.dense[i])+1e-5 {
			fail("%s: Dense %.9g, want %.9g", c.Code, c.Dense, s.dense[i])
		}
	}
	return ok
}

func testEmpty(t *testing.T, s knowledge.Store) {
	ctx := t.Context()
	checkState(t, s, nil, knowledge.Meta{})
	_, err := s.Get(ctx, "1.000001")
	assert.ErrorIs(t, err, knowledge.ErrNotFound)
	got, err := s.Search(ctx, knowledge.SearchRequest{Terms: queryTerms("đăng ký khai sinh"),
		Vector: RandomVector(rand.New(rand.NewPCG(1, 2)), 8), Limit: 10})
	assert.NoError(t, err)
	assert.Empty(t, got)
	_, err = s.Search(ctx, knowledge.SearchRequest{Terms: queryTerms("khai sinh"), Limit: 0})
	assert.ErrorIs(t, err, knowledge.ErrInvalid)

	// An empty change, and deleting what is not there, are not errors.
	apply(t, s, knowledge.Change{})
	apply(t, s, knowledge.Change{Delete: []string{"1.000001"}, Reset: true})
	checkState(t, s, nil, knowledge.Meta{})
}

func testRoundTrip(t *testing.T, s knowledge.Store) {
	ctx := t.Context()
	meta := knowledge.Meta{Embedder: "hash-v1", Dim: 8}
	full := knowledge.NewDoc(fullProcedure(), nil, RandomVector(rand.New(rand.NewPCG(3, 4)), 8))
	docs := append(catalog(8), full)
	apply(t, s, knowledge.Change{Upsert: docs, Meta: &meta})
	got, err := s.Get(ctx, full.Procedure.Code)
	require.NoError(t, err)
	assert.Equal(t, fullProcedure(), got)
	assert.True(t, got.SourceDate.Equal(fullProcedure().SourceDate))

	// What a caller does to a record it got changes nothing in the store.
	require.NotEmpty(t, got.Channels)
	require.NotEmpty(t, got.Channels[0].Fees)
	require.NotEmpty(t, got.Dossier)
	got.Channels[0].Fees[0].Amount++
	got.Dossier[0].Name = "đã sửa"
	got.Aliases = append(got.Aliases[:0], "đã sửa")
	again, err := s.Get(ctx, full.Procedure.Code)
	require.NoError(t, err)
	assert.Equal(t, fullProcedure(), again, "Get hands out a copy")
	all, err := s.List(ctx)
	require.NoError(t, err)
	for i := range all {
		for j := range all[i].Dossier {
			all[i].Dossier[j].Name = "đã sửa"
		}
	}
	again, err = s.Get(ctx, full.Procedure.Code)
	require.NoError(t, err)
	assert.Equal(t, fullProcedure(), again, "List hands out copies")
	checkState(t, s, docs, meta)
	search(t, s, docs, knowledge.SearchRequest{Terms: queryTerms("đăng ký HTX hợp tác xã"), Vector: full.Vector, Limit: 5})
}

func testApply(t *testing.T, s knowledge.Store) {
	ctx := t.Context()
	docs := catalog(8)
	meta := knowledge.Meta{Embedder: "test-v1", Dim: 8}

	apply(t, s, knowledge.Change{Upsert: docs[:10], Meta: &meta})
	want := slices.Clone(docs[:10])
	checkState(t, s, want, meta)

	// Upsert replaces by code; a change without Meta keeps it.
	changed := renamed(docs[3], "Đăng ký kết hôn có yếu tố nước ngoài", 8)
	require.NotEqual(t, docs[3].Hash, changed.Hash)
	apply(t, s, knowledge.Change{Upsert: []knowledge.Doc{changed}})
	want = replace(want, changed)
	checkState(t, s, want, meta)

	// Delete by code; deleting an absent code is not an error.
	apply(t, s, knowledge.Change{Delete: []string{docs[5].Procedure.Code, "9.999999"}})
	want = without(want, docs[5].Procedure.Code)
	_, err := s.Get(ctx, docs[5].Procedure.Code)
	assert.ErrorIs(t, err, knowledge.ErrNotFound)
	checkState(t, s, want, meta)

	// Upsert and Delete together, and Meta replaced.
	meta2 := knowledge.Meta{Embedder: "test-v1.1", Dim: 8}
	apply(t, s, knowledge.Change{Upsert: docs[10:20], Delete: []string{docs[0].Procedure.Code, docs[1].Procedure.Code},
		Meta: &meta2})
	want = replace(without(want, docs[0].Procedure.Code, docs[1].Procedure.Code), docs[10:20]...)
	checkState(t, s, want, meta2)

	// An upsert back to the original content, a re-delete, and an empty change.
	apply(t, s, knowledge.Change{Upsert: []knowledge.Doc{docs[3], docs[0]}, Delete: []string{docs[1].Procedure.Code}})
	want = replace(want, docs[3], docs[0])
	apply(t, s, knowledge.Change{})
	checkState(t, s, want, meta2)

	// Everything in, in one change.
	apply(t, s, knowledge.Change{Upsert: docs})
	checkState(t, s, docs, meta2)
}

func testReset(t *testing.T, s knowledge.Store) {
	ctx := t.Context()
	docs := catalog(8)
	meta := knowledge.Meta{Embedder: "test-v1", Dim: 8}
	apply(t, s, knowledge.Change{Upsert: docs, Meta: &meta})
	checkState(t, s, docs, meta)

	// A new embedder with another dimension: Reset keeps only the upserted documents.
	meta2 := knowledge.Meta{Embedder: "test-v2", Dim: 4}
	docs2 := withVectors(docs[5:12], 4, 7)
	apply(t, s, knowledge.Change{Upsert: docs2, Meta: &meta2, Reset: true})
	checkState(t, s, docs2, meta2)
	_, err := s.Search(ctx, knowledge.SearchRequest{Terms: queryTerms("khai sinh"), Vector: docs[0].Vector, Limit: 5})
	assert.ErrorIs(t, err, knowledge.ErrInvalid, "a query vector of the old dimension")

	// Reset with the same embedder; deleting in the same change is harmless.
	docs3 := withVectors(docs[:3], 4, 8)
	apply(t, s, knowledge.Change{Upsert: docs3, Reset: true, Delete: []string{docs[6].Procedure.Code}})
	checkState(t, s, docs3, meta2)

	// Reset alone empties the store and keeps the meta.
	apply(t, s, knowledge.Change{Reset: true})
	checkState(t, s, nil, meta2)
	got, err := s.Search(ctx, knowledge.SearchRequest{Terms: queryTerms("khai sinh"), Vector: docs3[0].Vector, Limit: 5})
	assert.NoError(t, err)
	assert.Empty(t, got)

	// And it fills again.
	apply(t, s, knowledge.Change{Upsert: withVectors(docs, 4, 9)})
	checkState(t, s, withVectors(docs, 4, 9), meta2)
}

func testInvalid(t *testing.T, s knowledge.Store) {
	ctx := t.Context()
	docs := catalog(8)
	meta := knowledge.Meta{Embedder: "test-v1", Dim: 8}
	apply(t, s, knowledge.Change{Upsert: docs, Meta: &meta})

	bad := docs[4]
	bad.Vector = bad.Vector[:7]
	noCode := docs[8]
	noCode.Procedure.Code = ""
	changes := map[string]knowledge.Change{
		"wrong dimension last": {
			Upsert: []knowledge.Doc{renamed(docs[2], "Đăng ký khai sinh có yếu tố nước ngoài", 8), docs[9], bad},
			Delete: []string{docs[3].Procedure.Code, docs[4].Procedure.Code},
			Meta:   &knowledge.Meta{Embedder: "other", Dim: 8},
		},
		"wrong dimension first": {Upsert: []knowledge.Doc{bad, renamed(docs[2], "Khai sinh", 8)}},
		"wrong dimension for the new meta": {
			Upsert: docs[:5], Meta: &knowledge.Meta{Embedder: "test-v2", Dim: 4}, Reset: true,
		},
		"no vector":         {Upsert: []knowledge.Doc{withVectors(docs[1:2], 0, 1)[0]}},
		"no code":           {Upsert: []knowledge.Doc{docs[0], noCode}, Delete: []string{docs[1].Procedure.Code}},
		"with reset":        {Upsert: []knowledge.Doc{docs[0], bad}, Reset: true},
		"negative meta dim": {Meta: &knowledge.Meta{Embedder: "broken", Dim: -1}, Reset: true},
	}
	for name, c := range changes {
		err := s.Apply(ctx, c)
		assert.ErrorIs(t, err, knowledge.ErrInvalid, name)
	}
	checkState(t, s, docs, meta)

	for _, limit := range []int{0, -1, knowledge.MaxSearchK*4 + 1} {
		_, err := s.Search(ctx, knowledge.SearchRequest{Terms: queryTerms("khai sinh"), Limit: limit})
		assert.ErrorIs(t, err, knowledge.ErrInvalid, "limit %d", limit)
	}
	_, err := s.Search(ctx, knowledge.SearchRequest{Terms: queryTerms("khai sinh"), Vector: make([]float32, 7), Limit: 5})
	assert.ErrorIs(t, err, knowledge.ErrInvalid, "query vector of dimension 7")
	_, err = s.Get(ctx, "")
	assert.ErrorIs(t, err, knowledge.ErrNotFound)
}

func testSearch(t *testing.T, s knowledge.Store) {
	docs := catalog(8)
	meta := knowledge.Meta{Embedder: "test-v1", Dim: 8}
	// Two changes, so that statistics are maintained incrementally too.
	apply(t, s, knowledge.Change{Upsert: docs[:17], Meta: &meta})
	apply(t, s, knowledge.Change{Upsert: docs[17:]})
	for _, r := range requests(docs, 8, true) {
		search(t, s, docs, r)
	}
	// A query vector equal to a document's vector finds it first with cosine 1.
	got, err := s.Search(t.Context(), knowledge.SearchRequest{Vector: docs[11].Vector, Limit: 1})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, docs[11].Procedure.Code, got[0].Code)
	assert.InDelta(t, 1, got[0].Dense, 1e-5)
	assert.Zero(t, got[0].Lexical)
	assert.Empty(t, got[0].Matched)
}

func testTies(t *testing.T, s knowledge.Store) {
	ctx := t.Context()
	docs := catalog(8)
	meta := knowledge.Meta{Embedder: "test-v1", Dim: 8}
	apply(t, s, knowledge.Change{Upsert: docs, Meta: &meta})
	first, second := docs[dupOf].Procedure.Code, docs[dup].Procedure.Code
	if second < first {
		first, second = second, first
	}
	// Lexical: the two copies score the same and best; Limit 1 keeps the smaller code.
	got, err := s.Search(ctx, knowledge.SearchRequest{Terms: queryTerms("cấp lại thẻ căn cước"), Limit: 1})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, first, got[0].Code)
	got, err = s.Search(ctx, knowledge.SearchRequest{Terms: queryTerms("cấp lại thẻ căn cước"), Limit: 2})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, []string{first, second}, []string{got[0].Code, got[1].Code})
	assert.Equal(t, got[0].Lexical, got[1].Lexical)
	// Dense: the same vector.
	got, err = s.Search(ctx, knowledge.SearchRequest{Vector: docs[dup].Vector, Limit: 1})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, first, got[0].Code)
	// Both lists at once: the union has no duplicates.
	got, err = s.Search(ctx, knowledge.SearchRequest{Terms: queryTerms("cấp lại thẻ căn cước"), Vector: docs[dup].Vector,
		Limit: 1})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, first, got[0].Code)
	assert.NotZero(t, got[0].Lexical)
	assert.InDelta(t, 1, got[0].Dense, 1e-5)
	assert.Equal(t, []string{"cap", "lai", "the", "can", "cuoc", "cap_lai", "lai_the", "the_can", "can_cuoc"},
		got[0].Matched)
}

func testLexicalOnly(t *testing.T, s knowledge.Store) {
	docs := catalog(0)
	apply(t, s, knowledge.Change{Upsert: docs})
	checkState(t, s, docs, knowledge.Meta{})
	for _, r := range requests(docs, 0, true) {
		search(t, s, docs, r)
	}
	_, err := s.Search(t.Context(), knowledge.SearchRequest{Terms: queryTerms("khai sinh"), Vector: make([]float32, 8),
		Limit: 5})
	assert.ErrorIs(t, err, knowledge.ErrInvalid, "a query vector for an index without vectors")
}

func testBulk(t *testing.T, s knowledge.Store) {
	docs := SyntheticDocs(1500, 8, 1)
	meta := knowledge.Meta{Embedder: "test-v1", Dim: 8}
	apply(t, s, knowledge.Change{Upsert: docs, Meta: &meta})
	check := func(docs []knowledge.Doc, seed uint64) {
		t.Helper()
		for _, r := range SyntheticQueries(docs, 40, 10+int(seed), seed) {
			search(t, s, docs, r)
		}
	}
	check(docs, 1)

	// Replace a tenth, delete a tenth.
	more := SyntheticDocs(1650, 8, 2)
	var upsert []knowledge.Doc
	var del []string
	for i := 0; i < 1650; i += 10 {
		upsert = append(upsert, more[i])
		if i+5 < len(docs) {
			del = append(del, docs[i+5].Procedure.Code)
		}
	}
	apply(t, s, knowledge.Change{Upsert: upsert, Delete: del})
	docs = replace(without(docs, del...), upsert...)
	check(docs, 2)

	// A new embedder over a part of the catalog.
	meta2 := knowledge.Meta{Embedder: "test-v2", Dim: 12}
	docs = withVectors(docs[200:900], 12, 3)
	apply(t, s, knowledge.Change{Upsert: docs, Meta: &meta2, Reset: true})
	list, err := s.List(t.Context())
	require.NoError(t, err)
	assert.Equal(t, len(docs), len(list))
	check(docs, 3)
}

// testConcurrent runs searches and lists while a writer switches the store between two catalogs that differ
// in size, names and statistics: every answer must come wholly from one of them.
func testConcurrent(t *testing.T, s knowledge.Store) {
	ctx := t.Context()
	base := catalog(8)
	meta := knowledge.Meta{Embedder: "test-v1", Dim: 8}
	gen := func(suffix string, n int) []knowledge.Doc {
		out := make([]knowledge.Doc, n)
		for i := range out {
			out[i] = base[i]
			out[i].Procedure.Name += suffix
			out[i].Hash += suffix
		}
		return out
	}
	even, odd := gen(" #0", len(base)), gen(" #1", 20)
	toOdd := knowledge.Change{Upsert: odd, Delete: codes(base[20:])}
	toEven := knowledge.Change{Upsert: even}
	apply(t, s, knowledge.Change{Upsert: even, Meta: &meta})

	rng := rand.New(rand.NewPCG(9, 9))
	reqs := []knowledge.SearchRequest{
		{Terms: queryTerms("đăng ký khai sinh"), Vector: RandomVector(rng, 8), Limit: 5},
		{Terms: queryTerms("cấp giấy phép"), Limit: 3},
		{Terms: queryTerms("thẻ căn cước"), Vector: RandomVector(rng, 8), Limit: 200},
	}
	catalogOf := func(name string) []knowledge.Doc {
		switch {
		case strings.HasSuffix(name, " #0"):
			return even
		case strings.HasSuffix(name, " #1"):
			return odd
		}
		return nil
	}

	var done atomic.Bool
	var searches atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !done.Load() || i < 10; i++ {
				if t.Failed() {
					return
				}
				if w == 0 && i%3 == 0 {
					list, err := s.List(ctx)
					if !assert.NoError(t, err) || !assert.NotEmpty(t, list) {
						return
					}
					want := catalogOf(list[0].Name)
					assert.Len(t, list, len(want), "List sees a part of a change")
					for _, p := range list {
						assert.Equal(t, catalogOf(list[0].Name), catalogOf(p.Name), "List sees a part of a change")
					}
					continue
				}
				r := reqs[(w+i)%len(reqs)]
				got, err := s.Search(ctx, r)
				if !assert.NoError(t, err) || !assert.NotEmpty(t, got, describe(r)) {
					return
				}
				searches.Add(1)
				want := catalogOf(got[0].Name)
				for _, c := range got {
					if !assert.NotNil(t, want) || !assert.Equal(t, want, catalogOf(c.Name), "%s: a part of a change", describe(r)) {
						return
					}
				}
				checkSearch(t, want, r, got)
			}
		})
	}
	var applyErr error
	for i := range 20 {
		c := toOdd
		if i%2 == 1 {
			c = toEven
		}
		if err := s.Apply(ctx, c); err != nil {
			applyErr = err
			break
		}
		time.Sleep(time.Millisecond)
	}
	done.Store(true)
	wg.Wait()
	require.NoError(t, applyErr)
	t.Logf("%d searches during 20 changes", searches.Load())
	checkState(t, s, even, meta)
}
