package assistant

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/trolyao/trolyao/knowledge"
)

// A person's age in a message ("tôi năm nay 34 tuổi", "bé 4 tuổi", "ba em 82 tuoi") is context, not the topic: its
// words would match the few procedures whose names carry an age ("Cấp thẻ căn cước cho người dưới 14 tuổi",
// "… trẻ em dưới 6 tuổi") whatever the citizen asks. withoutAges takes the ages out of what is searched; an
// age still picks the variant of a procedure whose siblings differ by an age limit (preferAgeVariant). A limit
// the citizen states ("dưới 14 tuổi", "từ đủ 14 tuổi trở lên", "trên 80 tuổi") is not an age and stays.

// statedAge is an age in a message: a number of 1–3 digits followed by "tuổi" (with or without diacritics),
// and the word before it, to tell an age from a limit.
var statedAge = regexp.MustCompile(`(?i)(\p{L}*)\s*\b(\d{1,3})\s*(?:tuổi|tuoi)\b`)

// ageLimitWords are the words that make "N tuổi" a limit rather than someone's age.
var ageLimitWords = map[string]bool{"duoi": true, "tren": true, "du": true, "tu": true, "qua": true, "den": true}

// withoutAges returns text without the ages it states, and those ages. A text that is nothing but an age is
// returned as it is.
func withoutAges(text string) (string, []int) {
	var ages []int
	out := statedAge.ReplaceAllStringFunc(text, func(m string) string {
		sub := statedAge.FindStringSubmatch(m)
		if ageLimitWords[knowledge.Fold(sub[1])] {
			return m
		}
		n, err := strconv.Atoi(sub[2])
		if err != nil || n > 130 {
			return m
		}
		ages = append(ages, n)
		return sub[1] + " "
	})
	if len(ages) == 0 || strings.TrimSpace(out) == "" {
		return text, nil
	}
	return out, ages
}

// nameAgeLimit is an age limit in a procedure's name: "dưới 14 tuổi" (under), "từ đủ 14 tuổi" (at least).
var nameAgeLimit = regexp.MustCompile(`(?i)(dưới|từ đủ|đủ|trên)\s+(\d{1,3})\s+tuổi`)

// ageFits reports whether a procedure's name has an age limit and whether every age of ages satisfies it.
func ageFits(name string, ages []int) (limited, fits bool) {
	m := nameAgeLimit.FindStringSubmatch(name)
	if m == nil {
		return false, false
	}
	limit, _ := strconv.Atoi(m[2])
	under := strings.EqualFold(m[1], "dưới")
	for _, a := range ages {
		if under != (a < limit) {
			return true, false
		}
	}
	return true, true
}

// ageRank is how deep in the ranking a procedure whose age limit the stated ages satisfy may be brought to the
// front.
const ageRank = 5

// preferAgeVariant brings to the front, among the first ageRank hits, the procedure whose name's age limit the
// stated ages satisfy ("làm căn cước cho con 6 tuổi" → "… cho người dưới 14 tuổi") when the best one is its
// sibling and the citizen said none of the words that set the best one apart ("đổi căn cước cho ba 82 tuổi"
// keeps "Cấp đổi thẻ căn cước"), or the best one has an age limit the ages do not satisfy. Ages on both sides of
// a limit ("tôi 34 tuổi, con 5 tuổi") pick nothing. Scores stay with the ranks.
func preferAgeVariant(hits []knowledge.Hit, ages []int, text string) []knowledge.Hit {
	if len(ages) == 0 || len(hits) < 2 {
		return hits
	}
	limited, fits := ageFits(hits[0].Name, ages)
	if limited && fits {
		return hits
	}
	best := nameWords(hits[0].Name)
	for i := 1; i < min(ageRank, len(hits)); i++ {
		if l, f := ageFits(hits[i].Name, ages); !l || !f {
			continue
		}
		other := nameWords(hits[i].Name)
		var common []string
		for w := range best {
			if other[w] {
				common = append(common, w)
			}
		}
		if len(common) < 2 || float64(len(common)) < siblingShare*float64(min(len(best), len(other))) {
			return hits
		}
		said := readClauses(text).about(common).without(common)
		if n, _ := said.count(diff(best, other)); n > 0 && !limited {
			return hits
		}
		return toFront(hits, i)
	}
	return hits
}
