package pipeline

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"

	"github.com/visastats/visastats/pipeline/snapshot"
	"github.com/visastats/visastats/sources"
	vsql "github.com/visastats/visastats/sql"
)

// versions lists what built a release: visastats, Go, and the libraries
// whose behaviour shapes the outputs.
func versions() map[string]string {
	v := map[string]string{"visastats": Version, "go": runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/marcboeker/go-duckdb", "github.com/apache/arrow/go/v17", "github.com/xuri/excelize/v2":
				v[d.Path] = d.Version
			}
		}
	}
	return v
}

// fingerprint identifies what a release is built from: every input's
// content, the configuration, and the program itself (the hash of the
// running executable, so any change of code or embedded SQL counts).
func fingerprint(cfg Config, inputs []InputInfo) (string, error) {
	h := sha256.New()
	for _, in := range inputs {
		fmt.Fprintf(h, "input %s %s %s\n", in.Source, in.Path, in.SHA256)
	}
	cfg.Publish = nil // where releases are copied does not change what they hold
	c, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("fingerprint config: %w", err)
	}
	fmt.Fprintf(h, "config %s\n", c)
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("fingerprint program: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", fmt.Errorf("fingerprint program: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("fingerprint program: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// snapshotInputs lists every source's inputs and keeps a content-addressed
// copy of each with its provenance, so a release can be rebuilt exactly.
// Local inputs are hashed once, by the store while it copies them; fetched
// ones are in the store already, with their URL.
func snapshotInputs(ctx context.Context, store *snapshot.Store, srcs []sources.Source) ([]InputInfo, error) {
	fetched := filepath.Join(store.Dir(), "current") + string(filepath.Separator)
	return listInputs(ctx, srcs, func(ctx context.Context, source, path string) (int64, string, error) {
		if strings.HasPrefix(path, fetched) {
			return sources.FileDigest(path)
		}
		rec, err := store.PutFile(ctx, path, snapshot.Provenance{Source: source, Name: filepath.Base(path)})
		if err != nil {
			return 0, "", fmt.Errorf("snapshot %s: %w", path, err)
		}
		return rec.Size, rec.SHA256, nil
	})
}

// previousRelease reads the run report of the release latest points to, or
// returns nil when there is none (or it cannot be read: then the run
// rebuilds).
func previousRelease(outDir string) *Report {
	target, err := os.Readlink(filepath.Join(outDir, "latest"))
	if err != nil {
		return nil
	}
	rep, err := readReport(filepath.Join(outDir, target, "run.json"))
	if err != nil {
		return nil
	}
	return rep
}

func readReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &r, nil
}

// keepSkipped is how many reports of skipped runs are kept: a nightly job
// that finds nothing new writes one a night.
const keepSkipped = 60

// writeSkippedReport keeps the report of a run that found nothing changed
// in <output.dir>/runs/<id>-skipped.json (id is the run's own, the report
// names the release it kept), and removes all but the newest keepSkipped.
func writeSkippedReport(outDir, id string, rep *Report) error {
	dir := filepath.Join(outDir, "runs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, id+"-skipped.json"), rep); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, "*-skipped.json"))
	if err != nil {
		return err
	}
	sort.Strings(old) // ids sort by time
	for len(old) > keepSkipped {
		if err := os.Remove(old[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		old = old[1:]
	}
	return nil
}

// writeFailedReport keeps the report of a failed run in <output.dir>/runs/.
func writeFailedReport(outDir string, rep *Report) error {
	dir := filepath.Join(outDir, "runs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, rep.Release+"-failed.json"), rep.forPublication(outDir))
}

// runningMarker is the path of the marker a run keeps while it runs: its
// report so far, removed when the run ends however it ends, unless the
// process dies. The next run (holding the lock, so the marker's run is
// gone) turns a marker left behind into a failed-run record.
func runningMarker(outDir, id string) string {
	return filepath.Join(outDir, "runs", id+"-running.json")
}

func writeRunningMarker(outDir string, rep *Report) error {
	if err := os.MkdirAll(filepath.Join(outDir, "runs"), 0o755); err != nil {
		return err
	}
	return writeJSON(runningMarker(outDir, rep.Release), rep.forPublication(outDir))
}

func removeRunningMarker(outDir, id string) { os.Remove(runningMarker(outDir, id)) }

// reapDeadRuns turns every marker of a run that died into a failed-run
// record that says so, and returns the ids of those runs. by is the id of
// the run that found them.
func reapDeadRuns(outDir, by string) []string {
	markers, _ := filepath.Glob(runningMarker(outDir, "*"))
	var ids []string
	for _, m := range markers {
		rep, err := readReport(m)
		if err != nil || rep.Release == "" || rep.Release == by {
			continue
		}
		rep.Status = StatusFailed
		rep.Error = fmt.Sprintf("the run stopped before it finished (the process was killed or crashed); found by run %s", by)
		if err := writeFailedReport(outDir, rep); err != nil {
			continue
		}
		os.Remove(m)
		ids = append(ids, rep.Release)
	}
	return ids
}

// RunSummary is one past run for `visastats runs`.
type RunSummary struct {
	Release  string
	Status   string
	Latest   bool
	Report   *Report
	Location string
}

// Runs lists past runs, published, skipped and failed, oldest first. A
// skipped run's Release is the release it kept.
func Runs(cfg Config) ([]RunSummary, error) {
	var out []RunSummary
	latest, _ := os.Readlink(filepath.Join(cfg.Output.Dir, "latest"))
	rels, err := filepath.Glob(filepath.Join(cfg.Output.Dir, "releases", "*", "run.json"))
	if err != nil {
		return nil, err
	}
	failed, err := filepath.Glob(filepath.Join(cfg.Output.Dir, "runs", "*-failed.json"))
	if err != nil {
		return nil, err
	}
	skipped, err := filepath.Glob(filepath.Join(cfg.Output.Dir, "runs", "*-skipped.json"))
	if err != nil {
		return nil, err
	}
	for _, p := range slices.Concat(rels, failed, skipped) {
		r, err := readReport(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		out = append(out, RunSummary{Release: r.Release, Status: r.Status, Report: r, Location: p,
			Latest: latest != "" && filepath.Base(latest) == r.Release && r.Status == StatusPublished})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Report.GeneratedAt.Before(out[j].Report.GeneratedAt) })
	return out, nil
}

// tableCounts returns the exact rows of every table and view of the
// database (observations is a view).
func tableCounts(ctx context.Context, conn *sql.Conn) (map[string]int64, error) {
	rows, err := conn.QueryContext(ctx, `SELECT table_name FROM duckdb_tables() WHERE NOT temporary
		UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("count tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("count tables: %w", err)
		}
		names = append(names, name)
	}
	rows.Close()
	out := map[string]int64{}
	for _, name := range names {
		var n int64
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+vsql.QuoteIdent(name)).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", name, err)
		}
		out[name] = n
	}
	return out, nil
}
