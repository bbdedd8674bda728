package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// queryDatabase writes the database the config of writeConfig names, with
// one table of n rows, instead of a run: the query command only reads it.
func queryDatabase(t *testing.T, dir string, n int) {
	t.Helper()
	path := filepath.Join(dir, "db", "visastats.duckdb")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE numbers AS SELECT range AS i FROM range(?)`, n); err != nil {
		t.Fatal(err)
	}
}

// TestCLIQueryBounds: the query command stops at its time limit (the
// --timeout flag, or duckdb.query_timeout in the configuration) with a
// message that says so; its table shows at most 10,000 rows and says how
// to get them all, which --format csv writes.
func TestCLIQueryBounds(t *testing.T) {
	t.Parallel()
	const endless = "SELECT count(*) FROM range(100000000000)"
	cfg, dir := writeConfig(t, "")
	queryDatabase(t, dir, 20_000)
	limited, dir2 := writeConfig(t, "duckdb:\n  query_timeout: 1s\n")
	queryDatabase(t, dir2, 1)

	for _, c := range []struct {
		name string
		args []string
	}{
		{"flag", []string{"--config", cfg, "query", "--timeout", "1s", endless}},
		{"configuration", []string{"--config", limited, "query", endless}},
	} {
		t.Run("time limit from the "+c.name, func(t *testing.T) {
			start := time.Now()
			code, out, errs := runCLI(c.args...)
			if code != exitFailed || !strings.Contains(errs, "stopped after 1s") {
				t.Errorf("exit %d, want %d and a message that it stopped after 1s\nstdout: %s\nstderr: %s", code, exitFailed, out, errs)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}

	code, out, errs := runCLI("--config", cfg, "query", "SELECT i FROM numbers ORDER BY i")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != exitOK || len(lines) != 10_002 || strings.TrimSpace(lines[10_000]) != "9999" ||
		!strings.Contains(lines[10_001], "the first 10,000 rows") || !strings.Contains(lines[10_001], "--format csv") {
		t.Errorf("table of 20,000 rows: exit %d, %d lines, ending %q\nstderr: %s", code, len(lines), lines[len(lines)-2:], errs)
	}
	code, out, errs = runCLI("--config", cfg, "query", "--format", "csv", "SELECT i FROM numbers ORDER BY i")
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != exitOK || len(lines) != 20_001 || lines[20_000] != "19999" {
		t.Errorf("csv of 20,000 rows: exit %d, %d lines\nstderr: %s", code, len(lines), errs)
	}
}

// TestCLICheckLocked: check writes the snapshot store, so while a run
// holds the output folder it stops at once with the exit code of a locked
// run.
func TestCLICheckLocked(t *testing.T) {
	t.Parallel()
	cfg, dir := writeConfig(t, "")
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "out", ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI("--config", cfg, "check")
	if code != exitLocked || !strings.Contains(errs, "another visastats run") {
		t.Errorf("check while the output folder is locked: exit %d, want %d\nstdout: %s\nstderr: %s", code, exitLocked, out, errs)
	}
}
