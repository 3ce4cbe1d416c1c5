package web

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/internal/apierr"
	"github.com/trolyao/trolyao/internal/clientip"
	"github.com/trolyao/trolyao/knowledge"
)

// Replier answers one message of a conversation; *assistant.Assistant implements it. emit receives the
// streamed events (typing, deltas, the final answer); the returned answer is authoritative.
type Replier interface {
	Reply(ctx context.Context, conv, text string, emit func(assistant.Event)) (assistant.Answer, error)
}

var _ Replier = (*assistant.Assistant)(nil)

// CentreIndex finds the service centre of a current commune by its code (*knowledge.LiveCentres).
type CentreIndex interface {
	ByCode(code string) (knowledge.Centre, bool)
}

// chat is the state of the chat API shared by the websocket and REST handlers: limits, conversation locks,
// open connections, and what graceful shutdown needs.
type chat struct {
	s        *Server
	cfg      Config
	m        *metrics
	upgrader websocket.Upgrader
	slots    chan struct{} // answers being composed, at most cfg.MaxInFlight
	clients  *clientTable  // per client: the message budget and the answers in progress
	// originLog rate-limits the log lines of refused origins.
	originLog *rate.Limiter

	base   context.Context // cancelled when Shutdown gives up waiting
	cancel context.CancelFunc

	mu      sync.Mutex
	closing bool
	active  sync.WaitGroup // accepted messages not answered yet
	convs   map[string]*convLock
	conns   map[*conn]struct{}
	perIP   map[string]int
}

// convLock serialises the messages of one conversation. refs counts the messages accepted for it and not
// answered yet; the lock is dropped from the map at zero.
type convLock struct {
	ch   chan struct{}
	refs int
}

func newChat(s *Server) *chat {
	cfg := s.Config.withDefaults()
	c := &chat{
		s:       s,
		cfg:     cfg,
		m:       newMetrics(s.Registerer, s.Store),
		slots:   make(chan struct{}, cfg.MaxInFlight),
		clients: newClientTable(cfg.ClientRate, cfg.ClientBurst, cfg.ClientInFlight, cfg.MaxClients),
		convs:   map[string]*convLock{}, conns: map[*conn]struct{}{}, perIP: map[string]int{},
	}
	c.originLog = rate.NewLimiter(rate.Every(originLogEvery), originLogBurst)
	c.base, c.cancel = context.WithCancel(context.Background())
	c.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
		WriteBufferPool:  &sync.Pool{},
		CheckOrigin:      func(*http.Request) bool { return true }, // checked before Upgrade
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			writeError(w, status, "bad_request", "Yêu cầu kết nối websocket không hợp lệ.")
		},
	}
	return c
}

// ready reports whether messages can be answered.
func (c *chat) ready() bool {
	s := c.s
	if s.Ready != nil && !s.Ready() {
		return false
	}
	return s.Assistant != nil && s.Conversations != nil
}

// begin counts an accepted message, unless the server is shutting down.
func (c *chat) begin() *chatError {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return errShuttingDown
	}
	c.active.Add(1)
	return nil
}

func checkText(text string) *chatError {
	text = strings.TrimSpace(text)
	if text == "" {
		return errEmpty
	}
	if utf8.RuneCountInString(text) > MaxChars {
		return errTooLong
	}
	if strings.ContainsRune(text, 0) { // no conversation store keeps a NUL: refuse it before the ack
		return errBadText
	}
	return nil
}

// resolve returns the conversation a message goes to: a new id when the client gave none, or gave a
// well-formed id the server does not know (never used, or purged); the given id otherwise. It takes a
// reference on the conversation's lock, which the caller releases with unref.
func (c *chat) resolve(ctx context.Context, id string) (string, *chatError) {
	if id == "" {
		id = newConversationID()
		c.ref(id)
		return id, nil
	}
	if !validConversationID(id) {
		return "", errBadConversation
	}
	c.mu.Lock()
	if l, ok := c.convs[id]; ok { // a message of it is in flight
		l.refs++
		c.mu.Unlock()
		return id, nil
	}
	c.mu.Unlock()
	conv, err := c.s.Conversations.Load(ctx, id)
	if err != nil {
		c.s.logError("load conversation", err)
		return "", errInternal
	}
	if len(conv.Messages) == 0 {
		id = newConversationID()
	}
	c.ref(id)
	return id, nil
}

func (c *chat) ref(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.convs[id]
	if l == nil {
		l = &convLock{ch: make(chan struct{}, 1)}
		c.convs[id] = l
	}
	l.refs++
}

func (c *chat) unref(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l := c.convs[id]; l != nil {
		if l.refs--; l.refs <= 0 {
			delete(c.convs, id)
		}
	}
}

// sender delivers the frames of one answer: kind is the frame type (the SSE event name), v the frame.
type sender func(kind string, v any)

// answer answers text of client key (see clientKey) in conversation conv (resolved, referenced and counted by
// begin), sending typing, the deltas and the answer or an error through send, then releases the conversation
// and the count. Messages of one conversation are answered one at a time, in the order they took the lock.
func (c *chat) answer(ctx context.Context, key, id, conv, text string, accepted time.Time, send sender) {
	defer c.active.Done()
	defer c.unref(conv)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.AnswerTimeout)
	defer cancel()
	stop := context.AfterFunc(c.base, cancel)
	defer stop()

	ans, cerr := c.compose(ctx, key, id, conv, text, send)
	c.m.latency.Observe(time.Since(accepted).Seconds())
	if cerr != nil {
		c.m.answers.WithLabelValues("error").Inc()
		c.m.reject(cerr)
		send("error", errorFrame{Type: "error", ID: id, Code: cerr.Code, Message: cerr.Message, status: cerr.Status})
		return
	}
	switch {
	case ans.Abstained:
		c.m.answers.WithLabelValues("abstained").Inc()
	case len(ans.Citations) == 0 && len(ans.Options) > 0: // an answer may also offer alternatives
		c.m.answers.WithLabelValues("clarify").Inc()
	default:
		c.m.answers.WithLabelValues("answered").Inc()
	}
	out := answerOf(ans)
	out.Type, out.ID, out.ConversationID = "answer", id, conv
	out.Contact = c.contact(ctx, conv, ans)
	send("answer", out)
}

// contact is the service centre of the citizen's commune, for an answer about where to go or about a ward,
// when the conversation has named one current commune whose centre is known; nil otherwise. (Only those
// answers read the conversation's state again: the widget keeps the contact it was given.)
func (c *chat) contact(ctx context.Context, conv string, ans assistant.Answer) *Contact {
	if c.s.Centres == nil || !slices.ContainsFunc(ans.Intents, func(i assistant.Intent) bool {
		return i == assistant.IntentWhere || i == assistant.IntentWard
	}) {
		return nil
	}
	st, err := c.s.Conversations.Load(ctx, conv)
	if err != nil {
		c.s.logError("contact: load conversation", err)
		return nil
	}
	codes := strings.Fields(st.State.Ward)
	if len(codes) != 1 {
		return nil // none named, or an old ward split into several: the answer lists them
	}
	ct, ok := c.s.Centres.ByCode(codes[0])
	if !ok {
		return nil
	}
	return &Contact{Name: ct.Name, Address: ct.Address, Phone: ct.Phone, Hours: ct.Hours}
}

// compose waits for the conversation's lock, then for a slot of the client (at most ClientInFlight) and one
// of the server (at most MaxInFlight), both within BusyWait, and composes the answer.
func (c *chat) compose(ctx context.Context, key, id, conv, text string, send sender) (assistant.Answer, *chatError) {
	c.mu.Lock()
	l := c.convs[conv]
	c.mu.Unlock()
	select {
	case l.ch <- struct{}{}:
	case <-ctx.Done():
		return assistant.Answer{}, errTimeout
	}
	defer func() { <-l.ch }()

	busy := time.NewTimer(c.cfg.BusyWait)
	defer busy.Stop()
	if mine := c.clients.slots(key, time.Now()); mine != nil {
		select {
		case mine <- struct{}{}:
		case <-busy.C:
			return assistant.Answer{}, errBusy
		case <-ctx.Done():
			return assistant.Answer{}, errTimeout
		}
		defer func() { <-mine }()
	}
	select {
	case c.slots <- struct{}{}:
	case <-busy.C:
		return assistant.Answer{}, errBusy
	case <-ctx.Done():
		return assistant.Answer{}, errTimeout
	}
	defer func() { <-c.slots }()

	ans, err := c.s.Assistant.Reply(assistant.WithChannel(ctx, "web"), conv, text, func(e assistant.Event) {
		switch e.Kind {
		case assistant.EventTyping:
			send("typing", typingFrame{Type: "typing", ID: id})
		case assistant.EventDelta:
			for _, piece := range pieces(e.Delta) {
				send("delta", deltaFrame{Type: "delta", ID: id, Text: piece})
			}
		}
	})
	if err != nil {
		return ans, c.classify(err)
	}
	return ans, nil
}

// classify turns an error of the assistant into the protocol's error: the question's own errors, then
// apierr.Classify (as REST and the staff API do); internals go to the log only.
func (c *chat) classify(err error) *chatError {
	switch {
	case errors.Is(err, assistant.ErrEmpty):
		return errEmpty
	case errors.Is(err, assistant.ErrTooLong):
		return errTooLong
	}
	e := apierr.Classify(err)
	if e.Logged() {
		c.s.logError("answer: "+e.Code, err)
	}
	return e
}

// minPiece is the size under which lines of an answer are sent together in one delta.
const minPiece = 200

// pieces cuts the text of a delta at line ends into pieces of at least minPiece bytes (the last may be
// shorter), so that a long offline answer renders progressively in a handful of frames.
func pieces(s string) []string {
	if len(s) <= minPiece {
		return []string{s}
	}
	var out []string
	start := 0
	for start < len(s) {
		end := len(s)
		if start+minPiece < len(s) {
			if i := strings.IndexByte(s[start+minPiece:], '\n'); i >= 0 {
				end = start + minPiece + i + 1
			}
		}
		out = append(out, s[start:end])
		start = end
	}
	return out
}

func (c *chat) history(ctx context.Context, id string) (History, *chatError) {
	if !validConversationID(id) {
		return History{}, errBadConversation
	}
	conv, err := c.s.Conversations.Load(ctx, id)
	if err != nil {
		return History{}, c.classify(err)
	}
	if len(conv.Messages) == 0 {
		return History{}, errNotFound
	}
	conv.ID = id
	return historyOf(ctx, c.s.Store, conv, c.cfg.HistoryLimit), nil
}

// feedback records 👍/👎 on an assistant message, with the reason of a 👎 (one of knowledge.FeedbackReasons,
// or ""). A store without reasons (none in this repository) records the value alone.
func (c *chat) feedback(ctx context.Context, id string, messageID int64, value int, reason string) *chatError {
	if !validConversationID(id) {
		return errBadConversation
	}
	if value != 1 && value != -1 || messageID <= 0 {
		return errBadRequest
	}
	if reason != "" && (value != -1 || !knowledge.IsFeedbackReason(reason)) {
		return errBadReason
	}
	var err error
	if r, ok := c.s.Conversations.(knowledge.ReasonedFeedback); ok {
		err = r.FeedbackReason(ctx, id, messageID, value, reason)
	} else {
		err = c.s.Conversations.Feedback(ctx, id, messageID, value)
	}
	if err != nil {
		return c.classify(err)
	}
	return nil
}

// clientIP is the client as the per-client limits count it (see clientKey): the peer, or, behind a trusted
// proxy, the right-most X-Forwarded-For entry that is not a trusted proxy.
func (c *chat) clientIP(r *http.Request) string {
	addr, raw := clientip.Of(r, c.cfg.TrustedProxies)
	if !addr.IsValid() {
		return raw
	}
	return clientKey(addr)
}

// originAllowed applies Config.AllowedOrigins to a browser's Origin header; requests without one pass.
func (c *chat) originAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	o = strings.ToLower(o)
	for _, a := range c.cfg.AllowedOrigins {
		if a == "*" || a == o {
			return true
		}
	}
	return false
}

// truncate cuts s to at most n bytes, at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// refuseOrigin answers 403 to a request from a page whose origin is not allowed, counting and logging it.
func (c *chat) refuseOrigin(w http.ResponseWriter, r *http.Request) {
	c.noteOrigin(r)
	writeChatError(w, errOrigin)
}

// noteOrigin counts a refused origin and logs it as a security event naming the page's origin (a site, never
// anything of the citizen), so that a portal missing from AllowedOrigins is found from the log. The log lines
// are rate limited: a page reloaded in a loop does not flood the log.
func (c *chat) noteOrigin(r *http.Request) {
	c.m.reject(errOrigin)
	if c.s.Logger == nil || !c.originLog.Allow() {
		return
	}
	c.s.Logger.Warn("security: origin refused", "origin", truncate(strings.ToLower(r.Header.Get("Origin")), maxLoggedOrigin),
		"route", routeOf(r), "hint", "not in -allowed-origins")
}

// maxLoggedOrigin bounds the bytes of an Origin header written to the log.
const maxLoggedOrigin = 200

// clientKey is what the per-client limits count by: an IPv4 address, or the /64 network of an IPv6 address —
// one subscriber usually holds a whole /64, so counting single IPv6 addresses would give each of them a
// fresh budget and connection cap.
func clientKey(a netip.Addr) string {
	if a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().String()
	}
	return a.String()
}

// allow takes a token from the message budget of client key (see clientKey), shared by all its websockets
// and REST calls. When the budget is spent it reports the rate-limit error and how long until the next token.
func (c *chat) allow(key string) (*chatError, time.Duration) {
	if ok, wait := c.clients.take(key, time.Now()); !ok {
		return errRateLimited, wait
	}
	return nil, 0
}

// Shutdown stops the chat API gracefully: new messages get error busy (the server is restarting) and new
// websockets are refused with 503, the answers already accepted finish until ctx is done (then they are
// cancelled), and every websocket is closed with code 1001 (going away) after its last frames. It returns
// ctx's error if the answers did not finish in time.
//
// Run it concurrently with http.Server.Shutdown and the same ctx: http.Server.Shutdown closes the listeners
// and waits for the REST and SSE requests, but does not track websockets (they are hijacked); Shutdown does
// not depend on which of the two starts first.
//
//	errc := make(chan error, 1)
//	go func() { errc <- ws.Shutdown(ctx) }()
//	err := errors.Join(srv.Shutdown(ctx), <-errc)
func (s *Server) Shutdown(ctx context.Context) error {
	c := s.chatState()
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()

	done := make(chan struct{})
	go func() {
		c.active.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		c.cancel()
	}

	c.mu.Lock()
	conns := make([]*conn, 0, len(c.conns))
	for k := range c.conns {
		conns = append(conns, k)
	}
	c.mu.Unlock()
	for _, k := range conns {
		k.goAway()
	}
	for _, k := range conns {
		select {
		case <-k.quit:
		case <-ctx.Done():
			k.close(0, "")
		}
	}
	c.cancel()
	return err
}
