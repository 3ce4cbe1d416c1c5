package main

import (
	"flag"
	"io"
	"log/slog"
	"strconv"
)

// Config is the whole configuration, read once from flags and environment and passed explicitly.
type Config struct {
	Data        string // source datasets folder (contains procedures/ and units/)
	Dir         string // embedded store directory
	DatabaseURL string // PostgreSQL; empty selects the embedded store
	Addr        string
	Embedder    EmbedderConfig
	EfSearch    int
	LogLevel    string
	TopK        int
	Tag         string // eval: only cases with this tag
	Verbose     bool   // eval: print each case
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
	fs.IntVar(&c.EfSearch, "ef-search", envInt("TROLYAO_EF_SEARCH", 100), "PostgreSQL hnsw.ef_search per query")
	fs.StringVar(&c.LogLevel, "log-level", env("TROLYAO_LOG_LEVEL", "info"), "debug, info, warn or error")
	fs.IntVar(&c.TopK, "k", 5, "search: number of results")
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
