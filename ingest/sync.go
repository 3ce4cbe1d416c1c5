package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/trolyao/trolyao/knowledge"
)

// SyncOptions tune Sync.
type SyncOptions struct {
	KeepRemoved bool                                // keep procedures that disappeared from the source
	BatchSize   int                                 // texts per embedding call; default 128
	Progress    func(stage string, done, total int) // called as embedding advances; may be nil
	// Phrasebook gives the question bank's phrasings, indexed with each record (nil: none).
	Phrasebook knowledge.Phrasebook
}

// SyncReport says what a Sync did.
type SyncReport struct {
	Total     int // records in the source
	Added     int
	Changed   int
	Unchanged int
	Removed   int
	Embedded  int  // texts sent to the embedder
	Reindexed bool // the embedder changed, so everything was re-embedded
	Wrote     bool // whether anything was written to the store
	Duration  time.Duration
}

func (r SyncReport) String() string {
	return fmt.Sprintf("%d records: %d new, %d changed, %d unchanged, %d removed; %d embedded; reindex=%v; wrote=%v; %s",
		r.Total, r.Added, r.Changed, r.Unchanged, r.Removed, r.Embedded, r.Reindexed, r.Wrote, r.Duration.Round(time.Millisecond))
}

// Sync brings the store in line with procs: records whose content hash is unchanged are neither embedded nor
// written; new and changed ones are embedded and written; records gone from the source are deleted unless
// KeepRemoved. Everything is written in one atomic Change, so a Sync killed midway leaves the previous
// catalog intact and searchable. When the embedder differs from the one that built the index (identity or
// dimension), every record is re-embedded and the index is replaced.
func Sync(ctx context.Context, st knowledge.Store, emb knowledge.Embedder, meta knowledge.Meta,
	procs []knowledge.Procedure, opt SyncOptions) (SyncReport, error) {
	start := time.Now()
	rep := SyncReport{Total: len(procs)}
	cur, err := st.Meta(ctx)
	if err != nil {
		return rep, fmt.Errorf("sync: %w", err)
	}
	hashes, err := st.Hashes(ctx)
	if err != nil {
		return rep, fmt.Errorf("sync: %w", err)
	}
	rep.Reindexed = cur != meta && len(hashes) > 0
	reset := cur != meta
	todo, seen, err := changedProcedures(procs, hashes, reset, opt, &rep)
	if err != nil {
		return rep, err
	}
	var del []string
	if !opt.KeepRemoved && !reset {
		for code := range hashes {
			if !seen[code] {
				del = append(del, code)
			}
		}
	}
	rep.Removed = len(del)
	if reset && len(hashes) > 0 {
		kept, err := keptOnReset(ctx, st, hashes, seen, opt, &rep)
		if err != nil {
			return rep, err
		}
		todo = append(todo, kept...)
	}
	if len(todo) == 0 && len(del) == 0 && !reset {
		rep.Duration = time.Since(start)
		return rep, nil
	}
	docs, err := embedDocs(ctx, emb, meta, todo, opt, &rep)
	if err != nil {
		return rep, err
	}
	ch := knowledge.Change{Upsert: docs, Delete: del}
	if reset {
		ch.Meta, ch.Reset = &meta, true
	}
	if opt.Progress != nil {
		opt.Progress("write", 0, 1)
	}
	if err := st.Apply(ctx, ch); err != nil {
		return rep, fmt.Errorf("sync: %w", err)
	}
	if opt.Progress != nil {
		opt.Progress("write", 1, 1)
	}
	rep.Wrote = true
	rep.Duration = time.Since(start)
	return rep, nil
}

// changedProcedures counts the new, changed and unchanged procedures of procs against the stored content
// hashes (every stored one is changed on reset) and returns those to embed and write, with the codes seen.
// A code that appears twice is an error.
func changedProcedures(procs []knowledge.Procedure, hashes map[string]string, reset bool, opt SyncOptions,
	rep *SyncReport) ([]knowledge.Procedure, map[string]bool, error) {
	seen := make(map[string]bool, len(procs))
	var todo []knowledge.Procedure
	for i := range procs {
		p := &procs[i]
		if seen[p.Code] {
			return nil, nil, fmt.Errorf("sync: %w: procedure %s appears twice", knowledge.ErrInvalid, p.Code)
		}
		seen[p.Code] = true
		old, ok := hashes[p.Code]
		switch {
		case !ok:
			rep.Added++
		case reset || old != knowledge.ContentHash(p, knowledge.PhrasingsOf(opt.Phrasebook, p.Code)):
			rep.Changed++
		default:
			rep.Unchanged++
			continue
		}
		todo = append(todo, *p)
	}
	return todo, seen, nil
}

// keptOnReset handles the records only in the store when a new embedder replaces the index: they are
// dropped, and counted as removed, or with KeepRemoved returned to be re-embedded.
func keptOnReset(ctx context.Context, st knowledge.Store, hashes map[string]string, seen map[string]bool,
	opt SyncOptions, rep *SyncReport) ([]knowledge.Procedure, error) {
	var kept []knowledge.Procedure
	if opt.KeepRemoved {
		all, err := st.List(ctx)
		if err != nil {
			return nil, fmt.Errorf("sync: %w", err)
		}
		for _, p := range all {
			if !seen[p.Code] {
				kept = append(kept, p)
			}
		}
	}
	for code := range hashes {
		if !seen[code] && !opt.KeepRemoved {
			rep.Removed++
		}
	}
	return kept, nil
}

// embedDocs embeds procs in batches and builds their documents with their phrasings.
func embedDocs(ctx context.Context, emb knowledge.Embedder, meta knowledge.Meta, procs []knowledge.Procedure,
	opt SyncOptions, rep *SyncReport) ([]knowledge.Doc, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 128
	}
	docs := make([]knowledge.Doc, 0, len(procs))
	for i := 0; i < len(procs); i += opt.BatchSize {
		batch := procs[i:min(i+opt.BatchSize, len(procs))]
		texts := make([]string, len(batch))
		for j := range batch {
			texts[j] = knowledge.EmbedText(&batch[j], knowledge.PhrasingsOf(opt.Phrasebook, batch[j].Code))
		}
		vecs, err := emb.EmbedDocuments(ctx, texts)
		if err != nil {
			return nil, fmt.Errorf("sync: embed: %w", err)
		}
		if len(vecs) != len(batch) {
			return nil, fmt.Errorf("sync: embed: %d vectors for %d texts", len(vecs), len(batch))
		}
		for j := range batch {
			if len(vecs[j]) != meta.Dim {
				return nil, fmt.Errorf("sync: embed %s: %w: %d dimensions, configured %d",
					batch[j].Code, knowledge.ErrInvalid, len(vecs[j]), meta.Dim)
			}
			docs = append(docs, knowledge.NewDoc(batch[j], knowledge.PhrasingsOf(opt.Phrasebook, batch[j].Code), vecs[j]))
		}
		rep.Embedded += len(batch)
		if opt.Progress != nil {
			opt.Progress("embed", rep.Embedded, len(procs))
		}
	}
	return docs, nil
}

// Reindex re-indexes the stored records whose phrasings changed (a new question bank in a new binary), keeping
// the records themselves as they are — staff edits included. It is cheap when nothing changed: one hash per
// record. The embedder must be the one that built the index.
func Reindex(ctx context.Context, st knowledge.Store, emb knowledge.Embedder, meta knowledge.Meta,
	opt SyncOptions) (SyncReport, error) {
	start := time.Now()
	var rep SyncReport
	hashes, err := st.Hashes(ctx)
	if err != nil {
		return rep, fmt.Errorf("reindex: %w", err)
	}
	all, err := st.List(ctx)
	if err != nil {
		return rep, fmt.Errorf("reindex: %w", err)
	}
	rep.Total = len(all)
	var todo []knowledge.Procedure
	for i := range all {
		p := &all[i]
		if hashes[p.Code] == knowledge.ContentHash(p, knowledge.PhrasingsOf(opt.Phrasebook, p.Code)) {
			rep.Unchanged++
			continue
		}
		rep.Changed++
		todo = append(todo, *p)
	}
	if len(todo) > 0 {
		docs, err := embedDocs(ctx, emb, meta, todo, opt, &rep)
		if err != nil {
			return rep, fmt.Errorf("reindex: %w", err)
		}
		if err := st.Apply(ctx, knowledge.Change{Upsert: docs}); err != nil {
			return rep, fmt.Errorf("reindex: %w", err)
		}
		rep.Wrote = true
	}
	rep.Duration = time.Since(start)
	return rep, nil
}
