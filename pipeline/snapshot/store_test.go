package snapshot

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPutFileRecordsPath(t *testing.T) {
	readFixture(t, xlsxFixture, xlsxSHA256)
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	rec, err := store.PutFile(context.Background(), xlsxFixture, Provenance{Source: "ec_schengen_consulates", Name: "2023", RetrievedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(xlsxFixture)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(xlsxFixture)
	if err != nil {
		t.Fatal(err)
	}
	want := Record{
		Source: "ec_schengen_consulates", Name: "2023", Path: abs, RetrievedAt: at,
		Size: 558365, SHA256: xlsxSHA256, LastModified: info.ModTime().UTC().Format(http.TimeFormat),
	}
	if rec != want {
		t.Errorf("PutFile = %+v\nwant %+v", rec, want)
	}
	latest, err := store.Latest("ec_schengen_consulates", "2023")
	if err != nil || latest != want {
		t.Errorf("Latest = %+v, %v; want %+v", latest, err, want)
	}
	assertObject(t, store, xlsxSHA256)
	p, err := store.Path(xlsxSHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if sha256Hex(got) != xlsxSHA256 {
		t.Errorf("object at %s differs from %s", p, xlsxFixture)
	}
}

func TestPutFileRejects(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		path string
		meta Provenance
		want string
	}{
		{"missing file", "testdata/missing.csv", Provenance{Source: "s", Name: "n"}, "put file testdata/missing.csv: open testdata/missing.csv: no such file"},
		{"directory", "testdata", Provenance{Source: "s", Name: "n"}, "put file testdata: not a regular file"},
		{"local input with a URL", jsonFixture, Provenance{Source: "s", Name: "n", URL: "https://example.org"}, "local inputs have none"},
		{"empty source", jsonFixture, Provenance{Name: "n"}, "empty source"},
		{"name with a dot", jsonFixture, Provenance{Source: "s", Name: ".hidden"}, `name ".hidden" starts with a dot`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.PutFile(context.Background(), tc.path, tc.meta)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("PutFile(%s) = %v, want an error containing %q", tc.path, err, tc.want)
			}
			if n := countObjects(t, store); n != 0 {
				t.Errorf("store holds %d objects after a rejected put", n)
			}
			assertNoTemp(t, store)
		})
	}
}

func TestPutIdenticalContentOnce(t *testing.T) {
	body := readFixture(t, jsonFixture, jsonSHA256)
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := store.Put(ctx, bytes.NewReader(body), Provenance{Source: "unhcr", Name: "dza", URL: "https://example.org/a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.PutFile(ctx, jsonFixture, Provenance{Source: "unhcr", Name: "dza-local"})
	if err != nil {
		t.Fatal(err)
	}
	if a.SHA256 != jsonSHA256 || b.SHA256 != jsonSHA256 {
		t.Errorf("hashes %s and %s, want %s", a.SHA256, b.SHA256, jsonSHA256)
	}
	if a.RetrievedAt.IsZero() {
		t.Error("RetrievedAt was not set")
	}
	if n := countObjects(t, store); n != 1 {
		t.Errorf("store holds %d objects, want 1", n)
	}
}

// TestConcurrentPuts stores the same content from many goroutines, each
// with its own Store on the shared directory, as separate processes would.
func TestConcurrentPuts(t *testing.T) {
	body := readFixture(t, xlsxFixture, xlsxSHA256)
	dir := t.TempDir()
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			store, err := Open(dir)
			if err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = store.Put(context.Background(), bytes.NewReader(body), Provenance{Source: "ec_schengen_consulates", Name: "2023"})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	store, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := countObjects(t, store); n != 1 {
		t.Errorf("store holds %d objects, want 1", n)
	}
	assertObject(t, store, xlsxSHA256)
	assertNoTemp(t, store)
	hist, err := store.History("ec_schengen_consulates", "2023")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != writers {
		t.Errorf("history holds %d records, want %d", len(hist), writers)
	}
	latest, err := store.Latest("ec_schengen_consulates", "2023")
	if err != nil || latest.SHA256 != xlsxSHA256 {
		t.Errorf("Latest = %+v, %v", latest, err)
	}
}

func TestPutStopsWhenCancelled(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = store.Put(ctx, strings.NewReader("a,b\n1,2\n"), Provenance{Source: "s", Name: "n"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context = %v, want context.Canceled", err)
	}
	if n := countObjects(t, store); n != 0 {
		t.Errorf("store holds %d objects", n)
	}
	assertNoTemp(t, store)
}

func TestPutReadError(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	broken := io.MultiReader(strings.NewReader("a,b\n"), &failingReader{err: io.ErrUnexpectedEOF})
	_, err = store.Put(context.Background(), broken, Provenance{Source: "s", Name: "n"})
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "put s/n: read content") {
		t.Errorf("Put of a failing reader = %v", err)
	}
	if _, err := store.Latest("s", "n"); !errors.Is(err, ErrNoRecord) {
		t.Errorf("Latest after a failed put = %v, want ErrNoRecord", err)
	}
	assertNoTemp(t, store)
}

type failingReader struct{ err error }

func (r *failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestLookupErrors(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Latest("s", "n"); !errors.Is(err, ErrNoRecord) {
		t.Errorf("Latest of an unknown input = %v, want ErrNoRecord", err)
	}
	if _, err := store.Path(xlsxSHA256); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Path of a missing object = %v, want fs.ErrNotExist", err)
	}
	for _, sha := range []string{"", "../../etc/passwd", strings.ToUpper(xlsxSHA256), xlsxSHA256[:63]} {
		if _, err := store.Open(sha); err == nil || !strings.Contains(err.Error(), "not a lower-case hex SHA-256") {
			t.Errorf("Open(%q) = %v, want a rejection", sha, err)
		}
	}
	hist, err := store.History("s", "n")
	if err != nil || len(hist) != 0 {
		t.Errorf("History of an unknown input = %v, %v", hist, err)
	}
}

func TestVerifyDetectsDamage(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := store.Put(context.Background(), strings.NewReader("year,value\n2023,1\n"), Provenance{Source: "s", Name: "n"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := store.Path(rec.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("year,value\n2023,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := store.Verify(rec.SHA256); err == nil || !strings.Contains(err.Error(), "the store is damaged") {
		t.Errorf("Verify of a changed object = %v", err)
	}
}

func TestHistoryIgnoresCutLastLine(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := store.Put(ctx, strings.NewReader("a\n"), Provenance{Source: "s", Name: "n"}); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(store.Dir(), "index", "s", "n.jsonl")
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// What a crash in the middle of an append leaves behind.
	f.WriteString(`{"source":"s","name":"n","sha2`)
	f.Close()

	hist, err := store.History("s", "n")
	if err != nil || len(hist) != 1 {
		t.Fatalf("History = %d records, %v; want 1 and the cut line ignored", len(hist), err)
	}

	// A later record starts on a new line, so the cut line stays one
	// unreadable line in the middle, which History reports.
	if _, err := store.Put(ctx, strings.NewReader("b\n"), Provenance{Source: "s", Name: "n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.History("s", "n"); err == nil || !strings.Contains(err.Error(), "n.jsonl line 2") {
		t.Errorf("History with a cut line in the middle = %v, want an error naming line 2", err)
	}
	if latest, err := store.Latest("s", "n"); err != nil || latest.SHA256 != sha256Hex([]byte("b\n")) {
		t.Errorf("Latest = %+v, %v; want the second record", latest, err)
	}
}

const (
	xlsxFixture = "testdata/2023-schengen-visa-statistics-consulates_en.xlsx"
	jsonFixture = "testdata/api_v1_asylum-decisions_coo-DZA_page1.json"
	// From testdata/PROVENANCE.md; readFixture checks the copies against them.
	xlsxSHA256 = "2d3e98dd8fa0a158eedc89a4eeca8af3d4bfc65d999d94bc47e0b7766c45d721"
	jsonSHA256 = "2e31fed2ec90894ede9c9b6cd41ce5663beb94561d83e13b66a4d07b8f19b310"

	xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	etag     = `"5f3a-61b2c"`
	lastMod  = "Tue, 12 Mar 2024 09:30:00 GMT"
)

// fixedNow is the clock of every test fetcher, so records can be compared.
var fixedNow = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func readFixture(t *testing.T, path, wantSHA string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256Hex(b); got != wantSHA {
		t.Fatalf("%s hashes to %s, want %s (see testdata/PROVENANCE.md)", path, got, wantSHA)
	}
	return b
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// assertObject checks that the object sha is in the store and its bytes
// hash to its name.
func assertObject(t *testing.T, s *Store, sha string) {
	t.Helper()
	if err := s.Verify(sha); err != nil {
		t.Error(err)
	}
	f, err := s.Open(sha)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := bufio.NewReader(f).WriteTo(h); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sha {
		t.Errorf("object %s holds content hashing to %s", sha, got)
	}
}

func countObjects(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(s.Dir(), "objects"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// assertNoTemp checks that no temporary file was left behind.
func assertNoTemp(t *testing.T, s *Store) {
	t.Helper()
	left, err := os.ReadDir(filepath.Join(s.Dir(), "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("temporary file left behind: %s", e.Name())
	}
}
