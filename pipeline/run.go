package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/visastats/visastats/output/objstore"
	"github.com/visastats/visastats/output/release"
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
	// Terminal, when set, is the terminal on which downloads show their
	// progress; nil logs a line now and then instead.
	Terminal io.Writer
	// Sleep replaces the waits between polls of an asynchronous
	// extraction (tests); nil waits.
	Sleep func(ctx context.Context, d time.Duration) error
	// Uploaded, when set, is called after each file of a release reaches a
	// remote target, with the file's name.
	Uploaded func(name string)
}

// Report is what a run did, for the log and the CLI: the run report that
// run.json records, and what the publish to remote targets did.
type Report struct {
	release.Report
	// Remote is what the publish to each remote target did; it is known
	// only after run.json is written, so it is not part of it.
	Remote []objstore.Result `json:"-"`
}

// CheckError reports blocking checks that failed: nothing was published.
type CheckError struct {
	Failed []release.Check
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

// Run executes the whole pipeline, as a list of stages: prepare, fetch,
// then (unless nothing changed since the latest release and the run is not
// forced) load, transform and check into a new database beside the
// configured one, export a release, and publish it. It holds the locks of
// the output directory and the database throughout. Only when everything
// succeeded are the database and the latest link swapped; on error or
// cancellation the previous database and release stay as they were and a
// report of the failed run is kept in <output.dir>/runs/. An upload to a
// remote target that fails after that is a *RemoteError: the release stays
// published, and the run is not recorded as failed.
func Run(ctx context.Context, cfg Config, log *slog.Logger, opts RunOptions) (*Report, error) {
	r := &run{cfg: cfg, opts: opts, log: log, layout: release.Layout{Dir: cfg.Output.Dir}, started: time.Now()}
	r.rep = &Report{Report: release.Report{GeneratedAt: r.started.UTC(), Database: cfg.Database, Status: release.StatusFailed, Versions: versions()}}
	if errEmbeddedTables != nil {
		return r.rep, errEmbeddedTables
	}
	if strings.Contains(cfg.Database, "?") {
		return r.rep, fmt.Errorf("database %s: %w", cfg.Database, errPathQuestionMark)
	}
	lock, err := lockRun(cfg.Output.Dir, cfg.Database)
	if err != nil {
		return r.rep, err
	}
	defer lock.release()
	if r.database, err = resolveDatabase(cfg.Database); err != nil {
		return r.rep, err
	}
	err = r.stages(ctx)
	r.end(err)
	return r.rep, err
}

// stages runs the stages of a run in order and stops at the first error.
func (r *run) stages(ctx context.Context) error {
	if err := r.prepare(); err != nil {
		return err
	}
	if err := r.fetch(ctx); err != nil {
		return err
	}
	if r.unchanged() {
		return r.skip(ctx)
	}
	if err := r.build(ctx); err != nil { // load, transform, check
		return err
	}
	if err := r.export(ctx); err != nil {
		return err
	}
	return r.publish(ctx)
}

// run is one run of the pipeline as it goes through its stages: what it
// was asked, what it found and made so far, and its report.
type run struct {
	cfg     Config
	opts    RunOptions
	log     *slog.Logger
	layout  release.Layout
	started time.Time
	rep     *Report
	// id is the run's own id, kept when a skipped run reports the release
	// it kept; "" until the run is prepared.
	id   string
	srcs []sources.Source
	// prev is the report of the latest release, nil when there is none.
	prev *release.Report
	// database is the file cfg.Database names, a symbolic link followed:
	// the run builds beside it and renames the new database onto it.
	database string
	// What the run is building, closed or removed when it ends; each is
	// set once made.
	dbPath  string
	db      *sql.DB
	conn    *sql.Conn
	partial string
}

// prepare cleans up what a dead run left, names the run and keeps a marker
// of it while it runs.
func (r *run) prepare() error {
	if err := os.MkdirAll(r.layout.Releases(), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", r.layout.Releases(), err)
	}
	r.layout.CleanLeftovers()
	removeDB(r.database + ".build")
	r.rep.Release = r.layout.NewID(r.rep.GeneratedAt)
	for _, id := range r.layout.ReapDead(r.rep.Release) {
		r.log.Warn("an earlier run stopped before it finished (killed or crashed); recorded as failed", "release", id)
	}
	if err := r.layout.WriteRunning(r.rep.forPublication(r.cfg.Output.Dir)); err != nil {
		r.log.Warn("keep marker of the running run", "error", err)
	}
	r.id = r.rep.Release
	return r.clearLeftovers()
}

// clearLeftovers removes what another program's DuckDB session left beside
// the database (clearLeftovers), saying so in the log and in the run's
// stages (run.json), and fails while such a session is still writing.
func (r *run) clearLeftovers() error {
	start := time.Now()
	removed, err := clearLeftovers(r.database, r.cfg.Database)
	for _, f := range removed {
		r.log.Warn("removed what another program's DuckDB session left beside the database (a write-ahead log would be replayed onto the published database)", "file", f)
		r.rep.Stages = append(r.rep.Stages, release.Stage{Stage: "cleanup", Name: "removed " + filepath.Base(f) + ", left beside the database by another program", Rows: 1, Duration: time.Since(start)})
	}
	return err
}

// fetch fetches every remote input into the snapshot store, keeps a copy
// of every local one there, and fingerprints what the release would be
// built from.
func (r *run) fetch(ctx context.Context) error {
	start := time.Now()
	srcs, store, err := fetchSources(ctx, r.cfg, r.opts, r.rep, r.log)
	if err != nil {
		return err
	}
	r.srcs = srcs
	if r.rep.Inputs, err = snapshotInputs(ctx, store, srcs); err != nil {
		return err
	}
	r.rep.stage(r.log, "inputs", "inputs", int64(len(r.rep.Inputs)), start)
	if r.rep.Fingerprint, err = fingerprint(r.cfg, r.rep.Inputs); err != nil {
		return err
	}
	r.prev = previousRelease(r.layout, r.rep)
	return nil
}

// unchanged says whether the latest release was built from the same inputs,
// configuration and program, and the run is not forced to rebuild.
// A database that is missing or cannot be read is rebuilt all the same.
func (r *run) unchanged() bool {
	if r.prev == nil || r.prev.Fingerprint != r.rep.Fingerprint || r.opts.Force {
		return false
	}
	if why := databaseUnusable(r.database, r.prev); why != "" {
		r.log.Warn("rebuilding although nothing changed", "reason", why, "file", r.cfg.Database)
		return false
	}
	return true
}

// databaseUnusable says why the database at path cannot serve as release
// prev's ("" when it can): it is missing, DuckDB cannot open it, or it
// lacks a table or view that the release's report counts.
func databaseUnusable(path string, prev *release.Report) string {
	if _, err := os.Stat(path); err != nil {
		return fmt.Sprintf("the database cannot be found (%v)", err)
	}
	db, err := openDatabase(path, duckOptions{readOnly: true, sandbox: true})
	if err != nil {
		return fmt.Sprintf("the database cannot be read (%v)", err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT table_name FROM duckdb_tables() WHERE database_name = ?
		UNION ALL SELECT view_name FROM duckdb_views() WHERE database_name = ?`, dbName, dbName)
	if err != nil {
		return fmt.Sprintf("the database cannot be read (%v)", err)
	}
	defer rows.Close()
	has := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return fmt.Sprintf("the database cannot be read (%v)", err)
		}
		has[name] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Sprintf("the database cannot be read (%v)", err)
	}
	var missing []string
	for name := range prev.Tables {
		if !has[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Sprintf("the database lacks %d tables of release %s (%s)", len(missing), prev.Release, strings.Join(missing, ", "))
	}
	return ""
}

// skip records a run that found nothing changed, and brings the remote
// targets up to the latest release (an upload that failed or was killed
// may have left them behind).
func (r *run) skip(ctx context.Context) error {
	r.rep.Status = release.StatusSkipped
	r.rep.Release = r.prev.Release
	r.rep.Latest = r.layout.Latest()
	r.rep.Duration = time.Since(r.started)
	r.log.Info("skipped", "reason", "no input, code or configuration changed since the latest release", "release", r.rep.Release)
	if err := r.layout.WriteSkipped(r.id, &r.rep.Report); err != nil {
		return fmt.Errorf("record skipped run: %w", err)
	}
	var err error
	r.rep.Remote, err = PublishRemote(ctx, r.cfg, r.opts, r.rep.Release, r.layout.Release(r.rep.Release), r.log)
	if err != nil {
		// Still a skipped run, whose record says what the upload met.
		r.rep.Error = err.Error()
		if werr := r.layout.WriteSkipped(r.id, &r.rep.Report); werr != nil {
			r.log.Warn("record skipped run", "error", werr)
		}
	}
	return err
}

// build loads every source into a new database beside the configured one
// and runs the transforms and the checks.
func (r *run) build(ctx context.Context) error {
	path := r.database + ".build"
	db, err := openBuildDB(path, r.cfg.DuckDB)
	if err != nil {
		return err
	}
	r.dbPath, r.db = path, db
	if r.conn, err = db.Conn(ctx); err != nil {
		return fmt.Errorf("connect to %s: %w", path, err)
	}
	return buildDatabase(ctx, r.conn, r.srcs, r.rep.Inputs, r.cfg.Limits, previousObservations(r.layout, r.prev), r.rep, r.log)
}

// export writes the release into a hidden folder, to be renamed into
// place: its tables, workbooks, page, run.json and data package.
func (r *run) export(ctx context.Context) error {
	partial := r.layout.Partial(r.rep.Release)
	if err := os.MkdirAll(partial, 0o755); err != nil {
		return fmt.Errorf("create release directory: %w", err)
	}
	r.partial = partial
	var err error
	if r.rep.Headlines, err = headlines(ctx, r.conn); err != nil {
		return err
	}
	if r.rep.Asylum, err = asylumStory(ctx, r.conn); err != nil {
		return err
	}
	if r.rep.Coverage, err = sourceCoverage(ctx, r.conn); err != nil {
		return err
	}
	if err := writeRelease(ctx, r.db, r.conn, partial, r.cfg.Output, r.rep, r.log); err != nil {
		return err
	}
	r.rep.Status = release.StatusPublished
	r.rep.ReleaseDir = r.layout.Release(r.rep.Release)
	r.rep.Latest = r.layout.Latest()
	r.rep.Duration = time.Since(r.started)
	if err := writeStaticPage(partial, r.cfg.Output.Dir, r.rep); err != nil {
		return err
	}
	if err := release.WriteJSON(filepath.Join(partial, release.ReportName), r.rep.forPublication(r.cfg.Output.Dir)); err != nil {
		return err
	}
	if err := writePackage(partial, r.cfg.Output, r.rep, r.log); err != nil {
		return err
	}
	if err := syncDir(partial); err != nil {
		return err
	}
	return ctx.Err()
}

// publish swaps in the database first (the release describes it), then
// the release and the latest link, prunes old releases, and uploads the
// release to the remote targets, after the local publish: a failure there
// leaves each target on its previous release.
func (r *run) publish(ctx context.Context) error {
	// The new database goes in whole: checkpointed, with no log of its
	// own beside it, and with no other program's log beside its place.
	if _, err := r.conn.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint %s: %w", r.dbPath, err)
	}
	r.conn.Close()
	r.conn = nil
	if err := r.db.Close(); err != nil {
		return fmt.Errorf("close %s: %w", r.dbPath, err)
	}
	r.db = nil
	if _, err := os.Stat(r.dbPath + ".wal"); err == nil {
		return fmt.Errorf("swap database %s: %s.wal is left after the checkpoint", r.cfg.Database, r.dbPath)
	}
	if err := r.clearLeftovers(); err != nil {
		return err
	}
	if err := os.Rename(r.dbPath, r.database); err != nil {
		return fmt.Errorf("swap database %s: %w", r.cfg.Database, err)
	}
	final := r.layout.Release(r.rep.Release)
	if err := os.Rename(r.partial, final); err != nil {
		return fmt.Errorf("publish release %s: %w", final, err)
	}
	if err := r.layout.SwapLatest(r.rep.Release); err != nil {
		return err
	}
	r.log.Info("published", "release", r.rep.Release, "dir", r.rep.Latest)
	if err := r.layout.Prune(r.rep.Release, r.cfg.Output.Keep); err != nil {
		r.log.Warn("prune releases", "error", err)
	}
	future, ferr := r.layout.Future(r.rep.Release)
	if ferr != nil {
		r.log.Warn("list releases", "error", ferr)
	}
	for _, id := range future {
		r.log.Warn("a release's id lies after this run's: it was made while the clock was ahead, or copied in; output.keep neither counts nor prunes it, and latest is this run's release. Remove it if it is not a real release",
			"release", id, "dir", r.layout.Release(id))
	}
	var err error
	r.rep.Remote, err = PublishRemote(ctx, r.cfg, r.opts, r.rep.Release, final, r.log)
	return err
}

// end closes what the run left open and records how it ended: after an
// error, the release folder and the database being built are removed and
// the report is kept as a failed run's. An upload to a remote target that
// failed (a *RemoteError) comes after the local publish or skip, which
// stand: such a run did not fail, and its record is the release's (or the
// skipped run's).
func (r *run) end(err error) {
	var remote *RemoteError
	if errors.As(err, &remote) {
		err = nil
	}
	if err != nil && r.partial != "" {
		os.RemoveAll(r.partial)
	}
	if r.conn != nil {
		r.conn.Close()
	}
	if r.db != nil {
		r.db.Close()
	}
	if r.dbPath != "" {
		os.RemoveAll(tempDir(r.dbPath)) // what DuckDB spilled
	}
	if err != nil && r.dbPath != "" {
		removeDB(r.dbPath)
	}
	if r.id == "" {
		return
	}
	r.rep.Duration = time.Since(r.started)
	if err != nil {
		r.rep.Status = release.StatusFailed
		r.rep.Error = err.Error()
		if werr := r.layout.WriteFailed(r.rep.forPublication(r.cfg.Output.Dir)); werr != nil {
			r.log.Warn("keep report of failed run", "error", werr)
		}
	}
	r.layout.RemoveRunning(r.id)
}

// fetchSources fetches every configured URL and every page of the UNHCR
// API into the snapshot store (or, offline, takes their last snapshots)
// and returns the sources reading them, with the store.
func fetchSources(ctx context.Context, cfg Config, opts RunOptions, rep *Report, log *slog.Logger) ([]sources.Source, *snapshot.Store, error) {
	store, err := snapshot.Open(cfg.SnapshotDir())
	if err != nil {
		return nil, nil, fmt.Errorf("open snapshot store: %w", err)
	}
	srcCfg, fetches, err := fetchInputs(ctx, cfg, opts, store, log)
	rep.Fetches = fetches
	if err != nil {
		return nil, nil, err
	}
	return sources.All(srcCfg), store, nil
}

// previousRelease returns the report of the latest release, the one a new
// release follows, and records its id in rep; nil when there is none (or
// its report cannot be read: then the run rebuilds).
func previousRelease(l release.Layout, rep *Report) *release.Report {
	prev := l.LatestReport()
	if prev != nil {
		rep.Previous = prev.Release
	}
	return prev
}

// previousObservations is where the observations of release prev are, ""
// when prev is nil.
func previousObservations(l release.Layout, prev *release.Report) string {
	if prev == nil {
		return ""
	}
	return observationsPath(l.Release(prev.Release))
}

// buildDatabase fills a fresh database: inputs, sources, transforms, checks.
func buildDatabase(ctx context.Context, conn *sql.Conn, srcs []sources.Source, inputs []release.Input, limits sources.Limits, prevObs string, rep *Report, log *slog.Logger) error {
	if err := build(ctx, conn, srcs, inputs, limits, prevObs, rep, log, ""); err != nil {
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
		attrs := []any{"source", u.Source, "file", u.File, "sheet", u.Sheet, "cell", u.Cell, "kind", u.Kind, "printed", u.PrintedTotal}
		if u.DataRowsTotal != nil {
			attrs = append(attrs, "data_rows", *u.DataRowsTotal)
		}
		log.Warn("upstream issue", append(attrs, "handling", u.Handling)...)
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
func build(ctx context.Context, conn *sql.Conn, srcs []sources.Source, inputs []release.Input, limits sources.Limits, prevObs string, rep *Report, log *slog.Logger, stopAfter string) error {
	if err := recordInputs(ctx, conn, inputs, limits); err != nil {
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
	for _, t := range transforms {
		start := time.Now()
		res, err := conn.ExecContext(ctx, t.SQL)
		if err != nil {
			return fmt.Errorf("transform %s: %w", t.File, err)
		}
		n, _ := res.RowsAffected()
		rep.stage(log, "transform", t.Name, n, start)
		if err := then(ctx, conn, t, prevObs); err != nil {
			return err
		}
		if err := runChecksAfter(ctx, conn, checks, t.Name, rep, log); err != nil {
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
	if err := runChecksAfter(ctx, conn, checks, "", rep, log); err != nil {
		return err
	}
	return dropPrevious(ctx, conn)
}

// then does what a transform's "-- Then:" header asks for after it.
func then(ctx context.Context, conn *sql.Conn, t vsql.Transform, prevObs string) error {
	switch t.Then {
	case "":
		return nil
	case "previous_observations":
		return loadPrevious(ctx, conn, prevObs)
	}
	return fmt.Errorf("transform %s: unknown step %q after it (-- Then:)", t.File, t.Then)
}

// runChecksAfter runs the checks declared to follow one transform ("" =
// after all) and stops at the first stage with a failed blocking check.
func runChecksAfter(ctx context.Context, conn *sql.Conn, checks []vsql.Check, after string, rep *Report, log *slog.Logger) error {
	start := time.Now()
	var failed []release.Check
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

func orAll(after string) string {
	if after == "" {
		return "all transforms"
	}
	return after
}

func (r *Report) stage(log *slog.Logger, stage, name string, rows int64, start time.Time) {
	d := time.Since(start)
	r.Stages = append(r.Stages, release.Stage{Stage: stage, Name: name, Rows: rows, Duration: d})
	log.Info(stage, "table", name, "rows", rows, "duration", d.Round(time.Millisecond))
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
