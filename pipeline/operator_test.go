package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/visastats/visastats/output/release"
)

// Faults a real operator meets (issue 26): another program's session on
// the published database, paths DuckDB's DSN cannot carry, commands
// without bounds, and the edges of a database and of releases that are
// not where a run expects them.

// queryInt runs a one-number SELECT through Query, as `visastats query`.
func queryInt(t *testing.T, cfg Config, stmt string) int64 {
	t.Helper()
	var got int64
	_, err := Query(context.Background(), cfg, stmt, func([]string) error { return nil }, func(r []any) error {
		switch v := r[0].(type) {
		case int64:
			got = v
		case int32:
			got = int64(v)
		default:
			return fmt.Errorf("%s: %T is not a count", stmt, r[0])
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return got
}

// TestWALWriterChild is a researcher's DuckDB session on the published
// database, for TestStaleWAL: it opens the file named by
// VISASTATS_WAL_WRITER read-write (DuckDB's default), deletes the EC rows
// and drops headlines without a checkpoint, says so, and waits to be
// killed.
func TestWALWriterChild(t *testing.T) {
	path := os.Getenv("VISASTATS_WAL_WRITER")
	if path == "" {
		t.Skip("run by TestStaleWAL")
	}
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`PRAGMA wal_autocheckpoint = '1TB'`,
		`DELETE FROM observations_stored WHERE dataset = 'ec_schengen_consulates'`,
		`DROP TABLE headlines`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	fmt.Println("WAL-WRITER-READY")
	io.Copy(io.Discard, os.Stdin) // until killed
}

// TestStaleWAL: a researcher's read-write session on the published
// database (a child process) writes a write-ahead log beside it and dies
// without a checkpoint. While it is alive a run refuses to publish over
// it; once it is dead, query refuses to read a database with that log
// beside it, naming the file, and the next run removes it, says so in
// the log and in run.json, and publishes a database that reads whole. A
// log put back beside the new database is refused by query again, and a
// run that finds nothing changed removes it too.
func TestStaleWAL(t *testing.T) {
	t.Parallel()
	cfg := copyBuild(t, tinyBuild(t))
	ctx := context.Background()
	const ecRows = `SELECT count(*) FROM observations_stored WHERE dataset = 'ec_schengen_consulates'`
	const headlineRows = `SELECT count(*) FROM headlines`
	wantEC, wantHeadlines := queryInt(t, cfg, ecRows), queryInt(t, cfg, headlineRows)
	if wantEC == 0 || wantHeadlines == 0 {
		t.Fatalf("the tiny build has %d EC rows and %d headlines", wantEC, wantHeadlines)
	}

	child := exec.Command(os.Args[0], "-test.run=^TestWALWriterChild$", "-test.count=1")
	child.Env = append(os.Environ(), "VISASTATS_WAL_WRITER="+cfg.Database)
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "WAL-WRITER-READY" {
				ready <- true
				io.Copy(io.Discard, stdout)
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("the writer child stopped before it wrote")
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the writer child did not write within 2 minutes")
	}
	wal := cfg.Database + ".wal"
	if _, err := os.Stat(wal); err != nil {
		t.Fatalf("the writer left no write-ahead log: %v", err)
	}

	latestBefore, _ := release.Layout{Dir: cfg.Output.Dir}.LatestID()
	_, err = Run(ctx, cfg, quietLog(), RunOptions{Force: true})
	pid := strconv.Itoa(child.Process.Pid)
	if !errors.Is(err, ErrDatabaseInUse) || !strings.Contains(err.Error(), pid) || !strings.Contains(err.Error(), wal) {
		t.Fatalf("run while the session writes: %v; want ErrDatabaseInUse naming pid %s and %s", err, pid, wal)
	}
	if id, _ := (release.Layout{Dir: cfg.Output.Dir}).LatestID(); id != latestBefore {
		t.Fatalf("the refused run moved latest from %s to %s", latestBefore, id)
	}

	// The session dies without a checkpoint: its log stays.
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	stale, err := os.ReadFile(wal)
	if err != nil {
		t.Fatalf("the killed session left no log: %v", err)
	}
	_, err = Query(ctx, cfg, "SELECT 1", func([]string) error { return nil }, func([]any) error { return nil })
	if err == nil || !strings.Contains(err.Error(), wal) || !strings.Contains(err.Error(), "visastats run") {
		t.Fatalf("query beside a stale log: %v; want a refusal naming %s and what to do", err, wal)
	}

	var logged bytes.Buffer
	rep, err := Run(ctx, cfg, slog.New(slog.NewTextHandler(&logged, nil)), RunOptions{Force: true})
	if err != nil {
		t.Fatalf("run after the session died: %v", err)
	}
	if _, err := os.Stat(wal); !os.IsNotExist(err) {
		t.Fatalf("the run left %s: %v", wal, err)
	}
	if !strings.Contains(logged.String(), "visastats.duckdb.wal") {
		t.Errorf("the log does not say the log was removed:\n%s", logged.String())
	}
	published, err := release.ReadReport(filepath.Join(cfg.Output.Dir, "latest", release.ReportName))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(published.Stages, func(s release.Stage) bool {
		return s.Stage == "cleanup" && strings.Contains(s.Name, "visastats.duckdb.wal")
	}) {
		t.Errorf("run.json of %s does not record the removal: %+v", rep.Release, published.Stages)
	}
	if ec, h := queryInt(t, cfg, ecRows), queryInt(t, cfg, headlineRows); ec != wantEC || h != wantHeadlines {
		t.Fatalf("after the run: %d EC rows and %d headlines, want %d and %d", ec, h, wantEC, wantHeadlines)
	}

	// The same log put back beside the new database (a restored backup).
	if err := os.WriteFile(wal, stale, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Query(ctx, cfg, "SELECT 1", func([]string) error { return nil }, func([]any) error { return nil })
	if err == nil || !strings.Contains(err.Error(), wal) {
		t.Fatalf("query beside a restored log: %v; want a refusal naming %s", err, wal)
	}
	rep, err = Run(ctx, cfg, quietLog(), RunOptions{})
	if err != nil || rep.Status != release.StatusSkipped {
		t.Fatalf("run with nothing changed: %v, status %s; want skipped", err, rep.Status)
	}
	if _, err := os.Stat(wal); !os.IsNotExist(err) {
		t.Fatalf("the skipped run left %s: %v", wal, err)
	}
	if ec, h := queryInt(t, cfg, ecRows), queryInt(t, cfg, headlineRows); ec != wantEC || h != wantHeadlines {
		t.Fatalf("after the skipped run: %d EC rows and %d headlines, want %d and %d", ec, h, wantEC, wantHeadlines)
	}
}

// TestDatabasePathCharacters builds and queries a database in a folder
// whose name has "#" and "%" (which a DSN would take for a fragment and an
// escape): every setting is in effect, read back from DuckDB, the file is
// where the path says, and the query session is read-only, reads no other
// file and cannot change its settings. A "?" (which DuckDB itself takes
// for options when it names the write-ahead log) is refused with a message
// that says so, by the run, the build and query, before any file is made.
func TestDatabasePathCharacters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "a#b%zz c%41")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "visastats#1%.duckdb")
	db, err := openBuildDB(path, DuckDBConfig{MemoryLimit: "300MB", Threads: 1})
	if err != nil {
		t.Fatalf("open build database: %v", err)
	}
	settings := func(db interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}) map[string]string {
		t.Helper()
		rows, err := db.QueryContext(ctx, `SELECT name, value FROM duckdb_settings()
			UNION ALL SELECT 'attached', path || ' readonly=' || readonly FROM duckdb_databases() WHERE database_name = current_database()`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string]string{}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			got[k] = v
		}
		return got
	}
	got := settings(db)
	for k, want := range map[string]string{
		"memory_limit": "286.1 MiB", "threads": "1", "temp_directory": path + ".tmp",
		"attached": path + " readonly=false",
	} {
		if got[k] != want {
			t.Errorf("build database: %s = %q, want %q", k, got[k], want)
		}
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE observations AS SELECT 'RU' AS partner, 520402 AS value`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Errorf("files beside the folder: %v", entries)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not where its path says: %v", err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	secret := filepath.Join(t.TempDir(), "secret.csv")
	if err := os.WriteFile(secret, []byte("a,b\n1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Database: path, DuckDB: DuckDBConfig{MemoryLimit: "200MB", Threads: 1}}
	got = map[string]string{}
	_, err = Query(ctx, cfg, `SELECT name, value FROM duckdb_settings()
		UNION ALL SELECT 'attached', path || ' readonly=' || readonly FROM duckdb_databases() WHERE database_name = current_database()`,
		func([]string) error { return nil },
		func(r []any) error { got[r[0].(string)] = r[1].(string); return nil })
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	for k, want := range map[string]string{
		"memory_limit": "190.7 MiB", "threads": "1", "enable_external_access": "false", "lock_configuration": "true",
		"autoinstall_known_extensions": "false", "autoload_known_extensions": "false", "attached": path + " readonly=true",
	} {
		if got[k] != want {
			t.Errorf("query: %s = %q, want %q", k, got[k], want)
		}
	}
	if n := queryInt(t, cfg, `SELECT value FROM observations WHERE partner = 'RU'`); n != 520402 {
		t.Errorf("query read %d, want 520402", n)
	}
	for _, stmt := range []string{
		`SELECT * FROM read_csv('` + secret + `')`,
		`SELECT * FROM '` + secret + `'`,
		`SELECT * FROM read_csv('/etc/passwd')`,
	} {
		if _, err := Query(ctx, cfg, stmt, func([]string) error { return nil }, func([]any) error { return nil }); err == nil {
			t.Errorf("%s: answered, want refused", stmt)
		}
	}
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("the query changed the database file (%v)", err)
	}

	cut := filepath.Join(root, "x?memory_limit=1TB")
	q := Config{Database: filepath.Join(cut, "visastats.duckdb"), Output: OutputConfig{Dir: filepath.Join(root, "out")}}
	if _, err := openBuildDB(q.Database, DuckDBConfig{}); err == nil || !strings.Contains(err.Error(), `"?"`) {
		t.Errorf("build database under %s: %v, want a refusal that names the ?", cut, err)
	}
	if _, err := Query(ctx, q, "SELECT 1", func([]string) error { return nil }, func([]any) error { return nil }); err == nil || !strings.Contains(err.Error(), `"?"`) {
		t.Errorf("query under %s: %v, want a refusal that names the ?", cut, err)
	}
	if _, err := Run(ctx, q, quietLog(), RunOptions{}); err == nil || !strings.Contains(err.Error(), `"?"`) {
		t.Errorf("run under %s: %v, want a refusal that names the ?", cut, err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Errorf("a refused path made files: %v", entries)
	}
}

// TestQueryResultShape: Query hands out a result stored in a temporary
// table, in slices: the header is the statement's own (duplicate names
// kept), a column named rowid is a column like any other, rows keep the
// statement's order across slices, and an empty result has its header.
func TestQueryResultShape(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "visastats.duckdb")
	db, err := openDB(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE t AS SELECT range AS i FROM range(5000)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	cfg := Config{Database: path}
	for _, c := range []struct {
		stmt, header string
		rows         int64
		first, last  string
	}{
		{`SELECT 5 AS rowid, 'a' AS RowID, 1 AS x, 2 AS x`, "rowid RowID x x", 1, "5 a 1 2", "5 a 1 2"},
		{`SELECT i, i * 2 AS rowid FROM t ORDER BY i DESC`, "i rowid", 5000, "4999 9998", "0 0"},
		{`FROM t WHERE i % 1000 = 7;`, "i", 5, "7", "4007"},
		{`SELECT i FROM t WHERE i < 0 -- nothing`, "i", 0, "", ""},
	} {
		var header string
		var got []string
		n, err := Query(context.Background(), cfg, c.stmt, func(cols []string) error {
			header = strings.Join(cols, " ")
			return nil
		}, func(r []any) error {
			f := make([]string, len(r))
			for i, v := range r {
				f[i] = fmt.Sprint(v)
			}
			got = append(got, strings.Join(f, " "))
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", c.stmt, err)
			continue
		}
		first, last := "", ""
		if len(got) > 0 {
			first, last = got[0], got[len(got)-1]
		}
		if header != c.header || n != c.rows || int64(len(got)) != n || first != c.first || last != c.last {
			t.Errorf("%s: header %q, %d rows (%d handed), first %q, last %q; want %q, %d, %q, %q",
				c.stmt, header, n, len(got), first, last, c.header, c.rows, c.first, c.last)
		}
	}
}

// TestSettingSizes reads DuckDB's display of memory sizes against the
// configured notation.
func TestSettingSizes(t *testing.T) {
	for _, c := range []struct {
		shown, configured string
		same              bool
	}{
		{"953.6 MiB", "1GB", true},
		{"1.0 GiB", "1GiB", true},
		{"286.1 MiB", "300MB", true},
		{"190.7 MiB", "200 MB", true},
		{"1.8 GiB", "1GB", false},
		{"953.6 MiB", "900MB", false},
		{"", "1GB", false},
		{"953.6 MiB", "lots", false},
	} {
		if got := sameSize(c.shown, c.configured); got != c.same {
			t.Errorf("sameSize(%q, %q) = %v, want %v", c.shown, c.configured, got, c.same)
		}
	}
}

// TestCheckHoldsTheLock: check writes the snapshot store as a run does, so
// it waits for no run: while a run holds the locks it fails at once with
// ErrLocked, before it fetches or builds anything.
func TestCheckHoldsTheLock(t *testing.T) {
	t.Parallel()
	cfg := tinyConfig(t, ec2023(t))
	lock, err := lockRun(cfg.Output.Dir, cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.release()
	_, err = Check(context.Background(), cfg, quietLog(), RunOptions{})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("check while a run holds the locks: %v, want ErrLocked", err)
	}
	if _, err := os.Stat(cfg.SnapshotDir()); !os.IsNotExist(err) {
		t.Errorf("the refused check wrote the snapshot store: %v", err)
	}
}

// TestCheckMemoryLimit: check builds and checks without publishing and
// leaves nothing behind, within duckdb.memory_limit: with a limit far too
// small for the build, it fails with DuckDB's out-of-memory error
// (without a limit, DuckDB takes 80% of the machine), and removes its
// scratch folder all the same.
func TestCheckMemoryLimit(t *testing.T) {
	t.Parallel()
	cfg := tinyConfig(t, ec2023(t))
	rep, err := Check(context.Background(), cfg, quietLog(), RunOptions{})
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if len(rep.Checks) == 0 || rep.Tables["headlines"] == 0 {
		t.Fatalf("check ran %d checks and made %d headlines", len(rep.Checks), rep.Tables["headlines"])
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(cfg.Database), "*"))
	if want := []string{cfg.Database + ".lock"}; !slices.Equal(left, want) {
		t.Errorf("check left %v beside the database, want only its lock", left)
	}
	if ids, _ := (release.Layout{Dir: cfg.Output.Dir}).IDs(); len(ids) > 0 {
		t.Errorf("check published %v", ids)
	}
	cfg.DuckDB.MemoryLimit = "1MB"
	_, err = Check(context.Background(), cfg, quietLog(), RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "Out of Memory") {
		t.Fatalf("check with a 1MB memory limit: %v, want DuckDB's out-of-memory error", err)
	}
	if _, err := os.Stat(cfg.Database + ".check.tmp"); !os.IsNotExist(err) {
		t.Errorf("check left its scratch folder: %v", err)
	}
}

// TestRebuildsUnusableDatabase: when nothing changed but the database is
// missing, cannot be read or lacks the release's tables, the next run
// rebuilds it without --force, and says why.
func TestRebuildsUnusableDatabase(t *testing.T) {
	t.Parallel()
	cfg := copyBuild(t, tinyBuild(t))
	ctx := context.Background()
	// The copy's paths are in its configuration, hence in the fingerprint:
	// one run first, so that the next ones find nothing changed.
	if _, err := Run(ctx, cfg, quietLog(), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if rep, err := Run(ctx, cfg, quietLog(), RunOptions{}); err != nil || rep.Status != release.StatusSkipped {
		t.Fatalf("run on an intact database: %v, status %s; want skipped", err, rep.Status)
	}
	for _, c := range []struct {
		name   string
		damage func(path string) error
		why    string
	}{
		{"missing", os.Remove, "cannot be found"},
		{"not a database", func(path string) error {
			return os.WriteFile(path, bytes.Repeat([]byte("not a database\n"), 1000), 0o644)
		}, "cannot be read"},
		{"empty database", func(path string) error {
			if err := os.Remove(path); err != nil {
				return err
			}
			db, err := openDB(path, false)
			if err != nil {
				return err
			}
			return db.Close()
		}, "lacks"},
	} {
		if err := c.damage(cfg.Database); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var logged bytes.Buffer
		rep, err := Run(ctx, cfg, slog.New(slog.NewTextHandler(&logged, nil)), RunOptions{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if rep.Status != release.StatusPublished {
			t.Fatalf("%s: status %s, want published (rebuilt)", c.name, rep.Status)
		}
		if !strings.Contains(logged.String(), "rebuilding although nothing changed") || !strings.Contains(logged.String(), c.why) {
			t.Errorf("%s: the log does not say it rebuilt because the database %s:\n%s", c.name, c.why, logged.String())
		}
		if n := queryInt(t, cfg, `SELECT count(*) FROM headlines`); n == 0 {
			t.Errorf("%s: the rebuilt database has no headlines", c.name)
		}
	}
}

// TestSymlinkedDatabase: a database configured as a symbolic link stays
// one: the run builds beside the file the link names and renames the new
// database onto it, under one lock, the target's; a link whose target
// does not exist yet gets its file on the first run.
func TestSymlinkedDatabase(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, cfg Config, target string) {
		t.Helper()
		st, err := os.Lstat(cfg.Database)
		if err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("%s is no longer a link (%v)", cfg.Database, err)
		}
		if got, err := filepath.EvalSymlinks(cfg.Database); err != nil || got != target {
			t.Fatalf("the link leads to %s (%v), want %s", got, err, target)
		}
		if n := queryInt(t, cfg, `SELECT count(*) FROM headlines`); n == 0 {
			t.Error("the database read through the link has no headlines")
		}
		if _, err := os.Stat(target + ".lock"); err != nil {
			t.Errorf("no lock beside the target: %v", err)
		}
		beside, _ := filepath.Glob(cfg.Database + ".*")
		if len(beside) > 0 {
			t.Errorf("files beside the link: %v", beside)
		}
	}
	t.Run("existing target", func(t *testing.T) {
		t.Parallel()
		cfg := copyBuild(t, tinyBuild(t))
		target := filepath.Join(t.TempDir(), "elsewhere", "visastats.duckdb")
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(cfg.Database, target); err != nil {
			t.Fatal(err)
		}
		os.Remove(cfg.Database + ".lock")
		if err := os.Symlink(target, cfg.Database); err != nil {
			t.Fatal(err)
		}
		target, _ = filepath.EvalSymlinks(target)
		st, _ := os.Stat(target)
		if _, err := Run(context.Background(), cfg, quietLog(), RunOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
		if now, _ := os.Stat(target); os.SameFile(st, now) {
			t.Error("the run did not replace the target")
		}
		check(t, cfg, target)
	})
	t.Run("first run", func(t *testing.T) {
		t.Parallel()
		cfg := tinyConfig(t, ec2023(t))
		target := filepath.Join(t.TempDir(), "elsewhere", "visastats.duckdb")
		if err := os.MkdirAll(filepath.Dir(cfg.Database), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, cfg.Database); err != nil {
			t.Fatal(err)
		}
		if _, err := Run(context.Background(), cfg, quietLog(), RunOptions{}); err != nil {
			t.Fatal(err)
		}
		target, _ = filepath.EvalSymlinks(target)
		check(t, cfg, target)
	})
}

// TestDiffKeepOne: with output.keep 1 the release before the latest is
// pruned, so diff has nothing to compare; that is not a failure.
func TestDiffKeepOne(t *testing.T) {
	t.Parallel()
	cfg := copyBuild(t, tinyBuild(t))
	cfg.Output.Keep = 1
	rep, err := Run(context.Background(), cfg, quietLog(), RunOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Diff(context.Background(), cfg, "", "", 10)
	if !errors.Is(err, ErrNothingToCompare) || !strings.Contains(err.Error(), rep.Previous) || !strings.Contains(err.Error(), "no longer kept") {
		t.Fatalf("diff with keep 1: %v, want ErrNothingToCompare saying %s is no longer kept", err, rep.Previous)
	}
}

// TestFutureReleaseReported: a release whose id lies after the run's (made
// while the clock was ahead) is reported by the run, kept, and not
// counted by output.keep, which keeps the real releases it names.
func TestFutureReleaseReported(t *testing.T) {
	t.Parallel()
	cfg := copyBuild(t, tinyBuild(t))
	cfg.Output.Keep = 2
	layout := release.Layout{Dir: cfg.Output.Dir}
	previous, err := layout.LatestID()
	if err != nil {
		t.Fatal(err)
	}
	const future = "29990101T000000Z"
	if err := copyTree(layout.Release(previous), layout.Release(future)); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	rep, err := Run(context.Background(), cfg, slog.New(slog.NewTextHandler(&logged, nil)), RunOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := layout.IDs()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{future, rep.Release, previous}; !slices.Equal(ids, want) {
		t.Errorf("releases after the run with keep 2: %v, want %v", ids, want)
	}
	if latest, _ := layout.LatestID(); latest != rep.Release {
		t.Errorf("latest is %s, want the run's %s", latest, rep.Release)
	}
	if !strings.Contains(logged.String(), future) {
		t.Errorf("the run did not report the release %s:\n%s", future, logged.String())
	}
}

// TestBoundedChild runs one command named by VISASTATS_BOUNDED_CHILD in
// this process, for TestQueryMemoryBounded and TestDiffMemoryBounded, and
// prints what it found and its peak RSS.
func TestBoundedChild(t *testing.T) {
	spec := os.Getenv("VISASTATS_BOUNDED_CHILD")
	if spec == "" {
		t.Skip("run by TestQueryMemoryBounded and TestDiffMemoryBounded")
	}
	kind, arg, _ := strings.Cut(spec, ":")
	ctx := context.Background()
	bounds := DuckDBConfig{MemoryLimit: "64MB", Threads: 1}
	if kind == "diff" {
		bounds.MemoryLimit = "128MB" // reading two Parquet files and a join need more than 64MB
	}
	var result string
	switch kind {
	case "query":
		// Every row, in the statement's order, checked as it comes.
		cfg := Config{Database: arg, DuckDB: bounds}
		next := int64(bigRows - 1)
		n, err := Query(ctx, cfg, `SELECT i, s FROM big ORDER BY i DESC`, func([]string) error { return nil }, func(r []any) error {
			if r[0].(int64) != next || !strings.HasPrefix(r[1].(string), fmt.Sprintf("row %d ", next)) {
				return fmt.Errorf("row %d: %v, %.20v", bigRows-1-next, r[0], r[1])
			}
			next--
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		result = fmt.Sprintf("%d rows", n)
	case "diff":
		cfg := Config{Output: OutputConfig{Dir: arg}, DuckDB: bounds}
		sum, revs, err := Diff(ctx, cfg, "20260101T000000Z", "20260102T000000Z", 10)
		if err != nil {
			t.Fatal(err)
		}
		result = fmt.Sprintf("%d new, %d removed, %d revised, %d listed", sum.New, sum.Removed, sum.Revised, len(revs))
	default:
		t.Fatalf("unknown child %q", kind)
	}
	// The peak of this process's own memory: VmHWM. (rusage's maxrss
	// carries the parent's peak across the exec.)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var peak string
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			peak = strings.TrimSuffix(strings.TrimSpace(v), " kB")
		}
	}
	fmt.Printf("BOUNDED-RESULT: %s\nBOUNDED-MAXRSS-KB: %s\n", result, peak)
}

// boundedChild runs TestBoundedChild on spec and returns what it found and
// its peak RSS in MB.
func boundedChild(t *testing.T, spec string) (string, int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBoundedChild$", "-test.count=1")
	// The child collects garbage as visastats does by default, so that its
	// peak RSS is the program's (make test raises GOGC).
	cmd.Env = append(os.Environ(), "VISASTATS_BOUNDED_CHILD="+spec, "GOGC=100")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", spec, err, out)
	}
	var result string
	var rss int64
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "BOUNDED-RESULT: "); ok {
			result = v
		}
		if v, ok := strings.CutPrefix(line, "BOUNDED-MAXRSS-KB: "); ok {
			rss, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if result == "" || rss == 0 {
		t.Fatalf("child %s reported nothing:\n%s", spec, out)
	}
	return result, rss >> 10
}

// bigRows is the rows of the table TestQueryMemoryBounded queries.
const bigRows = 1_000_000

// TestQueryMemoryBounded queries every row of a table of 1,000,000 rows
// of about 420 bytes (some 420 MB of result), sorted, with a 64MB memory
// limit, in a child process: the rows arrive whole and in order while the
// peak RSS stays far below the result's size. (go-duckdb materialises a
// result in memory, outside the limit, before its first row.)
func TestQueryMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("a 420 MB query result in a child process is skipped in -short mode")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "big.duckdb")
	db, err := openDB(path, false)
	if err != nil {
		t.Fatal(err)
	}
	q := fmt.Sprintf(`CREATE TABLE big AS SELECT i, 'row ' || i || ' ' || repeat(chr(65 + (i %% 26)::INTEGER), 400) AS s FROM range(%d) r(i)`, bigRows)
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	result, rss := boundedChild(t, "query:"+path)
	t.Logf("query of %d rows with memory_limit 64MB: %s, peak RSS %d MB", bigRows, result, rss)
	if want := fmt.Sprintf("%d rows", bigRows); result != want {
		t.Errorf("query: %s, want %s", result, want)
	}
	if rss > 256 {
		t.Errorf("peak RSS %d MB, want at most 256 MB", rss)
	}
}

// TestDiffMemoryBounded compares two releases of 1.1 million observations
// each (the tiny build's, 60 times over), with a 128MB memory limit, in a
// child process: one copy of the observations removed, one added, and a
// third of the values revised, so that every dataset and year is joined
// row by row. The counts are exact and the peak RSS stays bounded.
func TestDiffMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("two releases of 1.1 million observations in a child process are skipped in -short mode")
	}
	t.Parallel()
	b := tinyBuild(t)
	obs := filepath.Join(b.Latest, "observations.parquet")
	out := t.TempDir()
	layout := release.Layout{Dir: out}
	const copies = 60
	conn := openDuckConn(t)
	// Copy c of every observation is keyed apart by its location; the newer
	// release drops copy 1, adds copy 60 and revises every value of the
	// copies divisible by 3.
	for _, r := range []struct {
		id, copies, value string
	}{
		{"20260101T000000Z", fmt.Sprintf("range(0, %d)", copies), "value"},
		{"20260102T000000Z", fmt.Sprintf("range(0, %d + 1) r(c) WHERE c <> 1", copies), "CASE WHEN c % 3 = 0 THEN value + 1 ELSE value END"},
	} {
		if err := os.MkdirAll(layout.Release(r.id), 0o755); err != nil {
			t.Fatal(err)
		}
		from := r.copies
		if !strings.Contains(from, " r(c)") {
			from += " r(c)"
		}
		mustExec(t, conn, `COPY (SELECT * REPLACE (location || '#' || c AS location, `+r.value+` AS value)
			FROM read_parquet(`+sqlString(obs)+`), `+from+`)
			TO `+sqlString(filepath.Join(layout.Release(r.id), "observations.parquet"))+` (FORMAT parquet)`)
	}
	var rows, revised int64
	if err := conn.QueryRowContext(context.Background(), `SELECT count(*), count(*) FILTER (WHERE value IS NOT NULL) FROM read_parquet(?)`, obs).Scan(&rows, &revised); err != nil {
		t.Fatal(err)
	}
	revised *= (copies + 2) / 3 // copies 0, 3, ..., 57 (copy 60 is new)
	result, rss := boundedChild(t, "diff:"+out)
	t.Logf("diff of two releases of %d observations with memory_limit 128MB: %s, peak RSS %d MB", rows*copies, result, rss)
	if want := fmt.Sprintf("%d new, %d removed, %d revised, 10 listed", rows, rows, revised); result != want {
		t.Errorf("diff: %s, want %s", result, want)
	}
	if rss > 384 {
		t.Errorf("peak RSS %d MB, want at most 384 MB", rss)
	}
}
