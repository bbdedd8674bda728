package page

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"github.com/visastats/visastats/output/release"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/visastats/visastats/output"
)

//go:embed page.html page.css
var templateFS embed.FS

// CSS is the style sheet of the release page, which the other pages of a
// release (the country profiles) share, so that they read as one site.
func CSS() template.CSS {
	b, err := templateFS.ReadFile("page.css")
	if err != nil {
		return "" // embedded: cannot happen
	}
	return template.CSS(b)
}

// Funcs are the template functions of the release page, for other
// templates of the same site.
func Funcs() template.FuncMap {
	return template.FuncMap{
		"thousands": thousands,
		"count": func(v *int64) string {
			if v == nil {
				return "–"
			}
			return thousands(*v)
		},
		"bytes":   func(n int64) string { return output.HumanBytes(n) },
		"date":    func(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 UTC") },
		"isodate": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"change":  func(v *float64) string { return percent(v, true) },
		"rate":    func(v *float64) string { return percent(v, false) },
		"sub":     func(a, b float64) float64 { return a - b },
		"css":     CSS,
	}
}

// Template parses the release page.
func Template() (*template.Template, error) {
	t, err := template.New("page.html").Funcs(Funcs()).ParseFS(templateFS, "page.html")
	if err != nil {
		return nil, fmt.Errorf("parse page template: %w", err)
	}
	return t, nil
}

// Release names the release a page shows.
type Release struct {
	ID          string
	GeneratedAt time.Time
}

// Data is what page.html shows: one release, and on the front page the
// list of earlier releases.
type Data struct {
	Front bool // the front page (latest release), not a release's own page
	// Static is a page written into the release folder, read from any
	// static host: links are relative and nothing needs a server of ours.
	Static    bool
	Release   *Release
	IsLatest  bool
	Base      string // where the release's files are linked: /latest/, /releases/<id>/, or "" (relative)
	Files     []FileRow
	Headlines []release.Headline
	Asylum    []AsylumTable // asylum figures per country of asylum
	Place     string        // host country of the headline series
	Chart     *chart
	Claims    []ClaimRow
	Issues    []release.UpstreamIssue // discrepancies found in the upstream files
	Coverage  []release.Coverage      // what each source's data cover, a line each
	Checks    CheckSummary
	Others    []ReleaseLink
	// Profiles links the release's country profiles; nil when it has none.
	Profiles  *ProfilesLink
	SchemaURL string
	Problem   string
}

// AsylumTable is the asylum figures of one country of asylum (or the EU)
// for persons from the headline country, one row a year.
type AsylumTable struct {
	ID, Place, Origin string
	Partial           bool // a year is covered only in part
	Years             []release.AsylumYear
}

// ProfilesLink is the link to a release's country profiles.
type ProfilesLink struct {
	URL       string // the list of countries
	Countries int    // profiles in the release
}

// FileRow is one downloadable file on the page; a negative Size is not
// known when the page is written (the files written after it).
type FileRow struct {
	Name, URL, Description, Format string
	Size                           int64
	Rows                           *int64
}

// ClaimRow is one checked claim as the page shows it.
type ClaimRow struct {
	Statement, Source, Status, StatusClass, Expected, Actual, Note string
	Unit, Caveat, Implied, Implies                                 string
	// SourceURL is the publication's address, shown as a link; only
	// http(s) addresses are linked.
	SourceURL string
}

// CheckSummary counts the run's checks.
type CheckSummary struct {
	Total, Passed int
	Warnings      []release.Check // non-blocking checks that found problems
}

// ReleaseLink is an earlier release on the front page.
type ReleaseLink struct {
	ID, URL     string
	GeneratedAt time.Time
	Latest      bool
}

// Fill sets d's release, files and figures from a release's report. files
// are the release's files in the order shown, each with its size;
// reportErr says the report could not be read (its figures are then not
// shown).
func Fill(d *Data, rel Release, rep release.Report, reportErr error, files []File, latest bool, base string) {
	d.Release, d.IsLatest, d.Base = &rel, latest, base
	if reportErr != nil {
		d.Problem = "This release has no readable run report, so its figures are not shown; its files are listed below."
	}
	for _, f := range files {
		// The profiles' files (a page and three files a chart for every
		// country) are reached through their own list, not this table.
		if release.IsProfileFile(f.Name) {
			continue
		}
		ft, _ := FormatOf(f.Name)
		desc := f.Description
		if desc == "" {
			desc = Describe(f.Name)
		}
		// run.json records -1 rows for a file that is not a table
		// (CITATION.cff, index.html, a part of a partitioned table): no
		// row count, shown as a dash like any unknown.
		rows := f.Rows
		if rows != nil && *rows < 0 {
			rows = nil
		}
		d.Files = append(d.Files, FileRow{Name: f.Name, URL: base + f.Name, Description: desc,
			Format: ft.Label, Size: f.Size, Rows: rows})
	}
	for _, f := range rep.Files {
		switch {
		case f.Name == release.ProfilesIndex:
			if d.Profiles == nil {
				d.Profiles = &ProfilesLink{}
			}
			d.Profiles.URL = base + f.Name
		case strings.HasSuffix(f.Name, ".html") && release.IsProfileFile(f.Name):
			if d.Profiles == nil {
				d.Profiles = &ProfilesLink{}
			}
			d.Profiles.Countries++
		}
	}
	if d.Profiles != nil && d.Profiles.URL == "" {
		d.Profiles = nil
	}
	d.Headlines = rep.Headlines
	if len(d.Headlines) > 0 {
		d.Place = d.Headlines[0].Name
		d.Chart = newChart(d.Headlines)
	}
	for _, a := range rep.Asylum {
		if n := len(d.Asylum); n == 0 || d.Asylum[n-1].Place != a.AsylumName {
			d.Asylum = append(d.Asylum, AsylumTable{ID: "asylum-" + strings.ToLower(a.AsylumCountry), Place: a.AsylumName, Origin: a.Origin})
		}
		t := &d.Asylum[len(d.Asylum)-1]
		t.Years = append(t.Years, a)
		t.Partial = t.Partial || !a.Complete
	}
	for _, c := range rep.Claims {
		d.Claims = append(d.Claims, ClaimRowOf(c))
	}
	d.Issues = rep.UpstreamIssues
	d.Coverage = rep.Coverage
	for _, c := range rep.Checks {
		d.Checks.Total++
		if c.Problems == 0 {
			d.Checks.Passed++
		} else if !c.Blocking {
			d.Checks.Warnings = append(d.Checks.Warnings, c)
		}
	}
}

// ClaimRowOf is a checked claim as the pages show it: its status in
// words, its figures with thousands separators, its publication linked
// when it has an http(s) address.
func ClaimRowOf(c release.Claim) ClaimRow {
	row := ClaimRow{Statement: c.Statement, Source: c.Source, Status: claimStatus(c.Status),
		StatusClass: statusClass(c.Status), Expected: figure(&c.Expected), Actual: figure(c.Actual), Note: c.Explanation,
		Unit: c.Unit, Caveat: c.Caveat, Implies: c.Implies}
	if c.Implied != nil {
		row.Implied = thousands(int64(math.Round(*c.Implied)))
	}
	if strings.HasPrefix(c.URL, "https://") || strings.HasPrefix(c.URL, "http://") {
		row.SourceURL = c.URL
	}
	if c.Caveat != "" && c.Status == "reproduced" {
		row.Status = "Reproduced, with a caveat"
	}
	return row
}

// Name is the static page's file name in every release.
const Name = "index.html"

// WriteStatic writes the static page of one release to w from its run
// report as JSON (run.json's content, whose files are those written so
// far): the same page as the server's release page, with every link
// relative to the release folder, so that a bucket or any static host
// serves it. The page does not list itself.
func WriteStatic(w io.Writer, report []byte) error {
	var rep release.Report
	if err := json.Unmarshal(report, &rep); err != nil {
		return fmt.Errorf("static page: decode report: %w", err)
	}
	var files []File
	for _, f := range rep.Files {
		if f.Name != Name && !release.IsProfileFile(f.Name) {
			rows := f.Rows
			files = append(files, File{Name: f.Name, Rows: &rows, Size: f.Size, Description: f.Description})
		}
	}
	// The files written after the page: linked without a size.
	for _, name := range []string{"run.json", "datapackage.json"} {
		files = append(files, File{Name: name, Size: -1})
	}
	t, err := Template()
	if err != nil {
		return err
	}
	d := Data{Static: true, SchemaURL: "datapackage.json"}
	Fill(&d, Release{ID: rep.Release, GeneratedAt: rep.GeneratedAt}, rep, nil, files, false, "")
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		return fmt.Errorf("static page: render: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("static page: write: %w", err)
	}
	return nil
}

func claimStatus(s string) string {
	switch s {
	case "reproduced":
		return "Reproduced"
	case "differs":
		return "Differs"
	case "not_reproducible":
		return "Not reproducible"
	}
	return s
}

func statusClass(s string) string {
	switch s {
	case "reproduced", "differs", "not_reproducible":
		return "status-" + s
	}
	return "status-other"
}

// figure shows a figure of the run report: whole numbers with thousands
// separators, others to four decimals at most (the exact value is in
// claims.parquet and run.json), none as a dash.
func figure(v *float64) string {
	switch {
	case v == nil:
		return "–"
	case *v == math.Trunc(*v) && math.Abs(*v) < math.MaxInt64:
		return thousands(int64(*v))
	}
	return strconv.FormatFloat(math.Round(*v*1e4)/1e4, 'f', -1, 64)
}

// thousands and percent are output's formats with the typographic minus
// sign and dash of the page.
func thousands(n int64) string { return strings.Replace(output.Thousands(n), "-", "−", 1) }

func percent(v *float64, signed bool) string {
	s := output.Percent(v, signed)
	if s == "-" {
		return "–"
	}
	return strings.Replace(s, "-", "−", 1)
}
