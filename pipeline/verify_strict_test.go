package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/visastats/visastats/output"
	vsql "github.com/visastats/visastats/sql"
)

func TestVerifyParquetStrict(t *testing.T) {
	ctx := context.Background()
	conn := openDuckConn(t)
	exec := func(q string) { t.Helper(); mustExec(t, conn, q) }
	exec(`CREATE TABLE v AS SELECT 'ds' || (i % 3)::VARCHAR AS dataset, (2000 + i % 5)::INTEGER AS year,
		CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 1.5)::DOUBLE END AS value, 'x' || i::VARCHAR AS label,
		DATE '2024-01-01' + (i % 40)::INTEGER AS day FROM range(5000) r(i)`)
	cat := []vsql.Column{
		{Table: "v", Name: "dataset", Type: "VARCHAR"}, {Table: "v", Name: "year", Type: "INTEGER"},
		{Table: "v", Name: "value", Type: "DOUBLE"}, {Table: "v", Name: "label", Type: "VARCHAR"},
		{Table: "v", Name: "day", Type: "DATE"},
	}
	tbl := publishedTable{name: "v", orderBy: "label"}
	dir := t.TempDir()
	file := filepath.Join(dir, "v.parquet")
	if _, err := queryArrow(ctx, conn, tableColumns(cat, tbl), "v", tbl.orderBy, 5000, func(r array.RecordReader) (int64, error) {
		return output.WriteParquet(ctx, file, r, output.ParquetOptions{RowGroupRows: 1000})
	}); err != nil {
		t.Fatal(err)
	}
	// The partitioned folder as the export writes it: one DuckDB COPY per
	// dataset and year into the folder output.PartitionFolder names.
	var parts []string
	for d := 0; d < 3; d++ {
		for y := 2000; y < 2005; y++ {
			folder, err := output.PartitionFolder(observationPartitions, []string{"ds" + strconv.Itoa(d), strconv.Itoa(y)})
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(dir, "parts", folder, output.PartitionFile)
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				t.Fatal(err)
			}
			if _, err := copyParquet(ctx, conn, fmt.Sprintf("SELECT value, label, day FROM v WHERE dataset = 'ds%d' AND year = %d ORDER BY label", d, y), f, map[string]string{"table": "v"}); err != nil {
				t.Fatal(err)
			}
			parts = append(parts, f)
		}
	}
	if len(parts) != 15 {
		t.Fatalf("%d partition files, want 15", len(parts))
	}
	for name, files := range map[string][]string{"file": {file}, "partitioned": parts} {
		if err := verifyParquetStrict(ctx, conn, files, cat, tbl); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, c := range []struct{ change, want string }{
		{`UPDATE v SET value = value + 1 WHERE label = 'x12'`, "values of column value differ"},
		{`UPDATE v SET value = NULL WHERE label = 'x12'`, "column value has 715 nulls in the files, 716 in the table"},
		{`DELETE FROM v WHERE label = 'x13'`, "5000 rows in the files, 4999 in the table"},
		{`UPDATE v SET label = 'x14 ' WHERE label = 'x14'`, "values of column label differ"},
		{`UPDATE v SET day = day + 1 WHERE label = 'x15'`, "values of column day differ"},
	} {
		exec(`CREATE OR REPLACE TABLE w AS SELECT * FROM v`)
		exec(c.change)
		for name, files := range map[string][]string{"file": {file}, "partitioned": parts} {
			err := verifyParquetStrict(ctx, conn, files, cat, tbl)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s after %q: %v, want an error with %q", name, c.change, err, c.want)
			}
		}
		exec(`CREATE OR REPLACE TABLE v AS SELECT * FROM w`)
	}
	// A documented type that the file does not have.
	wrong := append([]vsql.Column(nil), cat...)
	wrong[1].Type = "BIGINT"
	if err := verifyParquetStrict(ctx, conn, []string{file}, wrong, tbl); err == nil || !strings.Contains(err.Error(), "column year is INT32 INT(32,true)") {
		t.Errorf("wrong documented type: %v", err)
	}
}
