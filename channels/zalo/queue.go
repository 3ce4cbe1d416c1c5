package zalo

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
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

// SendState is where an unsent message stands.
type SendState string

// States of an unsent message. A message is recorded as in flight (BeginSend) before each call of the send
// API, so a process that dies during the call leaves a record saying that Zalo may have the message.
const (
	// SendPending: no call of the send API is, or may be, in flight: the message was never sent, or every
	// call so far ended with an answer saying it was not delivered.
	SendPending SendState = "pending"
	// SendInFlight: a call began and its outcome was never recorded. Taken in this state, the message's
	// previous sender died or lost its lease during the call: Zalo may or may not have delivered it.
	SendInFlight SendState = "sending"
	// SendUnconfirmed: a call's outcome is unknown and the message waits, until its not-before time, for
	// Zalo's echo (an oa_send_text event) that would confirm it was delivered.
	SendUnconfirmed SendState = "unconfirmed"
)

// Send is an outbox entry held by the sender under a lease.
type Send struct {
	ID int64 `json:"id"`
	Outbound
	Attempts int       `json:"attempts"` // takes so far, this one included
	Lease    string    `json:"lease"`
	State    SendState `json:"state"`
	// Flight identifies the latest call of the send API (BeginSend); FlightAt is when it began.
	Flight   string    `json:"flight,omitempty"`
	FlightAt time.Time `json:"flight_at,omitzero"`
}

// Outcome is how a send ended: Sent, Final (recorded, never retried), Unknown (the request may have reached
// Zalo but no answer came: the message waits for Zalo's echo until RetryAt) or, when none, retried at
// RetryAt.
type Outcome struct {
	Sent      bool
	MessageID string
	Final     bool
	Unknown   bool
	Code      int    // the API's error code (or the HTTP status for a final HTTP error)
	Reason    string // a short description for the record; never message text
	RetryAt   time.Time
}

// Echo is an oa_send_text event: Zalo telling that the OA sent Text to User, as message MsgID, at At.
type Echo struct {
	OA    string
	User  string
	MsgID string
	Text  string
	At    time.Time
}

// EchoResult says what an echo confirmed.
type EchoResult int

// Results of ConfirmEcho.
const (
	EchoNothing EchoResult = iota // no unsent message matched
	// EchoLive: a message in flight under a live lease; its sender finds it recorded when it records the
	// API's answer.
	EchoLive
	// EchoUnknown: a message whose outcome was unknown — unconfirmed, or left in flight by a sender whose
	// lease has ended.
	EchoUnknown
)

// EchoReason is the reason recorded with a message whose delivery Zalo's echo confirmed.
const EchoReason = "confirmed by Zalo's echo"

// SameText reports whether an echo's text is the text of a message body: equal but for surrounding white
// space (Zalo may trim it).
func SameText(echo string, body []byte) bool {
	var m struct {
		Message struct {
			Text string `json:"text"`
		} `json:"message"`
	}
	if json.Unmarshal(body, &m) != nil || m.Message.Text == "" {
		return false
	}
	return strings.TrimSpace(m.Message.Text) == strings.TrimSpace(echo)
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
// Every method is atomic and durable when it returns. Implementations: channels/zalo/boltqueue
// (embedded) and channels/zalo/pgqueue (PostgreSQL); both run the same tests.
type Queue interface {
	// Enqueue records an inbound event and the user's last inbound time; added is false when an event with the
	// same (OA, Key) is already recorded, in which case nothing changes.
	Enqueue(ctx context.Context, in Inbound) (added bool, err error)
	// Take leases, until now+lease, the oldest job available at now whose user has no older unfinished job;
	// ok is false when there is none. A job is available when it is not leased, or its lease expired;
	// opening a queue does not release leases (a lease of the embedded queue also ends with the process
	// that holds the file, see boltqueue.Queue).
	Take(ctx context.Context, now time.Time, lease time.Duration) (j Job, ok bool, err error)
	// Complete marks the job done and appends out to the outbox, in one transaction; ErrLeaseLost when the
	// lease is no longer j's.
	Complete(ctx context.Context, j Job, now time.Time, out []Outbound) error
	// Retry gives the job back, to be taken again from at (now, to release it at shutdown).
	Retry(ctx context.Context, j Job, at time.Time) error
	// TakeSend leases the oldest unsent message available at now whose user has no older unsent message;
	// s.State says whether a call of the send API was left in flight (SendInFlight: its lease expired) or
	// the message waited for an echo (SendUnconfirmed: the wait is over).
	TakeSend(ctx context.Context, now time.Time, lease time.Duration) (s Send, ok bool, err error)
	// BeginSend records, durably, that a call of the send API for s is about to start: the message goes in
	// flight under a new Flight id, which the returned Send carries. ErrLeaseLost when the lease is no
	// longer s's.
	BeginSend(ctx context.Context, s Send, now time.Time) (Send, error)
	// FinishSend records the outcome of a send: sent, final, unknown (to wait for an echo until o.RetryAt) or
	// to retry at o.RetryAt. It needs s's lease, except that a send recorded as sent (o.Sent) is accepted
	// from the holder of the message's current flight even after the lease expired: the API's answer is
	// better evidence than the wait for an echo. Recording an outcome of a flight that was already confirmed
	// as sent (by its echo) does nothing. Otherwise ErrLeaseLost.
	FinishSend(ctx context.Context, s Send, now time.Time, o Outcome) error
	// ConfirmEcho records an oa_send_text echo: when the oldest unsent message of e.User is in flight or
	// unconfirmed, carries e.Text (SameText), its flight began no later than e.At + skew, and no message of
	// the OA was recorded as sent with e.MsgID, the message is recorded as sent, with e.MsgID. The result says
	// whether it was, and how the message stood.
	ConfirmEcho(ctx context.Context, e Echo, now time.Time, skew time.Duration) (EchoResult, error)
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
