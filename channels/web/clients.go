package web

import (
	"container/list"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// clientTable keeps what the chat API counts per client (see clientKey): the message budget that all of a
// client's websockets and its REST and SSE calls share, and the answers of the client in progress. It
// remembers at most max clients. A client whose bucket has refilled and who has no answer in progress is
// the same as one never seen, so such clients are forgotten first, oldest first; when the table is full of
// active clients, the least recently seen is forgotten (it starts again with a full bucket: to gain by it, a
// flood needs more addresses than the table holds).
type clientTable struct {
	rate     float64 // tokens per second; +Inf: no budget
	burst    float64
	inFlight int // answers of one client at once; 0: no cap
	max      int

	mu  sync.Mutex
	m   map[string]*clientState
	lru list.List // of *clientState, the most recently seen first
}

// clientState is one entry of a clientTable.
type clientState struct {
	key    string
	tokens float64   // in the bucket at time at
	at     time.Time // when tokens was last brought up to date
	// slots holds a token per answer of the client being composed or waiting for a slot of
	// Config.MaxInFlight (nil when there is no cap); a full channel makes further answers wait.
	slots chan struct{}
	el    *list.Element
}

func newClientTable(r rate.Limit, burst, inFlight, max int) *clientTable {
	if inFlight < 0 {
		inFlight = 0
	}
	rt := float64(r)
	if r == rate.Inf {
		rt = math.Inf(1)
	}
	return &clientTable{rate: rt, burst: float64(burst), inFlight: inFlight, max: max, m: map[string]*clientState{}}
}

// take takes a token from the budget of client key. When the bucket is empty it reports false and how long
// until the next token.
func (t *clientTable) take(key string, now time.Time) (ok bool, wait time.Duration) {
	if math.IsInf(t.rate, 1) {
		return true, 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.get(key, now)
	c.tokens = t.refill(c, now)
	c.at = now
	if c.tokens >= 1 {
		c.tokens--
		return true, 0
	}
	return false, t.untilToken(c.tokens)
}

// spent reports whether the budget of client key is empty, and then how long until the next token, without
// taking one.
func (t *clientTable) spent(key string, now time.Time) (bool, time.Duration) {
	if math.IsInf(t.rate, 1) {
		return false, 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.m[key]
	if c == nil {
		return false, 0
	}
	if tokens := t.refill(c, now); tokens < 1 {
		return true, t.untilToken(tokens)
	}
	return false, 0
}

// slots returns the answer slots of client key, nil when there is no cap.
func (t *clientTable) slots(key string, now time.Time) chan struct{} {
	if t.inFlight == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.get(key, now).slots
}

// refill is how many tokens c has at now.
func (t *clientTable) refill(c *clientState, now time.Time) float64 {
	if math.IsInf(t.rate, 1) {
		return t.burst
	}
	return min(t.burst, c.tokens+t.rate*now.Sub(c.at).Seconds())
}

// untilToken is how long a bucket holding tokens (less than one) takes to hold one; at most a day.
func (t *clientTable) untilToken(tokens float64) time.Duration {
	return time.Duration(min((1-tokens)/t.rate, 24*3600) * float64(time.Second))
}

// idle reports whether forgetting c loses nothing: its bucket is full and no answer of it is in progress
// (an answer waiting for a slot finds the channel full, so an empty channel also means none waits).
func (t *clientTable) idle(c *clientState, now time.Time) bool {
	return len(c.slots) == 0 && t.refill(c, now) >= t.burst
}

// get returns the entry of key, adding it (and forgetting others) when it is new; t.mu is held.
func (t *clientTable) get(key string, now time.Time) *clientState {
	if c := t.m[key]; c != nil {
		t.lru.MoveToFront(c.el)
		return c
	}
	for e := t.lru.Back(); e != nil; e = t.lru.Back() {
		old := e.Value.(*clientState)
		if len(t.m) < t.max && !t.idle(old, now) {
			break
		}
		t.lru.Remove(e)
		delete(t.m, old.key)
	}
	c := &clientState{key: key, tokens: t.burst, at: now}
	if t.inFlight > 0 {
		c.slots = make(chan struct{}, t.inFlight)
	}
	c.el = t.lru.PushFront(c)
	t.m[key] = c
	return c
}

// len is the number of clients remembered.
func (t *clientTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
