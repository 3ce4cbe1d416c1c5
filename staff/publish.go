package staff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// IntentGrace is how old a pending publish intent whose records the catalog store does not hold must be before
// Recover forgets it when the Repo is shared by several processes (a Watcher): younger, it may be a publish
// still embedding its records in another process. A Repo used by one process only (staff/embedded locks its
// file) has no publish in flight when the service starts, so Recover forgets such intents at once.
const IntentGrace = time.Hour

// Recover settles the publish intents a process left when it was killed between writing an intent and
// completing it (see publishRecords): an intent whose records the catalog store holds — same content hashes
// for the records it published, absent for those it removed — gets its versions recorded, its drafts dropped
// and its import batch, if any, marked published; one whose records the store does not hold is forgotten
// (when the Repo is shared, only after IntentGrace), and the drafts stay as saved. Call it when serve starts,
// before the API serves. It returns how many intents it completed and forgot.
func (s *Service) Recover(ctx context.Context) (completed, forgotten int, err error) {
	ins, err := s.opt.Repo.PublishIntents(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("staff: recover publishes: %w", err)
	}
	_, shared := s.opt.Repo.(Watcher)
	for _, in := range ins {
		done, err := s.settleIntent(ctx, in, shared && s.now().Sub(in.At) < IntentGrace)
		if err != nil {
			return completed, forgotten, fmt.Errorf("staff: recover publishes: %w", err)
		}
		switch done {
		case intentCompleted:
			completed++
			s.log.Info("staff: completed an interrupted publish", "intent", in.ID, "versions", len(in.Versions))
		case intentForgotten:
			forgotten++
			s.log.Info("staff: forgot an interrupted publish the catalog does not hold", "intent", in.ID,
				"versions", len(in.Versions))
		}
	}
	return completed, forgotten, nil
}

type intentOutcome int

const (
	intentKept intentOutcome = iota
	intentCompleted
	intentForgotten
)

// settleIntent completes in if the store holds its records, and otherwise forgets it unless keep. Another
// process having settled it first (ErrNotFound) is no error.
func (s *Service) settleIntent(ctx context.Context, in PublishIntent, keep bool) (intentOutcome, error) {
	hashes, err := s.opt.Store.Hashes(ctx)
	if err != nil {
		return intentKept, err
	}
	applied := true
	for _, v := range in.Versions {
		h, held := hashes[v.Code]
		switch v.Action {
		case ActionCatalog: // the record before the publish: nothing to check
		case ActionUnpublish:
			applied = applied && !held
		default:
			applied = applied && held && h == v.Hash
		}
	}
	switch {
	case applied:
		_, err = s.opt.Repo.CompletePublishIntent(ctx, in.ID)
		if errors.Is(err, ErrNotFound) {
			return intentKept, nil
		}
		if err != nil || in.Import == 0 {
			return intentCompleted, err
		}
		n, by := 0, ""
		for _, v := range in.Versions {
			if v.Action == ActionImport {
				n, by = n+1, v.By
			}
		}
		err = s.opt.Repo.MarkImportPublished(ctx, in.Import, by, in.At, n)
		if errors.Is(err, ErrConflict) { // marked already
			err = nil
		}
		return intentCompleted, err
	case keep:
		return intentKept, nil
	}
	err = s.opt.Repo.DeletePublishIntent(ctx, in.ID)
	if errors.Is(err, ErrNotFound) {
		return intentKept, nil
	}
	return intentForgotten, err
}

// recordedVersions finds in the history the versions vs as stored (by code, action, author, time and hash), for
// a publish whose intent another process completed.
func (s *Service) recordedVersions(ctx context.Context, vs []Version) ([]Version, error) {
	out := make([]Version, len(vs))
	lists := map[string][]Version{}
	for i, v := range vs {
		list, ok := lists[v.Code]
		if !ok {
			var err error
			if list, err = s.opt.Repo.Versions(ctx, v.Code); err != nil {
				return nil, err
			}
			slices.Reverse(list) // oldest first, as vs are numbered
		}
		j := slices.IndexFunc(list, func(x Version) bool {
			return x.Action == v.Action && x.By == v.By && x.At.Equal(v.At) && x.Hash == v.Hash
		})
		if j < 0 {
			return nil, fmt.Errorf("version %s of %s not recorded: %w", v.Action, v.Code, ErrNotFound)
		}
		v.Version = list[j].Version
		out[i] = v
		lists[v.Code] = list[j+1:]
	}
	return out, nil
}
