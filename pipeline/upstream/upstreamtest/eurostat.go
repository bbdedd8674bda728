package upstreamtest

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// Eurostat is a fake of Eurostat's dissemination API
// (https://ec.europa.eu/eurostat/api/dissemination), as
// ../shared/docs/LIVE_SOURCES.md sections 1 and 2 describe it. Mount it at
// any prefix: the base URL is the server's URL followed by that prefix
// (the handler finds its paths at the end of the request's path), e.g.
//
//	fake, err := upstreamtest.NewEurostat(upstreamtest.DataDir(t))
//	srv := httptest.NewServer(fake)
//	base := srv.URL + "/eurostat/api/dissemination"
//
// It serves four datasets, built from the real files in data/eurostat and
// converted into the shapes and codings of today's API (see NewEurostat):
//
//	GET {base}/files/inventory?type=data&lang=en
//	    the files inventory: tab-separated, codes upper case, ISO dates
//	GET {base}/catalogue/toc/txt?lang=en
//	    the table of contents: quoted tab-separated, codes lower case,
//	    DD.MM.YYYY dates, one code on two lines
//	GET {base}/sdmx/2.1/data/{CODE}?format=TSV&compressed=true
//	    a whole dataset as TSV, gzipped without Content-Encoding, chunked
//	    without Content-Length, Content-Disposition
//	    attachment; filename="estat_<code>_en.tsv.gz"
//	GET {base}/sdmx/3.0/data/dataflow/ESTAT/{CODE}/1.0?c[dim]=A,B&format=csvdata&formatVersion=2.0&compress=true
//	    a filtered extraction as SDMX-CSV 2.0; answered, by default, with
//	    the "queued" SOAP envelope (gzipped when compress is not false)
//	GET {base}/1.0/async/status/{id}
//	    SUBMITTED at the first poll, PROCESSING at the second, AVAILABLE
//	    from the third (or EXPIRED, see ExpireOnce; UNKNOWN_REQUEST for an
//	    id it never gave)
//	GET {base}/1.0/async/data/{id}
//	    the extraction, in a zip of one member by default (see
//	    SetAsyncContainer); fault 100 DATA_NOT_YET_AVAILABLE before
//	    AVAILABLE
//
// An unknown dataset is a 404 with fault 100, a filter on a dimension the
// dataset does not have a 400 with fault 150, a format it does not serve a
// 400 with fault 140, as Eurostat answers.
//
// Switches (SetDown, SetOutage, SetTooBig, SetFault, ExpireOnce,
// SetQueued, SetAsyncStatus, LeaveOutOfInventory, SetInventoryGarbage,
// SetAsyncContainer)
// make it misbehave; Revise, SetDataChanged and SetStructureChanged publish
// a new release of a dataset; Count and URLs tell what was asked; Figure
// reads a value as served. Fresh makes another fake from the same tables
// without reading the files again. All methods are safe to call while
// requests are served.
type Eurostat struct {
	mu       sync.Mutex
	datasets map[string]*eurostatDataset // by upper-case code
	codes    []string                    // upper case, in the order served
	counts   map[EurostatRequest]int
	urls     map[EurostatRequest][]string
	jobs     map[string]*eurostatJob
	nextJob  int

	down      map[EurostatRequest]int // status for a kind; "" for every kind
	outage    map[EurostatRequest]bool
	faults    map[string]EurostatFault // by upper-case code
	expire    map[string]int
	queued    map[string]bool
	statuses  map[string]string // status answered for a dataset's extractions
	leftOut   map[string]bool
	garbage   string
	container string
}

// EurostatRequest is a kind of request the fake counts.
type EurostatRequest string

// The kinds of request, by path.
const (
	EurostatInventory   EurostatRequest = "inventory"    // files/inventory
	EurostatTOC         EurostatRequest = "toc"          // catalogue/toc/txt
	EurostatData        EurostatRequest = "data"         // sdmx/2.1/data and sdmx/3.0/data queries
	EurostatAsyncStatus EurostatRequest = "async_status" // 1.0/async/status/{id}
	EurostatAsyncData   EurostatRequest = "async_data"   // 1.0/async/data/{id}
	EurostatOther       EurostatRequest = "other"        // any other path, answered 404 (and the outage page)
)

// EurostatFault is an error answer to a data query: a SOAP fault (as the
// SDMX APIs answer) or, with JSON set, the Statistics API's JSON error
// {"error":[{"status":..,"id":..,"label":..}]}.
type EurostatFault struct {
	Status int    // the HTTP status, e.g. 400; 0 clears the fault
	Code   int    // the fault code: 100, 140, 150 or 413
	String string // the fault string, e.g. "INVALID_QUERY_DIMENSION_VALUE: ..."
	JSON   bool
}

// EurostatTooBig is the fault Eurostat answers, with HTTP 413, to an
// extraction above its maximum of 5,000,000 cells (quoted verbatim from
// its asynchronous API page).
var EurostatTooBig = EurostatFault{Status: http.StatusRequestEntityTooLarge, Code: 413,
	String: "EXTRACTION_TOO_BIG: The requested extraction is too big, estimated 420709314 rows, max authorised is 5000000, please change your filters to reduce the extraction size"}

// EurostatOutageTitle is the title of the HTML page SetOutage serves.
const EurostatOutageTitle = "Service temporarily unavailable - European Commission"

// EurostatRevision is a value Revise changed.
type EurostatRevision struct {
	Code string // the dataset, lower case
	// Series is the series' key as the TSV writes it, e.g.
	// "A,PER,AF,T,TOTAL,FRST,DE" (dimensions in Dims order).
	Series   string
	Period   string // e.g. "2016"
	Old, New string // the value before and after
	// DataChanged is the dataset's new "Last data change".
	DataChanged time.Time
}

// eurostatDataset is one dataset the fake serves. Its table is shared
// with the fakes Fresh makes and never changes; revised holds the values
// Revise changed, by series key and period.
type eurostatDataset struct {
	code                      string // lower case
	title                     string
	table                     *eurostatTable
	dataChanged               time.Time
	structureChanged          time.Time
	firstData, firstStructure time.Time // as NewEurostat set them
	revised                   map[eurostatCellKey]string
}

// eurostatCellKey names a cell: its series' key and its period.
type eurostatCellKey struct{ series, period string }

// eurostatJob is an asynchronous extraction.
type eurostatJob struct {
	code    string
	body    []byte // the extraction, uncompressed
	ext     string // csv or tsv
	polls   int
	expired bool
}

// eurostatCET is the offset of Eurostat's timestamps in winter.
var eurostatCET = time.FixedZone("CET", 3600)

// NewEurostat returns the fake API serving four datasets made from the
// real files in dataDir (the repository's data directory, see DataDir):
//
//   - migr_asyappctza, applicants, annual: the figures of
//     eurostat/migr_asyappctza_legacy-appsso-csv_labels_2012-2016.csv
//     (first-time applicants, all sexes and ages, 2012-2016, Windows-1252,
//     labels), with its labels turned into today's codes: countries
//     through reference/country_aliases_eurostat.csv (Greece EL, the
//     United Kingdom UK), "First time applicant" into applicant FRST,
//     sex T, age TOTAL, unit PER; flags d and p kept, ":" kept.
//   - migr_asyappctzm, applicants, monthly: the same figures, each year's
//     labelled as the December of that year (2012-12 ... 2016-12): real
//     values under monthly periods, not monthly data.
//   - migr_asydcfsta, first-instance decisions, annual: the figures of
//     eurostat/migr_asydcfsta_sdmx-csv_FR_2015-2019.csv (geo FR, all
//     citizens, sexes and ages), TOTAL_POS turned into POS and REJECTED
//     into NEG.
//   - migr_asydcfstq, decisions, quarterly: the same figures, each year's
//     labelled as the fourth quarter of that year (2015-Q4 ... 2019-Q4).
//
// Each dataset's "Last data change" starts in November 2026 and its "Last
// structural change" in March 2026.
func NewEurostat(dataDir string) (*Eurostat, error) {
	aliases, err := eurostatCountryCodes(filepath.Join(dataDir, "reference", "country_aliases_eurostat.csv"))
	if err != nil {
		return nil, err
	}
	apps, err := eurostatApplications(filepath.Join(dataDir, "eurostat", "migr_asyappctza_legacy-appsso-csv_labels_2012-2016.csv"), aliases)
	if err != nil {
		return nil, err
	}
	decs, err := eurostatDecisions(filepath.Join(dataDir, "eurostat", "migr_asydcfsta_sdmx-csv_FR_2015-2019.csv"))
	if err != nil {
		return nil, err
	}
	e := newEurostatEmpty()
	structure := time.Date(2026, 3, 24, 11, 0, 0, 0, eurostatCET)
	for i, d := range []struct {
		code, title string
		rows        []eurostatRow
		freq        string
		period      func(year string) string
	}{
		{"migr_asyappctza", "Asylum applicants by type, citizenship, age and sex - annual aggregated data", apps, "A", func(y string) string { return y }},
		{"migr_asyappctzm", "Asylum applicants by type, citizenship, age and sex - monthly data", apps, "M", func(y string) string { return y + "-12" }},
		{"migr_asydcfsta", "First instance decisions on applications by citizenship, age and sex - annual aggregated data", decs, "A", func(y string) string { return y }},
		{"migr_asydcfstq", "First instance decisions on applications by citizenship, age and sex - quarterly data", decs, "Q", func(y string) string { return y + "-Q4" }},
	} {
		code := strings.ToUpper(d.code)
		e.codes = append(e.codes, code)
		data := time.Date(2026, 11, 20-i, 23, 0, 0, 0, eurostatCET)
		e.datasets[code] = &eurostatDataset{
			code:             d.code,
			title:            d.title,
			table:            newEurostatTable(d.rows, d.freq, d.period),
			dataChanged:      data,
			structureChanged: structure,
			firstData:        data,
			firstStructure:   structure,
			revised:          map[eurostatCellKey]string{},
		}
	}
	return e, nil
}

// Fresh returns a new fake serving the datasets e was made with, as
// NewEurostat made them: no revision, no switch set, no request counted.
// It shares e's tables, which never change, so it costs nothing to make:
// tests that each need a fake of their own make one with NewEurostat and
// the others with Fresh.
func (e *Eurostat) Fresh() *Eurostat {
	e.mu.Lock()
	defer e.mu.Unlock()
	f := newEurostatEmpty()
	f.codes = slices.Clone(e.codes)
	for code, d := range e.datasets {
		f.datasets[code] = &eurostatDataset{code: d.code, title: d.title, table: d.table,
			dataChanged: d.firstData, structureChanged: d.firstStructure, firstData: d.firstData, firstStructure: d.firstStructure,
			revised: map[eurostatCellKey]string{}}
	}
	return f
}

// newEurostatEmpty returns a fake serving no dataset yet.
func newEurostatEmpty() *Eurostat {
	return &Eurostat{
		datasets:  map[string]*eurostatDataset{},
		counts:    map[EurostatRequest]int{},
		urls:      map[EurostatRequest][]string{},
		jobs:      map[string]*eurostatJob{},
		down:      map[EurostatRequest]int{},
		outage:    map[EurostatRequest]bool{},
		faults:    map[string]EurostatFault{},
		expire:    map[string]int{},
		queued:    map[string]bool{},
		statuses:  map[string]string{},
		leftOut:   map[string]bool{},
		container: "zip",
	}
}

// DataDir returns the repository's data directory (beside go.mod, found
// from the working directory up), for NewEurostat.
func DataDir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "data")
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("no go.mod above %s", wd)
		}
	}
}

// Datasets returns the codes of the datasets served, lower case.
func (e *Eurostat) Datasets() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, len(e.codes))
	for i, c := range e.codes {
		out[i] = strings.ToLower(c)
	}
	return out
}

// Dims returns the dimensions of a dataset in the order its TSV key and
// SDMX-CSV columns give them, e.g. freq, unit, citizen, sex, age,
// applicant, geo.
func (e *Eurostat) Dims(code string) ([]string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, err := e.dataset(code)
	if err != nil {
		return nil, err
	}
	return append([]string(nil), d.table.dims...), nil
}

// Figure returns the value of one cell as served ("" when not
// available), the series given by its TSV key ("A,PER,AF,T,TOTAL,NEG,FR").
func (e *Eurostat) Figure(code, series, period string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, err := e.dataset(code)
	if err != nil {
		return "", err
	}
	s, ok := d.table.index[series]
	if !ok {
		return "", fmt.Errorf("fake eurostat %s: no series %s", code, series)
	}
	c, ok := d.cell(s, period)
	if !ok {
		return "", fmt.Errorf("fake eurostat %s: series %s has no period %s", code, series, period)
	}
	return c.value, nil
}

// DataChanged returns a dataset's "Last data change".
func (e *Eurostat) DataChanged(code string) (time.Time, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, err := e.dataset(code)
	if err != nil {
		return time.Time{}, err
	}
	return d.dataChanged, nil
}

// SetDataChanged sets a dataset's "Last data change" without changing
// its data (Eurostat's dates can move while the values stay).
func (e *Eurostat) SetDataChanged(code string, t time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, err := e.dataset(code)
	if err != nil {
		return err
	}
	d.dataChanged = t
	return nil
}

// SetStructureChanged sets a dataset's "Last structural change".
func (e *Eurostat) SetStructureChanged(code string, t time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, err := e.dataset(code)
	if err != nil {
		return err
	}
	d.structureChanged = t
	return nil
}

// Revise publishes a revision of a dataset: the first series (in key
// order) with a value in its last period gets that value plus 5 (Eurostat
// rounds to 5), and the "Last data change" moves 12 hours on (the next
// publication slot).
func (e *Eurostat) Revise(code string) (EurostatRevision, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, err := e.dataset(code)
	if err != nil {
		return EurostatRevision{}, err
	}
	t := d.table
	last := t.periods[len(t.periods)-1]
	for _, s := range t.series {
		c, ok := d.cell(s, last)
		if !ok || c.value == "" {
			continue
		}
		v, err := strconv.Atoi(c.value)
		if err != nil {
			return EurostatRevision{}, fmt.Errorf("fake eurostat %s: value %q of %s is not an integer", code, c.value, s.keyString())
		}
		rev := EurostatRevision{Code: d.code, Series: s.keyString(), Period: last, Old: c.value, New: strconv.Itoa(v + 5)}
		d.revised[eurostatCellKey{s.ks, last}] = rev.New
		d.dataChanged = d.dataChanged.Add(12 * time.Hour)
		rev.DataChanged = d.dataChanged
		return rev, nil
	}
	return EurostatRevision{}, fmt.Errorf("fake eurostat %s: no value in %s to revise", code, last)
}

// Count returns the number of requests of a kind received so far, those
// answered with an error included.
func (e *Eurostat) Count(kind EurostatRequest) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[kind]
}

// URLs returns the request URIs (path and query) of a kind received so
// far, oldest first.
func (e *Eurostat) URLs(kind EurostatRequest) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.urls[kind]...)
}

// ResetCounts forgets the requests received.
func (e *Eurostat) ResetCounts() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts = map[EurostatRequest]int{}
	e.urls = map[EurostatRequest][]string{}
}

// SetDown answers every request of the given kinds (every request when
// none is given) with status, e.g. 503, and a small HTML page; status 0
// serves them again.
func (e *Eurostat) SetDown(status int, kinds ...EurostatRequest) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(kinds) == 0 {
		kinds = []EurostatRequest{""}
	}
	for _, k := range kinds {
		if status == 0 {
			delete(e.down, k)
		} else {
			e.down[k] = status
		}
	}
}

// SetOutage answers every request of the given kinds (every request when
// none is given) as the Commission's servers do in an outage: a 302 to
// {base}/sorry/, which serves an HTML page titled EurostatOutageTitle
// with status 200.
func (e *Eurostat) SetOutage(on bool, kinds ...EurostatRequest) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(kinds) == 0 {
		kinds = []EurostatRequest{""}
	}
	for _, k := range kinds {
		if on {
			e.outage[k] = true
		} else {
			delete(e.outage, k)
		}
	}
}

// SetTooBig answers every data query of a dataset with HTTP 413 and the
// EXTRACTION_TOO_BIG fault (EurostatTooBig), or stops doing so.
func (e *Eurostat) SetTooBig(code string, on bool) {
	if on {
		e.SetFault(code, EurostatTooBig)
	} else {
		e.SetFault(code, EurostatFault{})
	}
}

// SetFault answers every data query of a dataset with the fault f; a
// fault with Status 0 clears it.
func (e *Eurostat) SetFault(code string, f EurostatFault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if f.Status == 0 {
		delete(e.faults, strings.ToUpper(code))
	} else {
		e.faults[strings.ToUpper(code)] = f
	}
}

// ExpireOnce makes the next asynchronous extraction of a dataset expire:
// its first status poll answers EXPIRED, and the extraction is gone. The
// next query of the dataset is served as usual.
func (e *Eurostat) ExpireOnce(code string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.expire[strings.ToUpper(code)]++
}

// SetQueued says whether data queries of a dataset are answered with the
// queued envelope (delivered asynchronously). By default SDMX 3.0 queries
// (filtered extractions) are and SDMX 2.1 queries (whole datasets) are
// not.
func (e *Eurostat) SetQueued(code string, on bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.queued[strings.ToUpper(code)] = on
}

// SetAsyncStatus makes every status poll of a dataset's extractions
// answer status, such as ERROR or UNKNOWN_REQUEST, instead of their
// progress; "" clears it.
func (e *Eurostat) SetAsyncStatus(code, status string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if status == "" {
		delete(e.statuses, strings.ToUpper(code))
	} else {
		e.statuses[strings.ToUpper(code)] = status
	}
}

// LeaveOutOfInventory leaves a dataset out of the files inventory (it
// stays in the table of contents), or puts it back.
func (e *Eurostat) LeaveOutOfInventory(code string, out bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if out {
		e.leftOut[strings.ToUpper(code)] = true
	} else {
		delete(e.leftOut, strings.ToUpper(code))
	}
}

// SetInventoryGarbage puts line into the files inventory as its third
// line (after the header and a dataset of another theme); "" takes it
// out again.
func (e *Eurostat) SetInventoryGarbage(line string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.garbage = line
}

// SetAsyncContainer sets how {base}/1.0/async/data/{id} delivers an
// extraction, which Eurostat does not document: "zip" (one member, the
// default), "gzip" or "plain".
func (e *Eurostat) SetAsyncContainer(container string) error {
	switch container {
	case "zip", "gzip", "plain":
	default:
		return fmt.Errorf("fake eurostat: async container %q: want zip, gzip or plain", container)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.container = container
	return nil
}

// dataset returns the dataset with code (any case). The caller holds mu.
func (e *Eurostat) dataset(code string) (*eurostatDataset, error) {
	d, ok := e.datasets[strings.ToUpper(code)]
	if !ok {
		return nil, fmt.Errorf("fake eurostat: no dataset %q (it serves %s)", code, strings.ToLower(strings.Join(e.codes, ", ")))
	}
	return d, nil
}

// The paths the fake answers, found at the end of the request's path so
// that it can be mounted under any prefix (group 1).
var (
	eurostatInventoryPath = regexp.MustCompile(`^(.*)/files/inventory$`)
	eurostatTOCPath       = regexp.MustCompile(`^(.*)/catalogue/toc/txt$`)
	eurostatData21Path    = regexp.MustCompile(`^(.*)/sdmx/2\.1/data/([A-Za-z0-9_]+)/?$`)
	eurostatData30Path    = regexp.MustCompile(`^(.*)/sdmx/3\.0/data/dataflow/([A-Za-z0-9_]+)/([A-Za-z0-9_]+)/([^/]+)(?:/[^/]*)?$`)
	eurostatStatusPath    = regexp.MustCompile(`^(.*)/1\.0/async/status/([^/]+)$`)
	eurostatAsyncDataPath = regexp.MustCompile(`^(.*)/1\.0/async/data/([^/]+)$`)
	eurostatSorryPath     = regexp.MustCompile(`^(.*)/sorry/$`)
)

// ServeHTTP implements http.Handler.
func (e *Eurostat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	kind, m := EurostatOther, []string(nil)
	for _, route := range []struct {
		kind EurostatRequest
		re   *regexp.Regexp
	}{
		{EurostatInventory, eurostatInventoryPath},
		{EurostatTOC, eurostatTOCPath},
		{EurostatData, eurostatData21Path},
		{EurostatData, eurostatData30Path},
		{EurostatAsyncStatus, eurostatStatusPath},
		{EurostatAsyncData, eurostatAsyncDataPath},
	} {
		if m = route.re.FindStringSubmatch(p); m != nil {
			kind = route.kind
			break
		}
	}
	if kind == EurostatOther {
		if s := eurostatSorryPath.FindStringSubmatch(p); s != nil {
			e.count(kind, r)
			eurostatWriteHTML(w, http.StatusOK, EurostatOutageTitle)
			return
		}
	}
	e.count(kind, r)
	prefix := ""
	if m != nil {
		prefix = m[1]
	}

	e.mu.Lock()
	status, down := e.down[kind]
	if !down {
		status, down = e.down[""]
	}
	outage := e.outage[kind] || e.outage[""]
	e.mu.Unlock()
	switch {
	case down:
		eurostatWriteHTML(w, status, fmt.Sprintf("%d %s", status, http.StatusText(status)))
		return
	case outage:
		http.Redirect(w, r, prefix+"/sorry/", http.StatusFound)
		return
	}

	switch {
	case kind == EurostatInventory:
		e.serveInventory(w, r, prefix)
	case kind == EurostatTOC:
		e.serveTOC(w)
	case kind == EurostatData && eurostatData21Path.MatchString(p):
		e.serveData(w, r, m[2], "2.1")
	case kind == EurostatData:
		if !strings.EqualFold(m[2], "ESTAT") {
			eurostatWriteFault(w, EurostatFault{Status: http.StatusNotFound, Code: 100, String: "ERR_NOT_FOUND_2: agency " + m[2] + " is not available for dissemination."})
			return
		}
		e.serveData(w, r, m[3], "3.0")
	case kind == EurostatAsyncStatus:
		e.serveStatus(w, m[2])
	case kind == EurostatAsyncData:
		e.serveAsyncData(w, m[2])
	default:
		http.NotFound(w, r)
	}
}

// count records a request.
func (e *Eurostat) count(kind EurostatRequest, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts[kind]++
	e.urls[kind] = append(e.urls[kind], r.URL.RequestURI())
}

// eurostatInventoryHeader is the files inventory's header, as probed in 2026.
const eurostatInventoryHeader = "Code\tType\tSource dataset\tLast data change\tLast structural change\tData download url (tsv)\tData download url (csv)\tData download url (sdmx)\tData structure download url\tOpen in Data Browser url"

// eurostatInventoryTime is how the inventory writes a timestamp.
const eurostatInventoryTime = "2006-01-02T15:04:05-0700"

func (e *Eurostat) serveInventory(w http.ResponseWriter, r *http.Request, prefix string) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host + prefix
	line := func(code, typ string, data, structure time.Time) string {
		return fmt.Sprintf("%s\t%s\t-\t%s\t%s\t%s/sdmx/2.1/data/%[1]s/?format=TSV\t%[5]s/sdmx/2.1/data/%[1]s/?format=SDMX-CSV\t%[5]s/sdmx/2.1/data/%[1]s/?format=sdmx_2.1_generic\t%[5]s/sdmx/2.1/dataflow/ESTAT/%[1]s/?references=descendants&format=sdmx_2.1_generic\thttps://ec.europa.eu/eurostat/databrowser/product/view/%[1]s",
			code, typ, data.Format(eurostatInventoryTime), structure.Format(eurostatInventoryTime), base)
	}
	// A dataset of another theme first, as in the real file (its first
	// line, probed 2026-08-24).
	lines := []string{eurostatInventoryHeader,
		line("AACT_ALI01", "DATASET", time.Date(2026, 5, 13, 11, 0, 0, 0, time.FixedZone("CEST", 7200)), time.Date(2026, 3, 24, 11, 0, 0, 0, eurostatCET))}
	e.mu.Lock()
	for _, code := range e.codes {
		if !e.leftOut[code] {
			d := e.datasets[code]
			lines = append(lines, line(code, "DATASET", d.dataChanged, d.structureChanged))
		}
	}
	if e.garbage != "" {
		at := min(2, len(lines))
		lines = append(lines[:at], append([]string{e.garbage}, lines[at:]...)...)
	}
	e.mu.Unlock()
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, b.String())
}

func (e *Eurostat) serveTOC(w http.ResponseWriter) {
	var b strings.Builder
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	folder := func(title, code string) {
		fmt.Fprintf(&b, "%s\t%s\t%s\t\" \"\t\" \"\t\" \"\t\" \"\t\n", q(title), q(code), q("folder"))
	}
	e.mu.Lock()
	dataset := func(indent int, code string) {
		d := e.datasets[code]
		t := d.table
		cells := 0
		for _, s := range t.series {
			cells += len(s.cells)
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", q(strings.Repeat(" ", indent)+d.title), q(d.code), q("dataset"),
			q(d.dataChanged.Format("02.01.2006")), q(d.structureChanged.Format("02.01.2006")),
			q(t.periods[0]), q(t.periods[len(t.periods)-1]), cells)
	}
	b.WriteString(`"title"	"code"	"type"	"last update of data"	"last table structure change"	"data start"	"data end"	"values"` + "\n")
	folder("Database by themes", "data")
	folder("    Population and social conditions", "popul")
	folder("        Asylum and managed migration", "migr")
	for _, code := range e.codes {
		dataset(16, code)
	}
	// The same dataset again under another folder, as the real table of
	// contents has it.
	folder("    Tables on EU policy", "policy")
	dataset(8, e.codes[0])
	e.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, b.String())
}

// serveData answers a data query of the SDMX 2.1 or 3.0 API.
func (e *Eurostat) serveData(w http.ResponseWriter, r *http.Request, code, api string) {
	q := r.URL.Query()
	e.mu.Lock()
	d, err := e.dataset(code)
	if err != nil {
		e.mu.Unlock()
		eurostatWriteFault(w, EurostatFault{Status: http.StatusNotFound, Code: 100, String: "ERR_NOT_FOUND_2: DATA_SET:" + strings.ToUpper(code) + " is not available for dissemination."})
		return
	}
	if f, ok := e.faults[strings.ToUpper(code)]; ok {
		e.mu.Unlock()
		eurostatWriteFault(w, f)
		return
	}
	// body is the answer uncompressed; key names it in the render cache.
	var body []byte
	var ext, key string
	var compress bool
	switch api {
	case "2.1":
		if !strings.EqualFold(q.Get("format"), "TSV") {
			e.mu.Unlock()
			eurostatWriteFault(w, EurostatFault{Status: http.StatusBadRequest, Code: 140, String: "Syntax error: this fake serves format=TSV only on the SDMX 2.1 API, not " + q.Get("format")})
			return
		}
		ext, key, compress = "tsv", "tsv", q.Get("compressed") == "true"
		body = d.render(key, false, func() []byte { return d.table.tsv(d.revised) })
	case "3.0":
		if q.Get("format") != "csvdata" || q.Get("formatVersion") != "2.0" {
			e.mu.Unlock()
			eurostatWriteFault(w, EurostatFault{Status: http.StatusBadRequest, Code: 140, String: "Syntax error: this fake serves format=csvdata&formatVersion=2.0 only on the SDMX 3.0 API"})
			return
		}
		filter := map[string]map[string]bool{}
		var filterKey []string
		for k, vs := range q {
			if !strings.HasPrefix(k, "c[") || !strings.HasSuffix(k, "]") {
				continue
			}
			dim := k[2 : len(k)-1]
			if !d.table.hasDim(dim) {
				e.mu.Unlock()
				eurostatWriteFault(w, EurostatFault{Status: http.StatusBadRequest, Code: 150,
					String: "INVALID_QUERY_DIMENSION: Query is invalid as per its structure's definition. The following dimension is not allowed: " + dim + "."})
				return
			}
			set := map[string]bool{}
			for _, v := range vs {
				for _, c := range strings.Split(v, ",") {
					set[c] = true
				}
			}
			filter[dim] = set
			filterKey = append(filterKey, k+"="+strings.Join(vs, ","))
		}
		sort.Strings(filterKey)
		ext, key = "csv", "csv?"+strings.Join(filterKey, "&")
		body = d.render(key, false, func() []byte { return d.table.sdmxCSV2(d.code, filter, d.revised) })
		compress = q.Get("compress") != "false"
		if bytes.Count(body, []byte("\n")) <= 1 {
			e.mu.Unlock()
			eurostatWriteFault(w, EurostatFault{Status: http.StatusNotFound, Code: 100, String: "NO_RESULTS_FOUND: The result from the query is empty."})
			return
		}
	}
	queued, set := e.queued[strings.ToUpper(code)]
	if !set {
		queued = api == "3.0"
	}
	if queued {
		e.nextJob++
		id := fmt.Sprintf("e3d39a1b-27eb-4ce4-936d-%012x", e.nextJob)
		job := &eurostatJob{code: d.code, body: body, ext: ext}
		if e.expire[strings.ToUpper(code)] > 0 {
			e.expire[strings.ToUpper(code)]--
			job.expired = true
		}
		e.jobs[id] = job
		e.mu.Unlock()
		env := []byte(`<?xml version="1.0" encoding="UTF-8" ?>` + "\n" +
			`<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header/><env:Body><ns0:syncResponse xmlns:ns0="http://estat.ec.europa.eu/disschain/soap/extraction"><processingTime>92</processingTime><queued><id>` +
			id + `</id><status>SUBMITTED</status></queued></ns0:syncResponse></env:Body></env:Envelope>`)
		if compress {
			env = eurostatGzip(env)
		}
		w.Header().Set("Content-Type", "application/xml;charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		w.Write(env)
		return
	}
	name := "estat_" + d.code + "_en." + ext
	if compress {
		plain := body
		body, name = d.render(key, true, func() []byte { return plain }), name+".gz"
	}
	e.mu.Unlock()
	if ext == "tsv" {
		w.Header().Set("Content-Type", "text/tab-separated-values;charset=UTF-8")
	} else {
		w.Header().Set("Content-Type", "application/vnd.sdmx.data+csv;version=2.0.0")
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	eurostatChunked(w, body)
}

// eurostatStatusXML is the status envelope of an asynchronous request, as
// LIVE_SOURCES.md quotes it.
const eurostatStatusXML = `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header/><S:Body><ns0:asyncResponse xmlns:ns1="http://estat.ec.europa.eu/disschain/asynchronous" xmlns:ns0="http://estat.ec.europa.eu/disschain/soap/asynchronous"><ns1:status><ns1:key>%s</ns1:key><ns1:status>%s</ns1:status></ns1:status></ns0:asyncResponse></S:Body></S:Envelope>`

func (e *Eurostat) serveStatus(w http.ResponseWriter, id string) {
	e.mu.Lock()
	job, ok := e.jobs[id]
	status := "UNKNOWN_REQUEST"
	if ok {
		job.polls++
		forced, isForced := e.statuses[strings.ToUpper(job.code)]
		switch {
		case isForced:
			status = forced
		case job.expired:
			status = "EXPIRED"
		case job.polls == 1:
			status = "SUBMITTED"
		case job.polls == 2:
			status = "PROCESSING"
		default:
			status = "AVAILABLE"
		}
	}
	e.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, eurostatStatusXML, html.EscapeString(id), status)
}

func (e *Eurostat) serveAsyncData(w http.ResponseWriter, id string) {
	e.mu.Lock()
	job, ok := e.jobs[id]
	container := e.container
	e.mu.Unlock()
	switch {
	case !ok || job.expired:
		eurostatWriteFault(w, EurostatFault{Status: http.StatusBadRequest, Code: 100, String: "UNKNOWN_REQUEST: Unknown request."})
		return
	case job.polls < 3:
		eurostatWriteFault(w, EurostatFault{Status: http.StatusBadRequest, Code: 100, String: "DATA_NOT_YET_AVAILABLE: Requested data is not yet available for download. Check the status of your request."})
		return
	}
	name := "ESTAT_" + strings.ToUpper(job.code) + "_" + id + "." + job.ext
	body := job.body
	switch container {
	case "zip":
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		f, _ := zw.Create(name)
		f.Write(body)
		zw.Close()
		body, name = b.Bytes(), name+".zip"
		w.Header().Set("Content-Type", "application/zip")
	case "gzip":
		body, name = eurostatGzip(body), name+".gz"
		w.Header().Set("Content-Type", "application/octet-stream")
	default:
		w.Header().Set("Content-Type", "application/vnd.sdmx.data+csv;version=2.0.0")
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	eurostatChunked(w, body)
}

// eurostatChunked writes body in parts, flushing after the first, so that it
// goes out chunked without a Content-Length, as Eurostat sends big bodies.
func eurostatChunked(w http.ResponseWriter, body []byte) {
	w.WriteHeader(http.StatusOK)
	for len(body) > 0 {
		n := min(len(body), 32<<10)
		w.Write(body[:n])
		body = body[n:]
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
}

// eurostatWriteFault writes a SOAP fault, or the Statistics API's JSON error.
func eurostatWriteFault(w http.ResponseWriter, f EurostatFault) {
	if f.JSON {
		b, _ := json.Marshal(map[string]any{"error": []map[string]any{{"status": f.Status, "id": f.Code, "label": f.String}}})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		w.Write(b)
		return
	}
	w.Header().Set("Content-Type", "application/xml;charset=UTF-8")
	w.WriteHeader(f.Status)
	fmt.Fprintf(w, "<S:Fault xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\">\n    <faultcode>%d</faultcode>\n    <faultstring>%s</faultstring>\n</S:Fault>\n",
		f.Code, html.EscapeString(f.String))
}

// eurostatWriteHTML writes a small HTML page titled title.
func eurostatWriteHTML(w http.ResponseWriter, status int, title string) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n</head>\n<body><h1>%[1]s</h1><p>Please try again later.</p></body>\n</html>\n",
		html.EscapeString(title))
}

func eurostatGzip(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// eurostatRow is one published figure of a real file, in today's codes.
type eurostatRow struct {
	dims  []string // dimension names, without freq
	codes []string // their codes
	year  string
	cell  eurostatCell
}

// eurostatCell is one cell: the value ("" when not available), the
// observation status and the confidentiality status letters.
type eurostatCell struct {
	value, obs, conf string
}

// eurostatTable is a dataset as NewEurostat made it: its series by key,
// their cells by period. It does not change once made.
type eurostatTable struct {
	dims    []string // freq first, geo last, as Eurostat orders them
	periods []string // ascending
	series  []*eurostatSeries
	index   map[string]*eurostatSeries // by keyString
	mu      sync.Mutex
	cache   map[string][]byte // bodies rendered, by what and how
}

type eurostatSeries struct {
	key   []string
	ks    string // the key as the TSV writes it
	cells map[string]eurostatCell
}

func (s *eurostatSeries) keyString() string { return s.ks }

// newEurostatTable makes a table of frequency freq from rows, each year
// labelled by period.
func newEurostatTable(rows []eurostatRow, freq string, period func(year string) string) *eurostatTable {
	t := &eurostatTable{index: map[string]*eurostatSeries{}, cache: map[string][]byte{}}
	periods := map[string]bool{}
	for _, r := range rows {
		if t.dims == nil {
			t.dims = append([]string{"freq"}, r.dims...)
		}
		key := append([]string{freq}, r.codes...)
		ks := strings.Join(key, ",")
		s, ok := t.index[ks]
		if !ok {
			s = &eurostatSeries{key: key, ks: ks, cells: map[string]eurostatCell{}}
			t.index[ks] = s
			t.series = append(t.series, s)
		}
		p := period(r.year)
		s.cells[p] = r.cell
		periods[p] = true
	}
	sort.Slice(t.series, func(i, j int) bool { return t.series[i].ks < t.series[j].ks })
	for p := range periods {
		t.periods = append(t.periods, p)
	}
	sort.Strings(t.periods)
	return t
}

// cell returns a series' cell in period, as revised.
func (d *eurostatDataset) cell(s *eurostatSeries, period string) (eurostatCell, bool) {
	c, ok := s.cells[period]
	if v, revised := d.revised[eurostatCellKey{s.ks, period}]; revised {
		c.value = v
	}
	return c, ok
}

// render returns a body made by mk, gzipped when gz: from the table's
// cache when nothing was revised (the tables of the fakes Fresh makes
// are the same, and so are their bodies).
func (d *eurostatDataset) render(key string, gz bool, mk func() []byte) []byte {
	build := func() []byte {
		b := mk()
		if gz {
			b = eurostatGzip(b)
		}
		return b
	}
	if len(d.revised) > 0 {
		return build()
	}
	key = fmt.Sprintf("%s gzip=%v", key, gz)
	d.table.mu.Lock()
	defer d.table.mu.Unlock()
	if b, ok := d.table.cache[key]; ok {
		return b
	}
	b := build()
	d.table.cache[key] = b
	return b
}

func (t *eurostatTable) hasDim(dim string) bool {
	for _, d := range t.dims {
		if d == dim {
			return true
		}
	}
	return false
}

// tsv writes the table as the API's TSV: "dims\TIME_PERIOD" and periods
// with a trailing space, cells "value flags[@conf]" with ":" for none;
// revised replaces values.
func (t *eurostatTable) tsv(revised map[eurostatCellKey]string) []byte {
	var b bytes.Buffer
	b.WriteString(strings.Join(t.dims, ",") + `\TIME_PERIOD`)
	for _, p := range t.periods {
		b.WriteString("\t" + p + " ")
	}
	b.WriteString("\n")
	for _, s := range t.series {
		b.WriteString(s.keyString())
		for _, p := range t.periods {
			c, ok := s.cells[p]
			if r, ok := revised[eurostatCellKey{s.ks, p}]; ok {
				c.value = r
			}
			v := c.value
			if !ok || v == "" {
				v = ":"
			}
			b.WriteString("\t" + v + " " + c.obs)
			if c.conf != "" {
				b.WriteString("@" + c.conf)
			}
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// sdmxCSV2 writes the series that filter keeps as SDMX-CSV 2.0, one line
// per cell with a value or a flag; revised replaces values.
func (t *eurostatTable) sdmxCSV2(code string, filter map[string]map[string]bool, revised map[eurostatCellKey]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(append(append([]string{"STRUCTURE", "STRUCTURE_ID"}, t.dims...), "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS"))
	id := "ESTAT:" + strings.ToUpper(code) + "(1.0)"
	for _, s := range t.series {
		keep := true
		for i, d := range t.dims {
			if set, ok := filter[d]; ok && !set[s.key[i]] {
				keep = false
			}
		}
		if !keep {
			continue
		}
		for _, p := range t.periods {
			c, ok := s.cells[p]
			if r, ok := revised[eurostatCellKey{s.ks, p}]; ok {
				c.value = r
			}
			if !ok || c.value == "" && c.obs == "" && c.conf == "" {
				continue
			}
			w.Write(append(append([]string{"dataflow", id}, s.key...), p, c.value, c.obs, c.conf))
		}
	}
	w.Flush()
	return b.Bytes()
}

// eurostatCountryCodes maps the legacy export's country labels to today's
// Eurostat codes: a label to the project's code (eurostat_label lines),
// that code back to Eurostat's (eurostat_code lines; EL for GR, UK for GB).
func eurostatCountryCodes(path string) (map[string]string, error) {
	recs, err := eurostatReadCSV(path, nil)
	if err != nil {
		return nil, err
	}
	col, err := eurostatColumns(path, recs[0], "scheme", "alias", "code")
	if err != nil {
		return nil, err
	}
	labels := map[string]string{}
	estat := map[string]string{}
	for _, r := range recs[1:] {
		alias, code := r[col["alias"]], r[col["code"]]
		switch r[col["scheme"]] {
		case "eurostat_label":
			labels[alias] = code
		case "eurostat_code":
			if _, ok := estat[code]; !ok || alias == code {
				estat[code] = alias
			}
		}
	}
	out := map[string]string{}
	for label, code := range labels {
		if e, ok := estat[code]; ok {
			out[label] = e
		}
	}
	return out, nil
}

// eurostatApplications reads the legacy appsso export of migr_asyappctza
// (Windows-1252, labels) into today's codes.
func eurostatApplications(path string, countries map[string]string) ([]eurostatRow, error) {
	recs, err := eurostatReadCSV(path, charmap.Windows1252.NewDecoder().Reader)
	if err != nil {
		return nil, err
	}
	col, err := eurostatColumns(path, recs[0], "TIME", "GEO", "CITIZEN", "SEX", "AGE", "ASYL_APP", "UNIT", "Value", "Flag and Footnotes")
	if err != nil {
		return nil, err
	}
	fixed := map[string]map[string]string{
		"SEX":      {"Total": "T"},
		"AGE":      {"Total": "TOTAL"},
		"UNIT":     {"Person": "PER"},
		"ASYL_APP": {"First time applicant": "FRST"},
	}
	var rows []eurostatRow
	for i, r := range recs[1:] {
		line := i + 2
		code := func(c string) (string, error) {
			v := r[col[c]]
			if m, ok := fixed[c]; ok {
				if code, ok := m[v]; ok {
					return code, nil
				}
			} else if code, ok := countries[v]; ok {
				return code, nil
			}
			return "", fmt.Errorf("%s line %d: %s %q has no code here", path, line, c, v)
		}
		var codes []string
		for _, c := range []string{"UNIT", "CITIZEN", "SEX", "AGE", "ASYL_APP", "GEO"} {
			v, err := code(c)
			if err != nil {
				return nil, err
			}
			codes = append(codes, v)
		}
		v := strings.ReplaceAll(r[col["Value"]], ",", "")
		if v == ":" {
			v = ""
		} else if _, err := strconv.Atoi(v); err != nil {
			return nil, fmt.Errorf("%s line %d: value %q is not a count", path, line, r[col["Value"]])
		}
		rows = append(rows, eurostatRow{dims: []string{"unit", "citizen", "sex", "age", "applicant", "geo"}, codes: codes,
			year: r[col["TIME"]], cell: eurostatCell{value: v, obs: strings.TrimSpace(r[col["Flag and Footnotes"]])}})
	}
	return rows, nil
}

// eurostatDecisions reads the SDMX-CSV 1.0 of migr_asydcfsta into today's
// decision codes.
func eurostatDecisions(path string) ([]eurostatRow, error) {
	recs, err := eurostatReadCSV(path, nil)
	if err != nil {
		return nil, err
	}
	col, err := eurostatColumns(path, recs[0], "unit", "citizen", "sex", "age", "decision", "geo", "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG")
	if err != nil {
		return nil, err
	}
	current := map[string]string{"TOTAL_POS": "POS", "REJECTED": "NEG", "TOTAL": "TOTAL"}
	var rows []eurostatRow
	for i, r := range recs[1:] {
		dec, ok := current[r[col["decision"]]]
		if !ok {
			return nil, fmt.Errorf("%s line %d: decision %q has no current code here", path, i+2, r[col["decision"]])
		}
		v := r[col["OBS_VALUE"]]
		if v == ":" {
			v = ""
		}
		rows = append(rows, eurostatRow{dims: []string{"unit", "citizen", "sex", "age", "decision", "geo"},
			codes: []string{r[col["unit"]], r[col["citizen"]], r[col["sex"]], r[col["age"]], dec, r[col["geo"]]},
			year:  r[col["TIME_PERIOD"]], cell: eurostatCell{value: v, obs: r[col["OBS_FLAG"]]}})
	}
	return rows, nil
}

// eurostatReadCSV reads a whole CSV file, through decode when given.
func eurostatReadCSV(path string, decode func(io.Reader) io.Reader) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fake eurostat: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if decode != nil {
		r = decode(r)
	}
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("fake eurostat: read %s: %w", path, err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("fake eurostat: %s has no data rows", path)
	}
	return recs, nil
}

// eurostatColumns finds the named columns in header.
func eurostatColumns(path string, header []string, names ...string) (map[string]int, error) {
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimPrefix(h, "\ufeff")] = i
	}
	var missing []string
	for _, n := range names {
		if _, ok := col[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, errors.New("fake eurostat: " + path + " has no column " + strings.Join(missing, ", "))
	}
	return col, nil
}
