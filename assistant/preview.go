package assistant

import (
	"regexp"
	"strings"

	"github.com/trolyao/trolyao/knowledge"
)

// Preview is what a citizen reads when the assistant answers a question with one procedure.
type Preview struct {
	Text        string   `json:"text"` // the first answer
	Full        string   `json:"full"` // the full answer, given when the citizen then taps «Xem đầy đủ»
	Intents     []Intent `json:"intents"`
	Suggestions []string `json:"suggestions,omitempty"` // the quick replies under the first answer
}

// Preview composes from p the answer a citizen gets when the assistant answers question with p — with the
// place the question names, as Reply reads it — and the full answer they get by tapping «Xem đầy đủ» next.
// It is what Reply says when it picks p with confidence and no model is configured: when it is less sure it
// also offers other procedures as buttons, and a model (Assistant.Model) may reword the text. Preview reads
// nothing but p, the question and the assistant's units and centres.
func (a *Assistant) Preview(p *knowledge.Procedure, question string) Preview {
	var st knowledge.DialogueState
	first := a.procedureAnswer(p, Answer{Intents: DetectIntents(question)}, a.placeOf(&st, question))
	full := a.procedureAnswer(p, Answer{Intents: DetectIntents(MoreReply)}, a.placeOf(&st, MoreReply))
	return Preview{Text: first.Text, Full: full.Text, Intents: first.Intents, Suggestions: first.Suggestions}
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
