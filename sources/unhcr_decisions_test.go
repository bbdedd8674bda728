package sources

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The decisions export and the refugees package tables are large (2.5 and
// 9 MB); the tests read the copies make run loads rather than keeping a
// second copy in testdata.
const (
	unhcrDecisionsCSV   = "../data/unhcr/rdf_asylum-decisions_2015-2023.csv"
	unhcrPkgDecisions   = "../data/unhcr/refugees-2025.12.1_asylum_decisions_2000-2025.csv.gz"
	unhcrPkgApplication = "../data/unhcr/refugees-2025.12.1_asylum_applications_2006-2025.csv.gz"
	unhcrReleasesCSV    = "../data/curated/unhcr_releases.csv"
)

// unhcrDecisionTotals sums the decisions of Russians in France, persons,
// over authorities and stages, per year, from one shipped file.
func unhcrDecisionTotals(t *testing.T, path string, years ...int) map[int][2]float64 {
	t.Helper()
	conn, _ := unhcrShipped(t, path)
	out := map[int][2]float64{}
	for _, y := range years {
		out[y] = [2]float64{
			unhcrQueryFloat(t, conn, `SELECT sum(dec_total) FROM raw_unhcr_asylum_decisions
				WHERE origin_iso = 'RUS' AND asylum_iso = 'FRA' AND cases_persons = 'P' AND year = ?`, y),
			unhcrQueryFloat(t, conn, `SELECT sum(dec_recognized) FROM raw_unhcr_asylum_decisions
				WHERE origin_iso = 'RUS' AND asylum_iso = 'FRA' AND cases_persons = 'P' AND year = ?`, y),
		}
	}
	return out
}

// TestUNHCRPackageDecisions checks the refugees package's decisions table
// against UNHCR's published figures for Russians in France (persons, all
// stages): total and recognised.
func TestUNHCRPackageDecisions(t *testing.T) {
	got := unhcrDecisionTotals(t, unhcrPkgDecisions, 2022, 2023, 2024)
	for y, want := range map[int][2]float64{2022: {2846, 770}, 2023: {4647, 1171}, 2024: {4650, 1150}} {
		if got[y] != want {
			t.Errorf("%d total, recognised = %v, want %v", y, got[y], want)
		}
	}
}

// TestUNHCRDecisionsExport checks the Refugee Data Finder decisions export:
// Russians in France equal the package's figures for 2022 and 2023, and the
// export's layout (authority and stage in procedure_type and dec_level, no
// UNHCR codes) lands as documented.
func TestUNHCRDecisionsExport(t *testing.T) {
	export := unhcrDecisionTotals(t, unhcrDecisionsCSV, 2022, 2023)
	pkg := unhcrDecisionTotals(t, unhcrPkgDecisions, 2022, 2023)
	for _, y := range []int{2022, 2023} {
		if export[y] != pkg[y] {
			t.Errorf("%d export %v, package %v: want equal", y, export[y], pkg[y])
		}
	}
	if export[2023] != [2]float64{4647, 1171} {
		t.Errorf("2023 = %v, want [4647 1171]", export[2023])
	}
	conn, st := unhcrShipped(t, unhcrDecisionsCSV)
	if got := st.Tables[unhcrDecisionsTable]; got != 45641 {
		t.Errorf("rows = %d, want 45641 (the file's data lines)", got)
	}
	for _, tc := range []struct {
		name, query string
		want        float64
	}{
		{"stage NA is a code", `SELECT count(*) FROM raw_unhcr_asylum_decisions WHERE dec_level = 'NA'`, 721},
		{"authority U", `SELECT count(*) FROM raw_unhcr_asylum_decisions WHERE procedure_type = 'U'`, 5098},
		{"cases kept apart", `SELECT count(*) FROM raw_unhcr_asylum_decisions WHERE cases_persons = 'C'`, 2072},
		{"no UNHCR codes", `SELECT count(*) FROM raw_unhcr_asylum_decisions WHERE origin_code <> '' OR asylum_code <> ''`, 0},
		{"layout recorded", `SELECT count(*) FROM raw_unhcr_files WHERE layout = 'rdf_asylum_decisions' AND date_extracted IS NULL`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := unhcrQueryFloat(t, conn, tc.query); got != tc.want {
				t.Errorf("%s = %v, want %v", tc.query, got, tc.want)
			}
		})
	}
}

// TestUNHCRPackageApplications checks new (app_type N) first-instance
// (dec_level FI) applications by Russians in France, persons, and that the
// package's UNHCR codes are kept beside the ISO codes.
func TestUNHCRPackageApplications(t *testing.T) {
	conn, _ := unhcrShipped(t, unhcrPkgApplication)
	for y, want := range map[int]float64{2022: 1804, 2023: 2613, 2024: 2513} {
		got := unhcrQueryFloat(t, conn, `SELECT sum(applied) FROM raw_unhcr_asylum_applications
			WHERE origin_iso = 'RUS' AND asylum_iso = 'FRA' AND cases_persons = 'P'
			  AND application_type = 'N' AND stage = 'FI' AND year = ?`, y)
		if got != want {
			t.Errorf("%d = %v, want %v", y, got, want)
		}
	}
	// UNHCR's AUL is Australia (AUS in ISO), AUS is Austria (AUT).
	if got := unhcrQueryFloat(t, conn, `SELECT count(*) FROM raw_unhcr_asylum_applications
		WHERE (asylum_code = 'AUL') <> (asylum_iso = 'AUS')`); got != 0 {
		t.Errorf("%v rows where UNHCR code AUL and ISO AUS disagree", got)
	}
	if got := unhcrQueryFloat(t, conn, `SELECT count(*) FROM raw_unhcr_asylum_applications WHERE stage = 'NA'`); got != 2180 {
		t.Errorf("dec_level NA rows = %v, want 2180 (a code, not a missing value)", got)
	}
}

// TestUNHCRPackageNA checks how an R NA in a count is read: write.csv
// writes it unquoted, and it means not available (NULL), never zero.
func TestUNHCRPackageNA(t *testing.T) {
	real := unhcrHead(t, unhcrPkgDecisions, 3)
	data := bytes.Replace(real, []byte(`"C",38,0,25,0,63`), []byte(`"C",38,NA,25,0,63`), 1)
	if bytes.Equal(data, real) {
		t.Fatal("fixture row not found")
	}
	conn, _ := unhcrLoad(t, unhcrWriteTemp(t, "na.csv", data))
	var other any
	if err := conn.QueryRowContext(context.Background(), `SELECT dec_other FROM raw_unhcr_asylum_decisions WHERE line = 2`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	if other != nil {
		t.Errorf("dec_other = %v, want NULL", other)
	}
}

// TestUNHCRAggregateExport builds a global aggregate export from real rows
// of the decisions export: "-" in the four country columns, meaning all
// countries, is kept as published and maps to TOTAL through the alias file.
// As in a real aggregate export, each row is another year, authority,
// stage or unit: rows that became the same would be one row published
// twice.
func TestUNHCRAggregateExport(t *testing.T) {
	lines := bytes.SplitAfter(unhcrReadFixture(t, unhcrDecisionsCSV), []byte("\n"))
	var b bytes.Buffer
	b.Write(lines[0])
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		f := strings.Split(string(l), ",")
		key := strings.Join([]string{f[0], f[5], f[6], f[7]}, ",")
		if len(f) != 13 || seen[key] {
			continue
		}
		seen[key] = true
		f[1], f[2], f[3], f[4] = "-", "-", "-", "-"
		b.WriteString(strings.Join(f, ","))
		if len(seen) == 3 {
			break
		}
	}
	conn, _ := unhcrLoad(t, unhcrWriteTemp(t, "aggregate.csv", b.Bytes()))
	if got := unhcrQueryFloat(t, conn, `SELECT count(*) FROM raw_unhcr_asylum_decisions
		WHERE origin_iso = '-' AND asylum_iso = '-' AND origin_name = '-'`); got != 3 {
		t.Errorf("aggregate rows = %v, want 3", got)
	}
	aliases := string(unhcrReadFixture(t, "../data/reference/country_aliases_unhcr.csv"))
	if !strings.Contains(aliases, "\niso3,-,TOTAL,") {
		t.Error(`country_aliases_unhcr.csv has no alias iso3 "-" -> TOTAL for aggregate exports`)
	}
}

// TestUNHCRExtractionDate puts the real 15-line preamble of the solutions
// export in front of the decisions export: the rows load, and the export's
// extraction date is recorded for working out its release.
func TestUNHCRExtractionDate(t *testing.T) {
	preamble := unhcrHead(t, unhcrSolutionsCSV, 15)
	p := unhcrWriteTemp(t, "decisions_with_preamble.csv", append(preamble, unhcrHead(t, unhcrDecisionsCSV, 50)...))
	conn, st := unhcrLoad(t, p)
	if got := st.Tables[unhcrDecisionsTable]; got != 49 {
		t.Errorf("rows = %d, want 49", got)
	}
	var got time.Time
	if err := conn.QueryRowContext(context.Background(), `SELECT date_extracted FROM raw_unhcr_files`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 7, 19, 10, 55, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("date extracted = %v, want %v", got, want)
	}
	t.Run("bad date", func(t *testing.T) {
		bad := bytes.Replace(preamble, []byte("19/07/2024 10:55"), []byte("2024-07-19"), 1)
		p := unhcrWriteTemp(t, "bad_date.csv", append(bad, unhcrHead(t, unhcrDecisionsCSV, 5)...))
		_, err := NewUNHCR(UNHCRConfig{Paths: []string{p}}).Load(context.Background(), openTestDB(t))
		var re *LocatedError
		if !errors.As(err, &re) || re.Line != 2 || re.Column != "Date extracted:" {
			t.Fatalf("err = %v, want a *LocatedError at line 2 column \"Date extracted:\"", err)
		}
	})
}

// TestUNHCRDecisionsBadInputs checks that a broken decisions export or
// package table fails naming the file, line and column.
func TestUNHCRDecisionsBadInputs(t *testing.T) {
	export := unhcrHead(t, unhcrDecisionsCSV, 20)
	pkg := unhcrHead(t, unhcrPkgDecisions, 20)
	for _, tc := range []struct {
		name   string
		data   []byte
		line   int64
		column string
		value  string
		msg    string
	}{
		{
			name:   "missing column",
			data:   bytes.Replace(export, []byte(`,"Otherwise closed"`), nil, 1),
			line:   1,
			column: "Otherwise closed",
			msg:    "column missing from the header",
		},
		{
			name:   "non-numeric count",
			data:   bytes.Replace(export, []byte("2015,Albania,ALB,Australia,AUS,G,AR,C,0,0,5,0,5\n"), []byte("2015,Albania,ALB,Australia,AUS,G,AR,C,0,0,five,0,5\n"), 1),
			line:   3,
			column: "Rejected decisions",
			value:  "five",
			msg:    "not a number",
		},
		{
			name:   "package: quoted NA in a count",
			data:   bytes.Replace(pkg, []byte(`"C",38,0,25,0,63`), []byte(`"C",38,0,"N/A",0,63`), 1),
			line:   2,
			column: "dec_rejected",
			value:  "N/A",
			msg:    "not a number",
		},
		{
			name:   "package: persons/cases",
			data:   bytes.Replace(pkg, []byte(`"C",38,0,25,0,63`), []byte(`"X",38,0,25,0,63`), 1),
			line:   2,
			column: "dec_pc",
			value:  "X",
			msg:    "want P (persons) or C (cases)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := unhcrWriteTemp(t, "decisions.csv", tc.data)
			_, err := NewUNHCR(UNHCRConfig{Paths: []string{p}}).Load(context.Background(), openTestDB(t))
			var re *LocatedError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *LocatedError", err)
			}
			if re.File != p || re.Line != tc.line || re.Column != tc.column || (tc.value != "" && re.Value != tc.value) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v (file %s line %d column %q value %q), want %s line %d column %q value %q saying %q",
					err, re.File, re.Line, re.Column, re.Value, p, tc.line, tc.column, tc.value, tc.msg)
			}
		})
	}
}

// TestUNHCRReleasesFile checks the shipped releases file against the
// shipped inputs (every row names a shipped file by its real hash) and the
// errors of a broken one.
func TestUNHCRReleasesFile(t *testing.T) {
	ctx := context.Background()
	conn := openTestDB(t)
	if _, err := NewUNHCR(UNHCRConfig{Releases: unhcrReleasesCSV}).Load(ctx, conn); err != nil {
		t.Fatal(err)
	}
	// The SHA-256 of each shipped file's content, by the publication's file
	// name: a gzipped copy (name.gz) is known by what it decompresses to.
	shipped := map[string]string{}
	files, err := filepath.Glob("../data/unhcr/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		sum := sha256.Sum256(unhcrReadFixture(t, f))
		shipped[strings.TrimSuffix(filepath.Base(f), ".gz")] = hex.EncodeToString(sum[:])
	}
	rows, err := conn.QueryContext(ctx, `SELECT input, sha256 FROM raw_unhcr_releases ORDER BY line`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var input, stated string
		if err := rows.Scan(&input, &stated); err != nil {
			t.Fatal(err)
		}
		n++
		if actual, ok := shipped[input]; !ok || actual != stated {
			t.Errorf("%s: stated sha256 %s, the shipped content has %q", input, stated, actual)
		}
	}
	rows.Close()
	if n != 4 {
		t.Errorf("releases rows = %d, want 4", n)
	}
	mid := unhcrQueryFloat(t, conn, `SELECT count(*) FROM raw_unhcr_releases WHERE mid_year AND data_through = DATE '2023-06-30'
		AND input = 'rdf_asylum-applications_europe-origins_2010-2023.csv'`)
	if mid != 1 {
		t.Error("the applications export is not stated as the mid-year 2023 release")
	}

	lines := bytes.SplitAfter(unhcrReadFixture(t, unhcrReleasesCSV), []byte("\n"))
	for _, tc := range []struct {
		name   string
		data   []byte
		line   int64
		column string
	}{
		{"same file twice", bytes.Join([][]byte{lines[0], lines[1], lines[1]}, nil), 3, "sha256"},
		{"bad date", bytes.Join([][]byte{lines[0], bytes.Replace(lines[1], []byte("2023-06-30"), []byte("30/06/2023"), 1)}, nil), 2, "data_through"},
		{"mid_year not a boolean", bytes.Join([][]byte{lines[0], bytes.Replace(lines[1], []byte(",true,"), []byte(",yes,"), 1)}, nil), 2, "mid_year"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := unhcrWriteTemp(t, "releases.csv", tc.data)
			_, err := NewUNHCR(UNHCRConfig{Releases: p}).Load(ctx, openTestDB(t))
			var re *LocatedError
			if !errors.As(err, &re) || re.File != p || re.Line != tc.line || re.Column != tc.column {
				t.Fatalf("err = %v, want a *LocatedError at %s line %d column %s", err, p, tc.line, tc.column)
			}
		})
	}
}
