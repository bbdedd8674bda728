package serve

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"os"
	"strconv"

	"github.com/visastats/visastats/output/page"
)

//go:embed schema.html
var templateFS embed.FS

// pages holds the parsed templates.
type pages struct {
	release *template.Template
	schema  *template.Template
}

func newPages() (*pages, error) {
	rel, err := page.Template()
	if err != nil {
		return nil, err
	}
	sch, err := template.New("schema.html").Funcs(page.Funcs()).ParseFS(templateFS, "schema.html")
	if err != nil {
		return nil, fmt.Errorf("parse schema template: %w", err)
	}
	return &pages{release: rel, schema: sch}, nil
}

// pageData is what page.html shows.
type pageData = page.Data

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

// handleLatestPage answers /latest/index.html, the address of the static
// page of the release latest points to, with that release's page. The
// link is resolved once; Content-Location names the release shown.
func (s *Server) handleLatestPage(w http.ResponseWriter, r *http.Request) {
	id, err := s.store.latestID()
	if err != nil {
		s.notFound(w, r, err)
		return
	}
	s.releasePage(w, r, id, true)
}

// handleReleaseIndex renders one release's page: its files and figures.
// It answers /releases/<id>/ and /releases/<id>/index.html, the address
// of the release's static page.
func (s *Server) handleReleaseIndex(w http.ResponseWriter, r *http.Request) {
	s.releasePage(w, r, r.PathValue("id"), false)
}

// releasePage renders the page of release id; viaLatest says it was asked
// for through the latest link.
func (s *Server) releasePage(w http.ResponseWriter, r *http.Request, id string, viaLatest bool) {
	rel, err := s.store.release(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	latest := id
	if viaLatest {
		w.Header().Set("Content-Location", "/releases/"+id+"/")
	} else {
		latest, _ = s.store.latestID()
	}
	d := pageData{SchemaURL: s.schemaLink()}
	s.fillRelease(&d, rel, id == latest, "/releases/"+id+"/")
	s.render(w, r, s.pages.release, d)
}

func (s *Server) link(id, latest string) page.ReleaseLink {
	l := page.ReleaseLink{ID: id, URL: "/releases/" + id + "/", Latest: id == latest}
	if rel, err := s.store.release(id); err == nil {
		l.GeneratedAt = rel.GeneratedAt
	}
	return l
}

func (s *Server) fillRelease(d *pageData, rel *release, latest bool, base string) {
	files := make([]page.File, len(rel.Files))
	for i, f := range rel.Files {
		files[i] = page.File{Name: f.Name, Size: f.Size, Rows: f.Rows, Description: f.Description}
	}
	page.Fill(d, page.Release{ID: rel.ID, GeneratedAt: rel.GeneratedAt}, rel.Report, rel.ReportErr, files, latest, base)
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
