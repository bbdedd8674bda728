package output

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/parquet/file"
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

func TestWriteParquetPartitioned(t *testing.T) {
	db := openDB(t)
	if _, err := db.Exec(observationsSample); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		query string
		files []string
	}{
		{"sorted", `SELECT * FROM obs ORDER BY dataset, year, value`, []string{
			"dataset=ec_schengen_consulates/year=2021/part-0.parquet",
			"dataset=ec_schengen_consulates/year=2022/part-0.parquet",
			"dataset=ec_schengen_consulates/year=2023/part-0.parquet",
			"dataset=odd%2Fname%20%C3%A9%3D%25/year=2021/part-0.parquet",
			"dataset=odd%2Fname%20%C3%A9%3D%25/year=2022/part-0.parquet",
			"dataset=odd%2Fname%20%C3%A9%3D%25/year=2023/part-0.parquet",
		}},
		// Unsorted rows: a partition that comes back gets another file.
		{"unsorted", `SELECT * FROM obs WHERE dataset = 'ec_schengen_consulates' AND year < 2023 ORDER BY value > 1000, year`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "observations")
			var n int64
			var files []string
			err := withArrow(t, db, c.query, func(r array.RecordReader) error {
				var err error
				n, files, err = WriteParquetPartitioned(context.Background(), dir, r, []string{"dataset", "year"}, ParquetOptions{RowGroupRows: 500, Metadata: map[string]string{"release": "r1"}})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var want int64
			db.QueryRow(`SELECT count(*) FROM (` + c.query + `)`).Scan(&want)
			if n != want {
				t.Errorf("rows %d, want %d", n, want)
			}
			if c.files != nil && !reflect.DeepEqual(files, c.files) {
				t.Errorf("files\n%q\nwant\n%q", files, c.files)
			}
			if c.files == nil && len(files) != 6 { // 2 years, 3 runs: value <= 1000, > 1000, NULL
				t.Errorf("unsorted rows went to %d files: %q", len(files), files)
			}
			// Every file exists, lacks the partition columns and carries
			// the metadata.
			for _, f := range files {
				pf, err := file.OpenParquetFile(filepath.Join(dir, filepath.FromSlash(f)), false)
				if err != nil {
					t.Fatal(err)
				}
				var cols []string
				for i := 0; i < pf.MetaData().Schema.NumColumns(); i++ {
					cols = append(cols, pf.MetaData().Schema.Column(i).Name())
				}
				if got := strings.Join(cols, ","); got != "partner,value,flags" {
					t.Errorf("%s columns %s, want partner,value,flags", f, got)
				}
				if v := pf.MetaData().KeyValueMetadata().FindValue("release"); v == nil || *v != "r1" {
					t.Errorf("%s lacks the release metadata", f)
				}
				pf.Close()
			}
			// DuckDB reads the folder back as the same rows, NULLs and
			// escaped names included.
			var missing, extra int
			back := `SELECT dataset, year::INTEGER AS year, partner, value, flags FROM read_parquet('` + dir + `/**/*.parquet', hive_partitioning=true)`
			orig := `SELECT dataset, year, partner, value, flags FROM (` + c.query + `)`
			if err := db.QueryRow(`SELECT count(*) FROM (` + orig + ` EXCEPT ALL ` + back + `)`).Scan(&missing); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(`SELECT count(*) FROM (` + back + ` EXCEPT ALL ` + orig + `)`).Scan(&extra); err != nil {
				t.Fatal(err)
			}
			var total int64
			db.QueryRow(`SELECT count(*) FROM (` + back + `)`).Scan(&total)
			if missing != 0 || extra != 0 || total != want {
				t.Errorf("read back %d rows: %d missing, %d extra", total, missing, extra)
			}
			if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
				t.Errorf("beside the folder: %v", entries)
			}
		})
	}
}

// TestWriteParquetPartitionedReplaces: a second export replaces the
// folder, so files of partitions that are gone do not linger.
func TestWriteParquetPartitionedReplaces(t *testing.T) {
	db := openDB(t)
	dir := filepath.Join(t.TempDir(), "obs")
	for _, q := range []string{`SELECT 'a' AS k, 1 AS v UNION ALL SELECT 'b', 2 ORDER BY k`, `SELECT 'c' AS k, 3 AS v`} {
		err := withArrow(t, db, q, func(r array.RecordReader) error {
			_, _, err := WriteParquetPartitioned(context.Background(), dir, r, []string{"k"}, ParquetOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "k=c" {
		t.Errorf("folder holds %v, want only k=c", entries)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("beside the folder: %v", entries)
	}
}

func TestWriteParquetPartitionedErrors(t *testing.T) {
	db := openDB(t)
	for _, c := range []struct {
		name, query string
		cols        []string
		want        string
	}{
		{"null value", `SELECT * FROM (VALUES ('a', 1), (NULL, 2)) t(k, v) ORDER BY k`, []string{"k"}, `partition column "k" is NULL`},
		{"empty value", `SELECT * FROM (VALUES ('a', 1), ('', 2)) t(k, v) ORDER BY k`, []string{"k"}, `partition column "k" is empty`},
		{"no such column", `SELECT 'a' AS k, 1 AS v`, []string{"year"}, `partition column "year": the records have 0 columns`},
		{"every column", `SELECT 'a' AS k`, []string{"k"}, "every column is a partition column"},
		{"no column", `SELECT 'a' AS k`, nil, "no partition columns"},
		{"float column", `SELECT 1.5::DOUBLE AS k, 1 AS v`, []string{"k"}, "cannot name a folder"},
	} {
		t.Run(c.name, func(t *testing.T) {
			parent := t.TempDir()
			err := withArrow(t, db, c.query, func(r array.RecordReader) error {
				_, _, err := WriteParquetPartitioned(context.Background(), filepath.Join(parent, "out"), r, c.cols, ParquetOptions{})
				return err
			})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v, want %q", err, c.want)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("left behind: %v", entries)
			}
		})
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
