package output

import (
	"archive/zip"
	"context"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// zipPart returns the content of one part of the workbook at path.
func zipPart(t *testing.T, path, name string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if zf.Name != name {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	t.Fatalf("%s has no part %s", path, name)
	return ""
}

// TestWorkbookLayout checks what a journalist meets: the Contents sheet
// first, listing every sheet with what it holds and its rows; a bounded
// sheet's note above its header; the header and the key columns repeated
// on every printed page, each sheet fitted to one page wide; text in the
// shared string table, not inline; booleans as Yes and No; and document
// properties dated at the release.
func TestWorkbookLayout(t *testing.T) {
	db := openDB(t)
	path := filepath.Join(t.TempDir(), "w.xlsx")
	released := time.Date(2026, 3, 1, 6, 30, 0, 0, time.UTC)
	const note = "This sheet holds two countries; every country is in host.csv."
	flags := `SELECT host_country, year, year = 2023 AS latest FROM (` + hostCountryYear + `)`
	sheets := []TableSheet{
		{Name: "Visas by consulate country", Columns: hostCountryColumns, Query: querySheet(db, hostCountryYear),
			Description: "Schengen visas by country where the consulates are located", Note: note, KeyColumns: 3},
		{Name: "Latest", Columns: []Column{{Header: "host_country", Format: FormatCode}, {Header: "year", Format: FormatYear}, {Header: "latest", Format: FormatText}},
			Query: querySheet(db, flags), Description: "Which year is the latest", KeyColumns: 2,
			Present: func(row []any, formats []string) {
				if row[0] == "TR" {
					row[0] = "Türkiye"
					formats[1] = `0" AD"`
				}
			}},
	}
	_, err := WriteWorkbookOptions(context.Background(), path, AboutSheet{Title: "visastats: test"}, sheets,
		WorkbookOptions{Definitions: DefinitionsOnSheet, Created: released})
	if err != nil {
		t.Fatal(err)
	}
	f := openWorkbook(t, path)

	contents, err := f.GetRows(ContentsSheet)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, r := range contents[3:] {
		listed = append(listed, strings.Join(r, " | "))
	}
	want := []string{
		"About | " + aboutDescription,
		"Visas by consulate country | Schengen visas by country where the consulates are located. " + note + " | 4",
		"Latest | Which year is the latest | 4",
		"Definitions | " + definitionsDescription + " | 0",
	}
	if strings.Join(listed, "\n") != strings.Join(want, "\n") {
		t.Errorf("Contents lists\n%s\nwant\n%s", strings.Join(listed, "\n"), strings.Join(want, "\n"))
	}
	if link, target, _ := f.GetCellHyperLink(ContentsSheet, "A5"); !link || target != "'Visas by consulate country'!A1" {
		t.Errorf("Contents A5 links to %q (%v)", target, link)
	}

	rows, err := f.GetRows("Visas by consulate country")
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != note || rows[1][0] != "Country code" || rows[2][0] != "RU" || len(rows) != 6 {
		t.Errorf("bounded sheet starts %q / %q / %q, %d rows; want the note, the header, the data (6 rows)", rows[0][0], rows[1][0], rows[2][0], len(rows))
	}
	latest, _ := f.GetRows("Latest")
	if got := latest[1][2] + " " + latest[2][2]; got != "No Yes" {
		t.Errorf("booleans read %q, want No Yes", got)
	}
	// Present rewrote TR's rows and formatted their year; RU's kept theirs.
	if got := latest[2][0] + " " + latest[2][1] + ", " + latest[3][0] + " " + latest[3][1]; got != "RU 2023, Türkiye 2022 AD" {
		t.Errorf("presented rows read %q", got)
	}
	// No definition has a formula: the Definitions sheet has no Formula
	// column.
	if defs, _ := f.GetRows(DefinitionsSheet); len(defs) > 0 && slices.Contains(defs[0], "Formula") {
		t.Errorf("Definitions header %v has an empty Formula column", defs[0])
	}

	titles := map[string]string{}
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm.Print_Titles" {
			titles[dn.Scope] = dn.RefersTo
		}
	}
	for sheet, want := range map[string]string{
		"Visas by consulate country": "'Visas by consulate country'!$A:$C,'Visas by consulate country'!$2:$2",
		"Latest":                     "'Latest'!$A:$B,'Latest'!$1:$1",
		ContentsSheet:                "'Contents'!$A:$A,'Contents'!$3:$3",
	} {
		if titles[sheet] != want {
			t.Errorf("sheet %s print titles %q, want %q", sheet, titles[sheet], want)
		}
	}
	for _, sheet := range f.GetSheetList() {
		layout, err := f.GetPageLayout(sheet)
		if err != nil {
			t.Fatal(err)
		}
		props, err := f.GetSheetProps(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if layout.FitToWidth == nil || *layout.FitToWidth != 1 || layout.FitToHeight == nil || *layout.FitToHeight != 0 || props.FitToPage == nil || !*props.FitToPage {
			t.Errorf("sheet %s is not fitted to one page wide", sheet)
		}
	}

	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
			if x := zipPart(t, path, zf.Name); strings.Contains(x, "inlineStr") {
				t.Errorf("%s holds inline strings", zf.Name)
			}
		}
	}
	sst := zipPart(t, path, "xl/sharedStrings.xml")
	if strings.Count(sst, "<t>Russian Federation</t>") != 1 {
		t.Errorf("shared strings hold Russian Federation %d times, want once", strings.Count(sst, "<t>Russian Federation</t>"))
	}

	core := zipPart(t, path, "docProps/core.xml")
	for _, want := range []string{"2026-03-01T06:30:00Z</dcterms:created>", "2026-03-01T06:30:00Z</dcterms:modified>", "<dc:title>visastats: test</dc:title>", "<dc:creator>visastats</dc:creator>"} {
		if !strings.Contains(core, want) {
			t.Errorf("docProps/core.xml lacks %s: %s", want, core)
		}
	}
}

// TestSharedStringsPart checks the rewriting of inline strings on its own:
// text with outer spaces keeps xml:space, rich text stays inline, numbers
// follow excelize's own strings, and the counts are updated.
func TestSharedStringsPart(t *testing.T) {
	s := newStringTable(2)
	sheet := `<row r="1"><c r="A1" s="3" t="inlineStr"><is><t>Paris</t></is></c><c r="B1" t="inlineStr"><is><t xml:space="preserve"> a &amp; b </t></is></c>` +
		`<c r="C1" t="inlineStr"><is><r><t>rich</t></r></is></c><c r="D1" t="inlineStr"><is><t>Paris</t></is></c><c r="E1"><v>7</v></c></row>`
	got := string(s.share([]byte(sheet)))
	want := `<row r="1"><c r="A1" s="3" t="s"><v>2</v></c><c r="B1" t="s"><v>3</v></c>` +
		`<c r="C1" t="inlineStr"><is><r><t>rich</t></r></is></c><c r="D1" t="s"><v>2</v></c><c r="E1"><v>7</v></c></row>`
	if got != want {
		t.Errorf("share:\n got %s\nwant %s", got, want)
	}
	var b strings.Builder
	if err := s.writeTable(&b, []byte(`<?xml version="1.0"?><sst xmlns="x" count="5" uniqueCount="2"><si><t>Year</t></si><si><t>2009</t></si></sst>`)); err != nil {
		t.Fatal(err)
	}
	if want := `<?xml version="1.0"?><sst xmlns="x" count="5" uniqueCount="4"><si><t>Year</t></si><si><t>2009</t></si><si><t>Paris</t></si><si><t xml:space="preserve"> a &amp; b </t></si></sst>`; b.String() != want {
		t.Errorf("writeTable:\n got %s\nwant %s", b.String(), want)
	}
	if err := s.writeTable(io.Discard, []byte(`<sst><si><t>Year</t></si></sst>`)); err == nil {
		t.Error("a table of 1 string, numbered after 2, is accepted")
	}
}
