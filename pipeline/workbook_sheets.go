package pipeline

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"encoding/csv"
	"fmt"
	"strings"
	"unicode/utf8"

	vsql "github.com/visastats/visastats/sql"
)

// workbookSheetsCSV lays out the workbooks: which tables have a sheet, in
// which order (by importance, the order of the lines), under which name
// for people, which leading columns identify a row (repeated on every
// printed page), and, for a table too large for a spreadsheet, the rows
// the journalists' workbook carries (fixed SQL over the table's columns)
// and the note on the sheet that says so and where the rest is. Topic
// workbooks carry every row about their country of the tables that have a
// country column (sql/tables.csv), and whole the sheets said to be about
// their country (about: the headlines are about Russia).
//
//go:embed workbook_sheets.csv
var workbookSheetsCSV []byte

// workbookSheet is one line of workbook_sheets.csv.
type workbookSheet struct {
	table, sheet string
	keyThrough   string // the last column repeated on every printed page
	mainRows     string // SQL condition on the rows of the main workbook's sheet, "" for all
	mainNote     string // what the main workbook's sheet leaves out and where it is
	about        string // ISO alpha-2 of the country every row is about, "" when none
}

// inTopic reports whether the topic workbook of country carries the sheet
// of t (laid out by ws).
func (ws workbookSheet) inTopic(t publishedTable, country string) bool {
	return t.country != "" || ws.about == country
}

// loadWorkbookSheets reads workbook_sheets.csv (data) and checks it
// against the published tables and the catalogue: a line names a published table once,
// a sheet name Excel accepts, and a column of the table; a selection comes
// with its note.
func loadWorkbookSheets(data []byte, tables []publishedTable, cat []vsql.Column) ([]workbookSheet, error) {
	r := csv.NewReader(bytes.NewReader(data))
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("workbook_sheets.csv: %w", err)
	}
	want := []string{"table", "sheet", "key_through", "main_rows", "main_note", "about"}
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(want, ",") {
		return nil, fmt.Errorf("workbook_sheets.csv line 1: header %v, want %v", recs[0:min(1, len(recs))], want)
	}
	known := map[string]bool{}
	for _, t := range tables {
		known[t.name] = true
	}
	columns := map[[2]string]bool{}
	for _, c := range cat {
		columns[[2]string{c.Table, c.Name}] = true
	}
	seen := map[string]int{}
	var out []workbookSheet
	for i, rec := range recs[1:] {
		line := i + 2
		ws := workbookSheet{table: rec[0], sheet: rec[1], keyThrough: rec[2], mainRows: rec[3], mainNote: rec[4], about: rec[5]}
		bad := func(col, format string, args ...any) error {
			return fmt.Errorf("workbook_sheets.csv line %d column %s: %s", line, col, fmt.Sprintf(format, args...))
		}
		switch {
		case !known[ws.table]:
			return nil, bad("table", "%q is not a published table (sql/tables.csv)", ws.table)
		case seen[ws.table] > 0:
			return nil, bad("table", "%q has a sheet already on line %d", ws.table, seen[ws.table])
		case ws.sheet == "" || utf8.RuneCountInString(ws.sheet) > 31 || strings.ContainsAny(ws.sheet, `:\/?*[]'`):
			return nil, bad("sheet", "%q: a sheet name has 1 to 31 characters, none of : \\ / ? * [ ] '", ws.sheet)
		case ws.keyThrough != "" && !columns[[2]string{ws.table, ws.keyThrough}]:
			return nil, bad("key_through", "%q is not a column of %s (sql/columns.csv)", ws.keyThrough, ws.table)
		case (ws.mainRows == "") != (ws.mainNote == ""):
			return nil, bad("main_note", "a selection of rows needs a note saying where the rest is, and a note a selection")
		}
		for _, o := range out {
			if strings.EqualFold(o.sheet, ws.sheet) {
				return nil, bad("sheet", "%q is the sheet of %s already", ws.sheet, o.table)
			}
		}
		seen[ws.table] = line
		out = append(out, ws)
	}
	return out, nil
}

// measureFormats are the column formats that hold a measured number; a
// sheet row whose measures are all empty or zero carries no number.
var measureFormats = map[string]bool{"count": true, "number": true, "fraction": true, "rate": true, "change": true}

// sheetQuery is the query of table t's sheet, laid out by ws, in a
// workbook restricted to country ("" for the main workbook, which carries
// ws's selection of rows) and the columns it shows. The journalists'
// workbook leaves out what carries nothing: rows whose measures are all
// empty or zero (Eurostat and UNHCR publish a row for every pair of
// countries, most of them empty), and columns that are empty in every row
// left (a dataset that is not loaded). The Parquet and CSV files keep
// every row and column.
func sheetQuery(ctx context.Context, conn *sql.Conn, cat []vsql.Column, t publishedTable, ws workbookSheet, country string) (string, []any, []vsql.Column, error) {
	cols := sheetColumns(cat, t)
	var own []vsql.Column
	for _, c := range cols {
		if c.Table == t.name {
			own = append(own, c)
		}
	}
	var conds, measures []string
	var args []any
	if country != "" && t.country != "*" && t.country != "" {
		conds = append(conds, vsql.QuoteIdent(t.country)+" = ?")
		args = append(args, country)
	}
	if country == "" && ws.mainRows != "" {
		conds = append(conds, "("+ws.mainRows+")")
	}
	for _, c := range own {
		if measureFormats[string(c.Format)] {
			measures = append(measures, "coalesce("+vsql.QuoteIdent(c.Name)+", 0) <> 0")
		}
	}
	if len(measures) > 0 {
		conds = append(conds, "("+strings.Join(measures, " OR ")+")")
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	counts := make([]string, len(own))
	for i, c := range own {
		counts[i] = "count(nullif(CAST(" + vsql.QuoteIdent(c.Name) + " AS VARCHAR), ''))"
	}
	filled := make([]int64, len(own))
	ptrs := make([]any, len(own))
	for i := range filled {
		ptrs[i] = &filled[i]
	}
	q := "SELECT " + strings.Join(counts, ", ") + " FROM " + vsql.QuoteIdent(t.name) + where
	if err := conn.QueryRowContext(ctx, q, args...).Scan(ptrs...); err != nil {
		return "", nil, nil, fmt.Errorf("sheet %s: %w", ws.sheet, err)
	}
	var kept []vsql.Column
	var names []string
	for i, c := range own {
		// A sheet with no row keeps its header, so every column stays.
		if filled[i] == 0 && anyFilled(filled) {
			continue
		}
		kept = append(kept, c)
		names = append(names, vsql.QuoteIdent(c.Name))
	}
	return "SELECT " + strings.Join(names, ", ") + " FROM " + vsql.QuoteIdent(t.name) + where + " ORDER BY " + t.orderBy, args, kept, nil
}

func anyFilled(n []int64) bool {
	for _, x := range n {
		if x > 0 {
			return true
		}
	}
	return false
}

// claimFormats are the number formats of a claim's published and computed
// figures in percent, by the claim's rounding (sql/columns.csv, claims
// rounding): the figure as the claim states it, -37.7%, whatever the
// precision of the computed one. The values stay in percent (-37.7), as
// in the files.
var claimFormats = map[string]string{
	"whole percent": `+0"%";-0"%";0"%"`,
	"one decimal":   `+0.0"%";-0.0"%";0.0"%"`,
	"two decimals":  `+0.00"%";-0.00"%";0.00"%"`,
}

// claimPresent shows the rows of the claims' sheet (cols are its columns)
// as people read claims: the status in words ("not reproducible", not
// not_reproducible), a figure in percent with a % sign and the decimals
// of the claim's rounding, a count and the implied count whole. It is nil
// for a sheet without the claims' status, unit and rounding columns.
func claimPresent(cols []vsql.Column) func(row []any, formats []string) {
	at := map[string]int{}
	for i, c := range cols {
		at[c.Name] = i
	}
	status, okS := at["status"]
	unit, okU := at["unit"]
	rounding, okR := at["rounding"]
	if !okS || !okU || !okR {
		return nil
	}
	var figures, counts []int
	for _, name := range []string{"expected", "actual"} {
		if i, ok := at[name]; ok {
			figures = append(figures, i)
		}
	}
	if i, ok := at["implied_value"]; ok {
		counts = append(counts, i)
	}
	return func(row []any, formats []string) {
		if s, ok := row[status].(string); ok {
			row[status] = strings.ReplaceAll(s, "_", " ")
		}
		u, _ := row[unit].(string)
		r, _ := row[rounding].(string)
		code := "#,##0"
		if u == "percent" {
			code = `+0.0##"%";-0.0##"%";0"%"`
			if c, ok := claimFormats[r]; ok {
				code = c
			}
		}
		for _, i := range figures {
			formats[i] = code
		}
		for _, i := range counts {
			formats[i] = "#,##0"
		}
	}
}
