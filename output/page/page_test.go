package page

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/visastats/visastats/output/release"
)

// TestWriteStatic renders the static page of a real release's report: the
// release's figures, every file linked relative to the page, and no link
// that needs the server.
func TestWriteStatic(t *testing.T) {
	report, err := os.ReadFile("../serve/testdata/release/20261125T175458Z/run.json")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteStatic(&buf, report); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		"<h1>Release 20261125T175458Z</h1>", "520,402", "<svg",
		`<a href="observations.parquet" download>observations.parquet</a>`,
		`<a href="visastats.xlsx" download>visastats.xlsx</a>`,
		`<a href="run.json" download>run.json</a>`, `<a href="datapackage.json">schema documentation</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("static page lacks %s", want)
		}
	}
	for _, m := range regexp.MustCompile(`(href|src)="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		if strings.HasPrefix(m[2], "/") {
			t.Errorf("static page links %s, which needs the server", m[2])
		}
	}
	if strings.Contains(html, "<script") {
		t.Error("static page has a script")
	}
	if strings.Contains(html, `href="index.html"`) {
		t.Error("static page lists itself")
	}
}

// TestWriteStaticCoverageAndRows shows the release's coverage, a line per
// source, and a dash, never -1, for the rows of a file that is not a table
// (run.json records -1 for CITATION.cff and index.html).
func TestWriteStaticCoverageAndRows(t *testing.T) {
	rep := release.Report{
		Release: "20261207T133900Z",
		Files: []release.File{
			{Name: "headlines.csv", Rows: 10, Size: 3239},
			{Name: "CITATION.cff", Rows: -1, Size: 2153},
		},
		Coverage: []release.Coverage{
			{Source: "ec_schengen_consulates", Label: "EC visas", FirstYear: 2009, LastYear: 2024,
				Line: "EC visas: applications and decisions at consulates 2009-2010, 2012-2024 (no 2011), 28 Schengen States"},
			{Source: "unhcr", Label: "UNHCR", FirstYear: 2000, LastYear: 2025,
				Line: "UNHCR: asylum applications 2000-2025, 186 countries of asylum"},
		},
	}
	report, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteStatic(&buf, report); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, c := range rep.Coverage {
		if !strings.Contains(html, "<li>"+c.Line+"</li>") {
			t.Errorf("page lacks the coverage line %q", c.Line)
		}
	}
	row := regexp.MustCompile(`(?s)<tr><th scope="row"><a href="CITATION.cff".*?</tr>`).FindString(html)
	if row == "" {
		t.Fatal("page lists no CITATION.cff")
	}
	if strings.Contains(row, "−1") || strings.Contains(row, "-1") {
		t.Errorf("CITATION.cff shows -1 rows: %s", row)
	}
	if !strings.HasSuffix(row, `<td class="num hide-narrow">–</td></tr>`) {
		t.Errorf("CITATION.cff's rows are not a dash: %s", row)
	}
	if !strings.Contains(html, `<td class="num hide-narrow">10</td></tr>`) {
		t.Error("headlines.csv's 10 rows are not shown")
	}
}

// TestWriteStaticProfiles links a release's country profiles from its
// page, with how many there are, and leaves their files (a page and three
// files a chart per country) out of the table of files.
func TestWriteStaticProfiles(t *testing.T) {
	rep := release.Report{
		Release: "20261207T133900Z",
		Files: []release.File{
			{Name: "headlines.csv", Rows: 10, Size: 3239},
			{Name: "countries/RU/schengen_visas.svg", Rows: -1, Size: 15556},
			{Name: "countries/RU/schengen_visas.png", Rows: -1, Size: 493486},
			{Name: "countries/RU/schengen_visas.csv", Rows: -1, Size: 364},
			{Name: "countries/RU.html", Rows: -1, Size: 186450},
			{Name: "countries/TR.html", Rows: -1, Size: 120000},
			{Name: "countries/charts.json", Rows: -1, Size: 1000},
			{Name: "countries/index.html", Rows: -1, Size: 40000},
		},
	}
	report, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteStatic(&buf, report); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if !strings.Contains(html, `<a href="countries/index.html">Country profiles</a> (2 countries)`) {
		t.Error("the page does not link the profiles with their number")
	}
	if strings.Contains(html, "countries/RU") || strings.Contains(html, "charts.json") {
		t.Error("the table of files lists the profiles' files")
	}
	if !strings.Contains(html, `href="headlines.csv"`) {
		t.Error("headlines.csv is not listed")
	}
	rep.Files = rep.Files[:1]
	report, _ = json.Marshal(rep)
	buf.Reset()
	if err := WriteStatic(&buf, report); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "Country profiles") {
		t.Error("a release without profiles links them")
	}
}
