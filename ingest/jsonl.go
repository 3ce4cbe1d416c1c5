package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// Our normalized catalog format: JSON Lines whose first line is a header object and every other line one
// knowledge.Procedure. See docs/jsonl-format.md.
const (
	JSONLFormat  = "trolyao-procedures"
	JSONLVersion = 1
)

// jsonlHeader is the first line of a JSONL catalog.
type jsonlHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

// WriteJSONL writes ps in our normalized format: the header line, then one procedure per line, in the given
// order. It refuses procedures that ReadJSONL would reject, so what it writes always reads back.
func WriteJSONL(w io.Writer, ps []knowledge.Procedure) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jsonlHeader{Format: JSONLFormat, Version: JSONLVersion}); err != nil {
		return fmt.Errorf("ingest: write jsonl: %w", err)
	}
	for i := range ps {
		if err := validateProcedure(&ps[i]); err != nil {
			return fmt.Errorf("ingest: write jsonl: procedure %d (%s): %w", i, ps[i].Code, err)
		}
		var line bytes.Buffer
		e := json.NewEncoder(&line)
		e.SetEscapeHTML(false)
		if err := e.Encode(&ps[i]); err != nil {
			return fmt.Errorf("ingest: write jsonl: procedure %s: %w", ps[i].Code, err)
		}
		if line.Len() > knowledge.MaxRecordBytes {
			return fmt.Errorf("ingest: write jsonl: procedure %s: %w", ps[i].Code,
				invalid("size", "record is %d bytes, more than the limit of %d", line.Len(), knowledge.MaxRecordBytes))
		}
		if _, err := bw.Write(line.Bytes()); err != nil {
			return fmt.Errorf("ingest: write jsonl: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("ingest: write jsonl: %w", err)
	}
	return nil
}

// ReadJSONL reads our normalized format from r; name names the source in problems ("catalog.jsonl:12").
// The first non-blank line must be the header {"format":"trolyao-procedures","version":1}; otherwise, or when
// reading fails, it returns an error. A line that is too long, is not a valid procedure (unknown fields
// included), breaks a limit or repeats an earlier code is reported as a problem and skipped. Procedures come
// back sorted by code.
func ReadJSONL(r io.Reader, name string) ([]knowledge.Procedure, []Problem, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		out      []knowledge.Procedure
		problems []Problem
		seen     = map[string]int{}
		header   bool
	)
	for n := 1; ; n++ {
		line, tooLong, err := readLine(br, knowledge.MaxRecordBytes)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, problems, fmt.Errorf("ingest: read jsonl %s: line %d: %w", name, n, err)
		}
		at := fmt.Sprintf("%s:%d", name, n)
		switch {
		case tooLong && !header:
			return nil, problems, fmt.Errorf("ingest: read jsonl %s: %w: the header line is longer than %d bytes", name, knowledge.ErrInvalid, knowledge.MaxRecordBytes)
		case tooLong:
			problems = append(problems, Problem{File: at, Field: "size", Reason: fmt.Sprintf("line longer than the limit of %d bytes", knowledge.MaxRecordBytes)})
		case len(bytes.TrimSpace(line)) == 0:
		case !header:
			if err := checkHeader(line); err != nil {
				return nil, problems, fmt.Errorf("ingest: read jsonl %s: %w", name, err)
			}
			header = true
		default:
			p, perr := decodeProcedure(line)
			if perr != nil {
				problems = append(problems, problemOf(at, perr))
				break
			}
			if first, dup := seen[p.Code]; dup {
				problems = append(problems, Problem{File: at, Field: "code",
					Reason: fmt.Sprintf("duplicate procedure code %s; kept line %d", p.Code, first)})
				break
			}
			seen[p.Code] = n
			out = append(out, p)
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if !header {
		return nil, problems, fmt.Errorf("ingest: read jsonl %s: %w: empty, no header line", name, knowledge.ErrInvalid)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, problems, nil
}

// readLine reads one line without its end of line. A line longer than limit is consumed and reported with
// tooLong and no data. err is io.EOF on the last line.
func readLine(br *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > limit+2 { // the line end itself ("\r\n") does not count
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil:
			return trimEOL(line), tooLong, err
		}
		line = trimEOL(line)
		if len(line) > limit {
			return nil, true, nil
		}
		return line, tooLong, nil
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

func checkHeader(line []byte) error {
	var h jsonlHeader
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&h); err != nil || h.Format != JSONLFormat {
		return fmt.Errorf("%w: the first line is not the header {\"format\":%q,\"version\":%d}", knowledge.ErrInvalid, JSONLFormat, JSONLVersion)
	}
	if h.Version < 1 || h.Version > JSONLVersion {
		return fmt.Errorf("%w: format version %d is not supported (this reader knows version %d)", knowledge.ErrInvalid, h.Version, JSONLVersion)
	}
	return nil
}

func decodeProcedure(line []byte) (knowledge.Procedure, error) {
	var p knowledge.Procedure
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return knowledge.Procedure{}, invalid("json", "%v", err)
	}
	if dec.More() {
		return knowledge.Procedure{}, invalid("json", "more than one value on the line")
	}
	if err := validateProcedure(&p); err != nil {
		return knowledge.Procedure{}, err
	}
	return p, nil
}

// validateProcedure checks what every catalog must satisfy: a usable code, a name, text fields within
// knowledge.MaxFieldRunes and at most knowledge.MaxDossierItems dossier items.
func validateProcedure(p *knowledge.Procedure) error {
	if p.Code == "" {
		return invalid("code", "missing procedure code")
	}
	if err := checkCode(p.Code); err != nil {
		return invalid("code", "%v", err)
	}
	if p.Name == "" {
		return invalid("name", "missing procedure name")
	}
	if len(p.Dossier) > knowledge.MaxDossierItems {
		return invalid("dossier", "%d items, more than the limit of %d", len(p.Dossier), knowledge.MaxDossierItems)
	}
	var bad string
	check := func(field, s string) {
		if bad == "" && (utf8.RuneCountInString(s) > knowledge.MaxFieldRunes || !utf8.ValidString(s)) {
			bad = field
		}
	}
	check("name", p.Name)
	check("field", p.Field)
	check("kind", p.Kind)
	check("decision", p.Decision)
	check("ministry", p.Ministry)
	check("address", p.Address)
	check("requirements", p.Requirements)
	check("result", p.Result)
	check("related", p.Related)
	check("url", p.URL)
	check("local_notes", p.LocalNotes)
	check("source", p.Source)
	check("attribution", p.Attribution.By)
	check("attribution", p.Attribution.Unit)
	for _, s := range p.Agencies {
		check("agencies", s)
	}
	for _, s := range p.Subjects {
		check("subjects", s)
	}
	for _, s := range p.Steps {
		check("steps", s)
	}
	for _, s := range p.Aliases {
		check("aliases", s)
	}
	for _, c := range p.Channels {
		check("channels", c.Note)
		check("channels", c.Text)
		check("channels", c.Time.Text)
		for _, f := range c.Fees {
			check("channels", f.Label)
		}
	}
	for _, d := range p.Dossier {
		check("dossier", d.Name)
		check("dossier", d.Form)
		check("dossier", d.Group)
	}
	for _, l := range p.Legal {
		check("legal", l.Title)
		check("legal", l.Number)
	}
	if bad != "" {
		return invalid(bad, "longer than %d characters or not valid UTF-8", knowledge.MaxFieldRunes)
	}
	return nil
}
