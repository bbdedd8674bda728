package profile

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/visastats/visastats/output/page"
	"github.com/visastats/visastats/output/plot"
	"github.com/visastats/visastats/output/release"
)

func num(v float64) *float64 { return &v }

// russia is a profile with real figures: uniform visa applications and
// visas issued at consulates located in Russia (EC workbooks 2009-2024,
// none for 2011), and UNHCR decisions on Russians in France, the last
// year given here as a half year to show how a partial value reads.
func russia() Country {
	years := func(from, to int) []string {
		var ys []string
		for y := from; y <= to; y++ {
			ys = append(ys, strconv.Itoa(y))
		}
		return ys
	}
	return Country{
		Code: "RU", Name: "Russian Federation", Release: "20261207T133900Z",
		GeneratedAt: time.Date(2026, 12, 7, 13, 39, 0, 0, time.UTC),
		Schengen: &Section{
			Charts: []plot.Chart{{
				ID: "schengen_visas", Title: "Schengen visas at consulates located in Russian Federation",
				Subtitle: "Uniform (short-stay) visa applications lodged and visas issued there, whatever the applicant's nationality",
				Unit:     "applications, visas", XTitle: "Year", Kind: plot.KindLine, Categories: years(2009, 2014),
				Series: []plot.Series{
					{Name: "Uniform visa applications", Values: []*float64{num(3241940), num(4222551), nil, num(6069001), num(6995221), num(5768182)}},
					{Name: "Uniform visas issued", Values: []*float64{num(3170652), num(4120704), nil, num(5939644), num(6893346), num(5702624)}},
				},
				Source: "European Commission, Visa statistics for consulates, 2009-2010, 2012-2014",
				Notes:  []string{"2011: no EC workbook is loaded for this year"},
			}},
			Tables: []Table{{ID: "schengen-figures", Caption: "Schengen visas at consulates located here, by year",
				Head:  []string{"Year", "Applications", "Refusal rate"},
				Rows:  [][]Cell{{Text("2023", ""), Count(ptr(int64(520402))), Rate(num(0.1057331092463159))}},
				Notes: []string{"2009: applications not measured in 2009."}}},
		},
		Asylum: &Section{Charts: []plot.Chart{{
			ID: "asylum_recognition", Title: "Share of asylum decisions on citizens of Russian Federation that grant protection",
			Unit: "% of decisions on the merits", Percent: true, XTitle: "Year", Kind: plot.KindLine, Categories: years(2022, 2024),
			Series: []plot.Series{{Name: "France, UNHCR all stages", Values: []*float64{num(0.3427027027027027), num(0.28902662993572087), num(0.26975417032484633)},
				Partial: []bool{false, false, true}}},
			Source:      "UNHCR, Refugee Data Finder, 2022-2024",
			PartialNote: "Jan-Jun only",
		}}},
		Claims: []page.ClaimRow{page.ClaimRowOf(release.Claim{ID: "ru", Statement: "a 24% decrease in 2023", Source: "a news article",
			Status: "reproduced", Expected: -24, Actual: num(-24.279170740792477), Unit: "percent",
			Caveat: "The EC data count applications lodged at Schengen consulates located in Russia, whatever the applicant's nationality."})},
	}
}

func ptr(v int64) *int64 { return &v }

// TestWrite writes a real profile and reads it back as a reader's browser
// and a newsroom's tools would: a static page with relative links only, no
// script, the charts inline with their title, unit, source and notes
// beside them, and each chart's SVG, PNG and CSV of exactly the numbers
// drawn.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	rows, files, err := w.Write(russia())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"countries/RU/schengen_visas.svg", "countries/RU/schengen_visas.png", "countries/RU/schengen_visas.csv",
		"countries/RU/asylum_recognition.svg", "countries/RU/asylum_recognition.png", "countries/RU/asylum_recognition.csv",
		"countries/RU.html",
	}
	if !slices.Equal(files, want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	for _, f := range files {
		if !release.IsProfileFile(f) {
			t.Errorf("%s is not a profile file by the release's layout", f)
		}
	}
	html := read(t, dir, "countries/RU.html")
	for _, s := range []string{
		`<html lang="en">`, `<meta name="viewport" content="width=device-width, initial-scale=1">`, "@media print",
		"whatever the applicant's nationality", "UNHCR counts decisions at all procedure stages", "first-instance decisions",
		`<svg xmlns="http://www.w3.org/2000/svg"`, `role="img"`,
		"<h3 id=\"schengen_visas\">Schengen visas at consulates located in Russian Federation</h3>",
		"<dt>Unit</dt><dd>applications, visas</dd>", "<dt>Source</dt><dd>European Commission, Visa statistics for consulates, 2009-2010, 2012-2014</dd>",
		"<li>2011: no EC workbook is loaded for this year</li>",
		`<a href="RU/schengen_visas.png">PNG</a>`, `<a href="RU/schengen_visas.csv" download>`, `href="../index.html"`, `href="index.html"`,
		"<td class=\"num\">6,995,221</td>", "<td class=\"num\">–</td>", "34.3%", "27.0% (Jan-Jun only)", "520,402", "10.57%",
		"Reproduced, with a caveat", "2009: applications not measured in 2009.",
	} {
		if !strings.Contains(html, strings.TrimSpace(s)) {
			t.Errorf("RU.html lacks %s", s)
		}
	}
	if strings.Contains(html, "<script") || strings.Contains(html, " src=") {
		t.Error("RU.html loads a script or a resource")
	}
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		if strings.HasPrefix(m[1], "/") || strings.Contains(m[1], "://") {
			t.Errorf("RU.html links %s: static pages link relatively", m[1])
		}
	}
	// The page is well-formed enough for an XML reader once its doctype is
	// dropped: every element closes.
	d := xml.NewDecoder(strings.NewReader(strings.TrimPrefix(html, "<!doctype html>")))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("RU.html: %v", err)
		}
	}

	if got, want := read(t, dir, "countries/RU/schengen_visas.csv"),
		"year,Uniform visa applications,Uniform visas issued\n2009,3241940,3170652\n2010,4222551,4120704\n2011,,\n2012,6069001,5939644\n2013,6995221,6893346\n2014,5768182,5702624\n"; got != want {
		t.Errorf("schengen_visas.csv:\n%s\nwant:\n%s", got, want)
	}
	if got, want := read(t, dir, "countries/RU/asylum_recognition.csv"),
		"year,\"France, UNHCR all stages (%)\",\"France, UNHCR all stages partial period\"\n2022,34.3,\n2023,28.9,\n2024,27,Jan-Jun only\n"; got != want {
		t.Errorf("asylum_recognition.csv:\n%s\nwant:\n%s", got, want)
	}
	img, err := png.Decode(bytes.NewReader([]byte(read(t, dir, "countries/RU/schengen_visas.png"))))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() < 600 {
		t.Errorf("PNG %v wide", img.Bounds())
	}
	sd := xml.NewDecoder(strings.NewReader(read(t, dir, "countries/RU/schengen_visas.svg")))
	for {
		if _, err := sd.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("schengen_visas.svg is not XML: %v", err)
		}
	}

	if len(rows) != 2 || rows[0].Chart != "schengen_visas" || rows[0].CSV != "countries/RU/schengen_visas.csv" ||
		!slices.Equal(rows[0].Columns, []string{"year", "Uniform visa applications", "Uniform visas issued"}) || rows[0].Rows != 6 ||
		!slices.Equal(rows[0].Series, []string{"Uniform visa applications", "Uniform visas issued"}) {
		t.Errorf("catalogue rows %+v", rows)
	}
	if _, err := w.WriteCatalogue(Catalogue{Release: "20261207T133900Z", Charts: rows}); err != nil {
		t.Fatal(err)
	}
	cat, err := ReadCatalogue(dir)
	if err != nil || len(cat.Charts) != 2 || cat.Charts[1].Unit != "% of decisions on the merits" || !cat.Charts[1].Percent {
		t.Errorf("catalogue read back: %+v, %v", cat, err)
	}
}

// TestWriteIndex lists the countries by name under their first letter,
// accents aside, each linked relatively.
func TestWriteIndex(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	name, err := w.WriteIndex(Index{Release: "20261207T133900Z", Countries: []Entry{
		{Code: "RU", Name: "Russian Federation", Schengen: true, Asylum: true, Own: true, Charts: 7},
		{Code: "AX", Name: "Åland Islands"},
		{Code: "AF", Name: "Afghanistan", Asylum: true, Charts: 1},
		{Code: "CI", Name: "Côte d'Ivoire", Schengen: true, Charts: 3},
	}})
	if err != nil || name != release.ProfilesIndex {
		t.Fatalf("%s, %v", name, err)
	}
	html := read(t, dir, name)
	a, c, r := strings.Index(html, `<h2 id="letter-1">A</h2>`), strings.Index(html, `<h2 id="letter-2">C</h2>`), strings.Index(html, `<h2 id="letter-3">R</h2>`)
	if a < 0 || c < a || r < c {
		t.Fatalf("letters out of order or missing: %d %d %d\n%s", a, c, r, html)
	}
	if af, ax := strings.Index(html, `href="AF.html"`), strings.Index(html, `href="AX.html"`); af < 0 || ax < af || ax > c {
		t.Errorf("Afghanistan and Åland Islands not both under A, in order")
	}
	for _, s := range []string{"visas at consulates · asylum · own figures · 7 charts", "asylum · 1 chart<", `<a href="../index.html">`, "4 countries"} {
		if !strings.Contains(html, s) {
			t.Errorf("index lacks %s", s)
		}
	}
	if strings.Contains(html, "<script") {
		t.Error("the index needs a script")
	}
}

// TestWriteRejects: a chart that plot refuses, or a code that cannot name
// a file, fails the profile with the country and the chart named.
func TestWriteRejects(t *testing.T) {
	w, err := NewWriter(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := russia()
	c.Schengen.Charts[0].Source = ""
	if _, _, err := w.Write(c); err == nil || !strings.Contains(err.Error(), "profile RU chart schengen_visas") {
		t.Errorf("chart without a source: %v", err)
	}
	c = russia()
	c.Code = "../RU"
	if _, _, err := w.Write(c); err == nil {
		t.Error("a code with a path was written")
	}
	c = russia()
	c.Asylum.Charts[0].ID = "schengen_visas"
	if _, _, err := w.Write(c); err == nil || !strings.Contains(err.Error(), "used once") {
		t.Errorf("two charts of one id: %v", err)
	}
}

func read(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
