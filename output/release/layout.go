package release

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Names inside the output folder and inside every release.
const (
	// ReportName is the run report inside every release.
	ReportName = "run.json"
	// LatestName is the link to the newest published release.
	LatestName   = "latest"
	releasesName = "releases"
	runsName     = "runs"
)

// idLayout is the time layout of a release id.
const idLayout = "20060102T150405Z"

// idPattern matches the names NewID gives: the UTC build time, with a
// suffix when two runs started in the same second.
var idPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z(-[0-9]+)?$`)

// ValidID says whether id has the shape of a release id.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// IDTime is the build time an id names (its suffix ignored), or the zero
// time when id is not one.
func IDTime(id string) time.Time {
	base, _, _ := strings.Cut(id, "-")
	t, _ := time.Parse(idLayout, base)
	return t
}

// CompareIDs orders release ids by time, then by suffix number.
func CompareIDs(a, b string) int {
	ab, as, _ := strings.Cut(a, "-")
	bb, bs, _ := strings.Cut(b, "-")
	if c := strings.Compare(ab, bb); c != 0 {
		return c
	}
	if c := len(as) - len(bs); c != 0 {
		return c
	}
	return strings.Compare(as, bs)
}

// Layout is one output folder:
//
//	releases/<id>/             published releases, never changed
//	releases/.<id>.partial/    a release being written
//	latest -> releases/<id>    the newest published release
//	runs/<id>-failed.json      reports of failed runs
//	runs/<id>-skipped.json     reports of runs that found nothing changed
//	runs/<id>-running.json     the report so far of the run under way
type Layout struct {
	Dir string // output.dir
}

// Releases is the folder of the published releases.
func (l Layout) Releases() string { return filepath.Join(l.Dir, releasesName) }

// Release is the folder of release id.
func (l Layout) Release(id string) string { return filepath.Join(l.Dir, releasesName, id) }

// Partial is the hidden folder release id is written in before it is
// renamed into place.
func (l Layout) Partial(id string) string {
	return filepath.Join(l.Dir, releasesName, "."+id+".partial")
}

// Latest is the path of the latest link.
func (l Layout) Latest() string { return filepath.Join(l.Dir, LatestName) }

// Runs is the folder of the run records.
func (l Layout) RunsDir() string { return filepath.Join(l.Dir, runsName) }

// Record is the path of the record of run id of the given status
// ("failed", "skipped" or "running").
func (l Layout) Record(id, status string) string {
	return filepath.Join(l.Dir, runsName, id+"-"+status+".json")
}

// recordRunning is the status of the record a run keeps while it runs.
const recordRunning = "running"

// NewID names a release by its UTC build time, with a suffix when a
// release or a record of a run of the same second exists.
func (l Layout) NewID(now time.Time) string {
	id := now.Format(idLayout)
	for i := 2; ; i++ {
		_, err1 := os.Stat(l.Release(id))
		_, err2 := os.Stat(l.Record(id, StatusFailed))
		_, err3 := os.Stat(l.Record(id, recordRunning))
		if errors.Is(err1, os.ErrNotExist) && errors.Is(err2, os.ErrNotExist) && errors.Is(err3, os.ErrNotExist) {
			return id
		}
		id = fmt.Sprintf("%s-%d", now.Format(idLayout), i)
	}
}

// IDs lists the published release ids, newest first. Hidden folders
// (releases being written), links and anything not shaped like an id are
// left out.
func (l Layout) IDs() ([]string, error) {
	dir := l.Releases()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list releases in %s: %w", dir, err)
	}
	var ids []string
	for _, e := range entries {
		if e.Type()&fs.ModeType == fs.ModeDir && ValidID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	slices.SortFunc(ids, func(a, b string) int { return CompareIDs(b, a) })
	return ids, nil
}

// LatestID resolves the latest link to a release id.
func (l Layout) LatestID() (string, error) {
	link := l.Latest()
	target, err := os.Readlink(link)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", link, err)
	}
	id := filepath.Base(target)
	if !ValidID(id) {
		return "", fmt.Errorf("resolve %s: target %q is not a release", link, target)
	}
	return id, nil
}

// LatestReport reads the report of the release latest points to, or
// returns nil when there is none or it cannot be read.
func (l Layout) LatestReport() *Report {
	target, err := os.Readlink(l.Latest())
	if err != nil {
		return nil
	}
	rep, err := ReadReport(filepath.Join(l.Dir, target, ReportName))
	if err != nil {
		return nil
	}
	return rep
}

// SwapLatest points latest at releases/<id> atomically: a new link is made
// under a temporary name and renamed over the old one.
func (l Layout) SwapLatest(id string) error {
	latest := l.Latest()
	if st, err := os.Lstat(latest); err == nil && st.Mode()&os.ModeSymlink == 0 {
		return fmt.Errorf("publish: %s exists and is not a link made by visastats; move it away", latest)
	}
	tmp := filepath.Join(l.Dir, fmt.Sprintf(".latest.tmp-%d", os.Getpid()))
	os.Remove(tmp)
	if err := os.Symlink(filepath.Join(releasesName, id), tmp); err != nil {
		return fmt.Errorf("publish: link latest: %w", err)
	}
	if err := os.Rename(tmp, latest); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("publish: swap latest: %w", err)
	}
	return nil
}

// CleanLeftovers removes what a run that died left in the output folder:
// half-written release folders and temporary latest links. The caller
// holds the run lock, so nothing else is writing them.
func (l Layout) CleanLeftovers() {
	entries, _ := os.ReadDir(l.Releases())
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), ".partial") {
			os.RemoveAll(filepath.Join(l.Releases(), e.Name()))
		}
	}
	tmps, _ := filepath.Glob(filepath.Join(l.Dir, ".latest.tmp-*"))
	records, _ := filepath.Glob(filepath.Join(l.RunsDir(), ".*"+tmpInfix+"*"))
	for _, t := range append(tmps, records...) {
		os.Remove(t)
	}
}

// Prune keeps the newest keep releases (0 keeps all), and always current.
// Only folders shaped like release ids are counted or removed, newest
// first by CompareIDs (so 20260101T000000Z-10 is newer than -3). A release
// whose id comes after current's (Future) is neither counted nor removed:
// made while the clock was ahead, or copied in, it would otherwise take the
// place of a real release in the count, forever.
func (l Layout) Prune(current string, keep int) error {
	ids, err := l.IDs()
	if err != nil {
		return err
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return CompareIDs(id, current) > 0 })
	if keep <= 0 || len(ids) <= keep {
		return nil
	}
	var errs []error
	for _, id := range ids[keep:] {
		if id == current {
			continue
		}
		errs = append(errs, os.RemoveAll(l.Release(id)))
	}
	return errors.Join(errs...)
}

// Future lists the published releases whose ids come after current's,
// newest first: a run names its release by the time it started, so such a
// release was made while the clock was ahead, or copied in, and a run
// reports it.
func (l Layout) Future(current string) ([]string, error) {
	ids, err := l.IDs()
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ids, func(id string) bool { return CompareIDs(id, current) <= 0 }), nil
}

// KeepSkipped is how many records of skipped runs are kept: a nightly job
// that finds nothing new writes one a night.
const KeepSkipped = 60

// WriteSkipped keeps the report of a run that found nothing changed in
// runs/<id>-skipped.json (id is the run's own, the report names the
// release it kept), and removes all but the newest KeepSkipped.
func (l Layout) WriteSkipped(id string, rep *Report) error {
	if err := os.MkdirAll(l.RunsDir(), 0o755); err != nil {
		return err
	}
	if err := WriteJSON(l.Record(id, StatusSkipped), rep); err != nil {
		return err
	}
	old, err := filepath.Glob(l.Record("*", StatusSkipped))
	if err != nil {
		return err
	}
	// Oldest first by id (…Z-10 after …Z-3), not by file name.
	suffix := "-" + StatusSkipped + ".json"
	slices.SortFunc(old, func(a, b string) int {
		return CompareIDs(strings.TrimSuffix(filepath.Base(a), suffix), strings.TrimSuffix(filepath.Base(b), suffix))
	})
	for len(old) > KeepSkipped {
		if err := os.Remove(old[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		old = old[1:]
	}
	return nil
}

// WriteFailed keeps the report of a failed run in runs/<release>-failed.json.
func (l Layout) WriteFailed(rep *Report) error {
	if err := os.MkdirAll(l.RunsDir(), 0o755); err != nil {
		return err
	}
	return WriteJSON(l.Record(rep.Release, StatusFailed), rep)
}

// WriteRunning keeps the report so far of the run under way, a marker that
// the run removes however it ends, unless the process dies. The next run
// (holding the lock, so the marker's run is gone) turns a marker left
// behind into a failed-run record with ReapDead.
func (l Layout) WriteRunning(rep *Report) error {
	if err := os.MkdirAll(l.RunsDir(), 0o755); err != nil {
		return err
	}
	return WriteJSON(l.Record(rep.Release, recordRunning), rep)
}

// RemoveRunning removes the marker of run id.
func (l Layout) RemoveRunning(id string) { os.Remove(l.Record(id, recordRunning)) }

// ReapDead turns every marker of a run that died into a failed-run record
// that says so, and returns the ids of those runs. by is the id of the run
// that found them.
func (l Layout) ReapDead(by string) []string {
	markers, _ := filepath.Glob(l.Record("*", recordRunning))
	var ids []string
	for _, m := range markers {
		id := strings.TrimSuffix(filepath.Base(m), "-"+recordRunning+".json")
		if id == by || !ValidID(id) {
			continue
		}
		rep, err := ReadReport(m)
		damaged := ""
		if err != nil || rep.Release != id {
			// Markers are written whole (WriteJSON), so this is a marker
			// damaged after the fact; the run it names still died.
			rep = &Report{Release: id, Inputs: []Input{}, Stages: []Stage{}, Checks: []Check{}, Files: []File{}, Headlines: []Headline{}, UpstreamIssues: []UpstreamIssue{}}
			damaged = "; its marker " + filepath.Base(m) + " could not be read, so what it did is not known"
		}
		rep.Status = StatusFailed
		rep.Error = fmt.Sprintf("the run stopped before it finished (the process was killed or crashed); found by run %s%s", by, damaged)
		if err := l.WriteFailed(rep); err != nil {
			continue
		}
		os.Remove(m)
		ids = append(ids, rep.Release)
	}
	return ids
}

// Run is one past run as the output folder records it.
type Run struct {
	Release  string
	Status   string
	Latest   bool
	Report   *Report
	Location string
}

// History lists past runs, published, skipped and failed, oldest first. A
// skipped run's Release is the release it kept.
func (l Layout) History() ([]Run, error) {
	var out []Run
	latest, _ := os.Readlink(l.Latest())
	rels, err := filepath.Glob(filepath.Join(l.Releases(), "*", ReportName))
	if err != nil {
		return nil, err
	}
	failed, err := filepath.Glob(l.Record("*", StatusFailed))
	if err != nil {
		return nil, err
	}
	skipped, err := filepath.Glob(l.Record("*", StatusSkipped))
	if err != nil {
		return nil, err
	}
	for _, p := range slices.Concat(rels, failed, skipped) {
		r, err := ReadReport(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		out = append(out, Run{Release: r.Release, Status: r.Status, Report: r, Location: p,
			Latest: latest != "" && filepath.Base(latest) == r.Release && r.Status == StatusPublished})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Report.GeneratedAt.Before(out[j].Report.GeneratedAt) })
	return out, nil
}
