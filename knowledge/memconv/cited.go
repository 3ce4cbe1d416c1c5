package memconv

import (
	"context"
	"fmt"
	"time"

	"github.com/trolyao/trolyao/knowledge"
)

var _ knowledge.CitationRanker = (*Conversations)(nil)

// TopCited ranks the procedures the conversations were answered with since since.
func (c *Conversations) TopCited(ctx context.Context, since time.Time, n int) ([]knowledge.CodeCount, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memconv: top cited: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	counts := map[string]int{}
	for _, cv := range c.convs {
		knowledge.CountCited(counts, cv.msgs, since)
	}
	return knowledge.RankCited(counts, n), nil
}
