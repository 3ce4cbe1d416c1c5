package zalo_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/channels/zalo"
	"github.com/trolyao/trolyao/channels/zalo/boltqueue"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/postgres/pgtest"
)

func TestSplit(t *testing.T) {
	para := strings.Repeat("Một câu khá dài về hồ sơ. ", 10) // 260 characters
	tests := []struct {
		name string
		text string
		max  int
		want []string
	}{
		{"short", "  Chào bạn.  ", 100, []string{"Chào bạn."}},
		{"empty", " \n ", 100, nil},
		{"paragraphs", "Đoạn một rất dài ở đây.\n\nĐoạn hai.", 30, []string{"Đoạn một rất dài ở đây.", "Đoạn hai."}},
		{"lines", "Dòng một khá dài nhé\nDòng hai\nDòng ba", 25, []string{"Dòng một khá dài nhé", "Dòng hai\nDòng ba"}},
		{"sentences", "Câu một ở đây rồi. Câu hai dài hơn.", 30, []string{"Câu một ở đây rồi.", "Câu hai dài hơn."}},
		{"words", "một hai ba bốn năm sáu bảy tám", 12, []string{"một hai ba", "bốn năm sáu", "bảy tám"}},
		{"one long word", strings.Repeat("a", 25), 10, []string{strings.Repeat("a", 10), strings.Repeat("a", 10), strings.Repeat("a", 5)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, zalo.Split(tt.text, tt.max))
		})
	}
	parts := zalo.Split(strings.Repeat(para+"\n\n", 12), 2000)
	require.Len(t, parts, 2)
	for _, p := range parts {
		assert.LessOrEqual(t, utf8.RuneCountInString(p), 2000)
		assert.True(t, strings.HasSuffix(p, "hồ sơ."), "cut at a paragraph")
	}
}

func TestSign(t *testing.T) {
	// The formula of zalo-oa.md: lowercase hex SHA-256 over app_id + body + timestamp + OA secret key.
	body := []byte(`{"app_id":"1","timestamp":"2"}`)
	sum := sha256.Sum256([]byte(`1{"app_id":"1","timestamp":"2"}2k`))
	assert.Equal(t, "mac="+hex.EncodeToString(sum[:]), zalo.Sign("1", body, "2", "k"))
	assert.NotEqual(t, zalo.Sign("1", body, "2", "k"), zalo.Sign("1", body, "3", "k"))
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "zalo.json")
		require.NoError(t, os.WriteFile(p, []byte(s), 0o600))
		return p
	}
	env := map[string]string{"ZALO_SECRET": "s3cret", "ZALO_OA_KEY": "k3y", "ZALO_REFRESH": "r3fresh"}
	getenv := func(k string) string { return env[k] }
	c, err := zalo.LoadConfig(write(`{"oas":[{"id":"phuong-ben-thanh","app_id":"2553928453557884079",
		"app_secret":"${ZALO_SECRET}","oa_secret_key":"${ZALO_OA_KEY}","refresh_token":"${ZALO_REFRESH}"}]}`), getenv)
	require.NoError(t, err)
	require.Len(t, c.OAs, 1)
	assert.Equal(t, "s3cret", c.OAs[0].AppSecret)
	assert.Equal(t, "k3y", c.OAs[0].OASecretKey)
	assert.Equal(t, "r3fresh", c.OAs[0].RefreshToken)
	assert.NotContains(t, c.OAs[0].String(), "s3cret")

	bad := map[string]string{
		"unset variable": `{"oas":[{"id":"a","app_id":"1","app_secret":"${NOPE}","oa_secret_key":"k","refresh_token":"r"}]}`,
		"no OA":          `{"oas":[]}`,
		"bad id":         `{"oas":[{"id":"a/b","app_id":"1","app_secret":"s","oa_secret_key":"k","refresh_token":"r"}]}`,
		"long id":        `{"oas":[{"id":"` + strings.Repeat("a", 49) + `","app_id":"1","app_secret":"s","oa_secret_key":"k","refresh_token":"r"}]}`,
		"bad app id":     `{"oas":[{"id":"a","app_id":"x1","app_secret":"s","oa_secret_key":"k","refresh_token":"r"}]}`,
		"no secret":      `{"oas":[{"id":"a","app_id":"1","app_secret":"","oa_secret_key":"k","refresh_token":"r"}]}`,
		"no token":       `{"oas":[{"id":"a","app_id":"1","app_secret":"s","oa_secret_key":"k"}]}`,
		"duplicate":      `{"oas":[{"id":"a","app_id":"1","app_secret":"s","oa_secret_key":"k","refresh_token":"r"},{"id":"a","app_id":"1","app_secret":"s","oa_secret_key":"k","refresh_token":"r"}]}`,
		"unknown field":  `{"oas":[{"id":"a","app_id":"1","app_secret":"s","oa_secret_key":"k","refresh_token":"r","secret":"x"}]}`,
		"not JSON":       `oas: []`,
	}
	for name, s := range bad {
		_, err := zalo.LoadConfig(write(s), getenv)
		assert.ErrorIs(t, err, zalo.ErrConfig, name)
		if err != nil {
			assert.NotContains(t, err.Error(), "s3cret", name)
		}
	}
	_, err = zalo.LoadConfig(filepath.Join(dir, "missing.json"), getenv)
	assert.Error(t, err)
}

func TestConversationID(t *testing.T) {
	id := zalo.ConversationID(strings.Repeat("o", 48), strings.Repeat("9", 64))
	assert.LessOrEqual(t, len(id), knowledge.MaxConversationID)
	assert.Equal(t, "zalo-phuong-1-6142494823", zalo.ConversationID("phuong-1", "6142494823"))
}

// TestQueueLeases checks the lease contract on both stores: a job whose lease expired is taken again and the
// first holder can neither complete nor retry it; a user's newer job waits for the older one.
func TestQueueLeases(t *testing.T) {
	stores(t, func(t *testing.T, q zalo.Queue) {
		ctx := t.Context()
		now := time.Now()
		for i, k := range []string{"a", "b"} {
			added, err := q.Enqueue(ctx, zalo.Inbound{OA: "oa", User: "u1", Key: k, Kind: zalo.KindText, Text: k, At: now})
			require.NoError(t, err)
			require.True(t, added, i)
		}
		added, err := q.Enqueue(ctx, zalo.Inbound{OA: "oa", User: "u1", Key: "a", Kind: zalo.KindText, Text: "a", At: now})
		require.NoError(t, err)
		assert.False(t, added)

		j1, ok, err := q.Take(ctx, now, time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, "a", j1.Text)
		_, ok, err = q.Take(ctx, now, time.Minute)
		require.NoError(t, err)
		assert.False(t, ok, "the user's newer job waits while the older one is held")

		later := now.Add(2 * time.Minute) // j1's lease has expired
		j2, ok, err := q.Take(ctx, later, time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, j1.ID, j2.ID)
		assert.Equal(t, 2, j2.Attempts)
		assert.ErrorIs(t, q.Complete(ctx, j1, later, nil), zalo.ErrLeaseLost)
		assert.ErrorIs(t, q.Retry(ctx, j1, later), zalo.ErrLeaseLost)
		require.NoError(t, q.Complete(ctx, j2, later, []zalo.Outbound{{OA: "oa", User: "u1", Body: []byte(`{"x":1}`)}}))

		j3, ok, err := q.Take(ctx, later, time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, "b", j3.Text)
		require.NoError(t, q.Retry(ctx, j3, later.Add(time.Hour)))
		_, ok, err = q.Take(ctx, later, time.Minute)
		require.NoError(t, err)
		assert.False(t, ok, "a job given back for later is not taken before")

		s, ok, err := q.TakeSend(ctx, later, time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		assert.JSONEq(t, `{"x":1}`, string(s.Body))
		require.NoError(t, q.FinishSend(ctx, s, later, zalo.Outcome{Sent: true, MessageID: "m1"}))
		assert.ErrorIs(t, q.FinishSend(ctx, s, later, zalo.Outcome{Sent: true}), zalo.ErrLeaseLost)

		st, err := q.Stats(ctx)
		require.NoError(t, err)
		assert.Equal(t, zalo.Stats{Jobs: 1, Sends: 0}, st)
		n, err := q.Purge(ctx, later.Add(time.Second))
		require.NoError(t, err)
		assert.Equal(t, 2, n, "the finished job and the sent message; u1 has a job unfinished")
		last, err := q.LastInbound(ctx, "oa", "u1")
		require.NoError(t, err)
		assert.False(t, last.IsZero())
		added, err = q.Enqueue(ctx, zalo.Inbound{OA: "oa", User: "u1", Key: "b", Kind: zalo.KindText, Text: "b", At: now})
		require.NoError(t, err)
		assert.False(t, added, "the unfinished job keeps its de-duplication key")
	})
}

// textBody is a message body of the send API carrying text.
func textBody(user, text string) []byte {
	return []byte(`{"recipient":{"user_id":"` + user + `"},"message":{"text":"` + text + `"}}`)
}

// outboxOf completes one job of user with the given reply texts.
func outboxOf(t *testing.T, q zalo.Queue, now time.Time, user, key string, texts ...string) {
	t.Helper()
	ctx := t.Context()
	_, err := q.Enqueue(ctx, zalo.Inbound{OA: "oa", User: user, Key: key, Kind: zalo.KindText, Text: key, At: now})
	require.NoError(t, err)
	j, ok, err := q.Take(ctx, now, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	var out []zalo.Outbound
	for _, text := range texts {
		out = append(out, zalo.Outbound{OA: "oa", User: user, Body: textBody(user, text)})
	}
	require.NoError(t, q.Complete(ctx, j, now, out))
}

// TestQueueSendStates checks, on both stores, the durable in-flight record of a send: a message whose
// sender's lease ended during the call is taken back as in flight (not as a fresh send), waits unconfirmed,
// is confirmed by its echo — only by one with its text, no older than its flight and not the echo of a
// message already sent — and the sender's late answer is then accepted quietly; a late answer also wins over
// the wait.
func TestQueueSendStates(t *testing.T) {
	stores(t, func(t *testing.T, q zalo.Queue) {
		ctx := t.Context()
		now := time.Now()
		outboxOf(t, q, now, "u1", "a", "một", "hai")
		outboxOf(t, q, now, "u2", "b", "ba")

		s1, ok, err := q.TakeSend(ctx, now, time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, zalo.SendPending, s1.State)
		assert.Empty(t, s1.Flight)
		s1, err = q.BeginSend(ctx, s1, now)
		require.NoError(t, err)
		assert.Equal(t, zalo.SendInFlight, s1.State)
		require.NotEmpty(t, s1.Flight)

		// u2's message goes meanwhile, and is recorded with the API's id m2.
		s2, ok, err := q.TakeSend(ctx, now, time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, "u2", s2.User)
		s2, err = q.BeginSend(ctx, s2, now)
		require.NoError(t, err)
		require.NoError(t, q.FinishSend(ctx, s2, now, zalo.Outcome{Sent: true, MessageID: "m2"}))
		_, ok, err = q.TakeSend(ctx, now, time.Minute)
		require.NoError(t, err)
		assert.False(t, ok, "u1's next message waits behind the one in flight")

		// s1's sender stops; its lease ends; the message comes back as in flight, with its flight.
		later := now.Add(2 * time.Minute)
		again, ok, err := q.TakeSend(ctx, later, time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, s1.ID, again.ID)
		assert.Equal(t, zalo.SendInFlight, again.State)
		assert.Equal(t, s1.Flight, again.Flight)
		assert.WithinDuration(t, now, again.FlightAt, time.Millisecond)
		require.NoError(t, q.FinishSend(ctx, again, later, zalo.Outcome{Unknown: true, RetryAt: later.Add(time.Hour)}))
		_, ok, err = q.TakeSend(ctx, later, time.Minute)
		require.NoError(t, err)
		assert.False(t, ok, "an unconfirmed message waits for its echo")
		assert.ErrorIs(t, q.FinishSend(ctx, s1, later, zalo.Outcome{RetryAt: later}), zalo.ErrLeaseLost,
			"only a success is taken from a sender whose lease ended")

		const skew = 10 * time.Second
		for name, e := range map[string]zalo.Echo{
			"another text":       {OA: "oa", User: "u1", MsgID: "m1", Text: "hai", At: later},
			"another user":       {OA: "oa", User: "u2", MsgID: "m1", Text: "một", At: later},
			"older than flight":  {OA: "oa", User: "u1", MsgID: "m1", Text: "một", At: now.Add(-time.Minute)},
			"an id already sent": {OA: "oa", User: "u1", MsgID: "m2", Text: "một", At: later},
		} {
			res, err := q.ConfirmEcho(ctx, e, later, skew)
			require.NoError(t, err)
			assert.Equal(t, zalo.EchoNothing, res, name)
		}
		res, err := q.ConfirmEcho(ctx, zalo.Echo{OA: "oa", User: "u1", MsgID: "m1", Text: " một\n", At: now.Add(-time.Second)}, later, skew)
		require.NoError(t, err)
		assert.Equal(t, zalo.EchoUnknown, res)
		require.NoError(t, q.FinishSend(ctx, s1, later, zalo.Outcome{Sent: true, MessageID: "m1"}),
			"the late answer of a flight its echo confirmed")

		// u1's second message: its sender's lease ends during the call, the message is found in flight and
		// waits; then the sender's answer arrives and is recorded.
		s3, ok, err := q.TakeSend(ctx, later, time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		assert.JSONEq(t, string(textBody("u1", "hai")), string(s3.Body))
		s3, err = q.BeginSend(ctx, s3, later)
		require.NoError(t, err)
		res, err = q.ConfirmEcho(ctx, zalo.Echo{OA: "oa", User: "u1", MsgID: "m1", Text: "hai", At: later}, later, skew)
		require.NoError(t, err)
		assert.Equal(t, zalo.EchoNothing, res, "the echo of m1, already recorded, confirms nothing")
		evenLater := later.Add(2 * time.Minute)
		found, ok, err := q.TakeSend(ctx, evenLater, time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, zalo.SendInFlight, found.State)
		require.NoError(t, q.FinishSend(ctx, found, evenLater, zalo.Outcome{Unknown: true, RetryAt: evenLater.Add(time.Hour)}))
		require.NoError(t, q.FinishSend(ctx, s3, evenLater, zalo.Outcome{Sent: true, MessageID: "m3"}))
		st, err := q.Stats(ctx)
		require.NoError(t, err)
		assert.Equal(t, zalo.Stats{}, st)

		// A message in flight under a live lease is confirmed by its echo too (the echo may beat the answer).
		outboxOf(t, q, evenLater, "u3", "c", "bốn")
		s4, ok, err := q.TakeSend(ctx, evenLater, time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		s4, err = q.BeginSend(ctx, s4, evenLater)
		require.NoError(t, err)
		res, err = q.ConfirmEcho(ctx, zalo.Echo{OA: "oa", User: "u3", MsgID: "m4", Text: "bốn", At: evenLater}, evenLater, skew)
		require.NoError(t, err)
		assert.Equal(t, zalo.EchoLive, res)
		require.NoError(t, q.FinishSend(ctx, s4, evenLater, zalo.Outcome{Sent: true, MessageID: "m4"}))
	})
}

// TestLeasesSurviveOpen: opening a queue clears no lease. The embedded queue ends the leases of a previous
// holder of the file (bbolt lets one process hold it, so that holder has closed it or died) — a job at once,
// a send left in flight is reported as such rather than sent again; PostgreSQL, shared by live processes,
// ends them by time only.
func TestLeasesSurviveOpen(t *testing.T) {
	ctx := t.Context()
	now := time.Now()
	t.Run("bolt", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "zalo.db")
		q, err := boltqueue.Open(path)
		require.NoError(t, err)
		outboxOf(t, q, now, "u1", "a", "một")
		_, err = q.Enqueue(ctx, zalo.Inbound{OA: "oa", User: "u2", Key: "b", Kind: zalo.KindText, Text: "b", At: now})
		require.NoError(t, err)
		j, ok, err := q.Take(ctx, now, time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
		s, ok, err := q.TakeSend(ctx, now, time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
		s, err = q.BeginSend(ctx, s, now)
		require.NoError(t, err)
		_, ok, err = q.Take(ctx, now, time.Hour)
		require.NoError(t, err)
		assert.False(t, ok, "held by this opening")
		require.NoError(t, q.Close())

		q = openBolt(t, path)
		j2, ok, err := q.Take(ctx, now, time.Hour)
		require.NoError(t, err)
		require.True(t, ok, "the previous holder's lease ended with it")
		assert.Equal(t, j.ID, j2.ID)
		assert.Equal(t, 2, j2.Attempts)
		s2, ok, err := q.TakeSend(ctx, now, time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, zalo.SendInFlight, s2.State, "a send left in flight is reported, not sent again at once")
		assert.Equal(t, s.Flight, s2.Flight)
	})
	t.Run("postgres", func(t *testing.T) {
		schema := pgtest.Schema(t)
		q := openPG(t, schema)
		_, err := q.Enqueue(ctx, zalo.Inbound{OA: "oa", User: "u1", Key: "a", Kind: zalo.KindText, Text: "a", At: now})
		require.NoError(t, err)
		_, ok, err := q.Take(ctx, now, time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		other := openPG(t, schema) // another process starting on the same database
		_, ok, err = other.Take(ctx, now, time.Minute)
		require.NoError(t, err)
		assert.False(t, ok, "a live process's lease holds")
		_, ok, err = other.Take(ctx, now.Add(2*time.Minute), time.Minute)
		require.NoError(t, err)
		assert.True(t, ok, "until it expires")
	})
}
