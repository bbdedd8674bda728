package release

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLayout(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	now := time.Date(2026, 11, 25, 17, 43, 0, 0, time.UTC)
	if id := l.NewID(now); id != "20261125T174300Z" {
		t.Fatalf("NewID = %s", id)
	}
	must(t, os.MkdirAll(l.Release("20261125T174300Z"), 0o755))
	must(t, l.WriteFailed(&Report{Release: "20261125T174300Z-2", Status: StatusFailed, GeneratedAt: now}))
	if id := l.NewID(now); id != "20261125T174300Z-3" {
		t.Fatalf("NewID beside a release and a failed run of the same second = %s, want the suffix -3", id)
	}
	for _, id := range []string{"20261125T174300Z-10", "20261125T174300Z-3", "20261124T000000Z"} {
		must(t, os.MkdirAll(l.Release(id), 0o755))
		must(t, WriteJSON(filepath.Join(l.Release(id), ReportName), &Report{Release: id, Status: StatusPublished, GeneratedAt: IDTime(id)}))
	}
	must(t, os.MkdirAll(l.Partial("20261126T000000Z"), 0o755))
	ids, err := l.IDs()
	must(t, err)
	want := []string{"20261125T174300Z-10", "20261125T174300Z-3", "20261125T174300Z", "20261124T000000Z"}
	if !slices.Equal(ids, want) {
		t.Fatalf("IDs = %v, want %v (newest first, the folder being written left out)", ids, want)
	}

	must(t, l.SwapLatest("20261125T174300Z-3"))
	if id, err := l.LatestID(); err != nil || id != "20261125T174300Z-3" {
		t.Fatalf("LatestID = %s, %v", id, err)
	}
	if rep := l.LatestReport(); rep == nil || rep.Release != "20261125T174300Z-3" {
		t.Fatalf("LatestReport = %+v", rep)
	}
	runs, err := l.History()
	must(t, err)
	var latest []string
	for _, r := range runs {
		if r.Latest {
			latest = append(latest, r.Release)
		}
	}
	if len(runs) != 4 || runs[0].Release != "20261124T000000Z" || !slices.Equal(latest, []string{"20261125T174300Z-3"}) {
		t.Fatalf("History: %d runs, first %s, latest %v", len(runs), runs[0].Release, latest)
	}

	l.CleanLeftovers()
	if _, err := os.Stat(l.Partial("20261126T000000Z")); !os.IsNotExist(err) {
		t.Fatalf("CleanLeftovers left the partial folder: %v", err)
	}
	// Keep 1: the newest stays (-10 is newer than -3), the current one
	// stays even when older, the others go; a folder that is not a
	// release is not touched.
	must(t, os.MkdirAll(filepath.Join(l.Releases(), "notes"), 0o755))
	must(t, l.Prune("20261125T174300Z-3", 1))
	ids, err = l.IDs()
	must(t, err)
	if want := []string{"20261125T174300Z-10", "20261125T174300Z-3"}; !slices.Equal(ids, want) {
		t.Fatalf("after Prune(keep 1): %v, want %v", ids, want)
	}
	if _, err := os.Stat(filepath.Join(l.Releases(), "notes")); err != nil {
		t.Fatalf("Prune removed a folder that is not a release: %v", err)
	}

	must(t, os.Remove(l.Latest()))
	must(t, os.WriteFile(l.Latest(), nil, 0o644))
	if err := l.SwapLatest("20261125T174300Z-3"); err == nil || !strings.Contains(err.Error(), "not a link") {
		t.Fatalf("SwapLatest over a plain file: %v", err)
	}
}

func TestReapDead(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	must(t, l.WriteRunning(&Report{Release: "20261125T174300Z", Status: StatusFailed}))
	must(t, l.WriteRunning(&Report{Release: "20261125T180000Z", Status: StatusFailed}))
	ids := l.ReapDead("20261125T180000Z")
	if !slices.Equal(ids, []string{"20261125T174300Z"}) {
		t.Fatalf("ReapDead = %v", ids)
	}
	rep, err := ReadReport(l.Record("20261125T174300Z", StatusFailed))
	must(t, err)
	if !strings.Contains(rep.Error, "found by run 20261125T180000Z") {
		t.Fatalf("failed record: %q", rep.Error)
	}
	if _, err := os.Stat(l.Record("20261125T180000Z", "running")); err != nil {
		t.Fatalf("the reaping run's own marker: %v", err)
	}
}

// TestReapDeadDamagedMarker: a marker cut short (a crash of the disk or of
// an older version that wrote in place) or naming another run is still
// recorded as a dead run, under the id its file name gives.
func TestReapDeadDamagedMarker(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	must(t, l.WriteRunning(&Report{Release: "20261125T174300Z"}))
	b, err := os.ReadFile(l.Record("20261125T174300Z", "running"))
	must(t, err)
	must(t, os.WriteFile(l.Record("20261125T174300Z", "running"), b[:len(b)/2], 0o644))
	must(t, os.WriteFile(l.Record("20261125T175000Z", "running"), nil, 0o644))
	must(t, os.WriteFile(l.Record("not-an-id", "running"), nil, 0o644))
	ids := l.ReapDead("20261125T180000Z")
	if !slices.Equal(ids, []string{"20261125T174300Z", "20261125T175000Z"}) {
		t.Fatalf("ReapDead = %v", ids)
	}
	for _, id := range ids {
		rep, err := ReadReport(l.Record(id, StatusFailed))
		must(t, err)
		if rep.Release != id || rep.Status != StatusFailed || !strings.Contains(rep.Error, "could not be read") {
			t.Errorf("record of %s: %+v", id, rep)
		}
		if _, err := os.Stat(l.Record(id, "running")); !os.IsNotExist(err) {
			t.Errorf("marker of %s left: %v", id, err)
		}
	}
}

// TestWriteJSONWhole: records are renamed into place, so no reader sees a
// half-written one (checked by reading while rewriting) and a write that
// fails leaves the old file; temporary files a killed writer left are
// removed by the next run.
func TestWriteJSONWhole(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	must(t, l.WriteRunning(&Report{Release: "20261125T174300Z"}))
	path := l.Record("20261125T174300Z", "running")
	if err := WriteJSON(path, func() {}); err == nil {
		t.Fatal("WriteJSON of a func succeeded")
	}
	rep, err := ReadReport(path)
	if err != nil || rep.Release != "20261125T174300Z" {
		t.Fatalf("record after a failed write: %+v, %v", rep, err)
	}
	// A reader polling the record while it is rewritten (as the next run
	// or the test that kills a run does) sees a whole report every time;
	// written in place, it sees empty and cut files.
	big := &Report{Release: "20261125T174300Z"}
	for i := 0; i < 20000; i++ {
		big.Stages = append(big.Stages, Stage{Stage: "transform", Name: fmt.Sprintf("model_%05d", i), Rows: int64(i)})
	}
	done := make(chan error)
	go func() {
		for i := 0; i < 20; i++ {
			if err := WriteJSON(path, big); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	reads := 0
	for writing := true; writing; {
		select {
		case err := <-done:
			must(t, err)
			writing = false
		default:
		}
		rep, err := ReadReport(path)
		if err != nil || rep.Release != "20261125T174300Z" {
			t.Fatalf("read %d while the record was rewritten: %v", reads, err)
		}
		reads++
	}
	left := filepath.Join(l.RunsDir(), ".20261125T174300Z-running.json.tmp-123")
	must(t, os.WriteFile(left, []byte("{"), 0o644))
	if got, _ := filepath.Glob(l.Record("*", "running")); len(got) != 1 {
		t.Fatalf("markers seen: %v", got)
	}
	l.CleanLeftovers()
	entries, err := os.ReadDir(l.RunsDir())
	must(t, err)
	if len(entries) != 1 || entries[0].Name() != "20261125T174300Z-running.json" {
		t.Fatalf("runs folder after CleanLeftovers: %v", entries)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestWriteSkippedKeepsNewest: records of skipped runs are pruned oldest
// first by id, where ...Z-10 is newer than ...Z-2.
func TestWriteSkippedKeepsNewest(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	const base = "20261125T174300Z"
	ids := []string{base}
	for i := 2; i <= KeepSkipped+2; i++ {
		ids = append(ids, fmt.Sprintf("%s-%d", base, i))
	}
	for _, id := range ids {
		must(t, l.WriteSkipped(id, &Report{Release: "20261124T000000Z", Status: StatusSkipped}))
	}
	for id, kept := range map[string]bool{base: false, base + "-2": false, base + "-3": true, base + "-10": true, ids[len(ids)-1]: true} {
		if _, err := os.Stat(l.Record(id, StatusSkipped)); (err == nil) != kept {
			t.Errorf("record %s: kept = %v, want %v", id, err == nil, kept)
		}
	}
}
