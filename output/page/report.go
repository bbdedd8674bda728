package page

import (
	"encoding/json"
	"time"
)

// Report is the part of run.json a release page shows. Unknown fields are
// ignored and missing ones stay zero, so older and newer reports both load.
type Report struct {
	Release     string     `json:"release"`
	GeneratedAt time.Time  `json:"generated_at"`
	Checks      []Check    `json:"checks"`
	Files       []File     `json:"files"`
	Headlines   []Headline `json:"headlines"`
	Asylum      []Asylum   `json:"asylum"`
	Claims      []Claim    `json:"claims"`
	Issues      []Issue    `json:"upstream_issues"`
}

// Issue is a discrepancy found in an upstream file and how the run
// handled it.
type Issue struct {
	Source           string `json:"source"`
	File             string `json:"file"`
	SHA256           string `json:"sha256"`
	Sheet            string `json:"sheet"`
	Cell             string `json:"cell"`
	PrintedTotal     int64  `json:"printed_total"`
	PrintedFormula   string `json:"printed_formula"`
	DataRowsTotal    int64  `json:"data_rows_total"`
	Explanation      string `json:"explanation"`
	CrossCheck       string `json:"cross_check"`
	CrossCheckStatus string `json:"cross_check_status"`
	Handling         string `json:"handling"`
	Decision         string `json:"decision"`
}

// Asylum is one year of asylum figures for persons from the headline
// country in one country of asylum (or the EU).
type Asylum struct {
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

// Check is one check of the run and how many problems it found.
type Check struct {
	Name     string   `json:"name"`
	Blocking bool     `json:"blocking"`
	Problems int64    `json:"problems"`
	Sample   []string `json:"sample,omitempty"`
}

// File is one published file as run.json lists it; Rows is nil for a
// file that is not a whole table.
type File struct {
	Name        string `json:"name"`
	Rows        *int64 `json:"rows"`
	Size        int64  `json:"size"`
	Description string `json:"description"`
}

// Headline is one year of the headline series.
type Headline struct {
	HostCountry   string   `json:"host_country"`
	Name          string   `json:"host_country_name"`
	Year          int      `json:"year"`
	Applications  int64    `json:"applications"`
	Change        *float64 `json:"applications_yoy_change"`
	NotIssuedRate *float64 `json:"not_issued_rate"`
}

// Claim is a published claim checked against the release.
type Claim struct {
	ID        string          `json:"id"`
	Statement string          `json:"statement"`
	Source    string          `json:"source"`
	Status    string          `json:"status"`
	Expected  json.RawMessage `json:"expected"`
	Actual    json.RawMessage `json:"actual"`
	Note      string          `json:"note"`
	Unit      string          `json:"unit"`
	Caveat    string          `json:"caveat"`
	SourceURL string          `json:"source_url"`
	Implied   json.RawMessage `json:"implied"`
	Implies   string          `json:"implies"`
}
