package ingest

import (
	"fmt"

	"github.com/trolyao/trolyao/knowledge"
)

// Problem is one source record that was skipped (or one part of it that was dropped), and why.
type Problem struct {
	File   string // the source file; with a line ("x.jsonl:12") or a cell ("x.xlsx", Field "Sheet!A12") when known
	Field  string // the offending field, e.g. "ma_thu_tuc", "ten_thu_tuc", "json", "size"; empty when not one field
	Reason string
}

func (p Problem) String() string {
	if p.Field == "" {
		return p.File + ": " + p.Reason
	}
	return p.File + ": " + p.Field + ": " + p.Reason
}

// FieldError says which field of a record made it invalid. It wraps knowledge.ErrInvalid, so callers can test
// errors.Is(err, knowledge.ErrInvalid) and errors.As(err, *FieldError) for the field.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return "invalid record: " + e.Reason
	}
	return fmt.Sprintf("invalid record: %s: %s", e.Field, e.Reason)
}

func (e *FieldError) Unwrap() error { return knowledge.ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
