package pipeline

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/marcboeker/go-duckdb"
)

// openDB opens (or creates) the DuckDB database at path; "" opens an
// in-memory database.
func openDB(path string, readOnly bool) (*sql.DB, error) {
	dsn := path
	if readOnly {
		dsn += "?access_mode=READ_ONLY"
	}
	return openDSN(path, dsn)
}

// DuckDBConfig bounds the DuckDB engine that builds a release. What does
// not fit in MemoryLimit (sorts, joins, aggregates) spills to a folder
// beside the build database, removed when the run ends.
type DuckDBConfig struct {
	// MemoryLimit caps DuckDB's buffer memory, in DuckDB's notation
	// ("1GB", "512MiB"); "" means DefaultMemoryLimit.
	MemoryLimit string `mapstructure:"memory_limit"`
	// Threads is how many threads DuckDB uses; 0 means one per core.
	Threads int `mapstructure:"threads"`
}

// DefaultMemoryLimit is DuckDB's memory limit when the configuration sets
// none: with the Go side's buffers it keeps a run over the full monthly
// Eurostat file under 2 GB of resident memory.
const DefaultMemoryLimit = "1GB"

// memorySize is DuckDB's notation of a memory size that a configuration
// may use: a number and a unit.
var memorySize = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?\s*(?i:B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$`)

func (d DuckDBConfig) validate() []error {
	var errs []error
	if d.MemoryLimit != "" && !memorySize.MatchString(strings.TrimSpace(d.MemoryLimit)) {
		errs = append(errs, fmt.Errorf("duckdb.memory_limit: %q is not a size such as 1GB or 512MiB", d.MemoryLimit))
	}
	if d.Threads < 0 {
		errs = append(errs, fmt.Errorf("duckdb.threads: must be 0 (one per core) or more, got %d", d.Threads))
	}
	return errs
}

// memoryLimit is the configured limit or the default.
func (d DuckDBConfig) memoryLimit() string {
	if s := strings.TrimSpace(d.MemoryLimit); s != "" {
		return s
	}
	return DefaultMemoryLimit
}

// tempDir is where the build database at path spills.
func tempDir(path string) string { return path + ".tmp" }

// openBuildDB opens (or creates) the database a run builds at path, with
// d's memory limit and threads and its spill folder beside it.
func openBuildDB(path string, d DuckDBConfig) (*sql.DB, error) {
	v := url.Values{}
	v.Set("memory_limit", d.memoryLimit())
	v.Set("temp_directory", tempDir(path))
	if d.Threads > 0 {
		v.Set("threads", fmt.Sprint(d.Threads))
	}
	return openDSN(path, path+"?"+v.Encode())
}

// openDSN opens the DuckDB database at path with the settings in dsn (path
// followed by a query string of settings) and checks that it answers.
func openDSN(path, dsn string) (*sql.DB, error) {
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// queryArrow reads "SELECT cols FROM table ORDER BY orderBy" as Arrow
// record batches and passes them to fn, returning what fn returns. The
// records are DuckDB's, in C memory freed as the reader moves on; output's
// Parquet writers, which fn hands them to, copy them before writing.
// go-duckdb materialises a whole Arrow result before returning, so a table
// of more than arrowSliceRows rows (rows is its size, known to the caller)
// is read in slices of whole key ranges (see planSlices) and memory stays
// bounded by a slice. The reader is only valid inside fn.
func queryArrow(ctx context.Context, conn *sql.Conn, cols, table, orderBy string, rows int64, fn func(array.RecordReader) (int64, error)) (int64, error) {
	slices, err := planSlices(ctx, conn, cols, table, orderBy, rows, arrowSliceRows)
	if err != nil {
		return 0, err
	}
	sr := &slicedReader{ctx: ctx, conn: conn, slices: slices}
	defer sr.Release()
	if err := sr.open(); err != nil {
		return 0, err
	}
	return fn(sr)
}

// arrowSliceRows is about how many rows one Arrow query of a large result
// reads.
const arrowSliceRows = 1 << 20

// sliceQuery is one query of a sliced read.
type sliceQuery struct {
	sql  string
	args []any
}

// planSlices splits the ordered read of a table into queries that each
// return about sliceRows rows or fewer, in key order: it counts the rows of
// each value of the first (up to three) order columns and packs consecutive
// groups into key ranges, so that every slice sorts only its own rows. (A
// LIMIT/OFFSET slice sorts the whole table again for each slice.) A single
// group larger than sliceRows is one slice. A table with NULL in a leading
// order column is read with one query.
func planSlices(ctx context.Context, conn *sql.Conn, cols, table, orderBy string, rows, sliceRows int64) ([]sliceQuery, error) {
	whole := []sliceQuery{{sql: "SELECT " + cols + " FROM " + table + " ORDER BY " + orderBy}}
	if rows <= sliceRows {
		return whole, nil
	}
	var lead []string
	seen := map[string]bool{}
	for _, c := range strings.Split(orderBy, ",") {
		c = strings.TrimSpace(c)
		if !seen[c] && len(lead) < 3 {
			seen[c] = true
			lead = append(lead, c)
		}
	}
	keys := strings.Join(lead, ", ")
	q := "SELECT " + keys + ", count(*) FROM " + table + " GROUP BY ALL ORDER BY ALL"
	res, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("plan slices of %s: %w", table, err)
	}
	defer res.Close()
	type group struct {
		key []any
		n   int64
	}
	var groups []group
	for res.Next() {
		vals := make([]any, len(lead)+1)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := res.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("plan slices of %s: %w", table, err)
		}
		for _, v := range vals[:len(lead)] {
			if v == nil {
				return whole, nil
			}
		}
		n, _ := vals[len(lead)].(int64)
		groups = append(groups, group{key: vals[:len(lead)], n: n})
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("plan slices of %s: %w", table, err)
	}
	// bound returns the condition that the lead columns are after (op
	// ">") or before ("<") key, or equal to it, in lexicographic order.
	bound := func(op string, key []any) (string, []any) {
		var cond string
		var args []any
		for i := len(lead) - 1; i >= 0; i-- {
			if i == len(lead)-1 {
				cond = lead[i] + " " + op + "= ?"
				args = []any{key[i]}
				continue
			}
			cond = "(" + lead[i] + " " + op + " ? OR (" + lead[i] + " = ? AND " + cond + "))"
			args = append([]any{key[i], key[i]}, args...)
		}
		return cond, args
	}
	var out []sliceQuery
	for start := 0; start < len(groups); {
		end, n := start, int64(0)
		for end < len(groups) && (end == start || n+groups[end].n <= sliceRows) {
			n += groups[end].n
			end++
		}
		var conds []string
		var args []any
		if start > 0 {
			c, a := bound(">", groups[start].key)
			conds, args = append(conds, c), append(args, a...)
		}
		if end < len(groups) {
			c, a := bound("<", groups[end-1].key)
			conds, args = append(conds, c), append(args, a...)
		}
		where := ""
		if len(conds) > 0 {
			where = " WHERE " + strings.Join(conds, " AND ")
		}
		out = append(out, sliceQuery{sql: "SELECT " + cols + " FROM " + table + where + " ORDER BY " + orderBy, args: args})
		start = end
	}
	return out, nil
}

// arrowQuery runs one query through go-duckdb's Arrow interface.
func arrowQuery(ctx context.Context, conn *sql.Conn, query string, args ...any) (array.RecordReader, error) {
	var rdr array.RecordReader
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("arrow query: connection is %T, not a DuckDB connection", dc)
		}
		ar, err := duckdb.NewArrowFromConn(c)
		if err != nil {
			return fmt.Errorf("arrow query: %w", err)
		}
		rdr, err = ar.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("arrow query: %w", err)
		}
		return nil
	})
	return rdr, err
}

// slicedReader reads the result of its queries one after the other.
type slicedReader struct {
	ctx    context.Context
	conn   *sql.Conn
	slices []sliceQuery
	next   int
	cur    array.RecordReader
	err    error
}

func (r *slicedReader) open() error {
	q := r.slices[r.next]
	src, err := arrowQuery(r.ctx, r.conn, q.sql, q.args...)
	if err != nil {
		return err
	}
	r.cur = src
	r.next++
	return nil
}

func (r *slicedReader) closeSlice() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}

func (r *slicedReader) Retain()               {}
func (r *slicedReader) Schema() *arrow.Schema { return r.cur.Schema() }
func (r *slicedReader) Record() arrow.Record  { return r.cur.Record() }
func (r *slicedReader) Err() error            { return r.err }
func (r *slicedReader) Release()              { r.closeSlice() }

func (r *slicedReader) Next() bool {
	for {
		if r.cur == nil {
			return false
		}
		if r.cur.Next() {
			return true
		}
		if err := r.cur.Err(); err != nil {
			r.err = err
			return false
		}
		if r.next >= len(r.slices) {
			return false
		}
		schema := r.cur.Schema()
		r.closeSlice()
		if err := r.ctx.Err(); err != nil {
			r.err = err
			return false
		}
		if err := r.open(); err != nil {
			r.err = err
			return false
		}
		if !r.cur.Schema().Equal(schema) {
			r.err = fmt.Errorf("arrow query: slices disagree on the schema")
			return false
		}
	}
}
