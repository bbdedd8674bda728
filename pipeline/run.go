package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/visastats/visastats/output/objstore"
	"github.com/visastats/visastats/pipeline/snapshot"
	"github.com/visastats/visastats/sources"
	vsql "github.com/visastats/visastats/sql"
)

// Version is visastats' version, set at build time with -ldflags.
var Version = "dev"

// RunOptions are the per-invocation choices of a run (the configuration
// says what to build; these say how to run it this time).
type RunOptions struct {
	// Force rebuilds even when no input, code or configuration changed.
	Force bool
	// Offline uses the last snapshot of every fetched input instead of the
	// network.
	Offline bool
	// HTTPClient fetches inputs; nil means a default client.
	HTTPClient *http.Client
	// BackoffBase overrides the first retry delay (tests use a short one).
	BackoffBase time.Duration
	// Uploaded, when set, is called after each file of a release reaches a
	// remote target, with the file's name.
	Uploaded func(name string)
}

// Run statuses in reports.
const (
	StatusPublished = "published"
	StatusSkipped   = "skipped"
	StatusFailed    = "failed"
)

// Report is what a run did, for the log, the CLI and run.json.
type Report struct {
	Release     string            `json:"release"`
	Status      string            `json:"status"`
	Error       string            `json:"error,omitempty"`
	ReleaseDir  string            `json:"release_dir,omitempty"`
	Latest      string            `json:"latest,omitempty"`
	Previous    string            `json:"previous_release,omitempty"`
	Database    string            `json:"database"`
	GeneratedAt time.Time         `json:"generated_at"`
	Duration    time.Duration     `json:"duration_ns"`
	Fingerprint string            `json:"fingerprint"`
	Versions    map[string]string `json:"versions"`
	Fetches     []FetchReport     `json:"fetches,omitempty"`
	Inputs      []InputInfo       `json:"inputs"`
	Stages      []StageReport     `json:"stages"`
	Tables      map[string]int64  `json:"tables,omitempty"`
	Checks      []CheckResult     `json:"checks"`
	Changes     *ChangeSummary    `json:"changes,omitempty"`
	Files       []FileInfo        `json:"files"`
	Headlines   []Headline        `json:"headlines"`
	Asylum      []AsylumYear      `json:"asylum,omitempty"`
	Claims      []ClaimResult     `json:"claims,omitempty"`
	// UpstreamIssues lists the discrepancies found in the input files and
	// how each was handled; [] when none were found.
	UpstreamIssues []UpstreamIssue `json:"upstream_issues"`
	// Remote is what the publish to each remote target did; it is known
	// only after run.json is written, so it is not part of it.
	Remote []objstore.Result `json:"-"`
}

// StageReport is one stage of a run.
type StageReport struct {
	Stage    string        `json:"stage"`
	Name     string        `json:"name"`
	Rows     int64         `json:"rows"`
	Duration time.Duration `json:"duration_ns"`
}

// FileInfo is one published file.
type FileInfo struct {
	Name   string `json:"name"`
	Rows   int64  `json:"rows"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	// Description says what the file holds, for people.
	Description string `json:"description,omitempty"`
}

// CheckError reports blocking checks that failed: nothing was published.
type CheckError struct {
	Failed []CheckResult
}

// Error lists each failed check with its problems, one a line.
func (e *CheckError) Error() string {
	var b strings.Builder
	b.WriteString("blocking checks failed, nothing published:")
	for _, c := range e.Failed {
		noun := "problems"
		if c.Problems == 1 {
			noun = "problem"
		}
		fmt.Fprintf(&b, "\n  %s: %d %s", c.Name, c.Problems, noun)
		if len(c.Sample) < c.Problems {
			fmt.Fprintf(&b, " (the first %d shown)", len(c.Sample))
		}
		for _, s := range c.Sample {
			b.WriteString("\n    " + s)
		}
	}
	return b.String()
}

// Run executes the whole pipeline. It holds the locks of the output
// directory and the database,
// cleans up what a dead run left, fetches and snapshots every input, skips
// the build when nothing changed since the latest release (unless forced),
// builds a new database beside the configured one, loads every source, runs
// the transforms and checks, writes a release and, only when everything
// succeeded, swaps the database and the latest link. On error or
// cancellation the previous database and release stay as they were and a
// report of the failed run is kept in <output.dir>/runs/.
func Run(ctx context.Context, cfg Config, log *slog.Logger, opts RunOptions) (rep *Report, err error) {
	started := time.Now()
	now := started.UTC()
	rep = &Report{GeneratedAt: now, Database: cfg.Database, Status: StatusFailed, Versions: versions()}
	lock, err := lockRun(cfg.Output.Dir, cfg.Database)
	if err != nil {
		return rep, err
	}
	defer lock.release()
	releasesDir := filepath.Join(cfg.Output.Dir, "releases")
	if err := os.MkdirAll(releasesDir, 0o755); err != nil {
		return rep, fmt.Errorf("create %s: %w", releasesDir, err)
	}
	cleanLeftovers(releasesDir, cfg.Database)
	rep.Release = newReleaseID(releasesDir, now)
	for _, id := range reapDeadRuns(cfg.Output.Dir, rep.Release) {
		log.Warn("an earlier run stopped before it finished (killed or crashed); recorded as failed", "release", id)
	}
	if werr := writeRunningMarker(cfg.Output.Dir, rep); werr != nil {
		log.Warn("keep marker of the running run", "error", werr)
	}
	runID := rep.Release // a skipped run reports the previous release's id
	defer func() {
		rep.Duration = time.Since(started)
		if err != nil {
			rep.Status = StatusFailed
			rep.Error = err.Error()
			if werr := writeFailedReport(cfg.Output.Dir, rep); werr != nil {
				log.Warn("keep report of failed run", "error", werr)
			}
		}
		removeRunningMarker(cfg.Output.Dir, runID)
	}()

	store, err := snapshot.Open(cfg.SnapshotDir())
	if err != nil {
		return rep, fmt.Errorf("open snapshot store: %w", err)
	}
	start := time.Now()
	srcCfg, fetches, err := fetchInputs(ctx, cfg, opts, store, log)
	rep.Fetches = fetches
	if err != nil {
		return rep, err
	}
	srcs := sources.All(srcCfg)
	inputs, err := snapshotInputs(ctx, store, srcs)
	if err != nil {
		return rep, err
	}
	rep.Inputs = inputs
	rep.stage(log, "inputs", "inputs", int64(len(inputs)), start)
	if rep.Fingerprint, err = fingerprint(cfg, inputs); err != nil {
		return rep, err
	}
	prev := previousRelease(cfg.Output.Dir)
	if prev != nil {
		rep.Previous = prev.Release
		if prev.Fingerprint == rep.Fingerprint && !opts.Force {
			runID := rep.Release
			rep.Status = StatusSkipped
			rep.Release = prev.Release
			rep.Latest = filepath.Join(cfg.Output.Dir, "latest")
			rep.Duration = time.Since(started)
			log.Info("skipped", "reason", "no input, code or configuration changed since the latest release", "release", prev.Release)
			if err := writeSkippedReport(cfg.Output.Dir, runID, rep); err != nil {
				return rep, fmt.Errorf("record skipped run: %w", err)
			}
			// The remote targets may lag behind (an upload that failed or
			// was killed): bring them up to the latest release.
			if rep.Remote, err = PublishRemote(ctx, cfg, opts, prev.Release, filepath.Join(releasesDir, prev.Release), log); err != nil {
				return rep, err
			}
			return rep, nil
		}
	}

	buildDB := cfg.Database + ".build"
	db, err := openBuildDB(buildDB, cfg.DuckDB)
	if err != nil {
		return rep, err
	}
	closed := false
	defer func() {
		if !closed {
			db.Close()
		}
		os.RemoveAll(tempDir(buildDB))
		if err != nil {
			removeDB(buildDB)
		}
	}()
	conn, err := db.Conn(ctx)
	if err != nil {
		return rep, fmt.Errorf("connect to %s: %w", buildDB, err)
	}
	defer conn.Close()

	prevObs := ""
	if prev != nil {
		prevObs = observationsPath(filepath.Join(releasesDir, prev.Release))
	}
	if err := buildDatabase(ctx, conn, srcs, inputs, prevObs, rep, log); err != nil {
		return rep, err
	}

	// Write the release into a hidden directory, then rename it into place.
	partial := filepath.Join(releasesDir, "."+rep.Release+".partial")
	final := filepath.Join(releasesDir, rep.Release)
	if err := os.MkdirAll(partial, 0o755); err != nil {
		return rep, fmt.Errorf("create release directory: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(partial)
		}
	}()
	if rep.Headlines, err = headlines(ctx, conn); err != nil {
		return rep, err
	}
	if rep.Asylum, err = asylumStory(ctx, conn); err != nil {
		return rep, err
	}
	if err := writeRelease(ctx, conn, partial, cfg.Output, rep, log); err != nil {
		return rep, err
	}
	rep.Status = StatusPublished
	rep.ReleaseDir = final
	rep.Latest = filepath.Join(cfg.Output.Dir, "latest")
	rep.Duration = time.Since(started)
	if err := writeStaticPage(partial, cfg.Output.Dir, rep); err != nil {
		return rep, err
	}
	if err := writeJSON(filepath.Join(partial, "run.json"), rep.forPublication(cfg.Output.Dir)); err != nil {
		return rep, err
	}
	if err := writePackage(partial, cfg.Output, rep, log); err != nil {
		return rep, err
	}
	if err := syncDir(partial); err != nil {
		return rep, err
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}

	// Publish: the database first (the release describes it), then latest.
	conn.Close()
	if err := db.Close(); err != nil {
		return rep, fmt.Errorf("close %s: %w", buildDB, err)
	}
	closed = true
	if err := os.Rename(buildDB, cfg.Database); err != nil {
		return rep, fmt.Errorf("swap database %s: %w", cfg.Database, err)
	}
	if err := os.Rename(partial, final); err != nil {
		return rep, fmt.Errorf("publish release %s: %w", final, err)
	}
	if err := swapLatest(cfg.Output.Dir, rep.Release); err != nil {
		return rep, err
	}
	log.Info("published", "release", rep.Release, "dir", rep.Latest)
	if err := pruneReleases(releasesDir, rep.Release, cfg.Output.Keep); err != nil {
		log.Warn("prune releases", "error", err)
	}
	// Remote targets after the local publish, which stays first: a
	// failure there leaves each target on its previous release.
	if rep.Remote, err = PublishRemote(ctx, cfg, opts, rep.Release, final, log); err != nil {
		return rep, err
	}
	return rep, nil
}

// observationsTransform is the transform after which every source's
// numbers are in observations: the end of the ingest.
const observationsTransform = "observations"

// buildDatabase fills a fresh database: inputs, sources, transforms, checks.
func buildDatabase(ctx context.Context, conn *sql.Conn, srcs []sources.Source, inputs []InputInfo, prevObs string, rep *Report, log *slog.Logger) error {
	if err := build(ctx, conn, srcs, inputs, prevObs, rep, log, ""); err != nil {
		return err
	}
	tables, err := tableCounts(ctx, conn)
	if err != nil {
		return err
	}
	rep.Tables = tables
	if rep.UpstreamIssues, err = upstreamIssues(ctx, conn); err != nil {
		return err
	}
	for _, u := range rep.UpstreamIssues {
		log.Warn("upstream issue", "source", u.Source, "file", u.File, "cell", u.Cell,
			"printed", u.PrintedTotal, "data_rows", u.DataRowsTotal, "handling", u.Handling)
	}
	if rep.Changes, err = changeSummary(ctx, conn, rep.Previous); err != nil {
		return err
	}
	start := time.Now()
	if rep.Claims, err = evaluateClaims(ctx, conn); err != nil {
		return err
	}
	rep.stage(log, "claims", "claims", int64(len(rep.Claims)), start)
	for _, c := range rep.Claims {
		log.Info("claim", "claim", c.ID, "status", c.Status, "note", c.Explanation)
	}
	return nil
}

// build records the inputs, loads the sources and runs the transforms in
// order, each followed by the checks declared after it. With stopAfter set
// it stops after that transform and its checks; otherwise it runs them
// all, then the catalogue check and the checks that follow everything.
func build(ctx context.Context, conn *sql.Conn, srcs []sources.Source, inputs []InputInfo, prevObs string, rep *Report, log *slog.Logger, stopAfter string) error {
	if err := recordInputs(ctx, conn, inputs); err != nil {
		return err
	}

	for _, src := range srcs {
		start := time.Now()
		st, err := src.Load(ctx, conn)
		if err != nil {
			return fmt.Errorf("load source %s: %w", src.Name(), err)
		}
		rep.stage(log, "load", src.Name(), st.Rows(), start)
	}

	transforms, err := vsql.Transforms()
	if err != nil {
		return err
	}
	checks, err := vsql.Checks()
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, t := range transforms {
		known[t.Name] = true
	}
	for _, c := range checks {
		if c.After != "" && !known[c.After] {
			return fmt.Errorf("check %s: runs after unknown transform %q", c.File, c.After)
		}
	}
	// runChecksAfter runs the checks declared to follow one transform ("" =
	// after all) and stops at the first stage with a failed blocking check.
	runChecksAfter := func(after string) error {
		start := time.Now()
		var failed []CheckResult
		n := 0
		for _, c := range checks {
			if c.After != after {
				continue
			}
			r, err := runCheck(ctx, conn, c)
			if err != nil {
				return err
			}
			n++
			rep.Checks = append(rep.Checks, r)
			switch {
			case r.Problems > 0 && r.Blocking:
				failed = append(failed, r)
			case r.Problems > 0:
				log.Warn("check", "check", r.Name, "problems", r.Problems, "first", strings.Join(r.Sample, "; "))
			}
		}
		if n > 0 {
			rep.stage(log, "checks", "after "+orAll(after), int64(n), start)
		}
		if len(failed) > 0 {
			return &CheckError{Failed: failed}
		}
		return nil
	}
	for _, t := range transforms {
		start := time.Now()
		res, err := conn.ExecContext(ctx, t.SQL)
		if err != nil {
			return fmt.Errorf("transform %s: %w", t.File, err)
		}
		n, _ := res.RowsAffected()
		rep.stage(log, "transform", t.Name, n, start)
		if t.Name == observationsTransform {
			// The previous release is compared against from here on.
			if err := loadPrevious(ctx, conn, prevObs); err != nil {
				return err
			}
		}
		if err := runChecksAfter(t.Name); err != nil {
			return err
		}
		if t.Name == stopAfter {
			return nil
		}
	}
	if stopAfter != "" {
		return fmt.Errorf("build: no transform named %q", stopAfter)
	}
	if err := checkCatalogue(ctx, conn); err != nil {
		return err
	}
	return runChecksAfter("")
}

func orAll(after string) string {
	if after == "" {
		return "all transforms"
	}
	return after
}

func (r *Report) stage(log *slog.Logger, stage, name string, rows int64, start time.Time) {
	d := time.Since(start)
	r.Stages = append(r.Stages, StageReport{Stage: stage, Name: name, Rows: rows, Duration: d})
	log.Info(stage, "table", name, "rows", rows, "duration", d.Round(time.Millisecond))
}

const releaseIDLayout = "20060102T150405Z"

// releaseID matches the names newReleaseID gives.
var releaseID = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z(-[0-9]+)?$`)

// newReleaseID names a release by its UTC build time, with a suffix when a
// release or a failed run of the same second exists.
func newReleaseID(dir string, now time.Time) string {
	id := now.Format(releaseIDLayout)
	for i := 2; ; i++ {
		_, err1 := os.Stat(filepath.Join(dir, id))
		_, err2 := os.Stat(filepath.Join(dir, "..", "runs", id+"-failed.json"))
		_, err3 := os.Stat(filepath.Join(dir, "..", "runs", id+"-running.json"))
		if errors.Is(err1, os.ErrNotExist) && errors.Is(err2, os.ErrNotExist) && errors.Is(err3, os.ErrNotExist) {
			return id
		}
		id = fmt.Sprintf("%s-%d", now.Format(releaseIDLayout), i)
	}
}

// cleanLeftovers removes what a run that died left behind: half-written
// release directories and a half-built database. The caller holds the lock,
// so nothing else is writing them.
func cleanLeftovers(releasesDir, database string) {
	entries, _ := os.ReadDir(releasesDir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), ".partial") {
			os.RemoveAll(filepath.Join(releasesDir, e.Name()))
		}
	}
	removeDB(database + ".build")
	if tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(releasesDir), ".latest.tmp-*")); len(tmps) > 0 {
		for _, t := range tmps {
			os.Remove(t)
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

func removeDB(path string) {
	os.Remove(path)
	os.Remove(path + ".wal")
	os.RemoveAll(tempDir(path))
}

// swapLatest points dir/latest at releases/<id> atomically: a new link is
// made under a temporary name and renamed over the old one.
func swapLatest(dir, id string) error {
	latest := filepath.Join(dir, "latest")
	if st, err := os.Lstat(latest); err == nil && st.Mode()&os.ModeSymlink == 0 {
		return fmt.Errorf("publish: %s exists and is not a link made by visastats; move it away", latest)
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".latest.tmp-%d", os.Getpid()))
	os.Remove(tmp)
	if err := os.Symlink(filepath.Join("releases", id), tmp); err != nil {
		return fmt.Errorf("publish: link latest: %w", err)
	}
	if err := os.Rename(tmp, latest); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("publish: swap latest: %w", err)
	}
	return nil
}

// pruneReleases keeps the newest keep releases (0 keeps all).
func pruneReleases(dir, current string, keep int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var ids []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() && !strings.HasPrefix(name, ".") {
			ids = append(ids, name)
		}
	}
	if keep <= 0 || len(ids) <= keep {
		return nil
	}
	// Release ids sort by time.
	var errs []error
	for _, id := range ids[:len(ids)-keep] {
		if id == current {
			continue
		}
		errs = append(errs, os.RemoveAll(filepath.Join(dir, id)))
	}
	return errors.Join(errs...)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
