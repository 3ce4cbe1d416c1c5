package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// chatRequest is the body of POST /api/v1/chat.
type chatRequest struct {
	Text           string `json:"text"`
	ConversationID string `json:"conversation_id"`
	ID             string `json:"id"` // optional, echoed in the SSE frames
}

// feedbackRequest is the body of POST /api/v1/chat/feedback.
type feedbackRequest struct {
	ConversationID string `json:"conversation_id"`
	MessageID      int64  `json:"message_id"`
	Value          int    `json:"value"`
	Reason         string `json:"reason"` // optional, with -1: one of knowledge.FeedbackReasons
}

func writeChatError(w http.ResponseWriter, e *chatError) {
	writeError(w, e.Status, e.Code, e.Message)
}

// cors checks the Origin of a chat REST request and, for an allowed cross-origin page, says so in the
// response headers. It reports false, having answered 403, for an origin not allowed.
func (c *chat) cors(w http.ResponseWriter, r *http.Request) bool {
	if !c.originAllowed(r) {
		c.refuseOrigin(w, r)
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Add("Vary", "Origin")
	}
	return true
}

// preflight answers a CORS preflight request of the chat REST API.
func (c *chat) preflight(w http.ResponseWriter, r *http.Request) {
	if !c.cors(w, r) {
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Accept")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// decodeJSON reads a JSON body of at most MaxRESTBody bytes.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) *chatError {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return errUnsupported
		}
	}
	body := http.MaxBytesReader(w, r.Body, MaxRESTBody)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return errTooLong
		}
		return errBadRequest
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errBadRequest
	}
	return nil
}

func wantsSSE(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(mt), "text/event-stream") {
				return true
			}
		}
	}
	return false
}

// postChat answers POST /api/v1/chat: one JSON answer, or an SSE stream when the client accepts
// text/event-stream. Refusals before the answer starts are HTTP errors; once the stream has begun an error
// is an "error" event.
func (c *chat) postChat(w http.ResponseWriter, r *http.Request) {
	if !c.cors(w, r) {
		return
	}
	sse := wantsSSE(r)
	if sse {
		c.m.received.WithLabelValues("sse").Inc()
	} else {
		c.m.received.WithLabelValues("rest").Inc()
	}
	var req chatRequest
	key, e := c.admit(w, r, &req)
	if e != nil {
		c.m.reject(e)
		writeChatError(w, e)
		return
	}
	ctx, cancel := requestContext(r)
	conv, e := c.resolve(ctx, req.ConversationID)
	cancel()
	if e != nil {
		c.active.Done()
		writeChatError(w, e)
		return
	}
	accepted := time.Now()
	rc := http.NewResponseController(w)
	if !sse {
		c.answerJSON(w, r, rc, key, &req, conv, accepted)
		return
	}
	c.answerSSE(w, r, rc, key, &req, conv, accepted)
}

// admit reads a chat request into req and lets it in: a valid request from a client within its rate, while
// the service is ready and not full. It returns the client's key for the rate limits; an admitted request
// holds a place among the answers in flight (see begin).
func (c *chat) admit(w http.ResponseWriter, r *http.Request, req *chatRequest) (string, *chatError) {
	e := decodeJSON(w, r, req)
	if e == nil && len(req.ID) > MaxClientID {
		e = errBadRequest
	}
	if e == nil {
		e = checkText(req.Text)
	}
	if e == nil && !c.ready() {
		e = errNotReady
	}
	if e == nil && req.ConversationID != "" && !validConversationID(req.ConversationID) {
		e = errBadConversation
	}
	key := c.clientIP(r)
	if e == nil {
		var wait time.Duration
		if e, wait = c.allow(key); e != nil {
			setRetryAfter(w, wait)
		}
	}
	if e == nil {
		e = c.begin()
	}
	return key, e
}

// answerJSON writes the answer, or the error that ended it, as one JSON body.
func (c *chat) answerJSON(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, key string, req *chatRequest,
	conv string, accepted time.Time) {
	var final any
	var status int
	c.answer(r.Context(), key, req.ID, conv, req.Text, accepted, func(kind string, v any) {
		switch f := v.(type) {
		case Answer:
			f.Type, f.ID = "", ""
			final, status = f, http.StatusOK
		case errorFrame:
			final, status = map[string]apiError{"error": {Code: f.Code, Message: f.Message}}, f.status
			if f.Code == errBusy.Code {
				setRetryAfter(w, c.cfg.BusyWait)
			}
		}
	})
	_ = rc.SetWriteDeadline(time.Now().Add(c.cfg.WriteWait))
	writeJSON(w, status, final)
}

// answerSSE streams the answer as server-sent events, an "ack" first; after a failed write the stream is
// broken and the rest is not sent.
func (c *chat) answerSSE(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, key string, req *chatRequest,
	conv string, accepted time.Time) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	var mu sync.Mutex
	broken := false
	send := func(kind string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			c.s.logError("encode event", err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if broken {
			return
		}
		// Each event gets its own write deadline, so that a stream outlives http.Server.WriteTimeout.
		_ = rc.SetWriteDeadline(time.Now().Add(c.cfg.WriteWait))
		if _, err := io.WriteString(w, "event: "+kind+"\ndata: "+string(b)+"\n\n"); err != nil {
			broken = true
			return
		}
		if err := rc.Flush(); err != nil {
			broken = true
		}
	}
	send("ack", ackFrame{Type: "ack", ID: req.ID, ConversationID: conv})
	c.answer(r.Context(), key, req.ID, conv, req.Text, accepted, send)
}

func (c *chat) postFeedback(w http.ResponseWriter, r *http.Request) {
	if !c.cors(w, r) {
		return
	}
	var req feedbackRequest
	e := decodeJSON(w, r, &req)
	if e == nil && !c.ready() {
		e = errNotReady
	}
	if e == nil {
		var wait time.Duration
		if e, wait = c.allow(c.clientIP(r)); e != nil {
			c.m.reject(e)
			setRetryAfter(w, wait)
		}
	}
	if e == nil {
		ctx, cancel := requestContext(r)
		e = c.feedback(ctx, req.ConversationID, req.MessageID, req.Value, req.Reason)
		cancel()
	}
	if e != nil {
		writeChatError(w, e)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *chat) getHistory(w http.ResponseWriter, r *http.Request) {
	if !c.cors(w, r) {
		return
	}
	if !c.ready() {
		writeChatError(w, errNotReady)
		return
	}
	ctx, cancel := requestContext(r)
	defer cancel()
	h, e := c.history(ctx, r.PathValue("conversation_id"))
	if e != nil {
		writeChatError(w, e)
		return
	}
	w.Header().Set("Cache-Control", "no-store") // what a citizen wrote: no shared cache may keep it
	writeJSON(w, http.StatusOK, h)
}

// setRetryAfter tells a refused client when to try again, in whole seconds (at least 1).
func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))))
}

// requestContext bounds a short request of the chat API.
func requestContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), requestTimeout)
}
