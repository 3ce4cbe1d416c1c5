package web

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the chat API. They are registered with Server.Registerer when it is set; otherwise they are
// kept but not exported.
type metrics struct {
	open     prometheus.Gauge
	received *prometheus.CounterVec // by channel: websocket, rest, sse
	answers  *prometheus.CounterVec // by outcome: answered, abstained, clarify, error
	latency  prometheus.Histogram
	rejected *prometheus.CounterVec // by reason: rate_limited, busy, too_long, origin, conn_limit
	slow     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trolyao_web_websockets_open", Help: "Websocket connections open now."}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trolyao_web_messages_received_total", Help: "Chat messages received, by channel (websocket, rest, sse)."},
			[]string{"channel"}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trolyao_web_answers_total", Help: "Chat answers, by outcome (answered, abstained, clarify, error)."},
			[]string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "trolyao_web_answer_seconds", Help: "Time from accepting a chat message to its final answer.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 45}}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trolyao_web_rejected_total", Help: "Chat requests refused, by reason (rate_limited, busy, too_long, origin, conn_limit)."},
			[]string{"reason"}),
		slow: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trolyao_web_slow_reader_disconnects_total", Help: "Websockets closed because the client did not read its frames."}),
	}
	for _, ch := range []string{"websocket", "rest", "sse"} {
		m.received.WithLabelValues(ch)
	}
	for _, o := range []string{"answered", "abstained", "clarify", "error"} {
		m.answers.WithLabelValues(o)
	}
	for _, r := range []string{"rate_limited", "busy", "too_long", "origin", "conn_limit"} {
		m.rejected.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.open, m.received, m.answers, m.latency, m.rejected, m.slow)
	}
	return m
}

// reject counts a refused request when err is one of the counted kinds.
func (m *metrics) reject(err *chatError) {
	switch err {
	case errRateLimited:
		m.rejected.WithLabelValues("rate_limited").Inc()
	case errBusy, errShuttingDown:
		m.rejected.WithLabelValues("busy").Inc()
	case errTooLong:
		m.rejected.WithLabelValues("too_long").Inc()
	case errOrigin:
		m.rejected.WithLabelValues("origin").Inc()
	case errConnLimit:
		m.rejected.WithLabelValues("conn_limit").Inc()
	}
}
