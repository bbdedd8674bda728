package plot

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestValidateAcceptsFixtures(t *testing.T) {
	for name, c := range allCharts() {
		t.Run(name, func(t *testing.T) {
			if err := Validate(c); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Chart)
		want   []string // substrings of the message, which names chart and series
	}{
		{"ID with a capital", func(c *Chart) { c.ID = "Schengen" }, []string{`chart "Schengen"`, "plain lower-case"}},
		{"ID with a dash", func(c *Chart) { c.ID = "schengen-applications" }, []string{"plain lower-case"}},
		{"no ID", func(c *Chart) { c.ID = "" }, []string{`chart ""`, "plain lower-case"}},
		{"unknown kind", func(c *Chart) { c.Kind = "pie" }, []string{`chart "schengen_applications"`, `kind "pie"`}},
		{"no title", func(c *Chart) { c.Title = "" }, []string{"no title"}},
		{"no source", func(c *Chart) { c.Source = "" }, []string{"no source"}},
		{"series too short", func(c *Chart) { c.Series[0].Values = c.Series[0].Values[:14] }, []string{
			`chart "schengen_applications" series 1 "Applications"`, "14 values for 15 categories"}},
		{"series too long", func(c *Chart) { c.Series[0].Values = append(c.Series[0].Values, num(1)) }, []string{
			`series 1 "Applications"`, "16 values for 15 categories"}},
		{"partial flags of another length", func(c *Chart) { c.Series[0].Partial = []bool{true} }, []string{
			`series 1 "Applications"`, "1 partial flags for 15 categories"}},
		{"partial flag on a missing value", func(c *Chart) {
			c.Series[0].Partial = make([]bool, 15)
			c.Series[0].Partial[2] = true
		}, []string{`series 1 "Applications"`, `category "2011" is marked partial but has no value`}},
		{"not a number", func(c *Chart) { c.Series[0].Values[0] = num(math.NaN()) }, []string{
			`series 1 "Applications"`, `category "2009"`, "not a number"}},
		{"no values at all", func(c *Chart) { c.Series[0].Values = make([]*float64, 15) }, []string{"no values"}},
		{"no series", func(c *Chart) { c.Series = nil }, []string{"no series"}},
		{"unnamed series", func(c *Chart) { c.Series[0].Name = "" }, []string{"series 1", "no name"}},
		{"two series of one name", func(c *Chart) { c.Series = append(c.Series, c.Series[0]) }, []string{
			`two CSV columns would be named "Applications"`}},
		{"too many series", func(c *Chart) {
			for i := range MaxSeries {
				s := c.Series[0]
				s.Name = fmt.Sprint("Series ", i)
				c.Series = append(c.Series, s)
			}
		}, []string{"8 series, more than the 7"}},
		{"no categories", func(c *Chart) { c.Categories = nil }, []string{"no categories"}},
		{"repeated category", func(c *Chart) { c.Categories[1] = "2009" }, []string{`category "2009" appears twice`}},
		{"control character", func(c *Chart) { c.Title = "Visas\x00" }, []string{"title holds the control character U+0000"}},
		{"empty note", func(c *Chart) { c.Notes = append(c.Notes, "") }, []string{"note 3 is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := russiaApplications()
			tt.change(&c)
			err := Validate(c)
			if err == nil {
				t.Fatal("Validate accepted the chart")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestWritersRejectInvalidCharts(t *testing.T) {
	c := russiaApplications()
	c.Series[0].Values = c.Series[0].Values[:3]
	writers := map[string]func(*bytes.Buffer) error{
		"svg": func(b *bytes.Buffer) error { return WriteSVG(b, c) },
		"png": func(b *bytes.Buffer) error { return WritePNG(b, c) },
		"csv": func(b *bytes.Buffer) error { return WriteCSV(b, c) },
		"inline": func(b *bytes.Buffer) error {
			out, err := InlineSVG(c)
			b.Write(out)
			return err
		},
		"describe": func(b *bytes.Buffer) error {
			out, err := Describe(c)
			b.WriteString(out)
			return err
		},
	}
	for name, write := range writers {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			err := write(&b)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Series != 1 || ve.SeriesName != "Applications" {
				t.Fatalf("error %v; want a *ValidationError on series 1", err)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %d bytes for an invalid chart", b.Len())
			}
		})
	}
}

// TestInlineSVG checks what a page needs of an inlined chart.
func TestInlineSVG(t *testing.T) {
	for name, c := range allCharts() {
		t.Run(name, func(t *testing.T) {
			b, err := InlineSVG(c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte("<svg ")) {
				t.Errorf("inline SVG starts with %q, want the <svg> element", b[:min(len(b), 40)])
			}
			for _, bad := range []string{"<?xml", "<!DOCTYPE", "<!--", "xlink", "Liberation Sans;"} {
				if bytes.Contains(b, []byte(bad)) {
					t.Errorf("inline SVG contains %q", bad)
				}
			}
			root := parseSVG(t, b)
			if root.XMLName.Space != "http://www.w3.org/2000/svg" || root.XMLName.Local != "svg" {
				t.Errorf("root is %v, want svg in the SVG namespace", root.XMLName)
			}
			if got := root.attr("viewBox"); !strings.HasPrefix(got, "0 0 460.8 ") {
				t.Errorf("viewBox = %q", got)
			}
			for _, a := range []string{"width", "height"} {
				if root.attr(a) != "" {
					t.Errorf("root has %s=%q; CSS must size it", a, root.attr(a))
				}
			}
			if root.attr("role") != "img" {
				t.Errorf("role = %q, want img", root.attr("role"))
			}
			wantLabel := c.ID + "-title " + c.ID + "-desc"
			if got := root.attr("aria-labelledby"); got != wantLabel {
				t.Errorf("aria-labelledby = %q, want %q", got, wantLabel)
			}
			if len(root.Children) < 3 {
				t.Fatalf("root has %d children", len(root.Children))
			}
			title, desc := root.Children[0], root.Children[1]
			if title.XMLName.Local != "title" || title.attr("id") != c.ID+"-title" || title.Text != c.Title {
				t.Errorf("first child = <%s id=%q>%s, want the title", title.XMLName.Local, title.attr("id"), title.Text)
			}
			want, err := Describe(c)
			if err != nil {
				t.Fatal(err)
			}
			if desc.XMLName.Local != "desc" || desc.attr("id") != c.ID+"-desc" || desc.Text != want {
				t.Errorf("second child = <%s id=%q>%s, want the description", desc.XMLName.Local, desc.attr("id"), desc.Text)
			}
			root.walk(func(n svgNode) {
				if id := n.attr("id"); id != "" && !strings.HasPrefix(id, c.ID+"-") {
					t.Errorf("id %q does not start with the chart's ID", id)
				}
			})
		})
	}
}

// TestSVGEscapesText: markup characters in any text stay text.
func TestSVGEscapesText(t *testing.T) {
	c := franceDecisions()
	c.Title = `Decisions <"all"> & 'recognised'`
	c.Categories[3] = "2024 <H1&H2>"
	c.Series[1].Name = "Recognised & <protected>"
	c.Source = "UNHCR & Eurostat </text>"
	b, err := InlineSVG(c)
	if err != nil {
		t.Fatal(err)
	}
	root := parseSVG(t, b)
	if root.Children[0].Text != c.Title {
		t.Errorf("title = %q, want %q", root.Children[0].Text, c.Title)
	}
	txt := texts(root)
	for _, w := range []string{"2024 <H1&H2>", "Recognised & <protected>", "Source: UNHCR & Eurostat </text>"} {
		if !slices.Contains(txt, w) {
			t.Errorf("no text %q in %q", w, txt)
		}
	}
}

func TestWriteSVGStandalone(t *testing.T) {
	c := russiaApplications()
	var b bytes.Buffer
	if err := WriteSVG(&b, c); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n<svg ")) {
		t.Errorf("standalone SVG starts with %q", b.Bytes()[:60])
	}
	root := parseSVG(t, b.Bytes())
	if root.attr("width") != "460.8pt" || root.attr("height") == "" {
		t.Errorf("width, height = %q, %q", root.attr("width"), root.attr("height"))
	}
	inline, err := InlineSVG(c)
	if err != nil {
		t.Fatal(err)
	}
	// The same drawing, only the root element differs.
	if !bytes.HasSuffix(b.Bytes(), inline[bytes.IndexByte(inline, '>'):]) {
		t.Error("standalone and inline SVG differ past the root element")
	}
}

// seriesBlue is the first series' colour as gonum writes it.
const seriesBlue = "#0072B2"

// TestLineGaps checks that a missing value breaks the line and a partial
// value is a ring of its own, counting the moves and points of the paths
// drawn in the series' colour.
func TestLineGaps(t *testing.T) {
	tests := []struct {
		name      string
		chart     Chart
		runPoints []int // points of each polyline, in order
		rings     int   // the legend's included
	}{
		// 2009-2010 | 2011 missing | 2012-2014 | 2015-2020 missing | 2021-2023
		{"russia applications", russiaApplications(), []int{2, 3, 3}, 0},
		// 2021-2022, then 2023 (Jan-Jun) alone.
		{"unhcr partial", unhcrApplications(KindLine), []int{2}, 1 + 1},
		{"recognition rate", franceRecognition(), []int{3}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := InlineSVG(tt.chart)
			if err != nil {
				t.Fatal(err)
			}
			root := parseSVG(t, b)
			lines := paths(root, map[string]string{"stroke": seriesBlue, "stroke-width": "2.5"})
			var got []int
			for _, d := range lines {
				if n := strings.Count(d, "M"); n != 1 {
					t.Errorf("path %q has %d move-to commands, want one per path", d, n)
				}
				if strings.ContainsAny(d, "AZ") {
					t.Errorf("line path %q has arcs or is closed", d)
				}
				got = append(got, 1+strings.Count(d, "L"))
			}
			if !slices.Equal(got, tt.runPoints) {
				t.Errorf("line runs have %v points, want %v", got, tt.runPoints)
			}
			rings := paths(root, map[string]string{"stroke": seriesBlue, "stroke-width": "2"})
			if len(rings) != tt.rings {
				t.Errorf("%d hollow markers, want %d", len(rings), tt.rings)
			}
			for _, d := range rings {
				if !strings.Contains(d, "A") {
					t.Errorf("partial marker %q is not a circle", d)
				}
			}
		})
	}
}

func TestColumns(t *testing.T) {
	tests := []struct {
		name      string
		chart     Chart
		solid     int // columns filled in the first series' colour, legend swatch included
		tinted    int // partial columns, legend swatch included
		naLabels  int
		legendFor []string
	}{
		// 2021 has no value in either series: no column of height zero, "n/a".
		{"two series with a gap", franceDecisions(), 3 + 1, 0, 1, []string{"All decisions", "Recognised"}},
		{"partial last year", unhcrApplications(KindColumn), 2, 1 + 1, 0, []string{"Jan-Jun only"}},
		{"one series", eurostatFirstTime(), 5, 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := InlineSVG(tt.chart)
			if err != nil {
				t.Fatal(err)
			}
			root := parseSVG(t, b)
			if got := len(paths(root, map[string]string{"fill": seriesBlue})); got != tt.solid {
				t.Errorf("%d solid shapes, want %d", got, tt.solid)
			}
			tinted := paths(root, map[string]string{"fill": "#BFDCEC"})
			if len(tinted) != tt.tinted {
				t.Errorf("%d tinted shapes, want %d", len(tinted), tt.tinted)
			}
			hatch := paths(root, map[string]string{"stroke": seriesBlue, "stroke-width": "1.2"})
			if tt.tinted > 0 && len(hatch) < 10 {
				t.Errorf("%d hatch and outline strokes, want the partial column hatched", len(hatch))
			}
			if tt.tinted == 0 && len(hatch) > 0 {
				t.Errorf("%d hatch strokes on a chart without partial values", len(hatch))
			}
			txt := texts(root)
			if got := countOf(txt, "n/a"); got != tt.naLabels {
				t.Errorf("%d n/a labels, want %d", got, tt.naLabels)
			}
			for _, l := range tt.legendFor {
				if countOf(txt, l) != 1 {
					t.Errorf("no legend entry %q in %q", l, txt)
				}
			}
		})
	}
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

func TestAxisLabels(t *testing.T) {
	tests := []struct {
		name    string
		chart   Chart
		want    []string
		notWant []string
	}{
		{"counts with separators, every other year", russiaApplications(),
			[]string{"0", "2,000,000", "4,000,000", "6,000,000", "8,000,000", "applications", "Year",
				"2009", "2011", "2013", "2021", "2023"},
			[]string{"2010", "2012", "2022", "6000000", "8e+06"}},
		{"percentages", franceRecognition(),
			[]string{"0%", "10%", "20%", "30%", "% of decisions", "2022", "2023", "2024"},
			[]string{"0.3", "30"}},
		{"legend for several series", europeAndFrance(),
			[]string{"45 European countries", "France, first instance", "Jan-Jun only", "25,000"}, nil},
		{"single series without partial values has no legend", eurostatFirstTime(),
			[]string{"40,000", "2012", "2016"}, []string{"First-time applicants"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := InlineSVG(tt.chart)
			if err != nil {
				t.Fatal(err)
			}
			txt := texts(parseSVG(t, b))
			for _, w := range tt.want {
				if !slices.Contains(txt, w) {
					t.Errorf("no text %q in %q", w, txt)
				}
			}
			for _, w := range tt.notWant {
				if slices.Contains(txt, w) {
					t.Errorf("text %q drawn", w)
				}
			}
		})
	}
}

func TestTitleSourceAndNotesAreDrawn(t *testing.T) {
	c := russiaApplications()
	b, err := InlineSVG(c)
	if err != nil {
		t.Fatal(err)
	}
	// Long text is wrapped: join the drawn lines back.
	all := strings.Join(texts(parseSVG(t, b)), " ")
	for _, w := range []string{c.Title, c.Subtitle, "Source: " + c.Source, "Note: " + c.Notes[0], "Note: " + c.Notes[1]} {
		if !strings.Contains(all, w) {
			t.Errorf("%q not drawn", w)
		}
	}
}

func TestManyCategoriesAreThinned(t *testing.T) {
	var cats []string
	var vals []*float64
	for y := 2015; y <= 2024; y++ {
		for m := 1; m <= 12; m++ {
			cats = append(cats, fmt.Sprintf("%d-%02d", y, m))
			vals = append(vals, num(float64(1000+y+m)))
		}
	}
	c := Chart{ID: "monthly", Title: "Monthly", Source: "test", Kind: KindLine, Categories: cats,
		Series: []Series{{Name: "Applications", Values: vals}}}
	b, err := InlineSVG(c)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, s := range texts(parseSVG(t, b)) {
		if slices.Contains(cats, s) {
			labels = append(labels, s)
		}
	}
	if len(labels) < 3 || len(labels) > 8 {
		t.Errorf("%d month labels %v, want a few", len(labels), labels)
	}
	if !slices.Contains(labels, "2024-12") {
		t.Errorf("latest month not labelled: %v", labels)
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name  string
		chart Chart
		want  string
	}{
		{"gaps", russiaApplications(),
			"Line chart of applications by year, 2009 to 2023. No data for 2011 and 2015 to 2020. " +
				"Applications: latest 520,402 in 2023; highest 6,995,221 in 2013."},
		{"partial latest", unhcrApplications(KindColumn),
			"Column chart of applications by year, 2021 to 2023. " +
				"Applications: latest 14,899 in 2023 (Jan-Jun only), latest whole period 20,234 in 2022; " +
				"highest 20,234 in 2022; 2023: Jan-Jun only."},
		{"percent", franceRecognition(),
			"Line chart of % of decisions by year, 2022 to 2024. " +
				"Recognition rate: latest 24.7% in 2024; highest 27.1% in 2022."},
		{"series with their own gaps", europeAndFrance(),
			"Line chart of applications by year, 2021 to 2024. " +
				"45 European countries: latest 14,899 in 2023 (Jan-Jun only), latest whole period 20,234 in 2022; " +
				"highest 20,234 in 2022; no data for 2024; 2023: Jan-Jun only. " +
				"France, first instance: latest 2,513 in 2024; highest 2,613 in 2023; no data for 2021."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Describe(tt.chart)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Describe =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestWritePNG(t *testing.T) {
	for name, c := range allCharts() {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WritePNG(&b, c); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(&b)
			if err != nil {
				t.Fatalf("PNG does not decode: %v", err)
			}
			bounds := img.Bounds()
			if bounds.Dx() != 640 || bounds.Dy() < 350 || bounds.Dy() > 800 {
				t.Errorf("PNG is %dx%d, want 640 wide", bounds.Dx(), bounds.Dy())
			}
			// The plot sits in the middle band of the image: look there for
			// ink and for the series colour.
			band := image.Rect(0, bounds.Dy()/4, bounds.Dx(), bounds.Dy()*3/4)
			colours := map[color.RGBA]int{}
			inked := 0
			for y := band.Min.Y; y < band.Max.Y; y++ {
				for x := band.Min.X; x < band.Max.X; x++ {
					r, g, b, _ := img.At(x, y).RGBA()
					px := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xFF}
					colours[px]++
					if px != (color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}) {
						inked++
					}
				}
			}
			if len(colours) < 50 {
				t.Errorf("%d distinct colours in the plot band, want an anti-aliased drawing", len(colours))
			}
			if share := float64(inked) / float64(band.Dx()*band.Dy()); share < 0.01 {
				t.Errorf("%.2f%% of the plot band inked, want a drawing", share*100)
			}
			if n := colours[palette[0]]; n < 100 {
				t.Errorf("%d pixels in the first series' colour", n)
			}
		})
	}
}

func TestWriteCSV(t *testing.T) {
	tests := []struct {
		name  string
		chart Chart
		want  [][]string
	}{
		{"counts with gaps", russiaApplications(), [][]string{
			{"year", "Applications"},
			{"2009", "3241940"}, {"2010", "4222551"}, {"2011", ""}, {"2012", "6069001"},
			{"2013", "6995221"}, {"2014", "5768182"}, {"2015", ""}, {"2016", ""}, {"2017", ""},
			{"2018", ""}, {"2019", ""}, {"2020", ""}, {"2021", "536287"}, {"2022", "687264"},
			{"2023", "520402"},
		}},
		{"partial period column", unhcrApplications(KindLine), [][]string{
			{"year", "Applications", "Applications partial period"},
			{"2021", "12159", ""}, {"2022", "20234", ""}, {"2023", "14899", "Jan-Jun only"},
		}},
		{"percentages", franceRecognition(), [][]string{
			{"year", "Recognition rate (%)"}, {"2022", "27.1"}, {"2023", "25.2"}, {"2024", "24.7"},
		}},
		{"two series", franceDecisions(), [][]string{
			{"year", "All decisions", "Recognised"},
			{"2021", "", ""}, {"2022", "2846", "770"}, {"2023", "4647", "1171"}, {"2024", "4650", "1150"},
		}},
		{"partial columns after the values", europeAndFrance(), [][]string{
			{"year", "45 European countries", "France, first instance", "45 European countries partial period"},
			{"2021", "12159", "", ""}, {"2022", "20234", "1804", ""}, {"2023", "14899", "2613", "Jan-Jun only"},
			{"2024", "", "2513", ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteCSV(&b, tt.chart); err != nil {
				t.Fatal(err)
			}
			r := csv.NewReader(&b)
			got, err := r.ReadAll()
			if err != nil {
				t.Fatalf("CSV does not read back: %v", err)
			}
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("CSV =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestCSVWithoutXTitleAndDefaultPartialNote(t *testing.T) {
	c := unhcrApplications(KindLine)
	c.XTitle = ""
	c.PartialNote = ""
	var b bytes.Buffer
	if err := WriteCSV(&b, c); err != nil {
		t.Fatal(err)
	}
	want := "period,Applications,Applications partial period\n2021,12159,\n2022,20234,\n2023,14899,part of the period only\n"
	if b.String() != want {
		t.Errorf("CSV =\n%s\nwant\n%s", b.String(), want)
	}
}

// TestDeterministic: the same chart gives the same bytes, so outputs can
// be compared with golden files and re-published without spurious diffs.
func TestDeterministic(t *testing.T) {
	c := europeAndFrance()
	writers := map[string]func(*bytes.Buffer) error{
		"svg": func(b *bytes.Buffer) error { return WriteSVG(b, c) },
		"png": func(b *bytes.Buffer) error { return WritePNG(b, c) },
		"csv": func(b *bytes.Buffer) error { return WriteCSV(b, c) },
	}
	for name, write := range writers {
		t.Run(name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := write(&a); err != nil {
				t.Fatal(err)
			}
			if err := write(&b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Error("two renderings of one chart differ")
			}
		})
	}
}

// TestConcurrentUse renders charts from several goroutines, as a
// pipeline with a worker per core does, and expects the bytes of a serial
// run (run with -race to check for data races too).
func TestConcurrentUse(t *testing.T) {
	charts := allCharts()
	render := func(c Chart) ([]byte, error) {
		var b bytes.Buffer
		if err := WritePNG(&b, c); err != nil {
			return nil, err
		}
		if err := WriteSVG(&b, c); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	want := map[string][]byte{}
	for name, c := range charts {
		b, err := render(c)
		if err != nil {
			t.Fatal(err)
		}
		want[name] = b
	}
	errs := make(chan error, 2*len(charts))
	for range 2 {
		for name, c := range charts {
			go func() {
				b, err := render(c)
				if err == nil && !bytes.Equal(b, want[name]) {
					err = fmt.Errorf("%s: concurrent rendering differs from serial", name)
				}
				errs <- err
			}()
		}
	}
	for range 2 * len(charts) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestNumberFormats(t *testing.T) {
	tests := []struct {
		v        float64
		decimals int
		want     string
	}{
		{0, 0, "0"}, {999, 0, "999"}, {1000, 0, "1,000"}, {1234567, 0, "1,234,567"},
		{6995221, 2, "6,995,221"}, {-1234.5, 1, "-1,234.5"}, {12.50, 2, "12.5"}, {-0.001, 1, "0"},
	}
	for _, tt := range tests {
		if got := grouped(tt.v, tt.decimals); got != tt.want {
			t.Errorf("grouped(%v, %d) = %q, want %q", tt.v, tt.decimals, got, tt.want)
		}
	}
	scales := []struct {
		lo, hi         float64
		whole          bool
		min, max, step float64
	}{
		{0, 6995221, true, 0, 8e6, 2e6},
		{0, 27.1, false, 0, 30, 10},
		{0, 3, true, 0, 3, 1},
		{0, 0, true, 0, 1, 1},
		{0, 0.6, false, 0, 0.6, 0.2},
		{-120, 450, true, -200, 600, 200},
	}
	for _, s := range scales {
		min, max, step := niceScale(s.lo, s.hi, s.whole)
		if math.Abs(min-s.min) > 1e-9 || math.Abs(max-s.max) > 1e-9 || math.Abs(step-s.step) > 1e-9 {
			t.Errorf("niceScale(%v, %v, %v) = %v, %v, %v; want %v, %v, %v", s.lo, s.hi, s.whole, min, max, step, s.min, s.max, s.step)
		}
	}
}

func ExampleWriteCSV() {
	c := unhcrApplications(KindLine)
	if err := WriteCSV(os.Stdout, c); err != nil {
		fmt.Println(err)
	}
	// Output:
	// year,Applications,Applications partial period
	// 2021,12159,
	// 2022,20234,
	// 2023,14899,Jan-Jun only
}

func BenchmarkWriteSVG(b *testing.B) {
	c := russiaApplications()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := WriteSVG(&buf, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/chart")
}

func BenchmarkWritePNG(b *testing.B) {
	c := russiaApplications()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := WritePNG(&buf, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/chart")
}
