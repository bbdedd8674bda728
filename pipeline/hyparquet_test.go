package pipeline

import (
	"database/sql"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	vsql "github.com/visastats/visastats/sql"
)

// hyparquetScript reads a Parquet file with hyparquet (and its zstd codec)
// and prints the schema root's repetition, the row count, and each
// column's null count and, for numbers, its sum.
const hyparquetScript = `
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
const file = await asyncBufferFromFile(process.argv[2])
const md = await parquetMetadataAsync(file)
const rows = await parquetReadObjects({ file, compressors })
const cols = {}
for (const s of md.schema.slice(1)) {
  let nulls = 0, sum = 0
  for (const r of rows) {
    const v = r[s.name]
    if (v === null || v === undefined) nulls++
    else if (typeof v === 'number' || typeof v === 'bigint') sum += Number(v)
  }
  cols[s.name] = { nulls, sum }
}
console.log(JSON.stringify({ root: md.schema[0].repetition_type ?? '', rows: rows.length, cols }))
`

type hyparquetRead struct {
	Root string `json:"root"`
	Rows int64  `json:"rows"`
	Cols map[string]struct {
		Nulls int64   `json:"nulls"`
		Sum   float64 `json:"sum"`
	} `json:"cols"`
}

// withHyparquet installs npm's hyparquet into a temporary folder and
// returns a function that reads a Parquet file with it. It skips the test
// when node or npm is missing or the package cannot be installed.
func withHyparquet(t *testing.T) func(path string) hyparquetRead {
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
	// Pinned: a new release of the reader must not change what CI checks.
	install := exec.Command(npm, "install", "--no-audit", "--no-fund", "--silent", "hyparquet@1.33.0", "hyparquet-compressors@1.1.2")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("npm install hyparquet failed (offline?), the hyparquet check is skipped: %v\n%s", err, out)
	}
	script := filepath.Join(dir, "read.mjs")
	if err := os.WriteFile(script, []byte(hyparquetScript), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(path string) hyparquetRead {
		t.Helper()
		cmd := exec.Command(node, script, path)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("hyparquet cannot read %s: %v\n%s", filepath.Base(path), err, stderr)
		}
		var r hyparquetRead
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("hyparquet output for %s: %v\n%s", filepath.Base(path), err, out)
		}
		return r
	}
}

// checkWithHyparquet reads the published Parquet file of table with
// hyparquet and compares its rows, nulls and sums with DuckDB's read.
func checkWithHyparquet(t *testing.T, db *sql.DB, read func(string) hyparquetRead, latest, table string) {
	t.Helper()
	path := filepath.Join(latest, table+".parquet")
	got := read(path)
	if got.Root == "REPEATED" {
		t.Errorf("%s: schema root is REPEATED", table)
	}
	var rows int64
	if err := db.QueryRow(`SELECT count(*) FROM read_parquet(?)`, path).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if got.Rows != rows || rows == 0 {
		t.Errorf("%s: hyparquet read %d rows, DuckDB %d", table, got.Rows, rows)
	}
	cat, err := vsql.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cat {
		if c.Table != table {
			continue
		}
		h, ok := got.Cols[c.Name]
		if !ok {
			t.Errorf("%s: hyparquet sees no column %s", table, c.Name)
			continue
		}
		var nulls int64
		var sum sql.NullFloat64
		sumExpr := "NULL"
		switch c.Type {
		case "INTEGER", "BIGINT", "DOUBLE":
			sumExpr = "sum(" + vsql.QuoteIdent(c.Name) + ")::DOUBLE"
		}
		if err := db.QueryRow(`SELECT count(*) - count(`+vsql.QuoteIdent(c.Name)+`), `+sumExpr+` FROM read_parquet(?)`, path).Scan(&nulls, &sum); err != nil {
			t.Fatal(err)
		}
		if h.Nulls != nulls {
			t.Errorf("%s.%s: hyparquet sees %d nulls, DuckDB %d", table, c.Name, h.Nulls, nulls)
		}
		if sum.Valid && math.Abs(h.Sum-sum.Float64) > 1e-6*math.Max(1, math.Abs(sum.Float64)) {
			t.Errorf("%s.%s: hyparquet sums to %v, DuckDB to %v", table, c.Name, h.Sum, sum.Float64)
		}
	}
}
