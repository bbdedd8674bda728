package serve

import (
	"net/http"
	"path"
	"strings"

	releases "github.com/visastats/visastats/output/release"
)

// profileTypes are the content types of the files of the country
// profiles; pages and pictures are shown, the CSV files downloaded.
var profileTypes = map[string]struct {
	contentType string
	attach      bool
}{
	".html": {"text/html; charset=utf-8", false},
	".svg":  {"image/svg+xml", false},
	".png":  {"image/png", false},
	".json": {"application/json", false},
	".csv":  {"text/csv; charset=utf-8", true},
}

// handleProfiles answers /countries/ with the latest release's list of
// country profiles, and /countries/<ISO2> (any case) with the profile of
// that country, by redirecting to their addresses under /latest/, where
// the pages' relative links (../index.html, RU/schengen_visas.png) reach
// the release's other pages and files.
func (s *Server) handleProfiles(w http.ResponseWriter, r *http.Request) {
	id, err := s.store.latestID()
	if err != nil {
		s.notFound(w, r, err)
		return
	}
	rel, err := s.store.release(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := releases.ProfilesIndex
	if code := strings.TrimSuffix(r.PathValue("code"), ".html"); code != "" {
		name = releases.ProfilePage(strings.ToUpper(code))
	}
	if _, ok := rel.Profiles[name]; !ok || !releases.IsProfileFile(name) {
		s.notFound(w, r, nil)
		return
	}
	http.Redirect(w, r, "/latest/"+name, http.StatusFound)
}

// handleLatestProfile serves a file of the latest release's country
// profiles: /latest/countries/<file> and /latest/countries/<ISO2>/<file>.
func (s *Server) handleLatestProfile(w http.ResponseWriter, r *http.Request) {
	id, err := s.store.latestID()
	if err != nil {
		s.notFound(w, r, err)
		return
	}
	s.serveProfile(w, r, id, profileName(r), true)
}

// handleReleaseProfile serves a file of one release's country profiles.
func (s *Server) handleReleaseProfile(w http.ResponseWriter, r *http.Request) {
	s.serveProfile(w, r, r.PathValue("id"), profileName(r), false)
}

// profileName is the file a request names under countries/.
func profileName(r *http.Request) string {
	if code := r.PathValue("code"); code != "" {
		return path.Join(releases.ProfilesDir, code, r.PathValue("file"))
	}
	return path.Join(releases.ProfilesDir, r.PathValue("file"))
}

// serveProfile sends one file of the country profiles of release id, only
// when its run.json lists it.
func (s *Server) serveProfile(w http.ResponseWriter, r *http.Request, id, name string, latest bool) {
	rel, err := s.store.release(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, ok := profileTypes[path.Ext(name)]
	if !ok {
		s.notFound(w, r, nil)
		return
	}
	f, rf, err := s.store.openProfile(rel, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	s.send(w, r, id, name, f, rf, latest, t.contentType, t.attach)
}
