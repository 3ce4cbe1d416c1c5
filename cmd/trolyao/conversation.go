package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/embedded"
	"github.com/trolyao/trolyao/knowledge/postgres"
)

// conversations returns the persistent conversation store that lives beside the catalog store.
func conversationsOf(st knowledge.Store) (knowledge.Conversations, error) {
	switch s := st.(type) {
	case *embedded.Store:
		return embedded.NewConversations(s), nil
	case *postgres.Store:
		return postgres.NewConversations(s), nil
	}
	return nil, fmt.Errorf("no conversation store for %T", st)
}

// conversation handles `trolyao conversation export|delete ID` and `trolyao conversation purge`.
func (a *app) conversation(ctx context.Context, args []string) (err error) {
	if len(args) == 0 || (args[0] != "purge" && len(args) != 2) {
		return usageError{"conversation: export ID | delete ID | purge"}
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer closeStore(st, &err)
	convs, err := conversationsOf(st)
	if err != nil {
		return err
	}
	switch args[0] {
	case "export":
		c, err := convs.Load(ctx, args[1])
		if err != nil {
			return err
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	case "delete":
		if err := convs.Delete(ctx, args[1]); err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, "deleted")
		return nil
	case "purge":
		n, err := convs.Purge(ctx, time.Now().Add(-a.cfg.Retention))
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%d conversations older than %s deleted\n", n, a.cfg.Retention)
		return nil
	}
	return usageError{"conversation: export ID | delete ID | purge"}
}

// purgeLoop deletes conversations older than the retention period now and then every hour until ctx ends.
func (a *app) purgeLoop(ctx context.Context, convs knowledge.Conversations) {
	if a.cfg.Retention <= 0 {
		return
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := convs.Purge(ctx, time.Now().Add(-a.cfg.Retention)); err != nil {
			a.logger.Warn("purge conversations", "err", err)
		} else if n > 0 {
			a.logger.Info("purged conversations", "count", n, "retention", a.cfg.Retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
