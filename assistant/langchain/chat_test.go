package langchain

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// step is one streamed piece of a fake answer, sent after a delay.
type step struct {
	delay   time.Duration
	content string
}

// script says how a fake server answers.
type script struct {
	status int    // an error status instead of a stream
	steps  []step // content pieces
	finish string // finish_reason of the final chunk; "" sends none
	noDone bool   // end the stream without "data: [DONE]"
	cut    bool   // after the steps, drop the connection mid-stream
}

// chatRequest is what a fake server saw.
type chatRequest struct {
	Model               string `json:"model"`
	Stream              bool   `json:"stream"`
	MaxTokens           int    `json:"max_tokens"`
	MaxCompletionTokens int    `json:"max_completion_tokens"`
	Messages            []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
}

// fakeOpenAI speaks the OpenAI chat-completions streaming wire format (server-sent events of
// chat.completion.chunk objects, a final chunk with a finish_reason, a usage chunk and "data: [DONE]").
type fakeOpenAI struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []chatRequest
}

func newFakeOpenAI(t *testing.T, sc script) *fakeOpenAI {
	t.Helper()
	f := &fakeOpenAI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
			http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
			return
		}
		var req chatRequest
		if !assert.NoError(t, json.NewDecoder(r.Body).Decode(&req)) {
			return
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		f.mu.Unlock()
		if sc.status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(sc.status)
			fmt.Fprint(w, `{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		flusher := w.(http.Flusher)
		send := func(s string) {
			fmt.Fprint(w, "data: "+s+"\n\n")
			flusher.Flush()
		}
		send(chunk(`{"role":"assistant","content":""}`, ""))
		for _, s := range sc.steps {
			select {
			case <-time.After(s.delay):
			case <-r.Context().Done():
				return
			}
			content, _ := json.Marshal(s.content)
			send(chunk(`{"content":`+string(content)+`}`, ""))
		}
		if sc.cut {
			conn, _, err := w.(http.Hijacker).Hijack()
			if assert.NoError(t, err) {
				conn.Close()
			}
			return
		}
		if sc.finish != "" {
			send(chunk(`{}`, sc.finish))
			send(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1767225600,"model":"m","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":20,"total_tokens":70}}`)
		}
		if !sc.noDone {
			send("[DONE]")
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func chunk(delta, finish string) string {
	fr := "null"
	if finish != "" {
		fr = `"` + finish + `"`
	}
	return `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1767225600,"model":"m",` +
		`"system_fingerprint":"fp_1","choices":[{"index":0,"delta":` + delta + `,"logprobs":null,"finish_reason":` + fr + `}]}`
}

func (f *fakeOpenAI) requests() []chatRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]chatRequest(nil), f.reqs...)
}

func newTestChat(t *testing.T, cfg ChatConfig) *Chat {
	t.Helper()
	if cfg.Provider == "" {
		cfg.Provider = "openai"
	}
	if cfg.Model == "" {
		cfg.Model = "qwen2.5-7b-instruct"
	}
	if cfg.FirstTokenTimeout == 0 {
		cfg.FirstTokenTimeout = 2 * time.Second
	}
	if cfg.TotalTimeout == 0 {
		cfg.TotalTimeout = 5 * time.Second
	}
	c, err := NewChat(cfg)
	require.NoError(t, err)
	return c
}

func pieces(ss ...string) []step {
	out := make([]step, len(ss))
	for i, s := range ss {
		out[i] = step{content: s}
	}
	return out
}

func TestChatStream(t *testing.T) {
	srv := newFakeOpenAI(t, script{steps: pieces("Xin ", "", "chào", " bạn."), finish: "stop"})
	c := newTestChat(t, ChatConfig{BaseURL: srv.URL + "/v1", MaxTokens: 300, Temperature: 0.1})
	var got []string
	text, err := c.Stream(context.Background(), "hệ thống", "câu hỏi", func(s string) { got = append(got, s) })
	require.NoError(t, err)
	assert.Equal(t, "Xin chào bạn.", text)
	assert.Equal(t, []string{"Xin ", "chào", " bạn."}, got, "in order, empty chunks skipped")

	reqs := srv.requests()
	require.Len(t, reqs, 1)
	assert.True(t, reqs[0].Stream)
	assert.Equal(t, "qwen2.5-7b-instruct", reqs[0].Model)
	assert.Equal(t, 300, reqs[0].MaxCompletionTokens)
	assert.Zero(t, reqs[0].MaxTokens)
	require.Len(t, reqs[0].Messages, 2)
	assert.Equal(t, "system", reqs[0].Messages[0].Role)
	assert.Equal(t, "hệ thống", reqs[0].Messages[0].Content)
	assert.Equal(t, "user", reqs[0].Messages[1].Role)
	assert.Equal(t, "câu hỏi", reqs[0].Messages[1].Content)
}

func TestChatLegacyMaxTokens(t *testing.T) {
	srv := newFakeOpenAI(t, script{steps: pieces("Được."), finish: "stop"})
	c := newTestChat(t, ChatConfig{BaseURL: srv.URL + "/v1", MaxTokens: 200, LegacyMaxTokens: true})
	_, err := c.Stream(context.Background(), "s", "u", nil)
	require.NoError(t, err)
	reqs := srv.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, 200, reqs[0].MaxTokens)
	assert.Zero(t, reqs[0].MaxCompletionTokens)
}

func TestChatFailures(t *testing.T) {
	tests := []struct {
		name   string
		script script
		cfg    ChatConfig
		is     []error
	}{
		{"server error", script{status: http.StatusInternalServerError}, ChatConfig{}, nil},
		{"slow first token", script{steps: []step{{delay: 300 * time.Millisecond, content: "Muộn."}}, finish: "stop"},
			ChatConfig{FirstTokenTimeout: 50 * time.Millisecond}, []error{ErrFirstTokenTimeout, context.DeadlineExceeded}},
		{"too slow overall", script{steps: []step{{content: "Một. "}, {delay: 300 * time.Millisecond, content: "Hai."}}, finish: "stop"},
			ChatConfig{TotalTimeout: 100 * time.Millisecond}, []error{ErrTotalTimeout, context.DeadlineExceeded}},
		{"no finish reason", script{steps: pieces("Lệ phí là "), noDone: true}, ChatConfig{}, []error{ErrIncomplete}},
		{"no finish reason but DONE", script{steps: pieces("Lệ phí là ")}, ChatConfig{}, []error{ErrIncomplete}},
		{"connection dropped", script{steps: pieces("Lệ phí là "), cut: true}, ChatConfig{}, nil},
		{"cut at max tokens", script{steps: pieces("Lệ phí là "), finish: "length"}, ChatConfig{}, []error{ErrIncomplete}},
		{"empty", script{steps: pieces(" "), finish: "stop"}, ChatConfig{}, []error{ErrEmpty}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeOpenAI(t, tt.script)
			tt.cfg.BaseURL = srv.URL + "/v1"
			c := newTestChat(t, tt.cfg)
			_, err := c.Stream(context.Background(), "s", "u", nil)
			require.Error(t, err)
			for _, target := range tt.is {
				assert.ErrorIs(t, err, target)
			}
		})
	}
}

// TestChatCancelledMidStream checks the langchaingo gotcha: when the context is cancelled during a stream, its
// OpenAI client may stop reading and return the partial answer with a nil error. Stream must report it.
func TestChatCancelledMidStream(t *testing.T) {
	srv := newFakeOpenAI(t, script{
		steps:  []step{{content: "Lệ phí "}, {delay: 200 * time.Millisecond, content: "là 70.000 đồng."}},
		finish: "stop",
	})
	c := newTestChat(t, ChatConfig{BaseURL: srv.URL + "/v1"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	text, err := c.Stream(ctx, "s", "u", func(string) { cancel() })
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "Lệ phí ", text)

}

func TestNewChatConfig(t *testing.T) {
	_, err := NewChat(ChatConfig{Model: "m"})
	assert.Error(t, err)
	_, err = NewChat(ChatConfig{BaseURL: "http://x/v1"})
	assert.Error(t, err)
	_, err = NewChat(ChatConfig{BaseURL: "localhost:11434", Model: "m", Provider: "ollama"})
	assert.Error(t, err, "a URL without a scheme would make langchaingo's ollama client exit the process")
	_, err = NewChat(ChatConfig{BaseURL: "http://x/v1", Model: "m", Provider: "gemini"})
	assert.Error(t, err)
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "http://wrong.invalid/v1")
	c, err := NewChat(ChatConfig{BaseURL: "http://127.0.0.1:1/v1", Model: "m"})
	require.NoError(t, err, "no token needed: a placeholder is sent")
	assert.Equal(t, 1024, c.cfg.MaxTokens)
}

// fakeOllama speaks Ollama's native /api/chat streaming format: one JSON object per line, the last with
// "done": true.
func fakeOllama(t *testing.T, lines []string, done bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/chat" {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Model    string `json:"model"`
			Stream   bool   `json:"stream"`
			Messages []struct{ Role, Content string }
			Options  struct {
				NumPredict int `json:"num_predict"`
			} `json:"options"`
		}
		if !assert.NoError(t, json.NewDecoder(r.Body).Decode(&req)) {
			return
		}
		assert.Equal(t, "qwen2.5:7b", req.Model)
		assert.True(t, req.Stream)
		assert.Equal(t, 256, req.Options.NumPredict)
		if assert.Len(t, req.Messages, 2) {
			assert.Equal(t, "system", req.Messages[0].Role)
			assert.Equal(t, "user", req.Messages[1].Role)
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		for _, l := range lines {
			content, _ := json.Marshal(l)
			fmt.Fprintf(w, `{"model":"qwen2.5:7b","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":%s},"done":false}`+"\n", content)
			w.(http.Flusher).Flush()
		}
		if done {
			fmt.Fprint(w, `{"model":"qwen2.5:7b","created_at":"2026-01-01T00:00:01Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":1000000,"prompt_eval_count":40,"eval_count":12}`+"\n")
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestChatOllama(t *testing.T) {
	t.Setenv("OLLAMA_HOST", "http://wrong.invalid:1")
	srv := fakeOllama(t, []string{"Lệ phí ", "70.000 đồng."}, true)
	c := newTestChat(t, ChatConfig{Provider: "ollama", BaseURL: srv.URL, Model: "qwen2.5:7b", MaxTokens: 256})
	var got []string
	text, err := c.Stream(context.Background(), "s", "u", func(s string) { got = append(got, s) })
	require.NoError(t, err)
	assert.Equal(t, "Lệ phí 70.000 đồng.", text)
	assert.Equal(t, []string{"Lệ phí ", "70.000 đồng."}, got)

	cut := fakeOllama(t, []string{"Lệ phí "}, false)
	c = newTestChat(t, ChatConfig{Provider: "ollama", BaseURL: cut.URL, Model: "qwen2.5:7b", MaxTokens: 256})
	_, err = c.Stream(context.Background(), "s", "u", nil)
	assert.ErrorIs(t, err, ErrIncomplete, "a stream without done is cut short")
}
