package main

import (
	"flag"
	"io"
	"log/slog"
	"strconv"
	"time"
)

// Config is the whole configuration, read once from flags and environment and passed explicitly.
type Config struct {
	Data         string // source datasets folder (contains procedures/ and units/)
	Dir          string // embedded store directory
	DatabaseURL  string // PostgreSQL; empty selects the embedded store
	Addr         string
	Embedder     EmbedderConfig
	LLM          LLMConfig
	EfSearch     int
	LogLevel     string
	TopK         int
	AbstainBelow float64       // assistant: retrieval confidence under which it says it does not know
	Tag          string        // eval: only cases with this tag
	Verbose      bool          // eval: print each case
	Retention    time.Duration // conversations older than this are deleted (0 keeps them)
}

// LLMConfig selects an optional chat model; empty Provider means offline answers only.
type LLMConfig struct {
	Provider   string // "openai" (any OpenAI-compatible server) or "ollama"
	URL        string
	Model      string
	Key        string
	FirstToken time.Duration
	Total      time.Duration
	Legacy     bool // send max_tokens instead of max_completion_tokens (older local servers)
}

// EmbedderConfig selects the embedder.
type EmbedderConfig struct {
	Kind  string // "hash" or "openai"
	URL   string // OpenAI-compatible base URL, e.g. http://localhost:11434/v1
	Model string
	Dim   int
	Key   string
}

func newConfig(cmd string, getenv func(string) string, stderr io.Writer) (*Config, *flag.FlagSet) {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	envInt := func(k string, def int) int {
		if v, err := strconv.Atoi(getenv(k)); err == nil {
			return v
		}
		return def
	}
	envDur := func(k string, def time.Duration) time.Duration {
		if d, err := time.ParseDuration(getenv(k)); err == nil {
			return d
		}
		return def
	}
	c := &Config{}
	fs := flag.NewFlagSet("trolyao "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Data, "data", env("TROLYAO_DATA", "../shared/data"), "source datasets folder")
	fs.StringVar(&c.Dir, "dir", env("TROLYAO_DIR", ".trolyao"), "embedded store directory")
	fs.StringVar(&c.DatabaseURL, "database", env("TROLYAO_DATABASE_URL", ""), "PostgreSQL URL (empty: embedded store)")
	fs.StringVar(&c.Addr, "addr", env("TROLYAO_ADDR", "127.0.0.1:8080"), "listen address")
	fs.StringVar(&c.Embedder.Kind, "embedder", env("TROLYAO_EMBEDDER", "hash"), "embedder: hash or openai")
	fs.StringVar(&c.Embedder.URL, "embedder-url", env("TROLYAO_EMBEDDER_URL", ""), "OpenAI-compatible base URL")
	fs.StringVar(&c.Embedder.Model, "embedder-model", env("TROLYAO_EMBEDDER_MODEL", ""), "embedding model")
	fs.IntVar(&c.Embedder.Dim, "embedder-dim", envInt("TROLYAO_EMBEDDER_DIM", 0), "embedding dimension")
	c.Embedder.Key = getenv("TROLYAO_EMBEDDER_KEY")
	fs.StringVar(&c.LLM.Provider, "llm", env("TROLYAO_LLM", ""), "chat model: empty (offline), openai or ollama")
	fs.StringVar(&c.LLM.URL, "llm-url", env("TROLYAO_LLM_URL", ""), "LLM base URL, e.g. http://127.0.0.1:11434/v1")
	fs.StringVar(&c.LLM.Model, "llm-model", env("TROLYAO_LLM_MODEL", ""), "LLM model name")
	c.LLM.Key = getenv("TROLYAO_LLM_KEY")
	fs.DurationVar(&c.LLM.FirstToken, "llm-first-token", envDur("TROLYAO_LLM_FIRST_TOKEN", 10*time.Second), "LLM first-token timeout")
	fs.DurationVar(&c.LLM.Total, "llm-timeout", envDur("TROLYAO_LLM_TIMEOUT", 45*time.Second), "LLM total timeout")
	fs.DurationVar(&c.Retention, "retention", envDur("TROLYAO_RETENTION", 90*24*time.Hour), "delete conversations older than this (0: keep)")
	fs.BoolVar(&c.LLM.Legacy, "llm-legacy-max-tokens", getenv("TROLYAO_LLM_LEGACY_MAX_TOKENS") == "1", "send max_tokens (older servers)")
	fs.IntVar(&c.EfSearch, "ef-search", envInt("TROLYAO_EF_SEARCH", 0), "PostgreSQL hnsw.ef_search per query (0: the store default, 300)")
	fs.StringVar(&c.LogLevel, "log-level", env("TROLYAO_LOG_LEVEL", "info"), "debug, info, warn or error")
	fs.IntVar(&c.TopK, "k", 5, "search: number of results")
	abst, err := strconv.ParseFloat(getenv("TROLYAO_ABSTAIN_BELOW"), 64)
	if err != nil {
		abst = 0
	}
	fs.Float64Var(&c.AbstainBelow, "abstain-below", abst, "assistant: confidence under which it abstains (0: default)")
	fs.StringVar(&c.Tag, "tag", "", "eval: only cases with this tag")
	fs.BoolVar(&c.Verbose, "v", false, "eval: print every case")
	return c, fs
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}
