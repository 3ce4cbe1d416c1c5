package assistant

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"
)

// The decision policy: one multinomial logistic model reads the features of a turn and gives the probability
// of three outcomes — the best-ranked procedure is right (classAnswer), a right one is among the next ranks
// (classClarify), nothing ranked is right or the message needs no procedure (classAbstain). The action of
// highest expected utility under those probabilities is taken: answer, answer with alternatives, ask which
// procedure (at most five options), or say plainly that it does not know. The model is fitted on the question
// bank's train split and the weight of its abstain outcomes chosen on the validation split (`trolyao policy
// fit`, deterministic); policy.json holds the result with its calibration table.
//
// No feature grows or shrinks with the length of a message or with context it adds (a place, a relative, a
// job): they describe the best candidates (their scores, their lead over other procedures, how much of their
// name the message contains), how close the message is to a known negative (off-topic, unlawful, political,
// not in this catalog) and which intents it carries.

// Classes of the policy model.
const (
	classAnswer = iota
	classClarify
	classAbstain
	numClasses
)

// FeatureNames names the features, in order.
var FeatureNames = []string{
	"score1",     // fused score of the best procedure
	"margin",     // its relative lead over the best procedure of another family
	"lexical1",   // log(1 + BM25) of the best procedure
	"dense1",     // cosine similarity of the best procedure
	"namecover1", // share of the best procedure's name the message contains
	"score2",     // fused score of the best procedure of another family
	"negative",   // similarity to the nearest negative of the question bank
	"negmargin",  // negative minus the best procedure's phrasing similarity
	"topical",    // the message asks something about a procedure (documents, fee, time, …)
	"offtopic",   // an out-of-scope cue ("giá vàng", "thời tiết")
	"nocontent",  // no content words at all
	"phrasing1",  // similarity of the message to the best procedure's closest bank phrasing
	"namecover2", // share of the second procedure's name the message contains
	"phrasing2",  // similarity of the message to the second procedure's closest bank phrasing
	"exactname",  // the message contains the best procedure's whole name and not the second's
	"unknown",    // words (at most 3) that neither the catalog's candidates nor any bank phrasing contain
	"headcover1", // share of the first words of the best procedure's name (its action: "ủy quyền lĩnh thay") the message contains
}

// Indices of the features, in the order of FeatureNames.
const (
	fScore1 = iota
	fMargin
	fLexical1
	fDense1
	fNameCover1
	fScore2
	fNegative
	fNegMargin
	fTopical
	fOffTopic
	fNoContent
	fPhrasing1
	fNameCover2
	fPhrasing2
	fExactName
	fUnknown
	fHeadCover1
	numFeatures
)

// Features are the inputs of the policy for one turn.
type Features [numFeatures]float64

// Policy is the fitted model with the weight of its abstain outcomes.
type Policy struct {
	Version  string      `json:"version"`  // the question bank it was fitted on
	Features []string    `json:"features"` // FeatureNames at fitting time
	Mean     []float64   `json:"mean"`     // standardisation of the features
	Std      []float64   `json:"std"`
	Weights  [][]float64 `json:"weights"` // per class: bias, then one weight per feature
	L2       float64     `json:"l2"`
	// AbstainWeight weighs the outcomes where nothing ranked is right in the expected utility (see Decide):
	// above 1 the assistant declines sooner, below 1 it answers sooner. Chosen on validation.
	AbstainWeight float64       `json:"abstain_weight"`
	Report        *PolicyReport `json:"report,omitempty"`
	// FollowUp decides whether a message continues on the procedure in focus (see followup.go).
	FollowUp *FollowUpModel `json:"follow_up,omitempty"`
}

// PolicyReport is what the fitting measured.
type PolicyReport struct {
	Train       int                `json:"train_turns"`
	Validation  int                `json:"validation_turns"`
	Reliability []ReliabilityBin   `json:"reliability"` // validation: predicted P(answer) vs observed top-1 correctness
	Metrics     map[string]float64 `json:"metrics"`     // validation figures at the chosen weight
	// Tradeoff are the validation figures at every abstain weight tried: what answering sooner or later costs.
	Tradeoff []map[string]float64 `json:"tradeoff"`
}

// ReliabilityBin is one row of the calibration table.
type ReliabilityBin struct {
	From, To  float64 // predicted probability range
	N         int
	Predicted float64 // mean predicted probability
	Observed  float64 // share of turns whose best procedure was right
}

//go:embed policy.json
var policyJSON []byte

// DefaultPolicy returns the fitted policy shipped with the binary (policy.json).
func DefaultPolicy() (*Policy, error) {
	defaultPolicy.once.Do(func() {
		var p Policy
		if err := json.Unmarshal(policyJSON, &p); err != nil {
			defaultPolicy.err = fmt.Errorf("assistant: policy.json: %w", err)
			return
		}
		if err := p.check(); err != nil {
			defaultPolicy.err = fmt.Errorf("assistant: policy.json: %w", err)
			return
		}
		defaultPolicy.p = &p
	})
	return defaultPolicy.p, defaultPolicy.err
}

var defaultPolicy struct {
	once sync.Once
	p    *Policy
	err  error
}

func (p *Policy) check() error {
	if !slices.Equal(p.Features, FeatureNames) {
		return fmt.Errorf("fitted on features %v, the code has %v: run `trolyao policy fit`", p.Features, FeatureNames)
	}
	if len(p.Weights) != numClasses || len(p.Mean) != len(FeatureNames) || len(p.Std) != len(FeatureNames) {
		return fmt.Errorf("malformed weights")
	}
	for _, w := range p.Weights {
		if len(w) != len(FeatureNames)+1 {
			return fmt.Errorf("malformed weights")
		}
	}
	if p.FollowUp == nil {
		return fmt.Errorf("no follow-up model: run `trolyao policy fit`")
	}
	return p.FollowUp.check()
}

// Probabilities returns P(answer), P(clarify), P(abstain) for f.
func (p *Policy) Probabilities(f Features) [numClasses]float64 {
	var z [numClasses]float64
	if len(p.Weights) != numClasses {
		return softmax(z) // an unfitted policy: every outcome alike
	}
	for c := range numClasses {
		w := p.Weights[c]
		s := w[0]
		for i, x := range f {
			s += w[i+1] * (x - p.Mean[i]) / p.Std[i]
		}
		z[c] = s
	}
	return softmax(z)
}

func softmax(z [numClasses]float64) [numClasses]float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, v)
	}
	var out [numClasses]float64
	sum := 0.0
	for i, v := range z {
		out[i] = math.Exp(v - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// Action is what the policy decides for a turn.
type Action int

const (
	ActAbstain Action = iota
	ActClarify
	ActAnswerWithAlternatives
	ActAnswer
)

// Decide returns the action of highest expected utility under the probabilities pr (see utility), the
// outcomes where nothing ranked is right weighing AbstainWeight.
func (p *Policy) Decide(pr [numClasses]float64) Action {
	best, bestU := ActAbstain, math.Inf(-1)
	for _, act := range []Action{ActAnswer, ActAnswerWithAlternatives, ActClarify, ActAbstain} {
		u := 0.0
		for c := range numClasses {
			w := 1.0
			if c == classAbstain {
				w = p.AbstainWeight
			}
			u += w * pr[c] * utility(act, c)
		}
		if u > bestU {
			best, bestU = act, u
		}
	}
	return best
}

// Sample is one labelled turn for fitting.
type Sample struct {
	F        Features
	Class    int
	Negative bool // a message no procedure answers (rather than a question whose procedure ranked nowhere)
}

// FitPolicy fits the multinomial logistic model on train by gradient descent with L2 penalty l2 (features
// standardised on train). Deterministic.
func FitPolicy(train []Sample, l2 float64) *Policy {
	n := len(FeatureNames)
	p := &Policy{Features: slices.Clone(FeatureNames), Mean: make([]float64, n), Std: make([]float64, n), L2: l2}
	for _, s := range train {
		for i, x := range s.F {
			p.Mean[i] += x
		}
	}
	for i := range p.Mean {
		p.Mean[i] /= float64(max(1, len(train)))
	}
	for _, s := range train {
		for i, x := range s.F {
			p.Std[i] += (x - p.Mean[i]) * (x - p.Mean[i])
		}
	}
	for i := range p.Std {
		p.Std[i] = math.Sqrt(p.Std[i] / float64(max(1, len(train))))
		if p.Std[i] < 1e-9 {
			p.Std[i] = 1
		}
	}
	p.Weights = make([][]float64, numClasses)
	for c := range p.Weights {
		p.Weights[c] = make([]float64, n+1)
	}
	xs := make([][]float64, len(train))
	for j, s := range train {
		x := make([]float64, n+1)
		x[0] = 1
		for i, v := range s.F {
			x[i+1] = (v - p.Mean[i]) / p.Std[i]
		}
		xs[j] = x
	}
	// Full-batch gradient descent with a fixed step: small data, convex loss.
	const (
		steps = 3000
		rate  = 0.5
	)
	grad := make([][]float64, numClasses)
	for c := range grad {
		grad[c] = make([]float64, n+1)
	}
	for range steps {
		for c := range grad {
			clear(grad[c])
		}
		for j, s := range train {
			var z [numClasses]float64
			for c := range numClasses {
				for i, v := range xs[j] {
					z[c] += p.Weights[c][i] * v
				}
			}
			pr := softmax(z)
			for c := range numClasses {
				d := pr[c]
				if c == s.Class {
					d--
				}
				for i, v := range xs[j] {
					grad[c][i] += d * v
				}
			}
		}
		m := float64(max(1, len(train)))
		for c := range numClasses {
			for i := range grad[c] {
				g := grad[c][i] / m
				if i > 0 {
					g += l2 * p.Weights[c][i]
				}
				p.Weights[c][i] -= rate * g
			}
		}
	}
	return p
}
