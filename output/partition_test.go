package output

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/marcboeker/go-duckdb"
)

// withArrow runs query on db through DuckDB's Arrow interface, as the
// pipeline does, and passes the record reader to fn.
func withArrow(t testing.TB, db *sql.DB, query string, fn func(array.RecordReader) error) error {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rdr, err := ar.QueryContext(context.Background(), query)
		if err != nil {
			return err
		}
		defer rdr.Release()
		return fn(rdr)
	})
}

// observationsSample has two datasets (one with characters that must be
// escaped in a folder name) over three years, 3,000 rows.
const observationsSample = `
	CREATE TABLE obs AS
	SELECT CASE WHEN i % 2 = 0 THEN 'ec_schengen_consulates' ELSE 'odd/name é=%' END AS dataset,
	       (2021 + i % 3)::INTEGER AS year,
	       'RU' AS partner,
	       CASE WHEN i % 7 = 0 THEN NULL ELSE i * 1.5 END AS value,
	       CASE WHEN i % 5 = 0 THEN 'p' ELSE '' END AS flags
	FROM range(3000) t(i)`

// One file per partition in the folders PartitionFolder names, published
// with PublishDir: DuckDB reads the folder back as the same rows, NULLs
// and escaped names included, and a second publish replaces the folder.
func TestPartitionFolders(t *testing.T) {
	db := openDB(t)
	if _, err := db.Exec(observationsSample); err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "observations")
	publish := func(where string) []string {
		t.Helper()
		tmp, err := os.MkdirTemp(parent, ".observations.tmp-*")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query(`SELECT DISTINCT dataset, year FROM obs WHERE ` + where + ` ORDER BY ALL`)
		if err != nil {
			t.Fatal(err)
		}
		var folders []string
		for rows.Next() {
			var dataset string
			var year int
			if err := rows.Scan(&dataset, &year); err != nil {
				t.Fatal(err)
			}
			folder, err := PartitionFolder([]string{"dataset", "year"}, []string{dataset, strconv.Itoa(year)})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(tmp, folder), 0o755); err != nil {
				t.Fatal(err)
			}
			q := `COPY (SELECT partner, value, flags FROM obs WHERE dataset = ? AND year = ?) TO '` +
				filepath.Join(tmp, folder, PartitionFile) + `' (FORMAT parquet)`
			if _, err := db.Exec(q, dataset, year); err != nil {
				t.Fatal(err)
			}
			folders = append(folders, folder)
		}
		rows.Close()
		if err := PublishDir(tmp, dir); err != nil {
			t.Fatal(err)
		}
		return folders
	}
	folders := publish("true")
	want := []string{
		"dataset=ec_schengen_consulates/year=2021", "dataset=ec_schengen_consulates/year=2022", "dataset=ec_schengen_consulates/year=2023",
		"dataset=odd%2Fname%20%C3%A9%3D%25/year=2021", "dataset=odd%2Fname%20%C3%A9%3D%25/year=2022", "dataset=odd%2Fname%20%C3%A9%3D%25/year=2023",
	}
	if !reflect.DeepEqual(folders, want) {
		t.Errorf("folders\n%q\nwant\n%q", folders, want)
	}
	var missing, extra, total int64
	back := `SELECT dataset, year::INTEGER AS year, partner, value, flags FROM read_parquet('` + dir + `/**/*.parquet', hive_partitioning=true)`
	orig := `SELECT dataset, year, partner, value, flags FROM obs`
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM (`+orig+` EXCEPT ALL `+back+`)), (SELECT count(*) FROM (`+back+` EXCEPT ALL `+orig+`)), (SELECT count(*) FROM (`+back+`))`).Scan(&missing, &extra, &total); err != nil {
		t.Fatal(err)
	}
	if missing != 0 || extra != 0 || total != 3000 {
		t.Errorf("read back %d rows: %d missing, %d extra", total, missing, extra)
	}
	// A second publish replaces the folder: partitions that are gone do
	// not linger, and nothing is left beside it.
	publish("year = 2023 AND dataset = 'ec_schengen_consulates'")
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "dataset=ec_schengen_consulates" {
		t.Errorf("folder holds %v, want only dataset=ec_schengen_consulates", entries)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Errorf("beside the folder: %v", entries)
	}
}

func TestPartitionFolderErrors(t *testing.T) {
	for _, c := range []struct {
		names, values []string
		want          string
	}{
		{[]string{"k"}, []string{""}, `partition column "k" is empty`},
		{[]string{"k", "v"}, []string{"a"}, "partition folder of 2 columns and 1 values"},
		{nil, nil, "partition folder of 0 columns"},
	} {
		if _, err := PartitionFolder(c.names, c.values); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("PartitionFolder(%q, %q): %v, want %q", c.names, c.values, err, c.want)
		}
	}
}

func TestHiveEscape(t *testing.T) {
	for in, want := range map[string]string{
		"ec_schengen_consulates": "ec_schengen_consulates",
		"2023-05":                "2023-05",
		"a/b":                    "a%2Fb",
		"..":                     "%2E.",
		"x=y z%":                 "x%3Dy%20z%25",
		"Türkiye":                "T%C3%BCrkiye",
	} {
		if got := hiveEscape(in); got != want {
			t.Errorf("hiveEscape(%q) = %q, want %q", in, got, want)
		}
	}
}
