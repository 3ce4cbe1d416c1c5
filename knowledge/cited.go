package knowledge

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// Limits of CitationRanker.
const (
	MaxTopCited  = 100     // codes one TopCited call returns at most
	MaxCitedScan = 200_000 // messages a store that scans (knowledge/embedded) reads at most in one call
)

// CodeCount is a procedure and how many conversations were answered with it.
type CodeCount struct {
	Code  string `json:"code"`
	Count int    `json:"count"`
}

// CitationRanker is an optional capability of a Conversations store (every store in this repository has it):
// TopCited counts, for each procedure, the conversations with an assistant message at or after since that
// did not abstain and cited it first (Message.Codes[0], the procedure the answer is about), and returns the n
// most counted, most first, ties by code; n at most 0 or above MaxTopCited means MaxTopCited. A store that
// has to read the messages one by one reads the newest conversations first and stops after MaxCitedScan
// messages, so that a busy window costs a bounded time (its counts are then those of the newest part).
type CitationRanker interface {
	TopCited(ctx context.Context, since time.Time, n int) ([]CodeCount, error)
}

// TopCitedCap is the effective n of a TopCited call.
func TopCitedCap(n int) int {
	if n <= 0 || n > MaxTopCited {
		return MaxTopCited
	}
	return n
}

// CountCited, a rule every store applies, adds to counts one for each procedure that an assistant message of
// msgs (one conversation's) at or after since, not abstaining, cited first; a procedure counts once per
// conversation.
func CountCited(counts map[string]int, msgs []Message, since time.Time) {
	var seen []string
	for _, m := range msgs {
		if m.Role != RoleAssistant || m.Abstain || len(m.Codes) == 0 || m.At.Before(since) {
			continue
		}
		if code := m.Codes[0]; !slices.Contains(seen, code) {
			seen = append(seen, code)
			counts[code]++
		}
	}
}

// RankCited orders counts most first, ties by code, and keeps the first TopCitedCap(n).
func RankCited(counts map[string]int, n int) []CodeCount {
	out := make([]CodeCount, 0, len(counts))
	for code, k := range counts {
		out = append(out, CodeCount{Code: code, Count: k})
	}
	slices.SortFunc(out, func(a, b CodeCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Code, b.Code))
	})
	if n := TopCitedCap(n); len(out) > n {
		out = out[:n]
	}
	return out
}
