package pipeline

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/visastats/visastats/output"
	"github.com/visastats/visastats/output/release"
)

// HeadlineCountry is the host country of the run summary.
const HeadlineCountry = "RU"

func headlines(ctx context.Context, conn *sql.Conn) ([]release.Headline, error) {
	rows, err := conn.QueryContext(ctx, `SELECT host_country, host_country_name, year, applications,
		applications_yoy_change, uniform_applied, uniform_applied_yoy_change, not_issued_rate, coalesce(comparability_note, '')
		FROM schengen_host_country_year WHERE host_country = ? ORDER BY year`, HeadlineCountry)
	if err != nil {
		return nil, fmt.Errorf("headlines: %w", err)
	}
	defer rows.Close()
	var out []release.Headline
	for rows.Next() {
		var h release.Headline
		if err := rows.Scan(&h.HostCountry, &h.Name, &h.Year, &h.Applications, &h.Change, &h.UniformApplied, &h.UniformChange, &h.NotIssuedRate, &h.Note); err != nil {
			return nil, fmt.Errorf("headlines: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// The countries of asylum of the run summary's asylum figures, in the
// order shown: France, then the EU.
const (
	asylumCountry   = "FR"
	asylumAggregate = "EU27_2020"
)

// AsylumFromYear is the first year of the asylum figures of the summary.
const AsylumFromYear = 2015

func asylumStory(ctx context.Context, conn *sql.Conn) ([]release.AsylumYear, error) {
	rows, err := conn.QueryContext(ctx, `SELECT asylum_country, asylum_country_name, origin, year,
		-- The page shows a whole year as the year, a part of one with its
		-- months (the tables' unhcr_period always has the months).
		CASE WHEN coalesce(unhcr_period_complete, true) THEN CAST(year AS VARCHAR) ELSE unhcr_period END,
		coalesce(unhcr_period_complete, true),
		unhcr_applications, unhcr_decisions_total, unhcr_recognized, unhcr_complementary, unhcr_rejected,
		unhcr_recognition_rate, eurostat_recognition_rate
		FROM asylum_decisions_compared
		WHERE origin = $1 AND asylum_country IN ($2, $3) AND year >= $4
		ORDER BY asylum_country = $3, year`, HeadlineCountry, asylumCountry, asylumAggregate, AsylumFromYear)
	if err != nil {
		return nil, fmt.Errorf("asylum figures: %w", err)
	}
	defer rows.Close()
	var out []release.AsylumYear
	for rows.Next() {
		var a release.AsylumYear
		if err := rows.Scan(&a.AsylumCountry, &a.AsylumName, &a.Origin, &a.Year, &a.Period, &a.Complete,
			&a.Applications, &a.Decisions, &a.Recognized, &a.Complementary, &a.Rejected, &a.RecognitionRate, &a.EurostatRate); err != nil {
			return nil, fmt.Errorf("asylum figures: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// sourceCoverage reads what each source's loaded data cover, one line per
// source (sql/071_source_coverage.sql), for run.json, the page and the
// workbook's About sheet.
func sourceCoverage(ctx context.Context, conn *sql.Conn) ([]release.Coverage, error) {
	rows, err := conn.QueryContext(ctx, `SELECT source, source_label, first_year, last_year, datasets, line
		FROM source_coverage`)
	if err != nil {
		return nil, fmt.Errorf("source coverage: %w", err)
	}
	defer rows.Close()
	var out []release.Coverage
	for rows.Next() {
		var c release.Coverage
		if err := rows.Scan(&c.Source, &c.Label, &c.FirstYear, &c.LastYear, &c.Datasets, &c.Line); err != nil {
			return nil, fmt.Errorf("source coverage: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// coverageSection is the coverage of a release as a table of the
// workbook's About sheet: a row per source with its years and its line.
func coverageSection(cov []release.Coverage) output.AboutSection {
	sec := output.AboutSection{
		Heading: "What the data cover (computed from the data loaded into this release)",
		Columns: []string{"Source", "Years", "Coverage: years (gaps named), countries, years covered only in part"},
		Empty:   "No coverage was computed for this release.",
	}
	for _, c := range cov {
		sec.Rows = append(sec.Rows, []string{c.Label, fmt.Sprintf("%d-%d", c.FirstYear, c.LastYear), c.Line})
	}
	return sec
}
