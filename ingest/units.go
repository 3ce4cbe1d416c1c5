package ingest

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/units"
)

// Files of the administrative-unit reform data, relative to the data folder (see data/README.md, units/).
const (
	// All 34 provinces and 3,321 communes with codes, names and unit types, as of July 2026: the current state,
	// including changes after 1 July 2025 (Đồng Nai became a city, a few communes became wards, two codes
	// changed).
	UnitsCurrentFile = "units/vn-units-2026/full_json_generated_data_vn_units_2026-07-25.json"
	// Every (old commune, new commune) pair with the old district, one row per new commune for a split commune,
	// and the resolution. The only source that names the old district, so "Phường 4, Quận 3" is one unit.
	UnitsMappingFile = "units/dvhcvn-20250701/old_to_new_wards_all.csv"
	// New → old at the level of the resolutions; used for the districts that had no communes and became a
	// special zone (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn), which the CSV lacks.
	UnitsMergesFile = "units/dvhcvn-20250701/merges.json"
)

// unitsDistrictFixes repairs district names the mapping CSV gets wrong: its four rows for Huyện Kiên Hải
// (district code 912, Kiên Giang) carry the commune's name as the district's.
var unitsDistrictFixes = map[string]string{"912": "Huyện Kiên Hải"}

// LoadUnits reads the 2025 administrative-unit reform data from dataDir (the folder that contains units/) and
// builds the lookup. It takes about 50 ms.
func LoadUnits(dataDir string) (*units.Gazetteer, error) {
	var (
		wg                     sync.WaitGroup
		provinces              []units.Province
		communes               []units.Unit
		rows, extra            []unitsRow
		errCur, errMap, errMrg error
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		provinces, communes, errCur = readUnitsCurrent(filepath.Join(dataDir, UnitsCurrentFile))
	}()
	go func() { defer wg.Done(); rows, errMap = readUnitsMapping(filepath.Join(dataDir, UnitsMappingFile)) }()
	go func() { defer wg.Done(); extra, errMrg = readUnitsMerges(filepath.Join(dataDir, UnitsMergesFile)) }()
	wg.Wait()
	if err := errors.Join(errCur, errMap, errMrg); err != nil {
		return nil, err
	}
	mappings, err := unitsMappings(communes, rows, extra)
	if err != nil {
		return nil, err
	}
	u, err := units.New(provinces, communes, mappings)
	if err != nil {
		return nil, fmt.Errorf("ingest: units: %w", err)
	}
	return u, nil
}

// unitsRow is one old → new pair as the sources give it.
type unitsRow struct {
	old        units.OldUnit
	newCode    string
	newName    string
	newProv    string
	partial    bool
	resolution string
}

func readUnitsCurrent(path string) ([]units.Province, []units.Unit, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("ingest: units: %w", err)
	}
	var src []struct {
		Code      string
		FullName  string
		ShortType string `json:"AdministrativeUnitShortName"`
		Wards     []struct {
			Code         string
			FullName     string
			ProvinceCode string
			ShortType    string `json:"AdministrativeUnitShortName"`
		}
	}
	if err := json.Unmarshal(b, &src); err != nil {
		return nil, nil, fmt.Errorf("ingest: units: %s: %w", filepath.Base(path), err)
	}
	provinces := make([]units.Province, 0, len(src))
	communes := make([]units.Unit, 0, 3400)
	for _, p := range src {
		provinces = append(provinces, units.Province{Code: p.Code, Name: p.FullName, Type: p.ShortType})
		for _, w := range p.Wards {
			pc := w.ProvinceCode
			if pc == "" {
				pc = p.Code
			}
			communes = append(communes, units.Unit{Code: w.Code, Name: w.FullName, Type: w.ShortType, ProvinceCode: pc})
		}
	}
	return provinces, communes, nil
}

func readUnitsMapping(path string) ([]unitsRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ingest: units: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("ingest: units: %s: header: %w", filepath.Base(path), err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	need := []string{"old_province_code", "old_province", "old_district_code", "old_district", "old_ward_code",
		"old_ward", "new_province_code", "new_ward_code", "new_ward", "merge_type", "resolution"}
	for _, n := range need {
		if _, ok := col[n]; !ok {
			return nil, fmt.Errorf("ingest: units: %s: no column %q", filepath.Base(path), n)
		}
	}
	rows := make([]unitsRow, 0, 10_700)
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ingest: units: %s: %w", filepath.Base(path), err)
		}
		get := func(n string) string { return strings.TrimSpace(rec[col[n]]) }
		old := units.OldUnit{
			Code:         get("old_ward_code"),
			Name:         get("old_ward"),
			DistrictCode: get("old_district_code"),
			District:     get("old_district"),
			ProvinceCode: get("old_province_code"),
			Province:     get("old_province"),
		}
		if fix, ok := unitsDistrictFixes[old.DistrictCode]; ok && isCommuneName(old.District) {
			old.District = fix
		}
		if old.Code == "" {
			// A district without communes (Côn Đảo): the old unit is the district itself.
			old.Name = old.District
		}
		typ := get("merge_type")
		if typ != "full" && typ != "partial" || old.Name == "" || get("new_ward_code") == "" {
			return nil, fmt.Errorf("ingest: units: %s:%d: incomplete row", filepath.Base(path), line)
		}
		rows = append(rows, unitsRow{old: old, newCode: get("new_ward_code"), newName: get("new_ward"),
			newProv: get("new_province_code"), partial: typ == "partial", resolution: get("resolution")})
	}
	return rows, nil
}

// readUnitsMerges returns the merges of whole districts (old codes of three digits) into a new unit.
func readUnitsMerges(path string) ([]unitsRow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ingest: units: %w", err)
	}
	var src struct {
		Data []struct {
			Code    string `json:"level1_id"`
			Level2s []struct {
				Code   string `json:"level2_id"`
				Name   string `json:"name"`
				Merges []struct {
					Code string `json:"old_id"`
					Name string `json:"name"`
					Type string `json:"type"`
				} `json:"merges"`
			} `json:"level2s"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &src); err != nil {
		return nil, fmt.Errorf("ingest: units: %s: %w", filepath.Base(path), err)
	}
	var out []unitsRow
	for _, p := range src.Data {
		for _, n := range p.Level2s {
			for _, m := range n.Merges {
				if len(m.Code) != 3 {
					continue
				}
				out = append(out, unitsRow{
					old:     units.OldUnit{Name: m.Name, DistrictCode: m.Code, District: m.Name},
					newCode: n.Code, newName: n.Name, newProv: p.Code, partial: m.Type == "partial",
				})
			}
		}
	}
	return out, nil
}

// unitsMappings joins the rows to the current communes. The mapping uses the codes of 1 July 2025; a commune
// whose code changed since is found by its province and name. Whole-district merges missing from the CSV are
// added, with the old province found from the district code (codes are allotted in blocks per province).
func unitsMappings(communes []units.Unit, rows, extra []unitsRow) ([]units.Mapping, error) {
	byCode := make(map[string]bool, len(communes))
	byName := make(map[string]string, len(communes))
	for _, c := range communes {
		byCode[c.Code] = true
		byName[c.ProvinceCode+"|"+unitsNameKey(c.Name)] = c.Code
	}
	resolve := func(r unitsRow) (string, error) {
		if byCode[r.newCode] {
			return r.newCode, nil
		}
		if c, ok := byName[r.newProv+"|"+unitsNameKey(r.newName)]; ok {
			return c, nil
		}
		return "", fmt.Errorf("ingest: units: %s → %s %q: no such current commune: %w", r.old.Name, r.newCode, r.newName, knowledge.ErrInvalid)
	}

	// Old provinces: name, first district code, resolution per new province.
	type oldProv struct {
		code, name string
		first      string
	}
	provs := map[string]*oldProv{}
	resolution := map[string]string{}
	haveDistrict := map[string]bool{} // "district code|new code" already in the CSV
	for _, r := range rows {
		p := provs[r.old.ProvinceCode]
		if p == nil {
			p = &oldProv{code: r.old.ProvinceCode, name: r.old.Province, first: r.old.DistrictCode}
			provs[r.old.ProvinceCode] = p
		}
		if r.old.DistrictCode < p.first {
			p.first = r.old.DistrictCode
		}
		if resolution[r.newProv] == "" {
			resolution[r.newProv] = r.resolution
		}
		haveDistrict[r.old.DistrictCode+"|"+r.newCode] = true
	}
	byFirst := make([]*oldProv, 0, len(provs))
	for _, p := range provs {
		byFirst = append(byFirst, p)
	}
	sort.Slice(byFirst, func(i, j int) bool { return byFirst[i].first < byFirst[j].first })

	out := make([]units.Mapping, 0, len(rows)+len(extra))
	for _, r := range rows {
		code, err := resolve(r)
		if err != nil {
			return nil, err
		}
		out = append(out, units.Mapping{Old: r.old, New: units.Unit{Code: code}, Partial: r.partial, Resolution: r.resolution})
	}
	for _, r := range extra {
		if haveDistrict[r.old.DistrictCode+"|"+r.newCode] {
			continue
		}
		var p *oldProv
		for _, x := range byFirst {
			if x.first <= r.old.DistrictCode {
				p = x
			}
		}
		if p == nil {
			return nil, fmt.Errorf("ingest: units: district %s %q: unknown province: %w", r.old.DistrictCode, r.old.Name, knowledge.ErrInvalid)
		}
		r.old.ProvinceCode, r.old.Province = p.code, p.name
		code, err := resolve(r)
		if err != nil {
			return nil, err
		}
		out = append(out, units.Mapping{Old: r.old, New: units.Unit{Code: code}, Partial: r.partial, Resolution: resolution[r.newProv]})
	}
	return out, nil
}

// unitsNameKey compares names across sources: folded, one space, no type-word case differences.
func unitsNameKey(name string) string {
	return strings.Join(strings.Fields(knowledge.Fold(name)), " ")
}

// isCommuneName reports whether a name starts with a commune-level type word.
func isCommuneName(name string) bool {
	f := knowledge.Fold(strings.TrimSpace(name))
	return strings.HasPrefix(f, "xa ") || strings.HasPrefix(f, "phuong ") || strings.HasPrefix(f, "thi tran ")
}
