package zalo

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/knowledge"
)

// Answerer answers a message of a conversation; *assistant.Assistant implements it.
type Answerer interface {
	Reply(ctx context.Context, conversationID, text string, emit func(assistant.Event)) (assistant.Answer, error)
}

var _ Answerer = (*assistant.Assistant)(nil)

// Defaults of Options.
const (
	DefaultMaxBody         = 64 << 10
	DefaultMaxAge          = 5 * time.Minute
	DefaultMaxFuture       = time.Minute
	DefaultWorkers         = 4
	DefaultSenders         = 2
	DefaultJobLease        = 5 * time.Minute
	DefaultSendLease       = time.Minute
	DefaultMaxJobAttempts  = 5
	DefaultMaxSendAttempts = 8
	DefaultBackoffBase     = time.Second
	DefaultBackoffMax      = 5 * time.Minute
	DefaultPoll            = time.Second
	DefaultRefreshAhead    = 10 * time.Minute
	DefaultKeep            = 7 * 24 * time.Hour
	DefaultAckTimeout      = 1500 * time.Millisecond
	DefaultEchoWait        = 2 * time.Minute
	DefaultEchoSkew        = 10 * time.Second
)

// Options configure a Service. Zero values take the defaults above.
type Options struct {
	OAs      []OA
	Queue    Queue    // required: boltqueue.Open or pgqueue.New
	Answerer Answerer // required: the assistant
	// HTTPClient calls the Zalo API and OAuth server; nil is a client with a 30-second timeout.
	HTTPClient *http.Client
	APIBase    string // DefaultAPIBase when empty
	OAuthBase  string // DefaultOAuthBase when empty
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: no metrics exported
	Workers    int                   // goroutines answering jobs
	Senders    int                   // goroutines sending messages (each message of a user still goes in order)
	MaxBody    int64                 // bytes of a webhook delivery
	// MaxAge and MaxFuture bound the delivery timestamp: older is a replay, further ahead is forged or a
	// broken clock. If Zalo's re-deliveries keep the event's timestamp, MaxAge is also how long a delivery we
	// failed to record (a 500) can still be accepted when Zalo retries it.
	MaxAge, MaxFuture time.Duration
	// JobLease and SendLease are how long a job or a send stays with a worker that took it; after that another
	// worker (of this process or another) takes it again.
	JobLease, SendLease time.Duration
	// MaxJobAttempts: a job whose answer failed this many times gets an apology; MaxSendAttempts: a message
	// failing transiently this many times is recorded as final.
	MaxJobAttempts, MaxSendAttempts int
	BackoffBase, BackoffMax         time.Duration // capped exponential backoff with jitter
	// Poll is how often idle workers look for work enqueued by other processes or due after a backoff.
	Poll time.Duration
	// RefreshAhead refreshes an access token this long before it expires.
	RefreshAhead time.Duration
	// AckTimeout bounds the durable write of a delivery: Zalo wants its answer within about 2 s, and a 500
	// (Zalo delivers again) beats no answer. A write that commits after the timeout is found as a duplicate.
	AckTimeout time.Duration
	// Keep is how long finished jobs (their de-duplication keys) and send records are kept; at least
	// MaxAge + MaxFuture.
	Keep time.Duration
	// EchoWait is how long a message whose send has an unknown outcome — its process died during the API
	// call, or the call got no answer after the request went out — waits for Zalo's echo of it (an
	// oa_send_text event) before it is sent again. The wait starts when a live process finds the message
	// (Zalo re-delivers an echo the dead process did not acknowledge). EchoSkew is the difference between
	// Zalo's clock and this machine's that the echo's timestamp may show.
	EchoWait, EchoSkew time.Duration
	// MaxTextRunes, MaxButtons, ButtonTitleMax and QueryPayloadMax are Zalo's message limits.
	MaxTextRunes, MaxButtons, ButtonTitleMax, QueryPayloadMax int
	Now                                                       func() time.Time
}

// Service is the Zalo channel: the webhook handler and the workers behind it.
type Service struct {
	o      Options
	oas    map[string]OA
	log    *slog.Logger
	api    client
	lim    limits
	m      *metrics
	wakeJ  chan struct{}
	wakeS  chan struct{}
	random func(int64) int64
}

// New checks the options and returns the service; call Run to start the workers.
func New(o Options) (*Service, error) {
	if o.Queue == nil || o.Answerer == nil {
		return nil, fmt.Errorf("%w: Queue and Answerer are required", ErrConfig)
	}
	if err := (Config{OAs: o.OAs}).Validate(); err != nil {
		return nil, err
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxAge, DefaultMaxAge)
	def(&o.MaxFuture, DefaultMaxFuture)
	def(&o.JobLease, DefaultJobLease)
	def(&o.SendLease, DefaultSendLease)
	def(&o.BackoffBase, DefaultBackoffBase)
	def(&o.BackoffMax, DefaultBackoffMax)
	def(&o.Poll, DefaultPoll)
	def(&o.RefreshAhead, DefaultRefreshAhead)
	def(&o.Keep, DefaultKeep)
	def(&o.AckTimeout, DefaultAckTimeout)
	def(&o.EchoWait, DefaultEchoWait)
	def(&o.EchoSkew, DefaultEchoSkew)
	defInt(&o.Workers, DefaultWorkers)
	defInt(&o.Senders, DefaultSenders)
	defInt(&o.MaxJobAttempts, DefaultMaxJobAttempts)
	defInt(&o.MaxSendAttempts, DefaultMaxSendAttempts)
	defInt(&o.MaxTextRunes, DefaultMaxTextRunes)
	defInt(&o.MaxButtons, DefaultMaxButtons)
	defInt(&o.ButtonTitleMax, DefaultButtonTitleMax)
	defInt(&o.QueryPayloadMax, DefaultQueryPayload)
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Keep < o.MaxAge+o.MaxFuture {
		// A de-duplication key purged while Zalo may still re-deliver its event would answer it twice.
		return nil, fmt.Errorf("%w: Keep (%v) must be at least MaxAge + MaxFuture (%v)", ErrConfig, o.Keep, o.MaxAge+o.MaxFuture)
	}
	if o.MaxTextRunes < 100 || o.ButtonTitleMax < 5 || o.QueryPayloadMax < 40 {
		return nil, fmt.Errorf("%w: MaxTextRunes ≥ 100, ButtonTitleMax ≥ 5 and QueryPayloadMax ≥ 40 are required", ErrConfig)
	}
	if o.APIBase == "" {
		o.APIBase = DefaultAPIBase
	}
	if o.OAuthBase == "" {
		o.OAuthBase = DefaultOAuthBase
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		o: o, oas: map[string]OA{}, log: log,
		api:    client{http: o.HTTPClient, apiBase: o.APIBase, oauthBase: o.OAuthBase},
		lim:    limits{text: o.MaxTextRunes, buttons: o.MaxButtons, title: o.ButtonTitleMax, payload: o.QueryPayloadMax},
		wakeJ:  make(chan struct{}, o.Workers),
		wakeS:  make(chan struct{}, o.Senders),
		random: rand.Int64N,
	}
	for _, a := range o.OAs {
		s.oas[a.ID] = a
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	s.m = m
	return s, nil
}

// Handler serves POST /webhooks/zalo/{oa}; mount it on that pattern or on the prefix /webhooks/zalo/.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/zalo/{oa}", s.webhook)
	return mux
}

// who stands for a user in logs: a short hash, never the id.
func who(oa, user string) string {
	h := sha256.Sum256([]byte(oa + "\x00" + user))
	return hex.EncodeToString(h[:4])
}

// webhook verifies, records and acknowledges one delivery.
func (s *Service) webhook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	outcome, status := s.accept(w, r)
	s.m.webhooks.WithLabelValues(outcome).Inc()
	if status == http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"ok":true}`+"\n")
		s.m.ack.Observe(time.Since(start).Seconds())
		return
	}
	http.Error(w, http.StatusText(status), status)
}

// accept does the work of webhook and returns the outcome (a metric label) and the HTTP status.
func (s *Service) accept(w http.ResponseWriter, r *http.Request) (string, int) {
	oa, ok := s.oas[r.PathValue("oa")]
	if !ok {
		return "unknown_oa", http.StatusNotFound
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.o.MaxBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return "too_large", http.StatusRequestEntityTooLarge
		}
		return "bad_request", http.StatusBadRequest
	}
	var e envelope
	if err := jsonUnmarshal(body, &e); err != nil {
		return "bad_request", http.StatusBadRequest
	}
	ts := string(e.Timestamp)
	if ts == "" {
		ts = r.Header.Get("X-ZEvent-Timestamp")
	}
	if string(e.AppID) != oa.AppID || !verify(r.Header.Get("X-ZEvent-Signature"), oa.AppID, body, ts, oa.OASecretKey) {
		s.log.Warn("zalo: webhook with a bad signature", "oa", oa.ID)
		return "bad_signature", http.StatusUnauthorized
	}
	ms, ok := parseMillis(ts)
	now := s.o.Now()
	at := time.UnixMilli(ms)
	if !ok || at.Before(now.Add(-s.o.MaxAge)) || at.After(now.Add(s.o.MaxFuture)) {
		s.log.Warn("zalo: webhook outside the replay window", "oa", oa.ID, "event", e.EventName)
		return "stale", http.StatusUnauthorized
	}
	rt, known := events[e.EventName]
	if !known || rt == routeIgnore {
		if !known {
			return "unknown_event", http.StatusOK
		}
		return "ignored", http.StatusOK
	}
	if rt == routeEcho {
		return s.echo(r.Context(), oa, e, at)
	}
	in := Inbound{OA: oa.ID, User: string(e.Sender.ID), At: at}
	switch rt {
	case routeText:
		// U+0000 is valid JSON but no text of a citizen's; PostgreSQL cannot store it, so it goes here rather
		// than failing the durable write (a 500 that Zalo would re-deliver for hours).
		in.Kind, in.Text = KindText, strings.ReplaceAll(e.Message.Text, "\x00", "")
	case routeUnsupported:
		in.Kind = KindUnsupported
	case routeFollow:
		in.Kind = KindFollow
		if e.Follower.ID != "" {
			in.User = string(e.Follower.ID)
		}
	}
	if !userIDPattern.MatchString(in.User) {
		return "bad_request", http.StatusBadRequest
	}
	in.Key = string(e.Message.MsgID)
	if in.Key == "" {
		in.Key = e.EventName + ":" + in.User + ":" + ts
	}
	if len(in.Key) > 256 || strings.ContainsRune(in.Key, 0) {
		return "bad_request", http.StatusBadRequest
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.o.AckTimeout)
	defer cancel()
	added, err := s.o.Queue.Enqueue(ctx, in)
	if err != nil {
		s.log.Error("zalo: cannot record a delivery; Zalo will retry it", "oa", oa.ID, "err", err)
		return "store_error", http.StatusInternalServerError
	}
	if !added {
		return "duplicate", http.StatusOK
	}
	select {
	case s.wakeJ <- struct{}{}:
	default:
	}
	return "accepted", http.StatusOK
}

// echo records an oa_send_text event: the OA's own send, which confirms a message whose send had an unknown
// outcome. A store failure answers 500, so that Zalo delivers the echo again.
func (s *Service) echo(ctx context.Context, oa OA, e envelope, at time.Time) (string, int) {
	user := string(e.Recipient.ID)
	if !userIDPattern.MatchString(user) {
		return "bad_request", http.StatusBadRequest
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.AckTimeout)
	defer cancel()
	res, err := s.o.Queue.ConfirmEcho(ctx, Echo{OA: oa.ID, User: user, MsgID: string(e.Message.MsgID), Text: e.Message.Text, At: at},
		s.o.Now(), s.o.EchoSkew)
	if err != nil {
		s.log.Error("zalo: cannot record an echo; Zalo will retry it", "oa", oa.ID, "err", err)
		return "store_error", http.StatusInternalServerError
	}
	if res == EchoUnknown {
		s.m.unknown.WithLabelValues("echo").Inc()
		s.log.Info("zalo: Zalo's echo confirms a send whose outcome was unknown; not sending it again", "oa", oa.ID, "user", who(oa.ID, user))
	}
	if res != EchoNothing {
		select {
		case s.wakeS <- struct{}{}: // the user's next message may go
		default:
		}
	}
	return "echo", http.StatusOK
}

// Run seeds the token state of OAs the store does not know yet (and of OAs marked as needing
// re-authorisation whose configuration now carries a different refresh token), then runs the workers and
// senders until ctx is cancelled. A job being answered when ctx ends is given back to the queue; a message
// being sent is finished first (cancelling it could deliver it without recording so).
func (s *Service) Run(ctx context.Context) error {
	for _, oa := range s.o.OAs {
		_, err := s.o.Queue.UpdateToken(ctx, oa.ID, func(cur Token, ok bool) (Token, error) {
			if ok && !(cur.NeedsReauth && oa.RefreshToken != "" && oa.RefreshToken != cur.RefreshToken) {
				return cur, nil
			}
			// First start, or re-authorised: the configuration carries a new refresh token.
			return Token{AccessToken: oa.AccessToken, Expires: oa.AccessTokenExpires, RefreshToken: oa.RefreshToken, Updated: s.o.Now()}, nil
		})
		if err != nil {
			return fmt.Errorf("zalo: token state of OA %s: %w", oa.ID, err)
		}
	}
	var wg sync.WaitGroup
	for range s.o.Workers {
		wg.Go(func() { s.loop(ctx, s.wakeJ, s.work) })
	}
	for range s.o.Senders {
		wg.Go(func() { s.loop(ctx, s.wakeS, s.sendOne) })
	}
	wg.Go(func() { s.housekeeping(ctx) })
	wg.Wait()
	return nil
}

// loop calls step until it finds nothing to do, then waits for a wake-up, the poll interval or the end.
func (s *Service) loop(ctx context.Context, wake chan struct{}, step func(context.Context) bool) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		for ctx.Err() == nil && step(ctx) {
		}
		t.Reset(s.o.Poll)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// housekeeping updates the queue depth and purges old records.
func (s *Service) housekeeping(ctx context.Context) {
	t := time.NewTicker(max(s.o.Poll, time.Second))
	defer t.Stop()
	var lastPurge time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if st, err := s.o.Queue.Stats(ctx); err == nil {
			s.m.depth.WithLabelValues("jobs").Set(float64(st.Jobs))
			s.m.depth.WithLabelValues("sends").Set(float64(st.Sends))
		}
		if now := s.o.Now(); now.Sub(lastPurge) > time.Hour {
			lastPurge = now
			if n, err := s.o.Queue.Purge(ctx, now.Add(-s.o.Keep)); err != nil {
				s.log.Warn("zalo: purge", "err", err)
			} else if n > 0 {
				s.log.Info("zalo: purged finished records", "n", n)
			}
		}
	}
}

// backoff is the capped exponential delay before attempt n+1, with jitter: a random point in its upper half.
func (s *Service) backoff(n int) time.Duration {
	d := s.o.BackoffBase
	for i := 1; i < n && d < s.o.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, s.o.BackoffMax)
	return d/2 + time.Duration(s.random(int64(d/2)+1))
}

// ConversationID is the assistant conversation of a user of an OA: "zalo-<oa>-<user>", within
// knowledge.MaxConversationID bytes by the limits on both ids.
func ConversationID(oa, user string) string { return "zalo-" + oa + "-" + user }

// The longest OA id (48) and user id (64) fit a conversation id: a negative constant would not compile.
const _ = uint(knowledge.MaxConversationID - (len("zalo--") + 48 + 64))

// work takes and processes one job; it reports whether there was one.
func (s *Service) work(ctx context.Context) bool {
	settleBy := time.Now().Add(s.o.JobLease * 15 / 16) // a margin before the lease ends
	j, ok, err := s.o.Queue.Take(ctx, s.o.Now(), s.o.JobLease)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("zalo: take job", "err", err)
		}
		return false
	}
	if !ok {
		return false
	}
	log := s.log.With("oa", j.OA, "user", who(j.OA, j.User), "job", j.ID)
	bodies, err := s.reply(ctx, j)
	if err != nil {
		if ctx.Err() != nil {
			// Shutting down: give the job back for the next process.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := s.o.Queue.Retry(rctx, j, s.o.Now()); err != nil {
				log.Warn("zalo: release job at shutdown; it is retaken when its lease expires", "err", err)
			}
			return false
		}
		if j.Attempts < s.o.MaxJobAttempts {
			log.Warn("zalo: answer failed; retrying", "attempt", j.Attempts, "err", err)
			at := s.o.Now().Add(s.backoff(j.Attempts))
			if err := s.persist(ctx, ctx.Done(), settleBy, func(ctx context.Context) error {
				return s.o.Queue.Retry(ctx, j, at)
			}); err != nil && !errors.Is(err, ErrLeaseLost) {
				log.Error("zalo: retry job; it is retaken when its lease expires", "err", err)
			}
			return true
		}
		log.Error("zalo: answer failed for good; apologising", "attempts", j.Attempts, "err", err)
		bodies, err = messages(j.User, msgFailure, nil, s.lim)
		if err != nil {
			log.Error("zalo: build apology", "err", err)
			return true
		}
	}
	out := make([]Outbound, len(bodies))
	for i, b := range bodies {
		out[i] = Outbound{OA: j.OA, User: j.User, Body: b}
	}
	// The answer is done: record it even if ctx ends meanwhile.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.persist(cctx, ctx.Done(), settleBy, func(cctx context.Context) error {
		return s.o.Queue.Complete(cctx, j, s.o.Now(), out)
	}); err != nil {
		if errors.Is(err, ErrLeaseLost) {
			log.Warn("zalo: job retaken by another worker after its lease expired; dropping this answer")
		} else if ctx.Err() == nil {
			log.Error("zalo: complete job; it is answered again when its lease expires", "err", err)
		}
		return true
	}
	select {
	case s.wakeS <- struct{}{}:
	default:
	}
	return true
}

// Vietnamese texts of the channel.
const (
	msgGreeting = "Xin chào! Tôi là trợ lý ảo hướng dẫn thủ tục hành chính của Thành phố Hồ Chí Minh. " +
		"Bạn hãy nhắn câu hỏi, ví dụ: \"Làm lại căn cước cần giấy tờ gì?\" hoặc \"Đăng ký khai sinh ở đâu?\"."
	msgUnsupported = "Xin lỗi, hiện tôi chỉ đọc được tin nhắn chữ. Bạn hãy nhắn câu hỏi bằng chữ để tôi hỗ trợ nhé."
	msgEmpty       = "Bạn hãy nhắn câu hỏi về thủ tục hành chính để tôi hỗ trợ nhé."
	msgTooLong     = "Câu hỏi dài quá, bạn hãy nhắn ngắn gọn hơn (một câu hỏi mỗi tin nhắn) nhé."
	msgFailure     = "Xin lỗi, hệ thống đang gặp sự cố nên chưa trả lời được câu hỏi của bạn. Bạn vui lòng nhắn lại sau ít phút."
)

// greetingSuggestions are the quick replies of the greeting.
var greetingSuggestions = []string{"Làm lại căn cước cần giấy tờ gì?", "Đăng ký khai sinh ở đâu?", "Đăng ký tạm trú online"}

// reply builds the message bodies answering a job.
func (s *Service) reply(ctx context.Context, j Job) ([][]byte, error) {
	switch j.Kind {
	case KindFollow:
		return messages(j.User, msgGreeting, answerButtons(assistant.Answer{Suggestions: greetingSuggestions}, s.lim), s.lim)
	case KindUnsupported:
		return messages(j.User, msgUnsupported, nil, s.lim)
	case KindText:
	default:
		return messages(j.User, msgUnsupported, nil, s.lim)
	}
	ans, err := s.o.Answerer.Reply(assistant.WithChannel(ctx, "zalo"), ConversationID(j.OA, j.User), j.Text, nil)
	switch {
	case errors.Is(err, assistant.ErrEmpty):
		return messages(j.User, msgEmpty, nil, s.lim)
	case errors.Is(err, assistant.ErrTooLong):
		return messages(j.User, msgTooLong, nil, s.lim)
	case errors.Is(err, knowledge.ErrInvalid):
		return messages(j.User, msgUnsupported, nil, s.lim)
	case err != nil:
		return nil, err
	}
	// Zalo shows no Markdown: the answer goes as plain text (the assistant keeps it within 2,000 characters;
	// Split covers a smaller configured limit).
	return messages(j.User, assistant.PlainText(ans.Text), answerButtons(ans, s.lim), s.lim)
}

// sendOne takes and delivers one message; it reports whether there was one.
//
// Each call of the send API is recorded before it starts (BeginSend), so a message whose outcome was never
// recorded is known: when its sender dies, or a call gets no answer after the request went out, Zalo may or
// may not have delivered it, and the API takes no idempotency key to ask. Such a message is not sent again
// at once: it waits EchoWait for Zalo's echo of the send (ConfirmEcho records it as sent), and is sent again
// only when none came — a duplicate only if Zalo delivered it and did not echo it in time.
func (s *Service) sendOne(ctx context.Context) bool {
	settleBy := time.Now().Add(s.o.SendLease * 15 / 16) // a margin before the lease ends
	snd, ok, err := s.o.Queue.TakeSend(ctx, s.o.Now(), s.o.SendLease)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("zalo: take send", "err", err)
		}
		return false
	}
	if !ok {
		return false
	}
	log := s.log.With("oa", snd.OA, "user", who(snd.OA, snd.User), "send", snd.ID, "attempt", snd.Attempts)
	// Recording is not cancelled with ctx: an outcome left unrecorded costs a wait or a duplicate.
	sctx := context.WithoutCancel(ctx)
	switch snd.State {
	case SendInFlight:
		s.m.sends.WithLabelValues("unknown").Inc()
		log.Warn("zalo: a send's outcome is unknown (its sender stopped during the API call); waiting for Zalo's echo before sending it again",
			"began", snd.FlightAt, "wait", s.o.EchoWait)
		o := Outcome{Unknown: true, Reason: "in flight when its sender stopped", RetryAt: s.o.Now().Add(s.o.EchoWait)}
		if err := s.persist(sctx, ctx.Done(), settleBy, func(sctx context.Context) error {
			return s.o.Queue.FinishSend(sctx, snd, s.o.Now(), o)
		}); err != nil && !errors.Is(err, ErrLeaseLost) {
			log.Error("zalo: record unknown send", "err", err)
		}
		return true
	}
	resend, began := snd.State == SendUnconfirmed, snd.FlightAt
	// A send in flight is finished even when ctx ends: cancelling it could deliver the message unrecorded.
	// It is not, however, let run past its lease: another sender would take the message again. Each API call
	// ends at a deadline that leaves a quarter of the lease to record the outcome.
	o, snd, started := s.deliver(sctx, snd, time.Now().Add(s.o.SendLease*3/4))
	if !started {
		if o.RetryAt.IsZero() {
			return true // the lease was lost before the call: the message is another sender's
		}
		// The store failed before the call: give the message back once it is up again, rather than leave it
		// under its lease.
		if err := s.persist(sctx, ctx.Done(), settleBy, func(sctx context.Context) error {
			return s.o.Queue.FinishSend(sctx, snd, s.o.Now(), o)
		}); err != nil && !errors.Is(err, ErrLeaseLost) {
			log.Error("zalo: give back a send; it is taken again when its lease expires", "err", err)
		}
		return true
	}
	if resend {
		s.m.unknown.WithLabelValues("resent").Inc()
		log.Warn("zalo: no echo came for a send whose outcome was unknown; sent it again (a duplicate if Zalo had delivered it)",
			"began", began)
	}
	label := "sent"
	switch {
	case o.Final:
		label = "final"
	case o.Unknown:
		label = "unknown"
	case !o.Sent:
		label = "retry"
	}
	s.m.sends.WithLabelValues(label).Inc()
	switch label {
	case "final":
		log.Warn("zalo: message not delivered, for good", "code", o.Code, "reason", o.Reason)
	case "unknown":
		log.Warn("zalo: a send got no answer after the request went out; waiting for Zalo's echo before sending it again",
			"reason", o.Reason, "wait", s.o.EchoWait)
	case "retry":
		log.Info("zalo: message not delivered; retrying", "code", o.Code, "reason", o.Reason, "at", o.RetryAt)
	}
	if err := s.persist(sctx, ctx.Done(), settleBy, func(sctx context.Context) error {
		return s.o.Queue.FinishSend(sctx, snd, s.o.Now(), o)
	}); err != nil {
		// Unrecorded: the message stays in flight, and the next sender to take it waits for its echo.
		log.Error("zalo: record send", "err", err)
	}
	return true
}

// persist records the outcome of a job or a send (record), and tries again, with backoff, while the store
// fails — a database restarting, say — until it succeeds, the lease is lost (ErrLeaseLost), stop is closed
// (shutdown) or time runs out (until, before the lease ends, on this process's clock). An outcome left
// unrecorded keeps the job or the message under its lease, minutes, before another worker takes it again;
// a send taken again in flight then waits for Zalo's echo or is sent twice.
func (s *Service) persist(ctx context.Context, stop <-chan struct{}, until time.Time, record func(context.Context) error) error {
	wait := 50 * time.Millisecond
	for {
		err := record(ctx)
		if err == nil || errors.Is(err, ErrLeaseLost) || ctx.Err() != nil || !time.Now().Add(wait).Before(until) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-stop:
			t.Stop()
			return err
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(wait*2, 2*time.Second)
	}
}

// deliver sends one message and says how it went; started is false when no API call was made because the
// message could not be recorded as in flight: the returned Outcome is then empty when the lease was lost,
// and when the store failed it says when to send the message again. Each call is
// recorded first (BeginSend); the returned Send carries the last call's flight. A send call ends at
// deadline (the lease's end, less a margin), and is not started after it; token refreshes are not bound by
// it, since cancelling one could lose the rotated refresh token.
func (s *Service) deliver(ctx context.Context, snd Send, deadline time.Time) (o Outcome, _ Send, started bool) {
	oa, ok := s.oas[snd.OA]
	if !ok {
		return Outcome{Final: true, Reason: "OA no longer configured"}, snd, true
	}
	retry := func(code int, reason string) Outcome {
		if snd.Attempts >= s.o.MaxSendAttempts {
			return Outcome{Final: true, Code: code, Reason: fmt.Sprintf("gave up after %d attempts: %s", snd.Attempts, reason)}
		}
		return Outcome{Code: code, Reason: reason, RetryAt: s.o.Now().Add(s.backoff(snd.Attempts))}
	}
	var beginErr error
	send := func(token string) (apiResult, error) {
		if !time.Now().Before(deadline) {
			return apiResult{}, fmt.Errorf("%w: the lease ran out before the send", errTransient)
		}
		next, err := s.o.Queue.BeginSend(ctx, snd, s.o.Now())
		if err != nil {
			beginErr = err
			return apiResult{}, err
		}
		snd = next
		dctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		return s.api.send(dctx, token, snd.Body)
	}
	tok, err := s.token(ctx, oa, "")
	if err != nil {
		return retry(0, "no access token: "+err.Error()), snd, true
	}
	res, err := send(tok.AccessToken)
	if err == nil && (res.code == codeInvalidToken || res.code == codeExpiredToken) {
		// The token was revoked or expired early: refresh once and try again.
		tok, err = s.token(ctx, oa, tok.AccessToken)
		if err != nil {
			return retry(res.code, "no access token: "+err.Error()), snd, true
		}
		res, err = send(tok.AccessToken)
	}
	switch {
	case beginErr != nil:
		// No call without its record. (When the first call was answered with a token error, the message stays
		// recorded in flight: that costs a wait for an echo, never a duplicate.)
		if errors.Is(beginErr, ErrLeaseLost) {
			return Outcome{}, snd, false
		}
		s.log.Error("zalo: record a send before the call", "send", snd.ID, "err", beginErr)
		// The store failed: no call was made, or every call made was answered as not delivered. The message
		// is to be sent again once the store is back (never given up for it).
		return Outcome{Reason: "the store failed before the call: " + beginErr.Error(),
			RetryAt: s.o.Now().Add(s.backoff(snd.Attempts))}, snd, false
	case err != nil && errors.Is(err, errUnknown):
		return Outcome{Unknown: true, Code: res.status, Reason: err.Error(), RetryAt: s.o.Now().Add(s.o.EchoWait)}, snd, true
	case err != nil && errors.Is(err, errTransient):
		return retry(res.status, err.Error()), snd, true
	case err != nil:
		return Outcome{Final: true, Reason: err.Error()}, snd, true
	case res.code == 0:
		return Outcome{Sent: true, MessageID: res.messageID}, snd, true
	case res.code == codeRateLimit, res.code == codeInvalidToken, res.code == codeExpiredToken:
		return retry(res.code, res.message), snd, true
	}
	reason := finalCodes[res.code]
	if reason == "" {
		reason = "error " + res.message
	}
	return Outcome{Final: true, Code: res.code, Reason: reason}, snd, true
}

// errNeedsReauth: the OA's refresh token was rejected; someone must authorise the app again.
var errNeedsReauth = errors.New("the OA needs re-authorisation")

// token returns a usable access token of oa. With stale set (a token the API just refused), it refreshes unless
// another worker already replaced that token; without, it refreshes only when the token expires within
// RefreshAhead.
func (s *Service) token(ctx context.Context, oa OA, stale string) (Token, error) {
	usable := func(t Token) bool {
		return t.AccessToken != "" && !t.NeedsReauth && t.AccessToken != stale &&
			(t.Expires.IsZero() || s.o.Now().Add(s.o.RefreshAhead).Before(t.Expires))
	}
	cur, ok, err := s.o.Queue.Token(ctx, oa.ID)
	if err != nil {
		return Token{}, err
	}
	if ok && usable(cur) {
		return cur, nil
	}
	if ok && cur.NeedsReauth {
		return Token{}, errNeedsReauth
	}
	// outcome is what this call's own request to the OAuth server did ("" when it made none: another worker
	// had refreshed the token meanwhile, or the OA waits for re-authorisation). Only such a request is counted,
	// once, so that one refresh is one increment however many senders were waiting for it.
	var outcome string
	t, err := s.o.Queue.UpdateToken(ctx, oa.ID, func(cur Token, ok bool) (Token, error) {
		outcome = "" // update may run again if the store retries
		if !ok {
			cur = Token{AccessToken: oa.AccessToken, Expires: oa.AccessTokenExpires, RefreshToken: oa.RefreshToken}
		}
		if usable(cur) {
			return cur, nil // refreshed meanwhile by another worker or process
		}
		if cur.NeedsReauth {
			return Token{}, errNeedsReauth
		}
		next, err := s.api.refresh(ctx, oa, cur.RefreshToken, s.o.Now())
		if errors.Is(err, errRejected) {
			outcome = "rejected"
			cur.NeedsReauth, cur.Updated = true, s.o.Now()
			s.log.Error("zalo: the refresh token was rejected; the OA must be authorised again", "oa", oa.ID, "err", err)
			return cur, nil
		}
		if err != nil {
			outcome = "error"
			return Token{}, err
		}
		outcome = "refreshed"
		return next, nil
	})
	if outcome == "refreshed" && err != nil {
		outcome = "error" // refreshed, but the new tokens could not be stored
	}
	if outcome != "" {
		s.m.refreshes.WithLabelValues(outcome).Inc()
	}
	switch {
	case err != nil:
		return Token{}, err
	case outcome == "rejected":
		return Token{}, errNeedsReauth
	case outcome == "refreshed":
		s.log.Info("zalo: access token refreshed", "oa", oa.ID, "expires", t.Expires)
	}
	return t, nil
}

// newLease returns a random lease token.
func newLease() string {
	var b [12]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
