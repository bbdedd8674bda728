package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/visastats/visastats/output/release"
	vsql "github.com/visastats/visastats/sql"
)

const checkSample = 5

func runCheck(ctx context.Context, conn *sql.Conn, c vsql.Check) (release.Check, error) {
	res := release.Check{Name: c.Name, Blocking: c.Blocking}
	rows, err := conn.QueryContext(ctx, c.SQL)
	if err != nil {
		return res, fmt.Errorf("check %s: %w", c.File, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return res, fmt.Errorf("check %s: %w", c.File, err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		res.Problems++
		if len(res.Sample) >= checkSample && !c.ShowAll {
			continue
		}
		if err := rows.Scan(ptrs...); err != nil {
			return res, fmt.Errorf("check %s: %w", c.File, err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			parts[i] = cols[i] + "=" + sampleValue(v)
		}
		res.Sample = append(res.Sample, strings.Join(parts, " "))
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("check %s: %w", c.File, err)
	}
	return res, nil
}

// sampleValue formats one value of a problem row, quoted when it holds a
// space or a separator so that "value=IRAN, ISLAMIC REPUBLIC OF" reads as
// one value.
func sampleValue(v any) string {
	s := fmt.Sprint(v)
	if s == "" || strings.ContainsAny(s, " =;\"\n\t") {
		return strconv.Quote(s)
	}
	return s
}

// checkCatalogue verifies that the documented columns of every public table
// are exactly the columns the transforms created, in order and with their
// types, so the documentation cannot drift from the data.
func checkCatalogue(ctx context.Context, conn *sql.Conn) error {
	cat, err := vsql.Catalogue()
	if err != nil {
		return err
	}
	byTable := map[string][]vsql.Column{}
	var tables []string
	for _, c := range cat {
		if _, ok := byTable[c.Table]; !ok {
			tables = append(tables, c.Table)
		}
		byTable[c.Table] = append(byTable[c.Table], c)
	}
	for _, t := range tables {
		rows, err := conn.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
			WHERE table_name = ? ORDER BY ordinal_position`, t)
		if err != nil {
			return fmt.Errorf("catalogue %s: %w", t, err)
		}
		var got []string
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				rows.Close()
				return fmt.Errorf("catalogue %s: %w", t, err)
			}
			got = append(got, name+" "+typ)
		}
		rows.Close()
		var want []string
		for _, c := range byTable[t] {
			want = append(want, c.Name+" "+c.Type)
		}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			return fmt.Errorf("catalogue sql/columns.csv does not match table %s:\n  documented: %s\n  created:    %s",
				t, strings.Join(want, ", "), strings.Join(got, ", "))
		}
	}
	return nil
}
