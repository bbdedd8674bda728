package serve

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/visastats/visastats/output/page"
)

// Cache lifetimes: latest changes with every run, a release never changes.
const (
	cacheLatest  = "public, max-age=60"
	cacheRelease = "public, max-age=31536000, immutable"
	cachePage    = "no-cache"
)

// handleLatestFile serves a file of the latest release. The link is
// resolved once, and the file is opened before anything is sent, so a
// release swapped in during the download does not change what this client
// gets: the open file keeps the old bytes even if the old release is pruned.
func (s *Server) handleLatestFile(w http.ResponseWriter, r *http.Request) {
	id, err := s.store.latestID()
	if err != nil {
		s.notFound(w, r, err)
		return
	}
	s.serveFile(w, r, id, r.PathValue("file"), true)
}

// handleReleaseFile serves a file of one release.
func (s *Server) handleReleaseFile(w http.ResponseWriter, r *http.Request) {
	s.serveFile(w, r, r.PathValue("id"), r.PathValue("file"), false)
}

// serveFile sends one file of release id; latest says it was asked for
// through the latest link.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, id, name string, latest bool) {
	rel, err := s.store.release(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, rf, err := s.store.open(rel, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	ft, _ := page.FormatOf(name)
	s.send(w, r, id, name, f, rf, latest, ft.ContentType, true)
}

// send sends an open file of release id, called name inside it: its
// SHA-256 as ETag, the cache lifetime of a release or of latest (with the
// release's own address as Content-Location), conditional and range
// requests; attach offers it as a download rather than showing it.
func (s *Server) send(w http.ResponseWriter, r *http.Request, id, name string, f *os.File, rf releaseFile, latest bool, contentType string, attach bool) {
	sum, err := s.store.sha256(id, rf, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	if attach {
		// Release file names allow only [A-Za-z0-9._-] and /, so the
		// name needs no escaping.
		h.Set("Content-Disposition", `attachment; filename="`+path.Base(name)+`"`)
	}
	h.Set("ETag", `"`+sum+`"`)
	if latest {
		h.Set("Cache-Control", cacheLatest)
		h.Set("Content-Location", "/releases/"+id+"/"+name)
	} else {
		h.Set("Cache-Control", cacheRelease)
	}
	// The server's write timeout suits pages; a download may take longer
	// on a slow line. Not every ResponseWriter can extend it, which is fine.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(downloadDeadline(rf.Size)))
	if n := strings.Count(r.Header.Get("Range"), ",") + 1; n > maxRanges {
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(rf.Size, 10))
		http.Error(w, fmt.Sprintf("too many ranges: %d, at most %d in one request", n, maxRanges), http.StatusRequestedRangeNotSatisfiable)
		return
	}
	http.ServeContent(w, r, path.Base(name), rf.ModTime, f)
}

// maxRanges is the most byte ranges one request may ask for: Parquet
// readers ask for one at a time, and a thousand one-byte ranges only cost
// the server a thousand-part answer.
const maxRanges = 32

// downloadDeadline allows a download of size bytes the normal write timeout
// plus the time it takes at 32 kB/s, at most six hours.
func downloadDeadline(size int64) time.Duration {
	d := writeTimeout + time.Duration(size/(32<<10))*time.Second
	return min(d, 6*time.Hour)
}

// fail answers a request that could not be served: 404 for anything that
// does not exist or may not be served, 500 (and a log line) otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, fs.ErrNotExist) {
		s.notFound(w, r, err)
		return
	}
	s.opts.Log.Warn("serve", "path", r.URL.Path, "error", err)
	http.Error(w, "internal error; the server log says more", http.StatusInternalServerError)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request, err error) {
	s.opts.Log.Debug("not found", "path", r.URL.Path, "error", err)
	http.Error(w, "not found", http.StatusNotFound)
}
