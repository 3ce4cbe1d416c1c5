package assistant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// LLMConfig bounds how long a reply may wait for a model. Zero fields take the defaults.
type LLMConfig struct {
	FirstToken time.Duration // until the first piece of text; default DefaultFirstToken
	Total      time.Duration // until the whole answer; default DefaultTotal
}

// Default LLM time limits.
const (
	DefaultFirstToken = 10 * time.Second
	DefaultTotal      = 45 * time.Second
)

// Errors of a bounded model; both wrap context.DeadlineExceeded.
var (
	ErrFirstTokenTimeout = fmt.Errorf("no text from the model in time: %w", context.DeadlineExceeded)
	ErrTotalTimeout      = fmt.Errorf("the model did not finish in time: %w", context.DeadlineExceeded)
)

func (c LLMConfig) withDefaults() LLMConfig {
	if c.FirstToken <= 0 {
		c.FirstToken = DefaultFirstToken
	}
	if c.Total <= 0 {
		c.Total = DefaultTotal
	}
	return c
}

// Bounded wraps m so that its Stream fails with ErrFirstTokenTimeout when no text arrives within
// cfg.FirstToken and with ErrTotalTimeout when the answer is not complete within cfg.Total — whatever m does
// with its context. The context given to m is cancelled at that moment; pieces m delivers afterwards are dropped.
// assistant/langchain enforces the same limits on the HTTP request; this guards every Model.
func Bounded(m Model, cfg LLMConfig) Model { return &bounded{m: m, cfg: cfg.withDefaults()} }

type bounded struct {
	m   Model
	cfg LLMConfig
}

func (b *bounded) Stream(ctx context.Context, system, user string, onDelta func(string)) (string, error) {
	ctx, cancelTotal := context.WithTimeoutCause(ctx, b.cfg.Total, ErrTotalTimeout)
	defer cancelTotal()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	first := time.AfterFunc(b.cfg.FirstToken, func() { cancel(ErrFirstTokenTimeout) })
	defer first.Stop()

	var mu sync.Mutex
	done, started := false, false
	type result struct {
		text string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		text, err := b.m.Stream(ctx, system, user, func(s string) {
			if s == "" {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if done {
				return
			}
			if !started {
				started = true
				if !first.Stop() { // the timer fired: the reply is already failing
					done = true
					return
				}
			}
			if onDelta != nil {
				onDelta(s)
			}
		})
		res <- result{text, err}
	}()
	select {
	case r := <-res:
		mu.Lock()
		done = true
		mu.Unlock()
		if r.err != nil {
			if cause := context.Cause(ctx); cause != nil {
				return r.text, fmt.Errorf("%w (%v)", cause, r.err)
			}
			return r.text, r.err
		}
		if cause := context.Cause(ctx); cause != nil { // a truncated answer returned without an error
			return r.text, cause
		}
		return r.text, nil
	case <-ctx.Done():
		mu.Lock()
		done = true
		mu.Unlock()
		return "", context.Cause(ctx)
	}
}

// AnswerWithLLM asks m for an answer grounded in records and returns it if it can be trusted, otherwise the
// offline answer: it never returns a less grounded answer than offline.
//
// The prompt is BuildPrompt's. The answer streams to emit as EventDelta events one sentence or line at a time,
// each released only after the text so far passes CheckGrounding, so an invented fee never reaches the user
// (a model that does not stream gets its whole text released at the end). When the model fails, times out, is
// cancelled (even if it returned no error), answers nothing, too long, or states a code, an amount or a
// duration the records do not hold, or a payment instruction or an account number their fee fields do not hold
// (CheckGrounding), the reason is logged (redacted; never the raw question) and offline is
// returned with Source "offline"; if no delta was emitted yet, offline's text is emitted as one delta, as for
// an offline reply. Deltas already emitted are then superseded by the final answer, which is authoritative.
// On success the answer is offline's with the model's text and Source "llm": citations, options, suggestions
// and intents stay offline's.
func AnswerWithLLM(ctx context.Context, m Model, log *slog.Logger, question string, intents []string,
	records []knowledge.Procedure, offline Answer, emit func(Event)) Answer {
	offline.Source = "offline"
	if emit == nil {
		emit = func(Event) {}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &gate{emit: emit}
	fallback := func(reason string, attrs ...any) Answer {
		log.Warn("llm: answer rejected, using the offline answer",
			append([]any{"reason", reason, "question", clipRunes(Redact(question), 200)}, attrs...)...)
		if !g.emitted() {
			emit(Event{Kind: EventDelta, Delta: offline.Text})
		}
		return offline
	}
	if m == nil || len(records) == 0 {
		emit(Event{Kind: EventDelta, Delta: offline.Text})
		return offline
	}
	if len(records) > PromptMaxRecords {
		records = records[:PromptMaxRecords]
	}
	system, user, err := BuildPrompt(question, intents, records, nil)
	if err != nil {
		return fallback("prompt", "error", err.Error())
	}
	g.ground = newGrounder(records)
	start := time.Now()
	text, err := m.Stream(ctx, system, user, g.write)
	elapsed := time.Since(start).Round(time.Millisecond)
	if err == nil && ctx.Err() != nil { // a cancelled stream can end without an error, its text cut short
		err = context.Cause(ctx)
	}
	if err != nil {
		reason := "error"
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			reason = "timeout"
		case errors.Is(err, context.Canceled):
			reason = "cancelled"
		}
		return fallback(reason, "error", Redact(err.Error()), "elapsed", elapsed)
	}
	text = strings.TrimSpace(text)
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return fallback("empty", "elapsed", elapsed)
	case n > MaxAnswerRunes:
		return fallback("too-long", "runes", n, "elapsed", elapsed)
	}
	if bad := g.ground.check(text); len(bad) > 0 {
		for i := range bad {
			bad[i] = Redact(bad[i])
		}
		return fallback("ungrounded", "items", bad, "codes", recordCodes(records), "elapsed", elapsed)
	}
	g.finish(text)
	log.Info("llm: answer", "codes", recordCodes(records), "runes", utf8.RuneCountInString(text), "elapsed", elapsed)
	a := offline
	a.Text = text
	a.Source = "llm"
	return a
}

func recordCodes(records []knowledge.Procedure) []string {
	codes := make([]string, len(records))
	for i := range records {
		codes[i] = records[i].Code
	}
	return codes
}

// gate releases streamed text to the user sentence by sentence, as long as the text so far is grounded and
// within MaxAnswerRunes.
type gate struct {
	emit    func(Event)
	ground  *grounder
	all     strings.Builder // everything the model streamed
	sent    int             // bytes of all released
	blocked bool            // an ungrounded fact was seen: release nothing more
}

func (g *gate) emitted() bool { return g.sent > 0 }

func (g *gate) write(piece string) {
	if piece == "" || g.blocked {
		return
	}
	g.all.WriteString(piece)
	s := g.all.String()
	cut := lastBoundary(s)
	if cut <= g.sent {
		return
	}
	if utf8.RuneCountInString(s[:cut]) > MaxAnswerRunes || len(g.ground.check(s[:cut])) > 0 {
		g.blocked = true
		return
	}
	g.emit(Event{Kind: EventDelta, Delta: s[g.sent:cut]})
	g.sent = cut
}

// finish releases the rest of the accepted text; a model that did not stream gets its whole text released.
func (g *gate) finish(text string) {
	if g.blocked {
		return
	}
	if g.sent == 0 {
		g.emit(Event{Kind: EventDelta, Delta: text})
		return
	}
	if rest := strings.TrimRightFunc(g.all.String()[g.sent:], unicode.IsSpace); rest != "" {
		g.emit(Event{Kind: EventDelta, Delta: rest})
	}
}

// lastBoundary is the end of the last complete line or sentence in s: after a newline, or after ".", "!", "?",
// ";" or ":" and the white space that follows it. Numbers (70.000, 1.014064) never contain such a boundary.
func lastBoundary(s string) int {
	for i := len(s) - 1; i > 0; i-- {
		switch s[i] {
		case '\n':
			return i + 1
		case ' ', '\t':
			switch s[i-1] {
			case '.', '!', '?', ';', ':':
				return i + 1
			}
		}
	}
	return 0
}
