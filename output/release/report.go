package release

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Run statuses in reports.
const (
	StatusPublished = "published"
	StatusSkipped   = "skipped"
	StatusFailed    = "failed"
)

// Report is what a run did, as run.json records it. Readers ignore unknown
// fields and leave missing ones zero, so older and newer reports both load.
type Report struct {
	Release     string            `json:"release"`
	Status      string            `json:"status"`
	Error       string            `json:"error,omitempty"`
	ReleaseDir  string            `json:"release_dir,omitempty"`
	Latest      string            `json:"latest,omitempty"`
	Previous    string            `json:"previous_release,omitempty"`
	Database    string            `json:"database"`
	GeneratedAt time.Time         `json:"generated_at"`
	Duration    time.Duration     `json:"duration_ns"`
	Fingerprint string            `json:"fingerprint"`
	Versions    map[string]string `json:"versions"`
	Fetches     []Fetch           `json:"fetches,omitempty"`
	Inputs      []Input           `json:"inputs"`
	Stages      []Stage           `json:"stages"`
	Tables      map[string]int64  `json:"tables,omitempty"`
	Checks      []Check           `json:"checks"`
	Changes     *Changes          `json:"changes,omitempty"`
	Files       []File            `json:"files"`
	Headlines   []Headline        `json:"headlines"`
	Asylum      []AsylumYear      `json:"asylum,omitempty"`
	Claims      []Claim           `json:"claims,omitempty"`
	// Coverage says, one line per source, what the loaded data cover:
	// years (gaps named), countries, and years covered only in part.
	Coverage []Coverage `json:"coverage,omitempty"`
	// UpstreamIssues lists the discrepancies found in the input files and
	// how each was handled; [] when none were found.
	UpstreamIssues []UpstreamIssue `json:"upstream_issues"`
}

// Stage is one stage of a run.
type Stage struct {
	Stage    string        `json:"stage"`
	Name     string        `json:"name"`
	Rows     int64         `json:"rows"`
	Duration time.Duration `json:"duration_ns"`
}

// File is one published file.
type File struct {
	Name string `json:"name"`
	// Rows is the table's rows, -1 for one file of a partitioned table.
	Rows   int64  `json:"rows"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	// Description says what the file holds, for people.
	Description string `json:"description,omitempty"`
}

// Fetch is what fetching one remote input did.
type Fetch struct {
	Source string `json:"source"`
	// URL is the address fetched, redacted.
	URL         string `json:"url"`
	Name        string `json:"name"`
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	NotModified bool   `json:"not_modified"`
	Offline     bool   `json:"offline"`
	Attempts    int    `json:"attempts"`
	ETag        string `json:"etag,omitempty"`
	LastMod     string `json:"last_modified,omitempty"`
	RetrievedAt string `json:"retrieved_at"`
	// Note says why the input was or was not downloaded, e.g. that the
	// publisher's date did not move since the snapshot held.
	Note string `json:"note,omitempty"`
}

// Input is one input file of a source with its size and hash.
type Input struct {
	Source string `json:"source"`
	Path   string `json:"path"`
	Year   int    `json:"year,omitempty"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Check is one check of the run and how many problems it found.
type Check struct {
	Name     string   `json:"name"`
	Blocking bool     `json:"blocking"`
	Problems int      `json:"problems"`
	Sample   []string `json:"sample,omitempty"` // the first problems (all when the check says Show: all), as text
}

// Passed says whether the check found no problem.
func (c Check) Passed() bool { return c.Problems == 0 }

// Changes counts what changed in observations against the previous
// release.
type Changes struct {
	Previous string `json:"previous_release,omitempty"`
	New      int64  `json:"new"`
	Removed  int64  `json:"removed"`
	Revised  int64  `json:"revised"`
}

// Headline is one year of the headline series. A measure the year's
// workbook does not have is nil (ATV applications and refusals of uniform
// visas alone are reported from 2011), and so is a change between years
// that count differently; Note says why.
type Headline struct {
	HostCountry    string   `json:"host_country"`
	Name           string   `json:"host_country_name"`
	Year           int      `json:"year"`
	Applications   *int64   `json:"applications"`
	Change         *float64 `json:"applications_yoy_change"`
	UniformApplied *int64   `json:"uniform_applied"` // nil in reports written before 2009-2013 were loaded
	UniformChange  *float64 `json:"uniform_applied_yoy_change"`
	NotIssuedRate  *float64 `json:"not_issued_rate"`
	Note           string   `json:"comparability_note"`
}

// AsylumYear is one year of asylum figures for persons from the headline
// country in one country of asylum (or the EU).
type AsylumYear struct {
	AsylumCountry   string   `json:"asylum_country"`
	AsylumName      string   `json:"asylum_country_name"`
	Origin          string   `json:"origin"`
	Year            int      `json:"year"`
	Period          string   `json:"period_label"`
	Complete        bool     `json:"period_complete"`
	Applications    *int64   `json:"unhcr_applications"`
	Decisions       *int64   `json:"unhcr_decisions_total"`
	Recognized      *int64   `json:"unhcr_recognized"`
	Complementary   *int64   `json:"unhcr_complementary"`
	Rejected        *int64   `json:"unhcr_rejected"`
	RecognitionRate *float64 `json:"unhcr_recognition_rate"`
	EurostatRate    *float64 `json:"eurostat_recognition_rate"`
}

// Coverage is what one source's data in a release cover, computed from
// the observations loaded (the source_coverage table).
type Coverage struct {
	// Source is the source's name (sql/sources.csv), Label its short name
	// as the line starts ("EC visas", "Eurostat").
	Source string `json:"source"`
	Label  string `json:"label"`
	// FirstYear and LastYear bound the years with data; Line names the
	// gaps between them.
	FirstYear int    `json:"first_year"`
	LastYear  int    `json:"last_year"`
	Datasets  string `json:"datasets"`
	// Line is the coverage in words, e.g. "EC visas: applications and
	// decisions at consulates 2009-2010, 2012-2024 (no 2011), 28 Schengen
	// States, 177 host countries of consulates".
	Line string `json:"line"`
}

// Claim is a published claim checked against the release.
type Claim struct {
	ID          string   `json:"id"`
	Statement   string   `json:"statement"`
	Source      string   `json:"source"`
	Status      string   `json:"status"`
	Expected    float64  `json:"expected"`
	Rounding    string   `json:"rounding"`
	Actual      *float64 `json:"actual"`
	Explanation string   `json:"note"`
	// Unit is what Expected and Actual count ("percent" for a change).
	Unit string `json:"unit"`
	// Caveat says how the statement's wording differs from what the data
	// measure; "" when it does not. It goes wherever the status goes.
	Caveat string `json:"caveat,omitempty"`
	// URL links to the publication, "" when none is recorded.
	URL string `json:"source_url,omitempty"`
	// Implied is, for a change that cannot be reproduced, the earlier
	// figure the claim implies from the later one that is published, and
	// Implies what it counts.
	Implied *float64 `json:"implied,omitempty"`
	Implies string   `json:"implies,omitempty"`
}

// UpstreamIssue is a discrepancy found in an upstream file and how the run
// handled it.
type UpstreamIssue struct {
	Source           string `json:"source"`
	File             string `json:"file"`
	SHA256           string `json:"sha256"`
	Year             int    `json:"year"`
	Sheet            string `json:"sheet"`
	Cell             string `json:"cell"`
	Kind             string `json:"kind"`
	Indicator        string `json:"indicator"`
	Location         string `json:"location"`
	PrintedTotal     int64  `json:"printed_total"`
	PrintedFormula   string `json:"printed_formula"`
	DataRowsTotal    *int64 `json:"data_rows_total"` // nil for a withheld cell
	Explanation      string `json:"explanation"`
	CrossCheck       string `json:"cross_check"`
	CrossCheckStatus string `json:"cross_check_status"`
	Handling         string `json:"handling"`
	Decision         string `json:"decision"`
}

// ReadReport reads a run report (run.json or a record under runs/). A
// missing file is an error that wraps os.ErrNotExist.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &r, nil
}

// WriteJSON writes v as indented JSON ending in a newline. The file
// appears whole or not at all: it is written beside path under a hidden
// temporary name (".<name>.tmp-*", which no record pattern matches and
// CleanLeftovers removes) and renamed over path, so a process killed while
// writing leaves either the old file or none, never half a report.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+tmpInfix+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// tmpInfix marks the temporary files WriteJSON renames into place.
const tmpInfix = ".tmp-"
