package upstream

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/visastats/visastats/pipeline/snapshot"
)

// A nightly run asks Eurostat in this order (LIVE_SOURCES.md, sections 1,
// 2 and 6):
//
//  1. the files inventory ({base}/files/inventory?type=data), once: the
//     "Last data change" and "Last structural change" of every dataset,
//     to the minute; the table of contents ({base}/catalogue/toc/txt),
//     dates to the day, only when the inventory fails or lacks a dataset;
//  2. for each configured dataset, one after the other (Eurostat asks for
//     one extraction at a time): when a date moved since the snapshot
//     held, or no snapshot is held, the data; otherwise nothing;
//  3. a data query Eurostat answers with the "queued" envelope goes to
//     the asynchronous API: its status is polled with a capped backoff
//     until AVAILABLE, then the extraction is fetched; an expired one is
//     asked for again.
//
// What was downloaded, with the dates that decided it, is kept in
// <store>/upstream/eurostat.json (see eurostatState). Eurostat sends no
// ETag or Last-Modified that could be relied on; its dates are the only
// way to know that nothing changed without downloading.

// EurostatSource is the source that reads what Eurostat provides.
const EurostatSource = "eurostat_asylum"

// Bounds of the conversation with Eurostat.
const (
	// eurostatPollFirst is the first wait before asking an asynchronous
	// request's status; it doubles up to eurostatPollCap.
	eurostatPollFirst = 2 * time.Second
	eurostatPollCap   = time.Minute
	// DefaultEurostatPollMax bounds the waits for one dataset's
	// asynchronous extraction when EurostatConfig.PollMax is 0.
	DefaultEurostatPollMax = 30 * time.Minute
	// eurostatResubmits is how many times an expired extraction is asked
	// for again.
	eurostatResubmits = 3
	// eurostatListMax bounds the files inventory and the table of
	// contents (4.4 MB and 1.9 MB in 2026) once decompressed.
	eurostatListMax = 64 << 20
	// eurostatNoticeMax bounds an answer that is not data (a status, a
	// fault, a queued notice) that is read whole.
	eurostatNoticeMax = 1 << 20
)

var (
	eurostatCodeRe      = regexp.MustCompile(`^[a-z0-9_]+$`)
	eurostatDimRe       = regexp.MustCompile(`^[a-z_]+$`)
	eurostatFilterRe    = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	eurostatListedRe    = regexp.MustCompile(`^[A-Za-z0-9_$.-]+$`)
	eurostatHTMLTitleRe = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
)

// Validate checks the Eurostat section once, when the configuration is
// loaded: an https base URL (plain http only to this machine), at least
// one dataset, dataset codes of lower-case letters, digits and _ listed
// once each, filters of lower-case dimension names and codes of letters,
// digits and _, and a PollMax that is not negative.
func (c EurostatConfig) Validate() error {
	if c.BaseURL == "" {
		if len(c.Datasets) > 0 {
			return errors.New("upstream.eurostat.datasets: listed without upstream.eurostat.base_url; set it (https://ec.europa.eu/eurostat/api/dissemination) or remove the datasets")
		}
		return nil
	}
	var errs []error
	if err := CheckBaseURL("upstream.eurostat.base_url", c.BaseURL); err != nil {
		errs = append(errs, err)
	}
	if len(c.Datasets) == 0 {
		errs = append(errs, errors.New("upstream.eurostat.datasets: list the datasets to fetch, e.g. {code: migr_asyappctza}"))
	}
	if c.PollMax < 0 {
		errs = append(errs, fmt.Errorf("upstream.eurostat.poll_max: %v is negative; 0 means %v", c.PollMax, DefaultEurostatPollMax))
	}
	seen := map[string]int{}
	for i, d := range c.Datasets {
		key := fmt.Sprintf("upstream.eurostat.datasets[%d]", i)
		if !eurostatCodeRe.MatchString(d.Code) {
			errs = append(errs, fmt.Errorf("%s.code: %q is not a Eurostat dataset code (lower-case letters, digits and _, such as migr_asyappctza)", key, d.Code))
		} else if j, dup := seen[d.Code]; dup {
			errs = append(errs, fmt.Errorf("%s.code: %s is listed already as upstream.eurostat.datasets[%d]; list each dataset once", key, d.Code, j))
		} else {
			seen[d.Code] = i
		}
		for _, dim := range eurostatSortedDims(d.Filter) {
			if !eurostatDimRe.MatchString(dim) {
				errs = append(errs, fmt.Errorf("%s.filter: dimension %q is not a Eurostat dimension name (lower-case letters and _, such as citizen)", key, dim))
			}
			if len(d.Filter[dim]) == 0 {
				errs = append(errs, fmt.Errorf("%s.filter.%s: no codes; list the codes to keep or leave the dimension out", key, dim))
			}
			for _, code := range d.Filter[dim] {
				if !eurostatFilterRe.MatchString(code) {
					errs = append(errs, fmt.Errorf("%s.filter.%s: %q is not a Eurostat code (letters, digits and _, such as RU or EU27_2020)", key, dim, code))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// EurostatName is the stable name under which a dataset's snapshots are
// kept: migr_asyappctza.tsv.gz for a whole dataset (SDMX 2.1 TSV), and
// for a filtered one (SDMX-CSV 2.0) its code and filter, such as
// migr_asydcfstq_citizen-AF+BY+GE+RU+SY+UA.csv.gz, dimensions and codes
// sorted, so that another filter is another input. A filter too long for a
// file name is named by its SHA-256 instead.
func EurostatName(d EurostatDataset) string {
	if len(d.Filter) == 0 {
		return d.Code + ".tsv.gz"
	}
	var parts []string
	for _, dim := range eurostatSortedDims(d.Filter) {
		parts = append(parts, dim+"-"+strings.Join(eurostatSortedCodes(d.Filter[dim]), "+"))
	}
	filter := strings.Join(parts, "_")
	if len(filter) > 120 {
		sum := sha256.Sum256([]byte(filter))
		filter = "filter-" + hex.EncodeToString(sum[:6])
	}
	return d.Code + "_" + filter + ".csv.gz"
}

// EurostatURL is the data query of a dataset: the whole dataset as TSV
// through the SDMX 2.1 API, or the filtered extraction as SDMX-CSV 2.0
// through the SDMX 3.0 API (c[dim]=code,code; codes sorted). Both ask for
// gzip; Eurostat may send it, or not, without saying so in a header.
func EurostatURL(base string, d EurostatDataset) string {
	base = strings.TrimRight(base, "/")
	code := strings.ToUpper(d.Code)
	if len(d.Filter) == 0 {
		return base + "/sdmx/2.1/data/" + code + "?format=TSV&compressed=true"
	}
	var q []string
	for _, dim := range eurostatSortedDims(d.Filter) {
		// Validated names and codes: nothing to escape, and Eurostat's
		// own examples write the brackets and commas as they are.
		q = append(q, "c["+dim+"]="+strings.Join(eurostatSortedCodes(d.Filter[dim]), ","))
	}
	return base + "/sdmx/3.0/data/dataflow/ESTAT/" + code + "/1.0?" + strings.Join(q, "&") + "&format=csvdata&formatVersion=2.0&compress=true"
}

func eurostatSortedDims(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func eurostatSortedCodes(codes []string) []string {
	out := slices.Clone(codes)
	sort.Strings(out)
	return slices.Compact(out)
}

// EurostatError is a request to Eurostat's API that failed, with what
// Eurostat said about it and what to do. Its message names Eurostat, the
// dataset and the address.
type EurostatError struct {
	// Dataset is the dataset code; "" for the files inventory and the
	// table of contents.
	Dataset string
	// URL is the address asked, redacted.
	URL string
	// Status is the HTTP status of the answer; 0 when the answer was a
	// 200 that is not what was asked for, or when there was none.
	Status int
	// FaultCode and Fault are Eurostat's own account: a SOAP fault's
	// faultcode and faultstring, or a JSON error's id and label.
	FaultCode, Fault string
	// HTML is set when Eurostat answered with an HTML page (an outage
	// page, or the Commission's "sorry" page); Title is its title.
	HTML  bool
	Title string
	// Advice says what to do, when something can be done.
	Advice string
	// Err is the failure as the fetch reported it.
	Err error
}

// Error implements error.
func (e *EurostatError) Error() string {
	var b strings.Builder
	b.WriteString("Eurostat")
	if e.Dataset != "" {
		b.WriteString(" dataset " + e.Dataset)
	}
	msg := ""
	if e.Err != nil {
		msg = e.Err.Error()
	}
	if !strings.Contains(msg, e.URL) {
		fmt.Fprintf(&b, " (%s)", e.URL)
	}
	b.WriteString(": " + msg)
	if e.Fault != "" && !strings.Contains(msg, e.Fault) {
		fmt.Fprintf(&b, "; Eurostat says %q (fault %s)", e.Fault, e.FaultCode)
	}
	if e.HTML && !strings.Contains(msg, "HTML page") {
		b.WriteString("; " + (&eurostatHTMLPage{Title: e.Title}).Error())
	}
	if e.Advice != "" {
		b.WriteString("; " + e.Advice)
	}
	return b.String()
}

// Unwrap returns the failure as the fetch reported it.
func (e *EurostatError) Unwrap() error { return e.Err }

// eurostatQueued is a data query's 200 answer that holds no data but the
// id of an asynchronous request (the "queued" envelope).
type eurostatQueued struct{ ID, Status string }

func (e *eurostatQueued) Error() string {
	return fmt.Sprintf("Eurostat queued the extraction as asynchronous request %s (%s)", e.ID, e.Status)
}

// eurostatFault is Eurostat's account of a failure in an answer's body: a
// SOAP fault, or a JSON error.
type eurostatFault struct{ Code, String string }

func (e *eurostatFault) Error() string {
	return fmt.Sprintf("Eurostat answered with fault %s: %q", e.Code, e.String)
}

// eurostatHTMLPage is an answer that is an HTML page: an outage page, or
// the Commission's "sorry" page a request is redirected to.
type eurostatHTMLPage struct{ Title string }

func (e *eurostatHTMLPage) Error() string {
	if e.Title == "" {
		return "Eurostat answered with an HTML page (an outage page?)"
	}
	return fmt.Sprintf("Eurostat answered with an HTML page (an outage page?) titled %q", e.Title)
}

// eurostatZipMember is how the inspection of an asynchronous extraction
// delivered as a zip hands on its one member, copied to a temporary file:
// the member, not the zip, is the snapshot.
type eurostatZipMember struct {
	Path, Name string
}

func (e *eurostatZipMember) Error() string {
	return fmt.Sprintf("the extraction is a zip; its member %s is the data", e.Name)
}

// eurostatDate is a date Eurostat gives for a dataset: an instant from the
// files inventory, or a day from the table of contents.
type eurostatDate struct {
	t   time.Time
	day bool
}

// String is RFC 3339 for an instant (with Eurostat's offset), YYYY-MM-DD
// for a day, "" for none.
func (d eurostatDate) String() string {
	switch {
	case d.t.IsZero():
		return ""
	case d.day:
		return d.t.Format(time.DateOnly)
	}
	return d.t.Format(time.RFC3339)
}

// same says whether two dates are the same. A day and an instant compare
// by the instant's day in its own offset (Eurostat's time): the table of
// contents cannot tell two releases of one day apart.
func (d eurostatDate) same(o eurostatDate) bool {
	if d.t.IsZero() || o.t.IsZero() {
		return d.t.IsZero() && o.t.IsZero()
	}
	if d.day || o.day {
		y1, m1, d1 := d.t.Date()
		y2, m2, d2 := o.t.Date()
		return y1 == y2 && m1 == m2 && d1 == d2
	}
	return d.t.Equal(o.t)
}

// parseEurostatHeldDate reads a date as eurostatDate.String wrote it.
func parseEurostatHeldDate(s string) (eurostatDate, error) {
	if s == "" {
		return eurostatDate{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return eurostatDate{t: t}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return eurostatDate{}, fmt.Errorf("date %q is neither RFC 3339 nor YYYY-MM-DD", s)
	}
	return eurostatDate{t: t, day: true}, nil
}

// eurostatDates are a dataset's dates as Eurostat lists them, and where.
type eurostatDates struct {
	data, structure eurostatDate
	from            string // "files inventory" or "table of contents"
}

// Where the dates come from, as notes say it.
const (
	eurostatFromInventory = "files inventory"
	eurostatFromTOC       = "table of contents"
)

// eurostatState is what <store>/upstream/eurostat.json keeps between
// runs: per snapshot name, the dates Eurostat gave when it was downloaded
// and the snapshot they gave. It is written (to a temporary file, then
// renamed) after each successful download only.
type eurostatState struct {
	Version  int                     `json:"version"`
	Datasets map[string]eurostatHeld `json:"datasets"`
}

// eurostatHeld is one dataset's entry in eurostatState.
type eurostatHeld struct {
	Code string `json:"code"`
	// URL is the data query asked (redacted); another query is another
	// dataset, downloaded afresh.
	URL string `json:"url"`
	// LastDataChange and LastStructuralChange are Eurostat's dates at the
	// download: RFC 3339 from the files inventory, YYYY-MM-DD from the
	// table of contents, "" when Eurostat listed none.
	LastDataChange       string `json:"last_data_change,omitempty"`
	LastStructuralChange string `json:"last_structural_change,omitempty"`
	DatesFrom            string `json:"dates_from,omitempty"`
	// SHA256 names the snapshot; SnapshotURL is where its bytes came
	// from (the asynchronous API's data address for a queued request).
	SHA256       string    `json:"sha256"`
	SnapshotURL  string    `json:"snapshot_url"`
	DownloadedAt time.Time `json:"downloaded_at"`
}

// eurostatStatePath is the state file in the store's directory.
func (c *Client) eurostatStatePath() string {
	return filepath.Join(c.Store.Dir(), "upstream", "eurostat.json")
}

// readEurostatState reads the state file; a missing one is an empty state.
func (c *Client) readEurostatState() (eurostatState, error) {
	p := c.eurostatStatePath()
	st := eurostatState{Version: 1, Datasets: map[string]eurostatHeld{}}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read Eurostat state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("read Eurostat state %s: %w (remove the file to download every Eurostat dataset again)", p, err)
	}
	if st.Version != 1 {
		return st, fmt.Errorf("read Eurostat state %s: version %d, want 1 (remove the file to download every Eurostat dataset again)", p, st.Version)
	}
	if st.Datasets == nil {
		st.Datasets = map[string]eurostatHeld{}
	}
	return st, nil
}

// writeEurostatState replaces the state file (WriteState).
func (c *Client) writeEurostatState(st eurostatState) error {
	if err := WriteState(c.eurostatStatePath(), st); err != nil {
		return fmt.Errorf("write Eurostat state: %w", err)
	}
	return nil
}

// eurostatLog is the client's logger, or one that discards.
func (c *Client) eurostatLog() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.DiscardHandler)
}

// eurostatHTTP is the client's HTTP client, or the default one.
func (c *Client) eurostatHTTP() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Eurostat returns the current snapshot of every dataset of cfg, in
// cfg's order: downloaded now when Eurostat's "Last data change" or "Last
// structural change" for it moved since the snapshot held (or none is
// held, or its object is gone from the store), otherwise the snapshot
// held, with Downloaded false and a Note that says why. A base URL of ""
// asks nothing and returns nothing.
//
// Offline, it makes no request: it returns the latest snapshot of every
// dataset, and an error when there is none.
//
// Datasets are asked for one after the other. The first failure stops
// the run: a *EurostatError names the dataset, the address and what
// Eurostat said (its fault, an HTML page's title), with what to do. When
// neither the files inventory nor the table of contents can be read,
// nothing is downloaded.
func (c *Client) Eurostat(ctx context.Context, cfg EurostatConfig) ([]Got, error) {
	if cfg.BaseURL == "" {
		return nil, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if c.Store == nil || c.Fetcher == nil {
		return nil, errors.New("Eurostat: the upstream client has no snapshot store or fetcher")
	}
	if c.Offline {
		return c.eurostatOffline(cfg)
	}
	state, err := c.readEurostatState()
	if err != nil {
		return nil, err
	}
	lists := &eurostatLists{base: strings.TrimRight(cfg.BaseURL, "/"), codes: map[string]bool{}}
	for _, d := range cfg.Datasets {
		lists.codes[strings.ToUpper(d.Code)] = true
	}
	if err := c.eurostatReadLists(ctx, lists); err != nil {
		return nil, err
	}
	var out []Got
	for i, d := range cfg.Datasets {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		g, err := c.eurostatDataset(ctx, cfg, i, d, lists, &state)
		if err != nil {
			return out, err
		}
		out = append(out, g)
	}
	return out, nil
}

// eurostatOffline returns the latest snapshot of every dataset.
func (c *Client) eurostatOffline(cfg EurostatConfig) ([]Got, error) {
	var out []Got
	for _, d := range cfg.Datasets {
		name := EurostatName(d)
		rec, err := c.Store.Latest(EurostatSource, name)
		if err == nil {
			_, err = c.Store.Path(rec.SHA256)
		}
		if err != nil {
			return out, fmt.Errorf("Eurostat dataset %s, offline: no snapshot of %s/%s in %s; run once online (without --offline) first: %w",
				d.Code, EurostatSource, name, c.Store.Dir(), err)
		}
		out = append(out, Got{Source: EurostatSource, Name: name, Record: rec,
			Note: "offline: the snapshot retrieved " + rec.RetrievedAt.Format(time.RFC3339)})
	}
	return out, nil
}

// eurostatLists holds the dates of the files inventory and, when it was
// needed, of the table of contents.
type eurostatLists struct {
	base  string
	codes map[string]bool // the configured codes, upper case
	// inventory is nil when it could not be read (invErr says why).
	inventory map[string]eurostatDates
	invErr    error
	toc       map[string]eurostatDates
	tocErr    error
	tocRead   bool
}

func (l *eurostatLists) inventoryURL() string { return l.base + "/files/inventory?type=data&lang=en" }
func (l *eurostatLists) tocURL() string       { return l.base + "/catalogue/toc/txt?lang=en" }

// eurostatReadLists reads the files inventory, and the table of contents
// when the inventory fails. It fails when neither can be read.
func (c *Client) eurostatReadLists(ctx context.Context, l *eurostatLists) error {
	l.inventory, l.invErr = c.eurostatList(ctx, l.inventoryURL(), l.codes, parseEurostatInventory)
	if l.invErr == nil {
		return nil
	}
	if ctx.Err() != nil {
		return l.invErr
	}
	c.eurostatReadTOC(ctx, l)
	if l.tocErr != nil {
		return fmt.Errorf("Eurostat: cannot tell which datasets changed, so nothing was downloaded: %w", errors.Join(l.invErr, l.tocErr))
	}
	// The run goes on without the inventory: say why once.
	c.eurostatLog().Warn("eurostat files inventory unusable; the table of contents gives the dates", "source", EurostatSource, "error", l.invErr)
	return nil
}

// eurostatReadTOC reads the table of contents, once.
func (c *Client) eurostatReadTOC(ctx context.Context, l *eurostatLists) {
	if l.tocRead {
		return
	}
	l.tocRead = true
	l.toc, l.tocErr = c.eurostatList(ctx, l.tocURL(), l.codes, parseEurostatTOC)
}

// eurostatDatesOf returns a dataset's dates: from the inventory, else from the
// table of contents, read now when needed. ok is false when neither lists
// the dataset; why then says what was tried.
func (c *Client) eurostatDatesOf(ctx context.Context, l *eurostatLists, code string) (d eurostatDates, ok bool, why string) {
	upper := strings.ToUpper(code)
	if d, ok := l.inventory[upper]; ok {
		return d, true, ""
	}
	c.eurostatReadTOC(ctx, l)
	if d, ok := l.toc[upper]; ok {
		return d, true, ""
	}
	inv := "not in the files inventory"
	if l.invErr != nil {
		inv = "the files inventory failed"
	}
	toc := "nor in the table of contents"
	if l.tocErr != nil {
		toc = "and the table of contents failed (" + l.tocErr.Error() + ")"
	}
	return eurostatDates{}, false, inv + " " + toc
}

// eurostatList reads one of Eurostat's lists and parses it.
func (c *Client) eurostatList(ctx context.Context, rawURL string, codes map[string]bool,
	parse func(b []byte, codes map[string]bool) (map[string]eurostatDates, error)) (map[string]eurostatDates, error) {
	b, _, err := c.eurostatGet(ctx, rawURL, eurostatListMax)
	if err != nil {
		return nil, eurostatFailure("", -1, false, rawURL, err)
	}
	if err := eurostatNotData(b); err != nil {
		return nil, eurostatFailure("", -1, false, rawURL, fmt.Errorf("GET %s: %w", snapshot.RedactURL(rawURL), err))
	}
	dates, err := parse(b, codes)
	if err != nil {
		return nil, &EurostatError{URL: snapshot.RedactURL(rawURL), Err: err}
	}
	return dates, nil
}

// parseEurostatInventory reads the files inventory: tab-separated, a
// header naming its columns (found by name), codes upper case, ISO
// timestamps with an offset (2026-05-13T11:00:00+0200). Every line must
// have the header's fields and a code; the dates of the configured codes
// must read. A line that does not is an error naming it.
func parseEurostatInventory(b []byte, codes map[string]bool) (map[string]eurostatDates, error) {
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	header := strings.Split(strings.TrimSuffix(strings.TrimPrefix(lines[0], "\ufeff"), "\r"), "\t")
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	var idx [3]int
	for i, name := range []string{"Code", "Last data change", "Last structural change"} {
		j, ok := col[strings.ToLower(name)]
		if !ok {
			return nil, fmt.Errorf("files inventory line 1: no column %q in the header %q", name, eurostatClip(lines[0], 300))
		}
		idx[i] = j
	}
	out := map[string]eurostatDates{}
	for n, line := range lines[1:] {
		ln := n + 2
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != len(header) {
			return nil, fmt.Errorf("files inventory line %d: %d fields, the header has %d: %q", ln, len(fields), len(header), eurostatClip(line, 300))
		}
		code := strings.TrimSpace(fields[idx[0]])
		if !eurostatListedRe.MatchString(code) {
			return nil, fmt.Errorf("files inventory line %d: %q is not a dataset code: %q", ln, code, eurostatClip(line, 300))
		}
		if !codes[strings.ToUpper(code)] {
			continue
		}
		var d eurostatDates
		d.from = eurostatFromInventory
		for i, dst := range []*eurostatDate{&d.data, &d.structure} {
			v := strings.TrimSpace(fields[idx[1+i]])
			t, err := parseEurostatInventoryTime(v)
			if err != nil {
				return nil, fmt.Errorf("files inventory line %d: %s of %s: %w: %q", ln, header[idx[1+i]], code, err, eurostatClip(line, 300))
			}
			*dst = eurostatDate{t: t}
		}
		up := strings.ToUpper(code)
		if prev, ok := out[up]; ok && prev.data.t.After(d.data.t) {
			continue // listed twice: the later date counts
		}
		out[up] = d
	}
	return out, nil
}

// parseEurostatInventoryTime reads 2026-05-13T11:00:00+0200 (or with +02:00).
func parseEurostatInventoryTime(v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp like 2026-05-13T11:00:00+0200", v)
}

// parseEurostatTOC reads the table of contents (TXT): tab-separated with
// quoted fields, a header naming its columns, codes lower case, dates
// DD.MM.YYYY (" " for folders). A code can be on several lines; the
// latest date counts.
func parseEurostatTOC(b []byte, codes map[string]bool) (map[string]eurostatDates, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff"))))
	r.Comma = '\t'
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("table of contents line 1: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	var idx [3]int
	for i, name := range []string{"code", "last update of data", "last table structure change"} {
		j, ok := col[name]
		if !ok {
			return nil, fmt.Errorf("table of contents line 1: no column %q in the header %q", name, strings.Join(header, "\t"))
		}
		idx[i] = j
	}
	out := map[string]eurostatDates{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("table of contents line %d: %w", line, err)
		}
		if len(rec) != len(header) {
			return nil, fmt.Errorf("table of contents line %d: %d fields, the header has %d: %q", line, len(rec), len(header), eurostatClip(strings.Join(rec, "\t"), 300))
		}
		code := strings.ToUpper(strings.TrimSpace(rec[idx[0]]))
		if !codes[code] {
			continue
		}
		d := eurostatDates{from: eurostatFromTOC}
		for i, dst := range []*eurostatDate{&d.data, &d.structure} {
			v := strings.TrimSpace(rec[idx[1+i]])
			if v == "" {
				continue
			}
			t, err := time.Parse("02.01.2006", v)
			if err != nil {
				return nil, fmt.Errorf("table of contents line %d: %s of %s: %q is not a date DD.MM.YYYY", line, header[idx[1+i]], strings.ToLower(code), v)
			}
			*dst = eurostatDate{t: t, day: true}
		}
		if d.data.t.IsZero() {
			continue
		}
		if prev, ok := out[code]; ok && !d.data.t.After(prev.data.t) {
			continue // listed again: the latest date counts
		}
		out[code] = d
	}
}

// eurostatDataset decides about one dataset and downloads it when needed.
func (c *Client) eurostatDataset(ctx context.Context, cfg EurostatConfig, i int, d EurostatDataset, lists *eurostatLists, state *eurostatState) (Got, error) {
	name := EurostatName(d)
	queryURL := EurostatURL(lists.base, d)
	g := Got{Source: EurostatSource, Name: name}
	dates, listed, why := c.eurostatDatesOf(ctx, lists, d.Code)
	held, hasHeld := state.Datasets[name]
	rec, recOK, err := c.eurostatHeldRecord(name, held)
	if err != nil {
		return g, err
	}
	heldData, err := parseEurostatHeldDate(held.LastDataChange)
	if err != nil {
		return g, fmt.Errorf("Eurostat dataset %s: state %s: %w", d.Code, c.eurostatStatePath(), err)
	}
	heldStructure, err := parseEurostatHeldDate(held.LastStructuralChange)
	if err != nil {
		return g, fmt.Errorf("Eurostat dataset %s: state %s: %w", d.Code, c.eurostatStatePath(), err)
	}

	// A structure change can rename dimensions or codes (asyl_app
	// became applicant): worth a download and a word in the log.
	structureMoved := listed && !heldStructure.t.IsZero() && !dates.structure.t.IsZero() && !dates.structure.same(heldStructure)
	var reason string
	switch {
	case !hasHeld || held.SHA256 == "":
		reason = "no snapshot held"
	case held.URL != snapshot.RedactURL(queryURL):
		reason = "the query changed (held " + held.URL + ")"
	case !recOK:
		reason = "the held snapshot " + eurostatShortSHA(held.SHA256) + " is gone from the store"
	case !listed:
		reason = "Eurostat lists no date for it (" + why + ")"
	case heldData.t.IsZero():
		reason = "no date was known when the snapshot held was downloaded"
	case !dates.data.same(heldData):
		reason = "last data change " + dates.data.String() + " (" + dates.from + "), held " + heldData.String()
	case structureMoved:
		reason = "last structural change " + dates.structure.String() + " (" + dates.from + "), held " + heldStructure.String() + "; the codes may have changed"
	default:
		g.Record = rec
		g.Note = "unchanged since " + dates.data.String() + " (" + dates.from + ")"
		return g, nil
	}
	if structureMoved {
		// The loader stops on a code it does not know.
		c.eurostatLog().Warn("eurostat structure changed", "source", EurostatSource, "file", name, "dataset", d.Code,
			"last_structural_change", dates.structure.String(), "held", heldStructure.String())
	}
	if listed && reason == "no snapshot held" {
		reason += "; last data change " + dates.data.String() + " (" + dates.from + ")"
	}

	res, note, err := c.eurostatDownload(ctx, cfg, i, d, name, queryURL)
	if err != nil {
		return g, err
	}
	g.Record, g.Downloaded, g.Attempts = res.Record, !res.NotModified, res.Attempts
	g.Note = reason
	if res.NotModified {
		g.Note += "; Eurostat answered 304 Not Modified"
	}
	if note != "" {
		g.Note += "; " + note
	}
	state.Datasets[name] = eurostatHeld{
		Code:                 d.Code,
		URL:                  snapshot.RedactURL(queryURL),
		LastDataChange:       dates.data.String(),
		LastStructuralChange: dates.structure.String(),
		DatesFrom:            dates.from,
		SHA256:               res.Record.SHA256,
		SnapshotURL:          res.Record.URL,
		DownloadedAt:         c.now().UTC(),
	}
	if err := c.writeEurostatState(*state); err != nil {
		return g, err
	}
	return g, nil
}

func eurostatShortSHA(s string) string { return s[:min(12, len(s))] }

// eurostatHeldRecord finds the record of the held snapshot whose object
// is still in the store; ok is false when there is none.
func (c *Client) eurostatHeldRecord(name string, held eurostatHeld) (snapshot.Record, bool, error) {
	if held.SHA256 == "" {
		return snapshot.Record{}, false, nil
	}
	if _, err := c.Store.Path(held.SHA256); err != nil {
		return snapshot.Record{}, false, nil
	}
	latest, err := c.Store.Latest(EurostatSource, name)
	switch {
	case errors.Is(err, snapshot.ErrNoRecord):
		return snapshot.Record{}, false, nil
	case err != nil:
		return snapshot.Record{}, false, fmt.Errorf("Eurostat: %w", err)
	case latest.SHA256 == held.SHA256:
		return latest, true, nil
	}
	hist, err := c.Store.History(EurostatSource, name)
	if err != nil {
		return snapshot.Record{}, false, fmt.Errorf("Eurostat: %w", err)
	}
	for i := len(hist) - 1; i >= 0; i-- {
		if hist[i].SHA256 == held.SHA256 {
			return hist[i], true, nil
		}
	}
	return snapshot.Record{}, false, nil
}

// eurostatDownload fetches a dataset's data query; a queued answer goes
// through the asynchronous API. note says how it was delivered when that
// is worth saying.
func (c *Client) eurostatDownload(ctx context.Context, cfg EurostatConfig, i int, d EurostatDataset, name, queryURL string) (snapshot.Result, string, error) {
	pollMax := cfg.PollMax
	if pollMax == 0 {
		pollMax = DefaultEurostatPollMax
	}
	fail := func(rawURL string, err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("Eurostat dataset %s: %w", d.Code, err)
		}
		return eurostatFailure(d.Code, i, len(d.Filter) > 0, rawURL, err)
	}
	var waited time.Duration
	start := c.now()
	attempts := 0
	var notes []string
	for submits := 0; ; submits++ {
		res, err := c.Fetcher.Fetch(ctx, c.eurostatHTTP(), c.Store, snapshot.FetchRequest{
			Source: EurostatSource, Name: name, URL: queryURL, Expect: snapshot.KindTable,
			Inspect: eurostatInspectData, Progress: c.progress(EurostatSource, name)})
		attempts += max(res.Attempts, 1)
		var queued *eurostatQueued
		if err == nil {
			res.Attempts = attempts
			return res, strings.Join(notes, "; "), nil
		}
		if !errors.As(err, &queued) {
			return res, "", fail(queryURL, err)
		}
		status, polls, err := c.eurostatPoll(ctx, queued.ID, d.Code, i, pollMax, start, &waited, cfg.BaseURL)
		attempts += polls
		if err != nil {
			return res, "", err
		}
		switch status {
		case "AVAILABLE":
			res, note, n, err := c.eurostatAsyncData(ctx, cfg.BaseURL, queued.ID, name)
			attempts += n
			if err != nil {
				return res, "", fail(eurostatAsyncURL(cfg.BaseURL, "data", queued.ID), err)
			}
			res.Attempts = attempts
			notes = append(notes, fmt.Sprintf("delivered asynchronously (Eurostat request %s, %d status polls)", queued.ID, polls))
			if note != "" {
				notes = append(notes, note)
			}
			return res, strings.Join(notes, "; "), nil
		case "EXPIRED":
			if submits >= eurostatResubmits {
				return res, "", &EurostatError{Dataset: d.Code, URL: snapshot.RedactURL(queryURL),
					Err:    fmt.Errorf("the asynchronous extraction expired %d times before it could be fetched", submits+1),
					Advice: "try again later; Eurostat drops prepared extractions after a few days or when the dataset is updated"}
			}
			notes = append(notes, fmt.Sprintf("Eurostat request %s expired; asked again", queued.ID))
			c.eurostatLog().Info("eurostat extraction expired; asking again", "source", EurostatSource, "file", name, "request", queued.ID)
		}
	}
}

// eurostatAsyncURL is an address of the asynchronous API: what is
// "status" or "data".
func eurostatAsyncURL(base, what, id string) string {
	return strings.TrimRight(base, "/") + "/1.0/async/" + what + "/" + id
}

// eurostatPoll asks an asynchronous request's status until it is
// AVAILABLE or EXPIRED, waiting 2 s, then twice as long each time up to a
// minute, while the waits for the dataset stay within pollMax. It returns
// the status and the number of polls; UNKNOWN_REQUEST, ERROR, any other
// status and a fault are errors.
func (c *Client) eurostatPoll(ctx context.Context, id, code string, i int, pollMax time.Duration, start time.Time, waited *time.Duration, base string) (string, int, error) {
	statusURL := eurostatAsyncURL(base, "status", id)
	wait := eurostatPollFirst
	polls := 0
	for {
		spent := max(*waited, c.now().Sub(start))
		if spent+wait > pollMax {
			return "", polls, &EurostatError{Dataset: code, URL: snapshot.RedactURL(statusURL),
				Err:    fmt.Errorf("the asynchronous extraction %s was not ready after %v of waiting", id, spent.Round(time.Second)),
				Advice: fmt.Sprintf("raise upstream.eurostat.poll_max (now %v), or narrow upstream.eurostat.datasets[%d].filter for %s", pollMax, i, code)}
		}
		if err := c.sleep(ctx, wait); err != nil {
			return "", polls, fmt.Errorf("Eurostat dataset %s: waiting for asynchronous request %s: %w", code, id, err)
		}
		*waited += wait
		wait = min(2*wait, eurostatPollCap)
		b, n, err := c.eurostatGet(ctx, statusURL, eurostatNoticeMax)
		polls += n
		if err != nil {
			return "", polls, eurostatFailure(code, i, false, statusURL, err)
		}
		status, err := eurostatAsyncStatus(b)
		if err != nil {
			return "", polls, eurostatFailure(code, i, false, statusURL, fmt.Errorf("GET %s: %w", snapshot.RedactURL(statusURL), err))
		}
		switch status {
		case "AVAILABLE", "EXPIRED":
			return status, polls, nil
		case "SUBMITTED", "PROCESSING":
			continue
		}
		return "", polls, &EurostatError{Dataset: code, URL: snapshot.RedactURL(statusURL),
			Err: fmt.Errorf("GET %s: the asynchronous request %s is %s", snapshot.RedactURL(statusURL), id, status)}
	}
}

// eurostatAsyncStatus reads an asyncResponse's status, by local names; a
// fault or an HTML page in its place is an error saying so.
func eurostatAsyncStatus(b []byte) (string, error) {
	if eurostatSniff(b) == "xml" {
		leaves, _ := eurostatXMLLeaves(b)
		if s, ok := eurostatLeafAt(leaves, "asyncResponse", "status", "status"); ok && s != "" {
			return s, nil
		}
	}
	if err := eurostatNotData(b); err != nil {
		return "", err
	}
	return "", fmt.Errorf("no asynchronous status in the answer: %q", eurostatClip(string(b), 300))
}

// eurostatAsyncData fetches an available extraction. Its container is not
// documented: gzip and plain text are stored as they come; a zip of one
// member is unpacked and the member stored, which note says.
func (c *Client) eurostatAsyncData(ctx context.Context, base, id, name string) (snapshot.Result, string, int, error) {
	dataURL := eurostatAsyncURL(base, "data", id)
	limit := c.Fetcher.Config().MaxBytes
	var member *eurostatZipMember
	inspect := func(f *os.File, size int64, h http.Header) error {
		head := make([]byte, 4)
		n, _ := f.ReadAt(head, 0)
		if !bytes.HasPrefix(head[:n], []byte("PK\x03\x04")) {
			return eurostatInspectData(f, size, h)
		}
		m, err := eurostatUnzipOne(f, size, limit)
		if err != nil {
			return err
		}
		member = m
		return m
	}
	res, err := c.Fetcher.Fetch(ctx, c.eurostatHTTP(), c.Store, snapshot.FetchRequest{
		Source: EurostatSource, Name: name, URL: dataURL, Expect: snapshot.KindTable,
		Inspect: inspect, Progress: c.progress(EurostatSource, name)})
	if member != nil {
		defer os.Remove(member.Path)
	}
	if err == nil {
		return res, "", res.Attempts, nil
	}
	var zm *eurostatZipMember
	if !errors.As(err, &zm) {
		return res, "", max(res.Attempts, 1), err
	}
	f, err := os.Open(zm.Path)
	if err != nil {
		return res, "", 1, fmt.Errorf("GET %s: %w", snapshot.RedactURL(dataURL), err)
	}
	defer f.Close()
	if err := eurostatCheckMember(f); err != nil {
		return res, "", 1, fmt.Errorf("GET %s: the zip's member %s: %w", snapshot.RedactURL(dataURL), zm.Name, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return res, "", 1, err
	}
	// The headers describe the zip, not its member: none is kept.
	rec, err := c.Store.Put(ctx, f, snapshot.Provenance{Source: EurostatSource, Name: name, URL: dataURL, RetrievedAt: c.now()})
	if err != nil {
		return res, "", 1, fmt.Errorf("GET %s: %w", snapshot.RedactURL(dataURL), err)
	}
	return snapshot.Result{Record: rec, Attempts: 1}, "the extraction came as a zip; its one member " + zm.Name + " is the snapshot", 1, nil
}

// eurostatUnzipOne copies the one member of the zip f to a temporary file,
// refusing a zip of more or fewer files or a member above limit bytes.
func eurostatUnzipOne(f *os.File, size, limit int64) (*eurostatZipMember, error) {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return nil, fmt.Errorf("the extraction is a damaged zip: %w", err)
	}
	if len(zr.File) != 1 {
		var names []string
		for _, zf := range zr.File {
			names = append(names, zf.Name)
		}
		return nil, fmt.Errorf("the extraction is a zip of %d files (%s), want one", len(zr.File), strings.Join(names, ", "))
	}
	zf := zr.File[0]
	if zf.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("the zip's member %s unzips to %d bytes: %w of %d bytes (http.max_bytes)", zf.Name, zf.UncompressedSize64, snapshot.ErrTooLarge, limit)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("the zip's member %s: %w", zf.Name, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp("", "visastats-eurostat-member-*")
	if err != nil {
		return nil, err
	}
	n, err := io.Copy(tmp, io.LimitReader(rc, limit+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("the zip's member %s: %w", zf.Name, err)
	case n > limit:
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("the zip's member %s: %w of %d bytes (http.max_bytes)", zf.Name, snapshot.ErrTooLarge, limit)
	}
	return &eurostatZipMember{Path: tmp.Name(), Name: zf.Name}, nil
}

// eurostatCheckMember checks that a zip's member is a table as the sources
// read it (text, or gzip of it), not a page, a document or binary data.
func eurostatCheckMember(f *os.File) error {
	head := make([]byte, 512)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return err
	}
	head = head[:n]
	switch {
	case n == 0:
		return errors.New("it is empty")
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return nil
	case bytes.IndexByte(head, 0) >= 0:
		return errors.New("it is binary data, not a table")
	}
	return eurostatNotData(head)
}

// eurostatFailure makes a failed request's error: what Eurostat said in
// the answer's body, and advice for what can be done. i < 0 is a request
// that belongs to no configured dataset.
func eurostatFailure(code string, i int, filtered bool, rawURL string, err error) error {
	var ee *EurostatError
	if errors.As(err, &ee) {
		return err
	}
	e := &EurostatError{Dataset: code, URL: snapshot.RedactURL(rawURL), Err: err}
	var herr *snapshot.HTTPError
	var fault *eurostatFault
	var page *eurostatHTMLPage
	switch {
	case errors.As(err, &herr):
		e.Status, e.URL = herr.Status, herr.URL
		e.FaultCode, e.Fault, e.HTML, e.Title = describeEurostatBody(herr.Body)
	case errors.As(err, &fault):
		e.FaultCode, e.Fault = fault.Code, fault.String
	case errors.As(err, &page):
		e.HTML, e.Title = true, page.Title
	}
	switch {
	case e.Status == http.StatusRequestEntityTooLarge || e.FaultCode == "413" || strings.HasPrefix(e.Fault, "EXTRACTION_TOO_BIG"):
		if i >= 0 && filtered {
			e.Advice = fmt.Sprintf("the extraction is above Eurostat's limit and is never retried: narrow upstream.eurostat.datasets[%d].filter for %s (fewer codes, or a filter on another dimension such as geo)", i, code)
		} else if i >= 0 {
			e.Advice = fmt.Sprintf("the extraction is above Eurostat's limit and is never retried: give upstream.eurostat.datasets[%d] (%s) a filter, e.g. {citizen: [RU, UA]}", i, code)
		}
	case e.HTML:
		e.Advice = "Eurostat's site looks unavailable; try again later"
	case i >= 0 && (e.Status == http.StatusBadRequest || e.Status == http.StatusNotFound) && e.Fault != "":
		e.Advice = fmt.Sprintf("check upstream.eurostat.datasets[%d] (%s): its code and filter against the dataset's dimensions and codes", i, code)
	}
	return e
}

// describeEurostatBody reads what an error answer says: a SOAP fault, a
// JSON error, or an HTML page's title. The body may be the start of a
// gzip stream.
func describeEurostatBody(body []byte) (faultCode, fault string, isHTML bool, title string) {
	b := eurostatGunzipHead(body, eurostatNoticeMax)
	err := eurostatNotData(b)
	var f *eurostatFault
	var page *eurostatHTMLPage
	switch {
	case errors.As(err, &f):
		return f.Code, f.String, false, ""
	case errors.As(err, &page):
		return "", "", true, page.Title
	}
	return "", "", false, ""
}

// eurostatInspectData refuses a data query's 200 answer that is not data:
// the queued envelope (its id goes on to the asynchronous API), a fault,
// an HTML page, JSON. It reads the start of the body (decompressed when
// gzip), and all of it only when it is XML or JSON.
func eurostatInspectData(f *os.File, size int64, _ http.Header) error {
	sec := io.NewSectionReader(f, 0, size)
	head := make([]byte, 64<<10)
	n, _ := io.ReadFull(sec, head)
	head = head[:n]
	gz := bytes.HasPrefix(head, []byte{0x1f, 0x8b})
	if gz {
		head = eurostatGunzipHead(head, 64<<10)
	}
	if kind := eurostatSniff(head); kind != "xml" && kind != "json" {
		return eurostatNotData(head)
	}
	// A notice: small, read it whole.
	var r io.Reader = io.NewSectionReader(f, 0, size)
	if gz {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("a broken gzip stream: %w", err)
		}
		r = zr
	}
	b, err := io.ReadAll(io.LimitReader(r, eurostatNoticeMax+1))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read the answer: %w", err)
	}
	if len(b) > eurostatNoticeMax {
		return fmt.Errorf("an XML or JSON document of more than %d bytes instead of the data: %q", eurostatNoticeMax, eurostatClip(string(b), 300))
	}
	if err := eurostatNotData(b); err != nil {
		return err
	}
	return fmt.Errorf("an XML or JSON document instead of the data: %q", eurostatClip(string(b), 300))
}

// eurostatNotData says what an answer that is not a table is: a queued
// envelope, a fault (SOAP or JSON), an HTML page, or another XML or JSON
// document; nil when it looks like text data.
func eurostatNotData(b []byte) error {
	switch eurostatSniff(b) {
	case "html":
		return &eurostatHTMLPage{Title: eurostatHTMLTitle(b)}
	case "xml":
		leaves, err := eurostatXMLLeaves(b)
		if id, ok := eurostatLeafAt(leaves, "queued", "id"); ok && id != "" {
			st, _ := eurostatLeafAt(leaves, "queued", "status")
			return &eurostatQueued{ID: id, Status: st}
		}
		code, okCode := eurostatLeafAt(leaves, "Fault", "faultcode")
		msg, okMsg := eurostatLeafAt(leaves, "Fault", "faultstring")
		if okCode || okMsg {
			return &eurostatFault{Code: code, String: msg}
		}
		if _, ok := eurostatLeafAt(leaves, "asyncResponse", "status", "status"); ok {
			return errors.New("an asynchronous status instead of the data")
		}
		if err != nil {
			return fmt.Errorf("malformed XML instead of the data (%v): %q", err, eurostatClip(string(b), 300))
		}
		return fmt.Errorf("an XML document instead of the data: %q", eurostatClip(string(b), 300))
	case "json":
		if f := eurostatJSONFault(b); f != nil {
			return f
		}
		return fmt.Errorf("a JSON document instead of the data: %q", eurostatClip(string(b), 300))
	}
	return nil
}

// eurostatSniff says what a body starting with b is: "html", "xml",
// "json", or "" for anything else.
func eurostatSniff(b []byte) string {
	t := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	lower := bytes.ToLower(t[:min(len(t), 512)])
	switch {
	case bytes.HasPrefix(lower, []byte("<!doctype html")), bytes.HasPrefix(lower, []byte("<html")):
		return "html"
	case bytes.HasPrefix(t, []byte("<")):
		if bytes.Contains(lower, []byte("<html")) {
			return "html"
		}
		return "xml"
	case bytes.HasPrefix(t, []byte("{")), bytes.HasPrefix(t, []byte("[")):
		return "json"
	}
	return ""
}

// eurostatHTMLTitle returns an HTML page's title, tidied, or "".
func eurostatHTMLTitle(b []byte) string {
	m := eurostatHTMLTitleRe.FindSubmatch(b)
	if m == nil {
		return ""
	}
	return eurostatClip(strings.Join(strings.Fields(html.UnescapeString(string(m[1]))), " "), 200)
}

// eurostatJSONFault reads the Statistics API's error document,
// {"error":[{"status":400,"id":150,"label":"..."}]} (or one object).
func eurostatJSONFault(b []byte) *eurostatFault {
	var doc struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(b, &doc) != nil || len(doc.Error) == 0 {
		return nil
	}
	type item struct {
		Status int             `json:"status"`
		ID     json.RawMessage `json:"id"`
		Label  string          `json:"label"`
	}
	var items []item
	if json.Unmarshal(doc.Error, &items) != nil {
		var one item
		if json.Unmarshal(doc.Error, &one) != nil {
			return nil
		}
		items = []item{one}
	}
	if len(items) == 0 {
		return nil
	}
	id := strings.Trim(string(items[0].ID), `"`)
	if id == "" {
		id = strconv.Itoa(items[0].Status)
	}
	return &eurostatFault{Code: id, String: items[0].Label}
}

// eurostatXMLLeaf is an element without child elements: its path of local names
// from the root and its text.
type eurostatXMLLeaf struct {
	path []string
	text string
}

// eurostatXMLLeaves lists the leaves of an XML document by local names, so that
// answers are read whatever prefixes their namespaces have. It returns
// the leaves read before a syntax error with the error.
func eurostatXMLLeaves(b []byte) ([]eurostatXMLLeaf, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var leaves []eurostatXMLLeaf
	var stack []string
	var parent []bool // whether the element has child elements
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return leaves, nil
		}
		if err != nil {
			return leaves, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(parent) > 0 {
				parent[len(parent)-1] = true
			}
			stack = append(stack, t.Name.Local)
			parent = append(parent, false)
			text.Reset()
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if len(stack) == 0 {
				return leaves, errors.New("unbalanced end element")
			}
			if !parent[len(parent)-1] {
				leaves = append(leaves, eurostatXMLLeaf{path: slices.Clone(stack), text: strings.TrimSpace(text.String())})
			}
			stack, parent = stack[:len(stack)-1], parent[:len(parent)-1]
			text.Reset()
		}
	}
}

// eurostatLeafAt returns the text of the first leaf whose path ends with suffix.
func eurostatLeafAt(leaves []eurostatXMLLeaf, suffix ...string) (string, bool) {
	for _, l := range leaves {
		if len(l.path) >= len(suffix) && slices.Equal(l.path[len(l.path)-len(suffix):], suffix) {
			return l.text, true
		}
	}
	return "", false
}

// eurostatGunzipHead returns b decompressed when it starts a gzip stream (as much
// as decompresses, up to limit bytes; a cut stream gives its start), else
// b.
func eurostatGunzipHead(b []byte, limit int64) []byte {
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		return b
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return b
	}
	out, _ := io.ReadAll(io.LimitReader(zr, limit))
	return out
}

// eurostatClip shortens s to n bytes at most, saying so.
func eurostatClip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// eurostatGet reads one of Eurostat's small answers (the files inventory,
// the table of contents, an asynchronous status) whole, up to limit bytes
// once decompressed. These decide what to download and are not inputs, so
// they are read, not kept in the snapshot store. It retries network
// errors, 429 and 5xx answers as the fetcher does (its retries, waits,
// timeout and user agent) and returns the number of requests made. A
// status other than 200 is a *snapshot.HTTPError.
func (c *Client) eurostatGet(ctx context.Context, rawURL string, limit int64) ([]byte, int, error) {
	cfg := c.Fetcher.Config()
	shown := snapshot.RedactURL(rawURL)
	for attempt := 1; ; attempt++ {
		b, retry, err := c.eurostatGetOnce(ctx, rawURL, limit, cfg)
		switch {
		case err == nil:
			return b, attempt, nil
		case ctx.Err() != nil:
			return nil, attempt, fmt.Errorf("GET %s: %w", shown, err)
		case !retry:
			return nil, attempt, err
		case attempt > cfg.Retries:
			return nil, attempt, fmt.Errorf("giving up after %d attempts: %w", attempt, err)
		}
		wait := cfg.Wait(attempt)
		if serr := c.sleep(ctx, wait); serr != nil {
			return nil, attempt, fmt.Errorf("waiting %v to retry after attempt %d (%w): %w", wait, attempt, err, serr)
		}
	}
}

// eurostatGetOnce makes one request; retry says whether another may fare
// better.
func (c *Client) eurostatGetOnce(ctx context.Context, rawURL string, limit int64, cfg snapshot.FetchConfig) ([]byte, bool, error) {
	shown := snapshot.RedactURL(rawURL)
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, false, fmt.Errorf("GET %s: %w", shown, err)
	}
	req.Header.Set("User-Agent", cfg.UserAgent)
	// Eurostat gzips without saying so; ask for the bytes as they are
	// and look at them.
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := c.eurostatHTTP().Do(req)
	if err != nil {
		// *url.Error names the address unredacted; name it redacted.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, true, fmt.Errorf("GET %s: %w", shown, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		herr := &snapshot.HTTPError{URL: shown, Status: resp.StatusCode, Body: body}
		return nil, herr.Temporary(), herr
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, true, fmt.Errorf("GET %s: %w", shown, err)
	}
	if int64(len(b)) > limit {
		return nil, false, fmt.Errorf("GET %s: %w of %d bytes", shown, snapshot.ErrTooLarge, limit)
	}
	if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, true, fmt.Errorf("GET %s: a broken gzip stream: %w", shown, err)
		}
		b, err = io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, true, fmt.Errorf("GET %s: a broken gzip stream: %w", shown, err)
		}
		if int64(len(b)) > limit {
			return nil, false, fmt.Errorf("GET %s: it decompresses to more than %d bytes: %w", shown, limit, snapshot.ErrTooLarge)
		}
	}
	return b, false, nil
}
