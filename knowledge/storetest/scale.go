package storetest

import (
	"fmt"
	"math/rand/v2"

	"github.com/trolyao/trolyao/knowledge"
)

// ScaleUp builds n procedures from real ones for scale benchmarks: the originals first, then copies with a new
// code and two syllables drawn from the catalog's own name vocabulary appended to the name, so term statistics
// and name lengths stay realistic while every copy is a distinct document. Deterministic for a given seed.
func ScaleUp(real []knowledge.Procedure, n int, seed uint64) []knowledge.Procedure {
	if len(real) == 0 || n <= 0 {
		return nil
	}
	var vocab []string
	seen := map[string]bool{}
	for i := range real {
		for _, s := range knowledge.Syllables(real[i].Name) {
			if !seen[s] && !knowledge.IsProcedureCode(s) {
				seen[s] = true
				vocab = append(vocab, s)
			}
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x5ca1e))
	out := make([]knowledge.Procedure, 0, n)
	for i := 0; len(out) < n; i++ {
		p := real[i%len(real)]
		if k := i / len(real); k > 0 {
			p.Code = fmt.Sprintf("s%d-%s", k, p.Code)
			p.Name = fmt.Sprintf("%s %s %s", p.Name, vocab[rng.IntN(len(vocab))], vocab[rng.IntN(len(vocab))])
		}
		out = append(out, p)
	}
	return out
}
