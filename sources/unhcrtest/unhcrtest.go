// Package unhcrtest serves UNHCR's population API on this machine for
// tests: the real asylum-decisions page the project ships, paged as the
// API pages it, with the faults a test asks for (error statuses, an HTML
// page, a truncated body, a wrong page, a response that never comes). The
// API client of package sources and the fetcher of package pipeline are
// tested against this one server. It is used by tests only, and must not
// import sources (whose own tests import it).
package unhcrtest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// PagePath is the real page 1 of 11 of the asylum-decisions of Algerians,
// as the population API served it, relative to the module's root.
const PagePath = "data/unhcr/api_v1_asylum-decisions_coo-DZA_page1.json"

// DecisionsPath is the path the server answers on: the asylum-decisions
// dataset under the API's base URL + "/population/v1/".
const DecisionsPath = "/population/v1/asylum-decisions/"

// firstPage is how the real page starts; the server changes only its page
// number.
var firstPage = []byte(`{"page":1,`)

// Page returns the bytes of PagePath, found from the test's folder up to
// the module's root.
func Page(t testing.TB) []byte {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("read %s: no go.mod above the test's folder", PagePath)
		}
		dir = parent
	}
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(PagePath)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Fault may answer request n (counted from 1) itself and return true; when
// it returns false, the server serves the page as usual.
type Fault func(n int, w http.ResponseWriter, r *http.Request) bool

// At answers request n only with h.
func At(n int, h http.HandlerFunc) Fault {
	return func(i int, w http.ResponseWriter, r *http.Request) bool {
		if i != n {
			return false
		}
		h(w, r)
		return true
	}
}

// Always answers every request with h.
func Always(h http.HandlerFunc) Fault {
	return func(_ int, w http.ResponseWriter, r *http.Request) bool {
		h(w, r)
		return true
	}
}

// Status answers with the HTTP status code and its text.
func Status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, http.StatusText(code), code)
	}
}

// TooManyRequests answers 429 with a Retry-After of seconds.
func TooManyRequests(seconds int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", strconv.Itoa(seconds))
		w.WriteHeader(http.StatusTooManyRequests)
	}
}

// HTML answers 200 with a maintenance page in HTML instead of JSON, as a
// proxy in front of an API does.
func HTML(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte("<!DOCTYPE html>\n<html><head><title>Maintenance</title></head></html>"))
}

// WrongPage answers with page as it is, which says it is page 1 whatever
// page was asked for.
func WrongPage(page []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Write(page)
	}
}

// Truncated announces the whole of page in Content-Length and sends only
// its first half.
func Truncated(page []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(page)))
		w.Write(page[:len(page)/2])
	}
}

// Hang sends nothing until the client gives up on the request.
func Hang(_ http.ResponseWriter, r *http.Request) {
	<-r.Context().Done()
}

// Server is a running API server. Page n of the asylum-decisions dataset
// is its page with only the page number changed to n (the project ships
// page 1 of 11; the others repeat its items), so a client that follows
// the page's maxPages fetches 11 pages of the same 100 items.
type Server struct {
	*httptest.Server
	page  []byte
	fault Fault

	mu    sync.Mutex
	reqs  []*http.Request
	times []time.Time
}

// Start serves page, which must start as the real page 1 does, with fault
// (nil for none), until the test ends.
func Start(t testing.TB, page []byte, fault Fault) *Server {
	t.Helper()
	if !bytes.HasPrefix(page, firstPage) {
		t.Fatalf("the page no longer starts with %s", firstPage)
	}
	s := &Server{page: page, fault: fault}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, r)
	s.times = append(s.times, time.Now())
	n := len(s.reqs)
	s.mu.Unlock()
	if s.fault != nil && s.fault(n, w, r) {
		return
	}
	if r.URL.Path != DecisionsPath {
		http.NotFound(w, r)
		return
	}
	page := r.URL.Query().Get("page")
	w.Header().Set("Content-Type", "application/json")
	w.Write(bytes.Replace(s.page, firstPage, []byte(`{"page":`+page+`,`), 1))
}

// Count returns how many requests the server has seen.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// Request returns request i (counted from 0) and when it arrived.
func (s *Server) Request(i int) (*http.Request, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs[i], s.times[i]
}
