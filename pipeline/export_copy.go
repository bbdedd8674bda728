package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/visastats/visastats/output"
)

// copyParquet writes the rows of query into a zstd-compressed Parquet file
// at path with DuckDB's own writer (COPY ... TO), with row groups of
// output.DefaultRowGroupRows rows and meta as the file's key-value
// metadata, and returns the rows written. DuckDB writes in parallel and
// spills what does not fit in its memory limit, where streaming the rows
// to a Go writer costs a copy of every value. The file appears under path
// only when complete and synced.
func copyParquet(ctx context.Context, conn *sql.Conn, query, path string, meta map[string]string) (n int64, err error) {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	q := "COPY (" + query + ") TO " + sqlString(tmp) + " (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE " +
		fmt.Sprint(output.DefaultRowGroupRows) + ", KV_METADATA {" + kvMetadata(meta) + "})"
	res, err := conn.ExecContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if n, err = res.RowsAffected(); err != nil {
		return 0, fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	f, err := os.Open(tmp)
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return n, nil
}

// kvMetadata spells meta as the fields of a DuckDB struct literal, in key
// order so that equal inputs give equal files.
func kvMetadata(meta map[string]string) string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = `"` + strings.ReplaceAll(k, `"`, `""`) + `": ` + sqlString(meta[k])
	}
	return strings.Join(parts, ", ")
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// keyRange is a range of sort_key read from one view in key order
// (observations_stored_ordered or observations_eurostat_ordered); keys is
// the table that stores the range's sort_key.
type keyRange struct {
	from   string
	lo, hi int64 // sort_key, inclusive
}

// datasetRange is the range of sort_key of one dataset.
type datasetRange struct {
	dataset string
	keyRange
	keys string
}

// keyShape is the shape of sort_key: (group_rank * periods + period_rank)
// * breakdowns + breakdown_rank, ranks counted from 1.
type keyShape struct{ periods, breakdowns int64 }

// periodRank is the SQL expression of a sort_key's period rank.
func (k keyShape) periodRank() string {
	return fmt.Sprintf("((sort_key - 1) // %d - 1) %% %d + 1", k.breakdowns, k.periods)
}

// datasetRanges returns the key range of every dataset, in key order, and
// the shape of the keys. observations_stored_ordered and
// eurostat_cells_ordered are stored in key order, so a scan of either
// (with its strings joined on) is in key order when one thread runs it
// with joins planned as written (withOrderedScans); each dataset is in
// one of them.
func datasetRanges(ctx context.Context, conn *sql.Conn) ([]datasetRange, keyShape, error) {
	var k keyShape
	if err := conn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM observation_periods), (SELECT count(*) FROM observation_breakdowns)`).Scan(&k.periods, &k.breakdowns); err != nil {
		return nil, k, fmt.Errorf("order observations: %w", err)
	}
	rows, err := conn.QueryContext(ctx, `SELECT g.dataset, min(g.group_rank), max(g.group_rank), e.dataset IS NOT NULL AS eurostat
		FROM observation_groups g
		LEFT JOIN (SELECT DISTINCT dataset FROM eurostat_series) e USING (dataset)
		GROUP BY g.dataset, eurostat
		ORDER BY 2`)
	if err != nil {
		return nil, k, fmt.Errorf("order observations: %w", err)
	}
	defer rows.Close()
	var ranges []datasetRange
	for rows.Next() {
		var d datasetRange
		var lo, hi int64 // group ranks
		var eurostat bool
		if err := rows.Scan(&d.dataset, &lo, &hi, &eurostat); err != nil {
			return nil, k, fmt.Errorf("order observations: %w", err)
		}
		d.from, d.keys = "observations_stored_ordered", "observations_stored_ordered"
		if eurostat {
			d.from, d.keys = "observations_eurostat_ordered", "eurostat_cells_ordered"
		}
		// The keys of groups lo..hi.
		d.lo, d.hi = (lo*k.periods+1)*k.breakdowns+1, (hi*k.periods+k.periods)*k.breakdowns+k.breakdowns
		if n := len(ranges); n > 0 && ranges[n-1].hi >= d.lo {
			return nil, k, fmt.Errorf("order observations: datasets %s and %s overlap in key order", ranges[n-1].dataset, d.dataset)
		}
		ranges = append(ranges, d)
	}
	if err := rows.Err(); err != nil {
		return nil, k, fmt.Errorf("order observations: %w", err)
	}
	return ranges, k, nil
}

// observationRanges returns observations in key order as ranges of
// sort_key, each read from one view: the datasets' ranges, with runs of
// consecutive datasets of one table joined (ec_... < eurostat_... < ru_...
// < unhcr_... interleave the two tables).
func observationRanges(ctx context.Context, conn *sql.Conn) ([]keyRange, error) {
	ds, _, err := datasetRanges(ctx, conn)
	if err != nil {
		return nil, err
	}
	var ranges []keyRange
	for _, d := range ds {
		if n := len(ranges); n > 0 && ranges[n-1].from == d.from {
			ranges[n-1].hi = d.hi
			continue
		}
		ranges = append(ranges, d.keyRange)
	}
	return ranges, nil
}

// orderedQuery is the query of cols over ranges, in their order: a UNION
// ALL of single-table range scans.
func orderedQuery(cols string, ranges []keyRange) string {
	if len(ranges) == 0 {
		return "SELECT " + cols + " FROM observations_stored_ordered"
	}
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		parts[i] = fmt.Sprintf("SELECT %s FROM %s WHERE sort_key BETWEEN %d AND %d", cols, r.from, r.lo, r.hi)
	}
	return strings.Join(parts, "\nUNION ALL\n")
}

// splitRanges cuts ranges into n consecutive parts of about equal rows at
// the given keys (ascending): part i holds the keys below cuts[i] and at
// or above cuts[i-1]. Parts left empty are dropped.
func splitRanges(ranges []keyRange, cuts []int64) [][]keyRange {
	var parts [][]keyRange
	var cur []keyRange
	flush := func() {
		if len(cur) > 0 {
			parts = append(parts, cur)
		}
		cur = nil
	}
	c := 0
	for _, r := range ranges {
		for c < len(cuts) && cuts[c] <= r.lo {
			flush()
			c++
		}
		for c < len(cuts) && cuts[c] <= r.hi {
			cur = append(cur, keyRange{r.from, r.lo, cuts[c] - 1})
			r.lo = cuts[c]
			flush()
			c++
		}
		cur = append(cur, r)
	}
	flush()
	return parts
}

// copyObservations writes cols of observations into the Parquet file at
// path in key order with DuckDB's writer (copyParquet): the key ranges are
// cut into one part per DuckDB thread of about equal rows, each part is
// written by its own connection on one thread (an ordered scan), side by
// side, and the parts are concatenated row group by row group
// (output.ConcatParquet). It returns the rows written.
func copyObservations(ctx context.Context, db *sql.DB, conn *sql.Conn, cols, path string, meta map[string]string) (int64, error) {
	ranges, err := observationRanges(ctx, conn)
	if err != nil {
		return 0, err
	}
	threads, err := duckdbThreads(ctx, conn)
	if err != nil {
		return 0, err
	}
	cuts, err := balancedCuts(ctx, conn, threads)
	if err != nil {
		return 0, err
	}
	parts := splitRanges(ranges, cuts)
	if len(parts) <= 1 {
		parts = [][]keyRange{ranges} // one part (no datasets: an empty table)
	}
	jobs := make([]copyJob, len(parts))
	files := make([]string, len(parts))
	for i, p := range parts {
		files[i] = filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.part%d", filepath.Base(path), i))
		jobs[i] = copyJob{name: fmt.Sprintf("part %d of %d", i+1, len(parts)), query: orderedQuery(cols, p), path: files[i]}
	}
	defer func() {
		for _, f := range files {
			os.Remove(f)
		}
	}()
	if _, err := copyOrdered(ctx, db, conn, jobs, meta); err != nil {
		return 0, err
	}
	n, err := output.ConcatParquet(ctx, path, files)
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return n, nil
}

// copyJob is one ordered COPY of copyOrdered: query's rows to the Parquet
// file at path; name says which part it is in errors.
type copyJob struct {
	name, query, path string
}

// duckdbThreads is how many threads the database at conn uses.
func duckdbThreads(ctx context.Context, conn *sql.Conn) (int, error) {
	var threads int64
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&threads); err != nil {
		return 0, fmt.Errorf("read settings: %w", err)
	}
	return int(threads), nil
}

// copyOrdered runs jobs with copyParquet, each an ordered scan on one
// DuckDB thread (withOrderedScans, set through conn), as many side by
// side as the database had threads, each writer on its own connection:
// DuckDB runs a query on the thread that asks for it. It returns the rows
// of each job; the first error cancels the jobs not yet done.
func copyOrdered(ctx context.Context, db *sql.DB, conn *sql.Conn, jobs []copyJob, meta map[string]string) ([]int64, error) {
	threads, err := duckdbThreads(ctx, conn)
	if err != nil {
		return nil, err
	}
	counts := make([]int64, len(jobs))
	err = withOrderedScans(ctx, conn, func() error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		next := make(chan int)
		errs := make([]error, len(jobs))
		var wg sync.WaitGroup
		for range max(1, min(threads, len(jobs))) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := db.Conn(ctx)
				if err == nil {
					defer c.Close()
				}
				for i := range next {
					if err == nil {
						counts[i], errs[i] = copyParquet(ctx, c, jobs[i].query, jobs[i].path, meta)
					} else {
						errs[i] = err
					}
					if errs[i] != nil {
						errs[i] = fmt.Errorf("%s: %w", jobs[i].name, errs[i])
						cancel()
					}
				}
			}()
		}
		for i := range jobs {
			if ctx.Err() != nil {
				break
			}
			next <- i
		}
		close(next)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		return ctx.Err()
	})
	return counts, err
}

// balancedCuts returns up to n-1 keys that cut observations into n parts
// of about equal rows: keys at equal steps through the larger of the two
// stored tables, read in their stored (key) order.
func balancedCuts(ctx context.Context, conn *sql.Conn, n int) ([]int64, error) {
	if n <= 1 {
		return nil, nil
	}
	var stored, cells int64
	if err := conn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM observations_stored_ordered), (SELECT count(*) FROM eurostat_cells_ordered)`).Scan(&stored, &cells); err != nil {
		return nil, fmt.Errorf("order observations: %w", err)
	}
	table, rows := "observations_stored_ordered", stored
	if cells > stored {
		table, rows = "eurostat_cells_ordered", cells
	}
	var cuts []int64
	for i := 1; i < n; i++ {
		var k int64
		err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT sort_key FROM %s LIMIT 1 OFFSET %d", table, rows*int64(i)/int64(n))).Scan(&k)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("order observations: %w", err)
		}
		if len(cuts) == 0 || k > cuts[len(cuts)-1] {
			cuts = append(cuts, k)
		}
	}
	return cuts, nil
}

// withOrderedScans runs fn with DuckDB on one thread, order-preserving
// results and joins planned as written (join_order and
// build_side_probe_side disabled): the first table of each FROM is then
// the probe side of its hash joins, streamed in its stored order. Left to
// the optimizer, a filtered scan of the cells may become a build side and
// the rows come out in the series' order. The settings are restored after.
func withOrderedScans(ctx context.Context, conn *sql.Conn, fn func() error) error {
	var threads int64
	var keep bool
	var disabled string
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('threads'), current_setting('preserve_insertion_order'), current_setting('disabled_optimizers')").Scan(&threads, &keep, &disabled); err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	off := "join_order,build_side_probe_side"
	if disabled != "" {
		off = disabled + "," + off
	}
	for _, q := range []string{"SET threads = 1", "SET preserve_insertion_order = true", "SET disabled_optimizers = " + sqlString(off)} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("settings for an ordered scan: %w", err)
		}
	}
	err := fn()
	// Restore even when ctx is cancelled.
	for _, q := range []string{fmt.Sprintf("SET threads = %d", threads), fmt.Sprintf("SET preserve_insertion_order = %t", keep),
		"SET disabled_optimizers = " + sqlString(disabled)} {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), q); rerr != nil && err == nil {
			err = fmt.Errorf("restore settings: %w", rerr)
		}
	}
	return err
}

// observationPartitions are the columns of the partitioned layout's hive
// folders, in folder order.
var observationPartitions = []string{"dataset", "year"}

// copyObservationsPartitioned writes cols of observations (without the
// partition columns dataset and year) as a hive-partitioned folder at dir,
// one file per dataset and year (output.PartitionFolder,
// output.PartitionFile), each in key order with DuckDB's writer
// (copyParquet): a partition is its dataset's key range filtered to the
// year's period ranks (a year's periods are consecutive ranks), read by an
// ordered scan on one thread; as many partitions as DuckDB has threads
// are written side by side, each on its own connection. The folder
// appears at dir when complete. It returns the rows and the files,
// relative to dir, sorted.
func copyObservationsPartitioned(ctx context.Context, db *sql.DB, conn *sql.Conn, cols, dir string, meta map[string]string) (int64, []string, error) {
	dir = filepath.Clean(dir)
	ds, shape, err := datasetRanges(ctx, conn)
	if err != nil {
		return 0, nil, err
	}
	type partition struct {
		folder string
		query  string
	}
	var parts []partition
	for _, d := range ds {
		rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT p.year, min(p.period_rank), max(p.period_rank)
			FROM (SELECT DISTINCT %s AS period_rank FROM %s WHERE sort_key BETWEEN %d AND %d) k
			JOIN observation_periods p USING (period_rank)
			GROUP BY p.year ORDER BY p.year`, shape.periodRank(), d.keys, d.lo, d.hi))
		if err != nil {
			return 0, nil, fmt.Errorf("partition observations: %w", err)
		}
		for rows.Next() {
			var year, a, b int64
			if err := rows.Scan(&year, &a, &b); err != nil {
				rows.Close()
				return 0, nil, fmt.Errorf("partition observations: %w", err)
			}
			folder, err := output.PartitionFolder(observationPartitions, []string{d.dataset, fmt.Sprint(year)})
			if err != nil {
				rows.Close()
				return 0, nil, fmt.Errorf("partition observations: %w", err)
			}
			parts = append(parts, partition{folder, fmt.Sprintf("SELECT %s FROM %s WHERE sort_key BETWEEN %d AND %d AND %s BETWEEN %d AND %d",
				cols, d.from, d.lo, d.hi, shape.periodRank(), a, b)})
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return 0, nil, fmt.Errorf("partition observations: %w", err)
		}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return 0, nil, fmt.Errorf("write %s: %w", filepath.Base(dir), err)
	}
	defer os.RemoveAll(tmp) // gone once renamed into place
	jobs := make([]copyJob, len(parts))
	for i, p := range parts {
		jobs[i] = copyJob{name: p.folder, query: p.query, path: filepath.Join(tmp, p.folder, output.PartitionFile)}
		if err := os.MkdirAll(filepath.Dir(jobs[i].path), 0o755); err != nil {
			return 0, nil, fmt.Errorf("write %s: %w", filepath.Base(dir), err)
		}
	}
	counts, err := copyOrdered(ctx, db, conn, jobs, meta)
	if err != nil {
		return 0, nil, fmt.Errorf("write %s: %w", filepath.Base(dir), err)
	}
	var rows int64
	files := make([]string, 0, len(parts))
	for i, p := range parts {
		if counts[i] == 0 {
			return 0, nil, fmt.Errorf("write %s: partition %s has no rows", filepath.Base(dir), p.folder)
		}
		rows += counts[i]
		files = append(files, p.folder+"/"+output.PartitionFile)
	}
	sort.Strings(files)
	if err := output.PublishDir(tmp, dir); err != nil {
		return 0, nil, err
	}
	return rows, files, nil
}
