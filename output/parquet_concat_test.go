package output

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/marcboeker/go-duckdb"
)

// concatFixture writes the shipped Eurostat SDMX-CSV file (typed by
// DuckDB's read_csv, with its line number) as one Parquet file and as
// parts of consecutive line ranges, each written by DuckDB's COPY with
// small row groups, bloom filters and key-value metadata.
func concatFixture(t *testing.T, cuts []int) (db *sql.DB, whole string, parts []string) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	src := filepath.Join("..", "data", "eurostat", "migr_asydcfsta_sdmx-csv_FR_2015-2019.csv")
	if _, err := db.Exec(`CREATE TABLE t AS SELECT row_number() OVER () AS line, * FROM read_csv(?, header = true)`, src); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(path, where string) {
		t.Helper()
		q := fmt.Sprintf(`COPY (SELECT * FROM t %s ORDER BY line) TO '%s' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048, KV_METADATA {source: 'eurostat', "visastats:table": 'test'})`, where, path)
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	whole = filepath.Join(dir, "whole.parquet")
	write(whole, "")
	lo := 0
	for i, c := range append(cuts, 1<<31-1) {
		p := filepath.Join(dir, fmt.Sprintf("part%d.parquet", i))
		write(p, fmt.Sprintf("WHERE line > %d AND line <= %d", lo, c))
		parts = append(parts, p)
		lo = c
	}
	return db, whole, parts
}

func TestConcatParquet(t *testing.T) {
	ctx := context.Background()
	db, whole, parts := concatFixture(t, []int{1, 5000, 5001, 20000})
	out := filepath.Join(t.TempDir(), "concat.parquet")
	n, err := ConcatParquet(ctx, out, parts)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if n != want || want < 20000 {
		t.Fatalf("concatenation has %d rows, the file %d (want more than 20000)", n, want)
	}
	// DuckDB reads the same rows in the same positions as the single file.
	var diff, outOfPlace int64
	if err := db.QueryRow(`SELECT
		(SELECT count(*) FROM (SELECT * FROM read_parquet(?) EXCEPT ALL SELECT * FROM read_parquet(?))),
		(SELECT count(*) FROM read_parquet(?, file_row_number = true) WHERE line <> file_row_number + 1)`, out, whole, out).Scan(&diff, &outOfPlace); err != nil {
		t.Fatal(err)
	}
	if diff != 0 || outOfPlace != 0 {
		t.Fatalf("%d rows differ from the single file, %d rows out of place", diff, outOfPlace)
	}
	// Row groups: every part's, in order; every column chunk inside the
	// file, after the one before it.
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	var groups, partGroups, badOffsets int64
	if err := db.QueryRow(`SELECT count(DISTINCT row_group_id), count(*) FILTER (WHERE start < 4 OR start + total_compressed_size > ? OR start < prev_end)
		FROM (SELECT row_group_id, total_compressed_size, coalesce(dictionary_page_offset, data_page_offset) AS start,
			lag(coalesce(dictionary_page_offset, data_page_offset) + total_compressed_size) OVER (ORDER BY row_group_id, column_id) AS prev_end
			FROM parquet_metadata(?))`, st.Size()-8, out).Scan(&groups, &badOffsets); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(DISTINCT (file_name, row_group_id)) FROM parquet_metadata(['` + strings.Join(parts, "', '") + `'])`).Scan(&partGroups); err != nil {
		t.Fatal(err)
	}
	if groups != partGroups || groups < 10 || badOffsets != 0 {
		t.Fatalf("%d row groups, want the parts' %d; %d column chunks outside the file or overlapping", groups, partGroups, badOffsets)
	}
	// The key-value metadata is kept.
	var kv int64
	if err := db.QueryRow(`SELECT count(*) FROM parquet_kv_metadata(?) WHERE decode(key) = 'visastats:table' AND decode(value) = 'test'`, out).Scan(&kv); err != nil {
		t.Fatal(err)
	}
	if kv != 1 {
		t.Fatalf("key-value metadata lost")
	}
	// A reader that shares no code with DuckDB or the merge (parquet-go)
	// reads every page and gets the single file's values.
	a, err := StrictReadParquet(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	b, err := StrictReadParquet(ctx, whole)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rows != b.Rows || len(a.Columns) != len(b.Columns) {
		t.Fatalf("strict reader: %d rows %d columns, single file %d and %d", a.Rows, len(a.Columns), b.Rows, len(b.Columns))
	}
	for i := range a.Columns {
		if a.Columns[i] != b.Columns[i] {
			t.Errorf("strict reader: column %+v, single file %+v", a.Columns[i], b.Columns[i])
		}
	}
}

func TestConcatParquetRefusesMismatchedParts(t *testing.T) {
	ctx := context.Background()
	db, _, parts := concatFixture(t, []int{3000})
	other := filepath.Join(t.TempDir(), "other.parquet")
	if _, err := db.Exec(`COPY (SELECT * EXCLUDE (line) FROM t) TO '` + other + `' (FORMAT parquet, KV_METADATA {source: 'eurostat', "visastats:table": 'test'})`); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "concat.parquet")
	_, err := ConcatParquet(ctx, out, []string{parts[0], other})
	if err == nil || !strings.Contains(err.Error(), "part 2's schema or key-value metadata differs") {
		t.Fatalf("err = %v, want the parts' schemas refused", err)
	}
	if _, serr := os.Stat(out); !os.IsNotExist(serr) {
		t.Fatalf("a refused concatenation left %s", out)
	}
}

// Damaged footers give an error, never a panic or a file.
func TestConcatParquetDamagedFooter(t *testing.T) {
	ctx := context.Background()
	_, _, parts := concatFixture(t, []int{3000})
	good, err := os.ReadFile(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(1))
	flen := int(uint32(good[len(good)-8]) | uint32(good[len(good)-7])<<8 | uint32(good[len(good)-6])<<16 | uint32(good[len(good)-5])<<24)
	for i := 0; i < 300; i++ {
		b := append([]byte(nil), good...)
		switch i % 3 {
		case 0: // flip bytes of the footer
			for j := 0; j < 1+rng.Intn(4); j++ {
				b[len(b)-8-flen+rng.Intn(flen)] ^= byte(1 + rng.Intn(255))
			}
		case 1: // cut the footer short and move the tail
			cut := 1 + rng.Intn(flen-1)
			b = append(b[:len(b)-8-cut], b[len(b)-8:]...)
		case 2: // a wrong footer length
			b[len(b)-8+rng.Intn(4)] ^= byte(1 + rng.Intn(255))
		}
		bad := filepath.Join(dir, "bad.parquet")
		if err := os.WriteFile(bad, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out.parquet")
		if _, err := ConcatParquet(ctx, out, []string{parts[0], bad}); err == nil {
			// A flip inside a value (a statistic, a size) still parses;
			// what matters is no panic and that an error names the part.
			os.Remove(out)
			continue
		} else if !strings.Contains(err.Error(), "part") {
			t.Fatalf("error %q does not name the part", err)
		}
	}
}
