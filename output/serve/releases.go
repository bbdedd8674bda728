package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/visastats/visastats/output/page"
	releases "github.com/visastats/visastats/output/release"
)

// fileNamePattern is the shape of a servable file name: no path separator,
// no leading dot, nothing that needs quoting in a header.
var fileNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// reportName is the run report inside every release.
const reportName = releases.ReportName

// runReport is run.json, whose shape the release package owns.
type runReport = releases.Report

// release is one published release as found on disk. Releases never change
// once published, so a loaded release is cached by id.
type release struct {
	ID          string
	Dir         string
	GeneratedAt time.Time
	Report      runReport
	ReportErr   error // run.json missing or unreadable; the files are still served
	Files       []releaseFile
	// Profiles are the files of the country profiles run.json lists
	// (countries/...), by name; they are served, not listed with Files.
	Profiles map[string]releaseFile
}

// releaseFile is one servable file of a release.
type releaseFile struct {
	Name    string
	Size    int64
	ModTime time.Time
	Rows    *int64 // from run.json, nil when the report does not list the file
	// Description is what run.json says the file holds, "" when it says
	// nothing.
	Description string
}

// file returns the release's file called name.
func (r *release) file(name string) (releaseFile, bool) {
	for _, f := range r.Files {
		if f.Name == name {
			return f, true
		}
	}
	return releaseFile{}, false
}

// store finds releases under one output directory and caches what it read.
type store struct {
	layout   releases.Layout
	releases string // output.dir/releases

	mu     sync.Mutex
	loaded map[string]*release
	hashes map[hashKey]*hashEntry
}

func newStore(dir string) *store {
	layout := releases.Layout{Dir: dir}
	return &store{
		layout:   layout,
		releases: layout.Releases(),
		loaded:   map[string]*release{},
		hashes:   map[hashKey]*hashEntry{},
	}
}

// ids lists the published release ids, newest first, and forgets the
// cached releases that were pruned.
func (s *store) ids() ([]string, error) {
	ids, err := s.layout.IDs()
	if err != nil {
		return nil, err
	}
	s.forgetExcept(ids)
	return ids, nil
}

// forgetExcept drops cached releases that were pruned from disk.
func (s *store) forgetExcept(ids []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.loaded {
		if !slices.Contains(ids, id) {
			delete(s.loaded, id)
		}
	}
	for k := range s.hashes {
		if !slices.Contains(ids, k.release) {
			delete(s.hashes, k)
		}
	}
}

// latestID resolves the latest link once to a published release id.
func (s *store) latestID() (string, error) { return s.layout.LatestID() }

// release loads one published release by id. An id that is not in the
// directory list is not found, whatever it looks like.
func (s *store) release(id string) (*release, error) {
	if !releases.ValidID(id) {
		return nil, fs.ErrNotExist
	}
	s.mu.Lock()
	r, ok := s.loaded[id]
	s.mu.Unlock()
	if ok {
		return r, nil
	}
	ids, err := s.ids()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(ids, id) {
		return nil, fs.ErrNotExist
	}
	r, err = s.load(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.loaded[id] = r
	s.mu.Unlock()
	return r, nil
}

// load reads a release directory: its run report and its servable files.
func (s *store) load(id string) (*release, error) {
	dir := filepath.Join(s.releases, id)
	st, err := os.Lstat(dir)
	if err != nil {
		return nil, fmt.Errorf("release %s: %w", id, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("release %s: %w", id, fs.ErrNotExist)
	}
	r := &release{ID: id, Dir: dir}
	r.Report, r.ReportErr = readReport(filepath.Join(dir, reportName))
	rows := map[string]*int64{}
	descriptions := map[string]string{}
	for _, f := range r.Report.Files {
		rows[f.Name] = &f.Rows
		descriptions[f.Name] = f.Description
	}
	// With a readable report, only what it lists (and the report and the
	// data package beside it) is the release: another file placed in the
	// directory, a hard link say, is not served.
	listed := func(name string) bool {
		if r.ReportErr != nil || name == reportName || name == "datapackage.json" {
			return true
		}
		_, ok := rows[name]
		return ok
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list release %s: %w", id, err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !servableName(e.Name()) || !listed(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed since the listing
		}
		r.Files = append(r.Files, releaseFile{Name: e.Name(), Size: info.Size(), ModTime: info.ModTime(), Rows: rows[e.Name()], Description: descriptions[e.Name()]})
	}
	// The report's order (tables, then the workbook) first, the rest by name.
	order := func(name string) int {
		for i, f := range r.Report.Files {
			if f.Name == name {
				return i
			}
		}
		if name == reportName {
			return len(r.Report.Files) + 1
		}
		return len(r.Report.Files)
	}
	slices.SortStableFunc(r.Files, func(a, b releaseFile) int {
		if c := order(a.Name) - order(b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	r.Profiles = map[string]releaseFile{}
	for _, f := range r.Report.Files {
		if !releases.IsProfileFile(f.Name) {
			continue
		}
		info, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f.Name)))
		if err != nil || !info.Mode().IsRegular() {
			continue // not there: not served
		}
		r.Profiles[f.Name] = releaseFile{Name: f.Name, Size: info.Size(), ModTime: info.ModTime(), Description: f.Description}
	}
	r.GeneratedAt = r.Report.GeneratedAt
	if r.GeneratedAt.IsZero() {
		r.GeneratedAt = releases.IDTime(id)
	}
	return r, nil
}

func readReport(path string) (runReport, error) {
	rep, err := releases.ReadReport(path)
	if err != nil {
		return runReport{}, fmt.Errorf("read run report: %w", err)
	}
	return *rep, nil
}

// servableName reports whether a file of a release may be downloaded: a
// plain name with a known data extension. Databases, dot files and anything
// else a run might leave behind are never served.
func servableName(name string) bool {
	if !fileNamePattern.MatchString(name) || strings.Contains(name, "..") {
		return false
	}
	_, ok := page.FormatOf(name)
	return ok
}

// hashKey identifies one version of one release file. Release files never
// change, but size and time are part of the key so a file replaced by hand
// is not served with a stale ETag.
type hashKey struct {
	release, name string
	size          int64
	modTime       int64
}

type hashEntry struct {
	once sync.Once
	sum  string
	err  error
}

// sha256 returns the hex SHA-256 of an open release file, computed once per
// file version and shared by concurrent callers.
func (s *store) sha256(id string, f releaseFile, r io.ReaderAt) (string, error) {
	k := hashKey{release: id, name: f.Name, size: f.Size, modTime: f.ModTime.UnixNano()}
	s.mu.Lock()
	e, ok := s.hashes[k]
	if !ok {
		e = &hashEntry{}
		s.hashes[k] = e
	}
	s.mu.Unlock()
	e.once.Do(func() {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(r, 0, f.Size)); err != nil {
			e.err = fmt.Errorf("hash %s/%s: %w", id, f.Name, err)
			return
		}
		e.sum = hex.EncodeToString(h.Sum(nil))
	})
	if e.err != nil {
		s.mu.Lock()
		if s.hashes[k] == e {
			delete(s.hashes, k) // let the next request try again
		}
		s.mu.Unlock()
	}
	return e.sum, e.err
}

// open opens a file of a published release for reading, refusing anything
// that is not a regular file directly inside the release directory: the
// name must be one of the release's files, the path must not be or go
// through a symlink, and the file opened must be the one inspected.
func (s *store) open(r *release, name string) (*os.File, releaseFile, error) {
	rf, ok := r.file(name)
	if !ok || !servableName(name) {
		return nil, rf, fs.ErrNotExist
	}
	return s.openListed(r, name, rf)
}

// openProfile opens a file of the country profiles of a published
// release (countries/..., as run.json lists it), with the checks of open:
// no link anywhere on its path, and the file opened is the one inspected.
func (s *store) openProfile(r *release, name string) (*os.File, releaseFile, error) {
	rf, ok := r.Profiles[name]
	if !ok || !releases.IsProfileFile(name) {
		return nil, rf, fs.ErrNotExist
	}
	return s.openListed(r, name, rf)
}

// openListed opens the listed file name (slash-separated, inside the
// release folder) of release r.
func (s *store) openListed(r *release, name string, rf releaseFile) (*os.File, releaseFile, error) {
	path := filepath.Join(s.releases, r.ID, filepath.FromSlash(name))
	lst, err := os.Lstat(path)
	if err != nil {
		return nil, rf, fmt.Errorf("inspect %s: %w", path, err)
	}
	if !lst.Mode().IsRegular() {
		return nil, rf, fmt.Errorf("%s is not a regular file: %w", path, fs.ErrNotExist)
	}
	// The file itself is no link; neither may the release directory be.
	root, err := filepath.EvalSymlinks(s.releases)
	if err != nil {
		return nil, rf, fmt.Errorf("resolve %s: %w", s.releases, err)
	}
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, rf, fmt.Errorf("resolve %s: %w", path, err)
	}
	if resolved != filepath.Join(root, r.ID, filepath.FromSlash(name)) {
		return nil, rf, fmt.Errorf("%s leaves its release directory: %w", path, fs.ErrNotExist)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, rf, fmt.Errorf("open %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, rf, fmt.Errorf("inspect %s: %w", path, err)
	}
	if !os.SameFile(lst, st) || !st.Mode().IsRegular() {
		f.Close()
		return nil, rf, fmt.Errorf("%s changed while opening: %w", path, fs.ErrNotExist)
	}
	rf.Size, rf.ModTime = st.Size(), st.ModTime()
	return f, rf, nil
}
