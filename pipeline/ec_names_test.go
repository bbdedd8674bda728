package pipeline

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/visastats/visastats/output/release"
	"github.com/visastats/visastats/sources"
	vsql "github.com/visastats/visastats/sql"
)

// ecSpellingsFile lists every Schengen State and host country spelling of
// the EC consulate workbooks 2009-2024, per workbook, sheet and field, with
// its rows, its consulate towns and the code the 2009 workbook gives it
// (see testdata/ec_country_spellings.md).
const ecSpellingsFile = "testdata/ec_country_spellings.csv"

// ecSpelling is one line of ecSpellingsFile.
type ecSpelling struct {
	year                   int
	file, field, name      string
	rows                   int
	consulates             string // the towns, sorted, |-separated
	code2009, code2009From string
	line                   int
}

// readECSpellings reads ecSpellingsFile.
func readECSpellings(t *testing.T) []ecSpelling {
	t.Helper()
	f, err := os.Open(ecSpellingsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := "year,file,sheet,field,spelling,rows,consulates,code_2009,code_2009_from"
	if len(recs) < 2 || strings.Join(recs[0], ",") != want {
		t.Fatalf("%s: header %v, want %s", ecSpellingsFile, recs[0], want)
	}
	var out []ecSpelling
	for i, r := range recs[1:] {
		year, err1 := strconv.Atoi(r[0])
		rows, err2 := strconv.Atoi(r[5])
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("%s line %d: %v", ecSpellingsFile, i+2, err)
		}
		out = append(out, ecSpelling{year: year, file: r[1], field: r[3], name: r[4], rows: rows,
			consulates: r[6], code2009: r[7], code2009From: r[8], line: i + 2})
	}
	return out
}

// loadECSpellings fills raw_ec_schengen_consulates from ecSpellingsFile:
// per workbook and sheet, as many rows as the workbook has with each State
// and each host country spelling, each host country's consulate towns
// spread over its rows. Which State goes with which host country is made
// up; the crosswalk reads each field on its own.
func loadECSpellings(t *testing.T, conn *sql.Conn) {
	t.Helper()
	ctx := context.Background()
	mustExec(t, conn, `CREATE TABLE ec_spellings AS
		SELECT CAST(year AS INTEGER) AS year, file, sheet, field, spelling, CAST(rows AS INTEGER) AS n,
		       string_split(consulates, '|') AS consulates
		FROM read_csv(?, header = true, all_varchar = true, quote = '"', escape = '"')`, ecSpellingsFile)
	mustExec(t, conn, `CREATE TABLE raw_ec_schengen_consulates AS
		WITH expanded AS (
			SELECT year, file, sheet, field, spelling, consulates, i,
			       row_number() OVER (PARTITION BY file, sheet, field ORDER BY spelling, i) AS k
			FROM (SELECT *, unnest(range(n)) AS i FROM ec_spellings)
		)
		SELECT st.file, st.sheet, CAST(st.k + 1 AS INTEGER) AS "row", st.year,
		       st.spelling AS schengen_state, h.spelling AS host_country,
		       h.consulates[h.i % len(h.consulates) + 1] AS consulate
		FROM expanded st
		JOIN expanded h ON h.file = st.file AND h.sheet = st.sheet AND h.k = st.k AND h.field = 'host_country'
		WHERE st.field = 'schengen_state'`)
	var rows, want int
	if err := conn.QueryRowContext(ctx, `SELECT count(*), (SELECT sum(n) FROM ec_spellings WHERE field = 'host_country')
		FROM raw_ec_schengen_consulates`).Scan(&rows, &want); err != nil {
		t.Fatal(err)
	}
	if rows != want {
		t.Fatalf("%d rows made from %s, want %d: the States and host countries of a sheet count different rows", rows, ecSpellingsFile, want)
	}
}

// mapECSpellings loads the reference in dir and the EC spellings, runs
// the crosswalk transforms with the checks that follow them, then
// unmapped_countries, as a build does. It returns the connection and the
// failed blocking checks as a *CheckError (nil when all passed).
func mapECSpellings(t *testing.T, dir string, edit func(*testing.T, *sql.Conn)) (*sql.Conn, error) {
	t.Helper()
	ctx := context.Background()
	conn := openDuckConn(t)
	if _, err := sources.NewReference(sources.ReferenceConfig{Dir: dir}).Load(ctx, conn); err != nil {
		t.Fatal(err)
	}
	loadECSpellings(t, conn)
	if edit != nil {
		edit(t, conn)
	}
	transforms, err := vsql.Transforms()
	if err != nil {
		t.Fatal(err)
	}
	checks, err := vsql.Checks()
	if err != nil {
		t.Fatal(err)
	}
	// The transforms that map the EC workbooks' spellings, run in the
	// order of sql/; the others read inputs these tests do not load.
	steps := map[string]bool{
		"name_key": true, "country_names": true, "alias_key": true,
		"country_codes": true, "country_codes_ec": true, "country_code": true,
	}
	var failed []release.Check
	for _, tr := range transforms {
		if !steps[tr.Name] {
			continue
		}
		if _, err := conn.ExecContext(ctx, tr.SQL); err != nil {
			t.Fatalf("%s: %v", tr.File, err)
		}
		for _, c := range checks {
			if c.After == tr.Name || c.Name == "unmapped_countries" && tr.Name == "country_code" {
				r, err := runCheck(ctx, conn, c)
				if err != nil {
					t.Fatal(err)
				}
				if r.Blocking && r.Problems > 0 {
					failed = append(failed, r)
				}
			}
		}
		if len(failed) > 0 {
			return conn, &CheckError{Failed: failed}
		}
	}
	return conn, nil
}

// ecCode is what the crosswalk holds for one spelling of one workbook: the
// code, how it matched, the rows and the consulate towns (|-separated).
type ecCode struct {
	code, matched string
	rows          int
	consulates    string
}

// ecCodes returns the crosswalk of the EC workbooks by file, field and
// spelling.
func ecCodes(t *testing.T, conn *sql.Conn) map[[3]string]ecCode {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), `SELECT file, field, spelling, coalesce(code, ''), coalesce(matched, ''),
		       n_rows, coalesce(array_to_string(consulates, '|'), '')
		FROM country_codes WHERE source = 'ec_schengen_consulates'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[[3]string]ecCode{}
	for rows.Next() {
		var k [3]string
		var c ecCode
		if err := rows.Scan(&k[0], &k[1], &k[2], &c.code, &c.matched, &c.rows, &c.consulates); err != nil {
			t.Fatal(err)
		}
		out[k] = c
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// fileOfYear returns the workbook of a year in the spellings.
func fileOfYear(t *testing.T, spellings []ecSpelling, year int) string {
	t.Helper()
	for _, s := range spellings {
		if s.year == year {
			return s.file
		}
	}
	t.Fatalf("no workbook of %d in %s", year, ecSpellingsFile)
	return ""
}

// TestECCountryNamesEveryYear maps every State and host country spelling of
// the EC workbooks 2009-2024 with the shipped reference: none is left
// unmapped, each gets the code the Commission's own 2009 workbook gives the
// spelling or its consulate towns, and a sample of spellings of every
// generation gets the code and the way of matching expected.
func TestECCountryNamesEveryYear(t *testing.T) {
	t.Parallel()
	spellings := readECSpellings(t)
	conn, err := mapECSpellings(t, refDir, nil)
	if err != nil {
		t.Fatalf("the shipped reference does not map the EC workbooks:\n%v", err)
	}
	got := ecCodes(t, conn)

	// The crosswalk counts the rows and lists the consulate towns of a
	// spelling per workbook, over its sheets (2010 has two).
	type seen struct {
		rows  int
		towns map[string]bool
	}
	perFile := map[[3]string]*seen{}
	for _, s := range spellings {
		k := [3]string{s.file, s.field, s.name}
		if perFile[k] == nil {
			perFile[k] = &seen{towns: map[string]bool{}}
		}
		perFile[k].rows += s.rows
		for _, town := range strings.Split(s.consulates, "|") {
			if town != "" {
				perFile[k].towns[town] = true
			}
		}
	}
	for k, w := range perFile {
		c := got[k]
		towns := slices.Sorted(maps.Keys(w.towns))
		if c.rows != w.rows || k[1] == "host_country" && c.consulates != strings.Join(towns, "|") {
			t.Errorf("%s %s %q: %d rows, consulates %s; want %d, %s", k[0], k[1], k[2], c.rows, c.consulates, w.rows, strings.Join(towns, "|"))
		}
	}

	years := map[int]bool{}
	// The 2009 workbook's hidden code columns write Greece EL, the EU's
	// code, for the State and the host country alike; ISO 3166 has GR.
	iso := map[string]string{"EL": "GR"}
	checked := 0
	for _, s := range spellings {
		years[s.year] = true
		c, ok := got[[3]string{s.file, s.field, s.name}]
		switch {
		case !ok:
			t.Errorf("%d %s %q: not in country_codes", s.year, s.field, s.name)
		case c.code == "":
			t.Errorf("%d %s %q: unmapped", s.year, s.field, s.name)
		case s.code2009 != "":
			want := s.code2009
			if w, ok := iso[want]; ok {
				want = w
			}
			if c.code != want {
				t.Errorf("%d %s %q (line %d) -> %s by %s, want %s (2009 workbook, by %s)",
					s.year, s.field, s.name, s.line, c.code, c.matched, want, s.code2009From)
			}
			checked++
		}
	}
	if len(years) != 15 || len(spellings) < 3000 || checked < 2950 {
		t.Errorf("%d workbooks, %d spellings, %d checked against 2009's codes: the test data are not all there", len(years), len(spellings), checked)
	}

	for _, tt := range []struct {
		year                  int
		field, spelling, code string
		matched               string
	}{
		{2009, "schengen_state", "FINLAND", "FI", "iso_name"},
		{2009, "schengen_state", "CZECH REPUBLIC", "CZ", "iso_name"},
		{2010, "schengen_state", "EL", "GR", "alias"},
		{2010, "schengen_state", "AT", "AT", "iso_code"},
		{2010, "schengen_state", "NO", "NO", "iso_code"},
		{2010, "schengen_state", "CH", "CH", "iso_code"},
		{2012, "schengen_state", "NORWAY ", "NO", "iso_name"},
		{2012, "schengen_state", "Portugal", "PT", "iso_name"},
		{2013, "schengen_state", "Germany ", "DE", "iso_name"},
		{2024, "schengen_state", "Croatia", "HR", "iso_name"},
		{2009, "host_country", "RUSSIAN FEDERATION", "RU", "iso_name"},
		{2009, "host_country", "UNITED STATES", "US", "iso_name"},
		{2009, "host_country", "HONG KONG", "HK", "iso_name"},
		{2009, "host_country", "MACEDONIA, THE FORMER YUGOSLAV REPUBLIC OF", "MK", "iso_name"},
		{2009, "host_country", "CONGO, THE DEMOCRATIC REPUBLIC OF THE", "CD", "iso_name"},
		{2009, "host_country", "CONGO", "CG", "alias"},
		{2010, "host_country", "USA", "US", "alias"},
		{2012, "host_country", "IRAN, ISLAMIC REPUBLIC OF", "IR", "iso_name"},
		{2012, "host_country", "PALESTINE", "PS", "iso_name"},
		{2013, "host_country", "VIET NAM", "VN", "iso_name"},
		{2013, "host_country", "KOSOVO", "XK", "iso_name"},
		{2014, "host_country", "CONGO", "CG", "alias"},
		{2014, "host_country", "FORMER YUGOSLAV REPUBLIC OF MACEDONIA", "MK", "iso_name"},
		{2014, "host_country", "TAIWAN, PROVINCE OF CHINA", "TW", "iso_name"},
		{2015, "host_country", "PALESTINIAN AUTHORITY", "PS", "alias"},
		{2017, "host_country", "HOLY SEE", "VA", "iso_name"},
		{2018, "host_country", "NORTH MACEDONIA", "MK", "iso_name"},
		{2023, "host_country", "TÜRKIYE", "TR", "iso_name"},
		{2024, "host_country", "USA", "US", "alias"},
		{2024, "host_country", "CONGO (BRAZZAVILLE)", "CG", "alias"},
		{2024, "host_country", "SIERRA LEONE", "SL", "iso_name"},
	} {
		file := fileOfYear(t, spellings, tt.year)
		c, ok := got[[3]string{file, tt.field, tt.spelling}]
		if !ok || c.code != tt.code || c.matched != tt.matched {
			t.Errorf("%d %s %q -> %q by %q (in the data: %v), want %s by %s", tt.year, tt.field, tt.spelling, c.code, c.matched, ok, tt.code, tt.matched)
		}
	}

	// The rows of the 2014 workbook with a bare CONGO are the consulates
	// in BRAZZAVILLE and POINTE NOIRE; country_code gives them CG.
	rows, err := conn.QueryContext(context.Background(), `
		SELECT consulate, country_code('ec_schengen_consulates', 'host_country', host_country, file)
		FROM raw_ec_schengen_consulates WHERE year = 2014 AND host_country = 'CONGO'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	towns := map[string]bool{}
	for rows.Next() {
		var town, code string
		if err := rows.Scan(&town, &code); err != nil {
			t.Fatal(err)
		}
		towns[town] = true
		if code != "CG" {
			t.Errorf("2014 CONGO, consulate %s -> %s, want CG", town, code)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(towns) != 2 || !towns["BRAZZAVILLE"] || !towns["POINTE NOIRE"] {
		t.Errorf("2014 CONGO consulates %v, want BRAZZAVILLE and POINTE NOIRE", towns)
	}
}

// TestECUnmappedCountryNames changes one thing at a time, in the spellings
// or in a copy of the reference: what is ambiguous or unknown stays
// unmapped, and the error names the spelling, its rows and files, the
// candidates, the consulate towns of its rows and the alias line to add.
func TestECUnmappedCountryNames(t *testing.T) {
	t.Parallel()
	spellings := readECSpellings(t)
	f2010, f2015, f2024 := fileOfYear(t, spellings, 2010), fileOfYear(t, spellings, 2015), fileOfYear(t, spellings, 2024)
	aliasFile := func(ref string) string { return filepath.Join(ref, "country_aliases_ec.csv") }

	// rename renames a spelling of one field in one workbook.
	rename := func(file, field, from, to string) func(*testing.T, *sql.Conn) {
		return func(t *testing.T, conn *sql.Conn) {
			t.Helper()
			mustExec(t, conn, `UPDATE raw_ec_schengen_consulates SET `+vsql.QuoteIdent(field)+` = ? WHERE file = ? AND `+vsql.QuoteIdent(field)+` = ?`, to, file, from)
		}
	}
	// withoutLine copies the reference without the alias line that starts
	// with prefix.
	withoutLine := func(t *testing.T, prefix string) string {
		t.Helper()
		ref := copyReference(t)
		b, err := os.ReadFile(aliasFile(ref))
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if !strings.HasPrefix(l, prefix) {
				kept = append(kept, l)
			}
		}
		if len(kept) == len(strings.SplitAfter(string(b), "\n")) {
			t.Fatalf("no line %s in %s", prefix, aliasFile(ref))
		}
		if err := os.WriteFile(aliasFile(ref), []byte(strings.Join(kept, "")), 0o644); err != nil {
			t.Fatal(err)
		}
		return ref
	}

	tests := []struct {
		name string
		ref  func(t *testing.T) string
		edit func(t *testing.T, conn *sql.Conn)
		// want are the parts of the error, the first the check's summary.
		want []string
	}{
		{
			name: "bare CONGO without the alias line that decides it",
			ref:  func(t *testing.T) string { return withoutLine(t, "ec_name,CONGO,") },
			want: []string{"unmapped_countries: 1 problem\n", "field=host_country value=CONGO rows=18 ",
				"statistiques2009.xls", "synthese_2013_with_filters_en.xls", "2014_global_schengen_visa_stats_compilation_consulates_-_final_en.xlsx",
				"ambiguous: could be CD (Congo, The Democratic Republic of the) or CG (Congo); consulates in BRAZZAVILLE, POINTE NOIRE\"",
				"add the line ec_name,CONGO,<code>,<why> to "},
		},
		{
			name: "the EU code of Greece without its alias line",
			ref:  func(t *testing.T) string { return withoutLine(t, "eu_code,EL,") },
			want: []string{"unmapped_countries: 1 problem\n", "field=schengen_state value=EL rows=", f2010,
				"no alias line and no ISO 3166 code matches; consulates in ",
				"add the line eu_code,EL,<code> to "},
		},
		{
			name: "a State code that is no country's",
			edit: rename(f2010, "schengen_state", "AT", "XX"),
			want: []string{"unmapped_countries: 1 problem\n", "field=schengen_state value=XX rows=", f2010,
				"no alias line and no ISO 3166 code matches; consulates in ", " more\"",
				"add the line eu_code,XX,<code> to "},
		},
		{
			name: "a host country written as a code",
			edit: rename(f2015, "host_country", "NORWAY", "NO"),
			want: []string{"unmapped_countries: 1 problem\n", "field=host_country value=NO rows=", f2015,
				"ambiguous: could be NO (Norway) if read as an ISO code, which only the Schengen State field is; consulates in OSLO\"",
				"add the line ec_name,NO,<code>,<why> to "},
		},
		{
			name: "an ambiguous name with many consulates",
			edit: rename(f2024, "host_country", "USA", "KOREA"),
			want: []string{"unmapped_countries: 1 problem\n", "field=host_country value=KOREA rows=", f2024,
				"ambiguous: could be KP (Korea, Democratic People's Republic of) or KR (Korea, Republic of); " +
					"consulates in ATLANTA, GA, BOSTON, MA, CHICAGO, IL, CLEVELAND, OH, DETROIT, MI, HOUSTON, TX, LOS ANGELES, LOS ANGELES, CA, MIAMI, FL, NEW BEDFORD, MA and 8 more\"",
				"add the line ec_name,KOREA,<code>,<why> to "},
		},
		{
			name: "a name no reference knows",
			edit: rename(f2015, "host_country", "GUINEA-BISSAU", "GUINEA-BISAU"),
			want: []string{"unmapped_countries: 1 problem\n", "value=GUINEA-BISAU rows=", "no alias line and no ISO 3166 name matches; consulates in BISSAU\"",
				"add the line ec_name,GUINEA-BISAU,<code> to "},
		},
		{
			name: "the alias line for CONGO without its reason",
			ref: func(t *testing.T) string {
				ref := copyReference(t)
				b, err := os.ReadFile(aliasFile(ref))
				if err != nil {
					t.Fatal(err)
				}
				lines := strings.SplitAfter(string(b), "\n")
				for i, l := range lines {
					if strings.HasPrefix(l, "ec_name,CONGO,CG,") {
						lines[i] = "ec_name,CONGO,CG,\n"
					}
				}
				if err := os.WriteFile(aliasFile(ref), []byte(strings.Join(lines, "")), 0o644); err != nil {
					t.Fatal(err)
				}
				return ref
			},
			want: []string{"alias_targets_known: 1 problem\n", "scheme=ec_name alias=CONGO code=CG",
				`problem="the spelling is an ISO name of CD (Congo, The Democratic Republic of the) or CG (Congo): write why it means CG in the line's note"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ref := refDir
			if tt.ref != nil {
				ref = tt.ref(t)
			}
			_, err := mapECSpellings(t, ref, tt.edit)
			var ce *CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a failed check", err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not contain %q:\n%s", w, msg)
				}
			}
			if tt.ref != nil && strings.Contains(tt.want[0], "unmapped") && !strings.Contains(msg, aliasFile(ref)) {
				t.Errorf("error does not name the alias file %s:\n%s", aliasFile(ref), msg)
			}
		})
	}
}
