package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/visastats/visastats/sources"
)

// writeYAML writes a configuration into a temporary folder, with the
// repository's data folder linked beside it as data/, so that the
// configuration's relative paths (resolved against its folder) find it.
func writeYAML(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	data, err := filepath.Abs("../data")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(data, filepath.Join(dir, "data")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const baseYAML = `database: out/visastats.duckdb
output:
  dir: out
sources:
  reference:
    dir: data/reference
  ec_schengen_consulates:
    path: data/ec_schengen_consulates
  eurostat_asylum:
    paths: [data/eurostat]
  unhcr:
    paths: [data/unhcr]
    releases: data/curated/unhcr_releases.csv
  ru_mfa_published:
    path: data/curated/ru_mfa_visas_published.csv
  claims:
    path: data/curated/claims.csv
  upstream_issues:
    path: data/curated/upstream_issues.csv
`

// TestLoadConfig loads a configuration from a folder other than the
// working directory (the package's): its relative paths are the
// configuration folder's. (It does not change the working directory: the
// shared full build reads its inputs by relative paths meanwhile.)
func TestLoadConfig(t *testing.T) {
	path := writeYAML(t, baseYAML)
	dir := filepath.Dir(path)
	if wd, err := os.Getwd(); err != nil || wd == dir {
		t.Fatalf("working directory %s (%v) is the configuration's folder", wd, err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != filepath.Join(dir, "out/visastats.duckdb") || cfg.Output.Dir != filepath.Join(dir, "out") ||
		cfg.Sources.ECSchengen.Path != filepath.Join(dir, "data/ec_schengen_consulates") ||
		cfg.SourceConfig().UpstreamIssues.Path != filepath.Join(dir, "data/curated/upstream_issues.csv") ||
		cfg.Sources.Eurostat.Paths[0] != filepath.Join(dir, "data/eurostat") || cfg.SourceConfig().Eurostat.CodeLists != filepath.Join(dir, "data/reference") {
		t.Errorf("cfg = %+v", cfg)
	}
	// No path of the configuration is left relative: every string that
	// names a file or folder beside the configuration was resolved.
	var walk func(v reflect.Value, at string)
	walk = func(v reflect.Value, at string) {
		switch v.Kind() {
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i), at+"."+v.Type().Field(i).Name)
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", at, i))
			}
		case reflect.String:
			if s := v.String(); s != "" && !filepath.IsAbs(s) {
				if _, err := os.Stat(filepath.Join(dir, s)); err == nil {
					t.Errorf("%s = %q: a path relative to the working directory, not to the configuration's folder", at, s)
				}
			}
		}
	}
	walk(reflect.ValueOf(cfg), "cfg")
	walk(reflect.ValueOf(cfg.SourceConfig()), "SourceConfig()")
}

func TestLoadConfigEnvOverrides(t *testing.T) {
	t.Setenv("VISASTATS_DATABASE", "/tmp/x.duckdb")
	t.Setenv("VISASTATS_OUTPUT_DIR", "/srv/visastats")
	t.Setenv("VISASTATS_OUTPUT_KEEP", "3")
	t.Setenv("VISASTATS_SOURCES_EC_SCHENGEN_CONSULATES_PATH", "data/ec_schengen_consulates/2023-schengen-visa-statistics-consulates_en.xlsx")
	cfg, err := LoadConfig(writeYAML(t, baseYAML))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != "/tmp/x.duckdb" || cfg.Output.Dir != "/srv/visastats" || cfg.Output.Keep != 3 ||
		!strings.HasSuffix(cfg.Sources.ECSchengen.Path, "2023-schengen-visa-statistics-consulates_en.xlsx") {
		t.Errorf("environment not applied: %+v", cfg)
	}
}

// TestLoadConfigLimits: the limits section and its environment overrides
// reach every reader's configuration; absent keys stay zero (the default).
func TestLoadConfigLimits(t *testing.T) {
	t.Setenv("VISASTATS_LIMITS_MAX_CELL_BYTES", "2048")
	cfg, err := LoadConfig(writeYAML(t, baseYAML+"limits:\n  max_line_bytes: 4096\n"))
	if err != nil {
		t.Fatal(err)
	}
	sc := cfg.SourceConfig()
	for name, l := range map[string]sources.Limits{"eurostat": sc.Eurostat.Limits, "ec": sc.ECSchengen.Limits, "unhcr": sc.UNHCR.Limits, "mfa": sc.RUMFA.Limits} {
		if l.MaxLineBytes != 4096 || l.MaxCellBytes != 2048 || l.MaxWorkbookBytes != 0 {
			t.Errorf("%s limits = %+v", name, l)
		}
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown key", baseYAML + "  eurostat:\n    pathz: x\n", "unknown key sources.eurostat:"},
		{"typo in known section", strings.Replace(baseYAML, "  dir: out", "  dri: out", 1), "unknown key output.dri:"},
		{"typo at the top", strings.Replace(baseYAML, "output:", "outptu:", 1), "unknown key outptu:"},
		{"no database", strings.Replace(baseYAML, "database: out/visastats.duckdb", "database: ''", 1), "database"},
		{"missing EC path", strings.Replace(baseYAML, "data/ec_schengen_consulates", "data/nope", 1), "no such file"},
		{"missing upstream issues file", strings.Replace(baseYAML, "curated/upstream_issues.csv", "curated/nope.csv", 1), "sources.upstream_issues.path"},
		{"negative limit", baseYAML + "limits:\n  max_line_bytes: -1\n", "limits.max_line_bytes"},
		{"unknown limit", baseYAML + "limits:\n  max_lines: 10\n", "max_lines"},
		{"negative keep", strings.Replace(baseYAML, "  dir: out", "  dir: out\n  keep: -1", 1), "output.keep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(writeYAML(t, tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want mention of %q", err, tt.want)
			}
		})
	}
}

// TestDuckDBConfig: the duckdb section is validated when loaded, and the
// build database is opened with its memory limit, threads and a spill
// folder beside it; without the section the default limit applies.
func TestDuckDBConfig(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"no unit", "duckdb:\n  memory_limit: '1024'\n", "duckdb.memory_limit"},
		{"not a size", "duckdb:\n  memory_limit: lots\n", "duckdb.memory_limit"},
		{"negative threads", "duckdb:\n  threads: -2\n", "duckdb.threads"},
		{"unknown key", "duckdb:\n  memory: 1GB\n", "unknown key duckdb.memory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(writeYAML(t, baseYAML+tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want mention of %q", err, tt.want)
			}
		})
	}
	t.Setenv("VISASTATS_DUCKDB_THREADS", "1")
	cfg, err := LoadConfig(writeYAML(t, baseYAML+"duckdb:\n  memory_limit: 300MiB\n"))
	if err != nil {
		t.Fatal(err)
	}
	var def Config
	for _, tt := range []struct {
		cfg                  DuckDBConfig
		limit, threads, temp string
	}{
		{cfg.DuckDB, "300.0 MiB", "1", ""},
		{def.DuckDB, "953.6 MiB", "", ""}, // DefaultMemoryLimit, 1GB, as DuckDB prints it
	} {
		path := filepath.Join(t.TempDir(), "v.duckdb.build")
		db, err := openBuildDB(path, tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		var limit, threads, temp string
		if err := db.QueryRow(`SELECT current_setting('memory_limit'), current_setting('threads'), current_setting('temp_directory')`).Scan(&limit, &threads, &temp); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if limit != tt.limit || (tt.threads != "" && threads != tt.threads) || temp != tempDir(path) {
			t.Errorf("%+v: memory_limit %q threads %q temp_directory %q, want %q, %q, %q", tt.cfg, limit, threads, temp, tt.limit, tt.threads, tempDir(path))
		}
	}
}

// TestNightlyConfig loads the shipped nightly configuration: the three
// publishers, the filtered Eurostat extraction, and the base URLs that
// operators and mirrors set from the environment.
func TestNightlyConfig(t *testing.T) {
	cfg, err := LoadConfig("../config.nightly.yaml")
	if err != nil {
		t.Fatal(err)
	}
	up := cfg.Upstream
	var codes []string
	for _, d := range up.Eurostat.Datasets {
		codes = append(codes, d.Code)
	}
	if got := strings.Join(codes, " "); got != "migr_asyappctza migr_asyappctzm migr_asydcfsta migr_asydcfstq" {
		t.Errorf("eurostat datasets %q", got)
	}
	if f := up.Eurostat.Datasets[3].Filter["citizen"]; strings.Join(f, ",") != "RU,UA,BY,GE,AF,SY" {
		t.Errorf("migr_asydcfstq filter citizen = %v", f)
	}
	if up.Eurostat.BaseURL != "https://ec.europa.eu/eurostat/api/dissemination" || up.UNHCR.BaseURL != "https://api.unhcr.org/population/v1" ||
		!strings.HasPrefix(up.ECSchengen.PageURL, "https://home-affairs.ec.europa.eu/") || len(up.UNHCR.Datasets) != 2 {
		t.Errorf("upstream = %+v", up)
	}
	// The offline configuration asks nobody.
	off, err := LoadConfig("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.ValueOf(off.Upstream).IsZero() {
		t.Errorf("config.yaml has upstream %+v; make run and the tests must not go to the network", off.Upstream)
	}

	t.Run("environment", func(t *testing.T) {
		t.Setenv("VISASTATS_UPSTREAM_EUROSTAT_BASE_URL", "http://127.0.0.1:8080/eurostat")
		t.Setenv("VISASTATS_UPSTREAM_UNHCR_BASE_URL", "http://localhost:8081/unhcr")
		t.Setenv("VISASTATS_UPSTREAM_EC_SCHENGEN_CONSULATES_PAGE_URL", "http://[::1]:8082/page_en")
		cfg, err := LoadConfig("../config.nightly.yaml")
		if err != nil {
			t.Fatal(err)
		}
		up := cfg.Upstream
		if up.Eurostat.BaseURL != "http://127.0.0.1:8080/eurostat" || up.UNHCR.BaseURL != "http://localhost:8081/unhcr" || up.ECSchengen.PageURL != "http://[::1]:8082/page_en" {
			t.Errorf("environment not applied: %+v", up)
		}
		if len(up.Eurostat.Datasets) != 4 {
			t.Errorf("datasets lost with the base URL overridden: %+v", up.Eurostat.Datasets)
		}
	})
	for _, c := range []struct{ env, url, want string }{
		{"VISASTATS_UPSTREAM_EUROSTAT_BASE_URL", "http://eurostat.example.org/api", "upstream.eurostat.base_url"},
		{"VISASTATS_UPSTREAM_UNHCR_BASE_URL", "ftp://api.unhcr.org/population/v1", "upstream.unhcr.base_url"},
		{"VISASTATS_UPSTREAM_EC_SCHENGEN_CONSULATES_PAGE_URL", "http://10.0.0.1/page", "upstream.ec_schengen_consulates.page_url"},
	} {
		t.Run(c.env, func(t *testing.T) {
			t.Setenv(c.env, c.url)
			_, err := LoadConfig("../config.nightly.yaml")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("LoadConfig with %s=%s: %v, want an error naming %s", c.env, c.url, err, c.want)
			}
		})
	}
}
