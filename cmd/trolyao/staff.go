package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolterrors "go.etcd.io/bbolt/errors"
	"golang.org/x/term"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/channels/web"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/postgres"
	"github.com/trolyao/trolyao/staff"
	staffembedded "github.com/trolyao/trolyao/staff/embedded"
	staffpg "github.com/trolyao/trolyao/staff/postgres"
)

// staffRepo opens the staff data beside the catalog: in PostgreSQL with the PostgreSQL store, in staff.db
// beside the embedded store otherwise. The returned func closes it.
func (a *app) staffRepo(st knowledge.Store) (staff.Repo, func() error, error) {
	if pg, ok := st.(*postgres.Store); ok {
		return staffpg.New(pg.Pool()), func() error { return nil }, nil
	}
	return a.openStaffFile()
}

func (a *app) openStaffFile() (staff.Repo, func() error, error) {
	if err := os.MkdirAll(a.cfg.Dir, 0o755); err != nil {
		return nil, nil, err
	}
	r, err := staffembedded.Open(filepath.Join(a.cfg.Dir, "staff.db"))
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, nil, fmt.Errorf("%s is in use by another trolyao process (a running serve?): stop it first, "+
			"or use PostgreSQL (-database) to manage staff while serving", filepath.Join(a.cfg.Dir, "staff.db"))
	}
	if err != nil {
		return nil, nil, err
	}
	return r, r.Close, nil
}

// staffService builds the staff API over the store the assistant as answers from: previews are as's answers,
// staff search with as's searcher, synonyms go to its lexicon, corrections of centres to the centres it names
// and the starter questions staff set to the widget's starters. Its metrics go to reg.
func (a *app) staffService(st knowledge.Store, repo staff.Repo, convs knowledge.Conversations, as *assistant.Assistant,
	starters staff.StarterTarget, reg prometheus.Registerer) (*staff.Service, error) {
	emb, _, err := a.embedder()
	if err != nil {
		return nil, err
	}
	proxies, err := web.ParseProxies(a.cfg.Web.TrustedProxies)
	if err != nil {
		return nil, usageError{fmt.Sprintf("-trusted-proxies: %v", err)}
	}
	pb, err := a.phrases()
	if err != nil {
		return nil, err
	}
	c := a.cfg.Staff
	centres, _ := as.Centres.(*knowledge.LiveCentres)
	return staff.New(staff.Options{Repo: repo, Store: st, Embedder: emb, Phrasebook: pb, Conversations: convs, Logger: a.logger,
		SecureCookie: c.SecureCookie, SessionIdle: c.SessionIdle, SessionMax: c.SessionMax,
		LowConfidence: c.LowConfidence, MaxImportBytes: int64(c.MaxImportMB) << 20, TrustedProxies: proxies,
		Centres: centres, LoginHashSlots: c.LoginHashes, Composer: as, Registerer: reg, Starters: starters,
		Searcher: as.Searcher, Lexicon: as.Searcher.Lexicon})
}

// staffUsage says how to call `trolyao staff`, with the rules a name and a password must follow.
var staffUsage = fmt.Sprintf(`usage:
  trolyao staff add-user -role viewer|editor|publisher|admin [-unit UNIT] NAME   (the password is read from standard input)
  trolyao staff set-unit -unit UNIT NAME                                         (-unit "" removes it)
  trolyao staff add-token -role ROLE [-expires 720h] NAME                         (prints the token once)

An account's NAME is 3–64 characters of a-z 0-9 . _ - (lower case); its password at least %d characters
(at most %d bytes). The configuration flags (-dir, -database, …) may come before or after the subcommand:
  trolyao staff add-user -dir /srv/trolyao -role admin lan.tran`, staff.MinPasswordRunes, staff.MaxPasswordBytes)

// staffCmd manages staff accounts from the command line: the first admin, and API tokens for scripts.
func (a *app) staffCmd(ctx context.Context, args []string) (err error) {
	if len(args) == 0 {
		return usageError{staffUsage}
	}
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet("trolyao staff "+sub, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() { fmt.Fprintln(a.stderr, staffUsage) }
	if a.flags != nil { // -dir, -database, … after the subcommand set the same configuration
		a.flags.VisitAll(func(f *flag.Flag) { fs.Var(f.Value, f.Name, f.Usage) })
	}
	role := fs.String("role", "", "viewer, editor, publisher or admin")
	expires := fs.Duration("expires", 0, "add-token: lifetime (0: no expiry)")
	unit := fs.String("unit", "", `add-user, set-unit: the unit the account publishes for, named in answers (e.g. "UBND phường Bàn Cờ")`)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	a.logger = newLogger(a.stderr, a.cfg.LogLevel) // -log-level may have come after the subcommand
	unitSet := false
	fs.Visit(func(f *flag.Flag) { unitSet = unitSet || f.Name == "unit" })
	if fs.NArg() != 1 || (*role == "") != (sub == "set-unit") || sub == "set-unit" && !unitSet {
		return usageError{staffUsage}
	}
	name := fs.Arg(0)
	if sub != "add-user" && sub != "add-token" && sub != "set-unit" {
		return usageError{staffUsage}
	}

	var repo staff.Repo
	closeRepo := func() error { return nil }
	if a.cfg.DatabaseURL != "" {
		st, err := a.openStore(ctx)
		if err != nil {
			return err
		}
		defer closeStore(st, &err)
		repo, closeRepo, err = a.staffRepo(st)
	} else {
		repo, closeRepo, err = a.openStaffFile()
	}
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeRepo()) }()

	return a.staffAccounts(ctx, repo, sub, name, staff.Role(*role), *unit, *expires)
}

// staffAccounts runs an account subcommand on the accounts (and the audit log they are recorded in).
func (a *app) staffAccounts(ctx context.Context, repo staff.UserAdmin, sub, name string, role staff.Role, unit string,
	expires time.Duration) error {
	now := time.Now()
	switch sub {
	case "add-user":
		if _, err := staff.CleanUnit(unit); err != nil {
			return fmt.Errorf("-unit: %w", err)
		}
		pw, err := a.readPassword()
		if err != nil {
			return err
		}
		if err := staff.AddUser(ctx, repo, name, pw, role, now); err != nil {
			return err
		}
		if unit != "" {
			if err := staff.SetUnit(ctx, repo, name, unit, now); err != nil {
				return err
			}
		}
		fmt.Fprintf(a.stdout, "Đã tạo tài khoản %s (%s).\n", name, role)
	case "set-unit":
		if err := staff.SetUnit(ctx, repo, name, unit, now); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "Đã đặt đơn vị của tài khoản %s.\n", name)
	case "add-token":
		var exp *time.Time
		if expires < 0 {
			return usageError{"-expires must not be negative"}
		}
		if expires > 0 {
			t := now.Add(expires)
			exp = &t
		}
		secret, _, err := staff.AddToken(ctx, repo, name, role, exp, "cli", now)
		if err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, secret)
	}
	return nil
}

// readPassword reads a password: twice without echo on a terminal, else the first line of standard input.
func (a *app) readPassword() (string, error) {
	if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(a.stderr, "Mật khẩu: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(a.stderr, "Nhập lại mật khẩu: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", errors.New("the two passwords differ")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReaderSize(a.stdin, 4096).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
