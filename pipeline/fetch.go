package pipeline

import (
	"context"
	"encoding/json"
	"errors"
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
		local, _, err := f.fetch(ctx, f.files, e.Source, name, e.URL, kind)
		if err != nil {
			return sc, f.reports, err
		}
		if err := addInput(&sc, e, name, local); err != nil {
			return sc, f.reports, err
		}
	}
	pub := &upstream.Client{HTTP: client, Store: store, Fetcher: files, Log: log, Offline: opts.Offline,
		Progress: downloadProgress(opts.Terminal, log, time.Now), Sleep: opts.Sleep}
	if up.Eurostat.BaseURL != "" {
		got, err := pub.Eurostat(ctx, up.Eurostat)
		if err != nil {
			return sc, f.reports, err // it names Eurostat, the dataset and the address
		}
		for _, g := range got {
			local, err := f.took(g)
			if err != nil {
				return sc, f.reports, err
			}
			sc.Eurostat.Paths = append(sc.Eurostat.Paths, local)
		}
	}
	if up.ECSchengen.PageURL != "" {
		got, err := pub.ECSchengen(ctx, up.ECSchengen)
		if err != nil {
			return sc, f.reports, fmt.Errorf("European Commission (%s): %w", snapshot.RedactURL(up.ECSchengen.PageURL), err)
		}
		for _, g := range got {
			local, err := f.took(g)
			if err != nil {
				return sc, f.reports, err
			}
			sc.ECSchengen.Files = append(sc.ECSchengen.Files, sources.ECSchengenFile{Path: local, Year: g.Year, Upstream: true})
		}
		// A year shipped in data/ is read from the publisher's current
		// file instead: say which, in the log and in run.json.
		sup, err := sources.NewECSchengen(sc.ECSchengen, sc.UpstreamIssues).Superseded(ctx)
		if err != nil {
			return sc, f.reports, err
		}
		for _, s := range sup {
			f.log.Info("the Commission's current workbook replaces the local one", "year", s.Year, "file", s.Local, "upstream", filepath.Base(s.Upstream))
			for i := range f.reports {
				if r := &f.reports[i]; r.Source == "ec_schengen_consulates" && r.Name == filepath.Base(s.Upstream) {
					r.Note = strings.TrimPrefix(r.Note+"; ", "; ") + fmt.Sprintf("read instead of the local %s for %d", filepath.Base(s.Local), s.Year)
				}
			}
		}
	}
	if up.UNHCR.BaseURL == "" {
		sc.UNHCR.APIPages, err = sources.FetchUNHCRAPI(ctx, sc.UNHCR.API, f.unhcrPage)
		return sc, f.reports, err
	}
	if sc.UNHCR.APIPages, err = f.unhcrUpstream(ctx, sc.UNHCR.API, up.UNHCR.FullEvery); err != nil {
		err = fmt.Errorf("UNHCR (%s): %w", snapshot.RedactURL(up.UNHCR.BaseURL), err)
	}
	return sc, f.reports, err
}

// unhcrFullEvery is how often a nightly run pages through UNHCR's datasets
// although their signatures did not move.
const unhcrFullEvery = 7 * 24 * time.Hour

// unhcrState is what a nightly run remembers of its last complete paging
// through UNHCR's API, in <snapshots>/upstream/unhcr.json.
type unhcrState struct {
	// Signatures are the datasets' row counts and totals
	// (sources.UNHCRAPISignature) when every page was downloaded, by
	// dataset.
	Signatures map[string]string `json:"signatures"`
	// Downloaded is when every page was last downloaded.
	Downloaded time.Time `json:"downloaded"`
}

// unhcrUpstream pages through UNHCR's API for a nightly run, cheaply when
// it can: each dataset is first asked for one row (a snapshot of its own),
// whose row count and totals are the dataset's signature. When every
// signature is the one of the last complete download, less than every
// (unhcrFullEvery when 0) ago, the pages held are the input again and
// nothing else is asked; otherwise every page is downloaded and the
// signatures are kept for the next night. Offline, the held pages are
// read.
func (f *inputFetcher) unhcrUpstream(ctx context.Context, api sources.UNHCRAPIConfig, every time.Duration) ([]sources.UNHCRAPIPage, error) {
	if f.offline {
		return sources.FetchUNHCRAPI(ctx, api, f.unhcrPage)
	}
	if every == 0 {
		every = unhcrFullEvery
	}
	statePath := filepath.Join(f.store.Dir(), "upstream", "unhcr.json")
	var held unhcrState
	if b, err := os.ReadFile(statePath); err == nil {
		if err := json.Unmarshal(b, &held); err != nil {
			f.log.Warn("unreadable UNHCR state; downloading every page", "file", statePath, "error", err)
			held = unhcrState{}
		}
	}
	probe := api
	probe.Limit = 1
	sigs := map[string]string{}
	for _, dataset := range api.Datasets {
		probe.Datasets = []string{dataset}
		var first string
		// Page 1 at one row a page: the fetch stops after it, since a
		// page's rows are checked against maxPages only once there are
		// more pages than this one.
		_, err := sources.FetchUNHCRAPI(ctx, probe, func(ctx context.Context, name, rawURL string) (string, time.Time, error) {
			if first != "" {
				return "", time.Time{}, errProbeDone
			}
			local, rec, err := f.fetch(ctx, f.pages, "unhcr", "probe_"+name, rawURL, snapshot.KindJSON)
			first = local
			return local, rec.RetrievedAt, err
		})
		if err != nil && !errors.Is(err, errProbeDone) {
			return nil, err
		}
		sig, err := sources.UNHCRAPISignature(first)
		if err != nil {
			return nil, err
		}
		sigs[dataset] = sig
	}
	age := time.Since(held.Downloaded)
	same := len(held.Signatures) == len(sigs) && age < every
	for d, s := range sigs {
		same = same && held.Signatures[d] == s
	}
	if same {
		f.reuse = true
		n := len(f.reports)
		pages, err := sources.FetchUNHCRAPI(ctx, api, f.unhcrPage)
		f.reuse = false
		if err == nil {
			f.log.Info("UNHCR's datasets have the row counts and totals of the pages held; not downloaded again", "datasets", len(sigs), "held", age.Round(time.Minute), "full_every", every)
			return pages, nil
		}
		f.log.Warn("the pages held cannot be read again; downloading every page", "error", err)
		f.reports = f.reports[:n]
	}
	pages, err := sources.FetchUNHCRAPI(ctx, api, f.unhcrPage)
	if err != nil {
		return nil, err
	}
	if err := upstream.WriteState(statePath, unhcrState{Signatures: sigs, Downloaded: time.Now().UTC()}); err != nil {
		return nil, fmt.Errorf("keep UNHCR state: %w", err)
	}
	return pages, nil
}

// errProbeDone stops the paging of a probe after its first page.
var errProbeDone = errors.New("probe done")

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
	// reuse takes the last snapshot of each UNHCR page, as offline does,
	// without asking: the datasets did not move since it was downloaded.
	reuse   bool
	log     *slog.Logger
	reports []release.Fetch
}

// unhcrPage implements sources.FetchPage for the UNHCR API: every page is
// a snapshot of its own. Its retrieval time is its snapshot's: when the
// body was received (a page found current, or taken offline, keeps the
// time its bytes were first received), by which the release calendar
// tells how far its figures run.
func (f *inputFetcher) unhcrPage(ctx context.Context, name, rawURL string) (string, time.Time, error) {
	local, rec, err := f.fetch(ctx, f.pages, "unhcr", name, rawURL, snapshot.KindJSON)
	return local, rec.RetrievedAt, err
}

// fetch gets rawURL through fetcher as source/name (offline: the last
// snapshot of source/name) and returns the path of its link in
// <snapshots>/current and its snapshot record.
func (f *inputFetcher) fetch(ctx context.Context, fetcher *snapshot.Fetcher, source, name, rawURL string, kind snapshot.Kind) (string, snapshot.Record, error) {
	start := time.Now()
	var rec snapshot.Record
	rep := release.Fetch{Source: source, URL: snapshot.RedactURL(rawURL), Name: name, Offline: f.offline}
	if f.offline || f.reuse {
		// The snapshot of this address: after a corrected URL, the old
		// address's file is not the input any more.
		var err error
		rec, err = f.store.LatestFrom(source, name, rawURL)
		if err != nil {
			return "", rec, fmt.Errorf("offline: no snapshot of %s (%s/%s) yet; run once without --offline: %w", rep.URL, source, name, err)
		}
		if f.reuse {
			rep.NotModified, rep.Note = true, "held: the dataset's row count and totals are those of the last download"
		}
	} else {
		res, err := fetcher.Fetch(ctx, f.client, f.store, snapshot.FetchRequest{Source: source, Name: name, URL: rawURL, Expect: kind})
		if err != nil {
			return "", rec, err
		}
		rec, rep.NotModified, rep.Attempts = res.Record, res.NotModified, res.Attempts
	}
	rep.SHA256, rep.Size, rep.ETag, rep.LastMod = rec.SHA256, rec.Size, rec.ETag, rec.LastModified
	rep.RetrievedAt = rec.RetrievedAt.Format(time.RFC3339)
	f.reports = append(f.reports, rep)
	local, err := linkCurrent(f.store, source, name, rec.SHA256)
	if err != nil {
		return "", rec, err
	}
	f.log.Info("fetch", "source", source, "file", name, "url", rep.URL, "not_modified", rep.NotModified,
		"offline", f.offline, "sha256", rec.SHA256[:12], "duration", time.Since(start).Round(time.Millisecond))
	return local, rec, nil
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
