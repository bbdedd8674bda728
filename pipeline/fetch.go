package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/visastats/visastats/output/release"
	"github.com/visastats/visastats/pipeline/snapshot"
	"github.com/visastats/visastats/pipeline/upstream"
	"github.com/visastats/visastats/sources"
)

// FetchEntry is one upstream file fetched over HTTP for a source.
type FetchEntry struct {
	// Source is the source that reads the file (ec_schengen_consulates,
	// unhcr, ru_mfa_published, eurostat_asylum).
	Source string `mapstructure:"source"`
	URL    string `mapstructure:"url"`
	// Name is the file's logical name; it defaults to the last segment of
	// the URL path and must carry the year for EC workbooks.
	Name string `mapstructure:"name"`
	// Expect is the content the body must be: xlsx, csv, tsv, gzip, json.
	Expect string `mapstructure:"expect"`
	// Year is the reference year of an EC workbook when Name has none.
	Year int `mapstructure:"year"`
}

// HTTPConfig tunes fetching.
type HTTPConfig struct {
	Timeout  time.Duration `mapstructure:"timeout"`   // per attempt
	Retries  int           `mapstructure:"retries"`   // on network errors, 429 and 5xx
	MaxBytes int64         `mapstructure:"max_bytes"` // largest body accepted
}

func (e FetchEntry) name() string {
	if e.Name != "" {
		return e.Name
	}
	u, err := url.Parse(e.URL)
	if err != nil {
		return ""
	}
	n, _ := url.PathUnescape(path.Base(u.Path))
	return n
}

// validateFetchNames refuses fetch entries that would be stored as the
// same input: the same source and name (given, or the last segment of the
// URL), compared without case, since the name is a file name in the
// snapshot store and on a case-insensitive disk two such names are one
// file. Two such entries would overwrite each other's snapshot and send
// one file's ETag and Last-Modified with the other's request. The other
// checks of each entry are the configuration's; LoadConfig calls this once.
func validateFetchNames(entries []FetchEntry) []error {
	type key struct{ source, name string }
	first := map[key]int{}
	var errs []error
	for i, e := range entries {
		name := e.name()
		if name == "" {
			continue // reported as a name that cannot be made
		}
		k := key{e.Source, strings.ToLower(name)}
		j, seen := first[k]
		if !seen {
			first[k] = i
			continue
		}
		errs = append(errs, fmt.Errorf("fetch[%d]: source %s, name %q is already fetch[%d]'s (%s); each fetched file needs a name of its own: set name", i, e.Source, name, j, snapshot.RedactURL(entries[j].URL)))
	}
	return errs
}

// fetchInputs fetches every configured URL and every page of the UNHCR
// API into the snapshot store (or, offline, takes their last snapshots) and
// returns the source configuration with the fetched files added. Fetched
// files are read through a link <snapshots>/current/<source>/<name> so that
// messages name the file.
func fetchInputs(ctx context.Context, cfg Config, opts RunOptions, store *snapshot.Store, log *slog.Logger) (sources.Config, []release.Fetch, error) {
	sc := cfg.SourceConfig()
	up := cfg.Upstream
	if up.UNHCR.BaseURL != "" {
		sc.UNHCR.API = unhcrUpstreamAPI(up.UNHCR, sc.UNHCR.API, time.Now())
	}
	if len(cfg.Fetch) == 0 && sc.UNHCR.API.URL == "" && up.Eurostat.BaseURL == "" && up.ECSchengen.PageURL == "" {
		return sc, nil, nil
	}
	fc := snapshot.DefaultFetchConfig()
	if cfg.HTTP.Timeout > 0 {
		fc.Timeout = cfg.HTTP.Timeout
	}
	if cfg.HTTP.Retries > 0 {
		fc.Retries = cfg.HTTP.Retries
	}
	if cfg.HTTP.MaxBytes > 0 {
		fc.MaxBytes = cfg.HTTP.MaxBytes
	}
	if opts.BackoffBase > 0 {
		fc.BackoffBase, fc.BackoffMax = opts.BackoffBase, opts.BackoffBase*8
	}
	files, err := snapshot.NewFetcher(fc)
	if err != nil {
		return sc, nil, fmt.Errorf("fetch: %w", err)
	}
	api := sc.UNHCR.API
	if api.Timeout > 0 {
		fc.Timeout = api.Timeout
	}
	if api.Retries > 0 {
		fc.Retries = api.Retries
	}
	pages, err := snapshot.NewFetcher(fc)
	if err != nil {
		return sc, nil, fmt.Errorf("fetch: unhcr api: %w", err)
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	f := &inputFetcher{files: files, pages: pages, client: client, store: store, offline: opts.Offline, log: log}
	for _, e := range cfg.Fetch {
		name := e.name()
		kind, err := snapshot.ParseKind(e.Expect)
		if err != nil {
			return sc, f.reports, fmt.Errorf("fetch %s: %w", snapshot.RedactURL(e.URL), err)
		}
		local, err := f.fetch(ctx, f.files, e.Source, name, e.URL, kind)
		if err != nil {
			return sc, f.reports, err
		}
		if err := addInput(&sc, e, name, local); err != nil {
			return sc, f.reports, err
		}
	}
	pub := &upstream.Client{HTTP: client, Store: store, Fetcher: files, Log: log, Offline: opts.Offline,
		Progress: downloadProgress(opts.Terminal, log, time.Now), Sleep: opts.Sleep}
	_ = pub // UPSTREAM-PENDING
	sc.UNHCR.APIPages, err = sources.FetchUNHCRAPI(ctx, sc.UNHCR.API, f.unhcrPage)
	if err != nil && up.UNHCR.BaseURL != "" {
		err = fmt.Errorf("UNHCR (%s): %w", snapshot.RedactURL(up.UNHCR.BaseURL), err)
	}
	return sc, f.reports, err
}

// unhcrUpstreamAPI is the client configuration that pages through UNHCR's
// API for a nightly run: every dataset of upstream, all years to this
// one, one row per country of origin and of asylum, countries by ISO code
// (cf_type=ISO; UNHCR's own codes differ), persons and cases apart as the
// API gives them. The page size is the one UNHCR's own R package uses.
// api keeps what else sources.unhcr.api sets (timeout, retries).
func unhcrUpstreamAPI(up upstream.UNHCRConfig, api sources.UNHCRAPIConfig, now time.Time) sources.UNHCRAPIConfig {
	api.URL = up.BaseURL
	api.Datasets = up.Datasets
	api.Params = map[string]string{
		"cf_type":  "ISO",
		"coo_all":  "true",
		"coa_all":  "true",
		"yearFrom": strconv.Itoa(sources.MinYear),
		"yearTo":   strconv.Itoa(now.Year()),
	}
	if api.Limit == 0 {
		api.Limit = 10000
	}
	return api
}

// took records an input a publisher's client provided (downloaded or
// still current) and returns the path the sources read it from.
func (f *inputFetcher) took(g upstream.Got) (string, error) {
	rec := g.Record
	f.reports = append(f.reports, release.Fetch{Source: g.Source, URL: rec.URL, Name: g.Name, Offline: f.offline,
		SHA256: rec.SHA256, Size: rec.Size, ETag: rec.ETag, LastMod: rec.LastModified, NotModified: !g.Downloaded && !f.offline,
		Attempts: g.Attempts, RetrievedAt: rec.RetrievedAt.Format(time.RFC3339), Note: g.Note})
	local, err := linkCurrent(f.store, g.Source, g.Name, rec.SHA256)
	if err != nil {
		return "", err
	}
	f.log.Info("fetch", "source", g.Source, "file", g.Name, "url", rec.URL, "downloaded", g.Downloaded,
		"offline", f.offline, "sha256", rec.SHA256[:min(12, len(rec.SHA256))], "note", g.Note)
	return local, nil
}

// inputFetcher fetches remote inputs into the snapshot store, or offline
// takes their last snapshots, and reports each.
type inputFetcher struct {
	// files fetches the configured files; pages the API pages, which
	// may have their own timeout and retries.
	files, pages *snapshot.Fetcher
	client       *http.Client
	store        *snapshot.Store
	offline      bool
	log          *slog.Logger
	reports      []release.Fetch
}

// unhcrPage implements sources.FetchPage for the UNHCR API: every page is
// a snapshot of its own.
func (f *inputFetcher) unhcrPage(ctx context.Context, name, rawURL string) (string, error) {
	return f.fetch(ctx, f.pages, "unhcr", name, rawURL, snapshot.KindJSON)
}

// fetch gets rawURL through fetcher as source/name (offline: the last
// snapshot of source/name) and returns the path of its link in
// <snapshots>/current.
func (f *inputFetcher) fetch(ctx context.Context, fetcher *snapshot.Fetcher, source, name, rawURL string, kind snapshot.Kind) (string, error) {
	start := time.Now()
	var rec snapshot.Record
	rep := release.Fetch{Source: source, URL: snapshot.RedactURL(rawURL), Name: name, Offline: f.offline}
	if f.offline {
		// The snapshot of this address: after a corrected URL, the old
		// address's file is not the input any more.
		var err error
		rec, err = f.store.LatestFrom(source, name, rawURL)
		if err != nil {
			return "", fmt.Errorf("offline: no snapshot of %s (%s/%s) yet; run once without --offline: %w", rep.URL, source, name, err)
		}
	} else {
		res, err := fetcher.Fetch(ctx, f.client, f.store, snapshot.FetchRequest{Source: source, Name: name, URL: rawURL, Expect: kind})
		if err != nil {
			return "", err
		}
		rec, rep.NotModified, rep.Attempts = res.Record, res.NotModified, res.Attempts
	}
	rep.SHA256, rep.Size, rep.ETag, rep.LastMod = rec.SHA256, rec.Size, rec.ETag, rec.LastModified
	rep.RetrievedAt = rec.RetrievedAt.Format(time.RFC3339)
	f.reports = append(f.reports, rep)
	local, err := linkCurrent(f.store, source, name, rec.SHA256)
	if err != nil {
		return "", err
	}
	f.log.Info("fetch", "source", source, "file", name, "url", rep.URL, "not_modified", rep.NotModified,
		"offline", f.offline, "sha256", rec.SHA256[:12], "duration", time.Since(start).Round(time.Millisecond))
	return local, nil
}

// linkCurrent makes <store>/current/<source>/<name> point at the object.
func linkCurrent(store *snapshot.Store, source, name, sha string) (string, error) {
	obj, err := store.Path(sha)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(store.Dir(), "current", source)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("snapshot link: %w", err)
	}
	link := filepath.Join(dir, name)
	tmp := link + ".tmp"
	os.Remove(tmp)
	abs, err := filepath.Abs(obj)
	if err != nil {
		return "", err
	}
	if err := os.Symlink(abs, tmp); err != nil {
		return "", fmt.Errorf("snapshot link: %w", err)
	}
	if err := os.Rename(tmp, link); err != nil {
		return "", fmt.Errorf("snapshot link: %w", err)
	}
	return link, nil
}

// addInput adds a fetched file to its source's configuration.
func addInput(sc *sources.Config, e FetchEntry, name, local string) error {
	switch e.Source {
	case "ec_schengen_consulates":
		year := e.Year
		if year == 0 {
			y, err := sources.YearFromFileName(name)
			if err != nil {
				return fmt.Errorf("fetch %s: %w (or set year:)", snapshot.RedactURL(e.URL), err)
			}
			year = y
		}
		sc.ECSchengen.Files = append(sc.ECSchengen.Files, sources.ECSchengenFile{Path: local, Year: year})
	case "eurostat_asylum":
		sc.Eurostat.Paths = append(sc.Eurostat.Paths, local)
	case "unhcr":
		sc.UNHCR.Paths = append(sc.UNHCR.Paths, local)
	case "ru_mfa_published":
		sc.RUMFA.Path = local
	default:
		return fmt.Errorf("fetch %s: source %q cannot take fetched files", snapshot.RedactURL(e.URL), e.Source)
	}
	return nil
}
