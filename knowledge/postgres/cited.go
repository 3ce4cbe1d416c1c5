package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trolyao/trolyao/knowledge"
)

var _ knowledge.CitationRanker = (*Conversations)(nil)

// topCitedSQL counts the conversations answered with each procedure since $1 (the index on at of migration
// 0003 selects the window), most first.
const topCitedSQL = `SELECT codes[1] COLLATE "C" AS code, count(DISTINCT conversation_id) AS n
FROM conversation_messages
WHERE role = 'assistant' AND at >= $1 AND NOT abstain AND cardinality(codes) > 0
GROUP BY 1
ORDER BY n DESC, code
LIMIT $2`

// TopCited ranks the procedures the conversations were answered with since since, in one statement.
func (c *Conversations) TopCited(ctx context.Context, since time.Time, n int) ([]knowledge.CodeCount, error) {
	// pgx sends times truncated to the microsecond; rounding up keeps "at >= since" exact, since at is a
	// whole microsecond.
	limit := since.Truncate(time.Microsecond)
	if limit.Before(since) {
		limit = limit.Add(time.Microsecond)
	}
	rows, err := c.pool.Query(ctx, topCitedSQL, limit, knowledge.TopCitedCap(n))
	if err != nil {
		return nil, fmt.Errorf("postgres: top cited: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.CodeCount, error) {
		var cc knowledge.CodeCount
		var k int64
		err := r.Scan(&cc.Code, &k)
		cc.Count = int(k)
		return cc, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: top cited: %w", err)
	}
	return out, nil
}
