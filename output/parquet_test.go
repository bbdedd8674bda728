package output

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
)

func testRecords(t *testing.T) (*arrow.Schema, []arrow.Record) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "host_country", Type: arrow.BinaryTypes.String},
		{Name: "year", Type: arrow.PrimitiveTypes.Int32},
		{Name: "applications", Type: arrow.PrimitiveTypes.Int64},
		{Name: "applications_yoy_change", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"RU", "RU"}, nil)
	b.Field(1).(*array.Int32Builder).AppendValues([]int32{2022, 2023}, nil)
	b.Field(2).(*array.Int64Builder).AppendValues([]int64{687264, 520402}, nil)
	b.Field(3).(*array.Float64Builder).AppendValues([]float64{0, 520402.0/687264 - 1}, []bool{false, true})
	return schema, []arrow.Record{b.NewRecord()}
}

func TestWriteParquetRoundTrip(t *testing.T) {
	schema, recs := testRecords(t)
	rdr, err := array.NewRecordReader(schema, recs)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "t.parquet")
	n, err := WriteParquet(context.Background(), path, rdr, ParquetOptions{Metadata: map[string]string{"release": "r1", "licence": "CC BY 4.0"}})
	if err != nil || n != 2 {
		t.Fatalf("rows %d, err %v", n, err)
	}
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	kv := pf.MetaData().KeyValueMetadata()
	if kv.FindValue("release") == nil || *kv.FindValue("release") != "r1" || *kv.FindValue("licence") != "CC BY 4.0" {
		t.Errorf("metadata: %v", kv)
	}
	c, err := pf.MetaData().RowGroup(0).ColumnChunk(2)
	if err != nil {
		t.Fatal(err)
	}
	if c.Compression().String() != "ZSTD" {
		t.Errorf("compression %s, want ZSTD", c.Compression())
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if tbl.Schema().Field(2).Type.ID() != arrow.INT64 {
		t.Errorf("applications read back as %s", tbl.Schema().Field(2).Type)
	}
	apps := tbl.Column(2).Data().Chunk(0).(*array.Int64)
	change := tbl.Column(3).Data().Chunk(0).(*array.Float64)
	if apps.Value(1) != 520402 || !change.IsNull(0) || change.Value(1) > -0.2427 || change.Value(1) < -0.2429 {
		t.Errorf("values read back: %v %v", apps, change)
	}
}

type failingReader struct {
	array.RecordReader
	n int
}

func (f *failingReader) Next() bool {
	f.n++
	return f.n == 1 && f.RecordReader.Next()
}
func (f *failingReader) Err() error { return errors.New("disk on fire") }

// TestWriteParquetNoHalfFile: a failing stream leaves neither the file nor a
// temporary file behind.
func TestWriteParquetNoHalfFile(t *testing.T) {
	schema, recs := testRecords(t)
	rdr, err := array.NewRecordReader(schema, recs)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err = WriteParquet(context.Background(), filepath.Join(dir, "t.parquet"), &failingReader{RecordReader: rdr}, ParquetOptions{})
	if err == nil {
		t.Fatal("no error from a failing reader")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

// scribbler is an allocator that overwrites memory when it is freed, as
// memory freed by C may be reused at once.
type scribbler struct{ memory.Allocator }

func (s scribbler) Free(b []byte) {
	for i := range b {
		b[i] = 'Z'
	}
	s.Allocator.Free(b)
}

// TestWriteParquetStatsOfReleasedRecords: a reader releases each record
// when it moves on, long before the row group is closed; the row group's
// min/max statistics must still be the records' values.
func TestWriteParquetStatsOfReleasedRecords(t *testing.T) {
	alloc := scribbler{memory.NewGoAllocator()}
	schema := arrow.NewSchema([]arrow.Field{{Name: "host_country", Type: arrow.BinaryTypes.String}}, nil)
	var recs []arrow.Record
	for _, batch := range [][]string{{"DE", "FR"}, {"RU", "TR"}, {"AL", "XK"}} {
		b := array.NewRecordBuilder(alloc, schema)
		b.Field(0).(*array.StringBuilder).AppendValues(batch, nil)
		recs = append(recs, b.NewRecord())
		b.Release()
	}
	rdr, err := array.NewRecordReader(schema, recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r.Release() // the reader holds the only reference, as go-duckdb's does
	}
	path := filepath.Join(t.TempDir(), "t.parquet")
	if _, err := WriteParquet(context.Background(), path, rdr, ParquetOptions{}); err != nil {
		t.Fatal(err)
	}
	rdr.Release()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	c, err := pf.MetaData().RowGroup(0).ColumnChunk(0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Statistics()
	if err != nil || st == nil {
		t.Fatalf("no statistics: %v", err)
	}
	min, max := string(st.EncodeMin()), string(st.EncodeMax())
	if min != "AL" || max != "XK" {
		t.Errorf("statistics min %q max %q, want AL and XK", min, max)
	}
}
