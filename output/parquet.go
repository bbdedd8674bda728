package output

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
)

// ParquetOptions tunes the Parquet files visastats writes.
type ParquetOptions struct {
	// RowGroupRows caps a row group; smaller groups let remote readers
	// fetch less. 0 means 128Ki rows.
	RowGroupRows int64
	// Metadata is written as the file's key-value metadata (source,
	// licence, release, generated_at, column units, ...).
	Metadata map[string]string
}

// WriteParquet streams every record batch of rdr into a zstd-compressed
// Parquet file at path and returns the number of rows written. The file
// appears under path only when complete.
func WriteParquet(ctx context.Context, path string, rdr array.RecordReader, opt ParquetOptions) (int64, error) {
	rg := opt.RowGroupRows
	if rg <= 0 {
		rg = 128 * 1024
	}
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithMaxRowGroupLength(rg),
		parquet.WithDictionaryDefault(true),
		parquet.WithStats(true),
		parquet.WithCreatedBy("visastats"),
	)
	var rows int64
	err := writeAtomic(path, func(f *os.File) error {
		// The Parquet writer closes a sink that is an io.Closer; the file
		// must stay open to be synced and renamed.
		w, err := pqarrow.NewFileWriter(rdr.Schema(), struct{ io.Writer }{f}, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(opt.Metadata))
		for k := range opt.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := w.AppendKeyValueMetadata(k, opt.Metadata[k]); err != nil {
				w.Close()
				return err
			}
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
