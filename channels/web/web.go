// Package web serves the HTTP channel: health and readiness probes, the JSON API over the knowledge base
// (search, procedure lookup, administrative units), the chat API of protocol v1 (docs/protocol.md) over a
// websocket (GET /ws) and REST with server-sent events (POST /api/v1/chat …), and Prometheus metrics.
// Errors reach the user as a code and a Vietnamese message; details go to the log only. Observe wraps the
// whole server with the access log and the per-route latency histogram. It imports the knowledge and
// assistant packages, gorilla/websocket, the Prometheus client, golang.org/x/time/rate, internal packages
// and the standard library.
package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/internal/apierr"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/units"
)

// Limits of the API.
const (
	maxURLQuery    = 2048 // bytes of a query string
	requestTimeout = 10 * time.Second
)

// Server holds what the handlers need. Config, Registerer, Gatherer and Logger are read when Handler is
// first called; Searcher, Units, Assistant and Conversations may be set later, before Ready reports true
// (the chat API answers not_ready while Assistant or Conversations is nil).
type Server struct {
	Searcher *knowledge.Searcher
	Store    knowledge.Store
	Units    *units.Gazetteer
	Logger   *slog.Logger
	Ready    func() bool // nil means always ready

	// Assistant answers chat messages (an *assistant.Assistant).
	Assistant Replier
	// Conversations is the store the assistant keeps conversations in: history and feedback read and
	// write it.
	Conversations knowledge.Conversations
	// Centres, when set, finds the service centre of the citizen's commune for the contact of an answer about
	// where to go (a *knowledge.LiveCentres, as the assistant's). Set it with Assistant.
	Centres CentreIndex
	// Starters, when set, gives the starter questions the websocket's hello frame carries: the questions a
	// client offers when a conversation starts (the widget's, a *widget.LiveStarters' Questions, which staff
	// may change at any time). nil: the hello frame has none.
	Starters func() []string
	// Config holds the limits of the chat API; zero fields take the defaults.
	Config Config
	// Registerer, when set, gets the chat API's metrics; Gatherer, when set, is served at GET /metrics.
	// Usually both are one *prometheus.Registry.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer

	once sync.Once
	chat *chat
}

// chatState returns the state of the chat API, creating it on first use.
func (s *Server) chatState() *chat {
	s.once.Do(func() { s.chat = newChat(s) })
	return s.chat
}

// Handler returns the HTTP handler with every route.
func (s *Server) Handler() http.Handler {
	c := s.chatState()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /api/v1/search", s.timeout(s.whenReady(s.search)))
	mux.HandleFunc("GET /api/v1/procedures/{code}", s.timeout(s.whenReady(s.procedure)))
	mux.HandleFunc("GET /api/v1/units", s.timeout(s.whenReady(s.units)))
	// The chat routes bound their own time: a websocket lives long, an answer takes up to AnswerTimeout.
	mux.HandleFunc("GET /ws", c.serveWS)
	mux.HandleFunc("POST /api/v1/chat", c.postChat)
	mux.HandleFunc("POST /api/v1/chat/feedback", c.postFeedback)
	mux.HandleFunc("GET /api/v1/chat/{conversation_id}", c.getHistory)
	mux.HandleFunc("OPTIONS /api/v1/chat", c.preflight)
	mux.HandleFunc("OPTIONS /api/v1/chat/{rest...}", c.preflight)
	if s.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{}))
	}
	return s.limits(mux)
}

func (s *Server) logError(what string, err error) {
	if s.Logger != nil {
		s.Logger.Error("chat: "+what, "err", err)
	}
}

func (s *Server) whenReady(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Ready != nil && !s.Ready() {
			writeChatError(w, errNotReady)
			return
		}
		h(w, r)
	}
}

func (s *Server) limits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.RawQuery) > maxURLQuery {
			writeError(w, http.StatusRequestURITooLong, "too_long", "Yêu cầu quá dài.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// timeout bounds a short request.
func (s *Server) timeout(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		h(w, r.WithContext(ctx))
	}
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil && !s.Ready() {
		writeChatError(w, errNotReady)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ready\n"))
}

// SearchResult is one ranked procedure in the API.
type SearchResult struct {
	Code   string            `json:"code"`
	Name   string            `json:"name"`
	URL    string            `json:"url,omitempty"`
	Levels []knowledge.Level `json:"levels,omitempty"`
	Score  float64           `json:"score"`
}

// SearchResponse is the body of GET /api/v1/search.
type SearchResponse struct {
	Query      string         `json:"query"`
	Confidence float64        `json:"confidence"`
	Results    []SearchResult `json:"results"`
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if q == "" {
		writeError(w, http.StatusBadRequest, "empty_query", "Vui lòng nhập câu hỏi (tham số q).")
		return
	}
	k := 5
	if v := r.URL.Query().Get("k"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > knowledge.MaxSearchK {
			writeError(w, http.StatusBadRequest, "bad_k", "Tham số k phải là số từ 1 đến 50.")
			return
		}
		k = n
	}
	res, err := s.Searcher.Search(r.Context(), q, k)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := SearchResponse{Query: res.Query.Text, Confidence: res.Confidence, Results: []SearchResult{}}
	for _, h := range res.Hits {
		sr := SearchResult{Code: h.Code, Name: h.Name, Levels: h.Levels, Score: h.Score}
		if p, err := s.Store.Get(r.Context(), h.Code); err == nil {
			sr.URL = knowledge.SafeURL(p.URL)
		}
		out.Results = append(out.Results, sr)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) procedure(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if !knowledge.IsProcedureCode(code) {
		writeError(w, http.StatusBadRequest, "bad_code", "Mã thủ tục không hợp lệ (ví dụ đúng: 1.001193).")
		return
	}
	p, err := s.Store.Get(r.Context(), code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.URL = knowledge.SafeURL(p.URL) // a link the staff check would refuse is not served
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) units(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if q == "" {
		writeError(w, http.StatusBadRequest, "empty_query", "Vui lòng nhập tên phường, xã (tham số q).")
		return
	}
	if s.Units == nil {
		writeChatError(w, errNotReady)
		return
	}
	matches, err := s.Units.Lookup(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"query": q, "matches": matches, "text": assistant.DescribeUnits(s.Units, q)})
}

// fail classifies an error once, at the edge (apierr.Classify, as the websocket and the staff API do), into
// a status, a code and a Vietnamese message; a full disk and internal errors go to the log only.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := apierr.Classify(err)
	if e.Logged() && s.Logger != nil {
		s.Logger.Error("request failed", "path", r.URL.Path, "code", e.Code, "err", err)
	}
	writeChatError(w, e)
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
