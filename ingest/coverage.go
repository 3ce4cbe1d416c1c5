package ingest

import (
	"fmt"
	"strings"

	"github.com/trolyao/trolyao/knowledge"
)

// Coverage counts how much of a catalog was parsed into structure. Procedure counts say how many procedures
// have at least one of a thing; channel counts are over all channels.
type Coverage struct {
	Procedures int

	WithChannel  int // ≥ 1 channel
	WithFee      int // ≥ 1 channel with a parsed fee: an amount or "free"
	WithAmount   int // ≥ 1 channel with a fee amount
	WithFeeNA    int // every channel says "Không có thông tin" for the fee
	WithTime     int // ≥ 1 channel with a parsed time (a value > 0 with a unit)
	WithDossier  int // ≥ 1 dossier item
	WithForm     int // ≥ 1 dossier item with a form file
	WithLegal    int // ≥ 1 legal document
	WithNumbered int // ≥ 1 legal document with a number
	WithSteps    int // ≥ 1 step
	WithResult   int // a result
	WithLevel    int // ≥ 1 level

	Channels         int
	ChannelsWithFee  int // an amount or free
	ChannelsFeeNA    int // the fee is "Không có thông tin"
	ChannelsWithTime int // a value > 0 with a unit
	ChannelsBareTime int // a value with no unit (the portal's bare numbers)
	DossierItems     int
}

// Measure computes the coverage of ps.
func Measure(ps []knowledge.Procedure) Coverage {
	var c Coverage
	c.Procedures = len(ps)
	for i := range ps {
		p := &ps[i]
		var fee, amount, timed, allNA bool
		allNA = len(p.Channels) > 0
		for _, ch := range p.Channels {
			c.Channels++
			if len(ch.Fees) > 0 || ch.Free {
				c.ChannelsWithFee++
				fee = true
			}
			if len(ch.Fees) > 0 {
				amount = true
			}
			if ch.FeeNA {
				c.ChannelsFeeNA++
			} else {
				allNA = false
			}
			switch {
			case ch.Time.Value > 0 && ch.Time.Unit != "":
				c.ChannelsWithTime++
				timed = true
			case ch.Time.Value > 0:
				c.ChannelsBareTime++
			}
		}
		c.DossierItems += len(p.Dossier)
		countIf(&c.WithChannel, len(p.Channels) > 0)
		countIf(&c.WithFee, fee)
		countIf(&c.WithAmount, amount)
		countIf(&c.WithFeeNA, allNA)
		countIf(&c.WithTime, timed)
		countIf(&c.WithDossier, len(p.Dossier) > 0)
		countIf(&c.WithLegal, len(p.Legal) > 0)
		countIf(&c.WithSteps, len(p.Steps) > 0)
		countIf(&c.WithResult, p.Result != "")
		countIf(&c.WithLevel, len(p.Levels) > 0)
		form, numbered := false, false
		for _, d := range p.Dossier {
			form = form || d.Form != ""
		}
		for _, l := range p.Legal {
			numbered = numbered || l.Number != ""
		}
		countIf(&c.WithForm, form)
		countIf(&c.WithNumbered, numbered)
	}
	return c
}

func countIf(n *int, ok bool) {
	if ok {
		*n++
	}
}

// Share is n as a fraction of the procedures (0 for an empty catalog).
func (c Coverage) Share(n int) float64 {
	if c.Procedures == 0 {
		return 0
	}
	return float64(n) / float64(c.Procedures)
}

// String is a report, one measure per line.
func (c Coverage) String() string {
	var b strings.Builder
	pct := func(n, of int) string {
		if of == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
	}
	line := func(label string, n, of int) {
		fmt.Fprintf(&b, "  %-44s %6d  %6s\n", label, n, pct(n, of))
	}
	fmt.Fprintf(&b, "procedures: %d\n", c.Procedures)
	line("with ≥1 channel", c.WithChannel, c.Procedures)
	line("with a parsed fee (an amount or free)", c.WithFee, c.Procedures)
	line("with a fee amount", c.WithAmount, c.Procedures)
	line("with every fee \"Không có thông tin\"", c.WithFeeNA, c.Procedures)
	line("with a parsed time (value > 0 with a unit)", c.WithTime, c.Procedures)
	line("with ≥1 dossier item", c.WithDossier, c.Procedures)
	line("with ≥1 form file", c.WithForm, c.Procedures)
	line("with legal basis", c.WithLegal, c.Procedures)
	line("with a numbered legal document", c.WithNumbered, c.Procedures)
	line("with steps", c.WithSteps, c.Procedures)
	line("with a result", c.WithResult, c.Procedures)
	line("with a level", c.WithLevel, c.Procedures)
	fmt.Fprintf(&b, "channels: %d\n", c.Channels)
	line("with a parsed fee (an amount or free)", c.ChannelsWithFee, c.Channels)
	line("with fee \"Không có thông tin\"", c.ChannelsFeeNA, c.Channels)
	line("with a parsed time (value > 0 with a unit)", c.ChannelsWithTime, c.Channels)
	line("with a bare number for time (no unit)", c.ChannelsBareTime, c.Channels)
	fmt.Fprintf(&b, "dossier items: %d\n", c.DossierItems)
	return b.String()
}
