package postgres

import (
	"container/heap"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/trolyao/trolyao/knowledge"
)

// lexIndex is an immutable snapshot of the lexical index held in memory: the postings table, grouped by term,
// with the BM25 collection statistics and the index meta, as of one catalog version (corpus.version). A
// change builds a new snapshot from the previous one (see apply), copying only the postings of the terms it
// touches, and swaps it in atomically; searches read whichever snapshot is current.
//
// Documents live in slots: a new or changed document takes a new slot at the end, and the slot it had
// becomes free (code ""), so that every posting list stays sorted by slot. When free slots outnumber live
// ones the index is compacted.
type lexIndex struct {
	version  int64
	meta     knowledge.Meta
	live     int     // documents in the index
	totalLen float64 // sum of their lengths

	codes    []string         // slot → code, "" for a free slot
	lens     []float64        // slot → BM25 document length
	slotOf   map[string]int32 // code → slot
	docTerms [][]int32        // slot → its terms' ids, to remove its postings
	norm     []float64        // slot → BM25K1·(1 − b + b·len/avgdl), the tf saturation's denominator part

	termID   map[string]int32 // term → id; ids are never reused before a compaction
	postings []postingList    // term id → postings
}

// postingList is one term's postings, sorted by slot.
type postingList struct {
	slots []int32
	tfs   []float64
}

func emptyLexIndex() *lexIndex {
	return &lexIndex{slotOf: map[string]int32{}, termID: map[string]int32{}}
}

// avgdl is the mean document length as BM25 uses it (1 for an empty or zero-length catalog).
func (ix *lexIndex) avgdl() float64 {
	if ix.live > 0 && ix.totalLen > 0 {
		return ix.totalLen / float64(ix.live)
	}
	return 1
}

// setNorms computes norm for every slot from the current average length.
func (ix *lexIndex) setNorms() {
	avgdl := ix.avgdl()
	ix.norm = make([]float64, len(ix.lens))
	for i, dl := range ix.lens {
		ix.norm[i] = knowledge.BM25K1 * (1 - knowledge.BM25B + knowledge.BM25B*dl/avgdl)
	}
}

// docPostings is the lexical content of one document as read from the database.
type docPostings struct {
	code  string
	len   float64
	terms []string
	tfs   []float64
}

// apply returns a new snapshot at version with the documents of codes replaced by docs (a code of codes
// absent from docs is deleted) and totalLen, the database's sum of lengths at version (which keeps the
// sum from drifting through many additions and subtractions).
func (ix *lexIndex) apply(version int64, meta knowledge.Meta, codes []string, docs []docPostings,
	totalLen float64) *lexIndex {
	nx := &lexIndex{version: version, meta: meta, live: ix.live, totalLen: ix.totalLen,
		codes: slices.Clone(ix.codes), lens: slices.Clone(ix.lens), slotOf: maps.Clone(ix.slotOf),
		docTerms: slices.Clone(ix.docTerms), termID: ix.termID, postings: slices.Clone(ix.postings)}
	removed := map[int32]bool{}
	touched := map[int32]bool{}
	for _, code := range codes {
		slot, ok := nx.slotOf[code]
		if !ok {
			continue
		}
		removed[slot] = true
		for _, id := range nx.docTerms[slot] {
			touched[id] = true
		}
		delete(nx.slotOf, code)
		nx.live--
		nx.totalLen -= nx.lens[slot]
		nx.codes[slot], nx.lens[slot], nx.docTerms[slot] = "", 0, nil
	}
	// Remove the old postings first, then append the new documents' (their slots are the largest).
	for id := range touched {
		pl := nx.postings[id]
		var out postingList
		for i, slot := range pl.slots {
			if !removed[slot] {
				out.slots = append(out.slots, slot)
				out.tfs = append(out.tfs, pl.tfs[i])
			}
		}
		nx.postings[id] = out
	}
	copied := false
	for _, d := range docs {
		if _, dup := nx.slotOf[d.code]; dup {
			continue // codes is the set of changed codes, each read once; never happens
		}
		slot := int32(len(nx.codes))
		nx.codes = append(nx.codes, d.code)
		nx.lens = append(nx.lens, d.len)
		nx.slotOf[d.code] = slot
		nx.live++
		nx.totalLen += d.len
		ids := make([]int32, len(d.terms))
		for j, t := range d.terms {
			id, ok := nx.termID[t]
			if !ok {
				if !copied {
					nx.termID, copied = maps.Clone(nx.termID), true
				}
				id = int32(len(nx.postings))
				nx.termID[t] = id
				nx.postings = append(nx.postings, postingList{})
			}
			ids[j] = id
			pl := &nx.postings[id]
			if !touched[id] {
				// The list is shared with the previous snapshot: copy it before appending.
				touched[id] = true
				pl.slots, pl.tfs = slices.Clip(pl.slots), slices.Clip(pl.tfs)
			}
			pl.slots = append(pl.slots, slot)
			pl.tfs = append(pl.tfs, d.tfs[j])
		}
		nx.docTerms = append(nx.docTerms, ids)
	}
	nx.totalLen = totalLen
	if free := len(nx.codes) - nx.live; free > 1024 && free > nx.live {
		return nx.compact()
	}
	nx.setNorms()
	return nx
}

// compact renumbers the live documents into consecutive slots and drops the terms no document has.
func (ix *lexIndex) compact() *lexIndex {
	nx := &lexIndex{version: ix.version, meta: ix.meta, live: ix.live, totalLen: ix.totalLen,
		codes: make([]string, 0, ix.live), lens: make([]float64, 0, ix.live), slotOf: make(map[string]int32, ix.live),
		docTerms: make([][]int32, 0, ix.live), termID: map[string]int32{}}
	renum := make([]int32, len(ix.codes))
	for slot, code := range ix.codes {
		renum[slot] = -1
		if code == "" {
			continue
		}
		renum[slot] = int32(len(nx.codes))
		nx.slotOf[code] = int32(len(nx.codes))
		nx.codes = append(nx.codes, code)
		nx.lens = append(nx.lens, ix.lens[slot])
		nx.docTerms = append(nx.docTerms, nil)
	}
	for t, old := range ix.termID {
		pl := ix.postings[old]
		if len(pl.slots) == 0 {
			continue
		}
		id := int32(len(nx.postings))
		nx.termID[t] = id
		out := postingList{slots: make([]int32, len(pl.slots)), tfs: slices.Clone(pl.tfs)}
		for i, slot := range pl.slots {
			out.slots[i] = renum[slot] // renumbering keeps the order
			nx.docTerms[out.slots[i]] = append(nx.docTerms[out.slots[i]], id)
		}
		nx.postings = append(nx.postings, out)
	}
	nx.pack()
	nx.setNorms()
	return nx
}

// lexScratch holds one search's accumulators, reused across searches.
type lexScratch struct {
	score   []float64
	seen    []bool
	touched []int32
}

var lexScratchPool = sync.Pool{New: func() any { return new(lexScratch) }}

// lexHit is one document of the lexical list.
type lexHit struct {
	slot  int32
	score float64
}

// search returns the limit best documents by BM25 (score > 0), best first, ties by code. It scores every
// posting of the query's terms, as the embedded store does, with the same arithmetic: the contribution of a
// term is weight·IDF·tf·(k1+1)/(tf + k1·(1 − b + b·dl/avgdl)), summed in query order.
func (ix *lexIndex) search(terms []knowledge.QueryTerm, limit int) []lexHit {
	n := len(ix.codes)
	sc := lexScratchPool.Get().(*lexScratch)
	defer lexScratchPool.Put(sc)
	if cap(sc.score) < n {
		sc.score, sc.seen = make([]float64, n), make([]bool, n)
	} else {
		sc.score, sc.seen = sc.score[:n], sc.seen[:n]
	}
	sc.touched = sc.touched[:0]
	docs := float64(ix.live)
	for _, q := range terms {
		id, ok := ix.termID[q.Term]
		if !ok {
			continue
		}
		pl := ix.postings[id]
		if len(pl.slots) == 0 {
			continue
		}
		f := q.Weight * knowledge.IDF(docs, float64(len(pl.slots)))
		tfs := pl.tfs[:len(pl.slots)]
		for i, slot := range pl.slots {
			tf := tfs[i]
			if !sc.seen[slot] {
				sc.seen[slot] = true
				sc.touched = append(sc.touched, slot)
			}
			sc.score[slot] += f * (tf * (knowledge.BM25K1 + 1) / (tf + ix.norm[slot]))
		}
	}
	h := lexHeap{hits: make([]lexHit, 0, limit)}
	worse := func(a, b lexHit) bool { // a ranks below b
		if a.score != b.score {
			return a.score < b.score
		}
		return ix.codes[a.slot] > ix.codes[b.slot]
	}
	h.worse = worse
	for _, slot := range sc.touched {
		s := sc.score[slot]
		sc.score[slot], sc.seen[slot] = 0, false
		if s <= 0 {
			continue
		}
		e := lexHit{slot, s}
		if len(h.hits) < limit {
			heap.Push(&h, e)
		} else if worse(h.hits[0], e) {
			h.hits[0] = e
			heap.Fix(&h, 0)
		}
	}
	out := h.hits
	slices.SortFunc(out, func(a, b lexHit) int {
		if worse(a, b) {
			return 1
		}
		if worse(b, a) {
			return -1
		}
		return 0
	})
	return out
}

// matched returns the query terms (in query order) that the document with code has, nil when the snapshot
// does not know the document.
func (ix *lexIndex) matched(code string, terms []knowledge.QueryTerm) []string {
	slot, ok := ix.slotOf[code]
	if !ok {
		return nil
	}
	var out []string
	for _, q := range terms {
		id, ok := ix.termID[q.Term]
		if !ok {
			continue
		}
		if _, found := slices.BinarySearch(ix.postings[id].slots, slot); found {
			out = append(out, q.Term)
		}
	}
	return out
}

// lexHeap keeps the best hits; its root is the worst kept.
type lexHeap struct {
	hits  []lexHit
	worse func(a, b lexHit) bool
}

func (h lexHeap) Len() int           { return len(h.hits) }
func (h lexHeap) Less(i, j int) bool { return h.worse(h.hits[i], h.hits[j]) }
func (h lexHeap) Swap(i, j int)      { h.hits[i], h.hits[j] = h.hits[j], h.hits[i] }
func (h *lexHeap) Push(x any)        { h.hits = append(h.hits, x.(lexHit)) }
func (h *lexHeap) Pop() any {
	x := h.hits[len(h.hits)-1]
	h.hits = h.hits[:len(h.hits)-1]
	return x
}

// maxIncremental is the number of changed documents above which a refresh reloads the whole index instead
// of reading the changed documents (a fraction of the catalog also counts; see refresh).
const maxIncremental = 20000

// keepChanges is how many versions of catalog_changes Apply keeps; a process further behind reloads.
const keepChanges = 1000

// refresh brings the in-memory index up to the database's current version: from the change log when it
// holds every version since the snapshot's and they are few, else by reading the whole index. It reads
// in one repeatable-read transaction, so the snapshot it builds is the database's at one version.
func (s *Store) refresh(ctx context.Context) error {
	s.lexMu.Lock()
	defer s.lexMu.Unlock()
	return s.refreshLocked(ctx)
}

// refreshLocked is refresh with lexMu held.
func (s *Store) refreshLocked(ctx context.Context) error {
	cur := s.lex.Load()
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var version, n int64
	var totalLen float64
	var metaJSON []byte
	if err := tx.QueryRow(ctx, `SELECT version, n, total_len, (SELECT value FROM meta WHERE key = 'index')
		FROM corpus`).Scan(&version, &n, &totalLen, &metaJSON); err != nil {
		return err
	}
	if cur != nil && version == cur.version {
		return nil
	}
	var meta knowledge.Meta
	if metaJSON != nil {
		if err := json.Unmarshal(metaJSON, &meta); err != nil {
			return fmt.Errorf("meta: %w", err)
		}
	}
	full := cur == nil || version < cur.version
	var codes []string
	if !full {
		rows, err := tx.Query(ctx, `SELECT version, reset, codes FROM catalog_changes
			WHERE version > $1 ORDER BY version`, cur.version)
		if err != nil {
			return err
		}
		next := cur.version + 1
		seen := map[string]bool{}
		var v int64
		var reset bool
		var cs []string
		_, err = pgx.ForEachRow(rows, []any{&v, &reset, &cs}, func() error {
			if v != next || reset {
				full = true
			}
			next++
			for _, c := range cs {
				if !seen[c] {
					seen[c] = true
					codes = append(codes, c)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if next != version+1 || len(codes) > maxIncremental || len(codes) > cur.live/2+1000 {
			full = true
		}
	}
	var nx *lexIndex
	if full {
		s.reloading.Store(true)
		defer s.reloading.Store(false)
		nx, err = loadLexIndex(ctx, tx, version, meta)
		if err != nil {
			return err
		}
	} else {
		docs, err := readDocPostings(ctx, tx, codes)
		if err != nil {
			return err
		}
		nx = cur.apply(version, meta, codes, docs, totalLen)
		if int64(nx.live) != n {
			// Cannot happen while every change goes through Apply; should the tables have been edited by
			// hand, the whole index is read again.
			s.log.Warn("postgres: the lexical index disagrees with the catalog; reloading it", "indexed", nx.live,
				"procedures", n)
			s.reloading.Store(true)
			defer s.reloading.Store(false)
			if nx, err = loadLexIndex(ctx, tx, version, meta); err != nil {
				return err
			}
		}
	}
	s.lex.Store(nx)
	return tx.Commit(ctx)
}

// readDocPostings reads the lexical content of the procedures with the given codes that exist.
func readDocPostings(ctx context.Context, tx pgx.Tx, codes []string) ([]docPostings, error) {
	rows, err := tx.Query(ctx, `SELECT p.code, p.len, ps.term, ps.tf
		FROM procedures p CROSS JOIN LATERAL unnest(p.terms) AS t(term)
		JOIN postings ps ON ps.term = t.term AND ps.code = p.code
		WHERE p.code = ANY($1)
		ORDER BY p.code, ps.term`, codes)
	if err != nil {
		return nil, err
	}
	var out []docPostings
	var code, term string
	var dl, tf float64
	_, err = pgx.ForEachRow(rows, []any{&code, &dl, &term, &tf}, func() error {
		if len(out) == 0 || out[len(out)-1].code != code {
			out = append(out, docPostings{code: code, len: dl})
		}
		d := &out[len(out)-1]
		d.terms = append(d.terms, term)
		d.tfs = append(d.tfs, tf)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// A procedure without terms has no postings: it still counts in N and the mean length.
	rows, err = tx.Query(ctx, "SELECT code, len FROM procedures WHERE code = ANY($1) AND cardinality(terms) = 0", codes)
	if err != nil {
		return nil, err
	}
	_, err = pgx.ForEachRow(rows, []any{&code, &dl}, func() error {
		out = append(out, docPostings{code: code, len: dl})
		return nil
	})
	return out, err
}

// loadLexIndex reads the whole lexical index at version: the procedures' codes and lengths, then the
// postings table.
//
// The postings are read in a sequential scan, in no particular order: PostgreSQL reads a large table
// through a small ring of buffers, where an index scan in (term, code) order would push the HNSW index out
// of shared_buffers. Two counting sorts then group them by document and by term, in slot order.
func loadLexIndex(ctx context.Context, tx pgx.Tx, version int64, meta knowledge.Meta) (*lexIndex, error) {
	ix := emptyLexIndex()
	ix.version, ix.meta = version, meta
	rows, err := tx.Query(ctx, "SELECT code, len FROM procedures ORDER BY code")
	if err != nil {
		return nil, err
	}
	var code string
	var dl float64
	_, err = pgx.ForEachRow(rows, []any{&code, &dl}, func() error {
		ix.slotOf[code] = int32(len(ix.codes))
		ix.codes = append(ix.codes, code)
		ix.lens = append(ix.lens, dl)
		ix.totalLen += dl
		return nil
	})
	if err != nil {
		return nil, err
	}
	ix.live = len(ix.codes)

	// Decode the rows by hand: one allocation per distinct term instead of two strings per posting.
	var pTerm, pSlot []int32
	var pTF []float64
	rows, err = tx.Query(ctx, "SELECT term, code, tf FROM postings", pgx.QueryResultFormats{
		pgx.TextFormatCode, pgx.TextFormatCode, pgx.BinaryFormatCode})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		raw := rows.RawValues()
		if len(raw) != 3 || raw[0] == nil || raw[1] == nil || len(raw[2]) != 8 {
			return nil, fmt.Errorf("load lexical index: unexpected postings row")
		}
		id, ok := ix.termID[string(raw[0])]
		if !ok {
			id = int32(len(ix.termID))
			ix.termID[string(raw[0])] = id
		}
		slot, ok := ix.slotOf[string(raw[1])]
		if !ok {
			return nil, fmt.Errorf("load lexical index: a posting names an unknown procedure")
		}
		pTerm, pSlot = append(pTerm, id), append(pSlot, slot)
		pTF = append(pTF, math.Float64frombits(binary.BigEndian.Uint64(raw[2])))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	// Order the postings by slot (counting sort), then distribute them to their terms in that order.
	n := len(pTerm)
	bySlot := make([]int32, n)
	start := make([]int32, len(ix.codes)+1)
	for _, slot := range pSlot {
		start[slot+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	next := slices.Clone(start[:len(ix.codes)])
	for i, slot := range pSlot {
		bySlot[next[slot]] = int32(i)
		next[slot]++
	}
	docTerms := make([]int32, n)
	for j, i := range bySlot {
		docTerms[j] = pTerm[i]
	}
	ix.docTerms = make([][]int32, len(ix.codes))
	for slot := range ix.docTerms {
		ix.docTerms[slot] = docTerms[start[slot]:start[slot+1]:start[slot+1]]
	}
	tstart := make([]int32, len(ix.termID)+1)
	for _, id := range pTerm {
		tstart[id+1]++
	}
	for i := 1; i < len(tstart); i++ {
		tstart[i] += tstart[i-1]
	}
	slots, tfs := make([]int32, n), make([]float64, n)
	next = slices.Clone(tstart[:len(ix.termID)])
	for _, i := range bySlot {
		id := pTerm[i]
		slots[next[id]], tfs[next[id]] = pSlot[i], pTF[i]
		next[id]++
	}
	ix.postings = make([]postingList, len(ix.termID))
	for id := range ix.postings {
		a, b := tstart[id], tstart[id+1]
		ix.postings[id] = postingList{slots: slots[a:b:b], tfs: tfs[a:b:b]}
	}
	ix.setNorms()
	return ix, nil
}

// pack moves the posting lists and the documents' term lists into three arrays without the spare capacity
// that appending left (a quarter of the index on average). Each list is capped at its length, so appending
// to one copies it.
func (ix *lexIndex) pack() {
	n := 0
	for _, pl := range ix.postings {
		n += len(pl.slots)
	}
	slots, tfs, terms := make([]int32, 0, n), make([]float64, 0, n), make([]int32, 0, n)
	for i := range ix.postings {
		pl := &ix.postings[i]
		k := len(slots)
		slots, tfs = append(slots, pl.slots...), append(tfs, pl.tfs...)
		pl.slots, pl.tfs = slots[k:len(slots):len(slots)], tfs[k:len(tfs):len(tfs)]
	}
	for i, ids := range ix.docTerms {
		k := len(terms)
		terms = append(terms, ids...)
		ix.docTerms[i] = terms[k:len(terms):len(terms)]
	}
}
