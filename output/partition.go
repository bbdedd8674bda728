package output

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
)

// WriteParquetPartitioned streams every record batch of rdr into a
// hive-partitioned folder of Parquet files at dir, one folder level per
// partition column: dir/dataset=ec_schengen_consulates/year=2023/part-0.parquet.
// It returns the rows written and the files, relative to dir with "/"
// separators, sorted.
//
// As hive readers expect, the partition columns are not stored in the
// files: readers take them from the folder names (DuckDB:
// read_parquet('dir/**/*.parquet', hive_partitioning=true)). Values are
// escaped as %XX except ASCII letters, digits, '-', '_' and '.', which
// DuckDB, pyarrow and polars decode. A NULL or empty partition value is an
// error, because hive readers disagree on how to spell it.
//
// Rows should come sorted by the partition columns (the caller's ORDER
// BY): then each partition is one file. When a partition comes back after
// another one, its rows go to a new file, part-1.parquet and so on, so
// memory stays one row group whatever the order; shuffled rows give a
// correct but slow folder of many small files.
//
// The folder is written under a temporary name beside dir and renamed into
// place when complete, replacing an earlier dir; on error nothing is left.
// As with WriteParquet, rdr may free each record when it moves on.
func WriteParquetPartitioned(ctx context.Context, dir string, rdr array.RecordReader, partitionCols []string, opt ParquetOptions) (rows int64, files []string, err error) {
	dir = filepath.Clean(dir)
	schema := rdr.Schema()
	part, keep, err := partitionColumns(schema, partitionCols)
	if err != nil {
		return 0, nil, fmt.Errorf("write %s: %w", dir, err)
	}
	fields := make([]arrow.Field, len(keep))
	for i, k := range keep {
		fields[i] = schema.Field(k)
	}
	meta := schema.Metadata()
	fileSchema := arrow.NewSchema(fields, &meta)

	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return 0, nil, fmt.Errorf("write %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	pw := &partitionWriter{root: tmp, schema: fileSchema, props: writerProps(fileSchema, opt), meta: opt.Metadata, parts: map[string]int{}}
	defer pw.abort()
	recs := newGoRecords(rdr)
	defer recs.Release()
	for recs.Next() {
		if err := ctx.Err(); err != nil {
			return 0, nil, fmt.Errorf("write %s: %w", dir, err)
		}
		rec := recs.Record()
		n := int(rec.NumRows())
		start := 0
		for i := 1; i <= n; i++ {
			if i < n && sameKey(rec, part, i-1, i) {
				continue
			}
			if err := pw.write(rec, part, keep, start, i); err != nil {
				return 0, nil, fmt.Errorf("write %s: row %d: %w", dir, rows+int64(start)+1, err)
			}
			start = i
		}
		rows += int64(n)
	}
	if err := recs.Err(); err != nil {
		return 0, nil, fmt.Errorf("write %s: read records: %w", dir, err)
	}
	if err := pw.close(); err != nil {
		return 0, nil, fmt.Errorf("write %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return 0, nil, fmt.Errorf("write %s: %w", dir, err)
	}
	if err := replaceDir(tmp, dir); err != nil {
		return 0, nil, fmt.Errorf("write %s: %w", dir, err)
	}
	sort.Strings(pw.files)
	return rows, pw.files, nil
}

// partitionColumns finds the partition columns in schema and the columns
// that stay in the files.
func partitionColumns(schema *arrow.Schema, names []string) (part, keep []int, err error) {
	if len(names) == 0 {
		return nil, nil, errors.New("no partition columns: write one file with WriteParquet")
	}
	isPart := map[int]bool{}
	for _, name := range names {
		idx := schema.FieldIndices(name)
		if len(idx) != 1 {
			return nil, nil, fmt.Errorf("partition column %q: the records have %d columns of that name", name, len(idx))
		}
		if isPart[idx[0]] {
			return nil, nil, fmt.Errorf("partition column %q given twice", name)
		}
		switch schema.Field(idx[0]).Type.ID() {
		case arrow.STRING, arrow.LARGE_STRING, arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
			arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		default:
			return nil, nil, fmt.Errorf("partition column %q: type %s cannot name a folder; use a string or integer column", name, schema.Field(idx[0]).Type)
		}
		isPart[idx[0]] = true
		part = append(part, idx[0])
	}
	for i := range schema.NumFields() {
		if !isPart[i] {
			keep = append(keep, i)
		}
	}
	if len(keep) == 0 {
		return nil, nil, errors.New("every column is a partition column: the files would be empty")
	}
	return part, keep, nil
}

// sameKey reports whether rows i and j have the same partition values.
func sameKey(rec arrow.Record, part []int, i, j int) bool {
	for _, c := range part {
		col := rec.Column(c)
		if col.IsNull(i) != col.IsNull(j) {
			return false
		}
		if col.IsNull(i) {
			continue
		}
		switch a := col.(type) {
		case *array.String:
			if a.Value(i) != a.Value(j) {
				return false
			}
		case *array.LargeString:
			if a.Value(i) != a.Value(j) {
				return false
			}
		default:
			if a.ValueStr(i) != a.ValueStr(j) {
				return false
			}
		}
	}
	return true
}

// partitionPath is the folder of row i: "dataset=x/year=2023".
func partitionPath(rec arrow.Record, part []int, i int) (string, error) {
	names, values := make([]string, len(part)), make([]string, len(part))
	for k, c := range part {
		name := rec.Schema().Field(c).Name
		col := rec.Column(c)
		if col.IsNull(i) {
			return "", fmt.Errorf("partition column %q is NULL, which hive readers spell differently; partition by a column without NULLs", name)
		}
		var v string
		switch a := col.(type) {
		case *array.String:
			v = a.Value(i)
		case *array.LargeString:
			v = a.Value(i)
		case *array.Boolean:
			v = strconv.FormatBool(a.Value(i))
		default:
			v = a.ValueStr(i)
		}
		names[k], values[k] = name, v
	}
	return PartitionFolder(names, values)
}

// hiveEscape percent-encodes every byte of s but ASCII letters, digits,
// '-', '_' and '.', and a leading '.', so that a value can neither leave
// its folder nor hide it.
func hiveEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' && i > 0
		if ok {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// partitionWriter keeps the one Parquet file being written.
type partitionWriter struct {
	root   string
	schema *arrow.Schema
	props  *parquet.WriterProperties
	meta   map[string]string
	parts  map[string]int // files started per partition folder
	files  []string

	dir string // partition folder of the open file
	f   *os.File
	w   *pqarrow.FileWriter
}

// write appends rows [from, to) of rec, which share one partition, to
// that partition's open file, starting a new file if needed.
func (p *partitionWriter) write(rec arrow.Record, part, keep []int, from, to int) error {
	dir, err := partitionPath(rec, part, from)
	if err != nil {
		return err
	}
	if p.w == nil || dir != p.dir {
		if err := p.close(); err != nil {
			return err
		}
		if err := p.open(dir); err != nil {
			return err
		}
	}
	cols := make([]arrow.Array, len(keep))
	for i, k := range keep {
		cols[i] = array.NewSlice(rec.Column(k), int64(from), int64(to))
	}
	slice := array.NewRecord(p.schema, cols, int64(to-from))
	for _, c := range cols {
		c.Release()
	}
	defer slice.Release()
	return p.w.WriteBuffered(slice)
}

func (p *partitionWriter) open(dir string) error {
	n := p.parts[dir]
	p.parts[dir] = n + 1
	rel := dir + "/part-" + strconv.Itoa(n) + ".parquet" // part-0 is PartitionFile
	if err := os.MkdirAll(filepath.Join(p.root, filepath.FromSlash(dir)), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(p.root, filepath.FromSlash(rel)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	w, err := newFileWriter(p.schema, f, p.props, p.meta)
	if err != nil {
		f.Close()
		return err
	}
	p.dir, p.f, p.w = dir, f, w
	p.files = append(p.files, rel)
	return nil
}

// close finishes the open file, if any.
func (p *partitionWriter) close() error {
	if p.w == nil {
		return nil
	}
	w, f := p.w, p.f
	p.w, p.f = nil, nil
	err := w.Close()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// abort closes an open file after an error; the folder is removed anyway.
func (p *partitionWriter) abort() {
	if p.w != nil {
		p.w.Close()
		p.f.Close()
	}
}

// replaceDir renames the complete folder tmp to dir. An earlier dir is
// moved aside first and removed once tmp is in place, or put back if the
// rename fails.
func replaceDir(tmp, dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return os.Rename(tmp, dir)
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if rerr := os.Rename(old, dir); rerr != nil {
			return fmt.Errorf("%w; the earlier folder is left at %s: %v", err, old, rerr)
		}
		return err
	}
	return os.RemoveAll(old)
}

// PartitionFolder is the hive folder of one partition, as
// WriteParquetPartitioned names it: "dataset=x/year=2023" for names
// {dataset, year} and values {x, 2023}. An empty value is an error.
func PartitionFolder(names, values []string) (string, error) {
	if len(names) == 0 || len(names) != len(values) {
		return "", fmt.Errorf("partition folder of %d columns and %d values", len(names), len(values))
	}
	segs := make([]string, len(names))
	for k, name := range names {
		if values[k] == "" {
			return "", fmt.Errorf("partition column %q is empty, which hive readers read differently; partition by a column without empty values", name)
		}
		segs[k] = hiveEscape(name) + "=" + hiveEscape(values[k])
	}
	return strings.Join(segs, "/"), nil
}

// PartitionFile is the name of the first file of a partition folder.
const PartitionFile = "part-0.parquet"

// PublishDir moves the complete folder tmp (written beside dir, as
// WriteParquetPartitioned writes its own) to dir, replacing an earlier dir.
func PublishDir(tmp, dir string) error {
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	if err := replaceDir(tmp, dir); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	return nil
}
