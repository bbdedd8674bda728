package pipeline

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/visastats/visastats/pipeline/snapshot"
	"github.com/visastats/visastats/sources"
)

// unhcrAPIPage is the real page 1 of 11 of the asylum-decisions of
// Algerians, as the population API served it.
const unhcrAPIPage = "../data/unhcr/api_v1_asylum-decisions_coo-DZA_page1.json"

// unhcrAPIServer serves the real asylum-decisions page. Pages 2 to 11 do
// not exist in the project: the server synthesises them by re-serving the
// real page with only its "page" number changed. fault, when set, may
// answer a request itself (by request number, from 1) and return true.
type unhcrAPIServer struct {
	page  []byte
	fault func(n int, w http.ResponseWriter, r *http.Request) bool

	mu       sync.Mutex
	requests []*http.Request
	times    []time.Time
}

func newUNHCRAPIServer(t *testing.T, page []byte, fault func(n int, w http.ResponseWriter, r *http.Request) bool) (*unhcrAPIServer, *httptest.Server) {
	t.Helper()
	if !bytes.HasPrefix(page, []byte(`{"page":1,`)) {
		t.Fatal("fixture no longer starts with page 1")
	}
	s := &unhcrAPIServer{page: page, fault: fault}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *unhcrAPIServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.times = append(s.times, time.Now())
	n := len(s.requests)
	s.mu.Unlock()
	if s.fault != nil && s.fault(n, w, r) {
		return
	}
	if r.URL.Path != "/population/v1/asylum-decisions/" {
		http.NotFound(w, r)
		return
	}
	page := r.URL.Query().Get("page")
	w.Header().Set("Content-Type", "application/json")
	w.Write(bytes.Replace(s.page, []byte(`{"page":1,`), []byte(`{"page":`+page+`,`), 1))
}

func (s *unhcrAPIServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func readUNHCRAPIPage(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(unhcrAPIPage)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

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
func fetchAndLoadUNHCR(t *testing.T, api sources.UNHCRAPIConfig, client *http.Client, backoff time.Duration) (sources.Stats, []FetchReport, error) {
	t.Helper()
	store, err := snapshot.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Sources: SourcesConfig{UNHCR: sources.UNHCRConfig{API: api}}}
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
	page := func(t *testing.T) []byte { return readUNHCRAPIPage(t) }
	for _, tc := range []struct {
		name     string
		fault    func(n int, w http.ResponseWriter, r *http.Request) bool
		timeout  time.Duration
		rows     int64    // decisions written
		requests int      // requests the server saw
		err      []string // parts of the error, when the fetch fails
	}{
		{
			name: "all 11 pages", rows: 1100, requests: 11,
		},
		{
			name: "500 then 200",
			fault: func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n == 1 {
					http.Error(w, "upstream hiccup", http.StatusInternalServerError)
					return true
				}
				return false
			},
			rows: 1100, requests: 12,
		},
		{
			name: "permanent 404 is not retried",
			fault: func(n int, w http.ResponseWriter, r *http.Request) bool {
				http.NotFound(w, r)
				return true
			},
			requests: 1, err: []string{"404 Not Found"},
		},
		{
			name: "5xx until retries run out",
			fault: func(n int, w http.ResponseWriter, r *http.Request) bool {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return true
			},
			requests: 3, err: []string{"giving up after 3 attempts", "503 Service Unavailable"},
		},
		{
			name: "truncated body is retried, then fails",
			fault: func(n int, w http.ResponseWriter, r *http.Request) bool {
				p := page(t)
				w.Header().Set("Content-Length", strconv.Itoa(len(p)))
				w.Write(p[:len(p)/2])
				return true
			},
			requests: 3, err: []string{"giving up after 3 attempts", "body truncated"},
		},
		{
			name: "truncated body once, then whole",
			fault: func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n != 2 {
					return false
				}
				p := page(t)
				w.Header().Set("Content-Length", strconv.Itoa(len(p)))
				w.Write(p[:len(p)/2])
				return true
			},
			rows: 1100, requests: 12,
		},
		{
			name: "HTML error page with status 200",
			fault: func(n int, w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Write([]byte("<!DOCTYPE html>\n<html><head><title>Maintenance</title></head></html>"))
				return true
			},
			requests: 1, err: []string{"got an HTML page, expected json"},
		},
		{
			name: "slow response times out and is retried",
			fault: func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n == 1 {
					<-r.Context().Done()
					return true
				}
				return false
			},
			// long enough that no other page times out on a busy machine
			timeout: time.Second, rows: 1100, requests: 12,
		},
		{
			name: "page number mismatch stops pagination",
			fault: func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n == 2 {
					w.Write(page(t)) // says page 1 when page 2 was asked for
					return true
				}
				return false
			},
			requests: 2, err: []string{"asked for page 2, the API answered with page 1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, hs := newUNHCRAPIServer(t, readUNHCRAPIPage(t), tc.fault)
			api := unhcrAPIConfig(hs.URL)
			if tc.timeout != 0 {
				api.Timeout = tc.timeout
			}
			st, reports, err := fetchAndLoadUNHCR(t, api, hs.Client(), time.Millisecond)
			if tc.err != nil {
				if err == nil {
					t.Fatalf("err = nil, want %q", tc.err)
				}
				for _, part := range append(tc.err, hs.URL+"/population/v1/asylum-decisions/") {
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
			if got := srv.count(); got != tc.requests {
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
	srv, hs := newUNHCRAPIServer(t, readUNHCRAPIPage(t), func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	if _, _, err := fetchAndLoadUNHCR(t, unhcrAPIConfig(hs.URL), hs.Client(), 0); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if got := srv.requests[0].Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
	if gap := srv.times[1].Sub(srv.times[0]); gap < 900*time.Millisecond {
		t.Errorf("retried after %s, want at least the 1s of Retry-After", gap)
	}
}

// TestFetchUNHCRAPIKeepsCredentialsOut: the error of a failed page and the
// fetch reports name the page without the secrets its URL carries.
func TestFetchUNHCRAPIKeepsCredentialsOut(t *testing.T) {
	const user, pass, token = "alice", "s3cr3t-pw", "t0k3n-xyz"
	srv, hs := newUNHCRAPIServer(t, readUNHCRAPIPage(t), func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 3 {
			http.NotFound(w, r)
			return true
		}
		return false
	})
	api := unhcrAPIConfig(strings.Replace(hs.URL, "http://", "http://"+user+":"+pass+"@", 1))
	api.Params = map[string]string{"coo_iso": "DZA", "access_token": token}
	_, reports, err := fetchAndLoadUNHCR(t, api, hs.Client(), time.Millisecond)
	if err == nil {
		t.Fatal("want the 404 of page 3")
	}
	srv.mu.Lock()
	sent := srv.requests[0].URL.Query().Get("access_token")
	srv.mu.Unlock()
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
	// The real page, as the only page: pages 2 to 11 would repeat its
	// figures.
	page := bytes.Replace(readUNHCRAPIPage(t), []byte(`"maxPages":11,`), []byte(`"maxPages":1,`), 1)
	if bytes.Equal(page, readUNHCRAPIPage(t)) {
		t.Fatal(`fixture no longer says "maxPages":11`)
	}
	srv, hs := newUNHCRAPIServer(t, page, nil)
	cfg := tinyConfig(t, sources.ECSchengenConfig{Files: []sources.ECSchengenFile{{Path: ecFile(t, "2023"), Year: 2023}}})
	var paths []string
	for _, p := range tinyUNHCR {
		if p != unhcrAPIPage { // fetched from the API instead
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
	if got := srv.count(); got != 1 {
		t.Fatalf("requests = %d, want 1", got)
	}
	want := rows(t)
	var fromAPI int
	for _, r := range want {
		if strings.HasPrefix(r, hs.URL+"/population/v1/asylum-decisions/?coo_iso=DZA&limit=100&page=1|") {
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
