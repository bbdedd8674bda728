package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrTooLarge is returned (wrapped) when a body is larger than
// FetchConfig.MaxBytes. Nothing is stored and the fetch is not retried.
var ErrTooLarge = errors.New("body exceeds the size limit")

// ErrTruncated is returned (wrapped) when a body ends before the length the
// server announced. Nothing is stored; the fetch is retried like any other
// network error.
var ErrTruncated = errors.New("body truncated")

// FetchConfig configures a Fetcher. Start from DefaultFetchConfig; zero
// durations, sizes and user agent are replaced by the defaults, while
// Retries is taken as given (0 means a single attempt).
type FetchConfig struct {
	// Timeout bounds one attempt: connecting, the response and reading
	// the whole body.
	Timeout time.Duration
	// Retries is how many times a failed attempt is repeated after network
	// errors, 429 and 5xx responses and truncated bodies.
	Retries int
	// BackoffBase is the first retry's maximum wait; it doubles with every
	// retry up to BackoffMax. The actual wait is drawn uniformly from zero
	// to that maximum ("full jitter"). A server's Retry-After replaces the
	// drawn wait, capped by BackoffMax.
	BackoffBase, BackoffMax time.Duration
	// MaxBytes is the largest body accepted.
	MaxBytes int64
	// UserAgent is sent with every request so that publishers can tell
	// who is downloading.
	UserAgent string
}

// DefaultFetchConfig returns the configuration used for upstream
// publications: bodies up to 4 GiB (compressed, and once expanded: a full Eurostat monthly file ten times today's size) within 5 minutes per attempt, and
// four retries waiting up to 1, 2, 4 and 8 seconds (at most one minute).
func DefaultFetchConfig() FetchConfig {
	return FetchConfig{
		Timeout:     5 * time.Minute,
		Retries:     4,
		BackoffBase: time.Second,
		BackoffMax:  time.Minute,
		MaxBytes:    4 << 30,
		UserAgent:   "visastats (+https://github.com/visastats/visastats)",
	}
}

func (c FetchConfig) withDefaults() FetchConfig {
	d := DefaultFetchConfig()
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = d.BackoffBase
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = max(d.BackoffMax, c.BackoffBase)
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = d.MaxBytes
	}
	if c.UserAgent == "" {
		c.UserAgent = d.UserAgent
	}
	return c
}

func (c FetchConfig) validate() error {
	switch {
	case c.Timeout < 0:
		return fmt.Errorf("fetch config: timeout is %v, must not be negative", c.Timeout)
	case c.Retries < 0:
		return fmt.Errorf("fetch config: retries is %d, must not be negative", c.Retries)
	case c.BackoffBase < 0:
		return fmt.Errorf("fetch config: backoff base is %v, must not be negative", c.BackoffBase)
	case c.BackoffMax < c.BackoffBase:
		return fmt.Errorf("fetch config: backoff max %v is below backoff base %v", c.BackoffMax, c.BackoffBase)
	case c.MaxBytes < 0:
		return fmt.Errorf("fetch config: max bytes is %d, must not be negative", c.MaxBytes)
	}
	return nil
}

// FetchRequest names one upstream file to fetch.
type FetchRequest struct {
	// Source and Name identify the input in the store (see Provenance).
	Source, Name string
	// URL is the http or https address of the file.
	URL string
	// Expect is the kind of content the file must be.
	Expect Kind
	// Inspect, when set, looks at a complete 200 body before its kind is
	// checked and before it is stored: an API that answers 200 with
	// something other than the data (a "queued" notice, a fault) is told
	// apart here. An error it returns fails the fetch at once, unretried
	// and wrapped, and nothing is stored.
	Inspect func(body *os.File, size int64, header http.Header) error
	// Progress, when set, is told how many bytes of the body have arrived
	// (and the length announced, or -1) as they arrive, at most a few
	// times a second, and once more with done set when the body ended or
	// the attempt failed.
	Progress func(read, total int64, done bool)
}

func (r FetchRequest) validate() error {
	if err := checkNames(r.Source, r.Name); err != nil {
		return err
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("url %q: want an absolute http or https address", RedactURL(r.URL))
	}
	if _, err := ParseKind(string(r.Expect)); err != nil {
		return err
	}
	return nil
}

// Result is the outcome of a successful fetch.
type Result struct {
	// Record is the stored input: the new record, or the previous one
	// when NotModified is set.
	Record Record
	// NotModified reports that the server answered 304 to a conditional
	// request: the previous snapshot is current and nothing was stored.
	NotModified bool
	// Attempts is the number of requests made, 1 when the first succeeded.
	Attempts int
}

// HTTPError reports a response with a status other than 200 (or 304 to a
// conditional request).
type HTTPError struct {
	URL    string // the address requested
	Status int    // the response's status code
	// Body is the start of the response body (at most 4 KiB): publishers
	// say why in it (a SOAP fault, a JSON error, an outage page).
	Body []byte
}

// Error names the URL and the status, e.g. "GET https://...: 404 Not Found".
func (e *HTTPError) Error() string {
	return fmt.Sprintf("GET %s: %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// Temporary reports whether the status may change on a later attempt:
// 429 Too Many Requests and 5xx server errors. Other statuses, such as
// 404 Not Found, are permanent and never retried.
func (e *HTTPError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Fetcher downloads upstream files into a Store. Create one with
// NewFetcher; it holds only its configuration and is safe for concurrent
// use.
type Fetcher struct {
	cfg FetchConfig
	// sleep waits for d or until ctx is done, returning ctx.Err() then;
	// tests replace it to record waits instead of waiting.
	sleep func(ctx context.Context, d time.Duration) error
	// now stamps records and interprets Retry-After dates.
	now func() time.Time
}

// NewFetcher returns a Fetcher with cfg, after filling in defaults, or an
// error when cfg is invalid.
func NewFetcher(cfg FetchConfig) (*Fetcher, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Fetcher{cfg: cfg, sleep: sleepContext, now: time.Now}, nil
}

// Config returns the configuration in use, defaults filled in.
func (f *Fetcher) Config() FetchConfig { return f.cfg }

// Fetch downloads req.URL with client (http.DefaultClient when nil), checks that the body is complete,
// within the size limit and of the expected kind, and stores it in store
// under req.Source and req.Name. When the store holds an earlier record of
// the input fetched from the same URL, the request is conditional on its
// ETag and Last-Modified; a 304 answer returns that record with
// NotModified set, and makes it the input's latest record again when a
// record from another URL came in between.
//
// Network errors, timeouts, truncated bodies, 429 and 5xx responses are
// retried up to Retries times; other statuses (*HTTPError), oversized
// bodies (ErrTooLarge) and wrong content (*ContentError) fail at once. On
// any error nothing is stored or recorded. Errors name the input and URL,
// and like the record they carry the URL as RedactURL returns it.
func (f *Fetcher) Fetch(ctx context.Context, client *http.Client, store *Store, req FetchRequest) (Result, error) {
	op := fmt.Sprintf("fetch %s/%s", req.Source, req.Name)
	if f == nil || f.sleep == nil || f.now == nil {
		return Result{}, fmt.Errorf("%s: fetcher not created by NewFetcher", op)
	}
	if err := req.validate(); err != nil {
		return Result{}, fmt.Errorf("%s: %w", op, err)
	}
	if client == nil {
		client = http.DefaultClient
	}
	// Validators belong to the address they came from: the previous
	// record of this input from another address (a corrected URL) must
	// not make the request conditional, or a server that compares dates
	// would answer 304 for a different file. A record without its object
	// cannot stand in for the file either.
	prev, err := store.LatestFrom(req.Source, req.Name, req.URL)
	switch {
	case errors.Is(err, ErrNoRecord):
		prev = Record{}
	case err != nil:
		return Result{}, fmt.Errorf("%s from %s: %w", op, RedactURL(req.URL), err)
	}

	for attempt := 1; ; attempt++ {
		res, err := f.attempt(ctx, client, store, req, prev)
		if err == nil {
			res.Attempts = attempt
			if res.NotModified {
				// The record found current is the input's latest again,
				// for the next fetch and for an offline run.
				if latest, lerr := store.Latest(req.Source, req.Name); lerr != nil || latest.SHA256 != prev.SHA256 || !fromURL(latest, req.URL) {
					if rerr := store.Restore(prev); rerr != nil {
						return Result{}, fmt.Errorf("%s from %s: %w", op, RedactURL(req.URL), rerr)
					}
				}
			}
			return res, nil
		}
		if cerr := ctx.Err(); cerr != nil {
			if errors.Is(err.err, cerr) {
				return Result{}, fmt.Errorf("%s: %w", op, err.err)
			}
			return Result{}, fmt.Errorf("%s: %w during attempt %d: %w", op, cerr, attempt, err.err)
		}
		if !err.retry {
			return Result{}, fmt.Errorf("%s: %w", op, err.err)
		}
		if attempt > f.cfg.Retries {
			return Result{}, fmt.Errorf("%s: giving up after %d attempts: %w", op, attempt, err.err)
		}
		wait := f.backoff(attempt)
		if err.hasRetryAfter {
			wait = min(err.retryAfter, f.cfg.BackoffMax)
		}
		if serr := f.sleep(ctx, wait); serr != nil {
			return Result{}, fmt.Errorf("%s: waiting %v to retry after attempt %d (%w): %w", op, wait, attempt, err.err, serr)
		}
	}
}

// attemptError is the failure of one attempt and whether to try again.
type attemptError struct {
	err           error
	retry         bool
	retryAfter    time.Duration
	hasRetryAfter bool
}

func (e *attemptError) Error() string { return e.err.Error() }

func permanent(err error) *attemptError { return &attemptError{err: err} }
func transient(err error) *attemptError { return &attemptError{err: err, retry: true} }

// attempt makes one request and, on success, stores the body.
func (f *Fetcher) attempt(ctx context.Context, client *http.Client, store *Store, req FetchRequest, prev Record) (Result, *attemptError) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()

	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, req.URL, nil)
	if err != nil {
		return Result{}, permanent(fmt.Errorf("GET %s: %w", RedactURL(req.URL), err))
	}
	hreq.Header.Set("User-Agent", f.cfg.UserAgent)
	// Ask for the file as published: the snapshot keeps its exact bytes,
	// and the content check sees what the hash covers.
	hreq.Header.Set("Accept-Encoding", "identity")
	if req.Expect == KindJSON {
		// APIs may answer in another format unless asked for JSON.
		hreq.Header.Set("Accept", "application/json")
	}
	conditional := prev.SHA256 != "" && (prev.ETag != "" || prev.LastModified != "")
	if prev.ETag != "" {
		hreq.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		hreq.Header.Set("If-Modified-Since", prev.LastModified)
	}

	resp, err := client.Do(hreq)
	if err != nil {
		return Result{}, transient(f.networkError(ctx, RedactURL(req.URL), err))
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotModified && conditional:
		return Result{Record: prev, NotModified: true}, nil
	default:
		// Keep a little of the error page (publishers say why in it), and
		// read no more, so the connection can be reused.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		herr := &HTTPError{URL: RedactURL(req.URL), Status: resp.StatusCode, Body: body}
		if !herr.Temporary() {
			return Result{}, permanent(herr)
		}
		aerr := transient(herr)
		aerr.retryAfter, aerr.hasRetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), f.now())
		return Result{}, aerr
	}

	if resp.ContentLength > f.cfg.MaxBytes {
		return Result{}, permanent(fmt.Errorf("GET %s: Content-Length %d: %w of %d bytes", RedactURL(req.URL), resp.ContentLength, ErrTooLarge, f.cfg.MaxBytes))
	}
	tmp, err := store.newTemp()
	if err != nil {
		return Result{}, permanent(fmt.Errorf("GET %s: %w", RedactURL(req.URL), err))
	}
	defer tmp.discard()
	var dst io.Writer = tmp
	if req.Progress != nil {
		pw := &progressWriter{w: tmp, total: resp.ContentLength, report: req.Progress, now: f.now}
		defer pw.done()
		dst = pw
	}
	_, err = io.Copy(dst, io.LimitReader(resp.Body, f.cfg.MaxBytes+1))
	switch {
	case err != nil && errors.Is(err, io.ErrUnexpectedEOF):
		return Result{}, transient(fmt.Errorf("GET %s: %w after %d of %d bytes: %w", RedactURL(req.URL), ErrTruncated, tmp.size, resp.ContentLength, err))
	case err != nil:
		return Result{}, transient(f.networkError(ctx, RedactURL(req.URL), err))
	case tmp.size > f.cfg.MaxBytes:
		return Result{}, permanent(fmt.Errorf("GET %s: %w of %d bytes", RedactURL(req.URL), ErrTooLarge, f.cfg.MaxBytes))
	case resp.ContentLength >= 0 && tmp.size != resp.ContentLength:
		return Result{}, transient(fmt.Errorf("GET %s: %w after %d of %d bytes", RedactURL(req.URL), ErrTruncated, tmp.size, resp.ContentLength))
	}

	if req.Inspect != nil {
		if err := req.Inspect(tmp.f, tmp.size, resp.Header); err != nil {
			return Result{}, permanent(fmt.Errorf("GET %s: %w", RedactURL(req.URL), err))
		}
	}
	if err := checkContent(tmp.f, tmp.size, req.Expect, RedactURL(req.URL), f.cfg.MaxBytes); err != nil {
		return Result{}, permanent(err)
	}
	// The URL as requested: commit records it redacted, with its hash.
	rec, err := store.commit(ctx, tmp, Provenance{
		Source:       req.Source,
		Name:         req.Name,
		URL:          req.URL,
		RetrievedAt:  f.now(),
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		ContentType:  resp.Header.Get("Content-Type"),
	})
	if err != nil {
		return Result{}, permanent(fmt.Errorf("GET %s: %w", RedactURL(req.URL), err))
	}
	return Result{Record: rec}, nil
}

// networkError names the URL and says when the attempt ran out of time,
// which the transport reports only as a deadline deep inside its error.
func (f *Fetcher) networkError(attemptCtx context.Context, rawURL string, err error) error {
	if errors.Is(attemptCtx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("GET %s: attempt timed out after %v: %w", rawURL, f.cfg.Timeout, err)
	}
	// *url.Error already says "Get <url>: ..."; do not repeat the URL,
	// but redact it: the transport hides a password, not a token.
	var uerr *url.Error
	if errors.As(err, &uerr) {
		uerr.URL = rawURL
		return err
	}
	return fmt.Errorf("GET %s: %w", rawURL, err)
}

// backoff returns the wait before retry number n (1 for the first).
func (f *Fetcher) backoff(n int) time.Duration { return f.cfg.Wait(n) }

// Wait is the wait before retry number n (1 for the first): a uniform
// draw from zero to BackoffBase·2^(n-1), capped by BackoffMax ("full
// jitter"). Every retried request of a run waits by it: fetches here,
// uploads to object storage through the publish step.
func (c FetchConfig) Wait(n int) time.Duration {
	ceiling := c.BackoffBase
	for i := 1; i < n && ceiling < c.BackoffMax; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, c.BackoffMax)
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

// parseRetryAfter reads a Retry-After header in either of its forms:
// delay-seconds or an HTTP date. A date in the past means no wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		// Beyond this the Duration would overflow; any cap is far below.
		if secs > int64(time.Duration(1<<62)/time.Second) {
			secs = int64(time.Duration(1<<62) / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// sleepContext waits for d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// progressWriter passes writes on and reports the bytes written so far,
// at most every progressEvery, and once more when done.
type progressWriter struct {
	w      io.Writer
	total  int64
	read   int64
	last   time.Time
	report func(read, total int64, done bool)
	now    func() time.Time
}

// progressEvery is how often a download's progress is reported.
const progressEvery = 250 * time.Millisecond

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.read += int64(n)
	if now := p.now(); now.Sub(p.last) >= progressEvery {
		p.last = now
		p.report(p.read, p.total, false)
	}
	return n, err
}

func (p *progressWriter) done() { p.report(p.read, p.total, true) }
