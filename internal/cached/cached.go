// Package cached keeps a value computed at most once per interval: what a Prometheus gauge reads from a store
// on every scrape without querying it on every scrape. It imports the standard library only.
package cached

import (
	"context"
	"sync"
	"time"
)

// Value is f's result, recomputed when it is older than Every. A failed computation keeps the last value
// (and is retried at the next Get after Every); Get never waits longer than Timeout for f.
type Value[T any] struct {
	Every   time.Duration
	Timeout time.Duration
	F       func(ctx context.Context) (T, error)
	Now     func() time.Time // the clock (tests inject one); nil is time.Now

	mu sync.Mutex
	at time.Time
	v  T
}

// Get returns the value, recomputing it when it is stale.
func (c *Value[T]) Get() T {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if !c.at.IsZero() && now().Sub(c.at) < c.Every {
		return c.v
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	c.at = now()
	if v, err := c.F(ctx); err == nil {
		c.v = v
	}
	return c.v
}
