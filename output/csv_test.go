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
