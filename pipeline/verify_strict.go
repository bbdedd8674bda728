package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/visastats/visastats/output"
	vsql "github.com/visastats/visastats/sql"
)

// tableDigest is what the verification of a written table compares its
// files with, read from the table in one scan: the row count, the sum of
// the rows' hashes (DuckDB's hash of the documented columns, as text) and,
// per documented column, its null count and the order-independent sum of
// its values (output.ValueSum).
type tableDigest struct {
	table string
	cols  []vsql.Column
	rows  int64
	hash  string
	nulls []int64
	sums  []uint64
}

// typedColumns lists cols cast to their documented types: hive partition
// columns come back from files as inferred types, and a hash depends on
// the type.
func typedColumns(cols []vsql.Column) []string {
	typed := make([]string, len(cols))
	for i, c := range cols {
		typed[i] = "CAST(" + vsql.QuoteIdent(c.Name) + " AS " + c.Type + ")"
	}
	return typed
}

// rowHashSum is the query of the row count and the sum of the row hashes
// of the typed columns list over from.
func rowHashSum(list, from string) string {
	return `SELECT count(*), CAST(coalesce(sum(CAST(hash(` + list + `) AS HUGEINT)), 0) AS VARCHAR) FROM ` + from
}

// digestTable reads t's digest in one scan of the table: one GROUPING SET
// per column gives each column's distinct values with their counts, so
// that Go hashes each distinct value once instead of every value of every
// row (a sum of equal hashes is the hash times the count, mod 2^64), and
// the empty set gives the row count and the sum of the row hashes.
func digestTable(ctx context.Context, conn *sql.Conn, cat []vsql.Column, t publishedTable) (tableDigest, error) {
	d := tableDigest{table: t.name}
	for _, c := range cat {
		if c.Table == t.name {
			d.cols = append(d.cols, c)
		}
	}
	if len(d.cols) == 0 || len(d.cols) > 62 {
		return d, fmt.Errorf("verify %s: %d documented columns", t.name, len(d.cols))
	}
	typed := typedColumns(d.cols)
	names := make([]string, len(d.cols))
	aliased := make([]string, len(d.cols))
	sets := make([]string, len(d.cols))
	for i, c := range d.cols {
		names[i] = vsql.QuoteIdent(c.Name)
		aliased[i] = typed[i] + " AS " + names[i]
		sets[i] = "(" + names[i] + ")"
	}
	q := "SELECT " + strings.Join(names, ", ") + ", grouping(" + strings.Join(names, ", ") + "), count(*), " +
		"CAST(coalesce(sum(CAST(visastats_row_hash AS HUGEINT)), 0) AS VARCHAR) " +
		"FROM (SELECT " + strings.Join(aliased, ", ") + ", hash(" + strings.Join(typed, ", ") + ") AS visastats_row_hash FROM " + vsql.QuoteIdent(t.name) + ") " +
		"GROUP BY GROUPING SETS (" + strings.Join(sets, ", ") + ", ())"
	r, err := conn.QueryContext(ctx, q)
	if err != nil {
		return d, fmt.Errorf("verify %s: read table: %w", t.name, err)
	}
	defer r.Close()
	n := len(d.cols)
	d.nulls, d.sums = make([]int64, n), make([]uint64, n)
	counted := make([]int64, n)
	vals := make([]any, n+3)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	all := int64(1)<<n - 1
	total := false
	for r.Next() {
		if err := r.Scan(ptrs...); err != nil {
			return d, fmt.Errorf("verify %s: read table: %w", t.name, err)
		}
		mask, _ := vals[n].(int64)
		count, _ := vals[n+1].(int64)
		if mask == all {
			d.rows, total = count, true
			d.hash, _ = vals[n+2].(string)
			continue
		}
		// grouping() sets the bit of every column not grouped on; the
		// first argument is the highest bit.
		i := -1
		for j := 0; j < n; j++ {
			if mask&(1<<(n-1-j)) == 0 {
				i = j
				break
			}
		}
		if i < 0 {
			return d, fmt.Errorf("verify %s: read table: grouping %d names no column", t.name, mask)
		}
		counted[i] += count
		if vals[i] == nil {
			d.nulls[i] += count
			continue
		}
		h, err := output.ValueSum(0, vals[i])
		if err != nil {
			return d, fmt.Errorf("verify %s column %s: %w", t.name, d.cols[i].Name, err)
		}
		d.sums[i] += h * uint64(count)
	}
	if err := r.Err(); err != nil {
		return d, fmt.Errorf("verify %s: read table: %w", t.name, err)
	}
	if !total {
		return d, fmt.Errorf("verify %s: read table: no row count", t.name)
	}
	for i, c := range counted {
		if c != d.rows {
			return d, fmt.Errorf("verify %s: read table: column %s counts %d rows of %d", t.name, d.cols[i].Name, c, d.rows)
		}
	}
	return d, nil
}

// verifyWritten verifies the Parquet files of table t against the table,
// read once (digestTable): DuckDB's read-back of path (verifyParquetFile),
// then the strict reader over files (verifyStrict).
func verifyWritten(ctx context.Context, conn *sql.Conn, path string, files []string, cat []vsql.Column, t publishedTable) error {
	d, err := digestTable(ctx, conn, cat, t)
	if err != nil {
		return err
	}
	if err := verifyParquetFile(ctx, conn, path, d); err != nil {
		return err
	}
	return verifyStrict(ctx, files, d)
}

// verifyParquet verifies a written Parquet file (or partitioned folder)
// against its table with DuckDB's reader (verifyParquetFile).
func verifyParquet(ctx context.Context, conn *sql.Conn, path string, cat []vsql.Column, t publishedTable) error {
	d, err := digestTable(ctx, conn, cat, t)
	if err != nil {
		return err
	}
	return verifyParquetFile(ctx, conn, path, d)
}

// verifyParquetStrict verifies the Parquet files of a table against it
// with the strict reader (verifyStrict).
func verifyParquetStrict(ctx context.Context, conn *sql.Conn, files []string, cat []vsql.Column, t publishedTable) error {
	d, err := digestTable(ctx, conn, cat, t)
	if err != nil {
		return err
	}
	return verifyStrict(ctx, files, d)
}

// verifyParquetFile reads a written Parquet file (or partitioned folder)
// back with DuckDB and compares it, column by name, with the table it was
// written from: the row counts and the sums of the rows' hashes must agree
// with d, and when they do not, EXCEPT ALL both ways counts the differing
// rows for the message. A file that does not round-trip is never
// published.
func verifyParquetFile(ctx context.Context, conn *sql.Conn, path string, d tableDigest) error {
	typed := typedColumns(d.cols)
	file := `read_parquet($1, hive_partitioning = true)`
	var n int64
	var h string
	if err := conn.QueryRowContext(ctx, rowHashSum(strings.Join(typed, ", "), file), path).Scan(&n, &h); err != nil {
		return fmt.Errorf("verify %s: %w", filepath.Base(path), err)
	}
	if n == d.rows && h == d.hash {
		return nil
	}
	// They differ: count the rows that differ, both ways.
	cols := make([]string, len(d.cols))
	for i, c := range d.cols {
		cols[i] = vsql.QuoteIdent(c.Name)
	}
	want := `SELECT ` + strings.Join(cols, ", ") + ` FROM ` + vsql.QuoteIdent(d.table)
	got := `SELECT ` + strings.Join(typed, ", ") + ` FROM ` + file
	q := `SELECT
		(SELECT count(*) FROM (` + want + ` EXCEPT ALL ` + got + `)),
		(SELECT count(*) FROM (` + got + ` EXCEPT ALL ` + want + `))`
	var missing, extra int64
	if err := conn.QueryRowContext(ctx, q, path).Scan(&missing, &extra); err != nil {
		return fmt.Errorf("verify %s: %w", filepath.Base(path), err)
	}
	return fmt.Errorf("verify %s: the file does not match its table (%d rows in the table, %d in the file; %d rows missing, %d unexpected)",
		filepath.Base(path), d.rows, n, missing, extra)
}

// verifyStrict reads the Parquet files written for a table with a second,
// strict reader (output.StrictReadParquet, parquet-go) that shares no code
// with the writers or with DuckDB, whose own read-back (verifyParquetFile)
// is lenient: it accepted a schema root marked REPEATED that strict
// readers such as hyparquet cannot read. Each file's schema must be
// spec-valid and give every documented column its documented physical and
// logical type; over all files, the row count and each column's null
// count and order-independent value sum must equal the table's (d).
// Columns absent from the files (hive partition columns, kept in folder
// names) are left to verifyParquetFile.
func verifyStrict(ctx context.Context, files []string, d tableDigest) error {
	name := d.table + ".parquet"
	if len(files) != 1 {
		name = d.table + "/"
	}
	type agg struct {
		nulls int64
		sum   uint64
	}
	got := make(map[string]*agg, len(d.cols))
	var rows int64
	for _, f := range files {
		s, err := output.StrictReadParquet(ctx, f)
		if err != nil {
			return fmt.Errorf("verify %s with a strict reader: %w", name, err)
		}
		rows += s.Rows
		byName := make(map[string]output.StrictColumn, len(s.Columns))
		for _, c := range s.Columns {
			byName[c.Name] = c
		}
		for _, c := range d.cols {
			sc, ok := byName[c.Name]
			if !ok {
				continue
			}
			phys, logical, err := output.ParquetTypeOf(c.Type)
			if err != nil {
				return fmt.Errorf("verify %s column %s: %w", name, c.Name, err)
			}
			if sc.Physical != phys || sc.Logical != logical {
				return fmt.Errorf("verify %s with a strict reader: column %s is %s %s in %s, want %s %s (documented %s)",
					name, c.Name, sc.Physical, sc.Logical, filepath.Base(f), phys, logical, c.Type)
			}
			a := got[c.Name]
			if a == nil {
				a = &agg{}
				got[c.Name] = a
			}
			a.nulls, a.sum = a.nulls+sc.Nulls, a.sum+sc.Sum
			delete(byName, c.Name)
		}
		for extra := range byName {
			return fmt.Errorf("verify %s with a strict reader: undocumented column %s in %s", name, extra, filepath.Base(f))
		}
	}
	if len(got) == 0 {
		return fmt.Errorf("verify %s with a strict reader: none of the documented columns is in the files", name)
	}
	if rows != d.rows {
		return fmt.Errorf("verify %s with a strict reader: %d rows in the files, %d in the table", name, rows, d.rows)
	}
	for i, c := range d.cols {
		g := got[c.Name]
		if g == nil {
			continue
		}
		if g.nulls != d.nulls[i] {
			return fmt.Errorf("verify %s with a strict reader: column %s has %d nulls in the files, %d in the table", name, c.Name, g.nulls, d.nulls[i])
		}
		if g.sum != d.sums[i] {
			return fmt.Errorf("verify %s with a strict reader: the values of column %s differ from the table's (value sums %x and %x)", name, c.Name, g.sum, d.sums[i])
		}
	}
	return nil
}
