package sources

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
)

// Errors of the checks run on each UNHCR file once its rows are stored.
var (
	// ErrUNHCRDuplicate marks a row that a file publishes twice: the
	// same year and codes as another row, with the same figures (a copy
	// and paste, two exports concatenated) or other ones. The SQL sums a
	// file's rows, so it would count the row twice.
	ErrUNHCRDuplicate = errors.New("row published twice")
	// ErrUNHCRCodeCase marks a code that a file also spells in another
	// case ("ALB" and "alb"): the SQL matches codes ignoring case, so the
	// two would be taken for one code without a word.
	ErrUNHCRCodeCase = errors.New("code differs only in case from another in the file")
)

// unhcrRawColumns are the columns of the raw tables after file and line,
// in table order: the order of each layout's columns.
var unhcrRawColumns = map[string][]string{
	unhcrApplicationsTable: {"year", "origin_name", "origin_iso", "asylum_name", "asylum_iso",
		"authority", "application_type", "stage", "cases_persons", "applied", "origin_code", "asylum_code"},
	unhcrDecisionsTable: {"year", "origin_name", "origin_code", "origin_iso", "asylum_name", "asylum_code", "asylum_iso",
		"procedure_type", "dec_level", "cases_persons", "dec_recognized", "dec_other", "dec_rejected", "dec_closed", "dec_total"},
}

// unhcrCheckQueries are, per raw table, the queries of checkUNHCRRows.
// codeCase and duplicate only tell whether a file has a code in two cases
// or a row twice, each in one hash aggregate over the file's rows. On a
// hit, codeCaseAt finds the first code spelled in another case than an
// earlier one (column, spelling, its first line, the earlier spelling and
// its first line), and duplicateAt the first row whose year, names and
// codes an earlier row has (its line, the earlier line, and whether the
// figures are the same too).
var unhcrCheckQueries = map[string]struct{ codeCase, codeCaseAt, duplicate, duplicateAt string }{
	unhcrApplicationsTable: {
		codeCase: `
SELECT 1 FROM (
    SELECT origin_iso, asylum_iso, authority, application_type, stage, cases_persons, origin_code, asylum_code
    FROM raw_unhcr_asylum_applications WHERE file = $1
    GROUP BY GROUPING SETS ((origin_iso), (asylum_iso), (authority), (application_type), (stage),
                            (cases_persons), (origin_code), (asylum_code)))
GROUP BY upper(origin_iso), upper(asylum_iso), upper(authority), upper(application_type), upper(stage),
         upper(cases_persons), upper(origin_code), upper(asylum_code)
HAVING count(*) > 1
LIMIT 1`,
		codeCaseAt: `
SELECT col, v, line, prev, prev_line FROM (
    SELECT col, v, line, lag(v) OVER w AS prev, lag(line) OVER w AS prev_line
    FROM (
        SELECT col, v, min(line) AS line
        FROM (UNPIVOT (SELECT line, origin_iso, asylum_iso, authority, application_type, stage, cases_persons, origin_code, asylum_code
                       FROM raw_unhcr_asylum_applications WHERE file = $1)
              ON origin_iso, asylum_iso, authority, application_type, stage, cases_persons, origin_code, asylum_code
              INTO NAME col VALUE v)
        GROUP BY col, v)
    WINDOW w AS (PARTITION BY col, upper(v) ORDER BY line))
WHERE prev IS NOT NULL
ORDER BY line, col
LIMIT 1`,
		duplicate: `
SELECT 1 FROM raw_unhcr_asylum_applications WHERE file = $1
GROUP BY year, origin_name, origin_iso, asylum_name, asylum_iso, authority,
         application_type, stage, cases_persons, origin_code, asylum_code
HAVING count(*) > 1
LIMIT 1`,
		duplicateAt: `
SELECT line, prev_line, same FROM (
    SELECT line, lag(line) OVER w AS prev_line,
           lag(applied) OVER w IS NOT DISTINCT FROM applied AS same
    FROM raw_unhcr_asylum_applications WHERE file = $1
    WINDOW w AS (PARTITION BY year, origin_name, origin_iso, asylum_name, asylum_iso, authority,
                              application_type, stage, cases_persons, origin_code, asylum_code
                 ORDER BY line))
WHERE prev_line IS NOT NULL
ORDER BY line
LIMIT 1`,
	},
	unhcrDecisionsTable: {
		codeCase: `
SELECT 1 FROM (
    SELECT origin_code, origin_iso, asylum_code, asylum_iso, procedure_type, dec_level, cases_persons
    FROM raw_unhcr_asylum_decisions WHERE file = $1
    GROUP BY GROUPING SETS ((origin_code), (origin_iso), (asylum_code), (asylum_iso), (procedure_type),
                            (dec_level), (cases_persons)))
GROUP BY upper(origin_code), upper(origin_iso), upper(asylum_code), upper(asylum_iso), upper(procedure_type),
         upper(dec_level), upper(cases_persons)
HAVING count(*) > 1
LIMIT 1`,
		codeCaseAt: `
SELECT col, v, line, prev, prev_line FROM (
    SELECT col, v, line, lag(v) OVER w AS prev, lag(line) OVER w AS prev_line
    FROM (
        SELECT col, v, min(line) AS line
        FROM (UNPIVOT (SELECT line, origin_code, origin_iso, asylum_code, asylum_iso, procedure_type, dec_level, cases_persons
                       FROM raw_unhcr_asylum_decisions WHERE file = $1)
              ON origin_code, origin_iso, asylum_code, asylum_iso, procedure_type, dec_level, cases_persons
              INTO NAME col VALUE v)
        GROUP BY col, v)
    WINDOW w AS (PARTITION BY col, upper(v) ORDER BY line))
WHERE prev IS NOT NULL
ORDER BY line, col
LIMIT 1`,
		duplicate: `
SELECT 1 FROM raw_unhcr_asylum_decisions WHERE file = $1
GROUP BY year, origin_name, origin_code, origin_iso, asylum_name, asylum_code, asylum_iso,
         procedure_type, dec_level, cases_persons
HAVING count(*) > 1
LIMIT 1`,
		duplicateAt: `
SELECT line, prev_line, same FROM (
    SELECT line, lag(line) OVER w AS prev_line,
           lag(dec_recognized) OVER w IS NOT DISTINCT FROM dec_recognized
           AND lag(dec_other) OVER w IS NOT DISTINCT FROM dec_other
           AND lag(dec_rejected) OVER w IS NOT DISTINCT FROM dec_rejected
           AND lag(dec_closed) OVER w IS NOT DISTINCT FROM dec_closed
           AND lag(dec_total) OVER w IS NOT DISTINCT FROM dec_total AS same
    FROM raw_unhcr_asylum_decisions WHERE file = $1
    WINDOW w AS (PARTITION BY year, origin_name, origin_code, origin_iso, asylum_name, asylum_code, asylum_iso,
                              procedure_type, dec_level, cases_persons
                 ORDER BY line))
WHERE prev_line IS NOT NULL
ORDER BY line
LIMIT 1`,
	},
}

// checkUNHCRRows checks the rows that file stored in table (applications
// or decisions; other tables pass): no code spelled in two cases, no row
// published twice. layout names the file's columns in errors; item says
// that lines are the items of an API page. The work is done by DuckDB,
// which holds the rows already, in bounded memory.
func checkUNHCRRows(ctx context.Context, conn *sql.Conn, table, layout, file string, item bool) error {
	q, ok := unhcrCheckQueries[table]
	if !ok {
		return nil
	}
	unit := "line"
	if item {
		unit = "item"
	}
	if found, err := unhcrCheckHit(ctx, conn, q.codeCase, file); err != nil {
		return fmt.Errorf("unhcr: check the codes of %s: %w", file, err)
	} else if found {
		var col, v, prev string
		var line, prevLine int64
		if err := conn.QueryRowContext(ctx, q.codeCaseAt, file).Scan(&col, &v, &line, &prev, &prevLine); err != nil {
			return fmt.Errorf("unhcr: check the codes of %s: %w", file, err)
		}
		return &LocatedError{File: file, Line: line, Item: item, Column: unhcrColumnName(table, layout, col), Value: v,
			Err: fmt.Errorf("%w: %q on %s %d; write each code one way", ErrUNHCRCodeCase, prev, unit, prevLine)}
	}
	if found, err := unhcrCheckHit(ctx, conn, q.duplicate, file); err != nil {
		return fmt.Errorf("unhcr: look for repeated rows in %s: %w", file, err)
	} else if found {
		var line, prevLine int64
		var same bool
		if err := conn.QueryRowContext(ctx, q.duplicateAt, file).Scan(&line, &prevLine, &same); err != nil {
			return fmt.Errorf("unhcr: look for repeated rows in %s: %w", file, err)
		}
		if same {
			return &LocatedError{File: file, Line: line, Item: item,
				Err: fmt.Errorf("%w: the row repeats %s %d; remove one of the two", ErrUNHCRDuplicate, unit, prevLine)}
		}
		return &LocatedError{File: file, Line: line, Item: item,
			Err: fmt.Errorf("%w: the row has the same year and codes as %s %d, with other figures; one of the two is wrong", ErrUNHCRDuplicate, unit, prevLine)}
	}
	return nil
}

// unhcrCheckHit reports whether query, run for file, returns a row.
func unhcrCheckHit(ctx context.Context, conn *sql.Conn, query, file string) (bool, error) {
	var one int
	err := conn.QueryRowContext(ctx, query, file).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// unhcrColumnName returns the name under which the file of the given
// layout publishes the raw column col of table.
func unhcrColumnName(table, layout, col string) string {
	i := slices.Index(unhcrRawColumns[table], col)
	for _, l := range unhcrLayouts() {
		if l.name == layout && l.table == table && i >= 0 && i < len(l.cols) && l.cols[i].header != "" {
			return l.cols[i].header
		}
	}
	return col
}
