package staff

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/knowledge"
)

// Composer composes the assistant's answer from a record, as citizens get it; *assistant.Assistant is one.
type Composer interface {
	Preview(ctx context.Context, p *knowledge.Procedure, question string) (assistant.Preview, error)
}

var _ Composer = (*assistant.Assistant)(nil)

func (s *Service) composer() Composer {
	if s.opt.Composer != nil {
		return s.opt.Composer
	}
	return &assistant.Assistant{}
}

// attribution is who publishes as actor, now: the account (or API token) and the account's unit.
func (s *Service) attribution(ctx context.Context, actor Actor) (knowledge.Attribution, error) {
	a := knowledge.Attribution{By: actor.Name(), At: s.now()}
	if actor.Token != "" || actor.Username == "" {
		return a, nil
	}
	u, err := s.opt.Repo.User(ctx, actor.Username)
	if err != nil && !errors.Is(err, knowledge.ErrNotFound) {
		return a, fmt.Errorf("staff: attribution: %w", err)
	}
	a.Unit = u.Unit
	return a, nil
}

// published is the record of code citizens get now; nil if there is none.
func (s *Service) published(ctx context.Context, code string) (*knowledge.Procedure, error) {
	p, err := s.opt.Store.Get(ctx, code)
	if errors.Is(err, knowledge.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &p, nil
}

// asPublished is the record publishing draft makes citizens see: attributed to a, with the portal's fee
// statements left out where staff changed the fee (dropStaleFees). Preview and publish both use it, so that
// the preview is the answer.
func asPublished(draft knowledge.Procedure, published *knowledge.Procedure, a knowledge.Attribution) knowledge.Procedure {
	p := draft.Clone()
	dropStaleFees(&p, published)
	p.Attribution = a
	return p
}

// dropStaleFees clears, in each channel of p whose fee staff changed (amounts, free, no information) from the
// published channel of the same kind but whose fee text and note they left as published, the fee text — the
// portal's raw fee cell — and every statement of a fee in the note (assistant.NoteWithoutFees): the portal's
// amounts and reductions ("bằng 50% mức thu nêu trên") would otherwise stand beside the new amount. The rest
// of the note stays. A fee text or note staff edited is theirs and kept.
func dropStaleFees(p *knowledge.Procedure, published *knowledge.Procedure) {
	if published == nil {
		return
	}
	for i := range p.Channels {
		c := &p.Channels[i]
		old, ok := published.Channel(c.Kind)
		if !ok || sameFee(*c, old) || c.Note != old.Note || c.Text != old.Text || c.Note == "" && c.Text == "" {
			continue
		}
		c.Note, c.Text = assistant.NoteWithoutFees(*c), ""
	}
}

// sameFee reports whether two channels state the same fee: the same amounts, free or not, stated or not.
func sameFee(a, b knowledge.Channel) bool {
	return a.Free == b.Free && a.FeeNA == b.FeeNA &&
		slices.EqualFunc(a.Fees, b.Fees, func(x, y knowledge.Fee) bool { return x.Amount == y.Amount })
}
