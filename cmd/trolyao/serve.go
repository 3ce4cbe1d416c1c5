package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/trolyao/trolyao/channels/web"
)

// serve listens at once (so /healthz answers while a first start ingests the catalog), marks itself ready
// when the catalog and the unit data are loaded, and shuts down gracefully on SIGINT/SIGTERM.
func (a *app) serve(ctx context.Context) (err error) {
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer closeStore(st, &err)
	ws := &web.Server{Store: st, Logger: a.logger}
	var ready atomic.Bool
	ws.Ready = ready.Load

	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{
		Handler:           ws.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	a.logger.Info("listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	loadErr := func() error {
		if err := a.ensureCatalog(ctx, st); err != nil {
			return err
		}
		s, err := a.searcher(st)
		if err != nil {
			return err
		}
		u, err := a.loadUnits()
		if err != nil {
			return err
		}
		ws.Searcher, ws.Units = s, u
		convs, err := conversationsOf(st)
		if err != nil {
			return err
		}
		go a.purgeLoop(ctx, convs)
		ready.Store(true)
		a.logger.Info("ready")
		return nil
	}()
	if loadErr != nil {
		_ = srv.Close()
		return loadErr
	}

	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	a.logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	return nil
}
