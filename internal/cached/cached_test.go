package cached

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestValue(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	calls, fail := 0, false
	v := &Value[int]{Every: 10 * time.Second, Timeout: time.Second, Now: func() time.Time { return now },
		F: func(ctx context.Context) (int, error) {
			_, hasDeadline := ctx.Deadline()
			assert.True(t, hasDeadline)
			if fail {
				return 0, errors.New("store down")
			}
			calls++
			return calls * 10, nil
		}}
	assert.Equal(t, 10, v.Get())
	now = now.Add(9 * time.Second)
	assert.Equal(t, 10, v.Get(), "fresh: not recomputed")
	now = now.Add(2 * time.Second)
	assert.Equal(t, 20, v.Get(), "stale: recomputed")
	fail = true
	now = now.Add(11 * time.Second)
	assert.Equal(t, 20, v.Get(), "a failure keeps the last value")
	fail = false
	assert.Equal(t, 20, v.Get(), "and is retried after Every, not at once")
	now = now.Add(11 * time.Second)
	assert.Equal(t, 30, v.Get())
}
