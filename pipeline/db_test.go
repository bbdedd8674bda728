package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"

	vsql "github.com/visastats/visastats/sql"
)

// TestSlicedReader reads a table in key-range slices smaller than the
// table: every row arrives once, in key order, whatever the slice size,
// with groups of very different sizes (one larger than a slice) and keys
// whose order depends on the second and third columns.
func TestSlicedReader(t *testing.T) {
	ctx := context.Background()
	conn := openDuckConn(t)
	// k1 in a..e, k2 a year, k3 a code, then a unique row number; the
	// first 6,000 rows are all of 2001 (groups of about 92 rows, larger
	// than the smallest slice), the others spread over seven years. (Each
	// slice is a query over the whole table: a table ten times larger,
	// with slices ten times larger, tests the same at ten times the cost.)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE t AS
		SELECT chr(97 + (i % 5)::INTEGER) AS k1,
		       CASE WHEN i < 6000 THEN 2001 ELSE 2000 + (i % 7)::INTEGER END AS k2,
		       'c' || (i % 13)::VARCHAR AS k3,
		       i AS id, 'row ' || i::VARCHAR AS s
		FROM range(12001) r(i)`); err != nil {
		t.Fatal(err)
	}
	const n = 12_001
	var want []int64
	rows, err := conn.QueryContext(ctx, `SELECT id FROM t ORDER BY k1, k2, k3, id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	rows.Close()
	for _, slice := range []int64{n + 10, 2_000, 777, 50} {
		slices, err := planSlices(ctx, conn, "id, s", "t", "k1, k2, k3, id", n, slice)
		if err != nil {
			t.Fatal(err)
		}
		if slice < n && len(slices) < int(n/slice)/2 {
			t.Errorf("slice %d: only %d slices", slice, len(slices))
		}
		sr := &slicedReader{ctx: ctx, conn: conn, slices: slices}
		if err := sr.open(); err != nil {
			t.Fatal(err)
		}
		var next int
		for sr.Next() {
			rec := sr.Record()
			ids := rec.Column(0).(*array.Int64)
			strs := rec.Column(1).(*array.String)
			for i := 0; i < ids.Len(); i++ {
				if next >= len(want) || ids.Value(i) != want[next] || strs.Value(i) != fmt.Sprintf("row %d", ids.Value(i)) {
					t.Fatalf("slice %d: row %d is %d %q", slice, next, ids.Value(i), strs.Value(i))
				}
				next++
			}
		}
		if sr.Err() != nil || next != n {
			t.Fatalf("slice %d (%d queries): read %d rows, err %v", slice, len(slices), next, sr.Err())
		}
		sr.Release()
	}
}

// TestVerifyParquet: a file that round-trips passes, in either layout;
// one changed value, one missing row or a changed string is caught and
// the message counts the rows that differ.
func TestVerifyParquet(t *testing.T) {
	ctx := context.Background()
	conn := openDuckConn(t)
	dir := t.TempDir()
	exec := func(q string) { t.Helper(); mustExec(t, conn, q) }
	exec(`CREATE TABLE v AS SELECT 'ds' || (i % 3)::VARCHAR AS dataset, (2000 + i % 5)::INTEGER AS year,
		CASE WHEN i % 7 = 0 THEN NULL ELSE i * 1.5 END AS value, 'x' || i::VARCHAR AS label FROM range(5000) r(i)`)
	exec(`COPY v TO '` + dir + `/v.parquet' (FORMAT PARQUET)`)
	exec(`COPY v TO '` + dir + `/parts' (FORMAT PARQUET, PARTITION_BY (dataset, year))`)
	cat := []vsql.Column{
		{Table: "v", Name: "dataset", Type: "VARCHAR"}, {Table: "v", Name: "year", Type: "INTEGER"},
		{Table: "v", Name: "value", Type: "DOUBLE"}, {Table: "v", Name: "label", Type: "VARCHAR"},
	}
	tbl := publishedTable{name: "v"}
	file, parts := dir+"/v.parquet", dir+"/parts/**/*.parquet"
	for _, p := range []string{file, parts} {
		if err := verifyParquet(ctx, conn, p, cat, tbl); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, c := range []struct{ change, want string }{
		{`UPDATE v SET value = value + 1 WHERE label = 'x12'`, "1 rows missing, 1 unexpected"},
		{`DELETE FROM v WHERE label = 'x13'`, "4999 rows in the table, 5000 in the file; 0 rows missing, 1 unexpected"},
		{`UPDATE v SET label = 'x14 ' WHERE label = 'x14'`, "1 rows missing, 1 unexpected"},
	} {
		exec(`CREATE OR REPLACE TABLE w AS SELECT * FROM v`)
		exec(c.change)
		for _, p := range []string{file, parts} {
			err := verifyParquet(ctx, conn, p, cat, tbl)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s after %q: %v, want an error with %q", p, c.change, err, c.want)
			}
		}
		exec(`CREATE OR REPLACE TABLE v AS SELECT * FROM w`)
	}
}
