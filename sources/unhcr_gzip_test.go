package sources

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// gzipBytes compresses b as gzip -9 would.
func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestUNHCRGzipped: a gzipped copy of a real export, named .csv.gz or
// not, loads the same rows as the export itself and its content digest
// (ContentDigest) is the export's SHA-256, so the releases file's row for
// the export (stated for the uncompressed file) applies to it; a directory lists
// .csv.gz and .json.gz files beside .csv and .json.
func TestUNHCRGzipped(t *testing.T) {
	ctx := context.Background()
	plain := unhcrReadFixture(t, unhcrApplicationsCSV)
	sum := sha256.Sum256(plain)
	want := hex.EncodeToString(sum[:])
	dir := t.TempDir()
	gz := unhcrWriteTempIn(t, dir, "export.csv.gz", gzipBytes(t, plain))
	odd := unhcrWriteTemp(t, "export-gzipped.csv", gzipBytes(t, plain)) // content decides, not the name
	page := unhcrWriteTempIn(t, dir, "page.json.gz", gzipBytes(t, unhcrReadFixture(t, unhcrDecisionsPage)))
	unhcrWriteTempIn(t, dir, "notes.txt.gz", gzipBytes(t, []byte("not an input")))

	conn := openTestDB(t)
	if _, err := NewUNHCR(UNHCRConfig{Paths: []string{unhcrApplicationsCSV, dir, odd}}).Load(ctx, conn); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, `SELECT f.file, f.layout, count(a.file)
		FROM raw_unhcr_files f LEFT JOIN raw_unhcr_asylum_applications a USING (file)
		GROUP BY ALL ORDER BY f.file`)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for rows.Next() {
		var file, layout string
		var n int64
		if err := rows.Scan(&file, &layout, &n); err != nil {
			t.Fatal(err)
		}
		counts[file] = n
	}
	rows.Close()
	if len(counts) != 4 {
		t.Fatalf("files loaded: %v, want the export, its two gzipped copies and the page", counts)
	}
	for _, f := range []string{gz, odd} {
		if counts[f] == 0 || counts[f] != counts[unhcrApplicationsCSV] {
			t.Errorf("%s: %d rows, the export itself %d", filepath.Base(f), counts[f], counts[unhcrApplicationsCSV])
		}
		if got, compressed, err := ContentDigest(f, DefaultLimits()); got != want || !compressed || err != nil {
			t.Errorf("%s: content sha256 %s (compressed %v, %v), want the export's %s", filepath.Base(f), got, compressed, err, want)
		}
	}
	if got, compressed, err := ContentDigest(unhcrApplicationsCSV, DefaultLimits()); got != "" || compressed || err != nil {
		t.Errorf("the export itself: content digest %q (compressed %v, %v), want none: its file digest is its content's", got, compressed, err)
	}
	var decisions int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM raw_unhcr_asylum_decisions WHERE file = ?`, page).Scan(&decisions); err != nil || decisions == 0 {
		t.Errorf("gzipped API page: %d decision rows, %v", decisions, err)
	}
	var differ int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM (
		SELECT * EXCLUDE (file, line) FROM raw_unhcr_asylum_applications WHERE file = ?
		EXCEPT ALL SELECT * EXCLUDE (file, line) FROM raw_unhcr_asylum_applications WHERE file = ?)`, gz, unhcrApplicationsCSV).Scan(&differ); err != nil || differ != 0 {
		t.Errorf("gzipped copy: %d rows differ from the export's, %v", differ, err)
	}
}

// TestUNHCRGzippedBroken: a gzipped export cut short is an error naming
// the file that says the stream is truncated, and one that expands past
// max_expanded_bytes stops at the limit, whatever its compressed size.
func TestUNHCRGzippedBroken(t *testing.T) {
	ctx := context.Background()
	plain := unhcrReadFixture(t, unhcrApplicationsCSV)
	full := gzipBytes(t, plain)
	cut := unhcrWriteTemp(t, "cut.csv.gz", full[:len(full)/2])
	_, err := NewUNHCR(UNHCRConfig{Paths: []string{cut}}).Load(ctx, openTestDB(t))
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), cut) {
		t.Errorf("truncated gzip: %v, want ErrTruncated naming %s", err, cut)
	}
	if _, _, err := ContentDigest(cut, DefaultLimits()); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), cut) {
		t.Errorf("content digest of a truncated gzip: %v, want ErrTruncated naming %s", err, cut)
	}

	header, body, _ := bytes.Cut(plain, []byte("\n"))
	long := append(append(header, '\n'), bytes.Repeat(body, 8)...) // ~3.4 MB of rows in ~0.2 MB
	bomb := unhcrWriteTemp(t, "bomb.csv.gz", gzipBytes(t, long))
	limits := DefaultLimits()
	limits.MaxExpandedBytes = 1 << 20
	_, err = NewUNHCR(UNHCRConfig{Paths: []string{bomb}, Limits: limits}).Load(ctx, openTestDB(t))
	var le *LimitError
	if !errors.As(err, &le) || !errors.Is(err, ErrLimit) || le.Max != 1<<20 || !strings.Contains(err.Error(), bomb) {
		t.Errorf("expanding gzip: %v, want a *LimitError at %d bytes naming %s", err, 1<<20, bomb)
	}
	_, _, err = ContentDigest(bomb, limits)
	if !errors.As(err, &le) || le.Max != 1<<20 || !strings.Contains(err.Error(), bomb) {
		t.Errorf("content digest of an expanding gzip: %v, want a *LimitError at %d bytes naming %s", err, 1<<20, bomb)
	}
	if _, _, err := ContentDigest(bomb, DefaultLimits()); err != nil {
		t.Errorf("content digest of the same gzip under the default limits: %v", err)
	}
}

// TestUNHCRSavedPageOneLongLine: a saved API page is one line of JSON,
// capped as a whole, not by the line limit that bounds CSV exports; the
// CSV export under the same limit stops at its long line.
func TestUNHCRSavedPageOneLongLine(t *testing.T) {
	ctx := context.Background()
	limits := DefaultLimits()
	limits.MaxLineBytes = 4 << 10
	page := unhcrReadFixture(t, unhcrDecisionsPage)
	if bytes.Count(page, []byte("\n")) > 1 || len(page) <= 4<<10 {
		t.Fatalf("the fixture page is not one line longer than the limit")
	}
	gz := unhcrWriteTemp(t, "page.json.gz", gzipBytes(t, page))
	if _, err := NewUNHCR(UNHCRConfig{Paths: []string{unhcrDecisionsPage, gz}, Limits: limits}).Load(ctx, openTestDB(t)); err != nil {
		t.Fatalf("saved pages under a %d-byte line limit: %v", limits.MaxLineBytes, err)
	}
	long := append([]byte(nil), unhcrReadFixture(t, unhcrApplicationsCSV)...)
	long = bytes.Replace(long, []byte("\n"), append([]byte(","), append(bytes.Repeat([]byte("x"), 5<<10), '\n')...), 3)
	csvPath := unhcrWriteTemp(t, "long.csv.gz", gzipBytes(t, long))
	_, err := NewUNHCR(UNHCRConfig{Paths: []string{csvPath}, Limits: limits}).Load(ctx, openTestDB(t))
	var le *LimitError
	if !errors.As(err, &le) || le.Max != 4<<10 || !strings.Contains(err.Error(), csvPath) {
		t.Errorf("CSV export with a 5 KiB line: %v, want a *LimitError at the line limit naming %s", err, csvPath)
	}
}
