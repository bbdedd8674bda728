package output

import (
	"archive/zip"
	"context"
	"database/sql"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// hostCountryYear is a slice of schengen_host_country_year as computed
// from the EC's 2022 and 2023 consulate workbooks.
const hostCountryYear = `
	SELECT * FROM (VALUES
		('RU', 'Russian Federation', 2022::INTEGER, 687264::BIGINT, 0.102056023714558, NULL::DOUBLE, ''),
		('RU', 'Russian Federation', 2023::INTEGER, 520402::BIGINT, 0.105733109246315, -0.242791707407924, 'p'),
		('TR', 'Türkiye', 2022::INTEGER, 778577::BIGINT, 0.157274512176557, NULL::DOUBLE, ''),
		('TR', 'Türkiye', 2023::INTEGER, 1056042::BIGINT, 0.161323447259203, 0.356374514017239, 'p e')
	) t(host_country, host_country_name, year, applications, not_issued_rate, applications_yoy_change, flags)
	ORDER BY host_country, year`

var hostCountryColumns = []Column{
	{Header: "host_country", Label: "Country code", Format: FormatCode},
	{Header: "host_country_name", Label: "Country where the consulates are located", Format: FormatText},
	{Header: "year", Label: "Year", Format: FormatYear},
	{Header: "applications", Label: "Applications lodged", Format: FormatCount},
	{Header: "not_issued_rate", Label: "Refusal rate (EC)", Format: FormatRate},
	{Header: "applications_yoy_change", Label: "Change in applications on previous year", Format: FormatChange},
	{Header: "flags", Label: "Flags", Format: FormatCode},
}

func querySheet(db *sql.DB, q string) func(context.Context) (*sql.Rows, error) {
	return func(ctx context.Context) (*sql.Rows, error) { return db.QueryContext(ctx, q) }
}

// cellDump is one cell as a reader sees it: value, type and number format.
type cellDump struct {
	Value, Type, Format string
}

func readCell(t *testing.T, f *excelize.File, sheet, cell string) cellDump {
	t.Helper()
	v, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	typ, _ := f.GetCellType(sheet, cell)
	id, _ := f.GetCellStyle(sheet, cell)
	var format string
	if st, err := f.GetStyle(id); err == nil && st != nil {
		switch {
		case st.CustomNumFmt != nil:
			format = *st.CustomNumFmt
		case st.NumFmt != 0:
			format = "#" + strconv.Itoa(st.NumFmt)
		}
	}
	kind := map[excelize.CellType]string{excelize.CellTypeNumber: "n", excelize.CellTypeUnset: "n", excelize.CellTypeSharedString: "s", excelize.CellTypeInlineString: "s"}[typ]
	if v == "" {
		kind = ""
	}
	return cellDump{v, kind, format}
}

func openWorkbook(t *testing.T, path string) *excelize.File {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestWorkbookTableSheet(t *testing.T) {
	db := openDB(t)
	path := filepath.Join(t.TempDir(), "w.xlsx")
	about := AboutSheet{
		Title:      "visastats: Schengen visa statistics",
		Paragraphs: []string{"Applications lodged at consulates located in a country, not by its nationals."},
		Definitions: []Definition{
			{Sheet: "host", Column: "applications", Unit: "applications", Meaning: "ATV and uniform visa applications.", Formula: "D + I (EC column P)"},
		},
	}
	counts, err := WriteWorkbook(context.Background(), path, about, []TableSheet{{Name: "host", Columns: hostCountryColumns, Query: querySheet(db, hostCountryYear)}})
	if err != nil {
		t.Fatal(err)
	}
	if counts["host"] != 4 {
		t.Errorf("counts %v", counts)
	}
	f := openWorkbook(t, path)
	if got, want := f.GetSheetList(), []string{ContentsSheet, "About", "host"}; !reflect.DeepEqual(got, want) {
		t.Errorf("sheets %v, want %v", got, want)
	}
	// Labels are the headers; the technical names stay in the definitions.
	header, err := f.GetRows("host")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range hostCountryColumns {
		if header[0][i] != c.Label {
			t.Errorf("header %d %q, want %q", i, header[0][i], c.Label)
		}
	}
	cases := []struct {
		cell string
		want cellDump
	}{
		{"A3", cellDump{"RU", "s", "#49"}},
		{"B5", cellDump{"Türkiye", "s", "#49"}},
		{"C3", cellDump{"2023", "n", "#1"}},
		{"D5", cellDump{"1056042", "n", "#3"}},
		{"E3", cellDump{"0.105733109246315", "n", "#10"}},
		{"F3", cellDump{"-0.242791707407924", "n", "+0.0%;-0.0%;0.0%"}},
		{"F2", cellDump{"", "", "+0.0%;-0.0%;0.0%"}}, // NULL stays empty, never 0
		{"G3", cellDump{"p", "s", "#49"}},            // flags are letters, as text
		{"G5", cellDump{"p e", "s", "#49"}},
		{"G2", cellDump{"", "", "#49"}}, // no flags: an empty cell
	}
	for _, c := range cases {
		if got := readCell(t, f, "host", c.cell); got != c.want {
			t.Errorf("%s = %+v, want %+v", c.cell, got, c.want)
		}
	}
	panes, err := f.GetPanes("host")
	if err != nil || !panes.Freeze || panes.TopLeftCell != "A2" {
		t.Errorf("panes %+v, %v: want the header row frozen", panes, err)
	}
	tables, err := f.GetTables("host")
	if err != nil || len(tables) != 1 || tables[0].Range != "A1:G5" {
		t.Errorf("tables %+v, %v: want one table with autofilter over A1:G5", tables, err)
	}
	// Widths fit: a column is at least as wide as its widest value as
	// shown and its longest header word, and text is not squeezed.
	widths := map[string]float64{"A": 6, "B": 20, "D": 9, "F": 6} // 20: half the label; 1,056,042; +35.6%
	for col, min := range widths {
		w, err := f.GetColWidth("host", col)
		if err != nil || w < min {
			t.Errorf("column %s width %.1f, want at least %.1f", col, w, min)
		}
	}
	if h, _ := f.GetRowHeight("host", 1); h < 30 {
		t.Errorf("header row height %.0f: a two-line label needs 30", h)
	}
	// On About, a definition shows the label and the technical name and
	// the formula.
	rows, err := f.GetRows("About")
	if err != nil {
		t.Fatal(err)
	}
	var def []string
	for _, r := range rows {
		if len(r) > 0 && r[0] == "host" {
			def = r
		}
	}
	if want := []string{"host", "Applications lodged\n(applications)", "applications", "ATV and uniform visa applications.\nFormula: D + I (EC column P)"}; !reflect.DeepEqual(def, want) {
		t.Errorf("About definition %q, want %q", def, want)
	}
}

func TestWorkbookDefinitionsSheet(t *testing.T) {
	db := openDB(t)
	path := filepath.Join(t.TempDir(), "w.xlsx")
	about := AboutSheet{Title: "t", Definitions: []Definition{
		{Sheet: "host", Column: "applications", Unit: "applications", Meaning: "ATV and uniform visa applications.", Formula: "D + I (EC column P)"},
		{Sheet: "host", Column: "not_issued_rate", Unit: "fraction", Meaning: "EC refusal rate.", Formula: "N / (J + M + N)", Label: "Refusal rate"},
	}}
	_, err := WriteWorkbookOptions(context.Background(), path, about,
		[]TableSheet{{Name: "host", Columns: hostCountryColumns, Query: querySheet(db, hostCountryYear)}},
		WorkbookOptions{Definitions: DefinitionsOnSheet})
	if err != nil {
		t.Fatal(err)
	}
	f := openWorkbook(t, path)
	if got, want := f.GetSheetList(), []string{ContentsSheet, "About", "host", DefinitionsSheet}; !reflect.DeepEqual(got, want) {
		t.Errorf("sheets %v, want %v", got, want)
	}
	rows, err := f.GetRows(DefinitionsSheet)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Sheet", "Column", "Label", "Meaning", "Unit", "Formula"},
		{"host", "applications", "Applications lodged", "ATV and uniform visa applications.", "applications", "D + I (EC column P)"},
		{"host", "not_issued_rate", "Refusal rate", "EC refusal rate.", "fraction", "N / (J + M + N)"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("Definitions\n%q\nwant\n%q", rows, want)
	}
	about2, _ := f.GetRows("About")
	var text string
	for _, r := range about2 {
		text += strings.Join(r, "|") + "\n"
	}
	if !strings.Contains(text, "explained on the sheet Definitions") || strings.Contains(text, "EC refusal rate") {
		t.Errorf("About should point to the Definitions sheet and not repeat them:\n%s", text)
	}
}

// TestWorkbookSplit uses a sheet limit of 5 rows (header and 4 data rows)
// to show what happens to a table longer than a sheet.
func TestWorkbookSplit(t *testing.T) {
	db := openDB(t)
	cols := []Column{{Header: "i", Label: "Row", Format: FormatInteger}, {Header: "v", Format: FormatCount}}
	q := querySheet(db, `SELECT i, i * 1000 AS v FROM range(10) t(i) ORDER BY i`)
	t.Run("split", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "w.xlsx")
		counts, err := writeWorkbook(context.Background(), path, AboutSheet{Title: "t"},
			[]TableSheet{{Name: "big", Columns: cols, Query: q, Overflow: OverflowSplit}, {Name: "after", Columns: cols, Query: q, Overflow: OverflowSplit}},
			WorkbookOptions{}, 5)
		if err != nil {
			t.Fatal(err)
		}
		if counts["big"] != 10 {
			t.Errorf("counts %v, want 10 rows for big", counts)
		}
		f := openWorkbook(t, path)
		want := []string{ContentsSheet, "About", "big", "big (2)", "big (3)", "after", "after (2)", "after (3)"}
		if got := f.GetSheetList(); !reflect.DeepEqual(got, want) {
			t.Fatalf("sheets %v, want %v", got, want)
		}
		var all []string
		for i, sheet := range []string{"big", "big (2)", "big (3)"} {
			rows, err := f.GetRows(sheet)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rows[0], []string{"Row", "v"}) {
				t.Errorf("%s header %q", sheet, rows[0])
			}
			if wantRows := []int{5, 5, 3}[i]; len(rows) != wantRows {
				t.Errorf("%s has %d rows, want %d", sheet, len(rows), wantRows)
			}
			for _, r := range rows[1:] {
				all = append(all, r[0])
			}
			if p, _ := f.GetPanes(sheet); !p.Freeze {
				t.Errorf("%s: header not frozen", sheet)
			}
			if tb, _ := f.GetTables(sheet); len(tb) != 1 {
				t.Errorf("%s: %d tables, want 1", sheet, len(tb))
			}
		}
		if got := strings.Join(all, ","); got != "0,1,2,3,4,5,6,7,8,9" {
			t.Errorf("rows across the sheets: %s", got)
		}
		about, _ := f.GetRows("About")
		var text string
		for _, r := range about {
			text += strings.Join(r, "|") + "\n"
		}
		if !strings.Contains(text, "The table big has 10 rows, more than one Excel sheet holds (5 rows with the header), so it continues on the sheets big (2), big (3).") {
			t.Errorf("About does not say how big was split:\n%s", text)
		}
	})
	t.Run("error", func(t *testing.T) {
		dir := t.TempDir()
		_, err := writeWorkbook(context.Background(), filepath.Join(dir, "w.xlsx"), AboutSheet{Title: "t"},
			[]TableSheet{{Name: "big", Columns: cols, Query: q}}, WorkbookOptions{}, 5)
		if !errors.Is(err, ErrTooManyRows) {
			t.Fatalf("err %v, want ErrTooManyRows", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("left behind: %v", entries)
		}
	})
}

// TestWorkbookReadAhead writes tables longer than the sample read to size
// the columns, so that the rest is read on another goroutine: every row
// arrives once and in order across a split, an empty text stays an empty
// cell, and a table that fails while rows are still being read stops the
// reading and leaves no file.
func TestWorkbookReadAhead(t *testing.T) {
	db := openDB(t)
	const n = sampleRows + 3*batchRows + 17
	cols := []Column{{Header: "i", Format: FormatInteger}, {Header: "v", Format: FormatCount}, {Header: "s", Format: FormatText}}
	q := querySheet(db, fmt.Sprintf(`SELECT i, i * 1000 AS v, CASE WHEN i %% 3 = 0 THEN '' ELSE 'r' || i END AS s FROM range(%d) t(i) ORDER BY i`, n))
	t.Run("split", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "w.xlsx")
		const maxRows = 1001 // 1,000 data rows a sheet: the second sheet starts within the read-ahead
		counts, err := writeWorkbook(context.Background(), path, AboutSheet{Title: "t"},
			[]TableSheet{{Name: "big", Columns: cols, Query: q, Overflow: OverflowSplit}}, WorkbookOptions{}, maxRows)
		if err != nil {
			t.Fatal(err)
		}
		if counts["big"] != n {
			t.Errorf("counts %v, want %d rows for big", counts, n)
		}
		f := openWorkbook(t, path)
		if got, want := f.GetSheetList(), []string{ContentsSheet, "About", "big", "big (2)"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("sheets %v, want %v", got, want)
		}
		next := 0
		for _, sheet := range []string{"big", "big (2)"} {
			rows, err := f.GetRows(sheet)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows[1:] {
				want := []string{strconv.Itoa(next), Thousands(int64(next) * 1000), "r" + strconv.Itoa(next)}
				if next%3 == 0 {
					want = want[:2]
				}
				if !reflect.DeepEqual(r, want) {
					t.Fatalf("%s: row %q, want %q", sheet, r, want)
				}
				next++
			}
		}
		if next != n {
			t.Errorf("%d rows across the sheets, want %d", next, n)
		}
	})
	t.Run("error", func(t *testing.T) {
		dir := t.TempDir()
		_, err := writeWorkbook(context.Background(), filepath.Join(dir, "w.xlsx"), AboutSheet{Title: "t"},
			[]TableSheet{{Name: "big", Columns: cols, Query: q}}, WorkbookOptions{}, sampleRows+batchRows)
		if !errors.Is(err, ErrTooManyRows) {
			t.Fatalf("err %v, want ErrTooManyRows", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("left behind: %v", entries)
		}
	})
}

// TestWorkbookDimensions checks that every sheet declares the range its
// cells use, as readers that trust the declaration need, for a table long
// enough to be read ahead, an empty table and the text sheets.
func TestWorkbookDimensions(t *testing.T) {
	db := openDB(t)
	cols := []Column{{Header: "i", Format: FormatInteger}, {Header: "v", Format: FormatCount}, {Header: "s", Format: FormatText}}
	path := filepath.Join(t.TempDir(), "w.xlsx")
	_, err := WriteWorkbookOptions(context.Background(), path, AboutSheet{Title: "t", Paragraphs: []string{"p"}, Definitions: []Definition{{Sheet: "long", Column: "i"}}},
		[]TableSheet{
			{Name: "long", Columns: cols, Query: querySheet(db, `SELECT i, i AS v, 'x' AS s FROM range(1500) t(i) ORDER BY i`)},
			{Name: "empty", Columns: cols, Query: querySheet(db, `SELECT 1 AS i, 2 AS v, 'x' AS s WHERE false`)},
		}, WorkbookOptions{Definitions: DefinitionsOnSheet})
	if err != nil {
		t.Fatal(err)
	}
	f := openWorkbook(t, path)
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		width := 0
		for _, r := range rows {
			width = max(width, len(r))
		}
		want, _ := excelize.CoordinatesToCellName(width, len(rows))
		if got, _ := f.GetSheetDimension(sheet); got != "A1:"+want {
			t.Errorf("sheet %s declares %q, its cells span A1:%s", sheet, got, want)
		}
	}
	if got, _ := f.GetSheetDimension("long"); got != "A1:C1501" {
		t.Errorf("sheet long declares %q, want A1:C1501", got)
	}
}

func TestContinuationName(t *testing.T) {
	for _, c := range []struct {
		base string
		n    int
		want string
	}{
		{"observations", 2, "observations (2)"},
		{"schengen_host_country_year", 2, "schengen_host_country_year (2)"},
		{"schengen_host_country_year_2020", 12, "schengen_host_country_year (12)"},
	} {
		if got := continuationName(c.base, c.n); got != c.want || len([]rune(got)) > 31 {
			t.Errorf("continuationName(%q, %d) = %q, want %q", c.base, c.n, got, c.want)
		}
	}
}

// chartOfSheet follows the links a spreadsheet program follows, from the
// sheet through its drawing to the chart, and returns the chart's XML.
func chartOfSheet(t *testing.T, xlsx, sheet string) string {
	t.Helper()
	z, err := zip.OpenReader(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	read := func(name string) []byte {
		t.Helper()
		f, err := z.Open(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		return b
	}
	type rel struct {
		ID     string `xml:"Id,attr"`
		Target string `xml:"Target,attr"`
	}
	rels := func(name string) map[string]string {
		var r struct {
			Rel []rel `xml:"Relationship"`
		}
		if err := xml.Unmarshal(read(name), &r); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, x := range r.Rel {
			m[x.ID] = x.Target
		}
		return m
	}
	var wbx struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := xml.Unmarshal(read("xl/workbook.xml"), &wbx); err != nil {
		t.Fatal(err)
	}
	var sheetPath string
	for _, s := range wbx.Sheets {
		if s.Name == sheet {
			sheetPath = path.Join("xl", strings.TrimPrefix(rels("xl/_rels/workbook.xml.rels")[s.RID], "/xl/"))
		}
	}
	var ws struct {
		Drawing struct {
			RID string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"drawing"`
	}
	if err := xml.Unmarshal(read(sheetPath), &ws); err != nil {
		t.Fatal(err)
	}
	if ws.Drawing.RID == "" {
		t.Fatalf("sheet %s (%s) has no drawing", sheet, sheetPath)
	}
	dir, file := path.Split(sheetPath)
	drawing := path.Join(dir, rels(path.Join(dir, "_rels", file+".rels"))[ws.Drawing.RID])
	ddir, dfile := path.Split(drawing)
	var chart string
	for _, target := range rels(path.Join(ddir, "_rels", dfile+".rels")) {
		chart = path.Join(ddir, target)
	}
	return string(read(chart))
}

func TestWorkbookChart(t *testing.T) {
	db := openDB(t)
	path := filepath.Join(t.TempDir(), "russia.xlsx")
	ru := `SELECT year, applications, issued FROM (VALUES (2022::INTEGER, 687264::BIGINT, 604933::BIGINT), (2023, 520402, 459199)) t(year, applications, issued) ORDER BY year`
	charts := []ChartSheet{
		{Name: "Russia chart", Title: "Applications lodged at Schengen consulates located in Russia, by year", Kind: ChartLine,
			Columns: []Column{{Header: "year", Label: "Year", Format: FormatYear}, {Header: "applications", Label: "Applications lodged", Format: FormatCount}, {Header: "issued", Label: "Visas issued", Format: FormatCount}},
			Query:   querySheet(db, ru)},
		{Name: "Rate", Title: "Refusal rate", Kind: ChartColumn,
			Columns: []Column{{Header: "host_country", Format: FormatCode}, {Header: "not_issued_rate", Format: FormatRate}},
			Query:   querySheet(db, `SELECT host_country, not_issued_rate FROM (`+hostCountryYear+`) WHERE year = 2023`)},
	}
	counts, err := WriteWorkbookOptions(context.Background(), path, AboutSheet{Title: "Russia"},
		[]TableSheet{{Name: "host", Columns: hostCountryColumns, Query: querySheet(db, hostCountryYear)}},
		WorkbookOptions{Charts: charts})
	if err != nil {
		t.Fatal(err)
	}
	if counts["Russia chart"] != 2 || counts["Rate"] != 2 || counts["host"] != 4 {
		t.Errorf("counts %v", counts)
	}
	f := openWorkbook(t, path)
	if got, want := f.GetSheetList(), []string{ContentsSheet, "About", "host", "Russia chart", "Rate"}; !reflect.DeepEqual(got, want) {
		t.Errorf("sheets %v, want %v", got, want)
	}
	rows, _ := f.GetRows("Russia chart")
	if want := [][]string{{"Year", "Applications lodged", "Visas issued"}, {"2022", "687,264", "604,933"}, {"2023", "520,402", "459,199"}}; !reflect.DeepEqual(rows, want) {
		t.Errorf("chart data %q, want %q", rows, want)
	}
	line := chartFacts(t, chartOfSheet(t, path, "Russia chart"))
	for _, s := range []string{"lineChart", "title Applications lodged at Schengen consulates located in Russia, by year",
		"f 'Russia chart'!$B$1", "f 'Russia chart'!$A$2:$A$3", "f 'Russia chart'!$B$2:$B$3", "f 'Russia chart'!$C$1", "f 'Russia chart'!$C$2:$C$3", "formatCode #,##0"} {
		if !line[s] {
			t.Errorf("line chart lacks %s; has %v", s, line)
		}
	}
	col := chartFacts(t, chartOfSheet(t, path, "Rate"))
	for _, s := range []string{"barChart", "barDir col", "f 'Rate'!$A$2:$A$3", "f 'Rate'!$B$2:$B$3", "formatCode 0%"} {
		if !col[s] {
			t.Errorf("column chart lacks %s; has %v", s, col)
		}
	}
}

// chartFacts reads what matters of a chart's XML: the chart kinds, the
// cell references of its series, the title, number formats and bar
// direction, each as one string.
func chartFacts(t *testing.T, chartXML string) map[string]bool {
	t.Helper()
	facts := map[string]bool{}
	d := xml.NewDecoder(strings.NewReader(chartXML))
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return facts
		}
		if err != nil {
			t.Fatal(err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			stack = append(stack, x.Name.Local)
			if strings.HasSuffix(x.Name.Local, "Chart") {
				facts[x.Name.Local] = true
			}
			for _, a := range x.Attr {
				if a.Name.Local == "formatCode" || x.Name.Local == "barDir" && a.Name.Local == "val" {
					facts[x.Name.Local+" "+a.Value] = true
					if a.Name.Local == "formatCode" {
						facts["formatCode "+a.Value] = true
					}
				}
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			switch top := stack[len(stack)-1]; {
			case top == "f":
				facts["f "+string(x)] = true
			case top == "t" && len(stack) > 4 && stack[2] == "title":
				facts["title "+string(x)] = true
			}
		}
	}
}

func TestWorkbookChartTooManyRows(t *testing.T) {
	db := openDB(t)
	_, err := WriteWorkbookOptions(context.Background(), filepath.Join(t.TempDir(), "w.xlsx"), AboutSheet{}, nil, WorkbookOptions{Charts: []ChartSheet{{
		Name: "c", Kind: ChartLine, Columns: []Column{{Header: "i", Format: FormatInteger}, {Header: "v", Format: FormatCount}},
		Query: querySheet(db, `SELECT i, i FROM range(1001) t(i)`)}}})
	if err == nil || !strings.Contains(err.Error(), "more than 1000 rows") {
		t.Errorf("err %v, want too many points", err)
	}
}

// TestWorkbookInvalid: mistakes in the description of a workbook fail
// before any query runs, each named.
func TestWorkbookInvalid(t *testing.T) {
	never := func(context.Context) (*sql.Rows, error) { return nil, errors.New("query ran") }
	ok := []Column{{Header: "a", Format: FormatCode}}
	for _, c := range []struct {
		name   string
		sheets []TableSheet
		opt    WorkbookOptions
		want   string
	}{
		{"duplicate sheet", []TableSheet{{Name: "t", Columns: ok, Query: never}, {Name: "T", Columns: ok, Query: never}}, WorkbookOptions{}, `sheet "T": two sheets have this name`},
		{"sheet named About", []TableSheet{{Name: "about", Columns: ok, Query: never}}, WorkbookOptions{}, `sheet "about": two sheets have this name`},
		{"long name", []TableSheet{{Name: strings.Repeat("x", 32), Columns: ok, Query: never}}, WorkbookOptions{}, "31 characters"},
		{"bad character", []TableSheet{{Name: "a/b", Columns: ok, Query: never}}, WorkbookOptions{}, "Excel forbids"},
		{"unknown format", []TableSheet{{Name: "t", Columns: []Column{{Header: "a", Format: "percent"}}, Query: never}}, WorkbookOptions{}, `column "a": unknown format "percent"`},
		{"same label twice", []TableSheet{{Name: "t", Columns: []Column{{Header: "a", Label: "X", Format: FormatCode}, {Header: "b", Label: "x", Format: FormatCode}}, Query: never}}, WorkbookOptions{}, `header "x" is used twice`},
		{"unknown overflow", []TableSheet{{Name: "t", Columns: ok, Query: never, Overflow: "truncate"}}, WorkbookOptions{}, `overflow "truncate"`},
		{"unknown placement", nil, WorkbookOptions{Definitions: "appendix"}, `definitions placement "appendix"`},
		{"chart without series", nil, WorkbookOptions{Charts: []ChartSheet{{Name: "c", Kind: ChartLine, Columns: ok, Query: never}}}, "needs a category column and at least one series"},
		{"unknown chart kind", nil, WorkbookOptions{Charts: []ChartSheet{{Name: "c", Kind: "pie", Columns: append(ok, Column{Header: "b", Format: FormatCount}), Query: never}}}, `kind "pie"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := WriteWorkbookOptions(context.Background(), filepath.Join(dir, "w.xlsx"), AboutSheet{}, c.sheets, c.opt)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "query ran") {
				t.Errorf("err %v, want %q", err, c.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("left behind: %v", entries)
			}
		})
	}
}

// TestTopicWorkbooks: one run writes the main workbook and a topic
// workbook from the same database, each complete and independent.
func TestTopicWorkbooks(t *testing.T) {
	db := openDB(t)
	dir := t.TempDir()
	ctx := context.Background()
	main := []TableSheet{{Name: "schengen_host_country_year", Columns: hostCountryColumns, Query: querySheet(db, hostCountryYear)}}
	if _, err := WriteWorkbook(ctx, filepath.Join(dir, "visastats.xlsx"), AboutSheet{Title: "all"}, main); err != nil {
		t.Fatal(err)
	}
	russia := []TableSheet{{Name: "Russia", Columns: hostCountryColumns, Query: querySheet(db, `SELECT * FROM (`+hostCountryYear+`) WHERE host_country = 'RU'`)}}
	if _, err := WriteWorkbookOptions(ctx, filepath.Join(dir, "russia.xlsx"), AboutSheet{Title: "Russia"}, russia, WorkbookOptions{Definitions: DefinitionsOnSheet}); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string][]string{"visastats.xlsx": {ContentsSheet, "About", "schengen_host_country_year"}, "russia.xlsx": {ContentsSheet, "About", "Russia", "Definitions"}} {
		f := openWorkbook(t, filepath.Join(dir, file))
		if got := f.GetSheetList(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s sheets %v, want %v", file, got, want)
		}
	}
	f := openWorkbook(t, filepath.Join(dir, "russia.xlsx"))
	if rows, _ := f.GetRows("Russia"); len(rows) != 3 {
		t.Errorf("russia.xlsx holds %d rows, want the header and 2", len(rows))
	}
}

// TestWorkbookRowHeightsCapped: every row whose height is set (About,
// Definitions, a table's header and its wrapped text, a chart's header)
// stays within Excel's 409 points however long its text, and the text is
// kept whole; before, excelize refused the workbook once a row's lines
// passed 409 points (27 lines), after every table was written.
func TestWorkbookRowHeightsCapped(t *testing.T) {
	db := openDB(t)
	path := filepath.Join(t.TempDir(), "w.xlsx")
	var lines []string
	for i := range 40 {
		lines = append(lines, fmt.Sprintf("unhcr_export_%02d.csv (sha256 0123456789ab)", i+1))
	}
	files := strings.Join(lines, "\n")
	long := strings.Repeat("A sentence of ordinary length that wraps in its cell. ", 400)
	label := strings.TrimSpace(strings.Repeat("a very long column label ", 120))
	about := AboutSheet{
		Title:      "t",
		Paragraphs: []string{long},
		Facts:      [][2]string{{"Inputs", files}},
		Sources:    []SourceNote{{Name: "unhcr", Publisher: "UNHCR", URL: "https://www.unhcr.org/refugee-statistics/", Licence: "CC BY 4.0", Files: files}},
		Sections:   []AboutSection{{Heading: "Issues", Columns: []string{"file", "note"}, Rows: [][]string{{"f.csv", long}}}},
		Definitions: []Definition{
			{Sheet: "text", Column: "note", Meaning: long},
		},
	}
	cols := []Column{{Header: "id", Format: FormatCode}, {Header: "note", Label: label, Format: FormatText}}
	query := `SELECT * FROM (VALUES ('short', 'one line'), ('lines', ?), ('long', ?)) t(id, note)`
	sheet := func(ctx context.Context) (*sql.Rows, error) { return db.QueryContext(ctx, query, files, long) }
	chart := ChartSheet{Name: "chart", Title: "t", Kind: ChartColumn,
		Columns: []Column{{Header: "year", Format: FormatCode}, {Header: "n", Label: label, Format: FormatCount}},
		Query:   querySheet(db, `SELECT '2023' AS year, 1 AS n`)}
	for _, placement := range []DefinitionsPlacement{DefinitionsOnAbout, DefinitionsOnSheet} {
		t.Run(string(placement), func(t *testing.T) {
			_, err := WriteWorkbookOptions(context.Background(), path, about, []TableSheet{{Name: "text", Columns: cols, Query: sheet}},
				WorkbookOptions{Definitions: placement, Charts: []ChartSheet{chart}})
			if err != nil {
				t.Fatal(err)
			}
			f := openWorkbook(t, path)
			tall := map[string]int{}
			for _, name := range f.GetSheetList() {
				rows, err := f.GetRows(name)
				if err != nil {
					t.Fatal(err)
				}
				for i := range rows {
					h, err := f.GetRowHeight(name, i+1)
					if err != nil {
						t.Fatal(err)
					}
					if h > excelize.MaxRowHeight {
						t.Errorf("sheet %s row %d is %.0f points high, above Excel's %d", name, i+1, h, excelize.MaxRowHeight)
					}
					if h == excelize.MaxRowHeight {
						tall[name]++
					}
				}
			}
			// The tallest rows are as tall as Excel allows, not left at
			// one line: the header and two rows of text; the long
			// paragraph, the files as a fact and as a source's, the issue
			// (and the definition).
			want := map[string]int{"text": 3, "chart": 1, "About": 4}
			if placement == DefinitionsOnAbout {
				want["About"] = 5
			} else {
				want[DefinitionsSheet] = 1
			}
			if !reflect.DeepEqual(tall, want) {
				t.Errorf("rows at %d points per sheet: %v, want %v", excelize.MaxRowHeight, tall, want)
			}
			if got := readCell(t, f, "text", "B4"); got.Value != long {
				t.Errorf("long text read back as %d characters, want %d", len(got.Value), len(long))
			}
			if got := readCell(t, f, "text", "B1"); got.Value != label {
				t.Errorf("long label read back as %q", got.Value)
			}
		})
	}
}

// TestWorkbookTextIsNeverAFormula: text that looks like a formula (a
// consulate named =HYPERLINK(...), a file name starting with = or @) is
// written as a string cell in every kind of sheet, so that no spreadsheet
// program evaluates it; the workbook holds no formula at all.
func TestWorkbookTextIsNeverAFormula(t *testing.T) {
	db := openDB(t)
	path := filepath.Join(t.TempDir(), "w.xlsx")
	hostile := []string{`=HYPERLINK("http://evil.example","Moscow")`, "=1+1", "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1+1"}
	var values []string
	for _, h := range hostile {
		values = append(values, "('"+strings.ReplaceAll(h, "'", "''")+"')")
	}
	query := `SELECT v AS code, v AS name FROM (VALUES ` + strings.Join(values, ", ") + `) t(v)`
	about := AboutSheet{
		Title:       hostile[0],
		Paragraphs:  hostile,
		Facts:       [][2]string{{hostile[1], hostile[2]}},
		Sources:     []SourceNote{{Name: hostile[3], Publisher: hostile[4], URL: hostile[0], Licence: hostile[1], Files: hostile[2]}},
		Sections:    []AboutSection{{Heading: hostile[0], Columns: []string{hostile[1]}, Rows: [][]string{{hostile[2]}}}},
		Definitions: []Definition{{Sheet: "t", Column: "name", Meaning: hostile[0], Formula: hostile[1]}},
	}
	chart := ChartSheet{Name: "chart", Title: "t", Kind: ChartColumn,
		Columns: []Column{{Header: "year", Format: FormatCode}, {Header: "n", Format: FormatCount}},
		Query:   querySheet(db, `SELECT '=1+1' AS year, 1 AS n`)}
	_, err := WriteWorkbookOptions(context.Background(), path, about,
		[]TableSheet{{Name: "t", Columns: []Column{{Header: "code", Format: FormatCode}, {Header: "name", Format: FormatText}}, Query: querySheet(db, query)}},
		WorkbookOptions{Definitions: DefinitionsOnSheet, Charts: []ChartSheet{chart}})
	if err != nil {
		t.Fatal(err)
	}
	f := openWorkbook(t, path)
	for i, h := range hostile {
		for _, col := range []string{"A", "B"} {
			cell := fmt.Sprintf("%s%d", col, i+2)
			if got := readCell(t, f, "t", cell); got.Value != h || got.Type != "s" {
				t.Errorf("t!%s = %+v, want the string %q", cell, got, h)
			}
			if formula, _ := f.GetCellFormula("t", cell); formula != "" {
				t.Errorf("t!%s holds the formula %q", cell, formula)
			}
		}
	}
	if got := readCell(t, f, "chart", "A2"); got.Value != "=1+1" || got.Type != "s" {
		t.Errorf("chart!A2 = %+v, want the string =1+1", got)
	}
	// No sheet of the file holds a formula element, whatever the cell.
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	sheets := 0
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/worksheets/") || !strings.HasSuffix(zf.Name, ".xml") {
			continue
		}
		sheets++
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(rc)
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", zf.Name, err)
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "f" {
				t.Errorf("%s holds a formula element", zf.Name)
			}
		}
		rc.Close()
	}
	if sheets != 5 {
		t.Errorf("%d worksheets read, want 5 (Contents, About, t, chart, Definitions)", sheets)
	}
}
