package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

func TestPages(t *testing.T) {
	tr := newTree(t)
	_, ts := newTestServer(t, tr, nil)
	tests := []struct {
		name, path string
		want       []string
		wantNot    []string
	}{
		{
			name: "front page shows the latest release",
			path: "/",
			want: []string{
				`<html lang="en">`, `name="viewport"`, realID,
				// Russia 2023 and 2015 headlines, change and EC refusal rate.
				"520,402", "3,467,349", "−24.3%", "10.57%",
				`<th scope="col">Year</th>`, `<th scope="row">2023</th>`,
				`role="img"`, `<title id="chart-title">Applications for Schengen visas lodged at consulates located in Russian Federation`,
				"2023: 520,402", "2016: no data",
				`href="/latest/observations.parquet"`, `href="/latest/visastats.xlsx"`, `href="/latest/run.json"`,
				"130,158", "174.6 kB", "Excel workbook",
				`href="/releases/` + olderID + `/"`, `href="/api/releases"`, `href="` + DefaultSchemaURL + `"`,
				"5 of 5 checks found no problems",
			},
			wantNot: []string{"duckdb", "partial", partialID, linkedID, "evil", "secret", "nested", "<script"},
		},
		{
			name: "a release's own page",
			path: "/releases/" + olderID + "/",
			want: []string{
				"Release " + olderID, "1 November 2026, 06:00 UTC", "520,402",
				`href="/releases/` + olderID + `/observations.parquet"`, `href="/releases/` + olderID + `/schengen_state_year.parquet"`,
				`href="/"`,
			},
			wantNot: []string{"(the latest release)", `href="/latest/`},
		},
		{
			name: "the latest release's own page says so",
			path: "/releases/" + realID + "/",
			want: []string{"(the latest release)", `href="/releases/` + realID + `/visastats.xlsx"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, "GET", ts.URL+tt.path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			for _, w := range tt.want {
				if !bytes.Contains(body, []byte(w)) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.wantNot {
				if bytes.Contains(body, []byte(w)) {
					t.Errorf("page contains %q", w)
				}
			}
		})
	}

	t.Run("latest index redirects to the release", func(t *testing.T) {
		resp, _ := get(t, "GET", ts.URL+"/latest/", nil)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/releases/"+realID+"/" {
			t.Errorf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("security headers", func(t *testing.T) {
		resp, _ := get(t, "GET", ts.URL+"/", nil)
		for k, v := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "strict-origin-when-cross-origin",
		} {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
	})
}

func TestPageWithoutRelease(t *testing.T) {
	s, err := New(Options{Dir: t.TempDir()})
	must(t, err)
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	resp, body := get(t, "GET", ts.URL+"/", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("No release has been published yet")) {
		t.Errorf("status %d:\n%s", resp.StatusCode, body)
	}
	if resp, _ := get(t, "GET", ts.URL+"/latest/run.json", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/latest/run.json without a release: status %d", resp.StatusCode)
	}
}

func TestLatestPointsNowhere(t *testing.T) {
	tr := newTree(t)
	setLatest(t, tr.dir, "20261127T000000Z") // pruned by hand, say
	_, ts := newTestServer(t, tr, nil)
	resp, body := get(t, "GET", ts.URL+"/", nil)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("points to a release that is not there")) ||
		!bytes.Contains(body, []byte(`href="/releases/`+realID+`/"`)) {
		t.Errorf("status %d:\n%s", resp.StatusCode, body)
	}
	if resp, _ := get(t, "GET", ts.URL+"/latest/run.json", nil); resp.StatusCode != 404 {
		t.Errorf("/latest/run.json: status %d", resp.StatusCode)
	}
}

func TestClaimsAndSchema(t *testing.T) {
	tr := newTree(t)
	rewriteReport(t, tr.path(realID, reportName), func(m map[string]any) {
		m["claims"] = []any{
			map[string]any{"id": "c1", "statement": "Applications in Russia fell by a quarter in 2023", "source": "A newspaper",
				"status": "reproduced", "expected": -0.24, "actual": -0.2428, "note": "rounded", "unit": "percent",
				"caveat": "The data count applications lodged in Russia, whatever the nationality.", "source_url": "https://example.org/article"},
			map[string]any{"id": "c4", "statement": "158,972 visas, +0.7%", "source": "An agency", "status": "not_reproducible",
				"expected": 0.7, "actual": nil, "unit": "percent", "implied": 157866.93, "implies": "the 2022 number", "source_url": "javascript:alert(1)"},
			map[string]any{"id": "c2", "statement": "1.5 million applications in 2022", "source": "A ministry",
				"status": "differs", "expected": 1500000, "actual": 687264, "note": ""},
			map[string]any{"id": "c3", "statement": "A figure without a published basis", "source": "A blog",
				"status": "not_reproducible", "expected": 0.5, "actual": nil, "note": "no data"},
		}
	})
	schema := t.TempDir() + "/schema.md"
	writeFile(t, schema, "# Schema\n\nSee [the repo](https://example.org/r) and [bad](javascript:alert(1)).\n\n## `headlines`\n\n"+
		"| column | meaning <b> |\n|---|---|\n| `rank` | Order <script>x</script> **now** |\n")
	s, err := New(Options{Dir: tr.dir, SchemaPath: schema})
	must(t, err)
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	_, body := get(t, "GET", ts.URL+"/", nil)
	for _, w := range []string{"Applications in Russia fell by a quarter in 2023", "Reproduced, with a caveat", "Differs", "Not reproducible",
		"1,500,000", "687,264", "-0.2428", `class="status status-differs"`, `href="/schema"`,
		"<strong>Caveat:</strong> The data count applications lodged in Russia, whatever the nationality.",
		`<a href="https://example.org/article">A newspaper</a>`, "-0.24 percent", "the 2022 number: about 157,867"} {
		if !bytes.Contains(body, []byte(w)) {
			t.Errorf("page lacks %q", w)
		}
	}
	if bytes.Contains(body, []byte("javascript:")) || bytes.Contains(body, []byte("<table>\n<caption id=\"claims-caption\"")) {
		t.Errorf("claims: an unsafe link or the wide table is back")
	}
	resp, body := get(t, "GET", ts.URL+"/schema", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("schema: status %d", resp.StatusCode)
	}
	for _, w := range []string{`<h1 id="schema">Schema</h1>`, `<h2 id="headlines"><code>headlines</code></h2>`,
		`<th scope="col">meaning &lt;b&gt;</th>`, `<td><code>rank</code></td>`, `<td>Order &lt;script&gt;x&lt;/script&gt; <strong>now</strong></td>`,
		`<a href="https://example.org/r">the repo</a>`, "and bad"} {
		if !bytes.Contains(body, []byte(w)) {
			t.Errorf("schema page lacks %q:\n%s", w, body)
		}
	}
	if bytes.Contains(body, []byte("<script>")) || bytes.Contains(body, []byte("javascript:")) || bytes.Contains(body, []byte("|---|")) {
		t.Errorf("schema page has raw Markdown or unsafe markup:\n%s", body)
	}
}

func TestDownloads(t *testing.T) {
	tr := newTree(t)
	_, ts := newTestServer(t, tr, nil)
	tests := []struct {
		path, file, contentType, cache string
	}{
		{"/latest/observations.parquet", tr.path(realID, "observations.parquet"), "application/vnd.apache.parquet", cacheLatest},
		{"/latest/visastats.xlsx", tr.path(realID, "visastats.xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", cacheLatest},
		{"/latest/run.json", tr.path(realID, "run.json"), "application/json", cacheLatest},
		{"/releases/" + olderID + "/run.json", tr.path(olderID, "run.json"), "application/json", cacheRelease},
		{"/releases/" + realID + "/schengen_state_year.parquet", tr.path(realID, "schengen_state_year.parquet"), "application/vnd.apache.parquet", cacheRelease},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			want, err := os.ReadFile(tt.file)
			must(t, err)
			st, err := os.Stat(tt.file)
			must(t, err)
			name := tt.file[strings.LastIndex(tt.file, "/")+1:]
			resp, body := get(t, "GET", ts.URL+tt.path, nil)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
				t.Fatalf("status %d, %d bytes, want the file's %d", resp.StatusCode, len(body), len(want))
			}
			for k, v := range map[string]string{
				"Content-Type":        tt.contentType,
				"Content-Disposition": `attachment; filename="` + name + `"`,
				"ETag":                `"` + sha256File(t, tt.file) + `"`,
				"Last-Modified":       st.ModTime().UTC().Format(http.TimeFormat),
				"Cache-Control":       tt.cache,
				"Accept-Ranges":       "bytes",
				"Content-Length":      fmt.Sprint(len(want)),
			} {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if strings.HasPrefix(tt.path, "/latest/") && resp.Header.Get("Content-Location") != "/releases/"+realID+"/"+name {
				t.Errorf("Content-Location %q", resp.Header.Get("Content-Location"))
			}
			head, hbody := get(t, "HEAD", ts.URL+tt.path, nil)
			if head.StatusCode != http.StatusOK || len(hbody) != 0 || head.Header.Get("ETag") != resp.Header.Get("ETag") {
				t.Errorf("HEAD: status %d, %d body bytes, ETag %q", head.StatusCode, len(hbody), head.Header.Get("ETag"))
			}
		})
	}
}

func TestRangesAndConditionalRequests(t *testing.T) {
	tr := newTree(t)
	_, ts := newTestServer(t, tr, nil)
	file := tr.path(realID, "observations.parquet")
	data, err := os.ReadFile(file)
	must(t, err)
	st, err := os.Stat(file)
	must(t, err)
	etag := `"` + sha256File(t, file) + `"`
	lastMod := st.ModTime().UTC().Format(http.TimeFormat)
	size := len(data)

	tests := []struct {
		name     string
		header   map[string]string
		status   int
		body     []byte            // exact body, if not nil
		parts    map[string]string // multipart: Content-Range -> content
		bodySize int               // -1: do not check
	}{
		{"first four bytes", map[string]string{"Range": "bytes=0-3"}, 206, []byte("PAR1"), nil, -1},
		{"suffix range is the footer magic", map[string]string{"Range": "bytes=-4"}, 206, []byte("PAR1"), nil, -1},
		{"open range", map[string]string{"Range": fmt.Sprintf("bytes=%d-", size-8)}, 206, data[size-8:], nil, -1},
		{"multi-range", map[string]string{"Range": "bytes=0-3,-4"}, 206, nil, map[string]string{
			fmt.Sprintf("bytes 0-3/%d", size): "PAR1", fmt.Sprintf("bytes %d-%d/%d", size-4, size-1, size): "PAR1"}, -1},
		{"unsatisfiable range", map[string]string{"Range": fmt.Sprintf("bytes=%d-", size+10)}, 416, nil, nil, -1},
		{"If-Range with the ETag honours the range", map[string]string{"Range": "bytes=0-3", "If-Range": etag}, 206, []byte("PAR1"), nil, -1},
		{"If-Range with another ETag sends everything", map[string]string{"Range": "bytes=0-3", "If-Range": `"other"`}, 200, data, nil, -1},
		{"If-None-Match with the ETag", map[string]string{"If-None-Match": etag}, 304, nil, nil, 0},
		{"If-None-Match with a list", map[string]string{"If-None-Match": `"a", ` + etag}, 304, nil, nil, 0},
		{"If-None-Match with another ETag", map[string]string{"If-None-Match": `"other"`}, 200, data, nil, -1},
		{"If-Modified-Since the file's time", map[string]string{"If-Modified-Since": lastMod}, 304, nil, nil, 0},
		{"If-Modified-Since long ago", map[string]string{"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}, 200, data, nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, "GET", ts.URL+"/releases/"+realID+"/observations.parquet", tt.header)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.body != nil && !bytes.Equal(body, tt.body) {
				t.Errorf("body %q (%d bytes), want %d bytes", body[:min(len(body), 16)], len(body), len(tt.body))
			}
			if tt.bodySize >= 0 && len(body) != tt.bodySize {
				t.Errorf("body of %d bytes, want %d", len(body), tt.bodySize)
			}
			if tt.status == 304 && resp.Header.Get("ETag") != etag {
				t.Errorf("304 without the ETag: %q", resp.Header.Get("ETag"))
			}
			if tt.parts != nil {
				mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
				if err != nil || mt != "multipart/byteranges" {
					t.Fatalf("Content-Type %q: %v", resp.Header.Get("Content-Type"), err)
				}
				mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
				got := map[string]string{}
				for {
					p, err := mr.NextPart()
					if err == io.EOF {
						break
					}
					must(t, err)
					b, err := io.ReadAll(p)
					must(t, err)
					got[p.Header.Get("Content-Range")] = string(b)
					if ct := p.Header.Get("Content-Type"); ct != "application/vnd.apache.parquet" {
						t.Errorf("part Content-Type %q", ct)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.parts) {
					t.Errorf("parts %v, want %v", got, tt.parts)
				}
			}
		})
	}
}

// rawRequest sends a request line as written, so no client library cleans
// the path first, and returns the status and the body.
func rawRequest(t *testing.T, addr, method, target string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	must(t, err)
	defer conn.Close()
	must(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", method, target, addr)
	req, _ := http.NewRequest(method, "http://"+addr+"/", nil)
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestRefused(t *testing.T) {
	tr := newTree(t)
	_, ts := newTestServer(t, tr, nil)
	addr := ts.Listener.Addr().String()
	tests := []struct {
		name, method, target string
		status               int // 0: 400 or 404
	}{
		{"dot segment out of latest", "GET", "/latest/../run.json", 400},
		{"dot segments to the database", "GET", "/latest/../../visastats.duckdb", 400},
		{"encoded slashes", "GET", "/latest/..%2f..%2fetc/passwd", 400},
		{"encoded upper-case slashes", "GET", "/releases/..%2F..%2Fvisastats.duckdb/x", 400},
		{"encoded dots", "GET", "/latest/%2e%2e/%2e%2e/visastats.duckdb", 400},
		{"encoded dots in a release", "GET", "/releases/" + realID + "/%2e%2e/" + olderID + "/run.json", 400},
		{"releases dot segments", "GET", "/releases/../../x", 400},
		{"release dir itself via dot", "GET", "/releases/" + realID + "/..", 400},
		{"doubled slash", "GET", "//etc/passwd", 400},
		{"absolute path inside latest", "GET", "/latest//etc/passwd", 400},
		{"encoded absolute path", "GET", "/latest/%2Fetc%2Fpasswd", 400},
		{"backslash", "GET", "/latest/..\\run.json", 400},
		{"absolute-form target with dots", "GET", "http://" + addr + "/latest/../../visastats.duckdb", 400},
		{"NUL byte", "GET", "/latest/run.json%00", 0},
		{"symlink out of the tree", "GET", "/latest/evil.json", 404},
		{"symlink out of the tree, by id", "GET", "/releases/" + realID + "/evil.json", 404},
		{"symlink loop", "GET", "/latest/loop.json", 404},
		{"dot file", "GET", "/latest/.secret.json", 404},
		{"dot file by id", "GET", "/releases/" + realID + "/.secret.json", 404},
		{"release being written", "GET", "/releases/." + partialID + ".partial/observations.parquet", 404},
		{"release being written, index", "GET", "/releases/." + partialID + ".partial/", 404},
		{"release being written, by bare id", "GET", "/releases/" + partialID + "/observations.parquet", 404},
		{"symlinked release directory", "GET", "/releases/" + linkedID + "/observations.parquet", 404},
		{"symlinked release directory, index", "GET", "/releases/" + linkedID + "/", 404},
		{"database at the top", "GET", "/visastats.duckdb", 404},
		{"database inside a release", "GET", "/latest/visastats.duckdb", 404},
		{"subdirectory of a release", "GET", "/latest/nested.parquet", 404},
		{"file inside a subdirectory", "GET", "/latest/nested.parquet/inner.parquet", 404},
		{"trailing slash on a file", "GET", "/latest/run.json/", 404},
		{"unknown release", "GET", "/releases/20991231T000000Z/run.json", 404},
		{"not a release id", "GET", "/releases/latest/run.json", 404},
		{"the releases directory", "GET", "/releases/", 404},
		{"the latest link as a file redirects to the page", "GET", "/latest", http.StatusTemporaryRedirect},
		{"unknown file", "GET", "/latest/passwd", 404},
		{"POST", "POST", "/latest/run.json", 405},
		{"PUT", "PUT", "/releases/" + realID + "/run.json", 405},
		{"DELETE", "DELETE", "/", 405},
		{"OPTIONS", "OPTIONS", "/latest/run.json", 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := rawRequest(t, addr, tt.method, tt.target)
			switch {
			case tt.status != 0 && status != tt.status:
				t.Errorf("status %d, want %d", status, tt.status)
			case tt.status == 0 && status != 400 && status != 404:
				t.Errorf("status %d, want 400 or 404", status)
			}
			for _, mark := range []string{outsideMark, secretMark, partialMark, dbMark, "root:", "PAR1", `"release"`} {
				if strings.Contains(body, mark) {
					t.Errorf("body contains %q:\n%s", mark, body)
				}
			}
		})
	}
}

func TestSwapDuringDownload(t *testing.T) {
	tr := newTree(t)
	_, ts := newTestServer(t, tr, nil)
	// A file much bigger than the socket buffers, so most of it is still on
	// disk when latest moves.
	const size = 48 << 20
	old := bytes.Repeat([]byte("old release "), size/12)
	must(t, os.WriteFile(tr.path(realID, "big.csv"), old, 0o644))
	const newID = "20261126T120000Z"
	copyDir(t, tr.path(realID, ""), tr.path(newID, ""))
	must(t, os.WriteFile(tr.path(newID, "big.csv"), bytes.Repeat([]byte("NEW RELEASE "), size/12), 0o644))
	for _, id := range []string{realID, newID} {
		rewriteReport(t, tr.path(id, reportName), func(m map[string]any) {
			m["files"] = append(m["files"].([]any), map[string]any{"name": "big.csv", "size": size})
		})
	}

	resp, err := http.Get(ts.URL + "/latest/big.csv")
	must(t, err)
	defer resp.Body.Close()
	head := make([]byte, 64<<10)
	_, err = io.ReadFull(resp.Body, head)
	must(t, err)

	// Publish the new release, then prune the old one, mid-body.
	setLatest(t, tr.dir, newID)
	must(t, os.RemoveAll(tr.path(realID, "")))

	rest, err := io.ReadAll(resp.Body)
	must(t, err)
	got := append(head, rest...)
	if !bytes.Equal(got, old) {
		i := 0
		for i < min(len(got), len(old)) && got[i] == old[i] {
			i++
		}
		t.Fatalf("got %d bytes, want the old release's %d; first difference at %d", len(got), len(old), i)
	}
	if loc := resp.Header.Get("Content-Location"); loc != "/releases/"+realID+"/big.csv" {
		t.Errorf("Content-Location %q", loc)
	}

	resp2, body := get(t, "GET", ts.URL+"/latest/big.csv", map[string]string{"Range": "bytes=0-11"})
	if resp2.StatusCode != 206 || string(body) != "NEW RELEASE " {
		t.Errorf("after the swap: status %d, body %q", resp2.StatusCode, body)
	}
	if resp, _ := get(t, "GET", ts.URL+"/releases/"+realID+"/run.json", nil); resp.StatusCode != 404 {
		t.Errorf("pruned release still served: %d", resp.StatusCode)
	}
}

func TestAPIReleases(t *testing.T) {
	tr := newTree(t)
	_, ts := newTestServer(t, tr, nil)
	resp, body := get(t, "GET", ts.URL+"/api/releases", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var got apiReleases
	must(t, json.Unmarshal(body, &got))
	if got.Latest != realID {
		t.Errorf("latest %q", got.Latest)
	}
	var ids []string
	for _, r := range got.Releases {
		ids = append(ids, r.ID)
	}
	if fmt.Sprint(ids) != fmt.Sprint([]string{realID, olderID}) {
		t.Fatalf("releases %v, want the real one then the older one", ids)
	}
	r := got.Releases[0]
	if !r.Latest || got.Releases[1].Latest || r.URL != "/releases/"+realID+"/" || r.GeneratedAt.IsZero() {
		t.Errorf("release %+v", r)
	}
	if len(r.Checks) != 5 || r.Checks[0].Name != "alias_targets_known" {
		t.Errorf("checks %+v", r.Checks)
	}
	files := map[string]apiFile{}
	for _, f := range r.Files {
		files[f.Name] = f
	}
	if len(files) != 5 {
		t.Errorf("files %v, want 4 tables and workbook plus run.json", files)
	}
	obs := files["observations.parquet"]
	if obs.Rows == nil || *obs.Rows != 130158 || obs.Size != 178766 || obs.SHA256 != sha256File(t, tr.path(realID, "observations.parquet")) ||
		obs.URL != "/releases/"+realID+"/observations.parquet" || obs.ContentType != "application/vnd.apache.parquet" {
		t.Errorf("observations.parquet: %+v", obs)
	}
	if f := files["visastats.xlsx"]; f.Rows == nil || *f.Rows != 1533 {
		t.Errorf("visastats.xlsx: %+v", f)
	}
	if f := files[reportName]; f.Rows != nil || f.SHA256 == "" {
		t.Errorf("run.json: %+v", f)
	}
}

func TestInFlightLimit(t *testing.T) {
	s, err := New(Options{Dir: t.TempDir(), MaxInFlight: 1})
	must(t, err)
	entered, release := make(chan struct{}), make(chan struct{})
	h := s.limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		close(done)
	}()
	<-entered
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("second request: status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	close(release)
	<-done
}

func TestAccessLogAndShutdown(t *testing.T) {
	tr := newTree(t)
	logs := newLogBuffer()
	s, err := New(Options{Dir: tr.dir, Log: slog.New(slog.NewTextHandler(logs, nil)), ShutdownTimeout: 5 * time.Second})
	must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()

	resp, _ := get(t, "GET", "http://"+ln.Addr().String()+"/latest/run.json", map[string]string{"Range": "bytes=0-9"})
	if resp.StatusCode != 206 {
		t.Errorf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Serve after shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context was cancelled")
	}
	line := logs.String()
	for _, w := range []string{"msg=request", "method=GET", "path=/latest/run.json", "status=206", "bytes=10", "duration=", "remote=127.0.0.1:"} {
		if !strings.Contains(line, w) {
			t.Errorf("access log lacks %q:\n%s", w, line)
		}
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

func TestNewNeedsADirectory(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without a directory: no error")
	}
}

// TestCrossOrigin: a page of another site (DuckDB-WASM, hyparquet in a
// browser) may read the files and the API by range request; the pages
// stay same-origin.
func TestCrossOrigin(t *testing.T) {
	tr := newTree(t)
	_, ts := newTestServer(t, tr, nil)
	origin := map[string]string{"Origin": "https://notebook.example"}
	for _, path := range []string{"/latest/observations.parquet", "/releases/" + realID + "/run.json", "/api/releases"} {
		resp, _ := get(t, "GET", ts.URL+path, origin)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: status %d, Access-Control-Allow-Origin %q", path, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	resp, body := get(t, "GET", ts.URL+"/latest/observations.parquet", map[string]string{"Origin": "https://notebook.example", "Range": "bytes=-8"})
	if resp.StatusCode != http.StatusPartialContent || string(body[4:]) != "PAR1" || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Content-Range") {
		t.Errorf("range request: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	resp, _ = get(t, "OPTIONS", ts.URL+"/latest/observations.parquet", map[string]string{"Origin": "https://notebook.example",
		"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range"})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Range") || resp.Header.Get("Access-Control-Allow-Methods") != "GET, HEAD" {
		t.Errorf("preflight: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	resp, _ = get(t, "OPTIONS", ts.URL+"/latest/observations.parquet", map[string]string{"Origin": "https://notebook.example",
		"Access-Control-Request-Method": "DELETE"})
	if resp.StatusCode == http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("preflight for DELETE: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	resp, _ = get(t, "OPTIONS", ts.URL+"/latest/observations.parquet", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("OPTIONS without a preflight: status %d", resp.StatusCode)
	}
	resp, _ = get(t, "GET", ts.URL+"/", origin)
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("the page carries Access-Control-Allow-Origin %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// TestFileDescriptions: the file list says what each file holds, as the
// run report describes it.
func TestFileDescriptions(t *testing.T) {
	tr := newTree(t)
	rewriteReport(t, tr.path(realID, reportName), func(m map[string]any) {
		for _, f := range m["files"].([]any) {
			f := f.(map[string]any)
			if f["name"] == "schengen_state_year.parquet" {
				f["description"] = "Schengen visas by Schengen State handling the applications, per year <i>"
			}
		}
	})
	_, ts := newTestServer(t, tr, nil)
	_, body := get(t, "GET", ts.URL+"/", nil)
	if !bytes.Contains(body, []byte("Schengen visas by Schengen State handling the applications, per year &lt;i&gt;")) {
		t.Errorf("page lacks the report's description:\n%s", body)
	}
}

// TestIndexHTML: every release folder holds index.html, its static page,
// so /latest/index.html and /releases/<id>/index.html are asked for; both
// show the release's page (with the server's links), the latest one
// naming the release it showed.
func TestIndexHTML(t *testing.T) {
	tr := newTree(t)
	_, ts := newTestServer(t, tr, nil)
	for _, tt := range []struct {
		path, location string
		want           []string
	}{
		{"/latest/index.html", "/releases/" + realID + "/", []string{"Release " + realID, "(the latest release)", "520,402", `href="/releases/` + realID + `/visastats.xlsx"`}},
		{"/releases/" + olderID + "/index.html", "", []string{"Release " + olderID, `href="/releases/` + olderID + `/observations.parquet"`}},
	} {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := get(t, "GET", ts.URL+tt.path, nil)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("status %d, %s: %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			for _, w := range tt.want {
				if !bytes.Contains(body, []byte(w)) {
					t.Errorf("page lacks %q", w)
				}
			}
			if got := resp.Header.Get("Content-Location"); got != tt.location {
				t.Errorf("Content-Location %q, want %q", got, tt.location)
			}
			if resp, body := get(t, "HEAD", ts.URL+tt.path, nil); resp.StatusCode != http.StatusOK || len(body) != 0 {
				t.Errorf("HEAD: status %d, %d bytes", resp.StatusCode, len(body))
			}
		})
	}
	if resp, _ := get(t, "GET", ts.URL+"/releases/20261127T000000Z/index.html", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("index.html of a release that is not there: status %d", resp.StatusCode)
	}
}
