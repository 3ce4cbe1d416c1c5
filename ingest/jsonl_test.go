package ingest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
)

func TestJSONLRoundTripReal(t *testing.T) {
	ps := readCrawl(t)
	var buf bytes.Buffer
	require.NoError(t, WriteJSONL(&buf, ps))
	first, _, _ := strings.Cut(buf.String(), "\n")
	assert.JSONEq(t, `{"format":"trolyao-procedures","version":1}`, first)
	assert.Equal(t, len(ps)+1, strings.Count(buf.String(), "\n"))

	back, problems, err := ReadJSONL(&buf, "crawl.jsonl")
	require.NoError(t, err)
	assert.Empty(t, problems)
	require.Equal(t, len(ps), len(back))
	for i := range ps {
		if !assert.Equal(t, ps[i], back[i]) {
			break
		}
	}
}

func TestJSONLRoundTripHandWritten(t *testing.T) {
	ps := []knowledge.Procedure{
		{Code: "9.000001", Name: "Thủ tục <thử> & \"nghiệm\"", Levels: []knowledge.Level{knowledge.LevelCommune},
			Channels: []knowledge.Channel{{Kind: knowledge.ChannelOnline, Time: knowledge.Duration{Value: 0.5, Unit: "ngày", Text: "0,5 Ngày"},
				Fees: []knowledge.Fee{{Amount: 135_000, Label: "Lệ phí (mỗi lần)"}}, Free: true, Note: "dòng 1\ndòng 2", Text: "Miễn phí(…)"}},
			Dossier:    []knowledge.DossierItem{{Name: "Tờ khai", Form: "Mẫu CT01.docx", Originals: 1, Copies: 2, Group: "Giấy tờ phải nộp"}},
			Legal:      []knowledge.LegalDoc{{Title: "Luật Cư trú", Number: "68/2020/QH14"}},
			Aliases:    []string{"tam tru"},
			LocalNotes: "Nộp tại 43 Nguyễn Văn Bá",
			SourceDate: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)},
		{Code: "9.000002", Name: "Tối giản"},
	}
	var buf bytes.Buffer
	require.NoError(t, WriteJSONL(&buf, ps))
	assert.Contains(t, buf.String(), `<thử> &`, "no HTML escaping, the file stays readable")
	back, problems, err := ReadJSONL(&buf, "x.jsonl")
	require.NoError(t, err)
	assert.Empty(t, problems)
	assert.Equal(t, ps, back)

	// Writing refuses what reading would reject.
	err = WriteJSONL(&bytes.Buffer{}, []knowledge.Procedure{{Code: "9.1"}})
	require.Error(t, err)
	assert.True(t, errors.Is(err, knowledge.ErrInvalid))
}

func TestReadJSONLFile(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "jsonl", "catalog.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	ps, problems, err := ReadJSONL(f, "catalog.jsonl")
	require.NoError(t, err)
	require.Len(t, ps, 2)
	assert.Equal(t, "9.000001", ps[0].Code, "sorted by code")
	assert.Equal(t, []int64{20_000}, amounts(ps[0].Channels[0]))
	assert.Equal(t, PortalCrawlDate, ps[0].SourceDate)
	require.Len(t, problems, 1)
	assert.Equal(t, Problem{File: "catalog.jsonl:4", Field: "json", Reason: problems[0].Reason}, problems[0])
	assert.Contains(t, problems[0].Reason, "unknown field")
}

func TestReadJSONLProblems(t *testing.T) {
	header := `{"format":"trolyao-procedures","version":1}` + "\n"
	long := `{"code":"9.000009","name":"` + strings.Repeat("a", knowledge.MaxRecordBytes) + `"}`
	longField := `{"code":"9.000008","name":"` + strings.Repeat("ă", knowledge.MaxFieldRunes+1) + `"}`
	tests := []struct {
		name  string
		lines []string
		codes []string
		field []string // fields of the problems, in order
	}{
		{"blank lines and CRLF", []string{"", `{"code":"1","name":"A"}` + "\r", "  ", `{"code":"2","name":"B"}`}, []string{"1", "2"}, nil},
		{"missing code and name", []string{`{"name":"A"}`, `{"code":"3"}`, `{"code":"4","name":"D"}`}, []string{"4"}, []string{"code", "name"}},
		{"duplicate code", []string{`{"code":"5","name":"A"}`, `{"code":"5","name":"B"}`}, []string{"5"}, []string{"code"}},
		{"not JSON", []string{`{"code":`, `[1,2]`, `{"code":"6","name":"F"} {"code":"7"}`}, nil, []string{"json", "json", "json"}},
		{"line too long", []string{long, `{"code":"8","name":"H"}`}, []string{"8"}, []string{"size"}},
		{"field too long", []string{longField}, nil, []string{"name"}},
		{"too many dossier items", []string{`{"code":"9","name":"I","dossier":[` +
			strings.TrimSuffix(strings.Repeat(`{"name":"x","originals":1,"copies":0},`, knowledge.MaxDossierItems+1), ",") + `]}`},
			nil, []string{"dossier"}},
		{"no final newline", []string{`{"code":"10","name":"J"}`}, []string{"10"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := header + strings.Join(tt.lines, "\n")
			ps, problems, err := ReadJSONL(strings.NewReader(in), "t.jsonl")
			require.NoError(t, err)
			var codes []string
			for _, p := range ps {
				codes = append(codes, p.Code)
			}
			assert.Equal(t, tt.codes, codes)
			var fields []string
			for _, p := range problems {
				fields = append(fields, p.Field)
				assert.True(t, strings.HasPrefix(p.File, "t.jsonl:"), p.File)
			}
			assert.Equal(t, tt.field, fields)
		})
	}
}

func TestReadJSONLHeader(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          "",
		"only blanks":    "\n\n",
		"no header":      `{"code":"1","name":"A"}` + "\n",
		"other format":   `{"format":"something-else","version":1}` + "\n",
		"future version": `{"format":"trolyao-procedures","version":2}` + "\n",
		"not JSON":       "code,name\n1,A\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := ReadJSONL(strings.NewReader(in), "h.jsonl")
			require.Error(t, err)
			assert.True(t, errors.Is(err, knowledge.ErrInvalid), err)
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadJSONLReadError(t *testing.T) {
	_, _, err := ReadJSONL(failingReader{}, "f.jsonl")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk on fire")
}

// TestJSONLDocExample keeps the example in docs/jsonl-format.md valid.
func TestJSONLDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "jsonl-format.md"))
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(doc), "## Example\n\n```\n")
	require.True(t, ok, "the example block")
	example, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	ps, problems, err := ReadJSONL(strings.NewReader(example), "jsonl-format.md")
	require.NoError(t, err)
	assert.Empty(t, problems)
	require.Len(t, ps, 2)

	// The first procedure is what the portal parser makes of testdata/portal/bo-thu-nghiem/9.000001.json
	// (apart from the shortened fee_text and the fields left out).
	data, err := os.ReadFile(filepath.Join("testdata", "portal", "bo-thu-nghiem", "9.000001.json"))
	require.NoError(t, err)
	p, err := ParsePortalRecord(data, "9.000001.json", "bo-thu-nghiem")
	require.NoError(t, err)
	assert.Equal(t, p.Channels[0].Fees, ps[0].Channels[0].Fees)
	assert.Equal(t, p.Channels[0].Note, ps[0].Channels[0].Note)
	assert.Equal(t, p.Channels[1], ps[0].Channels[1])
	assert.Equal(t, p.Dossier[:2], ps[0].Dossier)
	assert.Equal(t, p.Steps, ps[0].Steps)
}
