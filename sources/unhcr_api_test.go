package sources

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/visastats/visastats/sources/redact"
	"github.com/visastats/visastats/sources/unhcrtest"
)

// unhcrCalendar is the shipped release calendar.
const unhcrCalendar = "../data/reference/unhcr_release_calendar.csv"

func unhcrAPIConfig(url string) UNHCRConfig {
	return UNHCRConfig{Calendar: unhcrCalendar, API: UNHCRAPIConfig{
		URL:      url + "/population/v1/",
		Datasets: []string{"asylum-decisions"},
		Params:   map[string]string{"coo_iso": "DZA"},
		Timeout:  2 * time.Second,
		Retries:  2,
	}}
}

// httpPages is a FetchPage for tests: one plain GET per page, the body
// saved under dir, retrieved now. The real one, with retries, timeouts and
// snapshots, is package pipeline's and is tested there against the same
// server.
func httpPages(t *testing.T, c *http.Client) FetchPage {
	t.Helper()
	dir := t.TempDir()
	return func(ctx context.Context, name, rawURL string) (string, time.Time, error) {
		if filepath.Base(name) != name || strings.HasPrefix(name, ".") {
			t.Errorf("page name %q is not a plain file name", name)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return "", time.Time{}, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return "", time.Time{}, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", time.Time{}, fmt.Errorf("GET %s: %s", redact.URL(rawURL), resp.Status)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return "", time.Time{}, err
		}
		p := filepath.Join(dir, name)
		return p, time.Now(), os.WriteFile(p, body, 0o644)
	}
}

// loadUNHCRAPI fetches the pages of cfg.API through fetch, then loads them.
func loadUNHCRAPI(ctx context.Context, conn *sql.Conn, cfg UNHCRConfig, fetch FetchPage) (Stats, error) {
	pages, err := FetchUNHCRAPI(ctx, cfg.API, fetch)
	if err != nil {
		return Stats{}, err
	}
	cfg.APIPages = pages
	return NewUNHCR(cfg).Load(ctx, conn)
}

func TestUNHCRAPI(t *testing.T) {
	page := unhcrtest.Page(t)
	for _, tc := range []struct {
		name     string
		fault    unhcrtest.Fault
		rows     int64  // decisions written
		requests int    // requests the server saw
		err      string // part of the error, when the load fails
	}{
		{
			name: "all 11 pages", rows: 1100, requests: 11,
		},
		{
			name:     "page number mismatch stops pagination",
			fault:    unhcrtest.At(2, unhcrtest.WrongPage(page)), // says page 1 when page 2 was asked for
			requests: 2, err: "asked for page 2, the API answered with page 1",
		},
		{
			name:     "HTML error page with status 200",
			fault:    unhcrtest.Always(unhcrtest.HTML),
			requests: 1, err: `not a UNHCR API page: body is not a JSON object (starts "<!DOCTYPE html>`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := unhcrtest.Start(t, page, tc.fault)
			conn := openTestDB(t)
			st, err := loadUNHCRAPI(context.Background(), conn, unhcrAPIConfig(hs.URL), httpPages(t, hs.Client()))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.err)
				}
				if !strings.Contains(err.Error(), hs.URL+unhcrtest.DecisionsPath) {
					t.Errorf("err = %v, want it to name the URL", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := st.Tables[unhcrDecisionsTable]; got != tc.rows {
				t.Errorf("rows = %d, want %d", got, tc.rows)
			}
			if got := hs.Count(); got != tc.requests {
				t.Errorf("requests = %d, want %d", got, tc.requests)
			}
		})
	}
}

// TestUNHCRAPIRequests checks what the client asks for, where rows say
// they came from, and that the pages are inputs of the source.
func TestUNHCRAPIRequests(t *testing.T) {
	hs := unhcrtest.Start(t, unhcrtest.Page(t), nil)
	conn := openTestDB(t)
	cfg := unhcrAPIConfig(hs.URL)
	cfg.API.Limit = 100
	ctx := context.Background()
	pages, err := FetchUNHCRAPI(ctx, cfg.API, httpPages(t, hs.Client()))
	if err != nil {
		t.Fatal(err)
	}
	cfg.APIPages = pages
	if _, err := NewUNHCR(cfg).Load(ctx, conn); err != nil {
		t.Fatal(err)
	}
	first, _ := hs.Request(0)
	if got, want := first.URL.RawQuery, "coo_iso=DZA&limit=100&page=1"; got != want {
		t.Errorf("query = %q, want %q", got, want)
	}
	if got, want := filepath.Base(pages[2].Path), "asylum-decisions_coo_iso-DZA_limit-100_page-3.json"; got != want {
		t.Errorf("page 3 stored as %s, want %s", got, want)
	}
	in, err := NewUNHCR(cfg).Inputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 12 || in[0].Path != unhcrCalendar || in[11].Path != pages[10].Path {
		t.Errorf("inputs = %v, want the release calendar and the 11 stored pages", in)
	}
	var file string
	var line int64
	var rejected float64
	err = conn.QueryRowContext(ctx, `SELECT file, line, dec_rejected FROM raw_unhcr_asylum_decisions
		WHERE file LIKE '%page=11' AND asylum_code = 'AUS' AND year = 2000`).Scan(&file, &line, &rejected)
	if err != nil {
		t.Fatal(err)
	}
	if want := hs.URL + "/population/v1/asylum-decisions/?coo_iso=DZA&limit=100&page=11"; file != want || line != 3 || rejected != 48 {
		t.Errorf("row from %s item %d rejected %v, want %s item 3 rejected 48", file, line, rejected, want)
	}
}

// TestUNHCRAPINotFetched: with api.url set, Load does not go to the network
// itself; without fetched pages it says what is missing.
func TestUNHCRAPINotFetched(t *testing.T) {
	_, err := NewUNHCR(unhcrAPIConfig("http://127.0.0.1:9")).Load(context.Background(), openTestDB(t))
	if err == nil || !strings.Contains(err.Error(), "no API page was fetched") {
		t.Fatalf("err = %v, want it to say no page was fetched", err)
	}
}

// TestUNHCRAPICancel checks the client stops between pages when the run is
// cancelled.
func TestUNHCRAPICancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hs := unhcrtest.Start(t, unhcrtest.Page(t), func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 3 {
			cancel()
		}
		return false
	})
	_, err := loadUNHCRAPI(ctx, openTestDB(t), unhcrAPIConfig(hs.URL), httpPages(t, hs.Client()))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := hs.Count(); got != 3 {
		t.Errorf("requests = %d, want 3", got)
	}
}

func TestUNHCRAPIConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		api  UNHCRAPIConfig
		err  string
	}{
		{"offline by default", UNHCRAPIConfig{}, ""},
		{"no datasets", UNHCRAPIConfig{URL: "https://api.unhcr.org/population/v1/"}, "api.datasets is empty"},
		{"unknown dataset", UNHCRAPIConfig{URL: "https://api.unhcr.org/population/v1/", Datasets: []string{"solutions"}}, `unsupported dataset "solutions"`},
		{"not a URL", UNHCRAPIConfig{URL: "api.unhcr.org", Datasets: []string{"asylum-decisions"}}, "is not an http(s) URL"},
		{"page in params", UNHCRAPIConfig{URL: "https://api.unhcr.org/population/v1/", Datasets: []string{"asylum-decisions"}, Params: map[string]string{"page": "2"}}, `"page" is set by the client`},
		{"negative retries", UNHCRAPIConfig{URL: "https://api.unhcr.org/population/v1/", Datasets: []string{"asylum-decisions"}, Retries: -1}, "must not be negative"},
		// The nightly configuration: every origin and asylum country.
		{"all countries by ISO code", unhcrParams(map[string]string{"cf_type": "ISO", "coo_all": "true", "coa_all": "true", "yearFrom": "1950"}), ""},
		{"origins by ISO code", unhcrParams(map[string]string{"cf_type": "ISO", "coo": "RUS,AFG", "coa_all": "true"}), ""},
		{"coo_all overrides coo", unhcrParams(map[string]string{"cf_type": "ISO", "coo": "RUS", "coo_all": "true"}),
			`coo_all and coo ("RUS") together: the API then ignores the coo filter`},
		{"coa_all overrides coa", unhcrParams(map[string]string{"cf_type": "ISO", "coa": "DEU", "coa_all": "true"}),
			`coa_all and coa ("DEU") together`},
		{"coa as ISO without cf_type", unhcrParams(map[string]string{"coa": "DEU"}),
			`coa ("DEU") without cf_type: ISO: the API reads coa as UNHCR's own country codes`},
		{"coo with cf_type in lower case", unhcrParams(map[string]string{"cf_type": "iso", "coo": "RUS"}), `coo ("RUS") without cf_type: ISO`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewUNHCR(UNHCRConfig{API: tc.api}).Inputs(context.Background())
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

// TestUNHCRAPIKeepsCredentialsOut: an API URL with user:password@ and a
// token parameter is used for the requests, but neither the rows, nor the
// names the pages are stored under, nor the error of a failed page name
// the secrets.
func TestUNHCRAPIKeepsCredentialsOut(t *testing.T) {
	const user, pass, token = "alice", "s3cr3t-pw", "t0k3n-xyz"
	page := unhcrtest.Page(t)
	hs := unhcrtest.Start(t, page, unhcrtest.At(3, unhcrtest.WrongPage(page))) // page 1 when page 3 was asked for
	cfg := unhcrAPIConfig(strings.Replace(hs.URL, "http://", "http://"+user+":"+pass+"@", 1))
	cfg.API.Params = map[string]string{"coo_iso": "DZA", "access_token": token}
	var names []string
	fetch := httpPages(t, hs.Client())
	record := func(ctx context.Context, name, rawURL string) (string, time.Time, error) {
		names = append(names, name)
		return fetch(ctx, name, rawURL)
	}
	_, err := loadUNHCRAPI(context.Background(), openTestDB(t), cfg, record)
	if err == nil {
		t.Fatal("want the wrong page 3")
	}
	req, _ := hs.Request(0)
	sent := req.URL.Query().Get("access_token")
	if sent != token {
		t.Errorf("the request carried access_token %q, want the configured token", sent)
	}
	for _, secret := range []string{pass, token} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error names a secret: %v", err)
		}
		for _, n := range names {
			if strings.Contains(n, secret) {
				t.Errorf("page stored as %q, which names a secret", n)
			}
		}
	}
	if !strings.Contains(err.Error(), "REDACTED") {
		t.Errorf("error does not show where the secret was: %v", err)
	}
	// A run that succeeds records where each row came from: the page's
	// address without the secrets.
	ok := unhcrtest.Start(t, page, nil)
	cfg = unhcrAPIConfig(strings.Replace(ok.URL, "http://", "http://"+user+":"+pass+"@", 1))
	cfg.API.Params = map[string]string{"coo_iso": "DZA", "access_token": token}
	conn := openTestDB(t)
	if _, err := loadUNHCRAPI(context.Background(), conn, cfg, httpPages(t, ok.Client())); err != nil {
		t.Fatal(err)
	}
	var rows, leaked int
	if err := conn.QueryRowContext(context.Background(), `SELECT count(*), count(*) FILTER (WHERE contains(file, ?) OR contains(file, ?))
		FROM raw_unhcr_asylum_decisions`, pass, token).Scan(&rows, &leaked); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || leaked > 0 {
		t.Errorf("%d of %d rows name a secret in their file column", leaked, rows)
	}
}

// unhcrParams is an API configuration of the asylum decisions with params.
func unhcrParams(params map[string]string) UNHCRAPIConfig {
	return UNHCRAPIConfig{URL: "https://api.unhcr.org/population/v1/", Datasets: []string{"asylum-decisions"}, Params: params}
}
