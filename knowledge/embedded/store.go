// Package embedded is the default procedure store: an in-process index (BM25 postings and a dense vector
// matrix, searched exhaustively) persisted in one bbolt file in the data directory. It needs no server, a
// restart keeps every change, and each Apply is one bbolt transaction, so a killed ingest leaves the previous
// catalog intact. It imports the knowledge package, the standard library and bbolt only.
package embedded

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/trolyao/trolyao/knowledge"
)

// FileName is the name of the store's file inside the data directory.
const FileName = "catalog.db"

var (
	bucketDocs = []byte("docs")
	bucketMeta = []byte("meta")
	keyMeta    = []byte("meta")
)

// Store is the embedded store. It is safe for concurrent use.
type Store struct {
	db    *bolt.DB
	write sync.Mutex // serialises Apply
	idx   atomic.Pointer[index]
}

var _ knowledge.Store = (*Store)(nil)

// Open opens (creating if needed) the store in directory dir and loads its index into memory.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded: open: %w", err)
	}
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("embedded: open %s: the store is in use by another trolyao process (one process at a "+
			"time: stop it, or use PostgreSQL for several): %w", filepath.Join(dir, FileName), err)
	}
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", filepath.Join(dir, FileName), err)
	}
	s := &Store{db: db}
	var meta knowledge.Meta
	docs := map[string]*knowledge.Doc{}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketDocs)
		if err != nil {
			return err
		}
		mb, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if v := mb.Get(keyMeta); v != nil {
			if err := gob.NewDecoder(bytes.NewReader(v)).Decode(&meta); err != nil {
				return fmt.Errorf("decode meta: %w", err)
			}
		}
		return b.ForEach(func(k, v []byte) error {
			var d knowledge.Doc
			if err := gob.NewDecoder(bytes.NewReader(v)).Decode(&d); err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			docs[d.Procedure.Code] = &d
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("embedded: load: %w", err)
	}
	s.idx.Store(build(meta, docs))
	return s, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Get returns one procedure.
func (s *Store) Get(_ context.Context, code string) (knowledge.Procedure, error) {
	ix := s.idx.Load()
	i, ok := ix.pos[code]
	if !ok {
		return knowledge.Procedure{}, fmt.Errorf("embedded: get %q: %w", code, knowledge.ErrNotFound)
	}
	return ix.docs[i].Procedure.Clone(), nil
}

// List returns every procedure ordered by code.
func (s *Store) List(_ context.Context) ([]knowledge.Procedure, error) {
	ix := s.idx.Load()
	out := make([]knowledge.Procedure, len(ix.docs))
	for i, d := range ix.docs {
		out[i] = d.Procedure.Clone()
	}
	return out, nil
}

// Hashes returns code → content hash.
func (s *Store) Hashes(_ context.Context) (map[string]string, error) {
	ix := s.idx.Load()
	out := make(map[string]string, len(ix.docs))
	for _, d := range ix.docs {
		out[d.Procedure.Code] = d.Hash
	}
	return out, nil
}

// Meta returns the stored embedder identity.
func (s *Store) Meta(_ context.Context) (knowledge.Meta, error) { return s.idx.Load().meta, nil }

// Apply writes a change in one transaction and then swaps in a rebuilt index.
func (s *Store) Apply(ctx context.Context, c knowledge.Change) error {
	s.write.Lock()
	defer s.write.Unlock()
	cur := s.idx.Load()
	meta := cur.meta
	if c.Meta != nil {
		if c.Meta.Dim <= 0 || c.Meta.Embedder == "" {
			return fmt.Errorf("embedded: apply: %w: meta %+v", knowledge.ErrInvalid, *c.Meta)
		}
		meta = *c.Meta
	}
	for _, d := range c.Upsert {
		if d.Procedure.Code == "" {
			return fmt.Errorf("embedded: apply: %w: a document has no procedure code", knowledge.ErrInvalid)
		}
		if len(d.Vector) != meta.Dim {
			return fmt.Errorf("embedded: apply %s: %w: vector has %d dimensions, the index %d",
				d.Procedure.Code, knowledge.ErrInvalid, len(d.Vector), meta.Dim)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("embedded: apply: %w", err)
	}
	docs := make(map[string]*knowledge.Doc, len(cur.docs)+len(c.Upsert))
	if !c.Reset {
		for _, d := range cur.docs {
			docs[d.Procedure.Code] = d
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if c.Reset {
			if err := tx.DeleteBucket(bucketDocs); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
				return err
			}
			if _, err := tx.CreateBucket(bucketDocs); err != nil {
				return err
			}
		}
		b := tx.Bucket(bucketDocs)
		for _, code := range c.Delete {
			if err := b.Delete([]byte(code)); err != nil {
				return err
			}
			delete(docs, code)
		}
		var buf bytes.Buffer
		for i := range c.Upsert {
			d := c.Upsert[i]
			buf.Reset()
			if err := gob.NewEncoder(&buf).Encode(&d); err != nil {
				return fmt.Errorf("encode %s: %w", d.Procedure.Code, err)
			}
			if err := b.Put([]byte(d.Procedure.Code), bytes.Clone(buf.Bytes())); err != nil {
				return err
			}
			docs[d.Procedure.Code] = &d
		}
		if c.Meta != nil {
			buf.Reset()
			if err := gob.NewEncoder(&buf).Encode(meta); err != nil {
				return err
			}
			if err := tx.Bucket(bucketMeta).Put(keyMeta, bytes.Clone(buf.Bytes())); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embedded: apply: %w", err)
	}
	s.idx.Store(build(meta, docs))
	return nil
}

// index is an immutable snapshot of the catalog, swapped atomically on Apply.
type index struct {
	meta     knowledge.Meta
	docs     []*knowledge.Doc // ordered by code
	pos      map[string]int
	postings map[string][]posting
	avgdl    float64
	vecs     []float32 // len(docs) × meta.Dim, row-major
	norms    []float64
}

// posting is one document of a term's list with its BM25 tf saturation precomputed (it depends only on the
// document and the average length, both fixed for the snapshot): score += weight·idf·sat.
type posting struct {
	doc int32
	sat float64
}

func build(meta knowledge.Meta, m map[string]*knowledge.Doc) *index {
	ix := &index{meta: meta, docs: make([]*knowledge.Doc, 0, len(m)), pos: make(map[string]int, len(m)),
		postings: map[string][]posting{}}
	for _, d := range m {
		ix.docs = append(ix.docs, d)
	}
	sort.Slice(ix.docs, func(i, j int) bool { return ix.docs[i].Procedure.Code < ix.docs[j].Procedure.Code })
	ix.vecs = make([]float32, 0, len(ix.docs)*meta.Dim)
	ix.norms = make([]float64, len(ix.docs))
	total := 0.0
	for _, d := range ix.docs {
		total += d.Len
	}
	if len(ix.docs) > 0 {
		ix.avgdl = total / float64(len(ix.docs))
	}
	for i, d := range ix.docs {
		ix.pos[d.Procedure.Code] = i
		for t, tf := range d.Terms {
			sat := knowledge.BM25(1, 1, tf, d.Len, ix.avgdl)
			ix.postings[t] = append(ix.postings[t], posting{doc: int32(i), sat: sat})
		}
		ix.vecs = append(ix.vecs, d.Vector...)
		n := 0.0
		for _, x := range d.Vector {
			n += float64(x) * float64(x)
		}
		ix.norms[i] = n
	}
	return ix
}
