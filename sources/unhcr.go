package sources

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Raw tables of the unhcr source. Load drops and recreates all of them.
const (
	unhcrApplicationsTable = "raw_unhcr_asylum_applications"
	unhcrDecisionsTable    = "raw_unhcr_asylum_decisions"
	unhcrFootnotesTable    = "raw_unhcr_footnotes"
	unhcrFilesTable        = "raw_unhcr_files"
	unhcrReleasesTable     = "raw_unhcr_releases"
)

// The DDL is fixed text: table names and columns are ours, never read from
// input.
const unhcrDDL = `
DROP TABLE IF EXISTS raw_unhcr_asylum_applications;
CREATE TABLE raw_unhcr_asylum_applications (
  file VARCHAR, line BIGINT, year INTEGER,
  origin_name VARCHAR, origin_iso VARCHAR,
  asylum_name VARCHAR, asylum_iso VARCHAR,
  authority VARCHAR, application_type VARCHAR, stage VARCHAR,
  cases_persons VARCHAR,
  applied DOUBLE,
  origin_code VARCHAR, asylum_code VARCHAR
);
DROP TABLE IF EXISTS raw_unhcr_asylum_decisions;
CREATE TABLE raw_unhcr_asylum_decisions (
  file VARCHAR, line BIGINT, year INTEGER,
  origin_name VARCHAR, origin_code VARCHAR, origin_iso VARCHAR,
  asylum_name VARCHAR, asylum_code VARCHAR, asylum_iso VARCHAR,
  procedure_type VARCHAR, dec_level VARCHAR, cases_persons VARCHAR,
  dec_recognized DOUBLE, dec_other DOUBLE, dec_rejected DOUBLE, dec_closed DOUBLE, dec_total DOUBLE
);
DROP TABLE IF EXISTS raw_unhcr_footnotes;
CREATE TABLE raw_unhcr_footnotes (
  file VARCHAR, line BIGINT,
  footnote VARCHAR,
  years VARCHAR,
  origin_iso VARCHAR, asylum_iso VARCHAR,
  population_type VARCHAR
);
DROP TABLE IF EXISTS raw_unhcr_files;
CREATE TABLE raw_unhcr_files (
  file VARCHAR, layout VARCHAR, date_extracted TIMESTAMP,
  input_path VARCHAR, retrieved_at TIMESTAMP
);
DROP TABLE IF EXISTS raw_unhcr_releases;
CREATE TABLE raw_unhcr_releases (
  file VARCHAR, line BIGINT,
  sha256 VARCHAR, input VARCHAR, release VARCHAR, data_through DATE, mid_year BOOLEAN, basis VARCHAR
);
`

// UNHCRConfig configures the unhcr source: UNHCR Refugee Data Finder CSV
// exports, tables of UNHCR's R package refugees written as CSV, and pages of
// the UNHCR population API, saved or fetched.
type UNHCRConfig struct {
	// Paths lists CSV exports and saved API JSON pages, as files or as
	// directories. A directory contributes its *.csv and *.json files in
	// name order; other files in it (such as PROVENANCE.md) are not read.
	Paths []string `mapstructure:"paths"`
	// Releases is a CSV file that states, per input file (by SHA-256),
	// which UNHCR release its figures come from: what a file does not say
	// itself. Empty means none is known beyond the exports' preambles.
	Releases string `mapstructure:"releases"`
	// Calendar is UNHCR's release calendar
	// (data/reference/unhcr_release_calendar.csv, see ReadUNHCRCalendar):
	// the dated releases that say, by the day an API page was retrieved,
	// how far its figures run, and so whether its latest year covers
	// January-June only. Required when API pages are loaded.
	Calendar string `mapstructure:"calendar"`
	// API fetches pages from the UNHCR population API. Its zero value
	// (no URL) keeps the source offline.
	API UNHCRAPIConfig `mapstructure:"api"`
	// APIPages are the pages of API fetched for this run by
	// FetchUNHCRAPI, in order. They are set by the caller that fetched
	// them (the pipeline's fetch stage), never by configuration.
	APIPages []UNHCRAPIPage `mapstructure:"-"`
	// Limits bound what is read from each file; set from the top-level
	// limits configuration, zero means the defaults.
	Limits Limits `mapstructure:"-"`
}

// UNHCRAPIConfig configures the client of the UNHCR population API
// (https://api.unhcr.org/population/v1/).
type UNHCRAPIConfig struct {
	// URL is the base of the API, such as
	// "https://api.unhcr.org/population/v1/". Empty means offline.
	URL string `mapstructure:"url"`
	// Datasets are the API datasets to fetch: "asylum-applications",
	// "asylum-decisions". Required when URL is set.
	Datasets []string `mapstructure:"datasets"`
	// Params are query filters sent with every request, such as
	// coo_iso: RUS or yearFrom: 2015. The client sets page and limit itself.
	Params map[string]string `mapstructure:"params"`
	// Timeout bounds each request, body included. Zero means the
	// timeout of every other fetch (http.timeout).
	Timeout time.Duration `mapstructure:"timeout"`
	// Retries is how many times a request is repeated after a 429, a 5xx
	// or a network error. Zero means the retries of every other fetch
	// (http.retries).
	Retries int `mapstructure:"retries"`
	// Limit is the number of items asked for per page. Zero means 100.
	Limit int `mapstructure:"limit"`
}

type unhcrSource struct {
	cfg UNHCRConfig
}

// NewUNHCR returns the unhcr source: UNHCR asylum applications, asylum
// decisions and footnotes, from Refugee Data Finder CSV exports, from the
// refugees package's tables and from population API pages (saved as files,
// or fetched by FetchUNHCRAPI into cfg.APIPages), and the releases file.
func NewUNHCR(cfg UNHCRConfig) Source {
	return &unhcrSource{cfg: cfg}
}

// Name implements Source.
func (s *unhcrSource) Name() string { return "unhcr" }

// Inputs implements Source. It lists the local files, then the stored
// copies of the fetched API pages.
func (s *unhcrSource) Inputs(ctx context.Context) ([]Input, error) {
	if err := s.cfg.API.validate(); err != nil {
		return nil, err
	}
	var (
		inputs []Input
		seen   = map[string]bool{}
	)
	for _, p := range s.cfg.Paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		files, err := unhcrListPath(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if err := checkFileName(f); err != nil {
				return nil, fmt.Errorf("unhcr: %w", err)
			}
			key := filepath.Clean(f)
			if seen[key] {
				return nil, fmt.Errorf("unhcr: %s is listed twice in paths; its figures would be counted twice", f)
			}
			seen[key] = true
			inputs = append(inputs, Input{Path: f})
		}
	}
	if s.cfg.Releases != "" {
		if err := checkFileName(s.cfg.Releases); err != nil {
			return nil, fmt.Errorf("unhcr: releases: %w", err)
		}
		if seen[filepath.Clean(s.cfg.Releases)] {
			return nil, fmt.Errorf("unhcr: releases file %s is also listed in paths", s.cfg.Releases)
		}
		if _, err := os.Stat(s.cfg.Releases); err != nil {
			return nil, fmt.Errorf("unhcr: releases: %w", err)
		}
		inputs = append(inputs, Input{Path: s.cfg.Releases})
	}
	if s.cfg.Calendar != "" {
		if err := checkFileName(s.cfg.Calendar); err != nil {
			return nil, fmt.Errorf("unhcr: calendar: %w", err)
		}
		if seen[filepath.Clean(s.cfg.Calendar)] || filepath.Clean(s.cfg.Calendar) == filepath.Clean(s.cfg.Releases) {
			return nil, fmt.Errorf("unhcr: release calendar %s is also listed in paths or as the releases file", s.cfg.Calendar)
		}
		if _, err := os.Stat(s.cfg.Calendar); err != nil {
			return nil, fmt.Errorf("unhcr: calendar: %w", err)
		}
		inputs = append(inputs, Input{Path: s.cfg.Calendar})
	}
	for _, p := range s.cfg.APIPages {
		inputs = append(inputs, Input{Path: p.Path})
	}
	return inputs, nil
}

// unhcrListPath returns p itself when it is a file, or the *.csv and *.json
// files of directory p (gzipped too, *.csv.gz and *.json.gz) in name order.
func unhcrListPath(p string) ([]string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("unhcr: %w", err)
	}
	if !fi.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("unhcr: %w", err)
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() && hasTextSuffix(e.Name(), ".csv", ".json") {
			files = append(files, filepath.Join(p, e.Name()))
		}
	}
	return files, nil
}

func (a UNHCRAPIConfig) validate() error {
	if a.URL == "" {
		return nil
	}
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("unhcr: api.url %q is not an http(s) URL", a.URL)
	}
	if len(a.Datasets) == 0 {
		return fmt.Errorf("unhcr: api.url is set but api.datasets is empty; list asylum-applications and/or asylum-decisions")
	}
	for _, d := range a.Datasets {
		if d != "asylum-applications" && d != "asylum-decisions" {
			return fmt.Errorf("unhcr: api.datasets: unsupported dataset %q; supported: asylum-applications, asylum-decisions", d)
		}
	}
	for k := range a.Params {
		if k == "page" || k == "limit" {
			return fmt.Errorf("unhcr: api.params: %q is set by the client; use api.limit for the page size", k)
		}
	}
	// Two traps of the API (docs/LIVE_SOURCES.md, UNHCR): with
	// coo_all/coa_all it returns the whole matrix, ignoring a coo/coa
	// filter; and without cf_type=ISO it reads coo/coa as UNHCR's own codes,
	// so that an ISO code such as DEU (Germany is GFR) silently matches
	// nothing, or another country (ARE is Egypt).
	for _, dim := range []string{"coo", "coa"} {
		_, all := a.Params[dim+"_all"]
		filter, filtered := a.Params[dim]
		if all && filtered {
			return fmt.Errorf("unhcr: api.params: %s_all and %s (%q) together: the API then ignores the %s filter and returns every country; keep one of the two", dim, dim, filter, dim)
		}
		if filtered && a.Params["cf_type"] != "ISO" {
			return fmt.Errorf("unhcr: api.params: %s (%q) without cf_type: ISO: the API reads %s as UNHCR's own country codes (Germany is GFR, ARE is Egypt), so ISO codes match nothing or another country; set cf_type: ISO and give ISO alpha-3 codes", dim, filter, dim)
		}
	}
	if a.Timeout < 0 || a.Retries < 0 || a.Limit < 0 {
		return fmt.Errorf("unhcr: api.timeout, api.retries and api.limit must not be negative")
	}
	return nil
}

// Load implements Source. It recreates raw_unhcr_asylum_applications,
// raw_unhcr_asylum_decisions, raw_unhcr_footnotes, raw_unhcr_files (each
// data file's layout and extraction date, and for an API page when it was
// retrieved), raw_unhcr_releases (the releases file) and
// raw_unhcr_release_calendar (the release calendar), loads every input
// file, then every fetched API page. An unsupported file or a malformed
// value stops the load with an error naming the file (or URL), line (or
// item) and column. With api.url set, the pages must have been fetched
// (FetchUNHCRAPI): Load itself never goes to the network. Fetched pages
// need the release calendar, and must have been retrieved after its first
// release: without it, the API's latest year, which covers January-June
// after a mid-year release and says nothing of it, would be taken as whole.
func (s *unhcrSource) Load(ctx context.Context, conn *sql.Conn) (Stats, error) {
	var st Stats
	inputs, err := s.Inputs(ctx)
	if err != nil {
		return st, err
	}
	if _, err := conn.ExecContext(ctx, unhcrDDL+unhcrCalendarDDL); err != nil {
		return st, fmt.Errorf("unhcr: create raw tables: %w", err)
	}
	for _, t := range []string{unhcrApplicationsTable, unhcrDecisionsTable, unhcrFootnotesTable, unhcrFilesTable, unhcrReleasesTable, unhcrCalendarTable} {
		st.add(t, 0)
	}
	pages := map[string]UNHCRAPIPage{} // by stored copy
	for _, p := range s.cfg.APIPages {
		pages[p.Path] = p
	}
	if s.cfg.API.URL != "" && len(s.cfg.APIPages) == 0 {
		return st, fmt.Errorf("unhcr: api.url is set but no API page was fetched; the pages are fetched before the load (sources.FetchUNHCRAPI)")
	}
	var calendar []UNHCRRelease
	if s.cfg.Calendar != "" {
		if calendar, err = ReadUNHCRCalendar(s.cfg.Calendar); err != nil {
			return st, err
		}
	}
	if len(s.cfg.APIPages) > 0 {
		if s.cfg.Calendar == "" {
			return st, fmt.Errorf("unhcr: %d API pages were fetched but no release calendar is configured (sources.unhcr.calendar, such as data/reference/unhcr_release_calendar.csv); without it the API's latest year, January-June after a mid-year release, would be published as a whole year", len(s.cfg.APIPages))
		}
		if err := checkUNHCRRetrieval(s.cfg.Calendar, calendar, s.cfg.APIPages); err != nil {
			return st, err
		}
	}
	for _, in := range inputs {
		var err error
		if page, ok := pages[in.Path]; ok {
			err = s.loadPage(ctx, conn, page, &st)
		} else if s.cfg.Releases != "" && in.Path == s.cfg.Releases {
			err = loadUNHCRReleases(ctx, conn, in.Path, &st)
		} else if s.cfg.Calendar != "" && in.Path == s.cfg.Calendar {
			err = loadUNHCRCalendar(ctx, conn, in.Path, calendar, &st)
		} else {
			err = s.loadFile(ctx, conn, in.Path, &st)
		}
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// loadPage loads the stored copy of a fetched API page, noting when it was
// retrieved: the release calendar says from this how far its figures run
// (sql/016_unhcr_input_releases.sql).
func (s *unhcrSource) loadPage(ctx context.Context, conn *sql.Conn, page UNHCRAPIPage, st *Stats) error {
	p, err := readUNHCRPage(page.Path, page.URL)
	if err != nil {
		return err
	}
	if err := recordUNHCRFile(ctx, conn, unhcrFileRecord{file: page.URL, input: page.Path, layout: "api_page", retrieved: page.RetrievedAt}, st); err != nil {
		return err
	}
	return appendUNHCRPage(ctx, conn, p, st)
}

func (s *unhcrSource) loadFile(ctx context.Context, conn *sql.Conn, path string, st *Stats) error {
	r, closer, err := openDecompressed(path)
	if err != nil {
		return fmt.Errorf("unhcr: %w", err)
	}
	defer closer.Close()
	// Not line-limited yet: a saved API page is one long line, capped
	// as a whole (unhcrMaxBody).
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(512)
	if len(head) == 0 && errors.Is(err, io.EOF) {
		return fmt.Errorf("unhcr: %s is empty", path)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("unhcr: read %s: %w", path, err)
	}
	if hasTextSuffix(path, ".json") || unhcrLooksLikeJSON(head) {
		data, err := unhcrReadCapped(br, unhcrMaxBody)
		if err != nil {
			return fmt.Errorf("unhcr: read %s: %w", path, err)
		}
		p, err := parseUNHCRPage(data, path)
		if err != nil {
			return err
		}
		if err := recordUNHCRFile(ctx, conn, unhcrFileRecord{file: path, input: path, layout: "api_page"}, st); err != nil {
			return err
		}
		return appendUNHCRPage(ctx, conn, p, st)
	}
	lines := newLineLimitReader(br, s.cfg.Limits)
	u, err := newUNHCRCSVReader(lines, path, s.cfg.Limits)
	if err != nil {
		return err
	}
	n64, err := appendRows(ctx, conn, u.table, func(add func(vals ...driver.Value) error) error {
		for {
			row, err := u.next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := add(row...); err != nil {
				return fmt.Errorf("unhcr: %s line %d: %w", path, row[1], err)
			}
		}
	})
	st.add(u.table, n64)
	if err != nil {
		return err
	}
	if err := checkUNHCRRows(ctx, conn, u.table, u.layout, path, false); err != nil {
		return err
	}
	// The digest covers the whole content, whatever the reader left.
	if _, err := io.Copy(io.Discard, lines); err != nil {
		return fmt.Errorf("unhcr: read %s: %w", path, err)
	}
	return recordUNHCRFile(ctx, conn, unhcrFileRecord{file: path, input: path, layout: u.layout, extracted: u.extracted}, st)
}

// unhcrFileRecord is a line of raw_unhcr_files.
type unhcrFileRecord struct {
	// file names the file in rows and errors: its path, or the page's
	// address; input is the input's path (the stored copy of a page).
	file, input string
	layout      string
	// extracted is an export's extraction date; retrieved is when an API
	// page was retrieved. Zero when not known.
	extracted, retrieved time.Time
}

// recordUNHCRFile notes what kind of table a file is and, for exports with
// a preamble, when it was extracted, or for API pages when they were
// retrieved: the release of its figures is worked out from this, the
// SHA-256 of the file's content (the pipeline's inputs table), the
// releases file and the release calendar in SQL (unhcr_input_releases).
func recordUNHCRFile(ctx context.Context, conn *sql.Conn, r unhcrFileRecord, st *Stats) error {
	var extracted, retrieved driver.Value
	if !r.extracted.IsZero() {
		extracted = r.extracted
	}
	if !r.retrieved.IsZero() {
		retrieved = r.retrieved.UTC()
	}
	n, err := appendRows(ctx, conn, unhcrFilesTable, func(add func(vals ...driver.Value) error) error {
		return add(r.file, r.layout, extracted, r.input, retrieved)
	})
	st.add(unhcrFilesTable, n)
	if err != nil {
		return fmt.Errorf("unhcr: %s: %w", r.file, err)
	}
	return nil
}

// loadUNHCRReleases reads the releases file: sha256, file, release,
// data_through (yyyy-mm-dd, the last day the release's figures cover),
// mid_year (true or false), basis (how the release is known).
func loadUNHCRReleases(ctx context.Context, conn *sql.Conn, path string, st *Stats) error {
	seen := map[string]int{}
	n, err := appendRows(ctx, conn, unhcrReleasesTable, func(add func(vals ...driver.Value) error) error {
		return readRefCSV(path, []string{"sha256", "file", "release", "data_through", "mid_year", "basis"}, func(line int, rec []string) error {
			if len(rec[0]) != 64 || strings.Trim(rec[0], "0123456789abcdef") != "" {
				return &LocatedError{File: path, Line: int64(line), Column: "sha256", Value: rec[0], Err: errors.New("want 64 lower-case hex digits")}
			}
			if prev, dup := seen[rec[0]]; dup {
				return &LocatedError{File: path, Line: int64(line), Column: "sha256", Value: rec[0], Err: fmt.Errorf("already stated on line %d; one release per file", prev)}
			}
			seen[rec[0]] = line
			through, err := time.Parse("2006-01-02", rec[3])
			if err != nil {
				return &LocatedError{File: path, Line: int64(line), Column: "data_through", Value: rec[3], Err: errors.New("want a date yyyy-mm-dd")}
			}
			if rec[4] != "true" && rec[4] != "false" {
				return &LocatedError{File: path, Line: int64(line), Column: "mid_year", Value: rec[4], Err: errors.New("want true or false")}
			}
			if rec[2] == "" {
				return &LocatedError{File: path, Line: int64(line), Column: "release", Err: errors.New("empty; name the release")}
			}
			return add(path, int64(line), rec[0], rec[1], rec[2], through, rec[4] == "true", rec[5])
		})
	})
	st.add(unhcrReleasesTable, n)
	return err
}

// appendUNHCRPage writes the rows of one API page to their tables and
// checks them as a file's (checkUNHCRRows).
func appendUNHCRPage(ctx context.Context, conn *sql.Conn, p unhcrPage, st *Stats) error {
	for _, part := range []struct {
		table  string
		layout string // the refugees package's, whose columns are the API's fields
		rows   [][]driver.Value
	}{
		{unhcrApplicationsTable, "refugees_asylum_applications", p.applications},
		{unhcrDecisionsTable, "refugees_asylum_decisions", p.decisions},
	} {
		if len(part.rows) == 0 {
			continue
		}
		n, err := appendRows(ctx, conn, part.table, func(add func(vals ...driver.Value) error) error {
			for _, row := range part.rows {
				if err := add(row...); err != nil {
					return fmt.Errorf("unhcr: %s item %d: %w", p.file, row[1], err)
				}
			}
			return nil
		})
		st.add(part.table, n)
		if err != nil {
			return err
		}
		if err := checkUNHCRRows(ctx, conn, part.table, part.layout, p.file, true); err != nil {
			return err
		}
	}
	return nil
}
