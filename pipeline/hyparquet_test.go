package pipeline

import (
	"database/sql"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	vsql "github.com/visastats/visastats/sql"
)

// hyparquetScript reads each Parquet file named on its command line with
// hyparquet (and its zstd codec), column chunk by column chunk, and prints
// for each file the schema root's repetition and, per column, the values
// decoded, the nulls among them and, for numbers, their sum.
const hyparquetScript = `
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
const out = {}
for (const path of process.argv.slice(2)) {
  const file = await asyncBufferFromFile(path)
  const metadata = await parquetMetadataAsync(file)
  const cols = {}
  for (const s of metadata.schema.slice(1)) cols[s.name] = { rows: 0, nulls: 0, sum: 0 }
  await parquetRead({
    file, metadata, compressors,
    onChunk({ columnName, columnData }) {
      const c = cols[columnName]
      c.rows += columnData.length
      for (const v of columnData) {
        if (v === null || v === undefined) c.nulls++
        else if (typeof v === 'number' || typeof v === 'bigint') c.sum += Number(v)
      }
    },
  })
  out[path] = { root: metadata.schema[0].repetition_type ?? '', cols }
}
console.log(JSON.stringify(out))
`

type hyparquetRead struct {
	Root string `json:"root"`
	Cols map[string]struct {
		Rows  int64   `json:"rows"`
		Nulls int64   `json:"nulls"`
		Sum   float64 `json:"sum"`
	} `json:"cols"`
}

// withHyparquet installs npm's hyparquet into a temporary folder and
// returns a function that reads Parquet files with it, in one node
// process. It skips the test when node or npm is missing or the package
// cannot be installed.
func withHyparquet(t *testing.T) func(paths ...string) map[string]hyparquetRead {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the hyparquet check is skipped")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: the hyparquet check is skipped")
	}
	dir := t.TempDir()
	// Pinned, so that a new release of the reader cannot change what CI checks.
	install := exec.Command(npm, "install", "--no-audit", "--no-fund", "--silent", "hyparquet@1.33.0", "hyparquet-compressors@1.1.2")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("npm install hyparquet failed (offline?), the hyparquet check is skipped: %v\n%s", err, out)
	}
	script := filepath.Join(dir, "read.mjs")
	if err := os.WriteFile(script, []byte(hyparquetScript), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(paths ...string) map[string]hyparquetRead {
		t.Helper()
		cmd := exec.Command(node, append([]string{script}, paths...)...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("hyparquet cannot read %v: %v\n%s", paths, err, stderr)
		}
		var r map[string]hyparquetRead
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("hyparquet output: %v\n%s", err, out)
		}
		return r
	}
}

// checkWithHyparquet compares hyparquet's read of the published Parquet
// file of table (got) with DuckDB's: rows, nulls and sums of every column
// of the catalogue. It returns DuckDB's row count.
func checkWithHyparquet(t *testing.T, db *sql.DB, path, table string, got hyparquetRead) int64 {
	t.Helper()
	if got.Root == "REPEATED" {
		t.Errorf("%s: schema root is REPEATED", table)
	}
	cat, err := vsql.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	var cols []vsql.Column
	exprs := []string{"count(*)"}
	for _, c := range cat {
		if c.Table != table {
			continue
		}
		cols = append(cols, c)
		q := vsql.QuoteIdent(c.Name)
		sum := "NULL::DOUBLE"
		switch c.Type {
		case "INTEGER", "BIGINT", "DOUBLE":
			sum = "sum(" + q + ")::DOUBLE"
		}
		exprs = append(exprs, "count(*) - count("+q+")", sum)
	}
	var rows int64
	nulls := make([]int64, len(cols))
	sums := make([]sql.NullFloat64, len(cols))
	dest := []any{&rows}
	for i := range cols {
		dest = append(dest, &nulls[i], &sums[i])
	}
	if err := db.QueryRow(`SELECT `+strings.Join(exprs, ", ")+` FROM read_parquet(?)`, path).Scan(dest...); err != nil {
		t.Fatal(err)
	}
	for i, c := range cols {
		h, ok := got.Cols[c.Name]
		if !ok {
			t.Errorf("%s: hyparquet sees no column %s", table, c.Name)
			continue
		}
		if h.Rows != rows {
			t.Errorf("%s.%s: hyparquet read %d values, DuckDB %d rows", table, c.Name, h.Rows, rows)
		}
		if h.Nulls != nulls[i] {
			t.Errorf("%s.%s: hyparquet sees %d nulls, DuckDB %d", table, c.Name, h.Nulls, nulls[i])
		}
		if s := sums[i]; s.Valid && math.Abs(h.Sum-s.Float64) > 1e-6*math.Max(1, math.Abs(s.Float64)) {
			t.Errorf("%s.%s: hyparquet sums to %v, DuckDB to %v", table, c.Name, h.Sum, s.Float64)
		}
	}
	return rows
}
