package pipeline

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/visastats/visastats/output/release"
	"github.com/visastats/visastats/sources"
)

// checkConcurrentRunsRefused checks, while child (a child run of cfg)
// holds cfg's output directory and database, that another run exits at
// once with ErrLocked naming the running pid, instead of fighting over
// DuckDB's file lock: one with the same configuration, and one with its
// own output folder but the same database (reached through a symbolic
// link), which touches neither its output nor the database. Both meet the
// same child run. TestRunsInChildProcesses calls it.
func checkConcurrentRunsRefused(t *testing.T, cfg Config, child *exec.Cmd) {
	t.Helper()
	second := cfg
	second.Output.Dir = filepath.Join(t.TempDir(), "out")
	link := filepath.Join(t.TempDir(), "dblink")
	if err := os.Symlink(filepath.Dir(cfg.Database), link); err != nil {
		t.Fatal(err)
	}
	second.Database = filepath.Join(link, filepath.Base(cfg.Database))

	pid := strconv.Itoa(child.Process.Pid)
	// Wait until the child holds both locks (it writes its pid into a lock
	// file once it has it).
	holds := func(lock string) bool {
		b, _ := os.ReadFile(lock)
		return strings.TrimSpace(string(b)) == pid
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && !(holds(filepath.Join(cfg.Output.Dir, ".lock")) && holds(cfg.Database+".lock")) {
		time.Sleep(2 * time.Millisecond)
	}
	t.Run("same configuration", func(t *testing.T) {
		_, err := Run(context.Background(), cfg, quietLog(), RunOptions{Force: true})
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("second run: %v, want ErrLocked", err)
		}
		if !strings.Contains(err.Error(), pid) {
			t.Errorf("message %q does not name the running pid %s", err, pid)
		}
	})
	t.Run("same database", func(t *testing.T) {
		_, err := Run(context.Background(), second, quietLog(), RunOptions{Force: true})
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("second run: %v, want ErrLocked", err)
		}
		if !strings.Contains(err.Error(), pid) || !strings.Contains(err.Error(), "visastats.duckdb.lock") {
			t.Errorf("message %q does not name the running pid %s and the database lock", err, pid)
		}
		if _, err := os.Stat(filepath.Join(second.Output.Dir, "releases")); err == nil {
			t.Errorf("the refused run created %s/releases", second.Output.Dir)
		}
	})
}

// TestDeadRunRecorded kills a run (SIGKILL) while it runs: the next run
// finds the marker it left, records it as a failed run that says it
// stopped before it finished, and Runs lists it.
func TestDeadRunRecorded(t *testing.T) {
	cfg := tinyConfig(t, ec2023(t))
	child := startChildRun(t, cfg)
	deadline := time.Now().Add(30 * time.Second)
	var marker []string
	for time.Now().Before(deadline) && len(marker) == 0 {
		marker, _ = filepath.Glob(filepath.Join(cfg.Output.Dir, "runs", "*-running.json"))
		time.Sleep(2 * time.Millisecond)
	}
	if len(marker) != 1 {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("no running marker: %v", marker)
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	dead := strings.TrimSuffix(filepath.Base(marker[0]), "-running.json")

	// The next run fails fast (a missing input) but first records the
	// dead one.
	next := cfg
	next.Sources.ECSchengen = sources.ECSchengenConfig{Files: []sources.ECSchengenFile{{Path: filepath.Join(t.TempDir(), "missing-2023.xlsx"), Year: 2023}}}
	if _, err := Run(context.Background(), next, quietLog(), RunOptions{}); err == nil {
		t.Fatal("run with a missing input succeeded")
	}
	runs, err := Runs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range runs {
		if r.Release == dead {
			found = r.Status == release.StatusFailed && strings.Contains(r.Report.Error, "stopped before it finished")
		}
	}
	if !found || len(runs) != 2 {
		t.Errorf("runs = %+v, want the killed run %s failed with 'stopped before it finished', and the next one", runs, dead)
	}
	if left, _ := filepath.Glob(filepath.Join(cfg.Output.Dir, "runs", "*-running.json")); len(left) != 0 {
		t.Errorf("markers left: %v", left)
	}
}
