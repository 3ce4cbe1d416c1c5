package web

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
)

// conn is one websocket client. A reader goroutine handles its frames and a writer goroutine sends the
// frames queued for it (at most Config.SendQueue); a worker goroutine, started only while messages wait,
// answers them one at a time, in order.
type conn struct {
	c    *chat
	ws   *websocket.Conn
	ip   string        // the client's key (clientKey)
	lim  *rate.Limiter // the connection's bucket; the client's budget is in chat.clients
	send chan []byte

	away     chan struct{} // closed by Shutdown: send what is queued, then close with 1001
	awayOnce sync.Once
	quit     chan struct{} // closed when the connection is finished
	once     sync.Once

	mu      sync.Mutex
	pending []job // messages accepted and not started, oldest first
	working bool  // a worker goroutine is running

	qmu     sync.Mutex    // one queue call at a time (the reader's and the worker's)
	queued  atomic.Int64  // bytes of the frames in send and of the one being written
	drained chan struct{} // signalled (capacity 1) each time the writer has written a frame
}

// maxQueuedBytes bounds the bytes waiting for one websocket client, whatever the number of frames: a frame
// that would pass it waits (up to WriteWait) for the writer, like a frame that finds the queue full. A single
// larger frame (a long history) is queued when nothing else waits.
const maxQueuedBytes = 1 << 20

// job is an accepted message waiting for its answer.
type job struct {
	id, conv, text string
	accepted       time.Time
}

func (c *chat) serveWS(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("v") != strconv.Itoa(ProtocolVersion) {
		writeChatError(w, errBadVersion)
		return
	}
	allowed := c.originAllowed(r)
	if !allowed && !websocket.IsWebSocketUpgrade(r) {
		c.refuseOrigin(w, r)
		return
	}
	ip := c.clientIP(r)
	// A client that has spent its message budget could only be refused its messages: refuse the connection,
	// which costs the server far less than a websocket (a reconnect flood finds every door closed).
	if spent, wait := c.clients.spent(ip, time.Now()); spent {
		c.m.reject(errRateLimited)
		setRetryAfter(w, wait)
		writeChatError(w, errRateLimited)
		return
	}
	if !allowed {
		c.refuseOriginWS(w, r)
		return
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		writeChatError(w, errShuttingDown)
		return
	}
	if c.cfg.MaxConnsPerIP > 0 && c.perIP[ip] >= c.cfg.MaxConnsPerIP {
		c.mu.Unlock()
		c.m.reject(errConnLimit)
		writeChatError(w, errConnLimit)
		return
	}
	c.perIP[ip]++ // reserved before the upgrade so that a burst of handshakes cannot pass the cap
	c.mu.Unlock()

	ws, err := c.upgrader.Upgrade(w, r, nil)
	if err != nil { // the upgrader has answered the client
		c.mu.Lock()
		c.release(ip)
		c.mu.Unlock()
		return
	}
	k := &conn{c: c, ws: ws, ip: ip, lim: rate.NewLimiter(c.cfg.MessageRate, c.cfg.MessageBurst),
		send: make(chan []byte, c.cfg.SendQueue), away: make(chan struct{}), quit: make(chan struct{}),
		drained: make(chan struct{}, 1)}
	c.mu.Lock()
	if c.closing { // Shutdown began during the handshake and will not see this connection
		c.release(ip)
		c.mu.Unlock()
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(closeGoingAway, closeReasonShutdown),
			time.Now().Add(time.Second))
		_ = ws.Close()
		return
	}
	c.conns[k] = struct{}{}
	c.mu.Unlock()
	c.m.open.Inc()

	hello := helloFrame{Type: "hello", V: ProtocolVersion, MaxChars: MaxChars}
	if c.s.Starters != nil {
		hello.Starters = c.s.Starters()
	}
	k.queue(hello)
	// The handler returns at once: the HTTP server's per-connection state (request, 8 KiB of buffers, a
	// grown stack) is then garbage, and the connection lives on in two small goroutines.
	go k.writeLoop()
	go k.readLoop()
}

// refuseOriginWS answers a browser's websocket handshake from a page whose origin is not allowed. A browser
// hides the status of a refused handshake from the page, which could only retry for ever; so the handshake is
// accepted and the connection closed at once with code 1008 and the Vietnamese reason, before any frame of
// the protocol. Nothing of the client is read. The refusal is counted and logged.
func (c *chat) refuseOriginWS(w http.ResponseWriter, r *http.Request) {
	c.noteOrigin(r)
	ws, err := c.upgrader.Upgrade(w, r, nil)
	if err != nil { // the upgrader has answered the client
		return
	}
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(closePolicy, closeReasonOrigin),
		time.Now().Add(c.cfg.WriteWait))
	// Wait briefly for the browser's close frame, so that the page sees a clean close with the reason.
	go func() {
		_ = ws.SetReadDeadline(time.Now().Add(originCloseWait))
		for {
			if _, _, err := ws.NextReader(); err != nil {
				break
			}
		}
		_ = ws.Close()
	}()
}

// originCloseWait bounds how long a refused websocket waits for the client's close frame.
const originCloseWait = 5 * time.Second

// release drops a connection of ip from the per-IP count; c.mu is held.
func (c *chat) release(ip string) {
	if c.perIP[ip]--; c.perIP[ip] <= 0 {
		delete(c.perIP, ip)
	}
}

func (k *conn) readLoop() {
	defer k.close(0, "")
	cfg := k.c.cfg
	k.ws.SetReadLimit(cfg.ReadLimit)
	_ = k.ws.SetReadDeadline(time.Now().Add(cfg.PongWait))
	k.ws.SetPongHandler(func(string) error { return k.ws.SetReadDeadline(time.Now().Add(cfg.PongWait)) })
	for {
		typ, data, err := k.ws.ReadMessage()
		if err != nil {
			return // closed by the client, a read error, the read limit (gorilla sends 1009) or a deadline
		}
		_ = k.ws.SetReadDeadline(time.Now().Add(cfg.PongWait))
		if typ != websocket.TextMessage {
			k.fail("", errBadRequest)
			continue
		}
		k.handle(data)
	}
}

func (k *conn) writeLoop() {
	cfg := k.c.cfg
	ping := time.NewTicker(cfg.PingPeriod)
	defer ping.Stop()
	for {
		select {
		case b := <-k.send:
			if !k.write(b) {
				k.close(0, "")
				return
			}
		case <-ping.C:
			if err := k.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(cfg.WriteWait)); err != nil {
				k.close(0, "")
				return
			}
		case <-k.away:
			for drained := false; !drained; {
				select {
				case b := <-k.send:
					if !k.write(b) {
						k.close(0, "")
						return
					}
				default:
					drained = true
				}
			}
			_ = k.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(closeGoingAway, closeReasonShutdown), time.Now().Add(cfg.WriteWait))
			// Wait briefly for the client's closing frame, so that it reads ours before the TCP close.
			t := time.NewTimer(time.Second)
			select {
			case <-k.quit:
			case <-t.C:
			}
			t.Stop()
			k.close(0, "")
			return
		case <-k.quit:
			return
		}
	}
}

// write sends one frame. A frame the client does not take within WriteWait marks a slow reader; the caller
// then finishes the connection.
func (k *conn) write(b []byte) bool {
	_ = k.ws.SetWriteDeadline(time.Now().Add(k.c.cfg.WriteWait))
	err := k.ws.WriteMessage(websocket.TextMessage, b)
	k.queued.Add(-int64(len(b)))
	select {
	case k.drained <- struct{}{}:
	default:
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		k.slow()
	}
	return err == nil
}

// queue adds a frame for the writer, waiting up to WriteWait for room: at most SendQueue frames and
// maxQueuedBytes bytes wait. A client whose queue stays full does not read its frames: it is disconnected
// with close code 1008 rather than buffered without bound. (The reader waiting here also stops reading the
// client's frames: a client that sends without reading gets TCP back-pressure first.)
func (k *conn) queue(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		k.c.s.logError("encode frame", err)
		return
	}
	n := int64(len(b))
	k.qmu.Lock()
	defer k.qmu.Unlock()
	var t *time.Timer
	for {
		if q := k.queued.Load(); q <= 0 || q+n <= maxQueuedBytes {
			k.queued.Add(n)
			select {
			case k.send <- b:
				return
			case <-k.quit:
				k.queued.Add(-n)
				return
			default:
				k.queued.Add(-n)
			}
		}
		if t == nil {
			t = time.NewTimer(k.c.cfg.WriteWait)
			defer t.Stop()
		}
		select {
		case <-k.drained: // the writer took a frame: look again
		case <-k.quit:
			return
		case <-t.C:
			k.slow()
			return
		}
	}
}

func (k *conn) fail(id string, e *chatError) {
	k.queue(errorFrame{Type: "error", ID: id, Code: e.Code, Message: e.Message})
}

// slow disconnects a client that does not read its frames, with close code 1008.
func (k *conn) slow() {
	if k.close(closePolicy, closeReasonSlow) {
		k.c.m.slow.Inc()
	}
}

// goAway asks the writer to close the connection with 1001 once the frames queued are sent.
func (k *conn) goAway() { k.awayOnce.Do(func() { close(k.away) }) }

// close finishes the connection once: it forgets the connection, stops the goroutines, and closes the
// socket, first sending a close frame with code when code is not 0. It reports whether this call closed it.
func (k *conn) close(code int, reason string) (closed bool) {
	k.once.Do(func() {
		closed = true
		// The bookkeeping first: Shutdown returns once quit is closed, and by then the connection must be
		// forgotten and no longer counted as open.
		c := k.c
		c.mu.Lock()
		delete(c.conns, k)
		c.release(k.ip)
		c.mu.Unlock()
		c.m.open.Dec()
		close(k.quit)
		if code == 0 {
			_ = k.ws.Close()
			return
		}
		go func() { // the writer may be blocked on this client for up to WriteWait
			_ = k.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason),
				time.Now().Add(time.Second))
			_ = k.ws.Close()
		}()
	})
	return closed
}

func (k *conn) handle(data []byte) {
	var f clientFrame
	if err := json.Unmarshal(data, &f); err != nil || len(f.ID) > MaxClientID {
		k.fail("", errBadRequest)
		return
	}
	if f.Type == "ping" {
		k.queue(pongFrame{Type: "pong"})
		return
	}
	c := k.c
	// The connection's bucket first: a tab that sends too fast does not spend the budget its client's other
	// connections share.
	e := errRateLimited
	if k.lim.Allow() {
		e, _ = c.allow(k.ip)
	}
	if e != nil {
		c.m.reject(e)
		k.fail(f.ID, e)
		return
	}
	switch f.Type {
	case "message":
		c.m.received.WithLabelValues("websocket").Inc()
		if e := k.message(f); e != nil {
			c.m.reject(e)
			k.fail(f.ID, e)
		}
	case "feedback":
		if !c.ready() {
			k.fail(f.ID, errNotReady)
			return
		}
		ctx, cancel := context.WithTimeout(c.base, requestTimeout)
		defer cancel()
		if e := c.feedback(ctx, f.ConversationID, f.MessageID, f.Value, f.Reason); e != nil {
			k.fail(f.ID, e)
			return
		}
		k.queue(feedbackOKFrame{Type: "feedback_ok", MessageID: f.MessageID})
	case "history":
		if !c.ready() {
			k.fail(f.ID, errNotReady)
			return
		}
		ctx, cancel := context.WithTimeout(c.base, requestTimeout)
		defer cancel()
		h, e := c.history(ctx, f.ConversationID)
		if e != nil {
			k.fail(f.ID, e)
			return
		}
		h.Type = "history"
		k.queue(h)
	default:
		k.fail(f.ID, errBadRequest)
	}
}

// message accepts a message: it is checked, acknowledged and queued behind the one being answered.
func (k *conn) message(f clientFrame) *chatError {
	c := k.c
	if e := checkText(f.Text); e != nil {
		return e
	}
	if !c.ready() {
		return errNotReady
	}
	if f.ConversationID != "" && !validConversationID(f.ConversationID) {
		return errBadConversation
	}
	k.mu.Lock()
	full := len(k.pending) >= c.cfg.MaxQueued
	k.mu.Unlock()
	if full {
		return errBusy
	}
	if e := c.begin(); e != nil {
		return e
	}
	ctx, cancel := context.WithTimeout(c.base, requestTimeout)
	conv, e := c.resolve(ctx, f.ConversationID)
	cancel()
	if e != nil {
		c.active.Done()
		return e
	}
	k.queue(ackFrame{Type: "ack", ID: f.ID, ConversationID: conv})
	k.mu.Lock()
	k.pending = append(k.pending, job{id: f.ID, conv: conv, text: f.Text, accepted: time.Now()})
	start := !k.working
	k.working = true
	k.mu.Unlock()
	if start {
		go k.work()
	}
	return nil
}

// work answers the pending messages in order, then exits. Answers go on after the client has gone, so that
// the conversation is stored whole and can be resumed.
func (k *conn) work() {
	send := func(_ string, v any) { k.queue(v) }
	for {
		k.mu.Lock()
		if len(k.pending) == 0 {
			k.working = false
			k.mu.Unlock()
			return
		}
		j := k.pending[0]
		k.pending = k.pending[1:]
		k.mu.Unlock()
		k.c.answer(k.c.base, k.ip, j.id, j.conv, j.text, j.accepted, send)
	}
}
