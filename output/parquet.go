package output

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
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
	props := writerProps(opt)
	var rows int64
	err := writeAtomic(path, func(f *os.File) error {
		w, err := newFileWriter(rdr.Schema(), f, props, opt.Metadata)
		if err != nil {
			return err
		}
		for rdr.Next() {
			if err := ctx.Err(); err != nil {
				w.Close()
				return err
			}
			rec := rdr.Record()
			if err := w.WriteBuffered(rec); err != nil {
				w.Close()
				return err
			}
			rows += rec.NumRows()
		}
		if err := rdr.Err(); err != nil {
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

// writerProps are the Parquet writer properties of opt.
func writerProps(opt ParquetOptions) *parquet.WriterProperties {
	rg := opt.RowGroupRows
	if rg <= 0 {
		rg = DefaultRowGroupRows
	}
	return parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithMaxRowGroupLength(rg),
		parquet.WithDictionaryDefault(true),
		parquet.WithStats(true),
		parquet.WithCreatedBy("visastats"),
	)
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
