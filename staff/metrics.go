package staff

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trolyao/trolyao/internal/cached"
	"github.com/trolyao/trolyao/knowledge"
)

// metrics of the staff API, registered with Options.Registerer when it is set.
type metrics struct {
	actions *prometheus.CounterVec // audited actions by action
}

func newMetrics(s *Service, reg prometheus.Registerer) *metrics {
	m := &metrics{actions: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trolyao_staff_actions_total",
		Help: "Staff actions written to the audit log, by action (login, login_failed, publish, draft_save, …).",
	}, []string{"action"})}
	if reg == nil {
		return m
	}
	open := &cached.Value[int]{Every: 30 * time.Second, Timeout: 10 * time.Second, F: s.openQuestions, Now: s.now}
	reg.MustRegister(m.actions, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "trolyao_staff_unanswered_open",
		Help: "Questions in the staff's unanswered queue not yet handled (grouped by question, the last 90 days, as GET /unanswered shows them).",
	}, func() float64 { return float64(open.Get()) }))
	return m
}

// openQuestions counts the open groups of the unanswered queue by question over its default window: the
// first page of GET /unanswered with no parameters, without its limit.
func (s *Service) openQuestions(ctx context.Context) (int, error) {
	fl, ok := s.opt.Conversations.(knowledge.FlagLister)
	if !ok {
		return 0, nil
	}
	fs, err := fl.Flagged(ctx, knowledge.FlagFilter{Since: s.now().Add(-defaultQueueAge), Below: s.opt.LowConfidence})
	if err != nil {
		return 0, err
	}
	hs, err := s.opt.Repo.Handled(ctx)
	if err != nil {
		return 0, err
	}
	handledAt := map[string]time.Time{}
	for _, h := range hs {
		if h.Kind == ByQuestion {
			handledAt[h.Key] = h.At
		}
	}
	n := 0
	for _, g := range GroupFlagged(fs, ByQuestion, s.opt.LowConfidence) {
		if at, handled := handledAt[g.Key]; !handled || g.LastAt.After(at) {
			n++
		}
	}
	return n, nil
}
