package output

import (
	"archive/zip"
	"context"
	"io"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/visastats/visastats/output/plot"
)

// TestWorkbookChartsSheet writes a country's profile charts (real
// figures: applications at consulates located in Russia, none loaded for
// 2011; UNHCR's protection rate for Russians in France, its last year a
// half year) on one sheet: each chart's numbers as a table, a native Excel
// chart per chart drawn from those cells, percentages as fractions shown
// as percentages, and the partial year marked in a column of its own as
// in the chart's CSV.
func TestWorkbookChartsSheet(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	charts := []plot.Chart{
		{ID: "schengen_visas", Title: "Schengen visas at consulates located in Russian Federation", Subtitle: "whatever the applicant's nationality",
			Unit: "applications, visas", XTitle: "Year", Kind: plot.KindLine, Categories: []string{"2010", "2011", "2012"},
			Series: []plot.Series{
				{Name: "Uniform visa applications", Values: []*float64{v(4222551), nil, v(6069001)}},
				{Name: "Uniform visas issued", Values: []*float64{v(4120704), nil, v(5939644)}},
			},
			Source: "European Commission, Visa statistics for consulates, 2010, 2012", Notes: []string{"2011: no EC workbook is loaded for this year"}},
		{ID: "asylum_recognition", Title: "Share of asylum decisions on citizens of Russian Federation that grant protection",
			Unit: "% of decisions on the merits", Percent: true, XTitle: "Year", Kind: plot.KindColumn, Categories: []string{"2022", "2023"},
			Series:      []plot.Series{{Name: "France, UNHCR all stages", Values: []*float64{v(0.3427027027027027), v(0.28902662993572087)}, Partial: []bool{false, true}}},
			Source:      "UNHCR, Refugee Data Finder, 2022-2023",
			PartialNote: "Jan-Jun only"},
	}
	path := filepath.Join(t.TempDir(), "russia.xlsx")
	counts, err := WriteWorkbookOptions(context.Background(), path, AboutSheet{Title: "Russia"}, nil,
		WorkbookOptions{ChartGroups: []ChartsSheet{{Name: "Charts", Charts: charts}}})
	if err != nil {
		t.Fatal(err)
	}
	if counts["Charts"] != 5 {
		t.Errorf("counts %v, want 5 rows of numbers", counts)
	}
	f := openWorkbook(t, path)
	if got, want := f.GetSheetList(), []string{ContentsSheet, "About", "Charts"}; !reflect.DeepEqual(got, want) {
		t.Errorf("sheets %v, want %v", got, want)
	}
	rows, _ := f.GetRows("Charts")
	want := map[int][]string{
		1:  {"Schengen visas at consulates located in Russian Federation"},
		2:  {"whatever the applicant's nationality"},
		3:  {"Unit: applications, visas. Source: European Commission, Visa statistics for consulates, 2010, 2012."},
		4:  {"Year", "Uniform visa applications", "Uniform visas issued"},
		5:  {"2010", "4,222,551", "4,120,704"},
		6:  {"2011"},
		7:  {"2012", "6,069,001", "5,939,644"},
		26: {"2011: no EC workbook is loaded for this year"},
		29: {"Share of asylum decisions on citizens of Russian Federation that grant protection"},
		30: {"Unit: % of decisions on the merits. Source: UNHCR, Refugee Data Finder, 2022-2023."},
		31: {"Year", "France, UNHCR all stages", "France, UNHCR all stages partial period"},
		32: {"2022", "34.27%"},
		33: {"2023", "28.90%", "Jan-Jun only"},
	}
	for r, w := range want {
		if r > len(rows) || !reflect.DeepEqual(rows[r-1], w) {
			var got []string
			if r <= len(rows) {
				got = rows[r-1]
			}
			t.Errorf("row %d = %q, want %q", r, got, w)
		}
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var xmls []string
	for _, zf := range zr.File {
		if strings.HasPrefix(zf.Name, "xl/charts/chart") {
			rc, _ := zf.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			xmls = append(xmls, zf.Name+"\x00"+string(b))
		}
	}
	sort.Strings(xmls)
	if len(xmls) != 2 {
		t.Fatalf("%d native charts, want 2", len(xmls))
	}
	line := chartFacts(t, strings.SplitN(xmls[0], "\x00", 2)[1])
	for _, s := range []string{"lineChart", "title Schengen visas at consulates located in Russian Federation",
		"f 'Charts'!$B$4", "f 'Charts'!$A$5:$A$7", "f 'Charts'!$B$5:$B$7", "f 'Charts'!$C$4", "f 'Charts'!$C$5:$C$7", "formatCode #,##0"} {
		if !line[s] {
			t.Errorf("line chart lacks %s; has %v", s, line)
		}
	}
	col := chartFacts(t, strings.SplitN(xmls[1], "\x00", 2)[1])
	for _, s := range []string{"barChart", "barDir col", "f 'Charts'!$B$31", "f 'Charts'!$A$32:$A$33", "f 'Charts'!$B$32:$B$33", "formatCode 0%"} {
		if !col[s] {
			t.Errorf("column chart lacks %s; has %v", s, col)
		}
	}
	if !strings.Contains(xmls[0], `dispBlanksAs val="gap"`) {
		t.Error("a year without figures is not a gap")
	}
}

// TestWorkbookChartsSheetRejects: a chart package plot would refuse fails
// the workbook before anything is written, naming the sheet.
func TestWorkbookChartsSheetRejects(t *testing.T) {
	_, err := WriteWorkbookOptions(context.Background(), filepath.Join(t.TempDir(), "w.xlsx"), AboutSheet{}, nil,
		WorkbookOptions{ChartGroups: []ChartsSheet{{Name: "Charts", Charts: []plot.Chart{{ID: "x", Title: "t", Kind: "pie"}}}}})
	if err == nil || !strings.Contains(err.Error(), `chart sheet "Charts"`) {
		t.Errorf("err %v", err)
	}
}
