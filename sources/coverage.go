package sources

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// PeriodCoverageConfig locates the curated statements of how much of a
// period an input file covers.
type PeriodCoverageConfig struct {
	Path string `mapstructure:"path"`
}

// periodCoverageColumns is the header of the curated coverage file.
var periodCoverageColumns = []string{"sha256", "source", "file", "year", "first_month", "last_month", "known_from"}

// PeriodCoverage loads what is known about the coverage of a period in one
// input file, where the file itself does not say it: for example that an
// export was taken from a mid-year release, so that its latest year covers
// January to June only. Rows are keyed by the input's SHA-256, so a
// statement applies to those exact bytes and to nothing else.
type PeriodCoverage struct {
	cfg PeriodCoverageConfig
}

// NewPeriodCoverage returns the source of curated period coverage.
func NewPeriodCoverage(cfg PeriodCoverageConfig) *PeriodCoverage {
	return &PeriodCoverage{cfg: cfg}
}

// Name implements Source.
func (c *PeriodCoverage) Name() string { return "period_coverage" }

// Inputs implements Source.
func (c *PeriodCoverage) Inputs(ctx context.Context) ([]Input, error) {
	if c.cfg.Path == "" {
		return nil, nil // nothing curated: every period counts as stated by its source
	}
	if err := checkFileName(c.cfg.Path); err != nil {
		return nil, fmt.Errorf("period_coverage: %w", err)
	}
	if _, err := os.Stat(c.cfg.Path); err != nil {
		return nil, fmt.Errorf("period_coverage: %w", err)
	}
	return []Input{{Path: c.cfg.Path}}, nil
}

// Load implements Source: it validates the file and writes
// raw_period_coverage.
func (c *PeriodCoverage) Load(ctx context.Context, conn *sql.Conn) (Stats, error) {
	var st Stats
	ins, err := c.Inputs(ctx)
	if err != nil {
		return st, err
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TABLE raw_period_coverage (
		file VARCHAR NOT NULL, line INTEGER NOT NULL, sha256 VARCHAR NOT NULL, source VARCHAR NOT NULL,
		input_name VARCHAR NOT NULL, year INTEGER NOT NULL, first_month INTEGER NOT NULL,
		last_month INTEGER NOT NULL, known_from VARCHAR NOT NULL)`); err != nil {
		return st, fmt.Errorf("create raw_period_coverage: %w", err)
	}
	if len(ins) == 0 {
		return st, nil
	}
	path := c.cfg.Path
	n, err := appendRows(ctx, conn, "raw_period_coverage", func(add func(...driver.Value) error) error {
		return readPeriodCoverage(path, func(line int, r periodCoverageRow) error {
			return add(path, int32(line), r.sha256, r.source, r.file, int32(r.year), int32(r.first), int32(r.last), r.knownFrom)
		})
	})
	if err != nil {
		return st, err
	}
	st.add("raw_period_coverage", n)
	return st, nil
}

type periodCoverageRow struct {
	sha256, source, file string
	year, first, last    int
	knownFrom            string
}

// readPeriodCoverage reads and checks the curated coverage file: a full
// lower-case SHA-256, a source's name, a year, a month range within it, and a citation for
// every row; one row per input and year.
func readPeriodCoverage(path string, fn func(line int, r periodCoverageRow) error) error {
	seen := map[string]int{}
	// A statement is about an input of a source, named as the source
	// names itself (an unknown name would match no input).
	var names []string
	for _, src := range All(Config{}) {
		names = append(names, src.Name())
	}
	return readRefCSV(path, periodCoverageColumns, func(line int, rec []string) error {
		bad := func(col, val string, e error) error {
			return &LocatedError{File: path, Line: int64(line), Column: col, Value: val, Err: e}
		}
		row := periodCoverageRow{sha256: rec[0], source: rec[1], file: rec[2], knownFrom: rec[6]}
		if !sha256Hex.MatchString(row.sha256) {
			return bad("sha256", rec[0], errors.New("expected the input's full SHA-256 in 64 lower-case hex digits (sha256sum FILE)"))
		}
		if !slices.Contains(names, row.source) {
			return bad("source", rec[1], fmt.Errorf("expected the name of a source: %s", strings.Join(names, ", ")))
		}
		num := func(col int, lo, hi int) (int, error) {
			v, err := strconv.Atoi(rec[col])
			if err != nil || v < lo || v > hi {
				return 0, bad(periodCoverageColumns[col], rec[col], fmt.Errorf("expected a whole number from %d to %d", lo, hi))
			}
			return v, nil
		}
		var err error
		if row.year, err = parseYear(rec[3]); err != nil {
			return bad("year", rec[3], err)
		}
		if row.first, err = num(4, 1, 12); err != nil {
			return err
		}
		if row.last, err = num(5, row.first, 12); err != nil {
			return err
		}
		if row.first == 1 && row.last == 12 {
			return bad("last_month", rec[5], errors.New("a row states a partial period: months 1 to 12 are the whole year, which needs no row"))
		}
		key := row.sha256 + "/" + rec[3]
		if prev, ok := seen[key]; ok {
			return bad("year", rec[3], fmt.Errorf("this input and year are already stated on line %d", prev))
		}
		seen[key] = line
		return fn(line, row)
	})
}
