package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/trolyao/trolyao/knowledge"
)

// memory is the storage of memStore: it outlives a store, so that a reopen sees it.
type memory struct {
	mu   sync.RWMutex
	docs map[string]knowledge.Doc
	meta knowledge.Meta
}

// memStore is the contract written as plainly as possible, on Reference: it tests the suite itself.
type memStore struct{ m *memory }

var _ knowledge.Store = memStore{}

func (s memStore) Get(_ context.Context, code string) (knowledge.Procedure, error) {
	s.m.mu.RLock()
	defer s.m.mu.RUnlock()
	d, ok := s.m.docs[code]
	if !ok {
		return knowledge.Procedure{}, fmt.Errorf("mem: get %s: %w", code, knowledge.ErrNotFound)
	}
	return d.Procedure.Clone(), nil
}

func (s memStore) List(context.Context) ([]knowledge.Procedure, error) {
	s.m.mu.RLock()
	defer s.m.mu.RUnlock()
	var out []knowledge.Procedure
	for _, code := range slices.Sorted(maps.Keys(s.m.docs)) {
		out = append(out, s.m.docs[code].Procedure.Clone())
	}
	return out, nil
}

func (s memStore) Hashes(context.Context) (map[string]string, error) {
	s.m.mu.RLock()
	defer s.m.mu.RUnlock()
	out := map[string]string{}
	for code, d := range s.m.docs {
		out[code] = d.Hash
	}
	return out, nil
}

func (s memStore) Meta(context.Context) (knowledge.Meta, error) {
	s.m.mu.RLock()
	defer s.m.mu.RUnlock()
	return s.m.meta, nil
}

func (s memStore) Apply(_ context.Context, c knowledge.Change) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	meta := s.m.meta
	if c.Meta != nil {
		meta = *c.Meta
	}
	if meta.Dim < 0 {
		return fmt.Errorf("mem: apply: %w: dimension %d", knowledge.ErrInvalid, meta.Dim)
	}
	for _, d := range c.Upsert {
		if d.Procedure.Code == "" || len(d.Vector) != meta.Dim {
			return fmt.Errorf("mem: apply: %w", knowledge.ErrInvalid)
		}
	}
	docs := maps.Clone(s.m.docs)
	if c.Reset {
		docs = map[string]knowledge.Doc{}
	}
	for _, code := range c.Delete {
		delete(docs, code)
	}
	for _, d := range c.Upsert {
		docs[d.Procedure.Code] = d
	}
	s.m.docs, s.m.meta = docs, meta
	return nil
}

func (s memStore) Search(_ context.Context, r knowledge.SearchRequest) ([]knowledge.Candidate, error) {
	if r.Limit <= 0 || r.Limit > knowledge.MaxSearchK*4 {
		return nil, fmt.Errorf("mem: search: %w", knowledge.ErrInvalid)
	}
	s.m.mu.RLock()
	defer s.m.mu.RUnlock()
	if len(s.m.docs) == 0 {
		return nil, nil
	}
	if len(r.Vector) > 0 && len(r.Vector) != s.m.meta.Dim {
		return nil, fmt.Errorf("mem: search: %w", knowledge.ErrInvalid)
	}
	docs := slices.SortedFunc(maps.Values(s.m.docs), func(a, b knowledge.Doc) int {
		return strings.Compare(a.Procedure.Code, b.Procedure.Code)
	})
	return Reference(docs, r), nil
}

func (memStore) Close() error { return nil }

func openMem(*testing.T) knowledge.Store {
	return memStore{&memory{docs: map[string]knowledge.Doc{}}}
}

func TestMemStore(t *testing.T) {
	Run(t, openMem)
	RunReopen(t, openMem, func(_ *testing.T, s knowledge.Store) knowledge.Store {
		return memStore{s.(memStore).m}
	})
}

func TestReference(t *testing.T) {
	docs := catalog(8)
	// Lexical only: "khai sinh" is in two names, "khai" in three; the lexical list is ordered by score.
	r := knowledge.SearchRequest{Terms: queryTerms("khai sinh"), Limit: 2}
	got := Reference(docs, r)
	if len(got) != 2 {
		t.Fatalf("got %d candidates, want 2", len(got))
	}
	for _, c := range got {
		if !strings.Contains(c.Name, "khai sinh") || c.Lexical <= 0 || c.Dense != 0 {
			t.Errorf("unexpected candidate %+v", c)
		}
	}
	// Dense only: a document's own vector finds it.
	got = Reference(docs, knowledge.SearchRequest{Vector: docs[3].Vector, Limit: 1})
	if len(got) != 1 || got[0].Code != docs[3].Procedure.Code || got[0].Lexical != 0 || got[0].Dense < 0.999999 {
		t.Errorf("dense search for docs[3] = %+v", got)
	}
	if !checkSearch(t, docs, r, Reference(docs, r)) {
		t.Error("the reference fails its own check")
	}
}

// TestCheckSearchCatches makes sure the checks fail on wrong answers.
func TestCheckSearchCatches(t *testing.T) {
	docs := catalog(8)
	r := knowledge.SearchRequest{Terms: queryTerms("giấy phép lái xe"), Vector: docs[1].Vector, Limit: 3}
	good := Reference(docs, r)
	mutations := map[string]func([]knowledge.Candidate) []knowledge.Candidate{
		"drop one":      func(c []knowledge.Candidate) []knowledge.Candidate { return c[1:] },
		"reorder":       func(c []knowledge.Candidate) []knowledge.Candidate { c[0], c[1] = c[1], c[0]; return c },
		"lexical score": func(c []knowledge.Candidate) []knowledge.Candidate { c[0].Lexical *= 1.01; return c },
		"dense score":   func(c []knowledge.Candidate) []knowledge.Candidate { c[1].Dense += 0.01; return c },
		"matched": func(c []knowledge.Candidate) []knowledge.Candidate {
			c[0].Matched = slices.Clone(c[0].Matched[1:])
			return c
		},
		"extra": func(c []knowledge.Candidate) []knowledge.Candidate {
			for _, d := range docs {
				if !slices.ContainsFunc(c, func(x knowledge.Candidate) bool { return x.Code == d.Procedure.Code }) {
					extra := knowledge.Candidate{Code: d.Procedure.Code, Name: d.Procedure.Name, Levels: d.Procedure.Levels,
						Dense: Cosine(d.Vector, r.Vector)}
					c = append(c, extra)
					slices.SortFunc(c, func(a, b knowledge.Candidate) int { return strings.Compare(a.Code, b.Code) })
					return c
				}
			}
			return c
		},
	}
	for name, mutate := range mutations {
		var rec recorder
		if checkSearch(&rec, docs, r, mutate(slices.Clone(good))) || rec.n == 0 {
			t.Errorf("%s: the check accepts a wrong answer", name)
		}
	}
}

// recorder counts errors instead of failing a test.
type recorder struct{ n int }

func (*recorder) Helper()                 {}
func (r *recorder) Errorf(string, ...any) { r.n++ }
