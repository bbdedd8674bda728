package sources

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/visastats/visastats/sources/unhcrtest"
	vsql "github.com/visastats/visastats/sql"
)

// TestReadUNHCRCalendar reads the shipped calendar, then copies of it with
// one line broken: each error names the file, the line and the column.
func TestReadUNHCRCalendar(t *testing.T) {
	rels, err := ReadUNHCRCalendar(unhcrCalendar)
	if err != nil {
		t.Fatal(err)
	}
	// UNHCR's end-2022 to end-2025 and mid-2023 to mid-2025 releases, and
	// the two corrections (refugees 2025.6.1 and 2025.12.1).
	if len(rels) != 9 {
		t.Fatalf("%d releases, want 9", len(rels))
	}
	last := rels[len(rels)-1]
	if last.Kind != UNHCREndYear || last.DataYear != 2025 || last.Published.Format(time.DateOnly) != "2026-06-25" ||
		last.RefugeesVersion != "2025.12.1" || last.Line != 10 {
		t.Errorf("last release = %+v, want the end-2025 correction of 2026-06-25 (refugees 2025.12.1) on line 10", last)
	}
	var mid int
	for _, r := range rels {
		if r.Kind == UNHCRMidYear {
			mid++
		}
	}
	if mid != 4 {
		t.Errorf("%d mid-year releases, want 4 (2023, 2024, 2025 and its correction)", mid)
	}

	shipped, err := os.ReadFile(unhcrCalendar)
	if err != nil {
		t.Fatal(err)
	}
	// The end-2024 line, line 6 of the file.
	const end2024 = "Global Trends 2024 (end-2024),end-year,2024,2024-12-31,2025-06-12,"
	if !bytes.Contains(shipped, []byte(end2024)) {
		t.Fatalf("the shipped calendar no longer has %q", end2024)
	}
	for _, tc := range []struct {
		name, replace, column string
	}{
		{"unknown kind", "Global Trends 2024 (end-2024),annual,2024,2024-12-31,2025-06-12,", "kind"},
		{"year not four digits", "Global Trends 2024 (end-2024),end-year,24,2024-12-31,2025-06-12,", "data_year"},
		{"end-year release running to June", "Global Trends 2024 (end-2024),end-year,2024,2024-06-30,2025-06-12,", "data_through"},
		{"date not ISO", "Global Trends 2024 (end-2024),end-year,2024,2024-12-31,12/06/2025,", "published"},
		{"published before its period ends", "Global Trends 2024 (end-2024),end-year,2024,2024-12-31,2024-11-01,", "published"},
		{"release named twice", "Global Trends 2023 (end-2023),end-year,2024,2024-12-31,2025-06-12,", "release"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "unhcr_release_calendar.csv")
			if err := os.WriteFile(path, bytes.Replace(shipped, []byte(end2024), []byte(tc.replace), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadUNHCRCalendar(path)
			var le *LocatedError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a LocatedError", err)
			}
			if le.File != path || le.Line != 6 || le.Column != tc.column {
				t.Errorf("error at %s line %d column %q, want %s line 6 column %q: %v", le.File, le.Line, le.Column, path, tc.column, err)
			}
		})
	}
}

// TestUNHCRAPIPagesByCalendar labels the years of fetched API pages by
// UNHCR's release calendar and the day they were retrieved. The page is
// the real asylum-decisions page of Algerians (2000-2002) with its years
// shifted, so that its latest year falls where each case needs it; the
// labels are those the observations get (sql 016, 018, 019 and the join of
// observations).
func TestUNHCRAPIPagesByCalendar(t *testing.T) {
	page := unhcrtest.Page(t)
	// A calendar one line newer than the shipped one: a mid-year release
	// of 2026 published on 2026-11-10 (a date for the test, not UNHCR's).
	shipped, err := os.ReadFile(unhcrCalendar)
	if err != nil {
		t.Fatal(err)
	}
	withMid2026 := filepath.Join(t.TempDir(), "unhcr_release_calendar.csv")
	if err := os.WriteFile(withMid2026, append(shipped, "Mid-Year Trends 2026 (mid-2026),mid-year,2026,2026-06-30,2026-11-10,a release for the test,2026.6.0\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	type year struct {
		complete bool
		label    string
	}
	for _, tc := range []struct {
		name      string
		shift     int // years added to 2000-2002
		retrieved string
		calendar  string
		years     map[int]year
		knownFrom string
		stale     []string // years the check unhcr_release_calendar_current lists
	}{
		{
			name: "after mid-2025, before end-2025", shift: 23, retrieved: "2026-03-01T02:00:00Z", calendar: unhcrCalendar,
			years:     map[int]year{2023: {true, "2023"}, 2024: {true, "2024"}, 2025: {false, "2025 (Jan-Jun)"}},
			knownFrom: "release calendar",
		},
		{
			// End-2025 is dated 2026-06-11: a run that night may have been
			// served the mid-year figures still.
			name: "on the day of end-2025", shift: 23, retrieved: "2026-06-11T02:00:00Z", calendar: unhcrCalendar,
			years:     map[int]year{2024: {true, "2024"}, 2025: {false, "2025 (Jan-Jun)"}},
			knownFrom: "release calendar",
		},
		{
			name: "the day after end-2025", shift: 23, retrieved: "2026-06-12T02:00:00Z", calendar: unhcrCalendar,
			years:     map[int]year{2024: {true, "2024"}, 2025: {true, "2025"}},
			knownFrom: "release calendar",
		},
		{
			name: "2026 from the API on 2026-07-01, not in the calendar", shift: 24, retrieved: "2026-07-01T02:00:00Z", calendar: unhcrCalendar,
			years:     map[int]year{2025: {true, "2025"}, 2026: {false, "2026 (Jan-Jun)"}},
			knownFrom: "not in the release calendar", stale: []string{"year=2026"},
		},
		{
			name: "2026 from the API on 2026-12-01, not in the calendar", shift: 24, retrieved: "2026-12-01T02:00:00Z", calendar: unhcrCalendar,
			years:     map[int]year{2025: {true, "2025"}, 2026: {false, "2026 (Jan-Jun)"}},
			knownFrom: "not in the release calendar", stale: []string{"year=2026"},
		},
		{
			name: "2026 from the API on 2026-12-01, after mid-2026 in the calendar", shift: 24, retrieved: "2026-12-01T02:00:00Z", calendar: withMid2026,
			years:     map[int]year{2025: {true, "2025"}, 2026: {false, "2026 (Jan-Jun)"}},
			knownFrom: "release calendar",
		},
		{
			// The calendar's mid-2026 is after the retrieval: it cannot
			// explain the API's 2026, which is reported.
			name: "2026 from the API on 2026-07-01, before mid-2026 in the calendar", shift: 24, retrieved: "2026-07-01T02:00:00Z", calendar: withMid2026,
			years:     map[int]year{2025: {true, "2025"}, 2026: {false, "2026 (Jan-Jun)"}},
			knownFrom: "not in the release calendar", stale: []string{"year=2026"},
		},
		{
			name: "2026 from the API on the day of mid-2026", shift: 24, retrieved: "2026-11-10T02:00:00Z", calendar: withMid2026,
			years:     map[int]year{2025: {true, "2025"}, 2026: {false, "2026 (Jan-Jun)"}},
			knownFrom: "release calendar, released on the day of retrieval",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			retrieved, err := time.Parse(time.RFC3339, tc.retrieved)
			if err != nil {
				t.Fatal(err)
			}
			conn := openTestDB(t)
			pagePath := filepath.Join(t.TempDir(), "asylum-decisions_page-1.json")
			if err := os.WriteFile(pagePath, shiftUNHCRYears(t, page, tc.shift), 0o644); err != nil {
				t.Fatal(err)
			}
			const pageURL = "https://api.unhcr.org/population/v1/asylum-decisions/?cf_type=ISO&coa_all=true&coo_all=true&limit=100&page=1"
			cfg := UNHCRConfig{Calendar: tc.calendar, APIPages: []UNHCRAPIPage{{URL: pageURL, Path: pagePath, RetrievedAt: retrieved}}}
			src := NewUNHCR(cfg)
			if _, err := src.Load(ctx, conn); err != nil {
				t.Fatal(err)
			}
			sha := buildUNHCRCoverage(t, conn, src)

			var knownFrom string
			if err := conn.QueryRowContext(ctx, `SELECT known_from FROM unhcr_input_releases WHERE file = ?`, pageURL).Scan(&knownFrom); err != nil {
				t.Fatal(err)
			}
			if knownFrom != tc.knownFrom {
				t.Errorf("known_from = %q, want %q", knownFrom, tc.knownFrom)
			}
			// As observations join period_coverage (sql/028): by the
			// input's release and the period.
			rows, err := conn.QueryContext(ctx, `
				SELECT DISTINCT d.year, pc.release IS NULL AS complete, period_label(CAST(d.year AS VARCHAR), pc.coverage)
				FROM raw_unhcr_asylum_decisions d
				LEFT JOIN period_coverage pc ON pc.release = left(?, 12) AND pc.period = CAST(d.year AS VARCHAR)
				ORDER BY d.year`, sha)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			got := map[int]year{}
			for rows.Next() {
				var y int
				var v year
				if err := rows.Scan(&y, &v.complete, &v.label); err != nil {
					t.Fatal(err)
				}
				got[y] = v
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			for y, want := range tc.years {
				if got[y] != want {
					t.Errorf("%d: complete %v, label %q; want %v, %q", y, got[y].complete, got[y].label, want.complete, want.label)
				}
			}
			if stale := runUNHCRCheck(t, conn, "unhcr_release_calendar_current"); strings.Join(stale, ";") != strings.Join(tc.stale, ";") {
				t.Errorf("unhcr_release_calendar_current = %q, want %q", stale, tc.stale)
			}
		})
	}
}

// TestUNHCRAPIPagesNeedCalendar: fetched pages are not loaded without the
// release calendar, nor when retrieved before its first release, since
// nothing could then say whether their latest year is whole.
func TestUNHCRAPIPagesNeedCalendar(t *testing.T) {
	pagePath := filepath.Join(t.TempDir(), "page.json")
	if err := os.WriteFile(pagePath, unhcrtest.Page(t), 0o644); err != nil {
		t.Fatal(err)
	}
	const pageURL = "https://api.unhcr.org/population/v1/asylum-decisions/?page=1"
	for _, tc := range []struct {
		name     string
		calendar string
		at       time.Time
		err      string
	}{
		{"no calendar", "", time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), "no release calendar is configured"},
		{"retrieved before the calendar's first release", unhcrCalendar, time.Date(2023, 6, 14, 9, 0, 0, 0, time.UTC),
			`was retrieved on 2023-06-14, before ../data/reference/unhcr_release_calendar.csv lists any release (its first, "Global Trends 2022 (end-2022)", was published 2023-06-14)`},
		{"no retrieval time", unhcrCalendar, time.Time{}, "has no retrieval time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := UNHCRConfig{Calendar: tc.calendar, APIPages: []UNHCRAPIPage{{URL: pageURL, Path: pagePath, RetrievedAt: tc.at}}}
			_, err := NewUNHCR(cfg).Load(context.Background(), openTestDB(t))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

// TestUNHCRAPIPersonsAndCases: an API page's rows keep dec_pc, persons and
// cases apart, with the real page's figures; an item without it is refused
// rather than summed with either.
func TestUNHCRAPIPersonsAndCases(t *testing.T) {
	ctx := context.Background()
	page := unhcrtest.Page(t)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	at := time.Date(2026, 7, 1, 2, 0, 0, 0, time.UTC)
	conn := openTestDB(t)
	cfg := UNHCRConfig{Calendar: unhcrCalendar, APIPages: []UNHCRAPIPage{{URL: "https://api.unhcr.org/p1", Path: write("p1.json", page), RetrievedAt: at}}}
	if _, err := NewUNHCR(cfg).Load(ctx, conn); err != nil {
		t.Fatal(err)
	}
	// The real page: 78 items in persons, 22 in cases; 2000 totals 7,734
	// persons and 2,388 cases.
	for _, tc := range []struct {
		unit       string
		items      int
		total2000  float64
		france2000 float64
	}{
		{"P", 78, 7734, 754 + 1745},
		{"C", 22, 2388, 0},
	} {
		var items int
		var total, france float64
		if err := conn.QueryRowContext(ctx, `SELECT count(*), sum(dec_total) FILTER (WHERE year = 2000),
			coalesce(sum(dec_total) FILTER (WHERE year = 2000 AND asylum_iso = 'FRA'), 0)
			FROM raw_unhcr_asylum_decisions WHERE cases_persons = ?`, tc.unit).Scan(&items, &total, &france); err != nil {
			t.Fatal(err)
		}
		if items != tc.items || total != tc.total2000 || france != tc.france2000 {
			t.Errorf("%s: %d items, 2000 total %v, France %v; want %d, %v, %v", tc.unit, items, total, france, tc.items, tc.total2000, tc.france2000)
		}
	}
	noUnit := bytes.Replace(page, []byte(`"dec_pc":"C",`), nil, 1)
	if bytes.Equal(noUnit, page) {
		t.Fatal(`the page no longer has "dec_pc":"C",`)
	}
	cfg.APIPages = []UNHCRAPIPage{{URL: "https://api.unhcr.org/p1", Path: write("p2.json", noUnit), RetrievedAt: at}}
	_, err := NewUNHCR(cfg).Load(ctx, openTestDB(t))
	if err == nil || !strings.Contains(err.Error(), `column dec_pc: want P (persons) or C (cases)`) {
		t.Errorf("err = %v, want the item without dec_pc refused", err)
	}
}

// shiftUNHCRYears returns page with every year of its items moved by
// shift, each of 2000, 2001 and 2002 present.
func shiftUNHCRYears(t *testing.T, page []byte, shift int) []byte {
	t.Helper()
	out := page
	for _, y := range []int{2002, 2001, 2000} { // latest first: no year is moved twice
		from := []byte(fmt.Sprintf(`"year":%d,`, y))
		if !bytes.Contains(out, from) {
			t.Fatalf("the page has no item of %d", y)
		}
		out = bytes.ReplaceAll(out, from, []byte(fmt.Sprintf(`"year":%d,`, y+shift)))
	}
	return out
}

// buildUNHCRCoverage records src's inputs as the pipeline does (the
// inputs table), builds period coverage from them with the embedded
// transforms, and returns the SHA-256 of the first API page.
func buildUNHCRCoverage(t *testing.T, conn *sql.Conn, src Source) string {
	t.Helper()
	ctx := context.Background()
	if _, err := NewPeriodCoverage(PeriodCoverageConfig{Path: "../data/curated/period_coverage.csv"}).Load(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE inputs (source VARCHAR, path VARCHAR, year INTEGER, size BIGINT, sha256 VARCHAR, content_sha256 VARCHAR)`); err != nil {
		t.Fatal(err)
	}
	ins, err := src.Inputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var first string
	for _, in := range ins {
		size, sha, err := FileDigest(in.Path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO inputs VALUES ('unhcr', ?, NULL, ?, ?, ?)`, in.Path, size, sha, sha); err != nil {
			t.Fatal(err)
		}
		if first == "" && strings.HasSuffix(in.Path, ".json") {
			first = sha
		}
	}
	transforms, err := vsql.Transforms()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"coverage_statements": true, "unhcr_input_releases": true, "period_coverage": true, "period_label": true}
	for _, tr := range transforms {
		if want[tr.Name] {
			if _, err := conn.ExecContext(ctx, tr.SQL); err != nil {
				t.Fatalf("%s: %v", tr.File, err)
			}
			delete(want, tr.Name)
		}
	}
	if len(want) > 0 {
		t.Fatalf("transforms not found: %v", want)
	}
	return first
}

// runUNHCRCheck runs the embedded check name and returns its rows' first
// column as name=value.
func runUNHCRCheck(t *testing.T, conn *sql.Conn, name string) []string {
	t.Helper()
	checks, err := vsql.Checks()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if c.Name != name {
			continue
		}
		rows, err := conn.QueryContext(context.Background(), c.SQL)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s=%v", cols[0], vals[0]))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Fatalf("no check %s", name)
	return nil
}
