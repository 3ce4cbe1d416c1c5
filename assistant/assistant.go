package assistant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// Assistant answers messages, one conversation at a time per id. It is safe for concurrent use across
// conversations; messages of one conversation must be sent in order (channels serialise them).
type Assistant struct {
	Searcher      *knowledge.Searcher
	Store         knowledge.Store
	Units         *knowledge.Units
	Conversations knowledge.Conversations
	Model         Model     // optional: nil answers offline only
	LLM           LLMConfig // timeouts of the model
	Logger        *slog.Logger
	// AbstainBelow is the retrieval confidence under which a new question is not answered with a procedure.
	AbstainBelow float64
	// ClarifyWithin: when the second candidate scores within this share of the first and is a different
	// procedure (not a level variant), the assistant asks which one is meant.
	ClarifyWithin float64
	Now           func() time.Time
}

// Defaults for the thresholds.
const (
	DefaultAbstainBelow  = 0.5
	DefaultClarifyWithin = 0.015
	maxOptions           = 5
	// uncertainShare of the abstain threshold: between it and the threshold the assistant asks instead of
	// answering; alsoOfferBelow: under this confidence an answer also lists the next candidates.
	uncertainShare = 0.7
	alsoOfferBelow = 0.85
)

// Errors a channel classifies for the user.
var (
	ErrEmpty   = errors.New("empty message")
	ErrTooLong = knowledge.ErrQueryTooLong
)

// Reply answers text in conversation conv. emit, when not nil, receives the streamed events (typing, deltas,
// the final answer); the final answer is also returned.
func (a *Assistant) Reply(ctx context.Context, conv, text string, emit func(Event)) (Answer, error) {
	if emit == nil {
		emit = func(Event) {}
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return Answer{}, ErrEmpty
	}
	if !utf8.ValidString(text) {
		return Answer{}, fmt.Errorf("assistant: %w: not valid UTF-8", knowledge.ErrInvalid)
	}
	if n := utf8.RuneCountInString(text); n > knowledge.MaxQueryRunes {
		return Answer{}, fmt.Errorf("assistant: %w: %d characters", ErrTooLong, n)
	}
	emit(Event{Kind: EventTyping})
	c, err := a.Conversations.Load(ctx, conv)
	if err != nil {
		return Answer{}, fmt.Errorf("assistant: %w", err)
	}
	st := c.State
	ans, recs, err := a.answer(ctx, &st, text)
	if err != nil {
		return Answer{}, err
	}
	ans.ConversationID = conv
	if a.Model != nil && len(recs) > 0 && !ans.Abstained && len(ans.Options) == 0 {
		ans = AnswerWithLLM(ctx, Bounded(a.Model, a.LLM), a.logger(), text, intentNames(ans.Intents), recs, ans, emit)
		ans.ConversationID = conv
	} else {
		emit(Event{Kind: EventDelta, Delta: ans.Text})
	}
	st.Turns++
	now := a.now()
	codes := make([]string, 0, len(ans.Citations))
	for _, c := range ans.Citations {
		codes = append(codes, c.Code)
	}
	for _, o := range ans.Options {
		codes = append(codes, o.Code)
	}
	stored, err := a.Conversations.Append(ctx, conv, st,
		knowledge.Message{Role: "user", Text: text, At: now, Channel: channelOf(ctx)},
		knowledge.Message{Role: "assistant", Text: ans.Text, Codes: codes, At: now, Abstain: ans.Abstained, Channel: channelOf(ctx),
			Confidence: ans.Confidence})
	if err != nil {
		return Answer{}, fmt.Errorf("assistant: %w", err)
	}
	if len(stored) == 2 {
		ans.MessageID = stored[1].ID
	}
	emit(Event{Kind: EventAnswer, Answer: &ans})
	return ans, nil
}

type channelKey struct{}

// WithChannel names the channel a message arrives on ("web", "zalo", "cli"); Reply stores it with the
// conversation's messages, so staff can tell where questions come from.
func WithChannel(ctx context.Context, channel string) context.Context {
	return context.WithValue(ctx, channelKey{}, channel)
}

func channelOf(ctx context.Context) string {
	s, _ := ctx.Value(channelKey{}).(string)
	return s
}

func (a *Assistant) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

func (a *Assistant) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func intentNames(is []Intent) []string {
	out := make([]string, len(is))
	for i, x := range is {
		out[i] = string(x)
	}
	return out
}

// answer decides what to say: a choice among pending options, a greeting, a refusal, a ward answer, a
// follow-up on the procedure in focus, a new procedure, a clarifying question, or an honest "I don't know".
func (a *Assistant) answer(ctx context.Context, st *knowledge.DialogueState, text string) (Answer, []knowledge.Procedure, error) {
	intents := DetectIntents(text)
	ans := Answer{Intents: intents, Source: "offline"}

	// 1. A choice among the options of a clarifying question.
	if code := a.choice(ctx, st, text); code != "" {
		p, err := a.Store.Get(ctx, code)
		if err == nil {
			prev := DetectIntents(st.Query)
			st.Focus, st.Pending = code, nil
			ans.Intents = mergeIntents(prev, intents)
			return a.procedureAnswer(&p, ans), []knowledge.Procedure{p}, nil
		}
	}
	st.Pending = nil

	// 2. Prompt injection: refuse, whatever else the message says.
	if has(intents, IntentInjection) {
		ans.Abstained = true
		ans.Text = "Xin lỗi, tôi chỉ hỗ trợ tra cứu thủ tục hành chính và không thể thay đổi cách làm việc của mình. " +
			"Bạn cần hỏi về thủ tục nào (ví dụ: đăng ký khai sinh, cấp lại căn cước)?"
		ans.Suggestions = starterSuggestions
		return ans, nil, nil
	}

	// 3. Old ward → new ward.
	if a.Units != nil {
		if ms, ok := a.Units.AsksAboutUnits(text); ok {
			ans.Intents = append(ans.Intents, IntentWard)
			ans.Text = knowledge.DescribeMatches(ms)
			return ans, nil, nil
		}
	}

	res, err := a.Searcher.Search(ctx, text, maxOptions*2)
	if err != nil {
		return Answer{}, nil, err
	}
	ans.Confidence = res.Confidence
	content := len(res.Query.Tokens) > 0
	confident := len(res.Hits) > 0 && res.Confidence >= a.abstainBelow()

	// 4. Greetings, thanks, off-topic: no procedure.
	smallTalk := (has(intents, IntentGreeting) || has(intents, IntentThanks)) && (smallTalkOnly(res.Query.Tokens) || !confident && !topical(intents))
	if smallTalk || has(intents, IntentOutOfScope) && !confident {
		ans.Abstained = true
		switch {
		case has(intents, IntentThanks):
			ans.Text = "Không có gì ạ! Nếu cần tra cứu thêm thủ tục nào, bạn cứ hỏi nhé."
		case has(intents, IntentGreeting):
			ans.Text = greeting
		default:
			ans.Text = outOfScope
		}
		ans.Suggestions = starterSuggestions
		return ans, nil, nil
	}

	// 5. A follow-up on the procedure in focus ("vậy lệ phí bao nhiêu?", "mất mấy ngày?").
	if st.Focus != "" && (!content || has(intents, IntentMore) || !confident && topical(intents)) {
		p, err := a.Store.Get(ctx, st.Focus)
		if err == nil {
			prev := DetectIntents(st.Query)
			if len(intents) == 0 || !topical(intents) {
				intents = prev
			}
			ans.Intents = intents
			return a.procedureAnswer(&p, ans), []knowledge.Procedure{p}, nil
		}
	}

	hits := collapseVariants(res.Hits)

	// 6. Unsure: ask which procedure is meant; nothing found: say so.
	if !confident {
		if len(hits) > 0 && res.Confidence >= a.abstainBelow()*uncertainShare && content {
			n := min(3, len(hits))
			return a.options(st, text, ans, hits[:n], "Tôi chưa chắc bạn hỏi thủ tục nào. Có phải một trong các thủ tục sau? Hãy chọn hoặc gõ số thứ tự:"), nil, nil
		}
		ans.Abstained = true
		ans.Text = notFound
		ans.Suggestions = starterSuggestions
		return ans, nil, nil
	}

	// 7. A new procedure; ask when the best candidates are different procedures scoring alike.
	if opts := a.clarify(hits, res.Query.Tokens); len(opts) > 1 {
		return a.options(st, text, ans, hits[:len(opts)], "Bạn muốn hỏi thủ tục nào dưới đây? Hãy chọn hoặc gõ số thứ tự:"), nil, nil
	}
	p, err := a.Store.Get(ctx, hits[0].Code)
	if err != nil {
		return Answer{}, nil, fmt.Errorf("assistant: %w", err)
	}
	st.Focus, st.Query = p.Code, text
	ans = a.procedureAnswer(&p, ans)
	// Not fully sure: offer the next candidates too, so a wrong first guess costs one tap.
	if res.Confidence < alsoOfferBelow && len(hits) > 1 {
		var lines []string
		for _, h := range hits[1:min(3, len(hits))] {
			ans.Options = append(ans.Options, Citation{Code: h.Code, Name: h.Name})
			lines = append(lines, fmt.Sprintf("- %s (mã %s)", h.Name, h.Code))
		}
		ans.Text = fitAnswer(ans.Text, "Nếu bạn hỏi thủ tục khác, có thể là:\n"+strings.Join(lines, "\n"))
		st.Pending = append([]string{p.Code}, codesOf(ans.Options)...)
	}
	return ans, []knowledge.Procedure{p}, nil
}

// options asks the user to choose among hits and remembers them for the next message.
func (a *Assistant) options(st *knowledge.DialogueState, text string, ans Answer, hits []knowledge.Hit, intro string) Answer {
	st.Pending = nil
	st.Query = text
	ans.Text = intro + "\n"
	for i, h := range hits {
		st.Pending = append(st.Pending, h.Code)
		ans.Options = append(ans.Options, Citation{Code: h.Code, Name: h.Name})
		ans.Text += fmt.Sprintf("%d. %s (mã %s)\n", i+1, h.Name, h.Code)
		ans.Suggestions = append(ans.Suggestions, shorten(h.Name, 40))
	}
	ans.Text = strings.TrimSpace(ans.Text)
	return ans
}

func codesOf(cs []Citation) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Code
	}
	return out
}

// smallTalkWords are the syllables of greetings and thanks ("xin chào", "cảm ơn bạn nhé").
var smallTalkWords = map[string]bool{"chao": true, "xin": true, "hello": true, "hi": true, "alo": true, "helo": true,
	"hey": true, "cam": true, "on": true, "thank": true, "thanks": true, "tks": true, "you": true, "ban": true,
	"ad": true, "em": true, "anh": true, "chi": true, "nha": true, "nhe": true, "a": true, "nhieu": true, "camon": true,
	"ok": true, "vang": true, "da": true, "buoi": true, "sang": true, "chieu": true, "toi": true, "tro": true, "ly": true}

// smallTalkOnly reports whether a message has no content besides greeting or thanking.
func smallTalkOnly(toks []string) bool {
	for _, t := range toks {
		if !smallTalkWords[t] {
			return false
		}
	}
	return true
}

func (a *Assistant) abstainBelow() float64 {
	if a.AbstainBelow > 0 {
		return a.AbstainBelow
	}
	return DefaultAbstainBelow
}

func (a *Assistant) procedureAnswer(p *knowledge.Procedure, ans Answer) Answer {
	full := has(ans.Intents, IntentMore) || has(ans.Intents, IntentLegal)
	ans.Text = compose(p, ans.Intents, full)
	ans.Citations = []Citation{{Code: p.Code, Name: p.Name, URL: p.URL, DataDate: p.SourceDate}}
	ans.Suggestions = followUps(p, ans.Intents)
	return ans
}

// choice reads a reply to a clarifying question: an option number, a code, or words of an option's name.
func (a *Assistant) choice(ctx context.Context, st *knowledge.DialogueState, text string) string {
	if len(st.Pending) == 0 {
		return ""
	}
	t := strings.TrimSpace(strings.TrimRight(text, ".!? "))
	if n, err := strconv.Atoi(strings.TrimPrefix(knowledge.Fold(t), "so ")); err == nil && n >= 1 && n <= len(st.Pending) {
		return st.Pending[n-1]
	}
	for _, code := range st.Pending {
		if strings.Contains(t, code) {
			return code
		}
	}
	// The words of one option's name, and not of the others (a tapped quick reply carries the name).
	ft := knowledge.Fold(t)
	best, bestScore := "", 0.0
	for _, code := range st.Pending {
		p, err := a.Store.Get(ctx, code)
		if err != nil {
			continue
		}
		fn := knowledge.Fold(p.Name)
		if strings.HasPrefix(fn, strings.TrimSuffix(ft, "…")) && len(ft) >= 6 {
			return code
		}
		score := overlap(knowledge.Syllables(ft), knowledge.Syllables(fn))
		if score > bestScore {
			best, bestScore = code, score
		}
	}
	if bestScore >= 0.8 {
		return best
	}
	return ""
}

func overlap(q, name []string) float64 {
	if len(q) == 0 {
		return 0
	}
	in := map[string]bool{}
	for _, n := range name {
		in[n] = true
	}
	hit := 0
	for _, x := range q {
		if in[x] {
			hit++
		}
	}
	return float64(hit) / float64(len(q))
}

// baseName is a name without its level suffix ("(thực hiện tại cấp tỉnh)").
func baseName(name string) string {
	f := knowledge.Fold(name)
	if i := strings.Index(f, "(thuc hien"); i > 0 {
		f = f[:i]
	}
	if i := strings.Index(f, "thuc hien tai cap"); i > 0 {
		f = f[:i]
	}
	return strings.TrimSpace(strings.TrimPrefix(f, "thu tuc "))
}

// collapseVariants keeps the best-ranked hit of each procedure that exists at several levels.
func collapseVariants(hits []knowledge.Hit) []knowledge.Hit {
	seen := map[string]bool{}
	out := make([]knowledge.Hit, 0, len(hits))
	for _, h := range hits {
		b := baseName(h.Name)
		if seen[b] {
			continue
		}
		seen[b] = true
		out = append(out, h)
	}
	return out
}

// clarify returns the codes to offer when the best hits are distinct procedures scoring within ClarifyWithin.
// A question that names the best procedure in full ("đăng ký thường trú") is never ambiguous.
func (a *Assistant) clarify(hits []knowledge.Hit, query []string) []string {
	within := a.ClarifyWithin
	if within == 0 {
		within = DefaultClarifyWithin
	}
	if len(hits) < 2 || hits[0].Score <= 0 || overlap(knowledge.Syllables(baseName(hits[0].Name)), query) == 1 {
		return nil
	}
	var opts []string
	for _, h := range hits {
		if (hits[0].Score-h.Score)/hits[0].Score > within || len(opts) == maxOptions {
			break
		}
		opts = append(opts, h.Code)
	}
	if len(opts) < 2 {
		return nil
	}
	return opts
}

func nameOf(hits []knowledge.Hit, code string) string {
	for _, h := range hits {
		if h.Code == code {
			return h.Name
		}
	}
	return code
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func mergeIntents(a, b []Intent) []Intent {
	out := append([]Intent(nil), a...)
	for _, x := range b {
		if !has(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// followUps are quick replies for what the answer did not cover.
func followUps(p *knowledge.Procedure, asked []Intent) []string {
	cands := []struct {
		i    Intent
		text string
	}{
		{IntentDocuments, "Cần giấy tờ gì?"},
		{IntentFee, "Lệ phí bao nhiêu?"},
		{IntentTime, "Mất bao lâu?"},
		{IntentWhere, "Nộp ở đâu?"},
		{IntentOnline, "Nộp trực tuyến thế nào?"},
	}
	var out []string
	for _, c := range cands {
		if !has(asked, c.i) {
			out = append(out, c.text)
		}
	}
	if len(out) > maxOptions {
		out = out[:maxOptions]
	}
	return out
}

var starterSuggestions = []string{"Đăng ký khai sinh", "Cấp lại căn cước", "Đăng ký tạm trú", "Đăng ký hộ kinh doanh",
	"Phường cũ của tôi nay là phường nào?"}

const (
	greeting = "Xin chào! Tôi là trợ lý ảo tra cứu thủ tục hành chính. Bạn có thể hỏi: cần giấy tờ gì, nộp trực tuyến " +
		"thế nào, lệ phí, thời gian giải quyết, nộp ở đâu — hoặc phường cũ của bạn nay là phường nào."
	outOfScope = "Xin lỗi, tôi chỉ hỗ trợ tra cứu thủ tục hành chính (hồ sơ, lệ phí, thời gian, nơi nộp, nộp trực tuyến) " +
		"và thông tin sắp xếp phường, xã. Bạn có thể tra cứu thêm tại Cổng Dịch vụ công quốc gia: https://dichvucong.gov.vn."
	notFound = "Xin lỗi, tôi chưa tìm thấy thủ tục phù hợp trong dữ liệu hiện có. Bạn có thể nói rõ hơn tên thủ tục, " +
		"hoặc tra cứu tại Cổng Dịch vụ công quốc gia: https://dichvucong.gov.vn. Tôi không đưa ra thông tin khi không chắc chắn."
)
