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
// appears under path only when complete.
func WriteParquet(ctx context.Context, path string, rdr array.RecordReader, opt ParquetOptions) (int64, error) {
	props := writerProps(rdr.Schema(), opt)
	var rows int64
	err := writeAtomic(path, func(f *os.File) error {
		w, err := newFileWriter(rdr.Schema(), f, props, opt.Metadata)
		if err != nil {
			return err
		}
		pw := &pinningWriter{w: w, rowGroup: rowGroupRows(opt)}
		for rdr.Next() {
			if err := ctx.Err(); err != nil {
				pw.close()
				return err
			}
			rec := rdr.Record()
			if err := pw.write(rec); err != nil {
				pw.close()
				return err
			}
			rows += rec.NumRows()
		}
		if err := rdr.Err(); err != nil {
			pw.close()
			return fmt.Errorf("read records: %w", err)
		}
		return pw.close()
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

// pinningWriter writes records into buffered row groups and keeps each
// record alive until the row group holding its last row is closed.
//
// Arrow v17's byte-array column statistics keep the minimum and maximum as
// slices of the written record's buffers, uncopied, until the row group is
// closed. A record reader releases a record when it moves to the next one,
// and records imported from C (DuckDB's Arrow results) free their memory
// then: without the pin, the statistics would be read from freed memory,
// which crashes or, worse, writes wrong min/max values that readers use
// to skip row groups. Memory stays about one row group of records.
type pinningWriter struct {
	w        *pqarrow.FileWriter
	rowGroup int64
	rows     int64
	pins     []pin
}

type pin struct {
	rec arrow.Record
	end int64 // rows written when rec was done
}

func (p *pinningWriter) write(rec arrow.Record) error {
	if rec.NumRows() == 0 {
		return nil
	}
	if err := p.w.WriteBuffered(rec); err != nil {
		return err
	}
	rec.Retain()
	p.rows += rec.NumRows()
	p.pins = append(p.pins, pin{rec, p.rows})
	// Row groups are filled to rowGroup rows in order, so the open one
	// holds row p.rows-1, and a group is closed once a later one opened.
	open := (p.rows - 1) / p.rowGroup
	n := 0
	for n < len(p.pins) && (p.pins[n].end-1)/p.rowGroup < open {
		p.pins[n].rec.Release()
		n++
	}
	p.pins = append(p.pins[:0], p.pins[n:]...)
	return nil
}

// close finishes the file, then lets go of the records.
func (p *pinningWriter) close() error {
	err := p.w.Close()
	for _, x := range p.pins {
		x.rec.Release()
	}
	p.pins = nil
	return err
}
