package pipeline

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/visastats/visastats/output/release"
	"github.com/visastats/visastats/pipeline/snapshot"
	"github.com/visastats/visastats/sources"
	"github.com/visastats/visastats/sources/ectest"
	"github.com/visastats/visastats/sources/unhcrtest"
)

func unhcrAPIConfig(url string) sources.UNHCRAPIConfig {
	return sources.UNHCRAPIConfig{
		URL:      url + "/population/v1/",
		Datasets: []string{"asylum-decisions"},
		Params:   map[string]string{"coo_iso": "DZA"},
		Timeout:  2 * time.Second,
		Retries:  2,
	}
}

// fetchAndLoadUNHCR runs the fetch stage for api alone, into a fresh
// snapshot store, and loads the fetched pages.
func fetchAndLoadUNHCR(t *testing.T, api sources.UNHCRAPIConfig, client *http.Client, backoff time.Duration) (sources.Stats, []release.Fetch, error) {
	t.Helper()
	store, err := snapshot.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Sources: SourcesConfig{Reference: sources.ReferenceConfig{Dir: "../data/reference"}, UNHCR: sources.UNHCRConfig{API: api}}}
	ctx := context.Background()
	sc, reports, err := fetchInputs(ctx, cfg, RunOptions{HTTPClient: client, BackoffBase: backoff}, store, quietLog())
	if err != nil {
		return sources.Stats{}, reports, err
	}
	st, err := sources.NewUNHCR(sc.UNHCR).Load(ctx, openDuckConn(t))
	return st, reports, err
}

// TestFetchUNHCRAPI: the pages of the UNHCR API go through the one
// snapshot fetcher, with its retries, timeouts and content checks.
func TestFetchUNHCRAPI(t *testing.T) {
	page := unhcrtest.Page(t)
	for _, tc := range []struct {
		name     string
		fault    unhcrtest.Fault
		timeout  time.Duration
		rows     int64    // decisions written
		requests int      // requests the server saw
		err      []string // parts of the error, when the fetch fails
	}{
		{
			name: "all 11 pages", rows: 1100, requests: 11,
		},
		{
			name:  "500 then 200",
			fault: unhcrtest.At(1, unhcrtest.Status(http.StatusInternalServerError)),
			rows:  1100, requests: 12,
		},
		{
			name:     "permanent 404 is not retried",
			fault:    unhcrtest.Always(unhcrtest.Status(http.StatusNotFound)),
			requests: 1, err: []string{"404 Not Found"},
		},
		{
			name:     "5xx until retries run out",
			fault:    unhcrtest.Always(unhcrtest.Status(http.StatusServiceUnavailable)),
			requests: 3, err: []string{"giving up after 3 attempts", "503 Service Unavailable"},
		},
		{
			name:     "truncated body is retried, then fails",
			fault:    unhcrtest.Always(unhcrtest.Truncated(page)),
			requests: 3, err: []string{"giving up after 3 attempts", "body truncated"},
		},
		{
			name:  "truncated body once, then whole",
			fault: unhcrtest.At(2, unhcrtest.Truncated(page)),
			rows:  1100, requests: 12,
		},
		{
			name:     "HTML error page with status 200",
			fault:    unhcrtest.Always(unhcrtest.HTML),
			requests: 1, err: []string{"got an HTML page, expected json"},
		},
		{
			name:  "slow response times out and is retried",
			fault: unhcrtest.At(1, unhcrtest.Hang),
			// long enough that no other page times out on a busy machine
			timeout: time.Second, rows: 1100, requests: 12,
		},
		{
			name:     "page number mismatch stops pagination",
			fault:    unhcrtest.At(2, unhcrtest.WrongPage(page)), // says page 1 when page 2 was asked for
			requests: 2, err: []string{"asked for page 2, the API answered with page 1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := unhcrtest.Start(t, page, tc.fault)
			api := unhcrAPIConfig(hs.URL)
			if tc.timeout != 0 {
				api.Timeout = tc.timeout
			}
			st, reports, err := fetchAndLoadUNHCR(t, api, hs.Client(), time.Millisecond)
			if tc.err != nil {
				if err == nil {
					t.Fatalf("err = nil, want %q", tc.err)
				}
				for _, part := range append(tc.err, hs.URL+unhcrtest.DecisionsPath) {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("err = %v, want it to contain %q", err, part)
					}
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := st.Tables["raw_unhcr_asylum_decisions"]; got != tc.rows {
				t.Errorf("rows = %d, want %d", got, tc.rows)
			}
			if got := hs.Count(); got != tc.requests {
				t.Errorf("requests = %d, want %d", got, tc.requests)
			}
			if tc.err == nil && len(reports) != 11 {
				t.Errorf("%d fetch reports, want one per page (11)", len(reports))
			}
		})
	}
}

// TestFetchUNHCRAPIRequests checks the fetcher asks the API for JSON and
// waits as long as Retry-After says.
func TestFetchUNHCRAPIRequests(t *testing.T) {
	hs := unhcrtest.Start(t, unhcrtest.Page(t), unhcrtest.At(1, unhcrtest.TooManyRequests(1)))
	if _, _, err := fetchAndLoadUNHCR(t, unhcrAPIConfig(hs.URL), hs.Client(), 0); err != nil {
		t.Fatal(err)
	}
	first, t0 := hs.Request(0)
	_, t1 := hs.Request(1)
	if got := first.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
	if gap := t1.Sub(t0); gap < 900*time.Millisecond {
		t.Errorf("retried after %s, want at least the 1s of Retry-After", gap)
	}
}

// TestFetchUNHCRAPIKeepsCredentialsOut: the error of a failed page and the
// fetch reports name the page without the secrets its URL carries.
func TestFetchUNHCRAPIKeepsCredentialsOut(t *testing.T) {
	const user, pass, token = "alice", "s3cr3t-pw", "t0k3n-xyz"
	hs := unhcrtest.Start(t, unhcrtest.Page(t), unhcrtest.At(3, http.NotFound))
	api := unhcrAPIConfig(strings.Replace(hs.URL, "http://", "http://"+user+":"+pass+"@", 1))
	api.Params = map[string]string{"coo_iso": "DZA", "access_token": token}
	_, reports, err := fetchAndLoadUNHCR(t, api, hs.Client(), time.Millisecond)
	if err == nil {
		t.Fatal("want the 404 of page 3")
	}
	req, _ := hs.Request(0)
	sent := req.URL.Query().Get("access_token")
	if sent != token {
		t.Errorf("the request carried access_token %q, want the configured token", sent)
	}
	if !strings.Contains(err.Error(), "REDACTED") {
		t.Errorf("error does not show where the secret was: %v", err)
	}
	if len(reports) != 2 {
		t.Fatalf("%d fetch reports, want pages 1 and 2", len(reports))
	}
	for _, secret := range []string{pass, token} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error names a secret: %v", err)
		}
		for _, r := range reports {
			if strings.Contains(r.URL, secret) || strings.Contains(r.Name, secret) {
				t.Errorf("fetch report names a secret: %+v", r)
			}
		}
	}
}

// TestRunUNHCRAPIOffline: a release built from the live API can be rebuilt
// offline from the stored pages, with the server gone, row for row.
func TestRunUNHCRAPIOffline(t *testing.T) {
	t.Parallel()
	// The real page, as the only page: pages 2 to 11 would repeat its
	// figures.
	shipped := unhcrtest.Page(t)
	page := bytes.Replace(shipped, []byte(`"maxPages":11,`), []byte(`"maxPages":1,`), 1)
	if bytes.Equal(page, shipped) {
		t.Fatal(`fixture no longer says "maxPages":11`)
	}
	hs := unhcrtest.Start(t, page, nil)
	cfg := tinyConfig(t, sources.ECSchengenConfig{Files: []sources.ECSchengenFile{{Path: ectest.File(t, "2023"), Year: 2023}}})
	var paths []string
	for _, p := range tinyUNHCR {
		if p != "../"+unhcrtest.PagePath { // fetched from the API instead
			paths = append(paths, p)
		}
	}
	cfg.Sources.UNHCR.Paths = paths
	cfg.Sources.UNHCR.API = unhcrAPIConfig(hs.URL)
	ctx := context.Background()
	rows := func(t *testing.T) []string {
		t.Helper()
		db, err := sql.Open("duckdb", cfg.Database+"?access_mode=read_only")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var out []string
		for _, q := range []string{
			`SELECT * FROM raw_unhcr_asylum_decisions ORDER BY ALL`,
			`SELECT * EXCLUDE (release) FROM observations WHERE dataset LIKE 'unhcr%' ORDER BY ALL`,
		} {
			r, err := db.QueryContext(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := r.Columns()
			for r.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := r.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				var b strings.Builder
				for _, v := range vals {
					b.WriteString(strings.TrimSpace(strings.ReplaceAll(fmt.Sprint(v), "\n", " ")) + "|")
				}
				out = append(out, b.String())
			}
			r.Close()
		}
		return out
	}

	online, err := Run(ctx, cfg, quietLog(), RunOptions{HTTPClient: hs.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if got := hs.Count(); got != 1 {
		t.Fatalf("requests = %d, want 1", got)
	}
	want := rows(t)
	var fromAPI int
	for _, r := range want {
		if strings.HasPrefix(r, hs.URL+unhcrtest.DecisionsPath+"?coo_iso=DZA&limit=100&page=1|") {
			fromAPI++
		}
	}
	if fromAPI != 100 {
		t.Fatalf("%d rows name the API page, want its 100 items", fromAPI)
	}
	hs.Close()

	offline, err := Run(ctx, cfg, quietLog(), RunOptions{Offline: true, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if offline.Release == online.Release {
		t.Fatal("the offline run built no new release")
	}
	if got := rows(t); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("offline run: %d rows differ from the %d of the online run", len(got), len(want))
	}
	if len(offline.Fetches) != 1 || !offline.Fetches[0].Offline || offline.Fetches[0].SHA256 != online.Fetches[0].SHA256 {
		t.Errorf("offline fetches = %+v, want the stored page of the online run %+v", offline.Fetches, online.Fetches)
	}
}
