package upstream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/visastats/visastats/pipeline/snapshot"
)

const (
	// ecSource is the source the Commission's workbooks are inputs of.
	ecSource = "ec_schengen_consulates"
	// ECPageName is the name under which the landing page is kept in the
	// snapshot store, for the record: it is not an input.
	ECPageName = "landing_page.html"
	// ecMaxPage bounds the landing page: a page of links is some hundred
	// kilobytes.
	ecMaxPage = 16 << 20
)

// ECWorkbookName is the stable name of the Commission's consulate
// workbook of a year in the snapshot store, with the extension of its
// content (xlsx or xls), such as ec-visa-statistics-consulates-2025.xlsx.
// The Commission's links change every year; the name does not.
func ECWorkbookName(year int, ext string) string {
	return "ec-visa-statistics-consulates-" + strconv.Itoa(year) + "." + ext
}

// ECSchengen finds the consulate workbooks on the Commission's landing
// page cfg.PageURL and returns one Got per year, in year order: each
// workbook downloaded into the snapshot store under ECWorkbookName,
// conditionally on its previous snapshot's ETag and Last-Modified, one at
// a time. The page itself is kept in the store as ECPageName, for the
// record.
//
// The Commission links its documents by opaque ids that change every year
// (…/document/download/<uuid>_en), beside other documents (ATV
// statistics, reference amounts, the visa code handbook): a link is a
// consulate workbook when it leads to a document (a /document/download/
// address or an .xls or .xlsx file) and what it says names visa
// statistics of consulates, in any order and case (see ecReadLink for
// where "what it says" is read). Its year is the single year of its
// text, else of its file name (?filename=), else of the Content-Disposition
// of the download; a link whose year none of them gives fails, named.
//
// A page without such a link fails, naming the Commission, the page and
// the links it has, rather than letting a run publish without the
// Commission's data; so does an answer that is not the page (an error
// status, after retries for 5xx) or a workbook that is not a workbook (an
// HTML error page). Two links for one year to different documents fail
// too, naming both: which one is current cannot be told from the page,
// and publishing the wrong one would go unseen (the same document linked
// twice is taken once).
//
// On error it returns no Got. Offline, it asks nobody: it reads the
// page's last snapshot and takes the last snapshot of each year's workbook
// from the address the page links.
func (c *Client) ECSchengen(ctx context.Context, cfg ECPageConfig) ([]Got, error) {
	if cfg.PageURL == "" {
		return nil, nil
	}
	shown := snapshot.RedactURL(cfg.PageURL)
	fail := func(err error) error {
		return fmt.Errorf("%s: the Commission's landing page %s: %w", ecSource, shown, err)
	}
	if c.Store == nil || (!c.Offline && c.Fetcher == nil) {
		return nil, fail(errors.New("the upstream client has no snapshot store or fetcher"))
	}
	page, err := c.ecPage(ctx, cfg.PageURL)
	if err != nil {
		return nil, fail(err)
	}
	base, err := url.Parse(cfg.PageURL)
	if err != nil {
		return nil, fail(err)
	}
	found, err := ecReadPage(page, base)
	if err != nil {
		return nil, fail(err)
	}
	links := found.consulates()
	if len(links) == 0 {
		return nil, fail(found.noLinkError())
	}
	byYear := map[int]ecLink{}
	var gots []Got
	take := func(l ecLink, g Got) error {
		if prev, ok := byYear[g.Year]; ok {
			return ecTwoLinks(g.Year, prev, l)
		}
		byYear[g.Year] = l
		gots = append(gots, g)
		return nil
	}
	// Links whose year the page gives are checked for conflicts before
	// anything is downloaded.
	for _, l := range links {
		if l.year == 0 {
			continue
		}
		if prev, ok := byYear[l.year]; ok {
			return nil, fail(ecTwoLinks(l.year, prev, l))
		}
		byYear[l.year] = l
	}
	clear(byYear)
	for _, l := range links {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		g, err := c.ecWorkbook(ctx, l)
		if err != nil {
			return nil, fmt.Errorf("%s: the Commission's workbook linked as %q on %s: %w", ecSource, l.text, shown, err)
		}
		if err := take(l, g); err != nil {
			return nil, fail(err)
		}
	}
	sort.Slice(gots, func(i, j int) bool { return gots[i].Year < gots[j].Year })
	return gots, nil
}

// ecTwoLinks is the error of two documents linked for one year.
func ecTwoLinks(year int, a, b ecLink) error {
	return fmt.Errorf("two different documents are linked as the consulate workbook of %d: %q (%s) and %q (%s); which one is current cannot be told from the page, so neither is taken: check the page (meanwhile, a run without upstream.ec_schengen_consulates.page_url reads the workbooks of sources.ec_schengen_consulates)",
		year, a.text, snapshot.RedactURL(a.url), b.text, snapshot.RedactURL(b.url))
}

// errPageTaken stops the fetcher once the landing page is read (see
// ecPage).
var errPageTaken = errors.New("landing page taken")

// ecPage returns the landing page: fetched and stored as ECPageName, or
// its stored snapshot when the server answered 304 or the client is
// offline.
//
// The snapshot fetcher checks every body against a kind of data and takes
// HTML for an error page; a landing page is HTML. So the page is taken in
// the fetch's Inspect hook, which sees a complete 200 body before that
// check and stops the fetch with errPageTaken, and is stored here with the
// response's validators, so that the next fetch is conditional on them
// like any other.
func (c *Client) ecPage(ctx context.Context, pageURL string) ([]byte, error) {
	if c.Offline {
		rec, err := c.Store.LatestFrom(ecSource, ECPageName, pageURL)
		if err != nil {
			return nil, fmt.Errorf("offline: no snapshot of the page yet; run once without --offline: %w", err)
		}
		return c.ecObject(rec)
	}
	var (
		body []byte
		hdr  http.Header
	)
	res, err := c.Fetcher.Fetch(ctx, c.HTTP, c.Store, snapshot.FetchRequest{
		Source: ecSource, Name: ECPageName, URL: pageURL,
		// Never checked: Inspect stops every 200 before the check.
		Expect: snapshot.KindCSV,
		Inspect: func(f *os.File, size int64, h http.Header) error {
			if size > ecMaxPage {
				return fmt.Errorf("the page is %d bytes, more than a page of links can be (%d)", size, ecMaxPage)
			}
			b, err := io.ReadAll(io.NewSectionReader(f, 0, size))
			if err != nil {
				return err
			}
			body, hdr = b, h.Clone()
			return errPageTaken
		},
		Progress: c.progress(ecSource, ECPageName),
	})
	switch {
	case errors.Is(err, errPageTaken):
		_, err := c.Store.Put(ctx, bytes.NewReader(body), snapshot.Provenance{
			Source: ecSource, Name: ECPageName, URL: pageURL, RetrievedAt: c.now(),
			ETag: hdr.Get("ETag"), LastModified: hdr.Get("Last-Modified"), ContentType: hdr.Get("Content-Type"),
		})
		if err != nil {
			return nil, err
		}
		return body, nil
	case err != nil:
		return nil, err
	case res.NotModified:
		return c.ecObject(res.Record)
	}
	return nil, errors.New("the fetch stored the page without showing it")
}

// ecObject reads a stored page.
func (c *Client) ecObject(rec snapshot.Record) ([]byte, error) {
	if rec.Size > ecMaxPage {
		return nil, fmt.Errorf("the stored page %s is %d bytes, more than a page of links can be", rec.SHA256, rec.Size)
	}
	f, err := c.Store.Open(rec.SHA256)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// ecWorkbook downloads (or, offline, finds the stored snapshot of) the
// workbook of link l and returns it as a Got with its year.
func (c *Client) ecWorkbook(ctx context.Context, l ecLink) (Got, error) {
	if c.Offline {
		return c.ecStoredWorkbook(l)
	}
	// A link whose year the page does not give is fetched under a name of
	// its own address until its Content-Disposition gives the year.
	sum := sha256.Sum256([]byte(l.url))
	name := "ec-visa-statistics-consulates-link-" + hex.EncodeToString(sum[:6]) + ".xlsx"
	if l.year != 0 {
		name = ECWorkbookName(l.year, c.ecExt(l))
	}
	var disposition string
	res, err := c.Fetcher.Fetch(ctx, c.HTTP, c.Store, snapshot.FetchRequest{
		Source: ecSource, Name: name, URL: l.url, Expect: snapshot.KindWorkbook,
		Inspect: func(_ *os.File, _ int64, h http.Header) error {
			disposition = h.Get("Content-Disposition")
			return nil
		},
		Progress: c.progress(ecSource, name),
	})
	if err != nil {
		return Got{}, err
	}
	rec := res.Record
	fileName := ecDispositionName(disposition)
	year, from := l.year, l.yearAt
	switch {
	case year == 0 && fileName != "":
		if year = ecYear(fileName); year == 0 {
			return Got{}, fmt.Errorf("neither the link nor the file name %q the Commission gives the download says which year it is", fileName)
		}
		from = "file name of the download, " + strconv.Quote(fileName)
	case year == 0 && res.NotModified:
		// Not downloaded again: the year is that of the stored workbook
		// with these bytes from this address.
		if year = c.ecStoredYear(l.url, rec.SHA256); year == 0 {
			return Got{}, errors.New("the link does not say which year it is, and the stored download from it is not known as any year's workbook")
		}
		from = "stored download"
	case year == 0:
		return Got{}, errors.New("neither the link nor the download (no file name in its Content-Disposition) says which year it is")
	case fileName != "":
		if y := ecYear(fileName); y != 0 && y != year {
			return Got{}, fmt.Errorf("the link says %d but the Commission serves the file as %q (%d)", year, fileName, y)
		}
	}
	ext, err := c.ecContentExt(rec)
	if err != nil {
		return Got{}, err
	}
	if final := ECWorkbookName(year, ext); final != name {
		// Keep it under its year's name, with the extension of its
		// content, for the next run and for offline runs.
		if rec, err = c.ecRecordAs(ctx, rec, final, l.url); err != nil {
			return Got{}, err
		}
		name = final
	}
	g := Got{Source: ecSource, Name: name, Record: rec, Downloaded: !res.NotModified, Year: year}
	if g.Downloaded {
		g.Attempts = res.Attempts
		g.Note = fmt.Sprintf("%q (year from the %s): downloaded, %d bytes", l.text, from, rec.Size)
	} else {
		g.Note = fmt.Sprintf("%q (year from the %s): not modified (304), the snapshot of %s", l.text, from, rec.RetrievedAt.Format("2006-01-02"))
	}
	if l.twice {
		g.Note += "; linked twice on the page"
	}
	return g, nil
}

// ecStoredWorkbook returns the last stored snapshot of link l's workbook,
// for an offline run.
func (c *Client) ecStoredWorkbook(l ecLink) (Got, error) {
	var (
		best Got
		ok   bool
	)
	years := []int{l.year}
	if l.year == 0 {
		years = c.ecYears()
	}
	for _, y := range years {
		for _, ext := range []string{"xlsx", "xls"} {
			name := ECWorkbookName(y, ext)
			rec, err := c.Store.LatestFrom(ecSource, name, l.url)
			if errors.Is(err, snapshot.ErrNoRecord) {
				continue
			}
			if err != nil {
				return Got{}, err
			}
			if !ok || rec.RetrievedAt.After(best.Record.RetrievedAt) {
				best, ok = Got{Source: ecSource, Name: name, Record: rec, Year: y}, true
			}
		}
	}
	if !ok {
		return Got{}, errors.New("offline: no snapshot of this workbook yet; run once without --offline")
	}
	best.Note = fmt.Sprintf("%q: offline, the snapshot of %s", l.text, best.Record.RetrievedAt.Format("2006-01-02"))
	return best, nil
}

// ecYears are the years a workbook name may carry, for the links whose
// year only a download said.
func (c *Client) ecYears() []int {
	var ys []int
	for y := 2000; y <= c.now().Year()+1; y++ {
		ys = append(ys, y)
	}
	return ys
}

// ecStoredYear returns the year of the stored workbook with content sha
// from address u, or 0.
func (c *Client) ecStoredYear(u, sha string) int {
	for _, y := range c.ecYears() {
		for _, ext := range []string{"xlsx", "xls"} {
			if rec, err := c.Store.LatestFrom(ecSource, ECWorkbookName(y, ext), u); err == nil && rec.SHA256 == sha {
				return y
			}
		}
	}
	return 0
}

// ecExt is the extension to fetch link l's workbook under: the one its
// file name says, else the one its address's last snapshot has, else
// xlsx (every workbook since 2014).
func (c *Client) ecExt(l ecLink) string {
	if l.ext != "" {
		return l.ext
	}
	xls, errXLS := c.Store.LatestFrom(ecSource, ECWorkbookName(l.year, "xls"), l.url)
	xlsx, errXLSX := c.Store.LatestFrom(ecSource, ECWorkbookName(l.year, "xlsx"), l.url)
	if errXLS == nil && (errXLSX != nil || xls.RetrievedAt.After(xlsx.RetrievedAt)) {
		return "xls"
	}
	return "xlsx"
}

// ecContentExt says whether the stored workbook is xls (an OLE2 compound
// file) or xlsx (a zip archive); the fetcher has checked it is one.
func (c *Client) ecContentExt(rec snapshot.Record) (string, error) {
	f, err := c.Store.Open(rec.SHA256)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 8)
	if _, err := io.ReadFull(f, head); err != nil {
		return "", fmt.Errorf("read the stored workbook %s: %w", rec.SHA256, err)
	}
	if bytes.Equal(head, []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}) {
		return "xls", nil
	}
	return "xlsx", nil
}

// ecRecordAs records the stored object of rec under name too, with rec's
// provenance, unless name's last record from rawURL is that object.
func (c *Client) ecRecordAs(ctx context.Context, rec snapshot.Record, name, rawURL string) (snapshot.Record, error) {
	if prev, err := c.Store.LatestFrom(ecSource, name, rawURL); err == nil && prev.SHA256 == rec.SHA256 {
		return prev, nil
	}
	f, err := c.Store.Open(rec.SHA256)
	if err != nil {
		return rec, err
	}
	defer f.Close()
	return c.Store.Put(ctx, f, snapshot.Provenance{Source: ecSource, Name: name, URL: rawURL, RetrievedAt: rec.RetrievedAt,
		ETag: rec.ETag, LastModified: rec.LastModified, ContentType: rec.ContentType})
}

// ecDispositionName is the file name of a Content-Disposition header, ""
// when it has none.
func ecDispositionName(h string) string {
	if h == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(h)
	if err != nil {
		return ""
	}
	return path.Base(params["filename"])
}

// ecLink is a link of the landing page.
type ecLink struct {
	url string // absolute, as linked
	// text is what the link says as a person reads it: its own text, or
	// the text around it that decided (a file's title beside a bare
	// "Download", a table's column header above a bare year).
	text string
	// words decide whether it is a consulate workbook (ecIsConsulate).
	words []string
	// year is the single year the page gives it, 0 when none; yearAt
	// says where it was read.
	year   int
	yearAt string
	// fileName is the file name of its address (?filename=, or an
	// address ending in .xls or .xlsx), ext that file's extension.
	fileName, ext string
	// document says the address leads to a document.
	document bool
	// twice says the page links the same document more than once.
	twice bool
}

// ecPageLinks is what the landing page links.
type ecPageLinks struct {
	title string
	all   []ecLink
}

// consulates returns the consulate workbook links, each document once
// (the first link to it), in the page's order.
func (p ecPageLinks) consulates() []ecLink {
	var out []ecLink
	seen := map[string]int{}
	for _, l := range p.all {
		if !l.document || !ecIsConsulate(l.words) {
			continue
		}
		id := ecDocumentID(l.url)
		if i, ok := seen[id]; ok {
			out[i].twice = true
			continue
		}
		seen[id] = len(out)
		out = append(out, l)
	}
	return out
}

// noLinkError says that the page links no consulate workbook, with what
// it does link.
func (p ecPageLinks) noLinkError() error {
	var docs, sample []string
	for _, l := range p.all {
		s := fmt.Sprintf("%q (%s)", l.text, snapshot.RedactURL(l.url))
		if l.document {
			docs = append(docs, s)
		}
		if len(sample) < 3 {
			sample = append(sample, s)
		}
	}
	what := fmt.Sprintf("found %d links", len(p.all))
	if len(docs) > 0 {
		what += fmt.Sprintf(", %d of them to documents, e.g. %s", len(docs), strings.Join(docs[:min(3, len(docs))], ", "))
	} else if len(sample) > 0 {
		what += ", none to a document, e.g. " + strings.Join(sample, ", ")
	}
	title := ""
	if p.title != "" {
		title = fmt.Sprintf(" (page title %q)", p.title)
	}
	if len(docs) == 0 {
		return fmt.Errorf("the Commission's page has no link to the consulate workbooks%s, nor to any document: it may be an error or maintenance page, or its layout may have changed; %s", title, what)
	}
	return fmt.Errorf("the Commission's page has no link to the consulate workbooks%s; its layout may have changed; %s", title, what)
}

// ecDocumentID identifies the document an address leads to: the address
// without its query (the Commission's ?filename= names the same
// document) and fragment.
func ecDocumentID(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.ToLower(u.Scheme+"://"+u.Host) + u.EscapedPath()
}

// ecReadPage parses the landing page and reads each of its links, hrefs
// resolved against base (or the page's <base href>).
func ecReadPage(page []byte, base *url.URL) (ecPageLinks, error) {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return ecPageLinks{}, fmt.Errorf("parse the page: %w", err)
	}
	var p ecPageLinks
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.DataAtom {
		case atom.Title:
			if p.title == "" {
				p.title = ecText(n)
			}
		case atom.Base:
			if h, ok := ecAttr(n, "href"); ok {
				if b, err := base.Parse(h); err == nil {
					base = b
				}
			}
		}
	}
	var headings []*html.Node
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.DataAtom {
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			headings = append(headings, n)
		case atom.A:
			if l, ok := ecReadLink(n, base, headings); ok {
				p.all = append(p.all, l)
			}
		}
	}
	return p, nil
}

// ecReadLink reads one <a href>: where it leads and what it says. What a
// link says is read in layers, and the first layer with words of its own
// (ecTopic) decides whether it is a consulate workbook: its text and its
// title and aria-label attributes; the file name of its address; the text
// of the element around it that describes it alone (ecAround: a file's
// title beside a bare "Download"); the header of its table column (a bare
// year under "Visa statistics for consulates"); the heading above it. The
// year is read in the same order, from the first layer with a single
// year, so that "2022" in a cell is that year.
func ecReadLink(a *html.Node, base *url.URL, headings []*html.Node) (ecLink, bool) {
	href, ok := ecAttr(a, "href")
	if !ok {
		return ecLink{}, false
	}
	u, err := base.Parse(strings.TrimSpace(href))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ecLink{}, false
	}
	u.Fragment = ""
	l := ecLink{url: u.String()}
	l.fileName = u.Query().Get("filename")
	if l.fileName == "" {
		if seg, err := url.PathUnescape(path.Base(u.Path)); err == nil && ecWorkbookExt(seg) != "" {
			l.fileName = seg
		}
	}
	l.fileName = path.Base(l.fileName)
	if l.fileName == "." || l.fileName == "/" {
		l.fileName = ""
	}
	l.ext = ecWorkbookExt(l.fileName)
	l.document = strings.Contains(u.Path, "/document/download/") || l.ext != ""

	own := ecText(a)
	for _, attr := range []string{"title", "aria-label"} {
		if v, ok := ecAttr(a, attr); ok && strings.TrimSpace(v) != "" {
			own += " " + v
		}
	}
	own = strings.Join(strings.Fields(own), " ")
	around, header, heading := ecText(ecAround(a)), ecColumnHeader(a), ecText(ecHeadingAbove(headings))
	layers := []struct{ at, text string }{
		{"link text", own},
		{"file name", strings.NewReplacer("_", " ", "-", " ", ".", " ").Replace(l.fileName)},
		{"text around the link", around},
		{"column header", header},
		{"heading above the link", heading},
	}
	for _, layer := range layers {
		words := ecWords(layer.text)
		if l.words == nil && ecTopic(words) {
			l.words = words
		}
		if l.year == 0 {
			if y := ecYear(layer.text); y != 0 {
				l.year, l.yearAt = y, layer.at
			}
		}
	}
	// What people are shown: the words that name the file, as they read
	// them on the page.
	topic := func(s string) bool { return ecTopic(ecWords(s)) }
	switch {
	case topic(own):
		l.text = own
	case topic(around):
		l.text = around
	case topic(header):
		l.text = header + " / " + own
	case topic(heading):
		l.text = heading + " / " + own
	case l.fileName != "":
		l.text = strings.TrimSpace(own + " (" + l.fileName + ")")
	default:
		l.text = own
	}
	return l, true
}

// ecWorkbookExt is "xls" or "xlsx" for a file name with that extension,
// "" otherwise.
func ecWorkbookExt(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".xlsx":
		return "xlsx"
	case ".xls":
		return "xls"
	}
	return ""
}

// ecAround returns the largest element around a that describes a alone:
// it holds no other link and no heading (the heading above is a layer of
// its own), and is no larger than the table cell or list item a is in. A
// row, a table or a list describes many things.
func ecAround(a *html.Node) *html.Node {
	n := a
	for p := n.Parent; p != nil && p.Type == html.ElementNode; p = p.Parent {
		switch p.DataAtom {
		case atom.Td, atom.Th, atom.Li, atom.Dd:
			if ecLinks(p) == 1 && !ecHasHeading(p) {
				return p
			}
			return n
		case atom.Tr, atom.Thead, atom.Tbody, atom.Tfoot, atom.Table, atom.Ul, atom.Ol, atom.Dl,
			atom.Body, atom.Html, atom.Main, atom.Nav, atom.Header, atom.Footer:
			return n
		}
		if ecLinks(p) > 1 || ecHasHeading(p) {
			return n
		}
		n = p
	}
	return n
}

// ecHasHeading says whether n holds a heading.
func ecHasHeading(n *html.Node) bool {
	for d := range n.Descendants() {
		if d.Type == html.ElementNode {
			switch d.DataAtom {
			case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
				return true
			}
		}
	}
	return false
}

// ecLinks counts the <a href> in n and below.
func ecLinks(n *html.Node) int {
	count := 0
	if n.Type == html.ElementNode && n.DataAtom == atom.A {
		if _, ok := ecAttr(n, "href"); ok {
			count++
		}
	}
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.DataAtom == atom.A {
			if _, ok := ecAttr(d, "href"); ok {
				count++
			}
		}
	}
	return count
}

// ecColumnHeader returns the header cell's text of the table column a is
// in, "" when a is not in a table cell or the table has no header row.
func ecColumnHeader(a *html.Node) string {
	var cell *html.Node
	for p := range a.Ancestors() {
		if p.Type == html.ElementNode && (p.DataAtom == atom.Td || p.DataAtom == atom.Th) {
			cell = p
			break
		}
	}
	if cell == nil || cell.Parent == nil {
		return ""
	}
	col := 0
	for s := cell.Parent.FirstChild; s != nil && s != cell; s = s.NextSibling {
		if s.Type == html.ElementNode && (s.DataAtom == atom.Td || s.DataAtom == atom.Th) {
			col += ecSpan(s)
		}
	}
	var table *html.Node
	for p := range cell.Ancestors() {
		if p.Type == html.ElementNode && p.DataAtom == atom.Table {
			table = p
			break
		}
	}
	if table == nil {
		return ""
	}
	for row := range table.Descendants() {
		if row.Type != html.ElementNode || row.DataAtom != atom.Tr || row == cell.Parent {
			continue
		}
		at, header := 0, false
		for c := row.FirstChild; c != nil; c = c.NextSibling {
			header = header || c.Type == html.ElementNode && c.DataAtom == atom.Th
		}
		if !header {
			continue
		}
		for c := row.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode || (c.DataAtom != atom.Td && c.DataAtom != atom.Th) {
				continue
			}
			span := ecSpan(c)
			if col >= at && col < at+span {
				return ecText(c)
			}
			at += span
		}
		return ""
	}
	return ""
}

// ecSpan is a cell's colspan, 1 when absent or unreadable.
func ecSpan(cell *html.Node) int {
	if v, ok := ecAttr(cell, "colspan"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 && n < 1000 {
			return n
		}
	}
	return 1
}

// ecHeadingAbove returns the last heading met before the link, nil when
// none.
func ecHeadingAbove(headings []*html.Node) *html.Node {
	if len(headings) == 0 {
		return nil
	}
	return headings[len(headings)-1]
}

// ecText is the text of n and below, white space collapsed; "" for nil.
// Scripts and styles are not text.
func ecText(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
			b.WriteByte(' ')
		case n.Type == html.ElementNode && (n.DataAtom == atom.Script || n.DataAtom == atom.Style):
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// ecAttr returns the value of n's attribute key.
func ecAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val, true
		}
	}
	return "", false
}

// ecWords splits text into lower-case words of letters or of digits.
func ecWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// ecGeneric are words a link says about any file: a layer with no other
// words says nothing of what the file is.
var ecGeneric = map[string]bool{
	"download": true, "xlsx": true, "xls": true, "excel": true, "file": true, "kb": true, "mb": true,
	"en": true, "english": true, "format": true, "size": true, "version": true,
}

// ecTopic says whether words say what a file is: a word of letters that
// is not generic.
func ecTopic(words []string) bool {
	for _, w := range words {
		if !ecGeneric[w] && len(w) > 1 && strings.IndexFunc(w, unicode.IsLetter) >= 0 {
			return true
		}
	}
	return false
}

// ecIsConsulate says whether words name visa statistics of consulates:
// a word of each of the three, in any order (English, and the French of
// the early workbooks' names when a link says so).
func ecIsConsulate(words []string) bool {
	var visa, stats, consulate bool
	for _, w := range words {
		switch w {
		case "visa", "visas":
			visa = true
		case "statistic", "statistics", "stats", "statistiques":
			stats = true
		case "consulate", "consulates", "consulat", "consulats":
			consulate = true
		}
	}
	return visa && stats && consulate
}

// ecYear returns the single year 2000-2099 that text names, 0 when it
// names none or several.
func ecYear(text string) int {
	year := 0
	for _, w := range ecWords(text) {
		if len(w) != 4 || !strings.HasPrefix(w, "20") {
			continue
		}
		y, err := strconv.Atoi(w)
		if err != nil {
			continue
		}
		if year != 0 && y != year {
			return 0
		}
		year = y
	}
	return year
}
