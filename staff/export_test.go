package staff

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// KnownDevice is knownDevice, for the tests.
var KnownDevice = knownDevice

// HashCounter counts the password checks of a Service's logins: how many there were, and the most that ran
// at once.
type HashCounter struct{ total, running, peak atomic.Int64 }

// Total is how many passwords were checked.
func (c *HashCounter) Total() int64 { return c.total.Load() }

// Peak is the most password checks that ran at once.
func (c *HashCounter) Peak() int64 { return c.peak.Load() }

// CountHashes makes s count its logins' password checks (the real ones still run). Call it before s serves
// any request.
func CountHashes(s *Service) *HashCounter {
	c := &HashCounter{}
	check := s.checkPassword
	s.checkPassword = func(encoded, password string) bool {
		c.total.Add(1)
		n := c.running.Add(1)
		defer c.running.Add(-1)
		for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
		}
		return check(encoded, password)
	}
	return c
}

// waiters is how many logins wait in lane l.
func (g *hashGate) waiters(l lane) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.waiting[l])
}

// CheapHashes makes HashPassword (and so AddUser) use 1 pass over 64 KiB instead of the real parameters, for
// the tests whose subject is not the hash: TestMain sets it before the tests run. The hash an unknown user's
// login is checked against keeps the real parameters.
func CheapHashes() { hashCost.passes, hashCost.memory = 1, 64 }

// RealHashes makes HashPassword use the real parameters until t ends, for the tests of hashing and of logins
// whose timing depends on it. It must not run in parallel with other tests.
func RealHashes(t testing.TB) {
	old := hashCost
	hashCost.passes, hashCost.memory = argonTime, argonMemory
	t.Cleanup(func() { hashCost = old })
}

// FillOthersLane takes the hashing slots the others' lane may hold and fills its waiting room, as a flood from
// many addresses does, until ctx ends (the waiters also leave after Options.LoginHashWait). It returns once
// the room is full.
func FillOthersLane(ctx context.Context, s *Service) {
	g := s.hashes
	for range g.othersMax {
		if g.enter(ctx, laneOthers) {
			context.AfterFunc(ctx, func() { g.leave(laneOthers) })
		}
	}
	for range g.maxWaiting {
		go func() {
			if g.enter(ctx, laneOthers) {
				g.leave(laneOthers)
			}
		}()
	}
	for g.waiters(laneOthers) < g.maxWaiting {
		time.Sleep(time.Millisecond)
	}
}
