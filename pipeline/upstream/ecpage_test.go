package upstream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/visastats/visastats/pipeline/snapshot"
	"github.com/visastats/visastats/pipeline/upstream/upstreamtest"
	"github.com/visastats/visastats/sources"
)

// ecEnv is one test's fake Commission site, snapshot store and client.
type ecEnv struct {
	fake   *upstreamtest.Commission
	srv    *httptest.Server
	store  *snapshot.Store
	client *Client
	cfg    ECPageConfig
}

// newECEnv serves the fake site, or, with mux set, mux in front of it.
func newECEnv(t *testing.T, mux func(fake http.Handler) http.Handler) *ecEnv {
	t.Helper()
	fake, err := upstreamtest.NewCommission(upstreamtest.DataDir(t))
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = fake
	if mux != nil {
		h = mux(fake)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	store, err := snapshot.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fetcher, err := snapshot.NewFetcher(snapshot.FetchConfig{Retries: fetchRetries, BackoffBase: time.Millisecond, BackoffMax: 4 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &ecEnv{fake: fake, srv: srv, store: store, cfg: ECPageConfig{PageURL: srv.URL + upstreamtest.CommissionPagePath},
		client: &Client{HTTP: srv.Client(), Store: store, Fetcher: fetcher, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
}

// run asks the site, counting requests from zero.
func (e *ecEnv) run(t *testing.T) ([]Got, error) {
	t.Helper()
	e.fake.ResetCounts()
	return e.client.ECSchengen(context.Background(), e.cfg)
}

// counts returns the requests of every kind the fake saw.
func (e *ecEnv) counts() map[upstreamtest.CommissionRequest]int {
	out := map[upstreamtest.CommissionRequest]int{}
	for _, k := range []upstreamtest.CommissionRequest{upstreamtest.CommissionPage, upstreamtest.CommissionWorkbook, upstreamtest.CommissionDownload,
		upstreamtest.CommissionNotModified, upstreamtest.CommissionOtherDocument, upstreamtest.CommissionOther} {
		if n := e.fake.Count(k); n > 0 {
			out[k] = n
		}
	}
	return out
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestECPageLinks reads the fake landing page: the four consulate
// workbooks, each linked in another way, with their years and where each
// year was read; the other documents (ATV statistics named as visa
// statistics, reference amounts, the handbook, third-country statistics,
// statistics at border crossing points under a bare "2022") are not
// taken.
func TestECPageLinks(t *testing.T) {
	e := newECEnv(t, nil)
	resp, err := e.srv.Client().Get(e.cfg.PageURL)
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(e.cfg.PageURL)
	found, err := ecReadPage(page, base)
	if err != nil {
		t.Fatal(err)
	}
	if found.title != upstreamtest.CommissionPageTitle {
		t.Errorf("title = %q", found.title)
	}
	type want struct {
		year         int
		yearAt, text string
	}
	wants := map[string]want{ // by document path
		e.fake.DocumentPath(2025): {2025, "text around the link", "Visa statistics for consulates in 2025 English"},
		e.fake.DocumentPath(2024): {2024, "link text", "Visa statistics for consulates in 2024"},
		e.fake.DocumentPath(2023): {2023, "link text", "2023 Schengen visa statistics (consulates)"},
		e.fake.DocumentPath(2022): {2022, "link text", "Visa statistics for consulates / 2022"},
	}
	links := found.consulates()
	if len(links) != len(wants) {
		for _, l := range links {
			t.Logf("taken: %q %s", l.text, l.url)
		}
		t.Fatalf("%d consulate links, want %d", len(links), len(wants))
	}
	for _, l := range links {
		u, _ := url.Parse(l.url)
		w, ok := wants[u.Path]
		if !ok {
			t.Errorf("took %q (%s), not a consulate workbook", l.text, l.url)
			continue
		}
		if u.Host != base.Host {
			t.Errorf("%s: not resolved against the page", l.url)
		}
		if l.year != w.year || l.yearAt != w.yearAt || !strings.HasPrefix(l.text, w.text) {
			t.Errorf("%s: year %d from the %s, text %q; want %d from the %s, text %q...", u.Path, l.year, l.yearAt, l.text, w.year, w.yearAt, w.text)
		}
	}
	var documents int
	for _, l := range found.all {
		if l.document {
			documents++
		}
	}
	if documents != 9 {
		t.Errorf("%d links to documents, want 9 (4 workbooks, 5 others)", documents)
	}
}

// TestECPageWords: what a link must say to be a consulate workbook, in the
// layers it is read from.
func TestECPageWords(t *testing.T) {
	base, _ := url.Parse("https://home-affairs.ec.europa.eu/policies/page_en")
	const doc = "/document/download/0b1c2d3e-0000-4000-8000-000000000001_en"
	for _, tc := range []struct {
		name, html string
		year       int // 0: not taken
	}{
		{"text, any order", `<a href="` + doc + `">Statistics on visas: consulates, 2021</a>`, 2021},
		{"French, as the early files", `<a href="` + doc + `">Statistiques visas des consulats 2009</a>`, 2009},
		{"file name only", `<a href="` + doc + `?filename=2019-consulates-schengen-visa-stats.xlsx"><span>Download</span></a>`, 2019},
		{"a workbook address without a document id", `<a href="/sites/default/files/2020/visa_statistics_for_consulates_2020.xlsx">2020</a>`, 2020},
		{"heading above bare links", `<h3>Visa statistics for consulates</h3><ul><li><a href="` + doc + `">2018</a></li><li><a href="/x_en">x</a></li></ul>`, 2018},
		{"border crossing points", `<a href="` + doc + `">Visa statistics issued at external border crossing points 2024</a>`, 0},
		{"quality report", `<a href="` + doc + `">Visa statistics - quality and metadata reporting</a>`, 0},
		{"a news page, not a document", `<a href="/news/visa-statistics-consulates-2024_en">Visa statistics for consulates 2024 published</a>`, 0},
		{"own words decide before the text around", `<div><p>Visa statistics for consulates are below.</p><a href="` + doc + `">Airport transit visa statistics 2024</a></div>`, 0},
		{"script text is not text", `<div><script>var s = "visa statistics consulates";</script><a href="` + doc + `">Download</a></div>`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			found, err := ecReadPage([]byte("<!DOCTYPE html><html><body><main>"+tc.html+"</main></body></html>"), base)
			if err != nil {
				t.Fatal(err)
			}
			links := found.consulates()
			switch {
			case tc.year == 0 && len(links) != 0:
				t.Errorf("took %+v", links)
			case tc.year != 0 && (len(links) != 1 || links[0].year != tc.year):
				t.Errorf("links = %+v, want one of %d", links, tc.year)
			}
		})
	}
}

// TestECSchengenNights runs nights against the fake site: the first
// downloads every workbook; the next, with nothing changed, downloads
// nothing (304s); after the Commission replaces a workbook in place, only
// that one is downloaded again.
func TestECSchengenNights(t *testing.T) {
	e := newECEnv(t, nil)
	years := []int{2022, 2023, 2024, 2025}
	check := func(t *testing.T, gots []Got, downloaded map[int]bool) {
		t.Helper()
		if len(gots) != len(years) {
			t.Fatalf("%d workbooks, want %d: %+v", len(gots), len(years), gots)
		}
		for i, g := range gots {
			if g.Year != years[i] || g.Source != "ec_schengen_consulates" || g.Name != ECWorkbookName(years[i], "xlsx") {
				t.Errorf("workbook %d: %s %s of %d, want %s of %d", i, g.Source, g.Name, g.Year, ECWorkbookName(years[i], "xlsx"), years[i])
			}
			if g.Downloaded != downloaded[g.Year] {
				t.Errorf("%d: downloaded %v, want %v (%s)", g.Year, g.Downloaded, downloaded[g.Year], g.Note)
			}
			if g.Record.SHA256 != sha(e.fake.Workbook(g.Year)) {
				t.Errorf("%d: snapshot %s is not the workbook served", g.Year, g.Record.SHA256)
			}
			if strings.Contains(g.Note, "not modified (304)") == downloaded[g.Year] {
				t.Errorf("%d: note %q", g.Year, g.Note)
			}
		}
	}

	gots, err := e.run(t)
	if err != nil {
		t.Fatal(err)
	}
	check(t, gots, map[int]bool{2022: true, 2023: true, 2024: true, 2025: true})
	if got, want := fmt.Sprint(e.counts()), "map[download:4 page:1 workbook:4]"; got != want {
		t.Errorf("first night: requests %s, want %s", got, want)
	}
	if !strings.Contains(gots[3].Note, `"Visa statistics for consulates in 2025 English`) || !strings.Contains(gots[3].Note, "year from the text around the link") {
		t.Errorf("2025 note = %q", gots[3].Note)
	}
	page, err := e.store.Latest("ec_schengen_consulates", ECPageName)
	if err != nil {
		t.Fatalf("the landing page is not in the snapshot store: %v", err)
	}
	if page.URL != e.cfg.PageURL || page.Size == 0 {
		t.Errorf("landing page record = %+v", page)
	}

	gots, err = e.run(t)
	if err != nil {
		t.Fatal(err)
	}
	check(t, gots, map[int]bool{})
	if got, want := fmt.Sprint(e.counts()), "map[not_modified:4 page:1 workbook:4]"; got != want {
		t.Errorf("unchanged night: requests %s, want %s", got, want)
	}

	// The Commission corrects 2024 in place: the stand-in with one
	// consulate's count changed (upstreamtest.Commission2025Change).
	if err := e.fake.Replace(2024, e.fake.Workbook(2025)); err != nil {
		t.Fatal(err)
	}
	gots, err = e.run(t)
	if err != nil {
		t.Fatal(err)
	}
	check(t, gots, map[int]bool{2024: true})
	if got, want := fmt.Sprint(e.counts()), "map[download:1 not_modified:3 page:1 workbook:4]"; got != want {
		t.Errorf("night after a correction: requests %s, want %s", got, want)
	}
	// The new file is the one read: Austria in Abuja, uniform visas
	// applied for, 2,042 instead of 1,942.
	obj, err := e.store.Path(gots[2].Record.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	layouts, err := sources.ReadECLayouts("../../data/reference")
	if err != nil {
		t.Fatal(err)
	}
	wb, err := sources.ReadECWorkbook(obj, layouts)
	if err != nil {
		t.Fatal(err)
	}
	var applied int64 = -1
	for _, r := range wb.Data().Rows {
		if r.State == "Austria" && r.HostCountry == "NIGERIA" && r.Consulate == "ABUJA" {
			applied = r.Counts[indexOf(sources.ECIndicators(), "uniform_applied")]
		}
	}
	if applied != 2042 {
		t.Errorf("Austria in Abuja, uniform visas applied for = %d in the new 2024 file, want 2042", applied)
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// TestECSchengenFailures: the run fails, naming the Commission and the
// address, when the page links no consulate workbook, when the site
// serves an error page in place of the page or of a workbook, and when it
// is down; it asks nothing it should not.
func TestECSchengenFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault upstreamtest.CommissionFault
		want  []string
		// requests the fake saw
		counts string
	}{
		{
			name: "no workbook links", fault: upstreamtest.CommissionNoWorkbookLinks,
			want:   []string{"the Commission's page has no link to the consulate workbooks", "its layout may have changed", "links, 5 of them to documents, e.g.", `"Airport transit visa (ATV) statistics 2024`},
			counts: "map[page:1]",
		},
		{
			name: "error page for the page", fault: upstreamtest.CommissionErrorPage,
			want:   []string{"no link to the consulate workbooks", fmt.Sprintf("(page title %q)", upstreamtest.CommissionErrorTitle), "nor to any document: it may be an error or maintenance page", "found 1 links, none to a document"},
			counts: "map[page:1]",
		},
		{
			name: "error page for a workbook", fault: upstreamtest.CommissionWorkbookErrorPage,
			want:   []string{"the Commission's workbook linked as", "got an HTML page, expected workbook", upstreamtest.CommissionPagePath},
			counts: "map[page:1 workbook:1]",
		},
		{
			name: "503", fault: upstreamtest.CommissionUnavailable,
			want:   []string{"the Commission's landing page", "503 Service Unavailable", fmt.Sprintf("giving up after %d attempts", fetchRetries+1)},
			counts: fmt.Sprintf("map[page:%d]", fetchRetries+1),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newECEnv(t, nil)
			e.fake.SetFault(tc.fault)
			gots, err := e.run(t)
			if err == nil {
				t.Fatalf("no error; got %+v", gots)
			}
			t.Log(err)
			for _, w := range append(tc.want, "ec_schengen_consulates", e.srv.URL) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to contain %q", err, w)
				}
			}
			if got := fmt.Sprint(e.counts()); got != tc.counts {
				t.Errorf("requests %s, want %s", got, tc.counts)
			}
		})
	}
}

// TestECSchengenOffline: offline, the workbooks of the last online night
// come from the snapshot store, with no request; without one, the run
// says to go online once.
func TestECSchengenOffline(t *testing.T) {
	e := newECEnv(t, nil)
	online, err := e.run(t)
	if err != nil {
		t.Fatal(err)
	}
	e.client.Offline = true
	e.client.Fetcher = nil
	offline, err := e.run(t)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(e.counts()); got != "map[]" {
		t.Errorf("offline: requests %s, want none", got)
	}
	if len(offline) != len(online) {
		t.Fatalf("offline: %d workbooks, online %d", len(offline), len(online))
	}
	for i := range online {
		o, f := online[i], offline[i]
		if f.Year != o.Year || f.Name != o.Name || f.Record.SHA256 != o.Record.SHA256 || f.Downloaded || !strings.Contains(f.Note, "offline") {
			t.Errorf("offline %+v, want the snapshot of online %+v", f, o)
		}
	}

	empty := newECEnv(t, nil)
	empty.client.Offline = true
	_, err = empty.run(t)
	if err == nil || !strings.Contains(err.Error(), "offline: no snapshot of the page yet; run once without --offline") || !errors.Is(err, snapshot.ErrNoRecord) {
		t.Errorf("offline with an empty store: err = %v", err)
	}
	if got := fmt.Sprint(empty.counts()); got != "map[]" {
		t.Errorf("offline: requests %s, want none", got)
	}
}

// TestECSchengenPagesOfTheirOwn serves pages that the fake's does not
// have, linking the fake's documents: a link without a year, whose
// download's Content-Disposition gives it; the same document linked twice;
// two documents linked for one year.
func TestECSchengenPagesOfTheirOwn(t *testing.T) {
	var page string
	e := newECEnv(t, func(fake http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/own_en" {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				io.WriteString(w, page)
				return
			}
			fake.ServeHTTP(w, r)
		})
	})
	e.cfg.PageURL = e.srv.URL + "/own_en"
	p2023, p2024 := e.fake.DocumentPath(2023), e.fake.DocumentPath(2024)

	t.Run("year from the download", func(t *testing.T) {
		page = `<!DOCTYPE html><html><body><h2>Visa statistics for consulates</h2><p><a href="` + p2024 + `">Download</a></p><p><a href="/news_en">News</a></p></body></html>`
		for night, want := range []string{"downloaded", "not modified (304)"} {
			gots, err := e.run(t)
			if err != nil {
				t.Fatal(err)
			}
			if len(gots) != 1 || gots[0].Year != 2024 || gots[0].Name != ECWorkbookName(2024, "xlsx") || !strings.Contains(gots[0].Note, want) {
				t.Fatalf("night %d: %+v, want 2024 %s", night+1, gots, want)
			}
			if night == 0 && !strings.Contains(gots[0].Note, `year from the file name of the download, "2024-schengen-visa-statistics-consulates_en.xlsx"`) {
				t.Errorf("note = %q", gots[0].Note)
			}
		}
	})
	t.Run("one document linked twice", func(t *testing.T) {
		page = `<!DOCTYPE html><html><body><a href="` + p2023 + `">Visa statistics for consulates in 2023</a> <a href="` + p2023 + `?filename=2023-schengen-visa-statistics-consulates_en.xlsx">2023 Schengen visa statistics (consulates)</a></body></html>`
		gots, err := e.run(t)
		if err != nil {
			t.Fatal(err)
		}
		if len(gots) != 1 || gots[0].Year != 2023 || !strings.Contains(gots[0].Note, "linked twice on the page") {
			t.Errorf("gots = %+v, want 2023 once, noted as linked twice", gots)
		}
	})
	t.Run("two documents for one year", func(t *testing.T) {
		page = `<!DOCTYPE html><html><body><a href="` + p2023 + `">Visa statistics for consulates in 2023</a> <a href="` + p2024 + `">Visa statistics for consulates in 2023 (corrected)</a></body></html>`
		_, err := e.run(t)
		if err == nil || !strings.Contains(err.Error(), "two different documents are linked as the consulate workbook of 2023") ||
			!strings.Contains(err.Error(), p2023) || !strings.Contains(err.Error(), p2024) {
			t.Errorf("err = %v, want both links named", err)
		}
		if got := fmt.Sprint(e.counts()); got != "map[]" {
			t.Errorf("requests of the fake's documents %s, want none: nothing is downloaded", got)
		}
	})
}
