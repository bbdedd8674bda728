package pipeline

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	vsql "github.com/visastats/visastats/sql"
)

// TestPublishedCSVsReadAsParquet reads every CSV file of the full build as
// a researcher would: DuckDB's read_csv with its defaults (the sniffer
// types each column from a sample of the first rows), every column of
// every row materialised into a table. Each file must read without error,
// type each column as its Parquet file does (a number as a number, text
// as text), and hold the Parquet file's rows and values. A column whose
// first 20,000 rows look like integers and whose later rows do not (a
// period label "2023" before "2023 (Jan-Jun)") fails here.
func TestPublishedCSVsReadAsParquet(t *testing.T) {
	t.Parallel()
	b := fullBuild(t)
	db := openDuck(t)
	seen := map[string]bool{}
	for _, f := range b.Report.Files {
		if filepath.Ext(f.Name) == ".csv" {
			seen[strings.TrimSuffix(f.Name, ".csv")] = true
		}
	}
	for _, tb := range publishedTables {
		if tb.csv && !seen[tb.name] {
			t.Errorf("table %s is published as CSV but the release lists no %s.csv", tb.name, tb.name)
		}
	}
	for _, tb := range publishedTables {
		if !seen[tb.name] {
			continue
		}
		t.Run(tb.name, func(t *testing.T) {
			compareCSVWithParquet(t, db, filepath.Join(b.Latest, tb.name+".csv"), filepath.Join(b.Latest, tb.name+".parquet"))
		})
	}
	t.Run("README snippets", func(t *testing.T) {
		runReadmeDuckDBSnippets(t, db, b.Latest)
	})
}

// compareCSVWithParquet reads csvPath with DuckDB's default read_csv and
// compares it with the Parquet file of the same table: column names and
// order, each column's kind of type, row count, and every value after
// casting the CSV column to the Parquet column's type. Text that is empty
// in Parquet is a missing value in CSV (an empty field), so the two are
// compared as equal.
func compareCSVWithParquet(t *testing.T, db *sql.DB, csvPath, parquetPath string) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A temporary table per connection: CREATE TABLE AS converts every
	// field of every row, where a count(*) would read no column at all.
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE csv_read AS SELECT * FROM read_csv(?)`, csvPath); err != nil {
		t.Fatalf("DuckDB's default read_csv cannot read %s: %v", filepath.Base(csvPath), err)
	}
	defer conn.ExecContext(ctx, `DROP TABLE IF EXISTS csv_read`)
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP VIEW parquet_read AS SELECT * FROM read_parquet(`+sqlString(parquetPath)+`)`); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, `DROP VIEW IF EXISTS parquet_read`)
	pq := describeColumns(t, conn, "parquet_read")
	cs := describeColumns(t, conn, "csv_read")
	if len(pq) != len(cs) {
		t.Fatalf("CSV has %d columns, Parquet %d", len(cs), len(pq))
	}
	var csvCols, pqCols []string
	for i, p := range pq {
		c := cs[i]
		if c.name != p.name {
			t.Fatalf("column %d: CSV %q, Parquet %q", i+1, c.name, p.name)
		}
		q := vsql.QuoteIdent(p.name)
		var values int64
		if err := conn.QueryRowContext(ctx, `SELECT count(nullif(CAST(`+q+` AS VARCHAR), '')) FROM parquet_read`).Scan(&values); err != nil {
			t.Fatal(err)
		}
		if got, want := typeKind(c.typ), typeKind(p.typ); got != want && !(values == 0 && got == "text") {
			t.Errorf("column %s: read as %s (%s), Parquet has %s (%s)", p.name, got, c.typ, want, p.typ)
		}
		if typeKind(p.typ) == "text" {
			csvCols = append(csvCols, unguardedText("CAST("+q+" AS VARCHAR)"))
			pqCols = append(pqCols, "nullif("+q+", '')")
		} else {
			csvCols = append(csvCols, "CAST("+q+" AS "+p.typ+")")
			pqCols = append(pqCols, q)
		}
	}
	var csvRows, pqRows int64
	if err := conn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM csv_read), (SELECT count(*) FROM parquet_read)`).Scan(&csvRows, &pqRows); err != nil {
		t.Fatal(err)
	}
	if csvRows != pqRows {
		t.Errorf("CSV has %d rows, Parquet %d", csvRows, pqRows)
	}
	csvSel := "SELECT " + strings.Join(csvCols, ", ") + " FROM csv_read"
	pqSel := "SELECT " + strings.Join(pqCols, ", ") + " FROM parquet_read"
	for _, d := range []struct{ what, q string }{
		{"in the CSV, not in Parquet", csvSel + " EXCEPT ALL " + pqSel},
		{"in Parquet, not in the CSV", pqSel + " EXCEPT ALL " + csvSel},
	} {
		var n int64
		var sample sql.NullString
		err := conn.QueryRowContext(ctx, `SELECT count(*), string_agg(CAST(d AS VARCHAR), '; ') FILTER (WHERE k <= 3)
			FROM (SELECT d, row_number() OVER () AS k FROM (`+d.q+`) d)`).Scan(&n, &sample)
		if err != nil {
			t.Fatalf("compare values: %v", err)
		}
		if n > 0 {
			t.Errorf("%d rows %s, e.g. %s", n, d.what, sample.String)
		}
	}
}

// unguardedText undoes, in SQL, the CSV writer's guard against formula
// injection (output.WriteCSV): a text value that a spreadsheet would
// evaluate (=, @, tab, carriage return, or + or - before anything but a
// plain number) is written with a leading ', which a reader removes from a
// value whose remainder, without its leading quotes, is formula-like.
func unguardedText(v string) string {
	rest := "ltrim(" + v + ", '''')"
	formula := "(regexp_matches(" + rest + `, '^[=@\t\r]') OR (regexp_matches(` + rest + `, '^[+-]') AND NOT regexp_matches(` + rest +
		`, '^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$')))`
	return "CASE WHEN starts_with(" + v + ", '''') AND " + formula + " THEN substr(" + v + ", 2) ELSE " + v + " END"
}

type describedColumn struct{ name, typ string }

func describeColumns(t *testing.T, conn *sql.Conn, relation string) []describedColumn {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), `SELECT column_name, column_type FROM (DESCRIBE `+relation+`)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []describedColumn
	for rows.Next() {
		var c describedColumn
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// typeKind groups DuckDB types by what a reader must see: a number, a
// truth value, a date or time, or text.
func typeKind(typ string) string {
	switch {
	case typ == "BOOLEAN":
		return "boolean"
	case strings.HasPrefix(typ, "DECIMAL"):
		return "number"
	case strings.HasPrefix(typ, "DATE"), strings.HasPrefix(typ, "TIME"):
		return "time"
	}
	switch typ {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
		"UHUGEINT", "FLOAT", "DOUBLE":
		return "number"
	}
	return "text"
}

// readmeSQL finds the README's SQL blocks.
var readmeSQL = regexp.MustCompile("(?s)```sql\n(.*?)```")

// readmeFile is a published file as the README names it: a bare file name
// (read in the release folder) or one under out/latest/.
var readmeFile = regexp.MustCompile(`'(?:out/latest/)?([a-z_]+\.(?:csv|parquet))'`)

// runReadmeDuckDBSnippets runs each SQL block of the README that reads a
// published file, as written, with its file names pointed at the release
// folder latest. Blocks that need a bucket, an extension or another engine
// (s3://, INSTALL, Trino's DDL) are not run here.
func runReadmeDuckDBSnippets(t *testing.T, db *sql.DB, latest string) {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, m := range readmeSQL.FindAllStringSubmatch(string(readme), -1) {
		block := m[1]
		if strings.Contains(block, "s3://") || strings.Contains(block, "INSTALL") || !readmeFile.MatchString(block) {
			continue
		}
		q := readmeFile.ReplaceAllStringFunc(block, func(s string) string {
			return sqlString(filepath.Join(latest, readmeFile.FindStringSubmatch(s)[1]))
		})
		for _, stmt := range strings.Split(q, ";") {
			if strings.TrimSpace(stripSQLComments(stmt)) == "" {
				continue
			}
			ran++
			rows, err := db.Query(stmt)
			if err != nil {
				t.Errorf("README snippet fails: %v\n%s", err, block)
				continue
			}
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Err(); err != nil {
				t.Errorf("README snippet fails: %v\n%s", err, block)
			} else if n == 0 {
				t.Errorf("README snippet returns no rows:\n%s", block)
			}
			rows.Close()
		}
	}
	if ran == 0 {
		t.Error("no README snippet reads a published file")
	}
	t.Logf("ran %d README statements", ran)
}
