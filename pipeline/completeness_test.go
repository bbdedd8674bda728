package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/visastats/visastats/output/release"
	"github.com/visastats/visastats/sources"
)

// midYearExport is the shipped UNHCR export taken from a mid-year release:
// its 2023 rows cover January to June only (data/curated/unhcr_releases.csv
// says so for its SHA-256: its figures run to 30 June 2023).
const midYearExport = "../data/unhcr/rdf_asylum-applications_europe-origins_2010-2023.csv"

// buildOnly builds the database of cfg in memory (sources, transforms,
// checks) without exporting or publishing, and returns a connection to it.
func buildOnly(t *testing.T, cfg Config) *sql.Conn {
	t.Helper()
	conn, _ := buildChecked(t, cfg)
	return conn
}

// buildChecked is buildOnly that also returns the checks' results by name.
func buildChecked(t *testing.T, cfg Config) (*sql.Conn, map[string]release.Check) {
	t.Helper()
	ctx := context.Background()
	srcs := sources.All(cfg.SourceConfig())
	inputs, err := describeInputs(ctx, srcs)
	if err != nil {
		t.Fatal(err)
	}
	conn := openDuckConn(t)
	rep := &Report{}
	if err := buildDatabase(ctx, conn, srcs, inputs, cfg.Limits, "", rep, quietLog()); err != nil {
		t.Fatal(err)
	}
	checks := map[string]release.Check{}
	for _, c := range rep.Checks {
		checks[c.Name] = c
	}
	return conn, checks
}

// midYearConfig loads the 2023 EC workbook, the tiny Eurostat input and,
// for UNHCR, only the mid-year export, with the given UNHCR releases file
// and curated coverage file.
func midYearConfig(t *testing.T, releases, coverage string) Config {
	cfg := tinyConfig(t, ec2023(t))
	cfg.Sources.UNHCR = sources.UNHCRConfig{Paths: []string{midYearExport}, Releases: releases}
	cfg.Sources.Coverage = sources.PeriodCoverageConfig{Path: coverage}
	return cfg
}

// gzipCopy writes a gzipped copy of path, named as it plus .gz, into a
// fresh temp dir and returns its path.
func gzipCopy(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, filepath.Base(path)+".gz", buf.String())
}

// writeFile writes body to name in a fresh temp dir and returns its path.
func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPartialPeriodNeverComparedAsWhole follows the mid-year UNHCR export
// through observations, the comparison with Eurostat and the headlines: its
// 2023 is labelled "2023 (Jan-Jun)", no change is computed against 2022 and
// no difference against another publisher's full year. The knowledge comes
// from data: the UNHCR releases file (the export's figures run to 30 June
// 2023) or, for any input, the curated coverage file. Without either, the
// same file would be read as a full year.
func TestPartialPeriodNeverComparedAsWhole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ruHeadline := func(t *testing.T, conn *sql.Conn) headline {
		t.Helper()
		var h headline
		if err := conn.QueryRowContext(ctx, `SELECT period_label, value, change FROM headlines WHERE rank = 7`).Scan(&h.label, &h.value, &h.change); err != nil {
			t.Fatal(err)
		}
		return h
	}

	const coverageHead = "sha256,source,file,year,first_month,last_month,known_from\n"
	const releasesHead = "sha256,file,release,data_through,mid_year,basis\n"
	_, sha, err := sources.FileDigest(midYearExport)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, releases, coverage string
	}{
		{"releases file", "../data/curated/unhcr_releases.csv", "../data/curated/period_coverage.csv"},
		{"curated coverage", writeFile(t, "unhcr_releases.csv", releasesHead),
			writeFile(t, "period_coverage.csv", coverageHead+sha+",unhcr,export.csv,2023,1,6,mid-year release\n")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkMidYear(t, midYearConfig(t, c.releases, c.coverage), ruHeadline) })
	}
	// The same statement (keyed by the export's SHA-256) holds for a
	// gzipped copy of it: a UNHCR input is known by its content.
	t.Run("curated coverage, gzipped copy", func(t *testing.T) {
		cfg := midYearConfig(t, writeFile(t, "unhcr_releases.csv", releasesHead),
			writeFile(t, "period_coverage.csv", coverageHead+sha+",unhcr,export.csv,2023,1,6,mid-year release\n"))
		cfg.Sources.UNHCR.Paths = []string{gzipCopy(t, midYearExport)}
		checkMidYear(t, cfg, ruHeadline)
	})

	// A statement about any source's file holds for a gzipped copy of it:
	// an input is known by its file's digest or its content's.
	t.Run("curated coverage, gzipped Eurostat copy", func(t *testing.T) {
		_, esSHA, err := sources.FileDigest(tinyEurostat[0])
		if err != nil {
			t.Fatal(err)
		}
		cfg := midYearConfig(t, "../data/curated/unhcr_releases.csv",
			writeFile(t, "period_coverage.csv", coverageHead+esSHA+",eurostat_asylum,decisions.csv,2016,1,6,stated for the test\n"))
		cfg.Sources.Eurostat.Paths = []string{gzipCopy(t, tinyEurostat[0])}
		conn, checks := buildChecked(t, cfg)
		var partial, all int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE NOT period_complete AND period_label = '2016 (Jan-Jun)'), count(*)
			FROM observations WHERE dataset LIKE 'eurostat_%' AND year = 2016`).Scan(&partial, &all); err != nil {
			t.Fatal(err)
		}
		if all == 0 || partial != all {
			t.Errorf("Eurostat 2016 rows labelled 2016 (Jan-Jun): %d of %d", partial, all)
		}
		if c := checks["coverage_statements_apply"]; c.Problems != 0 {
			t.Errorf("coverage_statements_apply: %d problems %v, want none", c.Problems, c.Sample)
		}
	})

	// A statement that applies to no input (its file was replaced, or the
	// input has no such year) is ignored: a warning lists it, and not the
	// statement that applies.
	t.Run("curated coverage that applies to nothing", func(t *testing.T) {
		other := strings.Repeat("0", 64)
		cfg := midYearConfig(t, writeFile(t, "unhcr_releases.csv", releasesHead),
			writeFile(t, "period_coverage.csv", coverageHead+
				sha+",unhcr,export.csv,2023,1,6,mid-year release\n"+
				other+",unhcr,export-2024.csv,2024,1,6,mid-year release\n"+
				sha+",unhcr,export.csv,1990,1,6,a year the export does not hold\n"))
		conn, checks := buildChecked(t, cfg)
		c, ok := checks["coverage_statements_apply"]
		if !ok {
			t.Fatal("no coverage_statements_apply check in the run")
		}
		sample := strings.Join(c.Sample, "\n")
		if c.Blocking || c.Problems != 2 || !strings.Contains(sample, "line=3") || !strings.Contains(sample, "SHA-256 "+other) ||
			!strings.Contains(sample, "line=4") || !strings.Contains(sample, "has no observation in 1990") || strings.Contains(sample, "line=2 ") {
			t.Errorf("coverage_statements_apply: blocking %v, %d problems:\n%s\nwant a warning for lines 3 (no input) and 4 (no 1990), not line 2", c.Blocking, c.Problems, sample)
		}
		// The statement that applies still labels the half year.
		if h := ruHeadline(t, conn); h.label != "2023 (Jan-Jun)" {
			t.Errorf("UNHCR headline %+v, want 2023 (Jan-Jun)", h)
		}
	})

	t.Run("not known", func(t *testing.T) {
		conn := buildOnly(t, midYearConfig(t, writeFile(t, "unhcr_releases.csv", releasesHead), writeFile(t, "period_coverage.csv", coverageHead)))
		h := ruHeadline(t, conn)
		// Read as a whole year, the half year looks like a fall of a quarter
		// against 2022's 20,234: exactly what the coverage statement prevents.
		if h.label != "2023 (Jan-Dec)" || !h.change.Valid || h.change.Float64 > -0.26 || h.change.Float64 < -0.27 {
			t.Errorf("UNHCR headline without coverage = %+v, want 2023 (Jan-Dec) and a change of about -26%%", h)
		}
	})
}

type headline struct {
	label  string
	value  float64
	change sql.NullFloat64
}

// checkMidYear builds cfg, whose UNHCR input is the mid-year export alone,
// and checks that its 2023 is partial everywhere it shows.
func checkMidYear(t *testing.T, cfg Config, ruHeadline func(*testing.T, *sql.Conn) headline) {
	t.Helper()
	ctx := context.Background()
	{
		conn := buildOnly(t, cfg)
		var partial, complete2022 int
		var label string
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE year = 2023 AND NOT period_complete AND period_label = '2023 (Jan-Jun)'),
			count(*) FILTER (WHERE year = 2022 AND period_complete AND period_label = '2022'),
			any_value(period_label) FILTER (WHERE year = 2023)
			FROM observations WHERE dataset = 'unhcr_asylum_applications'`).Scan(&partial, &complete2022, &label); err != nil {
			t.Fatal(err)
		}
		var all2023, all2022 int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE year = 2023), count(*) FILTER (WHERE year = 2022)
			FROM observations WHERE dataset = 'unhcr_asylum_applications'`).Scan(&all2023, &all2022); err != nil {
			t.Fatal(err)
		}
		if partial == 0 || partial != all2023 || complete2022 != all2022 {
			t.Errorf("2023 rows labelled partial: %d of %d (label %q); 2022 rows complete: %d of %d", partial, all2023, label, complete2022, all2022)
		}
		// Other sources' periods stay complete.
		var otherPartial int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM observations WHERE dataset NOT LIKE 'unhcr%' AND NOT period_complete`).Scan(&otherPartial); err != nil {
			t.Fatal(err)
		}
		if otherPartial != 0 {
			t.Errorf("%d observations of other sources marked partial", otherPartial)
		}

		h := ruHeadline(t, conn)
		if h.label != "2023 (Jan-Jun)" || h.value != 14899 || h.change.Valid {
			t.Errorf("UNHCR headline = %+v, want 2023 (Jan-Jun), 14899, no change", h)
		}
		// The label states the coverage the data have: the countries of
		// asylum counted, never "all countries".
		var figure string
		var countries int
		if err := conn.QueryRowContext(ctx, `SELECT h.figure, (SELECT count(DISTINCT reporter) FROM observations
			WHERE dataset = 'unhcr_asylum_applications' AND indicator = 'asylum_applicants' AND partner = 'RU' AND year = 2023)
			FROM headlines h WHERE rank = 7`).Scan(&figure, &countries); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(figure, "all countries") || !strings.Contains(figure, fmt.Sprintf("summed over the %d countries of asylum in the UNHCR data for 2023", countries)) {
			t.Errorf("UNHCR headline figure = %q, want the %d countries of asylum counted", figure, countries)
		}

		var unhcr int64
		var period string
		var whole bool
		var diff sql.NullInt64
		if err := conn.QueryRowContext(ctx, `SELECT unhcr_asylum_applicants, unhcr_period, unhcr_period_complete, difference_vs_all_applicants
			FROM asylum_sources_compared WHERE asylum_country = 'FR' AND origin = 'RU' AND year = 2023`).Scan(&unhcr, &period, &whole, &diff); err != nil {
			t.Fatal(err)
		}
		if unhcr != 2169 || period != "2023 (Jan-Jun)" || whole || diff.Valid {
			t.Errorf("France 2023 = %d %q complete=%v difference=%v, want 2169, 2023 (Jan-Jun), false, empty", unhcr, period, whole, diff)
		}
		// The EU sum of members that all cover January-June says just that.
		var euPeriod string
		if err := conn.QueryRowContext(ctx, `SELECT unhcr_period FROM asylum_decisions_compared
			WHERE asylum_country = 'EU27_2020' AND origin = 'RU' AND year = 2023`).Scan(&euPeriod); err != nil {
			t.Fatal(err)
		}
		if euPeriod != "2023 (Jan-Jun)" {
			t.Errorf("EU27 2023 UNHCR period = %q, want 2023 (Jan-Jun)", euPeriod)
		}
	}
}
