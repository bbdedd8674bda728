package upstreamtest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// UNHCR is a fake of UNHCR's population statistics API
// (https://api.unhcr.org/population/v1), as
// ../shared/docs/LIVE_SOURCES.md section 3.1 describes it, serving the
// datasets asylum-applications and asylum-decisions. Mount it at any
// prefix: it answers on any path whose last segment is a dataset, e.g.
//
//	fake, err := upstreamtest.NewUNHCR(upstreamtest.DataDir(t), upstreamtest.UNHCROptions{Origins: []string{"RUS", "AFG"}})
//	srv := httptest.NewServer(fake)
//	base := srv.URL + "/population/v1"
//
//	GET {base}/asylum-applications/?cf_type=ISO&coo_all=true&coa_all=true&limit=100&page=2
//	    {"page":2,"short-url":"…","maxPages":M,"total":{"applied":N},"items":[…]}
//
// Its rows are the tables of UNHCR's R package refugees 2025.12.1 that
// the project ships (data/unhcr/refugees-2025.12.1_*.csv.gz, the
// end-2025 release; the real API answered with the same row counts on
// 2026-10-04), each row an item with the API's field names in the API's
// order. As on the real page, a count of zero is the string "0", a
// missing count (the tables have none) the string "-", any other count a
// number. coo_id and coa_id are numbers the fake gives UNHCR's codes in
// their sorted order: the tables do not carry UNHCR's ids, which no reader
// should use.
//
// Query parameters, as the API reads them: coo and coa (comma-separated
// ISO alpha-3 codes), coo_all and coa_all, year, yearFrom and yearTo,
// limit (100 when absent) and page (1 when absent). total sums the counts
// of every item that matches, maxPages is the number of pages of limit
// items (0 when none matches), and a page past it has no items. Stricter
// than the API, to catch a client's mistakes: it answers 400 to a request
// without cf_type=ISO (the API would read coo and coa as UNHCR's own
// codes), to coo together with coo_all or coa with coa_all (the API would
// ignore the filter), and to a request with neither coo nor coo_all (or
// coa nor coa_all), whose answer, the dimension summed into one row, it
// does not make. Any other path is a 404.
//
// The real tables have about 120,000 rows each: UNHCROptions.Origins
// keeps a few countries of origin so that a test pages through hundreds
// of rows, not a hundred thousand. UNHCROptions.CurrentYear adds a year
// after the tables' last, standing for a mid-year release (see there).
//
// Count and URLs tell what was asked; SetDown makes it fail. All methods
// are safe to call while requests are served.
type UNHCR struct {
	datasets map[string]*unhcrDataset // by dataset name

	mu     sync.Mutex
	counts map[string]int      // by dataset ("" for other paths)
	urls   map[string][]string // by dataset
	down   int
}

// UNHCROptions choose the rows a UNHCR fake serves.
type UNHCROptions struct {
	// Origins keeps only the rows whose country of origin (coo_iso) is one
	// of these ISO alpha-3 codes, such as RUS, AFG, SYR, UKR; empty keeps
	// every row (about 120,000 per dataset, slow to page through).
	Origins []string
	// CurrentYear, when set, adds the rows of a year the tables do not
	// have, standing for UNHCR's mid-year release of that year (January to
	// June): the rows of the year before, every count halved (rounded
	// down; a decisions total that equals the sum of its parts stays that
	// sum), with their year set to CurrentYear. These are not UNHCR's
	// figures; they have the shape and the order of magnitude of a half
	// year.
	CurrentYear int
}

// The datasets the fake serves.
const (
	UNHCRApplications = "asylum-applications"
	UNHCRDecisions    = "asylum-decisions"
)

// unhcrDataset is one dataset's rows, in the tables' order.
type unhcrDataset struct {
	// fields are the item's fields in the API's order; counts are those
	// of them that are counts, summed into total.
	fields, counts []string
	rows           []unhcrRow
}

// unhcrRow is one row: its text fields and counts by field name, and the
// item as served.
type unhcrRow struct {
	year     int
	coo, coa string // ISO alpha-3
	text     map[string]string
	counts   map[string]int64 // a missing count is absent
	item     json.RawMessage
}

// unhcrTables are the shipped tables, their columns and the fields each
// dataset's items have (LIVE_SOURCES.md 3.1).
var unhcrTables = map[string]struct {
	file           string
	fields, counts []string
}{
	UNHCRApplications: {
		file: "unhcr/refugees-2025.12.1_asylum_applications_2006-2025.csv.gz",
		fields: []string{"year", "coo_id", "coo_name", "coo", "coo_iso", "coa_id", "coa_name", "coa", "coa_iso",
			"procedure_type", "app_type", "dec_level", "app_pc", "applied"},
		counts: []string{"applied"},
	},
	UNHCRDecisions: {
		file: "unhcr/refugees-2025.12.1_asylum_decisions_2000-2025.csv.gz",
		fields: []string{"year", "coo_id", "coo_name", "coo", "coo_iso", "coa_id", "coa_name", "coa", "coa_iso",
			"procedure_type", "dec_level", "dec_pc", "dec_recognized", "dec_other", "dec_rejected", "dec_closed", "dec_total"},
		counts: []string{"dec_recognized", "dec_other", "dec_rejected", "dec_closed", "dec_total"},
	},
}

// NewUNHCR returns the fake API serving the refugees package's tables
// found under dataDir (the repository's data directory, DataDir), with the
// rows opt keeps and adds.
func NewUNHCR(dataDir string, opt UNHCROptions) (*UNHCR, error) {
	u := &UNHCR{datasets: map[string]*unhcrDataset{}, counts: map[string]int{}, urls: map[string][]string{}}
	keep := map[string]bool{}
	for _, o := range opt.Origins {
		keep[strings.ToUpper(o)] = true
	}
	ids := map[string]int{} // UNHCR code -> id, numbered once all codes are known
	for name, tab := range unhcrTables {
		rows, err := readUNHCRTable(filepath.Join(dataDir, filepath.FromSlash(tab.file)), tab.counts, keep)
		if err != nil {
			return nil, fmt.Errorf("unhcr fake: %s: %w", name, err)
		}
		if opt.CurrentYear != 0 {
			if rows, err = addUNHCRHalfYear(rows, opt.CurrentYear, tab.counts); err != nil {
				return nil, fmt.Errorf("unhcr fake: %s: %w", name, err)
			}
		}
		for _, r := range rows {
			ids[r.text["coo"]], ids[r.text["coa"]] = 0, 0
		}
		u.datasets[name] = &unhcrDataset{fields: tab.fields, counts: tab.counts, rows: rows}
	}
	codes := make([]string, 0, len(ids))
	for c := range ids {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for i, c := range codes {
		ids[c] = i + 1
	}
	for _, d := range u.datasets {
		for i := range d.rows {
			item, err := unhcrItem(&d.rows[i], d.fields, ids)
			if err != nil {
				return nil, fmt.Errorf("unhcr fake: %w", err)
			}
			d.rows[i].item = item
		}
	}
	return u, nil
}

// readUNHCRTable reads a gzipped table of the refugees package, keeping
// the rows whose coo_iso is in keep (every row when keep is empty).
func readUNHCRTable(file string, counts []string, keep map[string]bool) ([]unhcrRow, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	r := csv.NewReader(zr)
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read %s: header: %w", file, err)
	}
	head = slices.Clone(head)
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, need := range append([]string{"year", "coo_iso", "coa_iso", "coo", "coa"}, counts...) {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("read %s: no column %s", file, need)
		}
	}
	var rows []unhcrRow
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", file, err)
		}
		coo := rec[col["coo_iso"]]
		if len(keep) > 0 && !keep[coo] {
			continue
		}
		y, err := strconv.Atoi(rec[col["year"]])
		if err != nil {
			return nil, fmt.Errorf("read %s line %d: year %q", file, line, rec[col["year"]])
		}
		row := unhcrRow{year: y, coo: coo, coa: rec[col["coa_iso"]], text: map[string]string{}, counts: map[string]int64{}}
		for i, h := range head {
			row.text[h] = rec[i]
		}
		for _, c := range counts {
			v := rec[col[c]]
			if v == "NA" || v == "" {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("read %s line %d column %s: %q is not a count", file, line, c, v)
			}
			row.counts[c] = n
		}
		rows = append(rows, row)
	}
}

// addUNHCRHalfYear appends the rows of year-1, halved, as rows of year
// (UNHCROptions.CurrentYear).
func addUNHCRHalfYear(rows []unhcrRow, year int, counts []string) ([]unhcrRow, error) {
	var added []unhcrRow
	for _, r := range rows {
		if r.year == year {
			return nil, fmt.Errorf("current year %d: the tables already have it", year)
		}
		if r.year != year-1 {
			continue
		}
		h := unhcrRow{year: year, coo: r.coo, coa: r.coa, text: r.text, counts: map[string]int64{}}
		for c, v := range r.counts {
			h.counts[c] = v / 2
		}
		if total, ok := r.counts["dec_total"]; ok {
			var parts int64
			for _, c := range counts {
				if c != "dec_total" {
					parts += r.counts[c]
				}
			}
			if parts == total {
				h.counts["dec_total"] = 0
				for _, c := range counts {
					if c != "dec_total" {
						h.counts["dec_total"] += h.counts[c]
					}
				}
			}
		}
		added = append(added, h)
	}
	if len(added) == 0 {
		return nil, fmt.Errorf("current year %d: no row of %d to take it from", year, year-1)
	}
	return append(rows, added...), nil
}

// unhcrItem encodes row as an API item: fields in order, numbers as the
// real page writes them.
func unhcrItem(row *unhcrRow, fields []string, ids map[string]int) (json.RawMessage, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:", f)
		switch {
		case f == "year":
			b.WriteString(strconv.Itoa(row.year))
		case f == "coo_id":
			b.WriteString(strconv.Itoa(ids[row.text["coo"]]))
		case f == "coa_id":
			b.WriteString(strconv.Itoa(ids[row.text["coa"]]))
		case row.isCount(f):
			v, ok := row.counts[f]
			switch {
			case !ok:
				b.WriteString(`"-"`)
			case v == 0:
				b.WriteString(`"0"`)
			default:
				b.WriteString(strconv.FormatInt(v, 10))
			}
		default:
			s, err := json.Marshal(row.text[f])
			if err != nil {
				return nil, err
			}
			b.Write(s)
		}
	}
	b.WriteByte('}')
	if !json.Valid(b.Bytes()) {
		return nil, fmt.Errorf("item of %d %s/%s is not valid JSON", row.year, row.coo, row.coa)
	}
	return b.Bytes(), nil
}

// isCount says whether field f of the row's dataset is a count.
func (r *unhcrRow) isCount(f string) bool {
	switch f {
	case "applied", "dec_recognized", "dec_other", "dec_rejected", "dec_closed", "dec_total":
		return true
	}
	return false
}

// Rows returns how many rows a dataset serves in all (before filters).
func (u *UNHCR) Rows(dataset string) int {
	d, ok := u.datasets[dataset]
	if !ok {
		return 0
	}
	return len(d.rows)
}

// Years returns the years a dataset serves, in order.
func (u *UNHCR) Years(dataset string) []int {
	d, ok := u.datasets[dataset]
	if !ok {
		return nil
	}
	seen := map[int]bool{}
	var out []int
	for _, r := range d.rows {
		if !seen[r.year] {
			seen[r.year] = true
			out = append(out, r.year)
		}
	}
	sort.Ints(out)
	return out
}

// Count returns the number of requests of a dataset received so far
// (every request, other paths included, when dataset is ""), those
// answered with an error included.
func (u *UNHCR) Count(dataset string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	if dataset != "" {
		return u.counts[dataset]
	}
	n := 0
	for _, c := range u.counts {
		n += c
	}
	return n
}

// URLs returns the request URIs (path and query) of a dataset received so
// far, oldest first.
func (u *UNHCR) URLs(dataset string) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.urls[dataset]...)
}

// ResetCounts forgets the requests received.
func (u *UNHCR) ResetCounts() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.counts = map[string]int{}
	u.urls = map[string][]string{}
}

// SetDown answers every request with status, e.g. 503, and a small HTML
// page; status 0 serves them again.
func (u *UNHCR) SetDown(status int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.down = status
}

// ServeHTTP answers one request of the API.
func (u *UNHCR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := path.Base(strings.TrimSuffix(r.URL.Path, "/"))
	d, ok := u.datasets[name]
	if !ok {
		name = ""
	}
	u.mu.Lock()
	u.counts[name]++
	u.urls[name] = append(u.urls[name], r.URL.RequestURI())
	down := u.down
	u.mu.Unlock()
	if down != 0 {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(down)
		fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>%d %s</title></head><body></body></html>\n", down, http.StatusText(down))
		return
	}
	if !ok {
		unhcrError(w, http.StatusNotFound, "no such dataset: "+r.URL.Path)
		return
	}
	q := r.URL.Query()
	if err := checkUNHCRQuery(q); err != nil {
		unhcrError(w, http.StatusBadRequest, err.Error())
		return
	}
	match, err := unhcrFilter(q)
	if err != nil {
		unhcrError(w, http.StatusBadRequest, err.Error())
		return
	}
	limit, page := 100, 1
	for _, p := range []struct {
		key string
		v   *int
	}{{"limit", &limit}, {"page", &page}} {
		if s := q.Get(p.key); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				unhcrError(w, http.StatusBadRequest, fmt.Sprintf("%s=%q: want a positive integer", p.key, s))
				return
			}
			*p.v = n
		}
	}
	var items []json.RawMessage
	totals := map[string]int64{}
	n := 0
	for i := range d.rows {
		row := &d.rows[i]
		if !match(row) {
			continue
		}
		for c, v := range row.counts {
			totals[c] += v
		}
		if n >= (page-1)*limit && n < page*limit {
			items = append(items, row.item)
		}
		n++
	}
	var total bytes.Buffer
	total.WriteByte('{')
	for i, c := range d.counts {
		if i > 0 {
			total.WriteByte(',')
		}
		fmt.Fprintf(&total, "%q:%d", c, totals[c])
	}
	total.WriteByte('}')
	if items == nil {
		items = []json.RawMessage{}
	}
	sum := sha256.Sum256([]byte(name + "?" + unhcrQueryWithoutPaging(q)))
	body, err := json.Marshal(struct {
		Page     int               `json:"page"`
		ShortURL string            `json:"short-url"`
		MaxPages int               `json:"maxPages"`
		Total    json.RawMessage   `json:"total"`
		Items    []json.RawMessage `json:"items"`
	}{page, hex.EncodeToString(sum[:3]), (n + limit - 1) / limit, total.Bytes(), items})
	if err != nil {
		unhcrError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// checkUNHCRQuery refuses what the fake does not answer (see UNHCR).
func checkUNHCRQuery(q url.Values) error {
	if q.Get("cf_type") != "ISO" {
		return errors.New("cf_type=ISO is required: without it the API reads coo and coa as UNHCR's own codes")
	}
	for _, dim := range []string{"coo", "coa"} {
		_, all := q[dim+"_all"]
		_, filtered := q[dim]
		switch {
		case all && filtered:
			return fmt.Errorf("%s_all with %s: the API would ignore the %s filter", dim, dim, dim)
		case !all && !filtered:
			return fmt.Errorf("neither %s nor %s_all: the API would sum every %s into one row, which this fake does not", dim, dim, dim)
		}
	}
	return nil
}

// unhcrFilter returns whether a row matches the query's coo, coa, year,
// yearFrom and yearTo.
func unhcrFilter(q url.Values) (func(*unhcrRow) bool, error) {
	set := func(key string) map[string]bool {
		if q.Get(key) == "" {
			return nil
		}
		m := map[string]bool{}
		for _, c := range strings.Split(q.Get(key), ",") {
			m[strings.ToUpper(strings.TrimSpace(c))] = true
		}
		return m
	}
	coo, coa := set("coo"), set("coa")
	from, to := 0, 9999
	for _, p := range []struct {
		key    string
		bounds []*int
	}{{"year", []*int{&from, &to}}, {"yearFrom", []*int{&from}}, {"yearTo", []*int{&to}}} {
		s := q.Get(p.key)
		if s == "" {
			continue
		}
		y, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: want a year", p.key, s)
		}
		for _, b := range p.bounds {
			*b = y
		}
	}
	return func(r *unhcrRow) bool {
		return r.year >= from && r.year <= to && (coo == nil || coo[r.coo]) && (coa == nil || coa[r.coa])
	}, nil
}

// unhcrQueryWithoutPaging is the query without limit and page, in key
// order, what a short URL stands for.
func unhcrQueryWithoutPaging(q url.Values) string {
	c := url.Values{}
	for k, v := range q {
		if k != "limit" && k != "page" {
			c[k] = v
		}
	}
	return c.Encode()
}

// unhcrError answers with status and a JSON body saying why.
func unhcrError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body, _ := json.Marshal(map[string]string{"error": msg})
	w.Write(body)
}
