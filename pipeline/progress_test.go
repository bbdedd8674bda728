package pipeline

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestDownloadProgress: on a terminal a download rewrites one line with
// what, how much of how much and the rate, ending it when done; in a log
// (cron) it writes a line every progressLogEvery, none for a short one.
func TestDownloadProgress(t *testing.T) {
	now := time.Date(2026, 12, 7, 0, 30, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	var term bytes.Buffer
	report := downloadProgress(&term, quietLog(), clock)("eurostat_asylum", "migr_asyappctzm.tsv.gz")
	now = now.Add(2 * time.Second)
	report(4<<20, 8<<20, false)
	now = now.Add(2 * time.Second)
	report(8<<20, 8<<20, true)
	got := term.String()
	for _, want := range []string{"\r\x1b[K  eurostat_asylum/migr_asyappctzm.tsv.gz: 4.0 MB of 8.0 MB 2.0 MB/s", "8.0 MB of 8.0 MB 2.0 MB/s\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal shows %q, want it to contain %q", got, want)
		}
	}
	if strings.Count(got, "\n") != 1 {
		t.Errorf("terminal shows %q: want one line, ended once", got)
	}

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	report = downloadProgress(nil, log, clock)("unhcr", "page-1.json")
	for i := 1; i <= 25; i++ { // 25 s of a download, a report a second
		now = now.Add(time.Second)
		report(int64(i)<<20, -1, i == 25)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "msg=downloading source=unhcr file=page-1.json bytes=10485760 total=-1") {
		t.Errorf("log of a 25 s download:\n%s\nwant 2 lines, at 10 s and 20 s", logs.String())
	}
	logs.Reset()
	report = downloadProgress(nil, log, clock)("unhcr", "page-2.json")
	now = now.Add(time.Second)
	report(1<<20, 1<<20, true)
	if logs.Len() != 0 {
		t.Errorf("a 1 s download logged %q", logs.String())
	}
}
