package pipeline

import (
	"github.com/visastats/visastats/output/release"
	"github.com/visastats/visastats/sources/ectest"

	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/visastats/visastats/pipeline/snapshot"
	"github.com/visastats/visastats/sources"
)

// workbookServer is a local server standing in for the EC's download site. It
// serves a real workbook, misbehaving as told.
type workbookServer struct {
	body     atomic.Pointer[[]byte]
	mode     atomic.Value // string
	failures atomic.Int32 // 5xx answers left before a 200
	requests atomic.Int32
}

func newUpstream(t *testing.T, body []byte) (*workbookServer, *httptest.Server) {
	t.Helper()
	u := &workbookServer{}
	u.body.Store(&body)
	u.mode.Store("ok")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.requests.Add(1)
		b := *u.body.Load()
		if u.failures.Load() > 0 {
			u.failures.Add(-1)
			http.Error(w, "upstream busy", http.StatusInternalServerError)
			return
		}
		etag := `"` + strconv.Itoa(len(b)) + `"`
		switch u.mode.Load().(string) {
		case "404":
			http.NotFound(w, r)
		case "html":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<!DOCTYPE html><html><body>Service temporarily unavailable</body></html>"))
		case "truncated":
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.Write(b[:len(b)/2])
			if hj, ok := w.(http.Hijacker); ok {
				conn, _, _ := hj.Hijack()
				conn.Close()
			}
		default:
			w.Header().Set("ETag", etag)
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			w.Write(b)
		}
	}))
	t.Cleanup(srv.Close)
	return u, srv
}

// nightlyConfig fetches the 2023 EC workbook from url; the other sources
// are local, and tiny.
func nightlyConfig(t *testing.T, url string) Config {
	t.Helper()
	cfg := tinyConfig(t, sources.ECSchengenConfig{})
	cfg.Fetch = []FetchEntry{{Source: "ec_schengen_consulates", URL: url + "/files/2023-schengen-visa-statistics-consulates_en.xlsx", Expect: "xlsx"}}
	return cfg
}

var fastRetries = RunOptions{BackoffBase: 5 * time.Millisecond}

func latestRelease(t *testing.T, cfg Config) string {
	t.Helper()
	target, err := os.Readlink(filepath.Join(cfg.Output.Dir, "latest"))
	if err != nil {
		return ""
	}
	return filepath.Base(target)
}

// TestNightlyScenarios runs the pipeline against a local server serving
// the real 2023 workbook, one failure mode at a time, in the order a
// nightly job would meet them. The workbook's URL carries a password and
// credential-like query values: no secret reaches the log, run.json, the
// failed-run records or the snapshot index, and run.json names no absolute
// local path.
func TestNightlyScenarios(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile(ectest.File(t, "2023"))
	if err != nil {
		t.Fatal(err)
	}
	up, srv := newUpstream(t, body)
	secrets := []string{"hunter2pw", "tok3nSecretValue", "S1gnatureValue"}
	cfg := nightlyConfig(t, strings.Replace(srv.URL, "http://", "http://analyst:hunter2pw@", 1))
	cfg.Fetch[0].URL += "?token=tok3nSecretValue&X-Amz-Signature=S1gnatureValue&edition=2023"
	// Errors name the server (its credentials redacted).
	server := strings.TrimPrefix(srv.URL, "http://")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx := context.Background()

	// 1. 500 then 200: retried, published.
	up.failures.Store(1)
	rep, err := Run(ctx, cfg, log, fastRetries)
	if err != nil {
		t.Fatalf("500 then 200: %v", err)
	}
	if rep.Status != release.StatusPublished || rep.Fetches[0].Attempts != 2 {
		t.Fatalf("500 then 200: status %s, attempts %d", rep.Status, rep.Fetches[0].Attempts)
	}
	first := rep.Release
	if latestRelease(t, cfg) != first {
		t.Fatalf("latest is %q, want %s", latestRelease(t, cfg), first)
	}
	store, err := snapshot.Open(cfg.SnapshotDir())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := store.Latest("ec_schengen_consulates", "2023-schengen-visa-statistics-consulates_en.xlsx")
	if err != nil || rec.URL == "" || !strings.HasPrefix(rec.SHA256, "2d3e98dd8fa0a158") {
		t.Fatalf("snapshot record %+v, %v", rec, err)
	}

	// 2. Nothing changed upstream (304): skipped, quickly.
	start := time.Now()
	rep, err = Run(ctx, cfg, log, fastRetries)
	if err != nil || rep.Status != release.StatusSkipped || !rep.Fetches[0].NotModified {
		t.Fatalf("unchanged rerun: status %s, not modified %v, err %v", rep.Status, rep.Fetches != nil && rep.Fetches[0].NotModified, err)
	}
	t.Logf("unchanged rerun skipped in %s", time.Since(start))

	// 3. Failures: each fails with its reason, latest stays on the first
	// release, and a report of the failed run is kept.
	edited := editedWorkbook(t, "2023", func(f *excelize.File) error {
		return f.SetCellStr(sources.ECSchengenSheet, "I1", "Short-stay visas requested")
	})
	tests := []struct {
		name  string
		setup func()
		want  []string
	}{
		{"permanent 404", func() { up.mode.Store("404") }, []string{"404", server}},
		{"truncated body", func() { up.mode.Store("truncated") }, []string{"truncated", server}},
		{"HTML page instead of xlsx", func() { up.mode.Store("html") }, []string{"got an HTML page, expected xlsx", server}},
		{"changed layout", func() { up.mode.Store("ok"); up.body.Store(&edited) }, []string{`sheet "Data for consulates" row 1`, "match no known layout", `I "Short-stay visas requested"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup()
			rep, err := Run(ctx, cfg, log, fastRetries)
			if err == nil {
				t.Fatalf("run succeeded (status %s)", rep.Status)
			}
			logs.WriteString(err.Error()) // what the CLI prints
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if got := latestRelease(t, cfg); got != first {
				t.Errorf("latest moved to %q", got)
			}
			b, err := os.ReadFile(filepath.Join(cfg.Output.Dir, "runs", rep.Release+"-failed.json"))
			if err != nil {
				t.Fatalf("no report of the failed run: %v", err)
			}
			var failed Report
			if err := json.Unmarshal(b, &failed); err != nil || failed.Status != release.StatusFailed || failed.Error == "" {
				t.Errorf("failed report: %+v %v", failed, err)
			}
		})
	}

	// 4. Back to the real file: the new run publishes (the snapshot of the
	// edited file is another object), and runs lists them all.
	up.body.Store(&body)
	up.mode.Store("ok")
	rep, err = Run(ctx, cfg, log, RunOptions{Force: true})
	if err != nil || rep.Status != release.StatusPublished {
		t.Fatalf("recovery run: %v", err)
	}
	runs, err := Runs(cfg)
	byStatus := map[string]int{}
	for _, r := range runs {
		byStatus[r.Status]++
	}
	if err != nil || len(runs) != 7 || byStatus[release.StatusPublished] != 2 || byStatus[release.StatusSkipped] != 1 || byStatus[release.StatusFailed] != 4 {
		t.Errorf("runs listed %v (%v), want 2 published + 1 skipped + 4 failed", byStatus, err)
	}
	// 5. --offline rebuilds from the snapshot without the network.
	srv.Close()
	rep, err = Run(ctx, cfg, log, RunOptions{Offline: true, Force: true})
	if err != nil || rep.Status != release.StatusPublished || !rep.Fetches[0].Offline {
		t.Fatalf("offline rebuild: %v", err)
	}
	checkNoSecrets(t, cfg, rep, first, logs.Bytes(), secrets)
}

// checkNoSecrets checks that none of secrets is in the log or in any
// report, record or index under the output and database folders, that the
// run.json of release first (fetched from the network) shows the fetched
// URL redacted, that no run.json or failed-run record names an absolute
// local path, and that the report returned to the CLI (rep) keeps its path.
func checkNoSecrets(t *testing.T, cfg Config, rep *Report, first string, log []byte, secrets []string) {
	t.Helper()
	texts := map[string][]byte{"log": log}
	for _, dir := range []string{cfg.Output.Dir, filepath.Dir(cfg.Database)} {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".jsonl") || strings.Contains(p, "index")) {
				b, _ := os.ReadFile(p)
				texts[p] = b
			}
			return nil
		})
	}
	runJSON := filepath.Join(cfg.Output.Dir, "releases", first, "run.json")
	if _, ok := texts[runJSON]; !ok {
		t.Fatalf("no run.json of %s among %d files read", first, len(texts))
	}
	indexed, failed := false, 0
	for p := range texts {
		indexed = indexed || strings.Contains(p, "snapshot")
		if strings.HasSuffix(p, "-failed.json") {
			failed++
		}
	}
	if !indexed {
		t.Errorf("no snapshot index file read")
	}
	if failed == 0 {
		t.Errorf("no failed-run record read")
	}
	for p, b := range texts {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains the secret %q", p, s)
			}
		}
	}
	if !bytes.Contains(texts[runJSON], []byte("REDACTED")) || !bytes.Contains(texts[runJSON], []byte("edition=2023")) {
		t.Errorf("run.json lacks the redacted URL:\n%s", texts[runJSON])
	}
	abs, _ := filepath.Abs(filepath.Dir(cfg.Output.Dir))
	wd, _ := os.Getwd()
	for p, b := range texts {
		if strings.HasSuffix(p, "run.json") || strings.HasSuffix(p, "-failed.json") {
			if bytes.Contains(b, []byte(abs)) || bytes.Contains(b, []byte(wd)) {
				t.Errorf("%s names an absolute local path (%s or %s)", p, abs, wd)
			}
		}
	}
	if !filepath.IsAbs(rep.Latest) && !strings.HasPrefix(rep.Latest, cfg.Output.Dir) {
		t.Errorf("the report returned to the CLI lost its path: %q", rep.Latest)
	}
}

func editedWorkbook(t *testing.T, year string, edit func(f *excelize.File) error) []byte {
	t.Helper()
	path := ectest.EditAs(t, year, filepath.Join(t.TempDir(), "edited.xlsx"), edit)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// startChildRun runs the pipeline with cfg in a child process (this test
// binary, re-executed), with --force so that it always publishes.
func startChildRun(t *testing.T, cfg Config) *exec.Cmd {
	t.Helper()
	cmd := childRunCommand(t, cfg)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// childRunCommand is the command of a child run of cfg.
func childRunCommand(t *testing.T, cfg Config) *exec.Cmd {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildRun$")
	// A child killed mid-run cannot remove its temporary files (excelize
	// spills large sheets there): give it a folder the test removes.
	cmd.Env = append(os.Environ(), "VISASTATS_TEST_CHILD_CONFIG="+string(b), "TMPDIR="+t.TempDir())
	return cmd
}

// TestChildRun is the child side of startChildRun; it does nothing in a
// normal test run.
func TestChildRun(t *testing.T) {
	raw := os.Getenv("VISASTATS_TEST_CHILD_CONFIG")
	if raw == "" {
		t.Skip("runs only as a child process of TestRunsInChildProcesses and TestDeadRunRecorded")
	}
	var cfg Config
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	// Its progress (one log line per stage) on stdout, for a parent that
	// kills it at a point of its progress (startLoggedChildRun).
	if _, err := Run(context.Background(), cfg, slog.New(slog.NewTextHandler(os.Stdout, nil)), RunOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
}

// childLine is a log line of a child run and when its parent read it.
type childLine struct {
	text string
	at   time.Time
}

// startLoggedChildRun starts a child run (startChildRun) and returns a
// channel of its log lines as it writes them, closed when its stdout
// closes. Lines that are not the run's log (the test binary's own) are left
// out.
func startLoggedChildRun(t *testing.T, cfg Config) (*exec.Cmd, <-chan childLine) {
	t.Helper()
	cmd := childRunCommand(t, cfg)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Buffered beyond a run's few hundred lines: the child never waits
	// for its parent to read.
	lines := make(chan childLine, 4096)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "time=") {
				lines <- childLine{sc.Text(), time.Now()}
			}
		}
		io.Copy(io.Discard, out)
	}()
	return cmd, lines
}

// checkLatestComplete asserts that latest, if present, is a whole release:
// its run.json is readable and every file it lists exists with its size.
func checkLatestComplete(t *testing.T, cfg Config) string {
	t.Helper()
	id := latestRelease(t, cfg)
	if id == "" {
		return ""
	}
	dir := filepath.Join(cfg.Output.Dir, "releases", id)
	rep, err := release.ReadReport(filepath.Join(dir, release.ReportName))
	if err != nil {
		t.Fatalf("latest -> %s has no readable run.json: %v", id, err)
	}
	for _, f := range rep.Files {
		st, err := os.Stat(filepath.Join(dir, f.Name))
		if err != nil || st.Size() != f.Size {
			t.Fatalf("latest -> %s: %s missing or of the wrong size (%v)", id, f.Name, err)
		}
	}
	return id
}

// TestRunsInChildProcesses runs the pipeline in child processes on a copy
// of the shared tiny build. While the first child runs, other runs are
// refused (checkConcurrentRunsRefused), and the child still publishes a
// whole release. Then children are killed (SIGKILL) at points of their
// progress over the second half of a run, publishing included: after each
// kill latest is still a complete release, and the next run cleans up and
// succeeds.
func TestRunsInChildProcesses(t *testing.T) {
	t.Parallel() // a long test, overlapped with the other long tests
	// A published release to start from: a copy of the shared tiny build.
	cfg := copyBuild(t, tinyBuild(t))
	// The first child run also shows the progress of a whole run (its log
	// lines), to place the kills in it.
	c, lines := startLoggedChildRun(t, cfg)
	t.Run("concurrent runs refused", func(t *testing.T) { checkConcurrentRunsRefused(t, cfg, c) })
	var progress []childLine
	for l := range lines {
		progress = append(progress, l)
	}
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	if id := checkLatestComplete(t, cfg); id == "" {
		t.Fatal("the first child run published nothing")
	}
	points, err := killPoints(progress)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("killed runs never half publish", func(t *testing.T) {
		if testing.Short() {
			t.Skip("kills child runs")
		}
		// Two lanes of kills side by side, each on its own copy of a
		// published release (the second a fresh copy of the tiny build).
		lanes := []Config{cfg, copyBuild(t, tinyBuild(t))}
		for lane, cfg := range lanes {
			t.Run(fmt.Sprintf("lane %d", lane), func(t *testing.T) {
				t.Parallel()
				var mine []killPoint
				for i := lane; i < len(points); i += len(lanes) {
					mine = append(mine, points[i])
				}
				checkKilledRuns(t, cfg, mine)
			})
		}
	})
}

// killPoint is where a child run is killed: wait after the log line whose
// key (lineKey) is after.
type killPoint struct {
	after string
	wait  time.Duration
}

// lineKey is what names a point of a run in a line of its log: the
// message and the table, without times, counts and ids.
func lineKey(line string) string {
	_, key, _ := strings.Cut(line, " msg=")
	for _, attr := range []string{" rows=", " duration=", " release=", " dir="} {
		key, _, _ = strings.Cut(key, attr)
	}
	return key
}

// killPoints places eight kills in a run whose log was progress: after
// five lines spread over the second half of the stages, two in publishing
// (a third and two thirds of the time from the last stage line to
// "published": the database closed and swapped, the release renamed,
// latest swapped) and one after "published" (pruning, and the run's end).
func killPoints(progress []childLine) ([]killPoint, error) {
	published := -1
	for i, l := range progress {
		if strings.Contains(l.text, "msg=published") {
			published = i
		}
	}
	if published < 10 {
		return nil, fmt.Errorf("a whole child run logged no \"published\" after its stages: %v", progress)
	}
	var points []killPoint
	half := published / 2
	for i := 0; i < 5; i++ {
		points = append(points, killPoint{after: lineKey(progress[half+i*(published-half)/5].text)})
	}
	last := lineKey(progress[published-1].text)
	gap := progress[published].at.Sub(progress[published-1].at)
	points = append(points,
		killPoint{after: last, wait: gap / 3},
		killPoint{after: last, wait: 2 * gap / 3},
		killPoint{after: lineKey(progress[published].text)})
	return points, nil
}

// checkKilledRuns kills a child run of cfg at each point, and checks that
// latest stays whole and the next run cleans up and succeeds.
func checkKilledRuns(t *testing.T, cfg Config, points []killPoint) {
	published := map[string]bool{}
	for _, p := range points {
		c, lines := startLoggedChildRun(t, cfg)
		reached := false
		for l := range lines {
			if lineKey(l.text) == p.after {
				reached = true
				break
			}
		}
		time.Sleep(p.wait)
		c.Process.Signal(syscall.SIGKILL)
		for range lines {
		}
		c.Wait()
		if !reached {
			t.Errorf("a child run ended without logging %q, its kill point", p.after)
		}
		published[checkLatestComplete(t, cfg)] = true
	}
	t.Logf("%d kills (%v); latest was one of %d complete releases throughout", len(points), points, len(published))
	rep, err := Run(context.Background(), cfg, quietLog(), RunOptions{Force: true})
	if err != nil {
		t.Fatalf("run after kills: %v", err)
	}
	if checkLatestComplete(t, cfg) != rep.Release {
		t.Errorf("latest is not the new release %s", rep.Release)
	}
	entries, _ := os.ReadDir(filepath.Join(cfg.Output.Dir, "releases"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("leftover %s after a successful run", e.Name())
		}
	}
	if _, err := os.Stat(cfg.Database + ".build"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("half-built database left behind")
	}
}
