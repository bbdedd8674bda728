package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	vsql "github.com/visastats/visastats/sql"
)

// measureFormats are the column formats that hold a measured number; a
// sheet row whose measures are all empty or zero carries no number.
var measureFormats = map[string]bool{"count": true, "number": true, "fraction": true, "rate": true, "change": true}

// sheetQuery is the query of table t's sheet in a workbook restricted to
// country ("" for every row) and the columns it shows. The journalists'
// workbook leaves out what carries nothing: rows whose measures are all
// empty or zero (Eurostat and UNHCR publish a row for every pair of
// countries, most of them empty), and columns that are empty in every row
// left (a dataset that is not loaded). The Parquet and CSV files keep
// every row and column.
func sheetQuery(ctx context.Context, conn *sql.Conn, cat []vsql.Column, t publishedTable, country string) (string, []any, []vsql.Column, error) {
	cols := sheetColumns(cat, t)
	var own []vsql.Column
	for _, c := range cols {
		if c.Table == t.name {
			own = append(own, c)
		}
	}
	var conds, measures []string
	var args []any
	if country != "" && t.country != "*" {
		conds = append(conds, vsql.QuoteIdent(t.country)+" = ?")
		args = append(args, country)
	}
	if country == "" && t.mainSheetWhere != "" {
		conds = append(conds, "("+t.mainSheetWhere+")")
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
		return "", nil, nil, fmt.Errorf("sheet %s: %w", t.sheet, err)
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
