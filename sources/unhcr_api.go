package sources

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/visastats/visastats/sources/redact"
)

const (
	// unhcrMaxBody caps one API page or saved JSON file; a real page of 100
	// items is about 28 KB.
	unhcrMaxBody = 64 << 20
)

// unhcrPage is one page of the population API, parsed into raw table rows.
type unhcrPage struct {
	file         string
	page         int
	maxPages     int
	applications [][]driver.Value
	decisions    [][]driver.Value
}

// unhcrLooksLikeJSON reports whether data starts, after white space, with a
// JSON object.
func unhcrLooksLikeJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

// parseUNHCRPage parses one page of api.unhcr.org/population/v1/<dataset>/.
// Items with "applied" are asylum applications, items with dec_* counts are
// asylum decisions. Counts arrive as numbers or as strings ("0", "-") in the
// same field: "-", "" and null become NULL, never zero. coo and coa are
// UNHCR's own codes, not ISO; they are kept beside coo_iso and coa_iso.
func parseUNHCRPage(data []byte, file string) (unhcrPage, error) {
	p := unhcrPage{file: file}
	if !unhcrLooksLikeJSON(data) {
		return p, fmt.Errorf("unhcr: %s: not a UNHCR API page: body is not a JSON object (starts %q)", file, unhcrStart(data))
	}
	var raw struct {
		Page     json.RawMessage   `json:"page"`
		MaxPages json.RawMessage   `json:"maxPages"`
		Items    []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return p, fmt.Errorf("unhcr: %s: not a UNHCR API page: %w", file, err)
	}
	if raw.Items == nil {
		return p, fmt.Errorf("unhcr: %s: not a UNHCR API page: no \"items\" array", file)
	}
	var err error
	if p.page, err = unhcrPageNumber(raw.Page); err != nil {
		return p, &LocatedError{File: file, Column: "page", Value: string(raw.Page), Err: err}
	}
	if p.maxPages, err = unhcrPageNumber(raw.MaxPages); err != nil {
		return p, &LocatedError{File: file, Column: "maxPages", Value: string(raw.MaxPages), Err: err}
	}
	for i, msg := range raw.Items {
		it := unhcrItem{file: file, line: int64(i + 1)}
		if err := json.Unmarshal(msg, &it.fields); err != nil || it.fields == nil {
			return p, &LocatedError{File: file, Line: it.line, Item: true, Value: string(msg), Err: errors.New("item is not a JSON object")}
		}
		switch {
		case it.has("applied"):
			row := []driver.Value{file, it.line, it.year(),
				it.text("coo_name"), it.text("coo_iso"), it.text("coa_name"), it.text("coa_iso"),
				it.text("procedure_type"), it.text("app_type"), it.text("dec_level"), it.casesPersons("app_pc"),
				it.count("applied"), it.text("coo"), it.text("coa")}
			if it.err != nil {
				return p, it.err
			}
			p.applications = append(p.applications, row)
		case it.has("dec_total") || it.has("dec_recognized") || it.has("dec_rejected"):
			row := []driver.Value{file, it.line, it.year(),
				it.text("coo_name"), it.text("coo"), it.text("coo_iso"),
				it.text("coa_name"), it.text("coa"), it.text("coa_iso"),
				it.text("procedure_type"), it.text("dec_level"), it.casesPersons("dec_pc"),
				it.count("dec_recognized"), it.count("dec_other"), it.count("dec_rejected"), it.count("dec_closed"), it.count("dec_total")}
			if it.err != nil {
				return p, it.err
			}
			p.decisions = append(p.decisions, row)
		default:
			return p, &LocatedError{File: file, Line: it.line, Item: true, Value: string(msg),
				Err: errors.New("item has neither \"applied\" nor dec_* counts; only asylum-applications and asylum-decisions pages are supported")}
		}
	}
	return p, nil
}

// unhcrPageNumber reads page or maxPages; absent means 0.
func unhcrPageNumber(m json.RawMessage) (int, error) {
	if len(m) == 0 || string(m) == "null" {
		return 0, nil
	}
	f, ok, err := unhcrJSONNumber(m)
	if err != nil || !ok || f < 0 || f != math.Trunc(f) || f > 1e6 {
		return 0, errors.New("not a page number")
	}
	return int(f), nil
}

// unhcrItem reads the fields of one API item, keeping the first error.
type unhcrItem struct {
	file   string
	line   int64
	fields map[string]json.RawMessage
	err    error
}

func (it *unhcrItem) has(k string) bool { _, ok := it.fields[k]; return ok }

func (it *unhcrItem) fail(k string, err error) {
	if it.err == nil {
		it.err = &LocatedError{File: it.file, Line: it.line, Item: true, Column: k, Value: string(it.fields[k]), Err: err}
	}
}

// text reads a string field; absent or null is "".
func (it *unhcrItem) text(k string) driver.Value {
	m, ok := it.fields[k]
	if !ok || string(m) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(m, &s); err != nil {
		it.fail(k, errors.New("want a string"))
		return nil
	}
	if !utf8.ValidString(s) {
		it.fail(k, errUNHCRNotUTF8)
		return nil
	}
	return s
}

func (it *unhcrItem) casesPersons(k string) driver.Value {
	v := it.text(k)
	if s, _ := v.(string); s != "P" && s != "C" && it.err == nil {
		it.fail(k, errors.New("want P (persons) or C (cases)"))
	}
	return v
}

// year reads the year, a number or a string of four digits from MinYear
// to next year.
func (it *unhcrItem) year() driver.Value {
	f, ok, err := unhcrJSONNumber(it.fields["year"])
	if err != nil || !ok || f != math.Trunc(f) || f < 1000 || f > 9999 {
		it.fail("year", errYearSyntax)
		return nil
	}
	if err := checkYear(int(f)); err != nil {
		it.fail("year", err)
		return nil
	}
	return int32(f)
}

// count reads a count that may be a number or a string; "-", "" and null
// (or an absent field) are NULL.
func (it *unhcrItem) count(k string) driver.Value {
	f, ok, err := unhcrJSONNumber(it.fields[k])
	if err != nil {
		it.fail(k, err)
		return nil
	}
	if !ok {
		return nil
	}
	if !plausibleCount(f) {
		it.fail(k, ErrImplausibleCount)
		return nil
	}
	return f
}

// unhcrJSONNumber reads a JSON number or a string holding one, written as
// the API writes numbers: digits, perhaps a fraction (parsePublishedNumber;
// JSON's exponents, such as 1.7e1, are not). ok is false for null, an
// absent field, "" and "-".
func unhcrJSONNumber(m json.RawMessage) (f float64, ok bool, err error) {
	if len(m) == 0 || string(m) == "null" {
		return 0, false, nil
	}
	s := string(m)
	if m[0] == '"' {
		if err := json.Unmarshal(m, &s); err != nil {
			return 0, false, errors.New("not a number or a numeric string")
		}
		if s == "" || s == "-" {
			return 0, false, nil
		}
	}
	f, ok = parsePublishedNumber([]byte(s), false)
	if !ok {
		return 0, false, errors.New("not a number, a numeric string or \"-\"")
	}
	return f, true, nil
}

// errUNHCRTooLarge reports a body or file over unhcrMaxBody.
var errUNHCRTooLarge = errors.New("larger than the size limit")

// unhcrReadCapped reads r to the end, failing when it holds more than max
// bytes.
func unhcrReadCapped(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w (%d bytes)", errUNHCRTooLarge, max)
	}
	return data, nil
}

// UNHCRAPIPage is one page of the UNHCR population API as fetched for a
// run: where it came from, where its stored copy is and when it was
// retrieved.
type UNHCRAPIPage struct {
	// URL is the page's address without credentials (redact.URL); rows
	// and errors name the page by it.
	URL string
	// Path is the local copy of the page's body.
	Path string
	// RetrievedAt is when the page's body was retrieved from the API (for
	// a stored page served again, when it was first retrieved). The API
	// does not say which release it serves; the release calendar does, by
	// this time (UNHCRConfig.Calendar).
	RetrievedAt time.Time
}

// FetchPage gets one page of a remote API and returns the path of a local
// copy of its body and when that body was retrieved. name identifies the
// page among the source's inputs and is a plain file name; rawURL is the
// address to ask, credentials included. Package pipeline provides the
// implementation: it keeps every page in the snapshot store and, offline,
// returns the stored page and its retrieval time without asking. Errors
// name the page by its redacted address.
type FetchPage func(ctx context.Context, name, rawURL string) (path string, retrievedAt time.Time, err error)

// FetchUNHCRAPI follows the pages of every dataset of cfg, from page 1 to
// the maxPages the API reports, fetching each through fetch, and returns
// them in order for UNHCRConfig.APIPages. A page that is not a UNHCR API
// page, or answers with another page number, stops it with an error naming
// the page, as does a fetch that does not say when the page was retrieved.
func FetchUNHCRAPI(ctx context.Context, cfg UNHCRAPIConfig, fetch FetchPage) ([]UNHCRAPIPage, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.URL == "" {
		return nil, nil
	}
	base, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("unhcr: api.url: %w", err)
	}
	limit := cfg.Limit
	if limit == 0 {
		limit = 100
	}
	var pages []UNHCRAPIPage
	for _, dataset := range cfg.Datasets {
		u := base.JoinPath(dataset + "/")
		for page := 1; ; page++ {
			if err := ctx.Err(); err != nil {
				return pages, fmt.Errorf("unhcr: fetch %s page %d: %w", dataset, page, err)
			}
			q := url.Values{} // Encode sorts by key: stable URLs in rows and errors
			for k, v := range cfg.Params {
				q.Set(k, v)
			}
			q.Set("limit", strconv.Itoa(limit))
			q.Set("page", strconv.Itoa(page))
			u.RawQuery = q.Encode()
			rawURL := u.String()
			// Rows, errors and stored names carry the page's address
			// without the credentials a configured URL may carry.
			shown := redact.URL(rawURL)
			path, retrieved, err := fetch(ctx, unhcrPageName(dataset, shown), rawURL)
			if err != nil {
				return pages, err
			}
			if retrieved.IsZero() {
				return pages, fmt.Errorf("unhcr: %s: the fetch did not say when the page was retrieved; the release calendar labels the page's years by it", shown)
			}
			p, err := readUNHCRPage(path, shown)
			if err != nil {
				return pages, err
			}
			if p.page != 0 && p.page != page {
				return pages, fmt.Errorf("unhcr: %s: asked for page %d, the API answered with page %d", shown, page, p.page)
			}
			pages = append(pages, UNHCRAPIPage{URL: shown, Path: path, RetrievedAt: retrieved})
			if page >= p.maxPages || len(p.applications)+len(p.decisions) == 0 {
				break
			}
		}
	}
	return pages, nil
}

// readUNHCRPage reads and parses the saved page at path; file names it in
// rows and errors.
func readUNHCRPage(path, file string) (unhcrPage, error) {
	f, err := os.Open(path)
	if err != nil {
		return unhcrPage{}, fmt.Errorf("unhcr: %s: %w", file, err)
	}
	defer f.Close()
	data, err := unhcrReadCapped(f, unhcrMaxBody)
	if err != nil {
		return unhcrPage{}, fmt.Errorf("unhcr: read %s: %w", file, err)
	}
	return parseUNHCRPage(data, file)
}

// unhcrPageName is the stored name of a page: its dataset and query,
// credentials already redacted, as a plain file name such as
// asylum-decisions_coo_iso-DZA_limit-100_page-3.json.
func unhcrPageName(dataset, shownURL string) string {
	var b strings.Builder
	b.WriteString(dataset)
	if u, err := url.Parse(shownURL); err == nil {
		q := u.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString("_" + k + "-" + strings.Join(q[k], "+"))
		}
	}
	b.WriteString(".json")
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-+", r) {
			return r
		}
		return '_'
	}, b.String())
}

// unhcrStart returns the first characters of data, for messages.
func unhcrStart(data []byte) string {
	t := bytes.TrimSpace(data)
	if len(t) > 40 {
		t = t[:40]
	}
	return string(t)
}

// UNHCRAPISignature reads a saved page of the population API asked with
// limit=1 and returns what identifies the data behind it: the number of
// rows (maxPages, at one row a page) and the totals the API sums over all
// of them. A revision anywhere in a dataset changes the totals (or the
// row count) unless it moves counts between rows, so two equal signatures
// mean, short of that, the same data; a nightly run pages through the
// whole dataset only when the signature moved, and now and then anyway.
func UNHCRAPISignature(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("unhcr: %w", err)
	}
	defer f.Close()
	data, err := unhcrReadCapped(f, unhcrMaxBody)
	if err != nil {
		return "", fmt.Errorf("unhcr: read %s: %w", path, err)
	}
	var raw struct {
		MaxPages json.RawMessage `json:"maxPages"`
		Total    json.RawMessage `json:"total"`
	}
	if !unhcrLooksLikeJSON(data) {
		return "", fmt.Errorf("unhcr: %s: not a UNHCR API page: body is not a JSON object (starts %q)", path, unhcrStart(data))
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return "", fmt.Errorf("unhcr: %s: not a UNHCR API page: %w", path, err)
	}
	rows, err := unhcrPageNumber(raw.MaxPages)
	if err != nil {
		return "", &LocatedError{File: path, Column: "maxPages", Value: string(raw.MaxPages), Err: err}
	}
	// The totals as the API wrote them, compacted: an object or (as one
	// client reads it) an array; whatever the shape, equal bytes are
	// equal totals.
	var total bytes.Buffer
	if len(raw.Total) > 0 {
		if err := json.Compact(&total, raw.Total); err != nil {
			return "", &LocatedError{File: path, Column: "total", Value: string(raw.Total), Err: err}
		}
	}
	return fmt.Sprintf("rows=%d total=%s", rows, total.String()), nil
}
