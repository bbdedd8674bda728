package pipeline

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// openpyxlScript prints, for every sheet of a workbook opened in openpyxl's
// read-only mode (which trusts each sheet's declared dimension), its
// max_row and max_column.
const openpyxlScript = `
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1], read_only=True)
print(json.dumps({ws.title: [ws.max_row, ws.max_column] for ws in wb.worksheets}))
`

// checkWorkbookForTools checks what other tools see of a published
// workbook: at most workbookMaxBytes and workbookMaxRows rows a sheet,
// text in the shared string table, each sheet's declared size (and
// openpyxl's read-only view of it, when /usr/bin/python3 has openpyxl), no
// table column without a value, no asylum row without a number, every
// sheet fitted to one page wide with its header row and key columns
// repeated on every printed page, the chart's single colour, axis titles
// and emptyYears empty slots, and the MFA headline's change.
func checkWorkbookForTools(t *testing.T, path string, emptyYears int) {
	t.Helper()
	if st, err := os.Stat(path); err != nil || st.Size() > workbookMaxBytes {
		t.Errorf("%s: %v bytes (%v), want at most %d", path, st.Size(), err, workbookMaxBytes)
	}
	asylum := map[string]bool{}
	for _, ws := range workbookSheets {
		if strings.HasPrefix(ws.table, "asylum_") {
			asylum[ws.sheet] = true
		}
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	used := map[string][2]int{}
	names := map[string]bool{} // sheet -> its print titles repeat key columns
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm.Print_Titles" {
			names[dn.Scope] = strings.Contains(dn.RefersTo, "!$A:$")
		}
	}
	setups := pageSetups(t, path)
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, sheet := range f.GetSheetList() {
		// Raw values (as a program reading the cells gets them): whether a
		// cell is empty or a number does not depend on its display format,
		// and formatting 1.4 million cells would take most of the check.
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		cols := 0
		for _, r := range rows {
			cols = max(cols, len(r))
		}
		used[sheet] = [2]int{len(rows), cols}
		if len(rows) > workbookMaxRows {
			t.Errorf("sheet %s has %d rows, more than %d", sheet, len(rows), workbookMaxRows)
		}
		last, _ := excelize.CoordinatesToCellName(cols, len(rows))
		if dim, _ := f.GetSheetDimension(sheet); dim != "A1:"+last {
			t.Errorf("sheet %s declares %q, its cells use A1:%s", sheet, dim, last)
		}
		ps, ok := setups[sheet]
		if !ok {
			t.Fatalf("sheet %s: no worksheet part found", sheet)
		}
		if !ps.fitToPage || ps.fitToWidth != 1 {
			t.Errorf("sheet %s is not fitted to one page wide: %+v", sheet, ps)
		}
		table := sheet != "About" && sheet != "Definitions" && sheet != "Chart" && sheet != "Contents"
		if !table {
			continue
		}
		if key, ok := names[sheet]; !ok || !key {
			t.Errorf("sheet %s: print titles do not repeat the header row and key columns on every page", sheet)
		}
		// A sheet carrying a selection says so in a first row of one
		// cell, above the header.
		head := rows[0]
		data := rows[1:]
		if len(rows) > 1 && len(rows[0]) == 1 && len(rows[1]) > 1 {
			head, data = rows[1], rows[2:]
			if !strings.Contains(rows[0][0], ".csv") {
				t.Errorf("sheet %s: note %q does not say where the rest is", sheet, rows[0][0])
			}
		}
		for c := 0; c < cols; c++ {
			filled := false
			for _, r := range data {
				filled = filled || (c < len(r) && r[c] != "")
			}
			if !filled && len(data) > 0 {
				t.Errorf("sheet %s: column %q is empty in every row", sheet, head[c])
			}
		}
		if asylum[sheet] {
			for i, r := range data {
				number := false
				for c, v := range r {
					if head[c] == "Year" {
						continue
					}
					if x, err := strconv.ParseFloat(v, 64); err == nil && x != 0 {
						number = true
					}
				}
				if !number {
					t.Errorf("sheet %s row %d carries no number: %v", sheet, i+2, r)
					break
				}
			}
		}
	}
	for _, zf := range zr.File {
		if strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
			rc, _ := zf.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			if bytes.Contains(b, []byte(`t="inlineStr"`)) {
				t.Errorf("%s holds inline strings, not shared ones", zf.Name)
			}
		}
	}
	if python, err := exec.LookPath("/usr/bin/python3"); err == nil {
		out, err := exec.Command(python, "-c", openpyxlScript, path).Output()
		if err != nil {
			t.Logf("openpyxl check skipped (python3-openpyxl not installed?): %v", err)
		} else {
			var got map[string][2]int
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			for sheet, want := range used {
				if got[sheet] != want {
					t.Errorf("openpyxl read-only sees sheet %s as %v rows x columns, its cells use %v", sheet, got[sheet], want)
				}
			}
		}
	}
	// The chart: a slot for every year from the first to the last (a
	// year without data, 2016, is an empty cell), one colour, titled axes.
	chart, _ := f.GetRows("Chart")
	empty := 0
	for i := 2; i < len(chart); i++ {
		prev, _ := strconv.Atoi(chart[i-1][0])
		if y, _ := strconv.Atoi(chart[i][0]); y != prev+1 {
			t.Errorf("chart rows %d and %d: years %d and %d are not consecutive", i, i+1, prev, y)
		}
		if len(chart[i]) < 2 || chart[i][1] == "" {
			empty++
		}
	}
	if len(chart) < 3 || empty != emptyYears {
		t.Errorf("chart has %d rows, %d of them without data; want %d without", len(chart), empty, emptyYears)
	}
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/charts/chart") {
			continue
		}
		rc, _ := zf.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		x := string(b)
		for _, want := range []string{`varyColors val="0"`, `<a:t>Year</a:t>`, `<a:t>Uniform visa applications</a:t>`, `srgbClr val="1F5F99"`, `dispBlanksAs val="gap"`} {
			if !strings.Contains(x, want) {
				t.Errorf("%s lacks %s", zf.Name, want)
			}
		}
	}
	// The MFA headline has its change: 846,000 (2023) on 512,000 (2022).
	rows, _ := f.GetRows("Headlines", excelize.Options{RawCellValue: true})
	found := false
	for _, r := range rows {
		if len(r) > 7 && strings.HasPrefix(r[2], "Visas issued by Russia") {
			found = true
			if c, err := strconv.ParseFloat(r[7], 64); err != nil || math.Abs(c-(846000.0/512000-1)) > 1e-9 {
				t.Errorf("MFA headline change %q, want %v", r[7], 846000.0/512000-1)
			}
		}
	}
	if !found {
		t.Error("no MFA headline")
	}
}

// sheetDataStart finds the start tag of a worksheet's cells.
var sheetDataStart = regexp.MustCompile(`<([A-Za-z_][A-Za-z0-9_.-]*:)?sheetData[\s/>]`)

// withoutSheetData returns a worksheet's XML without its cells (the
// sheetData element, which holds no print setup), so that reading the
// print setup does not tokenize every cell. XML it cannot cut is returned
// whole.
func withoutSheetData(b []byte) []byte {
	m := sheetDataStart.FindSubmatchIndex(b)
	if m == nil {
		return b
	}
	gt := bytes.IndexByte(b[m[0]:], '>')
	if gt < 0 || b[m[0]+gt-1] == '/' { // no end, or <sheetData/>
		return b
	}
	prefix := ""
	if m[2] >= 0 {
		prefix = string(b[m[2]:m[3]])
	}
	closing := []byte("</" + prefix + "sheetData>")
	end := bytes.Index(b[m[0]:], closing)
	if end < 0 {
		return b
	}
	return append(b[:m[0]:m[0]], b[m[0]+end+len(closing):]...)
}

// pageSetup is how a worksheet is set to print: fitted to the page
// (sheetPr/pageSetUpPr fitToPage) or at a scale in percent (pageSetup
// scale; 100 when not set, as the format says).
type pageSetup struct {
	fitToPage  bool
	scale      int
	fitToWidth int // pages wide when fitted; 1 when not set, as the format says
}

// The journalists' workbook of the shipped data stays small enough to open
// at once and to use: at most workbookMaxBytes and workbookMaxRows rows a
// sheet (issue 27; the full tables are in the CSV and Parquet files).
const (
	workbookMaxBytes = 3 << 20
	workbookMaxRows  = 20000
)

// pageSetups reads each worksheet's print setup from the workbook's XML,
// by sheet name, as a spreadsheet program reads it: the sheets and their
// parts from xl/workbook.xml and its relationships, then a scan of each
// part without its cells (withoutSheetData; excelize's GetPageLayout would
// parse every cell of a sheet first).
func pageSetups(t *testing.T, path string) map[string]pageSetup {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	parts := map[string]*zip.File{}
	for _, zf := range zr.File {
		parts[zf.Name] = zf
	}
	scan := func(name string, visit func(se xml.StartElement)) {
		zf, ok := parts[name]
		if !ok {
			t.Fatalf("%s: no part %s", path, name)
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s %s: %v", path, name, err)
		}
		d := xml.NewDecoder(bytes.NewReader(withoutSheetData(b)))
		for {
			tok, err := d.RawToken()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("%s %s: %v", path, name, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				visit(se)
			}
		}
	}
	attr := func(se xml.StartElement, local string) string {
		for _, a := range se.Attr {
			if a.Name.Local == local {
				return a.Value
			}
		}
		return ""
	}
	targets := map[string]string{} // relationship id -> part
	scan("xl/_rels/workbook.xml.rels", func(se xml.StartElement) {
		if se.Name.Local == "Relationship" {
			target := strings.TrimPrefix(attr(se, "Target"), "/")
			if !strings.HasPrefix(target, "xl/") {
				target = "xl/" + target
			}
			targets[attr(se, "Id")] = target
		}
	})
	sheets := map[string]string{} // name -> part
	scan("xl/workbook.xml", func(se xml.StartElement) {
		if se.Name.Local == "sheet" {
			sheets[attr(se, "name")] = targets[attr(se, "id")]
		}
	})
	out := map[string]pageSetup{}
	for name, part := range sheets {
		ps := pageSetup{scale: 100, fitToWidth: 1} // the defaults when pageSetup has none
		scan(part, func(se xml.StartElement) {
			switch se.Name.Local {
			case "pageSetUpPr":
				v := attr(se, "fitToPage")
				ps.fitToPage = v == "1" || v == "true"
			case "pageSetup":
				if v, err := strconv.Atoi(attr(se, "scale")); err == nil {
					ps.scale = v
				}
				if v, err := strconv.Atoi(attr(se, "fitToWidth")); err == nil {
					ps.fitToWidth = v
				}
			}
		})
		out[name] = ps
	}
	return out
}

// TestPageSetups checks the print setups pageSetups reads against
// excelize's reading of the same sheets, on the tiny build's workbook and
// on a copy with one sheet at 50% and another fitted to the page; and that
// withoutSheetData cuts only the cells.
func TestPageSetups(t *testing.T) {
	t.Parallel()
	path := filepath.Join(tinyBuild(t).Latest, WorkbookName)
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) < 3 {
		t.Fatalf("sheets %v", sheets)
	}
	fit, scaled := sheets[1], sheets[2]
	if err := f.SetPageLayout(scaled, &excelize.PageLayoutOptions{AdjustTo: new(uint(50))}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetProps(fit, &excelize.SheetPropsOptions{FitToPage: new(true)}); err != nil {
		t.Fatal(err)
	}
	edited := filepath.Join(t.TempDir(), "edited.xlsx")
	if err := f.SaveAs(edited); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, edited} {
		g, err := excelize.OpenFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got := pageSetups(t, p)
		for _, sheet := range sheets {
			layout, err := g.GetPageLayout(sheet)
			if err != nil {
				t.Fatal(err)
			}
			props, err := g.GetSheetProps(sheet)
			if err != nil {
				t.Fatal(err)
			}
			want := pageSetup{scale: 100, fitToWidth: 1, fitToPage: props.FitToPage != nil && *props.FitToPage}
			if layout.AdjustTo != nil {
				want.scale = int(*layout.AdjustTo)
			}
			if layout.FitToWidth != nil {
				want.fitToWidth = *layout.FitToWidth
			}
			if got[sheet] != want {
				t.Errorf("%s sheet %s: print setup %+v, excelize reads %+v", filepath.Base(p), sheet, got[sheet], want)
			}
		}
		g.Close()
		if p == edited && (got[scaled].scale != 50 || !got[fit].fitToPage) {
			t.Errorf("edited workbook: %s at %d%%, %s fitted %v", scaled, got[scaled].scale, fit, got[fit].fitToPage)
		}
	}
	for _, c := range []struct{ in, want string }{
		{`<worksheet><sheetPr/><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData><pageSetup scale="50"/></worksheet>`, `<worksheet><sheetPr/><pageSetup scale="50"/></worksheet>`},
		{`<x:worksheet><x:sheetData><x:row/></x:sheetData><x:pageSetup/></x:worksheet>`, `<x:worksheet><x:pageSetup/></x:worksheet>`},
		{`<worksheet><sheetData/><pageSetup/></worksheet>`, `<worksheet><sheetData/><pageSetup/></worksheet>`},
		{`<worksheet><sheetDataX/><sheetData><row/></worksheet>`, `<worksheet><sheetDataX/><sheetData><row/></worksheet>`},
	} {
		if got := string(withoutSheetData([]byte(c.in))); got != c.want {
			t.Errorf("withoutSheetData(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

// sheetOf is the name of table's sheet in the workbooks.
func sheetOf(t *testing.T, table string) string {
	t.Helper()
	for _, ws := range workbookSheets {
		if ws.table == table {
			return ws.sheet
		}
	}
	t.Fatalf("table %s has no sheet", table)
	return ""
}

// TestTopicWorkbook checks a topic workbook as a journalist opens it: the
// Contents sheet first, listing its sheets; its own Headlines sheet, which
// its About sheet refers to; its sheets restricted to the country, with
// no note of a selection (the main workbook's).
func TestTopicWorkbook(t *testing.T) {
	t.Parallel()
	path := filepath.Join(fullBuild(t).Latest, "russia.xlsx")
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) < 4 || sheets[0] != "Contents" || sheets[1] != "About" || sheets[2] != sheetOf(t, "headlines") {
		t.Fatalf("russia.xlsx sheets %v: want Contents, About, Headlines first", sheets)
	}
	contents, _ := f.GetRows("Contents")
	listed := map[string]bool{}
	for _, r := range contents[3:] {
		listed[r[0]] = true
	}
	for _, s := range sheets[1:] {
		if !listed[s] {
			t.Errorf("Contents does not list sheet %s", s)
		}
	}
	about, _ := f.GetRows("About")
	refers := false
	for _, r := range about {
		refers = refers || (len(r) > 0 && strings.Contains(r[0], "The "+sheetOf(t, "headlines")+" sheet says how each key figure was computed"))
	}
	if !refers {
		t.Error("the About sheet does not refer to the Headlines sheet")
	}
	headlines, _ := f.GetRows(sheetOf(t, "headlines"))
	if len(headlines) < 2 {
		t.Errorf("the Headlines sheet has %d rows", len(headlines))
	}
	decisions, _ := f.GetRows(sheetOf(t, "asylum_decisions_compared"))
	if len(decisions) < 2 || decisions[0][0] != "Country of asylum (code)" {
		t.Fatalf("decisions sheet starts %v, want its header (a topic workbook carries every row about its country)", decisions[:min(1, len(decisions))])
	}
	for _, r := range decisions[1:] {
		if r[2] != "RU" {
			t.Errorf("russia.xlsx decisions row of origin %s", r[2])
			break
		}
	}
}
