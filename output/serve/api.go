package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/visastats/visastats/output/page"
	releases "github.com/visastats/visastats/output/release"
)

// apiReleases is the body of /api/releases.
type apiReleases struct {
	Latest   string       `json:"latest"`
	Releases []apiRelease `json:"releases"`
}

type apiRelease struct {
	ID          string           `json:"id"`
	Latest      bool             `json:"latest"`
	GeneratedAt time.Time        `json:"generated_at"`
	URL         string           `json:"url"`
	Files       []apiFile        `json:"files"`
	Checks      []releases.Check `json:"checks"`
	ReportError string           `json:"report_error,omitempty"`
}

type apiFile struct {
	Name        string `json:"name"`
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Rows        *int64 `json:"rows"`
}

// handleAPI lists the releases, newest first, with their files (and each
// file's SHA-256, computed once and cached) and check results.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	ids, err := s.store.ids()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	latest, _ := s.store.latestID()
	out := apiReleases{Latest: latest, Releases: []apiRelease{}}
	for _, id := range ids {
		if err := r.Context().Err(); err != nil {
			return // the client left
		}
		rel, err := s.store.release(id)
		if err != nil {
			continue // pruned since the listing
		}
		ar := apiRelease{ID: id, Latest: id == latest, GeneratedAt: rel.GeneratedAt, URL: "/releases/" + id + "/",
			Files: []apiFile{}, Checks: rel.Report.Checks}
		if ar.Checks == nil {
			ar.Checks = []releases.Check{}
		}
		if rel.ReportErr != nil {
			ar.ReportError = "run report missing or unreadable"
		}
		for _, f := range rel.Files {
			sum, size, err := s.fileHash(rel, f.Name)
			if err != nil {
				continue // vanished or refused since the listing
			}
			ft, _ := page.FormatOf(f.Name)
			ar.Files = append(ar.Files, apiFile{Name: f.Name, URL: ar.URL + f.Name, ContentType: ft.ContentType,
				Size: size, SHA256: sum, Rows: f.Rows})
		}
		out.Releases = append(out.Releases, ar)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		s.fail(w, r, fmt.Errorf("encode release list: %w", err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", cachePage)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(buf.Bytes())
}

// fileHash opens a release file the way a download does and returns its
// SHA-256 and size.
func (s *Server) fileHash(rel *release, name string) (string, int64, error) {
	f, rf, err := s.store.open(rel, name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	sum, err := s.store.sha256(rel.ID, rf, f)
	return sum, rf.Size, err
}
