package web

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trolyao/trolyao/internal/cached"
	"github.com/trolyao/trolyao/knowledge"
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

func newMetrics(reg prometheus.Registerer, st knowledge.Store) *metrics {
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
		if st != nil {
			registerCatalog(reg, st)
		}
	}
	return m
}

// catalogState is what the catalog metrics say: how many procedures the store holds and a fingerprint of
// their content.
type catalogState struct {
	procedures  int
	fingerprint uint64
}

// registerCatalog registers the catalog's size, trolyao_catalog_procedures, and its version,
// trolyao_catalog_fingerprint: a number derived from every record's code and content hash, equal in every
// process serving the same catalog and changed by any publish, import or ingest. They are read from the
// store at most every 15 s.
func registerCatalog(reg prometheus.Registerer, st knowledge.Store) {
	state := &cached.Value[catalogState]{Every: 15 * time.Second, Timeout: 5 * time.Second,
		F: func(ctx context.Context) (catalogState, error) {
			h, err := st.Hashes(ctx)
			if err != nil {
				return catalogState{}, err
			}
			return catalogState{procedures: len(h), fingerprint: Fingerprint(h)}, nil
		}}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "trolyao_catalog_procedures",
			Help: "Procedures in the catalog the assistant answers from."},
			func() float64 { return float64(state.Get().procedures) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "trolyao_catalog_fingerprint",
			Help: "The catalog's version: a 48-bit number derived from every record's code and content hash (0: empty). " +
				"Processes serving the same catalog show the same number; any change of a record changes it."},
			func() float64 { return float64(state.Get().fingerprint) }))
}

// Fingerprint is a 48-bit number (exact in a float64) derived from a catalog's code → content hash map; 0 for
// an empty catalog.
func Fingerprint(hashes map[string]string) uint64 {
	if len(hashes) == 0 {
		return 0
	}
	codes := make([]string, 0, len(hashes))
	for c := range hashes {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	h := sha256.New()
	for _, c := range codes {
		h.Write([]byte(c + "\x00" + hashes[c] + "\x00"))
	}
	var b [8]byte
	copy(b[2:], h.Sum(nil)[:6])
	return binary.BigEndian.Uint64(b[:])
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
