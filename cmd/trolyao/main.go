// Command trolyao is the virtual assistant backend: one binary with subcommands (serve, ingest, search, units,
// eval, export, coverage, healthcheck). It only parses flags and configuration and wires packages together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "trolyao:", err)
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

const usage = `trolyao — trợ lý ảo thủ tục hành chính

Usage:
  trolyao serve                 serve the HTTP API (ingests the catalog on first start)
  trolyao ingest [PATH]         sync the catalog from PATH (default: the portal crawl in the data folder)
  trolyao search QUESTION       rank procedures for a question
  trolyao units NAME            old ward/commune → new unit(s), or new unit → predecessors
  trolyao eval FILE.jsonl       run labelled questions through the assistant; the summary is the last line
  trolyao eval -split test      run a split of the question bank (train, validation, test) over a catalog
                                indexed without it
  trolyao policy fit            refit the assistant's decision policy on the question bank (assistant/policy.json)
  trolyao chat                  talk to the assistant in the terminal
  trolyao conversation export ID | delete ID | purge
                                a stored conversation as JSON, delete it, or purge those past retention
  trolyao staff add-user -role ROLE [-unit UNIT] NAME | set-unit -unit UNIT NAME | add-token -role ROLE [-expires DUR] NAME
                                staff accounts, the unit they publish for, and API tokens; NAME is 3–64 of
                                a-z 0-9 . _ -, the password (read from standard input) at least 10 characters
  trolyao export [FILE.jsonl]   write the catalog in the normalized JSONL format
  trolyao coverage [PATH]       parser coverage report over a catalog source
  trolyao healthcheck           exit 0 when the local server answers /healthz

Configuration (flags override environment variables):
  -data DIR        TROLYAO_DATA          source datasets (default ../shared/data)
  -dir DIR         TROLYAO_DIR           where the embedded store persists (default .trolyao)
  -database URL    TROLYAO_DATABASE_URL  use PostgreSQL + pgvector instead of the embedded store
  -addr ADDR       TROLYAO_ADDR          listen address for serve (default 127.0.0.1:8080)
  -embedder NAME   TROLYAO_EMBEDDER      "hash" (default, offline) or "openai" (OpenAI-compatible endpoint)
                   TROLYAO_EMBEDDER_URL, TROLYAO_EMBEDDER_MODEL, TROLYAO_EMBEDDER_DIM, TROLYAO_EMBEDDER_KEY
  -llm NAME        TROLYAO_LLM           empty (offline answers, default), "openai" or "ollama"
                   TROLYAO_LLM_URL, TROLYAO_LLM_MODEL, TROLYAO_LLM_KEY, TROLYAO_LLM_FIRST_TOKEN, TROLYAO_LLM_TIMEOUT
  -retention DUR   TROLYAO_RETENTION     delete conversations older than this (default 2160h = 90 days)
  -allowed-origins LIST  TROLYAO_ALLOWED_ORIGINS  portal origins that embed the widget (default: same origin)
  -zalo-config FILE      TROLYAO_ZALO_CONFIG      enable the Zalo OA webhook (see README)
  serve's other limits (-chat-rate, -ws-max-conns-per-ip, -shutdown-timeout, …): trolyao serve -h
`

// run is the whole program, callable from tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command"}
	}
	cmd, rest := args[0], args[1:]
	cfg, fs := newConfig(cmd, getenv, stderr)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	app := &app{cfg: cfg, flags: fs, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr, logger: newLogger(stderr, cfg.LogLevel)}
	switch cmd {
	case "serve":
		return app.serve(ctx)
	case "ingest":
		return app.ingest(ctx, fs.Args())
	case "search":
		return app.search(ctx, fs.Args())
	case "units":
		return app.units(ctx, fs.Args())
	case "eval":
		return app.eval(ctx, fs.Args())
	case "export":
		return app.export(ctx, fs.Args())
	case "coverage":
		return app.coverage(ctx, fs.Args())
	case "healthcheck":
		return app.healthcheck(ctx)
	case "chat":
		return app.chat(ctx)
	case "conversation":
		return app.conversation(ctx, fs.Args())
	case "staff":
		return app.staffCmd(ctx, fs.Args())
	case "policy":
		return app.policyCmd(ctx, fs.Args())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}
