package web

import (
	"bufio"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Observe wraps the whole server's handler h with the access log and the per-route latency histogram
// trolyao_http_request_duration_seconds{method, route, code}. A request is known by its route template — the
// ServeMux pattern that matched it, e.g. /api/v1/procedures/{code}, or "unmatched" — never by its path, query
// string or body, which can carry what a citizen typed; the log line has the method, the route, the status,
// the duration and the bytes written, and no client address. Probes and scrapes (/healthz, /readyz,
// /metrics) are logged at debug level, everything else at info. A websocket is logged when it closes, with
// status 101 and the duration of its handshake. h must route with http.ServeMux (nested ones too): Observe
// reads the pattern the innermost mux set on the request.
func Observe(h http.Handler, logger *slog.Logger, reg prometheus.Registerer) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "trolyao_http_request_duration_seconds",
		Help:    "HTTP requests by method, route template and status: time to the end of the response (to the upgrade for a websocket).",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"method", "route", "code"})
	if reg != nil {
		reg.MustRegister(latency)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		defer func() {
			end := rec.upgraded
			if end.IsZero() {
				end = time.Now()
			}
			d := end.Sub(start)
			status := rec.status
			if status == 0 {
				status = http.StatusOK // nothing written: net/http answers 200
			}
			route := routeOf(r)
			method := r.Method
			if !knownMethod(method) {
				method = "other"
			}
			latency.WithLabelValues(method, route, strconv.Itoa(status)).Observe(d.Seconds())
			level := slog.LevelInfo
			if route == "/healthz" || route == "/readyz" || route == "/metrics" {
				level = slog.LevelDebug
			}
			logger.LogAttrs(r.Context(), level, "http", slog.String("method", method), slog.String("route", route),
				slog.Int("status", status), slog.Duration("duration", d), slog.Int64("bytes", rec.bytes))
		}()
		h.ServeHTTP(rec, r)
	})
}

// routeOf is the route template of a request served by a ServeMux: its pattern without the method
// ("/api/v1/procedures/{code}"), or "unmatched".
func routeOf(r *http.Request) string {
	p := r.Pattern
	if _, rest, ok := strings.Cut(p, " "); ok {
		p = rest
	}
	if p == "" {
		return "unmatched"
	}
	return p
}

func knownMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// recorder notes the status and size of a response. It passes Flush and Hijack through (server-sent events,
// websockets) and unwraps for http.ResponseController (write deadlines).
type recorder struct {
	http.ResponseWriter
	status   int
	bytes    int64
	upgraded time.Time // when the connection was hijacked
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil {
		r.status, r.upgraded = http.StatusSwitchingProtocols, time.Now()
	}
	return c, rw, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
