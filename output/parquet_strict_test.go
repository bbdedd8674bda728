package output

import (
	"context"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
)

func TestStrictReadParquet(t *testing.T) {
	schema, recs := testRecords(t)
	rdr, err := array.NewRecordReader(schema, recs)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "t.parquet")
	if _, err := WriteParquet(context.Background(), path, rdr, ParquetOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := StrictReadParquet(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows != 2 || len(s.Columns) != 4 {
		t.Fatalf("rows %d, columns %d; want 2 and 4", s.Rows, len(s.Columns))
	}
	want := []struct {
		name, phys, logical string
		nulls               int64
		values              []any
	}{
		{"host_country", "BYTE_ARRAY", "STRING", 0, []any{"RU", "RU"}},
		{"year", "INT32", "INT(32,true)", 0, []any{int32(2022), int32(2023)}},
		{"applications", "INT64", "INT(64,true)", 0, []any{int64(687264), int64(520402)}},
		{"applications_yoy_change", "DOUBLE", "", 1, []any{nil, 520402.0/687264 - 1}},
	}
	for i, w := range want {
		c := s.Columns[i]
		var sum uint64
		for _, v := range w.values {
			if sum, err = ValueSum(sum, v); err != nil {
				t.Fatal(err)
			}
		}
		if c.Name != w.name || c.Physical != w.phys || c.Logical != w.logical || c.Nulls != w.nulls || c.Sum != sum {
			t.Errorf("column %d = %+v, want %s %s %q nulls %d sum %x", i, c, w.name, w.phys, w.logical, w.nulls, sum)
		}
	}
}

// Arrow's writer marks the schema root REPEATED unless told otherwise;
// that is what visastats published before, and the strict reader must
// refuse it.
func TestStrictReadParquetRefusesRepeatedRoot(t *testing.T) {
	schema, recs := testRecords(t)
	path := filepath.Join(t.TempDir(), "repeated.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(recs[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = StrictReadParquet(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "REPEATED") {
		t.Fatalf("err = %v, want one saying the root is REPEATED", err)
	}
}

// TestValueHashIsFNV1a: the inlined hash is hash/fnv's 64-bit FNV-1a, so
// sums stay comparable with what they were.
func TestValueHashIsFNV1a(t *testing.T) {
	for _, s := range []string{"", "0", "-1234567", "Russian Federation", "2023 (Jan-Jun)", "Ελλάδα", "\x00\xff"} {
		h := fnv.New64a()
		h.Write([]byte(s))
		if got, want := valueHash(s), h.Sum64(); got != want {
			t.Errorf("valueHash(%q) = %x, want %x", s, got, want)
		}
	}
}
