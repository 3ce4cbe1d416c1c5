package assistant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// Most asked procedures: when neither staff nor the operator set the widget's starter questions, it offers
// questions about the procedures citizens were most often answered with recently (MostAsked), phrased from
// their catalog names (StarterQuestion).

// Defaults of MostAsked.
const (
	MostAskedWindow = 30 * 24 * time.Hour // the answers counted: those of the last 30 days
	MostAskedMin    = 20                  // answered conversations about the chosen procedures before they are trusted
	MostAskedCount  = 4                   // starter questions offered
	MostAskedEvery  = time.Hour           // how often Run counts again
)

// Limits of StarterQuestion: the question fits the widget's starter (100 characters) with room to spare.
const (
	maxStarterName = 60 // characters of the shortened procedure name
	starterSuffix  = " cần giấy tờ gì?"
)

// MostAsked computes the starter questions about the most asked procedures and hands them to Set.
type MostAsked struct {
	Ranker  knowledge.CitationRanker // the conversation store
	Catalog interface {              // the procedure catalog (a knowledge.Store)
		Get(ctx context.Context, code string) (knowledge.Procedure, error)
	}
	// Set receives the questions (a *widget.LiveStarters' SetMostAsked); nil when too few conversations were
	// answered to trust a ranking (the built-in questions then apply).
	Set    func(questions []string) error
	Logger *slog.Logger

	Window time.Duration    // 0: MostAskedWindow
	Min    int              // 0: MostAskedMin
	Count  int              // 0: MostAskedCount
	Now    func() time.Time // nil: time.Now
}

// Refresh counts the answers of the window, hands the questions to Set and returns them (nil: too few answers).
// The Count procedures cited first by the most conversations become questions, skipping those no longer in
// the catalog and those whose question would repeat another's; they are trusted when at least Min
// conversations were answered with them together.
func (m *MostAsked) Refresh(ctx context.Context) ([]string, error) {
	window, min, count, now := m.Window, m.Min, m.Count, m.Now
	if window <= 0 {
		window = MostAskedWindow
	}
	if min <= 0 {
		min = MostAskedMin
	}
	if count <= 0 {
		count = MostAskedCount
	}
	if now == nil {
		now = time.Now
	}
	top, err := m.Ranker.TopCited(ctx, now().Add(-window), 2*count) // room for codes left out
	if err != nil {
		return nil, fmt.Errorf("assistant: most asked: %w", err)
	}
	var qs, seen []string
	total := 0
	for _, cc := range top {
		if len(qs) == count {
			break
		}
		p, err := m.Catalog.Get(ctx, cc.Code)
		if errors.Is(err, knowledge.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("assistant: most asked: %w", err)
		}
		q := StarterQuestion(p.Name)
		if q == "" || slices.Contains(seen, knowledge.Fold(q)) {
			continue
		}
		seen = append(seen, knowledge.Fold(q))
		qs = append(qs, q)
		total += cc.Count
	}
	if total < min {
		qs = nil
	}
	if err := m.Set(qs); err != nil {
		return nil, fmt.Errorf("assistant: most asked: %w", err)
	}
	return qs, nil
}

// Run refreshes every every (0: MostAskedEvery) until ctx ends, logging what fails; call Refresh first for
// the questions at start.
func (m *MostAsked) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = MostAskedEvery
	}
	log := m.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
			log.Warn("most asked procedures", "err", err)
		}
	}
}

// StarterQuestion phrases a starter question about the procedure named name: its name shortened — without
// "Thủ tục", a parenthesis or a qualifying clause ("đối với …", "theo …"), cut at a comma or a word to at most
// 60 characters — followed by "cần giấy tờ gì?". It returns "" for an empty name.
func StarterQuestion(name string) string {
	s := trimName(knowledge.Normalize(name))
	if f := knowledge.Fold(s); strings.HasPrefix(f, "thu tuc ") {
		s = trimName(s[len(firstWords(s, 2)):])
	}
	for _, sep := range []string{" (", "; ", ": ", " - ", " đối với ", " thực hiện tại ", " thực hiện bằng "} {
		if i := strings.Index(s, sep); i >= 0 && utf8.RuneCountInString(s[:i]) >= 15 {
			s = trimName(s[:i])
		}
	}
	if utf8.RuneCountInString(s) > maxStarterName {
		cut := s[:runeOffset(s, maxStarterName)+1] // a boundary may start right at the limit
		best := -1
		for _, sep := range longNameBreaks {
			if i := strings.LastIndex(cut, sep); i > best && utf8.RuneCountInString(cut[:i]) >= 20 {
				best = i
			}
		}
		if best < 0 {
			best = strings.LastIndexByte(cut, ' ')
		}
		if best > 0 {
			cut = cut[:best]
		}
		s = trimName(cut)
		for { // a name does not end on a word that links to what was cut
			i := strings.LastIndexByte(s, ' ')
			if i < 0 || !danglingWords[strings.ToLower(s[i+1:])] {
				break
			}
			s = trimName(s[:i])
		}
	}
	if s == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:] + starterSuffix
}

// longNameBreaks are where a long name is best cut: the end of an item of a list or of its main clause.
var longNameBreaks = []string{", ", "/", " thuộc ", " trong trường hợp ", " trong ", " khi ", " để ", " tại ", " do ",
	" theo ", " của "}

// danglingWords are the words a shortened name must not end on.
var danglingWords = map[string]bool{"và": true, "của": true, "cho": true, "tại": true, "có": true, "hoặc": true,
	"các": true, "đối": true, "với": true, "theo": true, "trong": true, "ở": true, "để": true, "được": true,
	"từ": true, "về": true, "những": true, "là": true, "do": true, "bị": true, "vào": true, "khi": true}

func trimName(s string) string { return strings.Trim(s, " .,;:-–") }

// firstWords is the first n words of s with the space after them.
func firstWords(s string, n int) string {
	i := 0
	for ; n > 0; n-- {
		j := strings.IndexByte(s[i:], ' ')
		if j < 0 {
			return s
		}
		i += j + 1
	}
	return s[:i]
}

// runeOffset is the byte offset of the n-th rune of s (len(s) when s is shorter).
func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}
