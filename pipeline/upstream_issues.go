package pipeline

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/visastats/visastats/output"
	"github.com/visastats/visastats/output/release"
)

// upstreamIssues reads the upstream_issues table; an empty result is an
// empty, non-nil list, so that run.json says none were found.
func upstreamIssues(ctx context.Context, conn *sql.Conn) ([]release.UpstreamIssue, error) {
	rows, err := conn.QueryContext(ctx, `SELECT source, file, sha256, year, sheet, cell, kind, indicator, location, printed_total,
		printed_formula, data_rows_total, explanation, cross_check, cross_check_status, handling, decision
		FROM upstream_issues ORDER BY source, file, sheet, cell`)
	if err != nil {
		return nil, fmt.Errorf("read upstream_issues: %w", err)
	}
	defer rows.Close()
	out := []release.UpstreamIssue{}
	for rows.Next() {
		var u release.UpstreamIssue
		if err := rows.Scan(&u.Source, &u.File, &u.SHA256, &u.Year, &u.Sheet, &u.Cell, &u.Kind, &u.Indicator, &u.Location, &u.PrintedTotal,
			&u.PrintedFormula, &u.DataRowsTotal, &u.Explanation, &u.CrossCheck, &u.CrossCheckStatus, &u.Handling, &u.Decision); err != nil {
			return nil, fmt.Errorf("read upstream_issues: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read upstream_issues: %w", err)
	}
	return out, nil
}

// upstreamIssuesSection is the About sheet's list of the issues, or a line
// saying that none were found.
func upstreamIssuesSection(issues []release.UpstreamIssue) output.AboutSection {
	sec := output.AboutSection{
		Heading: "Upstream issues",
		Columns: []string{"File and cell", "What the file says, what the data say", "Handled", "Why they differ"},
		Empty:   "None found: every footer total of the EC workbooks agrees with the data rows it sums, and no count is negative.",
	}
	for _, u := range issues {
		says := fmt.Sprintf("File: %s", output.Thousands(u.PrintedTotal))
		if u.PrintedFormula != "" {
			says += " (" + u.PrintedFormula + ")"
		}
		if u.DataRowsTotal != nil {
			says += "\nData rows: " + output.Thousands(*u.DataRowsTotal)
		} else {
			says += "\nNot published (" + u.Location + ")"
		}
		why := u.Explanation + ".\nCross-check (" + u.CrossCheckStatus + "): " + u.CrossCheck + "."
		if u.Decision != "" {
			why += "\nMaintainer: " + u.Decision
		}
		sec.Rows = append(sec.Rows, []string{
			fmt.Sprintf("%s\nsheet %q, cell %s (%s)\nsha256 %s", u.File, u.Sheet, u.Cell, u.Indicator, u.SHA256[:12]),
			says, u.Handling, why,
		})
	}
	return sec
}
