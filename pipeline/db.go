package pipeline

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/marcboeker/go-duckdb"
)

// openDB opens (or creates) the DuckDB database at path, read-only or
// not, with DuckDB's default settings; "" opens an in-memory database.
func openDB(path string, readOnly bool) (*sql.DB, error) {
	return openDatabase(path, duckOptions{readOnly: readOnly})
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
	// QueryTimeout bounds the time of one `visastats query`; 0 means
	// DefaultQueryTimeout. Its --timeout flag overrides it.
	QueryTimeout time.Duration `mapstructure:"query_timeout"`
}

// DefaultQueryTimeout is how long `visastats query` may run when the
// configuration does not say.
const DefaultQueryTimeout = 60 * time.Second

// QueryTimeoutOrDefault is the configured query timeout, or the default.
func (d DuckDBConfig) QueryTimeoutOrDefault() time.Duration {
	if d.QueryTimeout > 0 {
		return d.QueryTimeout
	}
	return DefaultQueryTimeout
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
	if d.QueryTimeout < 0 {
		errs = append(errs, fmt.Errorf("duckdb.query_timeout: must be 0 (the default, %s) or more, got %s", DefaultQueryTimeout, d.QueryTimeout))
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
	return openDatabase(path, duckOptions{memoryLimit: d.memoryLimit(), threads: d.Threads, tempDir: tempDir(path)})
}

// openScratchDB opens a scratch database in the folder spill (which the
// caller owns and removes), bounded by d's memory limit and threads. It is
// a file, not an in-memory database, whose tables DuckDB keeps in memory
// whatever the memory limit.
func openScratchDB(d DuckDBConfig, spill string) (*sql.DB, error) {
	path := filepath.Join(spill, "scratch.duckdb")
	return openDatabase(path, duckOptions{memoryLimit: d.memoryLimit(), threads: d.Threads, tempDir: tempDir(path)})
}

// dbName is the name under which openDatabase attaches a database file,
// and which every connection uses.
const dbName = "visastats"

// duckOptions are the settings of one DuckDB instance that openDatabase
// opens, each read back before the instance is used.
type duckOptions struct {
	// readOnly attaches the database file read-only.
	readOnly bool
	// sandbox, once the file is attached, turns off access to any other
	// file and to the network, installing and loading extensions on
	// demand, and then locks the configuration so that no statement can
	// turn any of it back on.
	sandbox bool
	// memoryLimit is DuckDB's memory_limit ("" leaves DuckDB's default,
	// 80% of the machine's memory).
	memoryLimit string
	// threads is DuckDB's threads (0: one per core).
	threads int
	// tempDir is where DuckDB spills what does not fit in memoryLimit (""
	// leaves DuckDB's default).
	tempDir string
}

// errPathQuestionMark is why openDatabase refuses a database path with a
// "?": DuckDB 1.1 takes what follows it for options when it names the
// database's write-ahead log, so a database there could not be written
// safely.
var errPathQuestionMark = errors.New(`the path contains "?", which DuckDB takes for the start of options: move the database to a path without "?"`)

// openDatabase opens a DuckDB instance with the settings o and, unless
// path is "" (an in-memory database), attaches the database file at path
// (creating it unless read-only) as dbName, the database of every
// connection.
//
// The path never goes through a DSN: go-duckdb v1.8.2 parses the whole DSN
// as a URL, so a "#" in the path dropped every setting after it (a query
// opened read-write, with access to other files), a "%" not followed by two
// hex digits failed to open, and a "?" cut the path short. Settings go
// through go-duckdb's config map (the DSN's query string, with nothing
// before it) and the file is attached by a quoted SQL string. Every setting
// of o is then read back from DuckDB (verifySettings): an instance whose
// settings are not all in effect is closed and refused.
func openDatabase(path string, o duckOptions) (*sql.DB, error) {
	name := path
	if name == "" {
		name = "in memory"
	}
	if strings.Contains(path, "?") {
		return nil, fmt.Errorf("open database %s: %w", path, errPathQuestionMark)
	}
	v := url.Values{}
	if o.memoryLimit != "" {
		v.Set("memory_limit", o.memoryLimit)
	}
	if o.threads > 0 {
		v.Set("threads", strconv.Itoa(o.threads))
	}
	if o.tempDir != "" {
		v.Set("temp_directory", o.tempDir)
	}
	if o.sandbox {
		v.Set("autoinstall_known_extensions", "false")
		v.Set("autoload_known_extensions", "false")
	}
	// What the first connection runs once (attach, then seal), and what
	// every connection runs (use the attached database).
	var once []string
	if path != "" {
		mode := ""
		if o.readOnly {
			mode = " (READ_ONLY)"
		}
		once = append(once, "ATTACH "+sqlString(path)+" AS "+dbName+mode)
	}
	if o.sandbox {
		once = append(once, "SET enable_external_access = false", "SET lock_configuration = true")
	}
	var (
		mu   sync.Mutex
		done bool
	)
	initConn := func(c driver.ExecerContext) error {
		mu.Lock()
		defer mu.Unlock()
		ctx := context.Background()
		if !done {
			for _, q := range once {
				if _, err := c.ExecContext(ctx, q, nil); err != nil {
					return err
				}
			}
			done = true
		}
		if path != "" {
			if _, err := c.ExecContext(ctx, "USE "+dbName, nil); err != nil {
				return err
			}
		}
		return nil
	}
	connector, err := duckdb.NewConnector("?"+v.Encode(), initConn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	db := sql.OpenDB(connector)
	if err := verifySettings(context.Background(), db, path, o); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	return db, nil
}

// verifySettings reads the settings of o back from the instance db
// (duckdb_settings(), and duckdb_databases() for the attached file) and
// fails, naming the first that differs, unless all are in effect.
func verifySettings(ctx context.Context, db *sql.DB, path string, o duckOptions) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	got := map[string]string{}
	rows, err := conn.QueryContext(ctx, `SELECT name, value FROM duckdb_settings() WHERE name IN
		('memory_limit', 'threads', 'temp_directory', 'enable_external_access', 'lock_configuration',
		 'autoinstall_known_extensions', 'autoload_known_extensions')`)
	if err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return fmt.Errorf("read settings: %w", err)
		}
		got[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	refuse := func(setting, want string) error {
		return fmt.Errorf("setting %s is %q, not %s as configured: refusing to use the database", setting, got[setting], want)
	}
	if o.memoryLimit != "" && !sameSize(got["memory_limit"], o.memoryLimit) {
		return refuse("memory_limit", o.memoryLimit)
	}
	if o.threads > 0 && got["threads"] != strconv.Itoa(o.threads) {
		return refuse("threads", strconv.Itoa(o.threads))
	}
	if o.tempDir != "" && got["temp_directory"] != o.tempDir {
		return refuse("temp_directory", o.tempDir)
	}
	if o.sandbox {
		for _, s := range [][2]string{
			{"enable_external_access", "false"}, {"lock_configuration", "true"},
			{"autoinstall_known_extensions", "false"}, {"autoload_known_extensions", "false"},
		} {
			if !strings.EqualFold(got[s[0]], s[1]) {
				return refuse(s[0], s[1])
			}
		}
	}
	if path == "" {
		return nil
	}
	var attached string
	var readOnly bool
	err = conn.QueryRowContext(ctx, `SELECT path, readonly FROM duckdb_databases() WHERE database_name = ?`, dbName).Scan(&attached, &readOnly)
	if err != nil {
		return fmt.Errorf("read settings: the database is not attached: %w", err)
	}
	if attached != path {
		return fmt.Errorf("DuckDB attached %q, not %q: refusing to use it", attached, path)
	}
	if readOnly != o.readOnly {
		return fmt.Errorf("the database is attached with read-only %v, not %v: refusing to use it", readOnly, o.readOnly)
	}
	return nil
}

// sameSize says whether DuckDB's display of a memory size (such as "953.6
// MiB", one decimal in the largest binary unit) is the size configured (in
// DuckDB's notation, such as "1GB"), to the display's rounding.
func sameSize(shown, configured string) bool {
	a, okA := parseSize(shown)
	b, okB := parseSize(configured)
	if !okA || !okB {
		return false
	}
	// One decimal of the unit shown (DuckDB may cut the next digits
	// rather than round them): within a tenth of that unit.
	unit := 1.0
	for unit*1024 <= a && unit < 1<<40 {
		unit *= 1024
	}
	return math.Abs(a-b) <= unit/10+1
}

// sizeUnits are the units of DuckDB's memory sizes, in bytes: decimal
// (KB, MB) and binary (KiB, MiB).
var sizeUnits = map[string]float64{
	"b": 1, "byte": 1, "bytes": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// parseSize reads a size such as "1GB", "512 MiB" or "953.6 MiB" in bytes.
func parseSize(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i <= 0 {
		return 0, false
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	unit, ok := sizeUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
	if err != nil || !ok {
		return 0, false
	}
	return n * unit, true
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
