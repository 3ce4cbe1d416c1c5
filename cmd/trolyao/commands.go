package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/assistant/eval"
	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/bank"
	"github.com/trolyao/trolyao/knowledge/memconv"
	"github.com/trolyao/trolyao/knowledge/postgres"
)

func (a *app) ingest(ctx context.Context, args []string) (err error) {
	path := a.catalogPath()
	if len(args) > 0 {
		path = args[0]
	}
	procs, err := a.readCatalog(path)
	if err != nil {
		return err
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer closeStore(st, &err)
	procs, kept, err := a.keepStaffEdits(ctx, st, procs)
	if err != nil {
		return err
	}
	rep, err := a.sync(ctx, st, procs)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, rep.String())
	if kept > 0 {
		fmt.Fprintf(a.stdout, "%d procedures managed by staff were left as published; import the source through the staff page to review its changes to them\n", kept)
	}
	return nil
}

// keepStaffEdits keeps what staff published: for every procedure with staff versions, the source record is
// replaced by the store's (or dropped if staff unpublished it), so a sync from the portal never silently
// overwrites an edit. It returns the records to sync and how many were kept.
func (a *app) keepStaffEdits(ctx context.Context, st knowledge.Store, procs []knowledge.Procedure) ([]knowledge.Procedure, int, error) {
	if _, ok := st.(*postgres.Store); !ok {
		if _, err := os.Stat(filepath.Join(a.cfg.Dir, "staff.db")); errors.Is(err, fs.ErrNotExist) {
			return procs, 0, nil // no staff data beside this store
		}
	}
	repo, closeRepo, err := a.staffRepo(st)
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = closeRepo() }()
	managed, err := repo.LatestVersions(ctx)
	if err != nil {
		return nil, 0, err
	}
	if len(managed) == 0 {
		return procs, 0, nil
	}
	out := make([]knowledge.Procedure, 0, len(procs))
	for _, p := range procs {
		if _, ok := managed[p.Code]; !ok {
			out = append(out, p)
		}
	}
	for code := range managed {
		p, err := st.Get(ctx, code)
		switch {
		case errors.Is(err, knowledge.ErrNotFound): // unpublished by staff: stays out
		case err != nil:
			return nil, 0, err
		default:
			out = append(out, p)
		}
	}
	return out, len(managed), nil
}

func (a *app) search(ctx context.Context, args []string) (err error) {
	if len(args) == 0 {
		return usageError{"search: give a question, e.g. trolyao search \"làm lại căn cước\""}
	}
	st, err := a.openCatalog(ctx)
	if err != nil {
		return err
	}
	defer closeStore(st, &err)
	s, err := a.searcher(st)
	if err != nil {
		return err
	}
	res, err := s.Search(ctx, strings.Join(args, " "), a.cfg.TopK)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "confidence %.2f\n", res.Confidence)
	for i, h := range res.Hits {
		fmt.Fprintf(a.stdout, "%2d. %s  %.3f  %s\n", i+1, h.Code, h.Score, h.Name)
	}
	return nil
}

func (a *app) units(_ context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{"units: give an old or new unit name, e.g. trolyao units \"phường 4 quận 3\""}
	}
	u, err := a.loadUnits()
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, assistant.DescribeUnits(u, strings.Join(args, " ")))
	return nil
}

func (a *app) eval(ctx context.Context, args []string) (err error) {
	cases, err := a.evalCases(args)
	if err != nil {
		return err
	}
	if a.cfg.Tag != "" {
		var keep []eval.Case
		for _, c := range cases {
			if slices.Contains(c.Tags, a.cfg.Tag) {
				keep = append(keep, c)
			}
		}
		cases = keep
	}
	if a.cfg.Split != "" {
		cleanup, err := a.splitCatalog(ctx)
		if err != nil {
			return err
		}
		defer cleanup()
	}
	st, err := a.openCatalog(ctx)
	if err != nil {
		return err
	}
	defer closeStore(st, &err)
	as, err := a.assistant(st, memconv.New())
	if err != nil {
		return err
	}
	sum, outs, err := eval.Run(ctx, assistantAnswerer{as}, cases)
	if err != nil {
		return err
	}
	if a.cfg.Verbose {
		for _, o := range outs {
			mark := "ok "
			if !o.Passed() {
				mark = "BAD"
			}
			fmt.Fprintf(a.stdout, "%s line %d rank=%d %q expect=%v got=%v missing=%v\n", mark, o.Line, o.Rank, o.Q, o.Expect, o.Got, o.Missing)
		}
	}
	b, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, string(b))
	return nil
}

// evalCases reads the cases of an eval file, or of a split of the question bank (-split).
func (a *app) evalCases(args []string) ([]eval.Case, error) {
	if a.cfg.Split != "" {
		if len(args) != 0 {
			return nil, usageError{"eval: give a file or -split, not both"}
		}
		split, err := bank.ParseSplit(a.cfg.Split)
		if err != nil {
			return nil, usageError{err.Error()}
		}
		b, err := a.questionBank()
		if err != nil {
			return nil, err
		}
		return eval.FromBank(b, split), nil
	}
	if len(args) != 1 {
		return nil, usageError{"eval: give one file, e.g. trolyao eval ../shared/eval/dev.jsonl, or -split test"}
	}
	f, err := os.Open(args[0])
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return eval.Read(f)
}

// splitCatalog points the app at a catalog indexed without the questions of the split under evaluation, nor
// those of the test split (which no choice may see): a temporary embedded store, or the PostgreSQL schema
// trolyao_eval_<split> of the configured database. The returned func removes the temporary store.
func (a *app) splitCatalog(ctx context.Context) (func(), error) {
	split, err := bank.ParseSplit(a.cfg.Split)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	a.exclude = []bank.Split{split}
	if split != bank.Test {
		a.exclude = append(a.exclude, bank.Test)
	}
	if a.cfg.DatabaseURL != "" {
		a.schema = "trolyao_eval_" + string(split)
		return func() {}, nil
	}
	dir, err := os.MkdirTemp("", "trolyao-eval-")
	if err != nil {
		return nil, err
	}
	a.cfg.Dir = dir
	return func() { _ = os.RemoveAll(dir) }, nil
}

// assistantAnswerer runs eval cases through the assistant, as the chat channels do.
type assistantAnswerer struct{ a *assistant.Assistant }

func (r assistantAnswerer) Answer(ctx context.Context, conv string, text string) (eval.Reply, error) {
	ans, err := r.a.Reply(ctx, conv, text, nil)
	if err != nil {
		return eval.Reply{}, err
	}
	rep := eval.Reply{Text: ans.Text}
	for _, c := range ans.Citations {
		rep.Codes = append(rep.Codes, c.Code)
	}
	for _, o := range ans.Options {
		rep.Codes = append(rep.Codes, o.Code)
	}
	return rep, nil
}

func (a *app) export(ctx context.Context, args []string) (err error) {
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer closeStore(st, &err)
	procs, err := st.List(ctx)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(a.stdout)
	if len(args) > 0 {
		f, err := os.Create(args[0])
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}()
		w = bufio.NewWriter(f)
	}
	if err := ingest.WriteJSONL(w, procs); err != nil {
		return err
	}
	return w.Flush()
}

func (a *app) coverage(_ context.Context, args []string) error {
	path := a.catalogPath()
	if len(args) > 0 {
		path = args[0]
	}
	procs, problems, err := ingest.ReadCatalog(path)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, ingest.Measure(procs).String())
	if len(problems) > 0 {
		fmt.Fprintf(a.stdout, "%d records skipped\n", len(problems))
	}
	return nil
}

func (a *app) healthcheck(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.cfg.Addr+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("healthcheck: " + resp.Status)
	}
	return nil
}
