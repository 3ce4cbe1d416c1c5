package assistant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/units"
)

// Assistant answers messages, one conversation at a time per id. It is safe for concurrent use across
// conversations; messages of one conversation must be sent in order (channels serialise them).
type Assistant struct {
	Searcher *knowledge.Searcher
	Store    knowledge.Store
	Units    *units.Gazetteer
	// Centres are the communes' public administrative service centres, named in where-answers (nil: the
	// answers say where to go without an address).
	Centres       CentreIndex
	Conversations knowledge.Conversations
	// Policy decides between answering, asking and abstaining (nil: DefaultPolicy).
	Policy *Policy
	// Phrases indexes the question bank's phrasings by procedure code and Negatives its negatives; both feed
	// the policy's features (nil: those features are 0).
	Phrases   *PhraseIndex
	Negatives *PhraseIndex
	Model     Model     // optional: nil answers offline only
	LLM       LLMConfig // timeouts of the model
	Logger    *slog.Logger
	Now       func() time.Time
}

// CentreIndex finds the service centre of a current commune by its code: a *knowledge.Centres, or a
// *knowledge.LiveCentres, which staff corrections update while the assistant serves (each answer reads it
// afresh).
type CentreIndex interface {
	ByCode(code string) (knowledge.Centre, bool)
}

// maxOptions is the most procedures a clarifying question offers.
const maxOptions = 5

// Errors a channel classifies for the user.
var (
	ErrEmpty   = errors.New("empty message")
	ErrTooLong = knowledge.ErrQueryTooLong
)

// Reply answers text in conversation conv. emit, when not nil, receives the streamed events (typing, deltas,
// the final answer); the final answer is also returned. The conversation store keeps the message and the
// dialogue state redacted (Redact); only the reply itself may echo what the citizen typed.
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
	st.Query = Redact(st.Query)
	now := a.now()
	codes := make([]string, 0, len(ans.Citations))
	for _, c := range ans.Citations {
		codes = append(codes, c.Code)
	}
	for _, o := range ans.Options {
		codes = append(codes, o.Code)
	}
	stored, err := a.Conversations.Append(ctx, conv, st,
		knowledge.Message{Role: knowledge.RoleUser, Text: Redact(text), At: now, Channel: channelOf(ctx)},
		knowledge.Message{Role: knowledge.RoleAssistant, Text: ans.Text, Codes: codes, At: now, Abstain: ans.Abstained, Channel: channelOf(ctx),
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
	at := a.placeOf(st, text)

	// 1. A choice among the options of a clarifying question.
	if code := a.choice(ctx, st, text); code != "" {
		p, err := a.Store.Get(ctx, code)
		if err == nil {
			prev := DetectIntents(withoutPlaceholders(st.Query))
			st.Focus, st.Pending = code, nil
			ans.Intents = mergeIntents(prev, intents)
			return a.procedureAnswer(&p, ans, at, st.Query+". "+text), []knowledge.Procedure{p}, nil
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

	// 3. A procedure asked by the code the portal shows ("3.000333 lệ phí bao nhiêu", "mã 1.001193 cần gì").
	if p, ok := a.namedByCode(ctx, text); ok {
		st.Focus = p.Code
		return a.procedureAnswer(&p, ans, at, text), []knowledge.Procedure{p}, nil
	}

	as, err := a.Assess(ctx, a.withoutPlaces(withoutDeferred(text)), intents)
	if err != nil {
		return Answer{}, nil, err
	}
	// An explicit request to get round the law that reads like the bank's unlawful negatives is refused even
	// when a procedure matches its words: "làm hồ sơ kết hôn giả thế nào để không bị phát hiện" must not get
	// the marriage procedure's papers.
	if askedUnlawful(as) {
		as.Action = ActAbstain
	}

	// 3. Old ward → new ward.
	if w, ok := a.wardAnswer(ans, text, as, intents, at); ok {
		return w, nil, nil
	}
	ans.Confidence = as.P[classAnswer]

	// 4. Greetings, thanks, off-topic: no procedure.
	if s, ok := smallTalkAnswer(ans, as, intents); ok {
		return s, nil, nil
	}

	// 5. A follow-up on the procedure in focus.
	if f, ps, ok := a.followUpAnswer(ctx, st, text, ans, as, intents, at); ok {
		return f, ps, nil
	}

	// 6. Unsure: ask which procedure is meant; nothing found: say so.
	if u, ok := a.unsureAnswer(st, text, ans, as); ok {
		return u, nil, nil
	}

	// 7. A new procedure.
	return a.newProcedureAnswer(ctx, st, text, ans, as, at)
}

// wardAnswer tells which new ward an old one became, with its centre, when the message asks about wards;
// not when the message also asks something (papers, fee, where …) about a procedure the policy would
// answer ("tiệm em ở quận 10 cũ, khai thuế hộ kinh doanh nộp ở đâu"): then the procedure is answered, with
// the ward's centre. It reports whether it answered.
func (a *Assistant) wardAnswer(ans Answer, text string, as Assessment, intents []Intent, at place) (Answer, bool) {
	if a.Units == nil {
		return ans, false
	}
	ms, ok := asksAboutUnits(a.Units, text)
	if !ok {
		return ans, false
	}
	rest := len(withoutUnitCues(as.Tokens))
	onlyUnits := rest < minProcedureWords
	shortReformQuestion := rest <= maxUnitQuestionWords && saysAny(text, strongUnitQuestionCues) &&
		(as.Action < ActAnswerWithAlternatives || !topical(intents))
	if !onlyUnits && !shortReformQuestion {
		return ans, false
	}
	ans.Intents = append(ans.Intents, IntentWard)
	ans.Text = describeUnits(ms)
	if ms[0].Ambiguous {
		cands, _ := ambiguousCandidates(ms)
		for _, m := range cands[:min(len(cands), maxOptions)] {
			if m.Kind == units.MatchOld {
				ans.Suggestions = append(ans.Suggestions, oldUnitLabel(m.Old)+" cũ")
			}
		}
	}
	if lines := centreLines(at); len(lines) > 0 && at.centres[0].Address != "" && !ms[0].Ambiguous {
		ans.Text += "\nTrung tâm Phục vụ hành chính công:\n" + strings.Join(lines, "\n")
	}
	return ans, true
}

// smallTalkAnswer answers greetings, thanks and off-topic messages, which name no procedure, and reports
// whether the message was one.
func smallTalkAnswer(ans Answer, as Assessment, intents []Intent) (Answer, bool) {
	smallTalk := (has(intents, IntentGreeting) || has(intents, IntentThanks)) && (smallTalkOnly(as.Tokens) || as.Action < ActAnswerWithAlternatives && !topical(intents))
	if !smallTalk && !(has(intents, IntentOutOfScope) && as.Action < ActAnswerWithAlternatives) {
		return ans, false
	}
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
	return ans, true
}

// followUpAnswer answers a follow-up on the procedure in focus ("vậy lệ phí bao nhiêu?", "mất mấy ngày?") —
// also a question about papers, fees, time, place or the online route that names nothing the catalog has
// ("khai trên etax hay phải lên cơ quan thuế", "nộp qua công ty hay tự lên bảo hiểm xã hội"): with nothing
// else found, it is about the procedure in focus when every word of it is one of that procedure's (its
// name, its bank phrasings), unless it reads as an unlawful or political request. It reports whether it
// answered.
func (a *Assistant) followUpAnswer(ctx context.Context, st *knowledge.DialogueState, text string, ans Answer, as Assessment,
	intents []Intent, at place) (Answer, []knowledge.Procedure, bool) {
	if st.Focus == "" || !(a.followUp(ctx, st, as, intents) ||
		as.Action == ActAbstain && topical(intents) && !refused(as) && a.foreignToFocus(ctx, st, as) == 0) {
		return ans, nil, false
	}
	p, err := a.Store.Get(ctx, st.Focus)
	if err != nil {
		return ans, nil, false
	}
	prev := DetectIntents(withoutPlaceholders(st.Query))
	if len(intents) == 0 || !topical(intents) {
		intents = prev
	}
	ans.Intents = intents
	return a.procedureAnswer(&p, ans, at, st.Query+". "+text), []knowledge.Procedure{p}, true
}

// unsureAnswer says that nothing was found (or refuses) when the policy abstains, and asks which procedure
// is meant when it would clarify; it reports whether it answered.
func (a *Assistant) unsureAnswer(st *knowledge.DialogueState, text string, ans Answer, as Assessment) (Answer, bool) {
	switch as.Action {
	case ActAbstain:
		ans.Abstained = true
		ans.Text = notFound
		switch {
		case !refused(as):
		case as.Unlawful || as.Negative == "unlawful":
			ans.Text = unlawful
		default:
			ans.Text = political
		}
		ans.Suggestions = starterSuggestions
		return ans, true
	case ActClarify:
		n := min(maxOptions, len(as.Hits))
		return a.options(st, text, ans, as.Hits[:n], "Tôi chưa chắc bạn hỏi thủ tục nào. Bạn chọn một thủ tục bên dưới "+
			"(hoặc gõ số thứ tự, hoặc nói rõ hơn):"), true
	}
	return ans, false
}

// newProcedureAnswer answers about the best hit, which becomes the procedure in focus; when the policy is not
// fully sure it offers the next candidates too.
func (a *Assistant) newProcedureAnswer(ctx context.Context, st *knowledge.DialogueState, text string, ans Answer, as Assessment,
	at place) (Answer, []knowledge.Procedure, error) {
	hits := as.Hits
	p, err := a.Store.Get(ctx, hits[0].Code)
	if err != nil {
		return Answer{}, nil, fmt.Errorf("assistant: %w", err)
	}
	st.Focus, st.Query = p.Code, text
	ans = a.procedureAnswer(&p, ans, at, text)
	// Not fully sure: offer the next candidates too, as buttons, so that a wrong first guess costs one tap.
	if as.Action == ActAnswerWithAlternatives && len(hits) > 1 {
		ans.Options = optionsOf(hits[1:min(3, len(hits))])
		ans.Text = beforeTail(ans.Text, alternativesNote)
		// The numbers a citizen types count the options shown; the answered procedure comes after them, so
		// that its name still picks it.
		st.Pending = append(codesOf(ans.Options), p.Code)
	}
	return ans, []knowledge.Procedure{p}, nil
}

// foreignToFocus counts the words of a message that neither the name of the procedure in focus nor its bank
// phrasings have, nor the phrasings of procedures in general (PhraseIndex.Specific).
func (a *Assistant) foreignToFocus(ctx context.Context, st *knowledge.DialogueState, as Assessment) int {
	name := map[string]bool{}
	for _, t := range knowledge.Syllables(a.focusName(ctx, st)) {
		name[t] = true
	}
	return a.Phrases.Specific(as.Tokens, st.Focus, name)
}

// refused reports whether a declined message reads as an unlawful or political request: close to such a
// negative of the question bank — for an unlawful one, also asking in so many words to get round the law, or
// very close (the bank's "làm giấy tờ xe giả" is close to a plain "làm giấy tờ xe") — or asking to get round the
// law in so many words.
func refused(as Assessment) bool {
	switch {
	case as.Unlawful:
		return true
	case as.NegativeSim < refusalSim:
		return false
	case as.Negative == "political":
		return true
	}
	return as.Negative == "unlawful" && as.NegativeSim >= plainRefusalSim
}

// askedUnlawful reports whether a message asks, in so many words, to get round the law (unlawfulCue) and is
// close to an unlawful negative of the question bank (unlawfulSim): a cue alone is not enough — victims and
// procedures use the same words ("bị giả chữ ký", "thu hồi giấy chứng nhận giả mạo").
func askedUnlawful(as Assessment) bool {
	return as.Unlawful && as.Negative == "unlawful" && as.NegativeSim >= unlawfulSim
}

// unlawfulSim is the least similarity to an unlawful negative for a message with an unlawful cue to be refused
// whatever procedure matches it.
const unlawfulSim = 0.25

// plainRefusalSim is the least similarity to an unlawful negative for a message without an unlawful cue to be
// refused as unlawful.
const plainRefusalSim = 0.5

// followUp reports whether a message continues on the procedure in focus rather than asking about another:
// the policy's follow-up model decides (a policy without one treats only messages with no content words as
// follow-ups).
func (a *Assistant) followUp(ctx context.Context, st *knowledge.DialogueState, as Assessment, intents []Intent) bool {
	pol := a.Policy
	if pol == nil {
		var err error
		if pol, err = DefaultPolicy(); err != nil {
			return len(as.Tokens) == 0
		}
	}
	if pol.FollowUp == nil {
		return len(as.Tokens) == 0
	}
	return pol.FollowUp.Prob(a.followUpFeatures(st.Focus, a.focusName(ctx, st), as, intents)) >= 0.5
}

// focusName is the name of the procedure in focus (its code if it is gone).
func (a *Assistant) focusName(ctx context.Context, st *knowledge.DialogueState) string {
	p, err := a.Store.Get(ctx, st.Focus)
	if err != nil {
		return st.Focus
	}
	return p.Name
}

// withoutPlaces removes the administrative units a message names ("tôi ở phường 12 quận Gò Vấp"): they are the
// citizen's context — where they live, where to file — never the procedure they ask about, and their words
// would otherwise match procedures that happen to contain them.
func (a *Assistant) withoutPlaces(text string) string {
	if a.Units == nil {
		return text
	}
	out := text
	for _, m := range a.Units.Find(text) {
		if m.Score >= placeScore && m.Text != "" {
			out = strings.ReplaceAll(out, m.Text, " ")
		}
	}
	if strings.TrimSpace(out) == "" {
		return text
	}
	return out
}

// messageClause splits a message into clauses.
var messageClause = regexp.MustCompile(`[,;.!?\n]+`)

// withoutDeferred removes the clauses in which the citizen puts a topic aside ("thôi để bằng lái sau", "khoan
// hỏi bằng lái đã", "không cần hộ chiếu nữa", "bỏ qua chuyện xe"), so that what they turn to is what is
// searched: "thôi để bằng lái sau, giờ làm lại căn cước" asks about the ID card. A message that is nothing
// but such clauses is left as it is.
func withoutDeferred(text string) string {
	clauses := messageClause.Split(text, -1)
	var kept []string
	dropped := false
	for _, c := range clauses {
		if deferral(knowledge.Syllables(c)) {
			dropped = true
			continue
		}
		if strings.TrimSpace(c) != "" {
			kept = append(kept, c)
		}
	}
	if !dropped || len(kept) == 0 {
		return text
	}
	return strings.Join(kept, ", ")
}

// deferral reports whether a clause (folded syllables) puts its topic aside: "(thôi) để … sau (đã)", "khoan …
// (đã)", "bỏ qua …", "(thôi) khỏi/không cần … nữa", "tạm gác …".
func deferral(w []string) bool {
	if len(w) > 0 && w[0] == "thoi" {
		w = w[1:]
	}
	if len(w) < 2 {
		return false
	}
	last := w[len(w)-1]
	if last == "da" && len(w) > 2 {
		last = w[len(w)-2]
	}
	switch {
	case w[0] == "de" && last == "sau":
		return true
	case w[0] == "khoan" || w[0] == "tam" && w[1] == "gac" || w[0] == "bo" && w[1] == "qua":
		return true
	case (w[0] == "khoi" || w[0] == "khong" && w[1] == "can") && w[len(w)-1] == "nua":
		return true
	}
	return false
}

// minProcedureWords is the least number of content words, besides places and the words of a unit question,
// for a message that names a place to be read as a question about a procedure.
const minProcedureWords = 2

// refusalSim is the least similarity to an unlawful or political negative of the question bank for a declined
// message to be answered with the refusal for that kind rather than "not found".
const refusalSim = 0.35

// placeScore is the least evidence (units.Match.Score) for taking words as a place: a bare name that might be
// a word ("thu duc" alone) is left alone.
const placeScore = 0.6

// Assessment is what the assistant makes of one message before it answers: the best procedures (one per
// family), the policy's features, probabilities and action.
type Assessment struct {
	Tokens  []string        // the message's folded syllables after the lexicon
	Matched map[string]bool // syllables some retrieved procedure contains
	Typed   []string        // the message's folded syllables as typed
	// Unlawful is set when the message asks, in so many words, to get round the law (see unlawfulCue).
	Unlawful bool
	Hits     []knowledge.Hit
	// Negative is the kind of the question bank's negative nearest to the message (unlawful, political, …) and
	// NegativeSim its similarity.
	Negative    string
	NegativeSim float64
	F           Features
	P           [numClasses]float64
	Action      Action
}

// Assess retrieves the procedures for text and applies the policy.
func (a *Assistant) Assess(ctx context.Context, text string, intents []Intent) (Assessment, error) {
	searched, ages := withoutAges(text)
	res, err := a.Searcher.Search(ctx, searched, maxOptions*3)
	if err != nil {
		return Assessment{}, err
	}
	as := Assessment{Tokens: res.Query.Tokens, Typed: knowledge.Syllables(text), Matched: res.Matched,
		Unlawful: unlawfulCue(text)}
	sims := a.Phrases.Best(res.Query.Tokens)
	hits := slices.Clone(res.Hits)
	for i := range hits {
		hits[i].Score += phraseWeight * sims[hits[i].Code]
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
	as.Hits = collapseVariants(hits, res.Query.Level)
	as.Hits = preferAgeVariant(preferSaidVariant(as.Hits, text), ages, text)
	as.NegativeSim, as.Negative = a.nearestNegative(text, as.Tokens)
	as.F = a.features(as, intents, sims)
	pol := a.Policy
	if pol == nil {
		if pol, err = DefaultPolicy(); err != nil {
			return Assessment{}, err
		}
	}
	as.P = pol.Probabilities(as.F)
	as.Action = pol.Decide(as.P)
	switch {
	case len(as.Hits) == 0:
		as.Action = ActAbstain
	case namesExactly(as):
		// "đăng ký khai sinh có mất phí không" names the procedure; its variants add words it does not say.
		as.Action = max(as.Action, ActAnswerWithAlternatives)
	case as.Action != ActClarify && bareName(as, as.Typed):
		// "giấy phép lái xe", "căn cước": a topic that several procedures' names contain in full.
		as.Action = ActClarify
	case as.Action == ActAbstain && bareName(as, typedContent(as)):
		// "làm căn cước ở đâu": the same topic asked with a verb and a question word — declining would leave the
		// citizen with nothing, though any of the variants is a fair guess.
		as.Action = ActClarify
	}
	return as, nil
}

// longMessage is the number of syllables from which a message is read sentence by sentence for how close it
// is to a negative of the question bank: a long story that asks, in one of its sentences, how to pay to skip
// the queue or to forge a paper is as far from a known negative as a whole as its other sentences make it.
const longMessage = 30

// sentenceEnd splits a message into sentences.
var sentenceEnd = regexp.MustCompile(`[.?!;\n]+`)

// nearestNegative is the similarity of a message (its searched tokens) to the nearest negative of the question
// bank and that negative's kind; a long message is also read sentence by sentence (two sentences at a time,
// so that a request and its reason stay together), and its closest window counts.
func (a *Assistant) nearestNegative(text string, toks []string) (float64, string) {
	best, kind := a.Negatives.Nearest(toks)
	if len(toks) < longMessage {
		return best, kind
	}
	var parts []string
	for _, p := range sentenceEnd.Split(text, -1) {
		if strings.TrimSpace(p) != "" {
			parts = append(parts, p)
		}
	}
	for i := range parts {
		w := parts[i]
		if i+1 < len(parts) {
			w += " " + parts[i+1]
		}
		if sim, k := a.Negatives.Nearest(knowledge.Syllables(w)); sim > best {
			best, kind = sim, k
		}
	}
	return best, kind
}

// namesExactly reports whether the message contains the whole name of the best procedure and not the whole
// name of the next one.
func namesExactly(as Assessment) bool {
	return as.Hits[0].NameCover == 1 && (len(as.Hits) < 2 || as.Hits[1].NameCover < 1)
}

// bareName reports whether words (two at least) are all in the names of the two best procedures: the message
// names a topic, not one procedure.
func bareName(as Assessment, words []string) bool {
	if len(as.Hits) < 2 || len(words) < 2 {
		return false
	}
	for _, h := range as.Hits[:2] {
		name := map[string]bool{}
		for _, t := range knowledge.Syllables(h.Name) {
			name[t] = true
		}
		for _, t := range words {
			if !name[t] {
				return false
			}
		}
	}
	return true
}

// typedContent are the words the citizen typed that the search kept (not "làm", "ở đâu", "cần gì"; not the
// lexicon's additions).
func typedContent(as Assessment) []string {
	kept := map[string]bool{}
	for _, t := range as.Tokens {
		kept[t] = true
	}
	var out []string
	for _, t := range as.Typed {
		if kept[t] {
			out = append(out, t)
		}
	}
	return out
}

// portalCode is a procedure's code as the portal shows it: "1.001193", "3.000333", also "1.001.193".
var portalCode = regexp.MustCompile(`(?:^|[^0-9.,])([1-9])\.(\d{3})\.?(\d{3})(?:$|[^0-9.,]|[.,](?:$|\s))`)

// namedByCode returns the procedure whose code the message names, when it names exactly one that the catalog
// has.
func (a *Assistant) namedByCode(ctx context.Context, text string) (knowledge.Procedure, bool) {
	ms := portalCode.FindAllStringSubmatch(text, 3)
	codes := map[string]bool{}
	for _, m := range ms {
		codes[m[1]+"."+m[2]+m[3]] = true
	}
	if len(codes) != 1 {
		return knowledge.Procedure{}, false
	}
	for code := range codes {
		if p, err := a.Store.Get(ctx, code); err == nil {
			return p, true
		}
	}
	return knowledge.Procedure{}, false
}

// phraseWeight is the weight of the similarity to a procedure's closest bank phrasing in the ranking, added to
// the retrieval's fused score (chosen on the validation split).
const phraseWeight = 0.75

func (a *Assistant) features(as Assessment, intents []Intent, sims map[string]float64) Features {
	var f Features
	if len(as.Tokens) == 0 {
		f[fNoContent] = 1
	}
	if topical(intents) {
		f[fTopical] = 1
	}
	if has(intents, IntentOutOfScope) {
		f[fOffTopic] = 1
	}
	f[fNegative] = as.NegativeSim
	if len(as.Hits) == 0 {
		f[fNegMargin] = f[fNegative]
		return f
	}
	h := as.Hits[0]
	f[fScore1], f[fLexical1], f[fDense1], f[fNameCover1] = h.Score, math.Log1p(h.Lexical), h.Dense, h.NameCover
	f[fMargin] = 1
	if len(as.Hits) > 1 {
		h2 := as.Hits[1]
		f[fScore2], f[fNameCover2], f[fPhrasing2] = h2.Score, h2.NameCover, sims[h2.Code]
		f[fMargin] = 0
		if h.Score > 0 {
			f[fMargin] = (h.Score - h2.Score) / h.Score
		}
	}
	f[fPhrasing1] = sims[h.Code]
	f[fNegMargin] = f[fNegative] - f[fPhrasing1]
	if h.NameCover == 1 && f[fNameCover2] < 1 {
		f[fExactName] = 1
	}
	f[fUnknown] = float64(min(3, a.Phrases.Unknown(as.Tokens, as.Matched)))
	f[fHeadCover1] = headCover(h.Name, as.Tokens, as.Typed)
	return f
}

// headWords is how many first words of a procedure's name say what it does ("Ủy quyền lĩnh thay …", "Cấp lại …").
const headWords = 4

// headCover is the share of the first headWords distinct words of a name (without "Thủ tục") found in the
// message's words, as searched or as typed: "trợ cấp thất nghiệp" is the end of "Ủy quyền lĩnh thay các chế độ
// BHXH, trợ cấp thất nghiệp", not what that procedure does.
func headCover(name string, tokens, typed []string) float64 {
	in := map[string]bool{}
	for _, t := range tokens {
		in[t] = true
	}
	for _, t := range typed {
		in[t] = true
	}
	words := knowledge.Syllables(baseName(name))
	seen := map[string]bool{}
	n, hit := 0, 0
	for _, t := range words {
		if n == headWords {
			break
		}
		if seen[t] {
			continue
		}
		seen[t] = true
		n++
		if in[t] {
			hit++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(hit) / float64(n)
}

// options asks the user to choose among hits and remembers them for the next message. The text is a short
// intro: the options are shown once, as buttons (Answer.Options, with distinct short labels).
func (a *Assistant) options(st *knowledge.DialogueState, text string, ans Answer, hits []knowledge.Hit, intro string) Answer {
	st.Pending = nil
	st.Query = text
	ans.Text = intro
	ans.Options = optionsOf(hits)
	st.Pending = codesOf(ans.Options)
	return ans
}

// OptionLabelRunes is the most characters of an option's label (Citation.Label).
const OptionLabelRunes = 80

// optionsOf offers hits as options, each with a short label distinct from the others'.
func optionsOf(hits []knowledge.Hit) []Citation {
	names := make([]string, len(hits))
	for i, h := range hits {
		names[i] = h.Name
	}
	labels := Labels(names, OptionLabelRunes)
	out := make([]Citation, len(hits))
	for i, h := range hits {
		out[i] = Citation{Code: h.Code, Name: h.Name, Label: labels[i]}
	}
	return out
}

// beforeTail inserts a line before the hint and citation that end a procedure answer.
func beforeTail(text, line string) string {
	for _, mark := range []string{"\n\n" + moreHint, "\n\nNguồn: "} {
		if i := strings.LastIndex(text, mark); i >= 0 {
			return text[:i] + "\n\n" + line + text[i:]
		}
	}
	return text + "\n\n" + line
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

// procedureAnswer answers with p; said is what the citizen said of their case (the question, and the one that
// brought p up for a follow-up), which picks the dossier of their case when the record has several.
func (a *Assistant) procedureAnswer(p *knowledge.Procedure, ans Answer, at place, said string) Answer {
	full := has(ans.Intents, IntentMore) || has(ans.Intents, IntentLegal)
	ans.Text = compose(p, ans.Intents, full, at, said)
	ans.Citations = []Citation{{Code: p.Code, Name: p.Name, URL: knowledge.SafeURL(p.URL), DataDate: p.SourceDate}}
	ans.Suggestions = followUps(p, ans.Intents)
	if !full {
		ans.Suggestions = append([]string{MoreReply}, ans.Suggestions[:min(len(ans.Suggestions), maxOptions-1)]...)
	}
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

// collapseVariants keeps one hit of each procedure that exists at several levels, in the rank of its best
// one: the variant of the level that serves citizens first (the commune, then the province) unless the
// question names a level ("ở sở", "cấp tỉnh"), in which case that level's variant.
func collapseVariants(hits []knowledge.Hit, hint knowledge.Level) []knowledge.Hit {
	at := map[string]int{}
	out := make([]knowledge.Hit, 0, len(hits))
	for _, h := range hits {
		b := baseName(h.Name)
		i, ok := at[b]
		if !ok {
			at[b] = len(out)
			out = append(out, h)
			continue
		}
		if levelRank(h.Levels, hint) < levelRank(out[i].Levels, hint) {
			h.Score = out[i].Score
			out[i] = h
		}
	}
	return out
}

// levelRank orders variants for citizens: the level the question names, then commune, province, the rest.
func levelRank(ls []knowledge.Level, hint knowledge.Level) int {
	best := 4
	for _, l := range ls {
		r := 3
		switch {
		case hint != "" && l == hint:
			r = 0
		case l == knowledge.LevelCommune:
			r = 1
		case l == knowledge.LevelProvince:
			r = 2
		}
		best = min(best, r)
	}
	return best
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
		"và thông tin sắp xếp phường, xã. Bạn có thể tra cứu thêm tại [Cổng Dịch vụ công quốc gia](https://dichvucong.gov.vn)."
	unlawful = "Xin lỗi, tôi không thể hỗ trợ việc này vì trái quy định của pháp luật (làm giả hoặc sửa giấy tờ, nhờ " +
		"\"chạy\" hồ sơ, khai sai thông tin…). Nếu bạn cần làm thủ tục đúng quy định, hãy cho tôi biết tên thủ tục: tôi sẽ " +
		"hướng dẫn hồ sơ, lệ phí và nơi nộp. Để phản ánh tiêu cực, bạn có thể gọi Tổng đài 1022 của TP.HCM."
	political = "Xin lỗi, tôi chỉ hỗ trợ tra cứu thủ tục hành chính và không trao đổi về các vấn đề chính trị. " +
		"Bạn cần hỏi về thủ tục nào (ví dụ: đăng ký khai sinh, cấp lại căn cước)?"
	notFound = "Xin lỗi, tôi chưa tìm thấy thủ tục phù hợp trong danh mục thủ tục hành chính hiện có, và tôi không đưa ra " +
		"thông tin khi không chắc chắn. Nếu đây là một thủ tục hành chính, bạn thử mô tả việc cần làm (ví dụ: \"làm lại căn " +
		"cước bị mất\"); việc khác (lao động, y tế, giáo dục, tòa án …) bạn có thể gọi Tổng đài 1022 của TP.HCM để được " +
		"chỉ nơi giải quyết, hoặc tra cứu tại [Cổng Dịch vụ công quốc gia](https://dichvucong.gov.vn)."
)
