package upstream

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/visastats/visastats/pipeline/snapshot"
	"github.com/visastats/visastats/pipeline/upstream/upstreamtest"
	"github.com/visastats/visastats/sources"
)

// eurostatEnv is one test's fake Eurostat, snapshot store and client.
type eurostatEnv struct {
	fake   *upstreamtest.Eurostat
	cfg    EurostatConfig
	client *Client
	store  *snapshot.Store
	logs   *bytes.Buffer
	mu     sync.Mutex
	sleeps []time.Duration // what the client waited, without waiting
	// done holds the names whose download progress was reported as
	// done.
	done []string
}

// The configuration of a nightly run: three whole datasets and a
// filtered one.
var eurostatNightly = []EurostatDataset{
	{Code: "migr_asyappctza"},
	{Code: "migr_asyappctzm"},
	{Code: "migr_asydcfsta"},
	{Code: "migr_asydcfstq", Filter: map[string][]string{"citizen": {"RU", "UA", "BY", "GE", "AF", "SY"}}},
}

// fetchRetries is the fetcher's retries in these tests: three attempts.
const fetchRetries = 2

// eurostatBase is the fake API every test starts from a fresh copy of,
// so that the real files are read and converted once.
var eurostatBase struct {
	once sync.Once
	fake *upstreamtest.Eurostat
	err  error
}

func newEurostatEnv(t *testing.T) *eurostatEnv {
	t.Helper()
	eurostatBase.once.Do(func() {
		eurostatBase.fake, eurostatBase.err = upstreamtest.NewEurostat(upstreamtest.DataDir(t))
	})
	if eurostatBase.err != nil {
		t.Fatal(eurostatBase.err)
	}
	fake := eurostatBase.fake.Fresh()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	store, err := snapshot.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// The fetcher's own retries wait a few milliseconds.
	fetcher, err := snapshot.NewFetcher(snapshot.FetchConfig{Retries: fetchRetries, BackoffBase: time.Millisecond, BackoffMax: 4 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := &eurostatEnv{fake: fake, store: store, logs: &bytes.Buffer{},
		cfg: EurostatConfig{BaseURL: srv.URL + "/eurostat/api/dissemination", Datasets: eurostatNightly}}
	e.client = &Client{HTTP: srv.Client(), Store: store, Fetcher: fetcher,
		Log: slog.New(slog.NewTextHandler(e.logs, nil)),
		Sleep: func(ctx context.Context, d time.Duration) error {
			e.mu.Lock()
			e.sleeps = append(e.sleeps, d)
			e.mu.Unlock()
			return ctx.Err()
		},
		Progress: func(source, name string) func(read, total int64, done bool) {
			return func(read, total int64, done bool) {
				if done && read > 0 {
					e.mu.Lock()
					e.done = append(e.done, source+"/"+name)
					e.mu.Unlock()
				}
			}
		}}
	return e
}

// run runs a night, counting requests from zero.
func (e *eurostatEnv) run(t *testing.T) ([]Got, error) {
	t.Helper()
	e.fake.ResetCounts()
	e.mu.Lock()
	e.sleeps, e.done = nil, nil
	e.mu.Unlock()
	return e.client.Eurostat(context.Background(), e.cfg)
}

// counts returns the requests of every kind.
func (e *eurostatEnv) counts() map[upstreamtest.EurostatRequest]int {
	out := map[upstreamtest.EurostatRequest]int{}
	for _, k := range []upstreamtest.EurostatRequest{upstreamtest.EurostatInventory, upstreamtest.EurostatTOC, upstreamtest.EurostatData,
		upstreamtest.EurostatAsyncStatus, upstreamtest.EurostatAsyncData, upstreamtest.EurostatOther} {
		if n := e.fake.Count(k); n > 0 {
			out[k] = n
		}
	}
	return out
}

// content returns a snapshot's bytes, decompressed when gzip.
func (e *eurostatEnv) content(t *testing.T, rec snapshot.Record) []byte {
	t.Helper()
	f, err := e.store.Open(rec.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// inventoryDate is how a note and the state write an inventory date.
func (e *eurostatEnv) inventoryDate(t *testing.T, code string) string {
	t.Helper()
	d, err := e.fake.DataChanged(code)
	if err != nil {
		t.Fatal(err)
	}
	return d.Format(time.RFC3339)
}

// TestEurostatNights runs nights one after the other against the fake
// API, each after its change upstream: what is downloaded, what is asked,
// what the notes and the state file say.
func TestEurostatNights(t *testing.T) {
	t.Parallel()
	e := newEurostatEnv(t)
	all := []string{"migr_asyappctza", "migr_asyappctzm", "migr_asydcfsta", "migr_asydcfstq"}
	type counts = map[upstreamtest.EurostatRequest]int
	var revision upstreamtest.EurostatRevision
	nights := []struct {
		name       string
		before     func(t *testing.T)
		downloaded []string
		requests   counts
		// check looks at what the night returned.
		check func(t *testing.T, got map[string]Got)
	}{
		{
			name:       "first night downloads all four, the filtered one through the asynchronous API",
			downloaded: all,
			// 3 whole datasets and the query that is queued; the
			// status polls SUBMITTED, PROCESSING, AVAILABLE.
			requests: counts{upstreamtest.EurostatInventory: 1, upstreamtest.EurostatData: 4, upstreamtest.EurostatAsyncStatus: 3, upstreamtest.EurostatAsyncData: 1},
			check: func(t *testing.T, got map[string]Got) {
				q := e.fake.URLs(upstreamtest.EurostatData)
				wantQuery := "/sdmx/3.0/data/dataflow/ESTAT/MIGR_ASYDCFSTQ/1.0?c[citizen]=AF,BY,GE,RU,SY,UA&format=csvdata&formatVersion=2.0&compress=true"
				if !slices.ContainsFunc(q, func(u string) bool { return strings.HasSuffix(u, wantQuery) }) {
					t.Errorf("data queries %q, want one ending %s", q, wantQuery)
				}
				if !slices.ContainsFunc(q, func(u string) bool {
					return strings.HasSuffix(u, "/sdmx/2.1/data/MIGR_ASYAPPCTZA?format=TSV&compressed=true")
				}) {
					t.Errorf("data queries %q, want the whole migr_asyappctza as gzipped TSV", q)
				}
				// Every download reports its progress, the queued
				// answer's included.
				for _, d := range eurostatNightly {
					if n := "eurostat_asylum/" + EurostatName(d); !slices.Contains(e.done, n) {
						t.Errorf("no progress reported for %s: %v", n, e.done)
					}
				}
				// Polls wait 2 s, then twice as long each time.
				if want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}; !slices.Equal(e.sleeps, want) {
					t.Errorf("waits %v, want %v", e.sleeps, want)
				}
				whole := got["migr_asyappctza.tsv.gz"]
				if want := "no snapshot held; last data change " + e.inventoryDate(t, "migr_asyappctza") + " (files inventory)"; whole.Note != want {
					t.Errorf("note %q, want %q", whole.Note, want)
				}
				if b := e.content(t, whole.Record); !bytes.HasPrefix(b, []byte("freq,unit,citizen,sex,age,applicant,geo\\TIME_PERIOD\t2012 ")) {
					t.Errorf("migr_asyappctza snapshot starts %q, want the API TSV", b[:min(len(b), 80)])
				}
				// The filtered extraction is the zip's member, SDMX-CSV
				// 2.0 of the filter's citizens only.
				filtered := got["migr_asydcfstq_citizen-AF+BY+GE+RU+SY+UA.csv.gz"]
				if !strings.Contains(filtered.Note, "delivered asynchronously") || !strings.Contains(filtered.Note, "its one member") {
					t.Errorf("note %q, want it to say the extraction came asynchronously, as a zip of one member", filtered.Note)
				}
				if !strings.Contains(filtered.Record.URL, "/1.0/async/data/") {
					t.Errorf("record URL %s, want the asynchronous API's data address", filtered.Record.URL)
				}
				citizens := map[string]bool{}
				for i, line := range strings.Split(strings.TrimSpace(string(e.content(t, filtered.Record))), "\n") {
					f := strings.Split(line, ",")
					if i == 0 {
						if !strings.HasPrefix(line, "STRUCTURE,STRUCTURE_ID,freq,unit,citizen,") {
							t.Fatalf("header %q, want SDMX-CSV 2.0", line)
						}
						continue
					}
					citizens[f[4]] = true
				}
				// The real FR file has no Russian, Ukrainian or
				// Belarusian decisions.
				if want := map[string]bool{"AF": true, "GE": true, "SY": true}; fmt.Sprint(citizens) != fmt.Sprint(want) {
					t.Errorf("citizens %v, want %v", citizens, want)
				}
				// The state file holds every download.
				b, err := os.ReadFile(filepath.Join(e.store.Dir(), "upstream", "eurostat.json"))
				if err != nil {
					t.Fatal(err)
				}
				var st eurostatState
				if err := json.Unmarshal(b, &st); err != nil {
					t.Fatal(err)
				}
				for name, g := range got {
					h := st.Datasets[name]
					if h.SHA256 != g.Record.SHA256 || h.LastDataChange != e.inventoryDate(t, h.Code) || h.DatesFrom != "files inventory" || h.SnapshotURL != g.Record.URL {
						t.Errorf("state of %s: %+v, want the snapshot %s and the inventory's date %s", name, h, g.Record.SHA256[:12], e.inventoryDate(t, h.Code))
					}
				}
			},
		},
		{
			name:     "an unchanged night asks the inventory only",
			requests: counts{upstreamtest.EurostatInventory: 1},
			check: func(t *testing.T, got map[string]Got) {
				for _, g := range got {
					code := strings.SplitN(strings.TrimSuffix(strings.TrimSuffix(g.Name, ".tsv.gz"), ".csv.gz"), "_citizen", 2)[0]
					if want := "unchanged since " + e.inventoryDate(t, code) + " (files inventory)"; g.Note != want {
						t.Errorf("%s: note %q, want %q", g.Name, g.Note, want)
					}
				}
			},
		},
		{
			name: "a revised dataset is downloaded alone, with the revised value",
			before: func(t *testing.T) {
				var err error
				if revision, err = e.fake.Revise("migr_asyappctzm"); err != nil {
					t.Fatal(err)
				}
			},
			downloaded: []string{"migr_asyappctzm"},
			requests:   counts{upstreamtest.EurostatInventory: 1, upstreamtest.EurostatData: 1},
			check: func(t *testing.T, got map[string]Got) {
				g := got["migr_asyappctzm.tsv.gz"]
				if !strings.HasPrefix(g.Note, "last data change "+revision.DataChanged.Format(time.RFC3339)+" (files inventory), held ") {
					t.Errorf("note %q, want the new date and the one held", g.Note)
				}
				line := ""
				for _, l := range strings.Split(string(e.content(t, g.Record)), "\n") {
					if strings.HasPrefix(l, revision.Series+"\t") {
						line = l
					}
				}
				if !strings.Contains(line, "\t"+revision.New+" ") || strings.Contains(line, "\t"+revision.Old+" \n") {
					t.Errorf("series %s in the new snapshot: %q, want %s in %s (was %s)", revision.Series, line, revision.New, revision.Period, revision.Old)
				}
			},
		},
		{
			name: "a moved structural change downloads, and says the codes may have changed",
			before: func(t *testing.T) {
				if err := e.fake.SetStructureChanged("migr_asydcfsta", time.Date(2026, 11, 21, 11, 0, 0, 0, time.FixedZone("", 3600))); err != nil {
					t.Fatal(err)
				}
			},
			downloaded: []string{"migr_asydcfsta"},
			requests:   counts{upstreamtest.EurostatInventory: 1, upstreamtest.EurostatData: 1},
			check: func(t *testing.T, got map[string]Got) {
				if n := got["migr_asydcfsta.tsv.gz"].Note; !strings.Contains(n, "last structural change 2026-11-21T11:00:00+01:00") || !strings.Contains(n, "codes may have changed") {
					t.Errorf("note %q, want the structural change", n)
				}
				if !strings.Contains(e.logs.String(), "eurostat structure changed") {
					t.Errorf("log %q, want a line about the structure", e.logs.String())
				}
			},
		},
		{
			name: "a revised dataset missing from the inventory is found in the table of contents",
			before: func(t *testing.T) {
				e.fake.LeaveOutOfInventory("migr_asyappctza", true)
				if _, err := e.fake.Revise("migr_asyappctza"); err != nil {
					t.Fatal(err)
				}
				// A day later, so that the table of contents' day moves.
				d, _ := e.fake.DataChanged("migr_asyappctza")
				if err := e.fake.SetDataChanged("migr_asyappctza", d.Add(24*time.Hour)); err != nil {
					t.Fatal(err)
				}
			},
			downloaded: []string{"migr_asyappctza"},
			requests:   counts{upstreamtest.EurostatInventory: 1, upstreamtest.EurostatTOC: 1, upstreamtest.EurostatData: 1},
			check: func(t *testing.T, got map[string]Got) {
				d, _ := e.fake.DataChanged("migr_asyappctza")
				if n := got["migr_asyappctza.tsv.gz"].Note; !strings.HasPrefix(n, "last data change "+d.Format(time.DateOnly)+" (table of contents)") {
					t.Errorf("note %q, want the table of contents' day", n)
				}
			},
		},
		{
			name: "the inventory back with the day the table of contents gave: unchanged",
			before: func(t *testing.T) {
				e.fake.LeaveOutOfInventory("migr_asyappctza", false)
			},
			requests: counts{upstreamtest.EurostatInventory: 1},
			check: func(t *testing.T, got map[string]Got) {
				d, _ := e.fake.DataChanged("migr_asyappctza")
				if want := "unchanged since " + d.Format(time.RFC3339) + " (files inventory)"; got["migr_asyappctza.tsv.gz"].Note != want {
					t.Errorf("note %q, want %q", got["migr_asyappctza.tsv.gz"].Note, want)
				}
			},
		},
		{
			name: "an expired extraction is asked for again",
			before: func(t *testing.T) {
				e.fake.ExpireOnce("migr_asydcfstq")
				d, _ := e.fake.DataChanged("migr_asydcfstq")
				if err := e.fake.SetDataChanged("migr_asydcfstq", d.Add(12*time.Hour)); err != nil {
					t.Fatal(err)
				}
			},
			downloaded: []string{"migr_asydcfstq"},
			// Two queries; one poll says EXPIRED, three more see it
			// through.
			requests: counts{upstreamtest.EurostatInventory: 1, upstreamtest.EurostatData: 2, upstreamtest.EurostatAsyncStatus: 4, upstreamtest.EurostatAsyncData: 1},
			check: func(t *testing.T, got map[string]Got) {
				g := got["migr_asydcfstq_citizen-AF+BY+GE+RU+SY+UA.csv.gz"]
				if !strings.Contains(g.Note, "expired; asked again") {
					t.Errorf("note %q, want it to say the extraction expired", g.Note)
				}
				if g.Attempts != 2+4+1 {
					t.Errorf("%d attempts, want 7 (2 queries, 4 polls, 1 download)", g.Attempts)
				}
			},
		},
		{
			name: "an inventory with a garbage line: the table of contents decides",
			before: func(t *testing.T) {
				e.fake.SetInventoryGarbage("MIGR_ASYAPPCTZA\tDATASET\tthis line was cut")
			},
			requests: counts{upstreamtest.EurostatInventory: 1, upstreamtest.EurostatTOC: 1},
			check: func(t *testing.T, got map[string]Got) {
				for name, g := range got {
					if !strings.HasSuffix(g.Note, "(table of contents)") {
						t.Errorf("%s: note %q, want the table of contents", name, g.Note)
					}
				}
				if !strings.Contains(e.logs.String(), "files inventory line 3") {
					t.Errorf("log %q, want the inventory's bad line named", e.logs.String())
				}
			},
		},
	}
	for _, n := range nights {
		// Each night depends on the nights before: stop at the first
		// that fails.
		if !t.Run(n.name, func(t *testing.T) {
			if n.before != nil {
				n.before(t)
			}
			gots, err := e.run(t)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]Got{}
			var downloaded []string
			for i, g := range gots {
				if want := EurostatName(e.cfg.Datasets[i]); g.Name != want || g.Source != "eurostat_asylum" {
					t.Errorf("got %d is %s/%s, want eurostat_asylum/%s", i, g.Source, g.Name, want)
				}
				if _, err := e.store.Path(g.Record.SHA256); err != nil {
					t.Errorf("%s: %v", g.Name, err)
				}
				if g.Downloaded {
					downloaded = append(downloaded, e.cfg.Datasets[i].Code)
				}
				got[g.Name] = g
			}
			if len(gots) != len(e.cfg.Datasets) {
				t.Fatalf("%d gots, want %d", len(gots), len(e.cfg.Datasets))
			}
			if !slices.Equal(downloaded, n.downloaded) {
				t.Errorf("downloaded %v, want %v", downloaded, n.downloaded)
			}
			if c := e.counts(); fmt.Sprint(c) != fmt.Sprint(n.requests) {
				t.Errorf("requests %v, want %v", c, n.requests)
			}
			if n.check != nil {
				n.check(t, got)
			}
		}) {
			return
		}
	}
}

// TestEurostatFailures: every failure names Eurostat, the dataset or list
// and the address, quotes what Eurostat said, and is retried only when a
// retry can help.
func TestEurostatFailures(t *testing.T) {
	t.Parallel()
	const faultString = "INVALID_QUERY_DIMENSION_VALUE: Query is invalid as per its structure's definition. The following values for dimension are not allowed: UNIT=NOTAUNIT."
	tests := []struct {
		name  string
		setup func(e *eurostatEnv)
		// want are parts of the message.
		want []string
		// status and fault are what the *EurostatError must carry.
		status int
		fault  string
		html   bool
		// requests counts what was asked (of the kinds named).
		requests map[upstreamtest.EurostatRequest]int
	}{
		{
			name:  "413 fails at once with the faultstring and the filter advice",
			setup: func(e *eurostatEnv) { e.fake.SetTooBig("migr_asydcfstq", true) },
			want: []string{"Eurostat dataset migr_asydcfstq", "/sdmx/3.0/data/dataflow/ESTAT/MIGR_ASYDCFSTQ/1.0?c[citizen]=", "413",
				"narrow upstream.eurostat.datasets[3].filter for migr_asydcfstq", "never retried"},
			status: 413, fault: upstreamtest.EurostatTooBig.String,
			// Three whole datasets, then the filtered query once.
			requests: map[upstreamtest.EurostatRequest]int{upstreamtest.EurostatData: 4, upstreamtest.EurostatAsyncStatus: 0},
		},
		{
			name:   "413 on a whole dataset advises a filter",
			setup:  func(e *eurostatEnv) { e.fake.SetTooBig("migr_asyappctzm", true) },
			want:   []string{"Eurostat dataset migr_asyappctzm", "give upstream.eurostat.datasets[1] (migr_asyappctzm) a filter"},
			status: 413, fault: upstreamtest.EurostatTooBig.String,
			requests: map[upstreamtest.EurostatRequest]int{upstreamtest.EurostatData: 2},
		},
		{
			name:  "503 fails after retries naming Eurostat and the URL",
			setup: func(e *eurostatEnv) { e.fake.SetDown(http.StatusServiceUnavailable, upstreamtest.EurostatData) },
			want: []string{"Eurostat dataset migr_asyappctza", "/sdmx/2.1/data/MIGR_ASYAPPCTZA?format=TSV&compressed=true",
				"giving up after 3 attempts", "503 Service Unavailable"},
			// The fake's 503 is an HTML page, as the Commission's are.
			status: 503, html: true,
			requests: map[upstreamtest.EurostatRequest]int{upstreamtest.EurostatData: 1 + fetchRetries},
		},
		{
			name:  "503 everywhere: neither list, nothing downloaded",
			setup: func(e *eurostatEnv) { e.fake.SetDown(http.StatusServiceUnavailable) },
			want: []string{"cannot tell which datasets changed, so nothing was downloaded", "/files/inventory?type=data&lang=en",
				"/catalogue/toc/txt?lang=en", "503 Service Unavailable"},
			status: 503, html: true,
			requests: map[upstreamtest.EurostatRequest]int{upstreamtest.EurostatInventory: 1 + fetchRetries,
				upstreamtest.EurostatTOC: 1 + fetchRetries, upstreamtest.EurostatData: 0},
		},
		{
			name:  "an HTML outage page instead of the data",
			setup: func(e *eurostatEnv) { e.fake.SetOutage(true, upstreamtest.EurostatData) },
			want: []string{"Eurostat dataset migr_asyappctza", "Eurostat answered with an HTML page (an outage page?)",
				`"` + upstreamtest.EurostatOutageTitle + `"`, "try again later"},
			html:     true,
			requests: map[upstreamtest.EurostatRequest]int{upstreamtest.EurostatData: 1},
		},
		{
			name:  "an HTML outage page everywhere",
			setup: func(e *eurostatEnv) { e.fake.SetOutage(true) },
			want: []string{"cannot tell which datasets changed", "Eurostat answered with an HTML page (an outage page?)",
				upstreamtest.EurostatOutageTitle, "/files/inventory", "/catalogue/toc/txt"},
			html:     true,
			requests: map[upstreamtest.EurostatRequest]int{upstreamtest.EurostatInventory: 1, upstreamtest.EurostatTOC: 1, upstreamtest.EurostatData: 0},
		},
		{
			name: "a fault 150 quotes its faultstring",
			setup: func(e *eurostatEnv) {
				e.fake.SetFault("migr_asydcfsta", upstreamtest.EurostatFault{Status: 400, Code: 150, String: faultString})
			},
			want:   []string{"Eurostat dataset migr_asydcfsta", "400 Bad Request", "check upstream.eurostat.datasets[2] (migr_asydcfsta)"},
			status: 400, fault: faultString,
			requests: map[upstreamtest.EurostatRequest]int{upstreamtest.EurostatData: 3},
		},
		{
			name: "a JSON error quotes its label",
			setup: func(e *eurostatEnv) {
				e.fake.SetFault("migr_asyappctza", upstreamtest.EurostatFault{Status: 400, Code: 150, String: "INVALID_QUERY_DIMENSION: asyl_app", JSON: true})
			},
			want:   []string{"Eurostat dataset migr_asyappctza", "(fault 150)"},
			status: 400, fault: "INVALID_QUERY_DIMENSION: asyl_app",
			requests: map[upstreamtest.EurostatRequest]int{upstreamtest.EurostatData: 1},
		},
		{
			name: "a dataset Eurostat does not have: listed nowhere, asked, fault 100",
			setup: func(e *eurostatEnv) {
				e.cfg.Datasets = append([]EurostatDataset{{Code: "migr_nosuch"}}, e.cfg.Datasets...)
			},
			want:   []string{"Eurostat dataset migr_nosuch", "404 Not Found", "check upstream.eurostat.datasets[0] (migr_nosuch)"},
			status: 404, fault: "ERR_NOT_FOUND_2: DATA_SET:MIGR_NOSUCH is not available for dissemination.",
			requests: map[upstreamtest.EurostatRequest]int{upstreamtest.EurostatInventory: 1, upstreamtest.EurostatTOC: 1, upstreamtest.EurostatData: 1},
		},
		{
			name: "an inventory with garbage, and no table of contents: the line is named",
			setup: func(e *eurostatEnv) {
				e.fake.SetInventoryGarbage("<p>garbage</p>")
				e.fake.SetDown(http.StatusServiceUnavailable, upstreamtest.EurostatTOC)
			},
			// The first *EurostatError is the inventory's.
			want:     []string{"files inventory line 3: 1 fields, the header has 10", `"<p>garbage</p>"`, "/files/inventory?type=data&lang=en", "503 Service Unavailable"},
			requests: map[upstreamtest.EurostatRequest]int{upstreamtest.EurostatInventory: 1, upstreamtest.EurostatData: 0},
		},
		{
			name: "an inventory without its date column",
			setup: func(e *eurostatEnv) {
				e.fake.LeaveOutOfInventory("migr_asyappctza", true)
				e.fake.SetDown(http.StatusServiceUnavailable, upstreamtest.EurostatTOC)
				e.fake.SetInventoryGarbage("MIGR_ASYAPPCTZM\tDATASET\t-\tyesterday\t2026-03-24T11:00:00+0100\ta\tb\tc\td\te")
			},
			want:     []string{"files inventory line 3: Last data change of MIGR_ASYAPPCTZM", `"yesterday" is not a timestamp`},
			requests: map[upstreamtest.EurostatRequest]int{upstreamtest.EurostatData: 0},
		},
		{
			name: "an extraction that keeps expiring fails after 3 resubmissions",
			setup: func(e *eurostatEnv) {
				for range 4 {
					e.fake.ExpireOnce("migr_asydcfstq")
				}
			},
			want:     []string{"Eurostat dataset migr_asydcfstq", "expired 4 times"},
			requests: map[upstreamtest.EurostatRequest]int{upstreamtest.EurostatData: 3 + 4, upstreamtest.EurostatAsyncStatus: 4, upstreamtest.EurostatAsyncData: 0},
		},
		{
			name:     "an asynchronous request in ERROR",
			setup:    func(e *eurostatEnv) { e.fake.SetAsyncStatus("migr_asydcfstq", "ERROR") },
			want:     []string{"Eurostat dataset migr_asydcfstq", "/1.0/async/status/", "is ERROR"},
			requests: map[upstreamtest.EurostatRequest]int{upstreamtest.EurostatAsyncStatus: 1, upstreamtest.EurostatAsyncData: 0},
		},
		{
			name:     "an asynchronous request Eurostat does not know",
			setup:    func(e *eurostatEnv) { e.fake.SetAsyncStatus("migr_asydcfstq", "UNKNOWN_REQUEST") },
			want:     []string{"Eurostat dataset migr_asydcfstq", "is UNKNOWN_REQUEST"},
			requests: map[upstreamtest.EurostatRequest]int{upstreamtest.EurostatAsyncStatus: 1, upstreamtest.EurostatAsyncData: 0},
		},
		{
			name:     "an extraction not ready within poll_max",
			setup:    func(e *eurostatEnv) { e.cfg.PollMax = 5 * time.Second },
			want:     []string{"Eurostat dataset migr_asydcfstq", "was not ready after 2s of waiting", "raise upstream.eurostat.poll_max (now 5s)"},
			requests: map[upstreamtest.EurostatRequest]int{upstreamtest.EurostatAsyncStatus: 1, upstreamtest.EurostatAsyncData: 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEurostatEnv(t)
			tc.setup(e)
			_, err := e.run(t)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range append(tc.want, "Eurostat") {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nwant it to say %q", msg, w)
				}
			}
			if strings.Contains(msg, "127.0.0.1") && !strings.Contains(msg, e.cfg.BaseURL) {
				t.Errorf("error %q names another address than %s", msg, e.cfg.BaseURL)
			}
			var ee *EurostatError
			if !errors.As(err, &ee) {
				t.Fatalf("error %T, want a *EurostatError in it", err)
			}
			if tc.status != 0 && ee.Status != tc.status || tc.fault != "" && ee.Fault != tc.fault || ee.HTML != tc.html {
				t.Errorf("status %d fault %q html %v, want %d %q %v", ee.Status, ee.Fault, ee.HTML, tc.status, tc.fault, tc.html)
			}
			if tc.fault != "" && !strings.Contains(msg, fmt.Sprintf("%q", tc.fault)) {
				t.Errorf("error %q\nwant it to quote %q", msg, tc.fault)
			}
			for kind, n := range tc.requests {
				if got := e.fake.Count(kind); got != n {
					t.Errorf("%d %s requests, want %d", got, kind, n)
				}
			}
			if _, err := os.Stat(filepath.Join(e.store.Dir(), "upstream", "eurostat.json")); err == nil && e.fake.Count(upstreamtest.EurostatData) == 0 {
				t.Errorf("a state file without a download")
			}
		})
	}
}

// TestEurostatAsyncContainers: the asynchronous extraction's container is
// not documented; a zip of one member, gzip and plain text all give the
// same table as the snapshot.
func TestEurostatAsyncContainers(t *testing.T) {
	t.Parallel()
	var first []byte
	for _, tc := range []struct {
		container string
		gzip      bool // the snapshot is stored compressed
		note      string
	}{
		{"zip", false, "the extraction came as a zip; its one member ESTAT_MIGR_ASYDCFSTQ_"},
		{"gzip", true, ""},
		{"plain", false, ""},
	} {
		t.Run(tc.container, func(t *testing.T) {
			e := newEurostatEnv(t)
			if err := e.fake.SetAsyncContainer(tc.container); err != nil {
				t.Fatal(err)
			}
			e.cfg.Datasets = eurostatNightly[3:]
			gots, err := e.run(t)
			if err != nil {
				t.Fatal(err)
			}
			g := gots[0]
			f, err := e.store.Open(g.Record.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			head := make([]byte, 2)
			io.ReadFull(f, head)
			f.Close()
			if gz := bytes.Equal(head, []byte{0x1f, 0x8b}); gz != tc.gzip {
				t.Errorf("stored as gzip %v, want %v", gz, tc.gzip)
			}
			if tc.note != "" && !strings.Contains(g.Note, tc.note) || tc.note == "" && strings.Contains(g.Note, "zip") {
				t.Errorf("note %q, want %q", g.Note, tc.note)
			}
			b := e.content(t, g.Record)
			if first == nil {
				first = b
			} else if !bytes.Equal(b, first) {
				t.Errorf("the table differs from the zip's member")
			}
		})
	}
}

// TestEurostatOffline: offline, no request is made and the snapshots of
// the last online night are returned; without any, the error says to run
// online once.
func TestEurostatOffline(t *testing.T) {
	t.Parallel()
	e := newEurostatEnv(t)
	e.client.Offline = true
	if _, err := e.run(t); err == nil || !strings.Contains(err.Error(), "run once online") || !errors.Is(err, snapshot.ErrNoRecord) {
		t.Errorf("offline with an empty store: %v, want an error saying to run once online", err)
	}
	e.client.Offline = false
	online, err := e.run(t)
	if err != nil {
		t.Fatal(err)
	}
	e.client.Offline = true
	// Even a revision upstream is not asked about.
	if _, err := e.fake.Revise("migr_asyappctza"); err != nil {
		t.Fatal(err)
	}
	offline, err := e.run(t)
	if err != nil {
		t.Fatal(err)
	}
	if c := e.counts(); len(c) != 0 {
		t.Errorf("offline requests %v, want none", c)
	}
	for i := range online {
		if offline[i].Record.SHA256 != online[i].Record.SHA256 || offline[i].Downloaded || !strings.HasPrefix(offline[i].Note, "offline") {
			t.Errorf("%s offline: %s downloaded %v note %q, want the online snapshot %s", offline[i].Name,
				offline[i].Record.SHA256[:12], offline[i].Downloaded, offline[i].Note, online[i].Record.SHA256[:12])
		}
	}
}

// TestEurostatSnapshotGone: a held snapshot whose object left the store
// is downloaded again although Eurostat's date did not move.
func TestEurostatSnapshotGone(t *testing.T) {
	t.Parallel()
	e := newEurostatEnv(t)
	first, err := e.run(t)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.store.Path(first[0].Record.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	gots, err := e.run(t)
	if err != nil {
		t.Fatal(err)
	}
	if !gots[0].Downloaded || !strings.Contains(gots[0].Note, "is gone from the store") || gots[0].Record.SHA256 != first[0].Record.SHA256 {
		t.Errorf("%s: downloaded %v note %q, want it downloaded again, the same bytes", gots[0].Name, gots[0].Downloaded, gots[0].Note)
	}
	if n := e.fake.Count(upstreamtest.EurostatData); n != 1 {
		t.Errorf("%d data requests, want 1", n)
	}
}

// TestEurostatSnapshotsLoad: what a night returns is what the sources
// read. The four snapshots, under their names, load into DuckDB with the
// real files' figures: the annual, monthly and quarterly periods of the
// same real numbers.
func TestEurostatSnapshotsLoad(t *testing.T) {
	t.Parallel()
	e := newEurostatEnv(t)
	gots, err := e.run(t)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for _, g := range gots {
		p, err := e.store.Path(g.Record.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		// Linked under its name, which tells the TSV's dataset.
		link := filepath.Join(dir, g.Name)
		if err := os.Symlink(p, link); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, link)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	src := sources.NewEurostat(sources.EurostatConfig{Paths: paths, CodeLists: filepath.Join(upstreamtest.DataDir(t), "reference")})
	if _, err := src.Load(context.Background(), conn); err != nil {
		t.Fatal(err)
	}
	// Figures of the real files: Russian first-time applicants in the
	// EU-28 in 2013 (appsso export, 35,120 flagged d), Afghan and
	// Georgian rejections in France in 2019 (SDMX-CSV, 3,250 and 9,550).
	for _, tc := range []struct {
		dataset, period, citizen, geo, code string
		value                               float64
		flags                               string
	}{
		{"migr_asyappctza", "2013", "RU", "EU28", "FRST", 35120, "d"},
		{"migr_asyappctzm", "2013-12", "RU", "EU28", "FRST", 35120, "d"},
		{"migr_asydcfsta", "2019", "AF", "FR", "NEG", 3250, ""},
		{"migr_asydcfstq", "2019-Q4", "AF", "FR", "NEG", 3250, ""},
		{"migr_asydcfstq", "2019-Q4", "GE", "FR", "NEG", 9550, ""},
	} {
		t.Run(tc.dataset+" "+tc.period+" "+tc.citizen, func(t *testing.T) {
			var v float64
			var flags string
			err := conn.QueryRowContext(context.Background(), `SELECT value, flags FROM raw_eurostat_asylum
				WHERE dataset = ? AND period = ? AND citizen = ? AND geo = ? AND sex = 'T' AND age = 'TOTAL'
				  AND (applicant = ? OR decision = ?)`, tc.dataset, tc.period, tc.citizen, tc.geo, tc.code, tc.code).Scan(&v, &flags)
			if err != nil {
				t.Fatal(err)
			}
			if v != tc.value || flags != tc.flags {
				t.Errorf("%v %q, want %v %q", v, flags, tc.value, tc.flags)
			}
		})
	}
}

// TestEurostatConfigValidate: what a configuration may say.
func TestEurostatConfigValidate(t *testing.T) {
	ds := func(code string, filter map[string][]string) []EurostatDataset {
		return []EurostatDataset{{Code: code, Filter: filter}}
	}
	for _, tc := range []struct {
		name string
		cfg  EurostatConfig
		want string // "" for valid
	}{
		{"the nightly configuration", EurostatConfig{BaseURL: "https://ec.europa.eu/eurostat/api/dissemination", Datasets: eurostatNightly}, ""},
		{"nothing asked", EurostatConfig{}, ""},
		{"http to this machine", EurostatConfig{BaseURL: "http://127.0.0.1:8080/eurostat", Datasets: ds("migr_asyappctza", nil)}, ""},
		{"http to localhost", EurostatConfig{BaseURL: "http://localhost:8080", Datasets: ds("migr_asyappctza", nil)}, ""},
		{"http to another machine", EurostatConfig{BaseURL: "http://ec.europa.eu/eurostat/api/dissemination", Datasets: ds("migr_asyappctza", nil)}, "plain http to another machine"},
		{"datasets without a base URL", EurostatConfig{Datasets: ds("migr_asyappctza", nil)}, "listed without upstream.eurostat.base_url"},
		{"no datasets", EurostatConfig{BaseURL: "https://ec.europa.eu"}, "list the datasets"},
		{"upper-case code", EurostatConfig{BaseURL: "https://ec.europa.eu", Datasets: ds("MIGR_ASYAPPCTZA", nil)}, `datasets[0].code: "MIGR_ASYAPPCTZA" is not`},
		{"code with a slash", EurostatConfig{BaseURL: "https://ec.europa.eu", Datasets: ds("migr/../x", nil)}, "is not a Eurostat dataset code"},
		{"code twice", EurostatConfig{BaseURL: "https://ec.europa.eu", Datasets: append(ds("migr_asyappctza", nil), eurostatNightly[0])}, "datasets[1].code: migr_asyappctza is listed already as upstream.eurostat.datasets[0]"},
		{"dimension with a bracket", EurostatConfig{BaseURL: "https://ec.europa.eu", Datasets: ds("migr_asydcfstq", map[string][]string{"citizen]": {"RU"}})}, `dimension "citizen]"`},
		{"upper-case dimension", EurostatConfig{BaseURL: "https://ec.europa.eu", Datasets: ds("migr_asydcfstq", map[string][]string{"TIME_PERIOD": {"2024"}})}, `dimension "TIME_PERIOD"`},
		{"code with a comma", EurostatConfig{BaseURL: "https://ec.europa.eu", Datasets: ds("migr_asydcfstq", map[string][]string{"citizen": {"RU,UA"}})}, `filter.citizen: "RU,UA" is not a Eurostat code`},
		{"empty code list", EurostatConfig{BaseURL: "https://ec.europa.eu", Datasets: ds("migr_asydcfstq", map[string][]string{"citizen": {}})}, "filter.citizen: no codes"},
		{"negative poll_max", EurostatConfig{BaseURL: "https://ec.europa.eu", Datasets: eurostatNightly, PollMax: -time.Second}, "poll_max: -1s is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestEurostatName: a filter is part of the name, so that another filter
// is another input; the order of dimensions and codes is not.
func TestEurostatName(t *testing.T) {
	long := make([]string, 40)
	for i := range long {
		long[i] = fmt.Sprintf("C%02d", i)
	}
	for _, tc := range []struct {
		name string
		d    EurostatDataset
		want string
	}{
		{"whole", EurostatDataset{Code: "migr_asyappctza"}, "migr_asyappctza.tsv.gz"},
		{"filtered", eurostatNightly[3], "migr_asydcfstq_citizen-AF+BY+GE+RU+SY+UA.csv.gz"},
		{"same codes in another order, one twice", EurostatDataset{Code: "migr_asydcfstq", Filter: map[string][]string{"citizen": {"UA", "AF", "SY", "RU", "GE", "BY", "AF"}}},
			"migr_asydcfstq_citizen-AF+BY+GE+RU+SY+UA.csv.gz"},
		{"two dimensions", EurostatDataset{Code: "migr_asydcfstq", Filter: map[string][]string{"geo": {"FR", "DE"}, "citizen": {"RU"}}},
			"migr_asydcfstq_citizen-RU_geo-DE+FR.csv.gz"},
		{"too long for a name", EurostatDataset{Code: "migr_asydcfstq", Filter: map[string][]string{"citizen": long}}, "migr_asydcfstq_filter-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := EurostatName(tc.d)
			if got != tc.want && !(strings.HasSuffix(tc.want, "-") && strings.HasPrefix(got, tc.want) && len(got) < 60) {
				t.Errorf("%q, want %q", got, tc.want)
			}
		})
	}
}
