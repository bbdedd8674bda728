package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	"github.com/spf13/viper"

	"github.com/visastats/visastats/pipeline/snapshot"
	"github.com/visastats/visastats/pipeline/upstream"
	"github.com/visastats/visastats/sources"
)

// Config is visastats' whole configuration, decoded once from config.yaml
// and the VISASTATS_* environment.
type Config struct {
	// Database is the DuckDB file the run builds and leaves behind for
	// `visastats query`.
	Database string        `mapstructure:"database"`
	Output   OutputConfig  `mapstructure:"output"`
	Sources  SourcesConfig `mapstructure:"sources"`
	// Fetch lists upstream files fetched over HTTP for the sources, beside
	// their local paths.
	Fetch []FetchEntry `mapstructure:"fetch"`
	// Upstream names the publishers a nightly run asks for their current
	// data (Eurostat's API, UNHCR's API, the Commission's landing page);
	// empty asks nobody (config.yaml).
	Upstream upstream.Config `mapstructure:"upstream"`
	HTTP     HTTPConfig      `mapstructure:"http"`
	// Snapshots is where every input is kept, content-addressed, with its
	// provenance; "" means <output.dir>/snapshots.
	Snapshots string `mapstructure:"snapshots"`
	// Limits bound what the sources read from each input file
	// (decompressed size, line, cell and sheet sizes); zero fields take
	// the defaults of sources.DefaultLimits.
	Limits sources.Limits `mapstructure:"limits"`
	// Publish lists the remote targets each release is uploaded to after
	// the local publish; empty publishes locally only.
	Publish []PublishTarget `mapstructure:"publish"`
	// DuckDB bounds the database engine of a run (memory, threads).
	DuckDB DuckDBConfig `mapstructure:"duckdb"`
}

// SnapshotDir is the snapshot store's directory.
func (c Config) SnapshotDir() string {
	if c.Snapshots != "" {
		return c.Snapshots
	}
	return filepath.Join(c.Output.Dir, "snapshots")
}

// OutputConfig says where releases are written.
type OutputConfig struct {
	// Dir holds releases/<id>/ and the latest link.
	Dir string `mapstructure:"dir"`
	// Keep is how many releases to keep, the newest first (0 keeps all).
	Keep int `mapstructure:"keep"`
	// ObservationsLayout is "file" (observations.parquet) or "partitioned"
	// (observations/dataset=.../year=.../part-0.parquet, for remote readers
	// that read one partition).
	ObservationsLayout string `mapstructure:"observations_layout"`
	// Topics are small workbooks about one country, besides the main one.
	Topics []TopicConfig `mapstructure:"topics"`
	// Profiles is "all" (the default: a page per country with its charts
	// as SVG, PNG and CSV, in countries/) or "none" (a release without
	// them: quicker, some 50-100 MB smaller).
	Profiles string `mapstructure:"profiles"`
}

// Country profile settings.
const (
	ProfilesAll  = "all"
	ProfilesNone = "none"
)

// Observations layouts.
const (
	LayoutFile        = "file"
	LayoutPartitioned = "partitioned"
)

// TopicConfig is one topic workbook: the rows of every country table that
// concern one country.
type TopicConfig struct {
	File    string `mapstructure:"file"`    // e.g. russia.xlsx
	Title   string `mapstructure:"title"`   // first line of its About sheet
	Country string `mapstructure:"country"` // ISO 3166-1 alpha-2, e.g. RU
}

// SourcesConfig configures each source.
type SourcesConfig struct {
	Reference  sources.ReferenceConfig  `mapstructure:"reference"`
	ECSchengen sources.ECSchengenConfig `mapstructure:"ec_schengen_consulates"`
	Eurostat   sources.EurostatConfig   `mapstructure:"eurostat_asylum"`
	UNHCR      sources.UNHCRConfig      `mapstructure:"unhcr"`
	RUMFA      sources.RUMFAConfig      `mapstructure:"ru_mfa_published"`
	Claims     sources.ClaimsConfig     `mapstructure:"claims"`
	// UpstreamIssues is the curated file in which a maintainer accepts an
	// investigated discrepancy of one exact upstream file and cell.
	UpstreamIssues sources.UpstreamIssuesConfig `mapstructure:"upstream_issues"`
	Coverage       sources.PeriodCoverageConfig `mapstructure:"period_coverage"`
}

// SourceConfig returns the sources package's view of the configuration.
// The Eurostat code lists and the EC workbook layouts live beside the
// country reference unless sources.eurostat_asylum.code_lists or
// sources.ec_schengen_consulates.layouts says otherwise.
func (c Config) SourceConfig() sources.Config {
	eurostat := c.Sources.Eurostat
	if eurostat.CodeLists == "" {
		eurostat.CodeLists = c.Sources.Reference.Dir
	}
	ec, unhcr, rumfa, claims := c.Sources.ECSchengen, c.Sources.UNHCR, c.Sources.RUMFA, c.Sources.Claims
	if ec.Layouts == "" {
		ec.Layouts = c.Sources.Reference.Dir
	}
	// UNHCR's API does not say when its latest year is a half year; its
	// release calendar, beside the country reference, does.
	if unhcr.Calendar == "" && (unhcr.API.URL != "" || c.Upstream.UNHCR.BaseURL != "") {
		unhcr.Calendar = filepath.Join(c.Sources.Reference.Dir, "unhcr_release_calendar.csv")
	}
	eurostat.Limits, ec.Limits, unhcr.Limits, rumfa.Limits, claims.Limits = c.Limits, c.Limits, c.Limits, c.Limits, c.Limits
	return sources.Config{
		Reference:      c.Sources.Reference,
		ECSchengen:     ec,
		Eurostat:       eurostat,
		UNHCR:          unhcr,
		RUMFA:          rumfa,
		Claims:         claims,
		UpstreamIssues: c.Sources.UpstreamIssues,
		Coverage:       c.Sources.Coverage,
	}
}

var (
	topicFile   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*\.xlsx$`)
	countryCode = regexp.MustCompile(`^[A-Z]{2}$`)
)

// EnvPrefix is the prefix of environment overrides: VISASTATS_OUTPUT_DIR
// overrides output.dir.
const EnvPrefix = "VISASTATS"

// LoadConfig reads the YAML file at path, applies VISASTATS_* environment
// overrides, rejects unknown keys and validates the result.
func LoadConfig(path string) (Config, error) {
	v := viper.New()
	v.SetConfigFile(path)
	v.SetConfigType("yaml")
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if err := v.ReadInConfig(); err != nil {
		return Config{}, fmt.Errorf("read config %s: %w", path, err)
	}
	// AutomaticEnv alone does not reach Unmarshal: bind every scalar key of
	// the typed config so each can be overridden from the environment.
	for _, key := range configKeys(reflect.TypeOf(Config{}), "") {
		if err := v.BindEnv(key); err != nil {
			return Config{}, fmt.Errorf("bind environment for %s: %w", key, err)
		}
	}
	if err := rejectSecrets(v.Get("publish")); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	var cfg Config
	if err := v.UnmarshalExact(&cfg); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, plainKeyError(err))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	resolvePaths(reflect.ValueOf(&cfg).Elem(), filepath.Dir(abs))
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// configKeys lists the dotted mapstructure keys of the scalar fields of t.
func configKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		if tag == "" || tag == "-" {
			continue
		}
		key := tag
		if prefix != "" {
			key = prefix + "." + tag
		}
		if f.Type.Kind() == reflect.Struct {
			out = append(out, configKeys(f.Type, key)...)
			continue
		}
		out = append(out, key)
	}
	return out
}

// Validate checks the configuration once, so that stages can trust it.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Database) == "" {
		errs = append(errs, errors.New("database: must name a DuckDB file"))
	}
	if strings.TrimSpace(c.Output.Dir) == "" {
		errs = append(errs, errors.New("output.dir: must name a directory"))
	}
	for _, l := range []struct {
		key string
		v   int64
	}{
		{"max_expanded_bytes", c.Limits.MaxExpandedBytes}, {"max_workbook_bytes", c.Limits.MaxWorkbookBytes},
		{"max_line_bytes", c.Limits.MaxLineBytes}, {"max_cell_bytes", int64(c.Limits.MaxCellBytes)},
		{"max_sheet_rows", int64(c.Limits.MaxSheetRows)}, {"max_sheet_columns", int64(c.Limits.MaxSheetColumns)},
		{"max_record_bytes", c.Limits.MaxRecordBytes},
	} {
		if l.v < 0 {
			errs = append(errs, fmt.Errorf("limits.%s: must be 0 (the default) or more, got %d", l.key, l.v))
		}
	}
	errs = append(errs, c.DuckDB.validate()...)
	if c.Output.Keep < 0 {
		errs = append(errs, fmt.Errorf("output.keep: must be 0 (keep all) or more, got %d", c.Output.Keep))
	}
	switch c.Output.ObservationsLayout {
	case "", LayoutFile, LayoutPartitioned:
	default:
		errs = append(errs, fmt.Errorf("output.observations_layout: %q is not file or partitioned", c.Output.ObservationsLayout))
	}
	switch c.Output.Profiles {
	case "", ProfilesAll, ProfilesNone:
	default:
		errs = append(errs, fmt.Errorf("output.profiles: %q is not all or none", c.Output.Profiles))
	}
	seenTopic := map[string]bool{"visastats.xlsx": true}
	for i, tp := range c.Output.Topics {
		switch {
		case !topicFile.MatchString(tp.File):
			errs = append(errs, fmt.Errorf("output.topics[%d].file: %q must be a plain name ending in .xlsx", i, tp.File))
		case seenTopic[tp.File]:
			errs = append(errs, fmt.Errorf("output.topics[%d].file: %q is used twice", i, tp.File))
		}
		seenTopic[tp.File] = true
		if !countryCode.MatchString(tp.Country) {
			errs = append(errs, fmt.Errorf("output.topics[%d].country: %q is not an ISO 3166-1 alpha-2 code", i, tp.Country))
		}
		if tp.Title == "" {
			errs = append(errs, fmt.Errorf("output.topics[%d].title: must say what the workbook is", i))
		}
	}
	if c.Sources.Reference.Dir == "" {
		errs = append(errs, errors.New("sources.reference.dir: must name the directory of countries.csv"))
	}
	ec := c.Sources.ECSchengen
	fetchesEC := false
	for _, f := range c.Fetch {
		fetchesEC = fetchesEC || f.Source == "ec_schengen_consulates"
	}
	fetchesEC = fetchesEC || c.Upstream.ECSchengen.PageURL != ""
	if ec.Path == "" && len(ec.Files) == 0 && !fetchesEC {
		errs = append(errs, errors.New("sources.ec_schengen_consulates: set path (a directory or a workbook) or files"))
	}
	for i, f := range ec.Files {
		if f.Path == "" || f.Year == 0 {
			errs = append(errs, fmt.Errorf("sources.ec_schengen_consulates.files[%d]: needs path and year", i))
		}
	}
	if ec.Path != "" {
		if _, err := os.Stat(ec.Path); err != nil {
			errs = append(errs, fmt.Errorf("sources.ec_schengen_consulates.path: %w", err))
		}
	}
	if p := c.Sources.UpstreamIssues.Path; p != "" {
		if _, err := os.Stat(p); err != nil {
			errs = append(errs, fmt.Errorf("sources.upstream_issues.path: %w", err))
		}
	}
	for i, f := range c.Fetch {
		switch {
		case f.URL == "":
			errs = append(errs, fmt.Errorf("fetch[%d]: needs url", i))
		case !strings.HasPrefix(f.URL, "http://") && !strings.HasPrefix(f.URL, "https://"):
			errs = append(errs, fmt.Errorf("fetch[%d]: url %q must be http(s)", i, snapshot.RedactURL(f.URL)))
		}
		switch f.Source {
		case "ec_schengen_consulates", "eurostat_asylum", "unhcr", "ru_mfa_published":
		default:
			errs = append(errs, fmt.Errorf("fetch[%d]: source %q is not one that reads fetched files (ec_schengen_consulates, eurostat_asylum, unhcr, ru_mfa_published)", i, f.Source))
		}
		if _, err := snapshot.ParseKind(f.Expect); err != nil {
			errs = append(errs, fmt.Errorf("fetch[%d]: expect: %w", i, err))
		}
		if f.name() == "" || f.name() == "/" || f.name() == "." {
			errs = append(errs, fmt.Errorf("fetch[%d]: cannot name the file from %q; set name", i, snapshot.RedactURL(f.URL)))
		}
	}
	errs = append(errs, validateFetchNames(c.Fetch)...)
	if err := c.Upstream.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Upstream.UNHCR.BaseURL != "" && c.Sources.UNHCR.API.URL != "" {
		errs = append(errs, errors.New("upstream.unhcr.base_url and sources.unhcr.api.url both name UNHCR's API; keep upstream.unhcr"))
	}
	errs = append(errs, validatePublish(c.Publish)...)
	return errors.Join(errs...)
}

// pathKeys are the configuration keys that name files or folders.
var pathKeys = map[string]bool{"database": true, "dir": true, "path": true, "paths": true, "code_lists": true, "snapshots": true, "releases": true, "calendar": true}

// resolvePaths makes every relative path of the configuration (keys in
// pathKeys, from the file or the environment) relative to base, the
// folder of the configuration file, so that a command works the same from
// any working directory: `visastats --config /srv/visastats/config.yaml
// run` reads /srv/visastats/data, not ./data.
func resolvePaths(v reflect.Value, base string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		tag := f.Tag.Get("mapstructure")
		switch {
		case tag == "" || tag == "-":
		case fv.Kind() == reflect.Struct:
			resolvePaths(fv, base)
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct:
			for j := 0; j < fv.Len(); j++ {
				resolvePaths(fv.Index(j), base)
			}
		case !pathKeys[tag]:
		case fv.Kind() == reflect.String:
			fv.SetString(resolvePath(fv.String(), base))
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
			for j := 0; j < fv.Len(); j++ {
				fv.Index(j).SetString(resolvePath(fv.Index(j).String(), base))
			}
		}
	}
}

func resolvePath(p, base string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// invalidKeys matches mapstructure's report of unknown keys, such as
// "'output' has invalid keys: dri" in a section, or the same with an empty
// section name at the top level.
var invalidKeys = regexp.MustCompile(`'([^']*)' has invalid keys: ([^\n]+)`)

// rootType is how mapstructure may name the top level of the file.
var rootType = reflect.TypeOf(Config{}).String()

// plainKeyError rewrites UnmarshalExact's report of unknown keys so that it
// names each key in full and says what to do; other errors pass through.
func plainKeyError(err error) error {
	ms := invalidKeys.FindAllStringSubmatch(err.Error(), -1)
	if len(ms) == 0 {
		return err
	}
	var keys []string
	for _, m := range ms {
		// mapstructure names the top level "" or, since v2.5, by its Go
		// type: neither is a key of the file.
		section := strings.TrimPrefix(strings.TrimPrefix(m[1], rootType), ".")
		if m[1] == rootType {
			section = ""
		}
		for _, k := range strings.Split(m[2], ",") {
			k = strings.TrimSpace(k)
			if section != "" {
				k = section + "." + k
			}
			keys = append(keys, k)
		}
	}
	word := "key"
	if len(keys) > 1 {
		word = "keys"
	}
	return fmt.Errorf("unknown %s %s: check the spelling against config.yaml in the repository (README, Configuration)", word, strings.Join(keys, ", "))
}
