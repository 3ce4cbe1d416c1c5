// Package ingest turns catalog sources into knowledge.Procedure values and keeps a store in line with them.
//
// Sources:
//   - the National Public Service Portal crawl (one JSON file per procedure, ReadPortalDir / ParsePortalRecord),
//     whose tables arrive flattened into strings with no separators and are parsed back into channels, fees,
//     dossier items, steps and legal documents;
//   - the portal's spreadsheet exports ("DANH SÁCH THỦ TỤC HÀNH CHÍNH", ReadXLSX), the shape staff work with;
//   - our own normalized JSON Lines format (ReadJSONL / WriteJSONL, see docs/jsonl-format.md).
//
// ReadCatalog picks the reader from the path. Every reader enforces the limits of package knowledge
// (knowledge.MaxRecordBytes, knowledge.MaxFieldRunes, knowledge.MaxDossierItems): a record that breaks one, is not
// valid, or lacks a code or a name is reported as a Problem and skipped, never aborting the whole read. Only
// failures to read the source itself are returned as errors. Measure reports how much of a catalog was parsed
// into structure (channels, fees, times, dossier items, legal basis, steps).
//
// LoadUnits reads the 2025 administrative-unit reform data into a units.Gazetteer, and LoadCentres the communes'
// service centres.
//
// The package imports the standard library, golang.org/x/text, github.com/xuri/excelize/v2 and packages
// knowledge and knowledge/units; never a database driver, an HTTP framework or langchaingo.
package ingest
