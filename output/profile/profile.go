package profile

import (
	"bytes"
	"embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/visastats/visastats/output"
	"github.com/visastats/visastats/output/page"
	"github.com/visastats/visastats/output/plot"
	"github.com/visastats/visastats/output/release"
)

//go:embed profile.html index.html profile.css
var templateFS embed.FS

// Country is what a profile shows of one country. A section is nil when
// the data hold nothing for it; its charts come in the order shown.
type Country struct {
	Code, Name string
	// Release and GeneratedAt name the release the profile belongs to.
	Release     string
	GeneratedAt time.Time
	// Schengen is the Schengen visas at the consulates located in the
	// country, whatever the applicants' nationality.
	Schengen *Section
	// Asylum is the asylum applications by the country's citizens and the
	// decisions on them.
	Asylum *Section
	// Own is what the country itself publishes (Russia's Foreign Ministry
	// figures).
	Own *Section
	// Claims are the published claims about the country checked in the
	// release.
	Claims []page.ClaimRow
}

// Section is one part of a profile: its charts, then tables of figures the
// charts do not draw.
type Section struct {
	Charts []plot.Chart
	Tables []Table
}

// Table is a small table of figures on a profile, with the figures
// already written for people (Count, Rate, Change, Text).
type Table struct {
	ID      string // unique on the page: a plain lower-case name
	Caption string
	// Head holds the column headings; each row's first cell is its
	// heading (a year, say).
	Head  []string
	Rows  [][]Cell
	Notes []string
}

// Cell is one cell of a Table.
type Cell struct {
	Text string
	Num  bool   // a number: aligned right
	URL  string // when set, the cell links to this http(s) address
}

// Text is a cell of text; a link when url is an http(s) address.
func Text(s, url string) Cell {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		url = ""
	}
	return Cell{Text: s, URL: url}
}

// Count is a count with thousands separators, a dash when not available.
func Count(v *int64) Cell {
	if v == nil {
		return Cell{Text: "–", Num: true}
	}
	return Cell{Text: minus(output.Thousands(*v)), Num: true}
}

// Rate is a fraction as a percentage, a dash when not available.
func Rate(v *float64) Cell { return Cell{Text: percent(v, false), Num: true} }

// Change is a signed fraction as a percentage, a dash when not available.
func Change(v *float64) Cell { return Cell{Text: percent(v, true), Num: true} }

func percent(v *float64, signed bool) string {
	s := output.Percent(v, signed)
	if s == "-" {
		return "–"
	}
	return minus(s)
}

// minus writes a negative number with the typographic minus sign, as the
// release page does.
func minus(s string) string { return strings.Replace(s, "-", "−", 1) }

// Index is the list of the profiles of a release.
type Index struct {
	Release     string
	GeneratedAt time.Time
	Countries   []Entry
}

// Entry is one country of the Index.
type Entry struct {
	Code, Name string
	// What the data hold for it.
	Schengen, Asylum, Own bool
	Charts                int
}

// Catalogue is countries/charts.json: every chart of the profiles with
// what the page says next to it, and its files.
type Catalogue struct {
	Release string         `json:"release"`
	Charts  []CatalogueRow `json:"charts"`
}

// CatalogueRow is one chart of one country.
type CatalogueRow struct {
	Country     string   `json:"country"`
	CountryName string   `json:"country_name"`
	Chart       string   `json:"chart"`
	Title       string   `json:"title"`
	Subtitle    string   `json:"subtitle,omitempty"`
	Unit        string   `json:"unit"`
	Percent     bool     `json:"percent,omitempty"`
	Source      string   `json:"source"`
	Notes       []string `json:"notes,omitempty"`
	// Series are the names of the series drawn, in order: the CSV's value
	// columns after its first, before any column marking partial periods.
	Series []string `json:"series"`
	// Page, SVG, PNG and CSV are the files, relative to the release.
	Page string `json:"page"`
	SVG  string `json:"svg"`
	PNG  string `json:"png"`
	CSV  string `json:"csv"`
	// Columns is the header of the CSV, Rows its rows below the header.
	Columns []string `json:"csv_columns"`
	Rows    int      `json:"csv_rows"`
}

// templates are the parsed pages.
type templates struct {
	country, index *template.Template
}

// parse parses the embedded pages.
func parse() (*templates, error) {
	funcs := page.Funcs()
	funcs["profileCSS"] = func() template.CSS {
		b, _ := templateFS.ReadFile("profile.css")
		return template.CSS(b)
	}
	c, err := template.New("profile.html").Funcs(funcs).ParseFS(templateFS, "profile.html")
	if err != nil {
		return nil, fmt.Errorf("parse profile template: %w", err)
	}
	i, err := template.New("index.html").Funcs(funcs).ParseFS(templateFS, "index.html")
	if err != nil {
		return nil, fmt.Errorf("parse profile index template: %w", err)
	}
	return &templates{country: c, index: i}, nil
}

// Writer writes the profiles of one release into its folder. It is safe
// for concurrent use: countries may be written in parallel (a chart's PNG
// is the costly part).
type Writer struct {
	dir string
	t   *templates
}

// NewWriter returns a Writer into the release folder dir.
func NewWriter(dir string) (*Writer, error) {
	t, err := parse()
	if err != nil {
		return nil, err
	}
	return &Writer{dir: dir, t: t}, nil
}

// chartView is a chart as the page shows it.
type chartView struct {
	plot.Chart
	SVG     template.HTML
	SVGFile string // relative to the page
	PNGFile string
	CSVFile string
	Numbers Table
}

// sectionView is a section as the page shows it.
type sectionView struct {
	Charts []chartView
	Tables []Table
}

// countryView is a Country as the page shows it.
type countryView struct {
	Country
	Schengen, Asylum, Own *sectionView
}

// Write writes the profile of c (countries/<code>.html) and its charts'
// files (countries/<code>/<chart>.svg|png|csv) and returns, for the
// catalogue, a row for each chart, and the files written relative to the
// release folder, the page last. A chart that plot rejects fails the
// whole profile, naming the country and the chart.
func (w *Writer) Write(c Country) ([]CatalogueRow, []string, error) {
	if !release.ValidCountryCode(c.Code) {
		return nil, nil, fmt.Errorf("profile %q: not an ISO 3166-1 alpha-2 code", c.Code)
	}
	if err := os.MkdirAll(filepath.Join(w.dir, release.ProfilesDir, c.Code), 0o755); err != nil {
		return nil, nil, fmt.Errorf("profile %s: %w", c.Code, err)
	}
	v := countryView{Country: c}
	var rows []CatalogueRow
	var files []string
	seen := map[string]bool{}
	section := func(s *Section) (*sectionView, error) {
		if s == nil {
			return nil, nil
		}
		sv := &sectionView{Tables: s.Tables}
		for _, ch := range s.Charts {
			if !release.ValidChartID(ch.ID) || seen[ch.ID] {
				return nil, fmt.Errorf("profile %s: chart id %q is not a plain lower-case name used once", c.Code, ch.ID)
			}
			seen[ch.ID] = true
			cv, row, written, err := w.chart(c, ch)
			if err != nil {
				return nil, err
			}
			sv.Charts = append(sv.Charts, cv)
			rows = append(rows, row)
			files = append(files, written...)
		}
		return sv, nil
	}
	var err error
	if v.Schengen, err = section(c.Schengen); err != nil {
		return nil, nil, err
	}
	if v.Asylum, err = section(c.Asylum); err != nil {
		return nil, nil, err
	}
	if v.Own, err = section(c.Own); err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	if err := w.t.country.Execute(&buf, v); err != nil {
		return nil, nil, fmt.Errorf("profile %s: render: %w", c.Code, err)
	}
	name := release.ProfilePage(c.Code)
	if err := os.WriteFile(filepath.Join(w.dir, filepath.FromSlash(name)), buf.Bytes(), 0o644); err != nil {
		return nil, nil, fmt.Errorf("profile %s: %w", c.Code, err)
	}
	return rows, append(files, name), nil
}

// chart writes the three files of one chart and lays it out for the page.
func (w *Writer) chart(c Country, ch plot.Chart) (chartView, CatalogueRow, []string, error) {
	fail := func(err error) (chartView, CatalogueRow, []string, error) {
		return chartView{}, CatalogueRow{}, nil, fmt.Errorf("profile %s chart %s: %w", c.Code, ch.ID, err)
	}
	inline, err := plot.InlineSVG(ch)
	if err != nil {
		return fail(err)
	}
	var files []string
	var header []string
	var records int
	for _, ext := range release.ChartFormats {
		var buf bytes.Buffer
		switch ext {
		case release.ChartSVG:
			err = plot.WriteSVG(&buf, ch)
		case release.ChartPNG:
			err = plot.WritePNG(&buf, ch)
		case release.ChartCSV:
			err = plot.WriteCSV(&buf, ch)
			if err == nil {
				recs, rerr := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
				if rerr != nil || len(recs) == 0 {
					return fail(fmt.Errorf("read back the CSV: %v", rerr))
				}
				header, records = recs[0], len(recs)-1
			}
		}
		if err != nil {
			return fail(err)
		}
		name := release.ProfileChart(c.Code, ch.ID, ext)
		if err := os.WriteFile(filepath.Join(w.dir, filepath.FromSlash(name)), buf.Bytes(), 0o644); err != nil {
			return fail(err)
		}
		files = append(files, name)
	}
	rel := func(ext string) string { return c.Code + "/" + ch.ID + ext }
	cv := chartView{Chart: ch, SVG: template.HTML(inline), SVGFile: rel(release.ChartSVG), PNGFile: rel(release.ChartPNG),
		CSVFile: rel(release.ChartCSV), Numbers: numbers(ch)}
	row := CatalogueRow{Country: c.Code, CountryName: c.Name, Chart: ch.ID, Title: ch.Title, Subtitle: ch.Subtitle,
		Unit: ch.Unit, Percent: ch.Percent, Source: ch.Source, Notes: ch.Notes, Page: release.ProfilePage(c.Code),
		Series: seriesNames(ch),
		SVG:    files[0], PNG: files[1], CSV: files[2], Columns: header, Rows: records}
	return cv, row, files, nil
}

func seriesNames(ch plot.Chart) []string {
	out := make([]string, len(ch.Series))
	for i, s := range ch.Series {
		out[i] = s.Name
	}
	return out
}

// numbers is the table of the numbers ch draws: a row per category, a
// column per series, each value as the chart labels it (percentages to one
// decimal, as the CSV has them), a value covering part of its period
// marked so.
func numbers(ch plot.Chart) Table {
	x := ch.XTitle
	if x == "" {
		x = "Period"
	}
	t := Table{ID: ch.ID + "-numbers", Caption: "The numbers drawn: " + ch.Title, Head: []string{x}}
	for _, s := range ch.Series {
		t.Head = append(t.Head, s.Name)
	}
	partial := ch.PartialNote
	if partial == "" {
		partial = "part of the period only"
	}
	for j, cat := range ch.Categories {
		row := []Cell{{Text: cat}}
		for _, s := range ch.Series {
			v := s.Values[j]
			if v == nil {
				row = append(row, Cell{Text: "–", Num: true})
				continue
			}
			text := drawnNumber(ch, *v)
			if j < len(s.Partial) && s.Partial[j] {
				text += " (" + partial + ")"
			}
			row = append(row, Cell{Text: text, Num: true})
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// drawnNumber writes v as the chart and its CSV show it: a count with
// thousands separators, a percentage to one decimal.
func drawnNumber(ch plot.Chart, v float64) string {
	if ch.Percent {
		return minus(strconv.FormatFloat(math.Round(v*1000)/10, 'f', 1, 64) + "%")
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return minus(output.Thousands(int64(v)))
	}
	return minus(strconv.FormatFloat(v, 'f', -1, 64))
}

// indexView is the Index as the page shows it: the countries grouped by
// the first letter of their names.
type indexView struct {
	Index
	Groups []indexGroup
}

type indexGroup struct {
	Letter    string
	ID        string
	Countries []Entry
}

// WriteIndex writes countries/index.html, the list of the profiles, and
// returns its name relative to the release folder.
func (w *Writer) WriteIndex(idx Index) (string, error) {
	entries := append([]Entry(nil), idx.Countries...)
	sort.SliceStable(entries, func(i, j int) bool { return sortKey(entries[i].Name) < sortKey(entries[j].Name) })
	v := indexView{Index: idx}
	for _, e := range entries {
		letter := firstLetter(e.Name)
		if n := len(v.Groups); n == 0 || v.Groups[n-1].Letter != letter {
			v.Groups = append(v.Groups, indexGroup{Letter: letter, ID: fmt.Sprintf("letter-%d", len(v.Groups)+1)})
		}
		g := &v.Groups[len(v.Groups)-1]
		g.Countries = append(g.Countries, e)
	}
	var buf bytes.Buffer
	if err := w.t.index.Execute(&buf, v); err != nil {
		return "", fmt.Errorf("profiles index: render: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(w.dir, release.ProfilesDir), 0o755); err != nil {
		return "", fmt.Errorf("profiles index: %w", err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, filepath.FromSlash(release.ProfilesIndex)), buf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("profiles index: %w", err)
	}
	return release.ProfilesIndex, nil
}

// sortKey orders names as people look them up: without accents and case
// ("Åland Islands" among the A's, "Côte d'Ivoire" among the C's).
func sortKey(name string) string {
	var b strings.Builder
	for _, r := range name {
		b.WriteRune(unicode.ToUpper(baseLetter(r)))
	}
	return b.String()
}

// firstLetter is the letter a name is listed under.
func firstLetter(name string) string {
	r, _ := utf8.DecodeRuneInString(name)
	return string(unicode.ToUpper(baseLetter(r)))
}

// baseLetter drops the accent of the Latin letters that begin or sort
// country names in English.
func baseLetter(r rune) rune {
	const from, to = "ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝýÿ", "AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOOooooooUUUUuuuuYyy"
	if i := strings.IndexRune(from, r); i >= 0 {
		return []rune(to)[utf8.RuneCountInString(from[:i])]
	}
	return r
}

// WriteCatalogue writes countries/charts.json, a chart a line, and
// returns its name relative to the release folder.
func (w *Writer) WriteCatalogue(c Catalogue) (string, error) {
	id, err := json.Marshal(c.Release)
	if err != nil {
		return "", fmt.Errorf("profiles catalogue: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(`{"release": ` + string(id) + `, "charts": [`)
	for i, row := range c.Charts {
		line, err := json.Marshal(row)
		if err != nil {
			return "", fmt.Errorf("profiles catalogue: %w", err)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n")
		b.Write(line)
	}
	b.WriteString("\n]}\n")
	if err := os.WriteFile(filepath.Join(w.dir, filepath.FromSlash(release.ProfilesCatalogue)), b.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("profiles catalogue: %w", err)
	}
	return release.ProfilesCatalogue, nil
}

// ReadCatalogue reads countries/charts.json of the release folder dir.
func ReadCatalogue(dir string) (Catalogue, error) {
	var c Catalogue
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(release.ProfilesCatalogue)))
	if err != nil {
		return c, fmt.Errorf("read the profiles catalogue: %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("read %s: %w", release.ProfilesCatalogue, err)
	}
	return c, nil
}
