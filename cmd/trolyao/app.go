package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/assistant/langchain"
	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/bank"
	"github.com/trolyao/trolyao/knowledge/embedded"
	"github.com/trolyao/trolyao/knowledge/postgres"
	"github.com/trolyao/trolyao/knowledge/units"
)

type app struct {
	cfg    *Config
	flags  *flag.FlagSet       // the configuration flags, bound to cfg: subcommands accept them too
	getenv func(string) string // for configuration files that reference environment variables
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	logger *slog.Logger
	// exclude are the question-bank splits whose questions and negatives are left out of the index and of the
	// assistant's phrase indexes: none in service; `eval -split` leaves out the split it measures.
	exclude []bank.Split
	qbank   *bank.Bank
	pb      *bank.Phrasebook // the phrasebook of exclude, built on first use
	schema  string           // PostgreSQL schema of the store ("" keeps the server's search_path)
}

// questionBank loads the question bank embedded in the binary (once).
func (a *app) questionBank() (*bank.Bank, error) {
	if a.qbank == nil {
		b, err := bank.Load()
		if err != nil {
			return nil, fmt.Errorf("question bank: %w", err)
		}
		a.qbank = b
	}
	return a.qbank, nil
}

// phrases returns the phrasebook indexed with the catalog.
func (a *app) phrases() (*bank.Phrasebook, error) {
	b, err := a.questionBank()
	if err != nil {
		return nil, err
	}
	if a.pb == nil {
		a.pb = b.Phrasebook(a.exclude...)
	}
	return a.pb, nil
}

// phraseIndexes are the assistant's in-memory indexes of the bank's phrasings and negatives.
func (a *app) phraseIndexes() (phrases, negatives *assistant.PhraseIndex, err error) {
	b, err := a.questionBank()
	if err != nil {
		return nil, nil, err
	}
	key := fmt.Sprint(a.exclude)
	indexes.mu.Lock()
	defer indexes.mu.Unlock()
	if ix, ok := indexes.m[key]; ok {
		return ix[0], ix[1], nil
	}
	phrases, negatives = assistant.BankIndexes(b, a.exclude...)
	if indexes.m == nil {
		indexes.m = map[string][2]*assistant.PhraseIndex{}
	}
	indexes.m[key] = [2]*assistant.PhraseIndex{phrases, negatives}
	return phrases, negatives, nil
}

// indexes keeps the phrase indexes of the embedded question bank for each list of excluded splits: they
// take seconds to build, only the binary changes them and the assistant only reads them, so a process that
// runs several commands (as the package's tests do) builds them once.
var indexes struct {
	mu sync.Mutex
	m  map[string][2]*assistant.PhraseIndex
}

// catalogPath is the default catalog source: the national-portal crawl in the data folder.
func (a *app) catalogPath() string {
	return filepath.Join(a.cfg.Data, "procedures", "dvcqg-2026")
}

func (a *app) openStore(ctx context.Context) (knowledge.Store, error) {
	if a.cfg.DatabaseURL != "" {
		if a.cfg.PGMaxConns < 2 {
			return nil, usageError{"-pg-max-conns must be at least 2"}
		}
		st, err := postgres.Open(ctx, postgres.Config{URL: a.cfg.DatabaseURL, Schema: a.schema, EfSearch: a.cfg.EfSearch, Logger: a.logger,
			MaxConns: a.cfg.PGMaxConns, SQLLexical: a.cfg.PGSQLLexical})
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	st, err := embedded.Open(a.cfg.Dir)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// embedder returns the configured embedder and its identity.
func (a *app) embedder() (knowledge.Embedder, knowledge.Meta, error) {
	switch a.cfg.Embedder.Kind {
	case "", "hash":
		h := knowledge.HashEmbedder{Dim: a.cfg.Embedder.Dim}
		return h, h.Meta(), nil
	case "openai":
		e, err := langchain.NewEmbedder(langchain.EmbedderConfig{
			BaseURL: a.cfg.Embedder.URL, Model: a.cfg.Embedder.Model, Token: a.cfg.Embedder.Key, Dim: a.cfg.Embedder.Dim,
		})
		if err != nil {
			return nil, knowledge.Meta{}, err
		}
		return e, e.Meta(), nil
	}
	return nil, knowledge.Meta{}, usageError{fmt.Sprintf("unknown embedder %q (want hash or openai)", a.cfg.Embedder.Kind)}
}

func (a *app) searcher(st knowledge.Store) (*knowledge.Searcher, error) {
	emb, meta, err := a.embedder()
	if err != nil {
		return nil, err
	}
	cur, err := st.Meta(context.Background())
	if err != nil {
		return nil, err
	}
	if cur.Dim != 0 && cur != meta {
		return nil, fmt.Errorf("the index was built with embedder %s/%d but %s/%d is configured: run `trolyao ingest` to re-embed",
			cur.Embedder, cur.Dim, meta.Embedder, meta.Dim)
	}
	return &knowledge.Searcher{Store: st, Embedder: emb, Weights: knowledge.DefaultWeights, Lexicon: &knowledge.Lexicon{}}, nil
}

// assistant builds the dialogue assistant over a store, with the given conversation store. Its Centres are a
// *knowledge.LiveCentres seeded from the centres file, which serve hands to the staff service to correct.
func (a *app) assistant(st knowledge.Store, convs knowledge.Conversations) (*assistant.Assistant, error) {
	s, err := a.searcher(st)
	if err != nil {
		return nil, err
	}
	u, err := a.loadUnits()
	if err != nil {
		return nil, err
	}
	centres, err := a.loadCentres()
	if err != nil {
		return nil, err
	}
	phrases, negatives, err := a.phraseIndexes()
	if err != nil {
		return nil, err
	}
	as := &assistant.Assistant{Searcher: s, Store: st, Units: u, Centres: knowledge.NewLiveCentres(centres), Conversations: convs, Logger: a.logger,
		Phrases: phrases, Negatives: negatives,
		LLM: assistant.LLMConfig{FirstToken: a.cfg.LLM.FirstToken, Total: a.cfg.LLM.Total}}
	if a.cfg.LLM.Provider != "" {
		m, err := langchain.NewChat(langchain.ChatConfig{Provider: a.cfg.LLM.Provider, BaseURL: a.cfg.LLM.URL,
			Model: a.cfg.LLM.Model, Token: a.cfg.LLM.Key, FirstTokenTimeout: a.cfg.LLM.FirstToken,
			TotalTimeout: a.cfg.LLM.Total, LegacyMaxTokens: a.cfg.LLM.Legacy})
		if err != nil {
			return nil, fmt.Errorf("llm: %w", err)
		}
		as.Model = m
	}
	return as, nil
}

// readCatalog reads a catalog source, with progress, and reports skipped records on stderr.
func (a *app) readCatalog(path string) ([]knowledge.Procedure, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("catalog source %s: %w (set -data or TROLYAO_DATA to the folder with procedures/ and units/)", path, err)
	}
	procs, problems, err := ingest.ReadCatalogProgress(path, a.progress())
	if err != nil {
		return nil, err
	}
	for _, p := range problems {
		a.logger.Warn("record skipped", "file", p.File, "field", p.Field, "reason", p.Reason)
	}
	return procs, nil
}

// sync ingests procs with a progress bar on a terminal and plain lines otherwise.
func (a *app) sync(ctx context.Context, st knowledge.Store, procs []knowledge.Procedure) (ingest.SyncReport, error) {
	emb, meta, err := a.embedder()
	if err != nil {
		return ingest.SyncReport{}, err
	}
	pb, err := a.phrases()
	if err != nil {
		return ingest.SyncReport{}, err
	}
	return ingest.Sync(ctx, st, emb, meta, procs, ingest.SyncOptions{Progress: a.progress(), Phrasebook: pb})
}

// stageNames are the progress bars' descriptions of the stages of an ingest.
var stageNames = map[string]string{"read": "đọc (read)", "embed": "nhúng (embed)"}

// progress reports the stages of an ingest (read, embed, write): a bar per stage on a terminal, otherwise a
// line at least every 2 s and at the start and end of each stage.
func (a *app) progress() func(stage string, done, total int) {
	f, tty := a.stderr.(*os.File)
	if tty && term.IsTerminal(int(f.Fd())) {
		var (
			bar     *progressbar.ProgressBar
			current string
		)
		return func(stage string, done, total int) {
			name, ok := stageNames[stage]
			if !ok {
				return
			}
			if bar == nil || stage != current {
				current = stage
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(a.stderr),
					progressbar.OptionSetDescription(name), progressbar.OptionShowCount(),
					progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionOnCompletion(func() { fmt.Fprintln(a.stderr) }))
			}
			_ = bar.Set(done)
		}
	}
	var (
		last, start time.Time
		current     string
	)
	return func(stage string, done, total int) {
		if stage != current {
			current, start, last = stage, time.Now(), time.Time{}
		}
		if time.Since(last) < 2*time.Second && done != total {
			return
		}
		last = time.Now()
		eta := ""
		if done > 0 && done < total {
			rem := time.Duration(float64(time.Since(start)) * float64(total-done) / float64(done))
			eta = fmt.Sprintf(", ETA %s", rem.Round(time.Second))
		}
		fmt.Fprintf(a.stderr, "%s: %d/%d%s\n", stage, done, total, eta)
	}
}

// ensureCatalog ingests the default catalog into an empty store (first start); a non-empty store is reused.
func (a *app) ensureCatalog(ctx context.Context, st knowledge.Store) error {
	h, err := st.Hashes(ctx)
	if err != nil {
		return err
	}
	if len(h) > 0 {
		a.logger.Info("catalog loaded", "procedures", len(h))
		return a.reindexPhrasings(ctx, st)
	}
	start := time.Now()
	a.logger.Info("empty store: ingesting the catalog", "source", a.catalogPath())
	procs, err := a.readCatalog(a.catalogPath())
	if err != nil {
		return err
	}
	read := time.Since(start)
	a.logger.Info("catalog files read", "procedures", len(procs), "took", read.Round(time.Millisecond))
	rep, err := a.sync(ctx, st, procs)
	if err != nil {
		return err
	}
	a.logger.Info("catalog ingested", "report", rep.String(), "read", read.Round(time.Millisecond),
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// reindexPhrasings re-indexes the records whose question-bank phrasings changed since the store was built
// (a new binary with a new bank), keeping the records as they are.
func (a *app) reindexPhrasings(ctx context.Context, st knowledge.Store) error {
	emb, meta, err := a.embedder()
	if err != nil {
		return err
	}
	if cur, err := st.Meta(ctx); err != nil || cur != meta {
		return err // another embedder: searcher() says what to do
	}
	pb, err := a.phrases()
	if err != nil {
		return err
	}
	rep, err := ingest.Reindex(ctx, st, emb, meta, ingest.SyncOptions{Phrasebook: pb, Progress: a.progress()})
	if err != nil {
		return err
	}
	if rep.Changed > 0 {
		a.logger.Info("question bank phrasings re-indexed", "procedures", rep.Changed, "took", rep.Duration.Round(time.Millisecond))
	}
	return nil
}

// openCatalog opens the store and, on a first start, ingests the default catalog into it.
func (a *app) openCatalog(ctx context.Context) (knowledge.Store, error) {
	st, err := a.openStore(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.ensureCatalog(ctx, st); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func (a *app) loadUnits() (*units.Gazetteer, error) {
	u, err := ingest.LoadUnits(a.cfg.Data)
	if err != nil {
		return nil, fmt.Errorf("units: %w", err)
	}
	return u, nil
}

// loadCentres reads the communes' service centres from the data folder. Without the file the assistant still
// answers where to go, without addresses; a malformed file is an error.
func (a *app) loadCentres() (*knowledge.Centres, error) {
	c, err := ingest.LoadCentres(a.cfg.Data)
	if errors.Is(err, fs.ErrNotExist) {
		a.logger.Warn("no centres file: where-answers name no centre", "file", ingest.CentresFile)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("centres: %w", err)
	}
	return c, nil
}

func closeStore(st knowledge.Store, err *error) {
	if cerr := st.Close(); cerr != nil && *err == nil {
		*err = cerr
	}
}
