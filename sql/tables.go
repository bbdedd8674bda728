package sql

import (
	"encoding/csv"
	"fmt"
	"io/fs"
	"strings"

	"github.com/visastats/visastats/output"
)

// Table is one public table of a release, as tables.csv describes it.
type Table struct {
	Name    string
	Title   string // what the table is, for people
	OrderBy string // key order of the rows in every file (SQL)
	Key     []string
	Sheet   string // sheet name in the workbook, "" for none
	CSV     bool   // also published as CSV
	// Country names the column a topic workbook filters on ("*" for every
	// topic workbook), "" when the table is not part of topic workbooks.
	Country string
	// NotOnSheet lists columns left out of the sheet (kept in the files),
	// for columns that only researchers need.
	NotOnSheet []string
	// MainSheetWhere restricts the rows of the table's sheet in the main
	// workbook (fixed SQL over the table's columns and tables of the
	// database; topic workbooks and the files keep every row), "" for all.
	MainSheetWhere string
	// Datasets names the datasets the table is built from, for the files'
	// metadata.
	Datasets string
}

// Tables returns the public tables of a release from tables.csv, in file
// order, which is the workbook's sheet order. Every table must have its
// columns documented in columns.csv.
func Tables() ([]Table, error) {
	cat, err := Catalogue()
	if err != nil {
		return nil, err
	}
	return tables(files, cat)
}

func tables(fsys fs.FS, cat []Column) ([]Table, error) {
	recs, err := readCSV(fsys, "tables.csv", []string{"table", "title", "order_by", "key", "sheet", "csv", "country", "not_on_sheet", "main_sheet_where", "datasets"})
	if err != nil {
		return nil, err
	}
	documented := map[string]bool{}
	for _, c := range cat {
		documented[c.Table] = true
	}
	seen := map[string]bool{}
	var out []Table
	for i, rec := range recs {
		line := i + 2
		t := Table{Name: rec[0], Title: rec[1], OrderBy: rec[2], Key: fields(rec[3]), Sheet: rec[4], Country: rec[6],
			NotOnSheet: fields(rec[7]), MainSheetWhere: rec[8], Datasets: rec[9]}
		switch rec[5] {
		case "true":
			t.CSV = true
		case "false":
		default:
			return nil, fmt.Errorf("read tables.csv line %d column csv: %q, want true or false", line, rec[5])
		}
		for col, v := range map[string]string{"table": t.Name, "title": t.Title, "order_by": t.OrderBy, "datasets": t.Datasets} {
			if v == "" {
				return nil, fmt.Errorf("read tables.csv line %d column %s: empty", line, col)
			}
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("read tables.csv line %d column table: %s is listed twice", line, t.Name)
		}
		seen[t.Name] = true
		if !documented[t.Name] {
			return nil, fmt.Errorf("read tables.csv line %d column table: %s has no columns in columns.csv", line, t.Name)
		}
		out = append(out, t)
	}
	return out, nil
}

// Sources returns the upstream sources of a release from sources.csv, for
// the workbook's About sheet, the files' metadata and the citation.
func Sources() ([]output.SourceNote, error) {
	recs, err := readCSV(files, "sources.csv", []string{"name", "publisher", "url", "licence"})
	if err != nil {
		return nil, err
	}
	var out []output.SourceNote
	for i, rec := range recs {
		for j, v := range rec {
			if v == "" {
				return nil, fmt.Errorf("read sources.csv line %d column %s: empty", i+2, []string{"name", "publisher", "url", "licence"}[j])
			}
		}
		out = append(out, output.SourceNote{Name: rec[0], Publisher: rec[1], URL: rec[2], Licence: rec[3]})
	}
	return out, nil
}

// readCSV reads an embedded CSV file whose header must be want and returns
// its records after the header.
func readCSV(fsys fs.FS, name string, want []string) ([][]string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(want, ",") {
		return nil, fmt.Errorf("read %s line 1: header must be %s", name, strings.Join(want, ","))
	}
	return recs[1:], nil
}

// fields splits a space-separated list; "" is none.
func fields(s string) []string {
	if f := strings.Fields(s); len(f) > 0 {
		return f
	}
	return nil
}
