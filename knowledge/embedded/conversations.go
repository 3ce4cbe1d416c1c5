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

// Conversations are kept in the store's bbolt file, beside the catalog, in three buckets:
//
//	conversations      id → header (JSON: dialogue state, time of the last append, last message ID)
//	conversation_msgs  id → a bucket of its messages: big-endian message ID → message (JSON)
//	conversation_times updated (8 bytes, big-endian, ordered) + id → nothing; Purge walks it oldest first
//
// Each method is one bbolt transaction, so an append is atomic and appends to one conversation are
// serialised by bbolt's single writer.
var (
	bucketConvs     = []byte("conversations")
	bucketConvMsgs  = []byte("conversation_msgs")
	bucketConvTimes = []byte("conversation_times")
)

// Conversations is the embedded knowledge.Conversations. It shares its Store's file and is safe for
// concurrent use; it is usable until the Store is closed.
type Conversations struct {
	db *bolt.DB
}

var _ knowledge.Conversations = (*Conversations)(nil)

// NewConversations returns the conversations kept in s's file.
func NewConversations(s *Store) *Conversations { return &Conversations{db: s.db} }

// header is what the conversations bucket holds for one conversation.
type header struct {
	State   knowledge.DialogueState `json:"state"`
	Updated time.Time               `json:"updated"`
	Last    int64                   `json:"last"` // the last message ID assigned
}

// Load returns the conversation, a zero one with ID set when there is none.
func (c *Conversations) Load(ctx context.Context, id string) (knowledge.Conversation, error) {
	out := knowledge.Conversation{ID: id}
	if err := knowledge.CheckConversationID(id); err != nil {
		return out, fmt.Errorf("embedded: load conversation: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("embedded: load conversation: %w", err)
	}
	err := c.db.View(func(tx *bolt.Tx) error {
		h, ok, err := readHeader(tx, id)
		if err != nil || !ok {
			return err
		}
		out.State, out.Updated = h.State, h.Updated
		mb := msgBucket(tx, id)
		if mb == nil {
			return nil
		}
		return mb.ForEach(func(k, v []byte) error {
			var m knowledge.Message
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("decode message %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out.Messages = append(out.Messages, m)
			return nil
		})
	})
	if err != nil {
		return knowledge.Conversation{ID: id}, fmt.Errorf("embedded: load conversation: %w", err)
	}
	return out, nil
}

// Append stores st and appends msgs in one transaction, dropping the oldest messages beyond
// knowledge.MaxStoredMessages.
func (c *Conversations) Append(ctx context.Context, id string, st knowledge.DialogueState, msgs ...knowledge.Message) ([]knowledge.Message, error) {
	if err := knowledge.CheckAppend(id, st, msgs); err != nil {
		return nil, fmt.Errorf("embedded: append: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("embedded: append: %w", err)
	}
	now := knowledge.StoredNow()
	out := make([]knowledge.Message, len(msgs))
	err := c.db.Update(func(tx *bolt.Tx) error {
		convs, msgRoot, times, err := createBuckets(tx)
		if err != nil {
			return err
		}
		h, ok, err := readHeader(tx, id)
		if err != nil {
			return err
		}
		if ok {
			if err := times.Delete(timeKey(h.Updated, id)); err != nil {
				return err
			}
		}
		h.State = st.Clone()
		h.Updated = now
		mb, err := msgRoot.CreateBucketIfNotExists([]byte(id))
		if err != nil {
			return err
		}
		for i, m := range msgs {
			h.Last++
			m.ID = h.Last
			m.At = knowledge.StoredAt(m.At, now)
			m = m.Clone()
			v, err := json.Marshal(m)
			if err != nil {
				return err
			}
			if err := mb.Put(msgKey(m.ID), v); err != nil {
				return err
			}
			out[i] = m
		}
		// Drop what falls out of the window: every ID up to Last-MaxStoredMessages.
		if drop := h.Last - knowledge.MaxStoredMessages; drop > 0 {
			var old [][]byte
			cur := mb.Cursor()
			for k, _ := cur.First(); k != nil && int64(binary.BigEndian.Uint64(k)) <= drop; k, _ = cur.Next() {
				old = append(old, bytes.Clone(k))
			}
			for _, k := range old {
				if err := mb.Delete(k); err != nil {
					return err
				}
			}
		}
		v, err := json.Marshal(h)
		if err != nil {
			return err
		}
		if err := convs.Put([]byte(id), v); err != nil {
			return err
		}
		return times.Put(timeKey(now, id), nil)
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: append: %w", err)
	}
	return out, nil
}

// Feedback records value on an assistant message.
func (c *Conversations) Feedback(ctx context.Context, id string, messageID int64, value int) error {
	return c.FeedbackReason(ctx, id, messageID, value, "")
}

// FeedbackReason records value and the reason of a 👎 on an assistant message.
func (c *Conversations) FeedbackReason(ctx context.Context, id string, messageID int64, value int, reason string) error {
	if err := knowledge.CheckFeedback(id, value, reason); err != nil {
		return fmt.Errorf("embedded: feedback: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("embedded: feedback: %w", err)
	}
	err := c.db.Update(func(tx *bolt.Tx) error {
		mb := msgBucket(tx, id)
		if mb == nil || messageID <= 0 {
			return knowledge.ErrNotFound
		}
		v := mb.Get(msgKey(messageID))
		if v == nil {
			return knowledge.ErrNotFound
		}
		var m knowledge.Message
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("decode message %d: %w", messageID, err)
		}
		if m.Role != knowledge.RoleAssistant {
			return knowledge.ErrNotFound
		}
		m.Feedback = value
		m.FeedbackReason = reason
		v, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return mb.Put(msgKey(messageID), v)
	})
	if err != nil {
		return fmt.Errorf("embedded: feedback on message %d: %w", messageID, err)
	}
	return nil
}

// Delete removes a conversation and its messages.
func (c *Conversations) Delete(ctx context.Context, id string) error {
	if err := knowledge.CheckConversationID(id); err != nil {
		return fmt.Errorf("embedded: delete conversation: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("embedded: delete conversation: %w", err)
	}
	err := c.db.Update(func(tx *bolt.Tx) error {
		h, ok, err := readHeader(tx, id)
		if err != nil || !ok {
			return err
		}
		return deleteConv(tx, id, h.Updated)
	})
	if err != nil {
		return fmt.Errorf("embedded: delete conversation: %w", err)
	}
	return nil
}

// Purge deletes, in one transaction, the conversations last updated before before.
func (c *Conversations) Purge(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("embedded: purge: %w", err)
	}
	// Updated times are whole microseconds: u < before ⇔ u's key < the key of before rounded up.
	limit := before.Truncate(time.Microsecond)
	if limit.Before(before) {
		limit = limit.Add(time.Microsecond)
	}
	limitKey := timeKey(limit, "")
	n := 0
	err := c.db.Update(func(tx *bolt.Tx) error {
		times := tx.Bucket(bucketConvTimes)
		if times == nil {
			return nil
		}
		type victim struct {
			id      string
			updated time.Time
		}
		var victims []victim
		cur := times.Cursor()
		for k, _ := cur.First(); k != nil && bytes.Compare(k, limitKey) < 0; k, _ = cur.Next() {
			victims = append(victims, victim{id: string(k[8:]), updated: keyTime(k)})
		}
		for _, v := range victims {
			if err := deleteConv(tx, v.id, v.updated); err != nil {
				return err
			}
		}
		n = len(victims)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("embedded: purge: %w", err)
	}
	return n, nil
}

func createBuckets(tx *bolt.Tx) (convs, msgs, times *bolt.Bucket, err error) {
	if convs, err = tx.CreateBucketIfNotExists(bucketConvs); err != nil {
		return
	}
	if msgs, err = tx.CreateBucketIfNotExists(bucketConvMsgs); err != nil {
		return
	}
	times, err = tx.CreateBucketIfNotExists(bucketConvTimes)
	return
}

// readHeader returns the header of conversation id, ok false when there is none.
func readHeader(tx *bolt.Tx, id string) (h header, ok bool, err error) {
	b := tx.Bucket(bucketConvs)
	if b == nil {
		return h, false, nil
	}
	v := b.Get([]byte(id))
	if v == nil {
		return h, false, nil
	}
	if err := json.Unmarshal(v, &h); err != nil {
		return h, false, fmt.Errorf("decode conversation header: %w", err)
	}
	return h, true, nil
}

// msgBucket returns the bucket of the messages of conversation id, nil when there is none.
func msgBucket(tx *bolt.Tx, id string) *bolt.Bucket {
	root := tx.Bucket(bucketConvMsgs)
	if root == nil {
		return nil
	}
	return root.Bucket([]byte(id))
}

// deleteConv removes conversation id, last updated at updated, from all three buckets.
func deleteConv(tx *bolt.Tx, id string, updated time.Time) error {
	if b := tx.Bucket(bucketConvTimes); b != nil {
		if err := b.Delete(timeKey(updated, id)); err != nil {
			return err
		}
	}
	if b := tx.Bucket(bucketConvs); b != nil {
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
	}
	if b := tx.Bucket(bucketConvMsgs); b != nil {
		if err := b.DeleteBucket([]byte(id)); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
			return err
		}
	}
	return nil
}

func msgKey(id int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

// timeKey is the conversation_times key of id updated at t: the Unix time in microseconds with the sign bit
// flipped, so that keys sort by time also before 1970, then the id.
func timeKey(t time.Time, id string) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(id)), uint64(t.UnixMicro())^(1<<63))
	return append(k, id...)
}

func keyTime(k []byte) time.Time {
	return time.UnixMicro(int64(binary.BigEndian.Uint64(k) ^ (1 << 63))).UTC()
}

var _ knowledge.FlagLister = (*Conversations)(nil)
var _ knowledge.ReasonedFeedback = (*Conversations)(nil)

// Flagged lists the flagged assistant messages, newest first, reading every conversation updated since
// f.Since in one read transaction.
func (c *Conversations) Flagged(ctx context.Context, f knowledge.FlagFilter) ([]knowledge.Flagged, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("embedded: flagged: %w", err)
	}
	var out []knowledge.Flagged
	err := c.db.View(func(tx *bolt.Tx) error {
		times := tx.Bucket(bucketConvTimes)
		if times == nil {
			return nil
		}
		cur := times.Cursor()
		for k, _ := cur.Seek(timeKey(f.Since.Truncate(time.Microsecond), "")); k != nil; k, _ = cur.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			id := string(k[8:])
			mb := msgBucket(tx, id)
			if mb == nil {
				continue
			}
			var msgs []knowledge.Message
			err := mb.ForEach(func(k, v []byte) error {
				var m knowledge.Message
				if err := json.Unmarshal(v, &m); err != nil {
					return fmt.Errorf("decode message %d: %w", binary.BigEndian.Uint64(k), err)
				}
				msgs = append(msgs, m)
				return nil
			})
			if err != nil {
				return err
			}
			out = f.Collect(out, id, msgs)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: flagged: %w", err)
	}
	return f.Sort(out), nil
}
