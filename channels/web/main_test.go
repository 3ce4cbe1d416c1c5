package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/internal/realcatalog"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/embedded"
	"github.com/trolyao/trolyao/knowledge/units"
)

func TestMain(m *testing.M) {
	code := m.Run()
	realcatalog.Close()
	os.Exit(code)
}

// world is the real catalog in an embedded store, with its conversation store, shared by the package's tests.
func world(tb testing.TB) (*embedded.Store, *embedded.Conversations, *units.Gazetteer) {
	tb.Helper()
	c := realcatalog.Load(tb)
	convs.once.Do(func() { convs.c = embedded.NewConversations(c.Store) })
	return c.Store, convs.c, c.Units
}

var convs struct {
	once sync.Once
	c    *embedded.Conversations
}

func newAssistant(tb testing.TB) *assistant.Assistant {
	_, cs, _ := world(tb)
	return realcatalog.Load(tb).Assistant(cs)
}

// env is one server under test.
type env struct {
	s   *Server
	ts  *httptest.Server
	reg *prometheus.Registry
	url string // ws://…/ws?v=1
}

type option func(*Server, *httptest.Server)

// withReplier replaces the assistant (wrapping the real one in tests of timing).
func withReplier(r Replier) option { return func(s *Server, _ *httptest.Server) { s.Assistant = r } }

func withWriteTimeout(d time.Duration) option {
	return func(_ *Server, ts *httptest.Server) { ts.Config.WriteTimeout = d }
}

func newEnv(tb testing.TB, cfg Config, opts ...option) *env {
	tb.Helper()
	a := newAssistant(tb)
	reg := prometheus.NewRegistry()
	s := &Server{Store: a.Store, Searcher: a.Searcher, Units: a.Units, Assistant: a, Conversations: a.Conversations,
		Centres: a.Centres, Config: cfg, Registerer: reg, Gatherer: reg}
	ts := httptest.NewUnstartedServer(nil)
	for _, o := range opts {
		o(s, ts)
	}
	ts.Config.Handler = s.Handler()
	ts.Start()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		ts.Close()
	})
	return &env{s: s, ts: ts, reg: reg, url: "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws?v=1"}
}

// frame is any server frame, decoded for checks.
type frame struct {
	Type           string           `json:"type"`
	ID             string           `json:"id"`
	V              int              `json:"v"`
	MaxChars       int              `json:"max_chars"`
	ConversationID string           `json:"conversation_id"`
	MessageID      int64            `json:"message_id"`
	Text           string           `json:"text"`
	Citations      []Citation       `json:"citations"`
	Options        []Citation       `json:"options"`
	Suggestions    []string         `json:"suggestions"`
	Abstained      bool             `json:"abstained"`
	Code           string           `json:"code"`
	Message        string           `json:"message"`
	Messages       []HistoryMessage `json:"messages"`
	Starters       []string         `json:"starters"`
}

// client is a websocket test client.
type client struct {
	tb testing.TB
	ws *websocket.Conn
}

// dial connects and reads the hello frame.
func (e *env) dial(tb testing.TB, h http.Header) *client {
	tb.Helper()
	c, _ := e.dialHello(tb, h)
	return c
}

// dialHello connects and returns the hello frame too.
func (e *env) dialHello(tb testing.TB, h http.Header) (*client, frame) {
	tb.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(e.url, h)
	require.NoError(tb, err)
	resp.Body.Close()
	tb.Cleanup(func() { ws.Close() })
	c := &client{tb: tb, ws: ws}
	hello := c.read()
	require.Equal(tb, "hello", hello.Type)
	require.Equal(tb, 1, hello.V)
	require.Equal(tb, knowledge.MaxQueryRunes, hello.MaxChars)
	return c, hello
}

func (c *client) send(v any) {
	c.tb.Helper()
	require.NoError(c.tb, c.ws.WriteJSON(v))
}

func (c *client) read() frame {
	c.tb.Helper()
	require.NoError(c.tb, c.ws.SetReadDeadline(time.Now().Add(30*time.Second)))
	var f frame
	_, data, err := c.ws.ReadMessage()
	require.NoError(c.tb, err)
	require.NoError(c.tb, json.Unmarshal(data, &f), string(data))
	return f
}

// exchange sends a message and reads its frames up to the answer or error, checking the order of the
// protocol: ack, typing, deltas, answer.
func (c *client) exchange(id, text, conv string) (frames []frame, final frame) {
	c.tb.Helper()
	c.send(map[string]string{"type": "message", "id": id, "text": text, "conversation_id": conv})
	for {
		f := c.read()
		require.Equal(c.tb, id, f.ID, "frame %+v", f)
		frames = append(frames, f)
		if f.Type == "answer" || f.Type == "error" {
			return frames, f
		}
	}
}

// gate wraps a Replier: each Reply announces itself on entered, then waits for release.
type gate struct {
	next    Replier
	entered chan struct{}
	release chan struct{}
}

func newGate(next Replier) *gate {
	return &gate{next: next, entered: make(chan struct{}, 16), release: make(chan struct{})}
}

func (g *gate) Reply(ctx context.Context, conv, text string, emit func(assistant.Event)) (assistant.Answer, error) {
	g.entered <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return assistant.Answer{}, ctx.Err()
	}
	return g.next.Reply(ctx, conv, text, emit)
}

// slowReplier delays every answer, to outlast a short http.Server.WriteTimeout.
type slowReplier struct {
	next  Replier
	delay time.Duration
}

func (s slowReplier) Reply(ctx context.Context, conv, text string, emit func(assistant.Event)) (assistant.Answer, error) {
	t := time.NewTimer(s.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return assistant.Answer{}, ctx.Err()
	}
	return s.next.Reply(ctx, conv, text, emit)
}

// metricValue reads a counter or gauge.
func metricValue(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		panic(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}
