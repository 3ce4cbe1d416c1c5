package zalo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trolyao/trolyao/channels/zalo"
)

// fakeZalo is an httptest server speaking the OA API (/v3.0/oa/message/cs) and the OAuth server
// (/v4/oa/access_token): it checks the access_token header against the current token, the exact message JSON,
// and rotates single-use refresh tokens, refusing reuse.
type fakeZalo struct {
	*httptest.Server
	t         testing.TB
	appID     string
	appSecret string

	mu        sync.Mutex
	access    string          // the valid access token
	refresh   string          // the valid refresh token
	spent     map[string]bool // refresh tokens already used
	reused    int             // refresh attempts with a spent token
	refreshes int
	delivered []delivered // messages accepted (error 0)
	calls     int         // send calls, all outcomes
	failures  []string    // malformed requests
	seq       int
	inject    func(n int, m delivered) (status int, body string, ok bool) // n: 1-based call number
	hold      chan struct{}                                               // when set, the first send waits for it and is not delivered
	holding   chan struct{}                                               // closed when a send is being held
	holdOnce  sync.Once
	rejectAll bool // OAuth refuses every refresh
	// refreshDelay is how long the OAuth server takes to answer a refresh.
	refreshDelay time.Duration
	// stall, when set, is how long send call n takes before the API processes it; a client that gives up
	// meanwhile (its connection closes) leaves the message undelivered.
	stall      func(n int) time.Duration
	deliveries chan struct{}
	// answerDelay, when set, is how long send call n takes to answer after the message was delivered; a
	// client that gives up meanwhile has the message delivered without knowing it.
	answerDelay func(n int) time.Duration
	// echoTo, when set, is the base URL of the webhook that gets an oa_send_text echo of every delivered
	// message, re-delivered (like Zalo's webhook) until it answers 200.
	echoTo     func() string
	echoes     sync.WaitGroup
	echoStop   chan struct{}
	cut        int // calls whose client left before the message was delivered: not delivered
	unanswered int // calls whose client left after the message was delivered, before the answer
}

// delivered is one accepted message, decoded.
type delivered struct {
	User    string
	Text    string
	Buttons []map[string]any
	Raw     string
}

func newFakeZalo(t testing.TB, appID, appSecret, access, refresh string) *fakeZalo {
	f := &fakeZalo{t: t, appID: appID, appSecret: appSecret, access: access, refresh: refresh,
		spent: map[string]bool{}, deliveries: make(chan struct{}, 10000)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3.0/oa/message/cs", f.send)
	mux.HandleFunc("POST /v4/oa/access_token", f.token)
	f.Server = httptest.NewServer(mux)
	f.echoStop = make(chan struct{})
	t.Cleanup(func() {
		close(f.echoStop)
		f.echoes.Wait()
		f.Close()
	})
	return f
}

func (f *fakeZalo) fail(format string, args ...any) {
	f.mu.Lock()
	f.failures = append(f.failures, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// send is the OA API's message endpoint.
func (f *fakeZalo) send(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.fail("Content-Type %q", ct)
	}
	m, err := decodeMessage(body)
	if err != nil {
		f.fail("message: %v: %s", err, body)
		writeJSON(w, `{"error":-201,"message":"Parameters are invalid"}`)
		return
	}
	f.mu.Lock()
	f.calls++
	n := f.calls
	hold := f.hold
	if r.Header.Get("access_token") != f.access {
		f.mu.Unlock()
		writeJSON(w, `{"error":-216,"message":"Access token is invalid"}`)
		return
	}
	inject, stall := f.inject, f.stall
	f.mu.Unlock()
	if stall != nil {
		if d := stall(n); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				f.mu.Lock()
				f.cut++
				f.mu.Unlock()
				return
			}
		}
	}
	if hold != nil {
		held := false
		f.holdOnce.Do(func() {
			held = true
			close(f.holding)
		})
		if held {
			select {
			case <-hold:
			case <-r.Context().Done():
			}
			return // never delivered: the connection dies with the sender
		}
	}
	if inject != nil {
		if status, resp, ok := inject(n, m); ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, resp)
			return
		}
	}
	f.mu.Lock()
	f.seq++
	f.delivered = append(f.delivered, m)
	id := f.seq
	answerDelay, echoTo := f.answerDelay, f.echoTo
	f.mu.Unlock()
	msgID := fmt.Sprintf("m%05d", id)
	if echoTo != nil {
		f.echo(echoTo, m, msgID)
	}
	f.deliveries <- struct{}{}
	if answerDelay != nil {
		if d := answerDelay(n); d > 0 {
			time.Sleep(d)
		}
		if r.Context().Err() != nil {
			f.mu.Lock()
			f.unanswered++
			f.mu.Unlock()
			return
		}
	}
	writeJSON(w, fmt.Sprintf(`{"error":0,"message":"Success","data":{"message_id":%q}}`, msgID))
}

// echo posts, in the background, the oa_send_text event of a delivered message to the webhook at echoTo(),
// signed with the OA secret, until it answers 200 or the fake is closed.
func (f *fakeZalo) echo(echoTo func() string, m delivered, msgID string) {
	at := time.Now()
	body, _ := json.Marshal(map[string]any{
		"app_id": f.appID, "event_name": "oa_send_text", "sender": map[string]any{"id": "3662729599332560487"},
		"recipient": map[string]any{"id": m.User}, "message": map[string]any{"text": m.Text, "msg_id": msgID},
		"timestamp": strconv.FormatInt(at.UnixMilli(), 10),
	})
	sig := zalo.Sign(f.appID, body, strconv.FormatInt(at.UnixMilli(), 10), testOASecret)
	f.echoes.Go(func() {
		for {
			if base := echoTo(); base != "" {
				req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/zalo/"+testOAID, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-ZEvent-Signature", sig)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						return
					}
				}
			}
			select {
			case <-f.echoStop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// decodeMessage checks a message body against the wire format of zalo-oa.md.
func decodeMessage(body []byte) (delivered, error) {
	var m struct {
		Recipient struct {
			UserID string `json:"user_id"`
		} `json:"recipient"`
		Message struct {
			Text       string `json:"text"`
			Attachment *struct {
				Type    string `json:"type"`
				Payload struct {
					Buttons []map[string]any `json:"buttons"`
				} `json:"payload"`
			} `json:"attachment"`
		} `json:"message"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return delivered{}, err
	}
	d := delivered{User: m.Recipient.UserID, Text: m.Message.Text, Raw: string(body)}
	switch {
	case d.User == "":
		return d, fmt.Errorf("no recipient.user_id")
	case d.Text == "" || utf8.RuneCountInString(d.Text) > 2000:
		return d, fmt.Errorf("text of %d characters", utf8.RuneCountInString(d.Text))
	}
	if a := m.Message.Attachment; a != nil {
		if a.Type != "template" || len(a.Payload.Buttons) == 0 || len(a.Payload.Buttons) > 5 {
			return d, fmt.Errorf("attachment type %q with %d buttons", a.Type, len(a.Payload.Buttons))
		}
		for _, b := range a.Payload.Buttons {
			title, _ := b["title"].(string)
			if title == "" || len(b) != 3 {
				return d, fmt.Errorf("button %v", b)
			}
			switch b["type"] {
			case "oa.query.show":
				if p, _ := b["payload"].(string); p == "" {
					return d, fmt.Errorf("query button without a payload")
				}
			case "oa.open.url":
				p, _ := b["payload"].(map[string]any)
				if u, _ := p["url"].(string); !strings.HasPrefix(u, "https://") || len(p) != 1 {
					return d, fmt.Errorf("url button payload %v", b["payload"])
				}
			default:
				return d, fmt.Errorf("button type %v", b["type"])
			}
		}
		d.Buttons = a.Payload.Buttons
	}
	return d, nil
}

// token is the OAuth server's refresh endpoint.
func (f *fakeZalo) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		f.fail("oauth form: %v", err)
	}
	if r.Header.Get("secret_key") != f.appSecret || r.PostForm.Get("app_id") != f.appID ||
		r.PostForm.Get("grant_type") != "refresh_token" {
		f.fail("oauth request: secret_key ok %v, app_id %q, grant_type %q", r.Header.Get("secret_key") == f.appSecret,
			r.PostForm.Get("app_id"), r.PostForm.Get("grant_type"))
	}
	rt := r.PostForm.Get("refresh_token")
	f.mu.Lock()
	delay := f.refreshDelay
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.spent[rt] {
		f.reused++
	}
	if f.rejectAll || rt != f.refresh {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error_name":"Invalid refresh token","error_reason":"","ref_doc":"","error_description":"refresh token is invalid","error":-14014}`)
		return
	}
	f.refreshes++
	f.spent[rt] = true
	f.access = fmt.Sprintf("access-%d", f.refreshes)
	f.refresh = fmt.Sprintf("refresh-%d", f.refreshes)
	writeJSON(w, fmt.Sprintf(`{"access_token":%q,"refresh_token":%q,"expires_in":"90000"}`, f.access, f.refresh))
}

func writeJSON(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, s)
}

// expire invalidates the current access token (as Zalo does when it expires or is revoked).
func (f *fakeZalo) expire() {
	f.mu.Lock()
	f.access = "expired-" + f.access
	f.mu.Unlock()
}

func (f *fakeZalo) messages() []delivered {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]delivered(nil), f.delivered...)
}

func (f *fakeZalo) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeZalo) refreshCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshes
}

func (f *fakeZalo) check(t testing.TB) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.failures) > 0 {
		t.Errorf("the fake Zalo API saw malformed requests: %q", f.failures)
	}
	if f.reused > 0 {
		t.Errorf("a spent refresh token was used %d times", f.reused)
	}
}

// waitDelivered waits until n messages were accepted in all.
func (f *fakeZalo) waitDelivered(t testing.TB, ctx context.Context, n int) {
	t.Helper()
	for len(f.messages()) < n {
		select {
		case <-f.deliveries:
		case <-ctx.Done():
			t.Fatalf("%d messages delivered, want %d: %v", len(f.messages()), n, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
