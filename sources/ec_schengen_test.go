package sources

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	_ "github.com/marcboeker/go-duckdb"
	"github.com/xuri/excelize/v2"

	"github.com/visastats/visastats/sources/ectest"
)

const ecDataDir = "../data/ec_schengen_consulates"

func sumCol(sh *ECSheet, host string, indicators ...string) int64 {
	idx := map[string]int{}
	for i, name := range ECIndicators() {
		idx[name] = i
	}
	var n int64
	for _, r := range sh.Rows {
		if host != "" && r.HostCountry != host {
			continue
		}
		for _, ind := range indicators {
			n += r.Counts[idx[ind]]
		}
	}
	return n
}

// TestECSchengenRealFigures checks published figures against every shipped
// workbook: Russia's applications (D+I) and the worldwide uniform visa
// applications (column I), and that each file reconciles with its footer.
func TestECSchengenRealFigures(t *testing.T) {
	tests := []struct {
		year             string
		russiaD_I        int64
		russiaI          int64
		worldwideI       int64
		russiaNotIssued  int64 // N
		russiaUniformIss int64 // J
		russiaLTV        int64 // M
	}{
		{year: "2021", russiaD_I: 536287},
		{year: "2022", russiaD_I: 687264, russiaI: 687239, worldwideI: 7572755},
		{year: "2023", russiaD_I: 520402, russiaI: 520387, worldwideI: 10327572,
			russiaNotIssued: 54293, russiaUniformIss: 448890, russiaLTV: 10308},
	}
	for _, tt := range tests {
		t.Run(tt.year, func(t *testing.T) {
			sh := shippedECSheet(t, ectest.File(t, tt.year))
			if got := sumCol(sh, "RUSSIAN FEDERATION", "atv_applied", "uniform_applied"); got != tt.russiaD_I {
				t.Errorf("Russia D+I = %d, want %d", got, tt.russiaD_I)
			}
			if tt.russiaI != 0 {
				if got := sumCol(sh, "RUSSIAN FEDERATION", "uniform_applied"); got != tt.russiaI {
					t.Errorf("Russia I = %d, want %d", got, tt.russiaI)
				}
			}
			if tt.worldwideI != 0 {
				if got := sumCol(sh, "", "uniform_applied"); got != tt.worldwideI {
					t.Errorf("worldwide I = %d, want %d", got, tt.worldwideI)
				}
			}
			if tt.russiaNotIssued != 0 {
				for ind, want := range map[string]int64{"uniform_not_issued": tt.russiaNotIssued, "uniform_issued": tt.russiaUniformIss, "ltv_issued": tt.russiaLTV} {
					if got := sumCol(sh, "RUSSIAN FEDERATION", ind); got != want {
						t.Errorf("Russia %s = %d, want %d", ind, got, want)
					}
				}
			}
		})
	}
}

// TestECSchengenEveryShippedYear reads every shipped workbook, 2009-2024
// (.xls and .xlsx, five layouts), and checks the figures computed from the
// cells independently (xlrd, openpyxl; ../shared/docs/EC_WORKBOOKS.md):
// consulates located in Russia and all consulates of the Schengen States,
// with the non-Schengen States (2009's flagged rows, 2010's sheet) apart.
// Each data sheet reconciles with its footer, and the publisher's errors
// are listed where they are, and nowhere else.
func TestECSchengenEveryShippedYear(t *testing.T) {
	src := NewECSchengen(ECSchengenConfig{Path: ecDataDir, Layouts: esCodeLists}, UpstreamIssuesConfig{})
	inputs, err := src.workbooks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var years []int
	for _, in := range inputs {
		years = append(years, in.Year)
	}
	if want := []int{2009, 2010, 2012, 2013, 2014, 2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024}; !slices.Equal(years, want) {
		t.Fatalf("shipped years %v, want %v", years, want)
	}
	type figures struct {
		layout                         string
		ruApplied, ruIssued, ruRefused int64 // C visas; refused: A+B+C in 2009-2010
		ruMEV                          int64
		allApplied, allIssued          int64          // Schengen States only, withheld cells left out
		issues                         map[string]int // by sheet and kind
	}
	want := map[int]figures{
		2009: {layout: "statistiques_2009", ruApplied: 3241940, ruIssued: 3170652, ruRefused: 57718, allApplied: 10221347, allIssued: 9420896,
			issues: map[string]int{"Visa Statistics 2009 footer_total": 9}},
		2010: {layout: "synthese_2010", ruApplied: 4222551, ruIssued: 4120704, ruRefused: 56433, ruMEV: 1753536, allApplied: 11812352, allIssued: 11018936,
			issues: map[string]int{"SCHENGEN footer_total": 1, "SCHENGEN negative_count": 1, "NON SCHENGEN footer_total": 5}},
		2012: {layout: "synthese_2012", ruApplied: 6069001, ruIssued: 5939644, ruRefused: 54860, ruMEV: 2906259, allApplied: 15116973, allIssued: 14250595},
		2013: {layout: "consulates", ruApplied: 6995221, ruIssued: 6893346, ruRefused: 70435, ruMEV: 3768254, allApplied: 17285449, allIssued: 16184173 + 173,
			issues: map[string]int{"Complete data footer_total": 1, "Complete data negative_count": 6}},
		2014: {layout: "consulates", ruApplied: 5768182, ruIssued: 5702624, ruRefused: 54088, ruMEV: 3420557, allApplied: 16725908, allIssued: 15684796},
		2016: {layout: "consulates", allApplied: 15192502},
		2024: {layout: "consulates", allApplied: 11716723, issues: map[string]int{"Data for consulates footer_total": 1}},
	}
	for _, in := range inputs {
		wb, err := ReadECWorkbook(in.Path, testLayouts(t))
		if err != nil {
			t.Errorf("%d: %v", in.Year, err)
			continue
		}
		issues := map[string]int{}
		for _, sh := range wb.Sheets {
			if len(sh.Rows) < 250 {
				t.Errorf("%d sheet %q: only %d data rows", in.Year, sh.Name, len(sh.Rows))
			}
			for k := range ECIndicators() {
				var sum int64
				for _, r := range sh.Rows {
					if r.Counts[k] < 0 {
						t.Errorf("%d row %d: negative count published", in.Year, r.Row)
					}
					sum += r.Counts[k]
				}
				if sum != sh.Total.Counts[k] {
					t.Errorf("%d sheet %q %s: rows sum to %d, total row %d", in.Year, sh.Name, ECIndicators()[k], sum, sh.Total.Counts[k])
				}
			}
			for _, is := range sh.Issues {
				issues[sh.Name+" "+is.Kind]++
			}
		}
		w, ok := want[in.Year]
		if !ok {
			if len(issues) != 0 || wb.Layout != "consulates" {
				t.Errorf("%d: layout %s, issues %v; want the 2013-2024 layout and none", in.Year, wb.Layout, issues)
			}
			continue
		}
		if wb.Layout != w.layout {
			t.Errorf("%d: layout %s, want %s", in.Year, wb.Layout, w.layout)
		}
		if !maps.Equal(issues, w.issues) && len(issues)+len(w.issues) > 0 {
			t.Errorf("%d: issues %v, want %v", in.Year, issues, w.issues)
		}
		var ru, all figures
		refused := "uniform_not_issued"
		if w.layout == "statistiques_2009" || w.layout == "synthese_2010" {
			refused = "abc_not_issued"
		}
		idx := func(name string) int { return slices.Index(ECIndicators(), name) }
		for _, sh := range wb.Sheets {
			for _, r := range sh.Rows {
				if !r.Schengen {
					continue
				}
				all.allApplied += r.Counts[idx("uniform_applied")]
				all.allIssued += r.Counts[idx("uniform_issued")]
				if r.HostCountry == "RUSSIAN FEDERATION" {
					ru.ruApplied += r.Counts[idx("uniform_applied")]
					ru.ruIssued += r.Counts[idx("uniform_issued")]
					ru.ruRefused += r.Counts[idx(refused)]
					ru.ruMEV += r.Counts[idx("uniform_mev_issued")]
				}
			}
		}
		got := figures{layout: w.layout, issues: w.issues, allApplied: all.allApplied, allIssued: all.allIssued,
			ruApplied: ru.ruApplied, ruIssued: ru.ruIssued, ruRefused: ru.ruRefused, ruMEV: ru.ruMEV}
		for name, pair := range map[string][2]int64{
			"Russia C applied": {got.ruApplied, w.ruApplied}, "Russia C issued": {got.ruIssued, w.ruIssued},
			"Russia not issued": {got.ruRefused, w.ruRefused}, "Russia MEVs": {got.ruMEV, w.ruMEV},
			"all C applied": {got.allApplied, w.allApplied}, "all C issued": {got.allIssued, w.allIssued},
		} {
			if pair[1] != 0 && pair[0] != pair[1] {
				t.Errorf("%d %s = %d, want %d", in.Year, name, pair[0], pair[1])
			}
		}
	}
}

// TestECSchengenCellAnchors checks single cells of the .xls and old .xlsx
// layouts against the values xlrd and openpyxl read from them.
func TestECSchengenCellAnchors(t *testing.T) {
	tests := []struct {
		year      string
		sheet     string
		row       int
		indicator string
		want      int64
		host      string
	}{
		{"2009", "Visa Statistics 2009", 1806, "uniform_applied", 546487, "RUSSIAN FEDERATION"},
		{"2009", "Visa Statistics 2009", 1806, "uniform_issued", 542481, "RUSSIAN FEDERATION"},
		{"2010", "SCHENGEN", 68, "uniform_issued", 111948, "RUSSIAN FEDERATION"},
		{"2010", "SCHENGEN", 1037, "uniform_applied", 743504, "RUSSIAN FEDERATION"},
		{"2010", "SCHENGEN", 1037, "uniform_issued", 738505, "RUSSIAN FEDERATION"},
		{"2012", "Sheet1", 1406, "uniform_applied", 1030968, "RUSSIAN FEDERATION"},
		{"2012", "Sheet1", 1406, "uniform_issued", 1022443, "RUSSIAN FEDERATION"},
		{"2013", "Complete data", 2, "uniform_applied", 1204670, "RUSSIAN FEDERATION"},
		{"2013", "Complete data", 2, "uniform_issued", 1195130, "RUSSIAN FEDERATION"},
		{"2014", ECSchengenSheet, 2, "uniform_applied", 914314, "RUSSIAN FEDERATION"},
	}
	for _, tt := range tests {
		wb, err := ReadECWorkbook(ectest.File(t, tt.year), testLayouts(t))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, sh := range wb.Sheets {
			for _, r := range sh.Rows {
				if sh.Name == tt.sheet && r.Row == tt.row {
					found = true
					if got := r.Counts[slices.Index(ECIndicators(), tt.indicator)]; got != tt.want || r.HostCountry != tt.host {
						t.Errorf("%s %s row %d %s = %d in %s, want %d in %s", tt.year, tt.sheet, tt.row, tt.indicator, got, r.HostCountry, tt.want, tt.host)
					}
				}
			}
		}
		if !found {
			t.Errorf("%s: no data row %d on sheet %q", tt.year, tt.row, tt.sheet)
		}
	}
}

// TestECSchengenLayoutByHeaders loads a legacy workbook under a name and
// year that say nothing of its layout: the header decides.
func TestECSchengenLayoutByHeaders(t *testing.T) {
	body, err := os.ReadFile(ectest.File(t, "2009"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "visa-stats-2031.bin")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	wb, err := ReadECWorkbook(path, testLayouts(t))
	if err != nil {
		t.Fatal(err)
	}
	if wb.Layout != "statistiques_2009" || len(wb.Data().Rows) != 2532 {
		t.Errorf("layout %s with %d rows, want statistiques_2009 with 2532", wb.Layout, len(wb.Data().Rows))
	}
	nonSchengen := 0
	for _, r := range wb.Data().Rows {
		if !r.Schengen {
			nonSchengen++
		}
	}
	if nonSchengen != 274 {
		t.Errorf("%d rows of non-Schengen States, want 274 (Bulgaria, Cyprus, Romania)", nonSchengen)
	}
}

// TestECSchengenNegativeWithheld: a negative count in a data row is not
// published as a count; the cell is listed with its value and place, and
// the footer total that includes it is explained.
func TestECSchengenNegativeWithheld(t *testing.T) {
	sh := shippedECSheet(t, ectest.File(t, "2023"))
	d := slices.Index(ECIndicators(), "atv_applied")
	printed := sh.Total.Counts[d]
	var orig int64
	for _, r := range sh.Rows {
		if r.Row == 3 {
			orig = r.Counts[d]
		}
	}
	path := ectest.Edit(t, "2023", func(f *excelize.File) error {
		if err := f.SetCellValue(ECSchengenSheet, "D3", -4); err != nil {
			return err
		}
		return f.SetCellValue(ECSchengenSheet, fmt.Sprintf("D%d", sh.Total.Row), printed-orig-4)
	})
	got, err := readECSheet(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rows[1].Counts[d] != 0 || !slices.Contains(got.Rows[1].Withheld, d) || got.Total.Counts[d] != printed-orig {
		t.Errorf("row 3 D = %d (withheld %v), total %d; want withheld, total %d", got.Rows[1].Counts[d], got.Rows[1].Withheld, got.Total.Counts[d], printed-orig)
	}
	kinds := map[string]ECIssue{}
	for _, is := range got.Issues {
		kinds[is.Kind] = is
	}
	neg, foot := kinds[IssueNegativeCount], kinds[IssueFooterTotal]
	if neg.Cell != "D3" || neg.Printed != -4 || neg.Handling != HandlingWithheld || !strings.Contains(neg.Location, "/") {
		t.Errorf("negative cell issue = %+v", neg)
	}
	if foot.Cell != fmt.Sprintf("D%d", sh.Total.Row) || foot.Printed != printed-orig-4 || foot.DataRows != printed-orig ||
		!strings.Contains(foot.Explanation, "D3 -4") {
		t.Errorf("footer issue = %+v", foot)
	}
}

func TestECSchengenLoad(t *testing.T) {
	conn := openTestDB(t)
	ctx := context.Background()
	src := NewECSchengen(ECSchengenConfig{Layouts: esCodeLists, Files: []ECSchengenFile{
		{Path: ectest.File(t, "2022"), Year: 2022},
		{Path: ectest.File(t, "2023"), Year: 2023},
	}}, UpstreamIssuesConfig{Path: "../data/curated/upstream_issues.csv"})
	st, err := src.Load(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if st.Tables["raw_ec_schengen_totals"] != 2 {
		t.Errorf("totals rows = %d, want 2", st.Tables["raw_ec_schengen_totals"])
	}
	var got int64
	err = conn.QueryRowContext(ctx, `SELECT sum(atv_applied + uniform_applied) FROM raw_ec_schengen_consulates
		WHERE year = 2023 AND host_country = 'RUSSIAN FEDERATION'`).Scan(&got)
	if err != nil {
		t.Fatal(err)
	}
	if got != 520402 {
		t.Errorf("loaded Russia 2023 D+I = %d, want 520402", got)
	}
	var untrimmed int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM raw_ec_schengen_consulates WHERE consulate <> trim(consulate)`).Scan(&untrimmed); err != nil {
		t.Fatal(err)
	}
	if untrimmed != 0 {
		t.Errorf("%d consulate names keep surrounding spaces", untrimmed)
	}
}

func TestYearFromFileName(t *testing.T) {
	tests := []struct {
		name    string
		want    int
		wantErr bool
	}{
		{name: "2015_consulates_schengen_visa_stats_en.xlsx", want: 2015},
		{name: "Visa statistics for consulates 2021_0.xlsx", want: 2021},
		{name: "Visa statistics for consulates in 2022_en.xlsx", want: 2022},
		{name: "dir/2023-schengen-visa-statistics-consulates_en.xlsx", want: 2023},
		{name: "visa_stats.xlsx", wantErr: true},
		{name: "2019-vs-2020.xlsx", wantErr: true},
		{name: "2024_2024_copy.xlsx", want: 2024},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := YearFromFileName(tt.name)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("year = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestNormaliseHeader(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Total  uniform visas issued (including MEV) \n", "total uniform visas issued (including mev)"},
		{"Multiple entry uniform visas (MEVs) issued 1)", "multiple entry uniform visas (mevs) issued"},
		{" ATVs issued (including multiple)", "atvs issued (including multiple)"},
		{"Not issued rate for ATVs and uniform visas ", "not issued rate for atvs and uniform visas"},
		{"Short-stay visas applied for (2)", "short-stay visas applied for"},
		{"Member State", "member state"},
		{"C visas issued \n(ADS included)", "c visas issued (ads included)"},
		{"Uniform\u00a0visas not issued*", "uniform visas not issued"},
	}
	for _, tt := range tests {
		if got := NormaliseHeader(tt.in); got != tt.want {
			t.Errorf("NormaliseHeader(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestECSchengenBadInput feeds real workbooks with one thing broken; each
// must fail with an error that says what and where.
func TestECSchengenBadInput(t *testing.T) {
	real := ectest.File(t, "2023")
	body, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, name string, b []byte) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	setCell := func(cell string, v any) func(f *excelize.File) error {
		return func(f *excelize.File) error { return f.SetCellValue(ECSchengenSheet, cell, v) }
	}
	tests := []struct {
		name    string
		path    func(t *testing.T) string
		want    []string // substrings of the error
		wantCol string   // column of the *LocatedError, if any
		is      error
	}{
		{name: "truncated", path: func(t *testing.T) string { return write(t, "2023-cut.xlsx", body[:len(body)/2]) },
			want: []string{"2023-cut.xlsx", "damaged or truncated"}},
		{name: "damaged xls", path: func(t *testing.T) string {
			return write(t, "2012.xls", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...))
		}, want: []string{"2012.xls", "damaged or not a workbook", "download it again"}},
		{name: "not a workbook", path: func(t *testing.T) string { return write(t, "2023.xlsx", []byte("<html>error</html>")) },
			want: []string{"neither an .xlsx workbook", "nor a binary .xls workbook", "<html>"}, is: ErrUnsupportedFormat},
		{name: "missing path", path: func(t *testing.T) string { return filepath.Join(t.TempDir(), "2023-nope.xlsx") },
			want: []string{"2023-nope.xlsx", "no such file"}, is: os.ErrNotExist},
		{name: "no data sheet", path: func(t *testing.T) string {
			return ectest.Edit(t, "2023", func(f *excelize.File) error { return f.SetSheetName(ECSchengenSheet, "Data") })
		}, want: []string{`no sheet "Data for consulates"`, "Description"}},
		{name: "drifted header", path: func(t *testing.T) string {
			return ectest.Edit(t, "2023", setCell("I1", "Visas applied for (all types)"))
		}, want: []string{`sheet "Data for consulates" row 1`, "match no known layout", `the closest is "consulates"`,
			`it does not know I "Visas applied for (all types)"`, `"uniform visas applied for" (count:uniform_applied)`, `A "Schengen State"`, "ec_layout_columns.csv"}},
		{name: "text in a count", path: func(t *testing.T) string { return ectest.Edit(t, "2023", setCell("N5", "n/a")) },
			want: []string{"row 5 column N", "expected a count", `"n/a"`}, wantCol: "N"},
		// excelize reads an error cell as its error text, as written here.
		{name: "error value in a count", path: func(t *testing.T) string { return ectest.Edit(t, "2023", setCell("J7", "#REF!")) },
			want: []string{"row 7 column J", "expected a count", "#REF!"}, wantCol: "J"},
		{name: "fraction in a count", path: func(t *testing.T) string { return ectest.Edit(t, "2023", setCell("D3", 2.5)) },
			want: []string{"row 3 column D", "whole number from 0"}, wantCol: "D"},
		{name: "rows do not reconcile", path: func(t *testing.T) string { return ectest.Edit(t, "2023", setCell("M2", 1000)) },
			want: []string{"column M", "do not reconcile", "Total worldwide 2023", "sum to 103783", "says 102785"}, wantCol: "M"},
		{name: "no footer", path: func(t *testing.T) string { return ectest.Edit(t, "2023", setCell("C1767", "Grand total")) },
			want: []string{`no "Total worldwide" row`, "cannot reconcile"}},
		{name: "consulate without state or country", path: func(t *testing.T) string {
			return ectest.Edit(t, "2023", func(f *excelize.File) error {
				if err := f.SetCellStr(ECSchengenSheet, "A20", ""); err != nil {
					return err
				}
				return f.SetCellStr(ECSchengenSheet, "B20", "")
			})
		}, want: []string{"row 20 column C", "expected a data row or a footer label"}, wantCol: "C"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readECSheet(t, tt.path(t))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			var ce *LocatedError
			if tt.wantCol != "" {
				if !errors.As(err, &ce) || ce.Column != tt.wantCol {
					t.Errorf("error %v: want a *LocatedError in column %s", err, tt.wantCol)
				}
			}
		})
	}
}

// TestECSchengenTolerated covers quirks that must not fail a load: an error
// value in a formula column, an empty string in a count column, a footnote
// row inside the data block, a stray column T in the footer area.
func TestECSchengenTolerated(t *testing.T) {
	path := ectest.Edit(t, "2023", func(f *excelize.File) error {
		if err := f.SetCellFormula(ECSchengenSheet, "O2", "#REF!"); err != nil {
			return err
		}
		if err := f.SetCellStr(ECSchengenSheet, "F2", ""); err != nil { // F2 is 0 in the file
			return err
		}
		if err := f.InsertRows(ECSchengenSheet, 10, 1); err != nil {
			return err
		}
		return f.SetCellStr(ECSchengenSheet, "A10", "1) note inside the data block")
	})
	sh, err := readECSheet(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if sh.FootnoteRows != 1 {
		t.Errorf("footnote rows = %d, want 1", sh.FootnoteRows)
	}
	if got := sumCol(sh, "RUSSIAN FEDERATION", "atv_applied", "uniform_applied"); got != 520402 {
		t.Errorf("Russia D+I = %d, want 520402", got)
	}
}

func TestECSchengenInputs(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"2021 stats.xlsx", "2022 stats.xlsx", "~$2022 stats.xlsx", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ins, err := NewECSchengen(ECSchengenConfig{Path: dir}, UpstreamIssuesConfig{}).Inputs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 2 || ins[0].Year != 2021 || ins[1].Year != 2022 {
		t.Errorf("inputs = %+v, want the 2021 and 2022 workbooks only", ins)
	}
	_, err = NewECSchengen(ECSchengenConfig{Path: dir, Files: []ECSchengenFile{{Path: "x.xlsx", Year: 2022}}}, UpstreamIssuesConfig{}).Inputs(context.Background())
	if err == nil || !strings.Contains(err.Error(), "two workbooks for 2022") {
		t.Errorf("duplicate year: err = %v", err)
	}
}

// BenchmarkReadECWorkbook reads and checks one real yearly workbook.
func BenchmarkReadECWorkbook(b *testing.B) {
	path := ectest.File(b, "2023")
	for i := 0; i < b.N; i++ {
		if _, err := readECSheet(b, path); err != nil {
			b.Fatal(err)
		}
	}
}

// TestECSchengenUncalculatedFormulas: a count cell holding a formula
// without a calculated value (a workbook saved by a program that does not
// calculate) is an error naming the cell, never a blank read as 0.
func TestECSchengenUncalculatedFormulas(t *testing.T) {
	t.Run("one cell", func(t *testing.T) {
		// excelize keeps a cell's value when it sets a formula: mark the
		// cell with a formula, then drop its <v> from the sheet's XML.
		edited := ectest.Edit(t, "2023", func(f *excelize.File) error {
			return f.SetCellFormula(ECSchengenSheet, "J5", "SUM(J6:J7)")
		})
		path := replaceInZip(t, edited, regexp.MustCompile(`(<f>SUM\(J6:J7\)</f>)<v>[^<]*</v>`), "$1")
		_, err := readECSheet(t, path)
		var le *LocatedError
		if !errors.Is(err, ErrUncalculated) || !errors.As(err, &le) || le.Line != 5 || le.Column != "J" ||
			!strings.Contains(err.Error(), "open it in Excel or LibreOffice") {
			t.Errorf("err = %v, want ErrUncalculated at row 5 column J", err)
		}
	})
	t.Run("saved by openpyxl", func(t *testing.T) {
		if testing.Short() {
			t.Skip("re-saves a real workbook with openpyxl (seconds)")
		}
		py := "/usr/bin/python3"
		if err := exec.Command(py, "-c", "import openpyxl").Run(); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("openpyxl is needed (apt-get install python3-openpyxl): %v", err)
			}
			t.Skipf("openpyxl not installed (apt-get install python3-openpyxl): %v", err)
		}
		out := filepath.Join(t.TempDir(), "2023-resaved.xlsx")
		script := "import sys, openpyxl\nwb = openpyxl.load_workbook(sys.argv[1])\nwb.save(sys.argv[2])\n"
		if b, err := exec.Command(py, "-c", script, ectest.File(t, "2023"), out).CombinedOutput(); err != nil {
			t.Fatalf("openpyxl: %v\n%s", err, b)
		}
		_, err := readECSheet(t, out)
		if !errors.Is(err, ErrUncalculated) || !strings.Contains(err.Error(), "2023-resaved.xlsx") {
			t.Errorf("err = %v, want ErrUncalculated naming the file", err)
		}
	})
}

// replaceInZip copies the zip at path with re replaced by repl in the one
// part that matches, and returns the copy's path.
func replaceInZip(t *testing.T, path string, re *regexp.Regexp, repl string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	name := ""
	for _, e := range zr.File {
		rc, err := e.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if re.Match(b) {
			name = e.Name
		}
	}
	if name == "" {
		t.Fatalf("%s: nothing matches %s", path, re)
	}
	out := filepath.Join(t.TempDir(), "rewritten-"+filepath.Base(path))
	rewriteZip(t, path, out, name, func(orig []byte, w io.Writer) error {
		_, err := w.Write(re.ReplaceAll(orig, []byte(repl)))
		return err
	})
	return out
}

// TestReadECLayoutsRejects: a mistyped layout file fails with its file,
// line and column, before any workbook is read.
func TestReadECLayoutsRejects(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(esCodeLists, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	layouts, columns, comparability := read(ECLayoutsFile), read(ECLayoutColumnsFile), read(ECComparabilityFile)
	tests := []struct {
		name                  string
		layouts, columns, cmp string
		want                  []string
	}{
		{name: "unknown indicator", layouts: layouts, cmp: comparability,
			columns: strings.Replace(columns, "count,atv_applied,", "count,atv_aplied,", 1),
			want:    []string{ECLayoutColumnsFile, "line 6", "column indicator", "atv_aplied"}},
		{name: "unknown role", layouts: layouts, cmp: comparability,
			columns: strings.Replace(columns, "consulates,consulate,consulate,,", "consulates,consulate,town,,", 1),
			want:    []string{ECLayoutColumnsFile, "column role", "town"}},
		{name: "layout without a consulate column", layouts: layouts, cmp: comparability,
			columns: strings.Replace(columns, "synthese_2012,location of consulate,consulate,,", "synthese_2012,location of consulate,ignore,,", 1),
			want:    []string{"layout synthese_2012 has no consulate column"}},
		{name: "unknown coverage", columns: columns, cmp: comparability,
			layouts: strings.Replace(layouts, "SCHENGEN,schengen,", "SCHENGEN,everyone,", 1),
			want:    []string{ECLayoutsFile, "column coverage", "everyone"}},
		{name: "header twice", layouts: layouts, cmp: comparability,
			columns: columns + "consulates,Consulate ,consulate,,\n",
			want:    []string{"lists this header twice"}},
		{name: "overlapping years", layouts: layouts, columns: columns,
			cmp:  comparability + "applications,2020,2021,something,else\n",
			want: []string{ECComparabilityFile, "overlap"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range map[string]string{ECLayoutsFile: tt.layouts, ECLayoutColumnsFile: tt.columns, ECComparabilityFile: tt.cmp} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := ReadECLayouts(dir)
			if err == nil {
				_, err = readECComparability(filepath.Join(dir, ECComparabilityFile))
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
