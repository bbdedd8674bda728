package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// writeConfig writes a config for the shipped 2023 EC workbook and the
// smallest shipped Eurostat and UNHCR inputs (what the CLI prints is about
// the EC figures; a run on them takes seconds, on every shipped input a
// minute), with outputs in a temp dir, and returns its path.
func writeConfig(t *testing.T, extra string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	data, err := filepath.Abs("../../data")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(data, "ec_schengen_consulates", "2023*.xlsx"))
	if len(files) != 1 {
		t.Fatalf("2023 workbook not found: %v", files)
	}
	cfg := fmt.Sprintf(`database: %[1]s/db/visastats.duckdb
output:
  dir: %[1]s/out
sources:
  reference:
    dir: %[2]s/reference
  ec_schengen_consulates:
    files:
      - {path: %[3]q, year: 2023}
  eurostat_asylum:
    paths: [%[2]s/eurostat/migr_asydcfsta_legacy-appsso-csv_labels_2008-2016.csv]
  unhcr:
    paths: [%[2]s/unhcr/rdf_footnotes.csv, %[2]s/unhcr/api_v1_asylum-decisions_coo-DZA_page1.json]
  ru_mfa_published:
    path: %[2]s/curated/ru_mfa_visas_published.csv
  claims:
    path: %[2]s/curated/claims.csv
  period_coverage:
    path: %[2]s/curated/period_coverage.csv
%[4]s`, dir, data, files[0], extra)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, dir
}

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLI(t *testing.T) {
	cfg, dir := writeConfig(t, "")
	code, out, errs := runCLI("--config", cfg, "--log-level", "warn", "run")
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, errs)
	}
	if !strings.Contains(out, "2023  520,387  -  520,402  -  10.57%") && !regexp.MustCompile(`2023 +520,387 +- +520,402 +- +10\.57%`).MatchString(out) {
		t.Errorf("run summary lacks the Russia 2023 headline:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "latest", "visastats.xlsx")); err != nil {
		t.Errorf("workbook not published: %v", err)
	}

	// Nothing changed: the second run is skipped, and recorded.
	if code, out, errs := runCLI("--config", cfg, "--log-level", "warn", "run"); code != exitOK || !strings.Contains(out, "Nothing changed") {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errs)
	}

	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"diff with one release", []string{"--config", cfg, "diff"}, exitOK, "Nothing to compare: release "},
		{"diff with a wrong id", []string{"--config", cfg, "diff", "yesterday", "today"}, exitUsage, `"yesterday" is not a release id`},
		{"runs lists the skipped run", []string{"--config", cfg, "runs"}, exitOK, "skipped"},
		{"version", []string{"version"}, exitOK, "visastats "},
		{"no command", nil, exitUsage, "usage: visastats"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"bad flag", []string{"run", "--nope"}, exitUsage, "flag provided but not defined"},
		{"bad log level", []string{"--config", cfg, "--log-level", "loud", "run"}, exitUsage, "--log-level"},
		{"query table", []string{"--config", cfg, "query", "SELECT applications FROM schengen_host_country_year WHERE host_country = 'RU'"}, exitOK, "520402"},
		{"query csv", []string{"--config", cfg, "query", "--format", "csv", "SELECT host_country, year FROM schengen_host_country_year WHERE host_country = 'RU'"}, exitOK, "host_country,year\nRU,2023\n"},
		{"query is read-only", []string{"--config", cfg, "query", "DELETE FROM schengen_host_country_year"}, exitFailed, "read-only"},
		{"query refuses COPY", []string{"--config", cfg, "query", "COPY schengen_host_country_year TO '" + filepath.Join(dir, "db", "visastats.duckdb") + "'"}, exitFailed, "only one SELECT"},
		{"query refuses two statements", []string{"--config", cfg, "query", "SELECT 1; SELECT 2"}, exitFailed, "only one SELECT"},
		{"query reads no files", []string{"--config", cfg, "query", "SELECT * FROM read_csv('/etc/passwd')"}, exitFailed, "disabled"},
		{"query bad format", []string{"--config", cfg, "query", "--format", "xml", "SELECT 1"}, exitUsage, "--format"},
		{"sources", []string{"--config", cfg, "sources"}, exitOK, "2d3e98dd8fa0a158"},
		{"missing config", []string{"--config", filepath.Join(dir, "nope.yaml"), "run"}, exitFailed, "nope.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errs)
			}
			if !strings.Contains(out+errs, tt.contains) {
				t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", tt.contains, out, errs)
			}
		})
	}
}

func TestCLIRunFailsCleanly(t *testing.T) {
	cfg, dir := writeConfig(t, "")
	bad := filepath.Join(dir, "2023-broken.xlsx")
	if err := os.WriteFile(bad, []byte("PK\x03\x04 not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VISASTATS_SOURCES_EC_SCHENGEN_CONSULATES_PATH", bad)
	// files: from the config still lists the 2023 workbook: two for 2023.
	code, _, errs := runCLI("--config", cfg, "run")
	if code != exitFailed || !strings.Contains(errs, "nothing was published") {
		t.Errorf("exit %d, stderr %s", code, errs)
	}
	if _, err := os.Lstat(filepath.Join(dir, "out", "latest")); err == nil {
		t.Error("latest exists after a failed first run")
	}
}

func TestCLIUnknownConfigKey(t *testing.T) {
	cfg, _ := writeConfig(t, "  eurostat_typo:\n    path: x\n")
	code, _, errs := runCLI("--config", cfg, "run")
	if code != exitFailed || !strings.Contains(errs, "unknown key sources.eurostat_typo") || strings.Contains(errs, "''") {
		t.Errorf("exit %d, stderr %s", code, errs)
	}
}

// TestCLIRelativeConfig runs from another folder with an absolute --config
// whose paths are relative: they are the config folder's.
func TestCLIRelativeConfig(t *testing.T) {
	dir := t.TempDir()
	data, err := filepath.Abs("../../data")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(data, filepath.Join(dir, "data")); err != nil {
		t.Fatal(err)
	}
	cfg := `database: out/visastats.duckdb
output:
  dir: out
sources:
  reference: {dir: data/reference}
  ec_schengen_consulates: {path: data/ec_schengen_consulates}
  eurostat_asylum: {paths: [data/eurostat]}
  unhcr: {paths: [data/unhcr]}
  ru_mfa_published: {path: data/curated/ru_mfa_visas_published.csv}
  claims: {path: data/curated/claims.csv}
  period_coverage: {path: data/curated/period_coverage.csv}
`
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	code, out, errs := runCLI("--config", path, "sources")
	if code != exitOK || !strings.Contains(out, "2023-schengen-visa-statistics-consulates_en.xlsx") {
		t.Errorf("sources from another folder: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCLI("--config", path, "runs")
	if code != exitOK {
		t.Errorf("runs from another folder: exit %d\n%s%s", code, out, errs)
	}
}
