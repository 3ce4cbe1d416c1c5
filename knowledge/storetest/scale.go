package storetest

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/trolyao/trolyao/knowledge"
)

// ScaleUp builds n procedures from real ones for scale benchmarks: the originals first, then synthetic ones
// whose name joins the first part of one real name with the last part of another (at word boundaries), with the
// field, result and levels of the first. Vocabulary, name lengths and term statistics stay those of the real
// catalog while every synthetic procedure is a distinct document, not a near-copy. Deterministic for a seed.
func ScaleUp(real []knowledge.Procedure, n int, seed uint64) []knowledge.Procedure {
	if len(real) == 0 || n <= 0 {
		return nil
	}
	words := make([][]string, len(real))
	for i := range real {
		words[i] = strings.Fields(real[i].Name)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5ca1e))
	out := make([]knowledge.Procedure, 0, n)
	for i := 0; len(out) < n; i++ {
		p := real[i%len(real)]
		if k := i / len(real); k > 0 {
			a, b := words[i%len(real)], words[rng.IntN(len(words))]
			head := a[:max(1, len(a)*(40+rng.IntN(30))/100)]
			tail := b[len(b)-max(1, len(b)*(30+rng.IntN(30))/100):]
			p.Code = fmt.Sprintf("s%d-%s", k, p.Code)
			p.Name = strings.Join(head, " ") + " " + strings.Join(tail, " ")
		}
		out = append(out, p)
	}
	return out
}
