package sources

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	_ "github.com/marcboeker/go-duckdb"
)

const (
	unhcrApplicationsCSV = "testdata/unhcr/rdf_asylum-applications_europe-origins_2010-2023.csv"
	unhcrSolutionsCSV    = "testdata/unhcr/rdf_solutions_with-metadata-preamble_2015-2023.csv"
	unhcrFootnotesCSV    = "testdata/unhcr/rdf_footnotes.csv"
	unhcrDecisionsPage   = "testdata/unhcr/api_v1_asylum-decisions_coo-DZA_page1.json"
)

// unhcrLoad loads the unhcr source from paths into a fresh database.
func unhcrLoad(t *testing.T, paths ...string) (*sql.Conn, Stats) {
	t.Helper()
	conn := openTestDB(t)
	st, err := NewUNHCR(UNHCRConfig{Paths: paths}).Load(context.Background(), conn)
	if err != nil {
		t.Fatalf("load %v: %v", paths, err)
	}
	return conn, st
}

// unhcrReadFixture returns the bytes of a testdata file, decompressed when
// its name ends in .gz.
func unhcrReadFixture(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return b
}

// unhcrWriteTemp writes data to name in a fresh temporary directory.
func unhcrWriteTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	return unhcrWriteTempIn(t, t.TempDir(), name, data)
}

// unhcrWriteTempIn writes data to name in dir.
func unhcrWriteTempIn(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func unhcrQueryFloat(t *testing.T, conn *sql.Conn, q string, args ...any) float64 {
	t.Helper()
	var v sql.NullFloat64
	if err := conn.QueryRowContext(context.Background(), q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v.Float64
}

func TestUNHCRApplicationsRussianOrigin(t *testing.T) {
	conn, st := unhcrLoad(t, unhcrApplicationsCSV)
	if got := st.Tables[unhcrApplicationsTable]; got != 8390 {
		t.Errorf("rows in %s = %d, want 8390 (the file's data lines)", unhcrApplicationsTable, got)
	}
	const sum = `SELECT sum(applied) FROM raw_unhcr_asylum_applications
		WHERE origin_iso = 'RUS' AND year = ? AND cases_persons IN (SELECT unnest(string_split(?, ',')))`
	for _, tc := range []struct {
		year                  int
		persons, cases, mixed float64
	}{
		{2021, 12159, 26, 12185},
		{2022, 20234, 18, 20252},
		{2023, 14899, 8, 14907},
	} {
		t.Run(strconv.Itoa(tc.year), func(t *testing.T) {
			if got := unhcrQueryFloat(t, conn, sum, tc.year, "P"); got != tc.persons {
				t.Errorf("%d persons = %v, want %v", tc.year, got, tc.persons)
			}
			if got := unhcrQueryFloat(t, conn, sum, tc.year, "C"); got != tc.cases {
				t.Errorf("%d cases = %v, want %v", tc.year, got, tc.cases)
			}
			// The mixed sum is the mistake the cases_persons column exists to
			// prevent; check it is what a careless query would get.
			if got := unhcrQueryFloat(t, conn, sum, tc.year, "P,C"); got != tc.mixed {
				t.Errorf("%d persons+cases = %v, want %v", tc.year, got, tc.mixed)
			}
		})
	}
}

func TestUNHCRApplicationsCodesAsPublished(t *testing.T) {
	conn, _ := unhcrLoad(t, unhcrApplicationsCSV)
	for _, tc := range []struct {
		name, query string
		want        float64
	}{
		// NA is a code of the file, not a missing value.
		{"application type NA", `SELECT count(*) FROM raw_unhcr_asylum_applications WHERE application_type = 'NA'`, 25},
		{"stage NA", `SELECT count(*) FROM raw_unhcr_asylum_applications WHERE stage = 'NA'`, 248},
		{"no NULL codes", `SELECT count(*) FROM raw_unhcr_asylum_applications WHERE application_type IS NULL OR stage IS NULL OR origin_iso IS NULL`, 0},
		{"cases rows", `SELECT count(*) FROM raw_unhcr_asylum_applications WHERE cases_persons = 'C'`, 208},
		// Line numbers count the header: the first data row is line 2.
		{"first row line", `SELECT line FROM raw_unhcr_asylum_applications WHERE asylum_iso = 'AUT' AND origin_iso = 'ALB' AND year = 2010`, 2},
		{"names as published", `SELECT count(*) FROM raw_unhcr_asylum_applications WHERE origin_name = 'Serbia and Kosovo: S/RES/1244 (1999)' AND origin_iso = 'SRB'`, 590},
		{"UTF-8 names", `SELECT count(*) FROM raw_unhcr_asylum_applications WHERE origin_name = 'Türkiye'`, 773},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := unhcrQueryFloat(t, conn, tc.query); got != tc.want {
				t.Errorf("%s = %v, want %v", tc.query, got, tc.want)
			}
		})
	}
}

// TestUNHCRPreamble checks the header search on the real export with a
// 15-line metadata preamble (the solutions table): the reader finds the
// header on line 16, then rejects the table it does not support. A second
// case puts the same real preamble in front of the real applications export
// and checks the rows land with line numbers that count the preamble.
func TestUNHCRPreamble(t *testing.T) {
	t.Run("solutions table rejected after the preamble", func(t *testing.T) {
		conn := openTestDB(t)
		_, err := NewUNHCR(UNHCRConfig{Paths: []string{unhcrSolutionsCSV}}).Load(context.Background(), conn)
		var re *LocatedError
		if !errors.As(err, &re) {
			t.Fatalf("err = %v, want a *LocatedError", err)
		}
		if re.Line != 16 || re.File != unhcrSolutionsCSV {
			t.Errorf("error at %s line %d, want %s line 16", re.File, re.Line, unhcrSolutionsCSV)
		}
		for _, want := range []string{"unsupported UNHCR table (columns Year, Country of origin, Country of origin (ISO)", "Naturalisation"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("err = %q, want it to contain %q", err, want)
			}
		}
	})
	t.Run("preamble before applications", func(t *testing.T) {
		sol := unhcrReadFixture(t, unhcrSolutionsCSV)
		lines := bytes.SplitAfter(sol, []byte("\n"))
		preamble := bytes.Join(lines[:15], nil)
		data := append(preamble, unhcrReadFixture(t, unhcrApplicationsCSV)...)
		p := unhcrWriteTemp(t, "applications_with_preamble.csv", data)
		conn, st := unhcrLoad(t, p)
		if got := st.Tables[unhcrApplicationsTable]; got != 8390 {
			t.Errorf("rows = %d, want 8390", got)
		}
		got := unhcrQueryFloat(t, conn, `SELECT line FROM raw_unhcr_asylum_applications WHERE asylum_iso = 'AUT' AND origin_iso = 'ALB' AND year = 2010`)
		if got != 17 {
			t.Errorf("first data row at line %v, want 17 (15 preamble lines, then the header)", got)
		}
		if got := unhcrQueryFloat(t, conn, `SELECT sum(applied) FROM raw_unhcr_asylum_applications WHERE origin_iso = 'RUS' AND year = 2022 AND cases_persons = 'P'`); got != 20234 {
			t.Errorf("RUS 2022 persons = %v, want 20234", got)
		}
	})
}

func TestUNHCRFootnotes(t *testing.T) {
	conn, st := unhcrLoad(t, unhcrFootnotesCSV)
	if got := st.Tables[unhcrFootnotesTable]; got != 93 {
		t.Errorf("rows = %d, want 93", got)
	}
	for _, tc := range []struct {
		name, query string
		want        float64
	}{
		{"year ranges kept as published", `SELECT count(*) FROM raw_unhcr_footnotes WHERE years = '2019 - 2023' AND origin_iso = 'CHN' AND asylum_iso = ''`, 1},
		{"year lists kept as published", `SELECT count(*) FROM raw_unhcr_footnotes WHERE years = '2018, 2020, 2022 - 2023'`, 1},
		{"asylum footnotes", `SELECT count(*) FROM raw_unhcr_footnotes WHERE population_type LIKE '%ASY%'`, 25},
		// The Rwanda footnote spans lines 23-25 of the file (CRs inside the
		// quoted text); its record starts at line 23.
		{"multi-line footnote", `SELECT line FROM raw_unhcr_footnotes WHERE asylum_iso = 'RWA'`, 23},
		{"line after it", `SELECT min(line) FROM raw_unhcr_footnotes WHERE line > 23`, 26},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := unhcrQueryFloat(t, conn, tc.query); got != tc.want {
				t.Errorf("%s = %v, want %v", tc.query, got, tc.want)
			}
		})
	}
}

// TestUNHCRDecisionsPage loads the real API page (asylum decisions, origin
// Algeria, page 1 of 11, 100 items) saved as a file.
func TestUNHCRDecisionsPage(t *testing.T) {
	conn, st := unhcrLoad(t, unhcrDecisionsPage)
	if got := st.Tables[unhcrDecisionsTable]; got != 100 {
		t.Errorf("rows = %d, want 100", got)
	}
	type dec struct {
		year                                     int
		coa, coaISO, coaName, pc                 string
		recognized, other, rejected, closed, tot float64
	}
	for _, tc := range []struct {
		item int
		want dec
	}{
		// Item 1: UNHCR code AUL is Australia; dec_other and dec_closed are
		// the strings "0" in the page.
		{1, dec{2000, "AUL", "AUS", "Australia", "C", 5, 0, 15, 0, 20}},
		// Item 3: UNHCR code AUS is Austria, ISO AUT; dec_recognized "0".
		{3, dec{2000, "AUS", "AUT", "Austria", "P", 0, 0, 48, 60, 108}},
		// Item 100, the last: Austria 2002.
		{100, dec{2002, "AUS", "AUT", "Austria", "P", 0, 0, 37, 154, 191}},
	} {
		var got dec
		err := conn.QueryRowContext(context.Background(), `SELECT year, asylum_code, asylum_iso, asylum_name, cases_persons,
			dec_recognized, dec_other, dec_rejected, dec_closed, dec_total
			FROM raw_unhcr_asylum_decisions WHERE line = ?`, tc.item).Scan(&got.year, &got.coa, &got.coaISO, &got.coaName, &got.pc,
			&got.recognized, &got.other, &got.rejected, &got.closed, &got.tot)
		if err != nil {
			t.Fatalf("item %d: %v", tc.item, err)
		}
		if got != tc.want {
			t.Errorf("item %d = %+v, want %+v", tc.item, got, tc.want)
		}
	}
	// Page sums, computed from the 100 items of the real page (the page's own
	// "total" object covers all 11 pages and is not loaded).
	if got := unhcrQueryFloat(t, conn, `SELECT sum(dec_total) FROM raw_unhcr_asylum_decisions`); got != unhcrPageSum(t, "dec_total") {
		t.Errorf("sum(dec_total) = %v, want %v", got, unhcrPageSum(t, "dec_total"))
	}
	if got := unhcrQueryFloat(t, conn, `SELECT count(*) FROM raw_unhcr_asylum_decisions WHERE dec_recognized IS NULL OR dec_other IS NULL OR dec_closed IS NULL`); got != 0 {
		t.Errorf("%v NULL counts, want 0: the page's string counts are all \"0\"", got)
	}
	// UNHCR's code AUS is Austria: joining on asylum_iso through the alias
	// table gives AT; joining on the code as if it were ISO would not.
	aliases, err := filepath.Abs("../data/reference/country_aliases_unhcr.csv")
	if err != nil {
		t.Fatal(err)
	}
	var code string
	err = conn.QueryRowContext(context.Background(), `SELECT DISTINCT a.code
		FROM raw_unhcr_asylum_decisions d
		JOIN read_csv(?, header = true, all_varchar = true) a ON a.scheme = 'iso3' AND a.alias = d.asylum_iso
		WHERE d.asylum_code = 'AUS'`, aliases).Scan(&code)
	if err != nil || code != "AT" {
		t.Errorf("asylum_code AUS joins via asylum_iso to %q (err %v), want AT", code, err)
	}
}

// unhcrPageSum adds up one count of the real page's items, read
// independently of the parser through DuckDB's JSON reader.
func unhcrPageSum(t *testing.T, field string) float64 {
	t.Helper()
	conn := openTestDB(t)
	p, err := filepath.Abs(unhcrDecisionsPage)
	if err != nil {
		t.Fatal(err)
	}
	return unhcrQueryFloat(t, conn, `SELECT sum(CAST(json_extract_string(i, '$.`+field+`') AS DOUBLE))
		FROM (SELECT unnest(CAST(json_extract(content, '$.items') AS JSON[])) AS i FROM read_text(?))`, p)
}

// TestUNHCRBadInputs checks that broken files fail with an error naming the
// file, line and column. Each input is the real applications export with
// one defect introduced, written to a temporary file.
func TestUNHCRBadInputs(t *testing.T) {
	real := unhcrReadFixture(t, unhcrApplicationsCSV)
	for _, tc := range []struct {
		name   string
		file   string
		data   func() []byte
		line   int64
		column string
		value  string
		msg    string
	}{
		{
			name: "no Year header", file: "no_header.csv",
			data: func() []byte { return real[bytes.IndexByte(real, '\n')+1:] },
			line: unhcrMaxPreamble,
			msg:  `no header line starting with "Year,"`,
		},
		{
			name: "missing field", file: "short_row.csv",
			data: func() []byte {
				return bytes.Replace(real, []byte("2010,Albania,Belgium,ALB,BEL,G,N,FI,P,208\n"), []byte("2010,Albania,Belgium,ALB,BEL,G,N,FI,208\n"), 1)
			},
			line: 3, column: "applied", value: "2010,Albania,Belgium,ALB,BEL,G,N,FI,208",
			msg: "record has 9 fields, header has 10",
		},
		{
			name: "non-numeric value", file: "text_value.csv",
			data: func() []byte {
				return bytes.Replace(real, []byte("ALB,BEL,G,N,RA,P,58\n"), []byte("ALB,BEL,G,N,RA,P,\"1,058\"\n"), 1)
			},
			line: 4, column: "applied", value: "1,058",
			msg: "not a number",
		},
		{
			name: "Latin-1 instead of UTF-8", file: "latin1.csv",
			data: func() []byte { return bytes.ReplaceAll(real, []byte("Türkiye"), []byte("T\xfcrkiye")) },
			// Türkiye first appears as a country of asylum.
			line:   int64(bytes.Count(real[:bytes.Index(real, []byte("Türkiye"))], []byte("\n")) + 1),
			column: "Country of asylum", value: "T\xfcrkiye",
			msg: "invalid UTF-8",
		},
		{
			name: "cases/persons code", file: "pc.csv",
			data: func() []byte {
				return bytes.Replace(real, []byte("ALB,BEL,G,N,RA,P,58\n"), []byte("ALB,BEL,G,N,RA,X,58\n"), 1)
			},
			line: 4, column: "Cases / Persons", value: "X",
			msg: "want P (persons) or C (cases)",
		},
		{
			name: "empty file", file: "empty.csv",
			data: func() []byte { return nil },
			msg:  "is empty",
		},
		{
			name: "HTML saved as an API page", file: "page.json",
			data: func() []byte { return []byte("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>") },
			msg:  "not a UNHCR API page: body is not a JSON object",
		},
		{
			name: "string count that is not a number", file: "bad_count.json",
			data: func() []byte {
				page := unhcrReadFixture(t, unhcrDecisionsPage)
				return bytes.Replace(page, []byte(`"dec_rejected":48,`), []byte(`"dec_rejected":"48 (est.)",`), 1)
			},
			line: 3, column: "dec_rejected", value: `"48 (est.)"`,
			msg: "not a number",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := unhcrWriteTemp(t, tc.file, tc.data())
			conn := openTestDB(t)
			_, err := NewUNHCR(UNHCRConfig{Paths: []string{p}}).Load(context.Background(), conn)
			if err == nil {
				t.Fatal("load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %q, want it to name %s and say %q", err, p, tc.msg)
			}
			var re *LocatedError
			if tc.column == "" && tc.line == 0 {
				return
			}
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *LocatedError", err)
			}
			if tc.line != 0 && re.Line != tc.line {
				t.Errorf("line = %d, want %d", re.Line, tc.line)
			}
			if re.Column != tc.column || re.Value != tc.value {
				t.Errorf("column %q value %q, want column %q value %q", re.Column, re.Value, tc.column, tc.value)
			}
		})
	}
}

func TestUNHCRInputs(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.csv", "a.json", "PROVENANCE.md", "c.CSV"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		paths []string
		want  []string
		err   string
	}{
		{"directory sorted, csv and json only", []string{dir}, []string{"a.json", "b.csv", "c.CSV"}, ""},
		{"file listed twice", []string{dir, filepath.Join(dir, "b.csv")}, nil, "listed twice"},
		{"missing path", []string{filepath.Join(dir, "nope.csv")}, nil, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := NewUNHCR(UNHCRConfig{Paths: tc.paths}).Inputs(context.Background())
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, i := range in {
				got = append(got, filepath.Base(i.Path))
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("inputs = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestUNHCRDashes checks the two meanings of "-": "all" in a dimension
// column (kept) and "no data" in a count (NULL, never 0). The real files
// have no "-" in these places, so the inputs are real rows with one field
// changed: line 2 of the applications export, item 1 of the API page, and an
// asylum-applications item written with the API's field names (the project
// has no real page of that dataset).
func TestUNHCRDashes(t *testing.T) {
	csvData := bytes.Replace(unhcrReadFixture(t, unhcrApplicationsCSV),
		[]byte("2010,Albania,Austria,ALB,AUT,G,NR,FA,P,17\n"), []byte("2010,Albania,Austria,ALB,AUT,-,-,-,P,-\n"), 1)
	page := bytes.Replace(unhcrReadFixture(t, unhcrDecisionsPage),
		[]byte(`"dec_recognized":5,"dec_other":"0","dec_rejected":15,"dec_closed":"0","dec_total":20`),
		[]byte(`"dec_recognized":"5","dec_other":"-","dec_rejected":15,"dec_closed":null,"dec_total":"20"`), 1)
	apps := []byte(`{"page":1,"maxPages":1,"items":[{"year":2023,"coo_id":1,"coo_name":"Russian Federation","coo":"RUS","coo_iso":"RUS",` +
		`"coa_id":2,"coa_name":"Austria","coa":"AUS","coa_iso":"AUT","procedure_type":"G","app_type":"NA","dec_level":"-","app_pc":"P","applied":"-"}]}`)
	conn, _ := unhcrLoad(t, unhcrWriteTemp(t, "a.csv", csvData), unhcrWriteTemp(t, "d.json", page), unhcrWriteTemp(t, "apps.json", apps))
	for _, tc := range []struct {
		name, query string
		want        string
	}{
		{"CSV dimensions kept, count NULL", `SELECT concat_ws('|', authority, application_type, stage, coalesce(CAST(applied AS VARCHAR), 'NULL'))
			FROM raw_unhcr_asylum_applications WHERE file LIKE '%a.csv' AND line = 2`, "-|-|-|NULL"},
		{"JSON string counts", `SELECT concat_ws('|', dec_recognized, coalesce(CAST(dec_other AS VARCHAR), 'NULL'), dec_rejected,
			coalesce(CAST(dec_closed AS VARCHAR), 'NULL'), dec_total) FROM raw_unhcr_asylum_decisions WHERE line = 1`, "5.0|NULL|15.0|NULL|20.0"},
		{"JSON applications", `SELECT concat_ws('|', year, origin_iso, asylum_iso, authority, application_type, stage, cases_persons, coalesce(CAST(applied AS VARCHAR), 'NULL'))
			FROM raw_unhcr_asylum_applications WHERE file LIKE '%apps.json'`, "2023|RUS|AUT|G|NA|-|P|NULL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			if err := conn.QueryRowContext(context.Background(), tc.query).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestUNHCRCountryAliases checks data/reference/country_aliases_unhcr.csv
// against the files make run loads: every ISO3 code, UNHCR code and UNHCR
// name in them has exactly one alias, and the three schemes agree on every
// row (UNHCR's AUS and ISO's AUT both give AT).
func TestUNHCRCountryAliases(t *testing.T) {
	ctx := context.Background()
	conn, _ := shippedUNHCRAndMFA(t)
	aliases, err := filepath.Abs("../data/reference/country_aliases_unhcr.csv")
	if err != nil {
		t.Fatal(err)
	}
	// read_csv reads an empty field as NULL; the empty ISO code is an alias.
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE aliases AS
		SELECT scheme, coalesce(alias, '') AS alias, code, note
		FROM read_csv(?, header = true, all_varchar = true, columns = {'scheme': 'VARCHAR', 'alias': 'VARCHAR', 'code': 'VARCHAR', 'note': 'VARCHAR'})`, aliases); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE countries AS
		SELECT code, coalesce(iso3, '') AS iso3 FROM read_csv('../data/reference/countries.csv', header = true, all_varchar = true)`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, query string
	}{
		// ISO alpha-3 codes map through countries.csv or an alias; UNHCR's
		// names and own codes have aliases for the files they were written
		// for (the applications export and the API page), as a cross-check:
		// the refugees package and the decisions export are joined on ISO
		// codes only.
		{"used but missing", `WITH used(scheme, alias) AS (
				SELECT 'iso3', origin_iso FROM raw_unhcr_asylum_applications UNION SELECT 'iso3', asylum_iso FROM raw_unhcr_asylum_applications
				UNION SELECT 'iso3', origin_iso FROM raw_unhcr_asylum_decisions UNION SELECT 'iso3', asylum_iso FROM raw_unhcr_asylum_decisions
				UNION SELECT 'iso3', origin_iso FROM raw_unhcr_footnotes UNION SELECT 'iso3', asylum_iso FROM raw_unhcr_footnotes
				UNION SELECT 'mfa', issuer FROM raw_ru_mfa_published UNION SELECT 'mfa', recipient FROM raw_ru_mfa_published),
			named AS (
				SELECT a.* FROM raw_unhcr_asylum_applications a JOIN raw_unhcr_files f USING (file) WHERE f.layout IN ('rdf_asylum_applications', 'api_page')),
			named_decisions AS (
				SELECT d.* FROM raw_unhcr_asylum_decisions d JOIN raw_unhcr_files f USING (file) WHERE f.layout IN ('rdf_asylum_decisions', 'api_page')),
			used_names(scheme, alias) AS (
				SELECT 'unhcr_name', origin_name FROM named UNION SELECT 'unhcr_name', asylum_name FROM named
				UNION SELECT 'unhcr_code', origin_code FROM named_decisions WHERE origin_code <> '' UNION SELECT 'unhcr_code', asylum_code FROM named_decisions WHERE asylum_code <> ''
				UNION SELECT 'unhcr_name', origin_name FROM named_decisions WHERE origin_code <> '' UNION SELECT 'unhcr_name', asylum_name FROM named_decisions WHERE asylum_code <> ''),
			known AS (
				SELECT scheme, alias FROM aliases UNION SELECT 'iso3', iso3 FROM countries WHERE iso3 <> '')
			SELECT scheme || ':' || alias FROM (SELECT * FROM used UNION SELECT * FROM used_names) ANTI JOIN known USING (scheme, alias) ORDER BY 1`},
		{"duplicate alias", `SELECT scheme || ':' || alias FROM aliases GROUP BY scheme, alias HAVING count(*) > 1 ORDER BY 1`},
		{"bad scheme or code", `SELECT scheme || ':' || alias || '->' || coalesce(code, 'NULL') FROM aliases
			WHERE scheme NOT IN ('iso3', 'unhcr_code', 'unhcr_name', 'mfa')
			   OR NOT (regexp_full_match(coalesce(code, ''), '[A-Z]{2}') OR code IN ('STLS', 'UNK', 'WORLD', 'EU', 'TOTAL', 'TIB')) ORDER BY 1`},
		{"schemes disagree", `SELECT DISTINCT d.asylum_code || '/' || d.asylum_iso || '/' || d.asylum_name
			FROM raw_unhcr_asylum_decisions d
			JOIN aliases c ON c.scheme = 'unhcr_code' AND c.alias = d.asylum_code
			JOIN aliases i ON i.scheme = 'iso3' AND i.alias = d.asylum_iso
			JOIN aliases n ON n.scheme = 'unhcr_name' AND n.alias = d.asylum_name
			WHERE c.code <> i.code OR n.code <> i.code
			UNION
			SELECT DISTINCT a.origin_iso || '/' || a.origin_name FROM raw_unhcr_asylum_applications a
			JOIN aliases i ON i.scheme = 'iso3' AND i.alias = a.origin_iso
			JOIN aliases n ON n.scheme = 'unhcr_name' AND n.alias = a.origin_name
			WHERE n.code <> i.code ORDER BY 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := conn.QueryContext(ctx, tc.query)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var bad []string
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				bad = append(bad, s)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if len(bad) > 0 {
				t.Errorf("%d: %v", len(bad), bad)
			}
		})
	}
	var austria string
	if err := conn.QueryRowContext(ctx, `SELECT code FROM aliases WHERE scheme = 'unhcr_code' AND alias = 'AUS'`).Scan(&austria); err != nil || austria != "AT" {
		t.Errorf("unhcr_code AUS -> %q (%v), want AT (Austria)", austria, err)
	}
}
