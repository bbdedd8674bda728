package sources

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The real files shipped with the project; tests read them in place.
const (
	esAppssoApps = "../data/eurostat/migr_asyappctza_legacy-appsso-csv_labels_2012-2016.csv"
	esAppssoDec  = "../data/eurostat/migr_asydcfsta_legacy-appsso-csv_labels_2008-2016.csv"
	esSDMXDec    = "../data/eurostat/migr_asydcfsta_sdmx-csv_FR_2015-2019.csv"
	esTestdata   = "testdata/eurostat_asylum"
	esCodeLists  = "../data/reference"
)

// loadEurostatForTest loads paths into a fresh in-memory DuckDB.
func loadEurostatForTest(t *testing.T, paths ...string) (*sql.Conn, Stats) {
	t.Helper()
	ctx := context.Background()
	conn := openTestDB(t)
	st, err := NewEurostat(EurostatConfig{Paths: paths, CodeLists: esCodeLists}).Load(ctx, conn)
	if err != nil {
		t.Fatalf("load %v: %v", paths, err)
	}
	return conn, st
}

// esCell is one row of raw_eurostat_asylum as tests compare it.
type esCell struct {
	line  int64
	value sql.NullFloat64
	flags string
}

// queryEurostatCell returns the one row matching the given columns.
func queryEurostatCell(t *testing.T, conn *sql.Conn, where map[string]string) esCell {
	t.Helper()
	var conds []string
	var args []any
	for _, col := range []string{"dataset", "format", "freq", "unit", "citizen", "sex", "age", "applicant", "decision", "geo", "coding", "period"} {
		if v, ok := where[col]; ok {
			conds = append(conds, col+" = ?")
			args = append(args, v)
		}
	}
	q := "SELECT line, value, flags, count(*) OVER () FROM raw_eurostat_asylum WHERE " + strings.Join(conds, " AND ")
	var c esCell
	var n int
	if err := conn.QueryRowContext(context.Background(), q, args...).Scan(&c.line, &c.value, &c.flags, &n); err != nil {
		t.Fatalf("%v: %v", where, err)
	}
	if n != 1 {
		t.Fatalf("%v: %d rows match, want 1", where, n)
	}
	return c
}

func num(v float64) sql.NullFloat64 { return sql.NullFloat64{Float64: v, Valid: true} }

var esNull = sql.NullFloat64{}

func TestEurostatRealFigures(t *testing.T) {
	conn, st := loadEurostatForTest(t, esAppssoApps, esAppssoDec, esSDMXDec)
	if got, want := st.Tables["raw_eurostat_cells"], int64(34680+1836+23100); got != want {
		t.Errorf("rows = %d, want %d", got, want)
	}
	rus := func(year string) map[string]string {
		return map[string]string{"dataset": "migr_asyappctza", "format": "appsso_csv", "coding": "label", "citizen": "Russia",
			"geo": "European Union (28 countries)", "applicant": "NASY_APP", "sex": "T", "age": "TOTAL", "unit": "PER", "freq": "A", "period": year}
	}
	// migr_asydcfsta SDMX-CSV, geo FR, sex T, age TOTAL; lines as in the file.
	fr := func(citizen, decision, year string) map[string]string {
		return map[string]string{"dataset": "migr_asydcfsta", "format": "sdmx_csv", "coding": "code", "citizen": citizen, "decision": decision,
			"geo": "FR", "sex": "T", "age": "TOTAL", "unit": "PER", "freq": "A", "applicant": "", "period": year}
	}
	// migr_asydcfsta appsso, EU-28, Extra-EU-28 citizens, 2008 (lines 2-4).
	eu28dec := func(decision string) map[string]string {
		return map[string]string{"dataset": "migr_asydcfsta", "format": "appsso_csv", "citizen": "Extra-EU-28",
			"geo": "European Union (28 countries)", "decision": decision, "applicant": "", "period": "2008"}
	}
	tests := []struct {
		name  string
		where map[string]string
		want  esCell
	}{
		{"appsso Russia EU-28 2012", rus("2012"), esCell{line: 0, value: num(17445), flags: "d"}},
		{"appsso Russia EU-28 2013", rus("2013"), esCell{value: num(35120), flags: "d"}},
		{"appsso Russia EU-28 2014", rus("2014"), esCell{value: num(14030), flags: ""}},
		{"appsso Russia EU-28 2015", rus("2015"), esCell{value: num(18395), flags: ""}},
		{"appsso Russia EU-28 2016", rus("2016"), esCell{value: num(23050), flags: ""}},
		{"appsso Windows-1252 label decoded", map[string]string{"dataset": "migr_asyappctza", "citizen": "Côte d'Ivoire",
			"geo": "Germany (until 1990 former territory of the FRG)", "period": "2016"}, esCell{value: num(1635)}},
		{"appsso ':' is NULL, not 0", map[string]string{"dataset": "migr_asyappctza", "citizen": "Stateless", "geo": "Croatia", "period": "2012"},
			esCell{value: esNull}},
		{"appsso decisions total", eu28dec("TOTAL"), esCell{line: 2, value: num(213925)}},
		{"appsso decisions positive", eu28dec("TOTAL_POS"), esCell{line: 3, value: num(57945)}},
		{"appsso decisions rejected", eu28dec("REJECTED"), esCell{line: 4, value: num(155980)}},
		{"sdmx AF rejected 2015", fr("AF", "REJECTED", "2015"), esCell{line: 52, value: num(140)}},
		{"sdmx AF rejected 2019", fr("AF", "REJECTED", "2019"), esCell{line: 56, value: num(3250)}},
		{"sdmx AF positive 2017", fr("AF", "TOTAL_POS", "2017"), esCell{line: 59, value: num(6315)}},
		{"sdmx all citizens rejected 2019", fr("TOTAL", "REJECTED", "2019"), esCell{line: 6806, value: num(85750)}},
		{"sdmx all citizens positive 2016", fr("TOTAL", "TOTAL_POS", "2016"), esCell{line: 6808, value: num(28755)}},
		{"sdmx Syria positive 2015", fr("SY", "TOTAL_POS", "2015"), esCell{line: 6307, value: num(3110)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := queryEurostatCell(t, conn, tc.where)
			if tc.want.line == 0 {
				tc.want.line = got.line // line asserted where stated
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}

	t.Run("lines of the Russia rows", func(t *testing.T) {
		// grep -n '"European Union (28 countries)","Russia"' gives 5913, 12849, ...
		var lines string
		err := conn.QueryRowContext(context.Background(), `SELECT string_agg(line::VARCHAR, ',' ORDER BY line) FROM raw_eurostat_asylum
			WHERE citizen = 'Russia' AND geo = 'European Union (28 countries)'`).Scan(&lines)
		if err != nil {
			t.Fatal(err)
		}
		want := esGrepLines(t, esAppssoApps, `"European Union (28 countries)","Russia"`)
		if lines != want {
			t.Errorf("lines %s, want %s", lines, want)
		}
	})

	t.Run("counts per file", func(t *testing.T) {
		rows, err := conn.QueryContext(context.Background(), `SELECT file, count(*), count(value), min(line), max(line)
			FROM raw_eurostat_asylum GROUP BY file ORDER BY file`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		want := map[string][4]int64{
			esAppssoApps: {34680, 34680 - 2757, 2, 34681},
			esAppssoDec:  {1836, 1836 - 26, 2, 1837},
			esSDMXDec:    {23100, 23100, 2, 23101},
		}
		for rows.Next() {
			var f string
			var got [4]int64
			if err := rows.Scan(&f, &got[0], &got[1], &got[2], &got[3]); err != nil {
				t.Fatal(err)
			}
			if got != want[f] {
				t.Errorf("%s: rows, values, first and last line = %v, want %v", f, got, want[f])
			}
			delete(want, f)
		}
		if len(want) > 0 {
			t.Errorf("files not loaded: %v", want)
		}
	})
}

// esGrepLines returns the 1-based numbers of the lines of path holding s.
func esGrepLines(t *testing.T, path, s string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, l := range bytes.Split(b, []byte{'\n'}) {
		if bytes.Contains(l, []byte(s)) {
			out = append(out, strconv.Itoa(i+1))
		}
	}
	return strings.Join(out, ",")
}

func TestEurostatTSV(t *testing.T) {
	dir := t.TempDir()
	api := filepath.Join(esTestdata, "migr_asyappctzm_fixture_api.tsv")
	gz := filepath.Join(dir, "migr_asyappctzm_fixture_api.tsv.gz")
	writeGzipForTest(t, api, gz, -1)
	bulk := filepath.Join(esTestdata, "migr_asyappctza_fixture_bulk_geo_time_desc.tsv")
	months := filepath.Join(esTestdata, "migr_asyappctzm_fixture_bulk_months.tsv")

	type want struct {
		where map[string]string
		cell  esCell
	}
	m := func(kv ...string) map[string]string {
		out := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	apiWants := []want{
		{m("citizen", "AF", "geo", "DE", "period", "2021-10", "freq", "M", "applicant", "FRST", "decision", ""), esCell{2, num(5), "p"}},
		{m("citizen", "AF", "geo", "DE", "period", "2021-11"), esCell{2, esNull, ""}},
		{m("citizen", "AF", "geo", "DE", "period", "2021-12"), esCell{2, num(1), "ep"}},
		{m("citizen", "EL", "geo", "EU27_2020", "period", "2021-10", "sex", "F", "age", "Y_LT14", "applicant", "NASY_APP"), esCell{3, esNull, "c"}},
		{m("citizen", "EL", "geo", "EU27_2020", "period", "2021-11"), esCell{3, num(0), ""}},
		{m("citizen", "EL", "geo", "EU27_2020", "period", "2021-12"), esCell{3, num(12345), ""}},
		{m("citizen", "UK", "geo", "EL", "period", "2021-10", "applicant", "SSEQ", "age", "Y18-34", "sex", "M"), esCell{4, num(17), "e"}},
		{m("citizen", "UK", "geo", "EL", "period", "2021-12"), esCell{4, esNull, ""}},
	}
	tests := []struct {
		name   string
		path   string
		rows   int64
		wants  []want
		common map[string]string
	}{
		{"api tsv", api, 9, apiWants, m("dataset", "migr_asyappctzm", "format", "tsv", "coding", "code", "unit", "PER", "file", api)},
		{"api tsv gzip", gz, 9, apiWants, m("dataset", "migr_asyappctzm", "format", "tsv")},
		{"old bulk geo\\time descending", bulk, 6, []want{
			{m("citizen", "RU", "geo", "EU28", "period", "2016", "freq", "A", "applicant", "NASY_APP"), esCell{2, num(23050), ""}},
			{m("citizen", "RU", "geo", "EU28", "period", "2014"), esCell{2, num(14030), ""}},
			{m("citizen", "STLS", "geo", "UK", "period", "2015", "applicant", "ASY_APP", "sex", "F", "age", "Y_GE65"), esCell{3, num(5), ""}},
			{m("citizen", "STLS", "geo", "UK", "period", "2014"), esCell{3, esNull, "z"}},
		}, m("dataset", "migr_asyappctza", "format", "tsv")},
		{"old bulk monthly 2021M12", months, 2, []want{
			{m("citizen", "SY", "period", "2021-12", "freq", "M"), esCell{2, num(1035), "p"}},
			{m("citizen", "SY", "period", "2021-11", "freq", "M"), esCell{2, num(990), ""}},
		}, m("dataset", "migr_asyappctzm")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, st := loadEurostatForTest(t, tc.path)
			if st.Tables["raw_eurostat_cells"] != tc.rows {
				t.Errorf("rows = %d, want %d", st.Tables["raw_eurostat_cells"], tc.rows)
			}
			for _, w := range tc.wants {
				where := map[string]string{}
				for k, v := range tc.common {
					if k != "file" {
						where[k] = v
					}
				}
				for k, v := range w.where {
					where[k] = v
				}
				if got := queryEurostatCell(t, conn, where); got != w.cell {
					t.Errorf("%v: got %+v, want %+v", w.where, got, w.cell)
				}
			}
			if f, ok := tc.common["file"]; ok {
				var n int64
				if err := conn.QueryRowContext(context.Background(), "SELECT count(*) FROM raw_eurostat_asylum WHERE file = ?", f).Scan(&n); err != nil || n != tc.rows {
					t.Errorf("rows with file = %q: %d (%v), want %d", f, n, err, tc.rows)
				}
			}
		})
	}
}

// writeGzipForTest compresses src into dst; cut >= 0 keeps only that many
// bytes of the compressed stream.
func writeGzipForTest(t *testing.T, src, dst string, cut int) {
	t.Helper()
	b, err := os.ReadFile(src)
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
	out := buf.Bytes()
	if cut >= 0 {
		out = out[:cut]
	}
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEurostatBadInputs(t *testing.T) {
	dir := t.TempDir()
	// A truncated gzip: a synthetic file big enough to span many lines,
	// compressed, then cut in the middle.
	big := filepath.Join(dir, "migr_asyappctzm_big.tsv")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteSyntheticEurostatTSV(f, 3000, 60, 7); err != nil {
		t.Fatal(err)
	}
	f.Close()
	trunc := filepath.Join(dir, "migr_asyappctzm_truncated.tsv.gz")
	fi, _ := os.Stat(big)
	writeGzipForTest(t, big, trunc, -1)
	zfi, _ := os.Stat(trunc)
	writeGzipForTest(t, big, trunc, int(zfi.Size()/2))
	_ = fi
	bad := func(name string) string { return filepath.Join(esTestdata, "bad", name) }

	tests := []struct {
		name       string
		path       string
		is         error
		line       int64 // 0: any line after the header
		column     int   // 0: any column
		msgHasPart string
	}{
		{"ragged tsv row", bad("migr_asyappctzm_ragged.tsv"), ErrEurostatRagged, 3, 3, "found 2 fields, want 3"},
		{"unknown flag letter", bad("migr_asyappctzm_unknown_flag.tsv"), ErrEurostatUnknownFlag, 2, 3, `"x"`},
		{"sdmx not utf-8", bad("migr_asydcfsta_sdmx_latin1.csv"), ErrEurostatEncoding, 3, 5, "citizen"},
		{"appsso unknown sex label", bad("migr_asyappctza_appsso_unknown_sex.csv"), ErrEurostatUnknownLabel, 3, 4, `"Other"`},
		{"truncated gzip", trunc, ErrTruncated, 0, 0, "truncated"},
		{"tsv series repeated", bad("migr_asyappctzm_repeated_series.tsv"), ErrEurostatDuplicate, 4, 1, "repeats line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn := openTestDB(t)
			_, err := NewEurostat(EurostatConfig{Paths: []string{tc.path}, CodeLists: esCodeLists}).Load(context.Background(), conn)
			var pe *LocatedError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want *LocatedError", err, err)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %v, want it to wrap %v", err, tc.is)
			}
			if pe.File != tc.path {
				t.Errorf("file %q, want %q", pe.File, tc.path)
			}
			if tc.line > 0 && pe.Line != tc.line || pe.Line < 2 {
				t.Errorf("line %d, want %d", pe.Line, tc.line)
			}
			if col, _ := strconv.Atoi(pe.Column); tc.column > 0 && col != tc.column || col < 1 {
				t.Errorf("column %s, want %d", pe.Column, tc.column)
			}
			msg := err.Error()
			for _, part := range []string{tc.path, "line " + strconv.Itoa(int(pe.Line)), "column " + pe.Column, tc.msgHasPart} {
				if !strings.Contains(msg, part) {
					t.Errorf("message %q does not contain %q", msg, part)
				}
			}
		})
	}

	t.Run("no dataset id in the name", func(t *testing.T) {
		conn := openTestDB(t)
		_, err = NewEurostat(EurostatConfig{Paths: []string{bad("asylum_monthly_no_dataset_id.tsv")}, CodeLists: esCodeLists}).Load(context.Background(), conn)
		if err == nil || !strings.Contains(err.Error(), "migr_asyappctza") {
			t.Errorf("error %v, want one that asks for the dataset id in the file name", err)
		}
	})
}

func TestEurostatInputs(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b_migr_x.tsv.gz", "a_migr_x.csv", "notes.txt", "c_migr_x.TSV", "d.csv.gz"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()
	tests := []struct {
		name    string
		paths   []string
		want    []string
		wantErr string
	}{
		{"directory sorted and filtered", []string{dir}, []string{"eurostat_codes.csv", "eurostat_flags.csv", "a_migr_x.csv", "b_migr_x.tsv.gz", "c_migr_x.TSV", "d.csv.gz"}, ""},
		{"file as given", []string{filepath.Join(dir, "notes.txt")}, []string{"eurostat_codes.csv", "eurostat_flags.csv", "notes.txt"}, ""},
		{"empty directory", []string{empty}, nil, "holds no"},
		{"missing path", []string{filepath.Join(dir, "nope.csv")}, nil, "no such file"},
		{"twice", []string{dir, filepath.Join(dir, "a_migr_x.csv")}, nil, "configured twice"},
		{"nothing configured", nil, nil, "no paths"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := NewEurostat(EurostatConfig{Paths: tc.paths, CodeLists: esCodeLists}).Inputs(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
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
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEurostatLoadCancelled(t *testing.T) {
	conn := openTestDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := NewEurostat(EurostatConfig{Paths: []string{esSDMXDec}, CodeLists: esCodeLists}).Load(ctx, conn)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// testCodeLists reads the shipped code lists.
func testCodeLists(t testing.TB) *eurostatCodeLists {
	t.Helper()
	cl, err := readEurostatCodeLists(esCodeLists, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func TestEurostatFlagCodelist(t *testing.T) {
	cl := testCodeLists(t)
	b, err := os.ReadFile(filepath.Join(esTestdata, "codelist_obs_flag.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		code, _, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		n++
		if i := cl.cellFlags.check([]byte(code)); i >= 0 {
			t.Errorf("flag %q of the code list is rejected at %d", code, i)
		}
	}
	if n < 40 {
		t.Errorf("read %d codes from the code list, want at least 40", n)
	}
	for _, ok := range []string{"c", "C", "N", "P", "s", "z", "r", "ep", "pC", ""} {
		if cl.cellFlags.check([]byte(ok)) >= 0 {
			t.Errorf("flag %q rejected", ok)
		}
	}
	for _, bad := range []string{"x", "S", "e p", ":", "1", "é"} {
		if cl.cellFlags.check([]byte(bad)) < 0 {
			t.Errorf("flag %q accepted", bad)
		}
	}
	// CONF_STATUS takes the confidentiality letters only.
	for f, want := range map[string]int{"C": -1, "N": -1, "P": -1, "c": 0, "p": 0, "CX": 1} {
		if got := cl.confFlags.check([]byte(f)); got != want {
			t.Errorf("CONF_STATUS %q: check %d, want %d", f, got, want)
		}
	}
}

func TestEurostatCountryAliases(t *testing.T) {
	f, err := os.Open("../data/reference/country_aliases_eurostat.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "scheme,alias,code" {
		t.Fatalf("header %v", recs[0])
	}
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	alias := map[string]string{}
	for i, r := range recs[1:] {
		if r[0] != "eurostat_code" && r[0] != "eurostat_label" {
			t.Errorf("line %d: scheme %q", i+2, r[0])
		}
		k := r[0] + "|" + norm(r[1])
		if _, dup := alias[k]; dup {
			t.Errorf("line %d: %s %q appears twice", i+2, r[0], r[1])
		}
		alias[k] = r[2]
	}
	for _, tc := range []struct{ scheme, alias, code string }{
		{"eurostat_code", "EL", "GR"}, {"eurostat_code", "UK", "GB"}, {"eurostat_code", "XK", "XK"},
		{"eurostat_code", "EU27_2020", "EU27_2020"}, {"eurostat_code", "EXT_EU27_2020", "EXT_EU27_2020"}, {"eurostat_code", "STLS", "STLS"},
		{"eurostat_label", "Germany (until 1990 former territory of the FRG)", "DE"},
		{"eurostat_label", "European Union (28 countries)", "EU28"}, {"eurostat_label", "Stateless", "STLS"},
		{"eurostat_label", "Greece", "GR"}, {"eurostat_label", "United Kingdom", "GB"}, {"eurostat_label", "Côte d'Ivoire", "CI"},
	} {
		if got := alias[tc.scheme+"|"+norm(tc.alias)]; got != tc.code {
			t.Errorf("%s %q -> %q, want %q", tc.scheme, tc.alias, got, tc.code)
		}
	}
	// Completeness: every citizen and geo of the shipped files.
	conn, _ := loadEurostatForTest(t, "../data/eurostat")
	rows, err := conn.QueryContext(context.Background(), `SELECT DISTINCT coding, x FROM raw_eurostat_asylum, unnest([citizen, geo]) AS u(x) ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var coding, x string
		if err := rows.Scan(&coding, &x); err != nil {
			t.Fatal(err)
		}
		n++
		if _, ok := alias["eurostat_"+coding+"|"+norm(x)]; !ok {
			t.Errorf("no eurostat_%s alias for %q", coding, x)
		}
	}
	if n < 200 {
		t.Errorf("checked %d distinct citizens and geos, want over 200", n)
	}
}

func TestEurostatSynthetic(t *testing.T) {
	var a, b bytes.Buffer
	if err := WriteSyntheticEurostatTSV(&a, 2000, 30, 42); err != nil {
		t.Fatal(err)
	}
	if err := WriteSyntheticEurostatTSV(&b, 2000, 30, 42); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same arguments gave different files")
	}
	if !strings.HasPrefix(a.String(), "freq,unit,citizen,sex,age,applicant,geo\\TIME_PERIOD\t2008-01 \t2008-02 ") {
		t.Errorf("header %q", a.String()[:80])
	}
	path := filepath.Join(t.TempDir(), "migr_asyappctzm_synthetic.tsv")
	if err := os.WriteFile(path, a.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	conn, st := loadEurostatForTest(t, path)
	if st.Tables["raw_eurostat_cells"] != 2000*30 {
		t.Fatalf("rows %d, want %d", st.Tables["raw_eurostat_cells"], 2000*30)
	}
	var nulls, flagged, citizens, geos int
	err := conn.QueryRowContext(context.Background(), `SELECT count(*) FILTER (value IS NULL), count(*) FILTER (flags <> ''),
		count(DISTINCT citizen), count(DISTINCT geo) FROM raw_eurostat_asylum`).Scan(&nulls, &flagged, &citizens, &geos)
	if err != nil {
		t.Fatal(err)
	}
	if frac := float64(nulls) / float64(st.Tables["raw_eurostat_cells"]); frac < 0.12 || frac > 0.18 {
		t.Errorf("NULL share %.3f, want about 0.15", frac)
	}
	if flagged == 0 || citizens < 100 || geos < 30 {
		t.Errorf("flagged %d, citizens %d, geos %d", flagged, citizens, geos)
	}
	if err := WriteSyntheticEurostatTSV(&a, 1_000_000, 10, 1); err == nil {
		t.Error("more series than combinations accepted")
	}
	if err := WriteSyntheticEurostatTSV(&a, 10, 12*200, 1); err == nil {
		t.Error("periods up to 2207 accepted: the loader refuses years after next year")
	}
}

// TestEurostatNormalisedStorage checks how cells are stored: one series row
// per published series, narrow cell rows that carry a line only where it is
// not their series' line, shared period and flag numbers, and a view that
// gives back one row per cell.
func TestEurostatNormalisedStorage(t *testing.T) {
	api := filepath.Join(esTestdata, "migr_asyappctzm_fixture_api.tsv")
	conn, st := loadEurostatForTest(t, api, esSDMXDec)
	ctx := context.Background()
	one := func(q string, dst ...any) {
		t.Helper()
		if err := conn.QueryRowContext(ctx, q).Scan(dst...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// Series: the TSV's data lines, and the SDMX file's distinct
	// dimension combinations, counted independently from the view.
	var tsvLines int64
	b, err := os.ReadFile(api)
	if err != nil {
		t.Fatal(err)
	}
	tsvLines = int64(bytes.Count(bytes.TrimRight(b, "\n"), []byte{'\n'}))
	var sdmxSeries, series, ids int64
	one(`SELECT count(*) FROM (SELECT DISTINCT unit, citizen, sex, age, decision, geo FROM raw_eurostat_asylum WHERE format = 'sdmx_csv')`, &sdmxSeries)
	one(`SELECT count(*), count(DISTINCT series_id) FROM raw_eurostat_series`, &series, &ids)
	if series != tsvLines+sdmxSeries || ids != series || st.Tables["raw_eurostat_series"] != series {
		t.Errorf("series rows %d (distinct ids %d, reported %d), want %d TSV lines + %d SDMX series",
			series, ids, st.Tables["raw_eurostat_series"], tsvLines, sdmxSeries)
	}
	// Lines: never stored for TSV cells; for SDMX cells stored except for
	// the cell on which the series was first seen.
	var tsvStored, sdmxNull int64
	one(`SELECT count(c.line) FROM raw_eurostat_cells c JOIN raw_eurostat_series s USING (series_id) WHERE s.format = 'tsv'`, &tsvStored)
	one(`SELECT count(*) - count(c.line) FROM raw_eurostat_cells c JOIN raw_eurostat_series s USING (series_id) WHERE s.format = 'sdmx_csv'`, &sdmxNull)
	if tsvStored != 0 || sdmxNull != sdmxSeries {
		t.Errorf("stored lines: %d TSV cells (want 0), %d SDMX cells without a line (want %d, one per series)", tsvStored, sdmxNull, sdmxSeries)
	}
	// The view has exactly one row per cell and every SDMX line once.
	var cells, view, sdmxLines, sdmxDistinct int64
	one(`SELECT count(*) FROM raw_eurostat_cells`, &cells)
	one(`SELECT count(*) FROM raw_eurostat_asylum`, &view)
	one(`SELECT count(line), count(DISTINCT line) FROM raw_eurostat_asylum WHERE format = 'sdmx_csv'`, &sdmxLines, &sdmxDistinct)
	if view != cells || cells != st.Tables["raw_eurostat_cells"] || sdmxLines != sdmxDistinct || sdmxLines != 23100 {
		t.Errorf("cells %d, view rows %d, reported %d; SDMX lines %d (distinct %d), want 23100", cells, view, st.Tables["raw_eurostat_cells"], sdmxLines, sdmxDistinct)
	}
	// Periods: one number per period across both files, with freq, year
	// and month.
	var periods, distinct int64
	one(`SELECT count(*), count(DISTINCT period) FROM raw_eurostat_periods`, &periods, &distinct)
	if periods != distinct {
		t.Errorf("%d period rows for %d periods", periods, distinct)
	}
	var freq string
	var year int
	var month sql.NullInt64
	one(`SELECT freq, year, month FROM raw_eurostat_periods WHERE period = '2021-12'`, &freq, &year, &month)
	if freq != "M" || year != 2021 || month.Int64 != 12 || !month.Valid {
		t.Errorf("2021-12: freq %s year %d month %v", freq, year, month)
	}
	one(`SELECT freq, year, month FROM raw_eurostat_periods WHERE period = '2019'`, &freq, &year, &month)
	if freq != "A" || year != 2019 || month.Valid {
		t.Errorf("2019: freq %s year %d month %v", freq, year, month)
	}
}

// TestEurostatUnknownCode: a code the code list does not hold stops the
// load with an error naming dataset, dimension, code, file, line and the
// code list to update. SUBS is such a code: subsequent applicants are SSEQ.
func TestEurostatUnknownCode(t *testing.T) {
	dir := t.TempDir()
	api := filepath.Join(esTestdata, "migr_asyappctzm_fixture_api.tsv")
	b, err := os.ReadFile(api)
	if err != nil {
		t.Fatal(err)
	}
	subs := filepath.Join(dir, "migr_asyappctzm_subs.tsv")
	if err := os.WriteFile(subs, bytes.Replace(b, []byte(",SSEQ,"), []byte(",SUBS,"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	sdmx, err := os.ReadFile(filepath.Join(esTestdata, "migr_asydcfsta_sdmx_excerpt.csv"))
	if err != nil {
		t.Fatal(err)
	}
	newDec := filepath.Join(dir, "migr_asydcfsta_new_code.csv")
	if err := os.WriteFile(newDec, bytes.Replace(sdmx, []byte(",REJECTED,"), []byte(",POS_XYZ,"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	appsso, err := os.ReadFile(filepath.Join(esTestdata, "migr_asyappctza_appsso_excerpt.csv"))
	if err != nil {
		t.Fatal(err)
	}
	label := filepath.Join(dir, "migr_asyappctza_label.csv")
	if err := os.WriteFile(label, bytes.Replace(appsso, []byte("First time applicant"), []byte("Repeat applicant"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	codes := filepath.Join(esCodeLists, "eurostat_codes.csv")
	tests := []struct {
		name  string
		path  string
		line  int64
		parts []string
	}{
		{"tsv SUBS", subs, 4, []string{"line 4", "column 1 (applicant)", `(found "SUBS")`, `applicant code "SUBS" of dataset migr_asyappctzm`, codes}},
		{"sdmx new decision", newDec, 2, []string{"line 2", "(decision)", `decision code "POS_XYZ" of dataset migr_asydcfsta`, codes}},
		{"appsso new label", label, 2, []string{"line 2", "(ASYL_APP)", `applicant label "Repeat applicant" of dataset migr_asyappctza`, codes}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewEurostat(EurostatConfig{Paths: []string{tc.path}, CodeLists: esCodeLists}).Load(context.Background(), openTestDB(t))
			var pe *LocatedError
			if !errors.As(err, &pe) || !errors.Is(err, ErrEurostatUnknownLabel) {
				t.Fatalf("error %v, want a *LocatedError for an unknown code", err)
			}
			if pe.File != tc.path || pe.Line != tc.line {
				t.Errorf("located at %s line %d, want %s line %d", pe.File, pe.Line, tc.path, tc.line)
			}
			for _, p := range append(tc.parts, tc.path) {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("message %q does not contain %q", err, p)
				}
			}
		})
	}
}

// TestEurostatConfStatus reads an SDMX-CSV of the current API: the
// CONF_STATUS letters follow the OBS_FLAG letters in flags, and a letter
// that is not a confidentiality status is an error.
func TestEurostatConfStatus(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(esTestdata, "migr_asydcfsta_sdmx_excerpt.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	edit := func(conf map[int]string, flag map[int]string) string {
		out := []string{lines[0] + ",CONF_STATUS"}
		for i, l := range lines[1:] {
			if f, ok := flag[i+2]; ok {
				l = strings.TrimSuffix(l, ",") + "," + f
			}
			out = append(out, l+","+conf[i+2])
		}
		p := filepath.Join(t.TempDir(), "migr_asydcfsta_conf.csv")
		if err := os.WriteFile(p, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := edit(map[int]string{2: "C", 3: "N"}, map[int]string{2: "p", 4: "i"})
	conn, _ := loadEurostatForTest(t, good)
	rows, err := conn.QueryContext(context.Background(), `SELECT line, flags FROM raw_eurostat_asylum WHERE line <= 5 ORDER BY line`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var line int
		var flags string
		if err := rows.Scan(&line, &flags); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%s", line, flags))
	}
	rows.Close()
	if want := "2:pC 3:N 4:i 5:"; strings.Join(got, " ") != want {
		t.Errorf("flags %q, want %q", strings.Join(got, " "), want)
	}

	bad := edit(map[int]string{3: "c"}, nil)
	_, err = NewEurostat(EurostatConfig{Paths: []string{bad}, CodeLists: esCodeLists}).Load(context.Background(), openTestDB(t))
	var pe *LocatedError
	if !errors.As(err, &pe) || !errors.Is(err, ErrEurostatUnknownFlag) || pe.Line != 3 || pe.Header != "CONF_STATUS" ||
		!strings.Contains(err.Error(), "eurostat_flags.csv") {
		t.Errorf("error %v, want an unknown flag at line 3 column CONF_STATUS naming eurostat_flags.csv", err)
	}
}

// TestEurostatCodeListErrors: a malformed line of a code list stops the
// load with file, line and column.
func TestEurostatCodeListErrors(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(esCodeLists, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	codes, flags := read(EurostatCodesFile), read(EurostatFlagsFile)
	tests := []struct {
		name         string
		file         string
		from, to     string // the edit
		line         int
		column, want string
	}{
		{"unknown dimension", EurostatCodesFile, "freq,A,all,,Annual,", "frequency,A,all,,Annual,", 2, "dimension", "expected freq, unit"},
		{"code twice", EurostatCodesFile, "sex,F,all,,Females,Females", "sex,M,all,,Females,Females", 8, "code", "listed twice"},
		{"decision without indicator", EurostatCodesFile, "decision,NEG,current,decisions_rejected,", "decision,NEG,current,,", 35, "indicator", "need the indicator"},
		{"bad generation", EurostatCodesFile, "applicant,SSEQ,all,", "applicant,SSEQ,new,", 23, "generation", "all, legacy or current"},
		{"label twice", EurostatCodesFile, "applicant,ASY_APP,legacy,asylum_applicants,Asylum applicant,Asylum applicant",
			"applicant,ASY_APP,legacy,asylum_applicants,Asylum applicant,First time applicant", 20, "appsso_label", "already given to another code on line 19"},
		{"lower-case conf_status", EurostatFlagsFile, "C,conf_status,", "x,conf_status,", 11, "letter", "upper case"},
		{"canonical letter unknown", EurostatFlagsFile, "s,legacy,Eurostat estimate,i,", "s,legacy,Eurostat estimate,q,", 15, "canonical_letter", "gives itself"},
		{"canonical meaning differs", EurostatFlagsFile, "c,legacy,confidential,C,confidential,", "c,legacy,confidential,C,secret,", 14, "canonical_meaning", "line 11 gives C"},
		{"bad date", EurostatFlagsFile, "r,legacy,revised,r,revised,,2025-01-26", "r,legacy,revised,r,revised,,26/01/2025", 17, "valid_to", "YYYY-MM-DD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c, f := codes, flags
			src := &c
			if tc.file == EurostatFlagsFile {
				src = &f
			}
			if !strings.Contains(*src, tc.from) {
				t.Fatalf("%s has no %q", tc.file, tc.from)
			}
			*src = strings.Replace(*src, tc.from, tc.to, 1)
			for name, body := range map[string]string{EurostatCodesFile: c, EurostatFlagsFile: f} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := NewEurostat(EurostatConfig{Paths: []string{esSDMXDec}, CodeLists: dir}).Load(context.Background(), openTestDB(t))
			var ce *LocatedError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want a *LocatedError", err, err)
			}
			if ce.File != filepath.Join(dir, tc.file) || ce.Line != int64(tc.line) || ce.Column != tc.column || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v at %s line %d column %s, want %s line %d column %s saying %q", err, ce.File, ce.Line, ce.Column, tc.file, tc.line, tc.column, tc.want)
			}
		})
	}
}
