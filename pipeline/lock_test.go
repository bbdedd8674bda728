package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/visastats/visastats/sources"
)

// TestRunsShareDatabase: two configurations with their own output folders
// but one database (reached once through a symbolic link) cannot both
// proceed: while one run holds the database, the other exits with
// ErrLocked and touches neither its output nor the database.
func TestRunsShareDatabase(t *testing.T) {
	ec := sources.ECSchengenConfig{Files: []sources.ECSchengenFile{{Path: ecFile(t, "2023"), Year: 2023}}}
	first := testConfig(t, ec)
	second := testConfig(t, ec)
	if err := os.MkdirAll(filepath.Dir(first.Database), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "dblink")
	if err := os.Symlink(filepath.Dir(first.Database), link); err != nil {
		t.Fatal(err)
	}
	second.Database = filepath.Join(link, filepath.Base(first.Database))

	child := startChildRun(t, first)
	pid := strconv.Itoa(child.Process.Pid)
	dbLock := first.Database + ".lock"
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(dbLock)
		if strings.TrimSpace(string(b)) == pid {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
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
	if err := child.Wait(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	checkLatestComplete(t, first)
}
