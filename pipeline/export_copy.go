package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

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

// orderedObservations is the query of observations' documented columns
// cols in key order without a sort: observations_stored_ordered and
// eurostat_cells_ordered are stored in key order, so a scan of either
// (with its strings joined on) is in key order when one thread runs it
// with joins planned as written (withOrderedScans).
// Their datasets are disjoint and interleave (ec_... < eurostat_... <
// ru_... < unhcr_...), so the query reads, for each run of consecutive
// datasets of one part, that part's range of sort_key, in order: a UNION
// ALL of single-table scans.
func orderedObservations(ctx context.Context, conn *sql.Conn, cols string) (string, error) {
	var periods, breakdowns int64
	if err := conn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM observation_periods), (SELECT count(*) FROM observation_breakdowns)`).Scan(&periods, &breakdowns); err != nil {
		return "", fmt.Errorf("order observations: %w", err)
	}
	rows, err := conn.QueryContext(ctx, `SELECT min(g.group_rank), max(g.group_rank), e.dataset IS NOT NULL AS eurostat
		FROM observation_groups g
		LEFT JOIN (SELECT DISTINCT dataset FROM eurostat_series) e USING (dataset)
		GROUP BY g.dataset, eurostat
		ORDER BY 1`)
	if err != nil {
		return "", fmt.Errorf("order observations: %w", err)
	}
	defer rows.Close()
	type run struct {
		lo, hi   int64 // group ranks
		eurostat bool
	}
	var runs []run
	for rows.Next() {
		var r run
		if err := rows.Scan(&r.lo, &r.hi, &r.eurostat); err != nil {
			return "", fmt.Errorf("order observations: %w", err)
		}
		if n := len(runs); n > 0 && runs[n-1].eurostat == r.eurostat {
			if runs[n-1].hi >= r.lo {
				return "", fmt.Errorf("order observations: datasets overlap in key order")
			}
			runs[n-1].hi = r.hi
			continue
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("order observations: %w", err)
	}
	if len(runs) == 0 {
		return "SELECT " + cols + " FROM observations_stored_ordered", nil
	}
	parts := make([]string, len(runs))
	for i, r := range runs {
		from := "observations_stored_ordered"
		if r.eurostat {
			from = "observations_eurostat_ordered"
		}
		// The keys of groups lo..hi, digits counted from 1.
		lo := (r.lo*periods+1)*breakdowns + 1
		hi := (r.hi*periods+periods)*breakdowns + breakdowns
		parts[i] = fmt.Sprintf("SELECT %s FROM %s WHERE sort_key BETWEEN %d AND %d", cols, from, lo, hi)
	}
	return strings.Join(parts, "\nUNION ALL\n"), nil
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
