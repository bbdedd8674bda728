package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/visastats/visastats/pipeline/snapshot"
	"github.com/visastats/visastats/sources"
	"github.com/visastats/visastats/sources/ectest"
)

// TestCorrectedFetchURL: a fetch entry whose URL was wrong (it gave the
// 2022 workbook) is corrected in the configuration, keeping its name. The
// server compares dates, and the right file is older than the wrong one,
// so the wrong file's Last-Modified would get a 304: the run must fetch
// the new address unconditionally, and what the run reports (run.json's
// fetches) and reads is the corrected file, with its hash.
func TestCorrectedFetchURL(t *testing.T) {
	t.Parallel()
	wrongBody, err := os.ReadFile(ectest.File(t, "2022"))
	if err != nil {
		t.Fatal(err)
	}
	rightBody, err := os.ReadFile(ectest.File(t, "2023"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, mod := rightBody, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		if strings.HasPrefix(r.URL.Path, "/wrong/") {
			body, mod = wrongBody, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
		}
		http.ServeContent(w, r, "2023.xlsx", mod, bytes.NewReader(body))
	}))
	defer srv.Close()
	cfg := tinyConfig(t, sources.ECSchengenConfig{})
	cfg.Fetch = []FetchEntry{{Source: "ec_schengen_consulates", URL: srv.URL + "/wrong/2023.xlsx", Expect: "xlsx"}}
	store, err := snapshot.Open(cfg.SnapshotDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := fetchInputs(ctx, cfg, fastRetries, store, quietLog()); err != nil {
		t.Fatal(err)
	}

	cfg.Fetch[0].URL = srv.URL + "/right/2023.xlsx"
	sc, fetches, err := fetchInputs(ctx, cfg, fastRetries, store, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	want := hexSHA256(rightBody)
	if f := fetches[0]; f.URL != cfg.Fetch[0].URL || f.SHA256 != want || f.NotModified {
		t.Errorf("fetch reported %s with %s (not modified %v), want %s with %s", f.URL, f.SHA256, f.NotModified, cfg.Fetch[0].URL, want)
	}
	read, err := os.ReadFile(sc.ECSchengen.Files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if got := hexSHA256(read); got != want {
		t.Errorf("the run reads %s, want the corrected file %s", got, want)
	}

	// Offline, the snapshot of the address configured is used, and an
	// address never fetched has none.
	offline := fastRetries
	offline.Offline = true
	if _, fetches, err := fetchInputs(ctx, cfg, offline, store, quietLog()); err != nil || fetches[0].SHA256 != want {
		t.Errorf("offline: %v, %+v", err, fetches)
	}
	cfg.Fetch[0].URL = srv.URL + "/never/2023.xlsx"
	if _, _, err := fetchInputs(ctx, cfg, offline, store, quietLog()); err == nil || !strings.Contains(err.Error(), "no snapshot of "+cfg.Fetch[0].URL) {
		t.Errorf("offline, an address never fetched: %v", err)
	}
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestValidateFetchNames: two fetch entries that would be stored as the
// same input (the same source and name, named or taken from the URL) are
// refused, naming both; the same name for two sources is two inputs.
func TestValidateFetchNames(t *testing.T) {
	for _, tt := range []struct {
		name    string
		entries []FetchEntry
		want    []string // substrings of the one error; nil for none
	}{
		{"distinct", []FetchEntry{
			{Source: "ec_schengen_consulates", URL: "https://example.org/a/2023.xlsx"},
			{Source: "ec_schengen_consulates", URL: "https://example.org/a/2022.xlsx"},
			{Source: "unhcr", URL: "https://example.org/b/2023.xlsx"},
		}, nil},
		{"the same name from two URLs", []FetchEntry{
			{Source: "ec_schengen_consulates", URL: "https://example.org/2022/data.xlsx", Year: 2022},
			{Source: "ec_schengen_consulates", URL: "https://example.org/2023/data.xlsx", Year: 2023},
		}, []string{"fetch[1]", `"data.xlsx"`, "fetch[0]", "https://example.org/2022/data.xlsx", "set name"}},
		{"a name given twice", []FetchEntry{
			{Source: "unhcr", URL: "https://example.org/x.csv", Name: "unhcr.csv"},
			{Source: "unhcr", URL: "https://example.org/y.csv?token=s3cret", Name: "unhcr.csv"},
		}, []string{"fetch[1]", `"unhcr.csv"`, "fetch[0]"}},
		{"names that differ only in case", []FetchEntry{
			{Source: "unhcr", URL: "https://example.org/x.csv", Name: "Data.csv"},
			{Source: "unhcr", URL: "https://example.org/y.csv", Name: "data.csv"},
		}, []string{"fetch[1]", `"data.csv"`, "fetch[0]"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs := validateFetchNames(tt.entries)
			if tt.want == nil {
				if len(errs) > 0 {
					t.Fatalf("refused: %v", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("%d errors, want 1: %v", len(errs), errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(errs[0].Error(), w) {
					t.Errorf("error %q lacks %q", errs[0], w)
				}
			}
			if strings.Contains(errs[0].Error(), "s3cret") {
				t.Errorf("error shows a secret: %v", errs[0])
			}
		})
	}
}
