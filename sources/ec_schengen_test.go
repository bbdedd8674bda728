package sources

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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

// TestECSchengenEveryShippedYearReconciles reads every shipped workbook: each
// must pass the header check and reconcile with its "Total worldwide" row.
func TestECSchengenEveryShippedYearReconciles(t *testing.T) {
	src := NewECSchengen(ECSchengenConfig{Path: ecDataDir}, UpstreamIssuesConfig{})
	inputs, err := src.Inputs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) != 8 {
		t.Fatalf("want the 8 shipped workbooks, got %d", len(inputs))
	}
	for _, in := range inputs {
		sh := shippedECSheet(t, in.Path)
		if len(sh.Rows) < 1500 {
			t.Errorf("%d: only %d data rows", in.Year, len(sh.Rows))
		}
		if len(sh.Issues) != 0 {
			t.Errorf("%d: upstream issues found in a file that reconciles: %+v", in.Year, sh.Issues)
		}
		for i, ind := range ECIndicators() {
			if got := sumCol(sh, "", ind); got != sh.Total.Counts[i] {
				t.Errorf("%d %s: rows sum to %d, total row says %d", in.Year, ind, got, sh.Total.Counts[i])
			}
		}
	}
}

func TestECSchengenLoad(t *testing.T) {
	conn := openTestDB(t)
	ctx := context.Background()
	src := NewECSchengen(ECSchengenConfig{Files: []ECSchengenFile{
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
		{"Short-stay visas applied for (2)", "uniform visas applied for"},
		{"Member State", "schengen state"},
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
		{name: "legacy xls", path: func(t *testing.T) string {
			return write(t, "2012.xls", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...))
		}, want: []string{"2012.xls", "save it as .xlsx"}, is: ErrUnsupportedFormat},
		{name: "not a workbook", path: func(t *testing.T) string { return write(t, "2023.xlsx", []byte("<html>error</html>")) },
			want: []string{"not an .xlsx workbook"}, is: ErrUnsupportedFormat},
		{name: "missing path", path: func(t *testing.T) string { return filepath.Join(t.TempDir(), "2023-nope.xlsx") },
			want: []string{"2023-nope.xlsx", "no such file"}, is: os.ErrNotExist},
		{name: "no data sheet", path: func(t *testing.T) string {
			return ectest.Edit(t, "2023", func(f *excelize.File) error { return f.SetSheetName(ECSchengenSheet, "Data") })
		}, want: []string{`no sheet "Data for consulates"`, "Description"}},
		{name: "drifted header", path: func(t *testing.T) string {
			return ectest.Edit(t, "2023", setCell("I1", "Visas applied for (all types)"))
		}, want: []string{`row 1 column I`, "layout has changed", `expected "uniform visas applied for"`}, wantCol: "I"},
		{name: "text in a count", path: func(t *testing.T) string { return ectest.Edit(t, "2023", setCell("N5", "n/a")) },
			want: []string{"row 5 column N", "expected a count", `"n/a"`}, wantCol: "N"},
		// excelize reads an error cell as its error text, as written here.
		{name: "error value in a count", path: func(t *testing.T) string { return ectest.Edit(t, "2023", setCell("J7", "#REF!")) },
			want: []string{"row 7 column J", "expected a count", "#REF!"}, wantCol: "J"},
		{name: "negative count", path: func(t *testing.T) string { return ectest.Edit(t, "2023", setCell("D3", -4)) },
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
			_, err := ReadECWorkbook(tt.path(t))
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
	sh, err := ReadECWorkbook(path)
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
		if _, err := ReadECWorkbook(path); err != nil {
			b.Fatal(err)
		}
	}
}
