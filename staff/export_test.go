package staff

import "sync/atomic"

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

// waiters is how many logins wait in lane (0 priority, 1 the others).
func (g *hashGate) waiters(lane int) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.waiting[lane])
}
