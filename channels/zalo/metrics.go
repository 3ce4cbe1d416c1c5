package zalo

import (
	"encoding/json"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the channel, registered with Options.Registerer when it is set.
type metrics struct {
	webhooks  *prometheus.CounterVec // by outcome
	unknown   *prometheus.CounterVec // how sends with an unknown outcome ended: echo, resent
	ack       prometheus.Histogram
	depth     *prometheus.GaugeVec   // jobs, sends
	sends     *prometheus.CounterVec // sent, retry, final
	refreshes *prometheus.CounterVec // refreshed, rejected, error: one per request to the OAuth server
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trolyao_zalo_webhooks_total",
			Help: "Zalo webhook deliveries by outcome (accepted, duplicate, echo, ignored, unknown_event, bad_signature, stale, unknown_oa, bad_request, too_large, store_error)."},
			[]string{"outcome"}),
		ack: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "trolyao_zalo_webhook_ack_seconds",
			Help:    "Time from receiving a Zalo delivery to its 200 (the durable write included).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2}}),
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trolyao_zalo_queue_depth", Help: "Unfinished Zalo jobs and unsent messages."}, []string{"queue"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trolyao_zalo_sends_total", Help: "Zalo message sends by outcome (sent, retry, final, unknown: the sender stopped during the call, or no answer came after the request went out)."},
			[]string{"outcome"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trolyao_zalo_token_refreshes_total", Help: "Zalo access token refreshes by outcome (refreshed, rejected, error): one per request to the OAuth server, however many senders wait for it."},
			[]string{"outcome"}),
	}
	m.unknown = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trolyao_zalo_unknown_sends_total",
		Help: "Zalo sends whose outcome was unknown (sends_total{outcome=\"unknown\"}), by resolution: echo (Zalo's oa_send_text echo confirmed the delivery), resent (no echo within the wait: sent again)."},
		[]string{"resolution"})
	if reg == nil {
		return m, nil
	}
	if err := reg.Register(m.unknown); err != nil {
		return nil, fmt.Errorf("zalo: metrics: %w", err)
	}
	for _, c := range []prometheus.Collector{m.webhooks, m.ack, m.depth, m.sends, m.refreshes} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("zalo: metrics: %w", err)
		}
	}
	return m, nil
}

// jsonUnmarshal decodes a delivery.
func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
