package page

import (
	"path/filepath"
	"strings"
)

// Format is what a file's extension says about it.
type Format struct {
	ContentType string
	Label       string // for people: "Parquet", "Excel workbook"
	Generic     string // what a file of this format is, when its name is not known
}

// FormatOf returns the format of a release file by its extension; only
// these formats are ever served or listed.
func FormatOf(name string) (Format, bool) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".parquet":
		return Format{"application/vnd.apache.parquet", "Parquet", "A table in Apache Parquet, for DuckDB, pandas, polars or R arrow"}, true
	case ".xlsx":
		return Format{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel workbook", "A workbook for Excel or LibreOffice"}, true
	case ".csv":
		return Format{"text/csv; charset=utf-8", "CSV", "A table as comma-separated values (UTF-8)"}, true
	case ".json":
		return Format{"application/json", "JSON", "Metadata in JSON"}, true
	case ".cff":
		return Format{"text/plain; charset=utf-8", "Citation File Format", "How to cite the release and the producers of its data"}, true
	}
	return Format{}, false
}

// Describe says what a release file is for, in a line.
func Describe(name string) string {
	switch name {
	case "observations.parquet":
		return "Every published number in long format, one row per number, with flags and provenance"
	case "schengen_host_country_year.parquet":
		return "Schengen visas by country where the consulates are located, per year"
	case "schengen_state_year.parquet":
		return "Schengen visas by Schengen State handling the applications, per year"
	case "visastats.xlsx":
		return "The workbook: a first sheet on sources and definitions, then one sheet per table"
	case "run.json":
		return "The run report: inputs with their hashes, checks, files and headline figures"
	case "datapackage.json":
		return "Data package: schema, units, sources, licences and row counts of the tables"
	case "claims.parquet":
		return "Published claims checked against the data, with their status"
	case "upstream_issues.parquet", "upstream_issues.csv":
		return "Totals printed in the input files that disagree with their data rows: why, and how this release handled them"
	case "russia.xlsx":
		return "A workbook on applications at consulates located in Russia"
	}
	f, _ := FormatOf(name)
	return f.Generic
}
