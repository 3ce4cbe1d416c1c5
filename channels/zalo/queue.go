package zalo

import (
	"context"
	"errors"
	"time"
)

// Kind says what a job asks for.
type Kind string

// Kinds of jobs.
const (
	KindText        Kind = "text"        // answer the citizen's text
	KindUnsupported Kind = "unsupported" // an image, a sticker, a file…: say that only text is understood
	KindFollow      Kind = "follow"      // a new follower: greet
)

// Inbound is a webhook event to process.
type Inbound struct {
	OA   string `json:"oa"`
	User string `json:"user"`
	// Key de-duplicates deliveries within an OA: the msg_id, or event + sender + timestamp without one.
	Key  string    `json:"key"`
	Kind Kind      `json:"kind"`
	Text string    `json:"text,omitempty"`
	At   time.Time `json:"at"` // the event's timestamp
}

// Job is an inbox entry held by a worker under a lease.
type Job struct {
	ID int64 `json:"id"`
	Inbound
	Attempts int    `json:"attempts"` // takes so far, this one included
	Lease    string `json:"lease"`
}

// Outbound is one message to send: Body is the exact JSON of /v3.0/oa/message/cs.
type Outbound struct {
	OA   string `json:"oa"`
	User string `json:"user"`
	Body []byte `json:"body"`
}

// Send is an outbox entry held by the sender under a lease.
type Send struct {
	ID int64 `json:"id"`
	Outbound
	Attempts int    `json:"attempts"` // takes so far, this one included
	Lease    string `json:"lease"`
}

// Outcome is how a send ended: Sent, Final (recorded, never retried) or, when neither, retried at RetryAt.
type Outcome struct {
	Sent      bool
	MessageID string
	Final     bool
	Code      int    // the API's error code (or the HTTP status for a final HTTP error)
	Reason    string // a short description for the record; never message text
	RetryAt   time.Time
}

// Token is an OA's token state.
type Token struct {
	AccessToken  string    `json:"access_token"`
	Expires      time.Time `json:"expires"`
	RefreshToken string    `json:"refresh_token"`
	NeedsReauth  bool      `json:"needs_reauth"`
	Updated      time.Time `json:"updated"`
}

// Stats counts the work not done yet.
type Stats struct {
	Jobs  int // unfinished inbox jobs
	Sends int // unsent outbox messages
}

// Errors of queues.
var (
	// ErrLeaseLost: the lease expired and the job or send was taken again; the holder must drop its work.
	ErrLeaseLost = errors.New("zalo: lease lost")
)

// Queue is the durable state of the channel: inbox, outbox, token state and the users' last inbound times.
// Every method is atomic and durable when it returns. Implementations: OpenBolt (embedded) and
// channels/zalo/pgqueue (PostgreSQL); both run the same tests.
type Queue interface {
	// Enqueue records an inbound event and the user's last inbound time; added is false when an event with the
	// same (OA, Key) is already recorded, in which case nothing changes.
	Enqueue(ctx context.Context, in Inbound) (added bool, err error)
	// Take leases, until now+lease, the oldest job available at now whose user has no older unfinished job;
	// ok is false when there is none.
	Take(ctx context.Context, now time.Time, lease time.Duration) (j Job, ok bool, err error)
	// Complete marks the job done and appends out to the outbox, in one transaction; ErrLeaseLost when the
	// lease is no longer j's.
	Complete(ctx context.Context, j Job, now time.Time, out []Outbound) error
	// Retry gives the job back, to be taken again from at (now, to release it at shutdown).
	Retry(ctx context.Context, j Job, at time.Time) error
	// TakeSend leases the oldest unsent message available at now whose user has no older unsent message.
	TakeSend(ctx context.Context, now time.Time, lease time.Duration) (s Send, ok bool, err error)
	// FinishSend records the outcome of a send: sent, final, or to retry at o.RetryAt; ErrLeaseLost when the
	// lease is no longer s's.
	FinishSend(ctx context.Context, s Send, now time.Time, o Outcome) error
	// Token returns the OA's token state; ok is false when none is stored.
	Token(ctx context.Context, oa string) (t Token, ok bool, err error)
	// UpdateToken runs update under the OA's lock with the current state and stores what it returns, unless
	// it returns an error. Two calls for one OA never overlap, in this process or (PostgreSQL) any other.
	UpdateToken(ctx context.Context, oa string, update func(cur Token, ok bool) (Token, error)) (Token, error)
	// LastInbound is the time of the user's last inbound message (zero when none).
	LastInbound(ctx context.Context, oa, user string) (time.Time, error)
	// Stats counts unfinished jobs and unsent messages.
	Stats(ctx context.Context) (Stats, error)
	// Purge deletes finished jobs (and their de-duplication keys) and finished sends older than before, and
	// the last inbound times older than before of users without an unfinished job; it returns how many
	// records it deleted.
	Purge(ctx context.Context, before time.Time) (int, error)
}
