package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/bank"
	"github.com/trolyao/trolyao/knowledge/embedded"
	"github.com/trolyao/trolyao/knowledge/memconv"
)

const policyUsage = `usage: trolyao policy fit [-out assistant/policy.json]
  fits the assistant's decision policy on the question bank's train split (features of each question taken
  from a catalog indexed without its own fold of procedure families) and chooses its regularisation and
  the weight of its abstain outcomes on the validation split; the test split is not read.`

// policyFolds is the number of folds of the train split: each fold's questions are assessed over a catalog
// indexed with the other folds' questions only, as a new question would be.
const policyFolds = 4

// policyCmd runs `trolyao policy fit`.
func (a *app) policyCmd(ctx context.Context, args []string) error {
	if len(args) != 1 || args[0] != "fit" {
		return usageError{policyUsage}
	}
	b, err := a.questionBank()
	if err != nil {
		return err
	}
	procs, err := a.readCatalog(a.catalogPath())
	if err != nil {
		return err
	}
	var train []assistant.Sample
	for k := range policyFolds {
		inFold := func(e bank.Entry) bool { return e.Split == bank.Train && bank.Fold(e.Family, policyFolds) == k }
		negIn := func(n bank.Negative) bool { return n.Split == bank.Train && bank.Fold(n.Key(), policyFolds) == k }
		as, done, err := a.fitAssistant(ctx, procs, b,
			func(e bank.Entry) bool { return inFold(e) || e.Split != bank.Train },
			func(n bank.Negative) bool { return n.Probe && (negIn(n) || n.Split != bank.Train) })
		if err != nil {
			return err
		}
		s, err := bankSamples(ctx, as, b, inFold, negIn)
		done()
		if err != nil {
			return err
		}
		train = append(train, s...)
		fmt.Fprintf(a.stderr, "fold %d/%d: %d turns\n", k+1, policyFolds, len(s))
	}
	as, done, err := a.fitAssistant(ctx, procs, b,
		func(e bank.Entry) bool { return e.Split != bank.Train },
		func(n bank.Negative) bool { return n.Probe && n.Split != bank.Train })
	if err != nil {
		return err
	}
	defer done()
	val, err := bankSamples(ctx, as, b,
		func(e bank.Entry) bool { return e.Split == bank.Validation },
		func(n bank.Negative) bool { return n.Split == bank.Validation })
	if err != nil {
		return err
	}
	pol := choosePolicy(train, val)
	pol.Version = b.Version()
	// The follow-up model reads the answer policy's probabilities: fitted after it, on the train dialogues, over
	// the same catalog (dialogue turns are never indexed), and chosen on the validation dialogues.
	as.Policy = pol
	ftrain, err := dialogueSamples(ctx, as, b, bank.Train)
	if err != nil {
		return err
	}
	fval, err := dialogueSamples(ctx, as, b, bank.Validation)
	if err != nil {
		return err
	}
	pol.FollowUp = chooseFollowUp(ftrain, fval)
	out, err := json.MarshalIndent(pol, "", " ")
	if err != nil {
		return err
	}
	path := a.cfg.Out
	if path == "" {
		path = "assistant/policy.json"
	}
	if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "policy fitted on %d train turns, chosen on %d validation turns (l2 %g): %v\n"+
		"follow-up model fitted on %d train dialogue turns, validation accuracy %.3f on %d turns (l2 %g)\nwrote %s\n",
		len(train), len(val), pol.L2, pol.Report.Metrics,
		pol.FollowUp.Train, pol.FollowUp.Accuracy, pol.FollowUp.Validation, pol.FollowUp.L2, path)
	return nil
}

// fitAssistant is an offline assistant over a temporary catalog indexed with the bank's phrasings but the
// probes of the entries held selects, and with the negatives but those heldNeg selects.
func (a *app) fitAssistant(ctx context.Context, procs []knowledge.Procedure, b *bank.Bank,
	held func(bank.Entry) bool, heldNeg func(bank.Negative) bool) (*assistant.Assistant, func(), error) {
	dir, err := os.MkdirTemp("", "trolyao-fit-")
	if err != nil {
		return nil, nil, err
	}
	st, err := embedded.Open(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	done := func() { st.Close(); os.RemoveAll(dir) }
	pb := b.PhrasebookWhere("fit", held)
	emb := knowledge.HashEmbedder{}
	if _, err := ingest.Sync(ctx, st, emb, emb.Meta(), procs, ingest.SyncOptions{Phrasebook: pb}); err != nil {
		done()
		return nil, nil, err
	}
	texts, codes := pb.Texts()
	neg, kinds := b.NegativesWhere(func(n bank.Negative) bool { return !heldNeg(n) })
	units, err := a.loadUnits()
	if err != nil {
		done()
		return nil, nil, err
	}
	as := &assistant.Assistant{Searcher: &knowledge.Searcher{Store: st, Embedder: emb, Weights: knowledge.DefaultWeights},
		Units: units,
		Store: st, Conversations: memconv.New(), Policy: &assistant.Policy{},
		Phrases: assistant.NewPhraseIndex(texts, codes), Negatives: assistant.NewPhraseIndex(neg, kinds)}
	return as, done, nil
}

// bankSamples assesses the questions of the selected entries and the selected negatives.
func bankSamples(ctx context.Context, as *assistant.Assistant, b *bank.Bank, entries func(bank.Entry) bool,
	negatives func(bank.Negative) bool) ([]assistant.Sample, error) {
	var out []assistant.Sample
	for _, e := range b.Entries {
		if !entries(e) {
			continue
		}
		for _, q := range e.Questions {
			if !q.Probe {
				continue
			}
			s, err := as.Label(ctx, q.Q, append(slices.Clone(e.Accept), q.Accept...))
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	for _, n := range b.Negatives {
		if !negatives(n) || !n.Probe {
			continue
		}
		s, err := as.Label(ctx, n.Q, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// choosePolicy fits the model for a few penalties, keeps the one with the best validation log-loss, and
// chooses the weight of its abstain outcomes on validation.
func choosePolicy(train, val []assistant.Sample) *assistant.Policy {
	var best *assistant.Policy
	bestLoss := math.Inf(1)
	for _, l2 := range []float64{0.0001, 0.001, 0.01, 0.1} {
		p := assistant.FitPolicy(train, l2)
		if loss := assistant.LogLoss(p, val); loss < bestLoss {
			best, bestLoss = p, loss
		}
	}
	assistant.ChooseAbstainWeight(best, val)
	best.Report.Train = len(train)
	best.Report.Metrics["log_loss"] = math.Round(bestLoss*1000) / 1000
	return best
}

// dialogueSamples labels every turn of the split's dialogues asked while a procedure was in focus — the
// procedure the previous turn expected (teacher forcing, so that the labels do not depend on the model) — with
// whether the turn expects that procedure again.
func dialogueSamples(ctx context.Context, as *assistant.Assistant, b *bank.Bank, split bank.Split) ([]assistant.FollowSample, error) {
	var out []assistant.FollowSample
	for _, d := range b.Dialogues {
		if d.Split != split {
			continue
		}
		focus := ""
		for _, t := range d.Turns {
			var expect []string
			if t.Expect != nil {
				expect = *t.Expect
			}
			if focus != "" {
				s, err := as.FollowUpSample(ctx, focus, t.Q, slices.Contains(expect, focus))
				if err != nil {
					return nil, err
				}
				out = append(out, s)
			}
			if len(expect) > 0 && !slices.Contains(expect, focus) {
				focus = expect[0]
			}
		}
	}
	return out, nil
}

// chooseFollowUp fits the follow-up model for a few penalties and keeps the one with the best validation
// log-loss.
func chooseFollowUp(train, val []assistant.FollowSample) *assistant.FollowUpModel {
	var best *assistant.FollowUpModel
	bestLoss := math.Inf(1)
	for _, l2 := range []float64{0.001, 0.01, 0.1} {
		m := assistant.FitFollowUp(train, l2)
		if loss := assistant.FollowUpLogLoss(m, val); loss < bestLoss {
			best, bestLoss = m, loss
		}
	}
	best.Accuracy = math.Round(assistant.FollowUpAccuracy(best, val)*1000) / 1000
	best.Validation = len(val)
	return best
}
