package output

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// The export benchmark runs every case in its own child process (this test
// binary again, with benchCaseEnv naming the case), so that each peak RSS,
// read from the child's rusage, is that case's alone: Go does not give
// memory back to the OS promptly, and DuckDB keeps its buffers, so cases
// measured in one process would inherit each other's peaks.
const (
	benchCaseEnv = "VISASTATS_BENCH_CASE"
	benchDirEnv  = "VISASTATS_BENCH_DIR"
)

// benchQuery is the data of every case: n rows shaped like observations,
// low-cardinality codes, a year, a unique id, a value and flags.
func benchQuery(from, to int64) string {
	return fmt.Sprintf(`SELECT 'ds_' || (i %% 5) AS dataset,
	'ind_' || (i %% 9) AS indicator,
	chr((65 + i %% 26)::INTEGER) || chr((65 + (i // 26) %% 26)::INTEGER) AS reporter,
	(1995 + i %% 30)::INTEGER AS year,
	i AS id,
	((i %% 100000) * 1.25)::DOUBLE AS value,
	CASE WHEN i %% 10 = 0 THEN 'p' ELSE '' END AS flags
FROM range(%d, %d) t(i)`, from, to)
}

var benchColumns = []Column{
	{Header: "dataset", Format: FormatCode}, {Header: "indicator", Format: FormatCode},
	{Header: "reporter", Format: FormatCode}, {Header: "year", Format: FormatYear},
	{Header: "id", Format: FormatCount}, {Header: "value", Format: FormatNumber},
	{Header: "flags", Format: FormatCode},
}

type benchResult struct {
	kind    string
	rows    int64
	seconds float64
	bytes   int64
	rssMB   float64
}

// BenchmarkExports compares, on the same generated rows: a 1,000,000-row
// sheet through WriteWorkbook; a 10,000,000-row Parquet file through
// WriteParquet from DuckDB's Arrow interface; and DuckDB's own COPY ... TO
// parquet of the same query. Each runs at two sizes to show how peak
// memory depends on the table's size. Run it with make bench.
func BenchmarkExports(b *testing.B) {
	cases := []struct {
		kind string
		rows int64
	}{
		{"baseline", 0},
		{"workbook", 100_000}, {"workbook", 1_000_000},
		{"parquet-go", 1_000_000}, {"parquet-go", 10_000_000},
		{"parquet-go-chunked", 1_000_000}, {"parquet-go-chunked", 10_000_000},
		{"duckdb-copy", 1_000_000}, {"duckdb-copy", 10_000_000},
	}
	for i := 0; i < b.N; i++ {
		results := map[string]benchResult{}
		fmt.Printf("\n%-20s %12s %9s %12s %10s %12s\n", "case", "rows", "seconds", "rows/s", "MB file", "peak RSS MB")
		for _, c := range cases {
			r, err := runBenchChild(b, c.kind, c.rows)
			if err != nil {
				b.Fatal(err)
			}
			results[c.kind+":"+strconv.FormatInt(c.rows, 10)] = r
			rate := 0.0
			if r.seconds > 0 {
				rate = float64(r.rows) / r.seconds
			}
			fmt.Printf("%-20s %12d %9.2f %12.0f %10.1f %12.0f\n", c.kind, r.rows, r.seconds, rate, float64(r.bytes)/1e6, r.rssMB)
		}
		goPq, copyPq := results["parquet-go:10000000"], results["duckdb-copy:10000000"]
		chunked := results["parquet-go-chunked:10000000"]
		fmt.Printf("\nratio WriteParquet / DuckDB COPY at 10M rows: time %.2fx, file size %.2fx, peak RSS %.2fx (target: time within 1.5x)\n",
			goPq.seconds/copyPq.seconds, float64(goPq.bytes)/float64(copyPq.bytes), goPq.rssMB/copyPq.rssMB)
		fmt.Printf("ratio WriteParquet chunked / DuckDB COPY at 10M rows: time %.2fx, peak RSS %.2fx\n",
			chunked.seconds/copyPq.seconds, chunked.rssMB/copyPq.rssMB)
		b.ReportMetric(goPq.seconds/copyPq.seconds, "parquet-go/copy-time")
	}
}

// runBenchChild runs one case in a child process and returns what it
// measured, with the child's peak RSS.
func runBenchChild(b *testing.B, kind string, rows int64) (benchResult, error) {
	dir := b.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), benchCaseEnv+"="+kind+":"+strconv.FormatInt(rows, 10), benchDirEnv+"="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return benchResult{}, fmt.Errorf("case %s %d: %w\n%s", kind, rows, err, out.String())
	}
	r := benchResult{kind: kind}
	sc := bufio.NewScanner(&out)
	found := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if _, rest, ok := strings.Cut(line, "BENCHRESULT "); ok {
			if _, err := fmt.Sscanf(rest, "rows=%d seconds=%g bytes=%d", &r.rows, &r.seconds, &r.bytes); err != nil {
				return r, fmt.Errorf("case %s: %q: %w", kind, line, err)
			}
			found = true
		}
	}
	if !found {
		return r, fmt.Errorf("case %s %d printed no result:\n%s", kind, rows, out.String())
	}
	// Linux reports ru_maxrss in kilobytes.
	r.rssMB = float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
	return r, nil
}

// TestBenchChild is one case of BenchmarkExports, run in a child process;
// it is skipped in ordinary test runs.
func TestBenchChild(t *testing.T) {
	spec := os.Getenv(benchCaseEnv)
	if spec == "" {
		t.Skip("run by BenchmarkExports")
	}
	kind, n, _ := strings.Cut(spec, ":")
	rows, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv(benchDirEnv)
	db := openDB(t)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	path := filepath.Join(dir, "out")
	start := time.Now()
	var written int64
	switch kind {
	case "baseline":
		err = db.QueryRow(`SELECT count(*) FROM range(10)`).Scan(&written)
		written = 0
	case "workbook":
		path += ".xlsx"
		var counts map[string]int64
		counts, err = WriteWorkbook(ctx, path, AboutSheet{Title: "bench"}, []TableSheet{{Name: "data", Columns: benchColumns,
			Query: func(ctx context.Context) (*sql.Rows, error) { return db.QueryContext(ctx, benchQuery(0, rows)) }}})
		written = counts["data"]
	case "parquet-go":
		path += ".parquet"
		err = withArrow(t, db, benchQuery(0, rows), func(r array.RecordReader) error {
			var err error
			written, err = WriteParquet(ctx, path, r, ParquetOptions{})
			return err
		})
	case "parquet-go-chunked":
		// The same query, fetched a million rows at a time, the next
		// million queried while the current one is written: go-duckdb
		// v1.8.2 materialises a whole result before the first record is
		// read, so this is how a caller bounds memory and overlaps
		// DuckDB's work with the encoding.
		path += ".parquet"
		r := &chunkedReader{t: t, db: db, total: rows, step: 1_000_000}
		written, err = WriteParquet(ctx, path, r, ParquetOptions{})
		r.Release()
	case "duckdb-copy":
		path += ".parquet"
		var res sql.Result
		res, err = db.ExecContext(ctx, `COPY (`+benchQuery(0, rows)+`) TO '`+path+`' (FORMAT PARQUET, COMPRESSION ZSTD)`)
		if err == nil {
			written, err = res.RowsAffected()
		}
	default:
		err = errors.New("unknown case " + kind)
	}
	secs := time.Since(start).Seconds()
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	fmt.Printf("BENCHRESULT rows=%d seconds=%g bytes=%d\n", written, secs, size)
}

// chunkedReader reads benchQuery in slices of step rows, one Arrow query
// per slice, as one stream of records. The next slice is queried in the
// background while the current one is written, so DuckDB's work overlaps
// the Parquet encoding; at most two slices are held.
type chunkedReader struct {
	t           testing.TB
	db          *sql.DB
	total, step int64
	next        int64
	pending     chan chunk
	schema      *arrow.Schema
	recs        []arrow.Record
	cur         arrow.Record
	err         error
}

type chunk struct {
	schema *arrow.Schema
	recs   []arrow.Record
	err    error
}

// start queries the next slice in the background.
func (c *chunkedReader) start() {
	if c.next >= c.total {
		c.pending = nil
		return
	}
	from, to := c.next, min(c.next+c.step, c.total)
	c.next = to
	ch := make(chan chunk, 1)
	c.pending = ch
	go func() {
		var k chunk
		k.err = withArrow(c.t, c.db, benchQuery(from, to), func(r array.RecordReader) error {
			k.schema = r.Schema()
			for r.Next() {
				rec := r.Record()
				rec.Retain()
				k.recs = append(k.recs, rec)
			}
			return r.Err()
		})
		ch <- k
	}()
}

func (c *chunkedReader) fetch() bool {
	if c.pending == nil && c.next == 0 {
		c.start()
	}
	if c.pending == nil {
		return false
	}
	k := <-c.pending
	c.start()
	c.schema, c.recs, c.err = k.schema, k.recs, k.err
	return c.err == nil
}

func (c *chunkedReader) Schema() *arrow.Schema {
	if c.schema == nil {
		c.fetch()
	}
	return c.schema
}

func (c *chunkedReader) Next() bool {
	if c.cur != nil {
		c.cur.Release()
		c.recs = c.recs[1:]
		c.cur = nil
	}
	for len(c.recs) == 0 {
		if !c.fetch() {
			return false
		}
	}
	c.cur = c.recs[0]
	return true
}

func (c *chunkedReader) Record() arrow.Record { return c.cur }
func (c *chunkedReader) Err() error           { return c.err }
func (c *chunkedReader) Retain()              {}
func (c *chunkedReader) Release() {
	for _, r := range c.recs {
		r.Release()
	}
	c.recs = nil
	if c.pending != nil {
		k := <-c.pending
		for _, r := range k.recs {
			r.Release()
		}
		c.pending = nil
	}
}
