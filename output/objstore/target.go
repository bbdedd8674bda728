package objstore

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/visastats/visastats/sources/redact"
)

// Target is one object-storage destination of releases. Credentials are
// not part of it: they come from AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or the shared credentials
// file (AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials, profile
// AWS_PROFILE).
type Target struct {
	// URL is s3://bucket/prefix; the prefix may be empty.
	URL string
	// Endpoint is the server, as https://host[:port] (http:// for a
	// server on this machine); "" means AWS S3 in Region.
	Endpoint string
	// Region is the bucket's region; "" means us-east-1.
	Region string
	// PathStyle addresses the bucket as endpoint/bucket/key rather than
	// bucket.endpoint/key, as most self-hosted servers need.
	PathStyle bool
	// Keep is how many releases stay in the bucket, the newest first (0
	// keeps all).
	Keep int
	// PartSize is the size of one part of a multipart upload in bytes;
	// files larger than one part are uploaded in parts. 0 means
	// DefaultPartSize.
	PartSize int64
}

// Part sizes S3 accepts: 5 MiB to 5 GiB.
const (
	MinPartSize     = 5 << 20
	MaxPartSize     = 5 << 30
	DefaultPartSize = 16 << 20
)

// bucketName is S3's rule for bucket names.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// Location is where a target's objects go: a bucket and a key prefix
// without a trailing slash ("" for the bucket's root).
type Location struct {
	Bucket, Prefix string
}

// Key joins the prefix and a name below it.
func (l Location) Key(name string) string {
	if l.Prefix == "" {
		return name
	}
	return l.Prefix + "/" + name
}

// String is the s3:// address of the prefix.
func (l Location) String() string {
	return "s3://" + l.Bucket + "/" + l.Prefix
}

// ParseURL splits s3://bucket/prefix.
func ParseURL(raw string) (Location, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" {
		return Location{}, fmt.Errorf("url %q must look like s3://bucket/prefix", redact.URL(raw))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return Location{}, fmt.Errorf("url %q must be s3://bucket/prefix with no credentials, query or fragment", redact.URL(raw))
	}
	if !bucketName.MatchString(u.Host) {
		return Location{}, fmt.Errorf("url %q: bucket %q is not a valid bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", raw, u.Host)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" && path.Clean(prefix) != prefix {
		return Location{}, fmt.Errorf("url %q: prefix %q must not contain empty, . or .. parts", raw, prefix)
	}
	return Location{Bucket: u.Host, Prefix: prefix}, nil
}

// Validate checks a target once, before anything is uploaded.
func (t Target) Validate() error {
	var errs []error
	if _, err := ParseURL(t.URL); err != nil {
		errs = append(errs, err)
	}
	if t.Endpoint != "" {
		u, err := url.Parse(t.Endpoint)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			errs = append(errs, fmt.Errorf("endpoint %q must be http(s)://host[:port]", redact.URL(t.Endpoint)))
		case u.User != nil || u.RawQuery != "":
			errs = append(errs, fmt.Errorf("endpoint %q must not carry credentials or a query: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment or ~/.aws/credentials", redact.URL(t.Endpoint)))
		case strings.Trim(u.Path, "/") != "":
			errs = append(errs, fmt.Errorf("endpoint %q must not have a path; the bucket and prefix go in url", redact.URL(t.Endpoint)))
		}
	}
	if t.Keep < 0 {
		errs = append(errs, fmt.Errorf("keep must be 0 (keep all) or more, got %d", t.Keep))
	}
	if t.PartSize != 0 && (t.PartSize < MinPartSize || t.PartSize > MaxPartSize) {
		errs = append(errs, fmt.Errorf("part_size %d must be between %d (5 MiB) and %d (5 GiB) bytes, or 0 for %d", t.PartSize, MinPartSize, int64(MaxPartSize), DefaultPartSize))
	}
	return errors.Join(errs...)
}
