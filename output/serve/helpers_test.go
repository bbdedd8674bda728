package serve

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// The release in testdata is a real one, written by `visastats run` on the
// shipped EC workbooks.
const (
	realID      = "20261125T175458Z"
	olderID     = "20261101T060000Z"
	partialID   = "20261126T000000Z"
	linkedID    = "20261130T000000Z" // a release directory that is a symlink
	outsideMark = "OUTSIDE-THE-RELEASE-TREE"
	secretMark  = "DOT-FILE-SECRET"
	partialMark = "PARTIAL-RELEASE"
	dbMark      = "DATABASE-FILE"
)

// tree is an output directory built for one test.
type tree struct {
	dir      string // output.dir
	outside  string // a file outside the tree
	releases string
}

func (tr tree) path(id, name string) string { return filepath.Join(tr.releases, id, name) }

// newTree builds an output directory in t.TempDir(): the real release
// (latest), an older copy of it, and everything that must never be served:
// a release being written, the database, a dot file, a symlink out of the
// tree, a symlinked release directory and a subdirectory.
func newTree(t *testing.T) tree {
	t.Helper()
	root := t.TempDir()
	tr := tree{dir: filepath.Join(root, "out"), outside: filepath.Join(root, "outside.json")}
	tr.releases = filepath.Join(tr.dir, "releases")
	copyDir(t, filepath.Join("testdata", "release", realID), filepath.Join(tr.releases, realID))
	copyDir(t, filepath.Join("testdata", "release", realID), filepath.Join(tr.releases, olderID))
	rewriteReport(t, tr.path(olderID, reportName), func(m map[string]any) {
		m["release"] = olderID
		m["generated_at"] = "2026-11-01T06:00:00Z"
	})
	writeFile(t, tr.outside, `{"mark": "`+outsideMark+`"}`)
	writeFile(t, filepath.Join(tr.releases, "."+partialID+".partial", "observations.parquet"), partialMark)
	writeFile(t, filepath.Join(tr.releases, "."+partialID+".partial", reportName), `{"release": "`+partialID+`"}`)
	writeFile(t, filepath.Join(tr.dir, "visastats.duckdb"), dbMark)
	writeFile(t, tr.path(realID, "visastats.duckdb"), dbMark)
	writeFile(t, tr.path(realID, ".secret.json"), secretMark)
	writeFile(t, filepath.Join(tr.releases, realID, "nested.parquet", "inner.parquet"), outsideMark)
	must(t, os.Symlink(tr.outside, tr.path(realID, "evil.json")))
	must(t, os.Symlink("loop.json", tr.path(realID, "loop.json")))
	must(t, os.Symlink(filepath.Join(root, "elsewhere"), filepath.Join(tr.releases, linkedID)))
	writeFile(t, filepath.Join(root, "elsewhere", "observations.parquet"), outsideMark)
	writeFile(t, filepath.Join(root, "elsewhere", reportName), `{"release": "`+linkedID+`"}`)
	setLatest(t, tr.dir, realID)
	return tr
}

// setLatest points latest at a release the way the pipeline does: a new
// relative link renamed over the old one.
func setLatest(t *testing.T, dir, id string) {
	t.Helper()
	tmp := filepath.Join(dir, ".latest.tmp")
	must(t, os.Symlink(filepath.Join("releases", id), tmp))
	must(t, os.Rename(tmp, filepath.Join(dir, "latest")))
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	must(t, err)
	must(t, os.MkdirAll(to, 0o755))
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(to, e.Name()), data, 0o644))
	}
}

func rewriteReport(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(data, &m))
	edit(m)
	data, err = json.Marshal(m)
	must(t, err)
	must(t, os.WriteFile(path, data, 0o644))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(path), 0o755))
	must(t, os.WriteFile(path, []byte(content), 0o644))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// newTestServer serves tr on a loopback port for the test.
func newTestServer(t *testing.T, tr tree, log *slog.Logger) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(Options{Dir: tr.dir, Log: log})
	must(t, err)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// get sends one request with the given headers and returns the response
// and its whole body.
func get(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	must(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	must(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp, body
}

// logBuffer is a logger writing text lines into a buffer safe for
// concurrent handlers.
type logBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newLogBuffer() *logBuffer { return &logBuffer{mu: make(chan struct{}, 1)} }

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu <- struct{}{}
	defer func() { <-l.mu }()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu <- struct{}{}
	defer func() { <-l.mu }()
	return l.buf.String()
}
