package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/time/rate"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/channels/web"
	"github.com/trolyao/trolyao/channels/web/widget"
	"github.com/trolyao/trolyao/channels/zalo"
	"github.com/trolyao/trolyao/channels/zalo/boltqueue"
	"github.com/trolyao/trolyao/channels/zalo/pgqueue"
	"github.com/trolyao/trolyao/internal/apierr"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/postgres"
	"github.com/trolyao/trolyao/staff"
	"github.com/trolyao/trolyao/staff/page"
)

// serve listens at once (so /healthz answers while a first start ingests the catalog), marks itself ready
// when the catalog and the unit data are loaded, and shuts down gracefully on SIGINT/SIGTERM: it stops
// accepting, lets in-flight answers finish within the shutdown timeout, closes websockets with code 1001,
// and stops the Zalo workers before the store is closed.
func (a *app) serve(ctx context.Context) (err error) {
	start := time.Now()
	webCfg, widgetOpts, err := a.webOptions()
	if err != nil {
		return err
	}
	// webOptions checked the widget's flags; an invalid configuration that got past them still stops the
	// start, before the store is opened.
	wh, err := widget.Handler(widgetOpts)
	if err != nil {
		return usageError{err.Error()}
	}
	var zaloCfg zalo.Config
	if a.cfg.Zalo.Config != "" {
		if zaloCfg, err = zalo.LoadConfig(a.cfg.Zalo.Config, a.getenv); err != nil {
			return usageError{fmt.Sprintf("-zalo-config: %v", err)}
		}
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer closeStore(st, &err)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The widget's script and the websocket's hello frame offer the starter questions in force, which staff set.
	ws := &web.Server{Store: st, Logger: a.logger, Config: webCfg, Registerer: reg, Gatherer: reg,
		Starters: widgetOpts.Live.Questions}
	l := &loader{start: start, st: st, ws: ws, reg: reg, zaloCfg: zaloCfg, widgetOpts: widgetOpts,
		zaloH: &lateHandler{}, staffH: &lateHandler{}}
	ws.Ready = l.ready.Load

	srv, errc, err := a.listen(a.routes(wh, l), reg)
	if err != nil {
		return err
	}

	// Background work (the Zalo workers, the retention purge) stops with runCtx and is waited for before
	// the store closes.
	runCtx, stopRun := context.WithCancel(ctx)
	defer func() {
		stopRun()
		l.bg.Wait()
	}()

	if loadErr := a.load(ctx, runCtx, l); loadErr != nil {
		_ = srv.Close()
		return loadErr
	}
	return a.shutdown(ctx, srv, ws, errc)
}

// loader holds what serve builds before it listens and what loading the catalog completes afterwards.
type loader struct {
	start      time.Time // when serve started, for the "ready" log
	st         knowledge.Store
	ws         *web.Server
	reg        *prometheus.Registry
	zaloCfg    zalo.Config
	widgetOpts widget.Options
	// zaloH and staffH answer 503 until the Zalo channel and the staff API exist.
	zaloH, staffH *lateHandler
	ready         atomic.Bool
	bg            sync.WaitGroup // the background work, waited for before the store closes
}

// routes lays out the server's paths: the widget and its demo page, the Zalo webhook and the staff API
// (both late), the staff page, and the chat API for everything else.
func (a *app) routes(wh http.Handler, l *loader) *http.ServeMux {
	mux := http.NewServeMux()
	if !a.cfg.Web.NoDemo {
		mux.Handle("GET /{$}", wh)
	}
	mux.Handle("GET /widget.js", wh)
	mux.Handle("GET /widget/", wh)
	mux.Handle("GET /favicon.ico", wh)
	mux.Handle("POST /webhooks/zalo/{oa}", l.zaloH)
	mux.Handle(staff.Prefix, l.staffH)
	ph := page.Handler()
	mux.Handle(page.Prefix, ph) // the staff page and its assets; it checks methods itself
	mux.Handle("/staff", ph)    // redirects to /staff/
	mux.Handle("/", l.ws.Handler())
	return mux
}

// listen opens the listening socket and serves mux on it in the background; the returned channel gets
// what the server's Serve returns.
func (a *app) listen(mux *http.ServeMux, reg *prometheus.Registry) (*http.Server, <-chan error, error) {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{
		Handler:           web.Observe(mux, a.logger, reg), // access log and per-route latency
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second, // SSE streams extend it per event
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	a.logger.Info("listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	return srv, errc, nil
}

// load completes the listening server: it makes sure the store has the catalog, builds the assistant with
// the unit data, the service centres and the question bank, starts the Zalo channel and the staff API with
// their background work (stopped by runCtx), and marks the server ready.
func (a *app) load(ctx, runCtx context.Context, l *loader) error {
	if err := a.ensureCatalog(ctx, l.st); err != nil {
		return err
	}
	a.logger.Info("loading the unit data, the service centres and the question bank")
	convs, err := conversationsOf(l.st)
	if err != nil {
		return err
	}
	as, err := a.assistant(l.st, convs)
	if err != nil {
		return err
	}
	ws := l.ws
	ws.Searcher, ws.Units, ws.Assistant, ws.Conversations, ws.Centres = as.Searcher, as.Units, as, convs, as.Centres
	if len(l.zaloCfg.OAs) > 0 {
		if err := a.startZalo(runCtx, l, as); err != nil {
			return err
		}
	}
	if err := a.startStaff(ctx, runCtx, l, as, convs); err != nil {
		return err
	}
	l.bg.Go(func() { a.purgeLoop(runCtx, convs) })
	l.ready.Store(true)
	a.logger.Info("ready", "took", time.Since(l.start).Round(time.Millisecond))
	return nil
}

// startZalo builds the Zalo channel, puts its webhook behind the late handler and runs its workers until
// runCtx ends.
func (a *app) startZalo(runCtx context.Context, l *loader, as *assistant.Assistant) error {
	zs, closeQueue, err := a.zaloService(l.st, l.zaloCfg, as, l.reg)
	if err != nil {
		return err
	}
	l.zaloH.set(zs.Handler())
	l.bg.Go(func() {
		defer closeQueue()
		if err := zs.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			a.logger.Error("zalo workers stopped", "err", err)
		}
	})
	a.logger.Info("zalo channel on", "oas", len(l.zaloCfg.OAs))
	return nil
}

// startStaff builds the staff API, finishes what a killed process left half done, loads staff's
// corrections of the service centres and their starter questions before the first answer, and serves the
// API behind the late handler; its synonym work and the default starter questions' refresh run until
// runCtx ends, and the staff data is closed after it.
func (a *app) startStaff(ctx, runCtx context.Context, l *loader, as *assistant.Assistant, convs knowledge.Conversations) error {
	repo, closeRepo, err := a.staffRepo(l.st)
	if err != nil {
		return err
	}
	svc, err := a.staffService(l.st, repo, convs, as, l.widgetOpts.Live, l.reg)
	if err != nil {
		_ = closeRepo()
		return err
	}
	if _, _, err := svc.Recover(ctx); err != nil { // publishes a killed process left half done
		_ = closeRepo()
		return err
	}
	if err := svc.ReloadCentres(ctx); err != nil { // staff corrections before the first answer
		_ = closeRepo()
		return err
	}
	if err := svc.ReloadStarters(ctx); err != nil { // and staff's starter questions
		_ = closeRepo()
		return err
	}
	if refresh := a.mostAsked(ctx, l.st, convs, l.widgetOpts); refresh != nil { // the default starter questions
		l.bg.Go(func() { refresh(runCtx) })
	}
	l.staffH.set(svc.Handler())
	l.bg.Go(func() {
		if err := svc.Run(runCtx); err != nil {
			a.logger.Error("staff synonyms stopped", "err", err)
		}
		<-runCtx.Done() // the API keeps serving until shutdown
		if err := closeRepo(); err != nil {
			a.logger.Error("close staff data", "err", err)
		}
	})
	return nil
}

// shutdown waits for the server to fail or ctx to end, and then shuts the server and the websockets down
// within the shutdown timeout.
func (a *app) shutdown(ctx context.Context, srv *http.Server, ws *web.Server, errc <-chan error) error {
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	a.logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.Web.ShutdownTimeout)
	defer cancel()
	wsDone := make(chan error, 1)
	go func() { wsDone <- ws.Shutdown(sctx) }()
	if err := errors.Join(srv.Shutdown(sctx), <-wsDone); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	return nil
}

// webOptions turns the web flags into the chat API's limits and the widget's options.
func (a *app) webOptions() (web.Config, widget.Options, error) {
	c := a.cfg.Web
	origins, err := web.ParseOrigins(c.AllowedOrigins)
	if err != nil {
		return web.Config{}, widget.Options{}, usageError{fmt.Sprintf("-allowed-origins: %v", err)}
	}
	proxies, err := web.ParseProxies(c.TrustedProxies)
	if err != nil {
		return web.Config{}, widget.Options{}, usageError{fmt.Sprintf("-trusted-proxies: %v", err)}
	}
	domains, err := widget.ParseLinkDomains(c.LinkDomains)
	if err != nil {
		return web.Config{}, widget.Options{}, usageError{fmt.Sprintf("-widget-link-domains: %v", err)}
	}
	if n := len([]rune(c.WidgetTitle)); n > widget.MaxTitle {
		return web.Config{}, widget.Options{}, usageError{fmt.Sprintf("-widget-title: %d characters, at most %d", n, widget.MaxTitle)}
	}
	starters, err := widget.ParseStarters(c.WidgetStarters)
	if err != nil {
		return web.Config{}, widget.Options{}, usageError{fmt.Sprintf("-widget-starters: %v", err)}
	}
	if c.ChatRate < 0 || c.ChatBurst < 0 || c.ClientRate < 0 || c.ClientBurst < 0 || c.MaxInFlight < 0 ||
		c.AnswerTimeout < 0 || c.ShutdownTimeout <= 0 {
		return web.Config{}, widget.Options{}, usageError{"-chat-rate, -chat-burst, -chat-client-rate, -chat-client-burst, -chat-max-inflight and -chat-answer-timeout must not be negative, -shutdown-timeout must be positive"}
	}
	wc := web.Config{AllowedOrigins: origins, TrustedProxies: proxies, MaxConnsPerIP: c.MaxConnsPerIP,
		MessageRate: rate.Limit(c.ChatRate), MessageBurst: c.ChatBurst, ClientRate: rate.Limit(c.ClientRate),
		ClientBurst: c.ClientBurst, ClientInFlight: c.ClientInFlight, MaxInFlight: c.MaxInFlight,
		AnswerTimeout: c.AnswerTimeout}
	live, err := widget.NewLiveStarters(starters)
	if err != nil {
		return web.Config{}, widget.Options{}, usageError{fmt.Sprintf("-widget-starters: %v", err)}
	}
	return wc, widget.Options{LinkDomains: domains, Title: c.WidgetTitle, Starters: starters, Live: live}, nil
}

// zaloService builds the Zalo channel over the store's database: its queue lives in PostgreSQL with the
// PostgreSQL store, and in a bbolt file beside the embedded store otherwise. The returned func closes it.
func (a *app) zaloService(st knowledge.Store, cfg zalo.Config, as *assistant.Assistant, reg prometheus.Registerer) (*zalo.Service, func(), error) {
	var q zalo.Queue
	closeQueue := func() {}
	if pg, ok := st.(*postgres.Store); ok {
		q = pgqueue.New(pg.Pool())
	} else {
		b, err := boltqueue.Open(filepath.Join(a.cfg.Dir, "zalo.db"))
		if err != nil {
			return nil, nil, err
		}
		q = b
		closeQueue = func() {
			if err := b.Close(); err != nil {
				a.logger.Error("close zalo queue", "err", err)
			}
		}
	}
	zs, err := zalo.New(zalo.Options{OAs: cfg.OAs, Queue: q, Answerer: as, Logger: a.logger, Registerer: reg,
		APIBase: a.cfg.Zalo.APIBase, OAuthBase: a.cfg.Zalo.OAuthBase, Workers: a.cfg.Zalo.Workers, EchoWait: a.cfg.Zalo.EchoWait})
	if err != nil {
		closeQueue()
		return nil, nil, err
	}
	return zs, closeQueue, nil
}

// lateHandler serves a handler that exists only once the catalog is loaded; before that it answers 503,
// which webhook senders such as Zalo retry.
type lateHandler struct{ h atomic.Pointer[http.Handler] }

func (l *lateHandler) set(h http.Handler) { l.h.Store(&h) }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := l.h.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Retry-After", "5")
	w.WriteHeader(apierr.NotReady.Status)
	_ = json.NewEncoder(w).Encode(map[string]map[string]string{
		"error": {"code": apierr.NotReady.Code, "message": apierr.NotReady.Message}})
}
