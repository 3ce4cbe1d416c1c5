package assistant

import (
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/units"
)

// ComposeAt is Compose for a citizen in the given current communes, whose centres come from c.
func ComposeAt(p *knowledge.Procedure, intents []Intent, communes []units.Unit, c *knowledge.Centres) string {
	a := &Assistant{Centres: c}
	return compose(p, intents, false, a.withCentres(place{units: communes}), "")
}

// CheckGroundingAnyField is CheckGrounding with payment instructions and account numbers grounded in any text
// field of the records, not only in their fee fields. The offline composer quotes a record's name, steps and
// requirements, which may speak of payments ("Chuyển tiền đóng BHYT", "thông tin số tài khoản/số hiệu ví điện
// tử"); it must still state nothing the record does not. The stricter rule is for the model's answers.
func CheckGroundingAnyField(text string, records []knowledge.Procedure) []string {
	g := newGrounder(records)
	for i := range records {
		for _, s := range recordTexts(&records[i]) {
			for _, f := range paymentFacts(s) {
				switch f.kind {
				case factPayment:
					g.payments[f.key] = true
				case factAccount:
					g.accounts[f.key] = true
				}
			}
		}
	}
	return g.check(text)
}
