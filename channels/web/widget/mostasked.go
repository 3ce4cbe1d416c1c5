package widget

import "slices"

// SetMostAsked makes qs, questions about the procedures most asked recently, the default when neither staff
// nor the operator set any; nil (or empty) goes back to DefaultStarters. Questions over the limits are
// refused, and the questions in force stay as they were.
func (l *LiveStarters) SetMostAsked(qs []string) error {
	if len(qs) == 0 {
		l.asked.Store(nil)
		return nil
	}
	if err := checkStarters(qs); err != nil {
		return err
	}
	qs = slices.Clone(qs)
	l.asked.Store(&qs)
	return nil
}
