package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/visastats/visastats/pipeline/snapshot"
)

// Config is the upstream section of the configuration: the publishers a
// nightly run asks. A zero section asks nobody.
type Config struct {
	Eurostat   EurostatConfig `mapstructure:"eurostat"`
	UNHCR      UNHCRConfig    `mapstructure:"unhcr"`
	ECSchengen ECPageConfig   `mapstructure:"ec_schengen_consulates"`
}

// EurostatConfig names Eurostat's dissemination API and the datasets to
// keep current.
type EurostatConfig struct {
	// BaseURL is the API's root, such as
	// https://ec.europa.eu/eurostat/api/dissemination; "" asks nothing.
	BaseURL  string            `mapstructure:"base_url"`
	Datasets []EurostatDataset `mapstructure:"datasets"`
	// PollMax bounds the time spent waiting for one asynchronous
	// extraction (0: the default, 30 minutes).
	PollMax time.Duration `mapstructure:"poll_max"`
}

// EurostatDataset is one Eurostat dataset, whole or filtered.
type EurostatDataset struct {
	// Code is the dataset code, such as migr_asyappctza.
	Code string `mapstructure:"code"`
	// Filter keeps the listed codes of each dimension (an SDMX 3.0 data
	// query with c[dim]=...); empty downloads the whole dataset.
	Filter map[string][]string `mapstructure:"filter"`
}

// UNHCRConfig names UNHCR's population statistics API and the datasets to
// page through.
type UNHCRConfig struct {
	// BaseURL is the API's root, such as
	// https://api.unhcr.org/population/v1; "" asks nothing.
	BaseURL  string   `mapstructure:"base_url"`
	Datasets []string `mapstructure:"datasets"`
	// FullEvery is how often every page is downloaded although the
	// datasets' row counts and totals did not move (0: weekly). On other
	// nights a run asks each dataset for one row and keeps the pages it
	// holds when the counts and totals are those it downloaded.
	FullEvery time.Duration `mapstructure:"full_every"`
}

// ECPageConfig names the Commission's landing page that links the
// consulate workbooks.
type ECPageConfig struct {
	// PageURL is the landing page; "" asks nothing.
	PageURL string `mapstructure:"page_url"`
}

// Client fetches from the publishers into the snapshot store. Its fields
// are set by the caller; Sleep and Now default to the real clock.
type Client struct {
	HTTP    *http.Client
	Store   *snapshot.Store
	Fetcher *snapshot.Fetcher
	Log     *slog.Logger
	// Offline takes the last snapshot of every input instead of asking.
	Offline bool
	// Progress, when set, returns the progress callback of one download.
	Progress func(source, name string) func(read, total int64, done bool)
	// Sleep waits between polls and retries; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now stamps what the client records.
	Now func() time.Time
}

// Got is one input a publisher provided for this run: downloaded now, or
// the stored snapshot that is still current.
type Got struct {
	// Source is the source that reads it: eurostat_asylum, unhcr or
	// ec_schengen_consulates.
	Source string
	// Name is its stable name among the source's inputs, such as
	// migr_asyappctza.tsv.gz; its snapshot history is kept under it.
	Name string
	// Record is its snapshot.
	Record snapshot.Record
	// Downloaded is false when the stored snapshot was current (the
	// publisher's date did not move, a 304, or an offline run).
	Downloaded bool
	// Attempts is the number of requests its download took (0 when not
	// downloaded).
	Attempts int
	// Year is the reference year of an EC workbook.
	Year int
	// Note says in words why it was or was not downloaded, for the log
	// and run.json, e.g. "last data change 2026-11-20T23:00+01:00, held
	// 2026-10-01T11:00+02:00".
	Note string
}

// sleep waits d or until ctx is done.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// now is the client's clock.
func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// progress returns the progress callback of source/name, or nil.
func (c *Client) progress(source, name string) func(read, total int64, done bool) {
	if c.Progress == nil {
		return nil
	}
	return c.Progress(source, name)
}

// CheckBaseURL checks a publisher's address as configured under key:
// https, or plain http to a server on this machine only (a test server or
// a local mirror), since a nightly run trusts what it downloads.
func CheckBaseURL(key, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %q is not a URL: %w", key, snapshot.RedactURL(raw), err)
	}
	switch {
	case u.Host == "":
		return fmt.Errorf("%s: %q has no host; want https://host/path", key, snapshot.RedactURL(raw))
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopbackHost(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%s: %q is plain http to another machine; use https (plain http is for a server on this machine only)", key, snapshot.RedactURL(raw))
	}
	return fmt.Errorf("%s: %q is not an https URL", key, snapshot.RedactURL(raw))
}

// loopbackHost says whether host names this machine.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Validate checks the section once, when the configuration is loaded.
func (c Config) Validate() error {
	var errs []error
	if err := c.Eurostat.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.UNHCR.BaseURL != "" {
		if err := CheckBaseURL("upstream.unhcr.base_url", c.UNHCR.BaseURL); err != nil {
			errs = append(errs, err)
		}
		if c.UNHCR.FullEvery < 0 {
			errs = append(errs, fmt.Errorf("upstream.unhcr.full_every: %v must not be negative", c.UNHCR.FullEvery))
		}
		if len(c.UNHCR.Datasets) == 0 {
			errs = append(errs, errors.New("upstream.unhcr.datasets: list the datasets to fetch: asylum-applications, asylum-decisions"))
		}
	}
	if c.ECSchengen.PageURL != "" {
		if err := CheckBaseURL("upstream.ec_schengen_consulates.page_url", c.ECSchengen.PageURL); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// WriteState replaces the JSON state file at path (what a nightly run
// remembers of a publisher, under <snapshots>/upstream/) with v through a
// synced temporary file and a rename, so that it holds the old state or
// the new one, never part of either.
func WriteState(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
