package pipeline

import (
	"database/sql"
	"encoding/json"
	"html"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/visastats/visastats/output/release"
)

// TestHonestLabels reads the full build's published files and checks that
// labels say what was summed and changes compare like with like: no change
// on a base under 30 (with the reason in a column), the EU's and the UNHCR
// headline's changes over the same countries in both years, Eurostat's
// TOTAL named for the countries it sums, headlines naming their input
// files, and the coverage of every source in one line.
func TestHonestLabels(t *testing.T) {
	t.Parallel()
	b := fullBuild(t)
	db := openDuck(t)
	file := func(name string) string { return filepath.Join(b.Latest, name) }

	t.Run("no change on a base under 30", func(t *testing.T) {
		for _, c := range []struct {
			table, key, count, change, note string
			small                           bool // the shipped data have bases under 30
		}{
			{"schengen_host_country_year", "host_country", "applications", "applications_yoy_change", "comparability_note", true},
			{"schengen_host_country_year", "host_country", "uniform_applied", "uniform_applied_yoy_change", "comparability_note", true},
			{"schengen_state_year", "state", "applications", "applications_yoy_change", "comparability_note", false},
			{"schengen_state_year", "state", "uniform_applied", "uniform_applied_yoy_change", "comparability_note", false},
			{"asylum_citizenship_year", "reporter, citizenship", "first_time_applicants", "first_time_applicants_yoy_change", "change_note", true},
			{"asylum_decisions_compared", "asylum_country, origin", "unhcr_decisions_total", "unhcr_decisions_yoy_change", "unhcr_note", true},
		} {
			// Rows whose previous year has a figure under 30: a change
			// published there, or a note that does not say why it is not.
			// EU rows compare their members in both years, checked below.
			var published, unexplained, withheld int
			err := db.QueryRow(`WITH t AS (
					SELECT *, lag(year) OVER w AS prev_year, lag(`+c.count+`) OVER w AS prev
					FROM read_parquet(?) WINDOW w AS (PARTITION BY `+c.key+` ORDER BY year))
				SELECT count(*) FILTER (WHERE `+c.change+` IS NOT NULL),
				       count(*) FILTER (WHERE `+c.count+` IS NOT NULL AND coalesce(`+c.note+`, '') NOT LIKE '%no change%'),
				       count(*) FILTER (WHERE `+c.count+` IS NOT NULL AND `+c.note+` LIKE '%' || prev || ' %fewer than 30%')
				FROM t WHERE prev_year = year - 1 AND prev < 30
				  AND `+c.key[:strings.Index(c.key+",", ",")]+` <> 'EU27_2020'`, file(c.table+".parquet")).Scan(&published, &unexplained, &withheld)
			if err != nil {
				t.Fatalf("%s.%s: %v", c.table, c.change, err)
			}
			if published > 0 || unexplained > 0 {
				t.Errorf("%s.%s: %d changes on a base under 30, %d rows without the reason in %s", c.table, c.change, published, unexplained, c.note)
			}
			if c.small && withheld == 0 {
				t.Errorf("%s.%s: no base under 30 in the shipped data, the rule is untested", c.table, c.change)
			}
		}
	})

	// The UNHCR figures of EU27_2020 sum its members; a change compares
	// the members with decisions in both years, recomputed here from
	// observations.
	t.Run("EU change over the same members", func(t *testing.T) {
		rows, err := db.Query(`WITH m AS (
				SELECT reporter, partner, year, sum(value) AS v FROM read_parquet(?)
				WHERE dataset = 'unhcr_asylum_decisions' AND indicator = 'decisions_total' AND value IS NOT NULL
				  AND reporter IN ('AT','BE','BG','HR','CY','CZ','DK','EE','FI','FR','DE','GR','HU','IE','IT','LV','LT','LU','MT','NL','PL','PT','RO','SK','SI','ES','SE')
				GROUP BY ALL),
			common AS (
				SELECT c.partner, c.year, count(*) AS n, sum(c.v) / sum(p.v) - 1 AS change
				FROM m c JOIN m p ON p.reporter = c.reporter AND p.partner = c.partner AND p.year = c.year - 1
				GROUP BY ALL)
			SELECT d.year, d.unhcr_decisions_yoy_change, c.change, c.n, d.unhcr_note
			FROM read_parquet(?) d JOIN common c ON c.partner = d.origin AND c.year = d.year
			WHERE d.asylum_country = 'EU27_2020' AND d.origin = 'RU' AND d.unhcr_decisions_yoy_change IS NOT NULL`,
			file("observations.parquet"), file("asylum_decisions_compared.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var year, members int
			var got, want float64
			var note string
			if err := rows.Scan(&year, &got, &want, &members, &note); err != nil {
				t.Fatal(err)
			}
			n++
			if math.Abs(got-want) > 1e-12 || !strings.Contains(note, "over the "+strconv.Itoa(members)+" member states with decisions in both years") {
				t.Errorf("EU27 RU %d: change %v, want %v over %d members; note %q", year, got, want, members, note)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n < 5 {
			t.Errorf("%d EU rows for origin RU with a change, want the years since 2000", n)
		}
	})

	headline := func(t *testing.T, rank int) (figure, period, how, source string, value float64, change sql.NullFloat64) {
		t.Helper()
		if err := db.QueryRow(`SELECT figure, period_label, how_computed, source, value, change FROM read_parquet(?) WHERE rank = ?`,
			file("headlines.parquet"), rank).Scan(&figure, &period, &how, &source, &value, &change); err != nil {
			t.Fatalf("headline %d: %v", rank, err)
		}
		return
	}
	inputNames := map[string]bool{}
	for _, in := range b.Report.Inputs {
		inputNames[filepath.Base(in.Path)] = true
	}

	// Headline 7 sums UNHCR's applications over the countries of asylum in
	// the latest year; its change compares the countries with figures in
	// both years, never 58 countries with 60.
	t.Run("UNHCR headline over the same countries", func(t *testing.T) {
		figure, period, how, source, value, change := headline(t, 7)
		var year, countries, common int
		var total, now, before float64
		err := db.QueryRow(`WITH c AS (
				SELECT reporter, year, sum(value) AS v FROM read_parquet(?)
				WHERE dataset = 'unhcr_asylum_applications' AND indicator = 'asylum_applicants' AND partner = 'RU' AND value IS NOT NULL
				GROUP BY ALL),
			y AS (SELECT max(year) AS year FROM c)
			SELECT y.year, (SELECT count(*) FROM c WHERE c.year = y.year), (SELECT sum(v) FROM c WHERE c.year = y.year),
			       count(*), sum(n.v), sum(p.v)
			FROM y JOIN c n ON n.year = y.year JOIN c p ON p.reporter = n.reporter AND p.year = n.year - 1
			GROUP BY y.year`, file("observations.parquet")).Scan(&year, &countries, &total, &common, &now, &before)
		if err != nil {
			t.Fatal(err)
		}
		if value != total || !strings.Contains(figure, "summed over the "+strconv.Itoa(countries)+" countries of asylum") {
			t.Errorf("headline 7 = %v %q, want %v over %d countries", value, figure, total, countries)
		}
		if !change.Valid || math.Abs(change.Float64-(now/before-1)) > 1e-12 {
			t.Errorf("headline 7 change = %v, want %v (%v / %v over the %d countries in both years)", change, now/before-1, now, before, common)
		}
		if !strings.Contains(how, "over the "+strconv.Itoa(common)+" countries of asylum with figures in both years") {
			t.Errorf("headline 7 does not say what the change compares: %q", how)
		}
		if period != strconv.Itoa(year)+" (Jan-Dec)" {
			t.Errorf("headline 7 period %q, want %d (Jan-Dec)", period, year)
		}
		checkSourceFiles(t, 7, source, inputNames)
	})

	t.Run("headlines name their input files", func(t *testing.T) {
		for _, rank := range []int{6, 8, 9, 10} {
			_, _, _, source, _, _ := headline(t, rank)
			checkSourceFiles(t, rank, source, inputNames)
		}
	})

	// Eurostat's geo TOTAL sums the countries that report to it.
	t.Run("Eurostat total named for what it sums", func(t *testing.T) {
		rows, err := db.Query(`WITH r AS (
				SELECT year, count(DISTINCT reporter) FILTER (WHERE reporter_iso3 IS NOT NULL) AS n FROM read_parquet(?) GROUP BY year)
			SELECT DISTINCT a.year, a.reporter_name, r.n FROM read_parquet(?) a JOIN r USING (year) WHERE a.reporter = 'TOTAL' ORDER BY 1`,
			file("asylum_citizenship_year.parquet"), file("asylum_citizenship_year.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var year, countries int
			var name string
			if err := rows.Scan(&year, &name, &countries); err != nil {
				t.Fatal(err)
			}
			n++
			if want := "Total of the " + strconv.Itoa(countries) + " countries reporting to Eurostat in " + strconv.Itoa(year); name != want {
				t.Errorf("TOTAL %d is named %q, want %q", year, name, want)
			}
			if year <= 2016 && countries != 32 {
				t.Errorf("%d: %d reporting countries, want the 32 (EU28 and EFTA)", year, countries)
			}
		}
		if n == 0 {
			t.Error("no TOTAL rows")
		}
	})

	t.Run("coverage in one line per source", func(t *testing.T) {
		want := map[string][]string{
			"ec_schengen_consulates": {"EC visas: ", "2009-2010, 2012-2024 (no 2011)", "28 Schengen States"},
			"eurostat_asylum": {"Eurostat: ", "asylum applicants (migr_asyappctza) 2012-2016, 32 reporting countries",
				"first-instance decisions (migr_asydcfsta) 2008-2019, 32 reporting countries (2017-2019: France only)",
				"(2008-2014: totals only, no single country)"},
			"unhcr":            {"UNHCR: ", "asylum applications 2000-2025", "asylum decisions 2000-2025"},
			"ru_mfa_published": {"Russian MFA (as reported): visas issued 2022-2023, issuer: Russian Federation"},
		}
		var published struct {
			Coverage []release.Coverage `json:"coverage"`
		}
		raw, err := os.ReadFile(file("run.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &published); err != nil {
			t.Fatal(err)
		}
		page, err := os.ReadFile(file("index.html"))
		if err != nil {
			t.Fatal(err)
		}
		if len(published.Coverage) != len(want) {
			t.Errorf("run.json has %d coverage lines, want %d", len(published.Coverage), len(want))
		}
		for _, c := range published.Coverage {
			t.Log(c.Line)
			for _, part := range want[c.Source] {
				if !strings.Contains(c.Line, part) {
					t.Errorf("%s coverage %q lacks %q", c.Source, c.Line, part)
				}
			}
			if strings.Contains(c.Line, "\n") || !strings.HasPrefix(c.Line, c.Label+": ") {
				t.Errorf("%s coverage is not one line starting with its label: %q", c.Source, c.Line)
			}
			if !strings.Contains(string(page), "<li>"+html.EscapeString(c.Line)+"</li>") {
				t.Errorf("index.html does not show %q", c.Line)
			}
		}
		if !strings.Contains(readme(t), published.Coverage[0].Line) {
			t.Errorf("README does not show the EC coverage line %q", published.Coverage[0].Line)
		}
	})
}

// checkSourceFiles checks that a headline's source names input files of
// the run, not a publisher's product.
func checkSourceFiles(t *testing.T, rank int, source string, inputs map[string]bool) {
	t.Helper()
	names := strings.Split(strings.TrimSuffix(source, " (Russian MFA via news agencies)"), ", ")
	for _, n := range names {
		if !inputs[n] {
			t.Errorf("headline %d source %q: %q is not an input file of the run", rank, source, n)
		}
	}
}

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCoverageSection is the About sheet's coverage table: a row per
// source with its years and its line, and a sentence when there is none.
func TestCoverageSection(t *testing.T) {
	sec := coverageSection([]release.Coverage{{Source: "unhcr", Label: "UNHCR", FirstYear: 2000, LastYear: 2025, Line: "UNHCR: asylum applications 2000-2025"}})
	if len(sec.Rows) != 1 || strings.Join(sec.Rows[0], "|") != "UNHCR|2000-2025|UNHCR: asylum applications 2000-2025" || len(sec.Columns) != 3 {
		t.Errorf("coverage section = %+v", sec)
	}
	if empty := coverageSection(nil); len(empty.Rows) != 0 || empty.Empty == "" {
		t.Errorf("empty coverage section = %+v", empty)
	}
}
