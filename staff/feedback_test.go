package staff_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/memconv"
	"github.com/trolyao/trolyao/staff"
)

type queue struct {
	Groups []staff.Group `json:"groups"`
}

// queueEnv is a service over the small catalog with citizens' conversations in memory, a logged-in client of
// role, at(h) the time h hours from the service's now, and say, which stores a question and the assistant's
// answer a in conversation id at when and returns the answer's message ID.
func queueEnv(t *testing.T, role staff.Role) (c *client, convs *memconv.Conversations, at func(h int) time.Time,
	say func(id, q string, when time.Time, a knowledge.Message) int64) {
	convs = memconv.New()
	e := newEnv(t, smallStore(t), nil, convs)
	e.addUser("lan", role)
	now := e.clock.Now()
	at = func(h int) time.Time { return now.Add(time.Duration(h) * time.Hour) }
	say = func(id, q string, when time.Time, a knowledge.Message) int64 {
		a.Role, a.At = "assistant", when
		got, err := convs.Append(t.Context(), id, knowledge.DialogueState{}, knowledge.Message{Role: "user", Text: q, At: when}, a)
		require.NoError(t, err)
		return got[1].ID
	}
	return e.login("lan"), convs, at, say
}

func TestUnanswered(t *testing.T) {
	c, convs, at, say := queueEnv(t, staff.RoleEditor)
	ctx := t.Context()
	say("a", "Làm giấy chào đời cho con?", at(-50), knowledge.Message{Text: "Xin lỗi…", Abstain: true})
	say("b", "lam giay chao doi cho con", at(-40), knowledge.Message{Text: "Xin lỗi…", Abstain: true})
	say("c", "Số tôi 0912 345 678, làm căn cước", at(-30), knowledge.Message{Text: "Có thể…", Codes: []string{"1.000002"}, Confidence: 0.3})
	id := say("d", "Số tôi 0987.654.321 làm căn cước", at(-20), knowledge.Message{Text: "Cần…", Codes: []string{"1.000002"}, Confidence: 0.9})
	require.NoError(t, convs.Feedback(ctx, "d", id, -1))
	say("e", "Đăng ký tạm trú", at(-10), knowledge.Message{Text: "Cần…", Codes: []string{"1.000003"}, Confidence: 0.95})

	var q queue
	res := c.do("GET", "/unanswered", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res.json(t, &q)
	require.Len(t, q.Groups, 2)
	byKey := map[string]staff.Group{}
	for _, g := range q.Groups {
		byKey[g.Key] = g
	}
	chao := byKey["lam giay chao doi cho con"]
	assert.Equal(t, 2, chao.Count)
	assert.Equal(t, 2, chao.Abstained)
	assert.Equal(t, at(-50), chao.FirstAt)
	assert.Equal(t, at(-40), chao.LastAt)
	assert.Len(t, chao.Examples, 2)
	cc := byKey[staff.QuestionKey("Số tôi 0912 345 678, làm căn cước")]
	assert.Equal(t, 2, cc.Count, "questions differing only in a phone number fall together")
	assert.Equal(t, 1, cc.LowConfidence)
	assert.Equal(t, 1, cc.ThumbsDown)
	assert.Equal(t, []string{"1.000002"}, cc.Codes)
	for _, ex := range append(cc.Examples, cc.Question) {
		assert.NotRegexp(t, `\d{3}`, ex, "phone numbers are redacted")
		assert.Contains(t, ex, "[SĐT]")
	}
	assert.NotContains(t, string(res.body), "0912")

	c.do("GET", "/unanswered?by=procedure", nil).json(t, &q)
	require.Len(t, q.Groups, 2)
	for _, g := range q.Groups {
		switch g.Key {
		case "1.000002":
			assert.Equal(t, "Cấp lại thẻ căn cước", g.Name)
			assert.Equal(t, 2, g.Count)
		case "":
			assert.Equal(t, 2, g.Abstained)
		default:
			t.Errorf("unexpected group %q", g.Key)
		}
	}

	// Handled: it leaves the open queue until it recurs.
	res = c.do("POST", "/unanswered/handled", map[string]string{"by": "question", "key": chao.Key})
	require.Equal(t, http.StatusNoContent, res.status, "%s", res.body)
	c.do("GET", "/unanswered", nil).json(t, &q)
	require.Len(t, q.Groups, 1)
	assert.Equal(t, cc.Key, q.Groups[0].Key)
	c.do("GET", "/unanswered?status=handled", nil).json(t, &q)
	require.Len(t, q.Groups, 1)
	assert.Equal(t, chao.Key, q.Groups[0].Key)
	assert.Equal(t, "lan", q.Groups[0].HandledBy)
	c.do("GET", "/unanswered?by=procedure", nil).json(t, &q)
	assert.Len(t, q.Groups, 2, "handled by question does not hide the procedure view")

	say("f", "Làm giấy chào đời cho con ạ", at(1), knowledge.Message{Text: "Xin lỗi…", Abstain: true})
	c.do("GET", "/unanswered", nil).json(t, &q)
	keys := []string{}
	for _, g := range q.Groups {
		keys = append(keys, g.Key)
	}
	assert.Contains(t, keys, "lam giay chao doi cho con a", "a new phrasing is its own group")
	c.do("GET", "/unanswered?status=all", nil).json(t, &q)
	assert.Len(t, q.Groups, 3)

	say("g", "làm giấy chào đời cho con", at(2), knowledge.Message{Text: "Xin lỗi…", Abstain: true})
	c.do("GET", "/unanswered", nil).json(t, &q)
	found := false
	for _, g := range q.Groups {
		if g.Key == chao.Key {
			found = true
			assert.Equal(t, 3, g.Count)
			assert.NotNil(t, g.HandledAt)
		}
	}
	assert.True(t, found, "the handled group is back once it recurs")

	assert.Equal(t, http.StatusBadRequest, c.do("GET", "/unanswered?by=x", nil).status)
	assert.Equal(t, http.StatusBadRequest, c.do("GET", "/unanswered?since=yesterday", nil).status)
}

// TestLinkAndSynonym: linking a question to a procedure makes retrieval rank it first for that question; a
// synonym makes a query using it find the procedure.
func TestLinkAndSynonym(t *testing.T) {
	st := realStore(t)
	s := &knowledge.Searcher{Store: st, Embedder: knowledge.HashEmbedder{}, Weights: knowledge.DefaultWeights,
		Lexicon: &knowledge.Lexicon{}}
	e := newEnv(t, st, nil, nil, func(o *staff.Options) { o.Lexicon = s.Lexicon })
	e.addUser("lan", staff.RoleEditor)
	c := e.login("lan")
	ctx := t.Context()
	top := func(q string) string {
		t.Helper()
		r, err := s.Search(ctx, q, 5)
		require.NoError(t, err)
		require.NotEmpty(t, r.Hits, q)
		return r.Hits[0].Code
	}

	// Link.
	target := top("đăng ký khai sinh")
	question := "thủ tục cho em bé mới chào đời"
	require.NotEqual(t, target, top(question), "precondition: retrieval misses it")
	res := c.do("POST", "/unanswered/link", map[string]string{"question": question, "code": target})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var v staff.Version
	res.json(t, &v)
	assert.Equal(t, staff.ActionAlias, v.Action)
	assert.Equal(t, 2, v.Version, "version 1 is the catalog's record")
	var first staff.Version
	c.do("GET", "/procedures/"+target+"/versions/1", nil).json(t, &first)
	assert.Equal(t, staff.ActionCatalog, first.Action)
	require.NotNil(t, first.Procedure)
	assert.Empty(t, first.Procedure.Aliases)
	assert.Equal(t, target, top(question), "the linked question now finds the procedure first")
	p, err := st.Get(ctx, target)
	require.NoError(t, err)
	assert.Contains(t, p.Aliases, question)
	res = c.do("POST", "/unanswered/link", map[string]string{"question": "Thủ tục cho em bé mới chào đời!", "code": target})
	require.Equal(t, http.StatusOK, res.status)
	p, err = st.Get(ctx, target)
	require.NoError(t, err)
	assert.Len(t, p.Aliases, 1, "the same question is not added twice")
	hs, err := e.repo.Handled(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, hs)
	assert.Equal(t, staff.QuestionKey(question), hs[0].Key)
	assert.Equal(t, http.StatusNotFound, c.do("POST", "/unanswered/link", map[string]string{"question": "x", "code": "9.999999"}).status)

	// Synonym.
	want := top("cấp lại giấy phép lái xe")
	query := "cấp lại blx"
	require.NotEqual(t, want, top(query), "precondition: the query does not find it")
	res = c.do("POST", "/synonyms", map[string]string{"phrase": "BLX", "to": "giấy phép lái xe"})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	var syn staff.Synonym
	res.json(t, &syn)
	assert.Equal(t, want, top(query), "the synonym is applied at once")
	var list struct{ Items []staff.Synonym }
	c.do("GET", "/synonyms", nil).json(t, &list)
	require.Len(t, list.Items, 1)
	assert.Equal(t, "lan", list.Items[0].By)
	res = c.do("POST", "/synonyms", map[string]string{"phrase": "", "to": "x"})
	assert.Equal(t, http.StatusUnprocessableEntity, res.status)
	res = c.do("POST", "/synonyms", map[string]string{"phrase": strings.Repeat("a ", 80), "to": "x"})
	assert.Equal(t, http.StatusUnprocessableEntity, res.status)

	require.Equal(t, http.StatusNoContent, c.do("DELETE", "/synonyms/"+strconv.FormatInt(syn.ID, 10), nil).status)
	assert.NotEqual(t, want, top(query), "removing it takes it back")
}

// TestAssistantFeedsQueue: the assistant records its confidence on stored answers, and its abstentions,
// low-confidence answers and thumbs-down answers reach the queue.
func TestAssistantFeedsQueue(t *testing.T) {
	st := realStore(t)
	convs := memconv.New()
	e := newEnv(t, st, nil, convs)
	e.addUser("lan", staff.RoleViewer)
	c := e.login("lan")
	ctx := t.Context()
	a := newAssistant(st, convs)
	a.Now = func() time.Time { return e.clock.Now().Add(-time.Hour) }

	good, err := a.Reply(ctx, "a", "Mất thẻ căn cước thì làm lại ở đâu?", nil)
	require.NoError(t, err)
	require.False(t, good.Abstained)
	conv, err := convs.Load(ctx, "a")
	require.NoError(t, err)
	require.Len(t, conv.Messages, 2)
	assert.Equal(t, good.Confidence, conv.Messages[1].Confidence, "the stored answer carries the retrieval confidence")
	assert.Greater(t, conv.Messages[1].Confidence, 0.0)

	var q queue
	c.do("GET", "/unanswered?status=all", nil).json(t, &q)
	assert.Empty(t, q.Groups, "a confident answer is not queued")

	require.NoError(t, convs.Feedback(ctx, "a", good.MessageID, -1))
	bad, err := a.Reply(ctx, "b", "con mèo nhà tôi bị lạc mất rồi", nil)
	require.NoError(t, err)
	require.True(t, bad.Abstained || bad.Confidence < staff.DefaultLowConfidence, "%+v", bad)

	c.do("GET", "/unanswered", nil).json(t, &q)
	keys := map[string]staff.Group{}
	for _, g := range q.Groups {
		keys[g.Key] = g
	}
	require.Contains(t, keys, staff.QuestionKey("Mất thẻ căn cước thì làm lại ở đâu?"))
	assert.Equal(t, 1, keys[staff.QuestionKey("Mất thẻ căn cước thì làm lại ở đâu?")].ThumbsDown)
	assert.Contains(t, keys, staff.QuestionKey("con mèo nhà tôi bị lạc mất rồi"))
}

// TestHandledKeyRedacted: a queue key sent by hand with a phone number is neither stored nor audited with it.
func TestHandledKeyRedacted(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	e.addUser("lan", staff.RoleEditor)
	e.addUser("root", staff.RoleAdmin)
	res := e.login("lan").do("POST", "/unanswered/handled", map[string]string{"by": "question", "key": "gọi 0901234567 giúp tôi"})
	require.Equal(t, http.StatusNoContent, res.status, "%s", res.body)

	hs, err := e.repo.Handled(t.Context())
	require.NoError(t, err)
	require.Len(t, hs, 1)
	assert.NotContains(t, hs[0].Key, "0901234567")
	var audit struct{ Items []staff.AuditEntry }
	e.login("root").do("GET", "/audit", nil).json(t, &audit)
	require.NotEmpty(t, audit.Items)
	for _, a := range audit.Items {
		assert.NotContains(t, a.Target+string(a.Details), "0901234567")
	}
	// A group key (redacted and folded already) is kept as it is.
	key := staff.QuestionKey("gọi 0901234567 giúp tôi")
	res = e.login("lan").do("POST", "/unanswered/handled", map[string]string{"by": "question", "key": key})
	require.Equal(t, http.StatusNoContent, res.status)
	hs, err = e.repo.Handled(t.Context())
	require.NoError(t, err)
	assert.True(t, slices.ContainsFunc(hs, func(h staff.Handled) bool { return h.Key == key }), "%v", hs)
}

// TestUnansweredAnswers: each queue group carries the answers citizens got (newest first, at most five), with
// the reason of a 👎 and the names of the cited procedures beside their codes; an answer stored before
// redaction is redacted on the way out.
func TestUnansweredAnswers(t *testing.T) {
	c, convs, at, say := queueEnv(t, staff.RoleViewer)
	ctx := t.Context()
	ask := func(id, q string, h int, a knowledge.Message) int64 { return say(id, q, at(h), a) }
	const q = "làm lại căn cước ở đâu"
	first := ask("a", q, -3, knowledge.Message{Text: "Cấp lại thẻ căn cước: nộp tại Công an xã. Gọi 0912345678.",
		Codes: []string{"1.000002", "1.000003"}, Confidence: 0.9})
	require.NoError(t, convs.FeedbackReason(ctx, "a", first, -1, knowledge.ReasonWrongFee))
	second := ask("b", q, -2, knowledge.Message{Text: "Thủ tục **Đăng ký tạm trú** …", Codes: []string{"1.000003"}, Confidence: 0.9})
	require.NoError(t, convs.FeedbackReason(ctx, "b", second, -1, knowledge.ReasonWrongProcedure))
	ask("c", q, -1, knowledge.Message{Text: "Xin lỗi, tôi chưa tìm được thủ tục phù hợp.", Abstain: true})
	for i := range 6 {
		ask(fmt.Sprintf("d%d", i), "xin giấy phép karaoke", -10-i, knowledge.Message{Text: fmt.Sprintf("Xin lỗi (%d).", i), Abstain: true})
	}

	var got queue
	res := c.do("GET", "/unanswered", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res.json(t, &got)
	require.Len(t, got.Groups, 2)
	g := got.Groups[1]
	if g.Count != 3 {
		g = got.Groups[0]
	}
	require.Equal(t, 3, g.Count)
	assert.Equal(t, []string{"1.000003", "1.000002"}, g.Codes, "the newest answer's first")
	assert.Equal(t, []string{"Đăng ký tạm trú", "Cấp lại thẻ căn cước"}, g.Names, "names beside the codes")
	assert.Equal(t, map[string]int{knowledge.ReasonWrongFee: 1, knowledge.ReasonWrongProcedure: 1}, g.Reasons)
	require.Len(t, g.Answers, 3)
	assert.Equal(t, "Xin lỗi, tôi chưa tìm được thủ tục phù hợp.", g.Answers[0].Answer, "newest first")
	assert.True(t, g.Answers[0].Abstained)
	assert.Equal(t, knowledge.ReasonWrongProcedure, g.Answers[1].Reason)
	assert.Equal(t, -1, g.Answers[1].Feedback)
	assert.Equal(t, []string{"1.000003"}, g.Answers[1].Codes)
	assert.Equal(t, "Thủ tục **Đăng ký tạm trú** …", g.Answers[1].Answer)
	assert.Equal(t, "Thủ tục Đăng ký tạm trú …", g.Answers[1].Plain)
	assert.Equal(t, knowledge.ReasonWrongFee, g.Answers[2].Reason)
	assert.Equal(t, "Cấp lại thẻ căn cước: nộp tại Công an xã. Gọi [SĐT].", g.Answers[2].Answer, "redacted")
	assert.Equal(t, g.Answers[2].Answer, g.Answers[2].Plain)
	assert.Equal(t, q, g.Answers[2].Question)
	assert.NotContains(t, string(res.body), "0912345678")
	other := got.Groups[0]
	if other.Count != 6 {
		other = got.Groups[1]
	}
	require.Equal(t, 6, other.Count)
	assert.Len(t, other.Answers, 5, "at most five answers")
	assert.Equal(t, "Xin lỗi (0).", other.Answers[0].Answer)
	assert.Nil(t, other.Reasons)

	c.do("GET", "/unanswered?by=procedure", nil).json(t, &got)
	for _, g := range got.Groups {
		if g.Code == "1.000003" {
			assert.Equal(t, "Đăng ký tạm trú", g.Name)
			require.Len(t, g.Answers, 1)
			assert.Equal(t, knowledge.ReasonWrongProcedure, g.Answers[0].Reason)
		}
	}
}
