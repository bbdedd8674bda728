package upstreamtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xuri/excelize/v2"
)

// Commission is a fake of the European Commission's site for the Schengen
// consulate workbooks, as ../shared/docs/LIVE_SOURCES.md section 4
// describes it: a landing page at CommissionPagePath that links documents
// by opaque ids (/document/download/<uuid>_en, some with ?filename=), and
// the documents. Mount it at the server's root:
//
//	fake, err := upstreamtest.NewCommission(upstreamtest.DataDir(t))
//	srv := httptest.NewServer(fake)
//	pageURL := srv.URL + upstreamtest.CommissionPagePath
//
// The page has the shape of the Commission's pages: a navigation, file
// blocks each with a title, a language and size line and a link, and a
// table of earlier years with one column of consulate workbooks and one of
// statistics at external border crossing points, whose links say only the
// year. It links four consulate workbooks, each in another way:
//
//	2025  a bare "Download" beside the title "Visa statistics for consulates in 2025", no file name
//	2024  "Visa statistics for consulates in 2024", relative href with ?filename=
//	2023  "2023 Schengen visa statistics (consulates)", absolute href with ?filename=
//	2022  "2022" in the consulates column of the table of earlier years
//
// and documents that are not consulate workbooks and must not be taken:
// airport transit visa (ATV) statistics (an xlsx named as visa statistics),
// the reference amounts, the visa code handbook, third-country statistics
// and the 2022 statistics at border crossing points (a bare "2022" in the
// other column). Those answer with a small PDF, which no workbook reader
// accepts.
//
// The workbooks are the real files of data/ec_schengen_consulates for
// 2022, 2023 and 2024, and for 2025 a stand-in: the 2024 workbook with one
// consulate's count changed (see Commission2025Change), since the project
// does not ship the Commission's 2025 file. Each is served with an ETag
// (its content's SHA-256), a Last-Modified, and a Content-Disposition
// naming the file as the Commission names it (for 2025, a name of that
// pattern: the real one is not known). A request with the current ETag
// in If-None-Match, or failing that an If-Modified-Since not before its
// Last-Modified, is answered 304.
//
// SetFault makes the site misbehave, Replace publishes a new version of a
// workbook at the same address (the Commission replaces files in place),
// Count and URLs tell what was asked. All methods are safe to call while
// requests are served.
type Commission struct {
	mu     sync.Mutex
	docs   map[string]*commissionDoc // by path
	fault  CommissionFault
	counts map[CommissionRequest]int
	urls   map[CommissionRequest][]string
}

// CommissionPagePath is the landing page's path, as on the Commission's
// site.
const CommissionPagePath = "/policies/schengen-borders-and-visa/visa-policy/short-stay-visas-issued-schengen-countries_en"

// CommissionPageTitle is the landing page's title.
const CommissionPageTitle = "Short-stay visas issued by Schengen countries - European Commission"

// CommissionErrorTitle is the title of the page SetFault(CommissionErrorPage)
// serves.
const CommissionErrorTitle = "Service temporarily unavailable - European Commission"

// Commission2025Change is how the stand-in 2025 workbook differs from the
// real 2024 one: Austria's consulate in Abuja (Nigeria), row 38, uniform
// visas applied for (column I) 1,942 -> 2,042; the footer total of the
// column (I2042, "Total worldwide 2024") is 100 more too, so that the
// workbook reconciles. Everything else, the year in the footer's label
// included, is the 2024 file's.
const Commission2025Change = "Data for consulates!I38 (Austria, NIGERIA, ABUJA, uniform visas applied for): 1942 -> 2042, and I2042 by the same 100"

// CommissionFault is a way the site misbehaves.
type CommissionFault string

// The faults of SetFault.
const (
	// CommissionOK serves the site as described.
	CommissionOK CommissionFault = ""
	// CommissionNoWorkbookLinks serves the landing page without its
	// consulate workbook links (a redesign): the other documents stay.
	CommissionNoWorkbookLinks CommissionFault = "no_workbook_links"
	// CommissionErrorPage answers every request, page and documents, with
	// status 200 and an HTML page titled CommissionErrorTitle, as a
	// content system does in maintenance.
	CommissionErrorPage CommissionFault = "error_page"
	// CommissionWorkbookErrorPage serves the landing page, and answers
	// every document request with status 200 and the page of
	// CommissionErrorPage instead of the document.
	CommissionWorkbookErrorPage CommissionFault = "workbook_error_page"
	// CommissionUnavailable answers every request with 503 and an HTML
	// page.
	CommissionUnavailable CommissionFault = "unavailable"
)

// CommissionRequest is a kind of request the fake counts.
type CommissionRequest string

// The kinds of request.
const (
	CommissionPage CommissionRequest = "page" // the landing page
	// CommissionWorkbook is any request of a consulate workbook;
	// CommissionDownload those answered with its body, and
	// CommissionNotModified those answered 304.
	CommissionWorkbook    CommissionRequest = "workbook"
	CommissionDownload    CommissionRequest = "download"
	CommissionNotModified CommissionRequest = "not_modified"
	// CommissionOtherDocument is a request of a document that is not a
	// consulate workbook.
	CommissionOtherDocument CommissionRequest = "other_document"
	CommissionOther         CommissionRequest = "other" // any other path, a 404
)

// commissionDoc is a document of the site.
type commissionDoc struct {
	year     int    // of a consulate workbook, 0 for the others
	fileName string // in Content-Disposition
	body     []byte
	etag     string
	modified time.Time
}

// The documents' ids, as the Commission's (made up: uuids of the same
// shape).
const (
	commission2025   = "/document/download/3f0c6f1e-2b7d-4c1a-9e55-0d6a1b7c2e25_en"
	commission2024   = "/document/download/a81d2c47-5e3b-4f60-8c19-7b2e9d4f1024_en"
	commission2023   = "/document/download/5c9e0b13-7a42-4d8e-b6f1-3e8a2c7d9023_en"
	commission2022   = "/document/download/e47b1a90-3c6d-4b25-a8e7-1f9c0d5b6022_en"
	commissionATV    = "/document/download/1b6f8e2d-9c04-4a37-b5d1-6e2a7f3c8a01_en"
	commissionAmount = "/document/download/7d2a5c81-0e9b-4f46-93c7-2b8e1d6f4a02_en"
	commissionCode   = "/document/download/c3e9f0a4-6b12-4d78-a5e0-9f1b3c7d2a03_en"
	commissionThird  = "/document/download/9a4d7e26-1f83-4c5b-8e09-4d6c2b1a7a04_en"
	commissionBorder = "/document/download/2e8c1b5f-4a96-4e03-b7d2-8c0f6a3e9a05_en"
)

// commissionPDF is the body of the documents that are not workbooks.
var commissionPDF = []byte("%PDF-1.4\n% not a workbook\n%%EOF\n")

// NewCommission returns the fake site with the workbooks found under
// dataDir (the repository's data directory, DataDir).
func NewCommission(dataDir string) (*Commission, error) {
	c := &Commission{docs: map[string]*commissionDoc{}, counts: map[CommissionRequest]int{}, urls: map[CommissionRequest][]string{}}
	dir := filepath.Join(dataDir, "ec_schengen_consulates")
	released := func(y int) time.Time { return time.Date(y+1, time.May, 20, 10, 0, 0, 0, time.UTC) }
	for _, w := range []struct {
		path, file, served string
		year               int
	}{
		{commission2022, "Visa statistics for consulates in 2022_en.xlsx", "Visa statistics for consulates in 2022_en.xlsx", 2022},
		{commission2023, "2023-schengen-visa-statistics-consulates_en.xlsx", "2023-schengen-visa-statistics-consulates_en.xlsx", 2023},
		{commission2024, "2024-schengen-visa-statistics-consulates_en.xlsx", "2024-schengen-visa-statistics-consulates_en.xlsx", 2024},
	} {
		body, err := os.ReadFile(filepath.Join(dir, w.file))
		if err != nil {
			return nil, fmt.Errorf("commission fake: %w", err)
		}
		c.docs[w.path] = &commissionDoc{year: w.year, fileName: w.served, body: body, etag: commissionETag(body), modified: released(w.year)}
	}
	body2025, err := commissionStandIn2025(filepath.Join(dir, "2024-schengen-visa-statistics-consulates_en.xlsx"))
	if err != nil {
		return nil, fmt.Errorf("commission fake: the stand-in 2025 workbook: %w", err)
	}
	c.docs[commission2025] = &commissionDoc{year: 2025, fileName: "2025-schengen-visa-statistics-consulates_en.xlsx", body: body2025,
		etag: commissionETag(body2025), modified: released(2025)}
	for p, name := range map[string]string{
		commissionATV:    "2024-atv-visa-statistics_en.xlsx",
		commissionAmount: "reference_amounts_en.pdf",
		commissionCode:   "visa_code_handbook_en.pdf",
		commissionThird:  "third-country-statistics-2024_en.pdf",
		commissionBorder: "Visa statistics at external border crossing points 2022_en.xlsx",
	} {
		c.docs[p] = &commissionDoc{fileName: name, body: commissionPDF, etag: commissionETag(commissionPDF), modified: released(2024)}
	}
	return c, nil
}

// commissionStandIn2025 is the 2024 workbook at path with
// Commission2025Change applied.
func commissionStandIn2025(path string) ([]byte, error) {
	const sheet = "Data for consulates"
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	for cell, want := range map[string]string{"A38": "Austria", "B38": "NIGERIA", "C38": "ABUJA", "I38": "1942", "C2042": "Total worldwide 2024"} {
		got, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(got) != want {
			return nil, fmt.Errorf("%s is %q, want %q: the shipped 2024 workbook changed", cell, got, want)
		}
	}
	raw, err := f.GetCellValue(sheet, "I2042", excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, err
	}
	total, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("I2042 %q: %w", raw, err)
	}
	if err := f.SetCellValue(sheet, "I38", 2042); err != nil {
		return nil, err
	}
	if err := f.SetCellValue(sheet, "I2042", total+100); err != nil {
		return nil, err
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// commissionETag is the ETag of body: its SHA-256's first 16 hex digits.
func commissionETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

// Years returns the years of the consulate workbooks the page links, in
// order.
func (c *Commission) Years() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for _, d := range c.docs {
		if d.year != 0 {
			out = append(out, d.year)
		}
	}
	sort.Ints(out)
	return out
}

// Workbook returns the body served for a year's consulate workbook, nil
// when there is none.
func (c *Commission) Workbook(year int) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range c.docs {
		if d.year == year && year != 0 {
			return d.body
		}
	}
	return nil
}

// DocumentPath returns the address path of the consulate workbook of
// year, "" when there is none: for tests that serve pages of their own
// linking the fake's documents.
func (c *Commission) DocumentPath(year int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p, d := range c.docs {
		if d.year == year && year != 0 {
			return p
		}
	}
	return ""
}

// Replace serves body as the workbook of year from now on, at the same
// address, with a new ETag and Last-Modified: a new version published in
// place.
func (c *Commission) Replace(year int, body []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range c.docs {
		if d.year == year && year != 0 {
			d.body, d.etag = append([]byte(nil), body...), commissionETag(body)
			d.modified = d.modified.Add(24 * time.Hour)
			return nil
		}
	}
	return fmt.Errorf("commission fake: no workbook of %d", year)
}

// SetFault makes the site misbehave as f says; CommissionOK serves it
// again.
func (c *Commission) SetFault(f CommissionFault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fault = f
}

// Count returns the number of requests of a kind received so far.
func (c *Commission) Count(kind CommissionRequest) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[kind]
}

// URLs returns the request URIs (path and query) of a kind received so
// far, oldest first.
func (c *Commission) URLs(kind CommissionRequest) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.urls[kind]...)
}

// ResetCounts forgets the requests received.
func (c *Commission) ResetCounts() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts = map[CommissionRequest]int{}
	c.urls = map[CommissionRequest][]string{}
}

func (c *Commission) count(kind CommissionRequest, r *http.Request) {
	c.counts[kind]++
	c.urls[kind] = append(c.urls[kind], r.URL.RequestURI())
}

// ServeHTTP answers one request of the site.
func (c *Commission) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	doc, isDoc := c.docs[r.URL.Path]
	switch {
	case r.URL.Path == CommissionPagePath:
		c.count(CommissionPage, r)
	case isDoc && doc.year != 0:
		c.count(CommissionWorkbook, r)
	case isDoc:
		c.count(CommissionOtherDocument, r)
	default:
		c.count(CommissionOther, r)
	}
	errorPage := c.fault == CommissionErrorPage || c.fault == CommissionWorkbookErrorPage && isDoc
	switch {
	case c.fault == CommissionUnavailable:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>\n")
		return
	case errorPage:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><title>%s</title></head><body><main><h1>Service temporarily unavailable</h1><p>The site is under maintenance. Please try again later.</p><p><a href=\"/\">Home</a></p></main></body></html>\n", CommissionErrorTitle)
		return
	}
	switch {
	case r.URL.Path == CommissionPagePath:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(c.page(r.Host, c.fault != CommissionNoWorkbookLinks))
	case isDoc:
		c.serveDoc(w, r, doc)
	default:
		http.NotFound(w, r)
	}
}

// serveDoc answers a document request, 304 when the client's copy is
// current.
func (c *Commission) serveDoc(w http.ResponseWriter, r *http.Request, d *commissionDoc) {
	w.Header().Set("ETag", d.etag)
	w.Header().Set("Last-Modified", d.modified.Format(http.TimeFormat))
	notModified := false
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		notModified = inm == d.etag
	} else if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil {
		notModified = !d.modified.After(ims)
	}
	if notModified {
		if d.year != 0 {
			c.count(CommissionNotModified, r)
		}
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if d.year != 0 {
		c.count(CommissionDownload, r)
	}
	ctype := "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	if bytes.HasPrefix(d.body, []byte("%PDF")) {
		ctype = "application/pdf"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", d.fileName))
	w.Header().Set("Content-Length", strconv.Itoa(len(d.body)))
	w.Write(d.body)
}

// page is the landing page; host makes the absolute links. Without
// workbooks, the consulate workbook links are left out.
func (c *Commission) page(host string, workbooks bool) []byte {
	abs := func(p string) string { return "http://" + host + p }
	size := func(p string) string {
		return fmt.Sprintf("%.2f KB", float64(len(c.docs[p].body))/1024)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en" dir="ltr">
<head>
<meta charset="utf-8">
<title>%s</title>
<link rel="canonical" href="%s">
<script>window.dataLayer = [{"page": "visa statistics for consulates"}];</script>
</head>
<body>
<header class="ecl-site-header">
  <a class="ecl-link" href="/">Migration and Home Affairs</a>
  <nav class="ecl-menu">
    <ul>
      <li><a href="/policies_en">Policies</a></li>
      <li><a href="/policies/schengen-borders-and-visa_en">Schengen, borders and visa</a></li>
      <li><a href="/policies/schengen-borders-and-visa/visa-policy_en">Visa policy</a></li>
    </ul>
  </nav>
</header>
<main class="ecl-container">
<h1 class="ecl-page-header__title">Short-stay visas issued by Schengen countries</h1>
<p>These statistics show the number of short-stay visa applications lodged at the consulates of the Schengen States
and the number of visas issued, per consulate. See also <a href="/policies/schengen-borders-and-visa/visa-policy/applying-schengen-visa_en">applying for a Schengen visa</a>.</p>
<h2>Visa statistics</h2>
`, html.EscapeString(CommissionPageTitle), html.EscapeString(abs(CommissionPagePath)))
	file := func(title, meta, link string) {
		fmt.Fprintf(&b, `<div class="ecl-file">
  <div class="ecl-file__container">
    <div class="ecl-file__info">
      <div class="ecl-file__title">%s</div>
      <div class="ecl-file__language">English</div>
      <div class="ecl-file__meta">(%s)</div>
    </div>
    %s
  </div>
</div>
`, title, meta, link)
	}
	if workbooks {
		file("Visa statistics for consulates in 2025", size(commission2025)+" - XLSX",
			fmt.Sprintf(`<a href="%s" class="ecl-file__download ecl-link" download><span class="ecl-link__label">Download</span></a>`, abs(commission2025)))
		file("", size(commission2024)+" - XLSX",
			fmt.Sprintf(`<a href="%s?filename=2024-schengen-visa-statistics-consulates_en.xlsx" class="ecl-file__download">Visa statistics for consulates in 2024</a>`, commission2024))
		file("", size(commission2023)+" - XLSX",
			fmt.Sprintf(`<a href="%s?filename=2023-schengen-visa-statistics-consulates_en.xlsx">2023 Schengen visa statistics (consulates)</a>`, abs(commission2023)))
	}
	file("Airport transit visa (ATV) statistics 2024", "12.30 KB - XLSX",
		fmt.Sprintf(`<a href="%s?filename=2024-atv-visa-statistics_en.xlsx" class="ecl-file__download"><span>Download</span></a>`, commissionATV))
	file("Reference amounts required for crossing the external borders (Annex 25)", "310.00 KB - PDF",
		fmt.Sprintf(`<a href="%s?filename=reference_amounts_en.pdf" class="ecl-file__download"><span>Download</span></a>`, abs(commissionAmount)))
	file("Handbook for the processing of visa applications and the modification of issued visas (Visa Code Handbook I)", "1.20 MB - PDF",
		fmt.Sprintf(`<a href="%s" class="ecl-file__download"><span>Download</span></a>`, commissionCode))
	file("Third-country statistics: visas required from EU citizens, 2024", "90.00 KB - PDF",
		fmt.Sprintf(`<a href="%s?filename=third-country-statistics-2024_en.pdf" class="ecl-file__download"><span>Download</span></a>`, commissionThird))
	b.WriteString(`<h2>Earlier years</h2>
<table class="ecl-table">
<thead><tr><th>Visa statistics for consulates</th><th>Visa statistics issued at external border crossing points</th></tr></thead>
<tbody>
`)
	consulates := "&nbsp;"
	if workbooks {
		consulates = fmt.Sprintf(`<a href="%s">2022</a>`, commission2022)
	}
	fmt.Fprintf(&b, "<tr><td>%s</td><td><a href=\"%s\">2022</a></td></tr>\n</tbody>\n</table>\n", consulates, commissionBorder)
	b.WriteString(`<h2>Related links</h2>
<ul>
  <li><a href="https://ec.europa.eu/eurostat/web/migration-asylum">Eurostat: migration and asylum</a></li>
  <li><a href="/news_en">News</a></li>
</ul>
</main>
<footer><a href="/legal-notice_en">Legal notice</a> <a href="#top">Back to top</a></footer>
</body>
</html>
`)
	return []byte(b.String())
}
