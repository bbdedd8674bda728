package pipeline

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/visastats/visastats/output/release"
	"github.com/visastats/visastats/pipeline/upstream/upstreamtest"
	"github.com/visastats/visastats/sources"
	"github.com/visastats/visastats/sources/ectest"
)

// publishers is one local server speaking the three publishers' APIs:
// Eurostat's under /eurostat, UNHCR's under /unhcr and the Commission's
// site at the root (its pages link absolute paths).
type publishers struct {
	srv      *httptest.Server
	eurostat *upstreamtest.Eurostat
	unhcr    *upstreamtest.UNHCR
	ec       *upstreamtest.Commission
}

func newPublishers(t *testing.T) *publishers {
	t.Helper()
	data := upstreamtest.DataDir(t)
	es, err := upstreamtest.NewEurostat(data)
	if err != nil {
		t.Fatal(err)
	}
	// A few origins keep the pages few; 2026 stands for UNHCR's mid-year
	// release of this year.
	un, err := upstreamtest.NewUNHCR(data, upstreamtest.UNHCROptions{Origins: []string{"RUS", "AFG", "SYR", "UKR"}, CurrentYear: 2026})
	if err != nil {
		t.Fatal(err)
	}
	ec, err := upstreamtest.NewCommission(data)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/eurostat/", http.StripPrefix("/eurostat", es))
	mux.Handle("/unhcr/", http.StripPrefix("/unhcr", un))
	mux.Handle("/", ec)
	p := &publishers{srv: httptest.NewServer(mux), eurostat: es, unhcr: un, ec: ec}
	t.Cleanup(p.srv.Close)
	return p
}

// publishersConfig is the shipped config.nightly.yaml with the
// publishers' addresses pointed at p (TestNightlyConfig sets them from the
// environment, as an operator or a mirror does; this test runs in
// parallel, where the environment cannot be set), writing under dir, with
// small local inputs beside the publishers' (the 2024 EC workbook, which
// the Commission's current file replaces).
func publishersConfig(t *testing.T, p *publishers, dir string) Config {
	t.Helper()
	cfg, err := LoadConfig("../config.nightly.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Upstream.Eurostat.BaseURL = p.srv.URL + "/eurostat"
	cfg.Upstream.UNHCR.BaseURL = p.srv.URL + "/unhcr"
	cfg.Upstream.ECSchengen.PageURL = p.srv.URL + upstreamtest.CommissionPagePath
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.Database = filepath.Join(dir, "db", "visastats.duckdb")
	cfg.Output.Dir = filepath.Join(dir, "out")
	cfg.DuckDB.Threads = 1
	cfg.Output.Profiles = ProfilesNone // the full build tests them
	cfg.Output.Topics = nil
	cfg.Sources.ECSchengen = sources.ECSchengenConfig{Files: []sources.ECSchengenFile{{Path: ectest.File(t, "2024"), Year: 2024}}}
	cfg = tinify(cfg)
	cfg.Sources.UNHCR.Paths = nil
	return cfg
}

// TestNightlyFromThePublishers runs the shipped nightly configuration
// against local servers that speak Eurostat's, UNHCR's and the
// Commission's protocols, night after night: the first night loads all
// three (the filtered Eurostat dataset through the asynchronous API, the
// current UNHCR half year labelled partial, the workbooks found on the
// landing page); a night with nothing changed downloads no Eurostat data
// and publishes nothing; a revision of one dataset downloads it alone and
// is listed in observation_changes; a Eurostat outage fails the run and
// leaves latest where it was; a landing page without workbook links fails
// rather than publishing without the Commission's data.
func TestNightlyFromThePublishers(t *testing.T) {
	if testing.Short() {
		t.Skip("three builds from the publishers' fakes are skipped in -short mode")
	}
	t.Parallel() // a long test, overlapped with the other long tests
	p := newPublishers(t)
	cfg := publishersConfig(t, p, t.TempDir())
	ctx := context.Background()
	opts := RunOptions{HTTPClient: p.srv.Client(), BackoffBase: time.Millisecond,
		Sleep: func(context.Context, time.Duration) error { return nil }}

	// Night 1: everything is new.
	rep, err := Run(ctx, cfg, quietLog(), opts)
	if err != nil {
		t.Fatalf("first night: %v", err)
	}
	if rep.Status != release.StatusPublished {
		t.Fatalf("first night: status %s", rep.Status)
	}
	first := rep.Release
	if n := p.eurostat.Count(upstreamtest.EurostatData); n != 4 {
		t.Errorf("first night: %d Eurostat data queries, want 4 (three whole, one filtered)", n)
	}
	if n := p.eurostat.Count(upstreamtest.EurostatAsyncData); n != 1 {
		t.Errorf("first night: %d asynchronous downloads, want the filtered dataset's 1", n)
	}
	for _, c := range []struct {
		what, stmt string
		want       int64
	}{
		{"monthly Eurostat periods", `SELECT count(*) FROM observations WHERE dataset = 'eurostat_migr_asyappctzm' AND month = 12 AND period LIKE '____-12'`, -1},
		{"quarterly Eurostat periods", `SELECT count(*) FROM observations WHERE dataset = 'eurostat_migr_asydcfstq' AND period LIKE '____-Q4' AND month IS NULL`, -1},
		{"annual figure of the filtered quarterly dataset kept apart", `SELECT count(*) FROM observations WHERE dataset = 'eurostat_migr_asydcfstq' AND period = CAST(year AS VARCHAR)`, 0},
		{"UNHCR's current half year labelled partial", `SELECT count(*) FROM observations WHERE dataset LIKE 'unhcr%' AND year = 2026 AND NOT period_complete AND period_label = '2026 (Jan-Jun)'`, -1},
		{"UNHCR's current half year never whole", `SELECT count(*) FROM observations WHERE dataset LIKE 'unhcr%' AND year = 2026 AND period_complete`, 0},
		{"the Commission's 2025 workbook found on the page", `SELECT count(*) FROM schengen_state_year WHERE year = 2025`, -1},
		{"the Commission's 2024 workbook read instead of the local one", `SELECT count(*) FROM schengen_state_year WHERE year = 2024`, -1},
	} {
		got := queryInt(t, cfg, c.stmt)
		if c.want < 0 && got == 0 || c.want >= 0 && got != c.want {
			t.Errorf("first night: %s: %s = %d", c.what, c.stmt, got)
		}
	}
	// run.json lists every publisher's inputs, and says which local file
	// the Commission's replaced.
	var replaced bool
	for _, f := range rep.Fetches {
		replaced = replaced || strings.Contains(f.Note, "read instead of the local "+filepath.Base(ectest.File(t, "2024")))
	}
	if !replaced {
		t.Errorf("first night: no fetch says the Commission's 2024 workbook replaced the local one: %+v", rep.Fetches)
	}

	// Night 2: nothing moved upstream.
	p.eurostat.ResetCounts()
	p.unhcr.ResetCounts()
	p.ec.ResetCounts()
	rep, err = Run(ctx, cfg, quietLog(), opts)
	if err != nil {
		t.Fatalf("unchanged night: %v", err)
	}
	if rep.Status != release.StatusSkipped || rep.Release != first {
		t.Errorf("unchanged night: status %s, release %s; want skipped, %s", rep.Status, rep.Release, first)
	}
	if n := p.eurostat.Count(upstreamtest.EurostatData) + p.eurostat.Count(upstreamtest.EurostatAsyncData); n != 0 {
		t.Errorf("unchanged night: %d Eurostat data downloads, want 0", n)
	}
	if n := p.eurostat.Count(upstreamtest.EurostatInventory); n != 1 {
		t.Errorf("unchanged night: %d inventory requests, want 1", n)
	}
	for _, d := range []string{"asylum-applications", "asylum-decisions"} {
		if n := p.unhcr.Count(d); n != 1 {
			t.Errorf("unchanged night: %d requests of UNHCR's %s, want 1 (one row for its count and totals): %v", n, d, p.unhcr.URLs(d))
		}
	}
	if n := p.ec.Count(upstreamtest.CommissionDownload); n != 0 {
		t.Errorf("unchanged night: %d workbooks downloaded, want 0 (%d not modified)", n, p.ec.Count(upstreamtest.CommissionNotModified))
	}
	if skipped, _ := filepath.Glob(filepath.Join(cfg.Output.Dir, "runs", "*-skipped.json")); len(skipped) != 1 {
		t.Errorf("unchanged night: %d records of a skipped run in runs/, want 1", len(skipped))
	}

	// Night 3: Eurostat revised one dataset.
	rev, err := p.eurostat.Revise("migr_asydcfsta")
	if err != nil {
		t.Fatal(err)
	}
	p.eurostat.ResetCounts()
	rep, err = Run(ctx, cfg, quietLog(), opts)
	if err != nil {
		t.Fatalf("revision night: %v", err)
	}
	if rep.Status != release.StatusPublished || rep.Release == first {
		t.Fatalf("revision night: status %s, release %s", rep.Status, rep.Release)
	}
	second := rep.Release
	if urls := p.eurostat.URLs(upstreamtest.EurostatData); len(urls) != 1 || !strings.Contains(strings.ToLower(urls[0]), "migr_asydcfsta?") {
		t.Errorf("revision night: data queries %v, want migr_asydcfsta's alone", urls)
	}
	if n := queryInt(t, cfg, `SELECT count(*) FROM observation_changes WHERE dataset = 'eurostat_migr_asydcfsta' AND change = 'revised' AND period = '`+rev.Period+`' AND value = `+rev.New+` AND previous_value = `+rev.Old); n != 1 {
		t.Errorf("revision night: observation_changes lists %d rows of the revision %+v, want 1", n, rev)
	}

	// Night 4: Eurostat is down.
	p.eurostat.SetDown(http.StatusServiceUnavailable)
	_, err = Run(ctx, cfg, quietLog(), opts)
	if err == nil || !strings.Contains(err.Error(), "Eurostat") || !strings.Contains(err.Error(), p.srv.URL+"/eurostat") || !strings.Contains(err.Error(), "503") {
		t.Errorf("outage night: %v, want an error naming Eurostat, its URL and the 503", err)
	}
	if got := latestRelease(t, cfg); got != second {
		t.Errorf("outage night: latest is %s, want %s kept", got, second)
	}
	p.eurostat.SetDown(0)

	// Night 5: the Commission's page lost its workbook links.
	p.ec.SetFault(upstreamtest.CommissionNoWorkbookLinks)
	_, err = Run(ctx, cfg, quietLog(), opts)
	if err == nil || !strings.Contains(err.Error(), "European Commission") || !strings.Contains(err.Error(), "no link") {
		t.Errorf("page without links: %v, want an error saying the Commission's page has no workbook link", err)
	}
	if got := latestRelease(t, cfg); got != second {
		t.Errorf("page without links: latest is %s, want %s kept", got, second)
	}
}
