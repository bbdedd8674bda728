package output

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// StrictColumn is one column of a Parquet file as StrictReadParquet sees
// it: its declared types and a summary of its values.
type StrictColumn struct {
	Name string
	// Physical is the Parquet physical type (BYTE_ARRAY, INT32, ...) and
	// Logical the logical type annotation ("STRING", "DATE",
	// "INT(32,true)"), "" when there is none.
	Physical, Logical string
	// Nulls counts the missing values.
	Nulls int64
	// Sum is ValueSum over the column's values.
	Sum uint64
}

// StrictSummary is what StrictReadParquet found in a file.
type StrictSummary struct {
	Rows    int64
	Columns []StrictColumn
}

// StrictReadParquet reads the Parquet file at path with parquet-go, a
// reader that shares no code with the Arrow writer of WriteParquet nor with
// DuckDB, and checks what lenient readers let through: the schema root must
// not be repeated (the format allows only a required root; hyparquet and
// other strict readers misread every column otherwise), the schema must be
// flat with no repeated column, and every column chunk must decode to as
// many values as the row group has rows. It returns each column's types,
// null count and an order-independent sum of its values, so that a caller
// can compare them with the table the file was written from.
func StrictReadParquet(ctx context.Context, path string) (StrictSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return StrictSummary{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return StrictSummary{}, err
	}
	pf, err := pq.OpenFile(f, st.Size())
	if err != nil {
		return StrictSummary{}, fmt.Errorf("%s: open with parquet-go: %w", path, err)
	}
	md := pf.Metadata()
	if len(md.Schema) == 0 {
		return StrictSummary{}, fmt.Errorf("%s: no schema", path)
	}
	root := md.Schema[0]
	if r, ok := root.RepetitionType.Get(); ok && r != format.Required {
		return StrictSummary{}, fmt.Errorf("%s: schema root %q is %s; the Parquet format requires the root to be REQUIRED or unset", path, root.Name, r)
	}
	if n, _ := root.NumChildren.Get(); int(n) != len(md.Schema)-1 {
		return StrictSummary{}, fmt.Errorf("%s: schema root has %d children for %d columns; nested columns are not expected", path, n, len(md.Schema)-1)
	}
	sum := StrictSummary{Rows: pf.NumRows()}
	for i, el := range md.Schema[1:] {
		if n, _ := el.NumChildren.Get(); n != 0 {
			return StrictSummary{}, fmt.Errorf("%s: column %d %q is a group; nested columns are not expected", path, i, el.Name)
		}
		if r, _ := el.RepetitionType.Get(); r == format.Repeated {
			return StrictSummary{}, fmt.Errorf("%s: column %q is REPEATED; the tables are flat", path, el.Name)
		}
		t, ok := el.Type.Get()
		if !ok {
			return StrictSummary{}, fmt.Errorf("%s: column %q has no physical type", path, el.Name)
		}
		logical := el.LogicalType.String()
		if c, ok := el.ConvertedType.Get(); ok && logical == "" {
			logical = convertedLogical[c]
		}
		sum.Columns = append(sum.Columns, StrictColumn{Name: el.Name, Physical: t.String(), Logical: logical})
	}
	groups := pf.RowGroups()
	var total int64
	for _, rg := range groups {
		total += rg.NumRows()
	}
	if total != sum.Rows {
		return StrictSummary{}, fmt.Errorf("%s: row groups hold %d rows, the footer says %d", path, total, sum.Rows)
	}
	// The columns are independent: read them side by side, each through
	// every row group, on as many goroutines as there are processors.
	cols := make(chan int)
	errs := make([]error, len(sum.Columns))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(sum.Columns)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range cols {
				errs[c] = sumColumn(ctx, groups, c, &sum.Columns[c])
			}
		}()
	}
	for c := range sum.Columns {
		cols <- c
	}
	close(cols)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return StrictSummary{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	return sum, nil
}

// sumColumn adds the values of column c of every row group to col,
// checking that each chunk holds as many values as its row group has rows.
func sumColumn(ctx context.Context, groups []pq.RowGroup, c int, col *StrictColumn) error {
	for g, rg := range groups {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows := rg.NumRows()
		n, err := sumChunk(rg.ColumnChunks()[c], col)
		if err != nil {
			return fmt.Errorf("row group %d column %q: %w", g, col.Name, err)
		}
		if n != rows {
			return fmt.Errorf("row group %d column %q holds %d values for %d rows", g, col.Name, n, rows)
		}
	}
	return nil
}

// sumChunk adds the values of one column chunk to col and returns how many
// values (nulls included) it holds. Every page is decoded. A page of
// dictionary indexes adds the hash of each index's entry, hashed once per
// dictionary; a page of plain values hashes each value, reusing the hash
// of a value equal to the one before it (the files are sorted, so key
// columns repeat in runs).
func sumChunk(chunk pq.ColumnChunk, col *StrictColumn) (int64, error) {
	pages := chunk.Pages()
	defer pages.Close()
	var n int64
	var dict pq.Dictionary
	var dictHash []uint64
	buf := make([]pq.Value, 1024)
	for {
		page, err := pages.ReadPage()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		values, nulls := page.NumValues(), page.NumNulls()
		n += values
		col.Nulls += nulls
		if d := page.Dictionary(); d != nil {
			if d != dict {
				dict, dictHash = d, make([]uint64, d.Len())
				for i := range dictHash {
					s, err := canonicalParquet(d.Index(int32(i)), col.Logical)
					if err != nil {
						pq.Release(page)
						return n, err
					}
					dictHash[i] = valueHash(s)
				}
			}
			data := page.Data()
			idx := data.Int32()
			if int64(len(idx)) != values-nulls {
				pq.Release(page)
				return n, fmt.Errorf("a page of %d values and %d nulls holds %d dictionary indexes", values, nulls, len(idx))
			}
			for _, i := range idx {
				if i < 0 || int(i) >= len(dictHash) {
					pq.Release(page)
					return n, fmt.Errorf("dictionary index %d outside a dictionary of %d values", i, len(dictHash))
				}
				col.Sum += dictHash[i]
			}
			pq.Release(page)
			continue
		}
		err = sumPlainPage(page, buf, col, values-nulls)
		pq.Release(page)
		if err != nil {
			return n, err
		}
	}
}

// sumPlainPage adds the values of a page of plain values to col; it must
// hold want non-null values.
func sumPlainPage(page pq.Page, buf []pq.Value, col *StrictColumn, want int64) error {
	r := page.Values()
	var got int64
	var last pq.Value
	var lastHash uint64
	have := false
	for {
		k, err := r.ReadValues(buf)
		for _, v := range buf[:k] {
			if v.IsNull() {
				continue
			}
			got++
			if have && pq.Equal(v, last) {
				col.Sum += lastHash
				continue
			}
			s, err := canonicalParquet(v, col.Logical)
			if err != nil {
				return err
			}
			last, lastHash, have = v.Clone(), valueHash(s), true
			col.Sum += lastHash
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if got != want {
		return fmt.Errorf("a page of %d non-null values decodes to %d", want, got)
	}
	return nil
}

// canonicalParquet is the text of a Parquet value as ValueSum spells it.
func canonicalParquet(v pq.Value, logical string) (string, error) {
	switch v.Kind() {
	case pq.Boolean:
		return strconv.FormatBool(v.Boolean()), nil
	case pq.Int32:
		if logical == "DATE" {
			return time.Unix(int64(v.Int32())*86400, 0).UTC().Format(time.DateOnly), nil
		}
		return strconv.FormatInt(int64(v.Int32()), 10), nil
	case pq.Int64:
		return strconv.FormatInt(v.Int64(), 10), nil
	case pq.Float:
		return strconv.FormatFloat(float64(v.Float()), 'g', -1, 64), nil
	case pq.Double:
		return strconv.FormatFloat(v.Double(), 'g', -1, 64), nil
	case pq.ByteArray:
		return string(v.ByteArray()), nil
	}
	return "", fmt.Errorf("value of unexpected kind %s", v.Kind())
}

// ValueSum adds the hash of v, a value scanned from a database row
// (int32, int64, float64, string, bool, time.Time for a DATE; nil is not
// counted), to sum. Summing hashes makes the result independent of row
// order; StrictReadParquet sums a file's values the same way.
func ValueSum(sum uint64, v any) (uint64, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return sum, nil
	case bool:
		s = strconv.FormatBool(x)
	case int32:
		s = strconv.FormatInt(int64(x), 10)
	case int64:
		s = strconv.FormatInt(x, 10)
	case int:
		s = strconv.Itoa(x)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		s = x
	case []byte:
		s = string(x)
	case time.Time:
		s = x.UTC().Format(time.DateOnly)
	default:
		return sum, fmt.Errorf("value %v of unexpected type %T", v, v)
	}
	return sum + valueHash(s), nil
}

// valueHash is the 64-bit FNV-1a hash of s (hash/fnv's New64a, without
// its allocation).
func valueHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// convertedLogical spells the legacy converted types (which DuckDB's
// writer sets instead of the logical type) that have an equivalent
// logical type as that logical type; the Parquet format defines each pair
// as the same annotation.
var convertedLogical = map[deprecated.ConvertedType]string{
	deprecated.UTF8:  "STRING",
	deprecated.Int32: "INT(32,true)",
	deprecated.Int64: "INT(64,true)",
	deprecated.Date:  "DATE",
}

// ParquetTypeOf is the Parquet physical and logical type a column of the
// DuckDB type duckType is written as, in StrictColumn's spelling.
func ParquetTypeOf(duckType string) (physical, logical string, err error) {
	switch duckType {
	case "VARCHAR":
		return "BYTE_ARRAY", "STRING", nil
	case "INTEGER":
		return "INT32", "INT(32,true)", nil
	case "BIGINT":
		return "INT64", "INT(64,true)", nil
	case "DOUBLE":
		return "DOUBLE", "", nil
	case "BOOLEAN":
		return "BOOLEAN", "", nil
	case "DATE":
		return "INT32", "DATE", nil
	}
	return "", "", fmt.Errorf("no Parquet type known for %s", duckType)
}
