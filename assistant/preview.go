package assistant

import (
	"context"
	"regexp"
	"strings"

	"github.com/trolyao/trolyao/knowledge"
)

// Preview is what a citizen reads when the assistant answers a question with one procedure.
type Preview struct {
	Text        string     `json:"text"` // the first answer
	Full        string     `json:"full"` // the full answer, given when the citizen then taps «Xem đầy đủ»
	Intents     []Intent   `json:"intents"`
	Suggestions []string   `json:"suggestions,omitempty"` // the quick replies under the first answer
	Options     []Citation `json:"options,omitempty"`     // other procedures offered as buttons, when not sure
	// Answered is the procedure the assistant answers the question with as the published catalog stands: the
	// previewed one, another, or "" when it would ask which procedure is meant or say it does not know (and
	// when the assistant has no Searcher).
	Answered string `json:"answered"`
}

// Preview composes from p the answer a citizen gets when the assistant answers question with p — with the
// place the question names, as Reply reads it — and the full answer they get by tapping «Xem đầy đủ» next.
// With a Searcher, it also finds, as Reply does, which procedure the published catalog answers question with
// and whether other procedures are offered beside it: when that is p and others are, Text has the line
// that introduces them, as Reply's does. What a model (Assistant.Model) would reword is not previewed.
func (a *Assistant) Preview(ctx context.Context, p *knowledge.Procedure, question string) (Preview, error) {
	var st knowledge.DialogueState
	intents := DetectIntents(question)
	first := a.procedureAnswer(p, Answer{Intents: intents}, a.placeOf(&st, question), question)
	out := Preview{Text: first.Text, Intents: first.Intents, Suggestions: first.Suggestions}
	if a.Searcher != nil {
		as, err := a.Assess(ctx, a.withoutPlaces(question), intents)
		if err != nil {
			return Preview{}, err
		}
		if as.Action >= ActAnswerWithAlternatives && len(as.Hits) > 0 {
			out.Answered = as.Hits[0].Code
			if out.Answered == p.Code && as.Action == ActAnswerWithAlternatives && len(as.Hits) > 1 {
				out.Options = optionsOf(as.Hits[1:min(3, len(as.Hits))])
				out.Text = beforeTail(out.Text, alternativesNote)
			}
		}
	}
	out.Full = a.procedureAnswer(p, Answer{Intents: DetectIntents(MoreReply)}, a.placeOf(&st, MoreReply), question).Text
	return out, nil
}

// noteSentence ends a sentence of a note, with the space or line break after it.
var noteSentence = regexp.MustCompile(`[.;!?]\s+|\n+`)

// NoteWithoutFees is the channel's note without what it says about fees: the note of the fee cell (the
// parenthesis of Channel.Text, which the portal repeats at the start of the note) and every sentence of the
// description that states an amount, a percentage or a fee. It is what is left of the portal's note once
// staff set the fee themselves, so that an answer never puts the portal's amounts or reductions ("bằng 50% mức
// thu nêu trên") beside theirs; the rest of the description ("không phụ thuộc vào nơi cư trú", the opening
// hours) is kept as written.
func NoteWithoutFees(c knowledge.Channel) string {
	_, desc := splitChannelNote(c)
	var kept strings.Builder
	rest := desc
	for rest != "" {
		end := len(rest)
		if m := noteSentence.FindStringIndex(rest); m != nil {
			end = m[1]
		}
		if s := rest[:end]; !statesFee(s) {
			kept.WriteString(s)
		}
		rest = rest[end:]
	}
	return strings.TrimSpace(kept.String())
}

// statesFee reports whether a sentence speaks of a fee: "phí", "lệ phí", "mức thu", a percentage or an amount
// in đồng.
func statesFee(s string) bool {
	if strings.Contains(s, "%") {
		return true
	}
	words := knowledge.Syllables(s)
	for i, w := range words {
		switch {
		case w == "phi", w == "thu" && i > 0 && words[i-1] == "muc":
			return true
		case isAmount(w) && (i == 0 || words[i-1] != "nam") && i+1 < len(words) &&
			(words[i+1] == "dong" || words[i+1] == "d" || words[i+1] == "vnd" || words[i+1] == "viet"): // "70.000 Việt Nam Đồng"
			return true
		case amountInDong(w):
			return true
		}
	}
	return false
}

// amountInDong reports whether a syllable is an amount with its currency attached ("70000d", "70000vnd").
func amountInDong(w string) bool {
	for _, unit := range []string{"vnd", "dong", "d"} {
		if n, ok := strings.CutSuffix(w, unit); ok && isAmount(n) {
			return true
		}
	}
	return false
}

// isAmount reports whether a syllable is a number of at least four digits (Syllables drops the separators
// of "70.000").
func isAmount(w string) bool {
	if len(w) < 4 {
		return false
	}
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
