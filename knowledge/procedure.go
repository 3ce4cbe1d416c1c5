// Package knowledge holds the domain of the assistant: administrative procedures, service centres,
// conversations, Vietnamese text handling and retrieval. It depends on the standard library and
// golang.org/x/text only; the gazetteer of administrative units is knowledge/units, storage backends live in
// subpackages (knowledge/embedded, knowledge/postgres) and drivers never appear here.
package knowledge

import (
	"errors"
	"slices"
	"syscall"
	"time"
)

// Sentinel errors. Callers test them with errors.Is; channels translate them into Vietnamese for the user.
var (
	ErrNotFound     = errors.New("not found")
	ErrInvalid      = errors.New("invalid input")
	ErrQueryTooLong = errors.New("query too long")
)

// StorageFull reports whether err is a write the system refused for want of room: the disk or the quota is
// full (ENOSPC, EDQUOT), or the file would pass the size the process may write (EFBIG). Nothing of such a
// write is stored; the channels tell the user so in Vietnamese and log it, and the write succeeds again once
// room is made.
func StorageFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG)
}

// Limits that every input path enforces.
const (
	MaxQueryRunes   = 500     // a citizen's question
	MaxRecordBytes  = 1 << 20 // one source record (a crawled JSON file, a JSONL line)
	MaxFieldRunes   = 100_000 // one text field of a procedure
	MaxDossierItems = 300
	MaxSearchK      = 50
)

// Level is the administrative level that handles a procedure.
type Level string

const (
	LevelCentral  Level = "trung-uong" // Cấp bộ
	LevelProvince Level = "tinh"       // Cấp tỉnh
	LevelCommune  Level = "xa"         // Cấp xã
	LevelOther    Level = "khac"       // Cơ quan khác
)

// ChannelKind is a way of filing a dossier.
type ChannelKind string

const (
	ChannelInPerson ChannelKind = "truc-tiep"  // Trực tiếp
	ChannelOnline   ChannelKind = "truc-tuyen" // Trực tuyến
	ChannelPostal   ChannelKind = "buu-chinh"  // Dịch vụ bưu chính
)

// Duration is a processing time as the catalog states it: an amount and a unit.
type Duration struct {
	Value float64 `json:"value"`          // 0 with Unit "" means not stated
	Unit  string  `json:"unit,omitempty"` // "ngày làm việc", "ngày", "giờ", "tháng", … or "" when the source gives a bare number
	Text  string  `json:"text,omitempty"` // the original text, e.g. "7 Ngày làm việc"
}

// Fee is one amount in Vietnamese đồng.
type Fee struct {
	Amount int64  `json:"amount"`          // VND
	Label  string `json:"label,omitempty"` // what it is for, e.g. "Lệ phí", "Phí" or the description around the amount
}

// Channel is one row of the "cách thức thực hiện" table.
type Channel struct {
	Kind  ChannelKind `json:"kind"`
	Time  Duration    `json:"time"`
	Fees  []Fee       `json:"fees,omitempty"`
	Free  bool        `json:"free,omitempty"`     // the record says "Miễn phí" / no fee
	FeeNA bool        `json:"fee_na,omitempty"`   // the record says "Không có thông tin"
	Note  string      `json:"note,omitempty"`     // description: reductions, conditions, the raw fee text
	Text  string      `json:"fee_text,omitempty"` // the raw fee cell
}

// DossierItem is one document of the dossier (thành phần hồ sơ).
type DossierItem struct {
	Name      string `json:"name"`
	Form      string `json:"form,omitempty"`  // template/form name (mẫu đơn, tờ khai), if any
	Originals int    `json:"originals"`       // bản chính
	Copies    int    `json:"copies"`          // bản sao
	Group     string `json:"group,omitempty"` // the condition or heading it belongs to ("Giấy tờ phải xuất trình", "Trường hợp …")
}

// LegalDoc is one entry of the legal basis (căn cứ pháp lý).
type LegalDoc struct {
	Title  string `json:"title"`
	Number string `json:"number,omitempty"` // e.g. "123/2015/NĐ-CP"
}

// Procedure is one administrative procedure (thủ tục hành chính) in structured form.
type Procedure struct {
	Code         string        `json:"code"` // mã thủ tục, e.g. "1.001193"
	Name         string        `json:"name"`
	Levels       []Level       `json:"levels,omitempty"`
	Field        string        `json:"field,omitempty"`    // lĩnh vực
	Kind         string        `json:"kind,omitempty"`     // loại thủ tục
	Decision     string        `json:"decision,omitempty"` // số quyết định công bố
	Ministry     string        `json:"ministry,omitempty"` // folder of the crawl, e.g. "bo-tu-phap"
	Agencies     []string      `json:"agencies,omitempty"` // cơ quan thực hiện / có thẩm quyền
	Address      string        `json:"address,omitempty"`  // địa chỉ tiếp nhận
	Subjects     []string      `json:"subjects,omitempty"` // đối tượng thực hiện
	Channels     []Channel     `json:"channels,omitempty"`
	Dossier      []DossierItem `json:"dossier,omitempty"`
	Steps        []string      `json:"steps,omitempty"`
	Requirements string        `json:"requirements,omitempty"`
	Result       string        `json:"result,omitempty"`
	Legal        []LegalDoc    `json:"legal,omitempty"`
	Related      string        `json:"related,omitempty"`
	URL          string        `json:"url,omitempty"`
	Aliases      []string      `json:"aliases,omitempty"` // extra phrasings staff add so retrieval finds it
	LocalNotes   string        `json:"local_notes,omitempty"`
	Source       string        `json:"source,omitempty"` // e.g. "dvcqg-2026"
	SourceDate   time.Time     `json:"source_date,omitzero"`
	// Attribution is set when staff published the record: answers then cite them, with the date, before the
	// catalog source the record is based on. Zero for a record as the catalog ingest left it.
	Attribution Attribution `json:"attribution,omitzero"`
}

// Attribution says who published a record staff edited, for which unit, and when.
type Attribution struct {
	By   string    `json:"by"`             // the staff account, or "token:NAME" for an API token
	Unit string    `json:"unit,omitempty"` // the unit they publish for, e.g. "UBND phường Bàn Cờ"; "" if not set
	At   time.Time `json:"at"`             // when it was published
}

// Staff reports whether the record was published by staff (see Attribution).
func (p *Procedure) Staff() bool { return !p.Attribution.At.IsZero() }

// Clone returns a deep copy: changing its slices leaves p unchanged. Stores hand out clones, so that a caller
// editing a record (a staff draft, a test) cannot change the catalog they serve.
func (p Procedure) Clone() Procedure {
	p.Levels = slices.Clone(p.Levels)
	p.Agencies = slices.Clone(p.Agencies)
	p.Subjects = slices.Clone(p.Subjects)
	p.Channels = slices.Clone(p.Channels)
	for i := range p.Channels {
		p.Channels[i].Fees = slices.Clone(p.Channels[i].Fees)
	}
	p.Dossier = slices.Clone(p.Dossier)
	p.Steps = slices.Clone(p.Steps)
	p.Legal = slices.Clone(p.Legal)
	p.Aliases = slices.Clone(p.Aliases)
	return p
}

// HasLevel reports whether the procedure is handled at level l.
func (p *Procedure) HasLevel(l Level) bool {
	for _, x := range p.Levels {
		if x == l {
			return true
		}
	}
	return false
}

// Channel returns the channel of kind k, if the record has one.
func (p *Procedure) Channel(k ChannelKind) (Channel, bool) {
	for _, c := range p.Channels {
		if c.Kind == k {
			return c, true
		}
	}
	return Channel{}, false
}
