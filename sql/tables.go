package sql

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
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
	for _, r := range recs {
		rec := r.fields
		t := Table{Name: rec[0], Title: rec[1], OrderBy: rec[2], Key: fields(rec[3]), Sheet: rec[4], Country: rec[6],
			NotOnSheet: fields(rec[7]), MainSheetWhere: rec[8], Datasets: rec[9]}
		switch rec[5] {
		case "true":
			t.CSV = true
		case "false":
		default:
			return nil, r.errorf("csv", "%q, want true or false", rec[5])
		}
		for _, col := range []string{"table", "title", "order_by", "datasets"} {
			if r.field(col) == "" {
				return nil, r.errorf(col, "empty")
			}
		}
		if seen[t.Name] {
			return nil, r.errorf("table", "%s is listed twice", t.Name)
		}
		seen[t.Name] = true
		if !documented[t.Name] {
			return nil, r.errorf("table", "%s has no columns in columns.csv", t.Name)
		}
		out = append(out, t)
	}
	return out, nil
}

// Sources returns the upstream sources of a release from sources.csv, for
// the workbook's About sheet, the files' metadata and the citation.
func Sources() ([]output.SourceNote, error) { return sourceNotes(files) }

func sourceNotes(fsys fs.FS) ([]output.SourceNote, error) {
	header := []string{"name", "publisher", "url", "licence"}
	recs, err := readCSV(fsys, "sources.csv", header)
	if err != nil {
		return nil, err
	}
	var out []output.SourceNote
	for _, r := range recs {
		for _, col := range header {
			if r.field(col) == "" {
				return nil, r.errorf(col, "empty")
			}
		}
		rec := r.fields
		out = append(out, output.SourceNote{Name: rec[0], Publisher: rec[1], URL: rec[2], Licence: rec[3]})
	}
	return out, nil
}

// record is one line of an embedded CSV file after its header: the fields,
// and where they are for messages.
type record struct {
	file   string // as in the repository, e.g. sql/tables.csv
	line   int    // where the record starts
	header []string
	fields []string
}

// field returns the value of the column named col.
func (r record) field(col string) string {
	if i := slices.Index(r.header, col); i >= 0 {
		return r.fields[i]
	}
	return ""
}

// errorf reports a bad value of the record's column col.
func (r record) errorf(col, format string, args ...any) error {
	return fmt.Errorf("read %s line %d column %s: %s", r.file, r.line, col, fmt.Sprintf(format, args...))
}

// readCSV reads an embedded CSV file whose header must be want and returns
// its records after the header, each with exactly one field per column of
// want. Errors name the file, the line and the column.
func readCSV(fsys fs.FS, name string, want []string) ([]record, error) {
	file := "sql/" + name
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1 // counted below, to name the missing column
	var out []record
	header := false
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("read %s line %d column %d: %w", file, pe.Line, pe.Column, pe.Err)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", file, err)
		}
		line, _ := r.FieldPos(0)
		if !header {
			if err := checkHeader(file, line, rec, want); err != nil {
				return nil, err
			}
			header = true
			continue
		}
		switch {
		case len(rec) < len(want):
			return nil, fmt.Errorf("read %s line %d column %s: missing (the line has %d fields, want %d: %s)", file, line, want[len(rec)], len(rec), len(want), strings.Join(want, ","))
		case len(rec) > len(want):
			return nil, fmt.Errorf("read %s line %d column %d: one field too many (the line has %d fields, want %d: %s)", file, line, len(want)+1, len(rec), len(want), strings.Join(want, ","))
		}
		out = append(out, record{file: file, line: line, header: want, fields: rec})
	}
	if !header {
		return nil, fmt.Errorf("read %s line 1: empty file, want the header %s", file, strings.Join(want, ","))
	}
	return out, nil
}

// checkHeader checks that the first record of file, on line, is want.
func checkHeader(file string, line int, rec, want []string) error {
	for i, w := range want {
		if i >= len(rec) {
			return fmt.Errorf("read %s line %d column %d: missing, want %q (the header must be %s)", file, line, i+1, w, strings.Join(want, ","))
		}
		if rec[i] != w {
			return fmt.Errorf("read %s line %d column %d: %q, want %q (the header must be %s)", file, line, i+1, rec[i], w, strings.Join(want, ","))
		}
	}
	if len(rec) > len(want) {
		return fmt.Errorf("read %s line %d column %d: %q is not a column (the header must be %s)", file, line, len(want)+1, rec[len(want)], strings.Join(want, ","))
	}
	return nil
}

// fields splits a space-separated list; "" is none.
func fields(s string) []string {
	if f := strings.Fields(s); len(f) > 0 {
		return f
	}
	return nil
}
