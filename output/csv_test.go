package output

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	_ "github.com/marcboeker/go-duckdb"
)

// openDB opens a fresh in-memory DuckDB for one test.
func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queryRows(t testing.TB, db *sql.DB, q string) *sql.Rows {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rows.Close() })
	return rows
}

func TestWriteCSV(t *testing.T) {
	db := openDB(t)
	rows := queryRows(t, db, `
		SELECT * FROM (VALUES
			('RU', 'Moscow, "central"', 2023::INTEGER, 520402::BIGINT, -0.24279, 12345678901234::DOUBLE, DATE '2023-05-01', TIMESTAMP '2024-01-02 03:04:05', true, 'p'),
			('XK', e'two\nlines', 2022::INTEGER, NULL::BIGINT, NULL::DOUBLE, 1e-7::DOUBLE, NULL::DATE, TIMESTAMP '2024-01-02 03:04:05.25', false, ''),
			('ÅL', ' lead', NULL, 0::BIGINT, 0.1::DOUBLE, 1e21::DOUBLE, DATE '1999-12-31', NULL, NULL, NULL)
		) t(host_country, location, year, applications, change, big, day, ts, ok, flags)
		ORDER BY host_country`)
	path := filepath.Join(t.TempDir(), "t.csv")
	n, err := WriteCSV(context.Background(), path, rows)
	if err != nil || n != 3 {
		t.Fatalf("rows %d, err %v", n, err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(raw, []byte("\xef\xbb\xbf")) {
		t.Error("file starts with a byte order mark")
	}
	got, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"host_country", "location", "year", "applications", "change", "big", "day", "ts", "ok", "flags"},
		{"RU", `Moscow, "central"`, "2023", "520402", "-0.24279", "12345678901234", "2023-05-01", "2024-01-02T03:04:05", "true", "p"},
		{"XK", "two\nlines", "2022", "", "", "0.0000001", "", "2024-01-02T03:04:05.25", "false", ""},
		{"ÅL", " lead", "", "0", "0.1", "1000000000000000000000", "1999-12-31", "", "", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back\n%q\nwant\n%q", got, want)
	}
	// RFC 4180 quoting, seen in the bytes: quotes doubled, fields with a
	// comma, a line break or a leading space quoted.
	for _, s := range []string{`"Moscow, ""central"""`, "\"two\nlines\"", `" lead"`} {
		if !bytes.Contains(raw, []byte(s)) {
			t.Errorf("file lacks %s:\n%s", s, raw)
		}
	}
}

// TestWriteCSVNoHalfFile: an export cancelled midway leaves no file and no
// temporary file.
func TestWriteCSVNoHalfFile(t *testing.T) {
	db := openDB(t)
	rows := queryRows(t, db, `SELECT i FROM range(10000) t(i)`)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := WriteCSV(ctx, filepath.Join(dir, "t.csv"), rows); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

// TestWriteCSVFormulaGuard: a text field that a spreadsheet would take for
// a formula (an upstream consulate named =HYPERLINK(...), a file name
// starting with =) is written with a leading ' (OWASP's advice for CSV
// injection); numbers, numeric text, dates and ordinary text are written
// as they are, and typed readers still type the numeric columns.
func TestWriteCSVFormulaGuard(t *testing.T) {
	cases := []struct {
		name, value, want string
	}{
		{"equals", `=HYPERLINK("http://evil.example","Moscow")`, `'=HYPERLINK("http://evil.example","Moscow")`},
		{"equals alone", "=", "'="},
		{"plus formula", "+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
		{"minus formula after digits", "-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"minus then a letter", "-x", "'-x"},
		{"minus alone", "-", "'-"},
		{"at", "@SUM(A1)", "'@SUM(A1)"},
		{"tab", "\t=1+1", "'\t=1+1"},
		{"carriage return", "\r=1+1", "'\r=1+1"},
		{"guarded already", "'=1+1", "''=1+1"},
		{"quote then text", "'s-Hertogenbosch", "'s-Hertogenbosch"},
		{"negative number as text", "-0.24", "-0.24"},
		{"signed integer as text", "+17", "+17"},
		{"negative exponent", "-1.5e-3", "-1.5e-3"},
		{"ISO date as text", "2023-06-30", "2023-06-30"},
		{"period label", "2023 (Jan-Jun)", "2023 (Jan-Jun)"},
		{"formula inside", "Moscow =1+1", "Moscow =1+1"},
		{"leading space", " =1", " =1"},
		{"empty", "", ""},
	}
	db := openDB(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, err := db.QueryContext(context.Background(), `SELECT ?::VARCHAR AS location, ?::VARCHAR AS file`, c.value, c.value)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rows.Close() })
			path := filepath.Join(t.TempDir(), "t.csv")
			if _, err := WriteCSV(context.Background(), path, rows); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[1][0] != c.want || got[1][1] != c.want {
				t.Errorf("%q written as %q, want %q", c.value, got, c.want)
			}
		})
	}

	// Numeric, date and boolean columns are never touched: negative
	// numbers stay numbers, and DuckDB's read_csv types every column as
	// the table had it.
	rows := queryRows(t, db, `
		SELECT * FROM (VALUES
			('=1+1', -7::BIGINT, -0.242791707407924::DOUBLE, -1.50::DECIMAL(9, 2), DATE '2023-06-30', false),
			('-3', -28::BIGINT, -1e-7::DOUBLE, -0.05::DECIMAL(9, 2), DATE '1999-12-31', true)
		) t(location, difference, change, share, day, ok)`)
	path := filepath.Join(t.TempDir(), "typed.csv")
	if _, err := WriteCSV(context.Background(), path, rows); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "location,difference,change,share,day,ok\n'=1+1,-7,-0.242791707407924,-1.5,2023-06-30,false\n-3,-28,-0.0000001,-0.05,1999-12-31,true\n"
	if string(raw) != want {
		t.Errorf("file\n%s\nwant\n%s", raw, want)
	}
	types := map[string]string{}
	desc, err := db.Query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_csv(?))`, path)
	if err != nil {
		t.Fatal(err)
	}
	defer desc.Close()
	for desc.Next() {
		var name, typ string
		if err := desc.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		types[name] = typ
	}
	wantTypes := map[string]string{"location": "VARCHAR", "difference": "BIGINT", "change": "DOUBLE", "share": "DOUBLE", "day": "DATE", "ok": "BOOLEAN"}
	if !reflect.DeepEqual(types, wantTypes) {
		t.Errorf("read_csv types %v, want %v", types, wantTypes)
	}
}
