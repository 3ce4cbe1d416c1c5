package assistant

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/trolyao/trolyao/knowledge"
)

// Whether a message continues on the procedure in focus ("vậy lệ phí bao nhiêu?", "làm online được không")
// or turns to another topic ("còn đăng ký khai sinh thì sao", "cách làm bánh flan") is decided by a second
// logistic model of the policy, fitted on the question bank's train dialogues and chosen on validation
// (`trolyao policy fit`). Its features describe the message against the procedure in focus and against the
// best new candidate; none of them punishes a message for adding context.

// FollowUpFeatureNames names the features of the follow-up model, in order.
var FollowUpFeatureNames = []string{
	"nocontent",   // no content words at all ("vậy còn gì nữa", "ok")
	"more",        // asks for the rest of the answer ("chi tiết hơn")
	"topical",     // asks about a procedure (documents, fee, time, where …)
	"answer",      // the policy's P(answer) for the best new candidate
	"abstain",     // the policy's P(abstain)
	"samefocus",   // the best candidate is the procedure in focus (or a variant of it)
	"focussim",    // similarity of the message to the closest bank phrasing of the procedure in focus
	"focusranked", // the procedure in focus is among the best five candidates
	"negative",    // similarity to the nearest negative of the question bank
	"words",       // log(1 + content words)
	"offtopic",    // an out-of-scope cue
	"phrasing1",   // similarity to the best candidate's closest bank phrasing
	"foreign",     // log(1 + words that neither the procedure in focus's name nor its bank phrasings contain)
}

// FollowUpModel is the fitted follow-up model: P(follow-up) = σ(bias + Σ w·standardised feature).
type FollowUpModel struct {
	Features []string  `json:"features"`
	Mean     []float64 `json:"mean"`
	Std      []float64 `json:"std"`
	Weights  []float64 `json:"weights"` // bias, then one weight per feature
	L2       float64   `json:"l2"`
	// Validation figures: accuracy of the decision at P ≥ 0.5, and the number of turns.
	Accuracy   float64 `json:"validation_accuracy"`
	Validation int     `json:"validation_turns"`
	Train      int     `json:"train_turns"`
}

// FollowSample is one labelled turn of a dialogue: the features of a message asked while a procedure was in
// focus, and whether it continued on that procedure.
type FollowSample struct {
	X       []float64
	Follows bool
}

func (m *FollowUpModel) check() error {
	if !slices.Equal(m.Features, FollowUpFeatureNames) {
		return fmt.Errorf("follow-up model fitted on features %v, the code has %v: run `trolyao policy fit`", m.Features, FollowUpFeatureNames)
	}
	n := len(FollowUpFeatureNames)
	if len(m.Mean) != n || len(m.Std) != n || len(m.Weights) != n+1 {
		return fmt.Errorf("malformed follow-up weights")
	}
	return nil
}

// Prob returns P(follow-up) for the features x.
func (m *FollowUpModel) Prob(x []float64) float64 {
	s := m.Weights[0]
	for i, v := range x {
		s += m.Weights[i+1] * (v - m.Mean[i]) / m.Std[i]
	}
	return 1 / (1 + math.Exp(-s))
}

// followUpFeatures describes a message (already assessed) against the procedure in focus.
func (a *Assistant) followUpFeatures(focus, focusName string, as Assessment, intents []Intent) []float64 {
	x := make([]float64, len(FollowUpFeatureNames))
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	x[0] = b2f(len(as.Tokens) == 0)
	x[1] = b2f(has(intents, IntentMore))
	x[2] = b2f(topical(intents))
	x[3], x[4] = as.P[classAnswer], as.P[classAbstain]
	if len(as.Hits) > 0 {
		x[5] = b2f(as.Hits[0].Code == focus || baseName(as.Hits[0].Name) == baseName(focusName))
	}
	x[6] = a.Phrases.Best(as.Tokens)[focus]
	for i, h := range as.Hits {
		if i < maxOptions && h.Code == focus {
			x[7] = 1
		}
	}
	x[8] = as.F[fNegative]
	x[9] = math.Log1p(float64(len(as.Tokens)))
	x[10] = as.F[fOffTopic]
	x[11] = as.F[fPhrasing1]
	name := map[string]bool{}
	for _, t := range knowledge.Syllables(focusName) {
		name[t] = true
	}
	x[12] = math.Log1p(float64(a.Phrases.Foreign(as.Tokens, focus, name)))
	return x
}

// FollowUpSample assesses text as asked while the procedure focus was in focus, labelled with whether it
// continues on it (for fitting the follow-up model).
func (a *Assistant) FollowUpSample(ctx context.Context, focus, text string, follows bool) (FollowSample, error) {
	intents := DetectIntents(text)
	as, err := a.Assess(ctx, a.withoutPlaces(withoutDeferred(text)), intents)
	if err != nil {
		return FollowSample{}, err
	}
	name := focus
	if p, err := a.Store.Get(ctx, focus); err == nil {
		name = p.Name
	}
	return FollowSample{X: a.followUpFeatures(focus, name, as, intents), Follows: follows}, nil
}

// FitFollowUp fits the follow-up model on train by gradient descent with L2 penalty l2 (features
// standardised on train). Deterministic.
func FitFollowUp(train []FollowSample, l2 float64) *FollowUpModel {
	n := len(FollowUpFeatureNames)
	m := &FollowUpModel{Features: slices.Clone(FollowUpFeatureNames), Mean: make([]float64, n), Std: make([]float64, n),
		Weights: make([]float64, n+1), L2: l2, Train: len(train)}
	cnt := float64(max(1, len(train)))
	for _, s := range train {
		for i, v := range s.X {
			m.Mean[i] += v / cnt
		}
	}
	for _, s := range train {
		for i, v := range s.X {
			m.Std[i] += (v - m.Mean[i]) * (v - m.Mean[i]) / cnt
		}
	}
	for i := range m.Std {
		m.Std[i] = math.Sqrt(m.Std[i])
		if m.Std[i] < 1e-9 {
			m.Std[i] = 1
		}
	}
	grad := make([]float64, n+1)
	for range 3000 {
		clear(grad)
		for _, s := range train {
			d := m.Prob(s.X)
			if s.Follows {
				d--
			}
			grad[0] += d
			for i, v := range s.X {
				grad[i+1] += d * (v - m.Mean[i]) / m.Std[i]
			}
		}
		for i := range grad {
			g := grad[i] / cnt
			if i > 0 {
				g += l2 * m.Weights[i]
			}
			m.Weights[i] -= 0.5 * g
		}
	}
	return m
}

// FollowUpAccuracy is the share of samples whose decision (P ≥ 0.5) matches the label.
func FollowUpAccuracy(m *FollowUpModel, samples []FollowSample) float64 {
	if len(samples) == 0 {
		return 0
	}
	ok := 0
	for _, s := range samples {
		if (m.Prob(s.X) >= 0.5) == s.Follows {
			ok++
		}
	}
	return float64(ok) / float64(len(samples))
}

// FollowUpLogLoss is the mean negative log-likelihood of samples under m.
func FollowUpLogLoss(m *FollowUpModel, samples []FollowSample) float64 {
	if len(samples) == 0 {
		return 0
	}
	sum := 0.0
	for _, s := range samples {
		p := m.Prob(s.X)
		if !s.Follows {
			p = 1 - p
		}
		sum -= math.Log(math.Max(p, 1e-12))
	}
	return sum / float64(len(samples))
}
