package assistant_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/internal/realcatalog"
)

// TestContextInvariance adds one to three clauses of personal context (a place, family, a job, polite
// particles) to 240 questions of the bank and counts the answers whose decision or procedure changes. The
// target is 97%; the assertion holds the level measured today (docs/BENCHMARKS.md) so that a change that
// makes context matter more fails.
func TestContextInvariance(t *testing.T) {
	c := realcatalog.Load(t)
	r := assistant.ContextInvariance(t.Context(), c.Assistant(nil), c.Bank, 240)
	t.Logf("context invariance: %.3f of %d variants kept the decision and the procedure", r.Rate(), r.N)
	for _, e := range r.Examples {
		t.Log(e)
	}
	assert.Equal(t, 240, r.N)
	assert.GreaterOrEqual(t, r.Rate(), 0.88)
}
