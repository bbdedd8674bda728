package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/visastats/visastats/output/objstore"
	"github.com/visastats/visastats/output/page"
	"github.com/visastats/visastats/pipeline/snapshot"
)

// PublishTarget is one remote copy of the releases, besides the local
// output.dir: today S3-compatible object storage. Credentials never come
// from the configuration: the standard AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY variables or the shared credentials file
// (~/.aws/credentials, AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE) give them.
type PublishTarget struct {
	// URL is s3://bucket/prefix.
	URL string `mapstructure:"url"`
	// Endpoint is the server, http(s)://host[:port]; "" means AWS S3.
	Endpoint string `mapstructure:"endpoint"`
	Region   string `mapstructure:"region"`
	// PathStyle addresses buckets as endpoint/bucket (most self-hosted
	// servers) rather than bucket.endpoint.
	PathStyle bool `mapstructure:"path_style"`
	// Keep is how many releases stay in the bucket, newest first (0 keeps
	// all); the one latest.json names always stays.
	Keep int `mapstructure:"keep"`
	// PartSize is the multipart upload's part size in bytes (0: 16 MiB).
	PartSize int64 `mapstructure:"part_size"`
}

func (p PublishTarget) target() objstore.Target {
	return objstore.Target{URL: p.URL, Endpoint: p.Endpoint, Region: p.Region, PathStyle: p.PathStyle, Keep: p.Keep, PartSize: p.PartSize}
}

// name is the target as results and messages name it: s3://bucket/prefix.
func (p PublishTarget) name() string {
	if loc, err := objstore.ParseURL(p.URL); err == nil {
		return loc.String()
	}
	return snapshot.RedactURL(p.URL)
}

func validatePublish(ts []PublishTarget) []error {
	var errs []error
	for i, t := range ts {
		if err := t.target().Validate(); err != nil {
			errs = append(errs, fmt.Errorf("publish[%d]: %w", i, err))
		}
	}
	return errs
}

// secretWords are parts of key names that carry credentials.
var secretWords = []string{"secret", "access_key", "password", "token", "credential"}

// rejectSecrets refuses credentials written into the publish section,
// before the typed decoding would call them merely unknown keys: they
// belong in the environment or the shared credentials file.
func rejectSecrets(raw any) error {
	list, _ := raw.([]any)
	for i, item := range list {
		m, _ := item.(map[string]any)
		for k := range m {
			lk := strings.ToLower(k)
			for _, w := range secretWords {
				if strings.Contains(lk, w) {
					return fmt.Errorf("publish[%d].%s: credentials are never read from the configuration file; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment or use ~/.aws/credentials, and remove the key", i, k)
				}
			}
		}
	}
	return nil
}

// publishBackoff is the fetcher's retry policy, for uploads.
func publishBackoff(cfg Config, opts RunOptions) objstore.Backoff {
	fc := snapshot.DefaultFetchConfig()
	if cfg.HTTP.Retries > 0 {
		fc.Retries = cfg.HTTP.Retries
	}
	if opts.BackoffBase > 0 {
		fc.BackoffBase, fc.BackoffMax = opts.BackoffBase, opts.BackoffBase*8
	}
	return objstore.Backoff{Retries: fc.Retries, Wait: fc.Wait}
}

// RemoteError reports an upload to a remote target that failed after the
// release was published locally: the local latest points to Release,
// which the targets in Done have too, while Target failed and still names
// Kept ("" when it names none, or could not be read), and the targets in
// NotTried were not tried. The run itself did not fail: its release is
// published (or, for a run that found nothing changed, stays), and the
// next run, finding nothing changed, resumes the upload.
type RemoteError struct {
	Release  string
	Done     []string
	Target   string
	Kept     string
	NotTried []string
	Err      error
}

// Error says what is published where, and what to do.
func (e *RemoteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "release %s is published locally (latest points to it)", e.Release)
	if len(e.Done) > 0 {
		fmt.Fprintf(&b, " and to %s", strings.Join(e.Done, ", "))
	}
	fmt.Fprintf(&b, ", but not to %s: %v; ", e.Target, e.Err)
	if e.Kept != "" {
		fmt.Fprintf(&b, "%s still names release %s", e.Target, e.Kept)
	} else {
		fmt.Fprintf(&b, "readers of %s are where they were", e.Target)
	}
	if len(e.NotTried) > 0 {
		fmt.Fprintf(&b, "; not tried: %s", strings.Join(e.NotTried, ", "))
	}
	b.WriteString("; the next run that finds nothing changed resumes the upload")
	return b.String()
}

func (e *RemoteError) Unwrap() error { return e.Err }

// PublishRemote uploads the local release folder dir (named id, the
// release the local latest points to) to every configured target in
// turn. A target that fails keeps its previous latest.json; the error, a
// *RemoteError, names it and the targets before and after it. A target
// that names a newer release than id keeps it (its latest.json never
// moves back), which is logged, not an error.
func PublishRemote(ctx context.Context, cfg Config, opts RunOptions, id, dir string, log *slog.Logger) ([]objstore.Result, error) {
	var results []objstore.Result
	for i, t := range cfg.Publish {
		res, err := objstore.Publish(ctx, t.target(), dir, id, objstore.Options{Backoff: publishBackoff(cfg, opts), Uploaded: opts.Uploaded})
		if err != nil {
			rerr := &RemoteError{Release: id, Target: t.name(), Kept: res.Previous, Err: err}
			for _, r := range results {
				rerr.Done = append(rerr.Done, r.Target)
			}
			for _, rest := range cfg.Publish[i+1:] {
				rerr.NotTried = append(rerr.NotTried, rest.name())
			}
			return results, rerr
		}
		results = append(results, res)
		if res.Older {
			log.Warn("not published remotely: the target names a newer release, and its latest.json never moves back",
				"release", id, "target", res.Target, "newer", res.Release)
			continue
		}
		log.Info("published remotely", "release", id, "target", res.Target, "objects", res.Objects, "bytes", res.Bytes,
			"uploaded", res.Uploaded, "skipped", res.Skipped, "pruned", len(res.Pruned), "duration", res.Duration.Round(1e6))
	}
	return results, nil
}

// writeStaticPage writes index.html into the release folder dir: the page
// `visastats serve` shows for the release, with relative links, so that a
// bucket or any static host serves it. It is rendered from the report as
// run.json will hold it and listed among the release's files.
func writeStaticPage(dir, outDir string, rep *Report) error {
	report, err := json.Marshal(rep.forPublication(outDir))
	if err != nil {
		return fmt.Errorf("export %s: %w", page.Name, err)
	}
	var buf bytes.Buffer
	if err := page.WriteStatic(&buf, report); err != nil {
		return fmt.Errorf("export %s: %w", page.Name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, page.Name), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("export %s: %w", page.Name, err)
	}
	return rep.addFile(dir, page.Name, -1, "This page: the release's figures and files, readable from any static host")
}
