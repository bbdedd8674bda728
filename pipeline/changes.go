package pipeline

import (
	"github.com/visastats/visastats/output/release"

	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	vsql "github.com/visastats/visastats/sql"
)

// loadPrevious makes previous_observations: a view of the previous
// release's observations (read from its Parquet files when a query needs
// them, not copied into the database), or an empty view shaped like
// observations for a first release. It runs right after the observations
// view is created.
func loadPrevious(ctx context.Context, conn *sql.Conn, prevObs string) error {
	if prevObs == "" {
		if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE VIEW previous_observations AS SELECT * FROM observations LIMIT 0`); err != nil {
			return fmt.Errorf("create previous_observations: %w", err)
		}
		return nil
	}
	// Shaped like observations, whatever types the previous files carry
	// (a partitioned folder gives its partition columns as BIGINT).
	rows, err := conn.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'observations' ORDER BY ordinal_position`)
	if err != nil {
		return fmt.Errorf("create previous_observations: %w", err)
	}
	var cols []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			rows.Close()
			return fmt.Errorf("create previous_observations: %w", err)
		}
		cols = append(cols, "CAST("+vsql.QuoteIdent(name)+" AS "+typ+") AS "+vsql.QuoteIdent(name))
	}
	err = rows.Err()
	rows.Close()
	if err != nil || len(cols) == 0 {
		return fmt.Errorf("create previous_observations: columns of observations: %v", err)
	}
	q := `CREATE OR REPLACE VIEW previous_observations AS SELECT ` + strings.Join(cols, ", ") +
		` FROM read_parquet(` + sqlString(prevObs) + `, hive_partitioning = true)`
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("read previous release %s: %w (remove that damaged release and rerun)", prevObs, err)
	}
	// The files' footers, read now, so that a damaged release is named here.
	var n int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM previous_observations`).Scan(&n); err != nil {
		return fmt.Errorf("read previous release %s: %w (remove that damaged release and rerun)", prevObs, err)
	}
	return nil
}

// dropPrevious removes previous_observations once the build no longer
// needs it. It reads the previous release's files, which this run may
// prune (output.keep: 1) and a user may move, so the database a run leaves
// behind keeps what came of it (observation_changes, the checks) and not a
// view that would fail later.
func dropPrevious(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `DROP VIEW IF EXISTS previous_observations`); err != nil {
		return fmt.Errorf("drop previous_observations: %w", err)
	}
	return nil
}

func changeSummary(ctx context.Context, conn *sql.Conn, previous string) (*release.Changes, error) {
	s := &release.Changes{Previous: previous}
	err := conn.QueryRowContext(ctx, `SELECT
		count(*) FILTER (WHERE change = 'new'), count(*) FILTER (WHERE change = 'removed'),
		count(*) FILTER (WHERE change = 'revised') FROM observation_changes`).Scan(&s.New, &s.Removed, &s.Revised)
	if err != nil {
		return nil, fmt.Errorf("summarise changes: %w", err)
	}
	return s, nil
}

// Revision is one changed observation, for `visastats diff`.
type Revision struct {
	Change, Dataset, Indicator, Reporter, Partner, Location, Period string
	Previous, Value                                                 *float64
	PreviousFlags, Flags                                            *string
}

// ErrNothingToCompare is returned by Diff when there are not two releases
// to compare: none published yet, or only one. It is not a failure.
var ErrNothingToCompare = errors.New("nothing to compare")

// ErrNotReleaseID is returned by Diff for an argument that is not a
// release id: a usage error.
var ErrNotReleaseID = errors.New("not a release id")

// Diff compares the observations of two published releases (a older, b
// newer; "" means the latest release for b and the release before it for
// a) and returns the summary and up to limit changes, revisions first.
// When the release before the latest is no longer kept (output.keep)
// there is nothing to compare.
//
// The comparison is the transform a run uses (observation_changes), run in
// DuckDB on the releases' files where they are, in a scratch database
// bounded by duckdb.memory_limit and threads that spills to a private
// folder under the system's temporary folder (TMPDIR), removed on return.
// A full outer join of two large releases needs more memory than a limit
// allows, so the observations are split by the hash of their key into
// chunks that fit it (diffChunks), compared one at a time: an
// observation and its previous value always fall in one chunk.
func Diff(ctx context.Context, cfg Config, a, b string, limit int) (*release.Changes, []Revision, error) {
	layout := release.Layout{Dir: cfg.Output.Dir}
	defaulted := false
	if b == "" {
		prev := layout.LatestReport()
		if prev == nil {
			return nil, nil, fmt.Errorf("%w: no published release yet; run `visastats run` first", ErrNothingToCompare)
		}
		b = prev.Release
		if a == "" {
			a, defaulted = prev.Previous, true
		}
	}
	if a == "" {
		return nil, nil, fmt.Errorf("%w: release %s is the only one, there is no earlier release to compare it with", ErrNothingToCompare, b)
	}
	if defaulted && release.ValidID(a) {
		if _, err := os.Stat(layout.Release(a)); errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%w: release %s, the one before %s, is no longer kept (output.keep is %d)", ErrNothingToCompare, a, b, cfg.Output.Keep)
		}
	}
	paths := map[string]string{}
	for _, id := range []string{a, b} {
		if !release.ValidID(id) {
			return nil, nil, fmt.Errorf("%q is %w (like 20261125T174300Z)", id, ErrNotReleaseID)
		}
		if paths[id] = observationsPath(layout.Release(id)); paths[id] == "" {
			return nil, nil, fmt.Errorf("release %s: no observations in %s", id, layout.Release(id))
		}
	}
	transform, key, err := changesTransform()
	if err != nil {
		return nil, nil, err
	}
	spill, err := os.MkdirTemp("", "visastats-diff-")
	if err != nil {
		return nil, nil, fmt.Errorf("diff: spill folder: %w", err)
	}
	defer os.RemoveAll(spill)
	db, err := openScratchDB(cfg.DuckDB, spill)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()

	// Each release once, whole, for its row count (read from the files'
	// footers), then each chunk through views over the same files.
	views := []struct{ view, id string }{{"previous_observations", a}, {"observations", b}}
	counts := map[string]int64{}
	for _, v := range views {
		if _, err := conn.ExecContext(ctx, `CREATE VIEW `+vsql.QuoteIdent(v.view+"_all")+` AS SELECT * FROM read_parquet(`+sqlString(paths[v.id])+`, hive_partitioning = true)`); err != nil {
			return nil, nil, fmt.Errorf("read release %s: %w", v.id, err)
		}
		var n int64
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM `+vsql.QuoteIdent(v.view+"_all")).Scan(&n); err != nil {
			return nil, nil, fmt.Errorf("read release %s: %w", v.id, err)
		}
		counts[v.view] = n
	}
	chunks := diffChunks(counts["previous_observations"], counts["observations"], cfg.DuckDB)
	hashed := make([]string, len(key))
	for i, k := range key {
		hashed[i] = "CAST(" + vsql.QuoteIdent(k) + " AS VARCHAR)"
	}
	chunk := "hash(" + strings.Join(hashed, ", ") + ") % " + strconv.FormatInt(chunks, 10)
	for c := int64(0); c < chunks; c++ {
		for _, v := range views {
			q := `CREATE OR REPLACE VIEW ` + vsql.QuoteIdent(v.view) + ` AS SELECT * FROM ` + vsql.QuoteIdent(v.view+"_all")
			if chunks > 1 {
				q += ` WHERE ` + chunk + ` = ` + strconv.FormatInt(c, 10)
			}
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return nil, nil, fmt.Errorf("compare %s with %s: %w", a, b, err)
			}
		}
		if chunks > 1 && counts["previous_observations"] > 0 {
			// The transform takes an empty previous release for a first
			// release; a chunk of a release must not look like one.
			var n int64
			if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM previous_observations`).Scan(&n); err != nil {
				return nil, nil, fmt.Errorf("compare %s with %s: %w", a, b, err)
			}
			if n == 0 {
				return nil, nil, fmt.Errorf("compare %s with %s: chunk %d of %d has none of the %d observations of %s", a, b, c, chunks, counts["previous_observations"], a)
			}
		}
		if _, err := conn.ExecContext(ctx, transform); err != nil {
			return nil, nil, fmt.Errorf("compare %s with %s: %w", a, b, err)
		}
		q := `INSERT INTO diff_changes SELECT * FROM observation_changes`
		if c == 0 {
			q = `CREATE TABLE diff_changes AS SELECT * FROM observation_changes`
		}
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, nil, fmt.Errorf("compare %s with %s: %w", a, b, err)
		}
	}
	if _, err := conn.ExecContext(ctx, `DROP TABLE observation_changes; ALTER TABLE diff_changes RENAME TO observation_changes`); err != nil {
		return nil, nil, fmt.Errorf("compare %s with %s: %w", a, b, err)
	}
	sum, err := changeSummary(ctx, conn, a)
	if err != nil {
		return nil, nil, err
	}
	// The limit is a constant, not a parameter: DuckDB keeps only the
	// first rows of an ORDER BY with a constant LIMIT, and sorts them all
	// otherwise (0.8 GB beyond the memory limit with 5 million changes).
	rows, err := conn.QueryContext(ctx, `SELECT change, dataset, indicator, reporter, partner, location, period,
		previous_value, value, previous_flags, flags FROM observation_changes
		ORDER BY CASE change WHEN 'revised' THEN 0 WHEN 'removed' THEN 1 ELSE 2 END,
		         dataset, indicator, reporter, partner, location, period LIMIT `+strconv.Itoa(max(limit, 0)))
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []Revision
	for rows.Next() {
		var r Revision
		if err := rows.Scan(&r.Change, &r.Dataset, &r.Indicator, &r.Reporter, &r.Partner, &r.Location, &r.Period,
			&r.Previous, &r.Value, &r.PreviousFlags, &r.Flags); err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	return sum, out, rows.Err()
}

// changesTransform returns the SQL of the observation_changes transform
// and the key of observations (sql/tables.csv), which it joins on.
func changesTransform() (string, []string, error) {
	ts, err := vsql.Transforms()
	if err != nil {
		return "", nil, err
	}
	tables, err := vsql.Tables()
	if err != nil {
		return "", nil, err
	}
	var transform string
	for _, t := range ts {
		if t.Name == "observation_changes" {
			transform = t.SQL
		}
	}
	if transform == "" {
		return "", nil, errors.New("transform observation_changes is missing")
	}
	for _, t := range tables {
		if t.Name == "observations" && len(t.Key) > 0 {
			return transform, t.Key, nil
		}
	}
	return "", nil, errors.New("sql/tables.csv gives no key for observations")
}

// diffBytesPerRow is how many bytes of DuckDB's memory limit each
// observation of a chunk of a diff may take: chunks of about 500,000
// observations under the default 1GB. (The transform's final sort takes
// memory beyond the limit in proportion to a chunk: on two releases of 9.3
// million observations, the first chunk's peak RSS was 1.9 GB with chunks
// of 2 million, 0.7 GB with chunks of 500,000, in about the same time.)
const diffBytesPerRow = 2048

// diffChunks is how many chunks Diff compares releases of previous and
// current observations in: the smaller release (the side a hash join
// builds) in chunks of about memory_limit / diffBytesPerRow observations,
// and never fewer than 100,000 of them a chunk, so that no chunk of a
// release is empty.
func diffChunks(previous, current int64, d DuckDBConfig) int64 {
	limit, ok := parseSize(d.memoryLimit())
	if !ok {
		limit = 1e9
	}
	per := max(int64(limit)/diffBytesPerRow, 100_000)
	return max(1, (min(previous, current)+per-1)/per)
}

// Describe says what a revision is, in words.
func (r Revision) Describe() string {
	what := strings.TrimSpace(fmt.Sprintf("%s %s %s->%s %s %s", r.Dataset, r.Indicator, r.Reporter, r.Partner, r.Location, r.Period))
	num := func(v *float64) string {
		if v == nil {
			return "not available"
		}
		return fmt.Sprintf("%.0f", *v)
	}
	switch r.Change {
	case "revised":
		s := fmt.Sprintf("%s was revised from %s to %s", what, num(r.Previous), num(r.Value))
		if r.PreviousFlags != nil && r.Flags != nil && *r.PreviousFlags != *r.Flags {
			s += fmt.Sprintf(" (flags %q -> %q)", *r.PreviousFlags, *r.Flags)
		}
		return s
	case "removed":
		return fmt.Sprintf("%s (%s) is no longer published", what, num(r.Previous))
	}
	return fmt.Sprintf("%s is new (%s)", what, num(r.Value))
}

// observationsPath is what read_parquet reads for a release's observations:
// the file, or the partitioned folder's parts; "" when there are none.
func observationsPath(releaseDir string) string {
	if f := filepath.Join(releaseDir, "observations.parquet"); fileExists(f) {
		return f
	}
	if parts, _ := filepath.Glob(filepath.Join(releaseDir, "observations", "*", "*", "*.parquet")); len(parts) > 0 {
		return filepath.Join(releaseDir, "observations", "**", "*.parquet")
	}
	return ""
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
