package serve

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/visastats/visastats/output"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

//go:embed page.html schema.html
var templateFS embed.FS

// pages holds the parsed templates.
type pages struct {
	release *template.Template
	schema  *template.Template
}

func newPages() (*pages, error) {
	funcs := template.FuncMap{
		"thousands": thousands,
		"count": func(v *int64) string {
			if v == nil {
				return "–"
			}
			return thousands(*v)
		},
		"bytes":   humanBytes,
		"date":    func(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 UTC") },
		"isodate": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"change":  func(v *float64) string { return percent(v, true) },
		"rate":    func(v *float64) string { return percent(v, false) },
		"sub":     func(a, b float64) float64 { return a - b },
	}
	rel, err := template.New("page.html").Funcs(funcs).ParseFS(templateFS, "page.html")
	if err != nil {
		return nil, fmt.Errorf("parse page template: %w", err)
	}
	sch, err := template.New("schema.html").Funcs(funcs).ParseFS(templateFS, "schema.html")
	if err != nil {
		return nil, fmt.Errorf("parse schema template: %w", err)
	}
	return &pages{release: rel, schema: sch}, nil
}

// pageData is what page.html shows: one release, and on the front page the
// list of earlier releases.
type pageData struct {
	Front     bool // the front page (latest release), not a release's own page
	Release   *release
	IsLatest  bool
	Base      string // where the release's files are linked: /latest/ or /releases/<id>/
	Files     []fileRow
	Headlines []reportHeadline
	Asylum    []asylumTable // asylum figures per country of asylum
	Place     string        // host country of the headline series
	Chart     *chart
	Claims    []claimRow
	Issues    []reportIssue // discrepancies found in the upstream files
	Checks    checkSummary
	Others    []releaseLink
	SchemaURL string
	Problem   string
}

// asylumTable is the asylum figures of one country of asylum (or the EU)
// for persons from the headline country, one row a year.
type asylumTable struct {
	ID, Place, Origin string
	Partial           bool // a year is covered only in part
	Years             []reportAsylum
}

type fileRow struct {
	Name, URL, Description, Format string
	Size                           int64
	Rows                           *int64
}

type claimRow struct {
	Statement, Source, Status, StatusClass, Expected, Actual, Note string
	Unit, Caveat, Implied, Implies                                 string
	// SourceURL is the publication's address, shown as a link; only
	// http(s) addresses are linked.
	SourceURL string
}

type checkSummary struct {
	Total, Passed int
	Warnings      []reportCheck // non-blocking checks that found problems
}

type releaseLink struct {
	ID, URL     string
	GeneratedAt time.Time
	Latest      bool
}

// handleIndex renders the front page: the latest release.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	ids, err := s.store.ids()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	latest, lerr := s.store.latestID()
	d := pageData{Front: true, SchemaURL: s.schemaLink()}
	if lerr == nil {
		rel, err := s.store.release(latest)
		switch {
		case err == nil:
			s.fillRelease(&d, rel, true, "/latest/")
		case errors.Is(err, fs.ErrNotExist):
			d.Problem = "The latest link points to a release that is not there; the releases below are still available."
		default:
			s.fail(w, r, err)
			return
		}
	}
	for _, id := range ids {
		if d.Release != nil && id == d.Release.ID {
			continue
		}
		d.Others = append(d.Others, s.link(id, latest))
	}
	s.render(w, r, s.pages.release, d)
}

// handleLatestIndex shows the latest release's own page.
func (s *Server) handleLatestIndex(w http.ResponseWriter, r *http.Request) {
	id, err := s.store.latestID()
	if err != nil {
		s.notFound(w, r, err)
		return
	}
	http.Redirect(w, r, "/releases/"+id+"/", http.StatusFound)
}

// handleReleaseIndex renders one release's page: its files and figures.
func (s *Server) handleReleaseIndex(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rel, err := s.store.release(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	latest, _ := s.store.latestID()
	d := pageData{SchemaURL: s.schemaLink()}
	s.fillRelease(&d, rel, id == latest, "/releases/"+id+"/")
	s.render(w, r, s.pages.release, d)
}

func (s *Server) link(id, latest string) releaseLink {
	l := releaseLink{ID: id, URL: "/releases/" + id + "/", Latest: id == latest}
	if rel, err := s.store.release(id); err == nil {
		l.GeneratedAt = rel.GeneratedAt
	}
	return l
}

func (s *Server) fillRelease(d *pageData, rel *release, latest bool, base string) {
	d.Release, d.IsLatest, d.Base = rel, latest, base
	if rel.ReportErr != nil {
		d.Problem = "This release has no readable run report, so its figures are not shown; its files are listed below."
	}
	for _, f := range rel.Files {
		ft, _ := formatOf(f.Name)
		desc := f.Description
		if desc == "" {
			desc = describe(f.Name)
		}
		d.Files = append(d.Files, fileRow{Name: f.Name, URL: base + f.Name, Description: desc,
			Format: ft.label, Size: f.Size, Rows: f.Rows})
	}
	d.Headlines = rel.Report.Headlines
	if len(d.Headlines) > 0 {
		d.Place = d.Headlines[0].Name
		d.Chart = newChart(d.Headlines)
	}
	for _, a := range rel.Report.Asylum {
		if n := len(d.Asylum); n == 0 || d.Asylum[n-1].Place != a.AsylumName {
			d.Asylum = append(d.Asylum, asylumTable{ID: "asylum-" + strings.ToLower(a.AsylumCountry), Place: a.AsylumName, Origin: a.Origin})
		}
		t := &d.Asylum[len(d.Asylum)-1]
		t.Years = append(t.Years, a)
		t.Partial = t.Partial || !a.Complete
	}
	for _, c := range rel.Report.Claims {
		row := claimRow{Statement: c.Statement, Source: c.Source, Status: claimStatus(c.Status),
			StatusClass: statusClass(c.Status), Expected: rawValue(c.Expected), Actual: rawValue(c.Actual), Note: c.Note,
			Unit: c.Unit, Caveat: c.Caveat, Implies: c.Implies}
		if len(c.Implied) > 0 && string(c.Implied) != "null" {
			var f float64
			if json.Unmarshal(c.Implied, &f) == nil {
				row.Implied = thousands(int64(math.Round(f)))
			}
		}
		if strings.HasPrefix(c.SourceURL, "https://") || strings.HasPrefix(c.SourceURL, "http://") {
			row.SourceURL = c.SourceURL
		}
		if c.Caveat != "" && c.Status == "reproduced" {
			row.Status = "Reproduced, with a caveat"
		}
		d.Claims = append(d.Claims, row)
	}
	d.Issues = rel.Report.Issues
	for _, c := range rel.Report.Checks {
		d.Checks.Total++
		if c.Problems == 0 {
			d.Checks.Passed++
		} else if !c.Blocking {
			d.Checks.Warnings = append(d.Checks.Warnings, c)
		}
	}
}

func (s *Server) schemaLink() string {
	if s.opts.SchemaPath != "" {
		return "/schema"
	}
	return s.opts.SchemaURL
}

// handleSchema shows the schema documentation (Markdown) as a page.
func (s *Server) handleSchema(w http.ResponseWriter, r *http.Request) {
	if s.opts.SchemaPath == "" {
		s.notFound(w, r, fs.ErrNotExist)
		return
	}
	text, err := os.ReadFile(s.opts.SchemaPath)
	if err != nil {
		s.fail(w, r, fmt.Errorf("read schema documentation: %w", err))
		return
	}
	s.render(w, r, s.pages.schema, struct{ HTML template.HTML }{markdownHTML(string(text))})
}

// render executes a template into a buffer first, so a template error is a
// clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		s.fail(w, r, fmt.Errorf("render %s: %w", t.Name(), err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", cachePage)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(buf.Bytes())
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

// rawValue shows a JSON value from the run report: numbers with thousands
// separators, strings as they are, null as a dash.
func rawValue(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return "–"
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		if i, err := n.Int64(); err == nil {
			return thousands(i)
		}
		// Computed figures are shown to four decimals at most (the exact
		// value is in claims.parquet and run.json).
		if f, err := n.Float64(); err == nil {
			return strconv.FormatFloat(math.Round(f*1e4)/1e4, 'f', -1, 64)
		}
		return n.String()
	}
	var str string
	if err := json.Unmarshal(v, &str); err == nil {
		return str
	}
	return string(v)
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

func humanBytes(n int64) string { return output.HumanBytes(n) }
