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
	"math/rand/v2"
	"net/http"
	"net/url"
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
	// unhcrMaxRetryAfter is the longest Retry-After the client waits for;
	// a longer one fails the run instead of stalling it.
	unhcrMaxRetryAfter = 5 * time.Minute
	// unhcrMaxBackoff caps the exponential backoff between retries.
	unhcrMaxBackoff = 30 * time.Second
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

func (it *unhcrItem) year() driver.Value {
	f, ok, err := unhcrJSONNumber(it.fields["year"])
	if err != nil || !ok || f != math.Trunc(f) || f < 1000 || f > 9999 {
		it.fail("year", errors.New("year is not a four-digit integer"))
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

// unhcrJSONNumber reads a JSON number or a string holding one. ok is false
// for null, an absent field, "" and "-".
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
	f, err = strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
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

// fetchDataset follows the pages of one API dataset, from page 1 to the
// maxPages the API reports, and hands each parsed page to emit.
func (s *unhcrSource) fetchDataset(ctx context.Context, dataset string, emit func(unhcrPage) error) error {
	a := s.cfg.API
	base, err := url.Parse(a.URL)
	if err != nil {
		return fmt.Errorf("unhcr: api.url: %w", err)
	}
	u := base.JoinPath(dataset + "/")
	limit := a.Limit
	if limit == 0 {
		limit = 100
	}
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("unhcr: fetch %s page %d: %w", dataset, page, err)
		}
		q := url.Values{} // Encode sorts by key: stable URLs in rows and errors
		for k, v := range a.Params {
			q.Set(k, v)
		}
		q.Set("limit", strconv.Itoa(limit))
		q.Set("page", strconv.Itoa(page))
		u.RawQuery = q.Encode()
		pageURL := u.String()
		body, err := s.get(ctx, pageURL)
		if err != nil {
			return err
		}
		// Rows and errors name the page without the credentials a
		// configured URL may carry.
		pageURL = redact.URL(pageURL)
		p, err := parseUNHCRPage(body, pageURL)
		if err != nil {
			return err
		}
		if p.page != 0 && p.page != page {
			return fmt.Errorf("unhcr: %s: asked for page %d, the API answered with page %d", pageURL, page, p.page)
		}
		if err := emit(p); err != nil {
			return err
		}
		if page >= p.maxPages || len(p.applications)+len(p.decisions) == 0 {
			return nil
		}
	}
}

// get fetches one URL with a per-request timeout, retrying 429, 5xx and
// network errors with exponential backoff and jitter, and honouring
// Retry-After.
func (s *unhcrSource) get(ctx context.Context, rawURL string) ([]byte, error) {
	shown := redact.URL(rawURL)
	retries := s.cfg.API.Retries
	if retries == 0 {
		retries = 3
	}
	for attempt := 0; ; attempt++ {
		body, retryAfter, err := s.getOnce(ctx, rawURL)
		if err == nil {
			return body, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("unhcr: get %s: %w", shown, ctx.Err())
		}
		if retryAfter < 0 || attempt >= retries {
			return nil, fmt.Errorf("unhcr: get %s (attempt %d of %d): %w", shown, attempt+1, retries+1, err)
		}
		wait := s.backoff << attempt
		if wait > unhcrMaxBackoff || wait <= 0 {
			wait = unhcrMaxBackoff
		}
		wait = wait/2 + rand.N(wait/2+1)
		if retryAfter > unhcrMaxRetryAfter {
			return nil, fmt.Errorf("unhcr: get %s: server asks to retry after %s, longer than %s: %w", shown, retryAfter, unhcrMaxRetryAfter, err)
		}
		if retryAfter > 0 {
			wait = retryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("unhcr: get %s: %w", shown, ctx.Err())
		case <-t.C:
		}
	}
}

// getOnce makes one request. On error, retryAfter says what to do: negative
// means retrying will not help (a 4xx, a page that is not JSON), zero means
// retry after the backoff, positive is the server's Retry-After.
func (s *unhcrSource) getOnce(ctx context.Context, rawURL string) (body []byte, retryAfter time.Duration, err error) {
	const permanent = -1
	timeout := s.cfg.API.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, permanent, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "visastats (+https://github.com/visastats/visastats)")
	resp, err := s.client.Do(req)
	if err != nil {
		// A network error names the URL it failed on: without credentials.
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = redact.URL(ue.URL)
		}
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 80))
		err := fmt.Errorf("HTTP %d %s (body starts %q)", resp.StatusCode, http.StatusText(resp.StatusCode), snippet)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			return nil, unhcrRetryAfter(resp.Header.Get("Retry-After")), err
		}
		return nil, permanent, err
	}
	body, err = unhcrReadCapped(resp.Body, unhcrMaxBody)
	if errors.Is(err, errUNHCRTooLarge) {
		return nil, permanent, fmt.Errorf("body %w", err)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read body: %w", err)
	}
	if !unhcrLooksLikeJSON(body) {
		return nil, permanent, fmt.Errorf("response is not JSON (Content-Type %q, body starts %q); is api.url the population API?", resp.Header.Get("Content-Type"), unhcrStart(body))
	}
	return body, 0, nil
}

// unhcrStart returns the first characters of data, for messages.
func unhcrStart(data []byte) string {
	t := bytes.TrimSpace(data)
	if len(t) > 40 {
		t = t[:40]
	}
	return string(t)
}

// unhcrRetryAfter reads a Retry-After header: seconds or an HTTP date.
func unhcrRetryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return time.Until(t)
	}
	return 0
}
