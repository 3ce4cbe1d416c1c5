// Package bank is the question bank: how citizens actually ask for each procedure of the catalog, written and
// checked by hand against the records (docs/question-bank.md has the format, the coverage and how it was made).
//
// It serves three purposes. Its aliases and questions are indexed as a field of every procedure they describe
// (see knowledge.Phrasebook), so that "cháu mồ côi" finds "đăng ký giám hộ"; its questions, negatives and
// dialogues are the labelled data on which the assistant's decision policy is fitted and measured; and its
// split — train, validation and test, fixed by procedure family — keeps those measurements honest: the test
// split is never used to choose anything, and an index built to evaluate a split leaves that split's questions
// out.
//
// The bank is embedded in the binary (data/). It imports the knowledge package and the standard library only.
package bank

import (
	"bufio"
	"embed"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

//go:embed data
var embedded embed.FS

// Split is one of the bank's three parts.
type Split string

const (
	Train      Split = "train"
	Validation Split = "validation"
	Test       Split = "test"
)

// Splits lists the splits in order.
var Splits = []Split{Train, Validation, Test}

// ParseSplit reads a split name.
func ParseSplit(s string) (Split, error) {
	for _, x := range Splits {
		if string(x) == s {
			return x, nil
		}
	}
	return "", fmt.Errorf("bank: %w: unknown split %q (want train, validation or test)", knowledge.ErrInvalid, s)
}

// Shares of families in each split (per hundred): 70 train, 15 validation, 15 test.
const (
	trainShare      = 70
	validationShare = 15
)

// splitOf assigns a family to a split by a hash of its key: stable across versions of the bank, so that adding
// entries never moves an existing family from one split to another.
func splitOf(key string) Split {
	h := fnv.New32a()
	h.Write([]byte("trolyao-bank-v1/" + key))
	switch v := h.Sum32() % 100; {
	case v < trainShare:
		return Train
	case v < trainShare+validationShare:
		return Validation
	}
	return Test
}

// isProbe draws half of the questions as probes, by a hash of the question.
func isProbe(key string) bool {
	h := fnv.New32a()
	h.Write([]byte("trolyao-bank-probe/" + key))
	return h.Sum32()%2 == 0
}

// Limits of the bank's files.
const (
	maxLineBytes       = 256 << 10
	maxQuestionRunes   = knowledge.MaxQueryRunes
	maxAliasRunes      = 200
	maxPhrasingsPerDoc = 80
)

// Question is one way a citizen asks.
type Question struct {
	Q      string   `json:"q"`
	Accept []string `json:"accept,omitempty"` // codes also right for this question (two needs in one message)
	Tags   []string `json:"tags,omitempty"`
	// Probe marks the half of an entry's questions that evaluations ask (the other half is only indexed):
	// evaluating a split asks its probes over a catalog indexed without them, as a new phrasing of a known
	// procedure would be asked in service.
	Probe bool `json:"-"`
}

// Entry is what the bank says of one procedure.
type Entry struct {
	Code      string     `json:"code"`
	Accept    []string   `json:"accept"`  // codes that answer the same need (the same procedure at other levels)
	Aliases   []string   `json:"aliases"` // short phrasings and situations
	Questions []Question `json:"questions"`
	Family    string     `json:"-"` // the smallest code of the entry's family (entries linked by Accept)
	Split     Split      `json:"-"`
	File      string     `json:"-"`
}

// Negative is a message that no procedure of the catalog answers.
type Negative struct {
	Q     string   `json:"q"`
	Tags  []string `json:"tags,omitempty"` // out-of-catalog, offtopic, political, unlawful, injection, …
	Group string   `json:"group,omitempty"`
	Split Split    `json:"-"`
	Probe bool     `json:"-"` // as Question.Probe
}

// Turn is one message of a dialogue; Expect (when not nil) is scored, an empty Expect means "cite nothing".
type Turn struct {
	Q      string    `json:"q"`
	Expect *[]string `json:"expect,omitempty"`
	Facts  []string  `json:"facts,omitempty"`
}

// Dialogue is a labelled conversation.
type Dialogue struct {
	Turns []Turn   `json:"turns"`
	Tags  []string `json:"tags,omitempty"`
	Split Split    `json:"-"`
}

// Story is a long question written as citizens write on public Q&A pages: a narrative with family, place, job
// and legal context and the need at its end or only implied. Stories are asked, never indexed. An empty Expect
// means no procedure of the catalog answers it.
type Story struct {
	Q      string   `json:"q"`
	Expect []string `json:"expect"`
	Tags   []string `json:"tags,omitempty"`
	Family string   `json:"-"` // the family of its first expected procedure, or a key of its own for a negative
	Split  Split    `json:"-"`
}

// Bank is the loaded question bank. It is read-only after Load.
type Bank struct {
	Entries   []Entry
	Negatives []Negative
	Dialogues []Dialogue
	Stories   []Story
	byCode    map[string]int
	version   string
}

// Load reads the bank embedded in the binary.
func Load() (*Bank, error) {
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		return nil, err
	}
	return Read(sub)
}

// Read reads a bank from fsys: procedures/*.jsonl (entries), negatives.jsonl and dialogues.jsonl.
// A later line for a code replaces an earlier one. Malformed lines are errors naming file and line.
func Read(fsys fs.FS) (*Bank, error) {
	b := &Bank{byCode: map[string]int{}}
	h := fnv.New64a()
	files, err := fs.Glob(fsys, "procedures/*.jsonl")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, f := range files {
		err := readLines(fsys, f, h, func(line []byte) error {
			var e Entry
			if err := json.Unmarshal(line, &e); err != nil {
				return err
			}
			if err := e.check(); err != nil {
				return err
			}
			e.File = path.Base(f)
			if i, ok := b.byCode[e.Code]; ok {
				b.Entries[i] = e
				return nil
			}
			b.byCode[e.Code] = len(b.Entries)
			b.Entries = append(b.Entries, e)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, read := range []func(fs.FS, io.Writer) error{b.readNegatives, b.readDialogues, b.readStories} {
		if err := read(fsys, h); err != nil {
			return nil, err
		}
	}
	b.expandStories()
	b.assignSplits()
	b.version = fmt.Sprintf("%016x", h.Sum64())
	return b, nil
}

// readOptional reads the lines of an optional file (none when it is missing), each decoded into a T and checked.
func readOptional[T any](fsys fs.FS, name string, h io.Writer, check func(*T) error) ([]T, error) {
	var out []T
	err := readLines(fsys, name, h, func(line []byte) error {
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			return err
		}
		if err := check(&v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	if err != nil && !isNotExist(err) {
		return nil, err
	}
	return out, nil
}

// readNegatives reads negatives.jsonl, if there is one.
func (b *Bank) readNegatives(fsys fs.FS, h io.Writer) (err error) {
	b.Negatives, err = readOptional(fsys, "negatives.jsonl", h, func(n *Negative) error {
		return checkText(n.Q, maxQuestionRunes)
	})
	return err
}

// readDialogues reads dialogues.jsonl, if there is one.
func (b *Bank) readDialogues(fsys fs.FS, h io.Writer) (err error) {
	b.Dialogues, err = readOptional(fsys, "dialogues.jsonl", h, func(d *Dialogue) error {
		if len(d.Turns) < 2 {
			return fmt.Errorf("a dialogue needs at least two turns")
		}
		for _, t := range d.Turns {
			if err := checkText(t.Q, maxQuestionRunes); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// readStories reads stories.jsonl, if there is one.
func (b *Bank) readStories(fsys fs.FS, h io.Writer) (err error) {
	b.Stories, err = readOptional(fsys, "stories.jsonl", h, func(st *Story) error {
		if st.Expect == nil {
			return fmt.Errorf("a story needs expect (an empty list when no procedure answers it)")
		}
		return checkText(st.Q, maxQuestionRunes)
	})
	return err
}

func isNotExist(err error) bool {
	return err != nil && strings.Contains(err.Error(), fs.ErrNotExist.Error())
}

func readLines(fsys fs.FS, name string, h io.Writer, each func([]byte) error) error {
	f, err := fsys.Open(name)
	if err != nil {
		return fmt.Errorf("bank: %s: %w", name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		h.Write(line)
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		if err := each(line); err != nil {
			return fmt.Errorf("bank: %s:%d: %w", name, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("bank: %s:%d: %w", name, n+1, err)
	}
	return nil
}

func checkText(s string, maxRunes int) error {
	switch {
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("%w: empty text", knowledge.ErrInvalid)
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		return fmt.Errorf("%w: not valid UTF-8", knowledge.ErrInvalid)
	case utf8.RuneCountInString(s) > maxRunes:
		return fmt.Errorf("%w: %q is longer than %d characters", knowledge.ErrInvalid, s[:40], maxRunes)
	}
	return nil
}

func (e *Entry) check() error {
	if !knowledge.IsProcedureCode(e.Code) {
		return fmt.Errorf("%w: code %q", knowledge.ErrInvalid, e.Code)
	}
	if !slices.Contains(e.Accept, e.Code) {
		e.Accept = append([]string{e.Code}, e.Accept...)
	}
	for _, a := range e.Accept {
		if !knowledge.IsProcedureCode(a) {
			return fmt.Errorf("%w: %s: accept code %q", knowledge.ErrInvalid, e.Code, a)
		}
	}
	for _, a := range e.Aliases {
		if err := checkText(a, maxAliasRunes); err != nil {
			return fmt.Errorf("%s: alias: %w", e.Code, err)
		}
	}
	for _, q := range e.Questions {
		if err := checkText(q.Q, maxQuestionRunes); err != nil {
			return fmt.Errorf("%s: question: %w", e.Code, err)
		}
		for _, a := range q.Accept {
			if !knowledge.IsProcedureCode(a) {
				return fmt.Errorf("%w: %s: question accept code %q", knowledge.ErrInvalid, e.Code, a)
			}
		}
	}
	return nil
}

// assignSplits links entries whose accept lists share a code into families and gives each family, negative
// group and dialogue its split.
func (b *Bank) assignSplits() {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		p, ok := parent[x]
		if !ok || p == x {
			parent[x] = x
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	union := func(x, y string) {
		rx, ry := find(x), find(y)
		if rx == ry {
			return
		}
		if rx < ry {
			parent[ry] = rx
		} else {
			parent[rx] = ry
		}
	}
	for _, e := range b.Entries {
		for _, a := range e.Accept {
			union(e.Code, a)
		}
	}
	for i := range b.Entries {
		e := &b.Entries[i]
		e.Family = find(e.Code)
		e.Split = splitOf(e.Family)
		for j := range e.Questions {
			e.Questions[j].Probe = isProbe(e.Code + "/" + knowledge.Fold(e.Questions[j].Q))
		}
	}
	for i := range b.Negatives {
		b.Negatives[i].Split = splitOf("neg/" + b.Negatives[i].Key())
		b.Negatives[i].Probe = isProbe("neg/" + knowledge.Fold(b.Negatives[i].Q))
	}
	for i := range b.Dialogues {
		key := ""
		for _, t := range b.Dialogues[i].Turns {
			if t.Expect != nil && len(*t.Expect) > 0 {
				key = find((*t.Expect)[0])
				break
			}
		}
		if key == "" {
			key = "dlg/" + knowledge.Fold(b.Dialogues[i].Turns[0].Q)
		}
		b.Dialogues[i].Split = splitOf(key)
	}
	for i := range b.Stories {
		key := "story/" + knowledge.Fold(b.Stories[i].Q)
		if len(b.Stories[i].Expect) > 0 {
			key = find(b.Stories[i].Expect[0])
		}
		b.Stories[i].Family = key
		b.Stories[i].Split = splitOf(key)
	}
}

// expandStories adds to each story's expected codes the accept lists of the entries it names, so that the same
// procedure at another level is right too.
func (b *Bank) expandStories() {
	for i := range b.Stories {
		st := &b.Stories[i]
		for _, c := range slices.Clone(st.Expect) {
			e, ok := b.Entry(c)
			if !ok {
				continue
			}
			for _, a := range e.Accept {
				if !slices.Contains(st.Expect, a) {
					st.Expect = append(st.Expect, a)
				}
			}
		}
	}
}

// Version identifies the bank's content.
func (b *Bank) Version() string { return b.version }

// Entry returns the entry of a code.
func (b *Bank) Entry(code string) (Entry, bool) {
	i, ok := b.byCode[code]
	if !ok {
		return Entry{}, false
	}
	return b.Entries[i], true
}

// SplitOfCode is the split of the family a code belongs to ("" when the bank has no entry naming it).
func (b *Bank) SplitOfCode(code string) Split {
	if e, ok := b.Entry(code); ok {
		return e.Split
	}
	for _, e := range b.Entries {
		if slices.Contains(e.Accept, code) {
			return e.Split
		}
	}
	return ""
}

// Phrasebook returns the phrasings to index: every entry's aliases and its questions, except the probes of
// the excluded splits and the questions that nearly repeat one of those probes (the same words but for
// diacritics or a particle). Service indexes everything; evaluating a split excludes it (and the test split,
// which no choice may see), so that its probes are asked as new phrasings.
func (b *Bank) Phrasebook(exclude ...Split) *Phrasebook {
	names := make([]string, 0, len(exclude))
	for _, s := range exclude {
		names = append(names, string(s))
	}
	sort.Strings(names)
	id := b.version
	if len(names) > 0 {
		id += "-without-" + strings.Join(names, "-")
	}
	return b.PhrasebookWhere(id, func(e Entry) bool { return slices.Contains(exclude, e.Split) })
}

// PhrasebookWhere returns the phrasings of every entry: its aliases and questions, leaving out the probes of
// the entries held(e) selects and the questions that nearly repeat them.
func (b *Bank) PhrasebookWhere(id string, held func(Entry) bool) *Phrasebook {
	pb := &Phrasebook{m: map[string][]string{}, id: id}
	for _, e := range b.Entries {
		out := slices.Clone(e.Aliases)
		var probes [][]string
		if held(e) {
			for _, q := range e.Questions {
				if q.Probe {
					probes = append(probes, knowledge.Syllables(q.Q))
				}
			}
		}
		for _, q := range e.Questions {
			if len(probes) > 0 && (q.Probe || nearRepeat(knowledge.Syllables(q.Q), probes)) {
				continue
			}
			out = append(out, q.Q)
		}
		if len(out) > maxPhrasingsPerDoc {
			out = out[:maxPhrasingsPerDoc]
		}
		pb.m[e.Code] = out
		pb.codes = append(pb.codes, e.Code)
	}
	return pb
}

// nearRepeatShare is the share of shared distinct syllables (Jaccard) above which two questions are the same
// question written twice.
const nearRepeatShare = 0.6

func nearRepeat(q []string, others [][]string) bool {
	for _, o := range others {
		if jaccard(q, o) >= nearRepeatShare {
			return true
		}
	}
	return false
}

func jaccard(a, b []string) float64 {
	in := map[string]int{}
	for _, x := range a {
		in[x] |= 1
	}
	for _, x := range b {
		in[x] |= 2
	}
	both := 0
	for _, v := range in {
		if v == 3 {
			both++
		}
	}
	if len(in) == 0 {
		return 0
	}
	return float64(both) / float64(len(in))
}

// NegativesWhere returns the texts of the negatives for which keep is true, with their kinds (the first tag:
// out-of-catalog, unlawful, political, injection, offtopic, chitchat).
func (b *Bank) NegativesWhere(keep func(Negative) bool) (texts, kinds []string) {
	for _, n := range b.Negatives {
		if keep(n) {
			kind := ""
			if len(n.Tags) > 0 {
				kind = n.Tags[0]
			}
			texts, kinds = append(texts, n.Q), append(kinds, kind)
		}
	}
	return texts, kinds
}

// Fold assigns a family (or negative group) to one of k folds for cross-fitting within a split.
func Fold(key string, k int) int {
	h := fnv.New32a()
	h.Write([]byte("trolyao-bank-fold/" + key))
	return int(h.Sum32() % uint32(k))
}

// NegativeKey is the key a negative's split and fold are drawn from.
func (n Negative) Key() string {
	if n.Group != "" {
		return n.Group
	}
	return knowledge.Fold(n.Q)
}

// Phrasebook is a knowledge.Phrasebook over the bank.
type Phrasebook struct {
	m     map[string][]string
	codes []string
	id    string
}

// Texts returns every phrasing with the code it belongs to, for an in-memory index of phrasings.
func (p *Phrasebook) Texts() (texts, codes []string) {
	for _, c := range p.codes {
		for _, t := range p.m[c] {
			texts = append(texts, t)
			codes = append(codes, c)
		}
	}
	return texts, codes
}

var _ knowledge.Phrasebook = (*Phrasebook)(nil)

// Phrasings returns the phrasings of a code (shared; do not modify).
func (p *Phrasebook) Phrasings(code string) []string {
	if p == nil {
		return nil
	}
	return p.m[code]
}

// ID identifies the bank version and the excluded splits.
func (p *Phrasebook) ID() string {
	if p == nil {
		return ""
	}
	return p.id
}
