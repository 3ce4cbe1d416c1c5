package langchain

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/trolyao/trolyao/assistant"
)

// ChatConfig configures a streaming chat model.
type ChatConfig struct {
	Provider string // "openai" (any OpenAI-compatible server: OpenAI, vLLM, llama.cpp, Ollama's /v1) or "ollama" (native /api/chat)
	BaseURL  string // e.g. http://127.0.0.1:8000/v1 for "openai", http://127.0.0.1:11434 for "ollama" (required)
	Model    string // e.g. qwen2.5:7b-instruct (required)
	Token    string // API key for "openai"; a placeholder is sent when empty (local servers ignore it)

	MaxTokens       int     // answer length limit; default 1024
	Temperature     float64 // sent as is: 0 is deterministic
	LegacyMaxTokens bool    // send max_tokens instead of max_completion_tokens (older OpenAI-compatible servers)

	FirstTokenTimeout time.Duration // the request is cancelled when no text arrives in time; default 10s
	TotalTimeout      time.Duration // the whole answer; default 45s
	HTTPClient        *http.Client  // optional; its Timeout should be 0 or above TotalTimeout
}

// Errors of Stream besides the provider's own. The timeouts wrap context.DeadlineExceeded.
var (
	ErrFirstTokenTimeout = fmt.Errorf("langchain: chat: no text in time: %w", context.DeadlineExceeded)
	ErrTotalTimeout      = fmt.Errorf("langchain: chat: answer not finished in time: %w", context.DeadlineExceeded)
	ErrIncomplete        = errors.New("langchain: chat: the stream ended before the answer was complete")
	ErrEmpty             = errors.New("langchain: chat: empty answer")
)

// incomplete lists the OpenAI finish reasons of an answer that must not be used: none (the stream stopped
// early), cut at the token limit, filtered, or a tool call instead of text. Servers that say "eos" or
// "end_turn" instead of "stop" are accepted.
var incomplete = map[string]bool{"": true, "null": true, "length": true, "content_filter": true,
	"tool_calls": true, "function_call": true}

// Chat is an assistant.Model over langchaingo: it streams an answer from an OpenAI-compatible server or Ollama,
// bounded by a first-token and a total timeout, and reports every cut-short answer as an error.
type Chat struct {
	llm      llms.Model
	provider string
	cfg      ChatConfig
}

var _ assistant.Model = (*Chat)(nil)

// NewChat builds a chat model for cfg. Nothing is read from the environment.
func NewChat(cfg ChatConfig) (*Chat, error) {
	if cfg.BaseURL == "" || cfg.Model == "" {
		return nil, errors.New("langchain: chat needs a base URL and a model (TROLYAO_LLM_URL, TROLYAO_LLM_MODEL)")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("langchain: chat: base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = 1024
	}
	if cfg.FirstTokenTimeout <= 0 {
		cfg.FirstTokenTimeout = 10 * time.Second
	}
	if cfg.TotalTimeout <= 0 {
		cfg.TotalTimeout = 45 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{} // no client timeout: TotalTimeout bounds each call through its context
	}
	c := &Chat{provider: cfg.Provider, cfg: cfg}
	switch cfg.Provider {
	case "openai", "":
		c.provider = "openai"
		token := cfg.Token
		if token == "" {
			token = "unused"
		}
		c.llm, err = openai.New(
			openai.WithBaseURL(cfg.BaseURL),
			openai.WithToken(token),
			openai.WithOrganization(""),
			openai.WithAPIType(openai.APITypeOpenAI),
			openai.WithModel(cfg.Model),
			openai.WithHTTPClient(cfg.HTTPClient),
		)
	case "ollama":
		c.llm, err = ollama.New(
			ollama.WithServerURL(cfg.BaseURL), // set, so OLLAMA_HOST is never read
			ollama.WithModel(cfg.Model),
			ollama.WithHTTPClient(cfg.HTTPClient),
		)
	default:
		return nil, fmt.Errorf("langchain: chat: unknown provider %q (openai or ollama)", cfg.Provider)
	}
	if err != nil {
		return nil, fmt.Errorf("langchain: chat: %w", err)
	}
	return c, nil
}

// Stream sends the system and user messages and streams the answer to onDelta, piece by piece (empty pieces
// are skipped). It returns the whole answer, or an error when the call fails, no text arrives within the
// first-token timeout, the answer is not complete within the total timeout, ctx ends, or the stream stops
// before the model finished — langchaingo can return a cut-short answer without an error; Stream does not.
func (c *Chat) Stream(ctx context.Context, system, user string, onDelta func(string)) (string, error) {
	ctx, cancelTotal := context.WithTimeoutCause(ctx, c.cfg.TotalTimeout, ErrTotalTimeout)
	defer cancelTotal()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	first := time.AfterFunc(c.cfg.FirstTokenTimeout, func() { cancel(ErrFirstTokenTimeout) })
	defer first.Stop()

	var (
		mu      sync.Mutex // langchaingo calls the streaming func from one goroutine; the lock is for safety
		text    strings.Builder
		started bool
	)
	streamFn := func(_ context.Context, chunk []byte) error {
		if len(chunk) == 0 { // the last chunk of a stream is empty
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if err := context.Cause(ctx); err != nil {
			return err
		}
		if !started {
			started = true
			if !first.Stop() {
				return ErrFirstTokenTimeout
			}
		}
		text.WriteString(string(chunk))
		if onDelta != nil {
			onDelta(string(chunk))
		}
		return nil
	}
	opts := []llms.CallOption{
		llms.WithStreamingFunc(streamFn),
		llms.WithMaxTokens(c.cfg.MaxTokens),
		llms.WithTemperature(c.cfg.Temperature),
	}
	if c.cfg.LegacyMaxTokens {
		opts = append(opts, openai.WithLegacyMaxTokensField())
	}
	resp, err := c.llm.GenerateContent(ctx, []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, system),
		llms.TextParts(llms.ChatMessageTypeHuman, user),
	}, opts...)

	mu.Lock()
	streamed := text.String()
	mu.Unlock()
	if cause := context.Cause(ctx); cause != nil { // checked first: a cancelled stream may return err == nil
		if err != nil {
			return streamed, fmt.Errorf("%w (%v)", cause, err)
		}
		return streamed, cause
	}
	if err != nil {
		return streamed, fmt.Errorf("langchain: chat: %w", err)
	}
	if resp == nil || len(resp.Choices) == 0 {
		return streamed, ErrEmpty
	}
	choice := resp.Choices[0]
	switch {
	case choice.Content != streamed:
		// Ollama's client leaves the content empty when the stream ends without "done"; OpenAI's accumulates
		// exactly the streamed deltas.
		return streamed, fmt.Errorf("%w: %d bytes streamed, %d in the response", ErrIncomplete, len(streamed), len(choice.Content))
	case c.provider == "openai" && incomplete[choice.StopReason]:
		return streamed, fmt.Errorf("%w: finish reason %q", ErrIncomplete, choice.StopReason)
	case strings.TrimSpace(streamed) == "":
		return streamed, ErrEmpty
	}
	return streamed, nil
}
