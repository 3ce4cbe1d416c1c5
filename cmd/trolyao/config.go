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
	PGMaxConns   int  // PostgreSQL pool size
	PGSQLLexical bool // score BM25 in SQL instead of the in-memory index (less memory, slower)
	LogLevel     string
	TopK         int
	Tag          string        // eval: only cases with this tag
	Verbose      bool          // eval: print each case
	Split        string        // eval: a split of the question bank instead of a file
	Out          string        // policy fit: where to write the policy
	Retention    time.Duration // conversations older than this are deleted (0 keeps them)
	Web          WebConfig
	Zalo         ZaloConfig
	Staff        StaffConfig
}

// StaffConfig is the staff API's session and import settings.
type StaffConfig struct {
	SecureCookie  bool // mark the session cookie Secure (serve behind HTTPS)
	SessionIdle   time.Duration
	SessionMax    time.Duration
	LowConfidence float64 // answers under this confidence join the unanswered queue
	MaxImportMB   int
	LoginHashes   int // logins hashing a password at once
}

// WebConfig is what serve's web channel reads: the chat API's limits (parsed into web.Config) and the widget.
type WebConfig struct {
	AllowedOrigins  string // comma-separated origins allowed to open a websocket or call the chat API
	TrustedProxies  string // comma-separated addresses or prefixes whose X-Forwarded-For is believed
	MaxConnsPerIP   int
	ChatRate        float64 // messages per second per websocket
	ChatBurst       int
	ClientRate      float64 // messages per second per client (IPv4 address or IPv6 /64), all channels together
	ClientBurst     int
	ClientInFlight  int // answers of one client at once
	MaxInFlight     int
	AnswerTimeout   time.Duration
	LinkDomains     string // domains the widget turns into links
	WidgetTitle     string
	WidgetStarters  string // starter questions, separated by "|"
	NoDemo          bool   // serve no demo portal page at /
	ShutdownTimeout time.Duration
}

// ZaloConfig enables the Zalo OA channel when Config names the OA configuration file.
type ZaloConfig struct {
	Config    string // JSON file listing the OAs and their secrets ("${ENV}" references allowed)
	APIBase   string
	OAuthBase string
	Workers   int
	EchoWait  time.Duration // how long a send with an unknown outcome waits for Zalo's echo (0: the default)
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
	fs.IntVar(&c.PGMaxConns, "pg-max-conns", envInt("TROLYAO_PG_MAX_CONNS", 20), "PostgreSQL connection pool size (a search uses two at once)")
	fs.BoolVar(&c.PGSQLLexical, "pg-sql-lexical", getenv("TROLYAO_PG_SQL_LEXICAL") == "1", "PostgreSQL: score BM25 in SQL instead of an in-memory index (less memory, slower at scale)")
	fs.StringVar(&c.LogLevel, "log-level", env("TROLYAO_LOG_LEVEL", "info"), "debug, info, warn or error")
	fs.IntVar(&c.TopK, "k", 5, "search: number of results")
	fs.StringVar(&c.Web.AllowedOrigins, "allowed-origins", env("TROLYAO_ALLOWED_ORIGINS", ""), "serve: origins whose pages may use the chat API, comma-separated (empty: same origin only; * any)")
	fs.StringVar(&c.Web.TrustedProxies, "trusted-proxies", env("TROLYAO_TRUSTED_PROXIES", ""), "serve: reverse proxies whose X-Forwarded-For is believed (addresses or CIDR prefixes)")
	fs.IntVar(&c.Web.MaxConnsPerIP, "ws-max-conns-per-ip", envInt("TROLYAO_WS_MAX_CONNS_PER_IP", 0), "serve: open websockets per client IP (0: 20; negative: no cap)")
	fs.Float64Var(&c.Web.ChatRate, "chat-rate", envFloat(getenv, "TROLYAO_CHAT_RATE", 0), "serve: chat messages per second per websocket (0: 1)")
	fs.IntVar(&c.Web.ChatBurst, "chat-burst", envInt("TROLYAO_CHAT_BURST", 0), "serve: burst of chat messages per websocket (0: 5)")
	fs.Float64Var(&c.Web.ClientRate, "chat-client-rate", envFloat(getenv, "TROLYAO_CHAT_CLIENT_RATE", 0), "serve: chat messages per second per client IP (an IPv6 /64), its websockets and REST calls together (0: 2)")
	fs.IntVar(&c.Web.ClientBurst, "chat-client-burst", envInt("TROLYAO_CHAT_CLIENT_BURST", 0), "serve: burst of chat messages per client IP (0: 20)")
	fs.IntVar(&c.Web.ClientInFlight, "chat-client-inflight", envInt("TROLYAO_CHAT_CLIENT_INFLIGHT", 0), "serve: answers of one client IP composed at once (0: 4; negative: no cap)")
	fs.IntVar(&c.Web.MaxInFlight, "chat-max-inflight", envInt("TROLYAO_CHAT_MAX_INFLIGHT", 0), "serve: answers composed at once (0: 64)")
	fs.DurationVar(&c.Web.AnswerTimeout, "chat-answer-timeout", envDur("TROLYAO_CHAT_ANSWER_TIMEOUT", 0), "serve: time limit of one answer (0: 60s)")
	fs.StringVar(&c.Web.LinkDomains, "widget-link-domains", env("TROLYAO_WIDGET_LINK_DOMAINS", ""), "serve: domains the widget links to, comma-separated (empty: dichvucong.gov.vn, hochiminhcity.gov.vn)")
	fs.StringVar(&c.Web.WidgetTitle, "widget-title", env("TROLYAO_WIDGET_TITLE", ""), "serve: the widget's title")
	fs.StringVar(&c.Web.WidgetStarters, "widget-starters", env("TROLYAO_WIDGET_STARTERS", ""), "serve: questions the widget offers when a conversation starts, separated by | (empty: the most asked procedures, else four common ones); staff may set others on the staff page")
	fs.BoolVar(&c.Web.NoDemo, "no-demo", getenv("TROLYAO_NO_DEMO") == "1", "serve: no demo portal page at /")
	fs.DurationVar(&c.Web.ShutdownTimeout, "shutdown-timeout", envDur("TROLYAO_SHUTDOWN_TIMEOUT", 15*time.Second), "serve: how long in-flight answers may finish on shutdown")
	fs.StringVar(&c.Zalo.Config, "zalo-config", env("TROLYAO_ZALO_CONFIG", ""), "serve: Zalo OA configuration file (empty: no Zalo channel)")
	fs.StringVar(&c.Zalo.APIBase, "zalo-api-base", env("TROLYAO_ZALO_API_BASE", ""), "serve: Zalo OA API base URL (empty: https://openapi.zalo.me)")
	fs.StringVar(&c.Zalo.OAuthBase, "zalo-oauth-base", env("TROLYAO_ZALO_OAUTH_BASE", ""), "serve: Zalo OAuth base URL (empty: https://oauth.zaloapp.com)")
	fs.IntVar(&c.Zalo.Workers, "zalo-workers", envInt("TROLYAO_ZALO_WORKERS", 0), "serve: Zalo answering workers (0: the default)")
	fs.DurationVar(&c.Zalo.EchoWait, "zalo-echo-wait", envDur("TROLYAO_ZALO_ECHO_WAIT", 0), "serve: how long a Zalo send with an unknown outcome waits for Zalo's oa_send_text echo before it is sent again (0: 2m)")
	fs.BoolVar(&c.Staff.SecureCookie, "staff-secure-cookie", getenv("TROLYAO_STAFF_SECURE_COOKIE") == "1", "serve: mark the staff session cookie Secure (behind HTTPS)")
	fs.DurationVar(&c.Staff.SessionIdle, "staff-session-idle", envDur("TROLYAO_STAFF_SESSION_IDLE", 0), "serve: a staff session ends after this long without a request (0: 30m)")
	fs.DurationVar(&c.Staff.SessionMax, "staff-session-max", envDur("TROLYAO_STAFF_SESSION_MAX", 0), "serve: and at most this long after login (0: 12h)")
	fs.Float64Var(&c.Staff.LowConfidence, "staff-low-confidence", envFloat(getenv, "TROLYAO_STAFF_LOW_CONFIDENCE", 0), "serve: answers under this confidence join the unanswered queue (0: 0.6)")
	fs.IntVar(&c.Staff.MaxImportMB, "staff-max-import-mb", envInt("TROLYAO_STAFF_MAX_IMPORT_MB", 0), "serve: largest catalog upload in MiB (0: 200)")
	fs.IntVar(&c.Staff.LoginHashes, "staff-login-hashes", envInt("TROLYAO_STAFF_LOGIN_HASHES", 0), "serve: staff logins hashing a password at once, 19 MiB each (0: 2)")
	fs.StringVar(&c.Tag, "tag", "", "eval: only cases with this tag")
	fs.BoolVar(&c.Verbose, "v", false, "eval: print every case")
	fs.StringVar(&c.Out, "out", "", "policy fit: output file (default assistant/policy.json)")
	fs.StringVar(&c.Split, "split", "", "eval: run a split of the question bank (train, validation or test) over a catalog indexed without it")
	return c, fs
}

func envFloat(getenv func(string) string, k string, def float64) float64 {
	if v, err := strconv.ParseFloat(getenv(k), 64); err == nil {
		return v
	}
	return def
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}
