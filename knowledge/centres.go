package knowledge

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Centre is where the citizens of one current commune (phường, xã, đặc khu) file commune-level dossiers in
// person: the commune's public administrative service centre (Trung tâm Phục vụ hành chính công), as the city
// announced it. The data is a seed compiled from public copies of the announcement, not the truth: Confidence
// says how far an address was checked, and answers say so when it is not high.
type Centre struct {
	UnitCode   string     `json:"unit_code"`           // the current commune's code (Unit.Code), e.g. "27154"
	UnitName   string     `json:"unit_name"`           // "Phường Bàn Cờ"
	Name       string     `json:"name"`                // "Trung tâm Phục vụ hành chính công phường Bàn Cờ"
	Address    string     `json:"address"`             // "611/20 Điện Biên Phủ (số cũ 611C), phường Bàn Cờ"
	Precision  string     `json:"precision,omitempty"` // PrecisionHouse, PrecisionStreet or PrecisionArea
	Phone      string     `json:"phone,omitempty"`
	Hours      string     `json:"hours,omitempty"` // giờ làm việc: "Thứ Hai – Thứ Sáu, 7:30–11:30, 13:00–17:00"
	Confidence Confidence `json:"confidence"`
	Conflict   bool       `json:"conflict,omitempty"` // some source gives another address
	// Checked is when staff last corrected the centre (zero: the seed as compiled).
	Checked time.Time `json:"checked,omitzero"`
}

// How precise an address is.
const (
	PrecisionHouse  = "house_number" // a house number and street
	PrecisionStreet = "street_only"  // a street without a number
	PrecisionArea   = "area_only"    // a khu phố, ấp or thôn only
)

// Confidence says how far a centre's address was checked.
type Confidence string

const (
	// ConfidenceHigh: the announcement's address as reproduced verbatim by a known publisher, or confirmed by an
	// independent report, to the house number, with no source disagreeing.
	ConfidenceHigh Confidence = "high"
	// ConfidenceMedium: the address as the announcement was transcribed, not checked further (or only partly).
	ConfidenceMedium Confidence = "medium"
	// ConfidenceLow: sources disagree or the address is doubtful; the citizen should check before going.
	ConfidenceLow Confidence = "low"
)

// Limits of the centres data, so that a broken or hostile file fails loudly instead of filling answers.
const (
	MaxCentres      = 5000 // all communes of the country would be 3,321
	MaxCentreField  = 300  // runes in a name or an address
	MaxCentreHours  = 200  // runes in the opening hours
	MaxCentrePhone  = 40   // bytes in a phone number (or two)
	maxCentreCodeLn = 10
)

// Centres is the centres of the communes, by commune code and by name. It is immutable and safe for concurrent
// use; a nil *Centres knows no centre.
type Centres struct {
	list   []Centre
	byCode map[string]int
	byName map[string][]int // folded full name ("phuong ban co") and folded name without the type word ("ban co")
}

// NewCentres validates centres and indexes them: each needs a numeric unit code (unique), a unit name, a centre
// name and an address, within MaxCentreField runes of valid UTF-8 (the hours within MaxCentreHours); a phone
// holds only digits, spaces and ".-+()"; Precision and Confidence are one of the known values. Text is
// normalised (see Normalize). Errors wrap ErrInvalid.
func NewCentres(centres []Centre) (*Centres, error) {
	if len(centres) > MaxCentres {
		return nil, fmt.Errorf("centres: %d centres, more than %d: %w", len(centres), MaxCentres, ErrInvalid)
	}
	c := &Centres{list: make([]Centre, 0, len(centres)), byCode: map[string]int{}, byName: map[string][]int{}}
	for _, x := range centres {
		x, err := prepareCentre(x)
		if err != nil {
			return nil, fmt.Errorf("centres: unit %q: %w", clipForError(x.UnitCode), err)
		}
		if _, dup := c.byCode[x.UnitCode]; dup {
			return nil, fmt.Errorf("centres: unit %s listed twice: %w", x.UnitCode, ErrInvalid)
		}
		i := len(c.list)
		c.list = append(c.list, x)
		c.byCode[x.UnitCode] = i
		full := Fold(x.UnitName)
		_, core := SplitUnitName(x.UnitName)
		for _, k := range []string{full, Fold(core)} {
			if k != "" && !contains(c.byName[k], i) {
				c.byName[k] = append(c.byName[k], i)
			}
		}
	}
	return c, nil
}

// prepareCentre normalises a centre's text and checks it.
func prepareCentre(x Centre) (Centre, error) {
	for _, v := range []string{x.UnitCode, x.UnitName, x.Name, x.Address, x.Phone, x.Hours} {
		if !utf8.ValidString(v) {
			return x, fmt.Errorf("not valid UTF-8: %w", ErrInvalid)
		}
	}
	x.UnitCode, x.UnitName = strings.TrimSpace(x.UnitCode), Normalize(strings.TrimSpace(x.UnitName))
	x.Name, x.Address = Normalize(strings.TrimSpace(x.Name)), Normalize(strings.TrimSpace(x.Address))
	x.Phone, x.Hours = strings.TrimSpace(x.Phone), Normalize(strings.TrimSpace(x.Hours))
	if !x.Checked.IsZero() {
		x.Checked = x.Checked.UTC()
	}
	return x, checkCentre(x)
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func checkCentre(x Centre) error {
	if x.UnitCode == "" || len(x.UnitCode) > maxCentreCodeLn || strings.Trim(x.UnitCode, "0123456789") != "" {
		return fmt.Errorf("unit code must be 1–%d digits: %w", maxCentreCodeLn, ErrInvalid)
	}
	for _, f := range []struct{ name, v string }{{"unit name", x.UnitName}, {"centre name", x.Name}, {"address", x.Address}} {
		switch {
		case f.v == "":
			return fmt.Errorf("%s is empty: %w", f.name, ErrInvalid)
		case utf8.RuneCountInString(f.v) > MaxCentreField:
			return fmt.Errorf("%s longer than %d characters: %w", f.name, MaxCentreField, ErrInvalid)
		}
	}
	if utf8.RuneCountInString(x.Hours) > MaxCentreHours {
		return fmt.Errorf("hours longer than %d characters: %w", MaxCentreHours, ErrInvalid)
	}
	if len(x.Phone) > MaxCentrePhone || strings.Trim(x.Phone, "0123456789 .-+()") != "" {
		return fmt.Errorf("phone %q is not a phone number: %w", clipForError(x.Phone), ErrInvalid)
	}
	switch x.Precision {
	case "", PrecisionHouse, PrecisionStreet, PrecisionArea:
	default:
		return fmt.Errorf("unknown address precision %q: %w", clipForError(x.Precision), ErrInvalid)
	}
	switch x.Confidence {
	case ConfidenceHigh, ConfidenceMedium, ConfidenceLow:
	default:
		return fmt.Errorf("unknown confidence %q: %w", clipForError(string(x.Confidence)), ErrInvalid)
	}
	return nil
}

// clipForError keeps a bad value short enough to quote in an error.
func clipForError(s string) string {
	if !utf8.ValidString(s) {
		return "(invalid UTF-8)"
	}
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// Len is the number of centres.
func (c *Centres) Len() int {
	if c == nil {
		return 0
	}
	return len(c.list)
}

// All returns the centres in the order they were given.
func (c *Centres) All() []Centre {
	if c == nil {
		return nil
	}
	return append([]Centre(nil), c.list...)
}

// ByCode returns the centre of the current commune with the given code.
func (c *Centres) ByCode(code string) (Centre, bool) {
	if c == nil {
		return Centre{}, false
	}
	i, ok := c.byCode[strings.TrimSpace(code)]
	if !ok {
		return Centre{}, false
	}
	return c.list[i], true
}

// ByName returns the centres of the communes named name, compared folded ("Phường Bàn Cờ", "phuong ban co",
// "Bàn Cờ"). Several communes may fold to one name ("Thanh An", "Thạnh An"): then the ones whose name matches
// with its diacritics come first, and all are returned when none does.
func (c *Centres) ByName(name string) []Centre {
	if c == nil || utf8.RuneCountInString(name) > MaxCentreField {
		return nil
	}
	name = Normalize(strings.TrimSpace(name))
	ids := c.byName[Fold(name)]
	if len(ids) == 0 {
		return nil
	}
	var exact, rest []Centre
	for _, i := range ids {
		x := c.list[i]
		_, core := SplitUnitName(x.UnitName)
		if strings.EqualFold(name, x.UnitName) || strings.EqualFold(name, core) {
			exact = append(exact, x)
		} else {
			rest = append(rest, x)
		}
	}
	if len(exact) > 0 {
		return exact
	}
	return rest
}

// Corrected returns the centres with staff corrections applied. Each fix names a unit of c by UnitCode and
// replaces the name, address, precision, phone and hours of its centre; the corrected centre has Confidence
// high and no Conflict (staff checked it), and Checked is the fix's. The unit's name stays c's. A fix for a
// unit c does not have (ErrNotFound), one listed twice or one NewCentres would refuse (ErrInvalid) is left out
// and reported in the returned error; the other fixes apply, so the result is never nil when c is not.
func (c *Centres) Corrected(fixes []Centre) (*Centres, error) {
	if c == nil {
		if len(fixes) == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("centres: %d corrections of no seed: %w", len(fixes), ErrNotFound)
	}
	out := &Centres{list: append([]Centre(nil), c.list...), byCode: c.byCode, byName: c.byName}
	var errs []error
	done := map[string]bool{}
	for _, f := range fixes {
		code := strings.TrimSpace(f.UnitCode)
		i, ok := c.byCode[code]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("centres: correction of unit %q: no such centre: %w", clipForError(code), ErrNotFound))
			continue
		case done[code]:
			errs = append(errs, fmt.Errorf("centres: unit %s corrected twice: %w", code, ErrInvalid))
			continue
		}
		done[code] = true
		x := c.list[i]
		x.Name, x.Address, x.Precision, x.Phone, x.Hours = f.Name, f.Address, f.Precision, f.Phone, f.Hours
		x.Confidence, x.Conflict, x.Checked = ConfidenceHigh, false, f.Checked
		x, err := prepareCentre(x)
		if err != nil {
			errs = append(errs, fmt.Errorf("centres: correction of unit %s: %w", code, err))
			continue
		}
		out.list[i] = x
	}
	return out, errors.Join(errs...)
}

// LiveCentres is the centres the assistant names: the seed (the centres file) with the staff corrections of
// the last Correct. Reading is safe for concurrent use and never waits; Correct swaps the whole index at once,
// so an answer sees all of one set of corrections or all of the next. A nil *LiveCentres knows no centre.
type LiveCentres struct {
	seed *Centres
	cur  atomic.Pointer[Centres]
}

// NewLiveCentres starts from seed, uncorrected (seed may be nil: no centre is known, and none can be corrected).
func NewLiveCentres(seed *Centres) *LiveCentres {
	l := &LiveCentres{seed: seed}
	l.cur.Store(seed)
	return l
}

// Seed is the centres as the file gives them.
func (l *LiveCentres) Seed() *Centres {
	if l == nil {
		return nil
	}
	return l.seed
}

// Current is the seed with the corrections of the last Correct.
func (l *LiveCentres) Current() *Centres {
	if l == nil {
		return nil
	}
	return l.cur.Load()
}

// ByCode returns the current centre of the commune with the given code.
func (l *LiveCentres) ByCode(code string) (Centre, bool) { return l.Current().ByCode(code) }

// Correct replaces the corrections in force with fixes (all of them: a unit left out is back to the seed); see
// Centres.Corrected for what a fix changes and for the error, which reports the fixes left out.
func (l *LiveCentres) Correct(fixes []Centre) error {
	if l == nil {
		return nil
	}
	c, err := l.seed.Corrected(fixes)
	l.cur.Store(c)
	return err
}
