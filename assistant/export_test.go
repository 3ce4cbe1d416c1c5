package assistant

import "github.com/trolyao/trolyao/knowledge"

// ComposeAt is Compose for a citizen in the given current communes, whose centres come from c.
func ComposeAt(p *knowledge.Procedure, intents []Intent, units []knowledge.Unit, c *knowledge.Centres) string {
	a := &Assistant{Centres: c}
	return compose(p, intents, false, a.withCentres(place{units: units}))
}
