package eval

import (
	"slices"

	"github.com/trolyao/trolyao/knowledge/bank"
)

// FromBank returns the cases of one split of the question bank: the probe questions of the split's procedure
// families (tagged "bank" and with their own tags), its probe negatives (tagged "negative", expecting no
// citation) and its dialogues (tagged "multi-turn"). Run them over a catalog indexed with
// Bank.Phrasebook(split, …), which leaves those probes out.
func FromBank(b *bank.Bank, split bank.Split) []Case {
	var out []Case
	line := 0
	for _, e := range b.Entries {
		if e.Split != split {
			continue
		}
		for _, q := range e.Questions {
			if !q.Probe {
				continue
			}
			line++
			exp := slices.Clone(e.Accept)
			for _, a := range q.Accept {
				if !slices.Contains(exp, a) {
					exp = append(exp, a)
				}
			}
			out = append(out, Case{Turn: Turn{Q: q.Q, Expect: &exp}, Tags: append([]string{"bank"}, q.Tags...), Line: line})
		}
	}
	for _, n := range b.Negatives {
		if n.Split != split || !n.Probe {
			continue
		}
		line++
		none := []string{}
		out = append(out, Case{Turn: Turn{Q: n.Q, Expect: &none}, Tags: append([]string{"negative"}, n.Tags...), Line: line})
	}
	for _, d := range b.Dialogues {
		if d.Split != split {
			continue
		}
		line++
		c := Case{Tags: append([]string{"multi-turn"}, d.Tags...), Line: line}
		for _, t := range d.Turns {
			c.Turns = append(c.Turns, Turn{Q: t.Q, Expect: t.Expect, Facts: t.Facts})
		}
		out = append(out, c)
	}
	for _, st := range b.Stories {
		if st.Split != split {
			continue
		}
		line++
		exp := slices.Clone(st.Expect)
		tags := append([]string{"story"}, st.Tags...)
		if len(exp) == 0 && !slices.Contains(tags, "negative") {
			tags = append([]string{"negative"}, tags...)
		}
		out = append(out, Case{Turn: Turn{Q: st.Q, Expect: &exp}, Tags: tags, Line: line})
	}
	return out
}
