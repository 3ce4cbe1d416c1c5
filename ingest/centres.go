package ingest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/trolyao/trolyao/knowledge"
)

// CentresFile is the list of Ho Chi Minh City's commune-level public administrative service centres, relative
// to the data folder (see data/README.md, centres/): one row per commune, from the city's Thông báo 243/TB-UBND
// with provenance columns.
const CentresFile = "centres/hcmc_168_centres.csv"

// maxCentresBytes bounds the centres file (the real one is about 200 KB).
const maxCentresBytes = 8 << 20

// LoadCentres reads the centres of CentresFile in dataDir. A missing file is an error wrapping fs.ErrNotExist,
// so that a caller can run without centres.
func LoadCentres(dataDir string) (*knowledge.Centres, error) {
	f, err := os.Open(filepath.Join(dataDir, CentresFile))
	if err != nil {
		return nil, fmt.Errorf("ingest: centres: %w", err)
	}
	defer f.Close()
	c, err := ReadCentres(f)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, filepath.Base(CentresFile))
	}
	return c, nil
}

// centreColumns are the columns ReadCentres needs.
var centreColumns = []string{"unit_code", "unit_name", "centre_name", "address", "address_precision", "phone",
	"confidence", "conflicts", "n_independent_corroborations"}

// ReadCentres parses a centres CSV (the columns of CentresFile, and `hours` (giờ làm việc) when the file has
// it; others are ignored) and validates it (see
// knowledge.NewCentres). The confidence of each centre is derived from the provenance columns: see
// centreConfidence. Errors name the line and wrap knowledge.ErrInvalid for bad content.
func ReadCentres(r io.Reader) (*knowledge.Centres, error) {
	lr := &io.LimitedReader{R: r, N: maxCentresBytes + 1}
	cr := csv.NewReader(lr)
	cr.FieldsPerRecord = 0 // every row as wide as the header
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("ingest: centres: header: %w", csvErr(err))
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, n := range centreColumns {
		if _, ok := col[n]; !ok {
			return nil, fmt.Errorf("ingest: centres: no column %q: %w", n, knowledge.ErrInvalid)
		}
	}
	var centres []knowledge.Centre
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if lr.N <= 0 {
			return nil, fmt.Errorf("ingest: centres: file larger than %d bytes: %w", maxCentresBytes, knowledge.ErrInvalid)
		}
		if err != nil {
			return nil, fmt.Errorf("ingest: centres: %w", csvErr(err))
		}
		line, _ := cr.FieldPos(0)
		if len(centres) == knowledge.MaxCentres {
			return nil, fmt.Errorf("ingest: centres: more than %d rows: %w", knowledge.MaxCentres, knowledge.ErrInvalid)
		}
		get := func(n string) string {
			if i, ok := col[n]; ok {
				return strings.TrimSpace(rec[i])
			}
			return "" // an optional column
		}
		conf, err := centreConfidence(get("confidence"), get("n_independent_corroborations"), get("conflicts"),
			get("address_precision"))
		if err != nil {
			return nil, fmt.Errorf("ingest: centres: line %d: %w", line, err)
		}
		centres = append(centres, knowledge.Centre{
			UnitCode:   get("unit_code"),
			UnitName:   get("unit_name"),
			Name:       get("centre_name"),
			Address:    get("address"),
			Precision:  get("address_precision"),
			Phone:      get("phone"),
			Hours:      get("hours"),
			Confidence: conf,
			Conflict:   get("conflicts") != "",
		})
	}
	if lr.N <= 0 {
		return nil, fmt.Errorf("ingest: centres: file larger than %d bytes: %w", maxCentresBytes, knowledge.ErrInvalid)
	}
	if len(centres) == 0 {
		return nil, fmt.Errorf("ingest: centres: no rows: %w", knowledge.ErrInvalid)
	}
	c, err := knowledge.NewCentres(centres)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return c, nil
}

// csvErr marks a malformed CSV (a stray quote, a short row) as invalid input; read errors pass as they are.
func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%w: %w", err, knowledge.ErrInvalid)
	}
	return err
}

// centreConfidence derives how far a centre's address was checked from the provenance columns (see
// data/README.md, centres/):
//   - the compiler's assessment (`confidence`: high, medium-high, medium, "medium (conflict noted)", low) sets
//     the ceiling; medium-high means a street or site confirmed by a report but not the house number, so it
//     counts as medium for citizens;
//   - a recorded conflict (another source gives another address) lowers high to medium;
//   - an address that is not to the house number is never high;
//   - with no assessment, two or more independent corroborations without conflict of a house-number address
//     make it high, a conflict with none makes it low, anything else is medium.
func centreConfidence(stated, corroborations, conflicts, precision string) (knowledge.Confidence, error) {
	n := 0
	if corroborations != "" {
		var err error
		if n, err = strconv.Atoi(corroborations); err != nil || n < 0 || n > 100 {
			return "", fmt.Errorf("n_independent_corroborations %q is not a small count: %w", clipValue(corroborations), knowledge.ErrInvalid)
		}
	}
	conflict := conflicts != ""
	var c knowledge.Confidence
	switch strings.ToLower(stated) {
	case "high":
		c = knowledge.ConfidenceHigh
	case "medium-high", "medium", "medium (conflict noted)":
		c = knowledge.ConfidenceMedium
	case "low":
		c = knowledge.ConfidenceLow
	case "":
		switch {
		case n >= 2 && !conflict:
			c = knowledge.ConfidenceHigh
		case n == 0 && conflict:
			c = knowledge.ConfidenceLow
		default:
			c = knowledge.ConfidenceMedium
		}
	default:
		return "", fmt.Errorf("unknown confidence %q: %w", clipValue(stated), knowledge.ErrInvalid)
	}
	if c == knowledge.ConfidenceHigh && (conflict || precision != knowledge.PrecisionHouse) {
		c = knowledge.ConfidenceMedium
	}
	return c, nil
}

// clipValue keeps a bad value short enough to quote in an error.
func clipValue(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
