package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/trolyao/trolyao/knowledge"
)

var _ knowledge.CitationRanker = (*Conversations)(nil)

// citedScan is the most messages TopCited reads (knowledge.MaxCitedScan; tests lower it).
var citedScan = knowledge.MaxCitedScan

// errScanned ends TopCited's scan once it has read citedScan messages.
var errScanned = errors.New("scan limit reached")

// TopCited ranks the procedures the conversations were answered with since since, in one read transaction:
// it walks the conversations updated since then, newest first, and stops after citedScan messages.
func (c *Conversations) TopCited(ctx context.Context, since time.Time, n int) ([]knowledge.CodeCount, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("embedded: top cited: %w", err)
	}
	counts := map[string]int{}
	read := 0
	err := c.db.View(func(tx *bolt.Tx) error {
		times := tx.Bucket(bucketConvTimes)
		if times == nil {
			return nil
		}
		// A conversation last updated before since has no message since then.
		sinceKey := timeKey(since.Truncate(time.Microsecond), "")
		cur := times.Cursor()
		var msgs []knowledge.Message
		for k, _ := cur.Last(); k != nil && bytes.Compare(k, sinceKey) >= 0; k, _ = cur.Prev() {
			if err := ctx.Err(); err != nil {
				return err
			}
			mb := msgBucket(tx, string(k[8:]))
			if mb == nil {
				continue
			}
			msgs = msgs[:0]
			err := mb.ForEach(func(k, v []byte) error {
				if read >= citedScan {
					return errScanned
				}
				read++
				var m knowledge.Message
				if err := json.Unmarshal(v, &m); err != nil {
					return fmt.Errorf("decode message %d: %w", binary.BigEndian.Uint64(k), err)
				}
				msgs = append(msgs, m)
				return nil
			})
			knowledge.CountCited(counts, msgs, since)
			if errors.Is(err, errScanned) {
				return nil
			} else if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: top cited: %w", err)
	}
	return knowledge.RankCited(counts, n), nil
}
