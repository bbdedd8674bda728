package output

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/klauspost/compress/zstd"
)

// DefaultRowGroupRows is the row group size when ParquetOptions sets none:
// 128Ki rows, close to DuckDB's own 122,880. A row group is the unit a
// remote reader fetches by HTTP range request and the unit whose min/max
// statistics let it skip data, so groups should be small enough that a
// filtered query fetches little, and large enough that each column chunk
// is a few hundred kilobytes after compression rather than a few
// kilobytes of headers. The writer also holds one row group in memory before flushing it,
// so this bounds the memory of an export whatever the table's size.
const DefaultRowGroupRows = 128 * 1024

// ParquetOptions tunes the Parquet files visastats writes.
type ParquetOptions struct {
	// RowGroupRows caps a row group; 0 means DefaultRowGroupRows.
	RowGroupRows int64
	// Metadata is written as the file's key-value metadata (source,
	// licence, release, generated_at, column units, ...).
	Metadata map[string]string
}

// WriteParquet streams every record batch of rdr into a zstd-compressed
// Parquet file at path and returns the number of rows written. The file
// appears under path only when complete. rdr may free each record when it
// moves on, as DuckDB's Arrow readers do: the writer works on copies (see
// goRecords).
func WriteParquet(ctx context.Context, path string, rdr array.RecordReader, opt ParquetOptions) (int64, error) {
	props := writerProps(rdr.Schema(), opt)
	recs := newGoRecords(rdr)
	defer recs.Release()
	var rows int64
	err := writeAtomic(path, func(f *os.File) error {
		w, err := newFileWriter(rdr.Schema(), f, props, opt.Metadata)
		if err != nil {
			return err
		}
		for recs.Next() {
			if err := ctx.Err(); err != nil {
				w.Close()
				return err
			}
			rec := recs.Record()
			if rec.NumRows() == 0 {
				continue
			}
			if err := w.WriteBuffered(rec); err != nil {
				w.Close()
				return err
			}
			rows += rec.NumRows()
		}
		if err := recs.Err(); err != nil {
			w.Close()
			return fmt.Errorf("read records: %w", err)
		}
		return w.Close()
	})
	if err != nil {
		return 0, err
	}
	return rows, nil
}

// writerProps are the Parquet writer properties of opt for files of
// schema. Text columns (codes, names, flags) are dictionary-encoded, which
// suits their few distinct values; numbers are written plain, because a
// dictionary of unique ids or measured values is built only to be thrown
// away at its size limit, costing time and doubling the file, while zstd
// compresses plain numbers well.
func writerProps(schema *arrow.Schema, opt ParquetOptions) *parquet.WriterProperties {
	usePooledZstd()
	props := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithMaxRowGroupLength(rowGroupRows(opt)),
		parquet.WithDictionaryDefault(false),
		parquet.WithStats(true),
		parquet.WithCreatedBy("visastats"),
		// Arrow's default marks the schema root REPEATED, which the
		// Parquet format does not allow; lenient readers (DuckDB, polars)
		// accept it, strict ones (hyparquet) misread every column.
		parquet.WithRootRepetition(parquet.Repetitions.Required),
	}
	for _, f := range schema.Fields() {
		switch f.Type.ID() {
		case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY, arrow.DICTIONARY:
			props = append(props, parquet.WithDictionaryFor(f.Name, true))
		}
	}
	return parquet.NewWriterProperties(props...)
}

// pooledZstd is Arrow's zstd codec with its encoders reused. Arrow v17
// builds a new zstd encoder, allocating and clearing its tables, for every
// page it compresses at a given level (zstdCodec.EncodeLevel); that took
// half the time of an export. The bytes written are the same.
type pooledZstd struct {
	compress.Codec
	pool sync.Pool
}

// EncodeLevel compresses src at the default level with a pooled encoder,
// and at any other level as Arrow does.
func (p *pooledZstd) EncodeLevel(dst, src []byte, level int) []byte {
	if level != compress.DefaultCompressionLevel {
		return p.Codec.EncodeLevel(dst, src, level)
	}
	enc, _ := p.pool.Get().(*zstd.Encoder)
	if enc == nil {
		var err error
		enc, err = zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
		if err != nil { // cannot happen with these options; do as Arrow does
			return p.Codec.EncodeLevel(dst, src, level)
		}
	}
	out := enc.EncodeAll(src, dst[:0])
	p.pool.Put(enc)
	return out
}

var registerPooledZstd sync.Once

// usePooledZstd installs pooledZstd as the process's zstd codec. Arrow
// looks codecs up in a process-wide registry, so this cannot be scoped to
// one writer; it changes speed only, never the output.
func usePooledZstd() {
	registerPooledZstd.Do(func() {
		if orig, err := compress.GetCodec(compress.Codecs.Zstd); err == nil {
			compress.RegisterCodec(compress.Codecs.Zstd, &pooledZstd{Codec: orig})
		}
	})
}

// newFileWriter starts a Parquet file on f with the key-value metadata
// meta, in key order so that equal inputs give equal files.
func newFileWriter(schema *arrow.Schema, f *os.File, props *parquet.WriterProperties, meta map[string]string) (*pqarrow.FileWriter, error) {
	// The Parquet writer closes a sink that is an io.Closer; the file
	// must stay open to be synced and renamed.
	w, err := pqarrow.NewFileWriter(schema, struct{ io.Writer }{f}, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := w.AppendKeyValueMetadata(k, meta[k]); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

func rowGroupRows(opt ParquetOptions) int64 {
	if opt.RowGroupRows <= 0 {
		return DefaultRowGroupRows
	}
	return opt.RowGroupRows
}

// goRecordsBatchRows is the size of the record batches the writers write.
const goRecordsBatchRows = 64 * 1024

// goRecords hands the Parquet writers the records of a reader as copies
// in Go-managed memory, regrouped into batches of goRecordsBatchRows rows.
//
// It is the one place that deals with where a record's memory lives.
// DuckDB's Arrow interface (go-duckdb) returns records imported from C:
// their buffers are C memory, freed when the record's last reference is
// released, and a record reader releases each record as it moves to the
// next one. Arrow v17's Parquet writer keeps slices of the written
// records' buffers, uncopied, until the row group is closed (the minimum
// and maximum of byte-array column statistics): read from freed memory,
// they crash the writer or, worse, give wrong min/max values, which
// readers use to skip row groups. Buffers of the Go allocator are never
// reused (its Free does nothing): the garbage collector frees a copy only
// once nothing refers to it, whatever the writer still holds.
type goRecords struct {
	src       array.RecordReader
	mem       memory.Allocator
	batchRows int64
	cur       arrow.Record
	pending   []arrow.Record
	err       error
}

func newGoRecords(src array.RecordReader) *goRecords {
	return &goRecords{src: src, mem: memory.NewGoAllocator(), batchRows: goRecordsBatchRows}
}

func (r *goRecords) Retain()               {}
func (r *goRecords) Schema() *arrow.Schema { return r.src.Schema() }
func (r *goRecords) Record() arrow.Record  { return r.cur }
func (r *goRecords) Err() error            { return r.err }

// Release lets go of the copies; the source reader stays its caller's.
func (r *goRecords) Release() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	for _, p := range r.pending {
		p.Release()
	}
	r.pending = nil
}

func (r *goRecords) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	var rows int64
	for rows < r.batchRows && r.src.Next() {
		rec := r.src.Record()
		rec.Retain()
		r.pending = append(r.pending, rec)
		rows += rec.NumRows()
	}
	if err := r.src.Err(); err != nil {
		r.err = err
		return false
	}
	if len(r.pending) == 0 {
		return false
	}
	rec, err := concatRecords(r.mem, r.src.Schema(), r.pending)
	for _, p := range r.pending {
		p.Release()
	}
	r.pending = r.pending[:0]
	if err != nil {
		r.err = err
		return false
	}
	r.cur = rec
	return true
}

// concatRecords copies records into one record in mem.
func concatRecords(mem memory.Allocator, schema *arrow.Schema, recs []arrow.Record) (arrow.Record, error) {
	cols := make([]arrow.Array, schema.NumFields())
	var rows int64
	for _, rec := range recs {
		rows += rec.NumRows()
	}
	for i := range cols {
		parts := make([]arrow.Array, len(recs))
		for j, rec := range recs {
			parts[j] = rec.Column(i)
		}
		col, err := array.Concatenate(parts, mem)
		if err != nil {
			for _, c := range cols[:i] {
				c.Release()
			}
			return nil, fmt.Errorf("copy arrow column %s: %w", schema.Field(i).Name, err)
		}
		cols[i] = col
	}
	rec := array.NewRecord(schema, cols, rows)
	for _, c := range cols {
		c.Release()
	}
	return rec, nil
}
