// Package eval runs labelled citizen questions through the assistant pipeline and scores the replies, per the
// contract in the shared eval README: retrieval hit@1/3/5 and MRR over the procedures a reply cites or offers,
// abstention accuracy, recall of fact strings in the reply text, latency per scored turn, and the same by tag.
// It imports the knowledge package and the standard library only.
package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/trolyao/trolyao/knowledge"
)

// Turn is one message of a case; only turns with Expect or Facts are scored.
type Turn struct {
	Q      string    `json:"q"`
	Expect *[]string `json:"expect,omitempty"`
	Facts  []string  `json:"facts,omitempty"`
}

// Case is one line of an eval file: a single question (Q) or a conversation (Turns).
type Case struct {
	Turn
	Turns []Turn   `json:"turns,omitempty"`
	Tags  []string `json:"tags,omitempty"`
	Line  int      `json:"-"`
}

// Reply is what the pipeline answered to one message.
type Reply struct {
	Text  string
	Codes []string // procedures cited or offered as options, in order
}

// Answerer is the pipeline under test: one conversation per id.
type Answerer interface {
	Answer(ctx context.Context, conversation, text string) (Reply, error)
}

// AnswerFunc adapts a function to Answerer.
type AnswerFunc func(ctx context.Context, conversation, text string) (Reply, error)

// Answer calls f.
func (f AnswerFunc) Answer(ctx context.Context, conversation, text string) (Reply, error) {
	return f(ctx, conversation, text)
}

// Limits on eval files.
const (
	maxLineBytes = 64 << 10
	maxCases     = 100_000
)

// Read parses an eval file (JSON Lines). Blank lines are skipped; a malformed line is an error naming it.
func Read(r io.Reader) ([]Case, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	var out []Case
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var c Case
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			return nil, fmt.Errorf("eval: line %d: %w", n, err)
		}
		if c.Q == "" && len(c.Turns) == 0 {
			return nil, fmt.Errorf("eval: line %d: neither q nor turns", n)
		}
		c.Line = n
		out = append(out, c)
		if len(out) > maxCases {
			return nil, fmt.Errorf("eval: more than %d cases", maxCases)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("eval: line %d: %w", n+1, err)
	}
	return out, nil
}

// Summary is the printed result.
type Summary struct {
	Cases     int                `json:"cases"`
	Retrieval RetrievalSummary   `json:"retrieval"`
	Abstain   AbstainSummary     `json:"abstain"`
	Facts     FactsSummary       `json:"facts"`
	Latency   LatencySummary     `json:"latency_ms"`
	ByTag     map[string]TagStat `json:"by_tag"`
}

type RetrievalSummary struct {
	N    int     `json:"n"`
	Hit1 float64 `json:"hit1"`
	Hit3 float64 `json:"hit3"`
	Hit5 float64 `json:"hit5"`
	MRR  float64 `json:"mrr"`
}

type AbstainSummary struct {
	N        int     `json:"n"`
	Accuracy float64 `json:"accuracy"`
}

type FactsSummary struct {
	N      int     `json:"n"`
	Recall float64 `json:"recall"`
}

type LatencySummary struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
}

// TagStat is the score of the turns of cases with one tag: retrieval turns (N) and abstain turns (AbstainN).
type TagStat struct {
	N        int     `json:"n"`
	Hit1     float64 `json:"hit1"`
	Hit5     float64 `json:"hit5"`
	AbstainN int     `json:"abstain_n,omitempty"`
	Abstain  float64 `json:"abstain,omitempty"`
}

// Outcome is the scored result of one turn, for per-case reports.
type Outcome struct {
	Line    int
	Q       string
	Expect  []string
	Got     []string
	Rank    int // 0 when not found in the first 5 (or for abstain cases)
	Abstain bool
	Correct bool
	Missing []string // facts not found
	Text    string
	Latency time.Duration
}

// Passed reports whether the turn met everything it was scored on: its procedure or abstention (when it
// expects one) and its facts.
func (o Outcome) Passed() bool {
	scored := o.Expect != nil || o.Abstain
	return (!scored || o.Correct) && len(o.Missing) == 0
}

// Run runs every case; each case is its own conversation.
func Run(ctx context.Context, a Answerer, cases []Case) (Summary, []Outcome, error) {
	t := &tally{s: Summary{Cases: len(cases), ByTag: map[string]TagStat{}}, tagN: map[string][5]int{}}
	for i, c := range cases {
		turns := c.Turns
		if len(turns) == 0 {
			turns = []Turn{c.Turn}
		}
		conv := fmt.Sprintf("eval-%d-%d", c.Line, i)
		for _, turn := range turns {
			start := time.Now()
			rep, err := a.Answer(ctx, conv, turn.Q)
			el := time.Since(start)
			if err != nil {
				return t.s, t.outs, fmt.Errorf("eval: line %d: %q: %w", c.Line, turn.Q, err)
			}
			if turn.Expect == nil && len(turn.Facts) == 0 {
				continue
			}
			t.add(c, turn, rep, el)
		}
	}
	return t.summary(), t.outs, nil
}

// tally adds up the scores of the turns run so far; s holds the counts until summary turns them into rates.
type tally struct {
	s        Summary
	outs     []Outcome
	lat      []float64
	rr       float64
	h1       int
	h3       int
	h5       int
	abstOK   int
	factsHit int
	tagN     map[string][5]int // n, hit1, hit5, abstain n, abstain right
}

// add scores one scored turn of case c: its procedure or abstention when it expects one, and its facts.
func (t *tally) add(c Case, turn Turn, rep Reply, el time.Duration) {
	t.lat = append(t.lat, float64(el.Microseconds())/1000)
	o := Outcome{Line: c.Line, Q: turn.Q, Got: rep.Codes, Text: rep.Text, Latency: el}
	if turn.Expect != nil {
		o.Expect = *turn.Expect
		if len(o.Expect) == 0 {
			t.addAbstain(&o, c.Tags)
		} else {
			t.addRetrieval(&o, c.Tags)
		}
	}
	text := FoldFact(rep.Text)
	for _, f := range turn.Facts {
		t.s.Facts.N++
		if strings.Contains(text, FoldFact(f)) {
			t.factsHit++
		} else {
			o.Missing = append(o.Missing, f)
		}
	}
	t.outs = append(t.outs, o)
}

// addAbstain scores a turn that expects no procedure: it is right when the reply cites or offers none.
func (t *tally) addAbstain(o *Outcome, tags []string) {
	t.s.Abstain.N++
	o.Abstain = true
	o.Correct = len(o.Got) == 0
	if o.Correct {
		t.abstOK++
	}
	for _, tag := range tags {
		v := t.tagN[tag]
		v[3]++
		if o.Correct {
			v[4]++
		}
		t.tagN[tag] = v
	}
}

// addRetrieval scores a turn that expects a procedure by the rank of the first acceptable one.
func (t *tally) addRetrieval(o *Outcome, tags []string) {
	t.s.Retrieval.N++
	o.Rank = rank(o.Expect, o.Got)
	o.Correct = o.Rank == 1
	if o.Rank > 0 {
		t.rr += 1 / float64(o.Rank)
	}
	if o.Rank == 1 {
		t.h1++
	}
	if o.Rank >= 1 && o.Rank <= 3 {
		t.h3++
	}
	if o.Rank >= 1 {
		t.h5++
	}
	for _, tag := range tags {
		v := t.tagN[tag]
		v[0]++
		if o.Rank == 1 {
			v[1]++
		}
		if o.Rank >= 1 {
			v[2]++
		}
		t.tagN[tag] = v
	}
}

// summary turns the counts into the rates of the summary.
func (t *tally) summary() Summary {
	s := t.s
	if n := float64(s.Retrieval.N); n > 0 {
		s.Retrieval.Hit1, s.Retrieval.Hit3, s.Retrieval.Hit5 = round(float64(t.h1)/n), round(float64(t.h3)/n), round(float64(t.h5)/n)
		s.Retrieval.MRR = round(t.rr / n)
	}
	if s.Abstain.N > 0 {
		s.Abstain.Accuracy = round(float64(t.abstOK) / float64(s.Abstain.N))
	}
	if s.Facts.N > 0 {
		s.Facts.Recall = round(float64(t.factsHit) / float64(s.Facts.N))
	}
	s.Latency.P50, s.Latency.P95 = round(percentile(t.lat, 0.50)), round(percentile(t.lat, 0.95))
	for tag, v := range t.tagN {
		st := TagStat{N: v[0], AbstainN: v[3]}
		if v[0] > 0 {
			st.Hit1, st.Hit5 = round(float64(v[1])/float64(v[0])), round(float64(v[2])/float64(v[0]))
		}
		if v[3] > 0 {
			st.Abstain = round(float64(v[4]) / float64(v[3]))
		}
		s.ByTag[tag] = st
	}
	return s
}

// rank is the 1-based position of the first acceptable code among the first five, or 0.
func rank(expect, got []string) int {
	for i, g := range got {
		if i >= 5 {
			break
		}
		for _, e := range expect {
			if g == e {
				return i + 1
			}
		}
	}
	return 0
}

var (
	numSep = regexp.MustCompile(`(\d)[.,](\d)`)
	spaces = regexp.MustCompile(`\s+`)
)

// FoldFact folds text for fact comparison: lowercase, diacritics removed (đ→d), separators inside numbers
// removed, white space collapsed.
func FoldFact(s string) string {
	f := knowledge.Fold(s)
	for numSep.MatchString(f) {
		f = numSep.ReplaceAllString(f, "$1$2")
	}
	return strings.TrimSpace(spaces.ReplaceAllString(f, " "))
}

func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func round(x float64) float64 { return math.Round(x*1000) / 1000 }
