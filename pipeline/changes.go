package pipeline

import (
	"github.com/visastats/visastats/output/release"

	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
func Diff(ctx context.Context, cfg Config, a, b string, limit int) (*release.Changes, []Revision, error) {
	rels := filepath.Join(cfg.Output.Dir, "releases")
	if b == "" {
		prev := release.Layout{Dir: cfg.Output.Dir}.LatestReport()
		if prev == nil {
			return nil, nil, fmt.Errorf("%w: no published release yet; run `visastats run` first", ErrNothingToCompare)
		}
		b = prev.Release
		if a == "" {
			a = prev.Previous
		}
	}
	if a == "" {
		return nil, nil, fmt.Errorf("%w: release %s is the only one, there is no earlier release to compare it with", ErrNothingToCompare, b)
	}
	paths := map[string]string{}
	for _, id := range []string{a, b} {
		if !release.ValidID(id) {
			return nil, nil, fmt.Errorf("%q is %w (like 20261125T174300Z)", id, ErrNotReleaseID)
		}
		if paths[id] = observationsPath(filepath.Join(rels, id)); paths[id] == "" {
			return nil, nil, fmt.Errorf("release %s: no observations in %s", id, filepath.Join(rels, id))
		}
	}
	db, err := openDB("", false)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	for table, id := range map[string]string{"previous_observations": a, "observations": b} {
		q := `CREATE TABLE ` + vsql.QuoteIdent(table) + ` AS SELECT * FROM read_parquet(?, hive_partitioning = true)`
		if _, err := conn.ExecContext(ctx, q, paths[id]); err != nil {
			return nil, nil, fmt.Errorf("read release %s: %w", id, err)
		}
	}
	ts, err := vsql.Transforms()
	if err != nil {
		return nil, nil, err
	}
	ran := false
	for _, t := range ts {
		if t.Name == "observation_changes" {
			if _, err := conn.ExecContext(ctx, t.SQL); err != nil {
				return nil, nil, fmt.Errorf("compare %s with %s: %w", a, b, err)
			}
			ran = true
		}
	}
	if !ran {
		return nil, nil, errors.New("transform observation_changes is missing")
	}
	sum, err := changeSummary(ctx, conn, a)
	if err != nil {
		return nil, nil, err
	}
	rows, err := conn.QueryContext(ctx, `SELECT change, dataset, indicator, reporter, partner, location, period,
		previous_value, value, previous_flags, flags FROM observation_changes
		ORDER BY CASE change WHEN 'revised' THEN 0 WHEN 'removed' THEN 1 ELSE 2 END,
		         dataset, indicator, reporter, partner, location, period LIMIT ?`, limit)
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
