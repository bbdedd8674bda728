package snapshot

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// script is a test server that answers the n-th request with the n-th
// step, repeating the last step, and keeps every request's headers.
type script struct {
	steps []http.HandlerFunc

	mu      sync.Mutex
	headers []http.Header
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := len(s.headers)
	s.headers = append(s.headers, r.Header.Clone())
	s.mu.Unlock()
	s.steps[min(i, len(s.steps)-1)](w, r)
}

func (s *script) requests() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.headers...)
}

// serve answers 200 with body and the given header pairs.
func serve(body []byte, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	}
}

// serveChunked answers 200 with body and no Content-Length.
func serveChunked(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for len(body) > 0 {
			n := min(len(body), 4096)
			w.Write(body[:n])
			w.(http.Flusher).Flush()
			body = body[n:]
		}
	}
}

// status answers code with the given header pairs and a short body.
func status(code int, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "%d %s\n", code, http.StatusText(code))
	}
}

// truncated announces all of body but sends only its first n bytes before
// closing the connection.
func truncated(body []byte, n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", xlsxType, len(body))
		buf.Write(body[:n])
		buf.Flush()
	}
}

// hangUp closes the connection without answering.
func hangUp() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		conn.Close()
	}
}

// stall answers only once the client has given up.
func stall() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}
}

// wait bounds one recorded backoff.
type wait struct{ lo, hi time.Duration }

func exactly(d time.Duration) wait { return wait{d, d} }

type fetchOutcome struct {
	res     Result
	err     error
	store   *Store
	url     string
	headers []http.Header
}

func TestFetch(t *testing.T) {
	xlsx := readFixture(t, xlsxFixture, xlsxSHA256)
	jsonBody := readFixture(t, jsonFixture, jsonSHA256)
	html := []byte("<!DOCTYPE html>\n<html><head><title>Page not found</title></head><body>Sorry.</body></html>\n")

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(jsonBody)
	zw.Close()
	gzipped := gz.Bytes()

	var noTypes bytes.Buffer
	nw := zip.NewWriter(&noTypes)
	f, _ := nw.Create("xl/workbook.xml")
	f.Write([]byte("<workbook/>"))
	nw.Close()

	// Base configuration of every case: two retries, waits of at most
	// 1s, 2s and never more than 10s.
	base := FetchConfig{Retries: 2, BackoffBase: time.Second, BackoffMax: 10 * time.Second}

	cases := []struct {
		name   string
		cfg    func(*FetchConfig)
		expect Kind
		steps  []http.HandlerFunc
		// fetches is how many times Fetch is called; the last is checked.
		fetches int
		// cancelInBackoff cancels the context when the fetcher starts
		// waiting to retry.
		cancelInBackoff bool

		wantRequests int
		wantWaits    []wait
		wantSHA      string // "" when nothing may be stored
		wantObjects  int
		wantNotMod   bool
		wantErr      []string // substrings of the error; nil when none expected
		wantErrIs    error
		check        func(t *testing.T, o fetchOutcome)
	}{
		{
			name:         "200 first time stores the workbook with its provenance",
			expect:       KindXLSX,
			steps:        []http.HandlerFunc{serve(xlsx, "Content-Type", xlsxType, "ETag", etag, "Last-Modified", lastMod)},
			wantRequests: 1,
			wantSHA:      xlsxSHA256,
			wantObjects:  1,
			check: func(t *testing.T, o fetchOutcome) {
				want := Record{
					Source: "ec_schengen_consulates", Name: "2023", URL: o.url, URLSHA256: sha256Hex([]byte(o.url)),
					RetrievedAt: fixedNow, Size: int64(len(xlsx)), SHA256: xlsxSHA256,
					ETag: etag, LastModified: lastMod, ContentType: xlsxType,
				}
				if o.res.Record != want {
					t.Errorf("record = %+v\nwant %+v", o.res.Record, want)
				}
				h := o.headers[0]
				if h.Get("If-None-Match") != "" || h.Get("If-Modified-Since") != "" {
					t.Errorf("first fetch sent conditional headers: %v", h)
				}
				if got := h.Get("User-Agent"); !strings.HasPrefix(got, "visastats") {
					t.Errorf("User-Agent = %q", got)
				}
				p, err := o.store.Path(xlsxSHA256)
				if err != nil {
					t.Fatal(err)
				}
				if want := filepath.Join(o.store.Dir(), "objects", "sha256", "2d", xlsxSHA256); p != want {
					t.Errorf("object path = %s, want %s", p, want)
				}
				info, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if perm := info.Mode().Perm(); perm&0o222 != 0 {
					t.Errorf("object mode = %v, want read-only", perm)
				}
			},
		},
		{
			name:         "JSON from the UNHCR API is stored",
			expect:       KindJSON,
			steps:        []http.HandlerFunc{serve(jsonBody, "Content-Type", "application/json")},
			wantRequests: 1,
			wantSHA:      jsonSHA256,
			wantObjects:  1,
		},
		{
			name:         "a complete gzip stream is stored as sent",
			expect:       KindGzip,
			steps:        []http.HandlerFunc{serve(gzipped, "Content-Type", "application/gzip")},
			wantRequests: 1,
			wantSHA:      sha256Hex(gzipped),
			wantObjects:  1,
		},
		{
			name:         "500 then 200 is retried after a jittered wait and stored",
			expect:       KindXLSX,
			steps:        []http.HandlerFunc{status(500), serve(xlsx)},
			wantRequests: 2,
			wantWaits:    []wait{{0, time.Second}},
			wantSHA:      xlsxSHA256,
			wantObjects:  1,
		},
		{
			name:         "503 with Retry-After 2 waits exactly 2s",
			expect:       KindXLSX,
			steps:        []http.HandlerFunc{status(503, "Retry-After", "2"), serve(xlsx)},
			wantRequests: 2,
			wantWaits:    []wait{exactly(2 * time.Second)},
			wantSHA:      xlsxSHA256,
			wantObjects:  1,
		},
		{
			name:         "429 with Retry-After as an HTTP date waits until then",
			expect:       KindXLSX,
			steps:        []http.HandlerFunc{status(429, "Retry-After", fixedNow.Add(7*time.Second).Format(http.TimeFormat)), serve(xlsx)},
			wantRequests: 2,
			wantWaits:    []wait{exactly(7 * time.Second)},
			wantSHA:      xlsxSHA256,
			wantObjects:  1,
		},
		{
			name:         "Retry-After beyond BackoffMax is capped",
			expect:       KindXLSX,
			steps:        []http.HandlerFunc{status(503, "Retry-After", "3600"), serve(xlsx)},
			wantRequests: 2,
			wantWaits:    []wait{exactly(10 * time.Second)},
			wantSHA:      xlsxSHA256,
			wantObjects:  1,
		},
		{
			name:         "connection closed without a response is retried",
			expect:       KindXLSX,
			steps:        []http.HandlerFunc{hangUp(), serve(xlsx)},
			wantRequests: 2,
			wantWaits:    []wait{{0, time.Second}},
			wantSHA:      xlsxSHA256,
			wantObjects:  1,
		},
		{
			name:         "an attempt that times out is retried",
			cfg:          func(c *FetchConfig) { c.Timeout = 300 * time.Millisecond },
			expect:       KindXLSX,
			steps:        []http.HandlerFunc{stall(), serve(xlsx)},
			wantRequests: 2,
			wantWaits:    []wait{{0, time.Second}},
			wantSHA:      xlsxSHA256,
			wantObjects:  1,
		},
		{
			name:         "404 is permanent: one attempt, a clear error, nothing stored",
			expect:       KindXLSX,
			steps:        []http.HandlerFunc{status(404)},
			wantRequests: 1,
			wantErr:      []string{"fetch ec_schengen_consulates/2023: GET http://", "/2023.xlsx: 404 Not Found"},
			check: func(t *testing.T, o fetchOutcome) {
				var herr *HTTPError
				if !errors.As(o.err, &herr) || herr.Status != 404 || herr.URL != o.url {
					t.Errorf("error %v is not *HTTPError{URL: %s, Status: 404}", o.err, o.url)
				}
			},
		},
		{
			name:         "persistent 500 gives up after Retries+1 attempts",
			expect:       KindXLSX,
			steps:        []http.HandlerFunc{status(500)},
			wantRequests: 3,
			wantWaits:    []wait{{0, time.Second}, {0, 2 * time.Second}},
			wantErr:      []string{"giving up after 3 attempts", "500 Internal Server Error"},
			check: func(t *testing.T, o fetchOutcome) {
				var herr *HTTPError
				if !errors.As(o.err, &herr) || herr.Status != 500 {
					t.Errorf("error %v is not an *HTTPError with status 500", o.err)
				}
			},
		},
		{
			name:         "truncated body fails every attempt and stores nothing",
			expect:       KindXLSX,
			steps:        []http.HandlerFunc{truncated(xlsx, len(xlsx)/2)},
			wantRequests: 3,
			wantWaits:    []wait{{0, time.Second}, {0, 2 * time.Second}},
			wantErr:      []string{"giving up after 3 attempts", "body truncated after", fmt.Sprintf("of %d bytes", len(xlsx))},
			wantErrIs:    ErrTruncated,
		},
		{
			name:         "HTML page instead of xlsx is a ContentError",
			expect:       KindXLSX,
			steps:        []http.HandlerFunc{serve(html, "Content-Type", xlsxType)},
			wantRequests: 1,
			wantErr:      []string{"/2023.xlsx: got an HTML page, expected xlsx"},
			check: func(t *testing.T, o fetchOutcome) {
				var cerr *ContentError
				if !errors.As(o.err, &cerr) || cerr.Expected != KindXLSX || cerr.Got != "an HTML page" || cerr.URL != o.url {
					t.Errorf("error %v is not the expected *ContentError", o.err)
				}
			},
		},
		{
			name:         "zip without [Content_Types].xml is not a workbook",
			expect:       KindXLSX,
			steps:        []http.HandlerFunc{serve(noTypes.Bytes())},
			wantRequests: 1,
			wantErr:      []string{"got a zip archive without [Content_Types].xml, expected xlsx"},
		},
		{
			name:         "workbook where JSON is expected",
			expect:       KindJSON,
			steps:        []http.HandlerFunc{serve(xlsx, "Content-Type", "application/json")},
			wantRequests: 1,
			wantErr:      []string{"got a zip archive, expected json"},
		},
		{
			name:         "broken gzip stream is a ContentError",
			expect:       KindGzip,
			steps:        []http.HandlerFunc{serve(gzipped[:len(gzipped)-20])},
			wantRequests: 1,
			wantErr:      []string{"got a broken gzip stream, expected gzip", "unexpected EOF"},
		},
		{
			name:         "body over MaxBytes announced by Content-Length",
			cfg:          func(c *FetchConfig) { c.MaxBytes = 100_000 },
			expect:       KindXLSX,
			steps:        []http.HandlerFunc{serve(xlsx)},
			wantRequests: 1,
			wantErr:      []string{fmt.Sprintf("Content-Length %d: body exceeds the size limit of 100000 bytes", len(xlsx))},
			wantErrIs:    ErrTooLarge,
		},
		{
			name:         "chunked body over MaxBytes",
			cfg:          func(c *FetchConfig) { c.MaxBytes = 100_000 },
			expect:       KindXLSX,
			steps:        []http.HandlerFunc{serveChunked(xlsx)},
			wantRequests: 1,
			wantErr:      []string{"body exceeds the size limit of 100000 bytes"},
			wantErrIs:    ErrTooLarge,
		},
		{
			name:   "conditional request answered 304 returns the previous record",
			expect: KindXLSX,
			steps: []http.HandlerFunc{
				serve(xlsx, "ETag", etag, "Last-Modified", lastMod),
				status(http.StatusNotModified),
			},
			fetches:      2,
			wantRequests: 2,
			wantSHA:      xlsxSHA256,
			wantObjects:  1,
			wantNotMod:   true,
			check: func(t *testing.T, o fetchOutcome) {
				h := o.headers[1]
				if got := h.Get("If-None-Match"); got != etag {
					t.Errorf("If-None-Match = %q, want %q", got, etag)
				}
				if got := h.Get("If-Modified-Since"); got != lastMod {
					t.Errorf("If-Modified-Since = %q, want %q", got, lastMod)
				}
				if o.res.Record.ETag != etag || o.res.Record.RetrievedAt != fixedNow {
					t.Errorf("record = %+v, want the first fetch's", o.res.Record)
				}
				hist, err := o.store.History("ec_schengen_consulates", "2023")
				if err != nil || len(hist) != 1 {
					t.Errorf("history = %d records, %v; want 1", len(hist), err)
				}
			},
		},
		{
			name:            "context cancelled during backoff stops at once",
			expect:          KindXLSX,
			steps:           []http.HandlerFunc{status(500)},
			cancelInBackoff: true,
			wantRequests:    1,
			wantWaits:       []wait{{0, time.Second}},
			wantErr:         []string{"to retry after attempt 1", "500 Internal Server Error", "context canceled"},
			wantErrIs:       context.Canceled,
		},
		{
			name:         "identical content fetched twice is stored once",
			expect:       KindXLSX,
			steps:        []http.HandlerFunc{serve(xlsx)},
			fetches:      2,
			wantRequests: 2,
			wantSHA:      xlsxSHA256,
			wantObjects:  1,
			check: func(t *testing.T, o fetchOutcome) {
				hist, err := o.store.History("ec_schengen_consulates", "2023")
				if err != nil {
					t.Fatal(err)
				}
				if len(hist) != 2 || hist[0].SHA256 != xlsxSHA256 || hist[1].SHA256 != xlsxSHA256 {
					t.Errorf("history = %+v, want two records of one object", hist)
				}
			},
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := &script{steps: tc.steps}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			store, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			cfg := base
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			fetcher, err := NewFetcher(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var waits []time.Duration
			fetcher.now = func() time.Time { return fixedNow }
			fetcher.sleep = func(ctx context.Context, d time.Duration) error {
				waits = append(waits, d)
				if tc.cancelInBackoff {
					cancel()
					return sleepContext(ctx, d)
				}
				return ctx.Err()
			}

			o := fetchOutcome{store: store, url: ts.URL + "/2023.xlsx"}
			req := FetchRequest{Source: "ec_schengen_consulates", Name: "2023", URL: o.url, Expect: tc.expect}
			for range max(tc.fetches, 1) {
				o.res, o.err = fetcher.Fetch(ctx, ts.Client(), store, req)
			}
			o.headers = srv.requests()

			if got := len(o.headers); got != tc.wantRequests {
				t.Errorf("server saw %d requests, want %d", got, tc.wantRequests)
			}
			if len(waits) != len(tc.wantWaits) {
				t.Errorf("waits = %v, want %d", waits, len(tc.wantWaits))
			} else {
				for i, w := range tc.wantWaits {
					if waits[i] < w.lo || waits[i] > w.hi {
						t.Errorf("wait %d = %v, want within [%v, %v]", i+1, waits[i], w.lo, w.hi)
					}
				}
			}

			if tc.wantErr == nil && tc.wantErrIs == nil {
				if o.err != nil {
					t.Fatalf("Fetch: %v", o.err)
				}
				if o.res.Record.SHA256 != tc.wantSHA {
					t.Errorf("stored %s, want %s", o.res.Record.SHA256, tc.wantSHA)
				}
				if o.res.NotModified != tc.wantNotMod {
					t.Errorf("NotModified = %v, want %v", o.res.NotModified, tc.wantNotMod)
				}
				if tc.fetches <= 1 && o.res.Attempts != tc.wantRequests {
					t.Errorf("Attempts = %d, want %d", o.res.Attempts, tc.wantRequests)
				}
				latest, err := store.Latest(req.Source, req.Name)
				if err != nil || latest != o.res.Record {
					t.Errorf("Latest = %+v, %v; want %+v", latest, err, o.res.Record)
				}
				assertObject(t, store, tc.wantSHA)
			} else {
				if o.err == nil {
					t.Fatalf("Fetch succeeded with %+v, want an error", o.res)
				}
				t.Logf("error: %v", o.err)
				for _, s := range tc.wantErr {
					if !strings.Contains(o.err.Error(), s) {
						t.Errorf("error %q does not contain %q", o.err, s)
					}
				}
				if !strings.Contains(o.err.Error(), o.url) {
					t.Errorf("error %q does not name the URL", o.err)
				}
				if tc.wantErrIs != nil && !errors.Is(o.err, tc.wantErrIs) {
					t.Errorf("error %q is not %v", o.err, tc.wantErrIs)
				}
				if _, err := store.Latest(req.Source, req.Name); !errors.Is(err, ErrNoRecord) {
					t.Errorf("after a failed fetch Latest = %v, want ErrNoRecord", err)
				}
			}
			if got := countObjects(t, store); got != tc.wantObjects {
				t.Errorf("store holds %d objects, want %d", got, tc.wantObjects)
			}
			assertNoTemp(t, store)
			if tc.check != nil {
				tc.check(t, o)
			}
		})
	}
}

func TestNewFetcherRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  FetchConfig
		want string
	}{
		{"negative retries", FetchConfig{Retries: -1}, "retries is -1"},
		{"max below base", FetchConfig{BackoffBase: 5 * time.Second, BackoffMax: time.Second}, "backoff max 1s is below backoff base 5s"},
		{"negative timeout", FetchConfig{Timeout: -time.Second}, "timeout is -1s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewFetcher(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewFetcher(%+v) = %v, want an error containing %q", tc.cfg, err, tc.want)
			}
		})
	}
	f, err := NewFetcher(FetchConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Config(), (FetchConfig{Timeout: 5 * time.Minute, BackoffBase: time.Second, BackoffMax: time.Minute, MaxBytes: 4 << 30, UserAgent: DefaultFetchConfig().UserAgent}); got != want {
		t.Errorf("zero config became %+v, want %+v", got, want)
	}
}

func TestFetchRejectsBadRequest(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFetcher(DefaultFetchConfig())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		req  FetchRequest
		want string
	}{
		{"unknown kind", FetchRequest{Source: "s", Name: "n", URL: "https://example.org/x", Expect: "pdf"}, `content kind "pdf"`},
		{"relative URL", FetchRequest{Source: "s", Name: "n", URL: "/x.csv", Expect: KindCSV}, "want an absolute http or https address"},
		{"file URL", FetchRequest{Source: "s", Name: "n", URL: "file:///etc/passwd", Expect: KindCSV}, "want an absolute http or https address"},
		{"name with a separator", FetchRequest{Source: "s", Name: "a/n", URL: "https://example.org/x", Expect: KindCSV}, "contains a path separator"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.Fetch(context.Background(), nil, store, tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Fetch(%+v) = %v, want an error containing %q", tc.req, err, tc.want)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	cases := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"2", 2 * time.Second, true},
		{" 0 ", 0, true},
		{fixedNow.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{fixedNow.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"-3", 0, false},
		{"soon", 0, false},
	}
	for _, tc := range cases {
		got, ok := parseRetryAfter(tc.in, fixedNow)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestBackoffStaysWithinItsCeiling(t *testing.T) {
	f, err := NewFetcher(FetchConfig{BackoffBase: time.Second, BackoffMax: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ceilings := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}
	for n, ceiling := range ceilings {
		for range 200 {
			if d := f.backoff(n + 1); d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v, want within [0, %v]", n+1, d, ceiling)
			}
		}
	}
	if d := f.backoff(1000); d < 0 || d > 5*time.Second {
		t.Errorf("backoff(1000) = %v, want within [0, 5s]", d)
	}
}

// TestValidatorsKeyedByURL: the ETag and Last-Modified of an input are
// sent only to the address they came from. When the URL of an input is
// corrected (same source and name, another address), the first request to
// the new address is unconditional, even though a server comparing dates
// or sharing ETags would answer the old validators with 304; going back
// to the old address is conditional on its own validators again, and its
// record becomes the latest. Two addresses that differ only in a value
// redaction hides (code=, key=) are two addresses.
func TestValidatorsKeyedByURL(t *testing.T) {
	oldBody := readFixture(t, jsonFixture, jsonSHA256)
	newBody := []byte(`{"data": [], "corrected": true}` + "\n")
	june, january := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		etag       string // the server's ETag for both files ("" for none)
		wrong, fix string // paths with query
	}{
		{"dates: the corrected file is older", "", "/wrong/data.json", "/right/data.json"},
		{"one ETag for both files", `"v1"`, "/wrong/data.json", "/right/data.json"},
		{"addresses that differ in a redacted value", "", "/data.json?code=wrong", "/data.json?code=right"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []http.Header
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.Header.Clone())
				mu.Unlock()
				body, mod := newBody, january
				if r.URL.RequestURI() == tc.wrong {
					body, mod = oldBody, june
				}
				if tc.etag != "" {
					w.Header().Set("ETag", tc.etag)
				}
				w.Header().Set("Content-Type", "application/json")
				http.ServeContent(w, r, "data.json", mod, bytes.NewReader(body))
			}))
			defer ts.Close()
			store, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			fetcher, err := NewFetcher(FetchConfig{})
			if err != nil {
				t.Fatal(err)
			}
			fetch := func(path string) Result {
				t.Helper()
				res, err := fetcher.Fetch(context.Background(), ts.Client(), store, FetchRequest{Source: "unhcr", Name: "data.json", URL: ts.URL + path, Expect: KindJSON})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			wrong := fetch(tc.wrong)
			fixed := fetch(tc.fix)
			if fixed.NotModified || fixed.Record.SHA256 != sha256Hex(newBody) || fixed.Record.URL != RedactURL(ts.URL+tc.fix) {
				t.Errorf("after the URL was corrected: not modified %v, %s from %s; want the corrected file %s", fixed.NotModified, fixed.Record.SHA256, fixed.Record.URL, sha256Hex(newBody))
			}
			if h := seen[1]; h.Get("If-None-Match") != "" || h.Get("If-Modified-Since") != "" {
				t.Errorf("the first request to the corrected URL was conditional: %v", h)
			}
			back := fetch(tc.wrong)
			if !back.NotModified || back.Record.SHA256 != wrong.Record.SHA256 {
				t.Errorf("back to the first URL: not modified %v, %s; want 304 and its record", back.NotModified, back.Record.SHA256)
			}
			if h := seen[2]; h.Get("If-Modified-Since") != june.Format(http.TimeFormat) {
				t.Errorf("back to the first URL: If-Modified-Since %q, want its own date", h.Get("If-Modified-Since"))
			}
			if latest, err := store.Latest("unhcr", "data.json"); err != nil || latest.SHA256 != wrong.Record.SHA256 {
				t.Errorf("latest record %s (%v), want the first URL's %s", latest.SHA256, err, wrong.Record.SHA256)
			}
		})
	}
}
