package main

import (
	"context"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/channels/web/widget"
	"github.com/trolyao/trolyao/knowledge"
)

// mostAsked sets the widget's default starter questions from the procedures most asked recently, when the
// operator configured none and the conversation store can rank them, and returns what refreshes them every
// hour until its context ends (nil when there is nothing to refresh). A failure is logged: the built-in
// questions then stay.
func (a *app) mostAsked(ctx context.Context, st knowledge.Store, convs knowledge.Conversations, opts widget.Options) func(context.Context) {
	ranker, ok := convs.(knowledge.CitationRanker)
	if !ok || opts.Starters != nil || opts.Live == nil {
		return nil
	}
	m := &assistant.MostAsked{Ranker: ranker, Catalog: st, Set: opts.Live.SetMostAsked, Logger: a.logger}
	if qs, err := m.Refresh(ctx); err != nil {
		a.logger.Warn("most asked procedures", "err", err)
	} else {
		a.logger.Info("starter questions from the most asked procedures", "questions", len(qs))
	}
	return func(ctx context.Context) { m.Run(ctx, 0) }
}
