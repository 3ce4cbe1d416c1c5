package staff

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestThrottleReserve: attempts are counted when reserved, so no more than the free ones are ever in flight
// or failed before the lock; a success or an attempt not made gives its reservation back.
func TestThrottleReserve(t *testing.T) {
	now := time.Date(2026, 8, 3, 9, 0, 0, 0, time.UTC)
	th := newThrottle(3, 0)
	for range 3 {
		why, _ := th.reserve("k", now)
		require.Equal(t, admitted, why)
	}
	why, d := th.reserve("k", now)
	assert.Equal(t, lockedOut, why, "three in flight: the third would lock the key if it failed")
	assert.Equal(t, 30*time.Second, d)

	th.release("k") // not made
	why, _ = th.reserve("k", now)
	assert.Equal(t, admitted, why, "a released attempt is given back")
	th.fail("k", now)
	th.fail("k", now)
	why, _ = th.reserve("k", now)
	assert.Equal(t, lockedOut, why, "two failed and one in flight")
	th.fail("k", now)
	why, d = th.reserve("k", now)
	assert.Equal(t, lockedOut, why)
	assert.Equal(t, 30*time.Second, d, "the third failure locks the key")

	// After the lock, one attempt at a time; its failure locks the key twice as long.
	now = now.Add(31 * time.Second)
	why, _ = th.reserve("k", now)
	require.Equal(t, admitted, why)
	why, d = th.reserve("k", now)
	assert.Equal(t, lockedOut, why)
	assert.Equal(t, time.Minute, d)
	th.fail("k", now)
	_, d = th.reserve("k", now)
	assert.Equal(t, time.Minute, d)

	// A success on the username clears it.
	now = now.Add(61 * time.Second)
	why, _ = th.reserve("k", now)
	require.Equal(t, admitted, why)
	th.reset("k")
	assert.Empty(t, th.m)
	for range 3 {
		why, _ = th.reserve("k", now)
		require.Equal(t, admitted, why)
	}
	for range 3 {
		th.release("k")
	}
	assert.Empty(t, th.m, "nothing is kept of attempts given back")

	// Failures are forgotten an hour after the last one.
	th.reserve("k", now)
	th.fail("k", now)
	th.reserve("k", now)
	th.fail("k", now)
	now = now.Add(time.Hour + time.Second)
	for range 3 {
		why, _ = th.reserve("k", now)
		require.Equal(t, admitted, why)
	}

	// maxPending bounds the attempts in flight even when more are free.
	th = newThrottle(20, 4)
	for range 4 {
		why, _ = th.reserve("ip", now)
		require.Equal(t, admitted, why)
	}
	why, _ = th.reserve("ip", now)
	assert.Equal(t, tooManyOnce, why)
	th.fail("ip", now)
	why, _ = th.reserve("ip", now)
	assert.Equal(t, admitted, why, "a slot in flight is free again")
}

// TestThrottleReserveParallel: of many parallel reservations on one key, exactly the free ones are admitted.
func TestThrottleReserveParallel(t *testing.T) {
	now := time.Date(2026, 8, 3, 9, 0, 0, 0, time.UTC)
	th := newThrottle(5, 0)
	var mu sync.Mutex
	admittedN := 0
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if why, _ := th.reserve("u:lan", now); why == admitted {
				mu.Lock()
				admittedN++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 5, admittedN)
}

// TestThrottleQuiet: a key is quiet with its own attempt in flight and nothing else; another attempt in
// flight or a failure in the window end that; a success, or the window passing, brings it back.
func TestThrottleQuiet(t *testing.T) {
	now := time.Date(2026, 8, 3, 9, 0, 0, 0, time.UTC)
	th := newThrottle(5, 0)
	assert.True(t, th.quiet("k", now), "never seen")
	th.reserve("k", now)
	assert.True(t, th.quiet("k", now), "its own attempt only")
	th.reserve("k", now)
	assert.False(t, th.quiet("k", now), "another in flight")
	th.release("k")
	th.fail("k", now)
	th.reserve("k", now)
	assert.False(t, th.quiet("k", now), "a failure in the window")
	th.reset("k")
	th.reserve("k", now)
	assert.True(t, th.quiet("k", now), "a success clears it")
	th.fail("k", now)
	th.reserve("k", now.Add(time.Hour+time.Second))
	assert.True(t, th.quiet("k", now.Add(time.Hour+time.Second)), "the failure is an hour old")
}

// TestThrottleMerge: failures recorded by other processes count as the key's when they are more, lock it
// when they reach the free ones, and leave the key's own count as it is.
func TestThrottleMerge(t *testing.T) {
	now := time.Date(2026, 8, 3, 9, 0, 0, 0, time.UTC)
	th := newThrottle(5, 0)
	why, _ := th.reserve("k", now)
	require.Equal(t, admitted, why)
	why, _ = th.merge("k", now, 2, now.Add(-time.Minute))
	assert.Equal(t, admitted, why, "two recorded failures leave three")
	for range 2 {
		why, _ = th.reserve("k", now)
		require.Equal(t, admitted, why)
	}
	why, d := th.merge("k", now, 3, now.Add(-time.Second))
	assert.Equal(t, lockedOut, why, "three recorded and three in flight: one too many")
	assert.Equal(t, 30*time.Second, d)
	assert.Equal(t, 2, th.m["k"].pending, "the refused attempt is given back")
	th.release("k")
	th.release("k")

	why, _ = th.reserve("k", now)
	require.Equal(t, admitted, why)
	why, d = th.merge("k", now, 6, now.Add(-10*time.Second))
	assert.Equal(t, lockedOut, why, "the sixth recorded failure locks for a minute")
	assert.Equal(t, 50*time.Second, d)
	assert.Zero(t, th.m["k"].n, "the key's own count is kept")
	assert.Zero(t, th.m["k"].pending)
}

// TestHashGate: at most slots enter at once, and the others' lane all but one of them; a caller waits at
// most the gate's wait, at most slots×waitersPerSlot of them wait in a bounded lane, a caller whose context
// ends stops waiting, and a slot given back goes to the lanes in order.
func TestHashGate(t *testing.T) {
	g := newHashGate(2, 50*time.Millisecond)
	ctx := t.Context()
	require.True(t, g.enter(ctx, laneOthers))
	start := time.Now()
	assert.False(t, g.enter(ctx, laneOthers), "the last slot is kept for the first two lanes")
	assert.Less(t, time.Since(start), time.Second)
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	require.True(t, g.enter(ctx, laneQuietAccount), "at once")
	start = time.Now()
	assert.False(t, g.enter(ctx, laneKnownBrowser), "full")
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)

	got := make(chan bool)
	go func() { got <- g.enter(ctx, laneOthers) }()
	require.Eventually(t, func() bool { return g.waiters(laneOthers) == 1 }, 5*time.Second, time.Millisecond)
	g.leave(laneQuietAccount)
	time.Sleep(10 * time.Millisecond)
	assert.Equal(t, 1, g.waiters(laneOthers), "the slot given back is the one kept")
	g.leave(laneOthers)
	assert.True(t, <-got, "a waiter gets the slot given back")
	g.leave(laneOthers)

	// The waiting room is bounded: the ones beyond it are refused at once.
	g = newHashGate(1, 5*time.Second)
	require.True(t, g.enter(ctx, laneOthers), "with one slot, no slot is kept")
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range waitersPerSlot {
		wg.Go(func() { assert.False(t, g.enter(wctx, laneOthers)) })
	}
	require.Eventually(t, func() bool { return g.waiters(laneOthers) == waitersPerSlot }, 5*time.Second, time.Millisecond)
	start = time.Now()
	assert.False(t, g.enter(ctx, laneOthers))
	assert.Less(t, time.Since(start), 100*time.Millisecond, "refused without waiting")

	// A full waiting room of the other lane holds up no login of the priority lane: it waits, and the slot
	// given back goes to it before those who waited longer.
	prio := make(chan bool)
	go func() { prio <- g.enter(ctx, laneKnownBrowser) }()
	require.Eventually(t, func() bool { return g.waiters(laneKnownBrowser) == 1 }, 5*time.Second, time.Millisecond)
	g.leave(laneOthers)
	assert.True(t, <-prio, "the priority lane gets the slot")
	assert.Equal(t, waitersPerSlot, g.waiters(laneOthers), "the others still wait")

	// The quiet accounts' lane is not bounded (each account puts one login in it), gets a slot before the
	// others and after the known browsers.
	quiet := make(chan bool, waitersPerSlot+1)
	for range waitersPerSlot + 1 {
		go func() { quiet <- g.enter(ctx, laneQuietAccount) }()
	}
	require.Eventually(t, func() bool { return g.waiters(laneQuietAccount) == waitersPerSlot+1 }, 5*time.Second,
		time.Millisecond)
	go func() { prio <- g.enter(ctx, laneKnownBrowser) }()
	require.Eventually(t, func() bool { return g.waiters(laneKnownBrowser) == 1 }, 5*time.Second, time.Millisecond)
	g.leave(laneKnownBrowser)
	assert.True(t, <-prio, "the known browser's lane first")
	g.leave(laneKnownBrowser)
	assert.True(t, <-quiet, "then the quiet account's")
	assert.Equal(t, waitersPerSlot, g.waiters(laneQuietAccount))
	assert.Equal(t, waitersPerSlot, g.waiters(laneOthers), "the others still wait")
	cancel()
	wg.Wait()
	assert.Zero(t, g.waiters(laneOthers))
	for range waitersPerSlot {
		g.leave(laneQuietAccount)
		assert.True(t, <-quiet)
	}
	g.leave(laneQuietAccount)
	assert.True(t, g.enter(ctx, laneOthers), "every slot given back")
}
